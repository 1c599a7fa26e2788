package emulator

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/wxemu/wxemu/emulator/apiserver"
	"github.com/wxemu/wxemu/emulator/clock"
)

// Timeouts bound how long a connection may hold the emulator's HTTP server. Zero fields take the
// defaults below; a slow client is cut, never waited for.
type Timeouts struct {
	// Header is how long a request's headers may take to arrive. Default 10 s.
	Header time.Duration
	// Body is how long a request's body may take to arrive, from the end of its headers.
	// Default 60 s (a 256 MiB state import on loopback takes well under a second).
	Body time.Duration
	// Write is how long a request may take from its headers to the end of its answer; the
	// journal stream is exempt. Default 2 min: a control send waits for the bot's answer and
	// WeChat's retries (3 × the push deadline).
	Write time.Duration
	// Idle is how long a keep-alive connection may wait for its next request. Default 30 s.
	Idle time.Duration
}

func (t Timeouts) withDefaults() Timeouts {
	if t.Header <= 0 {
		t.Header = 10 * time.Second
	}
	if t.Body <= 0 {
		t.Body = 60 * time.Second
	}
	if t.Write <= 0 {
		t.Write = 2 * time.Minute
	}
	if t.Idle <= 0 {
		t.Idle = 30 * time.Second
	}
	return t
}

// SetTimeouts sets the HTTP server's timeouts; call it before Start.
func (e *Emulator) SetTimeouts(t Timeouts) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.timeouts = t.withDefaults()
}

// SetControlAccess sets who may drive the control plane (/_emu/): allowed web origins, extra
// host names and a bearer token (see apiserver.ControlAccess). Call it before Start, which adds
// the bound address; by default only loopback names are answered and no token is needed.
func (e *Emulator) SetControlAccess(ca apiserver.ControlAccess) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.access = ca
	e.api.SetControlAccess(ca)
}

// Drain stops accepting connections, ends the journal streams and waits, up to ctx, for the
// requests in flight (a control send waiting for its push) to end. Serve's --export-on-exit
// runs after it, so that the export holds what those requests did. Close still has to be called.
func (e *Emulator) Drain(ctx context.Context) error {
	e.mu.Lock()
	srv, done := e.srv, e.done
	e.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Shutdown(ctx)
	<-done // the listener is closed: Serve has returned or is returning
	return err
}

// bodyDeadline gives each request's body t.Body to arrive. It is a per-request read deadline
// rather than http.Server.ReadTimeout, which would also end a long call (a send waiting for its
// push, the journal stream) once the body was read: the deadline is lifted at the body's end.
func bodyDeadline(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			rc := http.NewResponseController(w)
			if rc.SetReadDeadline(clock.Real{}.Now().Add(d)) == nil {
				r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
			}
		}
		h.ServeHTTP(w, r)
	})
}

// deadlineBody lifts the read deadline when its body has been read to the end.
type deadlineBody struct {
	io.ReadCloser
	rc     *http.ResponseController
	lifted bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) && !b.lifted {
		b.lifted = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}
