package apiserver_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/fixtures/bots"
)

const (
	kf1 = config.DemoOAAgent1 // online, accepts by hand
	kf2 = config.DemoOAAgent2 // online, accepts automatically
	kf3 = config.DemoOAAgent3 // offline
)

// manualOnly turns auto-accept off for every demo agent, so users wait in the queue.
func manualOnly(c *config.Config) {
	for i := range c.Apps {
		for j := range c.Apps[i].Agents {
			c.Apps[i].Agents[j].AutoAccept = false
		}
	}
}

// events lists the kf events the bot received, in order, as "Event KfAccount".
func kfEvents(b *bots.Bot) []string {
	var out []string
	for _, r := range b.Received() {
		for _, ev := range []string{"kf_create_session", "kf_close_session", "kf_switch_session"} {
			if strings.Contains(r.Plaintext, ev) {
				out = append(out, ev)
			}
		}
	}
	return out
}

// routed says where a user's text went: "bot" or "agent".
func (e *env) routed(appid, openid, text string) string {
	return e.say(appid, openid, text).Routed
}

func (e *env) agent(account, action string, body map[string]any) answer {
	if body["app"] == nil {
		body["app"] = "oa"
	}
	return e.post("/_emu/v1/agents/"+account+"/"+action, body)
}

var _ = Describe("the transfer life cycle", func() {
	It("queues a transferred user, still pushing their messages to the bot, until an agent accepts", func() {
		e := start(manualOnly)
		in := e.say(oa, alice, "人工")
		Expect(in.Result.Outcome).To(BeEquivalentTo("transfer"))
		Expect(in.Transfer).To(ConsistOf(HaveField("Kind", "queued")))

		Expect(e.routed(oa, alice, "is anyone there?")).To(Equal("bot"), "while waiting, messages still reach the bot")
		q := e.get("/_emu/v1/queue?app=oa").JSON
		Expect(q["count"]).To(BeNumerically("==", 1))

		a := e.agent(kf1, "accept", map[string]any{"openid": alice})
		Expect(a.Status).To(Equal(200), string(a.Raw))
		Expect(a.JSON["in_session"]).To(BeTrue())
		Expect(kfEvents(e.oa)).To(Equal([]string{"kf_create_session"}))
		Expect(e.oa.Received()[len(e.oa.Received())-1].Plaintext).To(ContainSubstring("<KfAccount><![CDATA[" + kf1 + "]]></KfAccount>"))

		pushes := len(e.oa.Received())
		in = e.say(oa, alice, "hello agent")
		Expect(in.Routed).To(Equal("agent"))
		Expect(in.Agent).To(Equal(kf1))
		Expect(in.Result).To(BeNil())
		Expect(e.oa.Received()).To(HaveLen(pushes), "in a session the bot receives nothing")

		inbox := e.get("/_emu/v1/agents/" + kf1 + "/inbox?app=oa").JSON
		Expect(inbox["messages"]).To(ContainElement(And(HaveKeyWithValue("text", "hello agent"), HaveKeyWithValue("opercode", 2003.0))))

		r := e.agent(kf1, "reply", map[string]any{"openid": alice, "text": "您好，客服小王为您服务"})
		Expect(r.JSON["delivered"]).To(BeTrue(), string(r.Raw))

		Expect(e.agent(kf1, "close", map[string]any{"openid": alice}).JSON["in_session"]).To(BeFalse())
		Expect(kfEvents(e.oa)).To(Equal([]string{"kf_create_session", "kf_close_session"}))
		Expect(e.routed(oa, alice, "thanks")).To(Equal("bot"))

		var seen []string
		for _, l := range e.p().Transcript(oa, alice) {
			seen = append(seen, l.From+": "+l.Text)
		}
		Expect(seen).To(ContainElements(
			"user: hello agent",
			"agent: 您好，客服小王为您服务",
			ContainSubstring("system: 客服小王 为你服务"),
			ContainSubstring("system: 客服小王 结束了会话"),
		))
		Expect(e.get("/_emu/v1/journal?kind=kf&user=" + alice).JSON["entries"]).To(ContainElement(HaveKeyWithValue("summary", ContainSubstring("accepted"))))
	})

	It("lets an auto-accepting agent take the user at once", func() {
		e := start(nil)
		in := e.say(oa, alice, "人工")
		Expect(in.Transfer).To(ContainElement(And(HaveField("Kind", "accepted"), HaveField("Account", kf2))))
		Expect(kfEvents(e.oa)).To(Equal([]string{"kf_create_session"}))
		Expect(e.routed(oa, alice, "hi")).To(Equal("agent"))
	})

	It("assigns a user to the named agent even when it is offline, and no other agent takes them", func() {
		e := start(nil)
		in := e.say(oa, alice, "人工 "+kf3)
		Expect(in.Transfer).To(ConsistOf(And(HaveField("Kind", "assigned"), HaveField("Account", kf3))))
		Expect(kfEvents(e.oa)).To(BeEmpty(), "kf2 auto-accepts, but the user is kf3's")

		a := e.agent(kf3, "status", map[string]any{"online": true, "auto_accept": true})
		Expect(a.Status).To(Equal(200), string(a.Raw))
		Expect(kfEvents(e.oa)).To(Equal([]string{"kf_create_session"}))
		s := e.get("/_emu/v1/queue?app=oa").JSON["sessions"].([]any)
		Expect(s).To(ConsistOf(HaveKeyWithValue("kf_account", kf3)))
	})

	It("switches a session between agents", func() {
		e := start(manualOnly)
		e.say(oa, alice, "人工")
		e.agent(kf1, "accept", map[string]any{"openid": alice})
		a := e.agent(kf1, "switch", map[string]any{"openid": alice, "to": kf2})
		Expect(a.Status).To(Equal(200), string(a.Raw))
		Expect(kfEvents(e.oa)).To(Equal([]string{"kf_create_session", "kf_switch_session"}))
		last := e.oa.Received()[len(e.oa.Received())-1].Plaintext
		Expect(last).To(ContainSubstring("<FromKfAccount><![CDATA[" + kf1 + "]]></FromKfAccount>"))
		Expect(last).To(ContainSubstring("<ToKfAccount><![CDATA[" + kf2 + "]]></ToKfAccount>"))
		Expect(e.say(oa, alice, "hi").Agent).To(Equal(kf2))
	})

	It("ends a session 30 minutes after it started, and messages go back to the bot", func() {
		e := start(nil)
		e.say(oa, alice, "人工")
		e.clk.Advance(20 * time.Minute)
		Expect(e.routed(oa, alice, "still there?")).To(Equal("agent"))
		e.clk.Advance(9*time.Minute + 59*time.Second)
		Expect(e.routed(oa, alice, "hello?")).To(Equal("agent"))
		e.clk.Advance(time.Second)
		Expect(e.routed(oa, alice, "back to the bot")).To(Equal("bot"))
		Expect(kfEvents(e.oa)).To(Equal([]string{"kf_create_session"}), "WeChat sends no event when a session times out")
		Expect(e.get("/_emu/v1/journal?kind=kf").JSON["entries"]).To(ContainElement(HaveKeyWithValue("summary", ContainSubstring("expired"))))
	})

	It("counts the 30 minutes from the last message with the activity anchor", func() {
		e := start(func(c *config.Config) { c.KF.SessionAnchor = "activity" })
		e.say(oa, alice, "人工")
		e.clk.Advance(20 * time.Minute)
		Expect(e.routed(oa, alice, "one")).To(Equal("agent"))
		e.clk.Advance(20 * time.Minute)
		Expect(e.routed(oa, alice, "two")).To(Equal("agent"), "40 minutes after the start, 20 after the last message")
		e.clk.Advance(30 * time.Minute)
		Expect(e.routed(oa, alice, "three")).To(Equal("bot"))
	})

	It("journals an expiry when the clock passes it, without waiting for a message", func() {
		e := start(nil)
		e.say(oa, alice, "人工")
		e.post("/_emu/v1/clock/advance", `{"by":"31m"}`)
		Expect(e.get("/_emu/v1/journal?kind=kf").JSON["entries"]).To(ContainElement(HaveKeyWithValue("summary", ContainSubstring("expired"))))
		Expect(e.get("/_emu/v1/queue?app=oa").JSON["sessions"]).To(BeEmpty())
	})

	It("sends agent replies as customer-service messages, within the window and its quota", func() {
		e := start(nil)
		e.say(oa, alice, "人工")
		for i := 0; i < 5; i++ {
			Expect(e.agent(kf2, "reply", map[string]any{"openid": alice, "text": "reply"}).JSON["delivered"]).To(BeTrue())
		}
		r := e.agent(kf2, "reply", map[string]any{"openid": alice, "text": "one too many"})
		Expect(r.JSON["delivered"]).To(BeFalse())
		Expect(r.JSON["errcode"]).To(BeNumerically("==", 45047))
		Expect(e.agent(kf1, "reply", map[string]any{"openid": alice, "text": "not mine"}).Status).To(Equal(409))
	})

	It("does not move a user when the bot transfers an event", func() {
		var e *env
		srvURL := ""
		{
			h, err := bots.New("transfer-on-event", bots.Config{Token: config.DemoOAToken})
			Expect(err).NotTo(HaveOccurred())
			srvURL = serveHandler(h)
		}
		e = start(func(c *config.Config) { c.Apps[0].URL = srvURL })
		click := eventMsg("CLICK")
		click.EventKey = "k"
		in, err := e.p().UserSends(context.Background(), oa, alice, click)
		Expect(err).NotTo(HaveOccurred())
		Expect(in.Result.Violations).To(ContainElement(HaveField("Rule", "reply.transfer.event")))
		Expect(in.Transfer).To(BeEmpty())
		Expect(e.get("/_emu/v1/queue?app=oa").JSON["count"]).To(BeNumerically("==", 0))
	})

	It("hands a Mini Program user over with JSON kf events", func() {
		e := start(nil)
		in := e.say(mp, aliceM, "人工")
		Expect(in.Transfer).To(ContainElement(HaveField("Kind", "accepted")))
		last := e.mp.Received()[len(e.mp.Received())-1].Plaintext
		Expect(last).To(ContainSubstring(`"Event":"kf_create_session"`))
		Expect(last).To(ContainSubstring(`"KfAccount":"` + config.DemoMPAgent1 + `"`))
		Expect(e.routed(mp, aliceM, "hi")).To(Equal("agent"))
	})
})

var _ = Describe("the kf session APIs", func() {
	var e *env
	var tk string
	BeforeEach(func() {
		e = start(manualOnly)
		tk = e.token(oa)
	})
	api := func(path string, body any) answer {
		return e.post(path+"?access_token="+tk, body)
	}

	It("creates, reads and closes sessions with the real codes", func() {
		body := func(account, openid string) map[string]string {
			return map[string]string{"kf_account": account, "openid": openid}
		}
		Expect(api("/customservice/kfsession/create", body(kf1, alice)).errcode()).To(Equal(45015), "no interaction in 48 h")
		e.say(oa, alice, "hi")
		Expect(api("/customservice/kfsession/create", body("nobody@wxemu_demo", alice)).errcode()).To(Equal(65401))
		Expect(api("/customservice/kfsession/create", body(kf3, alice)).errcode()).To(Equal(65415))
		Expect(api("/customservice/kfsession/create", body(kf1, alice)).errcode()).To(Equal(0))
		Expect(api("/customservice/kfsession/create", body(kf1, alice)).errcode()).To(Equal(0), "the same session again is fine")
		Expect(api("/customservice/kfsession/create", body(kf2, alice)).errcode()).To(Equal(65414))
		Expect(kfEvents(e.oa)).To(Equal([]string{"kf_create_session"}))

		s := e.get("/customservice/kfsession/getsession?access_token=" + tk + "&openid=" + alice).JSON
		Expect(s).To(HaveKeyWithValue("kf_account", kf1))
		Expect(s).To(HaveKeyWithValue("createtime", BeNumerically("==", epoch.Unix())))
		l := e.get("/customservice/kfsession/getsessionlist?access_token=" + tk + "&kf_account=" + kf1).JSON
		Expect(l["sessionlist"]).To(ConsistOf(HaveKeyWithValue("openid", alice)))

		Expect(api("/customservice/kfsession/close", body(kf2, alice)).errcode()).To(Equal(65413))
		Expect(api("/customservice/kfsession/close", body(kf1, alice)).errcode()).To(Equal(0))
		Expect(api("/customservice/kfsession/close", body(kf1, alice)).errcode()).To(Equal(65413))
		Expect(kfEvents(e.oa)).To(Equal([]string{"kf_create_session", "kf_close_session"}))
		s = e.get("/customservice/kfsession/getsession?access_token=" + tk + "&openid=" + alice).JSON
		Expect(s).To(And(HaveKeyWithValue("kf_account", ""), HaveKeyWithValue("createtime", 0.0)))
	})

	It("takes a user who talked to the account within 48 hours, the control API's message trigger included, and no one else", func() {
		create := func(openid string) answer {
			return api("/customservice/kfsession/create", map[string]string{"kf_account": kf1, "openid": openid})
		}
		trigger := func(openid, t string) {
			a := e.post("/_emu/v1/users/"+openid+"/trigger", `{"app":"oa","trigger":"`+t+`"}`)
			Expect(a.Status).To(Equal(200), string(a.Raw))
		}
		for _, t := range []string{"click", "subscribe", "scan", "payment"} {
			trigger(bob, t)
			Expect(create(bob).errcode()).To(Equal(45015), "a %s trigger is not the user talking", t)
		}
		Expect(e.sendText(tk, bob, "receipt").errcode()).To(Equal(0))
		Expect(create(bob).errcode()).To(Equal(45015), "the account's own message is not the user's")

		trigger(bob, "message")
		Expect(create(bob).errcode()).To(Equal(0), "a message trigger stands for a message from the user")
		Expect(api("/customservice/kfsession/close", map[string]string{"kf_account": kf1, "openid": bob}).errcode()).To(Equal(0))

		e.say(oa, alice, "hi")
		e.clk.Advance(48*time.Hour - time.Second)
		Expect(create(alice).errcode()).To(Equal(0))
		Expect(api("/customservice/kfsession/close", map[string]string{"kf_account": kf1, "openid": alice}).errcode()).To(Equal(0))
		e.clk.Advance(time.Second)
		Expect(create(alice).errcode()).To(Equal(45015), "48 hours have passed")
		Expect(create(bob).errcode()).To(Equal(45015))
	})

	It("lists the waiting users, earliest first", func() {
		e.say(oa, alice, "人工")
		e.clk.Advance(time.Minute)
		e.say(oa, bob, "人工")
		w := e.get("/customservice/kfsession/getwaitcase?access_token=" + tk).JSON
		Expect(w["count"]).To(BeNumerically("==", 2))
		list := w["waitcaselist"].([]any)
		Expect(list[0]).To(HaveKeyWithValue("openid", alice))
		Expect(list[1]).To(HaveKeyWithValue("openid", bob))
	})

	It("pages the message records within 24 hours", func() {
		e.say(oa, alice, "人工")
		e.agent(kf1, "accept", map[string]any{"openid": alice})
		e.say(oa, alice, "one")
		e.agent(kf1, "reply", map[string]any{"openid": alice, "text": "two"})
		e.say(oa, alice, "three")
		start, end := epoch.Add(-time.Hour).Unix(), epoch.Add(time.Hour).Unix()
		first := api("/customservice/msgrecord/getmsglist", map[string]any{"starttime": start, "endtime": end, "msgid": 1, "number": 2}).JSON
		Expect(first["number"]).To(BeNumerically("==", 2))
		next := first["msgid"].(float64)
		rest := api("/customservice/msgrecord/getmsglist", map[string]any{"starttime": start, "endtime": end, "msgid": next, "number": 100}).JSON
		var codes []float64
		for _, r := range append(first["recordlist"].([]any), rest["recordlist"].([]any)...) {
			codes = append(codes, r.(map[string]any)["opercode"].(float64))
		}
		Expect(codes).To(ContainElements(2003.0, 2002.0))
		Expect(api("/customservice/msgrecord/getmsglist", map[string]any{"starttime": start, "endtime": start + 86401, "msgid": 1, "number": 10}).errcode()).To(Equal(65417))
		Expect(api("/customservice/msgrecord/getmsglist", map[string]any{"starttime": start, "endtime": end, "msgid": 0, "number": 10}).errcode()).To(Equal(65416))
		Expect(api("/customservice/msgrecord/getmsglist", map[string]any{"starttime": start, "endtime": end, "msgid": 1, "number": 10001}).errcode()).To(Equal(65416))
	})
})

var _ = Describe("the kf account APIs", func() {
	var e *env
	var tk string
	BeforeEach(func() {
		e = start(nil)
		tk = e.token(oa)
	})
	api := func(path string, body any) answer {
		return e.post(path+"?access_token="+tk, body)
	}
	add := func(account, nickname string) int {
		return api("/customservice/kfaccount/add", map[string]string{"kf_account": account, "nickname": nickname}).errcode()
	}

	DescribeTable("checks kf account names",
		func(account, nickname string, code int) { Expect(add(account, nickname)).To(Equal(code)) },
		Entry("a good one", "kf9@wxemu_demo", "客服9", 0),
		Entry("no suffix", "kf9", "客服9", 65404),
		Entry("another account's suffix", "kf9@other", "客服9", 65404),
		Entry("prefix over 10 characters", "abcdefghijk@wxemu_demo", "客服9", 61454),
		Entry("illegal character", "kf-9@wxemu_demo", "客服9", 61455),
		Entry("empty nickname", "kf9@wxemu_demo", "", 65403),
		Entry("nickname over 16 characters", "kf9@wxemu_demo", strings.Repeat("客", 17), 65403),
		Entry("exists", kf1, "客服", 65406),
	)

	It("allows at most 100 accounts", func() {
		for i := 4; i <= 100; i++ {
			Expect(add("k"+strconv.Itoa(i)+"@wxemu_demo", "n")).To(Equal(0))
		}
		Expect(add("k101@wxemu_demo", "n")).To(Equal(65405))
	})

	It("updates, invites, deletes and lists accounts", func() {
		Expect(add("kf9@wxemu_demo", "客服9")).To(Equal(0))
		Expect(api("/customservice/kfaccount/update", map[string]string{"kf_account": "kf9@wxemu_demo", "nickname": "新名字"}).errcode()).To(Equal(0))
		Expect(api("/customservice/kfaccount/update", map[string]string{"kf_account": "nobody@wxemu_demo", "nickname": "x"}).errcode()).To(Equal(65401))

		invite := func(account, wx string) int {
			return api("/customservice/kfaccount/inviteworker", map[string]string{"kf_account": account, "invite_wx": wx}).errcode()
		}
		Expect(invite("kf9@wxemu_demo", "1")).To(Equal(65409))
		Expect(invite("kf9@wxemu_demo", "worker_nine")).To(Equal(0))
		Expect(invite("kf9@wxemu_demo", "worker_nine")).To(Equal(65408), "the same user again")
		Expect(invite("kf9@wxemu_demo", "worker_ten")).To(Equal(65411), "another user while one is invited")
		Expect(invite(kf1, "someone_else")).To(Equal(65412))

		list := e.get("/cgi-bin/customservice/getkflist?access_token=" + tk).JSON["kf_list"].([]any)
		Expect(list).To(ContainElement(And(HaveKeyWithValue("kf_account", "kf9@wxemu_demo"), HaveKeyWithValue("kf_nick", "新名字"),
			HaveKeyWithValue("invite_status", "waiting"), HaveKeyWithValue("invite_wx", "worker_nine"), HaveKeyWithValue("kf_id", BeNumerically(">", 1000)))))
		Expect(list).To(ContainElement(And(HaveKeyWithValue("kf_account", kf1), HaveKey("kf_wx"))))

		a := e.agent("kf9@wxemu_demo", "invitation", map[string]any{"accept": true})
		Expect(a.Status).To(Equal(200), string(a.Raw))
		Expect(invite("kf8@wxemu_demo", "worker_nine")).To(Equal(65401))
		Expect(add("kf8@wxemu_demo", "客服8")).To(Equal(0))
		Expect(invite("kf8@wxemu_demo", "worker_nine")).To(Equal(65407), "worker_nine is already kf9")

		online := e.get("/cgi-bin/customservice/getonlinekflist?access_token=" + tk).JSON["kf_online_list"].([]any)
		Expect(online).To(HaveLen(2))
		Expect(online[0]).To(And(HaveKeyWithValue("status", 1.0), HaveKey("accepted_case")))

		Expect(e.get("/customservice/kfaccount/del?access_token=" + tk + "&kf_account=kf9@wxemu_demo").errcode()).To(Equal(0))
		Expect(api("/customservice/kfaccount/del", map[string]string{"kf_account": kf3}).errcode()).To(Equal(0))
		Expect(api("/customservice/kfaccount/del", map[string]string{"kf_account": kf3}).errcode()).To(Equal(65401))
	})

	It("answers 61451 for a missing kf_account and 65402 for an unbound one", func() {
		Expect(api("/customservice/kfaccount/add", map[string]string{"nickname": "x"}).errcode()).To(Equal(61451))
		Expect(e.get("/customservice/kfaccount/del?access_token=" + tk).errcode()).To(Equal(61451))
		Expect(add("kf9@wxemu_demo", "客服9")).To(Equal(0))
		e.say(oa, alice, "hi")
		Expect(api("/customservice/kfsession/create", map[string]string{"kf_account": "kf9@wxemu_demo", "openid": alice}).errcode()).To(Equal(65402))
		Expect(e.agent("kf9@wxemu_demo", "status", map[string]any{"online": true}).Status).To(Equal(409), "an unbound account cannot go online")
	})

	It("takes a JPG head image only", func() {
		body, ct := multipartBody("media", "a.png", "image/png", png)
		Expect(e.do(http.MethodPost, "/customservice/kfaccount/uploadheadimg?access_token="+tk+"&kf_account="+kf1, body, ct).errcode()).To(Equal(61457))
		body, ct = multipartBody("media", "a.jpg", "image/jpeg", append([]byte{0xff, 0xd8, 0xff, 0xe0}, make([]byte, 100)...))
		Expect(e.do(http.MethodPost, "/customservice/kfaccount/uploadheadimg?access_token="+tk+"&kf_account="+kf1, body, ct).errcode()).To(Equal(0))
		list := e.get("/cgi-bin/customservice/getkflist?access_token=" + tk).JSON["kf_list"].([]any)
		Expect(list[0]).To(HaveKeyWithValue("kf_headimgurl", ContainSubstring("mmbiz.qpic.cn")))
	})

	It("writes kf_id as a string when configured", func() {
		e = start(func(c *config.Config) { c.API.KFIDType = "string" })
		tk = e.token(oa)
		list := e.get("/cgi-bin/customservice/getkflist?access_token=" + tk).JSON["kf_list"].([]any)
		Expect(list[0]).To(HaveKeyWithValue("kf_id", "1001"))
	})

	It("answers 65400 when the app has not enabled kf", func() {
		e = start(func(c *config.Config) { off := false; c.Apps[0].KFEnabled = &off })
		tk = e.token(oa)
		Expect(e.get("/cgi-bin/customservice/getkflist?access_token=" + tk).errcode()).To(Equal(65400))
	})
})

// serveHandler runs h on 127.0.0.1 and returns its callback URL.
func serveHandler(h http.Handler) string {
	srv := httptest.NewServer(h)
	DeferCleanup(srv.Close)
	return srv.URL + "/wx"
}
