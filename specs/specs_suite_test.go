// Package specs holds end-to-end suites: they build the wxemu binary and the sample bot once,
// run them as a user would, and check what comes out. Bot developers copy them as examples.
package specs_test

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
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
	token := config.DemoOAToken
	for i, a := range args {
		if a == "--token" && i+1 < len(args) {
			token = args[i+1]
		}
	}
	Expect(bot.WaitReady(context.Background(), url, token, 10*time.Second)).To(Succeed(), bot.Output())
	return url
}

// wxemu runs the wxemu binary to completion and returns its session.
func wxemu(args ...string) *gexec.Session {
	session, err := gexec.Start(wxemuCommand(args...), GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	Eventually(session, 30*time.Second).Should(gexec.Exit())
	return session
}

// wxemuCommand is the wxemu binary with args, in an environment without WXEMU_URL: a spec says
// which wxemu serve it talks to.
func wxemuCommand(args ...string) *exec.Cmd {
	cmd := exec.Command(binaries.Wxemu, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WXEMU_URL=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	return cmd
}

// updateGolden rewrites the golden files of specs/testdata from what the binaries print:
// `go test ./specs -update`, `ginkgo ./specs -- -update`, or WXEMU_UPDATE_GOLDEN=1.
var updateGolden = flag.Bool("update", false, "rewrite specs/testdata/*.golden")

// expectGolden compares a human output with specs/testdata/NAME.golden.
func expectGolden(name, got string) {
	GinkgoHelper()
	path := filepath.Join("testdata", name+".golden")
	if *updateGolden || os.Getenv("WXEMU_UPDATE_GOLDEN") != "" {
		Expect(os.MkdirAll("testdata", 0o755)).To(Succeed())
		Expect(os.WriteFile(path, []byte(got), 0o644)).To(Succeed())
		return
	}
	want, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred(), "%s is missing: write it with `go test ./specs -update` (or WXEMU_UPDATE_GOLDEN=1) and review it", path)
	Expect(got).To(Equal(string(want)), "%s differs from the output; if the change is meant, rewrite it with `go test ./specs -update` and review the diff", path)
}

// normalizers replace what changes from run to run in a human output — ports, times, nonces,
// signatures, timings — with fixed words, for golden files.
var normalizers = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`127\.0\.0\.1:\d+`), "127.0.0.1:PORT"},
	{regexp.MustCompile(`signature=[0-9a-f]{40}`), "signature=SIGNATURE"},
	{regexp.MustCompile(`timestamp=\d+`), "timestamp=TIMESTAMP"},
	{regexp.MustCompile(`nonce=\d+`), "nonce=NONCE"},
	{regexp.MustCompile(`<CreateTime>\d+</CreateTime>`), "<CreateTime>CREATETIME</CreateTime>"},
	{regexp.MustCompile(`"CreateTime": ?\d+`), `"CreateTime":CREATETIME`},
	{regexp.MustCompile(` +\d+\.\d ms`), " N ms"},
	{regexp.MustCompile(` *\(\d+ ms\)`), ""},
	{regexp.MustCompile(`\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?`), "TIME"},
	{regexp.MustCompile(`\d\d-\d\d \d\d:\d\d:\d\d`), "TIME"},
	{regexp.MustCompile(`(?m)^wxemu .+ — the WeChat API`), "wxemu VERSION — the WeChat API"},
}

func normalize(s string) string {
	for _, n := range normalizers {
		s = n.re.ReplaceAllString(s, n.with)
	}
	return s
}
