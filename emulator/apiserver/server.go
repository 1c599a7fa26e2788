// Package apiserver serves the emulated WeChat API on WeChat's own paths, and the control plane
// under /_emu/v1, over one gorilla/mux routing table. Handlers are small functions from a call
// to a response; one adapter checks access, writes every response and journals every call.
package apiserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/wire"
)

// JSONContentType is what WeChat's API answers JSON with (protocol §7.1, §10.7).
const JSONContentType = "application/json; encoding=utf-8"

// maxBody bounds request bodies; media uploads have their own, larger bound.
const (
	maxBody       = 1 << 20
	maxUploadBody = 12 << 20
)

// Server is the HTTP face of a platform.
type Server struct {
	p      *platform.Platform
	log    *slog.Logger
	router *mux.Router
	// rid appends " rid: …" to errmsg (protocol §7.1); config api.rid.
	rid bool
}

// New builds the server and its routes. It does not listen; use Handler with an http.Server.
func New(p *platform.Platform, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{p: p, log: log, router: mux.NewRouter(), rid: p.Config().API.RID}
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

// Handler returns the root handler.
func (s *Server) Handler() http.Handler { return s.router }

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

// Route is one line of the routing table.
type Route struct {
	Methods []string // the methods WeChat serves it on; others get 43002 or 43001
	Path    string
	Access  Access
	handler func(*call) response
}

// call is one request, as a handler sees it.
type call struct {
	s    *Server
	r    *http.Request
	w    http.ResponseWriter // for streaming handlers only
	app  *platform.App       // the app of the access_token, on TokenRequired routes
	body []byte
}

// response is what a handler answers; the adapter writes it and journals it.
type response struct {
	status      int
	contentType string
	header      http.Header
	body        []byte
	errcode     int    // the errcode of a WeChat API answer, 0 for success
	detail      string // why the call failed, for the journal
	streamed    bool   // the handler wrote the response itself
}

func (c *call) query(name string) string { return c.r.URL.Query().Get(name) }

func (c *call) pathVar(name string) string { return mux.Vars(c.r)[name] }

// apiError answers a WeChat API error with errmsg from the catalog.
func (s *Server) apiError(code int, detail string) response {
	rid := ""
	if s.rid && code != 0 {
		rid = s.p.Rid()
	}
	return response{status: 200, contentType: JSONContentType, body: wire.ErrorBody(nil, code, rid), errcode: code, detail: detail}
}

// fromError answers err as WeChat would: a mapped domain error with its errcode; an unmapped one
// is a bug of wxemu, answered -1 system error and logged.
func (s *Server) fromError(err error) response {
	code := platform.Code(err)
	detail := err.Error()
	var ae *rules.APIError
	if errors.As(err, &ae) {
		detail = ae.Detail
	}
	if code == wire.CodeSystemError {
		s.log.Error("unmapped error answered as -1 system error", "err", err)
	}
	return s.apiError(code, detail)
}

// ok answers v as JSON with status 200.
func ok(v any) response {
	return jsonResponse(200, v)
}

func jsonResponse(status int, v any) response {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return response{status: 500, contentType: "text/plain; charset=utf-8", body: []byte("encode response: " + err.Error())}
	}
	return response{status: status, contentType: JSONContentType, body: bytes.TrimRight(buf.Bytes(), "\n")}
}

// okErrcode answers WeChat's plain success body.
func okErrcode() response {
	return response{status: 200, contentType: JSONContentType, body: []byte(`{"errcode":0,"errmsg":"ok"}`)}
}

// controlError answers a control-plane error: a status and a message for a person.
func controlError(status int, format string, args ...any) response {
	msg := fmt.Sprintf(format, args...)
	r := jsonResponse(status, map[string]string{"error": msg})
	r.detail = msg
	return r
}

// adapt wraps the handlers of the routes of one path: method and access checks, body reading,
// response writing and the journal entry.
func (s *Server) adapt(same []Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt := same[0]
		for _, x := range same {
			if allowed(x.Methods, r.Method) {
				rt = x
				break
			}
		}
		start := clock.Real{}.Now()
		c := &call{s: s, r: r, w: w}
		res := s.serve(rt, c)
		if !res.streamed {
			writeResponse(w, res)
		}
		if rt.Access != Control || res.status >= 400 || r.Method != http.MethodGet {
			s.journal(rt, c, res, float64(clock.Since(start).Microseconds())/1000)
		}
	})
}

func (s *Server) serve(rt Route, c *call) response {
	if rt.Access == TokenRequired {
		// The token is checked before the method, as WeChat does (protocol §9).
		app, err := s.p.CheckToken(c.query("access_token"))
		if err != nil {
			return s.fromError(err)
		}
		c.app = app
	}
	if !allowed(rt.Methods, c.r.Method) {
		if rt.Access == Control {
			return controlError(http.StatusMethodNotAllowed, "%s %s: use %s", c.r.Method, rt.Path, strings.Join(rt.Methods, " or "))
		}
		if containsMethod(rt.Methods, http.MethodPost) {
			return s.apiError(wire.CodeRequirePOST, fmt.Sprintf("%s is POST only", rt.Path))
		}
		return s.apiError(wire.CodeRequireGET, fmt.Sprintf("%s is GET only", rt.Path))
	}
	limit := int64(maxBody)
	if strings.HasPrefix(rt.Path, "/cgi-bin/media/upload") || strings.HasPrefix(rt.Path, "/customservice/kfaccount/uploadheadimg") {
		limit = maxUploadBody
	}
	if c.r.Body != nil && !isMultipart(c.r) {
		body, err := io.ReadAll(io.LimitReader(c.r.Body, limit+1))
		if err != nil {
			return controlError(http.StatusBadRequest, "read body: %v", err)
		}
		if int64(len(body)) > limit {
			if rt.Access == Control {
				return controlError(http.StatusRequestEntityTooLarge, "the body is larger than %d bytes", limit)
			}
			return s.apiError(wire.CodeDataFormatError, fmt.Sprintf("the body is larger than %d bytes", limit))
		}
		c.body = body
	}
	return rt.handler(c)
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

func writeResponse(w http.ResponseWriter, res response) {
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

const journalBodyLimit = 64 << 10

func (s *Server) journal(rt Route, c *call, res response, ms float64) {
	kind := state.EntryAPI
	if rt.Access == Control {
		kind = state.EntryControl
	}
	s.record(kind, c, res, ms, rt.Path)
}

func (s *Server) record(kind string, c *call, res response, ms float64, path string) {
	d := &state.APICall{Method: c.r.Method, Path: path, URL: c.r.URL.RequestURI(), Status: res.status, Errcode: res.errcode, Detail: res.detail}
	d.RequestBody = clipBody(c.body)
	if strings.HasPrefix(res.contentType, "application/json") {
		d.ResponseBody = clipBody(res.body)
	} else if len(res.body) > 0 {
		d.ResponseBody = fmt.Sprintf("(%d bytes of %s)", len(res.body), res.contentType)
	}
	e := state.Entry{Kind: kind, DurationMS: ms, Data: d}
	if c.app != nil {
		e.App = c.app.AppID
	}
	e.User = userOf(c)
	summary := c.r.Method + " " + path
	switch {
	case res.errcode != 0:
		e.Errors = 1
		msg, _ := wire.Errmsg(res.errcode)
		summary += fmt.Sprintf(" → %d %s", res.errcode, msg)
		if res.detail != "" {
			summary += ": " + res.detail
		}
	case res.status >= 400:
		e.Errors = 1
		summary += fmt.Sprintf(" → HTTP %d: %s", res.status, res.detail)
	default:
		summary += " → ok"
	}
	e.Summary = summary
	s.p.Record(e)
}

// userOf finds the openid a call is about, for journal filters.
func userOf(c *call) string {
	if v := mux.Vars(c.r)["openid"]; v != "" {
		return v
	}
	if v := c.r.URL.Query().Get("openid"); v != "" {
		return v
	}
	if len(c.body) > 0 && c.body[0] == '{' {
		var probe struct {
			ToUser string `json:"touser"`
			OpenID string `json:"openid"`
		}
		if json.Unmarshal(c.body, &probe) == nil {
			if probe.ToUser != "" {
				return probe.ToUser
			}
			return probe.OpenID
		}
	}
	return ""
}

func clipBody(b []byte) string {
	if len(b) > journalBodyLimit {
		return string(b[:journalBodyLimit]) + fmt.Sprintf("… (%d bytes in all)", len(b))
	}
	return string(b)
}

// unknown answers a path or method WeChat does not serve, and journals it: an unexpected request
// is a finding, not a 200.
func (s *Server) unknown(w http.ResponseWriter, r *http.Request) {
	c := &call{s: s, r: r}
	var res response
	if strings.HasPrefix(r.URL.Path, "/_emu/") {
		res = controlError(http.StatusNotFound, "%s %s is not a control-plane route; see GET /_emu/v1/routes", r.Method, r.URL.Path)
	} else {
		// Deviation: what WeChat answers for a path it does not serve is not documented; wxemu
		// answers 40066 invalid url (protocol §7.2), the code WeChat gives for a bad path.
		res = s.apiError(wire.CodeInvalidURL, fmt.Sprintf("%s %s is not an API wxemu serves", r.Method, r.URL.Path))
	}
	writeResponse(w, res)
	s.record(state.EntryUnknown, c, res, 0, r.URL.Path)
}
