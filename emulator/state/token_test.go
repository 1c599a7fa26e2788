package state_test

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/state"
)

// seeded is a reproducible source of random bytes.
func seeded(n byte) *rand.ChaCha8 {
	var seed [32]byte
	seed[0] = n
	return rand.NewChaCha8(seed)
}

// china is the zone WeChat's days follow.
var china = time.FixedZone("UTC+8", 8*60*60)

var _ = Describe("Tokens", func() {
	var tokens *state.Tokens
	BeforeEach(func() { tokens = state.NewTokens(seeded(1)) })

	issue := func(now time.Time) state.Token {
		GinkgoHelper()
		tk, err := tokens.Issue(oaApp, now, now)
		Expect(err).NotTo(HaveOccurred())
		return tk
	}
	stable := func(force bool, now time.Time) state.Token {
		GinkgoHelper()
		tk, err := tokens.Stable(oaApp, force, now, now)
		Expect(err).NotTo(HaveOccurred())
		return tk
	}
	expectValid := func(tk state.Token, now time.Time) {
		GinkgoHelper()
		appid, err := tokens.Check(tk.Value, now)
		Expect(err).NotTo(HaveOccurred())
		Expect(appid).To(Equal(tk.AppID))
	}
	// expectRejected also checks that a refused token still names its app, for the journal.
	expectRejected := func(tk state.Token, now time.Time, want error) {
		GinkgoHelper()
		appid, err := tokens.Check(tk.Value, now)
		Expect(err).To(MatchError(want))
		Expect(appid).To(Equal(tk.AppID), "a refused token still names its app")
	}

	Describe("/cgi-bin/token", func() {
		It("issues opaque tokens shaped like WeChat's, a new one on every call", func() {
			a, b := issue(t0), issue(t0)
			Expect(a.Value).To(MatchRegexp(`^[0-9]+_[A-Za-z0-9_-]{128}$`))
			Expect(a.Value).NotTo(Equal(b.Value))
			Expect(a).To(Equal(state.Token{Value: a.Value, AppID: oaApp, Issued: t0, Expires: t0.Add(7200 * time.Second)}))
			Expect(a.ExpiresIn(t0)).To(Equal(7200))
		})

		It("issues the same tokens from the same random source", func() {
			other := state.NewTokens(seeded(1))
			tk, err := other.Issue(oaApp, t0, t0)
			Expect(err).NotTo(HaveOccurred())
			Expect(tk).To(Equal(issue(t0)))
		})

		It("counts expires_in down in whole seconds and never below zero", func() {
			tk := issue(t0)
			Expect(tk.ExpiresIn(t0.Add(1500 * time.Millisecond))).To(Equal(7198))
			Expect(tk.ExpiresIn(t0.Add(7199 * time.Second))).To(Equal(1))
			Expect(tk.ExpiresIn(t0.Add(3 * time.Hour))).To(Equal(0))
		})

		It("accepts a token until the end of its 7200 seconds, then says it expired", func() {
			tk := issue(t0)
			expectValid(tk, t0)
			expectValid(tk, t0.Add(7200*time.Second-time.Nanosecond))
			expectRejected(tk, t0.Add(7200*time.Second), state.ErrTokenExpired)
		})

		It("keeps the previous token valid for 5 minutes after a new one", func() {
			old := issue(t0)
			renewed := t0.Add(10 * time.Minute)
			issue(renewed)
			expectValid(old, renewed.Add(5*time.Minute-time.Nanosecond))
			expectRejected(old, renewed.Add(5*time.Minute), state.ErrTokenUnknown)
		})

		It("lets only the latest token outlive the overlap of a series of renewals", func() {
			a := issue(t0)
			b := issue(t0.Add(time.Minute))
			c := issue(t0.Add(2 * time.Minute))
			now := t0.Add(6*time.Minute + time.Nanosecond)
			expectRejected(a, now, state.ErrTokenUnknown)
			expectValid(b, now)
			expectValid(c, now)
			now = t0.Add(7 * time.Minute)
			expectRejected(b, now, state.ErrTokenUnknown)
			expectValid(c, now)
		})

		It("ends the overlap at the old token's own expiry when that comes first", func() {
			old := issue(t0)
			issue(t0.Add(7200*time.Second - time.Minute))
			expectValid(old, t0.Add(7200*time.Second-time.Nanosecond))
			expectRejected(old, t0.Add(7200*time.Second), state.ErrTokenExpired)
		})

		It("still tells an expired token from an unknown one after forgetting both", func() {
			expired := issue(t0)
			superseded := issue(t0.Add(3 * time.Hour))
			later := t0.Add(4 * time.Hour)
			current := issue(later) // forgets what can no longer be valid
			expectRejected(expired, later, state.ErrTokenExpired)
			expectRejected(superseded, later.Add(5*time.Minute), state.ErrTokenUnknown)
			expectValid(current, later.Add(5*time.Minute))
			Expect(tokens.Snapshot().Tokens).To(HaveLen(1), "only the current token is held")
		})

		It("limits each app to 2000 calls per WeChat day, which starts at midnight UTC+8", func() {
			morning := time.Date(2026, 11, 21, 10, 0, 0, 0, china)
			for range 2000 {
				issue(morning)
			}
			_, err := tokens.Issue(oaApp, morning, morning)
			Expect(err).To(MatchError(state.ErrDailyQuota))
			late := time.Date(2026, 11, 21, 23, 59, 59, 999999999, china)
			_, err = tokens.Issue(oaApp, late, late)
			Expect(err).To(MatchError(state.ErrDailyQuota))
			_, err = tokens.Issue(mpApp, morning, morning)
			Expect(err).NotTo(HaveOccurred(), "every app has its own quota")
			_, err = tokens.Stable(oaApp, false, morning, morning)
			Expect(err).NotTo(HaveOccurred(), "stable_token has its own quota")

			midnight := time.Date(2026, 11, 22, 0, 0, 0, 0, china)
			Expect(midnight.UTC().Hour()).To(Equal(16), "WeChat's day starts at 16:00 UTC")
			issue(midnight.UTC())
		})

		It("takes its daily limit from configuration", func() {
			tokens.DailyLimit = 2
			issue(t0)
			issue(t0)
			_, err := tokens.Issue(oaApp, t0, t0)
			Expect(err).To(MatchError(state.ErrDailyQuota))
		})
	})

	Describe("/cgi-bin/stable_token", func() {
		It("hands out the same token while more than 5 minutes are left, counting down", func() {
			tk := stable(false, t0)
			Expect(tk.Stable).To(BeTrue())
			Expect(tk.ExpiresIn(t0)).To(Equal(7200))
			again := stable(false, t0.Add(time.Hour))
			Expect(again).To(Equal(tk))
			Expect(again.ExpiresIn(t0.Add(time.Hour))).To(Equal(3600))
			last := t0.Add(7200*time.Second - 5*time.Minute - time.Nanosecond)
			Expect(stable(false, last)).To(Equal(tk))
			Expect(tk.ExpiresIn(last)).To(Equal(300))
		})

		It("renews within the last 5 minutes, the old token staying valid until its own expiry", func() {
			old := stable(false, t0)
			renewal := t0.Add(7200*time.Second - 5*time.Minute)
			fresh := stable(false, renewal)
			Expect(fresh.Value).NotTo(Equal(old.Value))
			Expect(fresh.ExpiresIn(renewal)).To(Equal(7200))
			Expect(stable(false, renewal.Add(time.Minute))).To(Equal(fresh))
			expectValid(old, old.Expires.Add(-time.Nanosecond))
			expectRejected(old, old.Expires, state.ErrTokenExpired)
		})

		It("renews an expired token", func() {
			old := stable(false, t0)
			fresh := stable(false, t0.Add(3*time.Hour))
			Expect(fresh.Value).NotTo(Equal(old.Value))
			expectValid(fresh, t0.Add(3*time.Hour))
		})

		It("is isolated from /cgi-bin/token", func() {
			st := stable(false, t0)
			plain := issue(t0.Add(time.Minute))
			issue(t0.Add(2 * time.Minute))
			later := t0.Add(time.Hour)
			expectValid(st, later)
			expectRejected(plain, later, state.ErrTokenUnknown)
			stable(true, later)
			expectValid(issue(later), later.Add(time.Hour))
		})

		It("refreshes on force, the old token staying valid 5 more minutes", func() {
			old := stable(false, t0)
			forced := t0.Add(time.Hour)
			fresh := stable(true, forced)
			Expect(fresh.Value).NotTo(Equal(old.Value))
			Expect(fresh.ExpiresIn(forced)).To(Equal(7200))
			Expect(stable(false, forced.Add(time.Minute))).To(Equal(fresh))
			expectValid(old, forced.Add(5*time.Minute-time.Nanosecond))
			expectRejected(old, forced.Add(5*time.Minute), state.ErrTokenUnknown)
		})

		It("spaces forced refreshes at least 30 seconds apart", func() {
			stable(true, t0)
			soon := t0.Add(30*time.Second - time.Nanosecond)
			_, err := tokens.Stable(oaApp, true, soon, soon)
			Expect(err).To(MatchError(state.ErrForceRefreshTooSoon))
			stable(false, t0.Add(10*time.Second))
			stable(true, t0.Add(30*time.Second))
		})

		It("allows 20 forced refreshes per WeChat day", func() {
			morning := time.Date(2026, 11, 21, 8, 0, 0, 0, china)
			now := morning
			for range 20 {
				stable(true, now)
				now = now.Add(time.Minute)
			}
			_, err := tokens.Stable(oaApp, true, now, now)
			Expect(err).To(MatchError(state.ErrForceRefreshQuota))
			Expect(stable(false, now).Issued).To(Equal(now.Add(-time.Minute)), "the normal mode still works")
			late := time.Date(2026, 11, 21, 23, 59, 59, 0, china)
			_, err = tokens.Stable(oaApp, true, late, late)
			Expect(err).To(MatchError(state.ErrForceRefreshQuota))
			stable(true, time.Date(2026, 11, 22, 0, 0, 0, 0, china))
		})
	})

	Describe("Check", func() {
		It("asks for a token when there is none", func() {
			_, err := tokens.Check("", t0)
			Expect(err).To(MatchError(state.ErrTokenMissing))
		})

		DescribeTable("rejects strings that are not our tokens by shape",
			func(s string) {
				_, err := tokens.Check(s, t0)
				Expect(err).To(MatchError(state.ErrTokenMalformed))
			},
			Entry("a word", "ACCESS_TOKEN"),
			Entry("the right alphabet and length but a random body", "86_"+strings.Repeat("aB3_-x", 21)+"Qz"),
			Entry("no prefix", strings.Repeat("a", 131)),
			Entry("padding", "86_"+strings.Repeat("a", 126)+"=="),
			Entry("spaces", " 86_"+strings.Repeat("a", 128)),
		)

		It("rejects a token with one character changed", func() {
			tk := issue(t0)
			b := []byte(tk.Value)
			b[40] ^= 1
			_, err := tokens.Check(string(b), t0)
			Expect(err).To(MatchError(state.ErrTokenMalformed))
		})

		It("does not know tokens of another emulator", func() {
			other := state.NewTokens(seeded(2))
			tk, err := other.Issue(oaApp, t0, t0)
			Expect(err).NotTo(HaveOccurred())
			expectRejected(tk, t0, state.ErrTokenUnknown)
			expectRejected(tk, t0.Add(3*time.Hour), state.ErrTokenExpired)
		})
	})

	It("expires an app's tokens on demand", func() {
		superseded := issue(t0.Add(-time.Hour))
		plain, st := issue(t0.Add(-6*time.Minute)), stable(false, t0)
		theirs, err := tokens.Issue(mpApp, t0, t0)
		Expect(err).NotTo(HaveOccurred())
		Expect(tokens.Expire(oaApp, t0)).To(Equal(2), "the token and the stable token; not the one past its overlap")
		Expect(tokens.Expire("wx-nobody", t0)).To(Equal(0))
		Expect(tokens.Expire(oaApp, t0)).To(Equal(0), "nothing valid is left")
		expectRejected(superseded, t0, state.ErrTokenUnknown)
		expectRejected(plain, t0, state.ErrTokenExpired)
		expectRejected(st, t0, state.ErrTokenExpired)
		expectValid(theirs, t0)

		fresh := stable(false, t0.Add(time.Second))
		Expect(fresh.Value).NotTo(Equal(st.Value))
		expectValid(fresh, t0.Add(time.Second))
		expectValid(issue(t0.Add(time.Second)), t0.Add(time.Second))
		expectRejected(plain, t0.Add(time.Hour), state.ErrTokenExpired)
	})

	It("revokes an app's tokens on demand: unknown until their own expiry, still naming the app", func() {
		plain, st := issue(t0), stable(false, t0)
		theirs, err := tokens.Issue(mpApp, t0, t0)
		Expect(err).NotTo(HaveOccurred())
		Expect(tokens.Revoke(oaApp, t0.Add(time.Minute))).To(Equal(2))
		Expect(tokens.Revoke("wx-nobody", t0)).To(Equal(0))
		Expect(tokens.Revoke(oaApp, t0)).To(Equal(0))
		expectRejected(plain, t0.Add(time.Minute), state.ErrTokenUnknown)
		expectRejected(st, t0.Add(time.Minute), state.ErrTokenUnknown)
		expectRejected(st, t0.Add(2*time.Hour), state.ErrTokenExpired)
		expectValid(theirs, t0.Add(time.Minute))

		fresh := stable(false, t0.Add(time.Minute))
		Expect(fresh.Value).NotTo(Equal(st.Value))
		Expect(fresh.ExpiresIn(t0.Add(time.Minute))).To(Equal(7200))
		expectValid(issue(t0.Add(time.Minute)), t0.Add(time.Minute))
		Expect(tokens.Snapshot().Apps).To(ContainElement(And(HaveField("AppID", oaApp), HaveField("Issued", 2))), "the daily count stays")
	})

	It("counts lifetimes on token time and quotas on quota time", func() {
		tokens.DailyLimit = 1
		virtual := time.Date(2026, 11, 21, 10, 0, 0, 0, china)
		tk, err := tokens.Issue(oaApp, t0, virtual)
		Expect(err).NotTo(HaveOccurred())
		Expect(tk.Issued).To(Equal(t0))
		Expect(tk.Expires).To(Equal(t0.Add(7200 * time.Second)))
		later := t0.Add(48 * time.Hour)
		_, err = tokens.Issue(oaApp, later, virtual.Add(time.Hour))
		Expect(err).To(MatchError(state.ErrDailyQuota), "two days of token time are not a day of the quota's")
		expectRejected(tk, later, state.ErrTokenExpired)
		next, err := tokens.Issue(oaApp, later, virtual.Add(24*time.Hour))
		Expect(err).NotTo(HaveOccurred(), "the quota's day is over")
		expectValid(next, later.Add(7200*time.Second-time.Nanosecond))
		expectRejected(next, later.Add(7200*time.Second), state.ErrTokenExpired)

		_, err = tokens.Stable(oaApp, true, later, virtual)
		Expect(err).NotTo(HaveOccurred())
		_, err = tokens.Stable(oaApp, true, later.Add(time.Hour), virtual.Add(29*time.Second))
		Expect(err).To(MatchError(state.ErrForceRefreshTooSoon), "the spacing of forced refreshes is quota time")
		_, err = tokens.Stable(oaApp, true, later.Add(time.Hour), virtual.Add(30*time.Second))
		Expect(err).NotTo(HaveOccurred())
	})

	It("carries the appid in the token, and none when it is too long to carry", func() {
		long := strings.Repeat("x", 32)
		tk, err := tokens.Issue(long, t0, t0)
		Expect(err).NotTo(HaveOccurred())
		appid, err := tokens.Check(tk.Value, t0)
		Expect(err).NotTo(HaveOccurred())
		Expect(appid).To(Equal(long), "a held token is known by its record")
		Expect(tokens.Revoke(long, t0)).To(Equal(1))
		appid, err = tokens.Check(tk.Value, t0)
		Expect(err).To(MatchError(state.ErrTokenUnknown))
		Expect(appid).To(BeEmpty())
	})

	It("forgets everything on Reset", func() {
		tk := issue(t0)
		for range 1999 {
			issue(t0)
		}
		tokens.Reset()
		expectRejected(tk, t0, state.ErrTokenUnknown)
		issue(t0)
	})

	It("exports and imports through JSON", func() {
		old := issue(t0)
		cur := issue(t0.Add(time.Minute))
		st := stable(true, t0)
		tokens.Expire(mpApp, t0)
		theirs, err := tokens.Issue(mpApp, t0, t0)
		Expect(err).NotTo(HaveOccurred())
		tokens.Expire(mpApp, t0)

		b, err := json.Marshal(tokens.Snapshot())
		Expect(err).NotTo(HaveOccurred())
		Expect(string(b)).To(ContainSubstring(`"value":"` + cur.Value + `"`))
		var snap state.TokenSnapshot
		Expect(json.Unmarshal(b, &snap)).To(Succeed())
		snap.Tokens = append(snap.Tokens, state.TokenState{Token: state.Token{Value: "not-ours", AppID: oaApp}})

		restored := state.NewTokens(seeded(3))
		restored.Restore(snap)
		again, err := json.Marshal(restored.Snapshot())
		Expect(err).NotTo(HaveOccurred())
		Expect(again).To(MatchJSON(b))
		tokens = restored
		now := t0.Add(2 * time.Minute)
		expectValid(old, now)
		expectValid(cur, now)
		expectRejected(old, t0.Add(6*time.Minute), state.ErrTokenUnknown)
		expectRejected(theirs, now, state.ErrTokenExpired)
		Expect(stable(false, now)).To(Equal(st))
		tenSeconds := t0.Add(10 * time.Second)
		_, err = tokens.Stable(oaApp, true, tenSeconds, tenSeconds)
		Expect(err).To(MatchError(state.ErrForceRefreshTooSoon))
	})

	It("hands out copies in its snapshot", func() {
		tk := issue(t0)
		s := tokens.Snapshot()
		s.Tokens[0].Expired = true
		expectValid(tk, t0)
	})

	It("reports a failing random source", func() {
		broken := state.NewTokens(strings.NewReader("short"))
		_, err := broken.Issue(oaApp, t0, t0)
		Expect(err).To(HaveOccurred())
		_, err = broken.Stable(oaApp, false, t0, t0)
		Expect(err).To(HaveOccurred())
	})
})
