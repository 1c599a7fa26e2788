package emutest_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/emutest"
	"github.com/wxemu/wxemu/emulator/harness"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/wire"
	"github.com/wxemu/wxemu/fixtures/bots"
)

// hostOf is the host:port of a URL, to dial.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	Expect(err).NotTo(HaveOccurred())
	return u.Host
}

func customText(to, content string) map[string]any {
	return map[string]any{"touser": to, "msgtype": "text", "text": map[string]string{"content": content}}
}

// newServer serves h on a loopback port until the spec ends and returns its URL.
func newServer(h http.Handler) string {
	srv := httptest.NewServer(h)
	DeferCleanup(srv.Close)
	return srv.URL
}

// successBot answers every push `success` and counts them.
func successBot(n *atomic.Int32) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		_, _ = w.Write([]byte("success"))
	})
}

var _ = Describe("Start", func() {
	It("wires a sample bot to the emulator both ways: pushes to it, and its API calls back", func() {
		e := emutest.Start(emutest.WithSampleBot("oa", "oa"))
		ex := e.User("alice").Send(emutest.Text("push 2"))
		Expect(ex.Result.Outcome).To(Equal(push.None))
		Expect(ex.Sends()).To(HaveLen(2))
		Expect(ex.Sends()).To(HaveEach(HaveField("Errcode", 0)))
		Expect(e.SampleBot("oa").Sent()).To(HaveLen(2))
	})

	It("starts at the documented time on a clock only Advance moves", func() {
		e := emutest.Start()
		Expect(e.Now()).To(Equal(emutest.DefaultStart()))
		Expect(e.Now().Format(time.RFC3339)).To(Equal("2026-11-21T10:00:00+08:00"))
		e.Advance(90 * time.Minute)
		Expect(e.Now()).To(Equal(emutest.DefaultStart().Add(90 * time.Minute)))
		Expect(e.FakeClock().Now()).To(Equal(e.Now()))
	})

	It("starts at the time WithStart gives", func() {
		t := time.Date(2027, 2, 1, 8, 30, 0, 0, time.UTC)
		Expect(emutest.Start(emutest.WithStart(t)).Now()).To(Equal(t))
	})

	It("pushes to a bot at a URL (WithBot) and to a handler it serves (WithBotHandler)", func() {
		var atURL, served atomic.Int32
		srv := newServer(successBot(&atURL))
		e := emutest.Start(emutest.WithBot("oa", srv+"/wx"), emutest.WithBotHandler("mp", successBot(&served)))
		Expect(e.User("alice").Send(emutest.Text("hi")).Result.Outcome).To(Equal(push.None))
		Expect(e.User("alice@mp").Send(emutest.Text("hi")).Result.Outcome).To(Equal(push.None))
		Expect(atURL.Load()).To(BeEquivalentTo(1))
		Expect(served.Load()).To(BeEquivalentTo(1))
	})

	It("runs with the configuration WithConfig gives", func() {
		cfg := config.Default()
		oa, _ := cfg.App("oa")
		oa.Mode = config.ModeSafe
		e := emutest.Start(emutest.WithConfig(cfg), emutest.WithSampleBot("oa", "oa"))
		ex := e.User("alice").Send(emutest.Text("hi"))
		Expect(ex.Result.Request.Body).To(ContainSubstring("<Encrypt>"))
		Expect(ex.Result.UserSees).To(Equal("hello, hi"))
	})

	It("gives up on a slow bot after the deadline WithPushTimeout sets", func() {
		e := emutest.Start(emutest.WithSampleBot("oa", "slow"), emutest.WithPushTimeout(50*time.Millisecond))
		ex := e.User("alice").Send(emutest.Text("hi"))
		Expect(ex.Result.Outcome).To(Equal(push.Failed))
		Expect(ex.Result.Attempts).To(HaveLen(3))
		Expect(ex.Result.Violations).To(ContainElement(HaveField("Rule", "push.timeout")))
	})

	It("keeps two emulators in one spec apart", func() {
		one := emutest.Start(emutest.WithSampleBot("oa", "oa"))
		two := emutest.Start(emutest.WithSampleBot("oa", "oa"))
		Expect(one.URL()).NotTo(Equal(two.URL()))

		one.User("alice").Send(emutest.Text("hi"))
		Expect(one.User("alice").Transcript()).To(HaveLen(2))
		Expect(two.User("alice").Transcript()).To(BeEmpty())
		Expect(two.SampleBot("oa").Received()).To(BeEmpty())

		tk := one.API().Token("oa")
		r := two.API().Call(http.MethodPost, "/cgi-bin/message/custom/send?access_token="+tk, customText(config.DemoAliceOA, "hi"))
		Expect(r.Errcode).To(Equal(40001), "a token of one emulator is unknown to the other")

		one.Advance(time.Hour)
		Expect(two.Now()).To(Equal(emutest.DefaultStart()))
		Expect(one.NewUser("oa").OpenID).NotTo(Equal(two.NewUser("oa").OpenID))
	})

	It("reproduces tokens and fresh openids with WithSeed", func() {
		// A token carries its expiry, which on wall time, the default, differs from run to run.
		cfg := config.Default()
		cfg.API.TokenTime = config.TokenTimeVirtual
		a := emutest.Start(emutest.WithSeed(7), emutest.WithConfig(cfg))
		b := emutest.Start(emutest.WithSeed(7), emutest.WithConfig(cfg))
		c := emutest.Start(emutest.WithSeed(8), emutest.WithConfig(cfg))
		ta, tb, tc := a.API().Token("oa"), b.API().Token("oa"), c.API().Token("oa")
		Expect(ta).To(Equal(tb))
		Expect(ta).NotTo(Equal(tc))
		Expect(a.NewUser("oa").OpenID).To(Equal(b.NewUser("oa").OpenID))
		Expect(a.Seed()).To(Equal(uint64(7)))
	})

	It("builds a handler once the emulator listens, with its URL as the bot's API base (WithNewBotHandler)", func() {
		var base string
		e := emutest.Start(emutest.WithNewBotHandler("oa", func(apiBase string) http.Handler {
			base = apiBase
			h, err := bots.New("oa", bots.Config{Token: config.DemoOAToken, AppID: config.DemoOAAppID,
				AppSecret: config.DemoOASecret, APIBase: apiBase})
			Expect(err).NotTo(HaveOccurred())
			return h
		}))
		Expect(base).To(Equal(e.URL()))
		ex := e.User("alice").Send(emutest.Text("push 2"))
		Expect(ex.Result.Outcome).To(Equal(push.None))
		Expect(ex.Sends()).To(HaveEach(HaveField("Errcode", 0)))
		Expect(ex.Sends()).To(HaveLen(2))
	})

	It("fails the spec when WithNewBotHandler's function builds nothing", func() {
		err := InterceptGomegaFailure(func() {
			emutest.Start(emutest.WithNewBotHandler("oa", func(string) http.Handler { return nil }))
		})
		Expect(err).To(MatchError(ContainSubstring(`emutest.WithNewBotHandler("oa", …): the function built no handler`)))
	})

	It("judges what a bot does after it answered with the bounds WithSettle gives", func() {
		e := emutest.Start(emutest.WithSampleBot("oa", "async"), emutest.WithSettle(2*time.Second, 50*time.Millisecond))
		ex := e.User("alice").Send(emutest.Text("push 2 after 1200ms"))
		within, quiet := ex.Bounds()
		Expect(within).To(Equal(2 * time.Second))
		Expect(quiet).To(Equal(50 * time.Millisecond))
		Expect(ex.Settle(func(a *harness.Act) bool { return len(a.Sends()) == 2 })).To(BeTrue())

		within, quiet = emutest.Start().User("alice").Bounds()
		Expect(within).To(Equal(emutest.DefaultWithin))
		Expect(quiet).To(Equal(emutest.DefaultQuiet))
		Expect(InterceptGomegaFailure(func() { emutest.Start(emutest.WithSettle(-time.Second, 0)) })).
			To(MatchError(ContainSubstring("emutest.WithSettle: within is negative")))
	})

	It("fails the spec with a suggestion when a bot option names an app the configuration lacks", func() {
		err := InterceptGomegaFailure(func() { emutest.Start(emutest.WithSampleBot("ao", "oa")) })
		Expect(err).To(MatchError(And(ContainSubstring(`WithSampleBot("ao"`), ContainSubstring(`did you mean "oa"?`))))
	})

	It("fails the spec with the list of sample bots when one is unknown", func() {
		err := InterceptGomegaFailure(func() { emutest.Start(emutest.WithSampleBot("oa", "slwo")) })
		Expect(err).To(MatchError(And(ContainSubstring(`did you mean "slow"?`), ContainSubstring("noswap"))))
	})

	It("fails the spec when two bots are given for one app", func() {
		err := InterceptGomegaFailure(func() {
			emutest.Start(emutest.WithSampleBot("oa", "oa"), emutest.WithBot("oa", "http://127.0.0.1:1/wx"))
		})
		Expect(err).To(MatchError(ContainSubstring("already has a bot")))
	})

	It("fails the spec on a configuration that is not valid", func() {
		cfg := config.Default()
		cfg.Apps[0].AppID = "wx123"
		err := InterceptGomegaFailure(func() { emutest.Start(emutest.WithConfig(cfg)) })
		Expect(err).To(MatchError(ContainSubstring("WithConfig: the configuration is not valid")))
	})
})

// The ports of what one spec started, checked by the next spec of the ordered container.
var _ = Describe("cleanup", Ordered, func() {
	var hosts []string

	It("starts an emulator and its bot servers", func() {
		var n atomic.Int32
		e := emutest.Start(emutest.WithSampleBot("oa", "oa"), emutest.WithBotHandler("mp", successBot(&n)))
		hosts = []string{hostOf(e.URL())}
		for _, a := range e.Apps() {
			hosts = append(hosts, hostOf(a.URL))
		}
		for _, h := range hosts {
			conn, err := net.Dial("tcp", h)
			Expect(err).NotTo(HaveOccurred())
			Expect(conn.Close()).To(Succeed())
		}
	})

	It("has closed all of them when that spec ended", func() {
		Expect(hosts).To(HaveLen(3))
		for _, h := range hosts {
			_, err := net.DialTimeout("tcp", h, time.Second)
			Expect(err).To(HaveOccurred(), "%s still listens", h)
		}
	})
})

var _ = Describe("users", func() {
	var e *emutest.Emu
	BeforeEach(func() { e = emutest.Start() })

	It("finds configured users by name, name@app or openid", func() {
		Expect(e.User("alice").OpenID).To(Equal(config.DemoAliceOA))
		Expect(e.User("alice@mp").OpenID).To(Equal(config.DemoAliceMP))
		Expect(e.User("alice@mp").App).To(Equal("mp"))
		Expect(e.User(config.DemoBobOA).Name).To(Equal("bob"))
		Expect(e.User("carol").String()).To(Equal("carol (" + config.DemoCarolOA + ") of oa"))
	})

	It("makes fresh users fresh: new openids, shaped like the app's, following it, with nothing seen", func() {
		u1, u2 := e.NewUser("oa"), e.NewUser("")
		Expect(u1.OpenID).NotTo(Equal(u2.OpenID))
		Expect(u1.AppID).To(Equal(config.DemoOAAppID))
		Expect(u2.AppID).To(Equal(config.DemoOAAppID), `"" is the first app`)
		for _, u := range []*emutest.User{u1, u2} {
			Expect(u.OpenID).To(HaveLen(28))
			Expect(u.OpenID).To(HavePrefix(config.DemoAliceOA[:6]))
			Expect(u.OpenID).NotTo(BeElementOf(config.DemoAliceOA, config.DemoBobOA, config.DemoCarolOA))
			Expect(u.Subscribed()).To(BeTrue())
			Expect(u.Transcript()).To(BeEmpty())
		}
		Expect(e.NewUser("mp").OpenID).To(HavePrefix(config.DemoAliceMP[:6]))
	})

	It("keeps a name it made up: the same person each time, another one in another app", func() {
		dave := e.User("dave")
		Expect(dave.Name).To(Equal("dave"))
		Expect(e.User("dave").OpenID).To(Equal(dave.OpenID))
		Expect(e.User("dave@mp").OpenID).NotTo(Equal(dave.OpenID))
		Expect(dave.Subscribed()).To(BeTrue())
	})

	It("fails the spec with the platform's reason when a message cannot be sent", func() {
		err := InterceptGomegaFailure(func() { e.User("alice@mp").Send(emutest.Voice()) })
		Expect(err).To(MatchError(And(ContainSubstring("alice ("+config.DemoAliceMP+") of mp could not send voice"), ContainSubstring("bad message"))))

		err = InterceptGomegaFailure(func() { e.User("alice").Send(emutest.Text("hi")) })
		Expect(err).To(MatchError(ContainSubstring("has no callback URL")))
	})

	It("returns the error from TrySend instead", func() {
		ex, err := e.User("alice").TrySend(emutest.Text("hi"))
		Expect(ex).To(BeNil())
		Expect(err).To(MatchError(ContainSubstring("has no callback URL")))
	})

	It("asserts with the Gomega WithGomega gives, as Eventually's", func() {
		var failures []string
		g := NewGomega(func(message string, _ ...int) { failures = append(failures, message) })
		Expect(e.User("alice@mp").WithGomega(g).Send(emutest.Voice())).To(BeNil())
		Expect(e.WithGomega(g).Agent("kf9@wxemu_demo")).To(BeNil())
		Expect(failures).To(ConsistOf(ContainSubstring("could not send voice"), ContainSubstring("no app has the kf account")))
	})

	It("opens a window without a push", func() {
		Expect(e.User("alice").Trigger("payment")).To(ConsistOf(HaveField("Trigger", state.Trigger("payment"))))
		Expect(e.User("alice").Grants()).To(HaveLen(1))
	})
})

var _ = Describe("exchanges", func() {
	var e *emutest.Emu
	var alice *emutest.User
	BeforeEach(func() {
		e = emutest.Start(emutest.WithSampleBot("oa", "oa"))
		alice = e.User("alice")
	})

	It("holds the sends during the push, the transcript after it, and what the bot received", func() {
		ex := alice.Send(emutest.Text("push 6"))
		Expect(ex.Trigger).To(Equal("message"))
		Expect(ex.Sends()).To(HaveLen(6))
		Expect(ex.Sends()[5].Errcode).To(Equal(45047))
		Expect(ex.Transcript).To(HaveLen(6), "push 6 and the five delivered")
		Expect(ex.BotReceived()).To(ConsistOf(HaveField("Content", "push 6")))

		next := alice.Send(emutest.Text("hi"))
		Expect(next.Sends()).To(BeEmpty(), "the sends of an earlier push are not this one's")
		Expect(alice.Sends()).To(HaveLen(6))
		Expect(e.BotReceived(alice, 0)).To(HaveLen(2))
		Expect(e.BotReceived(alice, ex.Until)).To(ConsistOf(HaveField("Content", "hi")))
	})

	It("renders for Gomega as what the user saw and the raw exchange", func() {
		ex := alice.Send(emutest.Text("push 6"))
		s := ex.GomegaString()
		Expect(s).To(ContainSubstring("What alice saw:"))
		Expect(s).To(MatchRegexp(`10:00:00  bot \(custom\)\s+message 5 of 6`))
		Expect(s).To(ContainSubstring("<Content><![CDATA[push 6]]></Content>"), "the request body")
		Expect(s).To(ContainSubstring("answer      200"))
		Expect(s).To(ContainSubstring(`text "message 6 of 6" → 45047 out of response count limit`))
		Expect(alice.GomegaString()).To(ContainSubstring("message 1 of 6"))
	})

	It("shows the date in a transcript that spans days", func() {
		alice.Send(emutest.Text("hi"))
		e.Advance(48 * time.Hour)
		ex := alice.Send(emutest.Text("hi again"))
		Expect(emutest.RenderTranscript(ex.Transcript, "alice")).To(ContainSubstring("11-23 10:00:00  alice"))
	})

	It("shows a hand-over the transfer caused, and the kf_create_session it raised", func() {
		ex := alice.Send(emutest.Text("人工"))
		Expect(ex.Transfer).To(ContainElement(HaveField("Kind", "accepted")))
		Expect(ex.BotReceived()).To(ContainElement(HaveField("Event", "kf_create_session")))
		Expect(ex.GomegaString()).To(ContainSubstring("hand-over: queued; accepted by kf2@wxemu_demo (auto-accept)"))
	})
})

var _ = Describe("what follows an exchange", func() {
	var e *emutest.Emu
	var alice *emutest.User
	BeforeEach(func() {
		e = emutest.Start(emutest.WithSampleBot("oa", "async"))
		alice = e.User("alice")
	})

	It("holds the sends the bot makes after it answered: Sends waits until the bot goes quiet", func() {
		// Sends knows no count to wait for: its quiet window must outlast the bot's pause, with room
		// for a loaded machine.
		ex := alice.Send(emutest.Text("push 2 after 20ms")).QuietFor(time.Second)
		Expect(ex.Result.Outcome).To(Equal(push.None))
		Expect(ex.Sends()).To(HaveLen(2))
		Expect(ex.Sends()).To(HaveEach(HaveField("Errcode", 0)))
		Expect(ex.GomegaString()).To(MatchRegexp(`bot \(custom\)\s+message 2 of 2`), "what the user saw once it was judged")
	})

	It("settles with a condition: until it holds, then for the quiet window", func() {
		ex := alice.Send(emutest.Text("push 2 after 100ms"))
		Expect(ex.Settle(func(a *harness.Act) bool { return len(a.Sends()) == 2 })).To(BeTrue())
		Expect(ex.Settle(func(a *harness.Act) bool { return len(a.Sends()) == 1 })).To(BeFalse())
	})

	It("ends where the user acts again: a send, a retry, a forged push, an agent's action", func() {
		first := alice.Send(emutest.Text("push 1"))
		Expect(first.Open()).To(BeTrue())
		Expect(first.Sends()).To(HaveLen(1))
		second := alice.Send(emutest.Text("push 2"))
		Expect(first.Open()).To(BeFalse())
		Expect(second.Sends()).To(HaveLen(2))
		Expect(first.Sends()).To(HaveLen(1), "the sends after alice wrote again are not the first exchange's")
		Expect(first.GomegaString()).To(ContainSubstring("until alice's next action at journal #"))

		retry := second.Retry()
		Expect(second.Open()).To(BeFalse())
		alice.Forge(emutest.Text("hi"))
		Expect(retry.Open()).To(BeFalse())
	})

	It("waits until the bot has gone quiet, and returns the user to read", func() {
		alice.Send(emutest.Text("push 2 after 50ms"))
		Expect(alice.WaitQuiet().Transcript()).To(ContainElement(HaveField("Text", "message 2 of 2")))
	})

	It("takes another bound and quiet window for one assertion", func() {
		ex := alice.Send(emutest.Text("hi"))
		within, quiet := ex.Within(3 * time.Second).QuietFor(time.Second).Bounds()
		Expect(within).To(Equal(3 * time.Second))
		Expect(quiet).To(Equal(time.Second))
		within, quiet = ex.Bounds()
		Expect(within).To(Equal(emutest.DefaultWithin), "a view changes only itself")
		Expect(quiet).To(Equal(emutest.DefaultQuiet))
		Expect(InterceptGomegaFailure(func() { ex.Within(-time.Second) })).To(MatchError(ContainSubstring("a bound is not negative")))
	})
})

var _ = Describe("WaitQuiet on a bot that never stops", func() {
	// chatty answers `success` and then sends to the user every 20 ms until the spec ends.
	chatty := func(apiBase string) http.Handler {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		DeferCleanup(func() { cancel(); wg.Wait() })
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("success"))
			if r.Method != http.MethodPost {
				return
			}
			to := r.URL.Query().Get("openid")
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := http.Get(apiBase + "/cgi-bin/token?grant_type=client_credential&appid=" + config.DemoOAAppID + "&secret=" + config.DemoOASecret)
				if err != nil {
					return
				}
				var tk struct {
					AccessToken string `json:"access_token"`
				}
				_ = json.NewDecoder(resp.Body).Decode(&tk)
				resp.Body.Close()
				for ctx.Err() == nil {
					body := `{"touser":"` + to + `","msgtype":"text","text":{"content":"still here"}}`
					if resp, err := http.Post(apiBase+"/cgi-bin/message/custom/send?access_token="+tk.AccessToken, "application/json", strings.NewReader(body)); err == nil {
						resp.Body.Close()
					}
					pause, stop := clock.WithTimeout(ctx, 20*time.Millisecond)
					<-pause.Done()
					stop()
				}
			}()
		})
	}

	It("fails the spec once the bound is over, with the last entries", func() {
		e := emutest.Start(emutest.WithNewBotHandler("oa", chatty), emutest.WithSettle(200*time.Millisecond, 100*time.Millisecond))
		alice := e.User("alice")
		alice.Send(emutest.Text("hi"))
		err := InterceptGomegaFailure(func() { alice.WaitQuiet() })
		Expect(err).To(MatchError(And(
			ContainSubstring("emutest: the bot did not go quiet about alice"),
			ContainSubstring("something happened at least every 100ms for 300ms"),
			ContainSubstring("/cgi-bin/message/custom/send"),
		)))
	})
})

var _ = Describe("retries and forged pushes", func() {
	It("retries the push of an exchange, as WeChat does, and shows what followed the retry", func() {
		e := emutest.Start(emutest.WithSampleBot("oa", "dupretry"))
		ex := e.User("alice").Send(emutest.Text("hi"))
		retry := ex.Retry()
		Expect(retry.RetryOf).To(BeIdenticalTo(ex))
		Expect(retry.Result.Message.Get("MsgId")).To(Equal(ex.Result.Message.Get("MsgId")))
		Expect(retry.Result.Request.Body).To(Equal(ex.Result.Request.Body))
		Expect(retry.BotReceived()).To(BeEmpty(), "a retry is not a new message of the user")
		Expect(retry.Sends()).To(ConsistOf(HaveField("Content", "duplicate 1/2"), HaveField("Content", "duplicate 2/2")))
		Expect(retry.Describe()).To(HavePrefix(`WeChat's retry of text "hi" of alice`))
		Expect(retry.GomegaString()).To(HavePrefix(`WeChat retried text "hi" of alice`))
	})

	It("fails the spec when the message went to an agent: WeChat has nothing to retry", func() {
		e := emutest.Start(emutest.WithSampleBot("oa", "oa"))
		alice := e.User("alice")
		alice.Send(emutest.Text("人工"))
		ex := alice.Send(emutest.Text("在吗"))
		Expect(InterceptGomegaFailure(func() { ex.Retry() })).To(MatchError(ContainSubstring("went to agent, not to the bot")))
	})

	It("forges a push with both signatures wrong, and in plain mode with signature wrong; the user sees nothing", func() {
		cfg := config.Default()
		oa, _ := cfg.App("oa")
		oa.Mode = config.ModeSafe
		e := emutest.Start(emutest.WithConfig(cfg), emutest.WithSampleBot("oa", "oa"))
		forged := e.User("alice").Forge(emutest.Text("hi"))
		Expect(forged.Forged).To(Equal("signature and msg_signature"))
		Expect(forged.Result.Answer.Status).To(Equal(http.StatusForbidden))
		Expect(forged.Transcript).To(BeEmpty())
		Expect(forged.BotReceived()).To(BeEmpty())
		Expect(forged.Describe()).To(HavePrefix(`a forged push (wrong signature and msg_signature) of text "hi" as alice`))
		Expect(e.User("alice").ForgeMsgSignature(emutest.Text("hi")).Forged).To(Equal("msg_signature"))

		plain := emutest.Start(emutest.WithSampleBot("oa", "oa")).User("alice")
		Expect(plain.Forge(emutest.Text("hi")).Forged).To(Equal("signature"))
		Expect(InterceptGomegaFailure(func() { plain.ForgeMsgSignature(emutest.Text("hi")) })).
			To(MatchError(ContainSubstring("oa is in plain mode, whose pushes have no msg_signature")))
	})
})

var _ = Describe("agents", func() {
	var e *emutest.Emu
	var alice *emutest.User
	var kf1, kf2 *emutest.Agent
	BeforeEach(func() {
		e = emutest.Start(emutest.WithSampleBot("oa", "oa"))
		alice = e.User("alice")
		kf1, kf2 = e.Agent("kf1@wxemu_demo"), e.Agent("kf2@wxemu_demo")
	})

	It("accepts, replies, switches and closes, with the kf events the bot gets", func() {
		Expect(alice.Send(emutest.Text("人工 kf1@wxemu_demo")).Transfer).To(ConsistOf(HaveField("Kind", "assigned")))
		Expect(alice.Waiting()).To(BeTrue())

		h := kf1.Accept(alice)
		Expect(h.BotReceived).To(ConsistOf(HaveField("Event", "kf_create_session")))
		Expect(alice.ServedBy()).To(Equal("kf1@wxemu_demo"))

		ex := alice.Send(emutest.Text("在吗"))
		Expect(ex.Routed).To(Equal("agent"))
		Expect(ex.Result).To(BeNil())
		Expect(kf1.Inbox()).To(ContainElement(HaveField("Text", "在吗")))

		r := kf1.Reply(alice, "您好")
		Expect(r.Delivered).To(BeTrue())
		Expect(r.Transcript[len(r.Transcript)-1]).To(And(HaveField("From", "agent"), HaveField("Text", "您好")))

		h = kf1.SwitchTo(alice, kf2)
		Expect(h.BotReceived).To(ConsistOf(HaveField("Event", "kf_switch_session")))
		Expect(kf2.Sessions()).To(HaveLen(1))

		h = kf2.Close(alice)
		Expect(h.BotReceived).To(ConsistOf(HaveField("Event", "kf_close_session")))
		Expect(alice.ServedBy()).To(BeEmpty())
	})

	It("returns WeChat's refusal of an agent's reply as a result", func() {
		alice.Send(emutest.Text("人工"))
		Expect(alice.ServedBy()).To(Equal("kf2@wxemu_demo"))
		for range 5 {
			Expect(kf2.Reply(alice, "稍等").Delivered).To(BeTrue())
		}
		r := kf2.Reply(alice, "还有一件事")
		Expect(r.Delivered).To(BeFalse())
		Expect(r.Errcode).To(Equal(45047))
		Expect(r.GomegaString()).To(ContainSubstring("refused: 45047"))
	})

	It("fails the spec, saying where the user stands, when an agent acts on a user it does not serve", func() {
		err := InterceptGomegaFailure(func() { kf1.Reply(alice, "hi") })
		Expect(err).To(MatchError(ContainSubstring("kf1@wxemu_demo cannot reply to alice")))
		Expect(err).To(MatchError(ContainSubstring("not transferred to customer service")))

		alice.Send(emutest.Text("人工 kf1@wxemu_demo"))
		err = InterceptGomegaFailure(func() { kf2.Accept(alice) })
		Expect(err).To(MatchError(ContainSubstring("who is waiting for kf1@wxemu_demo")))

		err = InterceptGomegaFailure(func() { kf1.Accept(e.User("alice@mp")) })
		Expect(err).To(MatchError(ContainSubstring("is not a user of it")))
	})

	It("names the kf accounts when one is unknown", func() {
		err := InterceptGomegaFailure(func() { e.Agent("kf4@wxemu_demo") })
		Expect(err).To(MatchError(And(ContainSubstring(`did you mean "kf1@wxemu_demo"?`), ContainSubstring("kf1@wxemu_mp"))))
	})

	It("sets an agent's status", func() {
		kf1.AutoAccept(true)
		alice.Send(emutest.Text("人工 kf1@wxemu_demo"))
		Expect(alice.ServedBy()).To(Equal("kf1@wxemu_demo"))

		kf3 := e.Agent("kf3@wxemu_demo")
		Expect(kf3.State().Online).To(BeFalse())
		kf3.Online()
		Expect(kf3.State().Online).To(BeTrue())
		kf3.Offline()
		Expect(kf3.State().Online).To(BeFalse())
	})
})

var _ = Describe("the API client", func() {
	var e *emutest.Emu
	BeforeEach(func() { e = emutest.Start(emutest.WithSampleBot("oa", "oa")) })

	It("calls the WeChat API as a bot does, and moves with the clock", func() {
		alice := e.User("alice")
		alice.Send(emutest.Text("hi"))
		send := func(tk string) *emutest.APIResponse {
			return e.API().Call(http.MethodPost, "/cgi-bin/message/custom/send?access_token="+tk, customText(alice.OpenID, "<a href=\"x\">hi</a>"))
		}
		tk := e.API().Token("oa")
		r := send(tk)
		Expect(r.Status).To(Equal(http.StatusOK))
		Expect(r.Errcode).To(Equal(0))
		Expect(string(r.RequestBody)).To(ContainSubstring(`<a href=\"x\">`), "bodies are not HTML-escaped")

		e.Advance(2 * time.Hour)
		Expect(send(tk).Errcode).To(Equal(0), "the token lasts 7200 s of wall time, by default")
		e.SetTokenTime(true)
		tk = e.API().Token("oa")
		e.Advance(2 * time.Hour)
		Expect(send(tk).Errcode).To(Equal(42001), "the token lasts 7200 s of virtual time")

		e.Advance(46 * time.Hour)
		r = send(e.API().Token("oa"))
		Expect(r.Errcode).To(Equal(45015), "the window closes 48 h after alice's message")
		Expect(r.Errmsg).To(ContainSubstring("out of time limit"))
		Expect(r.GomegaString()).To(And(ContainSubstring("POST http://127.0.0.1:"), ContainSubstring(`"errcode":45015`)))
	})

	It("expires and revokes an app's tokens", func() {
		alice := e.User("alice")
		alice.Send(emutest.Text("hi"))
		send := func(tk string) *emutest.APIResponse {
			return e.API().Call(http.MethodPost, "/cgi-bin/message/custom/send?access_token="+tk, customText(alice.OpenID, "hi"))
		}
		tk := e.API().Token("oa")
		e.ExpireTokens("oa")
		Expect(send(tk).Errcode).To(Equal(42001))
		tk = e.API().Token("oa")
		Expect(send(tk).Errcode).To(Equal(0), "a new token works")
		e.RevokeTokens("oa")
		Expect(send(tk).Errcode).To(Equal(40001))
		Expect(send(e.API().Token("oa")).Errcode).To(Equal(0))

		Expect(InterceptGomegaFailure(func() { e.ExpireTokens("ao") })).To(MatchError(ContainSubstring(`did you mean "oa"?`)))
	})

	It("returns any answer, WeChat's refusals included", func() {
		e.AllowUnknownRequests()
		r := e.API().Call(http.MethodGet, "/cgi-bin/no/such/api", nil)
		Expect(r.Errcode).To(Equal(40066))
		Expect(r.JSON).To(HaveKey("errmsg"))
	})
})

var _ = Describe("message builders", func() {
	It("build messages the platform takes", func() {
		e := emutest.Start(emutest.WithSampleBot("oa", "oa"), emutest.WithSampleBot("mp", "mp"))
		alice, aliceMP := e.User("alice"), e.User("alice@mp")
		for _, ex := range []*emutest.Exchange{
			alice.Send(emutest.Text("hi")),
			alice.Send(emutest.Image()),
			alice.Send(emutest.Voice()),
			alice.Send(emutest.Video()),
			alice.Send(emutest.Location("23.134521", "113.358803")),
			alice.Send(emutest.Link("wxemu", "https://example.com/")),
			alice.Send(emutest.Click("V1001_TODAY_MUSIC")),
			alice.Send(emutest.Subscribe()),
			alice.Send(emutest.Scan("1001")),
			alice.Send(emutest.ReportLocation("23.137466", "113.352425")),
			alice.Send(emutest.Event("VIEW", emutest.Key("https://example.com/"))),
			alice.Send(emutest.With(emutest.Text("1"), emutest.Set("bizmsgmenuid", "101"))),
			alice.Send(emutest.Unsubscribe()),
			aliceMP.Send(emutest.Image()),
			aliceMP.Send(emutest.MiniProgramPage("订单详情", "pages/order/index")),
			aliceMP.Send(emutest.EnterTempSession("order-42")),
		} {
			Expect(ex.Result.Violations).To(BeEmpty(), emutest.DescribeMessage(&ex.Result.Message))
		}
		Expect(alice.Subscribed()).To(BeFalse())
	})

	It("panic on a field name wire does not know: a typo in the spec", func() {
		Expect(func() { emutest.Event("CLICK", emutest.Set("EvntKey", "x")) }).To(PanicWith(ContainSubstring("EvntKey")))
	})

	DescribeTable("describe a message in a few words",
		func(m wire.Message, want string) { Expect(emutest.DescribeMessage(&m)).To(Equal(want)) },
		Entry("text", emutest.Text("hi"), `text "hi"`),
		Entry("event", emutest.Click("V1001"), "event CLICK V1001"),
		Entry("media", emutest.Image(), "image"),
		Entry("location", emutest.Location("1.5", "2.5"), "location 1.5,2.5"),
		Entry("card", emutest.MiniProgramPage("订单详情", "pages/order/index"), `miniprogrampage "订单详情"`),
	)
})

var _ = Describe("strictness, as gomega's ghttp", func() {
	// A bot that calls an API wxemu does not serve while it answers a push.
	var base atomic.Value
	strayBot := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			if resp, err := http.Get(base.Load().(string) + "/cgi-bin/menu/get?access_token=x"); err == nil {
				resp.Body.Close()
			}
		}
		_, _ = w.Write([]byte("success"))
	})

	It("fails the spec, showing the raw exchange, when the bot calls an API path wxemu does not serve", func() {
		e := emutest.Start(emutest.WithBotHandler("oa", strayBot))
		base.Store(e.URL())
		failures := InterceptGomegaFailures(func() { e.User("alice").Send(emutest.Text("hi")) })
		Expect(failures).To(ConsistOf(And(
			ContainSubstring("GET /cgi-bin/menu/get"),
			ContainSubstring("40066"),
			ContainSubstring("← HTTP 200"),
			ContainSubstring("emutest.AllowUnknownRequests()"),
		)))
		// What failed once is not failed again when the spec ends.
		Expect(InterceptGomegaFailures(func() { e.Advance(time.Second) })).To(BeEmpty())
	})

	It("lets a spec allow unknown requests, which stay findings in the journal", func() {
		e := emutest.Start(emutest.WithBotHandler("oa", strayBot), emutest.AllowUnknownRequests())
		base.Store(e.URL())
		Expect(InterceptGomegaFailures(func() { e.User("alice").Send(emutest.Text("hi")) })).To(BeEmpty())
		Expect(e.Journal(platform.JournalFilter{Kind: platform.KindUnknown})).To(ConsistOf(
			HaveField("Summary", ContainSubstring("/cgi-bin/menu/get"))))
	})
})
