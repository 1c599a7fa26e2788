package harness

// The bot's side of a test: starting it — a process (`wxemu run --exec`, the end-to-end specs) or
// a handler served in the test's own process (emutest) — waiting until it answers WeChat's GET
// handshake, and stopping it. Nothing here knows the platform: a bot is a URL and a token.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/textenc"
	"github.com/wxemu/wxemu/emulator/wire"
)

// CallbackPath is the path of the callback URL of a bot the harness serves, and the usual one of
// a bot it starts.
const CallbackPath = "/wx"

// FreePort finds a loopback port nothing listens on, for a bot to take: the emulator needs the
// bot's callback URL before the bot runs, because the bot needs the emulator's URL to start.
// Another process may take the port before the bot does; the bot then fails to listen, and
// WaitReady says so.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port for the bot: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	return port, ln.Close()
}

// BotSpec says how to start a bot process. Set Command or Args.
type BotSpec struct {
	// Command is run with sh -c in a process group of its own, so that stopping the bot stops
	// what it started (go run, npm start, …) too.
	Command string
	// Args is the program and its arguments, run without a shell, when Command is empty.
	Args []string
	// Env is added to this process's environment: WXEMU_API_BASE, PORT, the app's credentials.
	Env []string
	// Output, if not nil, gets what the bot prints, each line prefixed with Prefix, as it comes.
	// Bot.Output keeps the last of it either way.
	Output io.Writer
	// Prefix begins each line written to Output. Default "bot| ".
	Prefix string
	// Keep is how many of the last bytes the bot printed Bot.Output holds. Default 64 KiB.
	Keep int
}

// Bot is a bot process StartBot started. Stop it with Stop.
type Bot struct {
	cmd  *exec.Cmd
	out  *tail
	done chan struct{} // closed when the process has exited
	err  error         // how it exited; written before done is closed
}

// StartBot starts the bot process spec describes. It does not wait for the bot to listen: call
// WaitReady for that.
func StartBot(spec BotSpec) (*Bot, error) {
	var cmd *exec.Cmd
	switch {
	case spec.Command != "":
		cmd = exec.Command("sh", "-c", spec.Command)
	case len(spec.Args) > 0:
		cmd = exec.Command(spec.Args[0], spec.Args[1:]...)
	default:
		return nil, errors.New("start the bot: no command")
	}
	cmd.Env = append(os.Environ(), spec.Env...)
	setProcessGroup(cmd)
	keep := spec.Keep
	if keep <= 0 {
		keep = 64 << 10
	}
	b := &Bot{cmd: cmd, out: &tail{max: keep}, done: make(chan struct{})}
	var w io.Writer = b.out
	if spec.Output != nil {
		prefix := spec.Prefix
		if prefix == "" {
			prefix = "bot| "
		}
		w = io.MultiWriter(b.out, &prefixed{w: spec.Output, prefix: prefix})
	}
	cmd.Stdout, cmd.Stderr = w, w
	// A grandchild that keeps the output open must not keep Wait from returning.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the bot: %w", err)
	}
	go func() {
		b.err = cmd.Wait()
		close(b.done)
	}()
	return b, nil
}

// Pid is the bot's process id.
func (b *Bot) Pid() int { return b.cmd.Process.Pid }

// Output is the last of what the bot printed, stdout and stderr together; it begins with "…" and
// a line break when older output was dropped.
func (b *Bot) Output() string { return b.out.String() }

// Done is closed when the bot has exited.
func (b *Bot) Done() <-chan struct{} { return b.done }

// Exited reports whether the bot has exited.
func (b *Bot) Exited() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

// Err is how the bot exited: nil for status 0, and nil while it runs.
func (b *Bot) Err() error {
	if !b.Exited() {
		return nil
	}
	return b.err
}

// Stop asks the bot's process group to stop (SIGTERM) and waits for it; after grace it kills the
// group (SIGKILL) and says so. A bot that has exited already is left as it is. How the bot
// exited is Err.
func (b *Bot) Stop(grace time.Duration) error {
	if b.Exited() {
		return nil
	}
	terminate(b.cmd)
	ctx, cancel := clock.WithTimeout(context.Background(), grace)
	defer cancel()
	select {
	case <-b.done:
		return nil
	case <-ctx.Done():
	}
	kill(b.cmd)
	<-b.done
	return fmt.Errorf("the bot did not stop within %s of SIGTERM and was killed", grace)
}

// WaitReady is the package's WaitReady for a bot this process started: it gives up as soon as the
// bot exits, with how it exited.
func (b *Bot) WaitReady(ctx context.Context, url, token string, timeout time.Duration) error {
	return waitReady(ctx, url, token, timeout, b)
}

// WaitReady makes WeChat's GET handshake (protocol §1.2: signature, timestamp, nonce, echostr) at
// the callback URL, signed with token, until the bot answers it with the echostr, ctx ends, or
// timeout passes; the handshake is made every 100 ms. A bot that answers wrongly ten times is not
// waited for to the end. A bot that is not ready is a *NotReadyError; an ended ctx is ctx.Err().
func WaitReady(ctx context.Context, url, token string, timeout time.Duration) error {
	return waitReady(ctx, url, token, timeout, nil)
}

// NotReadyReason says why a bot is not ready.
type NotReadyReason int

const (
	// BotExited: the process exited before answering the handshake.
	BotExited NotReadyReason = iota + 1
	// BotAnswersWrongly: it answered the handshake wrongly too often: a status other than 200, or
	// not the echostr — usually a token that is not the app's.
	BotAnswersWrongly
	// BotTimedOut: nothing answered the handshake in time, or not rightly.
	BotTimedOut
)

// wrongAnswers is how many wrong answers to the handshake WaitReady takes before giving up.
const wrongAnswers = 10

// NotReadyError says why a bot did not answer the handshake.
type NotReadyError struct {
	URL     string // the callback URL
	Reason  NotReadyReason
	Timeout time.Duration // how long WaitReady would wait
	ExitErr error         // BotExited: how the process exited (nil for status 0)
	// Last is the last handshake made: its answer (Status 0 when none came) and the violations.
	Last *push.VerifyResult
}

func (e *NotReadyError) Error() string {
	switch e.Reason {
	case BotExited:
		how := "exit status 0"
		if e.ExitErr != nil {
			how = e.ExitErr.Error()
		}
		return fmt.Sprintf("the bot is not ready: it exited (%s) before answering the handshake at %s", how, e.URL)
	case BotAnswersWrongly:
		return "the bot is not ready: " + e.answer()
	}
	if e.Last != nil && e.Last.Status != 0 {
		return fmt.Sprintf("the bot is not ready: %s after %s", e.answer(), e.Timeout)
	}
	msg := fmt.Sprintf("the bot is not ready: nothing answers at %s after %s", e.URL, e.Timeout)
	if e.Last != nil && e.Last.Error != "" {
		msg += ": " + e.Last.Error
	}
	return msg
}

// answer describes the last wrong answer: its status, body and what is wrong with it.
func (e *NotReadyError) answer() string {
	s := fmt.Sprintf("it answers the handshake at %s with HTTP %d %q", e.URL, e.Last.Status, textenc.Clip(e.Last.Body, 80))
	for _, v := range e.Last.Violations {
		if v.Severity == rules.Error {
			return s + ": " + v.Message
		}
	}
	return s
}

func waitReady(ctx context.Context, url, token string, timeout time.Duration, bot *Bot) error {
	// Only the token and the URL take part in the handshake; the rest of the app is the demo's
	// so that the target is complete.
	t, err := push.NewTarget(push.App{Kind: wire.OA, AppID: config.DemoOAAppID, OriginalID: config.DemoOAOriginalID, Token: token, URL: url})
	if err != nil {
		return fmt.Errorf("wait for the bot: %w", err)
	}
	e := push.New(push.Config{Timeout: timeout})
	// No idle connection may outlive the wait: it would hold the bot's graceful shutdown.
	defer e.Close()
	wait, cancel := clock.WithTimeout(ctx, timeout)
	defer cancel()
	var exited <-chan struct{}
	if bot != nil {
		exited = bot.done
	}
	notReady := func(reason NotReadyReason, last *push.VerifyResult) error {
		ne := &NotReadyError{URL: url, Reason: reason, Timeout: timeout, Last: last}
		if bot != nil && bot.Exited() {
			ne.Reason, ne.ExitErr = BotExited, bot.err
		}
		return ne
	}
	wrong := 0
	var last *push.VerifyResult
	for {
		if bot != nil && bot.Exited() {
			return notReady(BotExited, last)
		}
		r := e.Verify(wait, t)
		if r.Pass {
			return nil
		}
		last = r
		if r.Status != 0 {
			if wrong++; wrong >= wrongAnswers {
				return notReady(BotAnswersWrongly, last)
			}
		}
		pause, stop := clock.WithTimeout(wait, 100*time.Millisecond)
		select {
		case <-pause.Done():
		case <-exited:
		}
		stop()
		if wait.Err() != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return notReady(BotTimedOut, last)
		}
	}
}

// BotServer serves a bot's handler on a loopback port of its own, for a bot that runs in the
// test's process. Its handler may be set after it starts: a sample bot needs the emulator's URL as
// its API base, and the emulator needs the bot's callback URL before it starts.
type BotServer struct {
	// URL is the callback URL: http://127.0.0.1:PORT/wx. The handler gets every path.
	URL string

	srv     *http.Server
	served  chan struct{}  // closed when Serve has returned
	active  sync.WaitGroup // the requests being served; added to only under mu, before closed
	closing sync.Once

	mu     sync.Mutex // guards h and closed
	h      http.Handler
	closed bool
}

// ServeBot serves h on 127.0.0.1 at a free port. A nil h answers 503 until SetHandler.
func ServeBot(h http.Handler) (*BotServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("serve the bot: %w", err)
	}
	s := &BotServer{
		URL:    "http://" + ln.Addr().String() + CallbackPath,
		h:      h,
		served: make(chan struct{}),
	}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(s.served)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// SetHandler sets the handler that answers from now on.
func (s *BotServer) SetHandler(h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.h = h
}

func (s *BotServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	h, closed := s.h, s.closed
	if !closed {
		s.active.Add(1)
	}
	s.mu.Unlock()
	if closed {
		http.Error(w, "the bot has stopped", http.StatusServiceUnavailable)
		return
	}
	defer s.active.Done() // also when the handler panics: net/http recovers it
	if h == nil {
		http.Error(w, "the bot is not ready: its handler is set once the emulator has started", http.StatusServiceUnavailable)
		return
	}
	h.ServeHTTP(w, r)
}

// Close stops the server and waits for the requests it is serving. A handler with a Close method
// (a sample bot) is closed first, so that a request it holds — the slow bot's — does not keep
// Close waiting.
func (s *BotServer) Close() error {
	var err error
	s.closing.Do(func() {
		s.mu.Lock()
		h := s.h
		s.closed = true
		s.mu.Unlock()
		if c, ok := h.(interface{ Close() }); ok {
			c.Close()
		}
		err = s.srv.Close()
		<-s.served
		// The requests being served finish, as httptest.Server.Close waits for them.
		s.active.Wait()
	})
	return err
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex // guards buf and cut
	buf []byte
	cut bool
	max int
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.cut = true
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cut {
		return "…\n" + string(t.buf)
	}
	return string(t.buf)
}

// prefixed writes each line with a prefix, so the bot's output stands apart from wxemu's.
type prefixed struct {
	mu     sync.Mutex // guards w and mid
	w      io.Writer
	prefix string
	mid    bool // the last write ended inside a line
}

func (p *prefixed) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []byte
	for _, c := range b {
		if !p.mid {
			out = append(out, p.prefix...)
			p.mid = true
		}
		out = append(out, c)
		if c == '\n' {
			p.mid = false
		}
	}
	if _, err := p.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}
