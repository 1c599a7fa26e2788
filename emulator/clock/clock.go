// Package clock is the only place in wxemu that reads the wall clock.
//
// Everything WeChat keeps in time (CreateTime, signature timestamps, token and media expiry,
// windows and quotas, the 30-minute kf session rule) runs on a Clock, so that specs can use a
// Fake and move time with Advance, and `wxemu serve` can run on real time plus an offset.
package clock

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// The sane range of virtual time. A time.Duration spans only ±292 years, so an offset or a sum
// of advances that passes it wraps, and virtual time jumps to 1734: every CreateTime goes
// negative. Callers that move a clock on request (the control API, an import) refuse a move that
// would leave this range, with an error that names the limit.
//
// Deviation: WeChat has no such range; 1970 … 2200 with at most 200 years of advances is wxemu's
// own bound (README, "Deviations and choices").
var (
	// Horizon is the first instant virtual time may not reach: 2200-01-01T00:00:00Z.
	Horizon = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	// Epoch is the earliest virtual time a snapshot may hold: the Unix epoch, since WeChat's
	// CreateTime is Unix seconds and never negative.
	Epoch = time.Unix(0, 0).UTC()
)

// MaxAdvance bounds how far a clock may be moved forward in all (since its start or its last
// Reset): 200 years of 365 days, well inside time.Duration's 292 years, so a sum of advances
// never wraps.
const MaxAdvance = 200 * 365 * 24 * time.Hour

// InRange reports whether t lies in the sane range of virtual time, [Epoch, Horizon).
func InRange(t time.Time) bool { return !t.Before(Epoch) && t.Before(Horizon) }

// Clock tells the time and schedules functions on it.
type Clock interface {
	// Now returns the current time on this clock.
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has passed on this clock.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a function scheduled by AfterFunc.
type Timer interface {
	// Stop prevents the call if it has not happened yet; it reports whether it did so.
	Stop() bool
}

// Real is the wall clock.
type Real struct{}

// Now returns the wall-clock time.
func (Real) Now() time.Time { return time.Now() }

// AfterFunc schedules f on the wall clock.
func (Real) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// Since is the wall-clock time elapsed since t. It exists so that code measuring real network
// I/O (how long a bot took to answer) does not read the wall clock itself.
func Since(t time.Time) time.Duration { return time.Since(t) }

// WithTimeout is context.WithTimeout on the wall clock: deadlines of real network I/O (how long
// WeChat waits for a bot) are wall time, never virtual time.
func WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}

// Sleep pauses the calling goroutine for d of wall-clock time. Sample bots use it to be slow on
// purpose; emulator state never sleeps.
func Sleep(d time.Duration) { time.Sleep(d) }

// Offset is real time plus an adjustable offset: the clock of `wxemu serve`, which the control
// API moves forward. Timers scheduled on it fire when the offset time reaches them, whether that
// happens by waiting or by Advance.
type Offset struct {
	mu     sync.Mutex // guards offset and fake
	offset time.Duration
	fake   *Fake // timers live here, driven by Advance and by a wall-clock ticker in Sync
}

// NewOffset returns a clock on real time with a zero offset.
func NewOffset() *Offset {
	return &Offset{fake: NewFake(time.Now())}
}

// Now returns real time plus the offset.
func (o *Offset) Now() time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return time.Now().Add(o.offset)
}

// Offset returns how far this clock is ahead of real time.
func (o *Offset) Offset() time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.offset
}

// Advance moves the clock forward by d and fires every timer that falls due, in time order. An
// advance that would take the offset past MaxAdvance (and so, in the end, wrap it) is ignored:
// callers check first and say why (platform.Advance).
func (o *Offset) Advance(d time.Duration) {
	if d < 0 {
		return
	}
	o.mu.Lock()
	if d > MaxAdvance-o.offset {
		o.mu.Unlock()
		return
	}
	o.offset += d
	now := time.Now().Add(o.offset)
	o.mu.Unlock()
	o.fake.AdvanceTo(now)
}

// Reset puts the clock back on real time: the offset is zero again. Timers keep their due
// times, so one scheduled at a virtual time fires when the clock reaches that time again.
func (o *Offset) Reset() {
	o.mu.Lock()
	o.offset = 0
	now := time.Now()
	o.mu.Unlock()
	o.fake.rewind(now)
}

// Sync fires the timers that have fallen due by the passage of real time.
func (o *Offset) Sync() { o.fake.AdvanceTo(o.Now()) }

// AfterFunc schedules f for when this clock reaches now+d: by Advance, or by real time passing,
// whichever comes first. A wall-clock timer wakes the clock at the due time, so nothing polls.
func (o *Offset) AfterFunc(d time.Duration, f func()) Timer {
	o.fake.AdvanceTo(o.Now())
	t := o.fake.AfterFunc(d, f)
	wake := time.AfterFunc(max(d, 0), o.Sync)
	return offsetTimer{t: t, wake: wake}
}

// offsetTimer is a timer of an Offset clock: the timer itself and the wall-clock wake-up.
type offsetTimer struct {
	t    Timer
	wake *time.Timer
}

func (t offsetTimer) Stop() bool {
	t.wake.Stop()
	return t.t.Stop()
}

// Fake is a clock that moves only when told to. Advance fires due timers in time order, with Now
// set to each timer's due time while it fires, as tailscale's tstest.Clock does.
type Fake struct {
	mu     sync.Mutex // guards now, timers and seq
	now    time.Time
	timers timerHeap
	seq    uint64
}

// NewFake returns a fake clock that reads start until advanced.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the clock forward by d, firing due timers in order.
func (f *Fake) Advance(d time.Duration) {
	if d < 0 {
		return
	}
	f.mu.Lock()
	target := f.now.Add(d)
	f.mu.Unlock()
	f.AdvanceTo(target)
}

// AdvanceTo moves the clock forward to t (never backward), firing due timers in order. Each
// timer's function runs synchronously, with the lock released, so it may schedule more timers;
// those fire too if they fall due before t.
func (f *Fake) AdvanceTo(t time.Time) {
	for {
		f.mu.Lock()
		if len(f.timers) == 0 || f.timers[0].when.After(t) {
			if t.After(f.now) {
				f.now = t
			}
			f.mu.Unlock()
			return
		}
		ft := heap.Pop(&f.timers).(*fakeTimer)
		ft.index = -1
		if ft.when.After(f.now) {
			f.now = ft.when
		}
		fn := ft.fn
		f.mu.Unlock()
		fn()
	}
}

// rewind sets the fake time back to t, keeping the timers; only Offset.Reset does, since a Fake
// itself never moves backward.
func (f *Fake) rewind(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t
}

// AfterFunc schedules f for now+d. A non-positive d fires on the next Advance (of any length).
// Unlike time.AfterFunc, f runs in the goroutine that advances the clock, so an Advance returns
// only after every due function has run: specs can assert right after it.
func (f *Fake) AfterFunc(d time.Duration, fn func()) Timer {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	ft := &fakeTimer{clock: f, when: f.now.Add(d), seq: f.seq, fn: fn}
	heap.Push(&f.timers, ft)
	return ft
}

// Pending is how many timers are waiting to fire.
func (f *Fake) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.timers)
}

type fakeTimer struct {
	clock *Fake
	when  time.Time
	seq   uint64 // ties broken by scheduling order
	index int    // position in the heap, -1 once fired or stopped
	fn    func()
}

func (t *fakeTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	if t.index < 0 {
		return false
	}
	heap.Remove(&t.clock.timers, t.index)
	t.index = -1
	return true
}

type timerHeap []*fakeTimer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].when.Equal(h[j].when) {
		return h[i].seq < h[j].seq
	}
	return h[i].when.Before(h[j].when)
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *timerHeap) Push(x any) {
	t := x.(*fakeTimer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	n := len(old)
	t := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	return t
}
