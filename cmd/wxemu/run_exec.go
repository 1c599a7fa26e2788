package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wxemu/wxemu/emulator"
	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/rules"
)

// botEnv is what a bot started by --exec needs to know: where WeChat's API is, its app's
// credentials, the port to listen on. Every app's credentials are also there under its alias,
// for a bot that serves several.
func botEnv(emu *emulator.Emulator, alias string, port int, callback string) []string {
	env := []string{
		"WXEMU_API_BASE=" + emu.URL(),
		"PORT=" + strconv.Itoa(port),
		"WXEMU_CALLBACK_URL=" + callback,
	}
	for _, a := range emu.Apps() {
		vars := [][2]string{
			{"APP", a.Alias}, {"KIND", a.Kind}, {"APPID", a.AppID}, {"APP_SECRET", a.Secret}, {"TOKEN", a.Token},
			{"AES_KEY", a.EncodingAESKey}, {"ORIGINAL_ID", a.OriginalID}, {"FORMAT", a.Format}, {"MODE", a.Mode},
		}
		for _, v := range vars {
			env = append(env, "WXEMU_"+envName(a.Alias)+"_"+v[0]+"="+v[1])
			if a.Alias == alias {
				env = append(env, "WXEMU_"+v[0]+"="+v[1])
			}
		}
	}
	return env
}

// envName turns an alias into the part of a variable name: upper case, _ for anything else.
func envName(alias string) string {
	b := []byte(strings.ToUpper(alias))
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

// botProcess is the bot --exec started, with the tail of what it printed.
type botProcess struct {
	cmd  *exec.Cmd
	out  *tail
	done chan struct{} // closed when the process has exited
	err  error         // how it exited; read after done
}

// startBot runs command with sh -c in a process group of its own, so that stopping it stops
// what it started (go run, npm start …) too.
func startBot(command string, env []string, echo io.Writer) (*botProcess, error) {
	cmd := exec.Command("sh", "-c", command)
	cmd.Env = append(os.Environ(), env...)
	setProcessGroup(cmd)
	b := &botProcess{cmd: cmd, out: &tail{max: 64 << 10}, done: make(chan struct{})}
	var w io.Writer = b.out
	if echo != nil {
		w = io.MultiWriter(b.out, &prefixed{w: echo, prefix: "bot| "})
	}
	cmd.Stdout, cmd.Stderr = w, w
	// A grandchild that keeps the output open must not keep Wait from returning.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		b.err = cmd.Wait()
		close(b.done)
	}()
	return b, nil
}

func (b *botProcess) pid() int { return b.cmd.Process.Pid }

func (b *botProcess) output() string { return b.out.String() }

func (b *botProcess) exited() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the bot's process group, and SIGKILL after grace.
func (b *botProcess) stop(grace time.Duration) error {
	if b.exited() {
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

// waitReady makes WeChat's GET handshake until the bot answers it, the bot exits, or timeout
// passes. A bot that keeps answering it wrongly is not waited for to the end.
func waitReady(ctx context.Context, emu *emulator.Emulator, app *platform.App, bot *botProcess, timeout time.Duration) error {
	t := app.Target()
	if t == nil {
		return fmt.Errorf("app %s has no callback URL", app.Alias)
	}
	wait, cancel := clock.WithTimeout(ctx, timeout)
	defer cancel()
	wrong, last := 0, ""
	for {
		if bot.exited() {
			return fmt.Errorf("it exited (%v) before answering the handshake at %s", bot.err, t.URL)
		}
		r := emu.Engine().Verify(wait, t)
		if r.Pass {
			return nil
		}
		if r.Status != 0 {
			wrong++
			last = fmt.Sprintf("it answers the handshake at %s with HTTP %d %q", t.URL, r.Status, clipText(r.Body, 80))
			for _, v := range r.Violations {
				if v.Severity == rules.Error {
					last += ": " + v.Message
					break
				}
			}
			if wrong >= 10 {
				return errors.New(last + " (is WXEMU_TOKEN used to check the signature?)")
			}
		}
		pause, stop := clock.WithTimeout(wait, 100*time.Millisecond)
		<-pause.Done()
		stop()
		if wait.Err() != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if last == "" {
				last = fmt.Sprintf("nothing answers at %s", t.URL)
			}
			return fmt.Errorf("%s after %s (does it listen on 127.0.0.1:$PORT, path %s? --ready-timeout waits longer)", last, timeout, pathOf(t.URL))
		}
	}
}

func pathOf(u string) string {
	if i := strings.Index(strings.TrimPrefix(u, "http://"), "/"); i >= 0 {
		return strings.TrimPrefix(u, "http://")[i:]
	}
	return "/"
}

func clipText(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
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
