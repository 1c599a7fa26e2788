package emutest

import (
	"errors"
	"sort"
	"strings"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/wire"
)

// Agent is a human customer-service agent (a kf account) acting in the kf tool.
type Agent struct {
	Account string
	App     string // the app's alias
	AppID   string
	e       *Emu
}

// Agent returns the kf account of whichever app has it ("kf1@wxemu_demo"), configured or added
// through the kf account API.
func (e *Emu) Agent(account string) *Agent {
	ginkgo.GinkgoHelper()
	var known []string
	for _, a := range e.p.Apps() {
		if _, ok := e.p.Agent(a.AppID, account); ok {
			return &Agent{Account: account, App: alias(a), AppID: a.AppID, e: e}
		}
		for _, ag := range e.p.Agents(a.AppID) {
			known = append(known, ag.Account)
		}
	}
	sort.Strings(known)
	e.g.Expect(known).To(gomega.ContainElement(account), "emutest: no app has the kf account %q%s; the accounts are %s",
		account, platform.DidYouMean(account, known), strings.Join(known, ", "))
	return nil
}

// WithGomega returns the same agent whose helpers assert with g (inside Eventually).
func (a *Agent) WithGomega(g gomega.Gomega) *Agent {
	c := *a
	c.e = a.e.WithGomega(g)
	return &c
}

// Handover is what came of an agent taking, handing on or closing a session.
type Handover struct {
	Agent *Agent
	User  *User
	// BotReceived lists the pushes WeChat made to the bot because of it: kf_create_session,
	// kf_switch_session, kf_close_session.
	BotReceived []wire.Message
	// Transcript is what the user had seen afterwards; the hand-over shows there as a system line.
	Transcript []platform.Line
}

// Accept takes a user who waits (in the queue, or assigned to this agent): the bot gets
// kf_create_session, and from then on the user's messages come to this agent. A user who is not
// waiting fails the spec.
func (a *Agent) Accept(u *User) *Handover {
	ginkgo.GinkgoHelper()
	return a.act(u, "accept", func() error { return a.e.p.AgentAccept(background(), a.AppID, a.Account, u.OpenID) })
}

// Close ends the agent's session with the user: the bot gets kf_close_session, and the user's
// messages go back to it.
func (a *Agent) Close(u *User) *Handover {
	ginkgo.GinkgoHelper()
	return a.act(u, "close the session with", func() error { return a.e.p.AgentClose(background(), a.AppID, a.Account, u.OpenID) })
}

// SwitchTo hands the agent's session with the user to another agent: the bot gets
// kf_switch_session.
func (a *Agent) SwitchTo(u *User, to *Agent) *Handover {
	ginkgo.GinkgoHelper()
	return a.act(u, "switch to "+to.Account, func() error {
		return a.e.p.AgentSwitch(background(), a.AppID, a.Account, to.Account, u.OpenID)
	})
}

func (a *Agent) act(u *User, what string, do func() error) *Handover {
	ginkgo.GinkgoHelper()
	a.sameApp(u)
	before := a.e.kfState(u)
	act, err := a.e.h.hx.Do(u.AppID, u.OpenID, do)
	a.e.h.closeExchange(u, act.Since)
	a.e.g.Expect(err).NotTo(gomega.HaveOccurred(), "emutest: %s could not %s %s, who is %s", a.Account, what, u, before)
	a.e.checkStrict()
	return &Handover{Agent: a, User: u, BotReceived: act.Received(), Transcript: u.Transcript()}
}

func (a *Agent) sameApp(u *User) {
	ginkgo.GinkgoHelper()
	a.e.g.Expect(u.AppID).To(gomega.Equal(a.AppID), "emutest: %s is an agent of %s, and %s is not a user of it", a.Account, a.App, u)
}

// AgentReply is what came of an agent's message to the user: a customer-service message sent as
// the kf account, subject to the 48-hour window and its quota like any other.
type AgentReply struct {
	Agent *Agent
	User  *User
	Text  string
	// Delivered says the user got it; otherwise Errcode and Errmsg are WeChat's refusal
	// (45015 outside the window, 45047 past its quota) and Detail says why.
	Delivered bool
	Errcode   int
	Errmsg    string
	Detail    string
	// Transcript is what the user had seen afterwards.
	Transcript []platform.Line
}

// Reply sends text to the user the agent serves. WeChat refusing it (45015, 45047) is a result,
// not a failure; an agent that does not serve the user fails the spec, since the kf tool offers
// no way to write to them.
func (a *Agent) Reply(u *User, text string) *AgentReply {
	ginkgo.GinkgoHelper()
	a.sameApp(u)
	before := a.e.kfState(u)
	r := &AgentReply{Agent: a, User: u, Text: text, Delivered: true, Errmsg: "ok"}
	// The agent's message is a send to the user, not the bot's: what followed the user's last
	// exchange ends here.
	a.e.h.closeExchange(u, a.e.p.LastSeq())
	_, err := a.e.p.AgentReply(background(), a.AppID, a.Account, u.OpenID, text)
	if err != nil {
		code := platform.Code(err)
		a.e.g.Expect(errors.Is(err, platform.ErrNotInSession) || code == wire.CodeSystemError).To(gomega.BeFalse(),
			"emutest: %s cannot reply to %s, who is %s: %v", a.Account, u, before, err)
		msg, _ := wire.Errmsg(code)
		r.Delivered, r.Errcode, r.Errmsg, r.Detail = false, code, msg, err.Error()
	}
	r.Transcript = u.Transcript()
	return r
}

// Online logs the agent in; with auto-accept it takes waiting users at once.
func (a *Agent) Online() { a.set(boolp(true), nil) }

// Offline logs the agent out; its sessions go on.
func (a *Agent) Offline() { a.set(boolp(false), nil) }

// AutoAccept turns automatic acceptance of waiting users on or off.
func (a *Agent) AutoAccept(on bool) { a.set(nil, boolp(on)) }

func (a *Agent) set(online, auto *bool) {
	ginkgo.GinkgoHelper()
	_, err := a.e.p.AgentSet(background(), a.AppID, a.Account, platform.AgentStatus{Online: online, AutoAccept: auto})
	a.e.g.Expect(err).NotTo(gomega.HaveOccurred(), "emutest: set the status of %s", a.Account)
}

func boolp(b bool) *bool { return &b }

// State is the agent as WeChat keeps it: online, auto-accept, capacity, sessions accepted.
func (a *Agent) State() platform.Agent {
	ag, _ := a.e.p.Agent(a.AppID, a.Account)
	return ag
}

// Inbox lists what the agent received and sent, as getmsglist records it.
func (a *Agent) Inbox() []platform.KFRecord { return a.e.p.KFRecordsOf(a.AppID, a.Account) }

// Sessions lists the users the agent serves now.
func (a *Agent) Sessions() []platform.Session { return a.e.p.KFSessions(a.AppID, a.Account) }
