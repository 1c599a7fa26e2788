package fault_test

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/fault"
)

func intp(n int) *int              { return &n }
func f64(p float64) *float64       { return &p }
func u64(n uint64) *uint64         { return &n }
func none(string, []string) string { return "" }

const send = "/cgi-bin/message/custom/send"

var call = fault.Call{Path: send, AppID: "wxA", User: "alice", HTTP: true}

// fires runs n calls and reports which fired, by rule id ("" for none).
func fires(s *fault.Set, c fault.Call, n int) []string {
	out := make([]string, n)
	for i := range out {
		if r := s.Fire(c); r != nil {
			out[i] = r.ID
		}
	}
	return out
}

var _ = Describe("a set of fault rules", func() {
	It("matches by path, family, app and user", func() {
		s := fault.NewSet(0)
		_, err := s.Add(
			fault.Rule{ID: "user", Family: fault.FamilyCustomSend, User: "bob", Errcode: intp(-1)},
			fault.Rule{ID: "app", Path: send, App: "wxB", Errcode: intp(-1)},
			fault.Rule{ID: "typing", Family: fault.FamilyTyping, Errcode: intp(-1)},
		)
		Expect(err).NotTo(HaveOccurred())
		Expect(s.Fire(call)).To(BeNil())
		Expect(s.Fire(fault.Call{Path: send, AppID: "wxA", User: "bob"})).To(HaveField("ID", "user"))
		Expect(s.Fire(fault.Call{Path: send, AppID: "wxB", User: "carol"})).To(HaveField("ID", "app"))
		Expect(s.Fire(fault.Call{Path: "/cgi-bin/message/custom/business/typing", AppID: "wxA"})).To(HaveField("ID", "typing"))
		Expect(s.Fire(fault.Call{Push: true, AppID: "wxA", User: "bob"})).To(BeNil(), "an API rule matches no push")
	})

	It("fires count times after the first after calls, the first rule that fires winning", func() {
		s := fault.NewSet(0)
		_, err := s.Add(fault.Rule{ID: "a", Path: send, Errcode: intp(-1), After: 1, Count: intp(2)}, fault.Rule{ID: "b", Path: send, Errcode: intp(45009)})
		Expect(err).NotTo(HaveOccurred())
		Expect(fires(s, call, 5)).To(Equal([]string{"b", "a", "a", "b", "b"}))
		Expect(s.List()).To(Equal([]fault.Status{
			{Rule: fault.Rule{ID: "a", Path: send, Errcode: intp(-1), After: 1, Count: intp(2)}, Matched: 5, Fired: 2, Spent: true},
			{Rule: fault.Rule{ID: "b", Path: send, Errcode: intp(45009)}, Matched: 3, Fired: 3},
		}), "b sees only the calls a let through")
	})

	It("acts with a 5xx or a drop only on calls over HTTP", func() {
		s := fault.NewSet(0)
		_, _ = s.Add(fault.Rule{ID: "drop", Path: send, Drop: true}, fault.Rule{ID: "503", Path: send, Status: 503})
		c := call
		c.HTTP = false
		Expect(s.Fire(c)).To(BeNil())
		Expect(s.Fire(call)).To(HaveField("ID", "drop"))
	})

	It("matches pushes by msgtype, and no reorder for a user who has one held", func() {
		s := fault.NewSet(0)
		_, _ = s.Add(fault.Rule{ID: "r", Push: fault.PushReorder, MsgType: "text"})
		Expect(s.Fire(fault.Call{Push: true, MsgType: "image"})).To(BeNil())
		Expect(s.Fire(fault.Call{Push: true, MsgType: "text", Holding: true})).To(BeNil())
		Expect(s.Fire(fault.Call{Push: true, MsgType: "text"})).To(HaveField("ID", "r"))
	})

	It("draws its probability reproducibly: the same seed and calls fire the same way", func() {
		run := func(setSeed uint64, rule fault.Rule) []string {
			s := fault.NewSet(setSeed)
			_, err := s.Add(rule)
			Expect(err).NotTo(HaveOccurred())
			return fires(s, call, 200)
		}
		half := fault.Rule{ID: "p", Path: send, Errcode: intp(-1), Probability: f64(0.5)}
		first := run(1, half)
		Expect(run(1, half)).To(Equal(first))
		Expect(run(2, half)).NotTo(Equal(first), "another seed")
		other := half
		other.ID = "q"
		Expect(run(1, other)).NotTo(Equal(first), "the id is part of the seed: two rules do not fire in step")
		own := half
		own.Seed = u64(1)
		Expect(run(99, own)).To(Equal(first), "a rule's own seed wins over the set's")
		n := strings.Count(strings.Join(first, ","), "p")
		Expect(n).To(BeNumerically(">", 50))
		Expect(n).To(BeNumerically("<", 150))
		Expect(run(1, fault.Rule{ID: "p", Path: send, Errcode: intp(-1), Probability: f64(0)})).To(HaveEach(""))
		Expect(run(1, fault.Rule{ID: "p", Path: send, Errcode: intp(-1), Probability: f64(1)})).To(HaveEach("p"))
	})

	It("assigns ids, refuses a taken one, and is bounded", func() {
		s := fault.NewSet(0)
		added, err := s.Add(fault.Rule{Path: send, Errcode: intp(-1)}, fault.Rule{ID: "f2", Path: send, Errcode: intp(-1)}, fault.Rule{Path: send, Errcode: intp(-1)})
		Expect(err).NotTo(HaveOccurred())
		Expect([]string{added[0].ID, added[1].ID, added[2].ID}).To(Equal([]string{"f1", "f2", "f3"}))
		_, err = s.Add(fault.Rule{ID: "f1", Path: send, Errcode: intp(-1)})
		Expect(err).To(MatchError(ContainSubstring(`a rule with id "f1" is held already`)))
		Expect(s.Remove("f2")).To(BeTrue())
		Expect(s.Remove("f2")).To(BeFalse())
		Expect(s.Clear()).To(Equal(2))
		added, _ = s.Add(fault.Rule{Path: send, Errcode: intp(-1)})
		Expect(added[0].ID).To(Equal("f4"), "ids are never reused")
		many := make([]fault.Rule, fault.MaxRules)
		_, err = s.Add(many...)
		Expect(err).To(MatchError(ContainSubstring("would pass the bound of 1000")))
	})
})

var _ = Describe("a rule's check", func() {
	DescribeTable("finds what is wrong, by field",
		func(r fault.Rule, field, msg string) {
			var got []string
			for _, p := range r.Check(none) {
				got = append(got, p.Field+": "+p.Msg)
			}
			Expect(got).To(ContainElement(ContainSubstring(field+": "+msg)), fmt.Sprint(got))
		},
		Entry("no match", fault.Rule{Errcode: intp(-1)}, "path", "no path, family or push"),
		Entry("path and family", fault.Rule{Path: send, Family: "kf", Errcode: intp(-1)}, "family", "a rule names a path or a family, not both"),
		Entry("an unknown path", fault.Rule{Path: "/x", Errcode: intp(-1)}, "path", `"/x" is not an API wxemu serves`),
		Entry("errcode 0", fault.Rule{Path: send, Errcode: intp(0)}, "errcode", "0 is success"),
		Entry("an errcode without catalog text", fault.Rule{Path: send, Errcode: intp(85113)}, "errcode", "85113 is not in wxemu's errcode catalog"),
		Entry("a latency too long", fault.Rule{Path: send, Latency: fault.Duration(61e9)}, "latency", "1m1s is outside 0..1m0s"),
		Entry("after below 0", fault.Rule{Path: send, Errcode: intp(-1), After: -1}, "after", "-1 is negative"),
		Entry("a probability below 0", fault.Rule{Path: send, Errcode: intp(-1), Probability: f64(-0.1)}, "probability", "-0.1 is outside 0..1"),
		Entry("a msgtype on an API rule", fault.Rule{Path: send, Errcode: intp(-1), MsgType: "text"}, "msgtype", "only a push rule"),
		Entry("an id with a space", fault.Rule{ID: "a b", Path: send, Errcode: intp(-1)}, "id", `"a b" has characters other than`),
	)

	It("passes a good rule of every kind", func() {
		for _, r := range []fault.Rule{
			{Path: send, Errcode: intp(-1), Count: intp(1), Probability: f64(0.3)},
			{Family: fault.FamilyMedia, Latency: fault.Duration(2e9)},
			{Family: fault.FamilyKF, Latency: fault.Duration(1e8), Status: 502},
			{Family: fault.FamilyTyping, Drop: true, After: 3},
			{Push: fault.PushDuplicate, MsgType: "event", User: "o1"},
			{Push: fault.PushReorder},
			{Family: fault.FamilyCustomSend, Errcode: intp(40001)},
		} {
			Expect(r.Check(none)).To(BeEmpty(), fmt.Sprintf("%+v", r))
		}
	})
})

var _ = Describe("Empty", func() {
	It("follows adds, removes and clears", func() {
		s := fault.NewSet(0)
		Expect(s.Empty()).To(BeTrue())
		_, _ = s.Add(fault.Rule{ID: "a", Path: send, Errcode: intp(-1)}, fault.Rule{ID: "b", Path: send, Errcode: intp(-1)})
		Expect(s.Empty()).To(BeFalse())
		s.Remove("a")
		Expect(s.Empty()).To(BeFalse())
		s.Remove("b")
		Expect(s.Empty()).To(BeTrue())
		_, _ = s.Add(fault.Rule{Path: send, Errcode: intp(-1)})
		s.Clear()
		Expect(s.Empty()).To(BeTrue())
	})
})
