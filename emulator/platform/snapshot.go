package platform

import (
	"fmt"
	"time"

	"github.com/wxemu/wxemu/emulator/state"
)

// SnapshotVersion is the version of the state export format.
const SnapshotVersion = 1

// Snapshot is all of a platform's state, as exported by GET /_emu/v1/state and imported by
// PUT /_emu/v1/state or `wxemu serve --import`. The journal is not part of it: it is a record of
// what happened, not state WeChat keeps.
type Snapshot struct {
	Version     int                        `json:"version"`
	Time        time.Time                  `json:"time"` // virtual time of the export
	Users       []state.User               `json:"users"`
	Grants      []state.UserGrants         `json:"grants"`
	Tokens      state.TokenSnapshot        `json:"tokens"`
	Media       []state.MediaSnapshot      `json:"media"`
	Transcripts []state.TranscriptSnapshot `json:"transcripts"`
	KF          state.KFSnapshot           `json:"kf"`
}

// Export returns a snapshot of all state.
func (p *Platform) Export() *Snapshot {
	return &Snapshot{
		Version:     SnapshotVersion,
		Time:        p.clock.Now(),
		Users:       p.Users.List(""),
		Grants:      p.Ledger.Snapshot(),
		Tokens:      p.Tokens.Snapshot(),
		Media:       p.Media.Snapshot(),
		Transcripts: p.Transcripts.Snapshot(),
		KF:          p.KF.Snapshot(),
	}
}

// Import replaces all state with a snapshot. If the snapshot was taken at a later virtual time
// than now, the clock is moved forward to it, so windows and tokens keep their meaning; a clock
// never moves backward.
func (p *Platform) Import(s *Snapshot) error {
	if s.Version != SnapshotVersion {
		return fmt.Errorf("state export version %d: this wxemu reads version %d", s.Version, SnapshotVersion)
	}
	if ahead := s.Time.Sub(p.clock.Now()); ahead > 0 {
		p.Advance(ahead)
	}
	p.Users.Restore(s.Users)
	p.Ledger.Restore(s.Grants)
	p.Tokens.Restore(s.Tokens)
	p.Media.Restore(s.Media)
	p.Transcripts.Restore(s.Transcripts)
	p.KF.Restore(s.KF)
	p.record(state.Entry{Kind: state.EntryControl, Summary: fmt.Sprintf("state imported: %d users, %d media, %d transcripts", len(s.Users), len(s.Media), len(s.Transcripts))})
	return nil
}
