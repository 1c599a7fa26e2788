// Package load runs many users against a bot through the whole emulated WeChat — signature,
// encryption mode, verdict, state, and the bot's API calls with their windows and quotas — and
// reports throughput, latency against WeChat's deadline, what WeChat would have retried or
// given up on, the violations by rule and the bot's API calls by errcode. It keeps aggregates
// only (histograms and counters), never a record per push, so that a long run stays in bounded
// memory; the platform's journal is bounded on its own.
package load

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/wire"
)

// Options configure a run. Give Duration or Pushes (or both: whichever ends first).
type Options struct {
	// Platform is the emulated WeChat the users talk to. Required.
	Platform *platform.Platform
	// App is the app (alias or appid) whose bot is loaded. Default: the script's, else the
	// first app of the configuration.
	App string
	// Users is how many users send; each sends one message at a time. Default 10.
	Users int
	// Rate, when positive, is the open model: pushes start at this many per second whatever
	// the bot does; a push whose user is still busy waits and is counted late. Zero is the
	// closed model: Concurrency users send, each its next message as soon as the last is
	// answered.
	Rate float64
	// Concurrency is how many users send at once in the closed model. Default Users.
	Concurrency int
	// Duration ends the run: no push starts after it (those in flight end).
	Duration time.Duration
	// Pushes ends the run after this many pushes.
	Pushes int
	// Mix is what the users send. Default DefaultMix. Ignored with Script.
	Mix Mix
	// Script, when set, is what each user sends, step after step, from the start again.
	Script *Script
	// UserPrefix begins each user's openid: PREFIX000001 … Default "load_".
	UserPrefix string
	// Settle is how long the run waits after the last push for the API calls a bot makes
	// after answering (an async bot's sends): until none has come for Settle, at most ten
	// times as long. Default 300 ms.
	Settle time.Duration
}

// Runner is one load run. Progress may be read while Run runs.
type Runner struct {
	o           Options
	app         *platform.App
	deadline    time.Duration
	maxAttempts int
	order       []int // the mix's order, by item
	interval    time.Duration

	shards  []shard
	pos     []int    // each user's next step of the script; a user is held by one push at a time
	openids []string // by user

	issued  atomic.Int64 // pushes started or reserved
	nextMix atomic.Uint64

	start     time.Time
	startNano atomic.Int64 // start, for Progress from another goroutine

	late    atomic.Int64
	lateMax atomic.Int64 // nanoseconds
	unsent  atomic.Int64 // open model: due, and not sent before the end

	apiMu    sync.Mutex // guards api
	api      map[apiKey]*APICount
	lastCall atomic.Int64 // wall time of the last API call, unix nanoseconds
}

type apiKey struct {
	path    string
	errcode int
}

// shard is the aggregate of some of the users; the users are spread over the shards so that
// pushes in parallel rarely share a lock.
type shard struct {
	mu         sync.Mutex // guards everything below
	latency    Histogram
	c          Counts
	violations map[string]*RuleCount
	_          [64]byte // keeps neighbouring shards' locks off one cache line
}

// numShards bounds the shards; users beyond it share.
const numShards = 32

// New checks the options and prepares a run.
func New(o Options) (*Runner, error) {
	if o.Platform == nil {
		return nil, errors.New("load: no platform")
	}
	if o.Users <= 0 {
		o.Users = 10
	}
	if o.Concurrency <= 0 {
		o.Concurrency = o.Users
	}
	if o.Rate < 0 {
		return nil, fmt.Errorf("load: the rate %v is negative", o.Rate)
	}
	if o.Rate == 0 && o.Concurrency > o.Users {
		return nil, fmt.Errorf("load: a concurrency of %d needs as many users, and there are %d: a user sends one message at a time", o.Concurrency, o.Users)
	}
	if o.Duration <= 0 && o.Pushes <= 0 {
		return nil, errors.New("load: give a duration or a number of pushes, or the run never ends")
	}
	if o.UserPrefix == "" {
		o.UserPrefix = "load_"
	}
	if o.Settle <= 0 {
		o.Settle = 300 * time.Millisecond
	}
	appKey := o.App
	if appKey == "" && o.Script != nil {
		appKey = o.Script.App
	}
	if appKey == "" {
		appKey = o.Platform.Apps()[0].Alias
	}
	app, err := o.Platform.LookupApp(appKey)
	if err != nil {
		return nil, err
	}
	if o.Script == nil && len(o.Mix) == 0 {
		if o.Mix, err = ParseMix(DefaultMix, wire.Kind(app.Kind), "hi"); err != nil {
			return nil, err
		}
	}
	if o.Script != nil {
		for i := range o.Script.Messages {
			if err := o.Script.Messages[i].Check(wire.Kind(app.Kind)); err != nil {
				return nil, fmt.Errorf("load: the script's message %d for app %s: %w", i+1, app.Alias, err)
			}
		}
	}
	r := &Runner{o: o, app: app, shards: make([]shard, min(o.Users, numShards)), pos: make([]int, o.Users), api: map[apiKey]*APICount{}}
	r.deadline, r.maxAttempts = o.Platform.PushLimits()
	r.openids = make([]string, o.Users)
	for i := range r.openids {
		r.openids[i] = fmt.Sprintf("%s%06d", o.UserPrefix, i+1)
	}
	if o.Script == nil {
		r.order = o.Mix.order()
	}
	if o.Rate > 0 {
		r.interval = max(time.Duration(float64(time.Second)/o.Rate), time.Nanosecond)
	}
	for i := range r.shards {
		r.shards[i].violations = map[string]*RuleCount{}
	}
	return r, nil
}

// App is the app whose bot the run loads.
func (r *Runner) App() *platform.App { return r.app }

// OpenID is the openid of user i (from 0).
func (r *Runner) OpenID(i int) string { return r.openids[i] }

// Run runs the load until the duration has passed or the pushes are made, waits for the pushes
// in flight and the API calls that follow them, and reports. When ctx ends first, pushes in
// flight are cut and the report says it was interrupted.
func (r *Runner) Run(ctx context.Context) *Report {
	stopObserving := r.o.Platform.Observe(r.observe)
	defer stopObserving()
	r.start = clock.Real{}.Now()
	r.startNano.Store(r.start.UnixNano())
	idle := make(chan int, r.o.Users)
	for i := 0; i < r.o.Users; i++ {
		idle <- i
	}
	var end time.Time
	if r.o.Duration > 0 {
		end = r.start.Add(r.o.Duration)
	}
	var wg sync.WaitGroup
	if r.o.Rate > 0 {
		r.open(ctx, idle, end, &wg)
	} else {
		for w := 0; w < r.o.Concurrency; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r.reserve(ctx, end) {
					u := <-idle
					r.pushAs(ctx, u, time.Time{})
					idle <- u
				}
			}()
		}
	}
	wg.Wait()
	pushed := clock.Since(r.start)
	r.settle(ctx)
	return r.report(pushed, ctx.Err() != nil)
}

// reserve claims the next push, or reports that the run is over.
func (r *Runner) reserve(ctx context.Context, end time.Time) bool {
	if ctx.Err() != nil || !end.IsZero() && !(clock.Real{}).Now().Before(end) {
		return false
	}
	if n := r.issued.Add(1); r.o.Pushes > 0 && n > int64(r.o.Pushes) {
		return false
	}
	return true
}

// lateAfter is how far behind its time a push of the open model may start before it is late.
func (r *Runner) lateAfter() time.Duration { return max(r.interval, 10*time.Millisecond) }

// open is the open model: push k is due at start + k/rate, taken by the next idle user.
func (r *Runner) open(ctx context.Context, idle chan int, end time.Time, wg *sync.WaitGroup) {
	var over <-chan struct{} // closed at the end of the run; nil (never) without a duration
	if !end.IsZero() {
		done := make(chan struct{})
		t := clock.Real{}.AfterFunc(end.Sub((clock.Real{}).Now()), func() { close(done) })
		defer t.Stop()
		over = done
	}
	for k := 0; ; k++ {
		due := r.start.Add(time.Duration(k) * r.interval)
		if !end.IsZero() && !due.Before(end) || r.o.Pushes > 0 && k >= r.o.Pushes {
			return
		}
		if wait := due.Sub((clock.Real{}).Now()); wait > 0 && !sleep(ctx, wait) {
			return
		}
		var u int
		select {
		case u = <-idle:
		case <-ctx.Done():
			return
		case <-over:
			// Deviation: a push still waiting for a free user when the run ends is not sent;
			// it and the pushes due after it are counted (unsent), so the run ends on time.
			r.unsent.Store(int64(r.scheduled() - k))
			return
		}
		if late := (clock.Real{}).Now().Sub(due); late > r.lateAfter() {
			// Deviation: wxemu cannot push faster than its users free up; such a push is not
			// dropped but made late, and counted (late, max_late_ms in the report).
			r.late.Add(1)
			for {
				old := r.lateMax.Load()
				if int64(late) <= old || r.lateMax.CompareAndSwap(old, int64(late)) {
					break
				}
			}
		}
		r.issued.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.pushAs(ctx, u, due)
			idle <- u
		}()
	}
}

// scheduled is how many pushes the open model's run has due: one per interval until the end,
// at most Pushes.
func (r *Runner) scheduled() int {
	n := math.MaxInt
	if r.o.Duration > 0 {
		n = int((r.o.Duration + r.interval - 1) / r.interval)
	}
	if r.o.Pushes > 0 {
		n = min(n, r.o.Pushes)
	}
	return n
}

// sleep waits d, or less when ctx ends; it reports whether ctx is still going.
func sleep(ctx context.Context, d time.Duration) bool {
	done := make(chan struct{})
	t := clock.Real{}.AfterFunc(d, func() { close(done) })
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

// next is what user u sends now.
func (r *Runner) next(u int) wire.Message {
	if s := r.o.Script; s != nil {
		m := s.Messages[r.pos[u]%len(s.Messages)]
		r.pos[u]++
		return m
	}
	k := r.nextMix.Add(1) - 1
	return r.o.Mix[r.order[k%uint64(len(r.order))]].Message
}

// pushAs makes user u send their next message and counts what came of it. In the open model
// due is when the message was due: its latency counts from then, so that a push made late by a
// bot that cannot keep up with the rate shows its wait in the percentiles (no coordinated
// omission); in the closed model due is zero and the latency counts from the push's start.
func (r *Runner) pushAs(ctx context.Context, u int, due time.Time) {
	m := r.next(u)
	start := clock.Real{}.Now()
	in, err := r.o.Platform.UserSends(ctx, r.app.AppID, r.OpenID(u), m)
	if !due.IsZero() && due.Before(start) {
		start = due
	}
	took := clock.Since(start)
	s := &r.shards[u%len(r.shards)]
	s.mu.Lock()
	defer s.mu.Unlock()
	s.c.Sent++
	if err != nil {
		s.c.Errors++
		if s.c.FirstError == "" {
			s.c.FirstError = err.Error()
		}
		return
	}
	res := in.Result
	if res == nil {
		s.c.NotPushed++ // an agent serves the user, or WeChat pushed nothing
		return
	}
	s.latency.Record(took)
	s.c.Pushed++
	s.c.Attempts += int64(len(res.Attempts))
	if len(res.Attempts) > 1 {
		s.c.Retried++
	}
	for _, a := range res.Attempts {
		if a.TimedOut {
			s.c.TimedOut++
		}
	}
	failed := false
	switch res.Outcome {
	case push.Replied:
		s.c.Replied++
	case push.None:
		s.c.None++
	case push.Transferred:
		s.c.Transferred++
	case push.Failed:
		s.c.FailedOutcome++
		failed = true
		if n := len(res.Attempts); n > 0 {
			if last := res.Attempts[n-1]; last.TimedOut || last.Error != "" {
				s.c.GivenUp++
			}
		}
	}
	if s.countViolations(res.Violations) {
		failed = true
	}
	if failed {
		s.c.Failed++
	}
}

// countViolations counts vs by rule and reports whether one is an error. s.mu must be held.
func (s *shard) countViolations(vs []rules.Violation) bool {
	isErr := false
	for _, v := range vs {
		rc := s.violations[v.Rule]
		if rc == nil {
			rc = &RuleCount{Rule: v.Rule, Severity: string(v.Severity), Ref: v.Ref, Example: v.Message}
			s.violations[v.Rule] = rc
		}
		rc.Count++
		if v.Severity == rules.Error {
			isErr = true
		}
	}
	return isErr
}

// injectedPush counts a delivery a push fault rule made (the config's faults: a duplicate, or
// a held message delivered out of order), which no user's send returns: its violations
// (push.duplicate.sends, push.duplicate.reply …), and as failed when it broke a rule with an
// error or failed, as --max-failed counts a push.
func (r *Runner) injectedPush(res *push.Result) {
	s := &r.shards[0]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.countViolations(res.Violations) || res.Outcome == push.Failed {
		s.c.Failed++
	}
}

// observe counts the API calls of the loaded app (and those refused for a token no app owns).
func (r *Runner) observe(e *platform.Entry) {
	if p := e.Push; p != nil && p.Injected != nil && p.Result != nil && e.App == r.app.AppID {
		r.injectedPush(p.Result)
		return
	}
	c := e.API
	if c == nil || e.App != r.app.AppID && e.App != "" {
		return
	}
	r.lastCall.Store(clock.Real{}.Now().UnixNano())
	k := apiKey{c.Path, c.Errcode}
	r.apiMu.Lock()
	defer r.apiMu.Unlock()
	a := r.api[k]
	if a == nil {
		a = &APICount{Path: c.Path, Errcode: c.Errcode, Errmsg: c.Errmsg}
		r.api[k] = a
	}
	a.Count++
}

// settle waits for the API calls that follow the last push.
func (r *Runner) settle(ctx context.Context) {
	limit := clock.Real{}.Now().Add(10 * r.o.Settle)
	for ctx.Err() == nil {
		now := clock.Real{}.Now()
		quietFor := now.Sub(time.Unix(0, max(r.lastCall.Load(), r.start.UnixNano())))
		if quietFor >= r.o.Settle || !now.Before(limit) {
			return
		}
		sleep(ctx, min(r.o.Settle-quietFor, limit.Sub(now)))
	}
}

// Counts are what came of the pushes.
type Counts struct {
	Sent      int64 `json:"sent"`       // messages the users sent
	Pushed    int64 `json:"pushed"`     // of them, pushed to the bot
	NotPushed int64 `json:"not_pushed"` // routed to an agent, or not pushed at all
	Errors    int64 `json:"errors"`     // refused before any push (see first_error)

	Replied       int64 `json:"replied"`
	None          int64 `json:"none"` // success or an empty answer
	Transferred   int64 `json:"transferred"`
	FailedOutcome int64 `json:"failed_outcome"` // the user saw WeChat's failure line
	// Failed are the pushes that failed (failure line) or whose answer broke a rule with an
	// error: what --max-failed counts.
	Failed int64 `json:"failed"`

	Attempts int64 `json:"attempts"`  // POSTs in all, retries included
	TimedOut int64 `json:"timed_out"` // attempts the bot did not answer within the deadline
	// Retried are the pushes WeChat would have sent again, for lack of an answer in time.
	Retried int64 `json:"retried"`
	// GivenUp are the pushes WeChat would have given up on: no answer to the last attempt.
	GivenUp int64 `json:"given_up"`

	FirstError string `json:"first_error,omitempty"`
}

func (c *Counts) add(o *Counts) {
	c.Sent += o.Sent
	c.Pushed += o.Pushed
	c.NotPushed += o.NotPushed
	c.Errors += o.Errors
	c.Replied += o.Replied
	c.None += o.None
	c.Transferred += o.Transferred
	c.FailedOutcome += o.FailedOutcome
	c.Failed += o.Failed
	c.Attempts += o.Attempts
	c.TimedOut += o.TimedOut
	c.Retried += o.Retried
	c.GivenUp += o.GivenUp
	if c.FirstError == "" {
		c.FirstError = o.FirstError
	}
}

// RuleCount is how often one rule was broken.
type RuleCount struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Ref      string `json:"ref,omitempty"`
	Count    int64  `json:"count"`
	Example  string `json:"example"` // the message of the first
}

// APICount is how often the bot called one API path and got one errcode.
type APICount struct {
	Path    string `json:"path"`
	Errcode int    `json:"errcode"`
	Errmsg  string `json:"errmsg"`
	Count   int64  `json:"count"`
}

// Progress is the run so far.
type Progress struct {
	Elapsed  time.Duration
	Counts   Counts
	Latency  Histogram
	APIErrs  int64 // API calls answered with a nonzero errcode
	Late     int64
	Breaches int64 // violations, all severities
}

// Progress merges the shards: the run so far. It is safe to call while Run runs.
func (r *Runner) Progress() *Progress {
	p := &Progress{}
	if s := r.startNano.Load(); s != 0 {
		p.Elapsed = clock.Since(time.Unix(0, s))
	}
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		p.Counts.add(&s.c)
		p.Latency.Merge(&s.latency)
		for _, v := range s.violations {
			p.Breaches += v.Count
		}
		s.mu.Unlock()
	}
	r.apiMu.Lock()
	for _, a := range r.api {
		if a.Errcode != 0 {
			p.APIErrs += a.Count
		}
	}
	r.apiMu.Unlock()
	p.Late = r.late.Load()
	return p
}

// report gathers the run's aggregates.
func (r *Runner) report(pushed time.Duration, interrupted bool) *Report {
	p := r.Progress()
	rep := &Report{
		App: r.app.Alias, AppID: r.app.AppID, Kind: r.app.Kind, Mode: r.app.Mode,
		Users: r.o.Users, Concurrency: r.o.Concurrency, Rate: r.o.Rate,
		Model:       "closed",
		DurationS:   r.o.Duration.Seconds(),
		PushesAsked: r.o.Pushes,
		ElapsedS:    pushed.Seconds(),
		Counts:      p.Counts,
		Interrupted: interrupted,
		Late:        r.late.Load(),
		Unsent:      r.unsent.Load(),
		MaxLateMS:   ms(time.Duration(r.lateMax.Load())),
		DeadlineMS:  ms(r.deadline),
		MaxAttempts: r.maxAttempts,
		latency:     p.Latency,
	}
	if r.o.Rate > 0 {
		rep.Model = "open"
		rep.Concurrency = 0
	}
	if r.o.Script != nil {
		rep.Script = r.o.Script.Name
	} else {
		rep.Mix = r.o.Mix.String()
	}
	if pushed > 0 {
		rep.Throughput = float64(p.Counts.Sent) / pushed.Seconds()
	}
	rep.Latency = Latency{
		P50: ms(p.Latency.Quantile(0.5)), P90: ms(p.Latency.Quantile(0.9)), P99: ms(p.Latency.Quantile(0.99)),
		Max: ms(p.Latency.Max()), Mean: ms(p.Latency.Mean()),
	}
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		for _, v := range s.violations {
			rep.addViolation(*v)
		}
		s.mu.Unlock()
	}
	sort.Slice(rep.Violations, func(i, j int) bool {
		a, b := rep.Violations[i], rep.Violations[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Rule < b.Rule
	})
	r.apiMu.Lock()
	for _, a := range r.api {
		rep.APICalls = append(rep.APICalls, *a)
	}
	r.apiMu.Unlock()
	sort.Slice(rep.APICalls, func(i, j int) bool {
		a, b := rep.APICalls[i], rep.APICalls[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Errcode < b.Errcode
	})
	return rep
}

func (rep *Report) addViolation(v RuleCount) {
	for i := range rep.Violations {
		if rep.Violations[i].Rule == v.Rule {
			rep.Violations[i].Count += v.Count
			return
		}
	}
	rep.Violations = append(rep.Violations, v)
}

// ms is d in milliseconds, to a microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
