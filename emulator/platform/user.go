package platform

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/wire"
)

var (
	// ErrUnknownApp: no app has this alias or appid.
	ErrUnknownApp = errors.New("unknown app")
	// ErrNoBot: the app has no callback URL to push to.
	ErrNoBot = errors.New("the app has no callback URL")
	// ErrBadMessage: the message is not one the app's kind receives, or lacks a field.
	ErrBadMessage = errors.New("bad message")
)

// Where a user's message went.
const (
	RoutedBot  = "bot"
	RoutedNone = "none" // WeChat pushed it nowhere
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
// it and pushes it to the bot, then shows the user the outcome (protocol §2, §3, §6).
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
	if !app.HasBot() {
		return nil, fmt.Errorf("%w: app %s (%s) has no callback URL; give one in the config (url:) or with wxemu serve --target URL", ErrNoBot, app.Alias, app.AppID)
	}
	now := p.clock.Now()
	m.FromUserName = openid
	m.ToUserName = app.OriginalID
	m.CreateTime = now.Unix()
	m.Encrypt = ""

	p.Users.Ensure(app.AppID, openid, "", true)
	if m.IsEvent() && m.Event == "user_enter_tempsession" && !p.cfg.API.TempsessionEveryEntry {
		_, inKF := p.KF.Session(app.AppID, openid, now)
		if inKF || len(p.Ledger.Grants(app.AppID, openid, now)) > 0 {
			// Deviation: whether WeChat pushes this on every entry is open (protocol §10.23); with
			// api.tempsession_every_entry false, an entry during an active session is not pushed.
			e := p.record(state.Entry{Kind: state.EntryState, App: app.AppID, User: openid,
				Summary: "user_enter_tempsession not pushed: the user's session is still active (api.tempsession_every_entry: false)"})
			return &Interaction{App: app.AppID, OpenID: openid, Routed: RoutedNone, Journal: e.Seq}, nil
		}
	}
	switch {
	case m.IsEvent() && m.Event == "subscribe":
		_ = p.Users.SetSubscribed(app.AppID, openid, true)
	case m.IsEvent() && m.Event == "unsubscribe":
		_ = p.Users.SetSubscribed(app.AppID, openid, false)
	}
	in := &Interaction{App: app.AppID, OpenID: openid, Routed: RoutedBot}
	if t := triggerOf(kind, &m); t != "" {
		p.Ledger.Trigger(app.AppID, openid, t, now)
		in.Trigger = string(t)
	}
	if !m.IsEvent() {
		_ = p.Users.Touch(app.AppID, openid, now, false)
		p.Transcripts.Append(app.AppID, openid, state.Line{Time: now, From: state.FromUser, Kind: state.LineMessage, MsgType: m.MsgType, Text: RenderInbound(&m)})
	} else {
		p.Transcripts.Append(app.AppID, openid, state.Line{Time: now, From: state.FromUser, Kind: state.LineEvent, MsgType: m.Event, Text: RenderInbound(&m)})
	}

	// A user a human agent serves talks to the agent, not to the bot (protocol §5.4).
	s, inSession, expired := p.KF.Route(app.AppID, openid, now)
	p.applyKF(ctx, app, expired)
	if inSession && !m.IsEvent() {
		p.KF.Touch(app.AppID, openid, now)
		p.KF.Record(app.AppID, state.Record{OpenID: openid, Worker: s.Account, Opercode: opAgentReceived, Text: RenderInbound(&m), Time: now})
		e := p.record(state.Entry{Kind: state.EntryState, App: app.AppID, User: openid,
			Summary: fmt.Sprintf("kf: %s %q delivered to %s, not to the bot", m.MsgType, clip(RenderInbound(&m)), s.Account), Data: m})
		in.Routed, in.Agent, in.Journal = RoutedAgent, s.Account, e.Seq
		return in, nil
	}

	res := p.engine.Push(ctx, app.target, &m)
	in.Result = res
	e := p.record(state.Entry{
		Kind: state.EntryPush, App: app.AppID, User: openid,
		Summary:    pushSummary(&res.Message, res),
		DurationMS: totalMS(res.Attempts),
		Errors:     countErrors(res.Violations),
		Data:       res,
	})
	in.Journal = e.Seq
	p.showOutcome(app, openid, res, e.Seq)
	if res.Outcome == push.Transferred {
		in.Transfer = p.KF.Transfer(app.AppID, openid, res.KfAccount, p.clock.Now())
		p.applyKF(ctx, app, in.Transfer)
	}
	return in, nil
}

// showOutcome adds what the user sees of a push result to their transcript.
func (p *Platform) showOutcome(app *App, openid string, res *push.Result, seq uint64) {
	now := p.clock.Now()
	switch res.Outcome {
	case push.Replied:
		_ = p.Users.Touch(app.AppID, openid, now, true)
		p.Transcripts.Append(app.AppID, openid, state.Line{Time: now, From: state.FromBot, Kind: state.LineReply, MsgType: res.Reply.MsgType, Text: res.UserSees, Journal: seq})
	case push.Failed:
		p.Transcripts.Append(app.AppID, openid, state.Line{Time: now, From: state.FromSystem, Kind: state.LineSystem, Text: res.UserSees, Journal: seq})
	}
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
		what = fmt.Sprintf("text %q", clip(m.Content))
	}
	out := string(r.Outcome)
	switch r.Outcome {
	case push.Replied:
		out += ": " + clip(r.UserSees)
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

func clip(s string) string {
	r := []rune(s)
	if len(r) <= 40 {
		return s
	}
	return string(r[:40]) + "…"
}
