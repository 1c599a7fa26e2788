// Package platform is WeChat's behaviour without HTTP: the apps and their users, what happens
// when a user does something (record, route, push to the bot, show the outcome), and what
// happens when a bot calls the API (token, validation, window and quota, delivery). The API
// server is a thin HTTP layer over it; specs and scenarios drive it directly.
package platform

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/wire"
)

// Clock is the virtual clock of a platform: it can be read, and moved forward.
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
	// Targets override the callback URL of apps: key "*" applies to every app that has no URL
	// in the config; an alias or appid key applies to that app.
	Targets map[string]string
	// Random supplies tokens, media ids, nonces and rids. Default crypto/rand.
	Random io.Reader
	// Transport carries pushes to the bots. Default: the push engine's own.
	Transport http.RoundTripper
	// PushTimeout overrides the configured reply deadline when positive (fast CI runs).
	PushTimeout time.Duration
	// Logger receives one line per journal entry at debug level. Default: discard.
	Logger *slog.Logger
	// TranscriptLines is how many lines are kept per user. Default 1000.
	TranscriptLines int
}

// App is a configured app with its push target.
type App struct {
	config.App
	target *push.Target // nil when the app has no callback URL
}

// HasBot reports whether the app has a callback URL to push to.
func (a *App) HasBot() bool { return a.target != nil }

// Target returns the push target of the app, or nil.
func (a *App) Target() *push.Target { return a.target }

// Platform is one emulated WeChat. It is safe for concurrent use.
type Platform struct {
	cfg    *config.Config
	clock  Clock
	log    *slog.Logger
	engine *push.Engine
	random io.Reader
	randMu sync.Mutex // guards reads of random

	advMu    sync.Mutex // guards advanced
	advanced time.Duration

	apps    []*App
	byKey   map[string]*App // by appid and by alias
	started time.Time

	Users       *state.Users
	Ledger      *state.Ledger
	Tokens      *state.Tokens
	Media       *state.MediaStore
	Journal     *state.Journal
	Transcripts *state.Transcripts
	KF          *state.KF
}

// New builds a platform from options. It starts nothing.
func New(opts Options) (*Platform, error) {
	if opts.Config == nil {
		opts.Config = config.Default()
	}
	if opts.Clock == nil {
		opts.Clock = clock.NewOffset()
	}
	if opts.Random == nil {
		opts.Random = rand.Reader
	}
	// Tokens, media ids, nonces and rids are all read from one source by parts that each have
	// their own lock; a seeded stream is not safe for that, so it gets one lock of its own.
	opts.Random = &lockedReader{r: opts.Random}
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
	timeout := time.Duration(cfg.Push.Timeout)
	if opts.PushTimeout > 0 {
		timeout = opts.PushTimeout
	}
	p := &Platform{
		cfg:    cfg,
		clock:  opts.Clock,
		log:    opts.Logger,
		random: opts.Random,
		engine: push.New(push.Config{
			Clock:           opts.Clock,
			Timeout:         timeout,
			MaxAttempts:     cfg.Push.Attempts,
			MaxReplyBytes:   int64(cfg.Push.MaxReplyBytes),
			Random:          opts.Random,
			Transport:       opts.Transport,
			OpenIDInMPPlain: cfg.Push.OpenIDInMPPlain,
		}),
		byKey:       map[string]*App{},
		started:     opts.Clock.Now(),
		Users:       state.NewUsers(),
		Ledger:      state.NewLedger(rs, state.Combine(cfg.Quota.Combine)),
		Tokens:      state.NewTokens(opts.Random),
		Media:       state.NewMediaStore(opts.Random),
		Journal:     state.NewJournal(cfg.Journal.MaxEntries),
		Transcripts: state.NewTranscripts(opts.TranscriptLines),
		KF: state.NewKF(state.KFConfig{
			SessionTimeout: time.Duration(cfg.KF.SessionTimeout),
			Anchor:         cfg.KF.SessionAnchor,
		}),
	}
	for i := range cfg.Apps {
		a := &App{App: cfg.Apps[i]}
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
		p.Ledger.SetAppKind(a.AppID, a.Kind)
		p.apps = append(p.apps, a)
		p.byKey[a.AppID] = a
		if a.Alias != "" {
			p.byKey[a.Alias] = a
		}
	}
	if cfg.API.ImageLimit > 0 {
		p.Media.ImageLimit = int(cfg.API.ImageLimit)
	}
	p.seedUsers()
	p.seedAgents()
	return p, nil
}

// seedUsers makes the configured users known.
func (p *Platform) seedUsers() {
	for _, a := range p.apps {
		for _, u := range a.Users {
			sub := a.Kind == string(wire.MP) || u.Subscribed == nil || *u.Subscribed
			p.Users.Ensure(a.AppID, u.OpenID, u.Name, sub)
		}
	}
}

// Close releases the push engine's connections.
func (p *Platform) Close() { p.engine.Close() }

// Config returns the configuration the platform runs with.
func (p *Platform) Config() *config.Config { return p.cfg }

// Clock returns the virtual clock.
func (p *Platform) Clock() Clock { return p.clock }

// Now is the virtual time.
func (p *Platform) Now() time.Time { return p.clock.Now() }

// Engine returns the push engine.
func (p *Platform) Engine() *push.Engine { return p.engine }

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

// Reset forgets all state — users beyond the configured ones, grants, tokens, media, the
// journal and transcripts — and seeds the configured users again. The clock is not moved.
func (p *Platform) Reset() {
	p.Users.Reset()
	p.Ledger.Reset()
	p.Tokens.Reset()
	p.Media.Reset()
	p.Journal.Reset()
	p.Transcripts.Reset()
	p.KF.Reset()
	p.seedUsers()
	p.seedAgents()
	p.record(state.Entry{Kind: state.EntryControl, Summary: "reset: all state forgotten, configured users seeded again"})
}

// lockedReader serialises reads of a random source shared by the platform's parts.
type lockedReader struct {
	mu sync.Mutex // guards r
	r  io.Reader
}

func (l *lockedReader) Read(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(b)
}

// Record adds an entry to the journal at virtual now (unless it has a time) and logs it.
func (p *Platform) Record(e state.Entry) state.Entry { return p.record(e) }

// record adds an entry to the journal at virtual now and logs it.
func (p *Platform) record(e state.Entry) state.Entry {
	if e.Time.IsZero() {
		e.Time = p.clock.Now()
	}
	e = p.Journal.Add(e)
	p.log.Debug(e.Summary, "seq", e.Seq, "kind", e.Kind, "app", e.App, "user", e.User)
	return e
}

// read fills b from the random source.
func (p *Platform) read(b []byte) {
	p.randMu.Lock()
	defer p.randMu.Unlock()
	if _, err := io.ReadFull(p.random, b); err != nil {
		panic(fmt.Sprintf("platform: random source: %v", err))
	}
}

// Rid returns a fresh request id in WeChat's current format (protocol §7.1).
func (p *Platform) Rid() string {
	var b [8]byte
	p.read(b[:])
	r1 := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	r2 := uint32(b[4])<<24 | uint32(b[5])<<16 | uint32(b[6])<<8 | uint32(b[7])
	return wire.Rid(p.clock.Now(), r1, r2)
}
