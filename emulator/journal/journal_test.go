package journal_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/journal"
	"github.com/wxemu/wxemu/emulator/push"
)

var _ = Describe("Journal", func() {
	It("keeps the newest entries, numbered, and counts the dropped", func() {
		j := journal.NewJournal(3)
		for i := 0; i < 5; i++ {
			j.Add(journal.Entry{Push: &journal.Push{}, Summary: string(rune('a' + i))})
		}
		got := j.List(journal.Filter{})
		Expect(got).To(HaveLen(3))
		Expect([]string{got[0].Summary, got[1].Summary, got[2].Summary}).To(Equal([]string{"c", "d", "e"}))
		Expect(got[0].Seq).To(Equal(uint64(3)))
		st := j.Stats()
		Expect([]uint64{uint64(st.Held), uint64(st.Capacity), st.LastSeq, st.Dropped}).To(Equal([]uint64{3, 3, 5, 2}))
		Expect(st.Bytes).To(Equal(got[0].Size()+got[1].Size()+got[2].Size()), "the bytes held are those of the entries kept")
	})

	It("filters by app, user, kind, since and limit", func() {
		j := journal.NewJournal(100)
		j.Add(journal.Entry{Push: &journal.Push{}, App: "a", User: "u1"})
		j.Add(journal.Entry{API: &journal.APICall{}, App: "a", User: "u2"})
		j.Add(journal.Entry{Push: &journal.Push{}, App: "b", User: "u1"})
		Expect(j.List(journal.Filter{App: "a"})).To(HaveLen(2))
		Expect(j.List(journal.Filter{User: "u1"})).To(HaveLen(2))
		Expect(j.List(journal.Filter{Kind: journal.KindAPI})).To(HaveLen(1))
		Expect(j.List(journal.Filter{Since: 2})).To(ConsistOf(HaveField("App", "b")))
		Expect(j.List(journal.Filter{Limit: 1})).To(ConsistOf(HaveField("Seq", uint64(3))))
	})

	It("delivers new matching entries to subscribers and never blocks on a slow one", func() {
		j := journal.NewJournal(10)
		ch, cancel := j.Subscribe(journal.Filter{Kind: journal.KindPush}, 1)
		j.Add(journal.Entry{API: &journal.APICall{}})
		j.Add(journal.Entry{Push: &journal.Push{}, Summary: "first"})
		j.Add(journal.Entry{Push: &journal.Push{}, Summary: "skipped: the buffer is full"})
		Expect((<-ch).Summary).To(Equal("first"))
		cancel()
		cancel()
		Eventually(ch).Should(BeClosed())
	})

	It("keeps counting across a reset and reads since as a number or a time", func() {
		j := journal.NewJournal(10)
		j.Add(journal.Entry{Control: &journal.Control{}})
		j.Reset()
		Expect(j.List(journal.Filter{})).To(BeEmpty())
		Expect(j.Add(journal.Entry{Control: &journal.Control{}}).Seq).To(Equal(uint64(2)))
		seq, _, err := journal.ParseSince("7")
		Expect(err).NotTo(HaveOccurred())
		Expect(seq).To(Equal(uint64(7)))
		_, at, err := journal.ParseSince("2026-11-21T10:00:00Z")
		Expect(err).NotTo(HaveOccurred())
		Expect(at).To(Equal(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)))
		_, _, err = journal.ParseSince("yesterday")
		Expect(err).To(HaveOccurred())
	})
})

var _ = Describe("Journal bounded in bytes", func() {
	bigAnswer := func(n int) journal.Entry {
		body := strings.Repeat("x", n)
		return journal.Entry{Push: &journal.Push{Result: &push.Result{
			Request: push.Request{Body: "<xml/>", Plaintext: "<xml/>"},
			Answer:  &push.Answer{Status: 200, Body: body, Decrypted: body},
		}}}
	}

	It("clips a large body when it records it, says how much went, and leaves the caller's result alone", func() {
		j := journal.NewBounded(10, 1<<20)
		e := bigAnswer(1 << 20)
		got := j.Add(e)
		Expect(got.Push.Answer.Body).To(HavePrefix(strings.Repeat("x", journal.BodyLimit)))
		Expect(got.Push.Answer.Body).To(HaveSuffix(fmt.Sprintf("… (%d bytes dropped)", 1<<20-journal.BodyLimit)))
		Expect(got.Size()).To(BeNumerically("<", 3*journal.BodyLimit))
		Expect(e.Push.Answer.Body).To(HaveLen(1<<20), "the pusher's result is not changed")
	})

	It("drops the oldest entries while the bytes held pass the bound, and counts them", func() {
		j := journal.NewBounded(1000, 1<<20)
		for i := 0; i < 100; i++ {
			j.Add(bigAnswer(1 << 20))
		}
		st := j.Stats()
		Expect(st.Bytes).To(BeNumerically("<=", 1<<20))
		Expect(st.MaxBytes).To(Equal(1 << 20))
		Expect(st.Held).To(BeNumerically("<", 10))
		Expect(st.Dropped).To(Equal(uint64(100 - st.Held)))
		Expect(st.DroppedBytes).To(BeNumerically(">", 0))
		held := j.List(journal.Filter{})
		Expect(held[len(held)-1].Seq).To(Equal(uint64(100)), "the newest are kept")
	})

	It("shows the byte bound and the drops in its JSON stats", func() {
		j := journal.NewBounded(1, 1<<20)
		j.Add(journal.Entry{Summary: "a", Control: &journal.Control{}})
		j.Add(journal.Entry{Summary: "b", Control: &journal.Control{}})
		b, err := json.Marshal(j.Stats())
		Expect(err).NotTo(HaveOccurred())
		Expect(string(b)).To(And(ContainSubstring(`"max_bytes":1048576`), ContainSubstring(`"dropped":1`), MatchRegexp(`"dropped_bytes":[1-9]`)))
	})
})
