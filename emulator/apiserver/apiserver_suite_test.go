package apiserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/apiserver"
	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/wire"
	"github.com/wxemu/wxemu/fixtures/bots"
)

func TestAPIServer(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "apiserver")
}

var epoch = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

const (
	oa, mp = config.DemoOAAppID, config.DemoMPAppID
	alice  = config.DemoAliceOA
	bob    = config.DemoBobOA
	aliceM = config.DemoAliceMP
)

// env is one platform on a fake clock with the demo config, served by the API server on a
// loopback listener, the sample bots as its targets.
type env struct {
	clk  *clock.Fake
	wall *clock.Fake // wall time: what access tokens live on by default (api.token_time: wall)
	plat *platform.Platform
	api  *apiserver.Server
	base string
	oa   *bots.Bot
	mp   *bots.Bot
	log  *logBuffer // what the server and the platform logged at error level
}

func (e *env) p() *platform.Platform { return e.plat }

// start runs a platform and its API server; mutate may change the default config first. A spec
// fails if wxemu logged an error: an unmapped error is a bug of wxemu.
func start(mutate func(*config.Config)) *env {
	e := &env{clk: clock.NewFake(epoch), wall: clock.NewFake(epoch), log: &logBuffer{}}
	cfg := config.Default()
	if mutate != nil {
		mutate(cfg)
	}
	// The bots call the API, and the platform pushes to the bots: the servers start first with
	// a handler filled in once the API's URL is known.
	targets := map[string]string{}
	type pending struct {
		app     *config.App
		name    string
		bot     **bots.Bot
		handler *http.Handler
	}
	var bound []pending
	for _, a := range []struct {
		alias, name string
		bot         **bots.Bot
	}{{"oa", "oa", &e.oa}, {"mp", "mp", &e.mp}} {
		app, _ := cfg.App(a.alias)
		if app == nil || app.URL != "" {
			continue
		}
		var h http.Handler
		hp := &h
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*hp).ServeHTTP(w, r) }))
		DeferCleanup(srv.Close)
		targets[a.alias] = srv.URL + "/wx"
		bound = append(bound, pending{app, a.name, a.bot, hp})
	}
	logger := slog.New(slog.NewTextHandler(io.MultiWriter(GinkgoWriter, e.log), &slog.HandlerOptions{Level: slog.LevelError}))
	p, err := platform.New(platform.Options{Config: cfg, Clock: e.clk, WallClock: e.wall, Targets: targets, Random: rand.NewChaCha8([32]byte{9}), Logger: logger})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(p.Close)
	e.plat, e.api = p, apiserver.New(p, logger)
	srv := httptest.NewServer(e.api.Handler())
	DeferCleanup(srv.Close)
	e.base = srv.URL
	for _, b := range bound {
		h, err := bots.New(b.name, bots.Config{Token: b.app.Token, EncodingAESKey: b.app.EncodingAESKey, AppID: b.app.AppID,
			Format: b.app.Format, Now: e.clk.Now, APIBase: e.base, AppSecret: b.app.Secret})
		Expect(err).NotTo(HaveOccurred())
		*b.bot = h.(*bots.Bot)
		*b.handler = h
	}
	DeferCleanup(func() {
		Expect(e.log.String()).To(BeEmpty(), "wxemu logged errors: each is a bug of wxemu, not of the bot")
	})
	return e
}

// logBuffer holds what wxemu logs; the server's goroutines write it while a spec reads it.
type logBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (l *logBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Take returns what was logged and forgets it, for a spec that provokes a logged error.
func (l *logBuffer) Take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.buf.String()
	l.buf.Reset()
	return s
}

// answer is a decoded API answer.
type answer struct {
	Status      int
	ContentType string
	Raw         []byte
	JSON        map[string]any
}

func (a answer) errcode() int {
	if v, ok := a.JSON["errcode"].(float64); ok {
		return int(v)
	}
	return 0
}

func (a answer) errmsg() string { s, _ := a.JSON["errmsg"].(string); return s }

func (e *env) do(method, path string, body []byte, contentType string) answer {
	req, err := http.NewRequest(method, e.base+path, bytes.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	a := answer{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		Expect(json.Unmarshal(raw, &a.JSON)).To(Succeed(), string(raw))
	}
	return a
}

func (e *env) get(path string) answer { return e.do(http.MethodGet, path, nil, "") }

func (e *env) post(path string, v any) answer {
	var body []byte
	switch x := v.(type) {
	case nil:
	case string:
		body = []byte(x)
	case []byte:
		body = x
	default:
		var err error
		body, err = json.Marshal(x)
		Expect(err).NotTo(HaveOccurred())
	}
	return e.do(http.MethodPost, path, body, "application/json")
}

// token gets an access_token for an app through the real API.
func (e *env) token(appid string) string {
	app, ok := e.p().Config().App(appid)
	Expect(ok).To(BeTrue())
	a := e.get("/cgi-bin/token?grant_type=client_credential&appid=" + app.AppID + "&secret=" + app.Secret)
	Expect(a.JSON).To(HaveKey("access_token"), string(a.Raw))
	return a.JSON["access_token"].(string)
}

// say has a user send text through the platform.
func (e *env) say(appid, openid, content string) *platform.Interaction {
	in, err := e.p().UserSends(context.Background(), appid, openid, wire.Message{MsgType: "text", Content: content})
	Expect(err).NotTo(HaveOccurred())
	return in
}

func (e *env) sendText(tk, to, content string) answer {
	return e.post("/cgi-bin/message/custom/send?access_token="+url.QueryEscape(tk),
		map[string]any{"touser": to, "msgtype": "text", "text": map[string]string{"content": content}})
}

// getJSON GETs url and decodes the JSON object it answers.
func getJSON(url string) map[string]any {
	GinkgoHelper()
	resp, err := http.Get(url)
	Expect(err).NotTo(HaveOccurred())
	return decodeJSON(resp)
}

// postJSON POSTs body to url and decodes the JSON object it answers.
func postJSON(url, body string) map[string]any {
	GinkgoHelper()
	resp, err := http.Post(url, "application/json", bytes.NewReader([]byte(body)))
	Expect(err).NotTo(HaveOccurred())
	return decodeJSON(resp)
}

func decodeJSON(resp *http.Response) map[string]any {
	GinkgoHelper()
	defer resp.Body.Close()
	var v map[string]any
	Expect(json.NewDecoder(resp.Body).Decode(&v)).To(Succeed())
	return v
}
