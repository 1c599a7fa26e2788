// Package specs holds end-to-end suites: they build the wxemu binary and the sample bot once,
// run them as a user would, and check what comes out. Bot developers copy them as examples.
package specs_test

import (
	"encoding/json"
	"os/exec"
	"regexp"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"
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

var readyLine = regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+/wx)`)

// startSampleBot runs the sample bot binary on a free loopback port and returns its callback URL.
// The bot is stopped with SIGTERM when the spec ends, and must exit cleanly.
func startSampleBot(args ...string) string {
	cmd := exec.Command(binaries.Samplebot, append([]string{"--listen", "127.0.0.1:0"}, args...)...)
	session, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		session.Signal(syscall.SIGTERM)
		Eventually(session, 5*time.Second).Should(gexec.Exit(0))
	})
	Eventually(session.Out, 10*time.Second).Should(gbytes.Say(`listening on http://`))
	m := readyLine.FindSubmatch(session.Out.Contents())
	Expect(m).NotTo(BeNil(), "ready line: %s", session.Out.Contents())
	return string(m[1])
}

// wxemu runs the wxemu binary to completion and returns its session.
func wxemu(args ...string) *gexec.Session {
	session, err := gexec.Start(exec.Command(binaries.Wxemu, args...), GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	Eventually(session, 30*time.Second).Should(gexec.Exit())
	return session
}
