package main

// Progress on stderr for waits a person would otherwise watch in silence: a bot that answers
// late or not at all (send: up to 3 × 5 s), a bot that takes its time to start (run --exec), a
// long scenario run. Nothing is printed for a wait that ends quickly.

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/wxemu/wxemu/emulator/clock"
)

// noticeAfter is how long a wait lasts before it is reported.
const noticeAfter = time.Second

// lockedWriter serialises writes from the goroutines that report progress.
type lockedWriter struct {
	mu sync.Mutex // guards w
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// waitNotes reports the attempts of a push that take long: a note when an attempt has gone
// unanswered for noticeAfter, and one when WeChat sends the message again.
type waitNotes struct {
	w        io.Writer
	cmd      string
	timeout  time.Duration
	attempts int

	mu sync.Mutex // guards n
	n  int        // attempts made
}

// transport wraps next so that each request of the push is an attempt it reports on.
func (p *waitNotes) transport(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		p.mu.Lock()
		p.n++
		n := p.n
		p.mu.Unlock()
		if n > 1 {
			fmt.Fprintf(p.w, "wxemu %s: attempt %d got no answer; WeChat sends the message again (attempt %d of %d)\n", p.cmd, n-1, n, p.attempts)
		}
		t := clock.Real{}.AfterFunc(noticeAfter, func() {
			fmt.Fprintf(p.w, "wxemu %s: waiting for the bot to answer attempt %d (WeChat waits %s)…\n", p.cmd, n, p.timeout)
		})
		defer t.Stop()
		return next.RoundTrip(r)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// pushTransport is the push engine's own transport: loopback bots, no proxy, keep-alive.
func pushTransport() *http.Transport {
	return &http.Transport{
		Proxy:               nil, // bots are local; an HTTP_PROXY in the environment must not capture them
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        16,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}

// ticker calls note every interval, with how long it has been, after a first wait of first,
// until stop is called. stop waits for a note being written.
func ticker(first, interval time.Duration, note func(elapsed time.Duration)) (stop func()) {
	start := clock.Real{}.Now()
	var mu sync.Mutex // guards stopped and t
	stopped := false
	var t clock.Timer
	var fire func()
	fire = func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		note(clock.Since(start).Round(time.Second))
		t = clock.Real{}.AfterFunc(interval, fire)
	}
	mu.Lock()
	t = clock.Real{}.AfterFunc(first, fire)
	mu.Unlock()
	return func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		t.Stop()
	}
}
