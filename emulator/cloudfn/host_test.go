package cloudfn_test

import (
	"encoding/json"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/cloudfn"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/rules"
)

var _ = Describe("A cloud function with the real wx-server-sdk", func() {
	DescribeTable("replies through customerServiceMessage.send, and the reply lands in the transcript",
		func(name string) {
			w := newWorld(spec(fixture(name)))
			in := w.send("hello")
			r := in.Result
			Expect(r.Outcome).To(Equal(platform.None))
			Expect(r.Violations).To(BeEmpty())
			Expect(w.custom()).To(Equal([]string{"收到：hello"}))

			By("journaling the call as made by the cloud")
			api := w.entries(platform.KindAPI)
			Expect(api).To(HaveLen(1))
			Expect(api[0].API.Via).To(Equal(platform.ViaCloud))
			Expect(api[0].API.Path).To(Equal(platform.PathCustomSend))
			Expect(api[0].API.Errcode).To(Equal(0))
			Expect(api[0].User).To(Equal(alice))
			Expect(api[0].API.Exchange.RequestBody).To(ContainSubstring(`requestData={"touser":"` + alice + `","msgtype":"text","text":{"content":"收到：hello"}}`))

			By("reading like a push in the journal")
			Expect(r.Attempts).To(HaveLen(1))
			Expect(r.Attempts[0].URL).To(Equal("function " + name))
			Expect(r.Attempts[0].Status).To(Equal(200))
			Expect(r.Answer.Body).To(Equal(`"success"`))
			var event map[string]any
			Expect(json.Unmarshal([]byte(r.Request.Body), &event)).To(Succeed())
			Expect(event).To(HaveKeyWithValue("ToUserName", mpAppID), "the docs' example: the appid")
			Expect(event).To(HaveKeyWithValue("FromUserName", alice))
			Expect(event).To(HaveKeyWithValue("Content", "hello"))
			Expect(event["MsgId"]).To(BeAssignableToTypeOf(""), "the docs' example: a string")
			Expect(w.entries(platform.KindPush)[0].Push.Result.Outcome).To(Equal(platform.None))
		},
		Entry("wx-server-sdk 4.0.2", "kf"),
		Entry("wx-server-sdk 2.6.3", "kf-v2"),
		Entry("wx-server-sdk 1.8.3, reaching wxemu through the preload", "kf-v1"),
	)

	It("meets the 6th send of a window inside the function as the SDK's own error 45047", func() {
		w := newWorld(spec(fixture("kf")))
		in := w.send("push 6")
		Expect(in.Result.Outcome).To(Equal(platform.None))
		Expect(w.custom()).To(HaveLen(5))
		const thrown = "send 6 of 6 failed: errCode 45047 openapi.customerServiceMessage.send:fail out of response count limit rid: "
		Expect(w.output()).To(ContainSubstring(thrown))
		Expect(in.Result.Attempts[0].Output).To(ContainElement(And(
			HaveField("Stream", "stderr"), HaveField("Text", ContainSubstring(thrown)))), "the verdict carries what the function printed")
		api := w.entries(platform.KindAPI)
		Expect(api).To(HaveLen(6))
		Expect(api[5].API.Errcode).To(Equal(45047))
		Expect(api[5].API.Via).To(Equal(platform.ViaCloud))
	})

	It("transfers the user to the kf queue with a transfer object", func() {
		w := newWorld(spec(fixture("kf")))
		in := w.send("人工")
		Expect(in.Result.Outcome).To(Equal(platform.Transferred))
		Expect(in.Result.Violations).To(BeEmpty())
		Expect(in.Transfer).NotTo(BeEmpty())
		s, ok := w.p.KFSession(mpAppID, alice)
		Expect(ok).To(BeTrue(), "kf1@wxemu_mp accepts at once (auto_accept)")
		Expect(s.Account).To(Equal("kf1@wxemu_mp"))
	})

	It("transfers to the agent the transfer object names", func() {
		w := newWorld(spec(fixture("kf")))
		in := w.send("人工 kf1@wxemu_mp")
		Expect(in.Result.Outcome).To(Equal(platform.Transferred))
		Expect(in.Result.KfAccount).To(Equal("kf1@wxemu_mp"))
	})

	It("judges a transfer object like a JSON transfer reply: the header must be swapped", func() {
		w := newWorld(spec(fixture("bad-transfer")))
		r := w.send("人工").Result
		Expect(r.Outcome).To(Equal(platform.Failed))
		Expect(r.UserSees).To(Equal(push.FailureLineMP))
		Expect(violation(r, rules.ReplyHeaderSwap)).NotTo(BeEmpty())
	})

	It("drops content returned by a Mini Program's function with reply.msgtype.mp", func() {
		w := newWorld(spec(fixture("content-reply")))
		r := w.send("hello").Result
		Expect(r.Outcome).To(Equal(platform.None))
		Expect(violation(r, rules.ReplyMPContent)).To(ContainSubstring("a text message"))
		Expect(r.UserSees).To(BeEmpty())
	})

	It("refuses an API config.json does not permit with -604101, thrown by the SDK", func() {
		w := newWorld(spec(fixture("no-permission")))
		r := w.send("hello").Result
		Expect(r.Outcome).To(Equal(platform.Failed))
		Expect(violation(r, rules.FunctionError)).To(ContainSubstring("errCode: -604101 function has no permission to call this API"))
		api := w.entries(platform.KindAPI)
		Expect(api).To(HaveLen(1))
		Expect(api[0].API.Errcode).To(Equal(-604101))
		Expect(api[0].API.Errmsg).To(Equal("function has no permission to call this API"))
		Expect(api[0].API.Detail).To(ContainSubstring(`add "customerServiceMessage.send" to permissions.openapi in`))
		Expect(api[0].API.Detail).To(ContainSubstring("no-permission/config.json"))
	})

	It("refuses a connection that leaves the machine, and journals it as a finding", func() {
		w := newWorld(spec(fixture("outside")))
		r := w.send("hello").Result
		Expect(r.Outcome).To(Equal(platform.None))
		Expect(violation(r, rules.FunctionNetwork)).To(ContainSubstring("connection to example.com:443 refused"))
		Expect(r.HasError()).To(BeFalse(), "a warning: real WeChat lets a function out")
		Expect(w.output()).To(ContainSubstring("ECONNREFUSED"))
		findings := w.entries(platform.KindUnknown)
		Expect(findings).To(HaveLen(1))
		Expect(findings[0].User).To(Equal(alice))
		Expect(findings[0].Finding.Problem).To(ContainSubstring("cloud function outside: connection to example.com:443 refused"))
	})

	It("uploads temporary media and sends it", func() {
		w := newWorld(spec(fixture("image")))
		Expect(w.send("hello").Result.Violations).To(BeEmpty())
		Expect(w.custom()).To(ConsistOf(HavePrefix("[image ")))
		api := w.entries(platform.KindAPI)
		Expect(api).To(HaveLen(2))
		Expect(api[0].API.Path).To(Equal("/cgi-bin/media/upload"))
		Expect(api[0].API.Errcode).To(Equal(0))
	})

	It("shows typing", func() {
		w := newWorld(spec(fixture("typing")))
		Expect(w.send("hello").Result.Violations).To(BeEmpty())
		api := w.entries(platform.KindAPI)
		Expect(api).To(HaveLen(2))
		Expect(api[0].API.Path).To(Equal(platform.PathTyping))
		Expect(api[0].API.Errcode).To(Equal(0))
	})

	It("calls another function with cloud.callFunction", func() {
		callee := spec(fixture("callee"))
		callee.Routes = []cloudfn.Route{{MsgType: "miniprogrampage"}}
		caller := spec(fixture("caller"))
		caller.Routes = []cloudfn.Route{{MsgType: "text"}}
		w := newWorld(caller, callee)
		Expect(w.send("hello").Result.Violations).To(BeEmpty())
		Expect(w.custom()).To(Equal([]string{"callee got hello"}))
	})

	It("times out, tells the user, and starts cold at the next message", func() {
		w := newWorld(spec(fixture("hang")))
		r := w.send("hello").Result
		Expect(r.Outcome).To(Equal(platform.Failed))
		Expect(r.UserSees).To(Equal(push.FailureLineMP))
		Expect(violation(r, rules.FunctionTimeout)).To(HavePrefix("the function did not return within 1s"))
		Expect(r.Attempts[0].TimedOut).To(BeTrue())
		lines := w.p.Transcript(mpAppID, alice)
		Expect(lines[len(lines)-1].Text).To(Equal(push.FailureLineMP))
		Expect(strings.Count(string(w.logs.Contents()), "cloud function worker started")).To(Equal(1))
		w.send("again")
		Expect(strings.Count(string(w.logs.Contents()), "cloud function worker started")).To(Equal(2), "a cold start")
	})
})
