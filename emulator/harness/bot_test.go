package harness_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/harness"
	"github.com/wxemu/wxemu/emulator/wxcrypto"
	"github.com/wxemu/wxemu/fixtures/bots"
)

// botProcessEnv makes the test binary a bot process: TestBotProcess serves the sample bot "oa"
// with $WXEMU_TOKEN on 127.0.0.1:$PORT/wx until SIGTERM, so that the specs start a real process
// without building one.
const botProcessEnv = "WXEMU_HARNESS_TEST_BOT"

func TestBotProcess(t *testing.T) {
	if os.Getenv(botProcessEnv) != "1" {
		return // not a test of its own: the specs run it as a bot process
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	h, err := bots.New("oa", bots.Config{Token: os.Getenv("WXEMU_TOKEN")})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", os.Getenv("PORT")))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("test bot listening on", ln.Addr())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	<-ctx.Done()
	_ = srv.Close()
	fmt.Println("test bot stopped")
}

// botProcess is the spec of the test binary run as a bot on port with token.
func botProcess(port int, token string) harness.BotSpec {
	return harness.BotSpec{
		Args: []string{os.Args[0], "-test.run=^TestBotProcess$"},
		Env:  []string{botProcessEnv + "=1", "PORT=" + strconv.Itoa(port), "WXEMU_TOKEN=" + token},
	}
}

func callbackURL(port int) string {
	return "http://127.0.0.1:" + strconv.Itoa(port) + harness.CallbackPath
}

// notReady asserts that err is a *harness.NotReadyError and returns it.
func notReady(err error) *harness.NotReadyError {
	GinkgoHelper()
	var ne *harness.NotReadyError
	Expect(errors.As(err, &ne)).To(BeTrue(), "not a *NotReadyError: %v", err)
	return ne
}

// timed runs f and returns how long it took on the wall clock.
func timed(f func()) time.Duration {
	start := clock.Real{}.Now()
	f()
	return clock.Since(start)
}

// sampleBot is the sample bot name answering with the demo app's token.
func sampleBot(name string, cfg bots.Config) *bots.Bot {
	GinkgoHelper()
	if cfg.Token == "" {
		cfg.Token = config.DemoOAToken
	}
	h, err := bots.New(name, cfg)
	Expect(err).NotTo(HaveOccurred())
	return h.(*bots.Bot)
}

// serve serves h with ServeBot for the current spec.
func serve(h http.Handler) *harness.BotServer {
	GinkgoHelper()
	s, err := harness.ServeBot(h)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(s.Close)
	return s
}

var _ = Describe("WaitReady", func() {
	var ctx context.Context

	BeforeEach(func() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(context.Background())
		DeferCleanup(cancel)
	})

	It("returns once the bot answers the handshake with the echostr", func() {
		bot := sampleBot("oa", bots.Config{})
		s := serve(bot)
		Expect(s.URL).To(MatchRegexp(`^http://127\.0\.0\.1:\d+/wx$`))
		Expect(harness.WaitReady(ctx, s.URL, config.DemoOAToken, 5*time.Second)).To(Succeed())

		got := bot.Received()
		Expect(got).To(HaveLen(1))
		Expect(got[0].Method).To(Equal(http.MethodGet))
		Expect(got[0].SignatureOK).To(BeTrue())
	})

	It("gives up on a bot that keeps answering wrongly, without waiting out the timeout, and says what it answered", func() {
		s := serve(sampleBot("oa", bots.Config{Token: "not-the-token"}))
		var err error
		took := timed(func() { err = harness.WaitReady(ctx, s.URL, config.DemoOAToken, 30*time.Second) })
		Expect(took).To(BeNumerically("<", 10*time.Second))
		ne := notReady(err)
		Expect(ne.Reason).To(Equal(harness.BotAnswersWrongly))
		Expect(ne.Last.Status).To(Equal(http.StatusForbidden))
		Expect(err.Error()).To(Equal(fmt.Sprintf(`the bot is not ready: it answers the handshake at %s with HTTP 403 "invalid signature": `+
			`the handshake was answered with HTTP 403; WeChat needs 200 with the echostr and does not save the URL`, s.URL)))
	})

	It("names a body that is not the echostr", func() {
		s := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"ok":true}`) }))
		err := harness.WaitReady(ctx, s.URL, config.DemoOAToken, 30*time.Second)
		Expect(notReady(err).Reason).To(Equal(harness.BotAnswersWrongly))
		Expect(err.Error()).To(And(
			HavePrefix(fmt.Sprintf(`the bot is not ready: it answers the handshake at %s with HTTP 200 "{\"ok\":true}": the answer is "{\"ok\":true}", not the echostr`, s.URL)),
			HaveSuffix("answer the raw echostr (not JSON, not encrypted) after checking the signature. WeChat does not save the URL"),
		))
	})

	It("waits a bounded time for a bot that never comes up, and says nothing answers", func() {
		port, err := harness.FreePort()
		Expect(err).NotTo(HaveOccurred())
		url := callbackURL(port)
		took := timed(func() { err = harness.WaitReady(ctx, url, config.DemoOAToken, 300*time.Millisecond) })
		Expect(took).To(And(BeNumerically(">=", 300*time.Millisecond), BeNumerically("<", 3*time.Second)))
		ne := notReady(err)
		Expect(ne.Reason).To(Equal(harness.BotTimedOut))
		Expect(ne.URL).To(Equal(url))
		Expect(err.Error()).To(HavePrefix("the bot is not ready: nothing answers at " + url + " after 300ms: dial tcp "))
		Expect(err.Error()).To(ContainSubstring("connection refused"))
	})

	It("returns ctx's error when ctx ends first", func() {
		port, err := harness.FreePort()
		Expect(err).NotTo(HaveOccurred())
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		Expect(harness.WaitReady(short, callbackURL(port), config.DemoOAToken, time.Minute)).To(MatchError(context.DeadlineExceeded))
	})

	It("refuses what is not a callback URL or a token", func() {
		Expect(harness.WaitReady(ctx, "127.0.0.1:8080/wx", config.DemoOAToken, time.Second)).To(MatchError(ContainSubstring("is not an http(s) URL")))
		Expect(harness.WaitReady(ctx, "http://127.0.0.1:8080/wx", "x", time.Second)).To(MatchError(ContainSubstring("WeChat takes 3 to 32")))
	})
})

var _ = Describe("ServeBot", func() {
	It("answers 503 until its handler is set, for a bot whose API base is known later", func() {
		s := serve(nil)
		err := harness.WaitReady(context.Background(), s.URL, config.DemoOAToken, 300*time.Millisecond)
		ne := notReady(err)
		Expect(ne.Reason).To(Equal(harness.BotTimedOut))
		Expect(err.Error()).To(ContainSubstring("with HTTP 503 \"the bot is not ready: its handler is set once the emulator has started\\n\""))

		s.SetHandler(sampleBot("oa", bots.Config{APIBase: "http://127.0.0.1:9"}))
		Expect(harness.WaitReady(context.Background(), s.URL, config.DemoOAToken, 5*time.Second)).To(Succeed())
	})

	It("closes the bot before the server, so that a push the slow bot holds does not keep Close waiting", func() {
		bot := sampleBot("slow", bots.Config{Delay: time.Minute})
		s, err := harness.ServeBot(bot)
		Expect(err).NotTo(HaveOccurred())

		ts, nonce := "1795255200", "415670741"
		q := "?timestamp=" + ts + "&nonce=" + nonce + "&signature=" + wxcrypto.Signature(config.DemoOAToken, ts, nonce)
		body := "<xml><ToUserName><![CDATA[gh_e1d2c3b4a596]]></ToUserName><FromUserName><![CDATA[o6_bmjrPTlm6_2sgVt7hMZOPfL2M]]></FromUserName>" +
			"<CreateTime>1795255200</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content><MsgId>1</MsgId></xml>"
		answered := make(chan struct{})
		go func() {
			defer GinkgoRecover()
			defer close(answered)
			resp, err := http.Post(s.URL+q, "text/xml", strings.NewReader(body))
			if err == nil {
				resp.Body.Close()
			}
		}()
		Eventually(func() int { return len(bot.Received()) }).Should(Equal(1), "the push is held")

		Expect(timed(func() { Expect(s.Close()).To(Succeed()) })).To(BeNumerically("<", 5*time.Second))
		Eventually(answered).Should(BeClosed())
		Expect(s.Close()).To(Succeed(), "a second Close does nothing")
	})
})

var _ = Describe("StartBot", func() {
	It("starts a process with its environment, waits for its handshake, and stops it cleanly", func() {
		port, err := harness.FreePort()
		Expect(err).NotTo(HaveOccurred())
		echo := gbytes.NewBuffer()
		spec := botProcess(port, config.DemoOAToken)
		spec.Output = echo
		b, err := harness.StartBot(spec)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { _ = b.Stop(5 * time.Second) })
		Expect(b.Pid()).To(BeNumerically(">", 0))

		Expect(b.WaitReady(context.Background(), callbackURL(port), config.DemoOAToken, 30*time.Second)).To(Succeed())
		Expect(b.Output()).To(ContainSubstring("test bot listening on 127.0.0.1:" + strconv.Itoa(port)))
		Expect(echo).To(gbytes.Say(`bot\| test bot listening on`))

		Expect(b.Stop(5 * time.Second)).To(Succeed())
		Expect(b.Exited()).To(BeTrue())
		Expect(b.Done()).To(BeClosed())
		Expect(b.Err()).NotTo(HaveOccurred(), b.Output())
		Expect(b.Output()).To(ContainSubstring("test bot stopped"))
	})

	It("stops waiting as soon as the bot exits, and says how it exited", func() {
		port, err := harness.FreePort()
		Expect(err).NotTo(HaveOccurred())
		b, err := harness.StartBot(harness.BotSpec{Command: "echo no config >&2; exit 3"})
		Expect(err).NotTo(HaveOccurred())
		took := timed(func() { err = b.WaitReady(context.Background(), callbackURL(port), config.DemoOAToken, 30*time.Second) })
		Expect(took).To(BeNumerically("<", 10*time.Second))
		ne := notReady(err)
		Expect(ne.Reason).To(Equal(harness.BotExited))
		Expect(err.Error()).To(Equal("the bot is not ready: it exited (exit status 3) before answering the handshake at " + callbackURL(port)))
		Expect(b.Output()).To(Equal("no config\n"))
		Expect(b.Stop(time.Second)).To(Succeed(), "an exited bot needs no stopping")
	})

	It("times out on a bot that runs but never listens, keeping what it printed", func() {
		port, err := harness.FreePort()
		Expect(err).NotTo(HaveOccurred())
		b, err := harness.StartBot(harness.BotSpec{Command: "echo starting the bot; exec sleep 60"})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { _ = b.Stop(5 * time.Second) })
		err = b.WaitReady(context.Background(), callbackURL(port), config.DemoOAToken, 300*time.Millisecond)
		Expect(notReady(err).Reason).To(Equal(harness.BotTimedOut))
		Expect(err.Error()).To(HavePrefix("the bot is not ready: nothing answers at " + callbackURL(port) + " after 300ms"))
		Expect(b.Output()).To(Equal("starting the bot\n"))

		Expect(b.Stop(5 * time.Second)).To(Succeed())
		Expect(b.Err()).To(MatchError(ContainSubstring("terminated")))
	})

	It("kills a bot that ignores SIGTERM after the grace, and says so", func() {
		b, err := harness.StartBot(harness.BotSpec{Command: "trap '' TERM; echo ready; sleep 60"})
		Expect(err).NotTo(HaveOccurred())
		Eventually(b.Output).Should(Equal("ready\n"), "the trap is set")
		Expect(b.Stop(200 * time.Millisecond)).To(MatchError("the bot did not stop within 200ms of SIGTERM and was killed"))
		Expect(b.Exited()).To(BeTrue())
	})

	It("keeps the last of a long output", func() {
		b, err := harness.StartBot(harness.BotSpec{Command: "seq 1 1000", Keep: 20})
		Expect(err).NotTo(HaveOccurred())
		Eventually(b.Done()).Should(BeClosed())
		Expect(b.Output()).To(HavePrefix("…\n"))
		Expect(b.Output()).To(HaveSuffix("999\n1000\n"))
	})

	It("refuses a spec without a command", func() {
		_, err := harness.StartBot(harness.BotSpec{})
		Expect(err).To(MatchError("start the bot: no command"))
	})
})
