package platform_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/platform"
)

var _ = Describe("An app with a cloud-hosting container", func() {
	withContainer := func(openAPI bool) *config.Config {
		cfg := config.Default()
		app, _ := cfg.App("mp")
		app.Mode, app.URL = config.ModePlain, ""
		app.Container = &config.Container{URL: "http://127.0.0.1:1/wx", OpenAPI: openAPI}
		return cfg
	}

	It("pushes to the container, and a --target for every app does not replace it", func() {
		p, err := platform.New(platform.Options{Config: withContainer(true), Targets: map[string]string{"*": "http://127.0.0.1:2/wx"}})
		Expect(err).NotTo(HaveOccurred())
		defer p.Close()
		app, _ := p.App("mp")
		Expect(app.HasBot()).To(BeTrue())
		Expect(p.OpenAPIApps()).To(ConsistOf(app))
	})

	It("refuses a --target aimed at it", func() {
		_, err := platform.New(platform.Options{Config: withContainer(false), Targets: map[string]string{"mp": "http://127.0.0.1:2/wx"}})
		Expect(err).To(MatchError(ContainSubstring("pushes to its container")))
	})

	It("lists no open-API app when the service is off", func() {
		p, err := platform.New(platform.Options{Config: withContainer(false)})
		Expect(err).NotTo(HaveOccurred())
		defer p.Close()
		Expect(p.OpenAPIApps()).To(BeEmpty())
	})
})
