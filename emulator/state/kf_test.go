package state_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/state"
)

var _ = Describe("KF", func() {
	const app, u1, u2 = "wxapp", "oUser1", "oUser2"
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	var k *state.KF
	seed := func(account string, online, auto bool, capacity int) {
		k.SeedAgent(app, state.Agent{Account: account, Nickname: account, WeChat: "wx_" + account[:3], Online: online, AutoAccept: auto, Capacity: capacity})
	}
	kinds := func(evs []state.KFEvent) []string {
		out := make([]string, len(evs))
		for i, e := range evs {
			out[i] = e.Kind + " " + e.Account
		}
		return out
	}
	BeforeEach(func() { k = state.NewKF(state.KFConfig{}) })

	It("gives a queued user to the least-loaded auto-accepting agent", func() {
		seed("kfa@x", true, true, 5)
		seed("kfb@x", true, true, 5)
		Expect(kinds(k.Transfer(app, u1, "", t0))).To(Equal([]string{"queued ", "accepted kfa@x"}))
		Expect(kinds(k.Transfer(app, u2, "", t0))).To(Equal([]string{"queued ", "accepted kfb@x"}))
	})

	It("keeps users waiting while every agent is full, and hands the next one over on a close", func() {
		seed("kfa@x", true, true, 1)
		k.Transfer(app, u1, "", t0)
		Expect(kinds(k.Transfer(app, u2, "", t0.Add(time.Second)))).To(Equal([]string{"queued "}))
		n, waiting := k.WaitCase(app, t0)
		Expect(n).To(Equal(1))
		Expect(waiting[0].OpenID).To(Equal(u2))
		evs, err := k.Close(app, "kfa@x", u1, t0.Add(time.Minute))
		Expect(err).NotTo(HaveOccurred())
		Expect(kinds(evs)).To(Equal([]string{"closed kfa@x", "accepted kfa@x"}))
	})

	DescribeTable("ends a session exactly at its deadline",
		func(anchor string, touchAt, lastInSession time.Duration) {
			k = state.NewKF(state.KFConfig{Anchor: anchor})
			seed("kfa@x", true, true, 5)
			k.Transfer(app, u1, "", t0)
			k.Touch(app, u1, t0.Add(touchAt))
			_, in, evs := k.Route(app, u1, t0.Add(lastInSession-time.Nanosecond))
			Expect(in).To(BeTrue())
			Expect(evs).To(BeEmpty())
			_, in, evs = k.Route(app, u1, t0.Add(lastInSession))
			Expect(in).To(BeFalse())
			Expect(evs).To(ConsistOf(And(HaveField("Kind", "expired"), HaveField("At", t0.Add(lastInSession)))))
		},
		Entry("from the start", "start", 20*time.Minute, 30*time.Minute),
		Entry("from the last activity", "activity", 20*time.Minute, 50*time.Minute),
	)

	It("pages the records of a 24-hour window", func() {
		for i := 0; i < 5; i++ {
			k.Record(app, state.Record{OpenID: u1, Worker: "kfa@x", Opercode: 2003, Text: "m", Time: t0.Add(time.Duration(i) * time.Minute)})
		}
		page, next, err := k.Records(app, t0, t0.Add(time.Hour), 1, 2)
		Expect(err).NotTo(HaveOccurred())
		Expect(page).To(HaveLen(2))
		Expect(next).To(Equal(int64(3)))
		page, next, err = k.Records(app, t0, t0.Add(time.Hour), next, 10)
		Expect(err).NotTo(HaveOccurred())
		Expect(page).To(HaveLen(3))
		Expect(next).To(Equal(int64(6)))
		_, _, err = k.Records(app, t0, t0.Add(24*time.Hour+time.Second), 1, 10)
		Expect(err).To(MatchError(state.ErrKfRangeTooLong))
		_, _, err = k.Records(app, t0, t0.Add(time.Hour), 0, 10)
		Expect(err).To(MatchError(state.ErrKfParamInvalid))
	})

	It("exports and restores everything", func() {
		seed("kfa@x", true, false, 5)
		k.Transfer(app, u1, "", t0)
		k.Record(app, state.Record{OpenID: u1, Opercode: 1000, Time: t0})
		snap := k.Snapshot()
		k.Reset()
		Expect(k.Agents(app, t0)).To(BeEmpty())
		k.Restore(snap)
		Expect(k.Agents(app, t0)).To(HaveLen(1))
		_, waiting := k.WaitingFor(app, u1)
		Expect(waiting).To(BeTrue())
		Expect(k.Snapshot()).To(Equal(snap))
	})

	It("reads an invitation past its validity as expired", func() {
		_, err := k.AddAccount(app, "x", "kfc@x", "c")
		Expect(err).NotTo(HaveOccurred())
		_, err = k.Invite(app, "kfc@x", "someone_c", t0)
		Expect(err).NotTo(HaveOccurred())
		ag, _ := k.Agent(app, "kfc@x", t0.Add(7*24*time.Hour))
		Expect(ag.InviteStatus).To(Equal("expired"))
		_, err = k.RespondInvite(app, "kfc@x", true, t0.Add(7*24*time.Hour))
		Expect(err).To(MatchError(state.ErrKfInviteExpired))
		_, err = k.Invite(app, "kfc@x", "someone_c", t0.Add(7*24*time.Hour))
		Expect(err).NotTo(HaveOccurred(), "a new invitation once the old one expired")
	})
})
