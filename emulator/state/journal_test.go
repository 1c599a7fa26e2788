package state_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/state"
)

var _ = Describe("Journal", func() {
	It("keeps the newest entries, numbered, and counts the dropped", func() {
		j := state.NewJournal(3)
		for i := 0; i < 5; i++ {
			j.Add(state.Entry{Kind: state.EntryPush, Summary: string(rune('a' + i))})
		}
		got := j.List(state.JournalFilter{})
		Expect(got).To(HaveLen(3))
		Expect([]string{got[0].Summary, got[1].Summary, got[2].Summary}).To(Equal([]string{"c", "d", "e"}))
		Expect(got[0].Seq).To(Equal(uint64(3)))
		held, capacity, last, dropped := j.Stats()
		Expect([]uint64{uint64(held), uint64(capacity), last, dropped}).To(Equal([]uint64{3, 3, 5, 2}))
	})

	It("filters by app, user, kind, since and limit", func() {
		j := state.NewJournal(100)
		j.Add(state.Entry{Kind: state.EntryPush, App: "a", User: "u1"})
		j.Add(state.Entry{Kind: state.EntryAPI, App: "a", User: "u2"})
		j.Add(state.Entry{Kind: state.EntryPush, App: "b", User: "u1"})
		Expect(j.List(state.JournalFilter{App: "a"})).To(HaveLen(2))
		Expect(j.List(state.JournalFilter{User: "u1"})).To(HaveLen(2))
		Expect(j.List(state.JournalFilter{Kind: state.EntryAPI})).To(HaveLen(1))
		Expect(j.List(state.JournalFilter{Since: 2})).To(ConsistOf(HaveField("App", "b")))
		Expect(j.List(state.JournalFilter{Limit: 1})).To(ConsistOf(HaveField("Seq", uint64(3))))
	})

	It("delivers new matching entries to subscribers and never blocks on a slow one", func() {
		j := state.NewJournal(10)
		ch, cancel := j.Subscribe(state.JournalFilter{Kind: state.EntryPush}, 1)
		j.Add(state.Entry{Kind: state.EntryAPI})
		j.Add(state.Entry{Kind: state.EntryPush, Summary: "first"})
		j.Add(state.Entry{Kind: state.EntryPush, Summary: "skipped: the buffer is full"})
		Expect((<-ch).Summary).To(Equal("first"))
		cancel()
		cancel()
		Eventually(ch).Should(BeClosed())
	})

	It("keeps counting across a reset and reads since as a number or a time", func() {
		j := state.NewJournal(10)
		j.Add(state.Entry{})
		j.Reset()
		Expect(j.List(state.JournalFilter{})).To(BeEmpty())
		Expect(j.Add(state.Entry{}).Seq).To(Equal(uint64(2)))
		seq, _, err := j.ParseSince("7")
		Expect(err).NotTo(HaveOccurred())
		Expect(seq).To(Equal(uint64(7)))
		_, at, err := j.ParseSince("2026-11-21T10:00:00Z")
		Expect(err).NotTo(HaveOccurred())
		Expect(at).To(Equal(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)))
		_, _, err = j.ParseSince("yesterday")
		Expect(err).To(HaveOccurred())
	})
})

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
