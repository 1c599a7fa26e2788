package specs_test

import (
	"os/exec"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

// subcommands are every command of wxemu; the help and the golden files cover each.
var subcommands = []string{"serve", "run", "load", "send", "verify", "user", "clock", "journal", "token", "record", "faults", "apps", "help", "version"}

var _ = Describe("wxemu's help", func() {
	It("prints the help once, on stdout, for help, -h and --help", func() {
		for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
			s := wxemu(args...)
			Expect(s.ExitCode()).To(Equal(0), "%v", args)
			Expect(s.Err.Contents()).To(BeEmpty(), "%v prints nothing on stderr", args)
			Expect(strings.Count(string(s.Out.Contents()), "Usage: wxemu <command>")).To(Equal(1), "%v", args)
		}
		expectGolden("help", string(wxemu("help").Out.Contents()))
	})

	It("says which commands run a WeChat of their own and which act on a running wxemu serve", func() {
		out := string(wxemu("help").Out.Contents())
		Expect(out).To(MatchRegexp(`(?s)One-shot checks: a private WeChat of their own.*send .*verify `))
		Expect(out).To(MatchRegexp("(?s)Act on a running `wxemu serve`.*user .*clock .*journal .*token "))
		Expect(out).To(ContainSubstring("wxemu user alice send text hi"))
	})

	It("prints the usage on stderr, once, for a command line without a command", func() {
		s := wxemu()
		Expect(s.ExitCode()).To(Equal(2))
		Expect(s.Out.Contents()).To(BeEmpty())
		Expect(strings.Count(string(s.Err.Contents()), "Usage: wxemu <command>")).To(Equal(1))
	})

	DescribeTable("prints each command's own help for wxemu help CMD, the same as CMD --help, once, on stdout",
		func(cmd string) {
			s := wxemu("help", cmd)
			Expect(s.ExitCode()).To(Equal(0))
			Expect(s.Err.Contents()).To(BeEmpty())
			out := string(s.Out.Contents())
			if cmd != "help" {
				Expect(out).To(ContainSubstring("Usage: wxemu " + cmd))
				Expect(out).NotTo(ContainSubstring("Usage: wxemu <command>"), "not the top-level usage")
				Expect(strings.Count(out, "Usage: wxemu "+cmd)).To(Equal(1))
				own := wxemu(cmd, "--help")
				Expect(own.ExitCode()).To(Equal(0))
				Expect(string(own.Out.Contents())).To(Equal(out))
				Expect(own.Err.Contents()).To(BeEmpty())
			}
			expectGolden("help-"+cmd, out)
		},
		func(cmd string) string { return cmd },
		Entry(nil, "serve"), Entry(nil, "run"), Entry(nil, "send"), Entry(nil, "verify"), Entry(nil, "user"),
		Entry(nil, "clock"), Entry(nil, "journal"), Entry(nil, "token"), Entry(nil, "faults"), Entry(nil, "apps"), Entry(nil, "help"),
		Entry(nil, "version"), Entry(nil, "record"), Entry(nil, "load"),
	)

	It("covers every command with a golden file", func() {
		out := string(wxemu("help").Out.Contents())
		listed := regexp.MustCompile(`(?m)^  ([a-z]+) {2,}\S`).FindAllStringSubmatch(out, -1)
		var names []string
		for _, m := range listed {
			names = append(names, m[1])
		}
		Expect(names).To(ConsistOf(subcommands))
	})

	It("names an unknown command, and the one meant, on stderr", func() {
		s := wxemu("help", "sevre")
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring(`unknown command "sevre" (did you mean "serve"?)`))
	})
})

var _ = Describe("wxemu --version", func() {
	It("prints the module version and the commit the binary was built from", func() {
		// The suite's binary may be built without VCS stamping (GOFLAGS=-buildvcs=false); this
		// one is built with it, in the checkout the specs run in.
		head, gitErr := exec.Command("git", "rev-parse", "HEAD").Output()
		bin, err := gexec.Build("github.com/wxemu/wxemu/cmd/wxemu", "-buildvcs="+map[bool]string{true: "true", false: "false"}[gitErr == nil])
		Expect(err).NotTo(HaveOccurred())
		for _, args := range [][]string{{"--version"}, {"version"}} {
			session, err := gexec.Start(exec.Command(bin, args...), GinkgoWriter, GinkgoWriter)
			Expect(err).NotTo(HaveOccurred())
			Eventually(session).Should(gexec.Exit(0))
			out := string(session.Out.Contents())
			Expect(out).To(MatchRegexp(`^wxemu (v\S+|\(devel\))\n`))
			Expect(out).To(MatchRegexp(`\ngo1\.\d+`))
			if gitErr == nil {
				Expect(out).To(ContainSubstring("commit " + strings.TrimSpace(string(head))))
			} else {
				Expect(out).To(ContainSubstring("commit unknown"))
			}
		}
	})
})

var _ = Describe("wxemu's flags", func() {
	DescribeTable("name a mistyped flag and the one meant",
		func(want string, args ...string) {
			s := wxemu(args...)
			Expect(s.ExitCode()).To(Equal(2))
			Expect(string(s.Err.Contents())).To(ContainSubstring(want))
			Expect(string(s.Err.Contents())).NotTo(ContainSubstring("Usage:"), "a usage error is one line and a pointer, not the whole help")
			Expect(s.Out.Contents()).To(BeEmpty())
		},
		Entry("run --tagret", "unknown flag --tagret (did you mean --target?)", "run", "--tagret", "http://127.0.0.1:9/wx", "x"),
		Entry("serve -target with one dash", "unknown flag --tagret (did you mean --target?)", "serve", "-tagret", "http://127.0.0.1:9/wx"),
		Entry("send --ulr", "unknown flag --ulr (did you mean --url?)", "send", "--ulr", "http://127.0.0.1:9/wx", "text", "hi"),
		Entry("journal --knd", "unknown flag --knd (did you mean --kind?)", "journal", "--knd", "push"),
		Entry("a bad value", `invalid value "soon" for --timeout`, "send", "--url", "http://127.0.0.1:9/wx", "--timeout", "soon", "text", "hi"),
	)
})
