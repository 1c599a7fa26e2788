// Package push delivers messages to a bot the way WeChat does — encode, wrap for the app's
// encryption mode, sign, POST, wait with a deadline, retry with the same body — and judges the
// answer: decrypt, check MsgSignature and appid, let rules judge the reply, and decide what the
// user on the phone sees.
package push

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/random"
	"github.com/wxemu/wxemu/emulator/wire"
	"github.com/wxemu/wxemu/emulator/wxcrypto"
)

// Config configures an Engine. The zero value of each field selects the documented default.
type Config struct {
	// Clock is virtual time: CreateTime, signature timestamps, the "near now" check of replies.
	// Default: clock.Real{}.
	Clock clock.Clock
	// WallClock is wall time, read for the "near now" check of replies only: a bot stamps its
	// reply with its own clock, which does not follow Clock when a scenario moves it, so a
	// CreateTime near either passes. Deadlines are wall time regardless. Default: clock.Real{}.
	WallClock clock.Clock
	// Timeout is how long WeChat waits for an answer, in wall time. Default 5 s (protocol §3.1).
	Timeout time.Duration
	// MaxAttempts is how many times a message is sent in all when no answer comes. Default 3
	// (protocol §3.1 and §10.6: "总共重试三次" is read as three attempts in all).
	MaxAttempts int
	// MaxReplyBytes is the largest answer body read; a larger one is a violation. Default 1 MiB.
	MaxReplyBytes int64
	// MaxHeaderBytes is the largest header block of an answer read; a larger one is a violation
	// (push.answer.unreadable). Default 1 MiB. It applies to the default Transport only.
	// Deviation: WeChat's limit is not documented.
	MaxHeaderBytes int64
	// Random supplies nonces, echostrs and the random prefix of encrypted messages, so a spec
	// run can be reproduced. Default: a ChaCha8 stream seeded from crypto/rand — none of these
	// values is a secret, and a system call per push would show in the push benchmark. It need
	// not be safe for concurrent use: the engine reads it under a lock.
	Random io.Reader
	// Transport carries the HTTP requests. Default: a keep-alive transport for loopback bots.
	Transport http.RoundTripper
	// OpenIDInMPPlain adds the openid query parameter to Mini Program pushes in plaintext mode.
	// Default false: the official plaintext example omits it (protocol §1.3, §10.2).
	OpenIDInMPPlain bool
	// FirstMsgID is the MsgId given to the first user message that has none. Default
	// 24000000000000001; each later one adds 1.
	FirstMsgID int64
}

// Engine pushes messages to bots. It is safe for concurrent use.
type Engine struct {
	cfg    Config
	client *http.Client
	msgID  atomic.Int64
}

// New returns an Engine. It starts nothing: connections are opened by Push and Verify.
func New(cfg Config) *Engine {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.WallClock == nil {
		cfg.WallClock = clock.Real{}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 3
	}
	if cfg.MaxReplyBytes <= 0 {
		cfg.MaxReplyBytes = 1 << 20
	}
	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = 1 << 20
	}
	if cfg.Random == nil {
		var seed [32]byte
		if _, err := rand.Read(seed[:]); err != nil {
			panic(fmt.Sprintf("push: seed the random source: %v", err))
		}
		cfg.Random = mrand.NewChaCha8(seed)
	}
	// The caller's source need not be safe for concurrent use; pushes run in parallel.
	cfg.Random = random.Locked(cfg.Random)
	if cfg.Transport == nil {
		cfg.Transport = &http.Transport{
			Proxy:                  nil, // bots are local; an HTTP_PROXY in the environment must not capture them
			DialContext:            (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:           256,
			MaxIdleConnsPerHost:    256,
			IdleConnTimeout:        90 * time.Second,
			DisableCompression:     true, // WeChat sends no Accept-Encoding and decodes nothing
			MaxResponseHeaderBytes: cfg.MaxHeaderBytes,
		}
	}
	if cfg.FirstMsgID == 0 {
		cfg.FirstMsgID = 24000000000000001
	}
	e := &Engine{cfg: cfg, client: &http.Client{
		Transport: cfg.Transport,
		// WeChat does not follow redirects from a callback URL; a 3xx is an answer.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	e.msgID.Store(cfg.FirstMsgID - 1)
	return e
}

// Config returns the engine's configuration with defaults filled in.
func (e *Engine) Config() Config { return e.cfg }

// Close releases idle connections.
func (e *Engine) Close() {
	e.client.CloseIdleConnections()
}

// App is an account as its bot is configured on WeChat's side (protocol §1.1, §9).
type App struct {
	Kind           wire.Kind   `json:"kind"`
	AppID          string      `json:"appid"`
	OriginalID     string      `json:"original_id"`
	Token          string      `json:"token"`
	EncodingAESKey string      `json:"encoding_aes_key"`
	Mode           wire.Mode   `json:"mode"`
	Format         wire.Format `json:"format"`
	URL            string      `json:"url"`
	// Container makes the target a cloud-hosting container (云托管, protocol §8.5) at URL: the
	// push is plaintext whatever Mode says, carries no signature query parameters, carries the
	// source header and the identity headers (see ContainerHeaders), and an Official Account
	// may push and reply in JSON. Token and EncodingAESKey are not used.
	Container bool `json:"container,omitempty"`
	// SourceHeader is the name of the header that marks a push to a container as WeChat's.
	// Default "x-wx-source" (protocol §10.14: one doc copy spells it x-wx-sources).
	SourceHeader string `json:"source_header,omitempty"`
}

// SourceValue is the value of the source header of a push to a container.
// Deviation: the docs name the header but not its value (protocol §8.5); wxemu writes "wxemu",
// so a container that checks more than the header's presence is noticed.
const SourceValue = "wxemu"

// ContainerHeaders are the headers of a push to a container besides Content-Type: the source
// header (its configured spelling, sent lower-case as written) and X-WX-OPENID, X-WX-APPID.
// Deviation: whether pushes carry the identity headers is UNCERTAIN (protocol §8.5, §10.14);
// the docs list them for every request a container receives, and wxemu sends them.
func (t *Target) ContainerHeaders(openid string) http.Header {
	return http.Header{
		t.SourceHeader: {SourceValue},
		"X-WX-OPENID":  {openid},
		"X-WX-APPID":   {t.AppID},
	}
}

// Target is an App checked and ready to push to. Build it once with NewTarget and reuse it.
type Target struct {
	App
	cipher *wxcrypto.Cipher // nil in plaintext mode when no key is configured
	base   *url.URL
}

// NewTarget checks app and prepares it for pushing.
func NewTarget(app App) (*Target, error) {
	if app.Kind == "" {
		app.Kind = wire.OA
	}
	if app.Mode == "" {
		app.Mode = wire.Plain
	}
	if app.Format == "" {
		app.Format = wire.XML
	}
	if app.Container {
		// A push to a container is never encrypted (protocol §8.5).
		app.Mode = wire.Plain
		if app.SourceHeader == "" {
			app.SourceHeader = "x-wx-source"
		}
	}
	switch app.Kind {
	case wire.OA, wire.MP:
	default:
		return nil, fmt.Errorf("app %s: kind %q is neither oa nor mp", app.AppID, app.Kind)
	}
	switch app.Mode {
	case wire.Plain, wire.Compat, wire.Safe:
	default:
		return nil, fmt.Errorf("app %s: mode %q is not plain, compat or safe", app.AppID, app.Mode)
	}
	switch {
	case app.Format == wire.JSON && app.Kind == wire.OA && !app.Container:
		return nil, fmt.Errorf("app %s: an Official Account pushes XML only (protocol §1.1); use format xml", app.AppID)
	case app.Format != wire.XML && app.Format != wire.JSON:
		return nil, fmt.Errorf("app %s: format %q is neither xml nor json", app.AppID, app.Format)
	}
	if n := len(app.Token); !app.Container && (n < 3 || n > 32) {
		return nil, fmt.Errorf("app %s: token %q is %d characters; WeChat takes 3 to 32 (protocol §1.1)", app.AppID, app.Token, n)
	}
	if app.OriginalID == "" {
		return nil, fmt.Errorf("app %s: original id (gh_…) is missing", app.AppID)
	}
	u, err := url.Parse(app.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		what := "callback URL"
		if app.Container {
			what = "container URL"
		}
		return nil, fmt.Errorf("app %s: %s %q is not an http(s) URL", app.AppID, what, app.URL)
	}
	t := &Target{App: app, base: u}
	if !app.Container && (app.Mode != wire.Plain || app.EncodingAESKey != "") {
		c, err := wxcrypto.NewCipher(app.EncodingAESKey, app.AppID)
		if err != nil {
			return nil, fmt.Errorf("app %s: EncodingAESKey: %w", app.AppID, err)
		}
		t.cipher = c
	}
	return t, nil
}

// Number gives a user message without a MsgId the next one, as Push would: a message WeChat
// holds back (a reorder fault) keeps its place in the numbering.
func (e *Engine) Number(m *wire.Message) {
	if !m.IsEvent() && m.MsgId == 0 && m.MsgIdText == "" {
		m.MsgId = e.nextMsgID()
	}
}

// nextMsgID numbers user messages that came without a MsgId.
func (e *Engine) nextMsgID() int64 { return e.msgID.Add(1) }

// digits returns n random decimal digits, the shape of WeChat's nonces and echostrs.
func (e *Engine) digits(n int) string {
	b := make([]byte, n)
	e.read(b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	if b[0] == '0' {
		b[0] = '1'
	}
	return string(b)
}

// random16 is the random prefix of an encrypted message: 16 alphanumerics, as the official
// samples write.
func (e *Engine) random16() []byte {
	const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 16)
	e.read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return b
}

// read fills b. A broken entropy source is not something a push can recover from or report
// usefully, so it panics.
func (e *Engine) read(b []byte) { random.Fill(e.cfg.Random, b, "push") }

// withQuery returns the target URL with extra query parameters, keeping any it already has.
func (t *Target) withQuery(params [][2]string) string {
	var b strings.Builder
	b.WriteString(t.base.Scheme)
	b.WriteString("://")
	b.WriteString(t.base.Host)
	b.WriteString(t.base.EscapedPath())
	b.WriteByte('?')
	if t.base.RawQuery != "" {
		b.WriteString(t.base.RawQuery)
		b.WriteByte('&')
	}
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p[0])
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p[1]))
	}
	return b.String()
}

// attemptContext bounds one attempt by the engine's deadline, in wall time.
func (e *Engine) attemptContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return clock.WithTimeout(ctx, e.cfg.Timeout)
}
