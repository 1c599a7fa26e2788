package state

import (
	"cmp"
	"slices"
	"sync"
	"time"
)

// Who a transcript line comes from.
const (
	FromUser   = "user"
	FromBot    = "bot"   // the account: passive replies and customer-service messages
	FromAgent  = "agent" // a human agent (kf account)
	FromSystem = "system"
)

// Line kinds of a transcript.
const (
	LineMessage = "message" // the user sent a message
	LineEvent   = "event"   // the user did something that reaches the bot as an event
	LineReply   = "reply"   // a passive reply
	LineCustom  = "custom"  // a customer-service message sent through the API
	LineSystem  = "system"  // a line WeChat itself shows, e.g. the failure line
	// LineFault marks where a fault rule acted on a call or push about the user (wxemu's note,
	// not something the user sees).
	LineFault = "fault"
)

// Line is one thing the person on the phone saw (or did), in order.
type Line struct {
	Time      time.Time `json:"time"`
	From      string    `json:"from"`
	Kind      string    `json:"kind"`
	MsgType   string    `json:"msgtype,omitempty"`
	Text      string    `json:"text"`
	KfAccount string    `json:"kf_account,omitempty"`
	Journal   uint64    `json:"journal,omitempty"` // the journal entry with the raw exchange
}

// Visible reports whether the user sees the line in the chat (events are things the user did,
// not messages shown; fault lines are wxemu's notes).
func (l Line) Visible() bool { return l.Kind != LineEvent && l.Kind != LineFault }

type userKey struct{ app, openid string }

// Transcripts holds what each user saw, per (app, user), keeping the newest lines of each.
type Transcripts struct {
	mu    sync.Mutex // guards lines
	lines map[userKey][]Line
	max   int
}

// NewTranscripts keeps up to max lines per user (at least 1).
func NewTranscripts(max int) *Transcripts {
	if max < 1 {
		max = 1
	}
	return &Transcripts{lines: map[userKey][]Line{}, max: max}
}

// Append adds a line to a user's transcript.
func (t *Transcripts) Append(app, openid string, l Line) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := userKey{app, openid}
	ls := append(t.lines[k], l)
	if len(ls) >= 2*t.max {
		// Trimming only once the slice holds twice the limit keeps each append amortised O(1).
		ls = append(make([]Line, 0, t.max+t.max/2), ls[len(ls)-t.max:]...)
	}
	t.lines[k] = ls
}

// newest returns the newest max lines of ls.
func (t *Transcripts) newest(ls []Line) []Line {
	if len(ls) > t.max {
		return ls[len(ls)-t.max:]
	}
	return ls
}

// Get returns a copy of a user's transcript, oldest first.
func (t *Transcripts) Get(app, openid string) []Line {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Line(nil), t.newest(t.lines[userKey{app, openid}])...)
}

// Reset forgets every transcript.
func (t *Transcripts) Reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = map[userKey][]Line{}
}

// TranscriptSnapshot is one user's transcript in an export.
type TranscriptSnapshot struct {
	App    string `json:"app"`
	OpenID string `json:"openid"`
	Lines  []Line `json:"lines"`
}

// Snapshot exports every transcript, sorted by app and openid.
func (t *Transcripts) Snapshot() []TranscriptSnapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]TranscriptSnapshot, 0, len(t.lines))
	for k, ls := range t.lines {
		out = append(out, TranscriptSnapshot{App: k.app, OpenID: k.openid, Lines: append([]Line(nil), t.newest(ls)...)})
	}
	slices.SortFunc(out, func(a, b TranscriptSnapshot) int {
		return cmp.Or(cmp.Compare(a.App, b.App), cmp.Compare(a.OpenID, b.OpenID))
	})
	return out
}

// Restore replaces every transcript with an export.
func (t *Transcripts) Restore(s []TranscriptSnapshot) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = make(map[userKey][]Line, len(s))
	for _, ts := range s {
		t.lines[userKey{ts.App, ts.OpenID}] = append([]Line(nil), ts.Lines...)
	}
}
