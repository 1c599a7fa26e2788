package emutest_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/emutest"
	"github.com/wxemu/wxemu/emulator/platform"
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
