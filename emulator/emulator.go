package emulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/wxemu/wxemu/emulator/apiserver"
	"github.com/wxemu/wxemu/emulator/cloudfn"
	"github.com/wxemu/wxemu/emulator/console"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/push"
)

// Options configure an Emulator; see platform.Options for each field's default.
type Options = platform.Options

// FunctionOptions say how an Emulator runs cloud functions: those of the configuration
// (apps[].cloud) and Extra ones (wxemu serve --function).
type FunctionOptions struct {
	// Extra are functions besides the configuration's.
	Extra []cloudfn.FunctionSpec
	// Node is the node binary. Default "node", found on PATH.
	Node string
}

// Emulator is a running wxemu: the platform and its HTTP API on a listener. It is both what
// `wxemu serve` runs and what Go specs start in-process. It embeds nothing: Platform gives the
// operations of WeChat itself, and the methods here are what a person running wxemu does.
type Emulator struct {
	p   *platform.Platform
	api *apiserver.Server
	fns *cloudfn.Host // nil without cloud functions

	mu       sync.Mutex // guards srv, ln, done, cancel, timeouts and access
	timeouts Timeouts
	access   apiserver.ControlAccess
	srv      *http.Server
	ln       net.Listener
	done     chan struct{}           // closed when the server goroutine has returned
	cancel   context.CancelCauseFunc // ends every request's context, journal streams included
}

// New builds an emulator. It starts nothing; call Start.
func New(opts Options) (*Emulator, error) {
	p, err := platform.New(opts)
	if err != nil {
		return nil, err
	}
	api := apiserver.New(p, opts.Logger)
	api.SetConsole(console.Handler(""))
	return &Emulator{p: p, api: api, timeouts: Timeouts{}.withDefaults()}, nil
}

// NewWithFunctions builds an emulator that also runs cloud functions: the configuration's and
// fo.Extra. Each function's folder is checked now (node, node_modules, index.js, config.json),
// with a precise error; the workers start with Start.
func NewWithFunctions(opts Options, fo FunctionOptions) (*Emulator, error) {
	e, err := New(opts)
	if err != nil {
		return nil, err
	}
	specs := append(FunctionSpecs(e.p.Config()), fo.Extra...)
	if len(specs) == 0 {
		return e, nil
	}
	host, err := cloudfn.New(cloudfn.Options{Platform: e.p, Node: fo.Node, Logger: opts.Logger, Random: opts.Random}, specs)
	if err != nil {
		e.p.Close()
		return nil, err
	}
	e.fns = host
	return e, nil
}

// Functions is the cloud-function host, or nil when the emulator runs none.
func (e *Emulator) Functions() *cloudfn.Host { return e.fns }

// Platform is the emulated WeChat itself: its apps, users, kf sessions and journal, and every
// operation on them.
func (e *Emulator) Platform() *platform.Platform { return e.p }

// Now is the emulator's virtual time.
func (e *Emulator) Now() time.Time { return e.p.Now() }

// Advance moves virtual time forward; what falls due on the way happens in order.
func (e *Emulator) Advance(d time.Duration) error { return e.p.Advance(d) }

// Reset forgets all state and seeds the configured users and agents again.
func (e *Emulator) Reset() { e.p.Reset() }

// Export is a snapshot of all state; Import puts one back.
func (e *Emulator) Export() *platform.Snapshot { return e.p.Export() }

// Import replaces all state with a snapshot from Export.
func (e *Emulator) Import(s *platform.Snapshot) error { return e.p.Import(s) }

// Apps lists the configured apps with their credentials.
func (e *Emulator) Apps() []*platform.App { return e.p.Apps() }

// Handler is the emulator's HTTP API, for embedding it in another server; with cloud functions
// it serves their /admin gateway too.
func (e *Emulator) Handler() http.Handler {
	if e.fns != nil {
		return withGateway(e.api.Handler(), e.fns.Handler())
	}
	return e.api.Handler()
}

// API returns the API server (its routing table, for tests and docs).
func (e *Emulator) API() *apiserver.Server { return e.api }

// Start listens on addr (e.g. 127.0.0.1:7700, or 127.0.0.1:0 for a free port) and serves the API
// until Close.
func (e *Emulator) Start(addr string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.srv != nil {
		return errors.New("emulator: already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	e.ln = ln
	access := e.access
	access.Bound = ln.Addr().String()
	e.api.SetControlAccess(access)
	base, cancel := context.WithCancelCause(context.Background())
	e.cancel = cancel
	t := e.timeouts
	e.srv = &http.Server{
		Handler:           bodyDeadline(e.Handler(), t.Body),
		ReadHeaderTimeout: t.Header,
		WriteTimeout:      t.Write, // lifted by the journal stream for itself
		IdleTimeout:       t.Idle,
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	e.srv.RegisterOnShutdown(e.api.EndStreams)
	e.done = make(chan struct{})
	go func(srv *http.Server, done chan struct{}) {
		defer close(done)
		_ = srv.Serve(ln)
	}(e.srv, e.done)
	if e.fns != nil {
		if err := e.fns.Start("http://" + dialable(ln.Addr()) + "/admin"); err != nil {
			return fmt.Errorf("start cloud functions: %w", err)
		}
	}
	return nil
}

// URL is the base URL of the API, e.g. http://127.0.0.1:7700 — what replaces
// https://api.weixin.qq.com in a bot's configuration.
func (e *Emulator) URL() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ln == nil {
		return ""
	}
	return "http://" + dialable(e.ln.Addr())
}

// dialable is an address a client on this machine can dial: a listener on every address
// (0.0.0.0, [::]) is reached at 127.0.0.1, which cloud functions (loopback only) and the URLs
// serve prints can use.
func dialable(addr net.Addr) string {
	if t, ok := addr.(*net.TCPAddr); ok && t.IP.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(t.Port))
	}
	return addr.String()
}

// Close stops serving: it ends open journal streams and in-flight pushes, waits for the
// handlers (up to 5 s, then cuts the connections) and releases the platform's connections.
func (e *Emulator) Close() error {
	e.mu.Lock()
	srv, done, cancel := e.srv, e.done, e.cancel
	e.srv, e.ln, e.cancel = nil, nil, nil
	e.mu.Unlock()
	var err error
	// The functions stop first: an invocation in flight ends, and its push handler with it.
	if e.fns != nil {
		err = e.fns.Close()
	}
	if srv != nil {
		// Pushes in flight end as cut by the shutdown, not blamed on the bots.
		cancel(push.ErrShutdown)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		serr := srv.Shutdown(ctx)
		if errors.Is(serr, context.DeadlineExceeded) {
			serr = srv.Close()
		}
		if err == nil {
			err = serr
		}
		<-done
	}
	e.p.Close()
	return err
}
