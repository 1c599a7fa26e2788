// Package cloudfn runs Mini Program cloud functions unmodified — each in a warm Node worker, with
// the real wx-server-sdk from the function's own node_modules — and serves their cloud.openapi
// calls: the tcb gateway (/admin) the SDK posts to, whose calls become the platform's
// operations, journaled with via cloud (protocol §8).
//
// A message routed to a function (its <MsgType, Event> pair) is pushed as an invocation of
// exports.main(event, context); what the function returns is judged as a passive reply of a
// Mini Program, so the platform treats a function like a callback URL.
package cloudfn

import (
	"crypto/rand"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/random"
	"github.com/wxemu/wxemu/emulator/wire"
)

// The harness of a worker, written to a temporary folder by Start.
var (
	//go:embed node/runner.js
	runnerJS []byte
	//go:embed node/preload.js
	preloadJS []byte
)

// Options configure a Host. Zero fields take the documented defaults.
type Options struct {
	// Platform is the WeChat the functions' messages come from and their API calls go to.
	Platform *platform.Platform
	// Node is the node binary. Default "node", found on PATH.
	Node string
	// Logger receives the host's own lines: a worker started, reloaded, crashed. Default: discard.
	Logger *slog.Logger
	// Random supplies invocation ids and API tokens. Default crypto/rand.
	Random io.Reader
}

// Host runs the cloud functions of the Mini Programs and serves their gateway.
type Host struct {
	p      *platform.Platform
	node   string
	log    *slog.Logger
	random io.Reader
	fns    []*function
	routes map[string]map[Route]*function  // by appid, then route
	byName map[string]map[string]*function // by appid, then name
	tokens tokens
	msgID  atomic.Int64

	mu      sync.Mutex // guards gateway, dir, state and watch
	gateway string
	dir     string // the temporary folder of runner.js and preload.js
	state   hostState
	watch   clock.Timer

	wg sync.WaitGroup // the goroutines of workers and reloads
}

type hostState int

const (
	hostNew hostState = iota
	hostStarted
	hostClosed
)

// errClosed is what an invocation meets after Close.
var errClosed = errors.New("the cloud-function host is closed")

// New checks each function — node on PATH, its folder, index.js, the node_modules its
// package.json needs, config.json — and returns a host ready to Start. It starts nothing.
func New(opts Options, specs []FunctionSpec) (*Host, error) {
	if opts.Platform == nil {
		return nil, errors.New("cloudfn: Options.Platform is nil")
	}
	if opts.Node == "" {
		opts.Node = "node"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Random == nil {
		opts.Random = rand.Reader
	}
	h := &Host{
		p:      opts.Platform,
		log:    opts.Logger,
		random: random.Locked(opts.Random),
		routes: map[string]map[Route]*function{},
		byName: map[string]map[string]*function{},
		tokens: newTokens(),
	}
	h.msgID.Store(firstMsgID - 1)
	if len(specs) == 0 {
		return h, nil
	}
	node, err := exec.LookPath(opts.Node)
	if err != nil {
		return nil, fmt.Errorf("cloud functions run in Node.js, but %q is not found on PATH: install Node.js 16 or newer (%w)", opts.Node, err)
	}
	h.node = node
	for i, s := range specs {
		f, err := h.resolve(s)
		if err != nil {
			return nil, fmt.Errorf("cloud function %d (%s): %w", i+1, s.Dir, err)
		}
		if h.byName[f.app.AppID] == nil {
			h.byName[f.app.AppID] = map[string]*function{}
			h.routes[f.app.AppID] = map[Route]*function{}
		}
		if other, dup := h.byName[f.app.AppID][f.name]; dup {
			return nil, fmt.Errorf("cloud functions %s and %s of app %s are both named %q: give one a name", other.dir, f.dir, f.app.Name(), f.name)
		}
		h.byName[f.app.AppID][f.name] = f
		for _, r := range f.routes {
			if other, dup := h.routes[f.app.AppID][r]; dup {
				return nil, fmt.Errorf("messages %s of app %s are routed to both function %s and function %s: WeChat pushes each <MsgType, Event> to one function", r, f.app.Name(), other.name, f.name)
			}
			h.routes[f.app.AppID][r] = f
		}
		h.fns = append(h.fns, f)
	}
	return h, nil
}

func (r Route) String() string {
	if r.Event != "" {
		return r.MsgType + "/" + r.Event
	}
	return r.MsgType
}

// resolve checks a spec and fills in its defaults.
func (h *Host) resolve(s FunctionSpec) (*function, error) {
	app, err := h.p.LookupApp(s.App)
	if err != nil {
		return nil, err
	}
	if app.Kind != string(wire.MP) {
		return nil, fmt.Errorf("app %s is an Official Account: cloud functions receive a Mini Program's messages only", app.Name())
	}
	if s.Dir == "" {
		return nil, errors.New("the function's folder (Dir) is not given")
	}
	dir, err := filepath.Abs(s.Dir)
	if err != nil {
		return nil, fmt.Errorf("folder %s: %w", s.Dir, err)
	}
	name := s.Name
	if name == "" {
		name = filepath.Base(dir)
	}
	if err := checkFolder(name, dir); err != nil {
		return nil, err
	}
	cfg, err := readConfig(dir)
	if err != nil {
		return nil, fmt.Errorf("function %s: %w", name, err)
	}
	f := &function{
		h: h, app: app, name: name, dir: dir, env: s.Env,
		toUser: s.ToUserName, msgIDNumber: s.MsgIDNumber, source: s.Source,
		routes: s.Routes, timeout: s.Timeout, cfg: cfg,
		slot: make(chan struct{}, 1),
	}
	if f.env == "" {
		f.env = "wxemu-" + app.AppID
	}
	switch f.toUser {
	case "":
		f.toUser = ToAppID
	case ToAppID, ToOriginalID:
	default:
		return nil, fmt.Errorf("function %s: ToUserName %q is neither %q nor %q", name, s.ToUserName, ToAppID, ToOriginalID)
	}
	if f.source == "" {
		f.source = "wx_client"
	}
	if len(f.routes) == 0 {
		f.routes = DefaultRoutes
	}
	for _, r := range f.routes {
		if r.MsgType == "" {
			return nil, fmt.Errorf("function %s: a route has no MsgType", name)
		}
		if (r.MsgType == "event") != (r.Event != "") {
			return nil, fmt.Errorf("function %s: route %s: an Event goes with MsgType event, and only with it", name, r)
		}
	}
	if s.Timeout < 0 {
		return nil, fmt.Errorf("function %s: Timeout %s is negative", name, s.Timeout)
	}
	return f, nil
}

// Start writes the worker harness to a temporary folder, starts one warm worker per function,
// begins watching the functions' folders, and routes the apps' messages to them
// (p.SetFunctions). gatewayURL is where Handler is served, e.g. http://127.0.0.1:7700/admin.
func (h *Host) Start(gatewayURL string) error {
	if err := h.begin(gatewayURL); err != nil {
		return err
	}
	for _, f := range h.fns {
		f.mu.Lock()
		f.stamp = fingerprint(f.dir)
		f.mu.Unlock()
		f.warm()
	}
	h.mu.Lock()
	if h.state == hostStarted && len(h.fns) > 0 {
		h.watch = clock.Real{}.AfterFunc(watchEvery, h.watchTick)
	}
	h.mu.Unlock()
	h.p.SetFunctions(h.Router())
	return nil
}

// begin moves the host from new to started: the harness written, the gateway known.
func (h *Host) begin(gatewayURL string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch h.state {
	case hostStarted:
		return errors.New("cloudfn: the host is already started")
	case hostClosed:
		return errClosed
	}
	if !strings.HasPrefix(gatewayURL, "http://") {
		return fmt.Errorf("cloudfn: gateway URL %q: give the http:// URL the /admin handler is served at", gatewayURL)
	}
	if len(h.fns) > 0 {
		dir, err := os.MkdirTemp("", "wxemu-cloudfn-")
		if err != nil {
			return fmt.Errorf("cloudfn: a folder for the worker harness: %w", err)
		}
		for name, data := range map[string][]byte{"runner.js": runnerJS, "preload.js": preloadJS} {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				_ = os.RemoveAll(dir)
				return fmt.Errorf("cloudfn: write the worker harness: %w", err)
			}
		}
		h.dir = dir
	}
	h.gateway = gatewayURL
	h.state = hostStarted
	return nil
}

// Router routes each app's messages to its functions by their <MsgType, Event> pair.
func (h *Host) Router() platform.FunctionRouter {
	return func(app *platform.App, m *wire.Message) platform.Function {
		byRoute := h.routes[app.AppID]
		if byRoute == nil {
			return nil
		}
		r := Route{MsgType: m.MsgType}
		if m.IsEvent() {
			r.Event = m.Event
		}
		if f, ok := byRoute[r]; ok {
			return f
		}
		return nil
	}
}

// Close stops watching, kills the workers, waits for them and removes the harness folder.
// Invocations after Close fail.
func (h *Host) Close() error {
	h.mu.Lock()
	if h.state == hostClosed {
		h.mu.Unlock()
		return nil
	}
	h.state = hostClosed
	if h.watch != nil {
		h.watch.Stop()
	}
	dir := h.dir
	h.mu.Unlock()
	for _, f := range h.fns {
		f.stop()
	}
	h.wg.Wait()
	if dir != "" {
		return os.RemoveAll(dir)
	}
	return nil
}

// started reports whether the host runs, and its gateway and harness folder.
func (h *Host) started() (gateway, dir string, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.gateway, h.dir, h.state == hostStarted
}

// Functions lists the names of the functions of an app (every app when appID is empty).
func (h *Host) Functions(appID string) []string {
	var out []string
	for _, f := range h.fns {
		if appID == "" || f.app.AppID == appID {
			out = append(out, f.name)
		}
	}
	return out
}

// Handler is the tcb gateway the functions' SDKs post to (protocol §8.4a). The emulator mounts
// it at /admin on its own listener, the URL given to Start.
func (h *Host) Handler() http.Handler { return http.HandlerFunc(h.serveGateway) }

// firstMsgID is the MsgId of the first user message pushed to a function.
const firstMsgID = 24100000000000001

func (h *Host) nextMsgID() int64 { return h.msgID.Add(1) }

// id makes a fresh id of n random bytes, hex.
func (h *Host) id(n int) string {
	b := make([]byte, n)
	random.Fill(h.random, b, "cloudfn")
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 2*n)
	for _, c := range b {
		out = append(out, hex[c>>4], hex[c&15])
	}
	return string(out)
}

// requestID makes an SCF request_id: a UUID.
func (h *Host) requestID() string {
	s := h.id(16)
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}
