package apiserver

import (
	"crypto/subtle"
	"fmt"
	"html"
	"net/http"
	"strings"
)

// ConsolePath is where the web console is served; a browser (a GET that accepts text/html)
// gets it at / too.
const ConsolePath = "/_emu/console/"

// SetConsole sets the handler of the web console's files (emulator/console), which serves
// index.html at "/" and the other files by name. Nil serves no console. Set it before serving.
func (s *Server) SetConsole(h http.Handler) { s.console = h }

// isConsole reports whether r asks for the console: under ConsolePath, or / from a browser. An
// API client calling / (no text/html in Accept) keeps WeChat's answer.
// Deviation: WeChat answers / with an errcode whatever the client (protocol §7.2); wxemu shows a
// browser its console there, since no bot's HTTP client asks for text/html.
func (s *Server) isConsole(r *http.Request) bool {
	if s.console == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	if r.URL.Path == "/_emu/console" || strings.HasPrefix(r.URL.Path, ConsolePath) {
		return true
	}
	return r.URL.Path == "/" && strings.Contains(r.Header.Get("Accept"), "text/html")
}

// serveConsole serves the console's files under the control plane's rules: the Host must be
// one the control plane answers and a cross-site Origin is refused. With a control token, the
// page itself is served only to a request that carries it — as ?token=TOKEN on the URL that
// wxemu serve prints, or as Authorization: Bearer — and the page keeps it in sessionStorage and
// sends it as a header on every control call. The script and style files hold nothing secret
// and are served without it.
func (s *Server) serveConsole(w http.ResponseWriter, r *http.Request) {
	ca := s.access.Load()
	if host := hostOnly(r.Host); !ca.allowsHost(host) {
		s.refuseControl(w, r, http.StatusForbidden, fmt.Sprintf(
			"the console is not served to Host %q: it answers localhost, loopback addresses and the address it listens on; to allow this name, start wxemu serve with --host %s", r.Host, host))
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" && !sameOrigin(r, origin) && !ca.allowsOrigin(origin) {
		s.refuseControl(w, r, http.StatusForbidden, fmt.Sprintf("the console is not served to pages of Origin %q", origin))
		return
	}
	if r.URL.Path == "/_emu/console" {
		http.Redirect(w, r, ConsolePath, http.StatusMovedPermanently)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, ConsolePath)
	if r.URL.Path == "/" {
		name = ""
	}
	page := name == "" || name == "index.html"
	if page && ca.Token != "" {
		got := r.URL.Query().Get("token")
		if b, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			got = b
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(ca.Token)) != 1 {
			s.log.Warn("console: refused", "path", r.URL.Path, "host", r.Host, "reason", "no control token")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, "<!doctype html><meta charset=utf-8><title>wxemu console</title><p>The control plane of this wxemu needs its token. Open the console URL that <code>wxemu serve</code> printed, which ends in <code>?token=…</code>, e.g. <code>%s</code>.</p>",
				html.EscapeString("http://"+r.Host+ConsolePath+"?token=TOKEN"))
			return
		}
	}
	h := w.Header()
	// The console talks to this wxemu only: no other host is reachable from the page.
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + name
	s.console.ServeHTTP(w, r2)
}

// sameOrigin reports whether origin is the emulator's own, as the request reached it: the web
// console's module scripts and its POSTs carry Origin even to their own server. The Host has
// passed the control plane's check, so a rebinding name cannot pose as it.
func sameOrigin(r *http.Request, origin string) bool {
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	return r.Host != "" && strings.EqualFold(origin, scheme+r.Host)
}
