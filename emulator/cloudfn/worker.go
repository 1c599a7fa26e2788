package cloudfn

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/rules"
)

// loadLimit bounds a cold start: Node starting and index.js loading (its require of the SDK).
// It is not part of the function's time limit.
const loadLimit = 30 * time.Second

// resultLimit is the largest return value a function may give (-604001 above it, §8.4a).
const resultLimit = 1 << 20

// outputLimit bounds what a verdict keeps of a function's output; the journal has all of it.
const outputLimit = 64 << 10

// function is one cloud function: its folder, its settings and its warm worker. It is the
// platform.Function messages are routed to.
type function struct {
	h           *Host
	app         *platform.App
	name        string
	dir         string
	env         string
	toUser      string
	msgIDNumber bool
	source      string
	routes      []Route
	timeout     time.Duration // the spec's; 0: config.json's, else DefaultTimeout

	// slot is held by the invocation that runs and by a reload: one at a time, others queue.
	// Deviation: SCF starts more instances under load; wxemu runs one warm worker per function
	// and queues, so a slow function delays the next user's message (protocol §8.4a).
	slot chan struct{}

	mu      sync.Mutex // guards cfg, w, cur, last, stamp and stopped
	cfg     fnConfig
	w       *worker     // nil: the next invocation starts one (a cold start)
	cur     *invocation // the invocation running, if any
	last    *invocation // the invocation that ran last, for what it prints after it ended
	stamp   string      // the folder's fingerprint the worker was started on
	stopped bool
}

// Name is the function's name.
func (f *function) Name() string { return f.name }

// limit is the function's time limit.
func (f *function) limit() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.timeout > 0:
		return f.timeout
	case f.cfg.Timeout > 0:
		return time.Duration(f.cfg.Timeout * float64(time.Second))
	}
	return DefaultTimeout
}

// permissions is a copy of the openapi permissions of config.json.
func (f *function) permissions() map[string]bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	perms := make(map[string]bool, len(f.cfg.Permissions.OpenAPI))
	for _, p := range f.cfg.Permissions.OpenAPI {
		perms[p] = true
	}
	return perms
}

// worker is one Node process running the runner harness for a function.
type worker struct {
	f     *function
	cmd   *exec.Cmd
	inMu  sync.Mutex // guards writes to in
	in    *os.File   // commands: the runner's fd 3
	ready chan struct{}
	// load says why index.js did not load; set before ready is closed, nil when main is there.
	load   *jsError
	exited chan struct{}
	// exit says how the process ended; set before exited is closed.
	exit   string
	killed atomic.Bool // wxemu killed it: a timeout, a reload, Close
	dead   atomic.Bool // it reported a fatal error and is exiting
}

// jsError is what a function threw, rejected with or passed to its callback.
type jsError struct {
	Message string `json:"message"`
	Stack   string `json:"stack"`
	NoMain  bool   `json:"nomain"`
}

// report is one line the runner writes on its fd 4.
type report struct {
	T        string   `json:"t"`
	Inv      string   `json:"inv"`
	OK       bool     `json:"ok"`
	How      string   `json:"how"`
	Error    *jsError `json:"error"`
	Result   string   `json:"result"`
	Size     int      `json:"size"`
	TooLarge bool     `json:"tooLarge"`
	Fatal    bool     `json:"fatal"`
	Stream   string   `json:"stream"`
	Text     string   `json:"text"`
	Code     int      `json:"code"`
	Host     string   `json:"host"`
	Port     int      `json:"port"`
	Problem  string   `json:"problem"`
	Stack    string   `json:"stack"`
}

// invokeMsg is the command that runs exports.main once.
type invokeMsg struct {
	T       string            `json:"t"`
	Inv     string            `json:"inv"`
	Event   json.RawMessage   `json:"event"`
	Context scfContext        `json:"context"`
	Env     map[string]string `json:"env"`
	Unset   []string          `json:"unset,omitempty"`
	Limit   int               `json:"limit"`
}

// scfContext is the context argument of exports.main (protocol §8.4a).
type scfContext struct {
	FunctionName    string `json:"function_name"`
	FunctionVersion string `json:"function_version"`
	RequestID       string `json:"request_id"`
	TimeLimitMS     int64  `json:"time_limit_in_ms"`
	MemoryLimitMB   int    `json:"memory_limit_in_mb"`
	Namespace       string `json:"namespace"`
	Region          string `json:"tencentcloud_region"`
	Environ         string `json:"environ"`
}

// The process environment of a worker, built from scratch (protocol §8.4a): nothing of wxemu's
// own environment leaks in but PATH and HOME.
const (
	region    = "ap-shanghai"
	dummyID   = "AKIDwxemu0000000000000000000000000000"
	dummyKey  = "wxemu0000000000000000000000000000"
	memoryMB  = 256
	version   = "$LATEST"
	ctxKeys   = "WX_OPENID,WX_APPID,WX_UNIONID,WX_API_TOKEN"
	nodeFlags = "--require "
)

func (f *function) environ(gateway, dir string) []string {
	env := []string{
		"TENCENTCLOUD_RUNENV=SCF",
		"TENCENTCLOUD_REGION=" + region,
		"TENCENTCLOUD_SECRETID=" + dummyID,
		"TENCENTCLOUD_SECRETKEY=" + dummyKey,
		"SCF_NAMESPACE=" + f.env,
		"TCB_ENV=" + f.env,
		"SCF_FUNCTIONNAME=" + f.name,
		"SCF_FUNCTIONVERSION=" + version,
		`TCB_CONTEXT_CNFG={"URL":` + quote(gateway) + `}`,
		"WX_CONTEXT_KEYS=" + ctxKeys,
		"TCB_SOURCE=" + f.source,
		"NODE_OPTIONS=" + nodeFlags + quoteOption(filepath.Join(dir, "preload.js")),
		// Cloud functions run on UTC, not Beijing time: a classic surprise the docs warn of.
		"TZ=UTC",
	}
	for _, k := range []string{"PATH", "HOME"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// quoteOption quotes a path for NODE_OPTIONS, which splits on spaces.
func quoteOption(p string) string {
	if !strings.ContainsAny(p, " \"\\") {
		return p
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(p) + `"`
}

// warm starts the function's worker ahead of its first message.
func (f *function) warm() {
	if _, err := f.worker(); err != nil {
		f.h.log.Error("cloud function cannot start", "function", f.name, "err", err)
	}
}

// worker returns the function's worker, starting one if there is none (a cold start).
func (f *function) worker() (*worker, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return nil, errClosed
	}
	if w := f.w; w != nil {
		select {
		case <-w.exited:
		default:
			if !w.dead.Load() {
				return w, nil
			}
		}
	}
	gateway, dir, ok := f.h.started()
	if !ok {
		return nil, errClosed
	}
	w, err := f.start(gateway, dir)
	if err != nil {
		return nil, err
	}
	f.w = w
	return w, nil
}

// start starts a worker. The caller holds f.mu.
func (f *function) start(gateway, dir string) (*worker, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("function %s: a pipe to the worker: %w", f.name, err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("function %s: a pipe from the worker: %w", f.name, err)
	}
	cmd := exec.Command(f.h.node, filepath.Join(dir, "runner.js"))
	cmd.Dir = f.dir
	cmd.Env = f.environ(gateway, dir)
	cmd.ExtraFiles = []*os.File{inR, outW}
	cmd.Stdout = rawOutput{f: f, stream: "stdout"}
	cmd.Stderr = rawOutput{f: f, stream: "stderr"}
	// A process the function started may hold stdout open; the worker is gone all the same.
	cmd.WaitDelay = time.Second
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		for _, p := range []*os.File{inR, inW, outR, outW} {
			p.Close()
		}
		return nil, fmt.Errorf("function %s: start %s: %w", f.name, f.h.node, err)
	}
	inR.Close()
	outW.Close()
	w := &worker{f: f, cmd: cmd, in: inW, ready: make(chan struct{}), exited: make(chan struct{})}
	waited := make(chan struct{})
	var waitErr error
	f.h.wg.Add(2)
	go func() {
		defer f.h.wg.Done()
		waitErr = cmd.Wait()
		// What the runner wrote before it exited is still in the pipe; a process it started
		// may hold the pipe open, so reading stops a second later at most.
		_ = outR.SetReadDeadline(clock.Real{}.Now().Add(time.Second))
		close(waited)
	}()
	go func() {
		defer f.h.wg.Done()
		w.read(outR)
		<-waited
		outR.Close()
		w.inMu.Lock()
		w.in.Close()
		w.inMu.Unlock()
		w.exit = describeExit(waitErr, w.killed.Load())
		f.mu.Lock()
		if f.w == w {
			f.w = nil
		}
		f.mu.Unlock()
		if !w.killed.Load() {
			f.h.log.Warn("cloud function's worker exited; the next message starts it again", "function", f.name, "exit", w.exit)
		}
		close(w.exited)
	}()
	f.h.log.Debug("cloud function worker started", "function", f.name, "pid", cmd.Process.Pid)
	return w, nil
}

func describeExit(err error, killed bool) string {
	switch {
	case killed:
		return "stopped by wxemu"
	case err == nil:
		return "exit status 0"
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ProcessState.String()
	}
	return err.Error()
}

// read dispatches the runner's reports until the pipe ends.
func (w *worker) read(r *os.File) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			var rep report
			if jerr := json.Unmarshal(line, &rep); jerr != nil {
				w.f.h.log.Error("cloud function runner wrote a line that is not a report", "function", w.f.name, "err", jerr)
			} else {
				w.f.report(w, &rep)
			}
		}
		if err != nil {
			return
		}
	}
}

// send writes a command to the runner.
func (w *worker) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.inMu.Lock()
	defer w.inMu.Unlock()
	_, err = w.in.Write(append(b, '\n'))
	return err
}

// kill stops the worker's process group; exited is closed once it is gone.
func (w *worker) kill() {
	w.killed.Store(true)
	kill(w.cmd)
}

// stop kills the function's worker for good (Close).
func (f *function) stop() {
	f.mu.Lock()
	f.stopped = true
	w := f.w
	f.mu.Unlock()
	if w != nil {
		w.kill()
	}
}

// report handles one report of the runner.
func (f *function) report(w *worker, r *report) {
	switch r.T {
	case "ready":
		w.load = r.Error
		if r.Error != nil {
			f.h.log.Error("cloud function does not load", "function", f.name, "dir", f.dir, "err", r.Error.Message)
		}
		close(w.ready)
	case "out":
		f.output(r.Inv, r.Stream, r.Text)
	case "finding":
		f.finding(r)
	case "pending":
		if inv := f.running(r.Inv); inv != nil {
			inv.pending.Store(true)
		}
	case "done", "exit":
		if r.T == "exit" || r.Fatal {
			w.dead.Store(true)
		}
		inv := f.running(r.Inv)
		if inv == nil {
			return
		}
		o := outcome{kind: outcomeReturned, result: []byte(r.Result), size: r.Size, tooLarge: r.TooLarge, how: r.How}
		switch {
		case r.T == "exit":
			o = outcome{kind: outcomeExited, exit: fmt.Sprintf("the function called process.exit(%d) before it returned", r.Code)}
		case !r.OK && r.How == "load":
			o = outcome{kind: outcomeLoad, err: r.Error}
		case !r.OK:
			o = outcome{kind: outcomeFailed, err: r.Error, how: r.How}
		}
		select {
		case inv.done <- o:
		default:
		}
	case "fatal":
		w.dead.Store(true)
		if r.Error != nil && f.running(r.Inv) == nil {
			f.output(r.Inv, "stderr", "Uncaught "+r.Error.Stack+"\n")
		}
		f.h.log.Error("cloud function crashed; the next message starts it again", "function", f.name, "how", r.How)
	}
}

// running is the invocation with request_id id if it is the one running.
func (f *function) running(id string) *invocation {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cur != nil && f.cur.id == id {
		return f.cur
	}
	return nil
}

// byID is the running or the last invocation, if its request_id is id.
func (f *function) byID(id string) *invocation {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.cur != nil && f.cur.id == id:
		return f.cur
	case f.last != nil && f.last.id == id:
		return f.last
	}
	return nil
}

// output journals what the function printed during invocation id (or outside any) and keeps it
// for the verdict of the invocation if it is still running.
func (f *function) output(id, stream, text string) {
	if text == "" {
		return
	}
	openid := ""
	if inv := f.byID(id); inv != nil {
		openid = inv.openid
		if f.running(id) == inv {
			inv.addOutput(stream, text)
		}
	}
	f.h.p.RecordFunctionOutput(f.app.AppID, openid, f.name, id, stream, text)
}

// rawOutput is what the worker process wrote to its stdout or stderr without the runner (a
// process the function started, Node itself): it belongs to the invocation running, if any.
type rawOutput struct {
	f      *function
	stream string
}

func (o rawOutput) Write(p []byte) (int, error) {
	id := ""
	o.f.mu.Lock()
	if o.f.cur != nil {
		id = o.f.cur.id
	}
	o.f.mu.Unlock()
	o.f.output(id, o.stream, string(p))
	return len(p), nil
}

// finding journals a connection the preload refused, and adds it to the running verdict.
func (f *function) finding(r *report) {
	inv := f.byID(r.Inv)
	openid := ""
	if inv != nil {
		openid = inv.openid
	}
	problem := fmt.Sprintf("cloud function %s: %s", f.name, r.Problem)
	f.h.p.RecordFindingFor(f.app.AppID, openid, problem, nil)
	f.h.log.Warn("cloud function tried to leave this machine", "function", f.name, "host", r.Host, "port", r.Port)
	if inv != nil && f.running(r.Inv) == inv {
		inv.addViolation(rules.New(rules.FunctionNetwork, "%s; the function's own code met ECONNREFUSED (stack: %s)", r.Problem, firstFrames(r.Stack)))
	}
}

// firstFrames is the top of a stack trace, for a violation's one line.
func firstFrames(stack string) string {
	lines := strings.Split(stack, "\n")
	var keep []string
	for _, l := range lines[1:] {
		l = strings.TrimSpace(l)
		if l == "" || strings.Contains(l, "wxemu") || strings.HasPrefix(l, "at node:") || strings.Contains(l, "(node:") {
			continue
		}
		keep = append(keep, l)
		if len(keep) == 3 {
			break
		}
	}
	return strings.Join(keep, " ← ")
}

// invocation is one run of exports.main.
type invocation struct {
	id      string // the SCF request_id
	openid  string
	token   string
	done    chan outcome // the runner's answer; buffered
	pending atomic.Bool  // main returned nothing and has not called back

	mu         sync.Mutex // guards output, outBytes and violations
	output     []push.Output
	outBytes   int
	violations []rules.Violation
}

func (inv *invocation) addOutput(stream, text string) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if inv.outBytes >= outputLimit {
		return
	}
	if n := outputLimit - inv.outBytes; len(text) > n {
		text = text[:n] + "…(cut: the journal has the rest)\n"
	}
	inv.outBytes += len(text)
	if k := len(inv.output); k > 0 && inv.output[k-1].Stream == stream && !strings.HasSuffix(inv.output[k-1].Text, "\n") {
		inv.output[k-1].Text += text
		return
	}
	inv.output = append(inv.output, push.Output{Stream: stream, Text: text})
}

func (inv *invocation) addViolation(v rules.Violation) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	inv.violations = append(inv.violations, v)
}

// results are copies of what the invocation gathered.
func (inv *invocation) results() ([]push.Output, []rules.Violation) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return append([]push.Output(nil), inv.output...), append([]rules.Violation(nil), inv.violations...)
}

type outcomeKind int

const (
	outcomeReturned outcomeKind = iota // main returned a value (result)
	outcomeFailed                      // it threw, rejected or called back with an error (err)
	outcomeTimedOut                    // it did not return within the time limit
	outcomeExited                      // the worker exited before it returned (exit)
	outcomeLoad                        // index.js did not load, or exports no main (err)
	outcomeNotRun                      // it could not be run at all (exit says why)
)

// outcome is how an invocation ended.
type outcome struct {
	kind     outcomeKind
	result   []byte // the return value as JSON; its head when tooLarge
	size     int
	tooLarge bool
	how      string // promise, callback, return, idle; exception, promise, unhandled, uncaught
	err      *jsError
	exit     string
	limit    time.Duration
	pending  bool // for a timeout: main had returned nothing and never called back
}

// call is what an invocation runs for: the user, the SOURCE, the event.
type call struct {
	openid string
	source string
	event  []byte
}

// run runs exports.main once for c, waiting for the function's turn, and returns how it ended,
// when it began (wall time) and how long it took.
func (f *function) run(ctx context.Context, c call) (*invocation, outcome, time.Time, time.Duration) {
	inv := &invocation{id: f.h.requestID(), openid: c.openid, done: make(chan outcome, 1)}
	started := clock.Real{}.Now()
	notRun := func(why string) (*invocation, outcome, time.Time, time.Duration) {
		return inv, outcome{kind: outcomeNotRun, exit: why}, started, clock.Since(started)
	}
	select {
	case f.slot <- struct{}{}:
	case <-ctx.Done():
		return notRun("the push was canceled while the function was busy with an earlier message: " + ctx.Err().Error())
	}
	defer func() { <-f.slot }()

	w, err := f.worker()
	if err != nil {
		return notRun(err.Error())
	}
	lctx, cancel := clock.WithTimeout(ctx, loadLimit)
	select {
	case <-w.ready:
	case <-w.exited:
		cancel()
		return notRun("the worker exited while it loaded index.js (" + w.exit + "); its stderr is in the journal")
	case <-lctx.Done():
		cancel()
		w.kill()
		<-w.exited
		if ctx.Err() != nil {
			return notRun("the push was canceled while the function's worker started")
		}
		return notRun(fmt.Sprintf("index.js did not load within %s", loadLimit))
	}
	cancel()
	if w.load != nil {
		return inv, outcome{kind: outcomeLoad, err: w.load}, started, clock.Since(started)
	}

	limit := f.limit()
	inv.token = f.h.tokens.issue(f.h.id(24), &grant{fn: f, app: f.app, openid: c.openid, inv: inv.id, source: c.source, perms: f.permissions()})
	f.mu.Lock()
	f.cur, f.last = inv, inv
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.cur = nil
		f.mu.Unlock()
	}()

	env := map[string]string{"WX_OPENID": c.openid, "WX_APPID": f.app.AppID, "WX_API_TOKEN": inv.token, "TCB_SOURCE": c.source}
	msg := invokeMsg{
		T: "invoke", Inv: inv.id, Event: c.event, Env: env, Unset: []string{"WX_UNIONID"}, Limit: resultLimit,
		Context: scfContext{
			FunctionName: f.name, FunctionVersion: version, RequestID: inv.id,
			TimeLimitMS: limit.Milliseconds(), MemoryLimitMB: memoryMB, Namespace: f.env, Region: region,
			Environ: environString(env, f.env),
		},
	}
	started = clock.Real{}.Now()
	var o outcome
	err = w.send(msg)
	if err != nil {
		// The worker died between invocations: start another once.
		<-w.exited
		if w, err = f.worker(); err == nil {
			select {
			case <-w.ready:
				err = w.send(msg)
			case <-w.exited:
				err = errors.New(w.exit)
			}
		}
	}
	if err != nil {
		o = outcome{kind: outcomeExited, exit: "the worker was gone before the invocation began: " + err.Error()}
	} else {
		tctx, cancel := clock.WithTimeout(ctx, limit)
		select {
		case o = <-inv.done:
		case <-w.exited:
			select {
			case o = <-inv.done:
			default:
				o = outcome{kind: outcomeExited, exit: w.exit}
			}
		case <-tctx.Done():
			if ctx.Err() != nil {
				o = outcome{kind: outcomeNotRun, exit: "the push was canceled while the function ran"}
			} else {
				o = outcome{kind: outcomeTimedOut, limit: limit, pending: inv.pending.Load()}
			}
			// A function past its time limit is stopped; the next message starts it cold.
			w.kill()
			<-w.exited
			f.h.log.Info("cloud function stopped: it did not return in time", "function", f.name, "limit", limit)
		}
		cancel()
	}
	dur := clock.Since(started)
	f.h.tokens.end(inv.token, endReason(o))
	return inv, o, started, dur
}

func endReason(o outcome) string {
	switch o.kind {
	case outcomeReturned:
		return "returned"
	case outcomeTimedOut:
		return fmt.Sprintf("timed out after %s", o.limit)
	}
	return "failed"
}

// environString is the context's environ: K=V pairs joined by ';', copied into process.env on
// every invocation.
func environString(env map[string]string, ns string) string {
	keys := []string{"SCF_NAMESPACE", "TCB_ENV", "TENCENTCLOUD_RUNENV", "WX_CONTEXT_KEYS", "WX_OPENID", "WX_APPID", "WX_API_TOKEN", "TCB_SOURCE"}
	vals := map[string]string{"SCF_NAMESPACE": ns, "TCB_ENV": ns, "TENCENTCLOUD_RUNENV": "SCF", "WX_CONTEXT_KEYS": ctxKeys}
	for k, v := range env {
		vals[k] = v
	}
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+vals[k])
	}
	return strings.Join(parts, ";")
}
