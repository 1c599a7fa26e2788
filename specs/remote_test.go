package specs_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"

	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/harness"
)

// serveWithBot runs wxemu serve pushing to a sample bot that calls serve's API, as the README's
// quick start does, and returns serve's base URL and the bot's callback URL. serveArgs are more
// flags of serve; targetFlag is how the bot is given (--target or --target-mp).
func serveWithBot(targetFlag string, bot []string, serveArgs ...string) (string, string, *gexec.Session) {
	GinkgoHelper()
	port := freePort()
	botURL := "http://127.0.0.1:" + strconv.Itoa(port) + "/wx"
	base, session := serve(append([]string{targetFlag, botURL}, serveArgs...)...)
	b, err := harness.StartBot(harness.BotSpec{
		Args:   append([]string{binaries.Samplebot, "--listen", "127.0.0.1:" + strconv.Itoa(port), "--api-base", base}, bot...),
		Output: GinkgoWriter,
	})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { _ = b.Stop(5 * time.Second) })
	token := config.DemoOAToken
	if targetFlag == "--target-mp" {
		token = config.DemoMPToken
	}
	Expect(b.WaitReady(context.Background(), botURL, token, 10*time.Second)).To(Succeed(), b.Output())
	return base, botURL, session
}

var _ = Describe("wxemu user, clock, journal, token and apps against a running wxemu serve", func() {
	var base string

	BeforeEach(func() {
		base, _, _ = serveWithBot("--target", []string{"--bot", "oa"})
	})

	It("sends as a user of serve: the bot's customer-service sends are accepted, unlike after wxemu send", func() {
		s := wxemu("user", "alice", "send", "text", "push 6", "--emu", base)
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		out := string(s.Out.Contents())
		Expect(out).To(ContainSubstring("alice (" + config.DemoAliceOA + ") of app oa sends text \"push 6\""))
		Expect(out).To(ContainSubstring("window     opened by this message"))
		Expect(out).To(ContainSubstring("outcome    none"))
		Expect(out).To(ContainSubstring("verdict    ok, no violations"))
		Expect(out).To(ContainSubstring("the bot's API calls for alice so far:"))
		Expect(strings.Count(out, "POST /cgi-bin/message/custom/send → ok")).To(Equal(5))
		Expect(out).To(ContainSubstring("45047 out of response count limit"))

		s = wxemu("user", "alice", "transcript", "--emu", base)
		Expect(s.ExitCode()).To(Equal(0))
		Expect(string(s.Out.Contents())).To(ContainSubstring("transcript of alice (" + config.DemoAliceOA + ") of app oa, 6 lines"))
		Expect(string(s.Out.Contents())).To(MatchRegexp(`bot +message 5 of 6`))

		s = wxemu("user", "alice", "grants", "--emu", base)
		Expect(string(s.Out.Contents())).To(MatchRegexp(`message +0 of 5 left`))
	})

	It("takes every message type and flag of wxemu send, and users by NAME, NAME@APP or openid", func() {
		s := wxemu("user", "bob", "send", "event", "CLICK", "--key", "V1001_TODAY_MUSIC", "--emu", base)
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		Expect(string(s.Out.Contents())).To(ContainSubstring("user sees  clicked V1001_TODAY_MUSIC"))

		s = wxemu("user", config.DemoCarolOA, "send", "image", "--emu", base)
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		Expect(string(s.Out.Contents())).To(ContainSubstring("carol (" + config.DemoCarolOA + ") of app oa sends image"))

		s = wxemu("user", "alice@oa", "send", "location", "--lat", "23.13", "--lng", "113.35", "--emu", base)
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))

		s = wxemu("user", "alice@mp", "send", "text", "hi", "--emu", base)
		Expect(s.ExitCode()).To(Equal(1))
		Expect(string(s.Err.Contents())).To(ContainSubstring("has no callback URL"), "the Mini Program has no bot: --target is the Official Account's")
	})

	It("reads the address of serve from WXEMU_URL", func() {
		cmd := wxemuCommand("clock")
		cmd.Env = append(cmd.Env, "WXEMU_URL="+strings.TrimPrefix(base, "http://"))
		s, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		Eventually(s).Should(gexec.Exit(0))
		Expect(string(s.Out.Contents())).To(HavePrefix("virtual time "))
	})

	It("moves the clock: a window closes, and a kf session ends, on the way", func() {
		Expect(wxemu("user", "alice", "send", "text", "人工 kf2@wxemu_demo", "--emu", base).ExitCode()).To(Equal(0))
		s := wxemu("clock", "advance", "2d", "--emu", base)
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		out := string(s.Out.Contents())
		Expect(out).To(ContainSubstring("(+48h0m0s; 48h0m0s ahead of real time in all)"))
		Expect(out).To(ContainSubstring("what fell due on the way:"))
		Expect(out).To(MatchRegexp(`kf +oa alice`))

		s = wxemu("user", "alice", "grants", "--emu", base)
		Expect(string(s.Out.Contents())).To(ContainSubstring("no open window: a customer-service send gets 45015"))

		Expect(string(wxemu("clock", "advance", "0s", "--emu", base).Err.Contents())).To(ContainSubstring("a positive duration"))
	})

	It("opens a window without a push", func() {
		s := wxemu("user", "alice", "trigger", "payment", "--emu", base)
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		Expect(string(s.Out.Contents())).To(MatchRegexp(`payment +unlimited`))
	})

	It("expires and revokes the app's access tokens", func() {
		Expect(wxemu("user", "alice", "send", "text", "push 1", "--emu", base).ExitCode()).To(Equal(0))
		s := wxemu("token", "expire", "oa", "--emu", base)
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		Expect(string(s.Out.Contents())).To(ContainSubstring("app oa (" + config.DemoOAAppID + "): 1 token expired; the bot's next call with one gets 42001"))

		s = wxemu("token", "revoke", "--emu", base)
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring("name the app: oa or mp"))

		s = wxemu("token", "revoke", "oa", "--emu", base)
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		Expect(string(s.Out.Contents())).To(ContainSubstring("revoked; the bot's next call with one gets 40001"))
	})

	It("lists the journal, one line per entry, each push with its verdict, and follows it", func() {
		Expect(wxemu("user", "alice", "send", "text", "hi", "--emu", base).ExitCode()).To(Equal(0))
		s := wxemu("journal", "--emu", base)
		Expect(s.ExitCode()).To(Equal(0))
		expectGolden("journal", normalize(string(s.Out.Contents())))

		follow, err := gexec.Start(wxemuCommand("journal", "-f", "--kind", "push", "--user", "bob", "--emu", base), GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { follow.Kill().Wait(5 * time.Second) })
		Eventually(follow.Err).Should(gbytes.Say("following " + regexp.QuoteMeta(base)))
		Expect(wxemu("user", "bob", "send", "text", "hello", "--emu", base).ExitCode()).To(Equal(0))
		Expect(wxemu("user", "alice", "send", "text", "not for bob", "--emu", base).ExitCode()).To(Equal(0))
		Expect(wxemu("user", "bob", "send", "text", "人工", "--emu", base).ExitCode()).To(Equal(0))
		Eventually(follow.Out, 5*time.Second).Should(gbytes.Say(`push +oa bob +push text "hello" → reply`))
		Eventually(follow.Out).Should(gbytes.Say(`user sees  hello, hello`))
		Eventually(follow.Out).Should(gbytes.Say(`push +oa bob +push text "人工" → transfer`))
		Eventually(follow.Out).Should(gbytes.Say(`outcome    transfer`))
		Expect(string(follow.Out.Contents())).NotTo(ContainSubstring("not for bob"))
		follow.Signal(syscall.SIGINT)
		Eventually(follow).Should(gexec.Exit(0))

		s = wxemu("journal", "--json", "--kind", "push", "-n", "1", "--emu", base)
		var entry struct {
			Kind string `json:"kind"`
			Data struct {
				Outcome string `json:"outcome"`
			} `json:"data"`
		}
		Expect(json.Unmarshal(s.Out.Contents(), &entry)).To(Succeed(), string(s.Out.Contents()))
		Expect(entry.Kind).To(Equal("push"))
	})

	It("prints the human report of a user's message", func() {
		s := wxemu("user", "alice", "send", "text", "hi", "--emu", base)
		Expect(s.ExitCode()).To(Equal(0))
		expectGolden("user-send", normalize(string(s.Out.Contents())))
		s = wxemu("apps", "--emu", base)
		Expect(s.ExitCode()).To(Equal(0))
		expectGolden("apps", normalize(string(s.Out.Contents())))
	})

	DescribeTable("says what is wrong, and what was meant",
		func(code int, want string, args ...string) {
			s := wxemu(append(args, "--emu", base)...)
			Expect(s.ExitCode()).To(Equal(code))
			Expect(string(s.Err.Contents())).To(ContainSubstring(want))
		},
		Entry("a user's name", 2, `no user called "alcie" (did you mean "alice"?); its users are alice, bob, carol`, "user", "alcie", "send", "text", "hi"),
		Entry("an app", 2, `no app "op" (did you mean "oa"?)`, "user", "alice@op", "transcript"),
		Entry("a message type", 2, `unknown message type "txt" (did you mean "text"?)`, "user", "alice", "send", "txt", "hi"),
		Entry("the order", 2, "the user comes first: wxemu user NAME send", "user", "send", "alice", "text", "hi"),
		Entry("an action", 2, `unknown action "sned" (did you mean "send"?)`, "user", "alice", "sned", "text", "hi"),
		Entry("a message flag elsewhere", 2, "--key: message flags belong to send", "user", "alice", "transcript", "--key", "K"),
		Entry("a journal kind", 2, `--kind "psuh" (did you mean "push"?)`, "journal", "--kind", "psuh"),
		Entry("a trigger", 2, `trigger "paymnet" (did you mean "payment"?)`, "user", "alice", "trigger", "paymnet"),
	)
})

var _ = Describe("wxemu user without a running wxemu serve", func() {
	It("says that no serve answers, where it looked, and how to give the address", func() {
		addr := "127.0.0.1:" + strconv.Itoa(freePort())
		s := wxemu("user", "alice", "send", "text", "hi", "--emu", addr)
		Expect(s.ExitCode()).To(Equal(1))
		Expect(string(s.Err.Contents())).To(ContainSubstring("no wxemu serve answers at http://" + addr + " (--emu"))
		Expect(string(s.Err.Contents())).To(ContainSubstring("start one with `wxemu serve`, or give its address with --emu URL or WXEMU_URL"))
	})

	It("says when the address is a bot's, not serve's", func() {
		url := startSampleBot("--bot", "oa")
		s := wxemu("clock", "--emu", strings.TrimSuffix(url, "/wx"))
		Expect(s.ExitCode()).To(Equal(1))
		Expect(string(s.Err.Contents())).To(ContainSubstring("is this the address of wxemu serve (not your bot's)?"))
	})
})

var _ = Describe("wxemu user for a Mini Program", func() {
	It("sends as the Mini Program's user to the Mini Program's bot (--target-mp)", func() {
		base, _, _ := serveWithBot("--target-mp", mpBot("--format", "json"))
		s := wxemu("user", "alice@mp", "send", "text", "人工", "--emu", base)
		Expect(s.ExitCode()).To(Equal(0), "%s%s", s.Out.Contents(), s.Err.Contents())
		Expect(string(s.Out.Contents())).To(ContainSubstring("outcome    transfer"))
	})
})
