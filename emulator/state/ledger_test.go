package state_test

import (
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/state"
)

const (
	oaApp = "wx0e1d2c3b4a596877"
	mpApp = "wx9f8e7d6c5b4a3921"
	alice = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
	bob   = "o6_bmjrPTlm6_2sgVt7hMZOPfL2N"
)

// t0 is 10:00 in China, the zone WeChat's days follow.
var t0 = time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)

func ledger(name string, c state.Combine) *state.Ledger {
	rs, ok := state.RuleSetByName(name)
	Expect(ok).To(BeTrue())
	l := state.NewLedger(rs, c)
	l.SetAppKind(oaApp, "oa")
	l.SetAppKind(mpApp, "mp")
	return l
}

// consumeN sends n messages and expects each to succeed.
func consumeN(l *state.Ledger, app, openid string, n int, now time.Time) {
	GinkgoHelper()
	for i := range n {
		_, err := l.Consume(app, openid, now)
		Expect(err).NotTo(HaveOccurred(), "send %d of %d", i+1, n)
	}
}

var _ = Describe("RuleSetByName", func() {
	It("knows the 2023 rules, the default, and the 2021 rules", func() {
		Expect(state.RuleSetNames()).To(Equal([]string{"2023-06-12", "2021-06-01"}))
		Expect(state.RuleSetNames()[0]).To(Equal(state.DefaultRuleSet))
		_, ok := state.RuleSetByName("2014-01-01")
		Expect(ok).To(BeFalse())
	})

	It("hands out copies", func() {
		rs, _ := state.RuleSetByName("2023-06-12")
		rs.Limits[state.TriggerMessage] = state.Limit{Max: 99, Window: time.Hour}
		again, _ := state.RuleSetByName("2023-06-12")
		Expect(again.Limits[state.TriggerMessage]).To(Equal(state.Limit{Max: 5, Window: 48 * time.Hour}))
	})

	It("tells the kinds of app apart", func() {
		rs, _ := state.RuleSetByName("2021-06-01")
		l, ok := rs.Limit("oa", state.TriggerMessage)
		Expect(ok).To(BeTrue())
		Expect(l.Max).To(Equal(20))
		l, ok = rs.Limit("mp", state.TriggerMessage)
		Expect(ok).To(BeTrue())
		Expect(l.Max).To(Equal(5))
		_, ok = rs.Limit("mp", state.TriggerClick)
		Expect(ok).To(BeFalse())
		_, ok = rs.Limit("oa", state.TriggerTempSession)
		Expect(ok).To(BeFalse())
	})

	It("writes windows as durations in JSON", func() {
		b, err := json.Marshal(state.Limit{Max: 5, Window: 48 * time.Hour})
		Expect(err).NotTo(HaveOccurred())
		Expect(string(b)).To(MatchJSON(`{"max":5,"window":"48h0m0s"}`))
		var l state.Limit
		Expect(json.Unmarshal([]byte(`{"max":3,"window":"1m"}`), &l)).To(Succeed())
		Expect(l).To(Equal(state.Limit{Max: 3, Window: time.Minute}))
		Expect(json.Unmarshal([]byte(`{"max":3,"window":"soon"}`), &l)).NotTo(Succeed())
	})

	It("parses Combine", func() {
		c, ok := state.ParseCombine("")
		Expect(ok).To(BeTrue())
		Expect(c).To(Equal(state.CombineReset))
		c, ok = state.ParseCombine("independent")
		Expect(ok).To(BeTrue())
		Expect(c).To(Equal(state.CombineIndependent))
		_, ok = state.ParseCombine("add")
		Expect(ok).To(BeFalse())
	})
})

var _ = Describe("Ledger", func() {
	DescribeTable("every trigger: the quota, then 45047, then 45015 once the window has passed",
		func(rules string, c state.Combine, app string, t state.Trigger, max int, window time.Duration) {
			l := ledger(rules, c)
			_, err := l.Consume(app, alice, t0)
			Expect(err).To(MatchError(state.ErrNoWindow))

			l.Trigger(app, alice, t, t0)
			Expect(l.Grants(app, alice, t0)).To(Equal([]state.Grant{{
				Trigger: t, Max: max, Remaining: max, Opened: t0, Expires: t0.Add(window),
			}}))
			for i := range max {
				g, err := l.Consume(app, alice, t0.Add(time.Second))
				Expect(err).NotTo(HaveOccurred())
				Expect(g.Remaining).To(Equal(max - i - 1))
			}
			_, err = l.Consume(app, alice, t0.Add(time.Second))
			Expect(err).To(MatchError(state.ErrQuotaUsed))
			_, err = l.Consume(app, alice, t0.Add(window-time.Nanosecond))
			Expect(err).To(MatchError(state.ErrQuotaUsed), "the window is open until its last nanosecond")
			_, err = l.Consume(app, alice, t0.Add(window))
			Expect(err).To(MatchError(state.ErrNoWindow))
			Expect(l.Grants(app, alice, t0.Add(window))).To(BeEmpty())
		},
		Entry("2023 OA message 5/48h", "2023-06-12", state.CombineReset, oaApp, state.TriggerMessage, 5, 48*time.Hour),
		Entry("2023 OA click 3/1min", "2023-06-12", state.CombineReset, oaApp, state.TriggerClick, 3, time.Minute),
		Entry("2023 OA subscribe 3/1min", "2023-06-12", state.CombineReset, oaApp, state.TriggerSubscribe, 3, time.Minute),
		Entry("2023 OA scan 3/1min", "2023-06-12", state.CombineReset, oaApp, state.TriggerScan, 3, time.Minute),
		Entry("2023 MP message 5/48h", "2023-06-12", state.CombineReset, mpApp, state.TriggerMessage, 5, 48*time.Hour),
		Entry("2023 MP tempsession 2/1min", "2023-06-12", state.CombineReset, mpApp, state.TriggerTempSession, 2, time.Minute),
		Entry("2021 OA message 20/48h", "2021-06-01", state.CombineReset, oaApp, state.TriggerMessage, 20, 48*time.Hour),
		Entry("2021 OA click 3/1min", "2021-06-01", state.CombineReset, oaApp, state.TriggerClick, 3, time.Minute),
		Entry("2021 OA subscribe 3/1min", "2021-06-01", state.CombineReset, oaApp, state.TriggerSubscribe, 3, time.Minute),
		Entry("2021 OA scan 3/1min", "2021-06-01", state.CombineReset, oaApp, state.TriggerScan, 3, time.Minute),
		Entry("2021 OA payment 20/48h", "2021-06-01", state.CombineReset, oaApp, state.TriggerPayment, 20, 48*time.Hour),
		Entry("2021 MP message 5/48h", "2021-06-01", state.CombineReset, mpApp, state.TriggerMessage, 5, 48*time.Hour),
		Entry("2021 MP tempsession 2/1min", "2021-06-01", state.CombineReset, mpApp, state.TriggerTempSession, 2, time.Minute),
		Entry("independent: 2023 OA message", "2023-06-12", state.CombineIndependent, oaApp, state.TriggerMessage, 5, 48*time.Hour),
		Entry("independent: 2023 OA click", "2023-06-12", state.CombineIndependent, oaApp, state.TriggerClick, 3, time.Minute),
		Entry("independent: 2021 OA payment", "2021-06-01", state.CombineIndependent, oaApp, state.TriggerPayment, 20, 48*time.Hour),
		Entry("independent: 2023 MP tempsession", "2023-06-12", state.CombineIndependent, mpApp, state.TriggerTempSession, 2, time.Minute),
	)

	DescribeTable("2023 payment: unlimited for 48 hours",
		func(c state.Combine) {
			l := ledger("2023-06-12", c)
			l.Trigger(oaApp, alice, state.TriggerPayment, t0)
			for range 1000 {
				g, err := l.Consume(oaApp, alice, t0.Add(47*time.Hour))
				Expect(err).NotTo(HaveOccurred())
				Expect(g.Max).To(Equal(state.Unlimited))
				Expect(g.Remaining).To(Equal(state.Unlimited))
			}
			_, err := l.Consume(oaApp, alice, t0.Add(48*time.Hour))
			Expect(err).To(MatchError(state.ErrNoWindow))
		},
		Entry("reset", state.CombineReset),
		Entry("independent", state.CombineIndependent),
	)

	DescribeTable("ignores actions that are no trigger for the app",
		func(app string, t state.Trigger) {
			l := ledger("2023-06-12", state.CombineReset)
			l.Trigger(app, alice, t, t0)
			Expect(l.Grants(app, alice, t0)).To(BeEmpty())
			_, err := l.Consume(app, alice, t0)
			Expect(err).To(MatchError(state.ErrNoWindow))
		},
		Entry("a menu click in a Mini Program", mpApp, state.TriggerClick),
		Entry("a payment in a Mini Program", mpApp, state.TriggerPayment),
		Entry("tempsession in an Official Account", oaApp, state.TriggerTempSession),
		Entry("an unknown trigger", oaApp, state.Trigger("location")),
	)

	It("opens Mini Program windows for an app it was not told about", func() {
		l := ledger("2021-06-01", state.CombineReset)
		l.Trigger("wx-unknown", alice, state.TriggerTempSession, t0)
		l.Trigger("wx-unknown", bob, state.TriggerMessage, t0)
		Expect(l.Grants("wx-unknown", alice, t0)).To(Equal([]state.Grant{{
			Trigger: state.TriggerTempSession, Max: 2, Remaining: 2, Opened: t0, Expires: t0.Add(time.Minute),
		}}))
		Expect(l.Grants("wx-unknown", bob, t0)[0].Max).To(Equal(20), "OA rules by default")
	})

	It("follows the OA rules again once an app is no longer a Mini Program", func() {
		l := ledger("2021-06-01", state.CombineReset)
		l.SetAppKind(mpApp, "oa")
		l.Trigger(mpApp, alice, state.TriggerMessage, t0)
		Expect(l.Grants(mpApp, alice, t0)[0].Max).To(Equal(20))
	})

	It("keeps users and apps apart", func() {
		l := ledger("2023-06-12", state.CombineReset)
		l.Trigger(oaApp, alice, state.TriggerClick, t0)
		_, err := l.Consume(oaApp, bob, t0)
		Expect(err).To(MatchError(state.ErrNoWindow))
		_, err = l.Consume(mpApp, alice, t0)
		Expect(err).To(MatchError(state.ErrNoWindow))
		consumeN(l, oaApp, alice, 3, t0)
	})

	It("runs on a fake clock", func() {
		clk := clock.NewFake(t0)
		l := ledger("2023-06-12", state.CombineReset)
		l.Trigger(oaApp, alice, state.TriggerSubscribe, clk.Now())
		clk.Advance(59 * time.Second)
		consumeN(l, oaApp, alice, 3, clk.Now())
		clk.Advance(time.Second)
		_, err := l.Consume(oaApp, alice, clk.Now())
		Expect(err).To(MatchError(state.ErrNoWindow))
	})

	Describe("combining overlapping triggers", func() {
		Context("reset, the literal reading", func() {
			var l *state.Ledger
			BeforeEach(func() { l = ledger("2023-06-12", state.CombineReset) })

			It("lets a click reset a message window to 3, keeping the 48-hour expiry", func() {
				l.Trigger(oaApp, alice, state.TriggerMessage, t0)
				consumeN(l, oaApp, alice, 1, t0)
				l.Trigger(oaApp, alice, state.TriggerClick, t0.Add(time.Hour))
				Expect(l.Grants(oaApp, alice, t0.Add(time.Hour))).To(Equal([]state.Grant{{
					Trigger: state.TriggerClick, Max: 3, Remaining: 3,
					Opened: t0.Add(time.Hour), Expires: t0.Add(48 * time.Hour),
				}}))
				consumeN(l, oaApp, alice, 3, t0.Add(2*time.Hour))
				_, err := l.Consume(oaApp, alice, t0.Add(2*time.Hour))
				Expect(err).To(MatchError(state.ErrQuotaUsed))
				_, err = l.Consume(oaApp, alice, t0.Add(47*time.Hour))
				Expect(err).To(MatchError(state.ErrQuotaUsed))
				_, err = l.Consume(oaApp, alice, t0.Add(48*time.Hour))
				Expect(err).To(MatchError(state.ErrNoWindow))
			})

			It("lets a message after a click give 5 for 48 hours", func() {
				l.Trigger(oaApp, alice, state.TriggerClick, t0)
				consumeN(l, oaApp, alice, 2, t0)
				l.Trigger(oaApp, alice, state.TriggerMessage, t0.Add(30*time.Second))
				consumeN(l, oaApp, alice, 5, t0.Add(47*time.Hour))
				_, err := l.Consume(oaApp, alice, t0.Add(47*time.Hour))
				Expect(err).To(MatchError(state.ErrQuotaUsed))
			})

			It("lets a new message reset the count without adding up", func() {
				l.Trigger(oaApp, alice, state.TriggerMessage, t0)
				consumeN(l, oaApp, alice, 4, t0)
				l.Trigger(oaApp, alice, state.TriggerMessage, t0.Add(time.Hour))
				g := l.Grants(oaApp, alice, t0.Add(time.Hour))
				Expect(g).To(HaveLen(1))
				Expect(g[0].Remaining).To(Equal(5))
				Expect(g[0].Expires).To(Equal(t0.Add(49 * time.Hour)))
			})

			It("lets a message end an unlimited payment window, as the rule text reads", func() {
				l.Trigger(oaApp, alice, state.TriggerPayment, t0)
				l.Trigger(oaApp, alice, state.TriggerMessage, t0.Add(time.Minute))
				consumeN(l, oaApp, alice, 5, t0.Add(time.Hour))
				_, err := l.Consume(oaApp, alice, t0.Add(time.Hour))
				Expect(err).To(MatchError(state.ErrQuotaUsed))
			})

			It("replaces an expired grant outright", func() {
				l.Trigger(oaApp, alice, state.TriggerMessage, t0)
				consumeN(l, oaApp, alice, 5, t0)
				later := t0.Add(48 * time.Hour)
				l.Trigger(oaApp, alice, state.TriggerClick, later)
				Expect(l.Grants(oaApp, alice, later)).To(Equal([]state.Grant{{
					Trigger: state.TriggerClick, Max: 3, Remaining: 3, Opened: later, Expires: later.Add(time.Minute),
				}}))
			})
		})

		Context("independent grants", func() {
			var l *state.Ledger
			BeforeEach(func() { l = ledger("2023-06-12", state.CombineIndependent) })

			It("gives a message and a click 5+3, taking from the click first", func() {
				l.Trigger(oaApp, alice, state.TriggerMessage, t0)
				l.Trigger(oaApp, alice, state.TriggerClick, t0.Add(time.Hour))
				now := t0.Add(time.Hour + time.Second)
				Expect(l.Grants(oaApp, alice, now)).To(Equal([]state.Grant{
					{Trigger: state.TriggerClick, Max: 3, Remaining: 3, Opened: t0.Add(time.Hour), Expires: t0.Add(time.Hour + time.Minute)},
					{Trigger: state.TriggerMessage, Max: 5, Remaining: 5, Opened: t0, Expires: t0.Add(48 * time.Hour)},
				}))
				var from []state.Trigger
				for range 8 {
					g, err := l.Consume(oaApp, alice, now)
					Expect(err).NotTo(HaveOccurred())
					from = append(from, g.Trigger)
				}
				Expect(from).To(Equal([]state.Trigger{
					state.TriggerClick, state.TriggerClick, state.TriggerClick,
					state.TriggerMessage, state.TriggerMessage, state.TriggerMessage, state.TriggerMessage, state.TriggerMessage,
				}))
				_, err := l.Consume(oaApp, alice, now)
				Expect(err).To(MatchError(state.ErrQuotaUsed))
			})

			It("lets an unused click grant lapse, keeping the message grant", func() {
				l.Trigger(oaApp, alice, state.TriggerMessage, t0)
				l.Trigger(oaApp, alice, state.TriggerClick, t0)
				later := t0.Add(time.Minute)
				Expect(l.Grants(oaApp, alice, later)).To(HaveLen(1))
				consumeN(l, oaApp, alice, 5, later)
				_, err := l.Consume(oaApp, alice, later)
				Expect(err).To(MatchError(state.ErrQuotaUsed))
			})

			It("replaces a grant of the same kind", func() {
				l.Trigger(oaApp, alice, state.TriggerMessage, t0)
				consumeN(l, oaApp, alice, 5, t0)
				l.Trigger(oaApp, alice, state.TriggerMessage, t0.Add(time.Hour))
				Expect(l.Grants(oaApp, alice, t0.Add(time.Hour))).To(Equal([]state.Grant{{
					Trigger: state.TriggerMessage, Max: 5, Remaining: 5, Opened: t0.Add(time.Hour), Expires: t0.Add(49 * time.Hour),
				}}))
			})

			It("keeps an unlimited payment grant for last", func() {
				l.Trigger(oaApp, alice, state.TriggerPayment, t0)
				l.Trigger(oaApp, alice, state.TriggerMessage, t0.Add(time.Hour))
				for range 5 {
					g, err := l.Consume(oaApp, alice, t0.Add(2*time.Hour))
					Expect(err).NotTo(HaveOccurred())
					Expect(g.Trigger).To(Equal(state.TriggerMessage))
				}
				g, err := l.Consume(oaApp, alice, t0.Add(2*time.Hour))
				Expect(err).NotTo(HaveOccurred())
				Expect(g.Trigger).To(Equal(state.TriggerPayment))
			})

			It("has no window once every grant has passed", func() {
				l.Trigger(oaApp, alice, state.TriggerMessage, t0)
				l.Trigger(oaApp, alice, state.TriggerScan, t0.Add(47*time.Hour))
				g, err := l.Consume(oaApp, alice, t0.Add(47*time.Hour+30*time.Second))
				Expect(err).NotTo(HaveOccurred())
				Expect(g.Trigger).To(Equal(state.TriggerScan))
				_, err = l.Consume(oaApp, alice, t0.Add(48*time.Hour))
				Expect(err).To(MatchError(state.ErrNoWindow))
			})
		})
	})

	DescribeTable("Forget and Reset close every window",
		func(c state.Combine) {
			l := ledger("2023-06-12", c)
			l.Trigger(oaApp, alice, state.TriggerMessage, t0)
			l.Trigger(oaApp, bob, state.TriggerMessage, t0)
			l.Forget(oaApp, alice)
			_, err := l.Consume(oaApp, alice, t0)
			Expect(err).To(MatchError(state.ErrNoWindow))
			consumeN(l, oaApp, bob, 1, t0)
			l.Reset()
			_, err = l.Consume(oaApp, bob, t0)
			Expect(err).To(MatchError(state.ErrNoWindow))
			Expect(l.Snapshot()).To(BeEmpty())
		},
		Entry("reset", state.CombineReset),
		Entry("independent", state.CombineIndependent),
	)

	It("hands out copies", func() {
		l := ledger("2023-06-12", state.CombineIndependent)
		l.Trigger(oaApp, alice, state.TriggerMessage, t0)
		gs := l.Grants(oaApp, alice, t0)
		gs[0].Remaining = 0
		consumeN(l, oaApp, alice, 5, t0)
		s := l.Snapshot()
		s[0].Grants[0].Remaining = 5
		_, err := l.Consume(oaApp, alice, t0)
		Expect(err).To(MatchError(state.ErrQuotaUsed))
	})

	It("reports its rules and mode", func() {
		l := ledger("2021-06-01", state.CombineIndependent)
		Expect(l.Rules().Name).To(Equal("2021-06-01"))
		Expect(l.Combine()).To(Equal(state.CombineIndependent))
		Expect(state.NewLedger(l.Rules(), "whatever").Combine()).To(Equal(state.CombineReset))
	})

	It("honours configured limits", func() {
		rs, _ := state.RuleSetByName("2023-06-12")
		rs.Limits[state.TriggerMessage] = state.Limit{Max: 1, Window: time.Hour}
		l := state.NewLedger(rs, state.CombineReset)
		l.Trigger(oaApp, alice, state.TriggerMessage, t0)
		consumeN(l, oaApp, alice, 1, t0)
		_, err := l.Consume(oaApp, alice, t0)
		Expect(err).To(MatchError(state.ErrQuotaUsed))
		_, err = l.Consume(oaApp, alice, t0.Add(time.Hour))
		Expect(err).To(MatchError(state.ErrNoWindow))
	})

	It("drops expired users as it grows", func() {
		l := ledger("2023-06-12", state.CombineReset)
		const n = 100_000
		for i := range n {
			l.Trigger(oaApp, openid(i), state.TriggerClick, t0)
		}
		later := t0.Add(time.Hour)
		for i := n; i < 2*n; i++ {
			l.Trigger(oaApp, openid(i), state.TriggerMessage, later)
		}
		// A shard sweeps whenever it has doubled since its last sweep, so by the time the
		// second hundred thousand have come, the first, long expired, are mostly gone.
		Expect(len(l.Snapshot())).To(BeNumerically("<", 1.5*n))
		_, err := l.Consume(oaApp, openid(2*n-1), later)
		Expect(err).NotTo(HaveOccurred())
	})

	DescribeTable("exports and imports through JSON",
		func(c state.Combine) {
			l := ledger("2023-06-12", c)
			l.Trigger(oaApp, alice, state.TriggerMessage, t0)
			l.Trigger(oaApp, alice, state.TriggerClick, t0.Add(time.Hour))
			l.Trigger(mpApp, bob, state.TriggerTempSession, t0)
			consumeN(l, oaApp, alice, 1, t0.Add(time.Hour))
			b, err := json.Marshal(l.Snapshot())
			Expect(err).NotTo(HaveOccurred())
			Expect(string(b)).To(ContainSubstring(`"openid":"` + alice + `"`))
			Expect(string(b)).To(ContainSubstring(`"remaining":`))

			var us []state.UserGrants
			Expect(json.Unmarshal(b, &us)).To(Succeed())
			m := ledger("2023-06-12", c)
			m.Trigger(oaApp, "someone-else", state.TriggerMessage, t0)
			m.Restore(us)
			Expect(m.Snapshot()).To(Equal(l.Snapshot()))
			now := t0.Add(time.Hour)
			Expect(m.Grants(oaApp, alice, now)).To(Equal(l.Grants(oaApp, alice, now)))
			Expect(m.Grants(oaApp, "someone-else", now)).To(BeEmpty())
		},
		Entry("reset", state.CombineReset),
		Entry("independent", state.CombineIndependent),
	)

	It("keeps one grant per user when an independent export is imported into reset mode", func() {
		l := ledger("2023-06-12", state.CombineIndependent)
		l.Trigger(oaApp, alice, state.TriggerMessage, t0)
		l.Trigger(oaApp, alice, state.TriggerClick, t0)
		m := ledger("2023-06-12", state.CombineReset)
		m.Restore(append(l.Snapshot(), state.UserGrants{App: oaApp, OpenID: bob, Grants: []state.Grant{{Trigger: "bogus"}}}))
		gs := m.Grants(oaApp, alice, t0)
		Expect(gs).To(HaveLen(1))
		Expect(gs[0].Trigger).To(Equal(state.TriggerMessage))
		Expect(m.Grants(oaApp, bob, t0)).To(BeEmpty())
	})

	DescribeTable("lets exactly the quota through when 1,000 sends race",
		func(c state.Combine) {
			for round := range 20 {
				l := ledger("2023-06-12", c)
				l.Trigger(oaApp, alice, state.TriggerMessage, t0)
				var ok, used, other atomic.Int64
				var wg sync.WaitGroup
				start := make(chan struct{})
				for range 1000 {
					wg.Go(func() {
						<-start
						_, err := l.Consume(oaApp, alice, t0.Add(time.Second))
						switch {
						case err == nil:
							ok.Add(1)
						case errors.Is(err, state.ErrQuotaUsed):
							used.Add(1)
						default:
							other.Add(1)
						}
					})
				}
				close(start)
				wg.Wait()
				Expect(ok.Load()).To(BeEquivalentTo(5), "round %d", round)
				Expect(used.Load()).To(BeEquivalentTo(995), "round %d", round)
				Expect(other.Load()).To(BeZero(), "round %d", round)
			}
		},
		Entry("reset", state.CombineReset),
		Entry("independent", state.CombineIndependent),
	)
})

func openid(i int) string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := []byte("o6_bmjrPTlm6_2sgVt7h0000000")
	for j := len(b) - 1; i > 0; j-- {
		b[j] = digits[i%len(digits)]
		i /= len(digits)
	}
	return string(b)
}
