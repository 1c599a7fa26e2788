package scenario_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/scenario"
	"github.com/wxemu/wxemu/fixtures/bots"
)

// update rewrites the golden files of testdata/ from what the specs produce:
// go test ./emulator/scenario -args -update
var update = flag.Bool("update", false, "rewrite the golden files of testdata/")

// safeConfig is the default configuration with the Official Account in safe mode.
func safeConfig() *config.Config {
	cfg := config.Default()
	cfg.Apps[0].Mode = config.ModeSafe
	return cfg
}

// alice is a scenario of the Official Account with one user and the steps given.
func alice(steps string) string { return "app: oa\nusers: [alice]\nsteps:\n" + steps }

var _ = Describe("verdicts on what a bot sends after it answers", func() {
	var e *env
	BeforeEach(func() { e = start(nil, map[string]botMaker{"oa": sample("async")}) })

	DescribeTable("judges sends that come later exactly, with the default bounds",
		func(text string) {
			r := e.one(alice("  - alice: " + text + "\n    reply: none\n    sends: {count: 2}\n"))
			Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
			Expect(r.Steps[0].Summary).To(Equal("none (success); 2 sends (errcodes 0 0)"))

			r = e.one(alice("  - alice: " + text + "\n    sends: {count: 1}\n"))
			Expect(r.Status).To(Equal(scenario.Failed), describeResult(r))
			Expect(failures(r)).To(ConsistOf(And(failure("sends.count", "1 send", "2 sends"),
				HaveField("Detail", HavePrefix("send 1: text \"message 1 of 2\" → 0 ok\nsend 2: text \"message 2 of 2\" → 0 ok")))))
		},
		Entry("at once", "push 2"),
		Entry("50 ms later", "push 2 after 50ms"),
		Entry("500 ms later", "push 2 after 500ms"),
	)

	It("says when one send too many came in the quiet window", func() {
		e = start(nil, map[string]botMaker{"oa": tiny(func(b *tinyBot) { b.checkSignature, b.again = true, 40*time.Millisecond })})
		r := e.one(alice("  - alice: send\n    sends: {count: 1}\n"))
		Expect(failures(r)).To(ConsistOf(And(failure("sends.count", "1 send", "2 sends"),
			HaveField("Detail", MatchRegexp(`^send 1: text "sent" → 0 ok\nsend 2: text "sent" → 0 ok\n`+
				`the step had its 1 send \d+ms after it began; send 2 came \d+ms after that, within the 100ms quiet window$`)))), describeResult(r))
	})

	It("watches the quiet window for no sends, and fails a send within it", func() {
		r := e.one(alice("  - alice: {event: VIEW, key: x}\n    sends: 0\n"))
		Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
		Expect(r.Steps[0].DurationMS).To(BeNumerically(">=", 100))

		r = e.one(alice("  - alice: push 2 after 50ms\n    sends: 0\n"))
		Expect(r.Status).To(Equal(scenario.Failed), describeResult(r))
		Expect(failures(r)).To(ConsistOf(And(HaveField("Check", "sends.count"), HaveField("Expected", "0 sends"),
			HaveField("Actual", MatchRegexp(`^[12] sends?$`)))))
	})

	It("decides at_least as soon as it holds, and finds no late send after it", func() {
		r := e.one("app: oa\nusers: [alice, bob]\nsteps:\n  - alice: push 3 after 50ms\n    sends: {at_least: 1}\n  - bob: push 1 after 300ms\n    sends: 1\n")
		Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
		Expect(r.Steps[0].Late).To(BeEmpty())
	})

	It("waits in a step with no push for what the bot sends", func() {
		r := e.one(alice("  - alice: push 2 after 300ms\n  - sends: {count: 2, contents: [\"message 1 of 2\", \"message 2 of 2\"]}\n"))
		Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
		Expect(r.Steps[0].Summary).To(Equal("none (success)"), "the step that asserts nothing about sends does not wait")
	})

	It("takes the run's bounds, and a step's own", func() {
		runner := e.runner()
		runner.Within = 100 * time.Millisecond
		r := runner.Run(ctx(), mustParse(alice("  - alice: push 2 after 300ms\n    sends: 2\n"))).Scenarios[0]
		Expect(failures(r)).To(ConsistOf(failure("sends.count", "2 sends", "0 sends")))
		r = runner.Run(ctx(), mustParse(alice("  - alice: push 2 after 300ms\n    sends: {count: 2, within: 2s}\n"))).Scenarios[0]
		Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))

		runner.Quiet = time.Second
		r = runner.Run(ctx(), mustParse(alice("  - alice: {event: VIEW, key: x}\n    sends: {count: 0, quiet: 20ms}\n"))).Scenarios[0]
		Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
		Expect(r.Steps[0].DurationMS).To(BeNumerically("<", 900), "the step's quiet window, not the run's")
	})

	Describe("a send that comes after its step was decided", func() {
		const late = `app: oa
users: [alice, bob]
steps:
  - alice: push 2 after 300ms
    sends: 0
  - bob: push 1 after 600ms
    sends: 1
`
		It("is the late send of the step that caused it, and fails the scenario", func() {
			r := e.one(late)
			Expect(r.Status).To(Equal(scenario.Failed), describeResult(r))
			Expect(r.Steps[0].Status).To(Equal(scenario.Failed))
			Expect(r.Steps[1].Status).To(Equal(scenario.Passed), "bob's step counts bob's sends only")
			Expect(r.Steps[0].Failures).To(ConsistOf(And(
				failure("sends.late", "no send to alice after its sends were judged", "2 sends came later, found after the last step"),
				HaveField("Detail", HavePrefix("send 1: text \"message 1 of 2\" → 0 ok\nsend 2: text \"message 2 of 2\" → 0 ok\nadd tolerate: [sends.late]")))))
			Expect(r.Steps[0].Late).To(ConsistOf(
				And(HaveField("User", "alice"), HaveField("Content", "message 1 of 2"), HaveField("Tolerated", false)),
				And(HaveField("User", "alice"), HaveField("Content", "message 2 of 2"))))

			out := describeResult(r)
			Expect(out).To(ContainSubstring(`  FAIL  1  line 4    alice: text "push 2 after 300ms"  → none (success); 2 late sends`))
			Expect(out).To(ContainSubstring("         LATE: 2 sends to alice after the step's sends were judged (found after the last step):\n" +
				"           send 1: text \"message 1 of 2\" → 0 ok\n"))

			rep := &scenario.Report{Scenarios: []*scenario.ScenarioResult{r}}
			var j bytes.Buffer
			Expect(rep.WriteJSON(&j)).To(Succeed())
			var doc struct {
				Scenarios []struct {
					Steps []struct {
						Late []map[string]any `json:"late_sends"`
					} `json:"steps"`
				} `json:"scenarios"`
			}
			Expect(json.Unmarshal(j.Bytes(), &doc)).To(Succeed())
			Expect(doc.Scenarios[0].Steps[0].Late).To(ContainElement(And(HaveKeyWithValue("user", "alice"),
				HaveKeyWithValue("content", "message 1 of 2"), HaveKeyWithValue("errcode", 0.0), HaveKeyWithValue("found", "after the last step"))))

			var x bytes.Buffer
			Expect(rep.WriteJUnit(&x)).To(Succeed())
			var ju junit
			Expect(xml.Unmarshal(x.Bytes(), &ju)).To(Succeed())
			f := ju.Suites[0].Cases[0].Failure
			Expect(f).NotTo(BeNil())
			Expect(f.Type).To(Equal("sends.late"))
			Expect(f.Message).To(HavePrefix("step 1 (t.yaml:4) alice: text \"push 2 after 300ms\": sends.late: expected no send to alice"))
			Expect(f.Text).To(ContainSubstring("LATE: 2 sends to alice"))
		})

		It("passes when tolerated, and is listed all the same", func() {
			r := e.one(strings.Replace(late, "steps:", "tolerate: [sends.late]\nsteps:", 1))
			Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
			Expect(r.Steps[0].Late).To(HaveLen(2))
			Expect(r.Steps[0].Late[0].Tolerated).To(BeTrue())
			Expect(describeResult(r)).To(ContainSubstring("LATE: 2 sends to alice after the step's sends were judged (found after the last step, tolerated):"))
		})

		It("stops the scenario where it is found", func() {
			r := e.one(late + "  - alice: hi\n")
			Expect(r.Status).To(Equal(scenario.Failed))
			Expect(r.Steps[2].Status).To(Equal(scenario.Skipped))
			Expect(r.Steps[0].Failures[0].Actual).To(Equal("2 sends came later, found before step 3 (line 8) began"))
		})

		It("of a failed step is listed with it: the text report (golden)", func() {
			s, err := scenario.Parse(e.cfg, "late.yaml", []byte(alice("  - alice: push 2 after 500ms\n    sends: {count: 2, within: 200ms}\n  - alice: hi\n")))
			Expect(err).NotTo(HaveOccurred())
			r := e.runner().Run(ctx(), s).Scenarios[0]
			Expect(r.Status).To(Equal(scenario.Failed))
			Expect(r.Steps[0].Failures).To(ConsistOf(failure("sends.count", "2 sends within 200ms", "0 sends")))
			Expect(r.Steps[0].Late).To(HaveLen(2))
			var b bytes.Buffer
			scenario.WriteScenario(&b, r, 1, 1)
			got := normalize(b.String(), r)
			path := filepath.Join("testdata", "late-send.txt")
			if *update {
				Expect(os.MkdirAll("testdata", 0o755)).To(Succeed())
				Expect(os.WriteFile(path, []byte(got), 0o644)).To(Succeed())
			}
			want, err := os.ReadFile(path)
			Expect(err).NotTo(HaveOccurred(), "run go test ./emulator/scenario -args -update to write it")
			Expect(got).To(Equal(string(want)))
		})
	})
})

// normalize takes out of a text report what changes from run to run: times taken, openids,
// MsgIds.
func normalize(s string, r *scenario.ScenarioResult) string {
	for name, openid := range r.Users {
		s = strings.ReplaceAll(s, openid, "OPENID_"+strings.ToUpper(name))
	}
	for _, re := range []struct{ re, to string }{
		{`, [0-9.]+m?s\)`, ", TIME)"},
		{`attempt (\d+), [0-9.]+ ms`, "attempt $1, TIME"},
		{`<MsgId>\d+</MsgId>`, "<MsgId>MSGID</MsgId>"},
	} {
		s = regexp.MustCompile(re.re).ReplaceAllString(s, re.to)
	}
	return s
}

var _ = Describe("the checks' probes", func() {
	const probe = "app: oa\nusers: [alice]\nchecks: [signature]\nsteps:\n  - alice: hi\n  - alice: push 2\n    sends: 2\n"

	It("find nothing on a bot that verifies msg_signature in safe mode", func() {
		e := start(safeConfig(), map[string]botMaker{"oa": sample("msgsigonly")})
		r := e.one(probe)
		Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
		for _, st := range r.Steps {
			Expect(st.Violations).To(BeEmpty())
			Expect(st.Summary).To(HaveSuffix("; wrong signature and msg_signature refused (HTTP 403); wrong msg_signature refused (HTTP 403)"))
		}
		Expect(r.Steps[1].Summary).To(HavePrefix("none (success); 2 sends (errcodes 0 0)"))
	})

	It("warn a bot that verifies only signature in safe mode, naming protocol §1.3", func() {
		e := start(safeConfig(), map[string]botMaker{"oa": sample("sigonly")})
		r := e.one("app: oa\nusers: [alice]\nchecks: [signature]\nsteps:\n  - alice: hi\n")
		Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
		Expect(r.Steps[0].Violations).To(ConsistOf(And(HaveField("Rule", scenario.RuleMsgSignature), HaveField("Severity", rules.Warning),
			HaveField("Ref", "§1.3"), HaveField("Message", ContainSubstring("msg_signature was wrong and signature right")))))
		Expect(r.Steps[0].Summary).To(HaveSuffix("; wrong signature and msg_signature refused (HTTP 403); wrong msg_signature accepted (warning probe.msg_signature)"))

		r = e.one("app: oa\nusers: [alice]\nchecks: [signature]\nsteps:\n  - alice: hi\n    violations: [{rule: probe.msg_signature, severity: error}]\n")
		Expect(failures(r)).To(ConsistOf(failure("violations", "probe.msg_signature violated as an error", "probe.msg_signature as a warning")))
	})

	It("find nothing on the correct bot, and expecting the warning fails there", func() {
		e := start(safeConfig(), nil)
		r := e.one("app: oa\nusers: [alice]\nchecks: [signature]\nsteps:\n  - alice: hi\n    violations: [{rule: probe.msg_signature, severity: warning}]\n")
		Expect(failures(r)).To(ConsistOf(failure("violations", "probe.msg_signature violated as a warning", "no violation")))
	})

	It("fail a bot that accepts a push with both signatures wrong", func() {
		// In compatible mode, where a plaintext answer is fine, a bot that checks nothing.
		cfg := config.Default()
		cfg.Apps[0].Mode = config.ModeCompat
		e := start(cfg, map[string]botMaker{"oa": tiny(nil)})
		r := e.one("app: oa\nusers: [alice]\nchecks: [signature]\nsteps:\n  - alice: hi\n")
		Expect(r.Status).To(Equal(scenario.Failed))
		Expect(failures(r)).To(ContainElement(failure("signature",
			"the bot refuses a push with a wrong signature and msg_signature: any status but 200 or no reply, and no API call",
			`it answered HTTP 200 with reply text "ok": it did not check the signature or the msg_signature`)))
	})

	It("count what a bot sends after it accepted a probe against the probe, not the step", func() {
		e := start(nil, map[string]botMaker{"oa": tiny(func(b *tinyBot) { b.answerSuccess, b.delay = true, 30*time.Millisecond })})
		r := e.one("app: oa\nusers: [alice]\nchecks: [signature]\nsteps:\n  - alice: send\n    sends: 1\n")
		Expect(r.Status).To(Equal(scenario.Failed))
		Expect(failures(r)).To(ConsistOf(And(failure("signature",
			"the bot refuses a push with a wrong signature: any status but 200 or no reply, and no API call",
			"it called the API 1 time(s) for the user: it acted on a push WeChat did not sign"),
			HaveField("Detail", ContainSubstring("POST /cgi-bin/message/custom/send")))), describeResult(r))
	})

	It("fail a bot that sends twice on WeChat's retry, with no within", func() {
		const replay = "app: oa\nusers: [alice]\nchecks: [replay]\nsteps:\n  - alice: hi\n    reply: {text: \"hello, hi\"}\n"
		e := start(nil, map[string]botMaker{"oa": sample("dupretry")})
		r := e.one(replay)
		Expect(r.Status).To(Equal(scenario.Failed), describeResult(r))
		Expect(failures(r)).To(ConsistOf(And(HaveField("Check", "replay"),
			HaveField("Expected", MatchRegexp(`^no customer-service send after WeChat's retry of the same message \(MsgId \d+\)`)),
			HaveField("Actual", MatchRegexp(`^[12] send\(s\) after the retry$`)),
			HaveField("Detail", ContainSubstring(`send 1: text "duplicate 1/2" → 0 ok`)))))

		e = start(nil, nil)
		r = e.one(replay)
		Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
		Expect(r.Steps[0].Summary).To(HaveSuffix("; retry: no duplicate send"))
	})

	It("let the first delivery's late sends come before the retry", func() {
		e := start(nil, map[string]botMaker{"oa": tiny(func(b *tinyBot) { b.checkSignature, b.dedupe, b.delay = true, true, 30*time.Millisecond })})
		r := e.one("app: oa\nusers: [alice]\nchecks: [replay]\nsteps:\n  - alice: send\n  - sends: 1\n")
		Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
		Expect(r.Steps[0].Summary).To(Equal(`reply text "ok"; 1 send (errcodes 0); retry: no duplicate send`))
	})
})

var _ = Describe("the scenario format of issue 9", func() {
	It("asserts a violation's severity", func() {
		now := epoch.Add(-time.Hour)
		e := start(nil, map[string]botMaker{"oa": sampleWith("oa", func(c *bots.Config) { c.Now = func() time.Time { return now } })})
		r := e.one(alice("  - alice: hi\n    violations: [{rule: reply.createtime.skew, severity: warning}]\n"))
		Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
		r = e.one(alice("  - alice: hi\n    violations: [reply.createtime.skew]\n"))
		Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
		r = e.one(alice("  - alice: hi\n    violations: [{rule: reply.createtime.skew, severity: error}]\n"))
		Expect(failures(r)).To(ConsistOf(failure("violations", "reply.createtime.skew violated as an error", "reply.createtime.skew as a warning")))
	})

	It("shows the sends WeChat refused for the token, and expires and revokes tokens", func() {
		e := start(nil, map[string]botMaker{"oa": sample("tokencache")})
		r := e.one(alice("  - alice: push 1\n  - tokens: expire\n  - alice: push 1\n    sends: {errcodes: [0]}\n"))
		Expect(r.Status).To(Equal(scenario.Failed))
		Expect(r.Serial).To(Equal("it makes the app's access tokens expire (line 5)"))
		Expect(r.Steps[1]).To(And(HaveField("Action", "expire the app's access tokens"),
			HaveField("Summary", "the app's access tokens have expired: a call with one answers 42001")))
		Expect(failures(r)).To(ConsistOf(And(failure("sends.errcodes", "[0]", "[42001]"),
			HaveField("Detail", HavePrefix(`send 1: text "message 1 of 1" → 42001 access_token expired`)))))
		Expect(describeResult(r)).To(ContainSubstring(`→ none (success); 1 send (errcodes 42001)`))

		e = start(nil, nil)
		r = e.one(alice("  - alice: push 1\n  - tokens: revoke\n  - alice: push 1\n    sends: {errcodes: [40001, 0]}\n"))
		Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
		Expect(r.Steps[1].Summary).To(Equal("the app's access tokens are invalid: a call with one answers 40001"))
	})

	It("runs a scenario alone on virtual token time and puts the setting back", func() {
		e := start(nil, nil)
		p := e.emu.Platform()
		Expect(p.TokenTime()).To(BeFalse(), "wall time by default")
		r := e.one("app: oa\nusers: [alice]\ntoken_time: virtual\nsteps:\n  - alice: push 1\n  - advance: 2h1s\n  - alice: push 1\n    sends: {errcodes: [42001, 0]}\n")
		Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
		Expect(r.Serial).To(Equal("token_time: virtual"))
		Expect(p.TokenTime()).To(BeFalse())

		r = e.one("app: oa\nusers: [alice]\nsteps:\n  - alice: push 1\n  - advance: 2h1s\n  - alice: push 1\n    sends: {errcodes: [0]}\n")
		Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
	})

	DescribeTable("reports what is wrong with the new keys",
		expectProblems,
		Entry("a severity misspelt", alice("  - alice: hi\n    violations: [{rule: reply.createtime.skew, severity: warn}]\n"),
			`t.yaml:5:58: steps[0].violations[0].severity: unknown value "warn" (did you mean "warning"? allowed values: error, warning)`),
		Entry("a rule misspelt", alice("  - alice: hi\n    violations: [{rule: reply.createtime.skw}]\n"),
			`t.yaml:5:25: steps[0].violations[0].rule: unknown rule "reply.createtime.skw" (did you mean "reply.createtime.skew"?)`),
		Entry("a key misspelt", alice("  - alice: hi\n    violations: [{rul: reply.createtime.skew}]\n"),
			`t.yaml:5:19: steps[0].violations[0]: unknown key "rul" (did you mean "rule"?)`),
		Entry("a late send expected", alice("  - alice: hi\n    violations: [sends.late]\n"),
			`t.yaml:5:18: steps[0].violations[0]: sends.late is not caused by a push (tolerate it with tolerate: [sends.late])`),
		Entry("tokens misspelt", alice("  - tokens: expir\n"),
			`t.yaml:4:13: steps[0].tokens: unknown value "expir" (did you mean "expire"? allowed values: expire, revoke)`),
		Entry("token_time misspelt", "app: oa\nusers: [alice]\ntoken_time: virtul\nsteps:\n  - alice: hi\n",
			`t.yaml:3:13: token_time: unknown value "virtul" (did you mean "virtual"? allowed values: wall, virtual)`),
		Entry("a quiet window for at_least", alice("  - alice: hi\n    sends: {at_least: 1, quiet: 1s}\n"),
			`t.yaml:5:33: steps[0].sends.quiet: quiet watches for a send too many, and at_least allows any number (give count: (or a list) for an exact number, or leave quiet out)`),
		Entry("a quiet window of nothing", alice("  - alice: hi\n    sends: {count: 1, quiet: 0s}\n"),
			`t.yaml:5:30: steps[0].sends.quiet: quiet must be positive (leave it out for the run's default (--quiet))`),
		Entry("lists of different lengths", alice("  - alice: hi\n    sends: {msgtypes: [text], errcodes: [0, 0]}\n"),
			`t.yaml:5:23: steps[0].sends.msgtypes: msgtypes lists 1 sends but errcodes lists 2 (the lists describe every send, in order)`),
	)

	It("reads the new keys", func() {
		s := mustParse("app: oa\nusers: [alice]\ntoken_time: virtual\nsteps:\n  - tokens: revoke\n  - alice: hi\n    sends: {count: 1, within: 2s, quiet: 300ms}\n    violations: [reply.header.swap, {rule: reply.createtime.skew, severity: warning}]\n")[0]
		Expect(s.TokenTime).To(Equal("virtual"))
		Expect(s.Serial).To(BeTrue())
		Expect(s.Steps[0].Tokens).To(Equal("revoke"))
		Expect(s.Steps[0].HasAction()).To(BeTrue())
		Expect(s.Steps[1].Sends.Within).To(Equal(2 * time.Second))
		Expect(s.Steps[1].Sends.Quiet).To(Equal(300 * time.Millisecond))
		Expect(s.Steps[1].Violations).To(Equal([]scenario.ViolationExpect{{Rule: "reply.header.swap"}, {Rule: "reply.createtime.skew", Severity: "warning"}}))
	})
})
