package scenario_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator"
	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/scenario"
	"github.com/wxemu/wxemu/emulator/wxcrypto"
	"github.com/wxemu/wxemu/fixtures/bots"
)

func TestScenario(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "scenario")
}

var epoch = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// botMaker builds the bot of an app once the emulator's API base is known.
type botMaker func(e *env, app *config.App) http.Handler

// env is one emulator on a fake clock, pushing to in-process bots.
type env struct {
	clk  *clock.Fake
	emu  *emulator.Emulator
	cfg  *config.Config
	bots map[string]http.Handler
}

// sample is the named sample bot of fixtures/bots.
func sample(name string) botMaker {
	return func(e *env, a *config.App) http.Handler {
		return sampleWith(name, nil)(e, a)
	}
}

// sampleWith is the named sample bot with its configuration changed by setup.
func sampleWith(name string, setup func(*bots.Config)) botMaker {
	return func(e *env, a *config.App) http.Handler {
		cfg := bots.Config{Token: a.Token, EncodingAESKey: a.EncodingAESKey, AppID: a.AppID,
			Format: a.Format, Now: e.clk.Now, APIBase: e.emu.URL(), AppSecret: a.Secret}
		if setup != nil {
			setup(&cfg)
		}
		h, err := bots.New(name, cfg)
		Expect(err).NotTo(HaveOccurred())
		// The async bots send after they answer: their work ends before the emulator does.
		if b, ok := h.(interface{ Close() }); ok {
			DeferCleanup(b.Close)
		}
		return h
	}
}

// start runs an emulator with cfg (the default config when nil) whose apps push to the bots
// given by alias (the sample oa and mp bots when nil).
func start(cfg *config.Config, makers map[string]botMaker) *env {
	if cfg == nil {
		cfg = config.Default()
	}
	if makers == nil {
		makers = map[string]botMaker{"oa": sample("oa"), "mp": sample("mp")}
	}
	e := &env{clk: clock.NewFake(epoch), cfg: cfg, bots: map[string]http.Handler{}}
	targets := map[string]string{}
	handlers := map[string]*http.Handler{}
	for alias := range makers {
		var h http.Handler
		hp := &h
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*hp).ServeHTTP(w, r) }))
		DeferCleanup(srv.Close)
		targets[alias] = srv.URL + "/wx"
		handlers[alias] = hp
	}
	emu, err := emulator.NewWithFunctions(emulator.Options{Config: cfg, Clock: e.clk, Targets: targets, Random: rand.NewChaCha8([32]byte{7}), PushTimeout: 2 * time.Second}, emulator.FunctionOptions{})
	Expect(err).NotTo(HaveOccurred())
	Expect(emu.Start("127.0.0.1:0")).To(Succeed())
	DeferCleanup(emu.Close)
	e.emu = emu
	for alias, make := range makers {
		app, ok := cfg.App(alias)
		Expect(ok).To(BeTrue(), alias)
		h := make(e, app)
		*handlers[alias] = h
		e.bots[alias] = h
	}
	return e
}

// parse reads scenarios from a text, as file t.yaml, for the default config.
func parse(text string) ([]*scenario.Scenario, error) {
	return scenario.Parse(nil, "t.yaml", []byte(text))
}

func mustParse(text string) []*scenario.Scenario {
	s, err := parse(text)
	Expect(err).NotTo(HaveOccurred())
	return s
}

// runner runs scenarios on the env's emulator.
func (e *env) runner() *scenario.Runner {
	return &scenario.Runner{Platform: e.emu.Platform(), Random: rand.NewChaCha8([32]byte{byte(GinkgoParallelProcess())})}
}

// run runs the scenarios of a text and returns the report.
func (e *env) run(text string) *scenario.Report {
	s, err := scenario.Parse(e.cfg, "t.yaml", []byte(text))
	Expect(err).NotTo(HaveOccurred())
	return e.runner().Run(context.Background(), s)
}

// one runs a text holding one scenario and returns its result.
func (e *env) one(text string) *scenario.ScenarioResult {
	rep := e.run(text)
	Expect(rep.Scenarios).To(HaveLen(1))
	return rep.Scenarios[0]
}

// failures lists the failures of a scenario's failed step.
func failures(r *scenario.ScenarioResult) []scenario.Failure {
	for _, st := range r.Steps {
		if st.Status == scenario.Failed {
			return st.Failures
		}
	}
	return nil
}

// describeResult prints a scenario's text report, for failure messages of specs.
func describeResult(r *scenario.ScenarioResult) string {
	var b bytes.Buffer
	scenario.WriteScenario(&b, r, 0, 0)
	return b.String()
}

// tinyBot is a deliberately simple Official Account bot for the checks: it answers every push
// with a text and, for a text starting with "send", sends one customer-service message. Its
// flaws are switched on by its fields.
type tinyBot struct {
	token, appID, secret string
	api                  func() string
	checkSignature       bool          // refuse what is not signed
	dedupe               bool          // act once per MsgId
	callAPIFirst         bool          // send before checking the signature
	delay                time.Duration // send this long after answering, not before
	answerSuccess        bool          // answer success rather than a text
	again                time.Duration // send once more this long after the first send

	mu    sync.Mutex // guards seen and token
	seen  map[string]bool
	tk    string
	async sync.WaitGroup
}

func newTinyBot(e *env, a *config.App) *tinyBot {
	return &tinyBot{token: a.Token, appID: a.AppID, secret: a.Secret, api: e.emu.URL, seen: map[string]bool{}}
}

type tinyMessage struct {
	ToUserName   string
	FromUserName string
	MsgType      string
	Event        string
	Content      string
	MsgID        string `xml:"MsgId"`
	CreateTime   string
}

func (b *tinyBot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	signed := wxcrypto.VerifySignature(b.token, q.Get("timestamp"), q.Get("nonce"), q.Get("signature"))
	if r.Method == http.MethodGet {
		_, _ = io.WriteString(w, q.Get("echostr"))
		return
	}
	body, _ := io.ReadAll(r.Body)
	var m tinyMessage
	if err := xml.Unmarshal(body, &m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	act := strings.HasPrefix(m.Content, "send")
	if act && b.callAPIFirst {
		b.send(m.FromUserName)
		act = false
	}
	if b.checkSignature && !signed {
		http.Error(w, "invalid signature", http.StatusForbidden)
		return
	}
	if b.dedupe {
		key := m.MsgID
		if key == "" {
			key = m.FromUserName + m.CreateTime
		}
		b.mu.Lock()
		dup := b.seen[key]
		b.seen[key] = true
		b.mu.Unlock()
		if dup {
			_, _ = io.WriteString(w, "success")
			return
		}
	}
	if act {
		if b.delay > 0 {
			b.async.Add(1)
			go func() {
				defer b.async.Done()
				clock.Sleep(b.delay)
				b.send(m.FromUserName)
			}()
		} else {
			b.send(m.FromUserName)
		}
		if b.again > 0 {
			b.async.Add(1)
			go func() {
				defer b.async.Done()
				clock.Sleep(b.delay + b.again)
				b.send(m.FromUserName)
			}()
		}
	}
	if b.answerSuccess {
		_, _ = io.WriteString(w, "success")
		return
	}
	fmt.Fprintf(w, "<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[ok]]></Content></xml>",
		m.FromUserName, m.ToUserName, epoch.Unix())
}

func (b *tinyBot) send(to string) {
	b.mu.Lock()
	if b.tk == "" {
		resp, err := http.Get(b.api() + "/cgi-bin/token?grant_type=client_credential&appid=" + b.appID + "&secret=" + b.secret)
		if err == nil {
			var t struct {
				AccessToken string `json:"access_token"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&t)
			resp.Body.Close()
			b.tk = t.AccessToken
		}
	}
	tk := b.tk
	b.mu.Unlock()
	body, _ := json.Marshal(map[string]any{"touser": to, "msgtype": "text", "text": map[string]string{"content": "sent"}})
	resp, err := http.Post(b.api()+"/cgi-bin/message/custom/send?access_token="+url.QueryEscape(tk), "application/json", bytes.NewReader(body))
	if err == nil {
		resp.Body.Close()
	}
}

// tiny makes a tinyBot maker with the given flaws switched off or on.
func tiny(setup func(*tinyBot)) botMaker {
	return func(e *env, a *config.App) http.Handler {
		b := newTinyBot(e, a)
		if setup != nil {
			setup(b)
		}
		DeferCleanup(b.async.Wait)
		return b
	}
}

func ctx() context.Context { return context.Background() }

// expectProblems parses text, which must be refused, and checks the problems reported, each
// with its position and fix, in order: the body of the tables of refused files.
func expectProblems(text string, want ...string) {
	GinkgoHelper()
	_, err := parse(text)
	Expect(err).To(HaveOccurred())
	var got []string
	for _, p := range scenario.Problems(err) {
		got = append(got, p.Error())
	}
	Expect(got).To(Equal(want), err.Error())
}
