package scenario

import (
	"time"
)

// Scenario is one dialogue between fresh users and a bot, as a file describes it.
type Scenario struct {
	Name string
	File string // as given to Load or Parse
	Line int    // where the scenario starts in File
	// Doc is the position of the scenario among the documents of its file, from 1.
	Doc int

	App      string // alias or appid, as written (or the only app of the configuration)
	Users    []User
	Vars     map[string]string
	Tolerate []string
	Checks   Checks
	Steps    []*Step
	// TokenTime, when set, is the clock access tokens live on while the scenario runs: "wall"
	// or "virtual". The scenario runs alone and puts the platform's setting back when it ends.
	TokenTime string
	// Faults are fault rules active while the scenario runs (top-level faults:); the scenario
	// runs alone.
	Faults []FaultSpec

	// Serial says the scenario must run alone: it moves the one clock, changes an agent that
	// other scenarios share, or asks to. SerialWhy says which, for the run's output.
	Serial    bool
	SerialWhy string
}

// User is a person of the scenario. Each run of a scenario gives each user a fresh openid, so
// scenarios never see each other's state, unless OpenID pins one.
type User struct {
	Name       string
	Subscribed bool
	OpenID     string // fixed openid; empty: a fresh one per run
}

// Checks are the built-in checks run around every user message.
type Checks struct {
	// Signature pushes each user message first with spoiled signatures: the bot must refuse it.
	Signature bool
	// Replay delivers each user message a second time, as WeChat's retry does: no duplicate
	// customer-service sends may follow.
	Replay bool
}

func (c Checks) names() []string {
	var out []string
	if c.Signature {
		out = append(out, "signature")
	}
	if c.Replay {
		out = append(out, "replay")
	}
	return out
}

// Step is one thing that happens in a scenario, and what must follow from it. It has at most
// one action (a user's message, an agent's action, a move of the clock, a trigger); a step
// without an action only checks.
type Step struct {
	Index int // from 0
	Line  int
	ID    string // for back-references ${id.path}
	Name  string // a label for the output

	// The action: one of these.
	User    string   // the user who sends Message
	Message *Message // what the user sends
	Agent   *AgentAction
	Advance time.Duration
	Trigger *TriggerAction
	// Tokens is "expire" or "revoke": every access token of the app stops working, as if its
	// 7200 s had passed (42001) or a new one had been fetched elsewhere (40001).
	Tokens string
	// Faults adds fault rules, or clears the scenario's.
	Faults *FaultsAction

	// What must follow.
	Reply       *ReplyExpect
	DeliveredTo string // bot, agent or a kf account (a template)
	UserSees    *TextMatch
	Sends       *SendsExpect
	BotReceives *ReceivesExpect
	Violations  []ViolationExpect // what must be violated (and is thereby tolerated)
	Tolerate    []string
	Checks      *Checks    // overrides the scenario's checks for this step
	Error       *TextMatch // the action must fail with an error matching this

	// refs are the names the step's templates refer to, checked when the file is loaded.
	refs []ref
}

// HasAction reports whether the step does something, rather than only checking.
func (s *Step) HasAction() bool {
	return s.Message != nil || s.Agent != nil || s.Advance > 0 || s.Trigger != nil || s.Tokens != "" || s.Faults != nil
}

// ViolationExpect is a violation a step must cause: a rule, and when Severity is set, the
// severity it must have (error or warning).
type ViolationExpect struct {
	Rule     string
	Severity string
}

// AgentAction is a human agent (kf account) acting in the kf tool.
type AgentAction struct {
	Account string // template
	// Do is accept, close, switch, reply or status.
	Do   string
	User string // the user acted on (accept, close, switch, reply)
	To   string // switch: the account that takes over (template)
	Text string // reply: what the agent says (template)

	Online     *bool
	AutoAccept *bool
	Capacity   *int
}

// TriggerAction opens a window for a user without a push, as a payment does.
type TriggerAction struct {
	User string
	Kind string
}

// ReplyExpect is what the passive reply of the bot must be.
type ReplyExpect struct {
	// Outcome is none, reply, transfer or failed; empty when only the fields below matter.
	Outcome string
	// KfAccount, when not nil, is the account the transfer must name ("" for none).
	KfAccount *string
	MsgType   string
	Text      *TextMatch
	Articles  *int
	MediaID   *TextMatch
}

// SendsExpect is what the bot must have sent a user through /cgi-bin/message/custom/send.
type SendsExpect struct {
	User     string
	Count    *int
	AtLeast  *int
	MsgTypes []string
	Contents []*TextMatch
	Errcodes []int
	// Within bounds the wait (wall time) for the sends expected, from a bot that sends after it
	// answers; 0: the run's (Runner.Within). With Count 0 it is watched whole.
	Within time.Duration
	// Quiet is the window (wall time) watched once the sends expected have come, in which one
	// more fails the step; 0: the run's (Runner.Quiet). An expectation of none watches it whole;
	// at_least alone watches none.
	Quiet time.Duration
}

// sendsKind is how a sends expectation is decided.
type sendsKind int

const (
	sendsExact   sendsKind = iota // a count or lists: wait until they have come, then watch for quiet
	sendsNone                     // none at all: watch the quiet window
	sendsAtLeast                  // only a lower bound: wait until it is met, nothing more
)

// exact is how many sends the expectation describes, when it describes every one.
func (e *SendsExpect) exact() (int, bool) {
	switch {
	case e.Count != nil:
		return *e.Count, true
	case e.MsgTypes != nil:
		return len(e.MsgTypes), true
	case e.Contents != nil:
		return len(e.Contents), true
	case e.Errcodes != nil:
		return len(e.Errcodes), true
	}
	return 0, false
}

func (e *SendsExpect) kind() sendsKind {
	n, ok := e.exact()
	switch {
	case !ok:
		return sendsAtLeast
	case n == 0:
		return sendsNone
	}
	return sendsExact
}

// ReceivesExpect is a push the bot must have received since the previous check of the same
// user: a kf event WeChat raised, or anything else pushed.
type ReceivesExpect struct {
	User          string
	Event         string
	MsgType       string
	KfAccount     string // template
	FromKfAccount string // template
	ToKfAccount   string // template
	// Count, when not nil, is exactly how many matching pushes there must be; 0 means none.
	Count  *int
	Within time.Duration
}
