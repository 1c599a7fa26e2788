// Package journal is the typed record of everything that happened in one emulated WeChat:
// every push with its attempts and verdict, every API call decoded and answered, every change of
// kf sessions and other state, every control action and every request wxemu does not serve.
// The platform writes it where each operation happens; readers filter it, list it and subscribe
// to it, and find each entry's record in its typed field.
package journal

import (
	"strconv"
	"sync"
	"time"
)

// Filter selects entries; empty fields match everything.
type Filter struct {
	App   string
	User  string
	Kind  string
	Since uint64 // only entries with a larger Seq
	Limit int    // at most this many, the newest; 0 = all kept
}

// Match reports whether e passes the filter.
func (f Filter) Match(e *Entry) bool {
	return (f.App == "" || f.App == e.App) &&
		(f.User == "" || f.User == e.User) &&
		(f.Kind == "" || f.Kind == e.Kind()) &&
		e.Seq > f.Since
}

// Journal is the bounded record of everything that happened: when it is full the oldest
// entries go, so a long run does not grow without limit. Subscribers receive new entries live.
type Journal struct {
	mu      sync.Mutex // guards entries, start, n, seq, subs, dropped and bytes
	entries []Entry    // ring buffer of capacity max
	start   int        // index of the oldest entry
	n       int        // entries held
	seq     uint64     // last sequence number handed out
	subs    map[*subscription]struct{}
	dropped uint64 // entries that fell out of the ring
	bytes   int    // Size of the entries held
}

type subscription struct {
	ch     chan Entry
	filter Filter
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
	e.size = e.measure()
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq++
	e.Seq = j.seq
	j.bytes += e.size
	if j.n < len(j.entries) {
		j.entries[(j.start+j.n)%len(j.entries)] = e
		j.n++
	} else {
		j.bytes -= j.entries[j.start].size
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
func (j *Journal) List(f Filter) []Entry {
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

// Stats is how full a journal is.
type Stats struct {
	Held     int    `json:"held"`     // entries held
	Capacity int    `json:"capacity"` // entries it can hold
	Bytes    int    `json:"bytes"`    // the Size of the entries held
	LastSeq  uint64 `json:"last_seq"` // the newest sequence number handed out
	Dropped  uint64 `json:"dropped"`  // entries that fell out of the ring
}

// Stats says how many entries the journal holds, their size, its capacity, the last sequence
// number and how many entries fell out of the ring.
func (j *Journal) Stats() Stats {
	j.mu.Lock()
	defer j.mu.Unlock()
	return Stats{Held: j.n, Capacity: len(j.entries), Bytes: j.bytes, LastSeq: j.seq, Dropped: j.dropped}
}

// LastSeq is the newest sequence number handed out: mark it before an action to find what the
// action caused.
func (j *Journal) LastSeq() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.seq
}

// Subscribe delivers every new entry that matches f on the returned channel, which holds up to
// buf entries; entries a slow reader has no room for are skipped. cancel ends the subscription
// and closes the channel.
func (j *Journal) Subscribe(f Filter, buf int) (<-chan Entry, func()) {
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
	j.start, j.n, j.bytes = 0, 0, 0
}

// ParseSince reads the since filter of the journal API: a sequence number, or an RFC 3339 time,
// which selects the entries at or after it.
func ParseSince(s string) (seq uint64, at time.Time, err error) {
	if s == "" {
		return 0, time.Time{}, nil
	}
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return n, time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return 0, t, err
}
