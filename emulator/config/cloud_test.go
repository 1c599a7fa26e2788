package config_test

import (
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/config"
)

const mpHead = `apps:
  - alias: mp
    kind: mp
    appid: wx7a6b5c4d3e2f1a09
    secret: 7a6b5c4d3e2f1a090f1e2d3c4b5a6978
    original_id: gh_7a6b5c4d3e2f
    token: wxemump
`

var _ = Describe("Cloud functions in the config", func() {
	It("resolves a function's folder against the config file and names it after the folder", func() {
		c, err := config.Parse("/srv/bot/wxemu.yaml", []byte(mpHead+"    cloud:\n      functions:\n        - dir: functions/kf\n        - {name: other, dir: /abs/fn}\n"))
		Expect(err).NotTo(HaveOccurred())
		fns := c.Apps[0].Cloud.Functions
		Expect(fns[0].Dir).To(Equal(filepath.FromSlash("/srv/bot/functions/kf")))
		Expect(fns[0].Name).To(Equal("kf"))
		Expect(fns[1].Dir).To(Equal("/abs/fn"))
		Expect(fns[1].Name).To(Equal("other"))
	})

	DescribeTable("refuses what WeChat's message push cannot route, saying how to fix it",
		func(cloud string, want string) {
			_, err := config.Parse("t.yaml", []byte(mpHead+cloud))
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("a route of a type a Mini Program does not push", "    cloud:\n      functions:\n        - {dir: f, routes: [{msgtype: voice}]}\n",
			`routes[0].msgtype: unknown value "voice" (allowed values: text, image, miniprogrampage, event)`),
		Entry("an event route without its event", "    cloud:\n      functions:\n        - {dir: f, routes: [{msgtype: event}]}\n",
			"routes[0].event: required for msgtype event"),
		Entry("an event on a message route", "    cloud:\n      functions:\n        - {dir: f, routes: [{msgtype: text, event: CLICK}]}\n",
			"routes[0].event: only msgtype event has an event"),
		Entry("no folder", "    cloud:\n      functions:\n        - {name: kf}\n",
			"functions[0].dir: required but not set"),
		Entry("a misspelled knob", "    cloud:\n      to_user_name: appd\n",
			`to_user_name: unknown value "appd" (did you mean "appid"?`),
	)

	It("gives cloud functions to Mini Programs only", func() {
		_, err := config.Parse("t.yaml", []byte(`apps:
  - alias: oa
    kind: oa
    appid: wx0e1d2c3b4a596877
    original_id: gh_e1d2c3b4a596
    token: wxemu
    cloud:
      functions: [{dir: f}]
`))
		Expect(err).To(MatchError(ContainSubstring("apps[0].cloud: cloud functions receive a Mini Program's messages only")))
	})
})
