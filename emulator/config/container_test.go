package config_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/config"
)

const oaHead = `apps:
  - alias: oa
    kind: oa
    appid: wx0e1d2c3b4a596877
    secret: 0e1d2c3b4a5968770f1e2d3c4b5a6978
    original_id: gh_e1d2c3b4a596
    token: wxemu
`

var _ = Describe("Cloud hosting containers in the config", func() {
	It("fills the defaults: JSON, x-wx-source, the open-API service off, the customer-service APIs allowed", func() {
		c, err := config.Parse("t.yaml", []byte(oaHead+"    container:\n      url: http://127.0.0.1:9000/wx\n"))
		Expect(err).NotTo(HaveOccurred())
		ct := c.Apps[0].Container
		Expect(ct.URL).To(Equal("http://127.0.0.1:9000/wx"))
		Expect(ct.Format).To(Equal(config.FormatJSON))
		Expect(ct.SourceHeader).To(Equal("x-wx-source"))
		Expect(ct.OpenAPI).To(BeFalse())
		Expect(ct.OpenAPIAllow).To(Equal(config.DefaultOpenAPIAllow))
		Expect(ct.Allows("/cgi-bin/message/custom/send")).To(BeTrue())
		Expect(ct.Allows("/cgi-bin/customservice/getkflist")).To(BeFalse())
		Expect(c.Apps[0].URL).To(BeEmpty())
	})

	It("reads every key, and an explicit allow list replaces the default", func() {
		c, err := config.Parse("t.yaml", []byte(mpHead+`    container:
      url: http://127.0.0.1:9000/wx
      format: xml
      source_header: x-wx-sources
      openapi: true
      openapi_allow: [/cgi-bin/customservice/getkflist]
`))
		Expect(err).NotTo(HaveOccurred())
		ct := c.Apps[0].Container
		Expect(ct.Format).To(Equal(config.FormatXML))
		Expect(ct.SourceHeader).To(Equal("x-wx-sources"))
		Expect(ct.OpenAPI).To(BeTrue())
		Expect(ct.Allows("/cgi-bin/customservice/getkflist")).To(BeTrue())
		Expect(ct.Allows("/cgi-bin/message/custom/send")).To(BeFalse())
	})

	It("allows nothing with an empty list, and the default list for a Container written in code", func() {
		c, err := config.Parse("t.yaml", []byte(oaHead+"    container: {url: http://127.0.0.1:9000/wx, openapi: true, openapi_allow: []}\n"))
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Apps[0].Container.Allows("/cgi-bin/message/custom/send")).To(BeFalse())
		Expect((&config.Container{}).Allows("/cgi-bin/message/custom/send")).To(BeTrue())
	})

	DescribeTable("refuses a container it cannot push to, with the line and how to fix it",
		func(head, container, want string) {
			_, err := config.Parse("t.yaml", []byte(head+container))
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("no url", oaHead, "    container: {format: json}\n",
			"apps[0].container.url: required but not set"),
		Entry("a url that is not http", oaHead, "    container: {url: ftp://x/wx}\n",
			`apps[0].container.url: invalid url "ftp://x/wx": it must start with http:// or https://`),
		Entry("a misspelled format", oaHead, "    container: {url: http://127.0.0.1:1/wx, format: jsn}\n",
			`apps[0].container.format: unknown value "jsn" (did you mean "json"?`),
		Entry("a misspelled source header", oaHead, "    container: {url: http://127.0.0.1:1/wx, source_header: x-wx-sorce}\n",
			`apps[0].container.source_header: unknown value "x-wx-sorce" (did you mean "x-wx-source"?`),
		Entry("a misspelled API path", oaHead, "    container:\n      url: http://127.0.0.1:1/wx\n      openapi_allow:\n        - /cgi-bin/message/custom/snd\n",
			`t.yaml:11:11: apps[0].container.openapi_allow[0]: unknown value "/cgi-bin/message/custom/snd" (did you mean "/cgi-bin/message/custom/send"?`),
		Entry("a misspelled key", oaHead, "    container: {url: http://127.0.0.1:1/wx, open_api: true}\n",
			`apps[0].container: unknown key "open_api" (did you mean "openapi"?)`),
		Entry("a callback URL as well", oaHead, "    url: http://127.0.0.1:2/wx\n    container: {url: http://127.0.0.1:1/wx}\n",
			"t.yaml:8:10: apps[0].url: an app with a container has no callback URL: the container replaces it"),
		Entry("an encryption mode", oaHead, "    mode: safe\n    encoding_aes_key: abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG\n    container: {url: http://127.0.0.1:1/wx}\n",
			"apps[0].mode: a push to a container is never encrypted"),
		Entry("cloud functions as well", mpHead, "    cloud: {functions: [{dir: f}]}\n    container: {url: http://127.0.0.1:1/wx}\n",
			"apps[0].container: an app pushes to cloud functions or to a container, not both"),
	)
})
