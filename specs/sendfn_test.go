package specs_test

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"
)

// workerPID is the pid of a cloud function's worker, as wxemu serve -v logs its start.
var workerPID = regexp.MustCompile(`cloud function worker started.*pid=(\d+)`)

// processGone reports whether pid has exited: no such process, or a zombie nobody reaped yet.
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
		return true
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return os.IsNotExist(err)
	}
	// pid (comm) STATE …: comm may hold spaces, so the state follows the last ')'.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && strings.HasPrefix(strings.TrimSpace(s[i+1:]), "Z")
}

var _ = Describe("Mini Program cloud functions from the command line", func() {
	It("judges one push to a function with wxemu send --function, its customer-service sends included", func() {
		s := wxemu("send", "--function", "../fixtures/functions/kf", "text", "hi")
		out := string(s.Out.Contents())
		Expect(s.ExitCode()).To(Equal(0), out+string(s.Err.Contents()))
		Expect(out).To(ContainSubstring("(MP, to a cloud function)"))
		Expect(out).To(ContainSubstring("function kf"))
		Expect(out).To(ContainSubstring("verdict    ok, no violations"))
		Expect(out).To(MatchRegexp(`the bot's API calls for alice so far:\n  #\d+ +cloud: POST /cgi-bin/message/custom/send → ok\n +sends 收到：hi\n`))

		out2, code := sendJSON("--function", "../fixtures/functions/kf", "text", "hi")
		Expect(code).To(Equal(0))
		Expect(out2.Violations).To(BeEmpty())
		Expect(out2.Attempts).To(HaveLen(1))
	})

	It("fails with exit 1 and the error when the function throws", func() {
		s := wxemu("send", "--function", "../fixtures/functions/throws", "text", "hi")
		Expect(s.ExitCode()).To(Equal(1))
		out := string(s.Out.Contents())
		Expect(out).To(ContainSubstring("boom"))
		Expect(out).To(ContainSubstring("function.error"))
	})

	It("refuses --function with the flags of a push to a URL", func() {
		for _, flag := range [][]string{{"--url", "http://127.0.0.1:1/wx"}, {"--kind", "mp"}, {"--format", "json"}, {"--mode", "safe"}} {
			s := wxemu(append(append([]string{"send", "--function", "../fixtures/functions/kf"}, flag...), "text", "hi")...)
			Expect(s.ExitCode()).To(Equal(2), "with %s", flag[0])
			Expect(string(s.Err.Contents())).To(ContainSubstring("--function pushes to a cloud function, not to a URL: drop " + flag[0]))
			Expect(s.Out.Contents()).To(BeEmpty())
		}
	})

	It("runs a function in wxemu serve: a user's send reaches it, and SIGTERM stops its worker", func() {
		base, session := serve("-v", "--function", "../fixtures/functions/kf")

		s := wxemu("user", "alice@mp", "send", "text", "hi", "--emu", base)
		out := string(s.Out.Contents())
		Expect(s.ExitCode()).To(Equal(0), out+string(s.Err.Contents()))
		Expect(out).To(ContainSubstring("function kf"))
		Expect(out).To(MatchRegexp(`cloud: POST /cgi-bin/message/custom/send → ok\n +sends 收到：hi\n`))

		s = wxemu("user", "alice@mp", "transcript", "--emu", base)
		Expect(s.ExitCode()).To(Equal(0))
		Expect(string(s.Out.Contents())).To(ContainSubstring("收到：hi"))

		m := workerPID.FindSubmatch(session.Err.Contents())
		Expect(m).NotTo(BeNil(), "serve -v logs the worker's start: %s", session.Err.Contents())
		pid, err := strconv.Atoi(string(m[1]))
		Expect(err).NotTo(HaveOccurred())
		Expect(processGone(pid)).To(BeFalse(), "the worker runs while serve does")

		session.Signal(syscall.SIGTERM)
		Eventually(session, 10*time.Second).Should(gexec.Exit(0))
		Expect(session.Out).To(gbytes.Say("stopping"))
		Eventually(func() bool { return processGone(pid) }, 5*time.Second).Should(BeTrue(), "serve's stop kills the function's worker")
	})
})
