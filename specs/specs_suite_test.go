// Package specs holds end-to-end suites: they build the wxemu binary and the sample bot once,
// run them as a user would, and check what comes out. Bot developers copy them as examples.
package specs_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/harness"
)

func TestSpecs(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "end-to-end")
}

// binaries are built once for the whole suite, also under `ginkgo -p`.
var binaries struct {
	Wxemu     string `json:"wxemu"`
	Samplebot string `json:"samplebot"`
}

var _ = SynchronizedBeforeSuite(func() []byte {
	wxemu, err := gexec.Build("github.com/wxemu/wxemu/cmd/wxemu")
	Expect(err).NotTo(HaveOccurred())
	bot, err := gexec.Build("github.com/wxemu/wxemu/fixtures/bots/samplebot")
	Expect(err).NotTo(HaveOccurred())
	data, err := json.Marshal(map[string]string{"wxemu": wxemu, "samplebot": bot})
	Expect(err).NotTo(HaveOccurred())
	return data
}, func(data []byte) {
	Expect(json.Unmarshal(data, &binaries)).To(Succeed())
})

var _ = SynchronizedAfterSuite(func() {}, func() { gexec.CleanupBuildArtifacts() })

// startSampleBot runs the sample bot binary on a free loopback port, waits until it answers
// WeChat's handshake, and returns its callback URL. The bot is stopped with SIGTERM when the spec
// ends, and must exit cleanly.
func startSampleBot(args ...string) string {
	port, err := harness.FreePort()
	Expect(err).NotTo(HaveOccurred())
	bot, err := harness.StartBot(harness.BotSpec{
		Args:   append([]string{binaries.Samplebot, "--listen", "127.0.0.1:" + strconv.Itoa(port)}, args...),
		Output: GinkgoWriter,
	})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		Expect(bot.Stop(5 * time.Second)).To(Succeed())
		Expect(bot.Err()).NotTo(HaveOccurred(), "the sample bot exits cleanly on SIGTERM:\n%s", bot.Output())
	})
	url := "http://127.0.0.1:" + strconv.Itoa(port) + harness.CallbackPath
	Expect(bot.WaitReady(context.Background(), url, config.DemoOAToken, 10*time.Second)).To(Succeed(), bot.Output())
	return url
}

// wxemu runs the wxemu binary to completion and returns its session.
func wxemu(args ...string) *gexec.Session {
	session, err := gexec.Start(exec.Command(binaries.Wxemu, args...), GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	Eventually(session, 30*time.Second).Should(gexec.Exit())
	return session
}
