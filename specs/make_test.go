package specs_test

import (
	"errors"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"
)

var _ = Describe("make run", func() {
	var session *gexec.Session
	var base string

	BeforeEach(func() {
		makeBin, err := exec.LookPath("make")
		Expect(err).NotTo(HaveOccurred(), "make run needs make; .ci/run installs it")
		// In a process group of its own, as in a terminal: Ctrl-C signals the whole group.
		cmd := exec.Command(makeBin, "run", "BIN="+filepath.Join(GinkgoT().TempDir(), "wxemu"), "ARGS=--addr 127.0.0.1:0")
		cmd.Dir = ".."
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		session, err = gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			_ = syscall.Kill(-session.Command.Process.Pid, syscall.SIGKILL)
			session.Wait(5 * time.Second)
		})
		Eventually(session.Out, 2*time.Minute).Should(gbytes.Say(`(?m)^ready$`))
		m := regexp.MustCompile(`the WeChat API is at (http://127\.0\.0\.1:\d+)`).FindSubmatch(session.Out.Contents())
		Expect(m).NotTo(BeNil())
		base = string(m[1])
		Expect(getJSON(base + "/_emu/v1/clock")).To(HaveKey("now"))
	})

	stopped := func() error {
		resp, err := http.Get(base + "/_emu/v1/clock")
		if err == nil {
			resp.Body.Close()
		}
		if err == nil {
			return errors.New("the server still answers at " + base)
		}
		return nil
	}

	It("stops the server on Ctrl-C (SIGINT to the terminal's process group)", func() {
		Expect(syscall.Kill(-session.Command.Process.Pid, syscall.SIGINT)).To(Succeed())
		Eventually(session, 10*time.Second).Should(gexec.Exit())
		Eventually(stopped, 5*time.Second).Should(Succeed())
		Expect(session.Out).To(gbytes.Say("wxemu serve: interrupt, stopping"))
	})

	It("stops the server when make alone is stopped (SIGTERM, as a process manager does)", func() {
		session.Terminate()
		Eventually(session, 10*time.Second).Should(gexec.Exit())
		Eventually(stopped, 5*time.Second).Should(Succeed())
	})
})
