package emutest_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/emutest"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/wxmatch"
)

// The fixtures' node_modules come from `npm ci` (make test and .ci/run install them).
var _ = DescribeTable("a Mini Program cloud function, run unmodified on the real wx-server-sdk",
	func(dir string) {
		e := emutest.Start(emutest.WithFunction("mp", dir))
		alice := e.User("alice@mp")

		ex := alice.Send(emutest.Text("hi"))
		Expect(ex).To(wxmatch.HaveNoReply())
		Expect(ex).To(wxmatch.HaveSentMessage("text", "收到：hi", 0))
		Expect(ex.Sends()).To(ConsistOf(HaveField("Via", platform.ViaCloud)), "journaled as a cloud function's call")

		// A new message opens a new window of 5: the sixth send fails inside the function with
		// the SDK's own error, which it logs and goes on.
		Expect(alice.Send(emutest.Text("push 6"))).To(wxmatch.HaveSent(wxmatch.Errcodes(0, 0, 0, 0, 0, 45047)))

		Expect(alice.Send(emutest.EnterTempSession("order-42"))).To(wxmatch.HaveSent(wxmatch.Sends(1)))

		Expect(alice.Send(emutest.Text("人工"))).To(wxmatch.BeTransferred())
		Expect(alice.ServedBy()).To(Equal("kf1@wxemu_mp"), "the Mini Program's agent auto-accepts")
	},
	Entry("wx-server-sdk 4.0.2", "../../fixtures/functions/kf"),
	Entry("wx-server-sdk 2.6.3", "../../fixtures/functions/kf-v2"),
	Entry("wx-server-sdk 1.8.3", "../../fixtures/functions/kf-v1"),
)

var _ = Describe("the report of a push to a cloud function", func() {
	It("shows the invocation, how it ended and what the function printed, not an HTTP exchange", func() {
		e := emutest.Start(emutest.WithFunction("mp", "../../fixtures/functions/throws"))
		ex := e.User("alice@mp").Send(emutest.Text("hi"))
		Expect(ex).To(wxmatch.HaveViolation("function.error", rules.Error))

		s := emutest.RenderPush(ex.Interaction.Result)
		GinkgoWriter.Println(s)
		Expect(s).To(MatchRegexp(`attempt 1 +→ invoke function throws \(3 s limit\) ← threw: boom after [0-9.]+ ms\n`))
		Expect(s).NotTo(ContainSubstring("printed"), "throws prints nothing")
		Expect(s).To(ContainSubstring("event       (exports.main's event, application/json)"))
		Expect(s).To(ContainSubstring("returned    nothing"))
		Expect(s).NotTo(ContainSubstring("POST"))
		Expect(s).NotTo(ContainSubstring("INVOKE"))
		Expect(ex.GomegaString()).To(ContainSubstring("→ invoke function throws"), "failure messages show it too")
	})

	It("shows what the function printed, its stderr marked", func() {
		e := emutest.Start(emutest.WithFunction("mp", "../../fixtures/functions/kf"))
		ex := e.User("alice@mp").Send(emutest.Text("push 6"))
		s := emutest.RenderPush(ex.Interaction.Result)
		GinkgoWriter.Println(s)
		Expect(s).To(MatchRegexp(`attempt 1 +→ invoke function kf \(20 s limit\) ← returned after [0-9.]+ ms\n`))
		Expect(s).To(MatchRegexp(`printed +\(what the function wrote; ! marks stderr\)\n    ! send 6 of 6 failed: errCode 45047`))
		Expect(s).To(MatchRegexp(`returned +\(the value, as JSON\)\n    "success"`))
	})
})
