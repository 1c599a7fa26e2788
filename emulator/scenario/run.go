package scenario

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/wxemu/wxemu/emulator/textenc"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/harness"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/random"
)

// Runner runs scenarios against one platform and the bots it pushes to: it acts and observes
// through a harness of the platform. Scenarios that do not run alone (see Scenario.Serial) run
// Parallel at a time; the others run one by one after them, because they move the clock or
// change agents every scenario shares.
type Runner struct {
	Platform *platform.Platform
	// Parallel is how many scenarios run at once. Default 4.
	Parallel int
	// Random makes the users' fresh openids; a Run reads it one Read at a time, from every
	// scenario it runs at once. Default crypto/rand.
	Random io.Reader
	// Getenv reads ${env.NAME}. Default os.Getenv.
	Getenv func(string) string
	// OnScenario, when set, is called as each scenario ends, one call at a time, with how many
	// have ended and how many there are.
	OnScenario func(done, total int, r *ScenarioResult)
	// Within bounds how long (wall time) a step waits for the sends it expects, from a bot that
	// sends after it answers; a step's sends.within overrides it. Default DefaultWithin.
	Within time.Duration
	// Quiet is how long (wall time) a step watches once it has the sends it expects: one more
	// in this window fails it. A step that expects none, a signature probe and WeChat's retry
	// are watched this long at least. A step's sends.quiet overrides it. Default DefaultQuiet.
	Quiet time.Duration
}

// The defaults of Runner.Within and Runner.Quiet.
const (
	DefaultWithin = time.Second
	DefaultQuiet  = 100 * time.Millisecond
)

func (r *Runner) within() time.Duration {
	if r.Within > 0 {
		return r.Within
	}
	return DefaultWithin
}

func (r *Runner) quiet() time.Duration {
	if r.Quiet > 0 {
		return r.Quiet
	}
	return DefaultQuiet
}

// Run runs the scenarios and reports on them in the order given. A canceled ctx ends the run:
// the scenarios not yet run are reported failed.
func (r *Runner) Run(ctx context.Context, scenarios []*Scenario) *Report {
	start := clock.Real{}.Now()
	h := harness.New(r.Platform)
	src := r.Random
	if src == nil {
		src = rand.Reader
	}
	src = random.Locked(src) // the scenarios that run at once draw their openids from it together
	results := make([]*ScenarioResult, len(scenarios))
	var mu sync.Mutex // guards done and the OnScenario calls
	done := 0
	finish := func(i int, res *ScenarioResult) {
		mu.Lock()
		defer mu.Unlock()
		results[i] = res
		done++
		if r.OnScenario != nil {
			r.OnScenario(done, len(scenarios), res)
		}
	}
	var together, alone []int
	for i, s := range scenarios {
		if s.Serial {
			alone = append(alone, i)
		} else {
			together = append(together, i)
		}
	}
	workers := r.Parallel
	if workers <= 0 {
		workers = 4
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, max(len(together), 1)) {
		wg.Go(func() {
			for i := range work {
				finish(i, r.runOne(ctx, h, src, scenarios[i]))
			}
		})
	}
	for _, i := range together {
		work <- i
	}
	close(work)
	wg.Wait()
	for _, i := range alone {
		finish(i, r.runOne(ctx, h, src, scenarios[i]))
	}

	rep := &Report{Passed: true, Scenarios: results}
	files := map[string]bool{}
	for _, res := range results {
		files[res.File] = true
		rep.Summary.Scenarios++
		rep.Summary.Steps += len(res.Steps)
		if res.Status == Passed {
			rep.Summary.Passed++
		} else {
			rep.Summary.Failed++
			rep.Passed = false
		}
	}
	rep.Summary.Files = len(files)
	rep.Summary.DurationMS = ms(clock.Since(start))
	return rep
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// run is the state of one scenario while it runs; one goroutine owns it.
type run struct {
	r       *Runner
	h       *harness.Harness
	p       *platform.Platform
	s       *Scenario
	app     *platform.App
	res     *ScenarioResult
	openids map[string]string
	results map[string]json.RawMessage // by step id
	// cursor is, per user, the journal sequence number bot_receives looks after.
	cursor map[string]uint64
	// lastAction is the journal mark taken before the latest action step, what a step that
	// only checks sends looks after.
	lastAction uint64
	// agents holds the status of each agent before the scenario changed it, to put it back.
	agents map[string]platform.Agent
	// causes are, per user name, what may have made the bot send to the user, in order: every
	// send is the latest cause's before it (see cause).
	causes map[string][]*cause
	// marks are the journal marks taken as each step began, by step index.
	marks []uint64
	// failed says the scenario has failed: late sends found from then on are listed, not failed.
	failed bool
	// faultIDs are the fault rules the scenario added, removed when it ends.
	faultIDs []string
	// faultRules counts the fault rules the scenario has added, cleared ones included.
	faultRules int
	// faultLines are the lines of the scenario's fault rules, by id; unmet are the rules that
	// were cleared having met no matching call (see unmetFaults).
	faultLines map[string]int
	unmet      []string
}

func (r *Runner) runOne(ctx context.Context, h *harness.Harness, src io.Reader, s *Scenario) *ScenarioResult {
	start := clock.Real{}.Now()
	res := &ScenarioResult{Name: s.Name, File: s.File, Line: s.Line, Status: Passed, Serial: s.SerialWhy, Users: map[string]string{}, Steps: []*StepResult{}}
	defer func() { res.DurationMS = ms(clock.Since(start)) }()
	x := &run{r: r, h: h, p: h.Platform(), s: s, res: res, openids: map[string]string{}, results: map[string]json.RawMessage{},
		cursor: map[string]uint64{}, agents: map[string]platform.Agent{}, causes: map[string][]*cause{}}
	app, err := x.p.LookupApp(s.App)
	if err != nil {
		x.abort(0, err.Error())
		return res
	}
	x.app, res.App = app, app.AppID
	for _, u := range s.Users {
		openid := u.OpenID
		if openid == "" {
			openid = random.OpenID(src)
		}
		x.openids[u.Name], res.Users[u.Name] = openid, openid
		// A Mini Program has no followers: its users are always reachable.
		x.p.EnsureUser(app.AppID, openid, u.Name, u.Subscribed || app.Kind == "mp")
	}
	x.lastAction = x.h.Mark()
	for name := range x.openids {
		x.cursor[name] = x.lastAction
	}
	if s.TokenTime != "" {
		// The scenario runs alone (Serial): no other sees the setting.
		was := x.p.TokenTime()
		x.p.SetTokenTime(s.TokenTime == "virtual")
		defer x.p.SetTokenTime(was)
	}
	defer x.cleanup()
	if len(s.Faults) > 0 {
		if _, err := x.addFaults(s.Faults); err != nil {
			x.abort(0, "the scenario's fault rules were refused: "+err.Error())
			return res
		}
	}
	for i, st := range s.Steps {
		if err := ctx.Err(); err != nil {
			x.abort(i, "the run was stopped: "+err.Error())
			return res
		}
		if x.checkLate(fmt.Sprintf("before step %d (line %d) began", i+1, st.Line)) {
			x.fail()
			x.skip(i)
			return res
		}
		started := clock.Real{}.Now()
		sr := x.step(ctx, st)
		if err := ctx.Err(); err != nil {
			// A step the stop cut into judged a push or a wait cut short: it passes nothing.
			sr.fail("stopped", "the step runs to its end", "the run was stopped while it ran", err.Error())
			sr.Status = Failed
			res.Steps = append(res.Steps, sr)
			x.abort(i+1, "the run was stopped: "+err.Error())
			return res
		}
		res.Steps = append(res.Steps, sr)
		if sr.Status == Failed {
			x.failed = true
			x.drain(ctx, st, started)
			x.checkLate("after the step failed")
			x.fail()
			x.skip(i + 1)
			return res
		}
	}
	if x.checkLate("after the last step") {
		x.fail()
	}
	if unmet := x.unmetFaults(); len(unmet) > 0 && !x.failed {
		x.res.Error = "the scenario injects a fault the bot never met: " + strings.Join(unmet, "; ") +
			". No call of the bot matched it, so nothing the steps checked shows how the bot handles it; make the bot call the API the rule names (or correct the rule's path, family, app or user), or remove the rule"
		x.fail()
	}
	return res
}

// fail marks the scenario failed, keeping what each user saw for the report.
func (x *run) fail() {
	x.res.Status, x.failed = Failed, true
	x.transcripts()
}

// abort fails the scenario before step i with a reason, skipping the rest.
func (x *run) abort(i int, reason string) {
	x.res.Status, x.res.Error = Failed, reason
	x.skip(i)
}

func (x *run) skip(from int) {
	for _, st := range x.s.Steps[from:] {
		x.res.Steps = append(x.res.Steps, &StepResult{Index: st.Index + 1, ID: st.ID, Name: st.Name, Line: st.Line, Action: x.describe(st), Status: Skipped})
	}
}

// transcripts keeps what each user saw up to now, for the report of a failure.
func (x *run) transcripts() {
	for _, u := range x.s.Users {
		openid := x.openids[u.Name]
		lines := x.p.Transcript(x.app.AppID, openid)
		if lines == nil {
			lines = []platform.Line{}
		}
		x.res.Transcripts = append(x.res.Transcripts, Transcript{User: u.Name, OpenID: openid, Lines: lines})
	}
}

// cleanup lets the next scenarios find the shared agents as they were: the users leave the
// queue and their sessions quietly (the scenario is over, no one reads its pushes), and agents
// the scenario changed get their status back. Sessions past their time have ended already, on
// the clock's timers, with their journal entries.
func (x *run) cleanup() {
	ctx := context.Background()
	x.clearFaults(ctx)
	appID := x.app.AppID
	users := sortedValues(x.openids)
	// The waiting users leave first, so that an agent a session frees takes no user of this
	// scenario, only those of others.
	for _, openid := range users {
		if _, waiting := x.p.KFWaiting(appID, openid); waiting {
			_ = x.p.KFLeave(ctx, appID, openid)
		}
	}
	for _, openid := range users {
		if _, in := x.p.KFSession(appID, openid); in {
			_ = x.p.KFLeave(ctx, appID, openid)
		}
	}
	accounts := make([]string, 0, len(x.agents))
	for a := range x.agents {
		accounts = append(accounts, a)
	}
	sort.Strings(accounts)
	for _, account := range accounts {
		ag := x.agents[account]
		online, auto, capacity := ag.Online, ag.AutoAccept, ag.Capacity
		_, _ = x.p.AgentSet(ctx, appID, account, platform.AgentStatus{Online: &online, AutoAccept: &auto, Capacity: &capacity})
	}
}

func sortedValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// lookup resolves one ${name.path} of a template.
func (x *run) lookup(name, path string) (string, error) {
	var doc []byte
	what := name
	switch {
	case name == "env":
		if path == "" {
			return "", errors.New("name the variable: ${env.NAME}")
		}
		get := x.r.Getenv
		if get == nil {
			get = os.Getenv
		}
		return get(path), nil
	case name == "app":
		a := x.app
		doc, _ = json.Marshal(map[string]string{"alias": a.Alias, "appid": a.AppID, "original_id": a.OriginalID,
			"kind": a.Kind, "mode": a.Mode, "format": a.Format, "wechat_id": a.WeChatID})
		if path == "" {
			return a.Alias, nil
		}
	case x.openids[name] != "":
		if path == "" {
			return x.openids[name], nil
		}
		doc, _ = json.Marshal(map[string]string{"name": name, "openid": x.openids[name]})
		what = "user " + name
	default:
		if v, ok := x.s.Vars[name]; ok {
			if path != "" {
				return "", fmt.Errorf("variable %s has no fields", name)
			}
			return v, nil
		}
		res, ok := x.results[name]
		if !ok {
			return "", fmt.Errorf("nothing is called %q here (a step's result exists once the step has run)", name)
		}
		if path == "" {
			return string(res), nil
		}
		doc, what = res, "the result of step "+name
	}
	g := gjson.GetBytes(doc, path)
	if !g.Exists() {
		return "", fmt.Errorf("%s has no %s", what, path)
	}
	return g.String(), nil
}

func (x *run) expand(s string) (string, error) { return expand(s, x.lookup) }

// user finds the openid of a user named in a step (a template).
func (x *run) user(name string) (string, string, error) {
	n, err := x.expand(name)
	if err != nil {
		return "", "", err
	}
	openid, ok := x.openids[n]
	if !ok {
		return n, "", fmt.Errorf("unknown user %q", n)
	}
	return n, openid, nil
}

// step runs one step and judges it.
func (x *run) step(ctx context.Context, st *Step) *StepResult {
	start := clock.Real{}.Now()
	sr := &StepResult{Index: st.Index + 1, ID: st.ID, Name: st.Name, Line: st.Line, Action: x.describe(st), Status: Passed}
	mark := x.h.Mark()
	x.marks = append(x.marks, mark)
	if st.HasAction() {
		x.lastAction = mark
	}
	// The step is what the bot answers for the users it acts on, and for the user whose sends
	// it expects.
	if st.HasAction() && st.Message == nil {
		for _, name := range x.actsOn(st) {
			x.open(name, &cause{sr: sr, st: st, begin: mark, began: start})
		}
	}
	result := map[string]any{}
	switch {
	case st.Message != nil:
		x.userStep(ctx, st, sr, result)
	case st.Agent != nil:
		x.agentStep(ctx, st, sr, result)
	case st.Advance > 0:
		if err := x.p.Advance(st.Advance); err != nil {
			sr.fail("advance", "the clock moves "+st.Advance.String(), "WeChat refused", err.Error())
		}
		result["advanced"] = st.Advance.String()
		result["now"] = x.p.Now()
		sr.Summary = "virtual time is now " + x.p.Now().Format(time.RFC3339)
	case st.Trigger != nil:
		x.triggerStep(st, sr, result)
	case st.Tokens != "":
		x.tokensStep(st, sr, result)
	case st.Faults != nil:
		x.faultsStep(ctx, st, sr, result)
	}
	if st.Sends != nil && st.Message == nil {
		name, c := x.sendsCause(st, sr, start)
		result["sends"] = nonNilSends(x.checkSends(ctx, st.Sends, sr, name, c))
	}
	if st.BotReceives != nil {
		result["received"] = x.checkReceives(ctx, st.BotReceives, sr)
	}
	if st.HasAction() {
		x.checkViolations(st, sr, mark)
	}
	if data, err := textenc.MarshalJSON(result); err == nil {
		sr.Result = data
		if st.ID != "" {
			x.results[st.ID] = data
		}
	}
	if len(sr.Failures) > 0 {
		sr.Status = Failed
		sr.Exchanges = x.exchanges(mark, 0)
	}
	sr.DurationMS = ms(clock.Since(start))
	return sr
}

// asMap turns a value into the map form of its JSON, numbers kept exact (a MsgId has 17
// digits), so a step's result can gain fields.
func asMap(v any) map[string]any {
	data, err := textenc.MarshalJSON(v)
	if err != nil {
		return map[string]any{}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil || m == nil {
		return map[string]any{}
	}
	return m
}

func (sr *StepResult) fail(check, expected, actual, detail string) {
	sr.Failures = append(sr.Failures, Failure{Check: check, Expected: expected, Actual: actual, Detail: detail})
}

// pushesSince lists the pushes of every user of the scenario after mark (and up to until,
// unless 0), in order, with the checks' own pushes (probes) left out unless all is set.
func (x *run) pushesSince(mark, until uint64, all bool) []harness.Push {
	var out []harness.Push
	for _, openid := range x.openids {
		act := x.h.After(x.app.AppID, openid, mark)
		act.Until = until
		for _, p := range act.Pushes() {
			if all || p.Probe == "" {
				out = append(out, p)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// exchanges are the raw pushes of a failed step: after mark, up to until unless 0.
func (x *run) exchanges(mark, until uint64) []Exchange {
	var out []Exchange
	for _, p := range x.pushesSince(mark, until, true) {
		label := p.Probe
		switch {
		case label != "":
		case p.Message.IsEvent() && strings.HasPrefix(p.Message.Event, "kf_"):
			label = "kf event"
		default:
			label = "push"
		}
		out = append(out, Exchange{Label: label, Result: p.PushResult})
	}
	return out
}
