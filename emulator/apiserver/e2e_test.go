package apiserver_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/wire"
	"github.com/wxemu/wxemu/fixtures/bots"
)

func errcodes(sent []bots.Sent) []int {
	out := make([]int, len(sent))
	for i, s := range sent {
		out[i] = s.Errcode
	}
	return out
}

var _ = Describe("a bot that answers with customer-service messages, end to end", func() {
	It("gets 5 messages per user message under the 2023 rules, then 45047, and 45015 after 48 h", func() {
		e := start(nil)
		in := e.say(oa, alice, "push 6")
		Expect(in.Result.Outcome).To(BeEquivalentTo("none"))
		Expect(errcodes(e.oa.Sent())).To(Equal([]int{0, 0, 0, 0, 0, 45047}))

		e.clk.Advance(48 * time.Hour)
		loc := wire.Message{MsgType: "event", Event: "LOCATION", Latitude: "23.137466", Longitude: "113.352425", Precision: "119.385040"}
		_, err := e.p().UserSends(context.Background(), oa, alice, loc)
		Expect(err).NotTo(HaveOccurred())
		Expect(errcodes(e.oa.Sent())).To(Equal([]int{0, 0, 0, 0, 0, 45047, 45015}), "a location report opens no window")

		var delivered []string
		for _, l := range e.p().Transcript(oa, alice) {
			if l.Kind == "custom" {
				delivered = append(delivered, l.Text)
			}
		}
		Expect(delivered).To(Equal([]string{"message 1 of 6", "message 2 of 6", "message 3 of 6", "message 4 of 6", "message 5 of 6"}))
	})

	It("gets 20 per user message under the 2021 rules", func() {
		e := start(func(c *config.Config) { c.Quota.Rules = "2021-06-01" })
		e.say(oa, alice, "push 21")
		codes := errcodes(e.oa.Sent())
		Expect(codes).To(HaveLen(21))
		Expect(codes[19]).To(Equal(0))
		Expect(codes[20]).To(Equal(45047))
	})

	It("works for a Mini Program bot with JSON pushes", func() {
		e := start(nil)
		e.say(mp, aliceM, "push 6")
		Expect(errcodes(e.mp.Sent())).To(Equal([]int{0, 0, 0, 0, 0, 45047}))
	})

	It("resets the count with each new user message", func() {
		e := start(nil)
		e.say(oa, bob, "push 3")
		e.say(oa, bob, "push 5")
		Expect(errcodes(e.oa.Sent())).To(Equal([]int{0, 0, 0, 0, 0, 0, 0, 0}))
	})
})
