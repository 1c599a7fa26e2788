package fault_test

import (
	"testing"

	"github.com/wxemu/wxemu/emulator/fault"
)

// BenchmarkFire is the cost a call pays for the fault step: with no rule held (the common
// case, no lock taken), and with 100 rules none of which matches.
func BenchmarkFire(b *testing.B) {
	c := fault.Call{Path: "/cgi-bin/message/custom/send", AppID: "wxA", User: "alice", HTTP: true}
	b.Run("none", func(b *testing.B) {
		s := fault.NewSet(0)
		for b.Loop() {
			s.Fire(c)
		}
	})
	b.Run("100-unmatched", func(b *testing.B) {
		s := fault.NewSet(0)
		minus1 := -1
		rules := make([]fault.Rule, 100)
		for i := range rules {
			rules[i] = fault.Rule{Family: fault.FamilyKF, Errcode: &minus1}
		}
		if _, err := s.Add(rules...); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			s.Fire(c)
		}
	})
}
