package platform

import (
	"context"
	"fmt"
	"strings"

	"github.com/wxemu/wxemu/emulator/fault"
	"github.com/wxemu/wxemu/emulator/journal"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/textenc"
	"github.com/wxemu/wxemu/emulator/wire"
)

// Where a user's message went.
const (
	RoutedBot   = "bot"
	RoutedAgent = "agent" // a human agent serves the user
	RoutedNone  = "none"  // WeChat pushed it nowhere
)

// Interaction is what came of one thing a user did.
type Interaction struct {
	App     string       `json:"app"`
	OpenID  string       `json:"openid"`
	Trigger string       `json:"trigger,omitempty"` // the window it opened, if any
	Routed  string       `json:"routed"`
	Agent   string       `json:"agent,omitempty"` // the kf account that got the message
	Result  *push.Result `json:"result,omitempty"`
	// Transfer lists the kf state changes a transfer reply caused.
	Transfer []state.KFEvent `json:"transfer,omitempty"`
	Journal  uint64          `json:"journal"`
}

// LookupApp finds an app by alias or appid, with an error that suggests the closest key.
func (p *Platform) LookupApp(key string) (*App, error) {
	if a, ok := p.byKey[key]; ok {
		return a, nil
	}
	if key == "" {
		return nil, fmt.Errorf("%w: no app given; the apps are %s", ErrUnknownApp, strings.Join(p.AppKeys(), ", "))
	}
	return nil, fmt.Errorf("%w %q%s; the apps are %s", ErrUnknownApp, key, DidYouMean(key, p.AppKeys()), strings.Join(p.AppKeys(), ", "))
}

// UserSends is "user openid of app does m": WeChat records the interaction (the user's
// transcript, a window if m is a trigger, the last-interaction time of the typing rule), routes
// it and pushes it to the bot, then shows the user the outcome (protocol §2, §3, §6). The
// recording and the outcome are each one step to other operations; the push between them holds
// no lock, since the bot may call the API back while WeChat waits for its answer.
func (p *Platform) UserSends(ctx context.Context, appKey, openid string, m wire.Message) (*Interaction, error) {
	app, err := p.LookupApp(appKey)
	if err != nil {
		return nil, err
	}
	if openid == "" {
		return nil, fmt.Errorf("%w: the user's openid is empty", ErrBadMessage)
	}
	kind := wire.Kind(app.Kind)
	if err := m.Check(kind); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	if !p.reaches(app, &m) {
		return nil, fmt.Errorf("%w: app %s (%s) has no callback URL; give one in the config (url:) or with wxemu serve --target URL", ErrNoBot, app.Alias, app.AppID)
	}
	in := &Interaction{App: app.AppID, OpenID: openid, Routed: RoutedBot}
	unlock := p.lockUser(app.AppID, openid)
	now := p.clock.Now()
	m.FromUserName = openid
	m.ToUserName = app.OriginalID
	m.CreateTime = now.Unix()
	m.Encrypt = ""

	p.people.Ensure(app.AppID, openid, "", true)
	if m.IsEvent() && m.Event == "user_enter_tempsession" && !p.cfg.API.TempsessionEveryEntry {
		_, inKF := p.kf.Session(app.AppID, openid, now)
		if inKF || len(p.ledger.Grants(app.AppID, openid, now)) > 0 {
			unlock()
			// Deviation: whether WeChat pushes this on every entry is open (protocol §10.23); with
			// api.tempsession_every_entry false, an entry during an active session is not pushed.
			e := p.stateChange(app.AppID, openid, &journal.StateChange{
				What: "user_enter_tempsession not pushed: the user's session is still active (api.tempsession_every_entry: false)"})
			in.Routed, in.Journal = RoutedNone, e.Seq
			return in, nil
		}
	}
	switch {
	case m.IsEvent() && m.Event == "subscribe":
		_ = p.people.SetSubscribed(app.AppID, openid, true)
	case m.IsEvent() && m.Event == "unsubscribe":
		_ = p.people.SetSubscribed(app.AppID, openid, false)
	}
	if t := triggerOf(kind, &m); t != "" {
		p.ledger.Trigger(app.AppID, openid, t, now)
		in.Trigger = string(t)
	}
	line := state.Line{Time: now, From: state.FromUser, Kind: state.LineMessage, MsgType: m.MsgType, Text: RenderInbound(&m)}
	if m.IsEvent() {
		line.Kind, line.MsgType = state.LineEvent, m.Event
	} else {
		_ = p.people.Talked(app.AppID, openid, now)
	}
	p.transcripts.Append(app.AppID, openid, line)

	// A user a human agent serves talks to the agent, not to the bot (protocol §5.4).
	s, inSession, expired := p.kf.Route(app.AppID, openid, now)
	pushes := p.noteKF(expired)
	if inSession && !m.IsEvent() {
		p.kf.Touch(app.AppID, openid, now)
		p.kf.Record(app.AppID, state.Record{OpenID: openid, Worker: s.Account, Opercode: opAgentReceived, Text: RenderInbound(&m), Time: now})
		msg := m
		e := p.record(journal.Entry{App: app.AppID, User: openid,
			Summary: fmt.Sprintf("kf: %s %q delivered to %s, not to the bot", m.MsgType, textenc.Clip(RenderInbound(&m), 40), s.Account),
			KF:      &journal.KFChange{KFEvent: state.KFEvent{Kind: KFDelivered, App: app.AppID, OpenID: openid, Account: s.Account, At: now}, Message: &msg}})
		unlock()
		p.pushKF(ctx, pushes)
		in.Routed, in.Agent, in.Journal = RoutedAgent, s.Account, e.Seq
		return in, nil
	}
	unlock()
	p.pushKF(ctx, pushes)

	pf := p.pushFault(app, openid, &m)
	if pf != nil && pf.Push == fault.PushReorder {
		in.Routed, in.Journal = RoutedHeld, p.hold(app, openid, &m, pf)
		return in, nil
	}
	res, _ := p.deliverPush(ctx, app, openid, &m)
	in.Result = res
	unlock = p.lockUser(app.AppID, openid)
	e := p.recordPush(app, openid, res, "")
	in.Journal = e.Seq
	p.showOutcome(app, openid, res, e.Seq)
	if res.Outcome == push.Transferred {
		in.Transfer = p.kf.Transfer(app.AppID, openid, res.KfAccount, p.clock.Now())
		pushes = p.noteKF(in.Transfer)
	} else {
		pushes = nil
	}
	unlock()
	p.pushKF(ctx, pushes)
	p.afterPush(ctx, app, openid, res, e.Seq, pf)
	return in, nil
}

// KFDelivered is the kind of the kf journal entry of a user's message an agent received.
const KFDelivered = "delivered"

// recordPush journals a push; probe names a push a check made rather than WeChat.
func (p *Platform) recordPush(app *App, openid string, res *push.Result, probe string) journal.Entry {
	return p.record(p.pushEntry(app, openid, res, probe))
}

func (p *Platform) pushEntry(app *App, openid string, res *push.Result, probe string) journal.Entry {
	summary := pushSummary(&res.Message, res)
	if probe != "" {
		summary = probe + ": " + summary
	}
	return journal.Entry{
		App: app.AppID, User: openid, Summary: summary,
		DurationMS: totalMS(res.Attempts), Errors: countErrors(res.Violations),
		Push: &journal.Push{Result: res, Probe: probe},
	}
}

// showOutcome adds what the user sees of a push result to their transcript. The caller holds
// the user's lock.
func (p *Platform) showOutcome(app *App, openid string, res *push.Result, seq uint64) {
	now := p.clock.Now()
	switch res.Outcome {
	case push.Replied:
		_ = p.people.Touch(app.AppID, openid, now, true)
		p.transcripts.Append(app.AppID, openid, state.Line{Time: now, From: state.FromBot, Kind: state.LineReply, MsgType: res.Reply.MsgType, Text: res.UserSees, Journal: seq})
	case push.Failed:
		p.transcripts.Append(app.AppID, openid, state.Line{Time: now, From: state.FromSystem, Kind: state.LineSystem, Text: res.UserSees, Journal: seq})
	}
}

// pushEvent pushes an event WeChat itself raises for a user (the kf_* events) to the bot, and
// journals it. The bot's answer is judged like any other.
func (p *Platform) pushEvent(ctx context.Context, app *App, openid string, m *wire.Message) *push.Result {
	m.FromUserName = openid
	m.ToUserName = app.OriginalID
	m.CreateTime = p.clock.Now().Unix()
	res, reached := p.deliverPush(ctx, app, openid, m)
	if !reached {
		return nil
	}
	p.recordPush(app, openid, res, "")
	return res
}

// triggerOf is the window a message opens (protocol §6): a user message; a tap on a click-type
// menu item or a msgmenu option; a follow; a QR-code scan; a Mini Program user entering the chat.
func triggerOf(kind wire.Kind, m *wire.Message) state.Trigger {
	if !m.IsEvent() {
		if kind == wire.OA && m.BizMsgMenuID != "" {
			// A msgmenu tap arrives as text but counts as a menu click (protocol §6.1).
			return state.Trigger("click")
		}
		return state.Trigger("message")
	}
	switch m.Event {
	case "CLICK", "scancode_push", "scancode_waitmsg":
		return state.Trigger("click")
	case "subscribe":
		return state.Trigger("subscribe")
	case "SCAN":
		return state.Trigger("scan")
	case "user_enter_tempsession":
		return state.Trigger("tempsession")
	}
	return ""
}

// RenderInbound is one line describing what a user sent or did.
func RenderInbound(m *wire.Message) string {
	switch m.MsgType {
	case "text":
		return m.Content
	case "image":
		return "[image]"
	case "voice":
		if m.Recognition != "" {
			return "[voice] " + m.Recognition
		}
		return "[voice]"
	case "video", "shortvideo":
		return "[" + m.MsgType + "]"
	case "location":
		return strings.TrimSpace("[location] " + m.Label)
	case "link":
		return "[link] " + m.Title
	case "miniprogrampage":
		return "[miniprogrampage] " + m.Title
	case "event":
		s := "(" + m.Event
		if m.EventKey != "" {
			s += " " + m.EventKey
		}
		return s + ")"
	}
	return "[" + m.MsgType + "]"
}

func pushSummary(m *wire.Message, r *push.Result) string {
	what := m.MsgType
	if m.IsEvent() {
		what = "event " + m.Event
	} else if m.MsgType == "text" {
		what = fmt.Sprintf("text %q", textenc.Clip(m.Content, 40))
	}
	out := string(r.Outcome)
	switch r.Outcome {
	case push.Replied:
		out += ": " + textenc.Clip(r.UserSees, 40)
	case push.Transferred:
		if r.KfAccount != "" {
			out += " to " + r.KfAccount
		}
	}
	if n := countErrors(r.Violations); n > 0 {
		out += fmt.Sprintf(" (%d error(s))", n)
	}
	return fmt.Sprintf("push %s → %s", what, out)
}

func totalMS(as []push.Attempt) float64 {
	var t float64
	for _, a := range as {
		t += a.DurationMS
	}
	return t
}

func countErrors(vs []rules.Violation) int {
	n := 0
	for _, v := range vs {
		if v.Severity == rules.Error {
			n++
		}
	}
	return n
}

// EnsureUser makes a user known to an app — created with name and subscribed if new — and
// returns them.
func (p *Platform) EnsureUser(appID, openid, name string, subscribed bool) User {
	unlock := p.lockUser(appID, openid)
	defer unlock()
	return p.people.Ensure(appID, openid, name, subscribed)
}

// User returns a user of an app.
func (p *Platform) User(appID, openid string) (User, bool) { return p.people.Get(appID, openid) }

// Users lists the users of an app (every app when appID is empty), by openid.
func (p *Platform) Users(appID string) []User { return p.people.List(appID) }

// Transcript is what a user has seen and done, oldest first.
func (p *Platform) Transcript(appID, openid string) []Line {
	return p.transcripts.Get(appID, openid)
}

// Grants are a user's open windows, with what is left of each.
func (p *Platform) Grants(appID, openid string) []Grant {
	return p.ledger.Grants(appID, openid, p.clock.Now())
}
