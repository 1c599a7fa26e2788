package specs_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/wxemu/wxemu/emulator/config"
)

// These specs replay two findings of the adversarial review against the built binary and read
// what the operating system says it costs: the peak resident set (VmHWM in /proc/PID/status) of
// the `wxemu serve` process, not the Go heap of the test process.

// peakRSS is the peak resident set of a process, in bytes.
func peakRSS(pid int) int64 {
	GinkgoHelper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	Expect(err).NotTo(HaveOccurred(), "these specs read /proc, which Linux has")
	m := regexp.MustCompile(`(?m)^VmHWM:\s+(\d+) kB$`).FindSubmatch(data)
	Expect(m).NotTo(BeNil(), "no VmHWM in /proc/%d/status", pid)
	kb, err := strconv.ParseInt(string(m[1]), 10, 64)
	Expect(err).NotTo(HaveOccurred())
	return kb << 10
}

func servePID(session *gexec.Session) int { return session.Command.Process.Pid }

var _ = Describe("wxemu serve's resident memory under a hostile load", func() {
	It("stays small when a 300 MB upload is refused, and leaves no file behind", func() {
		base, session := serve()
		before := peakRSS(servePID(session))
		gen := newUploadGenerator(300 << 20)
		req, err := http.NewRequest(http.MethodPost, base+"/cgi-bin/media/upload?type=image&access_token="+accessToken(base), gen)
		Expect(err).NotTo(HaveOccurred())
		req.Header.Set("Content-Type", "multipart/form-data; boundary=BOUNDARY")
		status, body := do(req)
		Expect(status).To(Equal(http.StatusOK))
		Expect(body).To(ContainSubstring(`"errcode":45001`))
		Expect(gen.read.Load()).To(BeNumerically("<", 30<<20), "the server read the whole upload before refusing it")
		after := peakRSS(servePID(session))
		// Refused at the 10 MiB bound: the process may hold the bound and its buffers, never the upload.
		Expect(after-before).To(BeNumerically("<", 64<<20), "peak RSS grew from %d MiB to %d MiB", before>>20, after>>20)
		Expect(gen.spilled.Load()).To(BeEmpty(), "the upload was written to a temporary file")
		session.Signal(os.Interrupt)
		Eventually(session, 10).Should(gexec.Exit(0))
		var spilled []string
		for _, f := range multipartTempFiles() {
			if !gen.before[f] {
				spilled = append(spilled, f)
			}
		}
		Expect(spilled).To(BeEmpty(), "multipart temp files left after wxemu exited")
	})

	It("stays within the journal's byte bound when a bot answers 1 MiB bodies", func() {
		answer := strings.Repeat("x", 1<<20)
		bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			_, _ = io.WriteString(w, answer)
		}))
		DeferCleanup(bot.Close)
		const bound = 16 << 20
		cfg := string(wxemu("serve", "--print-config").Wait().Out.Contents())
		cfg = regexp.MustCompile(`(?m)^(\s+max_bytes:).*$`).ReplaceAllString(cfg, "${1} 16MiB")
		Expect(cfg).To(ContainSubstring("max_bytes: 16MiB"))
		file := filepath.Join(GinkgoT().TempDir(), "wxemu.yaml")
		Expect(os.WriteFile(file, []byte(cfg), 0o600)).To(Succeed())
		base, session := serve("--config", file, "--target", bot.URL+"/wx")
		before := peakRSS(servePID(session))
		// 600 pushes whose answers are 1 MiB each: 600 MiB had they been kept, about 40 MiB clipped
		// at 64 KiB; the process grows by about 55 MiB with the 16 MiB bound.
		for i := 0; i < 600; i++ {
			status, answer := do(newRequest(http.MethodPost, base+"/_emu/v1/users/"+config.DemoAliceOA+"/send", fmt.Sprintf(`{"app":"oa","MsgType":"text","Content":"hi %d"}`, i)))
			Expect(status).To(Equal(http.StatusOK), "push %d: %.300s", i, answer)
			Expect(strings.Contains(answer, `"outcome":"failed"`)).To(BeTrue(), "push %d: a 1 MiB answer is no reply: %.300s", i, answer)
		}
		st := getJSON(base + "/_emu/v1/journal?limit=1")
		Expect(st["max_bytes"]).To(BeNumerically("==", bound))
		Expect(st["bytes"]).To(BeNumerically("<=", bound))
		Expect(st["dropped_bytes"]).To(BeNumerically(">", 0))
		after := peakRSS(servePID(session))
		Expect(after-before).To(BeNumerically("<", bound+72<<20), "peak RSS grew from %d MiB to %d MiB with a journal bound of 16 MiB", before>>20, after>>20)
	})
})
