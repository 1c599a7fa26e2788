package platform

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/wire"
)

// Where a user's message went when a human agent serves the user.
const RoutedAgent = "agent"

// Record opercodes of /customservice/msgrecord/getmsglist (protocol §5.3).
const (
	opSessionWaiting  = 1000
	opSessionAccepted = 1001
	opSessionCreated  = 1002
	opSessionClosed   = 1004
	opAgentSent       = 2002
	opAgentReceived   = 2003
)

var (
	// ErrNotInSession: an agent acts on a user it does not serve.
	ErrNotInSession = errors.New("the agent does not serve this user")
)

// seedAgents makes the configured kf accounts known.
func (p *Platform) seedAgents() {
	for _, a := range p.apps {
		for _, ag := range a.Agents {
			p.KF.SeedAgent(a.AppID, state.Agent{
				Account: ag.Account, Nickname: ag.Nickname, WeChat: ag.WeChat,
				Online: ag.Online, AutoAccept: ag.AutoAccept, Capacity: ag.Capacity,
			})
		}
	}
}

// applyKF acts on kf state changes: it journals each with its cause, shows the hand-overs in the
// user's transcript, records them for getmsglist, and pushes the kf_* events WeChat sends the
// bot (protocol §2.3, §5.4). Expiry has no event: the messages just go back to the bot.
func (p *Platform) applyKF(ctx context.Context, app *App, events []state.KFEvent) {
	for _, ev := range events {
		at := ev.At
		if at.IsZero() {
			at = p.clock.Now()
		}
		var line, summary string
		var push *wire.Message
		switch ev.Kind {
		case "queued":
			summary = "queued for customer service"
			line = "等待客服接入 (waiting for an agent)"
			p.KF.Record(app.AppID, state.Record{OpenID: ev.OpenID, Opercode: opSessionWaiting, Text: "waiting", Time: at})
		case "assigned":
			summary = "assigned to " + ev.Account + ", waiting for it to accept"
			line = "等待客服 " + ev.Account + " 接入 (waiting for " + ev.Account + ")"
			p.KF.Record(app.AppID, state.Record{OpenID: ev.OpenID, Worker: ev.Account, Opercode: opSessionWaiting, Text: "assigned", Time: at})
		case "accepted":
			summary = ev.Account + " accepted the session"
			line = p.agentName(app, ev.Account) + " 为你服务 (" + ev.Account + " joined)"
			op := opSessionAccepted
			if ev.Cause == "kfsession/create" {
				op = opSessionCreated
			}
			p.KF.Record(app.AppID, state.Record{OpenID: ev.OpenID, Worker: ev.Account, Opercode: op, Text: "accepted", Time: at})
			push = &wire.Message{MsgType: "event", Event: "kf_create_session", KfAccount: ev.Account}
		case "closed":
			summary = ev.Account + " closed the session"
			line = p.agentName(app, ev.Account) + " 结束了会话 (" + ev.Account + " left)"
			p.KF.Record(app.AppID, state.Record{OpenID: ev.OpenID, Worker: ev.Account, Opercode: opSessionClosed, Text: "closed", Time: at})
			push = &wire.Message{MsgType: "event", Event: "kf_close_session", KfAccount: ev.Account}
		case "switched":
			summary = "switched from " + ev.FromAccount + " to " + ev.ToAccount
			line = p.agentName(app, ev.ToAccount) + " 为你服务 (switched from " + ev.FromAccount + " to " + ev.ToAccount + ")"
			push = &wire.Message{MsgType: "event", Event: "kf_switch_session", FromKfAccount: ev.FromAccount, ToKfAccount: ev.ToAccount}
		case "expired":
			summary = "session with " + ev.Account + " expired"
			line = "会话已结束 (the session with " + ev.Account + " ended after " + p.cfg.KF.SessionTimeout.String() + ")"
		default:
			summary = ev.Kind
		}
		if ev.Cause != "" {
			summary += " (" + ev.Cause + ")"
		}
		p.record(state.Entry{Time: at, Kind: state.EntryState, App: app.AppID, User: ev.OpenID, Summary: "kf: " + summary, Data: ev})
		if line != "" {
			p.Transcripts.Append(app.AppID, ev.OpenID, state.Line{Time: at, From: state.FromSystem, Kind: state.LineSystem, Text: line, KfAccount: ev.Account})
		}
		if push != nil && app.HasBot() {
			p.pushEvent(ctx, app, ev.OpenID, push)
		}
	}
}

// ApplyKF acts on kf state changes an API handler caused (see applyKF).
func (p *Platform) ApplyKF(ctx context.Context, app *App, events []state.KFEvent) {
	p.applyKF(ctx, app, events)
}

// agentName is how the chat names an agent: "客服 NICKNAME", or the nickname alone when it
// already says 客服.
func (p *Platform) agentName(app *App, account string) string {
	name := account
	if ag, ok := p.KF.Agent(app.AppID, account, p.clock.Now()); ok && ag.Nickname != "" {
		name = ag.Nickname
	}
	if strings.HasPrefix(name, "客服") {
		return name
	}
	return "客服 " + name
}

// pushEvent pushes an event WeChat itself raises for a user (the kf_* events) to the bot, and
// journals it. The bot's answer is judged like any other.
func (p *Platform) pushEvent(ctx context.Context, app *App, openid string, m *wire.Message) *push.Result {
	m.FromUserName = openid
	m.ToUserName = app.OriginalID
	m.CreateTime = p.clock.Now().Unix()
	res := p.engine.Push(ctx, app.target, m)
	p.record(state.Entry{
		Kind: state.EntryPush, App: app.AppID, User: openid,
		Summary:    pushSummary(&res.Message, res),
		DurationMS: totalMS(res.Attempts),
		Errors:     countErrors(res.Violations),
		Data:       res,
	})
	return res
}

// expireKF ends the sessions that are past their 30 minutes, journaling each.
func (p *Platform) expireKF(ctx context.Context) {
	events := p.KF.Expire(p.clock.Now())
	p.applyByApp(ctx, events)
}

func (p *Platform) applyByApp(ctx context.Context, events []state.KFEvent) {
	for _, ev := range events {
		if app, ok := p.byKey[ev.App]; ok {
			p.applyKF(ctx, app, []state.KFEvent{ev})
		}
	}
}

// AgentAccept is an agent taking a waiting user (the agent's "accept" in the kf tool).
func (p *Platform) AgentAccept(ctx context.Context, appKey, account, openid string) error {
	app, err := p.LookupApp(appKey)
	if err != nil {
		return err
	}
	events, err := p.KF.Accept(app.AppID, account, openid, p.clock.Now())
	p.applyKF(ctx, app, events)
	return err
}

// AgentClose is an agent ending a session.
func (p *Platform) AgentClose(ctx context.Context, appKey, account, openid string) error {
	app, err := p.LookupApp(appKey)
	if err != nil {
		return err
	}
	events, err := p.KF.Close(app.AppID, account, openid, p.clock.Now())
	p.applyKF(ctx, app, events)
	return err
}

// AgentSwitch hands a session from one agent to another.
func (p *Platform) AgentSwitch(ctx context.Context, appKey, from, to, openid string) error {
	app, err := p.LookupApp(appKey)
	if err != nil {
		return err
	}
	events, err := p.KF.Switch(app.AppID, from, to, openid, p.clock.Now())
	p.applyKF(ctx, app, events)
	return err
}

// AgentSet changes an agent's status; going online with auto-accept may take waiting users.
func (p *Platform) AgentSet(ctx context.Context, appKey, account string, online, autoAccept *bool, capacity *int) (state.Agent, error) {
	app, err := p.LookupApp(appKey)
	if err != nil {
		return state.Agent{}, err
	}
	ag, events, err := p.KF.SetAgent(app.AppID, account, online, autoAccept, capacity, p.clock.Now())
	if err == nil {
		p.record(state.Entry{Kind: state.EntryState, App: app.AppID, Summary: fmt.Sprintf("kf: %s is %s, auto-accept %v, capacity %d", account, onlineWord(ag.Online), ag.AutoAccept, ag.Capacity), Data: ag})
	}
	p.applyKF(ctx, app, events)
	return ag, err
}

// AgentRespondInvite is the invited personal WeChat accepting or rejecting the binding.
func (p *Platform) AgentRespondInvite(appKey, account string, accept bool) (state.Agent, error) {
	app, err := p.LookupApp(appKey)
	if err != nil {
		return state.Agent{}, err
	}
	ag, err := p.KF.RespondInvite(app.AppID, account, accept, p.clock.Now())
	if err == nil {
		p.record(state.Entry{Kind: state.EntryState, App: app.AppID, Summary: fmt.Sprintf("kf: the invitation of %s was %s", account, map[bool]string{true: "accepted", false: "rejected"}[accept]), Data: ag})
	}
	return ag, err
}

func onlineWord(b bool) string {
	if b {
		return "online"
	}
	return "offline"
}

// AgentReply is an agent's message to the user it serves: a customer-service message sent as
// that kf account, subject to the 48-hour window and its quota like any other (protocol §5.4).
func (p *Platform) AgentReply(ctx context.Context, appKey, account, openid, text string) (*rules.CustomSend, error) {
	app, err := p.LookupApp(appKey)
	if err != nil {
		return nil, err
	}
	now := p.clock.Now()
	s, in, expired := p.KF.Route(app.AppID, openid, now)
	p.applyKF(ctx, app, expired)
	if !in || s.Account != account {
		return nil, fmt.Errorf("%w: %s does not serve %s", ErrNotInSession, account, openid)
	}
	body, _ := jsonBody(map[string]any{"touser": openid, "msgtype": "text", "text": map[string]string{"content": text}, "customservice": map[string]string{"kf_account": account}})
	send, err := p.customSend(app, body, state.FromAgent)
	if err != nil {
		return nil, err
	}
	p.KF.Touch(app.AppID, openid, now)
	p.KF.Record(app.AppID, state.Record{OpenID: openid, Worker: account, Opercode: opAgentSent, Text: text, Time: now})
	return send, nil
}

// KFCreate is /customservice/kfsession/create. The user must have talked to the account within
// 48 hours (protocol §5.2).
func (p *Platform) KFCreate(ctx context.Context, app *App, account, openid string) error {
	now := p.clock.Now()
	u, ok := p.Users.Get(app.AppID, openid)
	if !ok {
		return apiError(wire.CodeInvalidOpenID, "openid %q is not a user of app %s", openid, app.AppID)
	}
	// Deviation: the docs require an interaction within 48 h but name no errcode for it
	// (protocol §5.2); wxemu answers 45015, the code of a closed window.
	if u.LastInteraction.IsZero() || now.Sub(u.LastInteraction) >= 48*time.Hour {
		return apiError(wire.CodeOutOfTimeLimit, "user %s has not talked to the account in the last 48 hours", openid)
	}
	events, err := p.KF.Create(app.AppID, account, openid, now)
	p.applyKF(ctx, app, events)
	return err
}

// KFClose is /customservice/kfsession/close.
func (p *Platform) KFClose(ctx context.Context, app *App, account, openid string) error {
	events, err := p.KF.Close(app.AppID, account, openid, p.clock.Now())
	p.applyKF(ctx, app, events)
	return err
}
