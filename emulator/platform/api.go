package platform

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wxemu/wxemu/emulator/journal"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/textenc"
	"github.com/wxemu/wxemu/emulator/wire"
)

// Paths of the API operations the platform journals itself when a Go caller or an agent makes
// them; over HTTP the API server's call carries the path.
const (
	PathCustomSend   = "/cgi-bin/message/custom/send"
	PathTyping       = "/cgi-bin/message/custom/typing"
	PathKFSessCreate = "/customservice/kfsession/create"
	PathKFSessClose  = "/customservice/kfsession/close"
)

// Who makes an API call (journal.APICall.Via).
const (
	ViaHTTP  = journal.ViaHTTP
	ViaGo    = journal.ViaGo
	ViaAgent = journal.ViaAgent
)

type viaKey struct{}

// withVia marks ctx as the context of calls made by via.
func withVia(ctx context.Context, via string) context.Context {
	return context.WithValue(ctx, viaKey{}, via)
}

// WithVia marks ctx as the context of API calls made by via (ViaCloud: a cloud function's
// cloud.openapi), so that the journal says who made them.
func WithVia(ctx context.Context, via string) context.Context { return withVia(ctx, via) }

func viaOf(ctx context.Context) string {
	if v, ok := ctx.Value(viaKey{}).(string); ok {
		return v
	}
	return ViaGo
}

// Call is one WeChat API call over HTTP while it is served. The API server begins it; the
// operation names the app, the user and the decoded body; the API server ends it with the raw
// exchange, and EndCall journals it once. Its goroutine alone uses it.
type Call struct {
	path  string
	via   string
	app   *App
	user  string
	send  *CustomSend
	noted bool
	// faultChecked says a fault rule was looked for (InjectFault, opFault); injected is the one
	// that fired.
	faultChecked bool
	injected     *Injected
	// window is the grant a send used, as it is after the send: what decided it.
	window *Grant
}

type callKey struct{}

// BeginCall starts a WeChat API call of the route path; the operation gets the returned context.
// The call is made over HTTP unless ctx says otherwise (WithVia: a cloud function's gateway).
func (p *Platform) BeginCall(ctx context.Context, path string) (context.Context, *Call) {
	via := ViaHTTP
	if v, ok := ctx.Value(viaKey{}).(string); ok {
		via = v
	}
	c := &Call{path: path, via: via}
	return context.WithValue(withVia(ctx, via), callKey{}, c), c
}

// SetApp names the app the call was for (the app of its access_token).
func (c *Call) SetApp(app *App) {
	if c.app == nil {
		c.app = app
	}
}

// SetUser names the user the call was about, when the operation did not.
func (c *Call) SetUser(openid string) {
	if c.user == "" {
		c.user = openid
	}
}

// Exchange is a raw HTTP exchange, bodies clipped.
type Exchange = journal.Exchange

// NewExchange records a raw HTTP exchange for the journal.
func NewExchange(method, url string, request []byte, status int, contentType string, response []byte) *Exchange {
	return journal.NewExchange(method, url, request, status, contentType, response)
}

// EndCall journals a WeChat API call with its answer: err as Answer maps it, and the raw
// exchange. It returns the entry.
func (p *Platform) EndCall(c *Call, ex *Exchange, err error, durationMS float64) Entry {
	e := p.apiEntry(c.path, c.via, c.app, c.user, c.send, err, ex, durationMS)
	e.API.Window = c.window
	markInjected(&e, c.injected, err)
	e = p.record(e)
	p.noteFault(e, c.injected)
	return e
}

// apiDone notes an API operation's outcome: on an HTTP call, for EndCall to journal with the
// answer; for a Go caller or an agent, journaled at once.
func (p *Platform) apiDone(ctx context.Context, path string, app *App, user string, send *CustomSend, err error) {
	p.apiDoneWindow(ctx, path, app, user, send, nil, err)
}

// apiDoneWindow is apiDone for a send, with the window it used (nil when refused).
func (p *Platform) apiDoneWindow(ctx context.Context, path string, app *App, user string, send *CustomSend, window *Grant, err error) {
	if c, ok := ctx.Value(callKey{}).(*Call); ok && !c.noted {
		c.noted = true
		c.SetApp(app)
		c.SetUser(user)
		c.send = send
		c.window = window
		return
	}
	e := p.apiEntry(path, viaOf(ctx), app, user, send, err, nil, 0)
	e.API.Window = window
	inj, _ := ctx.Value(injectedKey{}).(*Injected)
	markInjected(&e, inj, err)
	e = p.record(e)
	p.noteFault(e, inj)
}

// noteCall names the app and user of an HTTP call whose operation journals nothing itself.
func (p *Platform) noteCall(ctx context.Context, app *App, user string) {
	if c, ok := ctx.Value(callKey{}).(*Call); ok {
		c.SetApp(app)
		c.SetUser(user)
	}
}

func (p *Platform) apiEntry(path, via string, app *App, user string, send *CustomSend, err error, ex *Exchange, ms float64) journal.Entry {
	code, detail, mapped := Answer(err)
	if !mapped {
		p.log.Error("unmapped error answered as -1 system error", "path", path, "err", err)
	}
	errmsg, _ := wire.Errmsg(code)
	e := journal.Entry{User: user, DurationMS: ms,
		API: &journal.APICall{Path: path, Via: via, Errcode: code, Errmsg: errmsg, Detail: detail, Send: send, Exchange: ex}}
	if app != nil {
		e.App = app.AppID
	}
	method := "POST"
	if ex != nil {
		method = ex.Method
	}
	e.Summary = method + " " + path
	if via != ViaHTTP {
		e.Summary = via + ": " + e.Summary
	}
	switch {
	case code != 0:
		e.Errors = 1
		e.Summary += fmt.Sprintf(" → %d %s", code, errmsg)
		if detail != "" {
			e.Summary += ": " + detail
		}
	case ex != nil && ex.Status >= 400:
		e.Errors = 1
		e.Summary += fmt.Sprintf(" → HTTP %d", ex.Status)
	default:
		e.Summary += " → ok"
	}
	return e
}

// RecordControl journals a call of the control plane with its raw exchange; err is what the
// handler failed with, nil on success.
func (p *Platform) RecordControl(action, appID, user string, ex *Exchange, err error, durationMS float64) Entry {
	return p.RecordControlCall(0, action, appID, user, ex, err, durationMS)
}

// RecordControlCall is RecordControl for a call that began when the journal's newest sequence
// number was began (LastSeq before the call): a recording tells by it what the call caused.
func (p *Platform) RecordControlCall(began uint64, action, appID, user string, ex *Exchange, err error, durationMS float64) Entry {
	e := journal.Entry{App: appID, User: user, DurationMS: durationMS, Control: &journal.Control{Action: action, Began: began, Exchange: ex}}
	e.Summary = action + " → ok"
	if err != nil {
		e.Errors = 1
		status := 0
		if ex != nil {
			status = ex.Status
		}
		e.Summary = fmt.Sprintf("%s → HTTP %d: %v", action, status, err)
	}
	return p.record(e)
}

// RecordFinding journals a request wxemu does not serve: a finding about the bot, not a 200.
func (p *Platform) RecordFinding(problem string, ex *Exchange) Entry {
	summary := problem
	if ex != nil {
		code := "HTTP " + fmt.Sprint(ex.Status)
		summary = ex.Method + " " + urlPath(ex.URL) + " → " + code + ": " + problem
	}
	return p.record(journal.Entry{Summary: summary, Errors: 1, Finding: &journal.Finding{Problem: problem, Exchange: ex}})
}

// RecordFindingFor journals a finding about what a user's bot did: a Mini Program cloud
// function's connection wxemu refused, an API call after its invocation ended.
func (p *Platform) RecordFindingFor(appID, openid, problem string, ex *Exchange) Entry {
	return p.record(journal.Entry{App: appID, User: openid, Summary: problem, Errors: 1, Finding: &journal.Finding{Problem: problem, Exchange: ex}})
}

// RecordFunctionOutput journals one write of a cloud function fn to its stream (stdout or
// stderr) during the invocation with request_id invocation (empty outside one), for the user
// openid of app appID.
func (p *Platform) RecordFunctionOutput(appID, openid, fn, invocation, stream, text string) Entry {
	return p.record(journal.Entry{App: appID, User: openid,
		Summary: fmt.Sprintf("function %s %s: %s", fn, stream, textenc.Clip(strings.TrimRight(text, "\n"), 80)),
		Log:     &journal.Log{Function: fn, Invocation: invocation, Stream: stream, Text: text}})
}

func urlPath(u string) string {
	for i := 0; i < len(u); i++ {
		if u[i] == '?' {
			return u[:i]
		}
	}
	return u
}

// CustomSend is /cgi-bin/message/custom/send for app: the body's schema, its media, the user,
// the follow, then the window and its quota, in that order (protocol §9). A message that passes
// reaches the user's transcript. Every call is journaled once, however it was made.
func (p *Platform) CustomSend(ctx context.Context, app *App, body []byte) (*CustomSend, error) {
	ctx, ferr := p.opFault(ctx, PathCustomSend, app, body)
	if ferr != nil {
		p.apiDone(ctx, PathCustomSend, app, bodyUser(body), nil, ferr)
		return nil, ferr
	}
	s, werr := rules.CheckCustomSend(wire.Kind(app.Kind), body, rules.SendLimits{MaxTextBytes: p.cfg.API.TextLimitBytes})
	if werr != nil {
		p.apiDone(ctx, PathCustomSend, app, "", nil, werr)
		return nil, werr
	}
	if err := p.deliver(ctx, app, s, state.FromBot); err != nil {
		return nil, err
	}
	return s, nil
}

// deliver checks a customer-service message that passed the schema against WeChat's state and,
// if it passes, shows it to the user; from is the bot, or an agent as its kf account. It
// journals the call either way.
func (p *Platform) deliver(ctx context.Context, app *App, s *CustomSend, from string) error {
	unlock := p.lockUser(app.AppID, s.ToUser)
	window, err := p.show(app, s, from, p.clock.Now())
	unlock()
	p.apiDoneWindow(ctx, PathCustomSend, app, s.ToUser, s, window, err)
	return err
}

// show is the state half of a send: media, user, follow, window and quota, then the transcript.
// It answers the window the send used, as it is after it. The caller holds the user's lock.
func (p *Platform) show(app *App, s *CustomSend, from string, now time.Time) (*Grant, error) {
	if s.MsgType != "mpnews" {
		// Deviation: wxemu has temporary media only; a permanent-material media_id is unknown
		// to it, except for mpnews, whose media_id is always permanent material (not checked).
		for _, id := range s.MediaIDs {
			if !p.media.Exists(app.AppID, id, now) {
				return nil, apiError(wire.CodeInvalidMediaID, "media id %q is not a temporary media of app %s, or has expired (3 days)", id, app.AppID)
			}
		}
	}
	u, ok := p.people.Get(app.AppID, s.ToUser)
	if !ok {
		return nil, apiError(wire.CodeInvalidOpenID, "touser %q is not a user of app %s", s.ToUser, app.AppID)
	}
	if app.Kind == string(wire.OA) && !u.Subscribed {
		return nil, apiError(wire.CodeOutOfTimeLimit, "user %s has unfollowed the account", s.ToUser)
	}
	g, err := p.ledger.Consume(app.AppID, s.ToUser, now)
	if err != nil {
		return nil, apiError(Code(err), "%s", windowDetail(err, p.ledger.Grants(app.AppID, s.ToUser, now)))
	}
	_ = p.people.Touch(app.AppID, s.ToUser, now, true)
	p.transcripts.Append(app.AppID, s.ToUser, state.Line{Time: now, From: from, Kind: state.LineCustom, MsgType: s.MsgType, Text: s.Render(), KfAccount: s.KfAccount})
	return &g, nil
}

func windowDetail(err error, live []state.Grant) string {
	if errors.Is(err, state.ErrNoWindow) {
		return "no open window: the user has not sent a message (48 h), tapped a menu, followed or scanned a QR code (1 min) recently enough"
	}
	return fmt.Sprintf("every open window is used up (%d live grant(s))", len(live))
}

// Typing is /cgi-bin/message/custom/typing and /business/typing.
func (p *Platform) Typing(ctx context.Context, app *App, body []byte) (*Typing, error) {
	ctx, ferr := p.opFault(ctx, PathTyping, app, body)
	if ferr != nil {
		p.apiDone(ctx, PathTyping, app, bodyUser(body), nil, ferr)
		return nil, ferr
	}
	t, werr := rules.CheckTyping(body)
	if werr != nil {
		p.apiDone(ctx, PathTyping, app, "", nil, werr)
		return nil, werr
	}
	unlock := p.lockUser(app.AppID, t.ToUser)
	now := p.clock.Now()
	var err error
	if t.Command == "Typing" {
		err = p.people.StartTyping(app.AppID, t.ToUser, now)
	} else {
		err = p.people.CancelTyping(app.AppID, t.ToUser, now)
	}
	unlock()
	p.apiDone(ctx, PathTyping, app, t.ToUser, nil, err)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// UploadMedia is /cgi-bin/media/upload; present is false when the body has no part "media".
func (p *Platform) UploadMedia(ctx context.Context, app *App, typ, filename string, data []byte, present bool) (Media, error) {
	if _, ferr := p.opFault(ctx, "/cgi-bin/media/upload", app, nil); ferr != nil {
		return Media{}, ferr
	}
	if !present {
		return Media{}, fmt.Errorf("the body is not multipart/form-data with a part named media: %w", state.ErrMediaMissing)
	}
	unlock := p.shared()
	m, err := p.media.Upload(app.AppID, app.Kind, typ, filename, data, p.clock.Now())
	unlock()
	if err == nil {
		p.reschedule()
	}
	return m, err
}

// GetMedia is /cgi-bin/media/get.
func (p *Platform) GetMedia(app *App, id string) (Media, error) {
	if id == "" {
		return Media{}, apiError(wire.CodeMediaIDMissing, "media_id is missing")
	}
	return p.media.Get(app.AppID, id, p.clock.Now())
}

// MediaByID finds a media file of any app by its id (the video_url of /cgi-bin/media/get).
func (p *Platform) MediaByID(id string) (Media, error) {
	for _, a := range p.apps {
		if m, err := p.media.Get(a.AppID, id, p.clock.Now()); err == nil {
			return m, nil
		}
	}
	return Media{}, NotFound("no media %q, or it has expired", id)
}
