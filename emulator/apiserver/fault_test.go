package apiserver_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/apiserver"
	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/wire"
)

func intp(n int) *int { return &n }

// addFault posts rules to the control API and answers what it said.
func (e *env) addFault(body string) answer {
	return e.post("/_emu/v1/faults", body)
}

// lastAPI is the newest api entry of the journal.
func (e *env) lastAPI() platform.Entry {
	all := e.p().Journal(platform.JournalFilter{Kind: platform.KindAPI})
	Expect(all).NotTo(BeEmpty())
	return all[len(all)-1]
}

var ridSuffix = `rid: [0-9a-f]{1,8}-[0-9a-f]{1,8}-[0-9a-f]{1,8}`

var _ = Describe("fault rules on WeChat's API", func() {
	var e *env
	BeforeEach(func() {
		e = start(nil)
		e.say(oa, alice, "hi") // a window for sends
	})

	DescribeTable("answer an injected errcode exactly as WeChat does, once per count",
		func(code int) {
			a := e.addFault(fmt.Sprintf(`{"path": "/cgi-bin/message/custom/send", "errcode": %d, "count": 1}`, code))
			Expect(a.Status).To(Equal(http.StatusOK), string(a.Raw))
			tk := e.token(oa)
			got := e.sendText(tk, alice, "one")
			Expect(got.Status).To(Equal(http.StatusOK))
			Expect(got.ContentType).To(Equal(apiserver.JSONContentType))
			msg, _ := wire.Errmsg(code)
			Expect(string(got.Raw)).To(MatchRegexp(`^\{"errcode":%d,"errmsg":"%s %s"\}$`, code, regexp.QuoteMeta(msg), ridSuffix))

			en := e.lastAPI()
			Expect(en.API.Injected).To(Equal(&platform.Injected{Rule: "f1", Action: fmt.Sprintf("errcode %d %s", code, msg)}))
			Expect(en.API.Errcode).To(Equal(code))
			Expect(en.Summary).To(HaveSuffix("[fault f1]"))
			Expect(en.User).To(Equal(alice))
			lines := e.p().Transcript(oa, alice)
			Expect(lines[len(lines)-1]).To(And(HaveField("Kind", platform.LineFault), HaveField("Journal", en.Seq),
				HaveField("Text", ContainSubstring("fault f1"))))
			Expect(lines[len(lines)-1].Visible()).To(BeFalse(), "the user sees nothing of a fault")

			Expect(e.sendText(tk, alice, "two").errcode()).To(Equal(0), "the count is spent")
			Expect(e.lastAPI().API.Injected).To(BeNil())
			Expect(e.get("/_emu/v1/faults").JSON["faults"]).To(ConsistOf(
				And(HaveKeyWithValue("id", "f1"), HaveKeyWithValue("matched", BeNumerically("==", 2)),
					HaveKeyWithValue("fired", BeNumerically("==", 1)), HaveKeyWithValue("spent", true))))
		},
		Entry("-1 system error", wire.CodeSystemError),
		Entry("45009 daily quota", wire.CodeAPIDailyQuota),
		Entry("45011 minute quota", wire.CodeAPIMinuteQuota),
		Entry("48001 api unauthorized", wire.CodeAPIUnauthorized),
		Entry("45015 a closed window", wire.CodeOutOfTimeLimit),
		Entry("45047 a used-up quota", wire.CodeOutOfResponseCount),
	)

	It("changes nothing of WeChat's state when it answers for it", func() {
		before := len(e.p().Grants(oa, alice))
		left := e.p().Grants(oa, alice)[0].Remaining
		e.addFault(`{"family": "custom_send", "errcode": 45047}`)
		Expect(e.sendText(e.token(oa), alice, "x").errcode()).To(Equal(45047))
		Expect(e.p().Grants(oa, alice)).To(HaveLen(before))
		Expect(e.p().Grants(oa, alice)[0].Remaining).To(Equal(left), "the quota is not spent")
	})

	It("matches by app and user", func() {
		e.say(oa, bob, "hi")
		e.addFault(fmt.Sprintf(`[{"family": "custom_send", "user": %q, "errcode": -1}, {"family": "custom_send", "app": "mp", "errcode": 48001}]`, bob))
		tk := e.token(oa)
		Expect(e.sendText(tk, alice, "x").errcode()).To(Equal(0))
		Expect(e.sendText(tk, bob, "x").errcode()).To(Equal(-1))
	})

	It("skips the first calls with after", func() {
		e.addFault(`{"path": "/cgi-bin/media/get", "errcode": -1, "after": 2, "count": 1}`)
		tk := e.token(oa)
		var codes []int
		for range 4 {
			codes = append(codes, e.use(tk))
		}
		Expect(codes).To(Equal([]int{valid, valid, -1, valid}))
	})

	It("acts on the token APIs, naming the app by its appid", func() {
		e.addFault(`{"family": "token", "app": "oa", "errcode": -1, "count": 1}`)
		app, _ := e.p().Config().App(mp)
		Expect(e.get("/cgi-bin/token?grant_type=client_credential&appid=" + app.AppID + "&secret=" + app.Secret).JSON).To(HaveKey("access_token"))
		oaApp, _ := e.p().Config().App(oa)
		a := e.get("/cgi-bin/token?grant_type=client_credential&appid=" + oaApp.AppID + "&secret=" + oaApp.Secret)
		Expect(a.errcode()).To(Equal(-1))
		Expect(e.lastAPI().App).To(Equal(oa))
	})

	It("revokes every token of the app with 40001, until the bot fetches a new one", func() {
		tk := e.token(oa)
		other := e.stableToken(oa, false)
		e.addFault(`{"family": "custom_send", "errcode": 40001, "count": 1}`)
		a := e.sendText(tk, alice, "x")
		Expect(string(a.Raw)).To(MatchRegexp(`^\{"errcode":40001,"errmsg":"invalid credential, access_token is invalid or not latest %s"\}$`, ridSuffix))
		Expect(e.lastAPI().API.Injected.Action).To(HavePrefix("revoked every token of the app"))
		Expect(e.use(tk)).To(Equal(40001), "the rule is spent, the revocation stays")
		Expect(e.use(other)).To(Equal(40001), "every token of the app")
		fresh := e.token(oa)
		Expect(e.use(fresh)).To(Equal(valid))
		Expect(e.sendText(fresh, alice, "x").errcode()).To(Equal(0))
	})

	It("expires every token of the app with 42001", func() {
		tk := e.token(oa)
		e.addFault(`{"path": "/cgi-bin/media/get", "errcode": 42001, "count": 1}`)
		Expect(e.use(tk)).To(Equal(42001))
		Expect(e.sendText(tk, alice, "x").errcode()).To(Equal(42001))
		Expect(e.use(e.token(oa))).To(Equal(valid))
	})

	It("meets no call its token refused first", func() {
		e.addFault(`{"family": "media", "errcode": -1}`)
		Expect(e.use("not-a-token-at-all-but-long-enough-xxxxxxxxxxxx")).NotTo(Equal(-1))
		Expect(e.get("/_emu/v1/faults").JSON["faults"]).To(ConsistOf(HaveKeyWithValue("matched", BeNumerically("==", 0))))
	})

	It("adds latency no shorter than the rule's, then answers", func() {
		e.addFault(`{"path": "/cgi-bin/media/get", "latency": "300ms", "count": 1}`)
		tk := e.token(oa)
		begin := clock.Real{}.Now()
		Expect(e.use(tk)).To(Equal(valid), "latency alone changes no answer")
		Expect(clock.Since(begin)).To(BeNumerically(">=", 300*time.Millisecond))
		Expect(e.lastAPI().API.Injected.Action).To(Equal("latency 300ms"))
	})

	It("adds latency before an errcode", func() {
		e.addFault(`{"path": "/cgi-bin/media/get", "latency": "100ms", "errcode": 45011}`)
		begin := clock.Real{}.Now()
		Expect(e.use(e.token(oa))).To(Equal(45011))
		Expect(clock.Since(begin)).To(BeNumerically(">=", 100*time.Millisecond))
	})

	It("stops waiting when the caller leaves, and journals the call", func() {
		e.addFault(`{"path": "/cgi-bin/media/get", "latency": "50s"}`)
		tk := e.token(oa)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.base+"/cgi-bin/media/get?media_id=x&access_token="+url.QueryEscape(tk), nil)
		_, err := http.DefaultClient.Do(req)
		Expect(err).To(HaveOccurred())
		Eventually(func() *platform.Injected { return e.lastAPI().API.Injected }).Should(
			HaveField("Action", ContainSubstring("the caller left during the latency")))
	})

	It("answers an HTTP 5xx with an empty body", func() {
		e.addFault(`{"family": "custom_send", "status": 503, "count": 1}`)
		a := e.sendText(e.token(oa), alice, "x")
		Expect(a.Status).To(Equal(http.StatusServiceUnavailable))
		Expect(a.Raw).To(BeEmpty())
		en := e.lastAPI()
		Expect(en.Summary).To(ContainSubstring("→ HTTP 503 [fault f1]"))
		Expect(en.Errors).To(Equal(1))
		Expect(en.API.Exchange.Status).To(Equal(503))
		Expect(e.p().Transcript(oa, alice)).NotTo(ContainElement(HaveField("Kind", platform.LineCustom)), "nothing was sent")
	})

	It("drops the connection without an answer: a real client reads EOF", func() {
		e.addFault(`{"family": "custom_send", "drop": true, "count": 1}`)
		client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
		tk := e.token(oa)
		_, err := client.Post(e.base+"/cgi-bin/message/custom/send?access_token="+url.QueryEscape(tk), "application/json",
			strings.NewReader(`{"touser":"`+alice+`","msgtype":"text","text":{"content":"x"}}`))
		Expect(err).To(HaveOccurred())
		Expect(errors.Is(err, io.EOF) || strings.Contains(err.Error(), "EOF")).To(BeTrue(), err.Error())
		Expect(e.lastAPI().Summary).To(ContainSubstring("→ connection dropped [fault f1]"))
		Expect(e.sendText(tk, alice, "x").errcode()).To(Equal(0), "the next call is served")
	})

	It("fires with a probability reproducibly for the same seed and sequence of calls", func() {
		run := func(seed int) []int {
			e.get("/_emu/v1/faults") // nothing to set up
			Expect(e.do(http.MethodDelete, "/_emu/v1/faults", nil, "").Status).To(Equal(http.StatusOK))
			Expect(e.addFault(fmt.Sprintf(`{"id": "p", "path": "/cgi-bin/media/get", "errcode": -1, "probability": 0.5, "seed": %d}`, seed)).Status).To(Equal(200))
			tk := e.token(oa)
			var codes []int
			for range 40 {
				codes = append(codes, e.use(tk))
			}
			return codes
		}
		first, again, other := run(7), run(7), run(8)
		Expect(again).To(Equal(first))
		Expect(other).NotTo(Equal(first))
		Expect(first).To(ContainElement(-1))
		Expect(first).To(ContainElement(valid))
	})
})

var _ = Describe("the fault control API", func() {
	var e *env
	BeforeEach(func() { e = start(nil) })

	It("adds one rule or a list, lists them with their counters, deletes one or all", func() {
		a := e.addFault(`{"path": "/cgi-bin/message/custom/send", "errcode": -1, "count": 1}`)
		Expect(a.Status).To(Equal(http.StatusOK), string(a.Raw))
		Expect(a.JSON["added"]).To(ConsistOf(HaveKeyWithValue("id", "f1")))
		a = e.addFault(`[{"id": "slow", "family": "media", "latency": "1s", "app": "oa"}, {"push": "duplicate", "msgtype": "text"}]`)
		Expect(a.Status).To(Equal(http.StatusOK), string(a.Raw))
		Expect(a.JSON["added"]).To(ConsistOf(
			And(HaveKeyWithValue("id", "slow"), HaveKeyWithValue("app", oa), HaveKeyWithValue("latency", "1s")),
			HaveKeyWithValue("id", "f2")))
		list := e.get("/_emu/v1/faults")
		Expect(list.JSON["faults"]).To(HaveLen(3))
		Expect(list.JSON["families"]).To(ContainElements("token", "custom_send", "typing", "media", "kf"))
		Expect(e.do(http.MethodDelete, "/_emu/v1/faults/slow", nil, "").Status).To(Equal(http.StatusOK))
		nf := e.do(http.MethodDelete, "/_emu/v1/faults/slwo", nil, "")
		Expect(nf.Status).To(Equal(http.StatusNotFound))
		Expect(nf.JSON["error"]).To(ContainSubstring(`no fault rule "slwo"`))
		d := e.do(http.MethodDelete, "/_emu/v1/faults", nil, "")
		Expect(d.JSON).To(HaveKeyWithValue("cleared", BeNumerically("==", 2)))
		Expect(e.get("/_emu/v1/faults").JSON["faults"]).To(BeEmpty())
		Expect(e.p().Journal(platform.JournalFilter{Kind: platform.KindControl})).To(ContainElement(
			HaveField("Summary", ContainSubstring("fault rule f1 added: errcode -1 system error on /cgi-bin/message/custom/send, 1 time(s)"))))
	})

	DescribeTable("refuses a bad rule with 400, naming the field and the fix, adding nothing",
		func(body string, want ...string) {
			a := e.addFault(body)
			Expect(a.Status).To(Equal(http.StatusBadRequest), string(a.Raw))
			for _, w := range want {
				Expect(a.JSON["error"]).To(ContainSubstring(w))
			}
			Expect(e.p().Faults()).To(BeEmpty())
		},
		Entry("a misspelled path", `{"path": "/cgi-bin/message/custom/snd", "errcode": -1}`,
			`path: "/cgi-bin/message/custom/snd" is not an API wxemu serves (did you mean "/cgi-bin/message/custom/send"?)`),
		Entry("a misspelled family", `{"family": "custom_snd", "errcode": -1}`, `family: unknown family "custom_snd" (did you mean "custom_send"?)`),
		Entry("an errcode outside the catalog", `{"family": "kf", "errcode": 12345}`, "errcode: 12345 is not in wxemu's errcode catalog"),
		Entry("a probability above 1", `{"family": "kf", "errcode": -1, "probability": 1.5}`, "probability: 1.5 is outside 0..1"),
		Entry("a negative count", `{"family": "kf", "errcode": -1, "count": -1}`, "count: -1: a rule fires at least once"),
		Entry("a status that is not 5xx", `{"family": "kf", "status": 404}`, "status: 404 is not an HTTP 5xx"),
		Entry("two actions", `{"family": "kf", "status": 500, "drop": true}`, "give one of them"),
		Entry("no action", `{"family": "kf"}`, "the rule does nothing"),
		Entry("an unknown app", `{"family": "kf", "errcode": -1, "app": "ao"}`, `app: unknown app "ao" (did you mean "oa"?)`),
		Entry("an unknown key", `{"family": "kf", "errocde": -1}`, `errocde: unknown key (did you mean "errcode"?)`),
		Entry("a wrong type", `{"family": "kf", "errcode": "-1"}`, "errcode: got a JSON string, want a whole number"),
		Entry("a bare latency", `{"family": "kf", "latency": 100}`, `bad fault rule: latency: want a Go duration string like "250ms" or "2s", got 100`),
		Entry("a list item that is not an object", `[{"family": "kf", "errcode": -1}, 7]`, `bad fault rule: [1]: not a JSON object like`),
		Entry("a list, by index", `[{"family": "kf", "errcode": -1}, {"family": "kf", "errcode": -1, "probability": 2}]`,
			"[1].probability: 2 is outside 0..1"),
		Entry("a push rule with an API action", `{"push": "duplicate", "errcode": -1}`, "push: a push rule has no other action"),
		Entry("an unknown push fault", `{"push": "dupe"}`, `unknown push fault "dupe"`),
		Entry("a token error on the token APIs", `{"family": "token", "errcode": 40001}`, "the token APIs carry none"),
		Entry("an empty body", ``, "the body is empty"),
	)

	It("gives every WeChat route a family, and names no path wxemu does not serve", func() {
		var served []string
		for _, rt := range e.api.Routes() {
			if rt.Access != apiserver.Control {
				served = append(served, rt.Path)
			}
		}
		Expect(platform.FaultPaths()).To(ConsistOf(served))
	})
})

// countingBot answers every text push with a different reply: "reply 1", "reply 2" …
func countingBot() (http.Handler, *atomic.Int32) {
	var n atomic.Int32
	re := regexp.MustCompile(`<(ToUserName|FromUserName)><!\[CDATA\[([^\]]*)\]\]>`)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method == http.MethodGet {
			_, _ = w.Write([]byte(r.URL.Query().Get("echostr")))
			return
		}
		f := map[string]string{}
		for _, m := range re.FindAllStringSubmatch(string(body), -1) {
			f[m[1]] = m[2]
		}
		i := n.Add(1)
		fmt.Fprintf(w, "<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[reply %d]]></Content></xml>",
			f["FromUserName"], f["ToUserName"], epoch.Unix(), i)
	}), &n
}

var _ = Describe("push faults", func() {
	var e *env
	BeforeEach(func() { e = start(nil) })

	pushes := func(openid string) []platform.Entry {
		return e.p().Journal(platform.JournalFilter{User: openid, Kind: platform.KindPush})
	}

	It("deliver a message twice, the same body, and accept the same reply again", func() {
		e.p().AddFaults([]platform.FaultRule{{Push: "duplicate", User: alice, Count: intp(1)}}, nil)
		in := e.say(oa, alice, "hi")
		Expect(in.Result.UserSees).To(Equal("hello, hi"))
		ps := pushes(alice)
		Expect(ps).To(HaveLen(2))
		first, dup := ps[0].Push, ps[1].Push
		Expect(first.Injected).To(BeNil())
		Expect(dup.Injected).To(HaveField("Action", ContainSubstring(fmt.Sprintf("duplicate delivery of push %d (same MsgId %d)", ps[0].Seq, first.Message.MsgId))))
		Expect(dup.Message.MsgId).To(Equal(first.Message.MsgId))
		Expect(dup.Message.CreateTime).To(Equal(first.Message.CreateTime))
		Expect(dup.Violations).To(BeEmpty(), "the same reply to a duplicate is right")
		Expect(e.oa.Received()).To(HaveLen(2))
		replies := 0
		for _, l := range e.p().Transcript(oa, alice) {
			if l.Kind == platform.LineReply {
				replies++
			}
		}
		Expect(replies).To(Equal(1), "the user sees one answer")
		e.say(oa, alice, "again")
		Expect(pushes(alice)).To(HaveLen(3), "the count is spent")
	})

	It("find a bot that sends again for a duplicate", func() {
		e.p().AddFaults([]platform.FaultRule{{Push: "duplicate", Count: intp(1)}}, nil)
		e.say(oa, alice, "hi")
		e.say(oa, alice, "push 1")
		ps := pushes(alice)
		Expect(ps).To(HaveLen(3))
		Expect(ps[1].Push.Violations).To(BeEmpty(), "the count of 1 was for the first message")
		Expect(e.p().Faults()[0].Fired).To(Equal(1))

		e.p().AddFaults([]platform.FaultRule{{Push: "duplicate", MsgType: "text", Count: intp(1)}}, nil)
		e.say(oa, alice, "push 1")
		ps = pushes(alice)
		dup := ps[len(ps)-1].Push
		Expect(dup.Injected).NotTo(BeNil())
		Expect(dup.Violations).To(ContainElement(HaveField("Rule", rules.PushDuplicateSends)))
	})

	It("find a bot that answers a duplicate with another reply", func() {
		bot, _ := countingBot()
		srv := httptest.NewServer(bot)
		DeferCleanup(srv.Close)
		e = start(func(c *config.Config) {
			for i := range c.Apps {
				if c.Apps[i].AppID == oa {
					c.Apps[i].URL = srv.URL + "/wx"
				}
			}
		})
		e.p().AddFaults([]platform.FaultRule{{Push: "duplicate", Count: intp(1)}}, nil)
		e.say(oa, alice, "hi")
		ps := pushes(alice)
		Expect(ps).To(HaveLen(2))
		Expect(ps[1].Push.Violations).To(ContainElement(And(HaveField("Rule", rules.PushDuplicateReply),
			HaveField("Message", ContainSubstring(`answered the reply "reply 2" after answering the reply "reply 1"`)))))
		Expect(ps[1].Errors).To(Equal(1))
	})

	It("deliver a message out of order: held, then after the user's next one", func() {
		e.p().AddFaults([]platform.FaultRule{{Push: "reorder", User: alice, Count: intp(1)}}, nil)
		in := e.say(oa, alice, "first")
		Expect(in.Routed).To(Equal(platform.RoutedHeld))
		Expect(in.Result).To(BeNil())
		Expect(e.oa.Received()).To(BeEmpty(), "held")
		e.say(oa, alice, "second")
		got := e.oa.Received()
		Expect(got).To(HaveLen(2))
		Expect(got[0].Plaintext).To(ContainSubstring("second"))
		Expect(got[1].Plaintext).To(ContainSubstring("first"))
		ps := pushes(alice)
		Expect(ps).To(HaveLen(2))
		Expect(ps[1].Push.Injected).To(HaveField("Action", ContainSubstring("delivered out of order")))
		Expect(ps[1].Push.Message.MsgId).To(BeNumerically("<", ps[0].Push.Message.MsgId), "it kept its place in WeChat's numbering")
		var seen []string
		for _, l := range e.p().Transcript(oa, alice) {
			if l.Kind == platform.LineReply {
				seen = append(seen, l.Text)
			}
		}
		Expect(seen).To(Equal([]string{"hello, second", "hello, first"}))
	})

	It("deliver a held message when the rules are cleared", func() {
		e.p().AddFaults([]platform.FaultRule{{Push: "reorder"}}, nil)
		e.say(oa, alice, "first")
		Expect(e.oa.Received()).To(BeEmpty())
		e.do(http.MethodDelete, "/_emu/v1/faults", nil, "")
		Expect(e.oa.Received()).To(HaveLen(1))
	})
})
