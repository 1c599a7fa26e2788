package platform

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/journal"
	"github.com/wxemu/wxemu/emulator/record"
)

// ErrRecording: a recording is already running (start), or none is (stop).
var ErrRecording = errors.New("recording")

// recording is the one recording of a platform: a mark in the journal and a name. It holds no
// copy of anything: the scenario is written from the journal when it stops, so memory stays
// the journal's bound.
type recording struct {
	mu      sync.Mutex // guards on, since, name and began
	on      bool
	since   uint64
	name    string
	began   time.Time // virtual
	started time.Time // wall
	// faults are the fault rules held when the recording started, as JSON: the scenario
	// names them, since its replay runs without them.
	faults []string
}

// RecordingStatus says whether a recording runs, since which journal entry, under which name,
// and how many actions it has seen so far.
type RecordingStatus struct {
	Recording bool   `json:"recording"`
	Since     uint64 `json:"since"`
	Name      string `json:"name"`
	Actions   int    `json:"actions"`
}

// Recorded is a stopped recording: its scenario file and the file name to save it under.
type Recorded struct {
	Name     string
	Filename string
	YAML     []byte
	Actions  int
}

// maxRecordingName bounds the name a recording is given (it becomes a file name and a
// scenario's name).
const maxRecordingName = 100

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// StartRecording starts recording the session under name (default: "session" and the virtual
// time): every action taken through the control API from now on, and what came of it, until
// StopRecording. Starting while recording is refused (ErrRecording, 409).
func (p *Platform) StartRecording(name string) (RecordingStatus, error) {
	name = strings.TrimSpace(name)
	if len(name) > maxRecordingName {
		return RecordingStatus{}, BadRequest("the name is %d bytes long; at most %d", len(name), maxRecordingName)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return RecordingStatus{}, BadRequest("the name %q has a control character; give a name on one line", name)
		}
	}
	r := &p.rec
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.on {
		return RecordingStatus{}, fmt.Errorf("%w %q is running already (since journal entry %d): stop it first with POST /_emu/v1/recording/stop",
			ErrRecording, r.name, r.since)
	}
	now := p.clock.Now()
	if name == "" {
		name = "session " + now.UTC().Format("2006-01-02 15:04:05")
	}
	r.on, r.since, r.name, r.began, r.started = true, p.journal.LastSeq(), name, now, p.wall.Now()
	r.faults = nil
	for _, f := range p.faults.List() {
		text, _ := json.Marshal(f) // plain values: it cannot fail
		r.faults = append(r.faults, string(text))
	}
	return RecordingStatus{Recording: true, Since: r.since, Name: r.name}, nil
}

// Recording says whether a recording runs and what it has seen.
func (p *Platform) Recording() RecordingStatus {
	r := &p.rec
	r.mu.Lock()
	on, since, name := r.on, r.since, r.name
	r.mu.Unlock()
	if !on {
		return RecordingStatus{}
	}
	// Only the control entries are actions: the console may ask often, and the journal is large.
	return RecordingStatus{Recording: true, Since: since, Name: name, Actions: record.Actions(p.journal.List(journal.Filter{Since: since, Kind: journal.KindControl}))}
}

// StopRecording ends the recording and writes it as a scenario file (see package record).
// Stopping when no recording runs is refused (ErrRecording, 409).
func (p *Platform) StopRecording() (Recorded, error) {
	r := &p.rec
	r.mu.Lock()
	if !r.on {
		r.mu.Unlock()
		return Recorded{}, fmt.Errorf("no %w is running: start one with POST /_emu/v1/recording/start", ErrRecording)
	}
	since, name, began, faults := r.since, r.name, r.began, r.faults
	r.on = false
	r.mu.Unlock()

	entries := p.journal.List(journal.Filter{Since: since})
	var missing uint64
	last := p.journal.LastSeq()
	if held := uint64(len(entries)); last > since && last-since > held {
		missing = last - since - held
	}
	s := record.Session{Name: name, Stopped: p.wall.Now(), Began: began, Ended: p.clock.Now(),
		Since: since, Missing: missing, Entries: entries, HeldFaults: faults}
	for _, a := range p.apps {
		app := record.App{Alias: a.Alias, AppID: a.AppID, Kind: a.Kind, Target: a.URL}
		if a.Container != nil {
			app.Target = a.Container.URL
		}
		for _, u := range a.Users {
			app.Users = append(app.Users, record.User{OpenID: u.OpenID, Name: u.Name, Subscribed: subscribedAtStart(a, u)})
		}
		s.Apps = append(s.Apps, app)
	}
	file := strings.Trim(unsafeFileChars.ReplaceAllString(name, "-"), "-.")
	if file == "" {
		file = "recording"
	}
	return Recorded{Name: name, Filename: file + ".yaml", YAML: record.Scenario(s), Actions: record.Actions(entries)}, nil
}

// subscribedAtStart is whether the config has a user follow the app when the emulator starts.
func subscribedAtStart(a *App, u config.User) bool {
	return a.Kind == "mp" || u.Subscribed == nil || *u.Subscribed
}
