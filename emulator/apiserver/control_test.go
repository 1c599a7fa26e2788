package apiserver_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/platform"
)

var _ = Describe("the control API", func() {
	var e *env
	BeforeEach(func() { e = start(nil) })

	userSend := func(openid string, body string) answer {
		return e.post("/_emu/v1/users/"+openid+"/send", body)
	}

	It("lists the apps with their credentials", func() {
		apps := e.get("/_emu/v1/apps").JSON["apps"].([]any)
		Expect(apps).To(HaveLen(2))
		first := apps[0].(map[string]any)
		Expect(first).To(HaveKeyWithValue("alias", "oa"))
		Expect(first).To(HaveKeyWithValue("appid", config.DemoOAAppID))
		Expect(first).To(HaveKeyWithValue("secret", config.DemoOASecret))
		Expect(first).To(HaveKeyWithValue("token", config.DemoOAToken))
		Expect(first).To(HaveKeyWithValue("encoding_aes_key", config.DemoOAEncodingAESKey))
		Expect(first).To(HaveKeyWithValue("original_id", config.DemoOAOriginalID))
		Expect(first["url"]).To(HavePrefix("http://127.0.0.1:"))
	})

	It("pushes a user's message and answers the verdict, as wxemu send --json does", func() {
		a := userSend(alice, `{"app":"oa","MsgType":"text","Content":"hi"}`)
		Expect(a.Status).To(Equal(200), string(a.Raw))
		res := a.JSON["result"].(map[string]any)
		Expect(res["outcome"]).To(Equal("reply"))
		Expect(res["user_sees"]).To(Equal("hello, hi"))
		Expect(res["violations"]).To(BeEmpty())
		Expect(res["attempts"]).To(HaveLen(1))
		Expect(a.JSON["trigger"]).To(Equal("message"))

		lines := e.get("/_emu/v1/users/" + alice + "/transcript?app=oa").JSON["lines"].([]any)
		Expect(lines).To(HaveLen(2))
		Expect(lines[0]).To(And(HaveKeyWithValue("from", "user"), HaveKeyWithValue("text", "hi")))
		Expect(lines[1]).To(And(HaveKeyWithValue("from", "bot"), HaveKeyWithValue("kind", "reply"), HaveKeyWithValue("text", "hello, hi")))
	})

	It("pushes events and Mini Program JSON", func() {
		a := userSend(alice, `{"app":"oa","MsgType":"event","Event":"CLICK","EventKey":"V1001"}`)
		Expect(a.JSON["result"].(map[string]any)["user_sees"]).To(Equal("clicked V1001"))
		Expect(a.JSON["trigger"]).To(Equal("click"))

		a = userSend(aliceM, `{"app":"`+mp+`","MsgType":"event","Event":"user_enter_tempsession","SessionFrom":"wxapp"}`)
		Expect(a.JSON["result"].(map[string]any)["outcome"]).To(Equal("none"))
		Expect(a.JSON["trigger"]).To(Equal("tempsession"))
		Expect(e.mp.Received()).To(HaveLen(1))
	})

	It("pushes user_enter_tempsession only outside an active session when configured so", func() {
		e = start(func(c *config.Config) { c.API.TempsessionEveryEntry = false })
		enter := `{"app":"mp","MsgType":"event","Event":"user_enter_tempsession","SessionFrom":"wxapp"}`
		Expect(userSend(aliceM, enter).JSON["routed"]).To(Equal("bot"))
		Expect(userSend(aliceM, enter).JSON["routed"]).To(Equal("none"), "the window it opened is still open")
		e.clk.Advance(time.Minute)
		Expect(userSend(aliceM, enter).JSON["routed"]).To(Equal("bot"))
	})

	It("records a failed push as the system line the user sees", func() {
		e = start(func(c *config.Config) { c.Apps[0].URL = "http://127.0.0.1:1/wx" })
		a := userSend(alice, `{"app":"oa","MsgType":"text","Content":"hi"}`)
		res := a.JSON["result"].(map[string]any)
		Expect(res["outcome"]).To(Equal("failed"))
		Expect(res["violations"]).To(ContainElement(HaveKeyWithValue("rule", "push.connection")))
		lines := e.get("/_emu/v1/users/" + alice + "/transcript?app=oa").JSON["lines"].([]any)
		Expect(lines[1]).To(And(HaveKeyWithValue("from", "system"), HaveKeyWithValue("text", "该公众号暂时无法提供服务，请稍后再试")))
	})

	DescribeTable("answers bad requests precisely",
		func(openid, body string, status int, want string) {
			a := userSend(openid, body)
			Expect(a.Status).To(Equal(status), string(a.Raw))
			Expect(a.JSON["error"]).To(ContainSubstring(want))
		},
		Entry("unknown app", alice, `{"app":"oaa","MsgType":"text","Content":"hi"}`, 404, `did you mean "oa"`),
		Entry("text without content", alice, `{"app":"oa","MsgType":"text"}`, 400, "Content"),
		Entry("an MP event for an OA", alice, `{"app":"oa","MsgType":"event","Event":"user_enter_tempsession"}`, 400, "user_enter_tempsession"),
		Entry("empty body", alice, ``, 400, "empty"),
		Entry("not JSON", alice, `hi`, 400, "not a JSON object"),
		Entry("lower-case wire names", alice, `{"app":"oa","msgtype":"text","content":"hi"}`, 400, `"content" is "Content", "msgtype" is "MsgType"`),
	)

	It("shows each user's grants", func() {
		e.say(oa, alice, "hi")
		g := e.get("/_emu/v1/users/" + alice + "/grants?app=oa").JSON
		Expect(g["known"]).To(BeTrue())
		grants := g["grants"].([]any)
		Expect(grants).To(HaveLen(1))
		Expect(grants[0]).To(And(HaveKeyWithValue("trigger", "message"), HaveKeyWithValue("remaining", 5.0)))
	})

	It("opens a payment window on request", func() {
		a := e.post("/_emu/v1/users/"+bob+"/trigger", `{"app":"oa","trigger":"payment"}`)
		Expect(a.Status).To(Equal(200), string(a.Raw))
		tk := e.token(oa)
		for i := 0; i < 30; i++ {
			Expect(e.sendText(tk, bob, "receipt").errcode()).To(Equal(0))
		}
		Expect(e.post("/_emu/v1/users/"+bob+"/trigger", `{"app":"oa","trigger":"paymnet"}`).JSON["error"]).To(ContainSubstring(`did you mean "payment"`))
	})

	It("moves the clock", func() {
		before := e.get("/_emu/v1/clock").JSON["unix"].(float64)
		a := e.post("/_emu/v1/clock/advance", `{"by":"48h1s"}`)
		Expect(a.JSON["unix"]).To(BeNumerically("==", before+48*3600+1))
		Expect(a.JSON["advanced"]).To(Equal("48h0m1s"))
		Expect(e.post("/_emu/v1/clock/advance", `{"by":"-1h"}`).Status).To(Equal(400))
		Expect(e.post("/_emu/v1/clock/advance", `{"by":"two days"}`).Status).To(Equal(400))
		// A move that would take the clock out of its range is refused whole, naming the limit.
		far := e.post("/_emu/v1/clock/advance", `{"by":"2562047h"}`)
		Expect(far.Status).To(Equal(400))
		Expect(far.JSON["error"]).To(ContainSubstring("may not pass"))
		Expect(e.get("/_emu/v1/clock").JSON["unix"]).To(BeNumerically("==", before+48*3600+1), "the clock did not move")
	})

	It("filters the journal by app, user, kind and since", func() {
		e.say(oa, alice, "one")
		e.say(oa, bob, "two")
		tk := e.token(oa)
		e.sendText(tk, alice, "x")

		pushes := e.get("/_emu/v1/journal?kind=push").JSON["entries"].([]any)
		Expect(pushes).To(HaveLen(2))
		mine := e.get("/_emu/v1/journal?user=" + alice).JSON["entries"].([]any)
		Expect(mine).To(HaveLen(2))
		api := e.get("/_emu/v1/journal?kind=api&app=oa").JSON["entries"].([]any)
		Expect(api).To(HaveLen(2), "token and send")
		last := api[1].(map[string]any)
		Expect(last["summary"]).To(Equal("POST /cgi-bin/message/custom/send → ok"))
		Expect(last["data"].(map[string]any)["request_body"]).To(ContainSubstring(`"touser"`))

		seq := pushes[0].(map[string]any)["seq"].(float64)
		after := e.get("/_emu/v1/journal?kind=push&since=" + jsonNum(seq)).JSON["entries"].([]any)
		Expect(after).To(HaveLen(1))
		Expect(e.get("/_emu/v1/journal?kind=nope").Status).To(Equal(400))
	})

	It("bounds the journal", func() {
		e = start(func(c *config.Config) { c.Journal.MaxEntries = 3 })
		for i := 0; i < 5; i++ {
			e.say(oa, alice, "hi")
		}
		j := e.get("/_emu/v1/journal").JSON
		Expect(j["entries"]).To(HaveLen(3))
		Expect(j["dropped"]).To(BeNumerically("==", 2))
	})

	It("streams new journal entries as server-sent events", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.base+"/_emu/v1/journal/stream?kind=push", nil)
		resp, err := http.DefaultClient.Do(req)
		Expect(err).NotTo(HaveOccurred())
		defer resp.Body.Close()
		Expect(resp.Header.Get("Content-Type")).To(HavePrefix("text/event-stream"))
		r := bufio.NewReader(resp.Body)
		line, err := r.ReadString('\n')
		Expect(err).NotTo(HaveOccurred())
		Expect(line).To(HavePrefix(": wxemu journal stream"))

		e.say(oa, alice, "streamed")
		var event, data string
		for event == "" || data == "" {
			line, err := r.ReadString('\n')
			Expect(err).NotTo(HaveOccurred())
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				event = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(line, "data: "); ok {
				data = v
			}
		}
		Expect(event).To(Equal("push"))
		var entry map[string]any
		Expect(json.Unmarshal([]byte(data), &entry)).To(Succeed())
		Expect(entry["summary"]).To(ContainSubstring(`push text "streamed"`))
	})

	It("resets all state but keeps the configured users", func() {
		e.say(oa, alice, "hi")
		e.say(oa, "oNewUser0000000000000000000A", "hi")
		Expect(e.post("/_emu/v1/reset", nil).Status).To(Equal(200))
		Expect(e.get("/_emu/v1/users/" + alice + "/transcript?app=oa").JSON["lines"]).To(BeEmpty())
		users := e.get("/_emu/v1/users?app=oa").JSON["users"].([]any)
		Expect(users).To(HaveLen(3))
	})

	It("exports and imports all state", func() {
		e.say(oa, alice, "hi")
		tk := e.token(oa)
		Expect(e.sendText(tk, alice, "x").errcode()).To(Equal(0))
		snap := e.get("/_emu/v1/state")
		Expect(snap.JSON["version"]).To(BeNumerically("==", 1))

		e.post("/_emu/v1/reset", nil)
		Expect(e.sendText(tk, alice, "x").errcode()).To(Equal(40001), "tokens are gone")

		a := e.do(http.MethodPut, "/_emu/v1/state", snap.Raw, "application/json")
		Expect(a.Status).To(Equal(200), string(a.Raw))
		Expect(e.sendText(tk, alice, "y").errcode()).To(Equal(0), "token and window restored")
		lines := e.get("/_emu/v1/users/" + alice + "/transcript?app=oa").JSON["lines"].([]any)
		Expect(lines).To(HaveLen(4))
		g := e.get("/_emu/v1/users/" + alice + "/grants?app=oa").JSON["grants"].([]any)
		Expect(g[0]).To(HaveKeyWithValue("remaining", 3.0))

		Expect(e.do(http.MethodPut, "/_emu/v1/state", []byte(`{"version":9}`), "application/json").Status).To(Equal(400))
	})

	It("journals the control calls that change something, and every failure, with the raw exchange", func() {
		mark := e.p().LastSeq()
		e.get("/_emu/v1/clock")
		e.get("/_emu/v1/users/" + alice + "/grants?app=oa")
		Expect(e.p().Journal(platform.JournalFilter{Since: mark, Kind: "control"})).To(BeEmpty(), "reading changes nothing")

		e.post("/_emu/v1/users/"+bob+"/trigger", `{"app":"oa","trigger":"payment"}`)
		calls := e.p().Journal(platform.JournalFilter{Since: mark, Kind: "control"})
		Expect(calls).To(HaveLen(1))
		Expect(calls[0]).To(And(HaveField("App", oa), HaveField("User", bob), HaveField("Errors", 0),
			HaveField("Summary", "POST /_emu/v1/users/{openid}/trigger → ok")))
		Expect(calls[0].Control.Exchange).To(And(HaveField("Status", 200), HaveField("RequestBody", ContainSubstring("payment"))))

		mark = e.p().LastSeq()
		Expect(e.get("/_emu/v1/queue?app=nope").Status).To(Equal(404))
		Expect(e.do(http.MethodDelete, "/_emu/v1/reset", nil, "").Status).To(Equal(405))
		calls = e.p().Journal(platform.JournalFilter{Since: mark, Kind: "control"})
		Expect(calls).To(HaveLen(2))
		Expect(calls[0]).To(And(HaveField("Errors", 1), HaveField("Summary", ContainSubstring("GET /_emu/v1/queue → HTTP 404"))))
		Expect(calls[1]).To(And(HaveField("Errors", 1), HaveField("Summary", ContainSubstring("DELETE /_emu/v1/reset → HTTP 405"))))
	})

	It("says which WeChat errcode a refused agent action would get", func() {
		a := e.post("/_emu/v1/agents/"+config.DemoOAAgent1+"/close", `{"app":"oa","openid":"`+alice+`"}`)
		Expect(a.Status).To(Equal(409), string(a.Raw))
		Expect(a.JSON["error"]).To(ContainSubstring("(WeChat's API answers 65413 "))
		a = e.post("/_emu/v1/agents/"+config.DemoOAAgent1+"/accept", `{"app":"oa","openid":"`+alice+`"}`)
		Expect(a.Status).To(Equal(409), "no WeChat API accepts a waiting user, but it is a refusal all the same: "+string(a.Raw))
		Expect(a.JSON["error"]).To(ContainSubstring("not waiting"))
	})

	It("answers an error no rule maps with 500, never 404, and logs it", func() {
		// A ResponseWriter that cannot flush makes the journal stream fail inside wxemu.
		w := &unflushable{header: http.Header{}}
		req := httptest.NewRequest(http.MethodGet, "/_emu/v1/journal/stream", nil)
		req.Host = "127.0.0.1" // httptest's example.com is a name the control plane does not answer
		e.api.Handler().ServeHTTP(w, req)
		Expect(w.status).To(Equal(500))
		Expect(w.body.String()).To(ContainSubstring(`"error":"wxemu failed: `))
		Expect(e.log.Take()).To(ContainSubstring("unmapped error"))
		calls := e.p().Journal(platform.JournalFilter{Kind: "control"})
		Expect(calls).To(ContainElement(HaveField("Summary", ContainSubstring("→ HTTP 500"))))
	})

	It("answers an unknown control route with 404 and a pointer to the routes", func() {
		a := e.get("/_emu/v1/nope")
		Expect(a.Status).To(Equal(404))
		Expect(a.JSON["error"]).To(ContainSubstring("/_emu/v1/routes"))
		Expect(e.get("/_emu/v1/routes").JSON["routes"]).NotTo(BeEmpty())
	})
})

func jsonNum(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// unflushable is a ResponseWriter without http.Flusher.
type unflushable struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (u *unflushable) Header() http.Header { return u.header }

func (u *unflushable) WriteHeader(status int) { u.status = status }

func (u *unflushable) Write(b []byte) (int, error) {
	if u.status == 0 {
		u.status = 200
	}
	return u.body.Write(b)
}
