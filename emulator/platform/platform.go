// Package platform is WeChat's behaviour without HTTP, and the sole owner of WeChat's state: the
// apps and their users, what happens when a user does something (record, route, push to the
// bot, show the outcome), what happens when a bot or an agent calls the API (token, validation,
// window and quota, delivery), the kf sessions, and the journal of all of it. Callers get
// operations and copies, never a store; an operation keeps its own invariants and is atomic with
// respect to other operations on the same app and user, and Export, Import and Reset see and
// leave one consistent state. The API server is a thin HTTP layer over it; the harness drives it
// directly.
package platform

import (
	"context"
	"crypto/rand"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/fault"
	"github.com/wxemu/wxemu/emulator/journal"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/random"
	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/wire"
)

// Clock is the virtual clock of a platform: it can be read, scheduled on, and moved forward.
type Clock interface {
	clock.Clock
	Advance(d time.Duration)
}

// Options configure a Platform. Zero fields take the documented defaults.
type Options struct {
	// Config holds the apps, users and knobs. Default: config.Default().
	Config *config.Config
	// Clock is virtual time. Default: real time plus an offset (clock.NewOffset).
	Clock Clock
	// WallClock is wall time, only read: the access tokens' lifetimes when they run on wall time
	// (api.token_time: wall, the default), and the reply CreateTime a bot stamps with its own
	// clock. Default clock.Real{}; specs may give a clock.Fake.
	WallClock clock.Clock
	// Targets override the callback URL of apps: key "*" applies to every app that has no URL
	// in the config; an alias or appid key applies to that app.
	Targets map[string]string
	// Random supplies tokens, media ids, nonces and rids. Default crypto/rand.
	Random io.Reader
	// Transport carries pushes to the bots. Default: the push engine's own.
	Transport http.RoundTripper
	// PushTimeout overrides the configured reply deadline when positive (fast CI runs).
	PushTimeout time.Duration
	// Logger receives one line per journal entry at debug level, and wxemu's own failures at
	// error level. Default: discard.
	Logger *slog.Logger
	// TranscriptLines is how many lines are kept per user. Default 1000.
	TranscriptLines int
}

// App is a configured app with its push target. It is configuration, never changed once built.
type App struct {
	config.App
	target *push.Target // nil when the app has no callback URL or container
}

// HasBot reports whether the app has a callback URL to push to.
func (a *App) HasBot() bool { return a.target != nil }

// Name is the app's alias, or its appid when it has none.
func (a *App) Name() string {
	if a.Alias != "" {
		return a.Alias
	}
	return a.AppID
}

// userStripes is how many locks the users of all apps share; two users on one stripe only wait
// for each other, they never deadlock, since an operation holds one stripe at a time.
const userStripes = 64

// Platform is one emulated WeChat. It is safe for concurrent use.
type Platform struct {
	cfg    *config.Config
	clock  Clock
	wall   clock.Clock // read only: token time on wall time, the reply CreateTime check
	log    *slog.Logger
	engine *push.Engine
	random io.Reader // locked: shared by the stores, the engine and rids

	apps  []*App
	byKey map[string]*App // by appid and by alias

	// mu orders operations against whole-state ones: an operation holds it shared while it
	// changes state (never while it waits for a bot); Export, Import and Reset hold it alone.
	mu sync.RWMutex
	// users serialises the state changes of one (app, user): an operation holds its stripe
	// (inside mu) so that its changes across stores are one step to every other operation.
	users [userStripes]sync.Mutex
	seed  maphash.Seed

	// The stores: the platform's alone. Each has its own lock for its own invariants.
	people      *state.Users
	ledger      *state.Ledger
	tokens      *state.Tokens
	media       *state.MediaStore
	transcripts *state.Transcripts
	kf          *state.KF
	journal     *journal.Journal

	advMu    sync.Mutex // guards advanced
	advanced time.Duration

	tokenClk tokenClock // the time access tokens live on

	due dueTimer
	fns functions
	rec recording

	faults *fault.Set // the fault rules; see fault.go
	heldMu sync.Mutex // guards held
	held   map[heldKey]*heldPush
	obs    observers // every entry recorded, as it is recorded (observe.go)
}

// New builds a platform from options. It starts nothing but the clock timers it needs.
func New(opts Options) (*Platform, error) {
	if opts.Config == nil {
		opts.Config = config.Default()
	}
	if opts.Clock == nil {
		opts.Clock = clock.NewOffset()
	}
	if opts.WallClock == nil {
		opts.WallClock = clock.Real{}
	}
	if opts.Random == nil {
		opts.Random = rand.Reader
	}
	opts.Random = random.Locked(opts.Random)
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.TranscriptLines <= 0 {
		opts.TranscriptLines = 1000
	}
	cfg := opts.Config
	rs, ok := state.RuleSetByName(cfg.Quota.Rules)
	if !ok {
		return nil, fmt.Errorf("quota rules %q: not one of %v", cfg.Quota.Rules, state.RuleSetNames())
	}
	switch cfg.API.TokenTime {
	case "", config.TokenTimeWall, config.TokenTimeVirtual:
	default:
		return nil, fmt.Errorf("api.token_time %q: not %s or %s", cfg.API.TokenTime, config.TokenTimeWall, config.TokenTimeVirtual)
	}
	timeout := time.Duration(cfg.Push.Timeout)
	if opts.PushTimeout > 0 {
		timeout = opts.PushTimeout
	}
	p := &Platform{
		cfg:      cfg,
		clock:    opts.Clock,
		wall:     opts.WallClock,
		tokenClk: tokenClock{virtual: cfg.API.TokenTime == config.TokenTimeVirtual},
		log:      opts.Logger,
		random:   opts.Random,
		engine: push.New(push.Config{
			Clock:           opts.Clock,
			WallClock:       opts.WallClock,
			Timeout:         timeout,
			MaxAttempts:     cfg.Push.Attempts,
			MaxReplyBytes:   int64(cfg.Push.MaxReplyBytes),
			Random:          opts.Random,
			Transport:       opts.Transport,
			OpenIDInMPPlain: cfg.Push.OpenIDInMPPlain,
		}),
		byKey:       map[string]*App{},
		faults:      fault.NewSet(cfg.Faults.Seed),
		held:        map[heldKey]*heldPush{},
		seed:        maphash.MakeSeed(),
		people:      state.NewUsers(),
		ledger:      state.NewLedger(rs, state.Combine(cfg.Quota.Combine)),
		tokens:      state.NewTokens(opts.Random),
		media:       state.NewMediaStore(opts.Random),
		journal:     journal.NewBounded(cfg.Journal.MaxEntries, int(cfg.Journal.MaxBytes)),
		transcripts: state.NewTranscripts(opts.TranscriptLines),
		kf: state.NewKF(state.KFConfig{
			SessionTimeout: time.Duration(cfg.KF.SessionTimeout),
			Anchor:         cfg.KF.SessionAnchor,
		}),
	}
	for i := range cfg.Apps {
		a := &App{App: cfg.Apps[i]}
		if a.Container != nil {
			// A container replaces the callback URL (protocol §8.5): a --target for the app
			// is a mistake worth saying, a --target for every app does not apply to it.
			if _, ok := opts.Targets[a.Alias]; ok {
				return nil, fmt.Errorf("app %s pushes to its container %s; a target URL does not apply to it", a.Alias, a.Container.URL)
			}
			if _, ok := opts.Targets[a.AppID]; ok {
				return nil, fmt.Errorf("app %s pushes to its container %s; a target URL does not apply to it", a.Alias, a.Container.URL)
			}
			t, err := push.NewTarget(push.App{
				Kind: wire.Kind(a.Kind), AppID: a.AppID, OriginalID: a.OriginalID, Token: a.Token,
				Format: containerFormat(a.Container), URL: a.Container.URL,
				Container: true, SourceHeader: a.Container.SourceHeader,
			})
			if err != nil {
				return nil, fmt.Errorf("app %s: %w", a.Alias, err)
			}
			a.target = t
			p.addApp(a)
			continue
		}
		url := a.URL
		if u, ok := opts.Targets[a.Alias]; ok {
			url = u
		} else if u, ok := opts.Targets[a.AppID]; ok {
			url = u
		} else if u, ok := opts.Targets["*"]; ok && url == "" {
			url = u
		}
		a.URL = url
		if url != "" {
			t, err := push.NewTarget(push.App{
				Kind: wire.Kind(a.Kind), AppID: a.AppID, OriginalID: a.OriginalID, Token: a.Token,
				EncodingAESKey: a.EncodingAESKey, Mode: wire.Mode(a.Mode), Format: wire.Format(a.Format), URL: url,
			})
			if err != nil {
				return nil, fmt.Errorf("app %s: %w", a.Alias, err)
			}
			a.target = t
		}
		p.addApp(a)
	}
	if cfg.API.ImageLimit > 0 {
		p.media.ImageLimit = int(cfg.API.ImageLimit)
	}
	p.seed0()
	if err := p.configFaults(); err != nil {
		return nil, err
	}
	return p, nil
}

// containerFormat is a container's push format; JSON unless it says xml (protocol §8.5).
func containerFormat(c *config.Container) wire.Format {
	if c.Format == config.FormatXML {
		return wire.XML
	}
	return wire.JSON
}

// addApp makes a built app known.
func (p *Platform) addApp(a *App) {
	p.ledger.SetAppKind(a.AppID, a.Kind)
	p.apps = append(p.apps, a)
	p.byKey[a.AppID] = a
	if a.Alias != "" {
		p.byKey[a.Alias] = a
	}
}

// OpenAPIApps lists, in config order, the apps whose container has the open-API service on:
// the apps a call without access_token may be served as (protocol §8.5).
func (p *Platform) OpenAPIApps() []*App {
	var out []*App
	for _, a := range p.apps {
		if a.Container != nil && a.Container.OpenAPI {
			out = append(out, a)
		}
	}
	return out
}

// seed0 makes the configured users and kf accounts known.
func (p *Platform) seed0() {
	for _, a := range p.apps {
		for _, u := range a.Users {
			sub := a.Kind == string(wire.MP) || u.Subscribed == nil || *u.Subscribed
			p.people.Ensure(a.AppID, u.OpenID, u.Name, sub)
		}
		for _, ag := range a.Agents {
			p.kf.SeedAgent(a.AppID, state.Agent{
				Account: ag.Account, Nickname: ag.Nickname, WeChat: ag.WeChat,
				Online: ag.Online, AutoAccept: ag.AutoAccept, Capacity: ag.Capacity,
			})
		}
	}
}

// Close stops the platform's timers and releases the push engine's connections.
func (p *Platform) Close() {
	p.due.close()
	p.engine.Close()
}

// Config returns the configuration the platform runs with. Callers only read it.
func (p *Platform) Config() *config.Config { return p.cfg }

// Clock returns the virtual clock.
func (p *Platform) Clock() Clock { return p.clock }

// Now is the virtual time.
func (p *Platform) Now() time.Time { return p.clock.Now() }

// App finds an app by alias or appid.
func (p *Platform) App(key string) (*App, bool) {
	a, ok := p.byKey[key]
	return a, ok
}

// Apps lists the apps in config order.
func (p *Platform) Apps() []*App { return append([]*App(nil), p.apps...) }

// AppKeys lists every alias and appid, for did-you-mean messages.
func (p *Platform) AppKeys() []string {
	keys := make([]string, 0, len(p.byKey))
	for k := range p.byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// lockUser holds the shared lock and the user's stripe, for an operation's changes to one user
// across stores; the returned func releases both. Never call it twice in one goroutine.
func (p *Platform) lockUser(appID, openid string) func() {
	p.mu.RLock()
	var h maphash.Hash
	h.SetSeed(p.seed)
	h.WriteString(appID)
	h.WriteByte(0)
	h.WriteString(openid)
	m := &p.users[h.Sum64()%userStripes]
	m.Lock()
	return func() {
		m.Unlock()
		p.mu.RUnlock()
	}
}

// shared holds the shared lock, for an operation's changes that concern no single user (an
// agent's status, an account) or several at once, which the kf store keeps consistent itself.
func (p *Platform) shared() func() {
	p.mu.RLock()
	return p.mu.RUnlock
}

// Reset forgets all state — users beyond the configured ones, grants, tokens, media, the
// journal and transcripts, kf sessions and accounts beyond the configured ones — and seeds the
// configured users and agents again. The clock goes back to now: real time for the clock of
// `wxemu serve` (clock.Offset, whose offset is zeroed) and for any clock with a Reset method. A
// fake clock cannot go back, so Reset leaves it where it is, and the advances counted against
// clock.MaxAdvance go on counting from where they were.
func (p *Platform) Reset() {
	if r, ok := p.clock.(interface{ Reset() }); ok {
		r.Reset()
		p.advMu.Lock()
		p.advanced = 0
		p.advMu.Unlock()
	}
	p.mu.Lock()
	p.people.Reset()
	p.ledger.Reset()
	p.tokens.Reset()
	p.media.Reset()
	p.journal.Reset()
	p.transcripts.Reset()
	p.kf.Reset()
	p.seed0()
	p.mu.Unlock()
	p.resetFaults()
	p.control("reset: all state forgotten, configured users seeded again")
	// The due timer was set on the time before the reset; set it again on the time after.
	p.due.mu.Lock()
	if p.due.timer != nil {
		p.due.timer.Stop()
		p.due.timer = nil
	}
	p.due.mu.Unlock()
	p.reschedule()
}

// record adds an entry to the journal at virtual now (unless it has a time) and logs it.
func (p *Platform) record(e journal.Entry) journal.Entry {
	if e.Time.IsZero() {
		e.Time = p.clock.Now()
	}
	e = p.journal.Add(e)
	p.obs.notify(&e)
	p.log.Debug(e.Summary, "seq", e.Seq, "kind", e.Kind(), "app", e.App, "user", e.User)
	return e
}

// control journals a control action.
func (p *Platform) control(action string) journal.Entry {
	return p.record(journal.Entry{Summary: action, Control: &journal.Control{Action: action}})
}

// stateChange journals a change of state that is not a kf session's.
func (p *Platform) stateChange(appID, openid string, c *journal.StateChange) journal.Entry {
	return p.record(journal.Entry{App: appID, User: openid, Summary: c.What, State: c})
}

// Rid returns a fresh request id in WeChat's current format (protocol §7.1).
func (p *Platform) Rid() string {
	var b [8]byte
	random.Fill(p.random, b[:], "platform")
	r1 := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	r2 := uint32(b[4])<<24 | uint32(b[5])<<16 | uint32(b[6])<<8 | uint32(b[7])
	return wire.Rid(p.clock.Now(), r1, r2)
}

// background is the context of work the platform starts itself (a timer's kf events).
func background() context.Context { return context.Background() }
