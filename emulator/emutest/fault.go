package emutest

import (
	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/platform"
)

// Fault is a fault rule: what it matches (Path or Family, App, User; Push rules: App, User,
// MsgType), what it does (Errcode, Status, Latency, Drop, or Push: duplicate or reorder) and how
// often (Count, After, Probability, Seed). See package fault.
//
//	emu.InjectFault(emutest.Fault{Path: "/cgi-bin/message/custom/send", Errcode: emutest.Int(-1), Count: emutest.Int(1)})
//	emu.InjectFault(emutest.Fault{Push: "duplicate", User: alice.OpenID, Count: emutest.Int(1)})
type Fault = platform.FaultRule

// Int is a pointer to n, for Fault.Errcode and Fault.Count.
func Int(n int) *int { return &n }

// Probability is a pointer to p, for Fault.Probability.
func Probability(p float64) *float64 { return &p }

// InjectFault adds fault rules to the emulator, all or none; a rule that is not valid fails the
// spec with what is wrong. Rules without a Seed draw from the spec's seed (WithSeed), so a run
// is reproduced with it. It returns the rules as held, ids assigned. Answers a rule makes are
// marked injected in the journal, and an injected -1 does not trip AllowSystemErrors.
func (e *Emu) InjectFault(rules ...Fault) []Fault {
	ginkgo.GinkgoHelper()
	rules = append([]Fault(nil), rules...)
	for i := range rules {
		if rules[i].Seed == nil {
			seed := e.h.seed
			rules[i].Seed = &seed
		}
	}
	added, err := e.p.AddFaults(rules, nil)
	e.g.Expect(err).NotTo(gomega.HaveOccurred(), "emutest.InjectFault")
	return added
}

// ClearFaults removes every fault rule and delivers the pushes a reorder rule still holds.
func (e *Emu) ClearFaults() { e.p.ClearFaults(background()) }

// Faults lists the fault rules with how often each matched and fired.
func (e *Emu) Faults() []platform.FaultStatus { return e.p.Faults() }
