package specs_test

import (
	"encoding/json"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/config"
)

// sendOutput is the shape of `wxemu send --json`.
type sendOutput struct {
	Outcome    string `json:"outcome"`
	UserSees   string `json:"user_sees"`
	KfAccount  string `json:"kf_account"`
	Violations []struct {
		Rule     string `json:"rule"`
		Severity string `json:"severity"`
		Message  string `json:"message"`
	} `json:"violations"`
	Attempts []struct {
		N        int  `json:"n"`
		Status   int  `json:"status"`
		TimedOut bool `json:"timed_out"`
	} `json:"attempts"`
	Reply   map[string]any `json:"reply"`
	Message map[string]any `json:"message"`
}

// mpBot is the sample Mini Program bot with the demo Mini Program's credentials, as wxemu send
// --kind mp and wxemu serve's app mp sign its pushes.
func mpBot(args ...string) []string {
	return append([]string{"--bot", "mp", "--token", config.DemoMPToken, "--aes-key", config.DemoMPEncodingAESKey,
		"--appid", config.DemoMPAppID, "--secret", config.DemoMPSecret}, args...)
}

func sendJSON(args ...string) (sendOutput, int) {
	s := wxemu(append([]string{"send", "--json"}, args...)...)
	var out sendOutput
	Expect(json.Unmarshal(s.Out.Contents(), &out)).To(Succeed(), "stdout: %s", s.Out.Contents())
	return out, s.ExitCode()
}

var _ = Describe("wxemu send", func() {
	It("works alone against the sample bot with the demo app", func() {
		url := startSampleBot("--bot", "oa")
		s := wxemu("send", "--url", url, "text", "hi")
		Expect(s.ExitCode()).To(Equal(0))
		out := string(s.Out.Contents())
		Expect(out).To(ContainSubstring("outcome    reply"))
		Expect(out).To(ContainSubstring("user sees  hello, hi"))
		Expect(out).To(ContainSubstring("verdict    ok, no violations"))
		Expect(out).To(ContainSubstring("<Content><![CDATA[hi]]></Content>"))
	})

	DescribeTable("reports the verdict as JSON in every mode",
		func(mode string) {
			url := startSampleBot("--bot", "oa")
			out, code := sendJSON("--url", url, "--mode", mode, "text", "人工", "kf1@demo")
			Expect(code).To(Equal(0))
			Expect(out.Violations).To(BeEmpty())
			Expect(out.Outcome).To(Equal("transfer"))
			Expect(out.KfAccount).To(Equal("kf1@demo"))
			Expect(out.Attempts).To(HaveLen(1))
		},
		Entry("plaintext", "plain"),
		Entry("compatible", "compat"),
		Entry("safe", "safe"),
	)

	It("pushes events with their fields", func() {
		url := startSampleBot("--bot", "oa")
		out, code := sendJSON("--url", url, "event", "CLICK", "--key", "V1001_TODAY_MUSIC")
		Expect(code).To(Equal(0))
		Expect(out.UserSees).To(Equal("clicked V1001_TODAY_MUSIC"))
	})

	It("pushes Mini Program JSON, signed and encrypted with the demo Mini Program's credentials", func() {
		url := startSampleBot(mpBot("--format", "json")...)
		out, code := sendJSON("--url", url, "--kind", "mp", "--format", "json", "--mode", "safe", "text", "人工")
		Expect(code).To(Equal(0), "%+v", out.Violations)
		Expect(out.Outcome).To(Equal("transfer"))
		Expect(out.Message).To(HaveKeyWithValue("ToUserName", config.DemoMPOriginalID))
		Expect(out.Message).To(HaveKeyWithValue("FromUserName", config.DemoAliceMP))
	})

	It("does not sign a Mini Program's push with the Official Account's token", func() {
		url := startSampleBot(mpBot()...)
		out, code := sendJSON("--url", url, "--kind", "mp", "text", "人工")
		Expect(code).To(Equal(0), "%+v", out.Violations)

		// A bot that checks the signature with the Official Account's token refuses it.
		url = startSampleBot("--bot", "mp", "--token", config.DemoOAToken, "--aes-key", config.DemoOAEncodingAESKey, "--appid", config.DemoOAAppID)
		out, code = sendJSON("--url", url, "--kind", "mp", "text", "人工")
		Expect(code).To(Equal(1))
		Expect(out.Outcome).To(Equal("failed"))
		Expect(out.UserSees).To(Equal("该小程序客服暂时无法提供服务，请稍后再试"))
	})

	It("says on stderr that it is waiting for a slow bot, and not for a quick one", func() {
		url := startSampleBot("--bot", "slow", "--delay", "1500ms")
		s := wxemu("send", "--url", url, "--timeout", "3s", "text", "hi")
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		Expect(string(s.Err.Contents())).To(ContainSubstring("wxemu send: waiting for the bot to answer attempt 1 (WeChat waits 3s)…"))

		url = startSampleBot("--bot", "slow", "--delay", "10s")
		s = wxemu("send", "--url", url, "--timeout", "1200ms", "--attempts", "2", "text", "hi")
		Expect(s.ExitCode()).To(Equal(1))
		Expect(string(s.Err.Contents())).To(ContainSubstring("wxemu send: attempt 1 got no answer; WeChat sends the message again (attempt 2 of 2)"))

		url = startSampleBot("--bot", "oa")
		Expect(wxemu("send", "--url", url, "text", "hi").Err.Contents()).To(BeEmpty())
	})

	DescribeTable("prints the human report",
		func(golden string, bot []string, args ...string) {
			url := startSampleBot(bot...)
			s := wxemu(append([]string{"send", "--url", url}, args...)...)
			Expect(s.Err.Contents()).To(BeEmpty())
			expectGolden(golden, normalize(string(s.Out.Contents())))
		},
		Entry("a text reply", "send-oa-text", []string{"--bot", "oa"}, "text", "hi"),
		Entry("a header not swapped", "send-noswap", []string{"--bot", "noswap"}, "text", "hi"),
		Entry("a Mini Program's transfer, in JSON", "send-mp-json", mpBot("--format", "json"), "--kind", "mp", "--format", "json", "text", "人工"),
	)

	DescribeTable("exits 1 with the rule when the bot is broken",
		func(bot, mode, rule string) {
			url := startSampleBot("--bot", bot)
			out, code := sendJSON("--url", url, "--mode", mode, "--timeout", "300ms", "text", "hi")
			Expect(code).To(Equal(1))
			Expect(out.Outcome).To(Equal("failed"))
			Expect(out.UserSees).To(Equal("该公众号暂时无法提供服务，请稍后再试"))
			Expect(out.Violations).To(ContainElement(HaveField("Rule", rule)))
		},
		Entry("too slow", "slow", "plain", "push.timeout"),
		Entry("malformed XML", "malformed", "plain", "reply.syntax"),
		Entry("header not swapped", "noswap", "plain", "reply.header.swap"),
		Entry("plaintext in safe mode", "plaintext", "safe", "reply.safe.plaintext"),
		Entry("bad MsgSignature", "badsig", "safe", "reply.envelope.signature"),
		Entry("HTTP 500", "http500", "plain", "reply.http.status"),
	)

	It("exits 1 when the bot transfers an event", func() {
		url := startSampleBot("--bot", "transfer-on-event")
		out, code := sendJSON("--url", url, "event", "subscribe")
		Expect(code).To(Equal(1))
		Expect(out.Outcome).To(Equal("none"))
		Expect(out.Violations).To(ConsistOf(HaveField("Rule", "reply.transfer.event")))
	})

	DescribeTable("exits 2 with a precise message for a usage error",
		func(want string, args ...string) {
			s := wxemu(append([]string{"send"}, args...)...)
			Expect(s.ExitCode()).To(Equal(2))
			Expect(string(s.Err.Contents())).To(ContainSubstring(want))
		},
		Entry("no URL", "--url is required", "text", "hi"),
		Entry("no message", "MESSAGE is missing", "--url", "http://127.0.0.1:1/wx"),
		Entry("a typo in an event", `did you mean "subscribe"`, "--url", "http://127.0.0.1:1/wx", "event", "subscrib"),
		Entry("a typo in a type", `did you mean "image"`, "--url", "http://127.0.0.1:1/wx", "imag"),
		Entry("a flag of another type", "--ticket does not apply", "--url", "http://127.0.0.1:1/wx", "text", "hi", "--ticket", "T"),
		Entry("JSON for an OA", "XML only", "--url", "http://127.0.0.1:1/wx", "--format", "json", "text", "hi"),
		Entry("an MP type for an OA", "does not receive", "--url", "http://127.0.0.1:1/wx", "event", "user_enter_tempsession"),
		Entry("an unknown flag", "unknown flag --nope", "--url", "http://127.0.0.1:1/wx", "--nope", "text", "hi"),
		Entry("a typo in a type, with words after it", `unknown message type "txt" (did you mean "text"?)`, "--url", "http://127.0.0.1:1/wx", "txt", "hi", "there"),
	)
})

var _ = Describe("wxemu verify", func() {
	It("passes the sample bot and fails a wrong token", func() {
		url := startSampleBot("--bot", "oa")
		s := wxemu("verify", "--url", url, "--token", "wxemu")
		Expect(s.ExitCode()).To(Equal(0))
		Expect(string(s.Out.Contents())).To(ContainSubstring("pass"))

		s = wxemu("verify", "--url", url, "--token", "not-the-token")
		Expect(s.ExitCode()).To(Equal(1))
		Expect(string(s.Out.Contents())).To(ContainSubstring("verify.status"))
	})

	It("exits 2 without a URL", func() {
		Expect(wxemu("verify").ExitCode()).To(Equal(2))
	})
})

var _ = Describe("wxemu", func() {
	It("suggests the command meant", func() {
		s := wxemu("sned")
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring(`did you mean "send"`))
	})

	It("prints help", func() {
		s := wxemu("--help")
		Expect(s.ExitCode()).To(Equal(0))
		Expect(string(s.Out.Contents())).To(ContainSubstring("send"))
	})
})
