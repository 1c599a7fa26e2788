package state

import (
	"strconv"
	"sync"
	"time"
)

// Entry kinds of the journal.
const (
	EntryPush    = "push"    // a push to the bot: every attempt, the answer, the verdict
	EntryAPI     = "api"     // a call of the WeChat API by the bot
	EntryState   = "state"   // a state change (queued, accepted, closed, expired …) and its cause
	EntryControl = "control" // a call of the control API
	EntryUnknown = "unknown" // a request for a path or method WeChat does not serve
)

// Entry is one record of the journal. Data holds the full detail (a push result, a raw API
// exchange); it is written once and never changed, so entries can be shared by readers.
type Entry struct {
	Seq        uint64    `json:"seq"`
	Time       time.Time `json:"time"` // virtual time
	Kind       string    `json:"kind"`
	App        string    `json:"app,omitempty"`  // appid
	User       string    `json:"user,omitempty"` // openid
	Summary    string    `json:"summary"`
	DurationMS float64   `json:"duration_ms,omitempty"` // wall time spent, for pushes and API calls
	Errors     int       `json:"errors,omitempty"`      // error-severity violations or a nonzero errcode
	Data       any       `json:"data,omitempty"`
}

// APICall is the Data of an api, control or unknown entry: one HTTP call with its raw request
// and response.
type APICall struct {
	Method       string `json:"method"`
	Path         string `json:"path"` // the route's path, without the query
	URL          string `json:"url"`
	RequestBody  string `json:"request_body,omitempty"`
	Status       int    `json:"status"`
	ResponseBody string `json:"response_body,omitempty"`
	Errcode      int    `json:"errcode"`
	Detail       string `json:"detail,omitempty"`
}

// JournalFilter selects entries; empty fields match everything.
type JournalFilter struct {
	App   string
	User  string
	Kind  string
	Since uint64 // only entries with a larger Seq
	Limit int    // at most this many, the newest; 0 = all kept
}

// Match reports whether e passes the filter.
func (f JournalFilter) Match(e *Entry) bool {
	return (f.App == "" || f.App == e.App) &&
		(f.User == "" || f.User == e.User) &&
		(f.Kind == "" || f.Kind == e.Kind) &&
		e.Seq > f.Since
}

// Journal is the bounded record of everything that happened: when it is full the oldest
// entries go, so a long run does not grow without limit. Subscribers receive new entries live.
type Journal struct {
	mu      sync.Mutex // guards entries, start, n, seq, subs and dropped
	entries []Entry    // ring buffer of capacity max
	start   int        // index of the oldest entry
	n       int        // entries held
	seq     uint64     // last sequence number handed out
	subs    map[*subscription]struct{}
	dropped uint64 // entries that fell out of the ring
}

type subscription struct {
	ch     chan Entry
	filter JournalFilter
	missed uint64 // entries not delivered because the subscriber was slow
}

// NewJournal returns a journal that keeps the newest max entries (at least 1).
func NewJournal(max int) *Journal {
	if max < 1 {
		max = 1
	}
	return &Journal{entries: make([]Entry, max), subs: map[*subscription]struct{}{}}
}

// Add appends e, giving it the next sequence number, and returns it as stored.
func (j *Journal) Add(e Entry) Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq++
	e.Seq = j.seq
	if j.n < len(j.entries) {
		j.entries[(j.start+j.n)%len(j.entries)] = e
		j.n++
	} else {
		j.entries[j.start] = e
		j.start = (j.start + 1) % len(j.entries)
		j.dropped++
	}
	for s := range j.subs {
		if !s.filter.Match(&e) {
			continue
		}
		select {
		case s.ch <- e:
		default:
			// A slow reader must not stall the emulator; it can catch up with List(Since).
			s.missed++
		}
	}
	return e
}

// List returns the kept entries that match f, oldest first.
func (j *Journal) List(f JournalFilter) []Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []Entry
	for i := 0; i < j.n; i++ {
		e := &j.entries[(j.start+i)%len(j.entries)]
		if f.Match(e) {
			out = append(out, *e)
		}
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[len(out)-f.Limit:]
	}
	return out
}

// Stats says how many entries the journal holds, its capacity, the last sequence number and how
// many entries fell out of the ring.
func (j *Journal) Stats() (held, capacity int, last, dropped uint64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.n, len(j.entries), j.seq, j.dropped
}

// Subscribe delivers every new entry that matches f on the returned channel, which holds up to
// buf entries; entries a slow reader has no room for are skipped. cancel ends the subscription
// and closes the channel.
func (j *Journal) Subscribe(f JournalFilter, buf int) (<-chan Entry, func()) {
	if buf < 1 {
		buf = 1
	}
	s := &subscription{ch: make(chan Entry, buf), filter: f}
	j.mu.Lock()
	j.subs[s] = struct{}{}
	j.mu.Unlock()
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			j.mu.Lock()
			delete(j.subs, s)
			j.mu.Unlock()
			close(s.ch)
		})
	}
}

// Reset forgets every entry; sequence numbers keep counting so that a reader's Since stays
// meaningful across a reset.
func (j *Journal) Reset() {
	j.mu.Lock()
	defer j.mu.Unlock()
	for i := range j.entries {
		j.entries[i] = Entry{}
	}
	j.start, j.n = 0, 0
}

// ParseSince reads the since filter of the journal API: a sequence number, or an RFC 3339 time,
// which selects the entries at or after it.
func (j *Journal) ParseSince(s string) (seq uint64, at time.Time, err error) {
	if s == "" {
		return 0, time.Time{}, nil
	}
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return n, time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return 0, t, err
}
