package scenario

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/tidwall/gjson"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/harness"
	"github.com/wxemu/wxemu/emulator/rules"
)

// A bot may send after it answers, from a goroutine or a queue, and nothing on the wire says
// which push a customer-service send answers. So the runner keeps, per user, the causes: what
// happened for the user that the bot may answer with sends — a step's action, a signature
// probe, WeChat's retry — in order. Every send is the latest cause's before it: a send never
// counts for a step that began after its cause, unless it came after that step began.
//
// A cause whose sends were judged is decided. A send that comes after that, and before the
// user's next cause, is late: it is listed with the step of its cause (text, JSON and JUnit
// reports) and fails the scenario unless the step or the scenario tolerates sends.late.

// The scenario's own rules: findings of its checks rather than of a push's verdict. Like the
// catalog's, they can be tolerated and expected by id.
const (
	RuleLateSend     = "sends.late"
	RuleMsgSignature = "probe.msg_signature"
)

var checkRules = []rules.Rule{
	{ID: RuleLateSend, Severity: rules.Error, Ref: "-", Summary: "a customer-service send came after its step had been judged"},
	{ID: RuleMsgSignature, Severity: rules.Warning, Ref: "§1.3", Summary: "an encrypted push with a wrong msg_signature (and a right signature) was accepted"},
}

// lookupRule finds a rule of the catalog or of the scenario's checks.
func lookupRule(id string) (rules.Rule, bool) {
	if r, ok := rules.Lookup(id); ok {
		return r, true
	}
	for _, r := range checkRules {
		if r.ID == id {
			return r, true
		}
	}
	return rules.Rule{}, false
}

// cause is one thing that may make the bot send to a user.
type cause struct {
	sr    *StepResult
	st    *Step
	what  string    // "" for the step's own action; "signature probe (…)", "retry" for a check's push
	begin uint64    // the journal mark before it: its sends come after
	began time.Time // wall time, for when its sends came
	// decided is the journal mark up to which its sends were judged; 0 while none were.
	decided uint64
	// short: the sends expected had not all come when the wait ended; more may still come.
	short bool
	// closed: the user's next cause has begun and this one's late sends were looked for since.
	closed bool
	// seen notes when each of its sends was first seen (wall time after began), and which
	// late ones were reported.
	seen map[uint64]time.Duration
	late map[uint64]bool
}

// see notes the sends as seen now, those not seen before.
func (c *cause) see(sends []harness.SendRecord) {
	if c.seen == nil {
		c.seen = map[uint64]time.Duration{}
	}
	for _, s := range sends {
		if _, ok := c.seen[s.Seq]; !ok {
			c.seen[s.Seq] = clock.Since(c.began)
		}
	}
}

// lastSeen is when the last of the sends was first seen, after the cause began.
func (c *cause) lastSeen() time.Duration {
	var last time.Duration
	for _, d := range c.seen {
		last = max(last, d)
	}
	return last
}

// open adds a cause for the user called name.
func (x *run) open(name string, c *cause) {
	if c.began.IsZero() {
		c.began = clock.Real{}.Now()
	}
	x.causes[name] = append(x.causes[name], c)
}

// window is what a cause of the user called name caused: the act from its beginning up to the
// user's next cause.
func (x *run) window(name string, c *cause) *harness.Act {
	act := x.h.After(x.app.AppID, x.openids[name], c.begin)
	list := x.causes[name]
	for i, k := range list {
		if k == c && i+1 < len(list) {
			act.Until = list[i+1].begin
		}
	}
	return act
}

// actsOn lists the users an action step other than a user's message acts on: an agent's user,
// a trigger's, and the user whose sends it expects.
func (x *run) actsOn(st *Step) []string {
	var names []string
	add := func(n string) {
		if _, ok := x.openids[n]; ok && !contains(names, n) {
			names = append(names, n)
		}
	}
	if st.Agent != nil && st.Agent.User != "" {
		add(st.Agent.User)
	}
	if st.Trigger != nil {
		add(st.Trigger.User)
	}
	if st.Sends != nil {
		if n, err := x.expand(st.Sends.User); err == nil {
			add(n)
		}
	}
	return names
}

// sendsCause is the cause whose sends a step other than a user's message judges: its own for
// an action step; for a step that only checks, that of the latest action step if it acted on
// the user, or else a new one from that step on, which the check owns.
func (x *run) sendsCause(st *Step, sr *StepResult, began time.Time) (string, *cause) {
	name, err := x.expand(st.Sends.User)
	if err != nil || x.openids[name] == "" {
		return name, nil
	}
	list := x.causes[name]
	for i := len(list) - 1; i >= 0; i-- {
		c := list[i]
		if c.what != "" {
			continue
		}
		if c.begin >= x.lastAction {
			return name, c
		}
		break
	}
	c := &cause{sr: sr, st: st, begin: x.lastAction, began: began}
	x.open(name, c)
	return name, c
}

// readSends lists the act's sends. A send WeChat refused before reading it (its access token:
// 40001, 42001) has no decoded message: what it carried is read from its raw body, so the
// report can show it.
func readSends(act *harness.Act) []harness.SendRecord {
	sends := act.Sends()
	for i, s := range sends {
		if s.MsgType == "" && s.Body != "" && gjson.Valid(s.Body) {
			sends[i].MsgType = gjson.Get(s.Body, "msgtype").String()
			if sends[i].MsgType == "text" {
				sends[i].Content = gjson.Get(s.Body, "text.content").String()
			}
		}
	}
	return sends
}

// bounds are the wait and the quiet window of a sends expectation.
func (x *run) bounds(e *SendsExpect) (within, quiet time.Duration) {
	within, quiet = x.r.within(), x.r.quiet()
	if e.Within > 0 {
		within = e.Within
	}
	if e.Quiet > 0 {
		quiet = e.Quiet
	}
	return within, quiet
}

// checkSends judges the sends of cause c to the user called name against e, watching the way
// Gomega's Eventually and Consistently do: an exact expectation waits until its sends have
// come (at most within) and then watches the quiet window, in which one more fails it; an
// expectation of none watches the quiet window (or the step's within, if longer); at_least
// waits until it is met. It leaves c decided, except after at_least, which allows any more.
func (x *run) checkSends(ctx context.Context, e *SendsExpect, sr *StepResult, name string, c *cause) []harness.SendRecord {
	if c == nil {
		sr.fail("sends", "the sends of "+name, "the user could not be found", fmt.Sprintf("unknown user %q", name))
		return nil
	}
	openid := x.openids[name]
	act := x.window(name, c)
	within, quiet := x.bounds(e)
	var sends []harness.SendRecord
	var fails []Failure
	judge := func() bool {
		sends = readSends(act)
		c.see(sends)
		fails = x.judgeSends(e, sends)
		return len(fails) == 0
	}
	var met time.Duration // when an exact expectation was met, before its quiet window
	metAt := -1
	switch e.kind() {
	case sendsNone:
		x.h.Settle(ctx, x.app.AppID, openid, 0, max(quiet, e.Within), judge)
	case sendsAtLeast:
		x.h.Await(ctx, x.app.AppID, openid, within, judge)
	case sendsExact:
		n, _ := e.exact()
		// A send too many, or one unlike the one expected at its place, cannot be undone:
		// that is decided at once.
		decided := func() bool { return judge() || x.hopeless(e, n, sends) }
		switch {
		case !x.h.Await(ctx, x.app.AppID, openid, within, decided):
			c.short = true
		case len(fails) == 0:
			met, metAt = clock.Since(c.began), len(sends)
			x.h.Settle(ctx, x.app.AppID, openid, 0, quiet, judge)
		}
	}
	// The last look: what came up to the mark is judged; what comes after it is late, unless
	// any number more was allowed.
	mark := x.h.Mark()
	judge()
	if e.kind() != sendsAtLeast {
		c.decided = max(c.decided, mark)
		for _, s := range sends {
			c.decided = max(c.decided, s.Seq)
		}
	}
	if metAt >= 0 && len(fails) > 0 && len(sends) > metAt {
		extra := sends[metAt]
		note := fmt.Sprintf("the step had its %s %s after it began; send %d came %s after that, within the %s quiet window",
			plural(metAt, "send"), fmtWait(met), metAt+1, fmtWait(max(c.seen[extra.Seq]-met, 0)), fmtWait(quiet))
		for i := range fails {
			fails[i].Detail += "\n" + note
		}
	}
	sr.Failures = append(sr.Failures, fails...)
	return sends
}

// hopeless says that sends which came already fail an exact expectation of n, whatever comes
// next: one too many, or one unlike the one expected at its place.
func (x *run) hopeless(e *SendsExpect, n int, sends []harness.SendRecord) bool {
	if len(sends) > n {
		return true
	}
	for i, s := range sends {
		if i < len(e.MsgTypes) && s.MsgType != e.MsgTypes[i] || i < len(e.Errcodes) && s.Errcode != e.Errcodes[i] {
			return true
		}
		if i < len(e.Contents) {
			if ok, _, err := e.Contents[i].Match(s.Content, x.expand); err != nil || !ok {
				return true
			}
		}
	}
	return false
}

// fmtWait prints a wall-time wait in milliseconds: 503ms, 1.2s.
func fmtWait(d time.Duration) string {
	if d >= time.Second {
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

// settleSends waits until the cause's sends stop: nothing new for quiet, at most within in all.
// It is how a check that must not see the first delivery's sends (the retry) waits for a step
// that asserts nothing about them.
func (x *run) settleSends(ctx context.Context, name string, c *cause, within, quiet time.Duration) {
	act := x.window(name, c)
	openid := x.openids[name]
	start := clock.Real{}.Now()
	for {
		sends := readSends(act)
		c.see(sends)
		n := len(sends)
		same := func() bool {
			s := act.Sends()
			c.see(s)
			return len(s) == n
		}
		if x.h.Settle(ctx, x.app.AppID, openid, 0, quiet, same) || ctx.Err() != nil || clock.Since(start) >= within {
			return
		}
	}
}

// watchNone watches the window of cause c for at least d, and reports the API calls about the
// user that came: none, for a push the bot must not act on.
func (x *run) watchNone(ctx context.Context, name string, c *cause, d time.Duration, calls func(*harness.Act) int) *harness.Act {
	act := x.window(name, c)
	x.h.Settle(ctx, x.app.AppID, x.openids[name], 0, d, func() bool {
		c.see(readSends(act))
		return calls(act) == 0
	})
	mark := x.h.Mark()
	c.see(readSends(act))
	c.decided = mark
	for _, s := range readSends(act) {
		c.decided = max(c.decided, s.Seq)
	}
	return act
}

// drain waits, after a step failed, for what its bot still sends, so that the report shows
// those sends as the failed step's, late: until the users whose sends it judged are quiet, and
// when the sends it expected had not all come, until the run's bound has passed since the step
// began (a step may have a shorter one).
func (x *run) drain(ctx context.Context, st *Step, began time.Time) {
	var names []string
	short := false
	for _, u := range x.s.Users {
		for _, c := range x.causes[u.Name] {
			if c.st == st && c.decided != 0 && !contains(names, u.Name) {
				names = append(names, u.Name)
				short = short || c.short
			}
		}
	}
	if len(names) == 0 {
		return
	}
	within, quiet := x.r.within(), x.r.quiet()
	if st.Sends != nil {
		within, quiet = x.bounds(st.Sends)
		within = max(within, x.r.within())
	}
	if short {
		harness.Hold(ctx, within-clock.Since(began))
	}
	for _, name := range names {
		x.h.Quiet(ctx, x.app.AppID, x.openids[name], quiet, within)
	}
}

// checkLate finds the sends that came after their cause was decided and were not reported yet,
// lists them with the step of their cause, and, unless the scenario has failed already or the
// step or the scenario tolerates sends.late, fails that step. when says when they were found.
// It reports whether a step failed.
func (x *run) checkLate(when string) bool {
	failed := false
	for _, u := range x.s.Users {
		list := x.causes[u.Name]
		for i, c := range list {
			if c.decided == 0 || c.closed {
				continue
			}
			act := x.h.After(x.app.AppID, x.openids[u.Name], c.decided)
			if i+1 < len(list) {
				act.Until = list[i+1].begin
				// The user's next cause began: no send can come into this window any more.
				c.closed = true
			}
			var fresh []harness.SendRecord
			for _, s := range readSends(act) {
				if c.late == nil {
					c.late = map[uint64]bool{}
				}
				if !c.late[s.Seq] {
					c.late[s.Seq] = true
					fresh = append(fresh, s)
				}
			}
			if len(fresh) == 0 {
				continue
			}
			tolerated := x.tolerates(c.st, RuleLateSend)
			after := "its sends were judged"
			if c.what != "" {
				after = "the " + c.what + " was judged"
			}
			for _, s := range fresh {
				c.sr.Late = append(c.sr.Late, LateSend{SendRecord: s, User: u.Name, After: c.what, Tolerated: tolerated, Found: when})
			}
			if tolerated || x.failed {
				continue
			}
			c.sr.Status = Failed
			c.sr.fail("sends.late", "no send to "+u.Name+" after "+after,
				plural(len(fresh), "send")+" came later, found "+when, sendsDetail(fresh)+"\n"+
					"add tolerate: ["+RuleLateSend+"] to the step or the scenario if the bot may send this late, or give the step a longer within:")
			if c.sr.Exchanges == nil {
				until := uint64(0)
				if idx := c.st.Index; idx+1 < len(x.marks) {
					until = x.marks[idx+1]
				}
				c.sr.Exchanges = x.exchanges(x.marks[c.st.Index], until)
			}
			failed = true
		}
	}
	return failed
}

// tolerates says whether the step or the scenario tolerates a rule.
func (x *run) tolerates(st *Step, rule string) bool {
	return contains(x.s.Tolerate, rule) || st != nil && contains(st.Tolerate, rule)
}
