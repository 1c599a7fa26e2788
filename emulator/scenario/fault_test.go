package scenario_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/scenario"
)

// naiveFor is, for each scenario of fixtures/scenarios/faults, a sample bot that does not
// survive its fault: the library's passing run against the resilient bot proves nothing unless
// these fail.
var naiveFor = map[string]string{
	"system-error.yaml":  "oa",
	"api-quota.yaml":     "oa",
	"token-revoked.yaml": "tokencache",
	"duplicate.yaml":     "oa",
	"server-error.yaml":  "oa",
}

var _ = Describe("the fault scenarios of the library", func() {
	dir := filepath.Join(libraryRoot, "faults")

	It("name a naive bot for every file", func() {
		files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		var names []string
		for _, f := range files {
			names = append(names, filepath.Base(f))
		}
		var known []string
		for f := range naiveFor {
			known = append(known, f)
		}
		Expect(names).To(ConsistOf(known))
	})

	for file, bot := range naiveFor {
		It("fails "+file+" against the naive bot "+bot, func() {
			cfg := config.Default()
			scenarios, err := scenario.Load(cfg, filepath.Join(dir, file))
			Expect(err).NotTo(HaveOccurred())
			e := start(cfg, map[string]botMaker{"oa": sample(bot)})
			rep := e.runner().Run(ctx(), scenarios)
			for _, r := range rep.Scenarios {
				Expect(r.Status).To(Equal(scenario.Failed), describeResult(r))
			}
		})
	}
})

var _ = Describe("fault rules in a scenario file", func() {
	It("reads top-level faults and a step's faults: a list, or clear", func() {
		list, err := parse(`app: oa
users: [alice]
faults:
  - {family: custom_send, user: alice, errcode: -1, count: 1, seed: 3}
steps:
  - faults:
      - {push: duplicate, probability: 0.5}
  - faults: clear
`)
		Expect(err).NotTo(HaveOccurred())
		s := list[0]
		Expect(s.Serial).To(BeTrue(), "rules match every call of the app: the scenario runs alone")
		Expect(s.Faults).To(HaveLen(1))
		Expect(s.Faults[0].Rule.User).To(Equal("alice"))
		Expect(s.Steps[0].Faults.Add[0].Rule.Push).To(Equal("duplicate"))
		Expect(s.Steps[1].Faults.Clear).To(BeTrue())
		Expect(s.Steps[1].HasAction()).To(BeTrue())
	})

	DescribeTable("reports a bad rule at its key, with the fix",
		expectProblems,
		Entry("a misspelled key", "app: oa\nfaults:\n  - {family: kf, errocde: -1}\nsteps:\n  - advance: 1m\n",
			`t.yaml:3:18: faults[0]: unknown key "errocde" (did you mean "errcode"?)`),
		Entry("an errcode outside the catalog", "app: oa\nfaults:\n  - {family: kf, errcode: 12345}\nsteps:\n  - advance: 1m\n",
			`t.yaml:3:27: faults[0].errcode: 12345 is not in wxemu's errcode catalog; wxemu answers only codes whose errmsg a source confirms (e.g. -1, 45009, 45011, 40001, 42001, 48001, 45015, 45047)`),
		Entry("a probability outside 0..1", "app: oa\nfaults:\n  - {family: kf, errcode: -1, probability: 1.5}\nsteps:\n  - advance: 1m\n",
			`t.yaml:3:44: faults[0].probability: 1.5 is outside 0..1 (write e.g. 0.5 for half of the matching calls)`),
		Entry("a misspelled path", "app: oa\nsteps:\n  - faults:\n      - {path: /cgi-bin/message/custom/snd, errcode: -1}\n",
			`t.yaml:4:16: steps[0].faults[0].path: "/cgi-bin/message/custom/snd" is not an API wxemu serves (did you mean "/cgi-bin/message/custom/send"?) (see GET /_emu/v1/routes)`),
		Entry("a user not of the scenario", "app: oa\nusers: [alice]\nfaults:\n  - {push: duplicate, user: alcie}\nsteps:\n  - advance: 1m\n",
			`t.yaml:4:29: faults[0].user: "alcie" is not a user of the scenario (did you mean "alice"?) (name one of users: alice)`),
		Entry("a negative count", "app: oa\nfaults:\n  - {family: kf, errcode: -1, count: -2}\nsteps:\n  - advance: 1m\n",
			`t.yaml:3:38: faults[0].count: -2: a rule fires at least once (leave count out for every matching call)`),
		Entry("a step's faults that are neither a list nor clear", "app: oa\nsteps:\n  - faults: reset\n",
			`t.yaml:3:13: steps[0].faults: unknown value "reset" (allowed values: clear)`),
	)
})

var _ = Describe("push faults in a scenario", func() {
	It("holds a message with reorder and delivers it after the user's next one", func() {
		cfg := config.Default()
		list, err := scenario.Parse(cfg, "reorder.yaml", []byte(`app: oa
users: [alice]
faults:
  - {push: reorder, user: alice, count: 1}
steps:
  - alice: first
    delivered_to: held
  - alice: second
    reply: {text: "hello, second"}
    bot_receives: {msgtype: text, count: 2}
`))
		Expect(err).NotTo(HaveOccurred())
		e := start(cfg, map[string]botMaker{"oa": sample("oa")})
		rep := e.runner().Run(ctx(), list)
		Expect(rep.Scenarios[0].Status).To(Equal(scenario.Passed), describeResult(rep.Scenarios[0]))
		Expect(e.emu.Platform().Faults()).To(BeEmpty(), "the scenario's rules end with it")
	})

	It("fails a step that expects the held message delivered", func() {
		cfg := config.Default()
		list, err := scenario.Parse(cfg, "reorder.yaml", []byte(`app: oa
users: [alice]
faults:
  - {push: reorder, count: 1}
steps:
  - alice: first
    reply: {text: "hello, first"}
`))
		Expect(err).NotTo(HaveOccurred())
		e := start(cfg, map[string]botMaker{"oa": sample("oa")})
		rep := e.runner().Run(ctx(), list)
		Expect(rep.Scenarios[0].Status).To(Equal(scenario.Failed))
	})
})

var _ = Describe("a fault rule the bot never meets", func() {
	run := func(text string) *scenario.ScenarioResult {
		GinkgoHelper()
		cfg := config.Default()
		list, err := scenario.Parse(cfg, "unmet.yaml", []byte(text))
		Expect(err).NotTo(HaveOccurred())
		e := start(cfg, map[string]botMaker{"oa": sample("oa")})
		return e.runner().Run(ctx(), list).Scenarios[0]
	}

	It("fails the scenario, naming the rule: it checks nothing of how the bot handles the fault", func() {
		// The oa bot answers "hi" passively and never calls custom/send: the rule never matches,
		// and without this check the scenario would pass as if the bot had survived -1.
		r := run(`app: oa
users: [alice]
faults:
  - {path: /cgi-bin/message/custom/send, errcode: -1, count: 1}
steps:
  - alice: hi
    reply: {text: "hello, hi"}
`)
		Expect(r.Status).To(Equal(scenario.Failed), describeResult(r))
		Expect(r.Error).To(ContainSubstring("the scenario injects a fault the bot never met: fault rule f1 (line 4: errcode -1 system error on /cgi-bin/message/custom/send)"))
	})

	It("counts a rule cleared by a step before it met a call, and passes one that met a call without firing", func() {
		r := run(`app: oa
users: [alice]
steps:
  - faults:
      - {family: typing, errcode: -1}
  - alice: hi
    reply: {text: "hello, hi"}
  - faults: clear
`)
		Expect(r.Status).To(Equal(scenario.Failed), describeResult(r))
		Expect(r.Error).To(ContainSubstring("line 5: errcode -1 system error on typing"))

		r = run(`app: oa
users: [alice]
faults:
  - {path: /cgi-bin/message/custom/send, errcode: -1, after: 5}
steps:
  - alice: push 1
    sends: {errcodes: [0]}
`)
		Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
	})
})

var _ = Describe("probability fault rules in a scenario", func() {
	// errcodes runs the scenarios on an emulator of their own and answers the errcodes of the
	// sends of the last scenario's step.
	errcodes := func(texts ...string) []int {
		GinkgoHelper()
		cfg := config.Default()
		var list []*scenario.Scenario
		for i, text := range texts {
			l, err := scenario.Parse(cfg, fmt.Sprintf("s%d.yaml", i), []byte(text))
			Expect(err).NotTo(HaveOccurred())
			list = append(list, l...)
		}
		e := start(cfg, map[string]botMaker{"oa": sample("oa")})
		rep := e.runner().Run(ctx(), list)
		last := rep.Scenarios[len(rep.Scenarios)-1]
		Expect(last.Status).To(Equal(scenario.Passed), describeResult(last))
		var result struct {
			Sends []struct {
				Errcode int `json:"errcode"`
			} `json:"sends"`
		}
		Expect(json.Unmarshal(last.Steps[0].Result, &result)).To(Succeed())
		var codes []int
		for _, s := range result.Sends {
			codes = append(codes, s.Errcode)
		}
		return codes
	}
	const other = `name: adds a rule first
app: oa
users: [bob]
faults:
  - {family: typing, errcode: -1, count: 1}
steps:
  - bob: hi
`
	const drawn = `name: a send fails half of the time
app: oa
users: [alice]
faults:
  - {family: custom_send, errcode: 45009, probability: 0.5}
steps:
  - alice: push 5
    sends: {count: 5}
`
	It("draws the same whether the scenario runs alone or after one that added a rule", func() {
		alone := errcodes(drawn)
		Expect(alone).To(ContainElement(45009), "the rule fires")
		Expect(alone).To(ContainElement(0), "and lets some through")
		Expect(errcodes(drawn)).To(Equal(alone), "the same run again")
		Expect(errcodes(other, drawn)).To(Equal(alone), "the rule's assigned id is another, its draws are not")
	})
})
