package specs_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("wxemu faults against a running wxemu serve", func() {
	It("adds, lists and clears rules that the resilient bot survives and the oa bot does not", func() {
		for _, c := range []struct {
			bot     string
			survive bool
		}{{"resilient", true}, {"oa", false}} {
			base, _, _ := serveWithBot("--target", []string{"--bot", c.bot}, "--fault-seed", "3")
			s := wxemu("faults", "add", "family=custom_send", "status=503", "count=1", "--emu", base)
			Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
			Expect(string(s.Out.Contents())).To(ContainSubstring("added f1: HTTP 503"))
			s = wxemu("faults", "add", `{"path": "/cgi-bin/message/custom/send", "errcode": -1, "count": 1}`, "--emu", base)
			Expect(string(s.Out.Contents())).To(ContainSubstring("added f2: errcode -1 system error"))
			s = wxemu("faults", "add", "family=custom_snd", "errcode=-1", "--emu", base)
			Expect(s.ExitCode()).NotTo(Equal(0))
			Expect(string(s.Err.Contents())).To(ContainSubstring(`did you mean "custom_send"?`))

			s = wxemu("user", "alice", "send", "text", "push 1", "--emu", base)
			Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
			out := string(s.Out.Contents())
			Expect(out).To(ContainSubstring("POST /cgi-bin/message/custom/send → HTTP 503 [fault f1]"))
			if c.survive {
				Expect(out).To(ContainSubstring("-1 system error: injected by fault rule f2 [fault f2]"))
				Expect(out).To(ContainSubstring("POST /cgi-bin/message/custom/send → ok"), c.bot)
			} else {
				Expect(out).NotTo(ContainSubstring("→ ok"), c.bot+" gives up after the 503")
			}
			s = wxemu("faults", "list", "--emu", base)
			Expect(string(s.Out.Contents())).To(MatchRegexp(`f1  HTTP 503  matched \d+, fired 1, spent`))
			s = wxemu("faults", "clear", "--emu", base)
			Expect(string(s.Out.Contents())).To(ContainSubstring("cleared 2 rules"))
		}
	})
})
