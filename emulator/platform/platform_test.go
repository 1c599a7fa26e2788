package platform_test

import (
	"context"
	"errors"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/wire"
)

var _ = Describe("Platform", func() {
	var p *platform.Platform
	BeforeEach(func() {
		var err error
		p, err = platform.New(platform.Options{Clock: clock.NewFake(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(p.Close)
	})
	text := wire.Message{MsgType: "text", Content: "hi"}

	It("suggests the app meant", func() {
		_, err := p.UserSends(context.Background(), "ao", config.DemoAliceOA, text)
		Expect(err).To(MatchError(platform.ErrUnknownApp))
		Expect(err.Error()).To(ContainSubstring(`did you mean "oa"?`))
	})

	It("says how to give an app a bot", func() {
		_, err := p.UserSends(context.Background(), "oa", config.DemoAliceOA, text)
		Expect(err).To(MatchError(platform.ErrNoBot))
		Expect(err.Error()).To(ContainSubstring("--target"))
	})

	It("refuses a message the app's kind does not receive", func() {
		_, err := p.UserSends(context.Background(), "mp", config.DemoAliceMP, wire.Message{MsgType: "voice", MediaId: "m"})
		Expect(err).To(MatchError(platform.ErrBadMessage))
	})

	It("opens windows by name, and only known ones", func() {
		g, err := p.Trigger("oa", "oNewUser000000000000000000001", "payment")
		Expect(err).NotTo(HaveOccurred())
		Expect(g).To(ConsistOf(HaveField("Remaining", -1)))
		_, err = p.Trigger("oa", "oNewUser000000000000000000001", "paymnet")
		Expect(err.Error()).To(ContainSubstring(`did you mean "payment"?`))
	})

	It("maps every domain error to WeChat's errcode, and anything else to -1", func() {
		Expect(platform.Code(nil)).To(Equal(0))
		Expect(platform.Code(state.ErrQuotaUsed)).To(Equal(45047))
		Expect(platform.Code(state.ErrKfNoSession)).To(Equal(65413))
		Expect(platform.Code(&wire.Error{Code: 40008})).To(Equal(40008))
		Expect(platform.Code(errors.New("a bug"))).To(Equal(-1))
	})

	It("refuses an export of another version", func() {
		Expect(p.Import(&platform.Snapshot{Version: 2})).To(MatchError(ContainSubstring("version 2")))
	})

	It("moves the clock forward to an export taken later", func() {
		snap := p.Export()
		snap.Time = snap.Time.Add(time.Hour)
		Expect(p.Import(snap)).To(Succeed())
		Expect(p.Now()).To(Equal(snap.Time))
		Expect(p.Advanced()).To(Equal(time.Hour))
	})
})
