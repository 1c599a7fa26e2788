package emutest_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/emutest"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/wxmatch"
)

var _ = Describe("fault injection from a spec", func() {
	It("injects a -1 the resilient bot retries, and an injected -1 is no strictness failure", func() {
		e := emutest.Start(emutest.WithSampleBot("oa", "resilient"), emutest.WithSeed(5))
		alice := e.User("alice")
		added := e.InjectFault(emutest.Fault{Path: platform.PathCustomSend, User: alice.OpenID, Errcode: emutest.Int(-1), Count: emutest.Int(1)})
		Expect(added).To(ConsistOf(HaveField("ID", "f1")))
		Expect(*added[0].Seed).To(Equal(uint64(5)), "the spec's seed")
		ex := alice.Send(emutest.Text("push 1"))
		var codes []int
		for _, s := range ex.Sends() {
			codes = append(codes, s.Errcode)
		}
		Expect(codes).To(Equal([]int{-1, 0}))
		Expect(e.Faults()).To(ConsistOf(HaveField("Fired", 1)))
		e.ClearFaults()
		Expect(e.Faults()).To(BeEmpty())
	})

	It("fails the spec with what is wrong with a rule", func() {
		e := emutest.Start()
		err := InterceptGomegaFailure(func() {
			e.InjectFault(emutest.Fault{Family: "custom_send", Errcode: emutest.Int(-1), Probability: emutest.Probability(3)})
		})
		Expect(err).To(MatchError(ContainSubstring("rules[0].probability: 3 is outside 0..1")))
		Expect(e.Faults()).To(BeEmpty())
	})

	It("duplicates a push, which the oa bot acts on twice", func() {
		e := emutest.Start(emutest.WithSampleBot("oa", "oa"))
		alice := e.User("alice")
		e.InjectFault(emutest.Fault{Push: "duplicate", Count: emutest.Int(1)})
		ex := alice.Send(emutest.Text("push 1"))
		Expect(ex.BotReceived()).To(HaveLen(2))
		Expect(ex.Sends()).To(HaveLen(2))
		Expect(ex).NotTo(wxmatch.HaveNoErrors(), "the exchange's verdict holds what the bot did with the duplicate")
		Expect(ex).To(wxmatch.HaveViolation("push.duplicate.sends"))
	})

	It("passes the resilient bot, which answers the duplicate without acting again", func() {
		e := emutest.Start(emutest.WithSampleBot("oa", "resilient"))
		alice := e.User("alice")
		e.InjectFault(emutest.Fault{Push: "duplicate", Count: emutest.Int(1)})
		ex := alice.Send(emutest.Text("push 1"))
		Expect(ex.BotReceived()).To(HaveLen(2))
		Expect(ex).To(wxmatch.HaveNoErrors())
		Expect(ex.Sends()).To(HaveLen(1))
	})
})

var _ = Describe("a call a fault rule cut", func() {
	It("is no send: WeChat never answered it, and the journal keeps it", func() {
		e := emutest.Start(emutest.WithSampleBot("oa", "oa"))
		alice := e.User("alice")
		e.InjectFault(emutest.Fault{Family: "custom_send", Status: 503, Count: emutest.Int(1)})
		ex := alice.Send(emutest.Text("push 1"))
		Expect(ex.Sends()).To(BeEmpty(), "the oa bot gave up after the 503: alice got nothing")
		Expect(e.Journal(platform.JournalFilter{Kind: platform.KindAPI, User: alice.OpenID})).To(ContainElement(
			HaveField("Summary", ContainSubstring("→ HTTP 503 [fault f1]"))))
	})
})
