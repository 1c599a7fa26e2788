package specs_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"
)

// loadReport is the part of `wxemu load --json` the specs read.
type loadReport struct {
	Model         string                               `json:"model"`
	Sent          int64                                `json:"sent"`
	Pushed        int64                                `json:"pushed"`
	Replied       int64                                `json:"replied"`
	None          int64                                `json:"none"`
	Failed        int64                                `json:"failed"`
	FailedOutcome int64                                `json:"failed_outcome"`
	Attempts      int64                                `json:"attempts"`
	TimedOut      int64                                `json:"timed_out"`
	Retried       int64                                `json:"retried"`
	GivenUp       int64                                `json:"given_up"`
	Late          int64                                `json:"late"`
	Unsent        int64                                `json:"unsent"`
	ElapsedS      float64                              `json:"elapsed_s"`
	Throughput    float64                              `json:"throughput_per_s"`
	DeadlineMS    float64                              `json:"deadline_ms"`
	MaxAttempts   int                                  `json:"max_attempts"`
	Passed        bool                                 `json:"passed"`
	LatencyMS     struct{ P50, P90, P99, Max float64 } `json:"latency_ms"`
	Violations    []struct {
		Rule     string `json:"rule"`
		Severity string `json:"severity"`
		Count    int64  `json:"count"`
		Example  string `json:"example"`
	} `json:"violations"`
	APICalls []struct {
		Path    string `json:"path"`
		Errcode int    `json:"errcode"`
		Count   int64  `json:"count"`
	} `json:"api_calls"`
	Thresholds []struct {
		Name   string `json:"name"`
		Passed bool   `json:"passed"`
	} `json:"thresholds"`
}

// runLoad runs wxemu load with args, waits for it, and reads its JSON report.
func runLoad(args ...string) (*gexec.Session, loadReport) {
	GinkgoHelper()
	s := wxemu(append([]string{"load", "--json"}, args...)...)
	var rep loadReport
	Expect(json.Unmarshal(s.Out.Contents(), &rep)).To(Succeed(), "stdout is the JSON report:\n%s\nstderr:\n%s", s.Out.Contents(), s.Err.Contents())
	return s, rep
}

// apiCount is how many calls of path got errcode.
func (r loadReport) apiCount(path string, errcode int) int64 {
	for _, a := range r.APICalls {
		if a.Path == path && a.Errcode == errcode {
			return a.Count
		}
	}
	return 0
}

var _ = Describe("wxemu load", func() {
	It("pushes the mix to a correct bot through the whole engine and passes", func() {
		url := startSampleBot("--bot", "oa", "--quiet")
		s, rep := runLoad("--target", url, "--users", "4", "--pushes", "120", "--mix", "text=2,click=1,image=1", "--mode", "safe")
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		Expect(rep.Model).To(Equal("closed"))
		Expect(rep.Sent).To(BeNumerically("==", 120))
		Expect(rep.Pushed).To(BeNumerically("==", 120))
		Expect(rep.Failed).To(BeZero())
		Expect(rep.Retried).To(BeZero())
		Expect(rep.GivenUp).To(BeZero())
		Expect(rep.Violations).To(BeEmpty())
		Expect(rep.Attempts).To(BeNumerically("==", 120))
		// text and click are answered with a reply, image with one too (the oa bot echoes);
		// whatever the bot chose, every push has an outcome.
		Expect(rep.Replied + rep.None).To(BeNumerically("==", 120))
		Expect(rep.LatencyMS.P50).To(BeNumerically(">", 0))
		Expect(rep.LatencyMS.P50).To(BeNumerically("<=", rep.LatencyMS.P99))
		Expect(rep.LatencyMS.P99).To(BeNumerically("<=", rep.LatencyMS.Max))
		Expect(rep.DeadlineMS).To(BeNumerically("==", 5000))
		Expect(rep.Passed).To(BeTrue())
		Expect(s.Err.Contents()).To(BeEmpty(), "--json is quiet on stderr")
	})

	It("writes a report for a person, with the percentiles against the deadline", func() {
		url := startSampleBot("--bot", "oa", "--quiet")
		s := wxemu("load", "--target", url, "--users", "2", "--pushes", "20")
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		out := string(s.Out.Contents())
		Expect(out).To(MatchRegexp(`throughput +20 messages in [0-9.]+ s`))
		Expect(out).To(MatchRegexp(`latency +p50 \S+ · p90 \S+ · p99 \S+ · max \S+ · mean \S+ +\(WeChat's deadline: 5s per attempt\)`))
		Expect(out).To(ContainSubstring("WeChat would have retried 0 pushes and given up on 0 (after 3 attempts)"))
		Expect(out).To(ContainSubstring("result       passed"))
	})

	It("counts what WeChat would have retried and given up on when the bot misses a short deadline", func() {
		url := startSampleBot("--bot", "slow", "--delay", "400ms", "--quiet")
		s, rep := runLoad("--target", url, "--users", "2", "--pushes", "4", "--push-timeout", "150ms")
		Expect(s.ExitCode()).To(Equal(1), "failed pushes fail the run:\n%s", s.Err.Contents())
		Expect(rep.MaxAttempts).To(Equal(3))
		Expect(rep.Retried).To(BeNumerically("==", 4))
		Expect(rep.GivenUp).To(BeNumerically("==", 4))
		Expect(rep.Attempts).To(BeNumerically("==", 12))
		Expect(rep.TimedOut).To(BeNumerically("==", 12))
		Expect(rep.FailedOutcome).To(BeNumerically("==", 4))
		Expect(rep.Failed).To(BeNumerically("==", 4))
		Expect(rep.LatencyMS.P50).To(BeNumerically(">=", 3*150))
		Expect(rep.Passed).To(BeFalse())
	})

	It("counts nothing as retried when the slow bot answers within the deadline", func() {
		url := startSampleBot("--bot", "slow", "--delay", "100ms", "--quiet")
		s, rep := runLoad("--target", url, "--users", "2", "--pushes", "4", "--push-timeout", "2s")
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		Expect(rep.Retried).To(BeZero())
		Expect(rep.GivenUp).To(BeZero())
		Expect(rep.TimedOut).To(BeZero())
		Expect(rep.LatencyMS.P50).To(BeNumerically(">=", 100))
	})

	It("lets --max-failed tolerate failures, as a count or a share", func() {
		url := startSampleBot("--bot", "slow", "--delay", "400ms", "--quiet")
		s, rep := runLoad("--target", url, "--users", "2", "--pushes", "2", "--push-timeout", "100ms", "--max-failed", "100%")
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		Expect(rep.Failed).To(BeNumerically("==", 2))
		s, _ = runLoad("--target", url, "--users", "2", "--pushes", "2", "--push-timeout", "100ms", "--max-failed", "1")
		Expect(s.ExitCode()).To(Equal(1), "2 failed pushes are more than 1")
	})

	It("names the violations by rule, with an example, and fails the run", func() {
		url := startSampleBot("--bot", "noswap", "--quiet")
		s, rep := runLoad("--target", url, "--users", "3", "--pushes", "30")
		Expect(s.ExitCode()).To(Equal(1))
		Expect(rep.Violations).NotTo(BeEmpty())
		var swap int64
		for _, v := range rep.Violations {
			if v.Rule == "reply.header.swap" {
				swap = v.Count
				Expect(v.Severity).To(Equal("error"))
				Expect(v.Example).To(ContainSubstring("copied from the push instead of swapped"))
			}
		}
		Expect(swap).To(BeNumerically("==", 30))
		Expect(rep.Failed).To(BeNumerically("==", 30))

		text := wxemu("load", "--target", url, "--users", "1", "--pushes", "3")
		Expect(text.ExitCode()).To(Equal(1))
		Expect(string(text.Out.Contents())).To(MatchRegexp(`(?s)violations   by rule:\n +3  error +reply\.header\.swap`))
		Expect(string(text.Out.Contents())).To(ContainSubstring("result       FAILED"))
	})

	It("counts a push whose answer breaks a rule with an error as failed, though the user saw no failure line", func() {
		url := startSampleBot("--bot", "transfer-on-event", "--quiet")
		s, rep := runLoad("--target", url, "--users", "2", "--pushes", "6", "--mix", "subscribe=1")
		Expect(s.ExitCode()).To(Equal(1))
		Expect(rep.FailedOutcome).To(BeZero())
		Expect(rep.Failed).To(BeNumerically("==", 6))
		Expect(rep.Violations).To(ContainElement(And(HaveField("Rule", "reply.transfer.event"), HaveField("Count", BeNumerically("==", 6)))))
	})

	It("counts what a bot does with the config's duplicate deliveries: acting twice fails the run", func() {
		demo := wxemu("serve", "--print-config")
		Expect(demo.ExitCode()).To(Equal(0))
		cfg := filepath.Join(GinkgoT().TempDir(), "duplicate.yaml")
		withRule := strings.Replace(string(demo.Out.Contents()), "  rules: []\n", "  rules:\n    - {push: duplicate}\n", 1)
		Expect(withRule).To(ContainSubstring("- {push: duplicate}"), "the printed config has an empty faults.rules to fill")
		Expect(os.WriteFile(cfg, []byte(withRule), 0o600)).To(Succeed())
		load := func(bot string) (*gexec.Session, loadReport) {
			return runLoad("--config", cfg, "--exec", binaries.Samplebot+" --bot "+bot+" --quiet", "--users", "2", "--pushes", "4", "--text", "push 1")
		}
		s, rep := load("oa")
		Expect(s.ExitCode()).To(Equal(1), "the oa bot sends again on the duplicate: %s", s.Out.Contents())
		Expect(rep.Violations).To(ContainElement(And(HaveField("Rule", "push.duplicate.sends"), HaveField("Count", BeNumerically("==", 4)))))
		Expect(rep.Failed).To(BeNumerically("==", 4))
		Expect(rep.apiCount("/cgi-bin/message/custom/send", 0)).To(BeNumerically("==", 8))
		s, rep = load("resilient")
		Expect(s.ExitCode()).To(Equal(0), "the resilient bot dedupes: %s", s.Out.Contents())
		Expect(rep.apiCount("/cgi-bin/message/custom/send", 0)).To(BeNumerically("==", 4))
	})

	It("says that a scenario's fault rules are not applied under load, rather than pass a bot that never met them", func() {
		s, _ := runLoad("--exec", binaries.Samplebot+" --bot oa --quiet", "--scenario", "../fixtures/scenarios/faults/duplicate.yaml",
			"--users", "2", "--pushes", "2")
		Expect(string(s.Err.Contents())).To(ContainSubstring(`the 1 fault rule(s) of "the bot dedupes a message WeChat delivers twice" are not applied under load`))
		Expect(string(s.Err.Contents())).To(ContainSubstring("faults.rules"))
	})

	It("counts the bot's API calls by errcode, a quota refusal included, with each user running a scenario", func() {
		s, rep := runLoad("--exec", binaries.Samplebot+" --bot oa --quiet", "--scenario", "testdata/load/push6.yaml",
			"--users", "2", "--pushes", "8")
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		Expect(rep.Sent).To(BeNumerically("==", 8))
		// 8 pushes: each user's hi, push 6, hi, push 6: two `push 6` a user, four in all.
		Expect(rep.apiCount("/cgi-bin/message/custom/send", 0)).To(BeNumerically("==", 4*5))
		Expect(rep.apiCount("/cgi-bin/message/custom/send", 45047)).To(BeNumerically("==", 4))
		Expect(rep.apiCount("/cgi-bin/token", 0)).To(BeNumerically(">=", 1))
	})

	It("loads a Mini Program cloud function, its cloud.openapi sends counted by errcode", func() {
		s, rep := runLoad("--function", "../fixtures/functions/kf", "--users", "2", "--pushes", "6")
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		Expect(rep.Sent).To(BeNumerically("==", 6))
		Expect(rep.Failed).To(BeZero())
		Expect(rep.apiCount("/cgi-bin/message/custom/send", 0)).To(BeNumerically("==", 6), "the kf function answers each text with one send")
	})

	It("keeps the open model's schedule: pushes without a free user are late, and those left at the end are counted", func() {
		url := startSampleBot("--bot", "slow", "--delay", "100ms", "--quiet")
		s, rep := runLoad("--target", url, "--users", "1", "--rate", "20/s", "--duration", "1s")
		// A bot that cannot keep up with the rate fails the run: the pushes it never got are
		// failed ones, and the late ones' wait is in their latency.
		Expect(s.ExitCode()).To(Equal(1), string(s.Err.Contents()))
		Expect(rep.Thresholds).To(ContainElement(And(HaveField("Name", "max-failed"), HaveField("Passed", false))))
		Expect(rep.Model).To(Equal("open"))
		Expect(rep.Sent+rep.Unsent).To(BeNumerically("==", 20), "20/s for 1 s is 20 pushes due, each sent or counted")
		Expect(rep.Unsent).To(BeNumerically(">", 5), "one user answering in 100 ms takes about 10 in a second")
		Expect(rep.Late).To(BeNumerically(">", 3), "one user answering in 100 ms cannot take a push every 50 ms")
		Expect(rep.ElapsedS).To(BeNumerically("<", 1.5), "the run ends on time")
		Expect(rep.LatencyMS.P99).To(BeNumerically(">", 150), "latency counts from when a push was due, not from when a user was free")
		s, rep = runLoad("--target", url, "--users", "1", "--rate", "20/s", "--duration", "1s", "--max-failed", "100%", "--max-p99", "120ms")
		Expect(s.ExitCode()).To(Equal(1), "a 100 ms bot at twice the rate it can take has a p99 far over 120 ms")
		Expect(rep.Thresholds).To(ContainElement(And(HaveField("Name", "max-p99"), HaveField("Passed", false))))

		url = startSampleBot("--bot", "oa", "--quiet")
		s, rep = runLoad("--target", url, "--users", "4", "--rate", "20", "--duration", "1s")
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		Expect(rep.Sent).To(BeNumerically("==", 20))
		Expect(rep.Late).To(BeZero())
		Expect(rep.Unsent).To(BeZero())
	})

	It("fails the run when a threshold is not met, and says which", func() {
		url := startSampleBot("--bot", "oa", "--quiet")
		s, rep := runLoad("--target", url, "--users", "2", "--pushes", "10", "--max-p99", "1ns")
		Expect(s.ExitCode()).To(Equal(1))
		Expect(rep.Thresholds).To(ContainElement(And(HaveField("Name", "max-p99"), HaveField("Passed", false))))
		s, rep = runLoad("--target", url, "--users", "2", "--pushes", "10", "--max-p99", "10s")
		Expect(s.ExitCode()).To(Equal(0))
		Expect(rep.Thresholds).To(ContainElement(And(HaveField("Name", "max-p99"), HaveField("Passed", true))))
	})

	It("prints progress to stderr when asked", func() {
		url := startSampleBot("--bot", "slow", "--delay", "100ms", "--quiet")
		s := wxemu("load", "--target", url, "--users", "2", "--duration", "2500ms", "--progress")
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		Expect(string(s.Err.Contents())).To(MatchRegexp(`wxemu load: +\d+s +\d+ sent +\d+/s +p50 \S+ +p99 \S+ +failed 0 +violations 0 +API errors 0`))
	})

	It("stops on SIGINT, cuts the pushes in flight and exits 130 without a report", func() {
		url := startSampleBot("--bot", "slow", "--delay", "2s", "--quiet")
		s, err := gexec.Start(wxemuCommand("load", "--target", url, "--users", "2", "--duration", "20s", "--progress"), GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		Eventually(s.Err, 10*time.Second).Should(gbytes.Say(`wxemu load: +\d+s`))
		s.Interrupt()
		Eventually(s, 10*time.Second).Should(gexec.Exit(130))
		Expect(string(s.Err.Contents())).To(MatchRegexp(`wxemu load: interrupted; \d+ messages sent, the pushes in flight cut; no report`))
		Expect(s.Out.Contents()).To(BeEmpty())
	})

	DescribeTable("refuses a wrong command line with a precise message (exit 2)",
		func(want string, args ...string) {
			s := wxemu(append([]string{"load", "--target", "http://127.0.0.1:9/wx"}, args...)...)
			Expect(s.ExitCode()).To(Equal(2))
			Expect(string(s.Err.Contents())).To(ContainSubstring(want))
		},
		Entry("a misspelt message", `unknown message "txt" (did you mean text?)`, "--mix", "txt=10"),
		Entry("a weight that is no number", `the weight "lots" is not a whole number above 0`, "--mix", "text=lots"),
		Entry("a missing weight", `item 2 "click" has no weight: write click=WEIGHT`, "--mix", "text=1,click"),
		Entry("a message of the other kind of app", "miniprogrampage is not pushed to an Official Account, only to a Mini Program", "--mix", "miniprogrampage=1"),
		Entry("the same message twice", "text is in the mix already (item 1)", "--mix", "text=1,text=2"),
		Entry("both models", "--rate (open model) and --concurrency (closed model) exclude each other", "--rate", "10", "--concurrency", "2"),
		Entry("more at once than users", "--concurrency 5 is more than --users 2", "--users", "2", "--concurrency", "5"),
		Entry("a bad --max-failed", `"lots" is neither a number of pushes`, "--max-failed", "lots"),
		Entry("a bad rate", `"fast" is not a rate`, "--rate", "fast"),
		Entry("a bad mode", `--mode "secure": write plain, compat or safe`, "--mode", "secure"),
		Entry("an unknown app", `--app "oaa": no such app`, "--app", "oaa"),
	)

	It("refuses a scenario that refers to earlier steps, naming the line", func() {
		path := writeFile(GinkgoT().TempDir(), "ref.yaml", "name: ref\napp: oa\nusers: [alice]\nsteps:\n  - id: first\n    alice: hi\n  - alice: \"${first.reply.content}\"\n")
		s := wxemu("load", "--target", "http://127.0.0.1:9/wx", "--scenario", path, "--pushes", "1")
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring(path + ":7:"))
		Expect(string(s.Err.Contents())).To(ContainSubstring("refers to an earlier step"))
	})

	It("says the bot does not answer rather than load nothing", func() {
		s := wxemu("load", "--target", "http://127.0.0.1:9/wx", "--pushes", "1", "--ready-timeout", "300ms")
		Expect(s.ExitCode()).To(Equal(1))
		Expect(strings.ToLower(string(s.Err.Contents()))).To(ContainSubstring("not ready"))
	})
})
