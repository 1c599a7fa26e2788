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
	mu           sync.Mutex // guards entries, start, n, seq, subs, dropped, droppedBytes and bytes
	entries      []Entry    // ring buffer of capacity max
	start        int        // index of the oldest entry
	n            int        // entries held
	seq          uint64     // last sequence number handed out
	subs         map[*subscription]struct{}
	dropped      uint64 // entries that fell out of the ring
	droppedBytes uint64 // the Size of the entries that fell out
	bytes        int    // Size of the entries held
	maxBytes     int    // bound on bytes; set at construction, never changed
}

type subscription struct {
	ch     chan Entry
	filter Filter
	missed uint64 // entries not delivered because the subscriber was slow
}

// DefaultMaxBytes is the byte bound of NewJournal: config's journal.max_bytes default.
const DefaultMaxBytes = 64 << 20

// NewJournal returns a journal that keeps the newest max entries (at least 1), within
// DefaultMaxBytes.
func NewJournal(max int) *Journal { return NewBounded(max, DefaultMaxBytes) }

// NewBounded returns a journal that keeps the newest entries, at most maxEntries of them (at
// least 1) and, while more than one is held, at most maxBytes of them by Entry.Size. The newest
// entry is always kept, whatever its size; its bodies are clipped at BodyLimit, so it is small.
func NewBounded(maxEntries, maxBytes int) *Journal {
	if maxEntries < 1 {
		maxEntries = 1
	}
	if maxBytes < 1 {
		maxBytes = DefaultMaxBytes
	}
	return &Journal{entries: make([]Entry, maxEntries), maxBytes: maxBytes, subs: map[*subscription]struct{}{}}
}

// Add appends e, giving it the next sequence number, and returns it as stored.
// Large bodies are clipped first (clipEntry), so that a bot answering megabytes does not hold
// megabytes per entry; then the oldest entries go while more than max entries or max bytes are
// held.
func (j *Journal) Add(e Entry) Entry {
	clipEntry(&e)
	e.size = e.measure()
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq++
	e.Seq = j.seq
	if j.n == len(j.entries) {
		j.dropOldest()
	}
	j.entries[(j.start+j.n)%len(j.entries)] = e
	j.n++
	j.bytes += e.size
	for j.n > 1 && j.bytes > j.maxBytes {
		j.dropOldest()
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

// dropOldest forgets the oldest entry held. The caller holds mu and knows n > 0.
func (j *Journal) dropOldest() {
	old := &j.entries[j.start]
	j.bytes -= old.size
	j.droppedBytes += uint64(old.size)
	*old = Entry{}
	j.start = (j.start + 1) % len(j.entries)
	j.n--
	j.dropped++
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
	// MaxBytes is the bound on Bytes (journal.max_bytes): the oldest entries go beyond it.
	MaxBytes int `json:"max_bytes"`
	// DroppedBytes is the Size of the entries that fell out, by either bound.
	DroppedBytes uint64 `json:"dropped_bytes"`
}

// Stats says how many entries the journal holds, their size, its bounds, the last sequence
// number and how many entries and bytes fell out.
func (j *Journal) Stats() Stats {
	j.mu.Lock()
	defer j.mu.Unlock()
	return Stats{Held: j.n, Capacity: len(j.entries), Bytes: j.bytes, LastSeq: j.seq, Dropped: j.dropped,
		MaxBytes: j.maxBytes, DroppedBytes: j.droppedBytes}
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
