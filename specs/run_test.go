package specs_test

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
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
	"github.com/wxemu/wxemu/emulator/scenario"
)

// junitReport is what CI systems read of wxemu run --junit.
type junitReport struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Suites   []struct {
		Name  string `xml:"name,attr"`
		Cases []struct {
			Name    string    `xml:"name,attr"`
			Failure *struct{} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func readJUnit(path string) junitReport {
	data, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	var j junitReport
	Expect(xml.Unmarshal(data, &j)).To(Succeed(), string(data))
	return j
}

// shipped counts the scenarios of a library folder, loaded as wxemu run loads them.
func shipped(dir, cfgPath string) int {
	cfg := config.Default()
	if cfgPath != "" {
		var err error
		cfg, err = config.Load(cfgPath)
		Expect(err).NotTo(HaveOccurred())
	}
	s, err := scenario.LoadAll(cfg, dir)
	Expect(err).NotTo(HaveOccurred())
	return len(s)
}

func writeFile(dir, name, text string) string {
	p := filepath.Join(dir, name)
	Expect(os.WriteFile(p, []byte(text), 0o644)).To(Succeed())
	return p
}

var _ = Describe("wxemu run", func() {
	const library = "../fixtures/scenarios"

	DescribeTable("runs the scenario library against the sample bots, as one CI command",
		func(folder, bot string, withConfig bool) {
			dir := filepath.Join(library, folder)
			junit := filepath.Join(GinkgoT().TempDir(), "junit.xml")
			args := []string{"run", "--junit", junit, "--push-timeout", "1s"}
			if bot != "" {
				args = append(args, "--exec", binaries.Samplebot+" --quiet --bot "+bot)
			}
			cfgPath := ""
			if withConfig {
				cfgPath = filepath.Join(dir, "wxemu.yaml")
				args = append(args, "--config", cfgPath)
			}
			session := wxemu(append(args, dir)...)
			out := string(session.Out.Contents())
			Expect(session.ExitCode()).To(Equal(0), out+string(session.Err.Contents()))
			if bot != "" {
				Expect(out).To(ContainSubstring("the bot answers the handshake"))
			}
			Expect(out).To(MatchRegexp(`PASS: \d+ scenarios? in \d+ files?: \d+ passed, 0 failed`))

			j := readJUnit(junit)
			cases := 0
			for _, s := range j.Suites {
				for _, c := range s.Cases {
					cases++
					Expect(c.Failure).To(BeNil(), c.Name)
				}
			}
			Expect(cases).To(Equal(shipped(dir, cfgPath)))
			Expect(j.Tests).To(Equal(cases))
			Expect(j.Failures).To(BeZero())
		},
		Entry("an Official Account", "oa", "oa", false),
		Entry("a Mini Program in JSON", "mp", "mp", false),
		Entry("safe mode", "safe", "oa", true),
		Entry("compatible mode", "compat", "oa", true),
		Entry("sessions anchored on activity", "activity", "oa", true),
		Entry("the 2021 quota rules", "rules-2021", "oa", true),
		Entry("a bot that does not swap the header", "noswap", "noswap", false),
		Entry("a bot that transfers on events", "transfer-on-event", "transfer-on-event", false),
		Entry("a bot that sends after it answered", "async", "async", false),
		Entry("a bot that verifies only msg_signature", "msgsigonly", "msgsigonly", true),
		Entry("a bot that verifies only signature", "sigonly", "sigonly", true),
		Entry("a bot that caches its token on its own clock", "tokencache", "tokencache", false),
		Entry("a cloud function, run unmodified on the real wx-server-sdk", "function", "", true),
	)

	It("runs scenarios against a cloud function given with --function, no bot needed", func() {
		dir := GinkgoT().TempDir()
		data, err := os.ReadFile(filepath.Join(library, "function", "kf.yaml"))
		Expect(err).NotTo(HaveOccurred())
		writeFile(dir, "kf.yaml", string(data))
		session := wxemu("run", "--function", "../fixtures/functions/kf", dir)
		out := string(session.Out.Contents())
		Expect(session.ExitCode()).To(Equal(0), out+string(session.Err.Contents()))
		Expect(out).To(MatchRegexp(`PASS: 1 scenario in 1 file: 1 passed, 0 failed`))

		session = wxemu("run", "--function", "../fixtures/functions/throws", dir)
		Expect(session.ExitCode()).To(Equal(1), "a function that throws fails the scenario")
		Expect(string(session.Out.Contents())).To(ContainSubstring("boom"))
	})

	It("runs against a bot already running (--target) and prints one JSON document", func() {
		url := startSampleBot("--bot", "oa")
		dir := GinkgoT().TempDir()
		writeFile(dir, "hi.yaml", "name: greets\napp: oa\nusers: [alice]\nchecks: [signature, replay]\nsteps:\n  - alice: hi\n    reply: {text: \"hello, hi\"}\n")
		session := wxemu("run", "--json", "--target", url, dir)
		Expect(session.ExitCode()).To(Equal(0), string(session.Err.Contents()))
		var rep struct {
			Passed    bool `json:"passed"`
			Scenarios []struct {
				Name  string `json:"name"`
				Steps []struct {
					Status string `json:"status"`
				} `json:"steps"`
			} `json:"scenarios"`
		}
		Expect(json.Unmarshal(session.Out.Contents(), &rep)).To(Succeed(), string(session.Out.Contents()))
		Expect(rep.Passed).To(BeTrue())
		Expect(rep.Scenarios).To(HaveLen(1))
		Expect(rep.Scenarios[0].Name).To(Equal("greets"))
		Expect(string(session.Err.Contents())).To(ContainSubstring("[1/1] PASS greets"), "progress goes to stderr with --json")
	})

	It("fails a scenario with where, what was expected, what happened and the transcript, and exits 1", func() {
		dir := GinkgoT().TempDir()
		file := writeFile(dir, "handover.yaml", `name: hand-over with a wrong expectation
app: oa
users: [alice]
steps:
  - alice: hi
    reply: {text: {contains: hello}}
  - alice: 人工
    reply: {transfer: kf1@wxemu_demo}
  - alice: never sent
`)
		junit := filepath.Join(dir, "junit.xml")
		session := wxemu("run", "--push-timeout", "1s", "--junit", junit, "--exec", binaries.Samplebot+" --quiet --bot oa", dir)
		out := string(session.Out.Contents())
		Expect(session.ExitCode()).To(Equal(1), out)
		for _, want := range []string{
			"[1/1] FAIL hand-over with a wrong expectation (" + file + ":1, 3 steps",
			`  ok    1  line 5    alice: text "hi"  → reply text "hello, hi"`,
			`  FAIL  2  line 7    alice: text "人工"`,
			"at " + file + ":7\n",
			"reply.transfer:\n",
			"expected  kf1@wxemu_demo\n",
			"actual    no kf account (the waiting queue)\n",
			"transcript of alice (",
			"  user   hi\n",
			"  bot    hello, hi\n",
			"  system 客服小李 为你服务 (kf2@wxemu_demo joined)\n",
			"exchange (push of text):",
			"<MsgType><![CDATA[transfer_customer_service]]></MsgType>",
			`  skip  3  line 9    alice: text "never sent"`,
			"FAIL: 1 scenario in 1 file: 0 passed, 1 failed (3 steps)",
		} {
			Expect(out).To(ContainSubstring(want))
		}
		j := readJUnit(junit)
		Expect(j.Tests).To(Equal(1))
		Expect(j.Failures).To(Equal(1))
	})

	It("refuses an invalid file with its line, the key and what was meant, and exits 2", func() {
		dir := GinkgoT().TempDir()
		file := writeFile(dir, "typo.yaml", "name: typo\napp: oa\nusers: [alice]\nsteps:\n  - alice: hi\n    rely: none\n  - alcie: hi\n")
		session := wxemu("run", "--target", "http://127.0.0.1:9/wx", dir)
		Expect(session.ExitCode()).To(Equal(2))
		errOut := string(session.Err.Contents())
		Expect(errOut).To(ContainSubstring(file + `:6:5: steps[0]: unknown key "rely" (did you mean "reply"?)`))
		Expect(errOut).To(ContainSubstring(file + `:7:5: steps[1]: unknown key "alcie" (did you mean "alice"?)`))
		Expect(session.Out.Contents()).To(BeEmpty(), "nothing runs")
	})

	It("says clearly when the bot never answers, with what it printed", func() {
		dir := GinkgoT().TempDir()
		writeFile(dir, "hi.yaml", "app: oa\nusers: [alice]\nsteps:\n  - alice: hi\n")
		session := wxemu("run", "--ready-timeout", "1s", "--exec", "echo starting the bot; echo cannot bind >&2; exec sleep 60", dir)
		Expect(session.ExitCode()).To(Equal(1))
		errOut := string(session.Err.Contents())
		Expect(errOut).To(ContainSubstring("the bot is not ready: nothing answers at http://127.0.0.1:"))
		Expect(errOut).To(ContainSubstring("starting the bot"))
		Expect(errOut).To(ContainSubstring("cannot bind"))

		session = wxemu("run", "--exec", "echo no config >&2; exit 3", dir)
		Expect(session.ExitCode()).To(Equal(1))
		Expect(string(session.Err.Contents())).To(And(ContainSubstring("exited (exit status 3)"), ContainSubstring("no config")))
	})

	It("fails a run whose bot exited on its own during it, even when every scenario passed", func() {
		dir := GinkgoT().TempDir()
		// The first step is judged while the bot runs; the bot then quits (after 3 s), and the
		// second step, which watches 6 s for sends that do not come, passes without it.
		writeFile(dir, "quits.yaml", "app: oa\nusers: [alice]\nsteps:\n  - alice: hi\n    reply: {text: \"hello, hi\"}\n  - sends: {count: 0, within: 6s}\n")
		bot := binaries.Samplebot + " --quiet --bot oa & pid=$!; sleep 3; kill $pid; wait $pid; echo the bot quit; exit 0"
		session := wxemu("run", "--exec", bot, dir)
		Expect(session.ExitCode()).To(Equal(1), string(session.Err.Contents()))
		Expect(string(session.Out.Contents()) + string(session.Err.Contents())).To(ContainSubstring("1 passed, 0 failed"))
		Expect(string(session.Err.Contents())).To(And(ContainSubstring("the bot exited during the run with status 0, which fails the run"), ContainSubstring("the bot quit")))
	})

	It("refuses a command line without scenarios or without a bot", func() {
		Expect(wxemu("run").ExitCode()).To(Equal(2))
		dir := GinkgoT().TempDir()
		writeFile(dir, "hi.yaml", "app: oa\nusers: [alice]\nsteps:\n  - alice: hi\n")
		session := wxemu("run", dir)
		Expect(session.ExitCode()).To(Equal(2))
		Expect(string(session.Err.Contents())).To(ContainSubstring("app oa has no bot to push to: give --target URL, --target oa=URL or --exec CMD"))
		Expect(strings.Contains(string(wxemu("run", "--help").Out.Contents()), "WXEMU_CALLBACK_URL")).To(BeTrue())
	})
})

var _ = Describe("wxemu run, as a new user meets it", func() {
	const library = "../fixtures/scenarios"

	It("sets how long a step waits for a bot's later sends (--within) and then watches (--quiet)", func() {
		dir := GinkgoT().TempDir()
		writeFile(dir, "later.yaml", "app: oa\nusers: [alice]\nsteps:\n  - alice: push 2 after 1500ms\n    sends: 2\n")
		bot := binaries.Samplebot + " --quiet --bot async"
		s := wxemu("run", "--exec", bot, dir)
		Expect(s.ExitCode()).To(Equal(1), "the default --within (1s) is too short:\n%s", s.Out.Contents())
		s = wxemu("run", "--within", "4s", "--exec", bot, dir)
		Expect(s.ExitCode()).To(Equal(0), "%s%s", s.Out.Contents(), s.Err.Contents())

		writeFile(dir, "later.yaml", "app: oa\nusers: [alice]\nsteps:\n  - alice: push 1 after 400ms\n    sends: 0\n")
		s = wxemu("run", "--exec", bot, dir)
		Expect(s.ExitCode()).To(Equal(0), "the default --quiet (100ms) watches too briefly to see the send:\n%s", s.Out.Contents())
		s = wxemu("run", "--quiet", "2s", "--exec", bot, dir)
		Expect(s.ExitCode()).To(Equal(1), "--quiet 2s sees it:\n%s", s.Out.Contents())

		Expect(string(wxemu("run", "--within", "0s", dir).Err.Contents())).To(ContainSubstring("--within must be positive"))
	})

	It("makes the handshake with a --target bot before the first scenario", func() {
		dir := GinkgoT().TempDir()
		writeFile(dir, "hi.yaml", "app: oa\nusers: [alice]\nsteps:\n  - alice: hi\n")
		nobody := "http://127.0.0.1:" + strconv.Itoa(freePort()) + "/wx"
		s := wxemu("run", "--ready-timeout", "1s", "--target", nobody, dir)
		Expect(s.ExitCode()).To(Equal(1))
		Expect(string(s.Err.Contents())).To(ContainSubstring("app oa: the bot is not ready: nothing answers at " + nobody))
		Expect(string(s.Err.Contents())).To(ContainSubstring("is the bot running, and is this its callback URL?"))
		Expect(string(s.Out.Contents())).NotTo(ContainSubstring("FAIL"), "no scenario ran")

		wrongToken := startSampleBot("--bot", "oa", "--token", "another")
		s = wxemu("run", "--ready-timeout", "5s", "--target", wrongToken, dir)
		Expect(s.ExitCode()).To(Equal(1))
		Expect(string(s.Err.Contents())).To(ContainSubstring("does it check the signature with the app's token, wxemu?"))

		url := startSampleBot("--bot", "oa")
		s = wxemu("run", "--target", url, dir)
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		Expect(string(s.Out.Contents())).To(ContainSubstring("wxemu run: the bot of app oa answers the handshake at " + url))
	})

	It("points --target at the Official Account only; --target-mp is the Mini Program's", func() {
		s := wxemu("run", "--target", "http://127.0.0.1:9/wx", filepath.Join(library, "mp"))
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring("app mp has no bot to push to: give --target-mp URL, --target mp=URL or --exec CMD"))

		url := startSampleBot(mpBot("--format", "json")...)
		dir := GinkgoT().TempDir()
		writeFile(dir, "mp.yaml", "app: mp\nusers: [alice]\nsteps:\n  - alice: 人工\n    reply: transfer\n")
		s = wxemu("run", "--target-mp", url, dir)
		Expect(s.ExitCode()).To(Equal(0), "%s%s", s.Out.Contents(), s.Err.Contents())
	})

	It("uses a folder's wxemu.yaml, and refuses folders with different ones rather than ignore them", func() {
		s := wxemu("run", "--push-timeout", "1s", "--exec", binaries.Samplebot+" --quiet --bot oa", filepath.Join(library, "safe"))
		Expect(s.ExitCode()).To(Equal(0), "%s%s", s.Out.Contents(), s.Err.Contents())
		Expect(string(s.Out.Contents())).To(ContainSubstring("the configuration is " + filepath.Join(library, "safe", "wxemu.yaml")))

		s = wxemu("run", "--target", "http://127.0.0.1:9/wx", library)
		Expect(s.ExitCode()).To(Equal(2))
		errOut := string(s.Err.Contents())
		Expect(errOut).To(ContainSubstring("these scenarios have different configurations, and one run has one"))
		for _, folder := range []string{"safe", "compat", "activity", "rules-2021"} {
			Expect(errOut).To(ContainSubstring(filepath.Join(library, folder, "wxemu.yaml")))
		}
		Expect(errOut).To(ContainSubstring("(no wxemu.yaml: the embedded demo config)"))
		Expect(errOut).To(ContainSubstring("Run each folder on its own"))
		Expect(s.Out.Contents()).To(BeEmpty(), "nothing runs")

		s = wxemu("run", "--config", filepath.Join(library, "safe", "wxemu.yaml"), "--target", "http://127.0.0.1:9/wx", library)
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring("is not the configuration of every folder given"))
	})

	Context("stopped before the end", func() {
		var session *gexec.Session
		var botURL string
		BeforeEach(func() { botURL = "" })

		// startSlowRun runs a scenario against the slow bot and waits until the bot holds the
		// push: the run is in the middle of a step.
		startSlowRun := func() {
			dir := GinkgoT().TempDir()
			writeFile(dir, "slow.yaml", "app: oa\nusers: [alice]\nsteps:\n  - alice: hi\n")
			cmd := wxemuCommand("run", "-v", "--push-timeout", "60s", "--exec", binaries.Samplebot+" --bot slow --delay 60s", dir)
			var err error
			session, err = gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
			Expect(err).NotTo(HaveOccurred())
			// SIGTERM first: wxemu stops its bot; SIGKILL would leave the bot running.
			DeferCleanup(func() { session.Terminate().Wait(10 * time.Second); session.Kill() })
		}
		handshake := regexp.MustCompile(`the bot answers the handshake at (http://\S+)`)

		It("reports a SIGINT as an interruption, not a failed step, stops the bot and exits 130", func() {
			startSlowRun()
			Eventually(session.Out, 20*time.Second).Should(gbytes.Say("the bot answers the handshake"))
			botURL = handshake.FindStringSubmatch(string(session.Out.Contents()))[1]
			Eventually(session.Err, 10*time.Second).Should(gbytes.Say("holding"))

			session.Interrupt()
			Eventually(session, 15*time.Second).Should(gexec.Exit(130))
			Expect(string(session.Err.Contents())).To(ContainSubstring("wxemu run: interrupted; 0 of 1 scenarios ended before it"))
			Expect(string(session.Err.Contents())).To(ContainSubstring("the bot is stopped"))
			out := string(session.Out.Contents())
			Expect(out).To(ContainSubstring("[1/1] STOPPED"))
			Expect(out).NotTo(ContainSubstring("FAIL"))
			expectGone(botURL)
		})

		It("stops the bot when its output is closed (SIGPIPE)", func() {
			// wxemu's stdout is the pipe itself, as under `wxemu run … | head -2`.
			r, w, err := os.Pipe()
			Expect(err).NotTo(HaveOccurred())
			// Three scenarios one at a time, each 2 s long: the end of the first is a write to the
			// closed pipe, with two to go.
			dir := GinkgoT().TempDir()
			for _, name := range []string{"a.yaml", "b.yaml", "c.yaml"} {
				writeFile(dir, name, "app: oa\nusers: [alice]\nsteps:\n  - alice: hi\n")
			}
			cmd := wxemuCommand("run", "-p", "1", "--push-timeout", "60s", "--exec", binaries.Samplebot+" --quiet --bot slow --delay 2s", dir)
			stderr := gbytes.NewBuffer()
			cmd.Stdout, cmd.Stderr = w, io.MultiWriter(stderr, GinkgoWriter)
			Expect(cmd.Start()).To(Succeed())
			exited := make(chan int, 1)
			done := make(chan struct{})
			go func() {
				_ = cmd.Wait()
				exited <- cmd.ProcessState.ExitCode()
				close(done)
			}()
			DeferCleanup(func() {
				// SIGTERM first: wxemu stops its bot; SIGKILL would leave the bot running.
				_ = cmd.Process.Signal(syscall.SIGTERM)
				Eventually(done, 10*time.Second).Should(BeClosed())
			})
			Expect(w.Close()).To(Succeed())
			lines := bufio.NewReader(r)
			for botURL == "" {
				line, err := lines.ReadString('\n')
				Expect(err).NotTo(HaveOccurred())
				if m := handshake.FindStringSubmatch(line); m != nil {
					botURL = m[1]
				}
			}
			Expect(r.Close()).To(Succeed())
			Eventually(exited, 15*time.Second).Should(Receive(Equal(141)))
			// The pipe is closed once the handshake line is read: the next write meets it, the end of
			// the first scenario or a progress line before it, as the machine's timing has it.
			Expect(string(stderr.Contents())).To(MatchRegexp(`the output was closed \(SIGPIPE\); [01] of 3 scenarios ended before it`))
			expectGone(botURL)
		})
	})

	It("says on stderr that it waits for a bot that is slow to start", func() {
		dir := GinkgoT().TempDir()
		writeFile(dir, "hi.yaml", "app: oa\nusers: [alice]\nsteps:\n  - alice: hi\n")
		s := wxemu("run", "--exec", "sleep 3; exec "+binaries.Samplebot+" --quiet --bot oa", dir)
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		Expect(string(s.Err.Contents())).To(MatchRegexp(`wxemu run: waiting for the bot to answer the handshake at http://127\.0\.0\.1:\d+/wx \(\ds of 30s\)…`))
	})
})

// expectGone fails unless nothing listens at the URL's address any more.
func expectGone(url string) {
	GinkgoHelper()
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/wx")
	Eventually(func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return errors.New("the bot still listens at " + addr)
		}
		return nil
	}, 10*time.Second).Should(Succeed())
}
