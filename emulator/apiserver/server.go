// Package apiserver serves the emulated WeChat API on WeChat's own paths, and the control plane
// under /_emu/v1, over one gorilla/mux routing table. Handlers are small functions from a call
// to a value or an error; they pick no status and no errcode. One adapter checks access, reads
// the body, turns the error into WeChat's answer (platform.Answer) or the control plane's
// (platform.ControlAnswer), writes every response and hands the exchange to the platform's
// journal. The platform journals; the server never builds an entry itself.
package apiserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"github.com/tidwall/gjson"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/textenc"
	"github.com/wxemu/wxemu/emulator/wire"
)

// JSONContentType is what WeChat's API answers JSON with (protocol §7.1, §10.7).
const JSONContentType = "application/json; encoding=utf-8"

// maxBody bounds request bodies; multipart uploads have their own, larger bound.
const (
	maxBody       = 1 << 20
	maxUploadBody = 12 << 20
	// maxStateBody bounds PUT /_emu/v1/state: an export of a busy emulator (users, transcripts,
	// media bytes in base64) is far over maxBody, and `wxemu serve --import` takes it whole.
	maxStateBody = 256 << 20
	// maxOpenID bounds an openid the control plane is given.
	// Deviation: WeChat's are 28 characters; wxemu
	// takes hand-made ones ("alice-test") up to 64, so that a name a person types fits and a
	// pasted blob is refused before it becomes a user.
	maxOpenID = 64
)

// Server is the HTTP face of a platform.
type Server struct {
	p      *platform.Platform
	log    *slog.Logger
	router *mux.Router
	// rid appends " rid: …" to errmsg (protocol §7.1); config api.rid.
	rid bool
	// access is who may drive the control plane; swapped whole by SetControlAccess.
	access atomic.Pointer[ControlAccess]
	// draining is closed by EndStreams, which ends the journal streams; once guards it.
	draining  chan struct{}
	drainOnce sync.Once
	// console serves the web console's files; nil: no console (SetConsole).
	console http.Handler
}

// Option configures a Server.
type Option func(*Server)

// WithControlAccess sets who may drive the control plane (default: loopback names, no origin,
// no token).
func WithControlAccess(ca ControlAccess) Option {
	return func(s *Server) { s.SetControlAccess(ca) }
}

// EndStreams ends the open journal streams and refuses new ones, so that a graceful shutdown
// waits only for calls that end by themselves.
func (s *Server) EndStreams() { s.drainOnce.Do(func() { close(s.draining) }) }

// New builds the server and its routes. It does not listen; use Handler with an http.Server.
func New(p *platform.Platform, log *slog.Logger, opts ...Option) *Server {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{p: p, log: log, router: mux.NewRouter(), rid: p.Config().API.RID, draining: make(chan struct{})}
	s.access.Store(&ControlAccess{})
	for _, o := range opts {
		o(s)
	}
	s.router.UseEncodedPath()
	// Routes that share a path (GET and PUT /_emu/v1/state) are served by one handler that
	// picks the route by method, so that a wrong method still reaches a route's own answer
	// (43002 on WeChat's paths) instead of mux's.
	byPath := map[string][]Route{}
	var paths []string
	for _, rt := range s.routes() {
		if _, seen := byPath[rt.Path]; !seen {
			paths = append(paths, rt.Path)
		}
		byPath[rt.Path] = append(byPath[rt.Path], rt)
	}
	for _, path := range paths {
		s.router.Handle(path, s.adapt(byPath[path]))
	}
	s.router.NotFoundHandler = http.HandlerFunc(s.unknown)
	s.router.MethodNotAllowedHandler = http.HandlerFunc(s.unknown)
	return s
}

// Handler returns the root handler. The control plane (/_emu/) is guarded by ControlAccess
// before any route sees the request, unknown /_emu/ paths included.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.isConsole(r) {
			s.serveConsole(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/_emu/") && !s.guardControl(w, r) {
			return
		}
		s.router.ServeHTTP(w, r)
	})
}

// Access says what a route requires of a caller.
type Access int

const (
	// Public routes need nothing (the token APIs).
	Public Access = iota
	// TokenRequired routes need a valid access_token in the query string.
	TokenRequired
	// Control routes are the emulator's own control plane.
	Control
)

// Body says what a route reads from the request body.
type Body int

const (
	// NoBody routes read nothing from the body; whatever comes is kept for the journal.
	NoBody Body = iota
	// JSONBody routes read a JSON object. On WeChat's paths an empty or white-space body is
	// 44002 and anything but a UTF-8 JSON object of the right field types is 47001
	// (platform.DecodeBody).
	JSONBody
	// MultipartBody routes read multipart/form-data with the file in part "media", up to
	// maxUploadBody bytes; the journal keeps no request body for them.
	MultipartBody
	// StateBody routes read a state export, up to maxStateBody bytes, streamed into the JSON
	// decoder by the handler; the journal keeps no request body for them.
	StateBody
)

// Route is one line of the routing table.
type Route struct {
	Methods []string // the methods WeChat serves it on; others get 43002 or 43001
	Path    string
	Access  Access
	Body    Body
	handler handler
}

// handler serves one route: it answers the success value or an error, and picks no status or
// errcode. A value is written as JSON without HTML escaping, except raw (a file) and streamed
// (the handler wrote the response itself).
type handler func(*call) (any, error)

// raw is a success answer that is not JSON, or JSON whose bytes are fixed.
type raw struct {
	contentType string
	header      http.Header
	body        []byte
}

// streamed is the answer of a handler that wrote the response itself (the journal stream).
type streamed struct{}

// okBody is WeChat's plain success answer, byte for byte.
func okBody() raw {
	return raw{contentType: JSONContentType, body: []byte(`{"errcode":0,"errmsg":"ok"}`)}
}

// call is one request, as a handler sees it.
type call struct {
	s  *Server
	rt Route
	r  *http.Request
	w  http.ResponseWriter // for streaming handlers only
	// ctx is the request's context; on WeChat's routes it carries the platform's call, so that
	// the operation names its app, user and decoded body in the one journal entry.
	ctx  context.Context
	app  *platform.App // the app of the access_token, or the app a control call is about
	user string        // the openid a control call is about, for the journal
	body []byte        // nil on MultipartBody routes
	// openapi marks a call without access_token served through a container's open-API service.
	openapi bool
}

// OpenAPISeqIDHeader is the response header of a call through a container's open-API service
// (protocol §8.5).
const OpenAPISeqIDHeader = "x-openapi-seqid"

// openAPIApp is the app a call without access_token is served as, or nil (then 41001, as with
// the service off). In WeChat the call is recognised by the container's network origin, which
// a loopback emulator cannot see; wxemu serves it as the one app whose container has the
// open-API service on, or, when several have, as the one of them that knows the user the call
// names (query openid, body touser or openid).
// Deviation: any caller without a token is taken for the container (protocol §8.5).
func (s *Server) openAPIApp(rt Route, c *call) *platform.App {
	apps := s.p.OpenAPIApps()
	switch len(apps) {
	case 0:
		return nil
	case 1:
		return apps[0]
	}
	openid := c.query("openid")
	if openid == "" && rt.Body != MultipartBody && c.readBody(rt) == nil {
		for _, key := range [...]string{"touser", "openid"} {
			if v := gjson.GetBytes(c.body, key); v.Type == gjson.String && v.Str != "" {
				openid = v.Str
				break
			}
		}
	}
	if openid == "" {
		return nil
	}
	var found *platform.App
	for _, a := range apps {
		if _, ok := s.p.User(a.AppID, openid); ok {
			if found != nil {
				return nil
			}
			found = a
		}
	}
	return found
}

func (c *call) query(name string) string { return c.r.URL.Query().Get(name) }

// The router matches the encoded path (UseEncodedPath), so a variable is unescaped here: a
// client that writes kf1%40wxemu_demo means kf1@wxemu_demo.
func (c *call) pathVar(name string) string {
	v := mux.Vars(c.r)[name]
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

// decode reads the JSON body of a WeChat API route into v: 44002 when empty, 47001 when not a
// JSON object of v's field types.
func (c *call) decode(v any) error { return platform.DecodeBody(c.body, v) }

// openidOf is the user a request names in its path or query, for the journal.
func openidOf(r *http.Request) string {
	if v := mux.Vars(r)["openid"]; v != "" {
		return v
	}
	return r.URL.Query().Get("openid")
}

// answer is a response as the adapter writes it.
type answer struct {
	status      int
	contentType string
	header      http.Header
	body        []byte
}

// statusError is a control-plane refusal that is about HTTP itself (a wrong method, a body too
// large), which no platform operation makes.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

// adapt wraps the handlers of the routes of one path.
func (s *Server) adapt(same []Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt := same[0]
		for _, x := range same {
			if allowed(x.Methods, r.Method) {
				rt = x
				break
			}
		}
		if rt.Access == Control {
			s.serveControl(rt, w, r)
		} else {
			s.serveWeChat(rt, w, r)
		}
	})
}

// serveWeChat serves a route of WeChat's API and journals exactly one api entry for it.
func (s *Server) serveWeChat(rt Route, w http.ResponseWriter, r *http.Request) {
	start := clock.Real{}.Now()
	ctx, pc := s.p.BeginCall(r.Context(), rt.Path)
	c := &call{s: s, rt: rt, r: r, w: w, ctx: ctx}
	v, err := s.run(rt, c, pc)
	// The operation names the user from the body it decoded; the query names the rest.
	if openid := openidOf(r); openid != "" {
		pc.SetUser(openid)
	}
	if status, cut := s.writeFault(w, err); cut {
		s.p.EndCall(pc, platform.NewExchange(r.Method, r.URL.RequestURI(), c.body, status, "", nil), err, sinceMS(start))
		return
	}
	var res answer
	if err == nil {
		res, err = success(v)
	}
	if err != nil {
		res = s.wechatError(err)
	}
	if c.openapi {
		// Deviation: the value's shape is not documented (protocol §8.5); wxemu writes a rid.
		res.header = res.header.Clone()
		if res.header == nil {
			res.header = http.Header{}
		}
		res.header.Set(OpenAPISeqIDHeader, s.p.Rid())
	}
	write(w, res)
	s.p.EndCall(pc, platform.NewExchange(r.Method, r.URL.RequestURI(), c.body, res.status, res.contentType, res.body), err, sinceMS(start))
}

// serveControl serves a route of the control plane and journals its calls that change
// something and its failures.
func (s *Server) serveControl(rt Route, w http.ResponseWriter, r *http.Request) {
	start := clock.Real{}.Now()
	began := s.p.LastSeq()
	c := &call{s: s, rt: rt, r: r, w: w, ctx: r.Context(), user: openidOf(r)}
	v, err := s.run(rt, c, nil)
	if _, ok := v.(streamed); ok && err == nil {
		return
	}
	var res answer
	if err == nil {
		res, err = success(v)
	}
	if err != nil {
		res = s.controlError(rt, r.Method, err)
	}
	write(w, res)
	if err != nil || r.Method != http.MethodGet {
		appID := ""
		if c.app != nil {
			appID = c.app.AppID
		}
		s.p.RecordControlCall(began, r.Method+" "+rt.Path, appID, c.user,
			platform.NewExchange(r.Method, r.URL.RequestURI(), c.body, res.status, res.contentType, res.body), err, sinceMS(start))
	}
}

// run checks access and method, reads the body and calls the handler. pc is the platform's call
// on WeChat's routes, nil on the control plane's.
func (s *Server) run(rt Route, c *call, pc *platform.Call) (any, error) {
	if rt.Access == TokenRequired && c.query("access_token") == "" {
		if app := s.openAPIApp(rt, c); app != nil {
			// A container's call through the open-API service (protocol §8.5).
			pc.SetApp(app)
			c.openapi = true
			if !app.Container.Allows(rt.Path) {
				return nil, wire.Errorf(wire.CodeOpenAPINotAllowed, "%s is not in the allow list of app %s's open-API service (container.openapi_allow)", rt.Path, app.Name())
			}
			c.app = app
		}
	}
	if rt.Access == TokenRequired && c.app == nil {
		// The token is checked before the method, as WeChat does (protocol §9).
		app, err := s.p.CheckToken(c.query("access_token"))
		if app != nil {
			// A refused token still names its app (42001 knows whose token expired).
			pc.SetApp(app)
		}
		if err != nil {
			c.nameRefusedUser(rt, pc)
			return nil, err
		}
		c.app = app
	}
	if !allowed(rt.Methods, c.r.Method) {
		return nil, wrongMethod(rt, c.r.Method)
	}
	if err := c.readBody(rt); err != nil {
		return nil, err
	}
	if rt.Access == Control {
		if err := c.checkOpenIDs(); err != nil {
			return nil, err
		}
	} else if err := s.injectFault(rt, c, pc); err != nil {
		return nil, err
	}
	return rt.handler(c)
}

// checkOpenIDs bounds the openids a control call names, in its path or as "openid" in its JSON
// body, before any of them becomes a user.
func (c *call) checkOpenIDs() error {
	if err := checkOpenID(c.pathVar("openid"), "the openid in the path"); err != nil {
		return err
	}
	if len(c.body) > 0 {
		if v := gjson.GetBytes(c.body, "openid"); v.Type == gjson.String {
			return checkOpenID(v.Str, `"openid"`)
		}
	}
	return nil
}

func checkOpenID(openid, where string) error {
	if len(openid) > maxOpenID {
		return platform.BadRequest("%s is %d bytes long; an openid is at most %d (WeChat's have 28 characters, like %s)", where, len(openid), maxOpenID, "o6_bmjrPTlm6_2sgVt7hMZOPfL2M")
	}
	for _, r := range openid {
		if r < 0x21 || r == 0x7f {
			return platform.BadRequest("%s %q has a space or control character; an openid is letters, digits, - and _ (WeChat's have 28 characters, like %s)", where, openid, "o6_bmjrPTlm6_2sgVt7hMZOPfL2M")
		}
	}
	return nil
}

// nameRefusedUser names, for the journal, the user of a call refused for its access token, so
// that the refusal counts as a call about that user: the body is read (for the journal too), and
// the user is its "touser" or "openid" when it is a JSON body that has one, found without judging
// the rest. The query's openid is named for every call.
func (c *call) nameRefusedUser(rt Route, pc *platform.Call) {
	if rt.Body == MultipartBody || c.readBody(rt) != nil || len(c.body) == 0 {
		return
	}
	for _, key := range [...]string{"touser", "openid"} {
		if v := gjson.GetBytes(c.body, key); v.Type == gjson.String && v.Str != "" {
			pc.SetUser(v.Str)
			return
		}
	}
}

// wrongMethod is the answer to a method a route is not served on.
func wrongMethod(rt Route, method string) error {
	switch {
	case rt.Access == Control:
		return &statusError{http.StatusMethodNotAllowed, fmt.Sprintf("%s %s: use %s", method, rt.Path, strings.Join(rt.Methods, " or "))}
	case containsMethod(rt.Methods, http.MethodPost):
		return wire.Errorf(wire.CodeRequirePOST, "%s is POST only", rt.Path)
	}
	return wire.Errorf(wire.CodeRequireGET, "%s is GET only", rt.Path)
}

// readBody reads the body of a route that is not multipart, bounded; a multipart body is left
// to its handler, bounded too.
func (c *call) readBody(rt Route) error {
	if c.r.Body == nil || c.body != nil {
		return nil // no body, or read already
	}
	switch rt.Body {
	case MultipartBody:
		c.r.Body = http.MaxBytesReader(c.w, c.r.Body, maxUploadBody)
		return nil
	case StateBody:
		c.r.Body = http.MaxBytesReader(c.w, c.r.Body, maxStateBody)
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(c.r.Body, maxBody+1))
	if err != nil {
		if rt.Access == Control {
			return platform.BadRequest("read the body: %v", err)
		}
		return wire.Errorf(wire.CodeDataFormatError, "read the body: %v", err)
	}
	if len(body) > maxBody {
		return tooLarge(rt, maxBody)
	}
	c.body = body
	return nil
}

// tooLarge is the answer to a body over the server's bound: 413 on the control plane, 45001 for
// an upload and 47001 for a JSON body on WeChat's paths.
func tooLarge(rt Route, limit int) error {
	switch {
	case rt.Access == Control:
		return &statusError{http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", limit)}
	case rt.Body == MultipartBody:
		return wire.Errorf(wire.CodeMediaSizeLimit, "the body is larger than %d bytes", limit)
	}
	return wire.Errorf(wire.CodeDataFormatError, "the body is larger than %d bytes", limit)
}

func isMultipart(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/")
}

func allowed(methods []string, m string) bool {
	if m == http.MethodHead {
		m = http.MethodGet
	}
	return containsMethod(methods, m)
}

func containsMethod(methods []string, m string) bool {
	for _, x := range methods {
		if x == m {
			return true
		}
	}
	return false
}

// success is the answer of a handler's value: raw as it is, anything else as JSON.
func success(v any) (answer, error) {
	if x, ok := v.(raw); ok {
		return answer{status: http.StatusOK, contentType: x.contentType, header: x.header, body: x.body}, nil
	}
	body, err := textenc.MarshalJSON(v)
	if err != nil {
		return answer{}, fmt.Errorf("encode the answer: %w", err)
	}
	return answer{status: http.StatusOK, contentType: JSONContentType, body: body}, nil
}

// wechatError is WeChat's answer to err: its errcode with the catalog's errmsg. An error no rule
// maps is -1 system error, a bug of wxemu, which the platform logs as it journals the call.
func (s *Server) wechatError(err error) answer {
	return s.errcodeAnswer(platform.Code(err))
}

// errcodeAnswer is {"errcode":N,"errmsg":"… rid: …"}, the rid left out when configured so.
func (s *Server) errcodeAnswer(code int) answer {
	rid := ""
	if s.rid && code != 0 {
		rid = s.p.Rid()
	}
	return answer{status: http.StatusOK, contentType: JSONContentType, body: wire.ErrorBody(nil, code, rid)}
}

// controlError is the control plane's answer to err: a status and {"error": "…"} that says what
// failed and how to fix it. An error no rule maps is 500, a bug of wxemu, and logged.
func (s *Server) controlError(rt Route, method string, err error) answer {
	var status int
	var msg string
	var se *statusError
	if errors.As(err, &se) {
		status, msg = se.status, se.msg
	} else {
		var mapped bool
		status, msg, mapped = platform.ControlAnswer(err)
		if !mapped {
			s.log.Error("unmapped error answered as HTTP 500", "route", method+" "+rt.Path, "err", err)
		}
	}
	return errorAnswer(status, msg)
}

func errorAnswer(status int, msg string) answer {
	body, err := textenc.MarshalJSON(map[string]string{"error": msg})
	if err != nil {
		// A map of strings always encodes; keep the answer a JSON object regardless.
		body = []byte(`{"error":"wxemu failed"}`)
	}
	return answer{status: status, contentType: JSONContentType, body: body}
}

func write(w http.ResponseWriter, res answer) {
	for k, vs := range res.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if res.contentType != "" {
		w.Header().Set("Content-Type", res.contentType)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(res.body)))
	w.WriteHeader(res.status)
	_, _ = w.Write(res.body)
}

func sinceMS(start time.Time) float64 {
	return float64(clock.Since(start).Microseconds()) / 1000
}

// unknown answers a path WeChat does not serve, and journals it as a finding: an unexpected
// request is a finding about the bot, not a 200.
func (s *Server) unknown(w http.ResponseWriter, r *http.Request) {
	var res answer
	var problem string
	if strings.HasPrefix(r.URL.Path, "/_emu/") {
		problem = "not a control-plane route; see GET /_emu/v1/routes"
		res = errorAnswer(http.StatusNotFound, r.Method+" "+r.URL.Path+" is "+problem)
	} else {
		// Deviation: what WeChat answers for a path it does not serve is not documented; wxemu
		// answers 40066 invalid url (protocol §7.2), the code WeChat gives for a bad path.
		problem = "not an API wxemu serves (answered 40066 invalid url); see GET /_emu/v1/routes"
		res = s.errcodeAnswer(wire.CodeInvalidURL)
	}
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(r.Body, maxBody))
	}
	write(w, res)
	s.p.RecordFinding(problem, platform.NewExchange(r.Method, r.URL.RequestURI(), body, res.status, res.contentType, res.body))
}
