package wxmatch_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/emutest"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/wxmatch"
)

// failure runs m on actual, expects it to fail, and returns the failure message.
func failure(m types.GomegaMatcher, actual any) string {
	GinkgoHelper()
	ok, err := m.Match(actual)
	Expect(err).NotTo(HaveOccurred())
	Expect(ok).To(BeFalse(), "the matcher should fail")
	return m.FailureMessage(actual)
}

// negatedFailure runs m on actual, expects it to match, and returns the message of NotTo.
func negatedFailure(m types.GomegaMatcher, actual any) string {
	GinkgoHelper()
	ok, err := m.Match(actual)
	Expect(err).NotTo(HaveOccurred())
	Expect(ok).To(BeTrue(), "the matcher should match")
	return m.NegatedFailureMessage(actual)
}

// theChatAndTheExchange are the parts every failure on an exchange of alice's "hi" shows.
func theChatAndTheExchange() types.GomegaMatcher {
	return And(
		MatchRegexp(`What alice saw:\n\s+10:00:00  alice\s+hi`),
		ContainSubstring("<Content><![CDATA[hi]]></Content>"),
		ContainSubstring("answer      200"),
		ContainSubstring("violations"),
	)
}

var _ = Describe("the push matchers", func() {
	var e *emutest.Emu
	var alice *emutest.User
	BeforeEach(func() {
		e = emutest.Start(emutest.WithSampleBot("oa", "oa"))
		alice = e.User("alice")
	})

	Describe("HaveTextReply", func() {
		It("matches the text the user sees, exactly or with a matcher", func() {
			ex := alice.Send(emutest.Text("hi"))
			Expect(ex).To(wxmatch.HaveTextReply("hello, hi"))
			Expect(ex).To(wxmatch.HaveTextReply(HavePrefix("hello")))
			Expect(ex.Interaction).To(wxmatch.HaveTextReply("hello, hi"))
			Expect(ex.Result).To(wxmatch.HaveTextReply("hello, hi"))
			Expect(ex).NotTo(wxmatch.HaveTextReply("hello"))
		})

		It("does not match a reply of another type", func() {
			Expect(alice.Send(emutest.Text("news"))).NotTo(wxmatch.HaveTextReply(ContainSubstring("article")))
		})

		It("shows the expected text, the inner matcher's message, the chat and the raw exchange", func() {
			ex := alice.Send(emutest.Text("hi"))
			msg := failure(wxmatch.HaveTextReply("bye"), ex)
			Expect(msg).To(HavePrefix("Expected text \"hi\" of alice (" + config.DemoAliceOA + ") of oa\nto have the text reply\n    <string>: bye"))
			Expect(msg).To(ContainSubstring("<string>: bye\nbut it is\n    <string>: hello, hi\n"))
			Expect(failure(wxmatch.HaveTextReply(HaveSuffix("bye")), ex)).To(ContainSubstring("Expected\n    <string>: hello, hi\nto have suffix\n    <string>: bye"))
			Expect(msg).To(theChatAndTheExchange())
			Expect(msg).To(ContainSubstring("<Content><![CDATA[hello, hi]]></Content>"), "the answer body")

			Expect(negatedFailure(wxmatch.HaveTextReply("hello, hi"), ex)).To(ContainSubstring("not to have the text reply"))
		})

		It("shows a bare push result as the push", func() {
			ex := alice.Send(emutest.Text("hi"))
			msg := failure(wxmatch.HaveTextReply("bye"), ex.Result)
			Expect(msg).To(HavePrefix(`Expected the push of text "hi"`))
			Expect(msg).To(ContainSubstring("The push:\n    pushed      text \"hi\""))
			Expect(msg).To(ContainSubstring("<Content><![CDATA[hello, hi]]></Content>"))
		})

		It("takes only a string or a matcher", func() {
			_, err := wxmatch.HaveTextReply(42).Match(alice.Send(emutest.Text("hi")))
			Expect(err).To(MatchError(ContainSubstring("HaveTextReply takes a string or a matcher")))
		})
	})

	Describe("HaveReply", func() {
		It("matches the type of the passive reply", func() {
			Expect(alice.Send(emutest.Text("news"))).To(wxmatch.HaveReply("news"))
			Expect(alice.Send(emutest.Subscribe())).To(wxmatch.HaveReply("news"))
			Expect(alice.Send(emutest.Text("image"))).To(wxmatch.HaveReply("image"))
			Expect(alice.Send(emutest.Text("hi"))).NotTo(wxmatch.HaveReply("image"))
			Expect(alice.Send(emutest.Text("人工"))).To(wxmatch.HaveReply("transfer_customer_service"))
		})

		It("shows what the user saw instead", func() {
			msg := failure(wxmatch.HaveReply("image"), alice.Send(emutest.Text("hi")))
			Expect(msg).To(ContainSubstring("to have a passive reply of type\n    <string>: image"))
			Expect(msg).To(ContainSubstring("reply       text"))
			Expect(msg).To(theChatAndTheExchange())
		})
	})

	Describe("HaveNoReply", func() {
		It("matches `success` and the empty body", func() {
			Expect(alice.Send(emutest.Text("silent"))).To(wxmatch.HaveNoReply())
			Expect(alice.Send(emutest.Text("empty"))).To(wxmatch.HaveNoReply())
			Expect(alice.Send(emutest.Text("hi"))).NotTo(wxmatch.HaveNoReply())
		})

		It("shows the reply the user got", func() {
			msg := failure(wxmatch.HaveNoReply(), alice.Send(emutest.Text("hi")))
			Expect(msg).To(ContainSubstring("to have no reply"))
			Expect(msg).To(ContainSubstring("user sees   hello, hi"))
			Expect(msg).To(theChatAndTheExchange())
		})

		It("does not match a message that went to an agent: the bot was not asked", func() {
			alice.Send(emutest.Text("人工"))
			ex := alice.Send(emutest.Text("silent"))
			Expect(ex).NotTo(wxmatch.HaveNoReply())
			Expect(failure(wxmatch.HaveNoReply(), ex)).To(ContainSubstring("routed to the agent kf2@wxemu_demo: the bot was not asked"))
		})
	})

	Describe("BeTransferred and BeTransferredTo", func() {
		It("match a transfer, and the account it names", func() {
			Expect(alice.Send(emutest.Text("人工"))).To(wxmatch.BeTransferred())
			bob := e.User("bob")
			ex := bob.Send(emutest.Text("人工 kf1@wxemu_demo"))
			Expect(ex).To(wxmatch.BeTransferred())
			Expect(ex).To(wxmatch.BeTransferredTo("kf1@wxemu_demo"))
			Expect(ex).To(wxmatch.BeTransferredTo(HaveSuffix("@wxemu_demo")))
			Expect(ex).NotTo(wxmatch.BeTransferredTo("kf2@wxemu_demo"))
			Expect(e.User("carol").Send(emutest.Text("hi"))).NotTo(wxmatch.BeTransferred())
		})

		It("show the verdict and the hand-over", func() {
			msg := failure(wxmatch.BeTransferred(), alice.Send(emutest.Text("hi")))
			Expect(msg).To(ContainSubstring("to be transferred to customer service"))
			Expect(msg).To(ContainSubstring("outcome     reply"))
			Expect(msg).To(theChatAndTheExchange())

			msg = failure(wxmatch.BeTransferredTo("kf2@wxemu_demo"), e.User("bob").Send(emutest.Text("人工 kf1@wxemu_demo")))
			Expect(msg).To(ContainSubstring("to be transferred to the kf account\n    <string>: kf2@wxemu_demo"))
			Expect(msg).To(ContainSubstring("but it is\n    <string>: kf1@wxemu_demo"))
			Expect(msg).To(ContainSubstring("hand-over: assigned to kf1@wxemu_demo (TransInfo names it)"))
			Expect(msg).To(ContainSubstring("<KfAccount><![CDATA[kf1@wxemu_demo]]></KfAccount>"))
		})
	})

	Describe("BeDeliveredTo", func() {
		It("says where the message went: the bot, an agent, that agent", func() {
			Expect(alice.Send(emutest.Text("hi"))).To(wxmatch.BeDeliveredTo("bot"))
			alice.Send(emutest.Text("人工"))
			ex := alice.Send(emutest.Text("在吗"))
			Expect(ex).To(wxmatch.BeDeliveredTo("agent"))
			Expect(ex).To(wxmatch.BeDeliveredTo("kf2@wxemu_demo"))
			Expect(ex.Interaction).To(wxmatch.BeDeliveredTo("kf2@wxemu_demo"))
			Expect(ex).NotTo(wxmatch.BeDeliveredTo("kf1@wxemu_demo"))
			Expect(ex).NotTo(wxmatch.BeDeliveredTo("bot"))
		})

		It("shows the chat and where the message went", func() {
			alice.Send(emutest.Text("人工"))
			msg := failure(wxmatch.BeDeliveredTo("bot"), alice.Send(emutest.Text("在吗")))
			Expect(msg).To(ContainSubstring("to be delivered to\n    <string>: bot"))
			Expect(msg).To(ContainSubstring("routed to the agent kf2@wxemu_demo"))
			Expect(msg).To(HavePrefix(`Expected text "在吗" of alice`))
			Expect(msg).To(MatchRegexp(`WeChat\s+客服小李 为你服务 \(kf2@wxemu_demo joined\)\n\s+10:00:00  alice\s+在吗`))
		})

		It("cannot tell from a bare push result, which is always a push to the bot", func() {
			_, err := wxmatch.BeDeliveredTo("bot").Match(alice.Send(emutest.Text("hi")).Result)
			Expect(err).To(MatchError(ContainSubstring("match the *emutest.Exchange or *platform.Interaction")))
			_, err = wxmatch.BeDeliveredTo("").Match(alice.Send(emutest.Text("hi")))
			Expect(err).To(MatchError(ContainSubstring(`takes "bot", "agent" or a kf account`)))
		})
	})

	Describe("HaveFailed, HaveViolation and HaveNoErrors", func() {
		var broken *emutest.Exchange
		BeforeEach(func() {
			b := emutest.Start(emutest.WithSampleBot("oa", "noswap"))
			broken = b.User("alice").Send(emutest.Text("hi"))
		})

		It("match the verdict on a broken answer", func() {
			Expect(broken).To(wxmatch.HaveFailed())
			Expect(broken).To(wxmatch.HaveViolation("reply.header.swap"))
			Expect(broken).To(wxmatch.HaveViolation("reply.header.swap", rules.Error))
			Expect(broken).NotTo(wxmatch.HaveViolation("reply.header.swap", rules.Warning))
			Expect(broken).NotTo(wxmatch.HaveNoErrors())
			Expect(broken.Result.Violations).To(wxmatch.HaveViolation("reply.header.swap"))

			good := alice.Send(emutest.Text("hi"))
			Expect(good).NotTo(wxmatch.HaveFailed())
			Expect(good).To(wxmatch.HaveNoErrors())
			Expect(good).NotTo(wxmatch.HaveViolation("reply.header.swap"))
		})

		It("show the failure line, the violation with its reason, and the raw answer", func() {
			msg := failure(wxmatch.HaveNoErrors(), broken)
			Expect(msg).To(ContainSubstring("to have no error-severity violation\nbut it has reply.header.swap"))
			Expect(msg).To(MatchRegexp(`WeChat\s+该公众号暂时无法提供服务，请稍后再试`))
			Expect(msg).To(ContainSubstring("error   reply.header.swap (protocol §3.1)"))
			Expect(msg).To(ContainSubstring("the header is copied from the push instead of swapped"))
			Expect(msg).To(ContainSubstring("<ToUserName><![CDATA[gh_e1d2c3b4a596]]></ToUserName>"), "the bot's answer")

			msg = negatedFailure(wxmatch.HaveViolation("reply.header.swap"), broken)
			Expect(msg).To(ContainSubstring("not to have the violation\n    <string>: reply.header.swap"))

			msg = failure(wxmatch.HaveFailed(), alice.Send(emutest.Text("hi")))
			Expect(msg).To(ContainSubstring("to have failed"))
			Expect(msg).To(theChatAndTheExchange())
		})

		It("refuses a rule wxemu does not have, with a suggestion", func() {
			_, err := wxmatch.HaveViolation("reply.header.swp").Match(broken)
			Expect(err).To(MatchError(ContainSubstring(`did you mean "reply.header.swap"?`)))
			_, err = wxmatch.HaveViolation("reply.header.swap", rules.Error, rules.Warning).Match(broken)
			Expect(err).To(MatchError(ContainSubstring("one severity at most")))
		})

		It("treat a message an agent got as a push with no violation", func() {
			alice.Send(emutest.Text("人工"))
			ex := alice.Send(emutest.Text("在吗"))
			Expect(ex).To(wxmatch.HaveNoErrors())
			Expect(ex).NotTo(wxmatch.HaveFailed())
		})
	})

	DescribeTable("refuse to judge what is not a push",
		func(m types.GomegaMatcher, actual any, want string) {
			ok, err := m.Match(actual)
			Expect(ok).To(BeFalse())
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("BeTransferred on a string", wxmatch.BeTransferred(), "人工", "BeTransferred judges a *emutest.Exchange, *platform.Interaction or *push.Result; got\n    <string>: 人工"),
		Entry("BeTransferredTo on a user", wxmatch.BeTransferredTo("kf1@wxemu_demo"), &emutest.User{Name: "zoe"}, "BeTransferredTo judges"),
		Entry("HaveTextReply on nil", wxmatch.HaveTextReply("hi"), nil, "HaveTextReply judges"),
		Entry("HaveTextReply on a nil exchange", wxmatch.HaveTextReply("hi"), (*emutest.Exchange)(nil), "got a nil *emutest.Exchange"),
		Entry("HaveReply on an API answer", wxmatch.HaveReply("text"), &emutest.APIResponse{}, "HaveReply judges"),
		Entry("HaveNoReply on a transcript", wxmatch.HaveNoReply(), []state.Line{}, "HaveNoReply judges"),
		Entry("HaveFailed on an error", wxmatch.HaveFailed(), io.EOF, "HaveFailed judges"),
		Entry("BeDeliveredTo on a string", wxmatch.BeDeliveredTo("bot"), "bot", "BeDeliveredTo judges"),
		Entry("HaveViolation on a string", wxmatch.HaveViolation("push.timeout"), "push.timeout", "HaveViolation judges"),
		Entry("HaveNoErrors on an int", wxmatch.HaveNoErrors(), 0, "HaveNoErrors judges"),
		Entry("BeRefused on a string", wxmatch.BeRefused(), "hi", "BeRefused judges a forged push"),
		Entry("BeRefused on a nil exchange", wxmatch.BeRefused(), (*emutest.Exchange)(nil), "got a nil *emutest.Exchange"),
	)
})

var _ = Describe("the send matchers", func() {
	var e *emutest.Emu
	var alice *emutest.User
	BeforeEach(func() {
		e = emutest.Start(emutest.WithSampleBot("oa", "oa"))
		alice = e.User("alice")
	})

	It("match the count and the errcodes of the bot's customer-service sends", func() {
		ex := alice.Send(emutest.Text("push 6"))
		Expect(ex).To(wxmatch.HaveSent())
		Expect(ex).To(wxmatch.HaveSent(wxmatch.Sends(6), wxmatch.Errcodes(0, 0, 0, 0, 0, 45047)))
		Expect(ex.Sends()).To(wxmatch.HaveSent(wxmatch.Sends(6)))
		Expect(alice).To(wxmatch.HaveSent(wxmatch.Sends(6)))
		Expect(ex).To(wxmatch.HaveSentMessage("text", "message 6 of 6", 45047))
		Expect(ex).To(wxmatch.HaveSentMessage("text", HavePrefix("message 1"), 0))
		Expect(ex).NotTo(wxmatch.HaveSentMessage("text", "message 6 of 6", 0))
		Expect(alice.Send(emutest.Text("hi"))).NotTo(wxmatch.HaveSent())
		Expect(alice.Send(emutest.Text("hi"))).To(wxmatch.HaveSent(wxmatch.Sends(0), wxmatch.Errcodes()))
	})

	It("show the first matcher that failed, the sends and the chat", func() {
		ex := alice.Send(emutest.Text("push 6"))
		msg := failure(wxmatch.HaveSent(wxmatch.Sends(6), wxmatch.Errcodes(0, 0, 0, 0, 0, 0)), ex)
		Expect(msg).To(ContainSubstring("to have sent customer-service messages that satisfy every matcher"))
		Expect(msg).To(ContainSubstring("to equal\n    <[]int | len:6, cap:6>: [0, 0, 0, 0, 0, 0]"))
		Expect(msg).To(ContainSubstring(`text "message 6 of 6" → 45047 out of response count limit`))
		Expect(msg).To(MatchRegexp(`bot \(custom\)\s+message 5 of 6`))
		Expect(msg).To(ContainSubstring("<Content><![CDATA[push 6]]></Content>"))

		msg = failure(wxmatch.HaveSentMessage("text", "message 7 of 6", 0), ex)
		Expect(msg).To(ContainSubstring("to have sent a text message WeChat answered with errcode 0, whose content is\n    <string>: message 7 of 6"))
		Expect(msg).To(ContainSubstring(`text "message 1 of 6" → 0 ok`))
	})

	It("cannot read sends from a verdict alone", func() {
		ex := alice.Send(emutest.Text("push 1"))
		_, err := wxmatch.HaveSent().Match(ex.Result)
		Expect(err).To(MatchError(ContainSubstring("a *push.Result does not hold the customer-service sends")))
		_, err = wxmatch.HaveSentMessage("text", "x", 0).Match(ex.Interaction)
		Expect(err).To(MatchError(ContainSubstring("a *platform.Interaction does not hold")))
		_, err = wxmatch.HaveSent().Match("push 1")
		Expect(err).To(MatchError(ContainSubstring("HaveSent reads the customer-service sends")))
		_, err = wxmatch.HaveSentMessage("text", 7, 0).Match(ex)
		Expect(err).To(MatchError(ContainSubstring("HaveSentMessage takes a string or a matcher")))
	})
})

var _ = Describe("the send matchers on a bot that sends after it answered", func() {
	// The async sample bot answers `success` at once and sends from a goroutine afterwards:
	// `push 2 after 500ms` sends two messages half a second after its answer.
	var e *emutest.Emu
	BeforeEach(func() { e = emutest.Start(emutest.WithSampleBot("oa", "async")) })

	DescribeTable("wait for the sends, then for quiet: a count right passes, one short fails",
		func(command string) {
			ex := e.User("alice").Send(emutest.Text(command))
			Expect(ex).To(wxmatch.HaveNoReply())
			Expect(ex).To(wxmatch.HaveSent(wxmatch.Sends(2), wxmatch.Errcodes(0, 0)))
			Expect(ex).To(wxmatch.HaveSentMessage("text", "message 2 of 2", 0))

			failures := InterceptGomegaFailures(func() {
				Expect(e.User("bob").Send(emutest.Text(command))).To(wxmatch.HaveSent(wxmatch.Sends(1)))
			})
			Expect(failures).To(ConsistOf(And(
				HavePrefix(`Expected text "`+command+`" of bob`),
				ContainSubstring("to have sent customer-service messages that satisfy every matcher"),
				ContainSubstring("(waited up to 1s for them, then 100ms in which nothing more may happen)"),
				ContainSubstring("Expected\n    <int>: 2\nto equal\n    <int>: 1"),
				MatchRegexp(`What bob saw:\n(.*\n)*.*bot \(custom\)\s+message 2 of 2`),
				ContainSubstring("<Content><![CDATA["+command+"]]></Content>"),
				ContainSubstring(`text "message 2 of 2" → 0 ok`),
			)))
		},
		Entry("sent at once", "push 2"),
		Entry("sent 50 ms later", "push 2 after 50ms"),
		Entry("sent 500 ms later", "push 2 after 500ms"),
	)

	It("fail a count the bot does not reach within the bound", func() {
		failures := InterceptGomegaFailures(func() {
			Expect(e.User("alice").Send(emutest.Text("push 2 after 50ms"))).To(wxmatch.HaveSent(wxmatch.Sends(3)))
		})
		Expect(failures).To(ConsistOf(ContainSubstring("Expected\n    <int>: 2\nto equal\n    <int>: 3")))
	})

	It("fail HaveSent(Sends(0)) when a send comes within the quiet window", func() {
		failures := InterceptGomegaFailures(func() {
			Expect(e.User("alice").Send(emutest.Text("push 1 after 30ms"))).To(wxmatch.HaveSent(wxmatch.Sends(0)))
		})
		Expect(failures).To(ConsistOf(ContainSubstring(`text "message 1 of 1" → 0 ok`)))
	})

	It("wait as long as the exchange's Within says, and watch as long as QuietFor says", func() {
		ex := e.User("alice").Send(emutest.Text("push 2 after 1500ms"))
		failures := InterceptGomegaFailures(func() { Expect(ex).To(wxmatch.HaveSent(wxmatch.Sends(2))) })
		Expect(failures).To(ConsistOf(ContainSubstring("Expected\n    <int>: 0\nto equal\n    <int>: 2")))
		Expect(ex.Within(3 * time.Second)).To(wxmatch.HaveSent(wxmatch.Sends(2)))

		// 100 ms of quiet says nothing of a send 300 ms later; a second does.
		later := e.User("bob").Send(emutest.Text("push 1 after 300ms"))
		failures = InterceptGomegaFailures(func() {
			Expect(later.QuietFor(time.Second)).To(wxmatch.HaveSent(wxmatch.Sends(0)))
		})
		Expect(failures).To(ConsistOf(ContainSubstring("then 1s in which nothing more may happen")))
	})

	It("wait on a user too, for all of their sends", func() {
		alice := e.User("alice")
		alice.Send(emutest.Text("push 2 after 50ms"))
		Expect(alice).To(wxmatch.HaveSent(wxmatch.Sends(2)))
		Expect(alice).To(wxmatch.HaveSentMessage("text", "message 1 of 2", 0))
	})

	It("judge an exchange on what came before the user's next action", func() {
		alice := e.User("alice")
		first := alice.Send(emutest.Text("push 1"))
		Expect(first).To(wxmatch.HaveSent(wxmatch.Sends(1)))
		second := alice.Send(emutest.Text("push 2"))
		Expect(second).To(wxmatch.HaveSent(wxmatch.Sends(2)))
		Expect(first).To(wxmatch.HaveSent(wxmatch.Sends(1)), "the sends after alice wrote again are the next exchange's")
		Expect(failure(wxmatch.HaveSent(wxmatch.Sends(2)), first)).To(ContainSubstring("(judged at once: the user acted again after it)"))
	})
})

var _ = Describe("BeRefused", func() {
	// The sample bots in safe mode: both signatures on every push.
	var cfg *config.Config
	BeforeEach(func() {
		cfg = config.Default()
		oa, _ := cfg.App("oa")
		oa.Mode = config.ModeSafe
	})

	It("passes a bot that checks what WeChat signs, and shows how it refused", func() {
		alice := emutest.Start(emutest.WithConfig(cfg), emutest.WithSampleBot("oa", "oa")).User("alice")
		Expect(alice.Forge(emutest.Text("push 1"))).To(wxmatch.BeRefused())
		Expect(alice.ForgeMsgSignature(emutest.Text("push 1"))).To(wxmatch.BeRefused())

		msg := negatedFailure(wxmatch.BeRefused(), alice.Forge(emutest.Text("hi")))
		Expect(msg).To(HavePrefix(`Expected a forged push (wrong signature and msg_signature) of text "hi" as alice`))
		Expect(msg).To(ContainSubstring("not to be refused"))
		Expect(msg).To(ContainSubstring("but it was: the bot answered HTTP 403 without a reply"))
	})

	It("fails a bot that replies to a push WeChat did not sign, showing the raw exchange", func() {
		alice := emutest.Start(emutest.WithConfig(cfg), emutest.WithSampleBot("oa", "sigonly")).User("alice")
		Expect(alice.Forge(emutest.Text("hi"))).To(wxmatch.BeRefused(), "the signature is wrong too")

		msg := failure(wxmatch.BeRefused(), alice.ForgeMsgSignature(emutest.Text("hi")))
		Expect(msg).To(HavePrefix(`Expected a forged push (wrong msg_signature) of text "hi" as alice`))
		Expect(msg).To(ContainSubstring(`but the bot answered HTTP 200 with a text reply ("hello, hi"): it did not check the msg_signature`))
		Expect(msg).To(ContainSubstring("a forged push of text \"hi\" as alice"))
		Expect(msg).To(ContainSubstring("<Encrypt>"), "the push as it was sent")
		Expect(msg).To(ContainSubstring("decrypted"), "the bot's reply")
	})

	It("fails a bot that answers `success` and then acts on the push through the API", func() {
		alice := emutest.Start(emutest.WithConfig(cfg), emutest.WithSampleBot("oa", "sigonly")).User("alice")
		msg := failure(wxmatch.BeRefused(), alice.ForgeMsgSignature(emutest.Text("push 1")))
		Expect(msg).To(ContainSubstring("but the bot called the API 1 time(s) about the user"))
		Expect(msg).To(ContainSubstring("it acted on a push WeChat did not sign"))
		Expect(msg).To(ContainSubstring("/cgi-bin/message/custom/send"))
	})

	It("judges only forged pushes", func() {
		alice := emutest.Start(emutest.WithSampleBot("oa", "oa")).User("alice")
		_, err := wxmatch.BeRefused().Match(alice.Send(emutest.Text("hi")))
		Expect(err).To(MatchError(ContainSubstring(`BeRefused judges a forged push, made by u.Forge(m) or u.ForgeMsgSignature(m); text "hi" of alice`)))
	})
})

var _ = Describe("ShowUser", func() {
	var e *emutest.Emu
	var alice *emutest.User
	BeforeEach(func() {
		e = emutest.Start(emutest.WithSampleBot("oa", "oa"))
		alice = e.User("alice")
	})

	It("matches the lines the user saw, in order, with gaps", func() {
		ex := alice.Send(emutest.Text("hi"))
		alice.Send(emutest.Click("V1001_TODAY_MUSIC"))
		Expect(alice).To(wxmatch.ShowUser("hi", "hello, hi", "clicked V1001_TODAY_MUSIC"))
		Expect(alice).To(wxmatch.ShowUser("hi", ContainSubstring("V1001")))
		Expect(alice).NotTo(wxmatch.ShowUser("hello, hi", "hi"), "order matters")
		Expect(alice).NotTo(wxmatch.ShowUser("(CLICK V1001_TODAY_MUSIC)"), "an event is something the user did, not a line they see")
		Expect(ex).To(wxmatch.ShowUser("hello, hi"))
		Expect(ex).NotTo(wxmatch.ShowUser("clicked V1001_TODAY_MUSIC"), "an exchange holds the chat as it was then")
		Expect(alice.Transcript()).To(wxmatch.ShowUser("hi"))
	})

	It("works on what agents and hand-overs leave the user with", func() {
		alice.Send(emutest.Text("人工 kf1@wxemu_demo"))
		kf1 := e.Agent("kf1@wxemu_demo")
		Expect(kf1.Accept(alice)).To(wxmatch.ShowUser(ContainSubstring("kf1@wxemu_demo joined")))
		Expect(kf1.Reply(alice, "您好")).To(wxmatch.ShowUser("您好"))
	})

	It("says how far it got, and shows the chat", func() {
		alice.Send(emutest.Text("hi"))
		msg := failure(wxmatch.ShowUser("hi", "bye"), alice)
		Expect(msg).To(HavePrefix("Expected what alice (" + config.DemoAliceOA + ") of oa saw\nto show the user, in order, the lines"))
		Expect(msg).To(ContainSubstring(`but only 1 of 2 appear in order: nothing after "hi" (10:00:00) matches` + "\n    <string>: bye"))
		Expect(msg).To(MatchRegexp(`What alice saw:\n\s+10:00:00  alice\s+hi\n\s+10:00:00  bot \(reply\)\s+hello, hi`))
	})

	It("refuses what is not a transcript, and expectations that are not text", func() {
		_, err := wxmatch.ShowUser("hi").Match("hi")
		Expect(err).To(MatchError(ContainSubstring("ShowUser reads what a user saw")))
		_, err = wxmatch.ShowUser("hi").Match((*emutest.User)(nil))
		Expect(err).To(MatchError(ContainSubstring("got a nil *emutest.User")))
		_, err = wxmatch.ShowUser("hi").Match(&emutest.User{Name: "zoe"})
		Expect(err).To(MatchError(ContainSubstring("was not made by an emulator")))
		_, err = wxmatch.ShowUser(1).Match(alice)
		Expect(err).To(MatchError(ContainSubstring("ShowUser takes a string or a matcher")))
	})
})

var _ = Describe("HaveErrcode", func() {
	var e *emutest.Emu
	var tk string
	BeforeEach(func() {
		e = emutest.Start(emutest.WithSampleBot("oa", "oa"))
		tk = e.API().Token("oa")
	})
	send := func(to string) *emutest.APIResponse {
		return e.API().Call(http.MethodPost, "/cgi-bin/message/custom/send?access_token="+tk,
			map[string]any{"touser": to, "msgtype": "text", "text": map[string]string{"content": "hi"}})
	}

	It("matches WeChat's errcode, 0 when the answer has none", func() {
		Expect(send(config.DemoAliceOA)).To(wxmatch.HaveErrcode(45015))
		e.User("alice").Send(emutest.Text("hi"))
		Expect(send(config.DemoAliceOA)).To(wxmatch.HaveErrcode(0))
		Expect(send("oNoSuchUser")).To(wxmatch.HaveErrcode(BeNumerically(">", 0)))
		Expect(e.API().Call(http.MethodGet, "/cgi-bin/token?grant_type=client_credential&appid="+config.DemoOAAppID+"&secret="+config.DemoOASecret, nil)).
			To(wxmatch.HaveErrcode(0))
	})

	It("reads an *http.Response, and leaves its body to read again", func() {
		e.AllowUnknownRequests()
		resp, err := http.Get(e.URL() + "/cgi-bin/no/such/api")
		Expect(err).NotTo(HaveOccurred())
		defer resp.Body.Close()
		Expect(resp).To(wxmatch.HaveErrcode(40066))
		Expect(resp).To(wxmatch.HaveErrcode(40066))
		body, err := io.ReadAll(resp.Body)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(body)).To(ContainSubstring("invalid url"))
	})

	It("reads raw JSON and an agent's reply", func() {
		Expect([]byte(`{"errcode":45047,"errmsg":"out of response count limit"}`)).To(wxmatch.HaveErrcode(45047))
		Expect(json.RawMessage(`{"access_token":"x","expires_in":7200}`)).To(wxmatch.HaveErrcode(0))

		alice := e.User("alice")
		alice.Send(emutest.Text("人工"))
		Expect(e.Agent("kf2@wxemu_demo").Reply(alice, "您好")).To(wxmatch.HaveErrcode(0))
	})

	It("shows the call and the raw answer", func() {
		msg := failure(wxmatch.HaveErrcode(0), send(config.DemoAliceOA))
		Expect(msg).To(MatchRegexp(`^Expected the answer to POST http://127\.0\.0\.1:\d+/cgi-bin/message/custom/send\?access_token=`))
		Expect(msg).To(ContainSubstring("to have the errcode\n    <int>: 0\nbut it is 45015"))
		Expect(msg).To(ContainSubstring(`{"msgtype":"text","text":{"content":"hi"},"touser":"` + config.DemoAliceOA + `"}`))
		Expect(msg).To(MatchRegexp(`"errmsg":"[^"]*out of time limit`))

		msg = failure(wxmatch.HaveErrcode(BeZero()), send(config.DemoAliceOA))
		Expect(msg).To(ContainSubstring("Expected\n    <int>: 45015\nto be zero-valued"))
	})

	It("refuses an answer that is not JSON, and other values", func() {
		_, err := wxmatch.HaveErrcode(0).Match([]byte("<xml/>"))
		Expect(err).To(MatchError(ContainSubstring("the answer is not a JSON object")))
		_, err = wxmatch.HaveErrcode(0).Match([]byte(`{"errcode":"x"}`))
		Expect(err).To(MatchError(ContainSubstring("HaveErrcode")))
		_, err = wxmatch.HaveErrcode(0).Match("{}")
		Expect(err).To(MatchError(ContainSubstring("HaveErrcode reads a WeChat API answer")))
		_, err = wxmatch.HaveErrcode("0").Match(send(config.DemoAliceOA))
		Expect(err).To(MatchError(ContainSubstring("HaveErrcode takes an int or a matcher")))
		_, err = wxmatch.HaveErrcode(0).Match((*http.Response)(nil))
		Expect(err).To(MatchError(ContainSubstring("got a nil *http.Response")))
	})

	It("reads a response whose body is a plain reader", func() {
		resp := &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader([]byte(`{"errcode":40001}`)))}
		Expect(resp).To(wxmatch.HaveErrcode(40001))
		Expect(failure(wxmatch.HaveErrcode(0), resp)).To(ContainSubstring(`{"errcode":40001}`))
	})
})

var _ = Describe("the failure message of an assertion", func() {
	It("reads as documentation of what went wrong", func() {
		e := emutest.Start(emutest.WithSampleBot("oa", "oa"))
		ex := e.User("alice").Send(emutest.Text("hi"))
		err := InterceptGomegaFailure(func() { Expect(ex).To(wxmatch.HaveTextReply("bye")) })
		Expect(err).To(HaveOccurred())
		GinkgoWriter.Println(err.Error())
		Expect(err.Error()).To(theChatAndTheExchange())
	})

	It("is readable inside Eventually", func() {
		e := emutest.Start(emutest.WithSampleBot("oa", "oa"))
		alice := e.User("alice")
		Eventually(func(g Gomega) {
			g.Expect(alice.WithGomega(g).Send(emutest.Text("hi"))).To(wxmatch.HaveTextReply("hello, hi"))
		}).WithTimeout(time.Second).Should(Succeed())
	})
})
