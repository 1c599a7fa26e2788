package harness_test

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/harness"
	"github.com/wxemu/wxemu/emulator/platform"
)

var _ = Describe("The harness", func() {
	var (
		p     *platform.Platform
		h     *harness.Harness
		oa    *platform.App
		alice = config.DemoAliceOA
		ctx   = context.Background()
	)
	BeforeEach(func() {
		var err error
		p, err = platform.New(platform.Options{Clock: clock.NewFake(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(p.Close)
		h = harness.New(p)
		oa, _ = p.App("oa")
		_, err = p.Trigger("oa", alice, "message")
		Expect(err).NotTo(HaveOccurred())
	})
	send := func(text string) {
		_, _ = p.CustomSend(ctx, oa, []byte(fmt.Sprintf(`{"touser":%q,"msgtype":"text","text":{"content":%q}}`, alice, text)))
	}

	It("sees what an act caused, and nothing before or after it", func() {
		send("before")
		act, err := h.Do(oa.AppID, alice, func() error { send("during"); return nil })
		Expect(err).NotTo(HaveOccurred())
		send("after")
		Expect(act.Sends()).To(ConsistOf(And(HaveField("Content", "during"), HaveField("Via", platform.ViaGo), HaveField("Errcode", 0))))
		Expect(h.After(oa.AppID, alice, act.Since).Sends()).To(HaveLen(2), "an act still going sees what comes later")
	})

	It("waits on the journal for what a bot does later, and stops at its bound when nothing comes", func() {
		act := h.After(oa.AppID, alice, h.Mark())
		go func() {
			defer GinkgoRecover()
			send("late") // before or after the wait begins: either way the wait sees it

		}()
		Expect(h.Await(ctx, oa.AppID, alice, 10*time.Second, func() bool { return len(act.Sends()) == 1 })).To(BeTrue())
		Expect(act.Sends()).To(ConsistOf(HaveField("Content", "late")))

		Expect(h.Await(ctx, oa.AppID, alice, 30*time.Millisecond, func() bool { return len(act.Sends()) == 2 })).To(BeFalse())
		canceled, cancel := context.WithCancel(ctx)
		cancel()
		Expect(h.Await(canceled, oa.AppID, alice, 10*time.Second, func() bool { return false })).To(BeFalse(), "a canceled context ends the wait")
	})

	Describe("Settle and Quiet", func() {

		It("passes when exactly what is expected arrives and nothing follows in the quiet window", func() {
			act := h.After(oa.AppID, alice, h.Mark())
			go send("x")
			one := func() bool { return len(act.Sends()) == 1 }
			Expect(h.Settle(ctx, oa.AppID, alice, 5*time.Second, 50*time.Millisecond, one)).To(BeTrue())
		})

		It("fails when one more arrives in the quiet window", func() {
			act := h.After(oa.AppID, alice, h.Mark())
			one := func() bool { return len(act.Sends()) == 1 }
			go func() {
				send("x")
				send("x") // in the quiet window, or before the first look: a false either way
			}()
			Expect(h.Settle(ctx, oa.AppID, alice, 300*time.Millisecond, 5*time.Second, one)).To(BeFalse())
			Expect(act.Sends()).To(HaveLen(2))
		})

		It("tells when a user has gone quiet, and when it never does within the bound", func() {
			Expect(h.Quiet(ctx, oa.AppID, alice, 20*time.Millisecond, 5*time.Second)).To(BeTrue())
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				for {
					select {
					case <-stop:
						return
					default:
						p.EnsureUser(oa.AppID, alice, "", true)
						_, _ = p.Trigger("oa", alice, "message")
					}
				}
			}()
			Expect(h.Quiet(ctx, oa.AppID, alice, time.Second, 100*time.Millisecond)).To(BeFalse())
			close(stop)
			<-done
		})
	})
})
