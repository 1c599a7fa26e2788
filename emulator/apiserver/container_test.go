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
	"strconv"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/apiserver"
	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/wire"
)

// containerBot is a cloud-hosting container's customer-service bot on loopback: it hands the
// user to a human on 人工 with the transfer object, and on "push 1" answers through the
// open-API service, calling custom/send without an access_token.
type containerBot struct {
	api string // the emulator's base URL, which stands for http://api.weixin.qq.com

	mu     sync.Mutex
	pushes []containerPush
	calls  []containerCall
}

type containerPush struct {
	path, query string
	header      http.Header
	body        string
}

func (b *containerBot) seen() ([]containerPush, []containerCall) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]containerPush(nil), b.pushes...), append([]containerCall(nil), b.calls...)
}

type containerCall struct {
	seqID string
	body  map[string]any
}

func (b *containerBot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var m struct {
		ToUserName, FromUserName, MsgType, Content string
	}
	_ = json.Unmarshal(raw, &m)
	b.mu.Lock()
	b.pushes = append(b.pushes, containerPush{path: r.URL.Path, query: r.URL.RawQuery, header: r.Header.Clone(), body: string(raw)})
	b.mu.Unlock()
	switch m.Content {
	case "人工":
		_, _ = io.WriteString(w, `{"ToUserName":"`+m.FromUserName+`","FromUserName":"`+m.ToUserName+
			`","CreateTime":`+strconv.FormatInt(epoch.Unix(), 10)+`,"MsgType":"transfer_customer_service"}`)
	case "push 1":
		body := `{"touser":"` + m.FromUserName + `","msgtype":"text","text":{"content":"pong"}}`
		resp, err := http.Post(b.api+"/cgi-bin/message/custom/send", "application/json", bytes.NewBufferString(body))
		if err == nil {
			var out map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			b.mu.Lock()
			b.calls = append(b.calls, containerCall{seqID: resp.Header.Get(apiserver.OpenAPISeqIDHeader), body: out})
			b.mu.Unlock()
		}
		_, _ = io.WriteString(w, "success")
	default:
		_, _ = io.WriteString(w, "success")
	}
}

type containerEnv struct {
	plat *platform.Platform
	base string
	bot  *containerBot
}

// startContainer runs the demo config with the Mini Program pushing to a container bot.
func startContainer(openAPI bool) *containerEnv {
	e := &containerEnv{bot: &containerBot{}}
	bot := httptest.NewServer(e.bot)
	DeferCleanup(bot.Close)
	cfg := config.Default()
	app, _ := cfg.App("mp")
	app.Mode, app.URL = config.ModePlain, ""
	app.Container = &config.Container{URL: bot.URL + "/container/wx", OpenAPI: openAPI}
	logger := slog.New(slog.NewTextHandler(GinkgoWriter, &slog.HandlerOptions{Level: slog.LevelError}))
	p, err := platform.New(platform.Options{Config: cfg, Clock: clock.NewFake(epoch), WallClock: clock.NewFake(epoch),
		Random: rand.NewChaCha8([32]byte{9}), Logger: logger})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(p.Close)
	srv := httptest.NewServer(apiserver.New(p, logger).Handler())
	DeferCleanup(srv.Close)
	e.plat, e.base, e.bot.api = p, srv.URL, srv.URL
	return e
}

func (e *containerEnv) send(content string) *platform.Interaction {
	in, err := e.plat.UserSends(context.Background(), "mp", aliceM, wire.Message{MsgType: "text", Content: content})
	Expect(err).NotTo(HaveOccurred())
	return in
}

// tokenless calls the API as the container does, with no access_token.
func (e *containerEnv) tokenless(method, path, body string) (map[string]any, http.Header) {
	req, err := http.NewRequest(method, e.base+path, bytes.NewBufferString(body))
	Expect(err).NotTo(HaveOccurred())
	resp, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	var out map[string]any
	Expect(json.NewDecoder(resp.Body).Decode(&out)).To(Succeed())
	return out, resp.Header
}

var _ = Describe("A cloud-hosting container (protocol §8.5)", func() {
	It("gets pushes without signature, with x-wx-source, and its transfer object is judged", func() {
		e := startContainer(true)
		in := e.send("人工")
		Expect(in.Result).NotTo(BeNil())
		Expect(in.Result.Outcome).To(Equal(push.Transferred))
		Expect(in.Result.HasError()).To(BeFalse(), "%v", in.Result.Violations)
		pushes, _ := e.bot.seen()
		Expect(pushes).NotTo(BeEmpty())
		r := pushes[0]
		Expect(r.body).To(ContainSubstring(`"Content":"人工"`))
		Expect(r.path).To(Equal("/container/wx"))
		Expect(r.query).To(BeEmpty())
		Expect(r.header.Get("x-wx-source")).NotTo(BeEmpty())
		Expect(r.header.Get("X-WX-OPENID")).To(Equal(aliceM))
		Expect(r.header.Get("X-WX-APPID")).To(Equal(mp))
		Expect(r.header.Get("Content-Type")).To(Equal("application/json"))
	})

	It("serves the container's token-less custom/send with the service on, with x-openapi-seqid", func() {
		e := startContainer(true)
		in := e.send("push 1")
		Expect(in.Result.Outcome).To(Equal(push.None))
		_, calls := e.bot.seen()
		Expect(calls).To(HaveLen(1))
		Expect(calls[0].body).To(HaveKeyWithValue("errcode", BeEquivalentTo(0)))
		Expect(calls[0].seqID).NotTo(BeEmpty())
		lines := e.plat.Transcript(mp, aliceM)
		Expect(lines[len(lines)-1].Text).To(ContainSubstring("pong"))
	})

	It("answers 85107 for an API the service does not allow", func() {
		e := startContainer(true)
		out, h := e.tokenless(http.MethodGet, "/cgi-bin/customservice/getkflist", "")
		Expect(out).To(HaveKeyWithValue("errcode", BeEquivalentTo(wire.CodeOpenAPINotAllowed)))
		Expect(h.Get(apiserver.OpenAPISeqIDHeader)).NotTo(BeEmpty())
	})

	It("answers 41001 with the service off, without x-openapi-seqid", func() {
		e := startContainer(false)
		in := e.send("push 1")
		Expect(in.Result.Outcome).To(Equal(push.None))
		_, calls := e.bot.seen()
		Expect(calls).To(HaveLen(1))
		Expect(calls[0].body).To(HaveKeyWithValue("errcode", BeEquivalentTo(wire.CodeAccessTokenMissing)))
		Expect(calls[0].body).To(HaveKeyWithValue("errmsg", HavePrefix("access_token missing rid: ")))
		Expect(calls[0].seqID).To(BeEmpty())
	})

	It("still serves a call with an access_token as before", func() {
		e := startContainer(true)
		out, _ := e.tokenless(http.MethodGet, "/cgi-bin/customservice/getkflist?access_token=nope", "")
		Expect(out["errcode"]).NotTo(BeEquivalentTo(wire.CodeOpenAPINotAllowed))
	})
})
