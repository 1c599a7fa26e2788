// Package emutest starts an in-process wxemu for one Ginkgo spec and drives it the way the
// scenario format does: users send messages and events, agents accept, reply and close, the
// clock moves, and the WeChat API answers calls as it answers a bot.
//
//	emu := emutest.Start(emutest.WithSampleBot("oa", "oa"))
//	ex := emu.User("alice").Send(emutest.Text("hi"))
//	Expect(ex).To(wxmatch.HaveTextReply("hello, hi"))
//
// Every emulator runs on its own fake clock and random stream, listens on 127.0.0.1:0, logs each
// journal entry to GinkgoWriter at debug level (`ginkgo -v` shows them) and is closed by
// DeferCleanup together with the bot servers it started, so specs may run under `ginkgo -p`.
//
// What a bot does after it answered — sends from a goroutine, duplicates after WeChat's retry
// (Exchange.Retry), API calls after a forged push (User.Forge) — is judged the way Gomega's
// Eventually and then Consistently judge: wxmatch waits up to a bound (1 s) for what is expected,
// then for a quiet window (100 ms) in which nothing more may happen about the user; WithSettle
// changes both, Exchange.Within and QuietFor one assertion's, and User.WaitQuiet waits for the
// bot to finish. The waits wake on the journal, never on a timer.
//
// The values it returns — an Exchange, a User, an APIResponse — are what the wxmatch matchers
// read, and each renders for Gomega as the person on the phone saw it plus the raw exchange, so a
// failed assertion on them is readable without a debugger.
package emutest

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator"
	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/harness"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/wire"
	"github.com/wxemu/wxemu/fixtures/bots"
)

// DefaultStart is the virtual time an emulator starts at unless WithStart says otherwise:
// 2026-11-21 10:00:00 in Beijing, a Saturday morning. A fixed start keeps CreateTime, token
// expiry and transcripts the same from run to run.
func DefaultStart() time.Time {
	return time.Date(2026, 11, 21, 10, 0, 0, 0, time.FixedZone("CST", 8*60*60))
}

// Option configures Start.
type Option func(*settings)

type settings struct {
	cfg         *config.Config
	bots        []botSpec
	pushTimeout time.Duration
	start       time.Time
	seed        uint64
	seeded      bool
	// within and quiet bound the judging of what a bot does after it answered.
	within, quiet time.Duration
	// allowUnknown and allowSysErrors turn off the strict checks.
	allowUnknown   bool
	allowSysErrors bool
	// functions are cloud functions to run, as `APP=DIR`.
	functions []string
}

// botSpec is one app's bot: a URL, a handler to serve (or to build once the emulator's URL is
// known), or a sample bot to build.
type botSpec struct {
	option  string // the option's name, for messages
	alias   string
	url     string
	handler http.Handler
	build   func(apiBase string) http.Handler
	sample  string
}

// WithConfig runs the emulator with cfg instead of config.Default(). The emulator only reads it.
func WithConfig(cfg *config.Config) Option { return func(s *settings) { s.cfg = cfg } }

// WithBot pushes the app's messages to a bot already listening at url (its callback URL).
func WithBot(alias, url string) Option {
	return func(s *settings) { s.bots = append(s.bots, botSpec{option: "WithBot", alias: alias, url: url}) }
}

// WithBotHandler serves h on its own loopback server and pushes the app's messages to it: the way
// to test a bot's handler without starting its binary.
func WithBotHandler(alias string, h http.Handler) Option {
	return func(s *settings) {
		s.bots = append(s.bots, botSpec{option: "WithBotHandler", alias: alias, handler: h})
	}
}

// WithNewBotHandler serves the handler newHandler builds for the app, once the emulator listens
// and its URL — the bot's API base, in place of https://api.weixin.qq.com — is known: the way to
// test a bot that calls the WeChat API.
//
//	emutest.WithNewBotHandler("oa", func(apiBase string) http.Handler {
//		return mybot.New(mybot.Config{Token: config.DemoOAToken, AppID: config.DemoOAAppID,
//			AppSecret: config.DemoOASecret, APIBase: apiBase})
//	})
//
// Until it is built, the bot's server answers 503; WeChat pushes nothing before then.
func WithNewBotHandler(alias string, newHandler func(apiBase string) http.Handler) Option {
	return func(s *settings) {
		s.bots = append(s.bots, botSpec{option: "WithNewBotHandler", alias: alias, build: newHandler})
	}
}

// WithSampleBot serves the fixtures/bots sample bot called name ("oa", "mp", "noswap", …) for
// the app, with the app's credentials and this emulator as its API base, so it can call back.
func WithSampleBot(alias, name string) Option {
	return func(s *settings) {
		s.bots = append(s.bots, botSpec{option: "WithSampleBot", alias: alias, sample: name})
	}
}

// WithPushTimeout overrides the configured reply deadline (5 s): a spec of a slow bot need not
// wait three times five seconds.
func WithPushTimeout(d time.Duration) Option { return func(s *settings) { s.pushTimeout = d } }

// DefaultWithin and DefaultQuiet are how long a spec waits for what a bot does after it answered
// (WithSettle).
const (
	DefaultWithin = time.Second
	DefaultQuiet  = 100 * time.Millisecond
)

// WithSettle sets how the emulator judges what a bot does after it answered — the sends of a bot
// that answers `success` and sends from a goroutine, the sends after a retry, the API calls after
// a forged push — the way Gomega's Eventually and then Consistently do: what is expected may take
// up to within (default DefaultWithin, 1 s) of wall time to arrive, and then nothing more may
// happen about the user for quiet (default DefaultQuiet, 100 ms), so that one send too many fails
// as surely as one too few. The wait wakes on the journal, never on a timer. An exchange's
// Within and QuietFor change them for one assertion. A within of 0 judges what is there at once;
// a quiet of 0 turns the second wait off.
func WithSettle(within, quiet time.Duration) Option {
	return func(s *settings) { s.within, s.quiet = within, quiet }
}

// WithStart sets the virtual time the emulator starts at (default DefaultStart()).
func WithStart(t time.Time) Option { return func(s *settings) { s.start = t } }

// WithFunction runs the Mini Program cloud function in dir, unmodified, for the app (alias or
// appid of a Mini Program; "" is the first Mini Program): the messages of its routes (text,
// image, miniprogrampage and user_enter_tempsession) are pushed to it instead of the callback
// URL, and its cloud.openapi calls reach this emulator. The folder needs its node_modules
// (npm ci).
func WithFunction(app, dir string) Option {
	return func(s *settings) {
		if app != "" {
			dir = app + "=" + dir
		}
		s.functions = append(s.functions, dir)
	}
}

// AllowUnknownRequests lets the bot call API paths wxemu does not serve without failing the
// spec; they are still journaled as findings (kind unknown).
func AllowUnknownRequests() Option { return func(s *settings) { s.allowUnknown = true } }

// AllowSystemErrors lets an API call answered -1 system error pass without failing the spec.
func AllowSystemErrors() Option { return func(s *settings) { s.allowSysErrors = true } }

// WithSeed fixes the random stream behind tokens, media ids, nonces, rids and fresh openids, so
// that a run can be reproduced. Without it the seed is random and written to GinkgoWriter. A
// token value carries its expiry, so tokens come out the same only on virtual token time
// (api.token_time: virtual in WithConfig); on wall time, the default, the expiry is the run's.
func WithSeed(seed uint64) Option {
	return func(s *settings) { s.seed, s.seeded = seed, true }
}

// Emu is a running emulator for one spec. Its methods are what a spec does — users and agents
// act, the clock moves, the API is called — and what it reads back; Platform gives every other
// operation of the emulated WeChat. API here is the WeChat API client a bot would use.
//
// Emu is strict, like gomega's ghttp: a spec fails, showing the raw exchange, when the bot calls
// an API path wxemu does not serve or a call is answered -1 system error, unless the spec opted
// out with AllowUnknownRequests or AllowSystemErrors.
type Emu struct {
	emu *emulator.Emulator
	p   *platform.Platform
	g   gomega.Gomega
	h   *shared
}

// shared is what every view of one emulator (WithGomega) shares.
type shared struct {
	hx         *harness.Harness
	clock      *clock.Fake
	seed       uint64
	defaultApp *platform.App
	samples    map[string]*bots.Bot // by appid; written by Start only
	client     *http.Client         // the API client's, closed with the emulator

	// within and quiet are the bounds of a wait for what a bot does after it answered.
	within, quiet time.Duration

	mu    sync.Mutex // guards fresh, ids, open and checked
	fresh map[string]string
	ids   io.Reader // openids of fresh users
	// open is each user's newest exchange (by appid and openid) until their next action.
	open map[string]*window
	// checked is the journal seq up to which strictness has looked.
	checked        uint64
	allowUnknown   bool
	allowSysErrors bool
}

// Start builds an emulator on a fake clock, starts it on 127.0.0.1:0 with the bots the options
// name, and closes all of it when the spec ends. Call it inside a setup node or an It.
func Start(opts ...Option) *Emu {
	ginkgo.GinkgoHelper()
	s := settings{start: DefaultStart(), within: DefaultWithin, quiet: DefaultQuiet}
	for _, o := range opts {
		o(&s)
	}
	gomega.Expect(s.within).To(gomega.BeNumerically(">=", 0), "emutest.WithSettle: within is negative")
	gomega.Expect(s.quiet).To(gomega.BeNumerically(">=", 0), "emutest.WithSettle: quiet is negative")
	if s.cfg == nil {
		s.cfg = config.Default()
	}
	gomega.Expect(s.cfg.Validate()).To(gomega.Succeed(), "emutest.WithConfig: the configuration is not valid")
	if !s.seeded {
		s.seed = randomSeed()
	}
	clk := clock.NewFake(s.start)
	// The platform logs only what is not a journal entry (a bug answered -1); the journal is
	// followed below, so that API calls, which the API server journals without logging, show too.
	logger := newLogger(ginkgo.GinkgoWriter, clk, slog.LevelInfo).With("seed", s.seed)
	fmt.Fprintf(ginkgo.GinkgoWriter, "emutest: seed %d (emutest.WithSeed(%d) reproduces this run's tokens and ids)\n", s.seed, s.seed)

	targets, pending := startBotServers(s)
	var fo emulator.FunctionOptions
	for _, f := range s.functions {
		spec, err := emulator.ParseFunctionFlag(s.cfg, f)
		gomega.Expect(err).NotTo(gomega.HaveOccurred(), "emutest.WithFunction")
		fo.Extra = append(fo.Extra, spec)
	}
	emu, err := emulator.NewWithFunctions(emulator.Options{
		Config: s.cfg, Clock: clk, Targets: targets, Random: stream(s.seed, streamPlatform),
		PushTimeout: s.pushTimeout, Logger: logger,
	}, fo)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "emutest: build the emulator")
	ginkgo.DeferCleanup(followJournal(emu.Platform(), ginkgo.GinkgoWriter, s.seed))
	gomega.Expect(emu.Start("127.0.0.1:0")).To(gomega.Succeed(), "emutest: start the emulator")
	ginkgo.DeferCleanup(emu.Close)

	transport := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4}
	ginkgo.DeferCleanup(transport.CloseIdleConnections)
	h := &shared{
		hx:    harness.New(emu.Platform()),
		clock: clk, seed: s.seed, samples: map[string]*bots.Bot{},
		allowUnknown: s.allowUnknown, allowSysErrors: s.allowSysErrors,
		client: &http.Client{Transport: transport, Timeout: 30 * time.Second},
		fresh:  map[string]string{}, ids: stream(s.seed, streamUsers),
		open:   map[string]*window{},
		within: s.within, quiet: s.quiet,
	}
	h.defaultApp = emu.Apps()[0]
	for i, p := range pending {
		app := p.app
		if p.build != nil {
			handler := p.build(emu.URL())
			gomega.Expect(handler).NotTo(gomega.BeNil(), "emutest.WithNewBotHandler(%q, …): the function built no handler", app.Alias)
			p.srv.SetHandler(handler)
			continue
		}
		b, err := bots.New(p.sample, bots.Config{
			Token: app.Token, EncodingAESKey: app.EncodingAESKey, AppID: app.AppID, Format: app.Format,
			Now: clk.Now, APIBase: emu.URL(), AppSecret: app.Secret,
			Random: stream(s.seed, streamBots+byte(i)),
			Logger: newLogger(ginkgo.GinkgoWriter, clk, slog.LevelDebug).With("seed", s.seed, "bot", p.sample, "app", app.Alias),
		})
		gomega.Expect(err).NotTo(gomega.HaveOccurred(), "emutest.WithSampleBot(%q, %q)", app.Alias, p.sample)
		bot := b.(*bots.Bot)
		// A held push of the slow bot must not keep its server's Close waiting.
		ginkgo.DeferCleanup(bot.Close)
		h.samples[app.AppID] = bot
		p.srv.SetHandler(bot)
	}
	e := &Emu{emu: emu, p: emu.Platform(), g: gomega.Default, h: h}
	// Registered after Close, so it runs before it: the last calls are judged too.
	ginkgo.DeferCleanup(func() {
		ginkgo.GinkgoHelper()
		e.checkStrict()
	})
	return e
}

// pendingBot is a sample bot, or a handler to build, whose server runs before the emulator's URL,
// its API base, is known.
type pendingBot struct {
	app    *config.App
	sample string
	build  func(apiBase string) http.Handler
	srv    *harness.BotServer
}

// startBotServers resolves the bot options to push targets, serving handlers and sample bots on
// their own loopback servers.
func startBotServers(s settings) (map[string]string, []pendingBot) {
	ginkgo.GinkgoHelper()
	targets := map[string]string{}
	var pending []pendingBot
	for _, b := range s.bots {
		app, ok := s.cfg.App(b.alias)
		gomega.Expect(ok).To(gomega.BeTrue(), "emutest.%s(%q, …): the configuration has no app %q%s; its apps are %s",
			b.option, b.alias, b.alias, platform.DidYouMean(b.alias, appKeys(s.cfg)), strings.Join(appKeys(s.cfg), ", "))
		_, dup := targets[app.AppID]
		gomega.Expect(dup).To(gomega.BeFalse(), "emutest.%s(%q, …): app %s already has a bot", b.option, b.alias, app.Alias)
		switch {
		case b.url != "":
			targets[app.AppID] = b.url
		case b.handler != nil:
			srv, err := harness.ServeBot(b.handler)
			gomega.Expect(err).NotTo(gomega.HaveOccurred(), "emutest.WithBotHandler(%q, …)", b.alias)
			ginkgo.DeferCleanup(srv.Close)
			targets[app.AppID] = srv.URL
		case b.build != nil:
			// Built once the emulator listens; its server answers 503 until then.
			srv, err := harness.ServeBot(nil)
			gomega.Expect(err).NotTo(gomega.HaveOccurred(), "emutest.WithNewBotHandler(%q, …)", b.alias)
			ginkgo.DeferCleanup(srv.Close)
			targets[app.AppID] = srv.URL
			pending = append(pending, pendingBot{app: app, build: b.build, srv: srv})
		default:
			gomega.Expect(bots.Summary(b.sample)).NotTo(gomega.BeEmpty(), "emutest.WithSampleBot(%q, %q): no sample bot is called %q%s; they are %s",
				b.alias, b.sample, b.sample, platform.DidYouMean(b.sample, bots.Names()), strings.Join(bots.Names(), ", "))
			// The sample bot calls the emulator back, whose URL is known only once it started: its
			// server answers 503 until then.
			srv, err := harness.ServeBot(nil)
			gomega.Expect(err).NotTo(gomega.HaveOccurred(), "emutest.WithSampleBot(%q, %q)", b.alias, b.sample)
			ginkgo.DeferCleanup(srv.Close)
			targets[app.AppID] = srv.URL
			pending = append(pending, pendingBot{app: app, sample: b.sample, srv: srv})
		}
	}
	return targets, pending
}

func appKeys(cfg *config.Config) []string {
	var keys []string
	for _, a := range cfg.Apps {
		keys = append(keys, a.Alias)
	}
	sort.Strings(keys)
	return keys
}

// newLogger writes to w with virtual time in place of wall time, because that is the time
// windows, tokens and sessions run on.
func newLogger(w io.Writer, clk *clock.Fake, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.String("virtual", clk.Now().Format("01-02 15:04:05"))
			}
			return a
		},
	}))
}

// followJournal writes every journal entry to w at debug level, as it is added, until the
// returned stop is called; stop waits for the entries already added to be written.
func followJournal(p *platform.Platform, w io.Writer, seed uint64) (stop func()) {
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.String("virtual", a.Value.Time().Format("01-02 15:04:05"))
			}
			return a
		},
	})).With("seed", seed)
	// A burst larger than the buffer loses log lines, never journal entries: the journal skips a
	// slow subscriber rather than wait for it.
	entries, cancel := p.Subscribe(platform.JournalFilter{}, 4096)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range entries {
			r := slog.NewRecord(e.Time, slog.LevelDebug, e.Summary, 0)
			r.AddAttrs(slog.Uint64("seq", e.Seq), slog.String("kind", e.Kind()))
			if e.App != "" {
				r.AddAttrs(slog.String("app", e.App))
			}
			if e.User != "" {
				r.AddAttrs(slog.String("user", e.User))
			}
			if e.Errors > 0 {
				r.AddAttrs(slog.Int("errors", e.Errors))
			}
			_ = log.Handler().Handle(context.Background(), r)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

func randomSeed() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("emutest: random seed: %v", err))
	}
	return binary.LittleEndian.Uint64(b[:])
}

// WithGomega returns a view of the emulator whose helpers assert with g, for use inside
// Eventually(func(g Gomega) {…}); users and agents taken from it assert with g too.
func (e *Emu) WithGomega(g gomega.Gomega) *Emu {
	return &Emu{emu: e.emu, p: e.p, g: g, h: e.h}
}

// Seed is the seed of the emulator's random stream; WithSeed(Seed()) reproduces the run.
func (e *Emu) Seed() uint64 { return e.h.seed }

// FakeClock is the emulator's virtual clock. Advance it through e.Advance, which also journals
// the move and ends the kf sessions that fall due.
func (e *Emu) FakeClock() *clock.Fake { return e.h.clock }

// SampleBot returns the sample bot WithSampleBot started for the app (alias or appid): what it
// received and the customer-service messages it sent.
func (e *Emu) SampleBot(app string) *bots.Bot {
	ginkgo.GinkgoHelper()
	a := e.app(app)
	b, ok := e.h.samples[a.AppID]
	e.g.Expect(ok).To(gomega.BeTrue(), "emutest: app %s has no sample bot; start it with emutest.WithSampleBot(%q, NAME)", a.Alias, a.Alias)
	return b
}

// app resolves an alias or appid, "" being the first app.
func (e *Emu) app(key string) *platform.App {
	ginkgo.GinkgoHelper()
	if key == "" {
		return e.h.defaultApp
	}
	a, err := e.p.LookupApp(key)
	e.g.Expect(err).NotTo(gomega.HaveOccurred(), "emutest: which app?")
	return a
}

// BotReceived lists what the bot was pushed for the user after the journal entry sinceSeq (take
// it from e.LastSeq() before acting): the user's messages and the kf_* events WeChat raised.
func (e *Emu) BotReceived(u *User, sinceSeq uint64) []wire.Message {
	return e.h.hx.After(u.AppID, u.OpenID, sinceSeq).Received()
}

// background is the context of actions a spec takes: they are bounded by the push deadline, not
// by the spec.
func background() context.Context { return context.Background() }

// kfState describes where a user stands with the human agents, for messages.
func (e *Emu) kfState(u *User) string {
	if s, ok := e.p.KFSession(u.AppID, u.OpenID); ok {
		return "served by " + s.Account
	}
	if w, ok := e.p.KFWaiting(u.AppID, u.OpenID); ok {
		if w.Account != "" {
			return "waiting for " + w.Account
		}
		return "waiting in the queue"
	}
	return "not transferred to customer service"
}

// Platform is the emulated WeChat itself, for what the methods here do not cover.
func (e *Emu) Platform() *platform.Platform { return e.p }

// Emulator is the running emulator (its API server's Handler, Export, Import …).
func (e *Emu) Emulator() *emulator.Emulator { return e.emu }

// URL is the base URL of the emulator's API: what replaces https://api.weixin.qq.com in a bot.
func (e *Emu) URL() string { return e.emu.URL() }

// Now is the virtual time.
func (e *Emu) Now() time.Time { return e.p.Now() }

// Advance moves virtual time forward by d; what falls due on the way (a kf session's 30
// minutes) happens in order before it returns.
func (e *Emu) Advance(d time.Duration) {
	ginkgo.GinkgoHelper()
	e.g.Expect(e.p.Advance(d)).To(gomega.Succeed(), "emutest: advance the clock by %s", d)
	e.checkStrict()
}

// Apps lists the configured apps with their credentials.
func (e *Emu) Apps() []*platform.App { return e.p.Apps() }

// LastSeq is the newest journal sequence number: take it before acting to find what the action
// caused (BotReceived).
func (e *Emu) LastSeq() uint64 { return e.p.LastSeq() }

// Journal lists the journal entries that match f.
func (e *Emu) Journal(f platform.JournalFilter) []platform.Entry { return e.p.Journal(f) }

// AllowUnknownRequests lets the bot call API paths wxemu does not serve from now on without
// failing the spec; they stay findings in the journal (kind unknown).
func (e *Emu) AllowUnknownRequests() {
	e.h.mu.Lock()
	defer e.h.mu.Unlock()
	e.h.allowUnknown = true
}

// AllowSystemErrors lets API calls answered -1 system error pass from now on.
func (e *Emu) AllowSystemErrors() {
	e.h.mu.Lock()
	defer e.h.mu.Unlock()
	e.h.allowSysErrors = true
}

// checkStrict fails the spec for each finding since the last look: a request for a path or
// method wxemu does not serve, or an API call answered -1 system error, unless the spec allowed
// them. The failure shows the raw exchange, which is what a bot developer debugs with.
func (e *Emu) checkStrict() {
	ginkgo.GinkgoHelper()
	e.h.mu.Lock()
	since := e.h.checked
	e.h.checked = e.p.LastSeq()
	allowUnknown, allowSys := e.h.allowUnknown, e.h.allowSysErrors
	e.h.mu.Unlock()
	for _, en := range e.p.Journal(platform.JournalFilter{Since: since}) {
		switch {
		case en.Finding != nil && !allowUnknown:
			e.g.Expect(en.Finding).To(gomega.BeNil(), "emutest: %s\n%s\n(emutest.AllowUnknownRequests() lets a spec allow this)",
				en.Summary, renderExchange(en.Finding.Exchange))
		case en.API != nil && en.API.Errcode == wire.CodeSystemError && !allowSys && en.API.Injected == nil:
			e.g.Expect(en.API.Errcode).NotTo(gomega.Equal(wire.CodeSystemError), "emutest: %s\n%s\n(a -1 is a bug of wxemu or of its use; emutest.AllowSystemErrors() lets a spec allow it)",
				en.Summary, renderExchange(en.API.Exchange))
		}
	}
}
