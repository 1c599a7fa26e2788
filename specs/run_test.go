package specs_test

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

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
			args := []string{"run", "--junit", junit, "--push-timeout", "1s", "--exec", binaries.Samplebot + " --quiet --bot " + bot}
			cfgPath := ""
			if withConfig {
				cfgPath = filepath.Join(dir, "wxemu.yaml")
				args = append(args, "--config", cfgPath)
			}
			session := wxemu(append(args, dir)...)
			out := string(session.Out.Contents())
			Expect(session.ExitCode()).To(Equal(0), out+string(session.Err.Contents()))
			Expect(out).To(ContainSubstring("the bot answers the handshake"))
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
	)

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
