package specs_test

import (
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/emutest"
	"github.com/wxemu/wxemu/emulator/wxmatch"
	"github.com/wxemu/wxemu/fixtures/bots"
)

// These are the examples to copy. Each spec starts its own emulator in the process, on a fake
// clock, with a bot behind the app's callback URL: here the sample bots of fixtures/bots. Yours
// goes in the same place —
//
//	emutest.WithBotHandler("oa", yourbot.Handler(cfg))            // your http.Handler, served for you
//	emutest.WithNewBotHandler("oa", func(apiBase string) http.Handler {
//		return yourbot.Handler(yourbot.Config{APIBase: apiBase}) // built once emu.URL() is known
//	})
//	emutest.WithBot("oa", "http://127.0.0.1:8080/wx")             // a bot you started yourself
//
// with its API base set to emu.URL(), so that its calls of the WeChat API reach the emulator.
// Then the spec plays the users and the agents, moves the clock, and says with wxmatch what
// should have happened. A failed expectation prints what the user saw on the phone and the raw
// exchange behind it. What a bot does after it answered — sends from a goroutine, duplicates
// after a retry — is waited for the way Gomega's Eventually and then Consistently wait: up to
// 1 s for what is expected, then 100 ms in which nothing more may happen (emutest.WithSettle).

var _ = Describe("Example: an Official Account bot", func() {
	var emu *emutest.Emu
	var alice *emutest.User

	BeforeEach(func() {
		emu = emutest.Start(emutest.WithSampleBot("oa", "oa"))
		alice = emu.User("alice")
	})

	It("answers a text message with a text reply", func() {
		Expect(alice.Send(emutest.Text("hi"))).To(wxmatch.HaveTextReply("hello, hi"))

		Expect(alice).To(wxmatch.ShowUser("hi", "hello, hi"))
	})

	It("answers a menu click, and greets a new follower with news", func() {
		Expect(alice.Send(emutest.Click("V1001_TODAY_MUSIC"))).To(wxmatch.HaveTextReply("clicked V1001_TODAY_MUSIC"))

		newcomer := emu.NewUser("oa")
		welcome := newcomer.Send(emutest.Subscribe())
		Expect(welcome).To(wxmatch.HaveReply("news"))
		Expect(welcome).To(wxmatch.HaveNoErrors())
	})

	It("gets five customer-service messages per user message, then 45047, and 45015 after 48 hours", func() {
		// `push 6` makes the sample bot answer `success` and send six messages through
		// /cgi-bin/message/custom/send. A user message opens a window of five in 48 hours.
		ex := alice.Send(emutest.Text("push 6"))
		Expect(ex).To(wxmatch.HaveNoReply())
		Expect(ex).To(wxmatch.HaveSent(wxmatch.Sends(6), wxmatch.Errcodes(0, 0, 0, 0, 0, 45047)))
		Expect(alice).To(wxmatch.ShowUser("push 6", "message 1 of 6", "message 5 of 6"))
		Expect(alice).NotTo(wxmatch.ShowUser("message 6 of 6"))

		// Two days later the window has closed. A location report is an event, not a message:
		// it opens no window, so the bot's answer to it is refused.
		emu.Advance(48 * time.Hour)
		ex = alice.Send(emutest.ReportLocation("23.137466", "113.352425"))
		Expect(ex).To(wxmatch.HaveSentMessage("text", "you are at 23.137466, 113.352425", 45015))

		// The next message from alice opens a new window.
		ex = alice.Send(emutest.Text("push 1"))
		Expect(ex).To(wxmatch.HaveSent(wxmatch.Errcodes(0)))
	})

	It("calls the API like a bot, and sees WeChat's error codes", func() {
		token := emu.API().Token("oa")
		send := func() *emutest.APIResponse {
			return emu.API().Call("POST", "/cgi-bin/message/custom/send?access_token="+token, map[string]any{
				"touser": alice.OpenID, "msgtype": "text", "text": map[string]string{"content": "订单已发货"},
			})
		}
		Expect(send()).To(wxmatch.HaveErrcode(45015), "alice has not written: no window is open")

		alice.Send(emutest.Text("我的订单呢？"))
		Expect(send()).To(wxmatch.HaveErrcode(0))
		Expect(alice).To(wxmatch.ShowUser("我的订单呢？", "订单已发货"))
	})

	It("catches a bot that copies the header of the push instead of swapping it", func() {
		// Any http.Handler can stand behind the callback URL; here a deliberately broken one.
		handler, err := bots.New("noswap", bots.Config{Token: config.DemoOAToken})
		Expect(err).NotTo(HaveOccurred())
		broken := emutest.Start(emutest.WithBotHandler("oa", handler))

		ex := broken.User("alice").Send(emutest.Text("hi"))
		Expect(ex).To(wxmatch.HaveFailed())
		Expect(ex).To(wxmatch.HaveViolation("reply.header.swap"))
		Expect(broken.User("alice")).To(wxmatch.ShowUser("hi", "该公众号暂时无法提供服务，请稍后再试"))
	})
})

var _ = Describe("Example: handing a user over to a human agent", func() {
	var emu *emutest.Emu
	var alice *emutest.User
	var kf1 *emutest.Agent

	BeforeEach(func() {
		emu = emutest.Start(emutest.WithSampleBot("oa", "oa"))
		alice = emu.User("alice")
		kf1 = emu.Agent("kf1@wxemu_demo") // online, accepts by hand
	})

	It("transfers on 人工, and the agent accepts, talks, and closes", func() {
		// The sample bot answers `人工 ACCOUNT` with a transfer naming that agent.
		ex := alice.Send(emutest.Text("人工 kf1@wxemu_demo"))
		Expect(ex).To(wxmatch.BeTransferredTo("kf1@wxemu_demo"))

		// Until the agent accepts, alice's messages still go to the bot.
		Expect(alice.Send(emutest.Text("还在吗"))).To(And(wxmatch.BeDeliveredTo("bot"), wxmatch.HaveTextReply("hello, 还在吗")))

		// Accepting pushes kf_create_session to the bot; from then on the agent gets the messages.
		accepted := kf1.Accept(alice)
		Expect(accepted.BotReceived).To(ConsistOf(HaveField("Event", "kf_create_session")))
		Expect(alice.Send(emutest.Text("我的订单到哪了"))).To(wxmatch.BeDeliveredTo("kf1@wxemu_demo"))
		Expect(kf1.Inbox()).To(ContainElement(HaveField("Text", "我的订单到哪了")))

		// The agent's reply is a customer-service message, within alice's window.
		Expect(kf1.Reply(alice, "已发货，明天到")).To(wxmatch.HaveErrcode(0))

		// Closing pushes kf_close_session, and alice talks to the bot again.
		closed := kf1.Close(alice)
		Expect(closed.BotReceived).To(ConsistOf(HaveField("Event", "kf_close_session")))
		Expect(alice.Send(emutest.Text("谢谢"))).To(And(wxmatch.BeDeliveredTo("bot"), wxmatch.HaveTextReply("hello, 谢谢")))

		Expect(alice).To(wxmatch.ShowUser(
			"人工 kf1@wxemu_demo",
			ContainSubstring("kf1@wxemu_demo joined"),
			"我的订单到哪了",
			"已发货，明天到",
			ContainSubstring("kf1@wxemu_demo left"),
			"hello, 谢谢",
		))
	})

	It("lets an agent with auto-accept take a plain transfer at once", func() {
		ex := alice.Send(emutest.Text("人工"))
		Expect(ex).To(wxmatch.BeTransferred())
		Expect(ex.BotReceived()).To(ContainElement(HaveField("KfAccount", "kf2@wxemu_demo")))
		Expect(alice.ServedBy()).To(Equal("kf2@wxemu_demo"))
	})

	It("gives the user back to the bot when no one closes the session in 30 minutes", func() {
		alice.Send(emutest.Text("人工 kf1@wxemu_demo"))
		kf1.Accept(alice)

		emu.Advance(29 * time.Minute)
		Expect(alice.Send(emutest.Text("在吗"))).To(wxmatch.BeDeliveredTo("agent"))

		// WeChat sends no event when a session times out: the messages just go back to the bot.
		emu.Advance(time.Minute)
		seq := emu.LastSeq()
		Expect(alice.Send(emutest.Text("在吗"))).To(wxmatch.HaveTextReply("hello, 在吗"))
		Expect(emu.BotReceived(alice, seq)).NotTo(ContainElement(HaveField("Event", "kf_close_session")))
		Expect(alice).To(wxmatch.ShowUser(ContainSubstring("ended after 30m")))
	})
})

var _ = Describe("Example: safe mode", func() {
	// Safe mode is a setting of the app: the pushes and the replies are AES-encrypted.
	var cfg *config.Config
	BeforeEach(func() {
		cfg = config.Default()
		oa, _ := cfg.App("oa")
		oa.Mode = config.ModeSafe
	})

	It("pushes encrypted messages and reads the encrypted reply", func() {
		emu := emutest.Start(emutest.WithConfig(cfg), emutest.WithSampleBot("oa", "oa"))

		ex := emu.User("alice").Send(emutest.Text("hi"))
		Expect(ex).To(wxmatch.HaveTextReply("hello, hi"))
		Expect(ex).To(wxmatch.HaveNoErrors())
		Expect(ex.Result.Request.Body).To(ContainSubstring("<Encrypt>"))
		Expect(ex.Result.Answer.Decrypted).To(ContainSubstring("hello, hi"))
	})

	It("refuses a plaintext reply to an encrypted push", func() {
		emu := emutest.Start(emutest.WithConfig(cfg), emutest.WithSampleBot("oa", "plaintext"))

		ex := emu.User("alice").Send(emutest.Text("hi"))
		Expect(ex).To(wxmatch.HaveFailed())
		Expect(ex).To(wxmatch.HaveViolation("reply.safe.plaintext"))
	})
})

var _ = Describe("Example: a Mini Program bot with JSON pushes", func() {
	var emu *emutest.Emu
	var alice *emutest.User

	BeforeEach(func() {
		emu = emutest.Start(emutest.WithSampleBot("mp", "mp"))
		alice = emu.User("alice@mp") // alice as the Mini Program knows her: another openid
	})

	It("answers `success`: a Mini Program cannot reply with content", func() {
		ex := alice.Send(emutest.Text("hi"))
		Expect(ex).To(wxmatch.HaveNoReply())
		Expect(ex.Result.Request.ContentType).To(Equal("application/json"))

		Expect(alice.Send(emutest.EnterTempSession("order-42"))).To(wxmatch.HaveNoErrors())
	})

	It("sends customer-service messages within the same quota", func() {
		ex := alice.Send(emutest.Text("push 6"))
		Expect(ex).To(wxmatch.HaveSent(wxmatch.Errcodes(0, 0, 0, 0, 0, 45047)))
	})

	It("hands the user to the Mini Program's agent", func() {
		ex := alice.Send(emutest.Text("人工"))
		Expect(ex).To(wxmatch.BeTransferred())
		Expect(alice.ServedBy()).To(Equal("kf1@wxemu_mp"))

		Expect(alice.Send(emutest.MiniProgramPage("订单详情", "pages/order/index"))).To(wxmatch.BeDeliveredTo("kf1@wxemu_mp"))
		Expect(emu.Agent("kf1@wxemu_mp").Reply(alice, "收到")).To(wxmatch.HaveErrcode(0))
		Expect(alice).To(wxmatch.ShowUser("[miniprogrampage] 订单详情", "收到"))
	})
})

var _ = Describe("Example: a bot that answers `success` and sends later", func() {
	// The async sample bot answers every push `success` at once and sends its answer through the
	// customer-service API from a goroutine: `push 2 after 500ms` sends two messages half a second
	// after it answered.
	var emu *emutest.Emu
	var alice *emutest.User

	BeforeEach(func() {
		emu = emutest.Start(emutest.WithSampleBot("oa", "async"))
		alice = emu.User("alice")
	})

	It("is judged on the sends that follow the message: waited for, then watched for one too many", func() {
		ex := alice.Send(emutest.Text("push 2 after 500ms"))
		Expect(ex).To(wxmatch.HaveNoReply())
		Expect(ex).To(wxmatch.HaveSent(wxmatch.Sends(2), wxmatch.Errcodes(0, 0)))

		// Expecting one send fails once the second comes, and shows both.
		failures := InterceptGomegaFailures(func() {
			Expect(emu.User("bob").Send(emutest.Text("push 2 after 500ms"))).To(wxmatch.HaveSent(wxmatch.Sends(1)))
		})
		Expect(failures).To(ConsistOf(ContainSubstring(`text "message 2 of 2" → 0 ok`)))
	})

	It("gives a slower bot longer, for one assertion", func() {
		ex := alice.Send(emutest.Text("push 1 after 1500ms"))
		Expect(ex.Within(3 * time.Second)).To(wxmatch.HaveSentMessage("text", "message 1 of 1", 0))
	})

	It("waits until the bot has gone quiet before reading the chat", func() {
		alice.Send(emutest.Text("hi"))
		Expect(alice.WaitQuiet()).To(wxmatch.ShowUser("hi", "hello, hi"))
	})
})

var _ = Describe("Example: WeChat's retries, and pushes WeChat did not sign", func() {
	// In safe mode a push carries two signatures: signature over the query, and msg_signature
	// over the encrypted body. A forged push (u.Forge) has both wrong, ForgeMsgSignature only
	// msg_signature; BeRefused wants no reply, no transfer and no API call about the user, then or
	// in the 100 ms after. A retry (ex.Retry) is the same push again, with the same MsgId: the bot
	// must not act twice.
	var safe *config.Config
	BeforeEach(func() {
		safe = config.Default()
		oa, _ := safe.App("oa")
		oa.Mode = config.ModeSafe
	})

	It("oa acts once on a retry and refuses both forgeries", func() {
		alice := emutest.Start(emutest.WithConfig(safe), emutest.WithSampleBot("oa", "oa")).User("alice")
		ex := alice.Send(emutest.Text("hi"))
		Expect(ex).To(wxmatch.HaveTextReply("hello, hi"))
		Expect(ex.Retry()).To(wxmatch.HaveSent(wxmatch.Sends(0)))
		Expect(alice.Forge(emutest.Text("push 1"))).To(wxmatch.BeRefused())
		Expect(alice.ForgeMsgSignature(emutest.Text("push 1"))).To(wxmatch.BeRefused())
	})

	It("dupretry sends twice more when WeChat retries, 50 ms after it answered", func() {
		alice := emutest.Start(emutest.WithConfig(safe), emutest.WithSampleBot("oa", "dupretry")).User("alice")
		ex := alice.Send(emutest.Text("hi"))
		failures := InterceptGomegaFailures(func() { Expect(ex.Retry()).To(wxmatch.HaveSent(wxmatch.Sends(0))) })
		Expect(failures).To(ConsistOf(And(
			HavePrefix(`Expected WeChat's retry of text "hi" of alice`),
			ContainSubstring(`text "duplicate 2/2" → 0 ok`),
		)))
		Expect(alice.Forge(emutest.Text("push 1"))).To(wxmatch.BeRefused())
		Expect(alice.ForgeMsgSignature(emutest.Text("push 1"))).To(wxmatch.BeRefused())
	})

	It("sigonly takes a push whose msg_signature is wrong, and acts on it", func() {
		alice := emutest.Start(emutest.WithConfig(safe), emutest.WithSampleBot("oa", "sigonly")).User("alice")
		Expect(alice.Send(emutest.Text("hi")).Retry()).To(wxmatch.HaveSent(wxmatch.Sends(0)))
		Expect(alice.Forge(emutest.Text("push 1"))).To(wxmatch.BeRefused(), "its signature is wrong too")
		failures := InterceptGomegaFailures(func() {
			Expect(alice.ForgeMsgSignature(emutest.Text("push 1"))).To(wxmatch.BeRefused())
		})
		Expect(failures).To(ConsistOf(And(
			HavePrefix(`Expected a forged push (wrong msg_signature) of text "push 1" as alice`),
			ContainSubstring("it acted on a push WeChat did not sign"),
		)))
	})

	It("msgsigonly checks msg_signature alone, which covers what it decrypts: it passes", func() {
		alice := emutest.Start(emutest.WithConfig(safe), emutest.WithSampleBot("oa", "msgsigonly")).User("alice")
		Expect(alice.Send(emutest.Text("hi")).Retry()).To(wxmatch.HaveSent(wxmatch.Sends(0)))
		Expect(alice.Forge(emutest.Text("push 1"))).To(wxmatch.BeRefused())
		Expect(alice.ForgeMsgSignature(emutest.Text("push 1"))).To(wxmatch.BeRefused())
	})
})

var _ = Describe("Example: a bot of your own that calls the WeChat API", func() {
	It("gets the emulator's URL as its API base", func() {
		// WithNewBotHandler builds the handler once the emulator listens; here a sample bot
		// stands in for yours.
		emu := emutest.Start(emutest.WithNewBotHandler("oa", func(apiBase string) http.Handler {
			h, err := bots.New("oa", bots.Config{
				Token: config.DemoOAToken, AppID: config.DemoOAAppID, AppSecret: config.DemoOASecret, APIBase: apiBase,
			})
			Expect(err).NotTo(HaveOccurred())
			return h
		}))
		Expect(emu.User("alice").Send(emutest.Text("push 2"))).To(wxmatch.HaveSent(wxmatch.Errcodes(0, 0)))
	})
})

var _ = Describe("Example: access tokens", func() {
	// Tokens live 7200 s of wall time, the clock a bot caches its token on, so moving the
	// emulator's clock does not expire them. emu.ExpireTokens(app) expires them now (42001);
	// emu.RevokeTokens(app) forgets them, as resetting the AppSecret does (40001).

	It("tokencache keeps its token across virtual days, and never fetches a new one after 42001", func() {
		emu := emutest.Start(emutest.WithSampleBot("oa", "tokencache"))
		alice := emu.User("alice")
		Expect(alice.Send(emutest.Text("push 1"))).To(wxmatch.HaveSent(wxmatch.Errcodes(0)))

		emu.Advance(48 * time.Hour)
		Expect(alice.Send(emutest.Text("push 1"))).To(wxmatch.HaveSent(wxmatch.Errcodes(0)))

		emu.ExpireTokens("oa")
		Expect(alice.Send(emutest.Text("push 1"))).To(wxmatch.HaveSent(wxmatch.Errcodes(42001)))
	})

	It("oa fetches a new token when WeChat says its token expired or is unknown", func() {
		emu := emutest.Start(emutest.WithSampleBot("oa", "oa"))
		alice := emu.User("alice")
		Expect(alice.Send(emutest.Text("push 1"))).To(wxmatch.HaveSent(wxmatch.Errcodes(0)))

		emu.ExpireTokens("oa")
		Expect(alice.Send(emutest.Text("push 1"))).To(wxmatch.HaveSent(wxmatch.Errcodes(42001, 0)))

		emu.RevokeTokens("oa")
		Expect(alice.Send(emutest.Text("push 1"))).To(wxmatch.HaveSent(wxmatch.Errcodes(40001, 0)))
	})
})
