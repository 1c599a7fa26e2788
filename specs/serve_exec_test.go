package specs_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"
)

// serveExec runs wxemu serve --exec CMD with the sample bot BOT started by --exec-bot, with
// env added, and waits for it to exit.
func serveExec(bot, command string, env []string, args ...string) *gexec.Session {
	GinkgoHelper()
	cmd := wxemuCommand(append([]string{"serve", "--addr", "127.0.0.1:0", "--exec-bot", binaries.Samplebot + " --bot " + bot + " --quiet", "--exec", command}, args...)...)
	cmd.Env = append(cmd.Env, env...)
	s, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	Eventually(s, 60*time.Second).Should(gexec.Exit())
	return s
}

var _ = Describe("wxemu serve --exec", func() {
	const node = "node --test ../fixtures/exec/node"
	const python = "python3 -m unittest discover -s ../fixtures/exec/python -v"

	It("runs a Node test suite against the bot through the control API, and exits 0 when it passes", func() {
		export := filepath.Join(GinkgoT().TempDir(), "state.json")
		s := serveExec("oa", node, nil, "--export-on-exit", export)
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		out := string(s.Out.Contents())
		Expect(out).To(ContainSubstring("# pass 2"), "both tests ran and passed")
		Expect(out).To(ContainSubstring("# fail 0"))
		Expect(out).NotTo(ContainSubstring("WeChat API is at"), "the banner goes to stderr, the command's output is stdout")
		state, err := os.ReadFile(export)
		Expect(err).NotTo(HaveOccurred(), "--export-on-exit keeps the state to look at")
		Expect(string(state)).To(ContainSubstring("node_reply_"))
		Expect(string(state)).To(ContainSubstring("message 2 of 2"))
	})

	It("passes the Node suite's failure through: a test expecting another reply fails the run", func() {
		s := serveExec("oa", node, []string{"WXEMU_EXAMPLE_EXPECT=hello, there"})
		Expect(s.ExitCode()).To(Equal(1))
		Expect(string(s.Out.Contents())).To(ContainSubstring("# fail 1"))
		Expect(string(s.Out.Contents())).To(ContainSubstring("# pass 1"))
	})

	It("fails the Node suite against a bot that answers wrongly", func() {
		s := serveExec("noswap", node, nil)
		Expect(s.ExitCode()).To(Equal(1))
		Expect(string(s.Out.Contents())).To(ContainSubstring("reply.header.swap"), "the test names the violation it saw")
	})

	It("runs a Python unittest suite the same way", func() {
		s := serveExec("oa", python, nil)
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		Expect(string(s.Err.Contents())).To(ContainSubstring("Ran 2 tests"))
		Expect(string(s.Err.Contents())).To(MatchRegexp(`(?m)^OK$`))
	})

	It("passes the Python suite's failure through", func() {
		s := serveExec("oa", python, []string{"WXEMU_EXAMPLE_EXPECT=hello, there"})
		Expect(s.ExitCode()).To(Equal(1))
		Expect(string(s.Err.Contents())).To(ContainSubstring("FAILED (failures=1)"))
	})

	It("gives the command an environment that says where everything is, with the emulator listening", func() {
		s := wxemu("serve", "--addr", "127.0.0.1:0", "--control-token", "s3cret", "--exec",
			`printf '%s\n' "$WXEMU_CONTROL_URL" "$WXEMU_JOURNAL_STREAM" "$WXEMU_API_BASE" "$WXEMU_CONTROL_TOKEN" "$WXEMU_OA_APPID" "$WXEMU_MP_TOKEN" "$WXEMU_OA_AES_KEY" "$WXEMU_APPS"; `+binaries.Wxemu+` apps`)
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		lines := strings.Split(string(s.Out.Contents()), "\n")
		Expect(lines[0]).To(MatchRegexp(`^http://127\.0\.0\.1:\d+/_emu/v1$`))
		base := strings.TrimSuffix(lines[0], "/_emu/v1")
		Expect(lines[1]).To(Equal(base + "/_emu/v1/journal/stream"))
		Expect(lines[2]).To(Equal(base))
		Expect(lines[3]).To(Equal("s3cret"))
		Expect(lines[4]).To(Equal("wx0e1d2c3b4a596877"))
		Expect(lines[5]).To(Equal("wxemump"))
		Expect(lines[6]).To(HaveLen(43))
		Expect(lines[7]).To(ContainSubstring(`"alias":"oa"`))
		Expect(lines[7]).To(ContainSubstring(`"secret":"`))
		// wxemu apps, run by the command, reached the emulator with WXEMU_URL and the token.
		Expect(string(s.Out.Contents())).To(ContainSubstring("wx7a6b5c4d3e2f1a09"))
	})

	It("exits with the command's status, and 128 + N when signal N ended it", func() {
		Expect(wxemu("serve", "--addr", "127.0.0.1:0", "--exec", "exit 7").ExitCode()).To(Equal(7))
		Expect(wxemu("serve", "--addr", "127.0.0.1:0", "--exec", "true").ExitCode()).To(Equal(0))
		s := wxemu("serve", "--addr", "127.0.0.1:0", "--exec", "kill -TERM $$")
		Expect(s.ExitCode()).To(Equal(128 + 15))
		Expect(string(s.Err.Contents())).To(ContainSubstring("ended by signal 15"))
		Expect(wxemu("serve", "--addr", "127.0.0.1:0", "--exec", "no-such-command-wxemu").ExitCode()).To(Equal(127))
	})

	It("passes SIGTERM to the command and exits with what the command does of it", func() {
		cmd := wxemuCommand("serve", "--addr", "127.0.0.1:0", "--exec", `trap 'echo stopping; exit 9' TERM; echo started; while :; do sleep 0.1; done`)
		s, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		Eventually(s.Out, 10*time.Second).Should(gbytes.Say("started"))
		s.Signal(syscall.SIGTERM)
		Eventually(s, 10*time.Second).Should(gexec.Exit(9))
		Expect(string(s.Out.Contents())).To(ContainSubstring("stopping"))
		Expect(string(s.Err.Contents())).To(ContainSubstring("passed to the command"))
	})

	It("fails a passing command whose bot of --exec-bot died while it ran, and keeps a failing command's status", func() {
		pid := filepath.Join(GinkgoT().TempDir(), "bot.pid")
		bot := binaries.Samplebot + " --bot oa --quiet & echo $! > " + pid + "; wait"
		// The command kills the bot, then waits until the bot's shell has gone.
		kill := "kill $(cat " + pid + "); while kill -0 $(cat " + pid + ") 2>/dev/null; do sleep 0.05; done; sleep 0.5; "
		s := wxemu("serve", "--addr", "127.0.0.1:0", "--exec-bot", bot, "--exec", kill+"exit 0")
		Expect(s.ExitCode()).To(Equal(1), "a bot that crashed mid-run is no pass")
		Expect(string(s.Err.Contents())).To(ContainSubstring("the bot of --exec-bot exited"))
		Expect(string(s.Err.Contents())).To(ContainSubstring("the command passed, but its bot was gone"))
		s = wxemu("serve", "--addr", "127.0.0.1:0", "--exec-bot", bot, "--exec", kill+"exit 3")
		Expect(s.ExitCode()).To(Equal(3))
		s = wxemu("serve", "--addr", "127.0.0.1:0", "--exec-bot", bot, "--exec", "true")
		Expect(s.ExitCode()).To(Equal(0), "a bot still running when the command ends is stopped by serve: "+string(s.Err.Contents()))
	})

	It("does not run the command when the bot does not answer its handshake", func() {
		s := wxemu("serve", "--addr", "127.0.0.1:0", "--target", "http://127.0.0.1:9/wx", "--ready-timeout", "300ms", "--exec", "echo ran")
		Expect(s.ExitCode()).To(Equal(1))
		Expect(string(s.Out.Contents())).NotTo(ContainSubstring("ran"))
		Expect(string(s.Err.Contents())).To(ContainSubstring("not ready"))
	})
})
