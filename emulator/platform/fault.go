package platform

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/fault"
	"github.com/wxemu/wxemu/emulator/journal"
	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/wire"
)

// Fault rules (package fault): the platform holds them, decides when one fires, and acts on
// WeChat's side — an API call's answer, the app's tokens, a push delivered twice or late. The API
// server applies what only HTTP can do (a latency on the connection, a 5xx, a dropped connection).
type (
	FaultRule    = fault.Rule
	FaultStatus  = fault.Status
	FaultProblem = fault.Problem
	// Injected marks a journal entry a fault rule made.
	Injected = journal.Injected
)

// FaultFamilies and FaultPaths are what a rule may match.
var (
	FaultFamilies = fault.Families
	FaultPaths    = fault.Paths
)

// FaultError is what AddFaults refuses: every problem of every rule, each under the path of its
// field ("[1].probability", or "probability" for a single rule).
type FaultError struct {
	Problems []string
}

func (e *FaultError) Error() string {
	return "bad fault rule: " + strings.Join(e.Problems, "; ")
}

// Is makes a FaultError an ErrBadRequest, which the control plane answers 400.
func (e *FaultError) Is(target error) bool { return target == ErrBadRequest }

// CheckFault lists what is wrong with a rule, the app included, and names the app by its appid
// when it is right.
func (p *Platform) CheckFault(r *FaultRule) []FaultProblem {
	ps := r.Check(DidYouMean)
	if r.App != "" {
		if a, ok := p.byKey[r.App]; ok {
			r.App = a.AppID
		} else {
			ps = append(ps, FaultProblem{Field: "app", Msg: fmt.Sprintf("unknown app %q%s", r.App, DidYouMean(r.App, p.AppKeys())),
				Fix: "the apps are " + strings.Join(p.AppKeys(), ", ")})
			return ps
		}
	}
	if pr, ok := p.checkFaultUser(r); !ok {
		ps = append(ps, pr)
	}
	return ps
}

// checkFaultUser refuses a rule's user that is a user's name rather than an openid: the rule
// would match no call and never fire, and a bot would seem to survive a fault it never met.
// An openid a user of the app has is kept, and so is an openid no one has yet.
func (p *Platform) checkFaultUser(r *FaultRule) (FaultProblem, bool) {
	if r.User == "" {
		return FaultProblem{}, true
	}
	var named []string
	for _, u := range p.Users(r.App) {
		if u.OpenID == r.User {
			return FaultProblem{}, true
		}
		if u.Name == r.User {
			alias := u.App
			if a, ok := p.byKey[u.App]; ok && a.Alias != "" {
				alias = a.Alias
			}
			named = append(named, fmt.Sprintf("%s (%s of %s)", u.OpenID, u.Name, alias))
		}
	}
	if len(named) == 0 {
		return FaultProblem{}, true
	}
	return FaultProblem{Field: "user", Msg: fmt.Sprintf("%q is a user's name, and a rule matches an openid: it would never fire", r.User),
		Fix: "write the openid: " + strings.Join(named, " or ")}, false
}

// AddFaults checks rules and adds them, all or none. at names rule i in messages ("" for one
// rule posted alone, "[i]" in a list); nil names them "rules[i]". It journals a control action
// per rule and answers the rules as held (ids assigned, apps as appids).
func (p *Platform) AddFaults(rules []FaultRule, at func(i int) string) ([]FaultRule, error) {
	if at == nil {
		at = func(i int) string { return fmt.Sprintf("rules[%d]", i) }
	}
	rules = append([]FaultRule(nil), rules...)
	var bad []string
	for i := range rules {
		for _, pr := range p.CheckFault(&rules[i]) {
			path := at(i)
			switch {
			case path == "":
				path = pr.Field
			case pr.Field != "":
				path += "." + pr.Field
			}
			bad = append(bad, FaultProblem{Field: path, Msg: pr.Msg, Fix: pr.Fix}.String())
		}
	}
	if len(bad) > 0 {
		return nil, &FaultError{Problems: bad}
	}
	added, err := p.faults.Add(rules...)
	if err != nil {
		return nil, BadRequest("%v", err)
	}
	for _, r := range added {
		action := fmt.Sprintf("fault rule %s added: %s on %s", r.ID, r.Action(), describeMatch(&r))
		p.record(journal.Entry{App: r.App, User: r.User, Summary: action, Control: &journal.Control{Action: action}})
	}
	return added, nil
}

// describeMatch says what a rule matches, for the journal.
func describeMatch(r *FaultRule) string {
	var parts []string
	switch {
	case r.IsPush():
		what := "pushes"
		if r.MsgType != "" {
			what = r.MsgType + " pushes"
		}
		parts = append(parts, what)
	case r.Path != "":
		parts = append(parts, r.Path)
	default:
		parts = append(parts, "the "+r.Family+" APIs")
	}
	if r.App != "" {
		parts = append(parts, "of app "+r.App)
	}
	if r.User != "" {
		parts = append(parts, "about user "+r.User)
	}
	s := strings.Join(parts, " ")
	if r.After > 0 {
		s += fmt.Sprintf(", after %d matching call(s)", r.After)
	}
	if r.Count != nil {
		s += fmt.Sprintf(", %d time(s)", *r.Count)
	}
	if r.Probability != nil {
		s += fmt.Sprintf(", with probability %v", *r.Probability)
	}
	return s
}

// HasFaults reports whether any fault rule is held: the API server skips its fault step when none is.
func (p *Platform) HasFaults() bool { return !p.faults.Empty() }

// Faults lists the fault rules with their counters, in the order they are tried.
func (p *Platform) Faults() []FaultStatus { return p.faults.List() }

// RemoveFault deletes one rule by id.
func (p *Platform) RemoveFault(id string) error {
	if !p.faults.Remove(id) {
		return NotFound("no fault rule %q%s; the rules are %s", id, DidYouMean(id, p.faults.IDs()), listOrNone(p.faults.IDs()))
	}
	p.control("fault rule " + id + " deleted")
	return nil
}

func listOrNone(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}

// ClearFaults deletes every rule, delivers the pushes a reorder rule still holds (WeChat
// delivers every message in the end) and answers how many rules there were.
func (p *Platform) ClearFaults(ctx context.Context) int {
	n := p.faults.Clear()
	p.control(fmt.Sprintf("fault rules cleared: %d", n))
	p.releaseAllHeld(ctx)
	return n
}

// SetFaultSeed sets the seed of the rules added later that give none (config faults.seed,
// wxemu serve --fault-seed).
func (p *Platform) SetFaultSeed(seed uint64) { p.faults.SetSeed(seed) }

// configFaults adds the rules of the configuration.
func (p *Platform) configFaults() error {
	rules := make([]FaultRule, len(p.cfg.Faults.Rules))
	for i, r := range p.cfg.Faults.Rules {
		rules[i] = r.Rule()
	}
	if len(rules) == 0 {
		return nil
	}
	_, err := p.AddFaults(rules, func(i int) string { return fmt.Sprintf("faults.rules[%d]", i) })
	return err
}

// resetFaults forgets every rule and held push, and adds the configuration's rules again with
// fresh counters (Reset).
func (p *Platform) resetFaults() {
	p.faults.Clear()
	p.heldMu.Lock()
	p.held = map[heldKey]*heldPush{}
	p.heldMu.Unlock()
	_ = p.configFaults() // checked when the platform was built
}

// Fault is what a rule makes the API server do with one call.
type Fault struct {
	Rule    string
	Action  string
	Latency time.Duration
	// Err is the answer, a *wire.Error (errcode, HTTP 200) or nil (latency alone). A 40001 or
	// 42001 has already revoked or expired the app's tokens: the server answers the call by
	// checking its token again, as every later call is.
	Err     error
	Errcode int
	Status  int  // an HTTP 5xx with an empty body
	Drop    bool // close the connection without an answer
	Left    bool // the caller left during the latency: no one to answer
}

// Refetch reports whether the call is to be answered by its token check (40001, 42001).
func (f *Fault) Refetch() bool {
	return f.Errcode == wire.CodeInvalidCredential || f.Errcode == wire.CodeAccessTokenExpired
}

// InjectFault is the API server's fault step for call c, before its handler: the first rule that
// fires on the call's path, app (nil when no token named one) and user. Each call is decided
// once: the operation the handler calls does not decide again.
func (p *Platform) InjectFault(c *Call, app *App, user string) *Fault {
	c.faultChecked = true
	if p.faults.Empty() {
		return nil
	}
	appID := ""
	if app != nil {
		appID = app.AppID
	}
	r := p.faults.Fire(fault.Call{Path: c.path, AppID: appID, User: user, HTTP: true})
	if r == nil {
		return nil
	}
	if app != nil {
		c.SetApp(app)
	}
	c.SetUser(user)
	c.injected = &Injected{Rule: r.ID, Action: r.Action()}
	return p.act(r, app)
}

// act does what WeChat's side of a rule does (the tokens) and says what the caller must do.
func (p *Platform) act(r *FaultRule, app *App) *Fault {
	f := &Fault{Rule: r.ID, Action: r.Action(), Latency: r.Latency.D(), Status: r.Status, Drop: r.Drop}
	if r.Errcode == nil {
		return f
	}
	f.Errcode = *r.Errcode
	f.Err = wire.Errorf(f.Errcode, "injected by fault rule %s", r.ID)
	if app != nil && f.Refetch() {
		// Deviation: WeChat has no such fault; a reset of the AppSecret (40001) or the end of
		// the tokens' 7200 s (42001) is what a bot meets, so the rule does that to the app.
		if f.Errcode == wire.CodeInvalidCredential {
			_, _ = p.RevokeTokens(app.AppID)
		} else {
			_, _ = p.ExpireTokens(app.AppID)
		}
	}
	return f
}

// FaultAnswer is the answer of a call a 5xx or drop rule cut: no errcode, nothing WeChat's state
// refused. The API server hands it to EndCall as the call's error.
type FaultAnswer struct{ Fault *Fault }

func (e *FaultAnswer) Error() string {
	return "fault rule " + e.Fault.Rule + ": " + e.Fault.Action
}

// injectedKey carries the injection of a call without a Call (a Go caller) to apiDone.
type injectedKey struct{}

// opFault is the fault step of an operation that no API server decided for: a cloud function's
// cloud.openapi (through the gateway's Call) or a Go caller. Agents in WeChat's kf tool are not
// API callers and meet no faults. Errcode and latency act here; a 5xx or a drop needs HTTP and
// does not match. It answers the context the operation goes on with and the error to answer.
func (p *Platform) opFault(ctx context.Context, path string, app *App, body []byte) (context.Context, error) {
	c, isCall := ctx.Value(callKey{}).(*Call)
	if isCall && c.faultChecked || viaOf(ctx) == ViaAgent || p.faults.Empty() {
		return ctx, nil
	}
	user := bodyUser(body)
	r := p.faults.Fire(fault.Call{Path: path, AppID: app.AppID, User: user})
	if r == nil {
		return ctx, nil
	}
	inj := &Injected{Rule: r.ID, Action: r.Action()}
	if isCall {
		c.faultChecked = true
		c.injected = inj
	} else {
		ctx = context.WithValue(ctx, injectedKey{}, inj)
	}
	f := p.act(r, app)
	if f.Latency > 0 {
		wait, cancel := clock.WithTimeout(ctx, f.Latency)
		<-wait.Done()
		cancel()
		if err := ctx.Err(); err != nil {
			return ctx, fmt.Errorf("fault rule %s: the caller left during the latency: %w", r.ID, err)
		}
	}
	return ctx, f.Err
}

// bodyUser is the user a JSON body names (touser, or openid), found without judging the rest.
func bodyUser(body []byte) string {
	for _, key := range [...]string{"touser", "openid"} {
		if v := gjson.GetBytes(body, key); v.Type == gjson.String && v.Str != "" {
			return v.Str
		}
	}
	return ""
}

// markInjected adds a fault rule's marker to an API entry about to be journaled.
func markInjected(e *journal.Entry, inj *Injected, err error) {
	if inj == nil || e.API == nil {
		return
	}
	e.API.Injected = inj
	var fa *FaultAnswer
	if errors.As(err, &fa) {
		e.API.Injected = &Injected{Rule: inj.Rule, Action: fa.Fault.Action}
		e.Errors = 1
		e.API.Detail = fa.Error()
		i := strings.Index(e.Summary, " → ")
		if i >= 0 {
			e.Summary = e.Summary[:i]
		}
		switch {
		case fa.Fault.Left:
			e.Errors = 0 // nothing the bot did
			e.Summary += " → the caller left during the latency"
		case fa.Fault.Drop:
			e.Summary += " → connection dropped"
		default:
			e.Summary += fmt.Sprintf(" → HTTP %d", fa.Fault.Status)
		}
	}
	e.Summary += " [fault " + inj.Rule + "]"
}

// noteFault adds a fault line to the transcript of the user an injected entry is about.
func (p *Platform) noteFault(e journal.Entry, inj *Injected) {
	if inj == nil || e.User == "" || e.App == "" {
		return
	}
	p.transcripts.Append(e.App, e.User, state.Line{Time: e.Time, From: state.FromSystem, Kind: state.LineFault,
		Text: fmt.Sprintf("fault %s: the bot's call of %s was answered: %s", inj.Rule, e.API.Path, inj.Action), Journal: e.Seq})
}
