package state_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/state"
)

var _ = Describe("Transcripts", func() {
	It("keeps the newest lines per user and exports them", func() {
		t := state.NewTranscripts(3)
		for i := 0; i < 10; i++ {
			t.Append("a", "u", state.Line{Text: string(rune('0' + i))})
		}
		t.Append("a", "v", state.Line{Text: "other"})
		got := t.Get("a", "u")
		Expect([]string{got[0].Text, got[1].Text, got[2].Text}).To(Equal([]string{"7", "8", "9"}))
		snap := t.Snapshot()
		t.Reset()
		Expect(t.Get("a", "u")).To(BeEmpty())
		t.Restore(snap)
		Expect(t.Get("a", "u")).To(HaveLen(3))
		Expect(t.Get("a", "v")).To(ConsistOf(HaveField("Text", "other")))
	})
})

var _ = Describe("Users and the typing rule", func() {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	It("allows typing only within 30 s of a message, once at a time, for 15 s", func() {
		u := state.NewUsers()
		Expect(u.StartTyping("a", "u", now)).To(MatchError(state.ErrUserUnknown))
		u.Ensure("a", "u", "alice", true)
		Expect(u.StartTyping("a", "u", now)).To(MatchError(state.ErrTypingNoInteraction))
		Expect(u.Touch("a", "u", now, false)).To(Succeed())
		Expect(u.StartTyping("a", "u", now.Add(10*time.Second))).To(Succeed())
		Expect(u.StartTyping("a", "u", now.Add(20*time.Second))).To(MatchError(state.ErrAlreadyTyping))
		Expect(u.StartTyping("a", "u", now.Add(25*time.Second))).To(Succeed(), "typing lasts 15 s")
		Expect(u.Touch("a", "u", now.Add(26*time.Second), true)).To(Succeed())
		Expect(u.StartTyping("a", "u", now.Add(27*time.Second))).To(Succeed(), "a message cancels typing")
		Expect(u.StartTyping("a", "u", now.Add(57*time.Second))).To(MatchError(state.ErrTypingNoInteraction))
	})

	It("tells the user's own messages from the account's", func() {
		u := state.NewUsers()
		Expect(u.Talked("a", "u", now)).To(MatchError(state.ErrUserUnknown))
		u.Ensure("a", "u", "alice", true)
		Expect(u.Talked("a", "u", now)).To(Succeed())
		Expect(u.StartTyping("a", "u", now.Add(time.Second))).To(Succeed(), "the user's message counts for typing")
		Expect(u.Touch("a", "u", now.Add(time.Hour), true)).To(Succeed())
		got, _ := u.Get("a", "u")
		Expect(got.LastInteraction).To(Equal(now.Add(time.Hour)))
		Expect(got.LastMessage).To(Equal(now), "the account's message is not the user's")
		Expect(u.Talked("a", "u", now.Add(-time.Minute))).To(Succeed())
		got, _ = u.Get("a", "u")
		Expect(got.LastMessage).To(Equal(now), "never moves back")
	})

	It("lists, follows and restores users", func() {
		u := state.NewUsers()
		u.Ensure("a", "u2", "", true)
		u.Ensure("a", "u1", "alice", true)
		u.Ensure("b", "u3", "", true)
		Expect(u.SetSubscribed("a", "u1", false)).To(Succeed())
		list := u.List("a")
		Expect(list).To(HaveLen(2))
		Expect(list[0]).To(And(HaveField("OpenID", "u1"), HaveField("Subscribed", false)))
		all := u.List("")
		u.Reset()
		Expect(u.List("")).To(BeEmpty())
		u.Restore(all)
		Expect(u.List("")).To(HaveLen(3))
	})
})
