package specs_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("wxemu serve with a cloud-hosting container", func() {
	It("names the container in its banner, and leaves it alone when --target-mp points the other Mini Programs at a bot", func() {
		dir := GinkgoT().TempDir()
		cfg := writeFile(dir, "wxemu.yaml", `apps:
  - alias: shop
    kind: mp
    appid: wx7a6b5c4d3e2f1a09
    secret: 7a6b5c4d3e2f1a090f1e2d3c4b5a6978
    original_id: gh_7a6b5c4d3e2f
    token: wxemump
    container: {url: "http://127.0.0.1:9/kf"}
  - alias: mini
    kind: mp
    appid: wx1a2b3c4d5e6f7a8b
    secret: 1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d
    original_id: gh_1a2b3c4d5e6f
    token: wxemumini
`)
		_, s := serve("--config", cfg, "--target-mp", "http://127.0.0.1:9/wx")
		out := string(s.Out.Contents())
		Expect(out).To(ContainSubstring("app shop — Mini Program"))
		Expect(out).To(ContainSubstring("pushes to its cloud-hosting container http://127.0.0.1:9/kf"))
		Expect(out).To(ContainSubstring("pushes to http://127.0.0.1:9/wx"), "the other Mini Program takes --target-mp")
	})
})
