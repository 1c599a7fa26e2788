package config_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.yaml.in/yaml/v3"

	"github.com/wxemu/wxemu/emulator/config"
)

const faultsHead = `apps:
  - alias: oa
    kind: oa
    appid: wx1111111111111111
    secret: "22222222222222222222222222222222"
    original_id: gh_333333333333
    token: shoptoken
`

var _ = Describe("the faults section", func() {
	It("reads a seed and rules, and round-trips", func() {
		c, err := config.Parse("t.yaml", []byte(faultsHead+`faults:
  seed: 7
  rules:
    - {id: down, path: /cgi-bin/message/custom/send, errcode: -1, count: 1}
    - {family: media, app: oa, latency: 250ms, probability: 0.5, after: 2}
    - {push: duplicate, msgtype: text, seed: 3}
`))
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Faults.Seed).To(Equal(uint64(7)))
		Expect(c.Faults.Rules).To(HaveLen(3))
		r := c.Faults.Rules[1].Rule()
		Expect(r.Latency.D().String()).To(Equal("250ms"))
		Expect(*r.Probability).To(Equal(0.5))
		out, err := yaml.Marshal(c)
		Expect(err).NotTo(HaveOccurred())
		again, err := config.Parse("again.yaml", out)
		Expect(err).NotTo(HaveOccurred())
		Expect(again).To(Equal(c))
	})

	DescribeTable("refuses a bad rule at its file:line:col, with the fix",
		func(rules string, want string) {
			_, err := config.Parse("t.yaml", []byte(faultsHead+"faults:\n  rules:\n"+rules))
			Expect(err).To(MatchError(want))
		},
		Entry("an errcode outside the catalog", "    - {family: kf, errcode: 99999}\n",
			`t.yaml:10:29: faults.rules[0].errcode: 99999 is not in wxemu's errcode catalog; wxemu answers only codes whose errmsg a source confirms (e.g. -1, 45009, 45011, 40001, 42001, 48001, 45015, 45047)`),
		Entry("a misspelled family", "    - {family: custom_snd, errcode: -1}\n",
			`t.yaml:10:16: faults.rules[0].family: unknown family "custom_snd" (did you mean "custom_send"?) (the families are token, custom_send, typing, media, kf)`),
		Entry("a probability outside 0..1", "    - {family: kf, errcode: -1, probability: -1}\n",
			`t.yaml:10:46: faults.rules[0].probability: -1 is outside 0..1 (write e.g. 0.5 for half of the matching calls)`),
		Entry("a negative count", "    - {family: kf, errcode: -1, count: -1}\n",
			`t.yaml:10:40: faults.rules[0].count: -1: a rule fires at least once (leave count out for every matching call)`),
		Entry("an unknown app", "    - {family: kf, errcode: -1, app: shop}\n",
			`t.yaml:10:38: faults.rules[0].app: unknown app "shop" (the apps are oa, wx1111111111111111)`),
		Entry("a misspelled key", "    - {family: kf, errocde: -1}\n",
			`t.yaml:10:20: faults.rules[0]: unknown key "errocde" (did you mean "errcode"?)`),
		Entry("a bare latency", "    - {family: kf, latency: 5}\n",
			"t.yaml:10:7: faults.rules[0].errcode: the rule does nothing (give errcode, status, latency or drop)\n"+
				"t.yaml:10:29: faults.rules[0].latency: expected a duration, got the bare number 5 (write 5s; a duration needs a unit: ns, us, ms, s, m or h)"),
	)
})
