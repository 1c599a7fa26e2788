package platform

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/wxemu/wxemu/emulator/journal"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/wire"
)

// Record opercodes of /customservice/msgrecord/getmsglist (protocol §5.3).
const (
	opSessionWaiting  = 1000
	opSessionAccepted = 1001
	opSessionCreated  = 1002
	opSessionClosed   = 1004
	opAgentSent       = 2002
	opAgentReceived   = 2003
)

// kfPush is a kf_* event WeChat pushes to the bot, queued while the platform holds its locks
// and delivered after, since the bot may call the API back.
type kfPush struct {
	app    *App
	openid string
	msg    *wire.Message
}

// noteKF records kf state changes: it journals each with its cause, shows the hand-overs in the
// user's transcript and records them for getmsglist. It returns the kf_* events WeChat pushes
// the bot (protocol §2.3, §5.4), for pushKF once the locks are released. Expiry has no event:
// the messages just go back to the bot. The caller holds the shared lock.
func (p *Platform) noteKF(events []state.KFEvent) []kfPush {
	var pushes []kfPush
	for _, ev := range events {
		app, ok := p.byKey[ev.App]
		if !ok {
			continue
		}
		at := ev.At
		if at.IsZero() {
			at = p.clock.Now()
		}
		var line, summary string
		var msg *wire.Message
		switch ev.Kind {
		case state.KFQueued:
			summary = "queued for customer service"
			line = "等待客服接入 (waiting for an agent)"
			p.kf.Record(app.AppID, state.Record{OpenID: ev.OpenID, Opercode: opSessionWaiting, Text: "waiting", Time: at})
		case state.KFAssigned:
			summary = "assigned to " + ev.Account + ", waiting for it to accept"
			line = "等待客服 " + ev.Account + " 接入 (waiting for " + ev.Account + ")"
			p.kf.Record(app.AppID, state.Record{OpenID: ev.OpenID, Worker: ev.Account, Opercode: opSessionWaiting, Text: "assigned", Time: at})
		case state.KFAccepted:
			summary = ev.Account + " accepted the session"
			line = p.agentName(app, ev.Account) + " 为你服务 (" + ev.Account + " joined)"
			op := opSessionAccepted
			if ev.Cause == "kfsession/create" {
				op = opSessionCreated
			}
			p.kf.Record(app.AppID, state.Record{OpenID: ev.OpenID, Worker: ev.Account, Opercode: op, Text: "accepted", Time: at})
			msg = &wire.Message{MsgType: "event", Event: "kf_create_session", KfAccount: ev.Account}
		case state.KFClosed:
			summary = ev.Account + " closed the session"
			line = p.agentName(app, ev.Account) + " 结束了会话 (" + ev.Account + " left)"
			p.kf.Record(app.AppID, state.Record{OpenID: ev.OpenID, Worker: ev.Account, Opercode: opSessionClosed, Text: "closed", Time: at})
			msg = &wire.Message{MsgType: "event", Event: "kf_close_session", KfAccount: ev.Account}
		case state.KFSwitched:
			summary = "switched from " + ev.FromAccount + " to " + ev.ToAccount
			line = p.agentName(app, ev.ToAccount) + " 为你服务 (switched from " + ev.FromAccount + " to " + ev.ToAccount + ")"
			msg = &wire.Message{MsgType: "event", Event: "kf_switch_session", FromKfAccount: ev.FromAccount, ToKfAccount: ev.ToAccount}
		case state.KFExpired:
			summary = "session with " + ev.Account + " expired"
			line = "会话已结束 (the session with " + ev.Account + " ended after " + p.cfg.KF.SessionTimeout.String() + ")"
		default:
			summary = ev.Kind
		}
		if ev.Cause != "" {
			summary += " (" + ev.Cause + ")"
		}
		p.record(journal.Entry{Time: at, App: app.AppID, User: ev.OpenID, Summary: "kf: " + summary, KF: &journal.KFChange{KFEvent: ev}})
		if line != "" {
			p.transcripts.Append(app.AppID, ev.OpenID, state.Line{Time: at, From: state.FromSystem, Kind: state.LineSystem, Text: line, KfAccount: ev.Account})
		}
		if msg != nil {
			pushes = append(pushes, kfPush{app: app, openid: ev.OpenID, msg: msg})
		}
	}
	return pushes
}

// pushKF pushes the kf_* events noteKF queued, in order, and reschedules the due timer, since
// the events began or ended sessions.
func (p *Platform) pushKF(ctx context.Context, pushes []kfPush) {
	for _, x := range pushes {
		p.pushEvent(ctx, x.app, x.openid, x.msg)
	}
	p.reschedule()
}

// agentName is how the chat names an agent: "客服 NICKNAME", or the nickname alone when it
// already says 客服.
func (p *Platform) agentName(app *App, account string) string {
	name := account
	if ag, ok := p.kf.Agent(app.AppID, account, p.clock.Now()); ok && ag.Nickname != "" {
		name = ag.Nickname
	}
	if strings.HasPrefix(name, "客服") {
		return name
	}
	return "客服 " + name
}

// kfChange runs one change of kf state for a user under the user's lock, notes its events and
// pushes the kf_* events after. It is the shape of every kf operation.
func (p *Platform) kfChange(ctx context.Context, app *App, openid string, change func(now time.Time) ([]state.KFEvent, error)) error {
	var unlock func()
	if openid != "" {
		unlock = p.lockUser(app.AppID, openid)
	} else {
		unlock = p.shared()
	}
	events, err := change(p.clock.Now())
	pushes := p.noteKF(events)
	unlock()
	p.pushKF(ctx, pushes)
	return err
}

// AgentAccept is an agent taking a waiting user (the agent's "accept" in the kf tool).
func (p *Platform) AgentAccept(ctx context.Context, appKey, account, openid string) error {
	app, err := p.LookupApp(appKey)
	if err != nil {
		return err
	}
	return p.kfChange(ctx, app, openid, func(now time.Time) ([]state.KFEvent, error) {
		return p.kf.Accept(app.AppID, account, openid, now)
	})
}

// AgentClose is an agent ending a session.
func (p *Platform) AgentClose(ctx context.Context, appKey, account, openid string) error {
	app, err := p.LookupApp(appKey)
	if err != nil {
		return err
	}
	return p.kfChange(ctx, app, openid, func(now time.Time) ([]state.KFEvent, error) {
		return p.kf.Close(app.AppID, account, openid, now)
	})
}

// AgentSwitch hands a session from one agent to another.
func (p *Platform) AgentSwitch(ctx context.Context, appKey, from, to, openid string) error {
	app, err := p.LookupApp(appKey)
	if err != nil {
		return err
	}
	return p.kfChange(ctx, app, openid, func(now time.Time) ([]state.KFEvent, error) {
		return p.kf.Switch(app.AppID, from, to, openid, now)
	})
}

// AgentStatus is a change of an agent's status; nil fields stay as they are.
type AgentStatus struct {
	Online     *bool
	AutoAccept *bool
	Capacity   *int
}

// AgentSet changes an agent's status; going online with auto-accept may take waiting users.
func (p *Platform) AgentSet(ctx context.Context, appKey, account string, st AgentStatus) (Agent, error) {
	app, err := p.LookupApp(appKey)
	if err != nil {
		return Agent{}, err
	}
	if st.Capacity != nil && *st.Capacity < 1 {
		return Agent{}, BadRequest(`"capacity" must be at least 1`)
	}
	var ag Agent
	err = p.kfChange(ctx, app, "", func(now time.Time) ([]state.KFEvent, error) {
		var events []state.KFEvent
		var err error
		ag, events, err = p.kf.SetAgent(app.AppID, account, st.Online, st.AutoAccept, st.Capacity, now)
		if err == nil {
			a := ag
			p.stateChange(app.AppID, "", &journal.StateChange{What: fmt.Sprintf("kf: %s is %s, auto-accept %v, capacity %d", account, onlineWord(ag.Online), ag.AutoAccept, ag.Capacity), Agent: &a})
		}
		return events, err
	})
	return ag, err
}

// AgentRespondInvite is the invited personal WeChat accepting or rejecting the binding.
func (p *Platform) AgentRespondInvite(appKey, account string, accept bool) (Agent, error) {
	app, err := p.LookupApp(appKey)
	if err != nil {
		return Agent{}, err
	}
	unlock := p.shared()
	defer unlock()
	ag, err := p.kf.RespondInvite(app.AppID, account, accept, p.clock.Now())
	if err == nil {
		a := ag
		p.stateChange(app.AppID, "", &journal.StateChange{What: fmt.Sprintf("kf: the invitation of %s was %s", account, map[bool]string{true: "accepted", false: "rejected"}[accept]), Agent: &a})
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
// that kf account, subject to the 48-hour window and its quota like any other (protocol §5.4),
// and journaled as the same API call as a bot's.
func (p *Platform) AgentReply(ctx context.Context, appKey, account, openid, text string) (*CustomSend, error) {
	app, err := p.LookupApp(appKey)
	if err != nil {
		return nil, err
	}
	if text == "" {
		return nil, BadRequest(`"text" is missing: what the agent says`)
	}
	unlock := p.lockUser(app.AppID, openid)
	now := p.clock.Now()
	s, in, expired := p.kf.Route(app.AppID, openid, now)
	pushes := p.noteKF(expired)
	var send *CustomSend
	var window *Grant
	if !in || s.Account != account {
		err = fmt.Errorf("%w: %s does not serve %s", ErrNotInSession, account, openid)
	} else {
		send = &CustomSend{ToUser: openid, MsgType: "text", Text: &rules.SendText{Content: text}, KfAccount: account}
		window, err = p.show(app, send, state.FromAgent, now)
		if err == nil {
			p.kf.Touch(app.AppID, openid, now)
			p.kf.Record(app.AppID, state.Record{OpenID: openid, Worker: account, Opercode: opAgentSent, Text: text, Time: now})
		}
	}
	unlock()
	if send != nil {
		p.apiDoneWindow(withVia(ctx, ViaAgent), PathCustomSend, app, openid, send, window, err)
	}
	p.pushKF(ctx, pushes)
	if err != nil {
		return nil, err
	}
	return send, nil
}

// KFCreate is /customservice/kfsession/create. The user must have talked to the account within
// 48 hours (protocol §5.2): sent it a message, or had the control plane's "message" trigger stand
// for one.
func (p *Platform) KFCreate(ctx context.Context, app *App, account, openid string) error {
	if err := requireFields("kf_account", account, "openid", openid); err != nil {
		return err
	}
	err := p.kfChange(ctx, app, openid, func(now time.Time) ([]state.KFEvent, error) {
		u, ok := p.people.Get(app.AppID, openid)
		if !ok {
			return nil, apiError(wire.CodeInvalidOpenID, "openid %q is not a user of app %s", openid, app.AppID)
		}
		// Deviation: the docs require an interaction within 48 h but name no errcode for it
		// (protocol §5.2); wxemu answers 45015, the code of a closed window. Nor do they say which
		// interactions count: wxemu counts what the user said — any message the user sent (a
		// msgmenu tap arrives as one), or a "message" trigger of the control plane, which stands
		// for one — and not events (a menu click, a follow, a QR scan, entering a Mini Program's
		// chat), a payment, or the account's own messages to the user.
		if u.LastMessage.IsZero() || now.Sub(u.LastMessage) >= 48*time.Hour {
			return nil, apiError(wire.CodeOutOfTimeLimit, "user %s has not talked to the account in the last 48 hours", openid)
		}
		return p.kf.Create(app.AppID, account, openid, now)
	})
	p.apiDone(ctx, PathKFSessCreate, app, openid, nil, err)
	return err
}

// KFClose is /customservice/kfsession/close.
func (p *Platform) KFClose(ctx context.Context, app *App, account, openid string) error {
	if err := requireFields("kf_account", account, "openid", openid); err != nil {
		return err
	}
	err := p.kfChange(ctx, app, openid, func(now time.Time) ([]state.KFEvent, error) {
		return p.kf.Close(app.AppID, account, openid, now)
	})
	p.apiDone(ctx, PathKFSessClose, app, openid, nil, err)
	return err
}

// KFLeave takes a user out of the kf state quietly — out of the queue or out of their session,
// with no event, journal entry or push for them — and lets the freed agent take waiting users as
// usual. A scenario that is over uses it to give the shared agents back.
func (p *Platform) KFLeave(ctx context.Context, appKey, openid string) error {
	app, err := p.LookupApp(appKey)
	if err != nil {
		return err
	}
	return p.kfChange(ctx, app, openid, func(now time.Time) ([]state.KFEvent, error) {
		others, _ := p.kf.Leave(app.AppID, openid, now)
		return others, nil
	})
}

// requireFields answers 61451 invalid parameter for the first required field that is empty.
func requireFields(namesAndValues ...string) error {
	for i := 0; i+1 < len(namesAndValues); i += 2 {
		if namesAndValues[i+1] == "" {
			return apiError(wire.CodeKfInvalidParameter, "%s is missing", namesAndValues[i])
		}
	}
	return nil
}

// kfEnabled answers 65400 for an app that has not enabled the kf function.
func kfEnabled(app *App) error {
	if app.KFEnabled != nil && !*app.KFEnabled {
		return apiError(wire.CodeKfNotEnabled, "app %s has kf_enabled: false in the config", app.Alias)
	}
	return nil
}

// KFAddAccount is /customservice/kfaccount/add (protocol §5.1).
func (p *Platform) KFAddAccount(ctx context.Context, app *App, account, nickname string) (Agent, error) {
	if err := kfAccountCall(app, account); err != nil {
		return Agent{}, err
	}
	unlock := p.shared()
	defer unlock()
	return p.kf.AddAccount(app.AppID, app.WeChatID, account, nickname)
}

// KFUpdateAccount is /customservice/kfaccount/update.
func (p *Platform) KFUpdateAccount(ctx context.Context, app *App, account, nickname string) (Agent, error) {
	if err := kfAccountCall(app, account); err != nil {
		return Agent{}, err
	}
	unlock := p.shared()
	defer unlock()
	return p.kf.UpdateAccount(app.AppID, account, nickname)
}

// KFDeleteAccount is /customservice/kfaccount/del: the account's sessions end with it, and the
// users it served go back to the bot.
func (p *Platform) KFDeleteAccount(ctx context.Context, app *App, account string) error {
	if err := kfAccountCall(app, account); err != nil {
		return err
	}
	return p.kfChange(ctx, app, "", func(now time.Time) ([]state.KFEvent, error) {
		return p.kf.DeleteAccount(app.AppID, account, now)
	})
}

// KFInvite is /customservice/kfaccount/inviteworker.
func (p *Platform) KFInvite(ctx context.Context, app *App, account, inviteWX string) (Agent, error) {
	if err := kfAccountCall(app, account); err != nil {
		return Agent{}, err
	}
	unlock := p.shared()
	defer unlock()
	return p.kf.Invite(app.AppID, account, inviteWX, p.clock.Now())
}

// KFSetHeadImg is /customservice/kfaccount/uploadheadimg: a JPG of at most 5 MB in part media.
// The image itself is not kept: the URL has the shape of WeChat's CDN links.
func (p *Platform) KFSetHeadImg(ctx context.Context, app *App, account string, data []byte, present bool) error {
	if err := kfAccountCall(app, account); err != nil {
		return err
	}
	if _, ok := p.kf.Agent(app.AppID, account, p.clock.Now()); !ok {
		return apiError(wire.CodeKfAccountInvalid, "no kf account %s", account)
	}
	switch {
	case !present:
		return apiError(wire.CodeMediaDataMissing, "the body is not multipart/form-data with a part named media")
	case len(data) == 0:
		return apiError(wire.CodeEmptyMediaData, "the head image is empty")
	case len(data) > MaxHeadImgBytes:
		return apiError(wire.CodeMediaSizeLimit, "the head image is larger than 5 MB")
	case len(data) < 3 || data[0] != 0xff || data[1] != 0xd8 || data[2] != 0xff:
		return apiError(wire.CodeKfInvalidFileType, "the head image must be a JPG")
	}
	url := "http://mmbiz.qpic.cn/mmbiz/wxemu/" + app.AppID + "/" + account + "/300?wx_fmt=jpeg"
	unlock := p.shared()
	defer unlock()
	return p.kf.SetHeadImg(app.AppID, account, url)
}

// MaxHeadImgBytes is the largest kf head image (protocol §5.1).
const MaxHeadImgBytes = 5 << 20

// kfAccountCall is the common opening of the kf account APIs: kf enabled, a kf_account named.
func kfAccountCall(app *App, account string) error {
	if err := kfEnabled(app); err != nil {
		return err
	}
	return requireFields("kf_account", account)
}

// KFAgents lists an app's kf accounts (getkflist); an app without the kf function answers 65400.
func (p *Platform) KFAgents(app *App) ([]Agent, error) {
	if err := kfEnabled(app); err != nil {
		return nil, err
	}
	return p.kf.Agents(app.AppID, p.clock.Now()), nil
}

// Agents lists an app's kf accounts, for the control plane and the harness.
func (p *Platform) Agents(appID string) []Agent { return p.kf.Agents(appID, p.clock.Now()) }

// Agent finds one kf account of an app.
func (p *Platform) Agent(appID, account string) (Agent, bool) {
	return p.kf.Agent(appID, account, p.clock.Now())
}

// KFSession is the session serving a user, if any (getsession).
func (p *Platform) KFSession(appID, openid string) (Session, bool) {
	return p.kf.Session(appID, openid, p.clock.Now())
}

// KFSessions lists the sessions of an agent, oldest first (getsessionlist).
func (p *Platform) KFSessions(appID, account string) []Session {
	return p.kf.Sessions(appID, account, p.clock.Now())
}

// KFWaitCase is how many users of an app wait, and the first 100 of them (getwaitcase).
func (p *Platform) KFWaitCase(appID string) (count int, waiting []Waiting) {
	return p.kf.WaitCase(appID, p.clock.Now())
}

// KFWaiting is a user's place in the queue, if they wait.
func (p *Platform) KFWaiting(appID, openid string) (Waiting, bool) {
	return p.kf.WaitingFor(appID, openid)
}

// KFRecords is /customservice/msgrecord/getmsglist over [start, end].
func (p *Platform) KFRecords(app *App, start, end time.Time, msgid int64, number int) ([]KFRecord, int64, error) {
	return p.kf.Records(app.AppID, start, end, msgid, number)
}

// KFRecordsOf lists what an agent received and sent.
func (p *Platform) KFRecordsOf(appID, account string) []KFRecord {
	return p.kf.RecordsOf(appID, account)
}
