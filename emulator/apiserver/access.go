package apiserver

import (
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// ControlAccess says who may drive the control plane (/_emu/). WeChat's own paths are not
// concerned: access tokens guard them, as in WeChat.
//
// The control plane can reset, import and read every secret, so a web page the person has open
// must not drive it: a request that carries an Origin (browsers send one on cross-site and on
// every non-GET fetch) is refused unless the origin is listed, and a request whose Host is a name
// the emulator was not told about is refused, which defeats DNS rebinding (the page's own name
// resolving to 127.0.0.1).
type ControlAccess struct {
	// Origins may call the control plane from a browser, e.g. "http://localhost:3000"; they get
	// CORS answers, preflight included. Default none.
	Origins []string
	// Hosts are host names (without port) the control plane answers besides localhost, loopback
	// addresses, the bound address and, when bound to every interface, any IP address.
	Hosts []string
	// Bound is the address the listener is bound to (set by the emulator on Start).
	Bound string
	// Token, when set, must come as "Authorization: Bearer TOKEN" on every control call, except
	// GET /_emu/v1/media/{id}, the stand-in for WeChat's CDN whose URLs the token-guarded
	// /cgi-bin/media/get hands to bots. Default none (loopback).
	Token string
}

// SetControlAccess replaces who may drive the control plane. Safe to call while serving.
func (s *Server) SetControlAccess(ca ControlAccess) {
	ca.Origins = append([]string(nil), ca.Origins...)
	ca.Hosts = append([]string(nil), ca.Hosts...)
	s.access.Store(&ca)
}

// ControlAccess is the current access rule of the control plane.
func (s *Server) ControlAccess() ControlAccess {
	ca := *s.access.Load()
	ca.Origins = append([]string(nil), ca.Origins...)
	ca.Hosts = append([]string(nil), ca.Hosts...)
	return ca
}

// guardControl checks a request under /_emu/ and answers it when refused (or when it is a CORS
// preflight). It returns whether the request may go on to its route.
func (s *Server) guardControl(w http.ResponseWriter, r *http.Request) bool {
	ca := s.access.Load()
	if host := hostOnly(r.Host); !ca.allowsHost(host) {
		s.refuseControl(w, r, http.StatusForbidden, fmt.Sprintf(
			"the control plane does not answer Host %q: it answers localhost, loopback addresses and the address it listens on; to allow this name, start wxemu serve with --host %s", r.Host, host))
		return false
	}
	origin := r.Header.Get("Origin")
	if origin != "" && !sameOrigin(r, origin) {
		if !ca.allowsOrigin(origin) {
			s.refuseControl(w, r, http.StatusForbidden, fmt.Sprintf(
				"the control plane refuses calls from web pages: Origin %q is not allowed; to allow it, start wxemu serve with --cors-origin %s", origin, origin))
			return false
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, PUT")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Last-Event-ID")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return false
		}
	}
	if ca.Token != "" && !(r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/_emu/v1/media/")) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(ca.Token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="wxemu control plane"`)
			s.refuseControl(w, r, http.StatusUnauthorized,
				"the control plane needs its token: send Authorization: Bearer TOKEN (the token wxemu serve printed, or gave with --control-token); the wxemu commands send $WXEMU_CONTROL_TOKEN")
			return false
		}
	}
	return true
}

// refuseControl answers a refused control call; the body is not read and nothing is journaled
// (a forged request must not fill the journal either), but the log says it.
func (s *Server) refuseControl(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.log.Warn("control plane: refused", "method", r.Method, "path", r.URL.Path, "host", r.Host, "origin", r.Header.Get("Origin"), "status", status)
	write(w, errorAnswer(status, msg))
}

func (ca *ControlAccess) allowsHost(host string) bool {
	if host == "" || strings.EqualFold(host, "localhost") {
		return true // no Host (HTTP/1.0) is no browser
	}
	for _, h := range ca.Hosts {
		if strings.EqualFold(h, host) {
			return true
		}
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	// DNS rebinding needs a name; an address the listener answers on is safe. Bound to every
	// interface, the listener answers on each of the machine's addresses.
	bound := net.ParseIP(hostOnly(ca.Bound))
	return bound != nil && (bound.IsUnspecified() || bound.Equal(ip))
}

func (ca *ControlAccess) allowsOrigin(origin string) bool {
	for _, o := range ca.Origins {
		if strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}

// hostOnly is the host of "host:port", "[::1]:port", "host" or "[::1]", without brackets.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
}

// CheckOrigin validates an origin given on the command line: scheme://host[:port], nothing
// else, as browsers send it.
func CheckOrigin(origin string) error {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return fmt.Errorf("origin %q: give scheme://host[:port], e.g. http://localhost:3000", origin)
	}
	return nil
}
