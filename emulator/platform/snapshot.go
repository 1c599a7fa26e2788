package platform

import (
	"fmt"
	"time"

	"github.com/wxemu/wxemu/emulator/journal"
	"github.com/wxemu/wxemu/emulator/state"
)

// SnapshotVersion is the version of the state export format.
const SnapshotVersion = 1

// Snapshot is all of a platform's state, as exported by GET /_emu/v1/state and imported by
// PUT /_emu/v1/state or `wxemu serve --import`. The journal is not part of it: it is a record of
// what happened, not state WeChat keeps.
type Snapshot struct {
	Version int       `json:"version"`
	Time    time.Time `json:"time"` // virtual time of the export
	// TokenTime is the time the tokens' issue and expiry times are on (wall or virtual time,
	// shifted by any switch between them) at the export.
	TokenTime   time.Time                  `json:"token_time,omitzero"`
	Users       []state.User               `json:"users"`
	Grants      []state.UserGrants         `json:"grants"`
	Tokens      state.TokenSnapshot        `json:"tokens"`
	Media       []state.MediaSnapshot      `json:"media"`
	Transcripts []state.TranscriptSnapshot `json:"transcripts"`
	KF          state.KFSnapshot           `json:"kf"`
}

// Export returns a snapshot of all state, taken while no operation changes any: one consistent
// state, even in the middle of a burst of sends and transfers.
func (p *Platform) Export() *Snapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	return &Snapshot{
		Version:     SnapshotVersion,
		Time:        p.clock.Now(),
		TokenTime:   p.tokenNow(),
		Users:       p.people.List(""),
		Grants:      p.ledger.Snapshot(),
		Tokens:      p.tokens.Snapshot(),
		Media:       p.media.Snapshot(),
		Transcripts: p.transcripts.Snapshot(),
		KF:          p.kf.Snapshot(),
	}
}

// Import replaces all state with a snapshot. The snapshot is checked whole first
// (checkSnapshot): when anything is wrong, Import returns a BadRequest listing every problem
// with its JSON path and changes nothing. If the snapshot was taken at a later virtual time than
// now, the clock is moved forward to it, so windows keep their meaning, and token time likewise,
// so tokens do; a clock never moves backward.
func (p *Platform) Import(s *Snapshot) error {
	if s.Version != SnapshotVersion {
		return BadRequest("state export version %d: this wxemu reads version %d", s.Version, SnapshotVersion)
	}
	if err := p.checkSnapshot(s); err != nil {
		return err
	}
	if ahead := s.Time.Sub(p.clock.Now()); ahead > 0 {
		if err := p.Advance(ahead); err != nil {
			return err
		}
	}
	p.catchUpTokenTime(s.TokenTime)
	p.mu.Lock()
	p.people.Restore(s.Users)
	p.ledger.Restore(s.Grants)
	p.tokens.Restore(s.Tokens)
	p.media.Restore(s.Media)
	p.transcripts.Restore(s.Transcripts)
	p.kf.Restore(s.KF)
	p.mu.Unlock()
	p.control(fmt.Sprintf("state imported: %d users, %d media, %d transcripts", len(s.Users), len(s.Media), len(s.Transcripts)))
	// Sessions the snapshot holds that are past their time end now, journaled; the rest are due
	// on the timer, which settleDue sets for them.
	p.settleDue()
	return nil
}

// Journal lists the kept journal entries that match f, oldest first.
func (p *Platform) Journal(f JournalFilter) []Entry { return p.journal.List(f) }

// JournalStats says how full the journal is.
func (p *Platform) JournalStats() JournalStats { return p.journal.Stats() }

// LastSeq is the sequence number of the newest journal entry: mark it before an action to find
// what the action caused.
func (p *Platform) LastSeq() uint64 { return p.journal.LastSeq() }

// Subscribe delivers every new journal entry that matches f on the returned channel, which
// holds up to buf entries; a slow reader misses entries rather than stall the emulator, and
// catches up with Journal(Since). cancel ends the subscription and closes the channel.
func (p *Platform) Subscribe(f JournalFilter, buf int) (<-chan Entry, func()) {
	return p.journal.Subscribe(f, buf)
}

// ParseSince reads the since filter of the journal API: a sequence number, or an RFC 3339 time.
func ParseSince(s string) (uint64, time.Time, error) { return journal.ParseSince(s) }

// JournalKinds lists the kinds of journal entries.
func JournalKinds() []string { return append([]string(nil), journal.Kinds...) }
