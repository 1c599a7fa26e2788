package state_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/state"
)

var _ = Describe("KF state", func() {
	const (
		wxid = "wxemu_demo"
		kf1  = "kf1@wxemu_demo"
		kf2  = "kf2@wxemu_demo"
		kf3  = "kf3@wxemu_demo"
		ann  = "o_ann"
		ben  = "o_ben"
		cat  = "o_cat"
	)
	var kf *state.KF
	BeforeEach(func() { kf = state.NewKF(state.KFConfig{}) })

	at := func(m float64) time.Time { return t0.Add(time.Duration(m * float64(time.Minute))) }
	yes := true

	// seed adds a bound agent.
	seed := func(account string, online, auto bool, capacity int) {
		kf.SeedAgent(oaApp, state.Agent{Account: account, Nickname: account[:3], WeChat: "wx_" + account[:3], Online: online, AutoAccept: auto, Capacity: capacity})
	}
	// brief shows events as "kind openid account", the way the journal reads them.
	brief := func(events []state.KFEvent) []string {
		out := []string{}
		for _, e := range events {
			s := e.Kind + " " + e.OpenID
			if e.Account != "" {
				s += " " + e.Account
			}
			out = append(out, s)
		}
		return out
	}
	must := func(events []state.KFEvent, err error) []state.KFEvent {
		GinkgoHelper()
		Expect(err).NotTo(HaveOccurred())
		return events
	}
	inSession := func(openid string, now time.Time) bool {
		_, in, _ := kf.Route(oaApp, openid, now)
		return in
	}
	agentOf := func(k *state.KF, account string, now time.Time) state.Agent {
		GinkgoHelper()
		ag, ok := k.Agent(oaApp, account, now)
		Expect(ok).To(BeTrue(), "no agent %s", account)
		return ag
	}
	waitingOf := func(k *state.KF, openid string) state.Waiting {
		GinkgoHelper()
		w, ok := k.WaitingFor(oaApp, openid)
		Expect(ok).To(BeTrue(), "%s does not wait", openid)
		return w
	}
	waitCount := func(now time.Time) int {
		n, _ := kf.WaitCase(oaApp, now)
		return n
	}
	sessionOf := func(openid string, now time.Time) state.Session {
		GinkgoHelper()
		s, ok := kf.Session(oaApp, openid, now)
		Expect(ok).To(BeTrue(), "%s has no session", openid)
		return s
	}
	accepted := func(account string) int {
		GinkgoHelper()
		return agentOf(kf, account, t0).Accepted
	}

	Describe("accounts", func() {
		It("adds accounts with IDs from 1001 in order of creation, unbound, capacity 5", func() {
			a, err := kf.AddAccount(oaApp, wxid, kf1, "客服小王")
			Expect(err).NotTo(HaveOccurred())
			Expect(a).To(Equal(state.Agent{Account: kf1, Nickname: "客服小王", ID: 1001, Capacity: 5}))
			_, err = kf.AddAccount(oaApp, wxid, kf2, "Li")
			Expect(err).NotTo(HaveOccurred())
			_, err = kf.AddAccount(mpApp, wxid, kf1, "other app")
			Expect(err).NotTo(HaveOccurred())

			Expect(kf.Agents(oaApp, t0)).To(HaveExactElements(HaveField("ID", 1001), HaveField("ID", 1002)))
			Expect(kf.Agents(mpApp, t0)).To(HaveExactElements(HaveField("ID", 1001)))
			Expect(kf.Agents("wx_unknown", t0)).To(BeEmpty())
		})

		DescribeTable("refuses a malformed account or nickname with WeChat's code",
			func(account, nickname string, want error) {
				_, err := kf.AddAccount(oaApp, wxid, account, nickname)
				Expect(err).To(MatchError(want))
				Expect(kf.Agents(oaApp, t0)).To(BeEmpty())
			},
			Entry("65404 without @", "kf1wxemu_demo", "n", state.ErrKfIllegalAccount),
			Entry("65404 for another account's WeChat id", "kf1@other_wx", "n", state.ErrKfIllegalAccount),
			Entry("65404 for a second @", "kf1@x@wxemu_demo", "n", state.ErrKfIllegalAccount),
			Entry("61454 for an empty prefix", "@wxemu_demo", "n", state.ErrKfAccountLength),
			Entry("61454 for an 11-character prefix", "abcdefghijk@wxemu_demo", "n", state.ErrKfAccountLength),
			Entry("61455 for a hyphen", "kf-1@wxemu_demo", "n", state.ErrKfAccountIllegalChar),
			Entry("61455 for Chinese", "客服@wxemu_demo", "n", state.ErrKfAccountIllegalChar),
			Entry("65403 for an empty nickname", kf1, "", state.ErrKfIllegalNickname),
			Entry("65403 for 17 characters", kf1, strings.Repeat("客", 17), state.ErrKfIllegalNickname),
		)

		It("takes the longest prefix and nickname allowed", func() {
			_, err := kf.AddAccount(oaApp, wxid, "Abc_456789@wxemu_demo", strings.Repeat("客", 16))
			Expect(err).NotTo(HaveOccurred())
		})

		It("answers 65406 for an account that exists and 65405 past the limit, and never reuses an ID", func() {
			kf = state.NewKF(state.KFConfig{MaxAccounts: 2})
			_, err := kf.AddAccount(oaApp, wxid, kf1, "a")
			Expect(err).NotTo(HaveOccurred())
			_, err = kf.AddAccount(oaApp, wxid, kf1, "again")
			Expect(err).To(MatchError(state.ErrKfAccountExists))
			_, err = kf.AddAccount(oaApp, wxid, kf2, "b")
			Expect(err).NotTo(HaveOccurred())
			_, err = kf.AddAccount(oaApp, wxid, kf3, "c")
			Expect(err).To(MatchError(state.ErrKfAccountLimit))

			must(kf.DeleteAccount(oaApp, kf1, t0))
			a, err := kf.AddAccount(oaApp, wxid, kf3, "c")
			Expect(err).NotTo(HaveOccurred())
			Expect(a.ID).To(Equal(1003))
		})

		It("updates the nickname and the head image of a known account only", func() {
			_, err := kf.UpdateAccount(oaApp, kf1, "x")
			Expect(err).To(MatchError(state.ErrKfAccountUnknown))
			Expect(kf.SetHeadImg(oaApp, kf1, "http://img")).To(MatchError(state.ErrKfAccountUnknown))

			_, _ = kf.AddAccount(oaApp, wxid, kf1, "old")
			_, err = kf.UpdateAccount(oaApp, kf1, strings.Repeat("n", 17))
			Expect(err).To(MatchError(state.ErrKfIllegalNickname))
			a, err := kf.UpdateAccount(oaApp, kf1, "new")
			Expect(err).NotTo(HaveOccurred())
			Expect(a.Nickname).To(Equal("new"))
			Expect(kf.SetHeadImg(oaApp, kf1, "http://img")).To(Succeed())
			Expect(agentOf(kf, kf1, t0)).To(And(HaveField("Nickname", "new"), HaveField("HeadImgURL", "http://img")))
		})

		It("seeds agents as configured, with the next ID and capacity 5 by default", func() {
			_, _ = kf.AddAccount(oaApp, wxid, kf1, "a")
			kf.SeedAgent(oaApp, state.Agent{Account: kf2, Nickname: "b", WeChat: "wx_b", Online: true, AutoAccept: true, ID: 7, Accepted: 3})
			kf.SeedAgent(oaApp, state.Agent{Account: kf2, Nickname: "duplicate"})
			Expect(agentOf(kf, kf2, t0)).To(Equal(state.Agent{Account: kf2, Nickname: "b", ID: 1002, WeChat: "wx_b", Online: true, AutoAccept: true, Capacity: 5}))
		})

		Describe("inviteworker", func() {
			BeforeEach(func() { _, _ = kf.AddAccount(oaApp, wxid, kf1, "a") })

			It("binds the WeChat that accepts, after which the account can go online", func() {
				_, _, err := kf.SetAgent(oaApp, kf1, &yes, nil, nil, t0)
				Expect(err).To(MatchError(state.ErrKfNotBound))

				a, err := kf.Invite(oaApp, kf1, "wang_kf", t0)
				Expect(err).NotTo(HaveOccurred())
				Expect(a).To(And(HaveField("InviteWX", "wang_kf"), HaveField("InviteStatus", "waiting"), HaveField("InviteExpires", t0.Add(7*24*time.Hour))))

				_, err = kf.Invite(oaApp, kf1, "wang_kf", at(1))
				Expect(err).To(MatchError(state.ErrKfAlreadyInvited))
				_, err = kf.Invite(oaApp, kf1, "li_kf_01", at(1))
				Expect(err).To(MatchError(state.ErrKfInvitationPending))

				a, err = kf.RespondInvite(oaApp, kf1, true, at(2))
				Expect(err).NotTo(HaveOccurred())
				Expect(a).To(And(HaveField("WeChat", "wang_kf"), HaveField("InviteStatus", ""), HaveField("InviteWX", "")))
				_, err = kf.Invite(oaApp, kf1, "li_kf_01", at(3))
				Expect(err).To(MatchError(state.ErrKfAccountBound))

				a, _, err = kf.SetAgent(oaApp, kf1, &yes, &yes, nil, at(4))
				Expect(err).NotTo(HaveOccurred())
				Expect(a.Online).To(BeTrue())
			})

			It("lets a rejected invitation be followed by another", func() {
				_, _ = kf.Invite(oaApp, kf1, "wang_kf", t0)
				a, err := kf.RespondInvite(oaApp, kf1, false, at(1))
				Expect(err).NotTo(HaveOccurred())
				Expect(a.InviteStatus).To(Equal("rejected"))
				_, err = kf.RespondInvite(oaApp, kf1, true, at(2))
				Expect(err).To(MatchError(state.ErrKfInviteExpired))
				_, err = kf.Invite(oaApp, kf1, "li_kf_01", at(3))
				Expect(err).NotTo(HaveOccurred())
			})

			It("reads expired from the end of the validity on, when it can no longer be answered", func() {
				kf = state.NewKF(state.KFConfig{InviteValidity: time.Hour})
				_, _ = kf.AddAccount(oaApp, wxid, kf1, "a")
				_, _ = kf.Invite(oaApp, kf1, "wang_kf", t0)
				Expect(agentOf(kf, kf1, at(59))).To(HaveField("InviteStatus", "waiting"))
				Expect(kf.Agents(oaApp, at(60))).To(HaveExactElements(HaveField("InviteStatus", "expired")))
				_, err := kf.RespondInvite(oaApp, kf1, true, at(60))
				Expect(err).To(MatchError(state.ErrKfInviteExpired))
				a, err := kf.Invite(oaApp, kf1, "wang_kf", at(61))
				Expect(err).NotTo(HaveOccurred())
				Expect(a.InviteExpires).To(Equal(at(121)))
			})

			DescribeTable("answers 65409 for what is not a WeChat id",
				func(wx string) {
					_, err := kf.Invite(oaApp, kf1, wx, t0)
					Expect(err).To(MatchError(state.ErrKfWeChatInvalid))
				},
				Entry("empty", ""),
				Entry("5 characters", "abcde"),
				Entry("21 characters", "a"+strings.Repeat("b", 20)),
				Entry("a digit first", "1abcdef"),
				Entry("a space", "wang kf"),
			)

			It("takes 6 and 20 characters with _ and -", func() {
				_, err := kf.Invite(oaApp, kf1, "a_b-c1", t0)
				Expect(err).NotTo(HaveOccurred())
				_, _ = kf.AddAccount(oaApp, wxid, kf2, "b")
				_, err = kf.Invite(oaApp, kf2, "a"+strings.Repeat("b", 19), t0)
				Expect(err).NotTo(HaveOccurred())
			})

			It("answers 65401 for an unknown account and 65407 for a WeChat already bound in the app", func() {
				_, err := kf.Invite(oaApp, kf2, "wang_kf", t0)
				Expect(err).To(MatchError(state.ErrKfAccountUnknown))
				_, err = kf.RespondInvite(oaApp, kf2, true, t0)
				Expect(err).To(MatchError(state.ErrKfAccountUnknown))

				_, _ = kf.Invite(oaApp, kf1, "wang_kf", t0)
				_, _ = kf.RespondInvite(oaApp, kf1, true, t0)
				_, _ = kf.AddAccount(oaApp, wxid, kf2, "b")
				_, err = kf.Invite(oaApp, kf2, "wang_kf", t0)
				Expect(err).To(MatchError(state.ErrKfAlreadyWorker))

				_, _ = kf.AddAccount(mpApp, wxid, kf1, "mp")
				_, err = kf.Invite(mpApp, kf1, "wang_kf", t0)
				Expect(err).NotTo(HaveOccurred(), "another app may bind the same person")
			})
		})

		It("answers 65401 when setting an unknown agent and ignores a capacity below 1", func() {
			_, _, err := kf.SetAgent(oaApp, kf1, &yes, nil, nil, t0)
			Expect(err).To(MatchError(state.ErrKfAccountUnknown))
			seed(kf1, false, false, 3)
			zero, four := 0, 4
			a, _, err := kf.SetAgent(oaApp, kf1, nil, nil, &zero, t0)
			Expect(err).NotTo(HaveOccurred())
			Expect(a.Capacity).To(Equal(3))
			a, _, _ = kf.SetAgent(oaApp, kf1, nil, nil, &four, t0)
			Expect(a.Capacity).To(Equal(4))
		})
	})

	Describe("the transfer life cycle", func() {
		It("queues a user, lets an agent accept by hand, and ends with a close", func() {
			seed(kf1, true, false, 5)
			Expect(kf.Transfer(oaApp, ann, "", t0)).To(Equal([]state.KFEvent{{Kind: "queued", App: oaApp, OpenID: ann, At: t0}}))
			Expect(inSession(ann, at(1))).To(BeFalse(), "a waiting user still talks to the bot")
			Expect(waitingOf(kf, ann)).To(Equal(state.Waiting{App: oaApp, OpenID: ann, Since: t0, Latest: t0}))

			Expect(kf.Transfer(oaApp, ann, "", at(2))).To(BeEmpty(), "a second transfer only moves latest_time")
			count, waiting := kf.WaitCase(oaApp, at(2))
			Expect(count).To(Equal(1))
			Expect(waiting).To(Equal([]state.Waiting{{App: oaApp, OpenID: ann, Since: t0, Latest: at(2)}}))

			Expect(must(kf.Accept(oaApp, kf1, ann, at(3)))).To(Equal([]state.KFEvent{
				{Kind: "accepted", App: oaApp, OpenID: ann, Account: kf1, Cause: "accepted by the agent", At: at(3)}}))
			s, in, expired := kf.Route(oaApp, ann, at(4))
			Expect(in).To(BeTrue())
			Expect(expired).To(BeEmpty())
			Expect(s).To(Equal(state.Session{App: oaApp, OpenID: ann, Account: kf1, Created: at(3), LastActivity: at(3)}))
			Expect(accepted(kf1)).To(Equal(1))
			Expect(waitCount(at(4))).To(Equal(0))
			Expect(kf.Transfer(oaApp, ann, kf2, at(5))).To(BeEmpty(), "a user in a session stays with the agent")

			Expect(must(kf.Close(oaApp, kf1, ann, at(6)))).To(Equal([]state.KFEvent{
				{Kind: "closed", App: oaApp, OpenID: ann, Account: kf1, Cause: "closed by the agent", At: at(6)}}))
			Expect(inSession(ann, at(6))).To(BeFalse())
			Expect(accepted(kf1)).To(Equal(0))
		})

		It("gives a plain transfer to the auto-accepting agent serving the fewest, the lowest ID on a tie", func() {
			seed(kf1, true, false, 5) // accepts by hand only
			seed(kf2, true, true, 5)
			seed(kf3, true, true, 5)
			Expect(brief(kf.Transfer(oaApp, ann, "", t0))).To(Equal([]string{"queued o_ann", "accepted o_ann " + kf2}))
			Expect(brief(kf.Transfer(oaApp, ben, "", t0))).To(Equal([]string{"queued o_ben", "accepted o_ben " + kf3}))
			Expect(brief(kf.Transfer(oaApp, cat, "", t0))).To(Equal([]string{"queued o_cat", "accepted o_cat " + kf2}))
			Expect(kf.Sessions(oaApp, kf2, t0)).To(HaveExactElements(HaveField("OpenID", ann), HaveField("OpenID", cat)))
			Expect(kf.Sessions(oaApp, kf1, t0)).To(BeEmpty())
		})

		It("keeps a user TransInfo names for that agent while it is offline, and it takes them on coming online", func() {
			seed(kf1, false, true, 5)
			seed(kf2, true, true, 5)
			Expect(kf.Transfer(oaApp, ann, kf1, t0)).To(Equal([]state.KFEvent{
				{Kind: "assigned", App: oaApp, OpenID: ann, Account: kf1, Cause: "TransInfo names it", At: t0}}))
			Expect(waitingOf(kf, ann)).To(HaveField("Account", kf1))

			Expect(brief(kf.Transfer(oaApp, ben, "", at(1)))).To(Equal([]string{"queued o_ben", "accepted o_ben " + kf2}), "kf2 has room but leaves ann to kf1")
			_, err := kf.Accept(oaApp, kf2, ann, at(2))
			Expect(err).To(MatchError(state.ErrKfServedByAnother))
			Expect(waitingOf(kf, ann)).To(HaveField("Account", kf1))

			_, events, err := kf.SetAgent(oaApp, kf1, &yes, nil, nil, at(3))
			Expect(err).NotTo(HaveOccurred())
			Expect(events).To(Equal([]state.KFEvent{{Kind: "accepted", App: oaApp, OpenID: ann, Account: kf1, Cause: "auto-accept", At: at(3)}}))
			Expect(inSession(ann, at(3))).To(BeTrue())
		})

		It("keeps a user TransInfo names for a full agent, and the agent accepts by hand ignoring capacity", func() {
			seed(kf1, true, false, 1)
			_ = must(kf.Create(oaApp, kf1, ben, t0))
			Expect(brief(kf.Transfer(oaApp, ann, kf1, at(1)))).To(Equal([]string{"assigned o_ann " + kf1}))
			Expect(brief(must(kf.Accept(oaApp, kf1, ann, at(2))))).To(Equal([]string{"accepted o_ann " + kf1}))
			Expect(accepted(kf1)).To(Equal(2))
		})

		It("has an online auto-accepting named agent with room accept at once", func() {
			seed(kf1, true, true, 5)
			Expect(brief(kf.Transfer(oaApp, ann, kf1, t0))).To(Equal([]string{"assigned o_ann " + kf1, "accepted o_ann " + kf1}))
		})

		It("treats TransInfo naming an unknown account as a plain transfer and says so", func() {
			seed(kf1, true, true, 5)
			events := kf.Transfer(oaApp, ann, "ghost@wxemu_demo", t0)
			Expect(brief(events)).To(Equal([]string{"queued o_ann", "accepted o_ann " + kf1}))
			Expect(events[0].Cause).To(ContainSubstring("ghost@wxemu_demo does not exist"))
		})

		It("queues past capacity, and a close frees room for the earliest waiting user", func() {
			seed(kf1, true, true, 1)
			Expect(brief(kf.Transfer(oaApp, ann, "", t0))).To(Equal([]string{"queued o_ann", "accepted o_ann " + kf1}))
			Expect(brief(kf.Transfer(oaApp, ben, "", at(1)))).To(Equal([]string{"queued o_ben"}))
			Expect(brief(kf.Transfer(oaApp, cat, "", at(2)))).To(Equal([]string{"queued o_cat"}))
			Expect(waitCount(at(2))).To(Equal(2))
			Expect(brief(must(kf.Close(oaApp, kf1, ann, at(3))))).To(Equal([]string{"closed o_ann " + kf1, "accepted o_ben " + kf1}))
			_, waiting := kf.WaitCase(oaApp, at(3))
			Expect(waiting).To(HaveExactElements(HaveField("OpenID", cat)))
		})

		It("does not give a freed agent a user who waits for another agent", func() {
			seed(kf1, true, true, 1)
			seed(kf2, false, false, 5)
			kf.Transfer(oaApp, ann, "", t0)
			kf.Transfer(oaApp, ben, kf2, at(1))
			kf.Transfer(oaApp, cat, "", at(2))
			Expect(brief(must(kf.Close(oaApp, kf1, ann, at(3))))).To(Equal([]string{"closed o_ann " + kf1, "accepted o_cat " + kf1}))
			Expect(waitingOf(kf, ben)).To(HaveField("Account", kf2))
		})

		It("lists at most 100 waiting users, earliest first, and counts them all", func() {
			for i := 150; i > 0; i-- {
				kf.Transfer(oaApp, openid(i), "", t0.Add(-time.Duration(i)*time.Second))
			}
			count, waiting := kf.WaitCase(oaApp, t0)
			Expect(count).To(Equal(150))
			Expect(waiting).To(HaveLen(100))
			Expect(waiting[0].OpenID).To(Equal(openid(150)))
			Expect(waiting[99].OpenID).To(Equal(openid(51)))
		})

		Describe("kfsession/create", func() {
			BeforeEach(func() {
				seed(kf1, true, false, 1)
				seed(kf2, true, false, 5)
			})

			It("opens a session for a waiting user or anyone else, ignoring capacity", func() {
				kf.Transfer(oaApp, ann, "", t0)
				Expect(must(kf.Create(oaApp, kf1, ann, at(1)))).To(Equal([]state.KFEvent{
					{Kind: "accepted", App: oaApp, OpenID: ann, Account: kf1, Cause: "kfsession/create", At: at(1)}}))
				Expect(waitCount(at(1))).To(Equal(0))
				Expect(brief(must(kf.Create(oaApp, kf1, ben, at(1))))).To(Equal([]string{"accepted o_ben " + kf1}))
				Expect(must(kf.Create(oaApp, kf1, ann, at(2)))).To(BeEmpty(), "the same session again is a success")
				Expect(accepted(kf1)).To(Equal(2))
			})

			It("answers 65414 when another agent serves the user", func() {
				_ = must(kf.Create(oaApp, kf1, ann, t0))
				_, err := kf.Create(oaApp, kf2, ann, t0)
				Expect(err).To(MatchError(state.ErrKfServedByAnother))
			})

			It("takes a user TransInfo assigned to another agent", func() {
				kf.Transfer(oaApp, ann, kf2, t0)
				Expect(brief(must(kf.Create(oaApp, kf1, ann, t0)))).To(Equal([]string{"accepted o_ann " + kf1}))
				_, waiting := kf.WaitingFor(oaApp, ann)
				Expect(waiting).To(BeFalse())
			})
		})

		Describe("errors of starting a session", func() {
			BeforeEach(func() {
				_, _ = kf.AddAccount(oaApp, wxid, kf1, "unbound")
				seed(kf2, false, false, 5)
				seed(kf3, true, false, 5)
				kf.Transfer(oaApp, ann, "", t0)
			})

			DescribeTable("for Accept and Create alike",
				func(account string, want error) {
					_, err := kf.Accept(oaApp, account, ann, t0)
					Expect(err).To(MatchError(want))
					_, err = kf.Create(oaApp, account, ann, t0)
					Expect(err).To(MatchError(want))
					Expect(waitingOf(kf, ann)).To(HaveField("OpenID", ann))
				},
				Entry("65401 for an unknown account", "ghost@wxemu_demo", state.ErrKfAccountUnknown),
				Entry("65402 for an unbound account", kf1, state.ErrKfNotBound),
				Entry("65415 for an offline agent", kf2, state.ErrKfOffline),
			)

			It("refuses to accept a user who does not wait, or whom another agent serves", func() {
				_, err := kf.Accept(oaApp, kf3, ben, t0)
				Expect(err).To(MatchError(state.ErrKfNotWaiting))
				_ = must(kf.Accept(oaApp, kf3, ann, t0))
				_, err = kf.Accept(oaApp, kf3, ann, t0)
				Expect(err).To(MatchError(state.ErrKfNotWaiting))
				_, _, _ = kf.SetAgent(oaApp, kf2, &yes, nil, nil, t0)
				_, err = kf.Accept(oaApp, kf2, ann, t0)
				Expect(err).To(MatchError(state.ErrKfServedByAnother))
			})
		})

		It("answers 65413 for a close without a session with that agent", func() {
			seed(kf1, true, false, 5)
			seed(kf2, true, false, 5)
			_, err := kf.Close(oaApp, kf1, ann, t0)
			Expect(err).To(MatchError(state.ErrKfNoSession))
			_ = must(kf.Create(oaApp, kf1, ann, t0))
			_, err = kf.Close(oaApp, kf2, ann, t0)
			Expect(err).To(MatchError(state.ErrKfNoSession))
			Expect(inSession(ann, t0)).To(BeTrue())
		})

		Describe("switching", func() {
			BeforeEach(func() {
				seed(kf1, true, true, 1)
				seed(kf2, true, false, 1)
				kf.Transfer(oaApp, ann, "", t0)
				kf.Transfer(oaApp, ben, "", at(1))
			})

			It("moves the session and its load, and the freed agent takes the next user", func() {
				events := must(kf.Switch(oaApp, kf1, kf2, ann, at(5)))
				Expect(events).To(HaveLen(2))
				Expect(events[0]).To(Equal(state.KFEvent{Kind: "switched", App: oaApp, OpenID: ann, Account: kf2, FromAccount: kf1, ToAccount: kf2, Cause: "switched by the agent", At: at(5)}))
				Expect(brief(events[1:])).To(Equal([]string{"accepted o_ben " + kf1}))
				s, _ := kf.Session(oaApp, ann, at(5))
				Expect(s).To(Equal(state.Session{App: oaApp, OpenID: ann, Account: kf2, Created: t0, LastActivity: at(5)}))
				Expect(accepted(kf1)).To(Equal(1))
				Expect(accepted(kf2)).To(Equal(1))
				Expect(must(kf.Switch(oaApp, kf2, kf2, ann, at(6)))).To(BeEmpty())
			})

			DescribeTable("refuses with WeChat's code",
				func(from, to, user string, want error) {
					_, _ = kf.AddAccount(oaApp, wxid, "unbound@wxemu_demo", "u")
					seed(kf3, false, false, 5)
					_, err := kf.Switch(oaApp, from, to, user, at(5))
					Expect(err).To(MatchError(want))
					Expect(sessionOf(ann, at(5))).To(HaveField("Account", kf1))
				},
				Entry("65413 for a user without a session", kf1, kf2, ben, state.ErrKfNoSession),
				Entry("65413 for a session with another agent", kf2, kf1, ann, state.ErrKfNoSession),
				Entry("65401 to an unknown account", kf1, "ghost@wxemu_demo", ann, state.ErrKfAccountUnknown),
				Entry("65402 to an unbound account", kf1, "unbound@wxemu_demo", ann, state.ErrKfNotBound),
				Entry("65415 to an offline agent", kf1, kf3, ann, state.ErrKfOffline),
			)
		})

		It("closes the sessions of a deleted account and sends its assigned users back to the queue", func() {
			seed(kf1, true, false, 5)
			seed(kf2, true, true, 1)
			_ = must(kf.Create(oaApp, kf1, ann, t0))
			_ = must(kf.Create(oaApp, kf2, cat, t0))
			kf.Transfer(oaApp, ben, kf1, at(1))
			events := must(kf.DeleteAccount(oaApp, kf1, at(2)))
			Expect(events).To(Equal([]state.KFEvent{
				{Kind: "closed", App: oaApp, OpenID: ann, Account: kf1, Cause: "account deleted", At: at(2)},
				{Kind: "queued", App: oaApp, OpenID: ben, Cause: "kf account " + kf1 + " deleted", At: at(2)},
			}))
			Expect(inSession(ann, at(2))).To(BeFalse())
			Expect(waitingOf(kf, ben)).To(Equal(state.Waiting{App: oaApp, OpenID: ben, Since: at(1), Latest: at(1)}))
			Expect(kf.Agents(oaApp, at(2))).To(HaveExactElements(HaveField("Account", kf2)))

			Expect(brief(must(kf.Close(oaApp, kf2, cat, at(3))))).To(Equal([]string{"closed o_cat " + kf2, "accepted o_ben " + kf2}))
			_, err := kf.DeleteAccount(oaApp, kf1, at(3))
			Expect(err).To(MatchError(state.ErrKfAccountUnknown))
		})

		It("gives the users of a deleted account to an agent with room at once", func() {
			seed(kf1, false, false, 5)
			seed(kf2, true, true, 5)
			kf.Transfer(oaApp, ann, kf1, t0)
			Expect(brief(must(kf.DeleteAccount(oaApp, kf1, at(1))))).To(Equal([]string{"queued o_ann", "accepted o_ann " + kf2}))
		})
	})

	Describe("session expiry", func() {
		BeforeEach(func() { seed(kf1, true, false, 5) })

		It("ends a session exactly 30 minutes after it started with the start anchor, whatever was said", func() {
			_ = must(kf.Create(oaApp, kf1, ann, t0))
			kf.Touch(oaApp, ann, at(20))
			kf.Touch(oaApp, ann, at(29))
			s, in, expired := kf.Route(oaApp, ann, t0.Add(30*time.Minute-time.Nanosecond))
			Expect(in).To(BeTrue())
			Expect(expired).To(BeEmpty())
			Expect(s.LastActivity).To(Equal(at(29)))

			s, in, expired = kf.Route(oaApp, ann, at(30))
			Expect(in).To(BeFalse())
			Expect(s).To(BeZero())
			Expect(expired).To(Equal([]state.KFEvent{{Kind: "expired", App: oaApp, OpenID: ann, Account: kf1, Cause: "30 minutes without a close", At: at(30)}}))
			Expect(accepted(kf1)).To(Equal(0))
			_, _, expired = kf.Route(oaApp, ann, at(31))
			Expect(expired).To(BeEmpty(), "an expiry is reported once")
		})

		It("counts from the last message with the activity anchor", func() {
			kf = state.NewKF(state.KFConfig{Anchor: "activity"})
			seed(kf1, true, false, 5)
			_ = must(kf.Create(oaApp, kf1, ann, t0))
			kf.Touch(oaApp, ann, at(20))
			Expect(inSession(ann, at(49))).To(BeTrue())
			Expect(kf.Expire(t0.Add(50*time.Minute - time.Nanosecond))).To(BeEmpty())
			Expect(kf.Expire(at(50))).To(Equal([]state.KFEvent{{Kind: "expired", App: oaApp, OpenID: ann, Account: kf1, Cause: "30 minutes without a close", At: at(50)}}))
		})

		It("does not revive a session past its end with a late message", func() {
			kf = state.NewKF(state.KFConfig{Anchor: "activity", SessionTimeout: 10 * time.Minute})
			seed(kf1, true, false, 5)
			_ = must(kf.Create(oaApp, kf1, ann, t0))
			kf.Touch(oaApp, ann, at(10))
			Expect(brief(kf.Expire(at(11)))).To(Equal([]string{"expired o_ann " + kf1}))
			Expect(kf.Expire(at(11))).To(BeEmpty())
		})

		It("ends every due session of every app with Expire, in time order", func() {
			kf.SeedAgent(mpApp, state.Agent{Account: kf1, Nickname: "mp", WeChat: "wx_mp", Online: true})
			_ = must(kf.Create(oaApp, kf1, ann, at(2)))
			_ = must(kf.Create(mpApp, kf1, ben, at(1)))
			_ = must(kf.Create(oaApp, kf1, cat, at(3)))
			events := kf.Expire(at(32))
			Expect(events).To(HaveExactElements(
				And(HaveField("App", mpApp), HaveField("OpenID", ben), HaveField("At", at(31))),
				And(HaveField("App", oaApp), HaveField("OpenID", ann), HaveField("At", at(32))),
			))
			Expect(inSession(cat, at(32))).To(BeTrue())
		})

		It("hands an app's expiries only to calls about that app", func() {
			kf.SeedAgent(mpApp, state.Agent{Account: kf1, Nickname: "mp", WeChat: "wx_mp", Online: true})
			_ = must(kf.Create(mpApp, kf1, ben, t0))
			_, _, expired := kf.Route(oaApp, ann, at(40))
			Expect(expired).To(BeEmpty())
			Expect(brief(kf.Expire(at(40)))).To(Equal([]string{"expired o_ben " + kf1}))
		})

		It("keeps expiries noticed by a call that cannot return them for the next one that can", func() {
			_ = must(kf.Create(oaApp, kf1, ann, t0))
			_, in := kf.Session(oaApp, ann, at(30))
			Expect(in).To(BeFalse())
			Expect(kf.Sessions(oaApp, kf1, at(31))).To(BeEmpty())
			Expect(agentOf(kf, kf1, at(31))).To(HaveField("Accepted", 0))
			Expect(brief(kf.Transfer(oaApp, ben, "", at(35)))).To(Equal([]string{"expired o_ann " + kf1, "queued o_ben"}))
		})

		It("returns the expiries before the call's own events", func() {
			_ = must(kf.Create(oaApp, kf1, ann, t0))
			events := must(kf.Create(oaApp, kf1, ben, at(45)))
			Expect(events).To(HaveExactElements(
				And(HaveField("Kind", "expired"), HaveField("At", at(30))),
				And(HaveField("Kind", "accepted"), HaveField("At", at(45))),
			))
		})

		It("lets an auto-accepting agent take the next user at the moment a session expired", func() {
			one := 1
			_, _, _ = kf.SetAgent(oaApp, kf1, nil, &yes, &one, t0)
			kf.Transfer(oaApp, ann, "", t0)
			kf.Transfer(oaApp, ben, "", at(10))
			kf.Transfer(oaApp, cat, "", at(20))
			events := kf.Expire(at(70))
			Expect(events).To(Equal([]state.KFEvent{
				{Kind: "expired", App: oaApp, OpenID: ann, Account: kf1, Cause: "30 minutes without a close", At: at(30)},
				{Kind: "accepted", App: oaApp, OpenID: ben, Account: kf1, Cause: "auto-accept", At: at(30)},
				{Kind: "expired", App: oaApp, OpenID: ben, Account: kf1, Cause: "30 minutes without a close", At: at(60)},
				{Kind: "accepted", App: oaApp, OpenID: cat, Account: kf1, Cause: "auto-accept", At: at(60)},
			}))
			Expect(sessionOf(cat, at(70))).To(HaveField("Created", at(60)))
		})

		It("ends the session of a closed-then-recreated user by the new start only", func() {
			_ = must(kf.Create(oaApp, kf1, ann, t0))
			_ = must(kf.Close(oaApp, kf1, ann, at(10)))
			_ = must(kf.Create(oaApp, kf1, ann, at(20)))
			Expect(kf.Expire(at(49))).To(BeEmpty())
			Expect(brief(kf.Expire(at(50)))).To(Equal([]string{"expired o_ann " + kf1}))
		})

		It("words another timeout in its own length", func() {
			kf = state.NewKF(state.KFConfig{SessionTimeout: 90 * time.Second})
			seed(kf1, true, false, 5)
			_ = must(kf.Create(oaApp, kf1, ann, t0))
			Expect(kf.Expire(at(2))).To(HaveExactElements(HaveField("Cause", "1m30s without a close")))
		})
	})

	Describe("getmsglist", func() {
		BeforeEach(func() {
			for i := range 5 {
				kf.Record(oaApp, state.Record{OpenID: ann, Worker: kf1, Opercode: 2003, Text: fmt.Sprint(i), Time: at(float64(i))})
			}
		})
		texts := func(list []state.Record) []string {
			out := []string{}
			for _, r := range list {
				out = append(out, r.Text)
			}
			return out
		}

		It("lists the records of the window, both ends included, in pages", func() {
			list, next, err := kf.Records(oaApp, at(1), at(4), 1, 2)
			Expect(err).NotTo(HaveOccurred())
			Expect(texts(list)).To(Equal([]string{"1", "2"}))
			Expect(next).To(Equal(int64(3)))
			list, next, _ = kf.Records(oaApp, at(1), at(4), next, 2)
			Expect(texts(list)).To(Equal([]string{"3", "4"}))
			Expect(next).To(Equal(int64(5)))
			list, next, _ = kf.Records(oaApp, at(1), at(4), next, 2)
			Expect(list).To(BeEmpty())
			Expect(next).To(Equal(int64(5)))

			list, _, _ = kf.Records(oaApp, at(1.5), at(1.5), 1, 10)
			Expect(list).To(BeEmpty())
			list, _, _ = kf.Records(mpApp, t0, at(4), 1, 10)
			Expect(list).To(BeEmpty())
		})

		It("keeps records in time order when one arrives late", func() {
			kf.Record(oaApp, state.Record{OpenID: ben, Worker: kf1, Opercode: 1004, Text: "late", Time: at(2)})
			list, _, _ := kf.Records(oaApp, t0, at(10), 1, 100)
			Expect(texts(list)).To(Equal([]string{"0", "1", "2", "late", "3", "4"}))
			Expect(texts(kf.RecordsOf(oaApp, kf1))).To(HaveLen(6))
			Expect(kf.RecordsOf(oaApp, kf2)).To(BeEmpty())
		})

		It("allows exactly 24 hours and a page of 10000", func() {
			list, _, err := kf.Records(oaApp, t0, t0.Add(24*time.Hour), 1, 10000)
			Expect(err).NotTo(HaveOccurred())
			Expect(list).To(HaveLen(5))
		})

		DescribeTable("refuses bad parameters with WeChat's code",
			func(start, end time.Time, msgid int64, number int, want error) {
				_, _, err := kf.Records(oaApp, start, end, msgid, number)
				Expect(err).To(MatchError(want))
			},
			Entry("65417 past 24 hours", t0, t0.Add(24*time.Hour+time.Second), int64(1), 10, state.ErrKfRangeTooLong),
			Entry("65416 for msgid 0", t0, t0, int64(0), 10, state.ErrKfParamInvalid),
			Entry("65416 for number 0", t0, t0, int64(1), 0, state.ErrKfParamInvalid),
			Entry("65416 for number 10001", t0, t0, int64(1), 10001, state.ErrKfParamInvalid),
			Entry("65416 for an end before the start", t0, t0.Add(-time.Second), int64(1), 10, state.ErrKfParamInvalid),
		)
	})

	It("restores a snapshot that behaves as the original did", func() {
		kf = state.NewKF(state.KFConfig{Anchor: "activity"})
		seed(kf1, true, true, 1)
		_, _ = kf.AddAccount(oaApp, wxid, kf2, "b")
		_, _ = kf.Invite(oaApp, kf2, "li_kf_01", t0)
		kf.Transfer(oaApp, ann, "", t0)
		kf.Transfer(oaApp, ben, kf2, at(1))
		kf.Transfer(oaApp, cat, "", at(2))
		kf.Touch(oaApp, ann, at(10))
		kf.Record(oaApp, state.Record{OpenID: ann, Worker: kf1, Opercode: 2003, Text: "hi", Time: at(10)})

		b, err := json.Marshal(kf.Snapshot())
		Expect(err).NotTo(HaveOccurred())
		var snap state.KFSnapshot
		Expect(json.Unmarshal(b, &snap)).To(Succeed())
		other := state.NewKF(state.KFConfig{Anchor: "activity"})
		other.Restore(snap)
		Expect(other.Snapshot()).To(Equal(kf.Snapshot()))

		for _, k := range []*state.KF{kf, other} {
			Expect(k.Expire(t0.Add(40*time.Minute - time.Nanosecond))).To(BeEmpty())
			Expect(brief(k.Expire(at(40)))).To(Equal([]string{"expired o_ann " + kf1, "accepted o_cat " + kf1}))
			a, err := k.AddAccount(oaApp, wxid, kf3, "c")
			Expect(err).NotTo(HaveOccurred())
			Expect(a.ID).To(Equal(1003))
			Expect(waitingOf(k, ben)).To(HaveField("Account", kf2))
			Expect(agentOf(k, kf2, at(40))).To(HaveField("InviteStatus", "waiting"))
		}

		other.Reset()
		Expect(other.Snapshot().Apps).To(BeEmpty())
	})

	It("loses no user and miscounts no load under concurrent use", func() {
		seed(kf1, true, true, 3)
		seed(kf2, true, true, 3)
		var closed atomic.Int64
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				defer GinkgoRecover()
				for i := range 50 {
					u := openid(g*100 + i)
					now := t0.Add(time.Duration(i) * time.Second)
					kf.Transfer(oaApp, u, "", now)
					// Every other user stays, so the agents fill up and the queue grows.
					if s, in, _ := kf.Route(oaApp, u, now); in && i%2 == 0 {
						kf.Touch(oaApp, u, now)
						if _, err := kf.Close(oaApp, s.Account, u, now); err == nil {
							closed.Add(1)
						}
					}
					kf.Agents(oaApp, now)
					kf.WaitCase(oaApp, now)
				}
			})
		}
		wg.Wait()
		sessions := len(kf.Sessions(oaApp, kf1, at(1))) + len(kf.Sessions(oaApp, kf2, at(1)))
		count, _ := kf.WaitCase(oaApp, at(1))
		Expect(accepted(kf1) + accepted(kf2)).To(Equal(sessions))
		Expect(sessions).To(Equal(6), "users wait, so no agent has room")
		Expect(int64(count+sessions) + closed.Load()).To(Equal(int64(400)))
	})
})
