package emutest

import (
	"slices"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/harness"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/rules"
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

// withInjected adds to the verdict of a user's push the violations of the deliveries a push
// fault rule made during the act — a duplicate of it, a held message delivered out of order —
// so that HaveNoErrors and HaveViolation("push.duplicate.sends") judge what the bot did with
// them too: they are journaled as pushes of their own, which the send does not return. The
// platform's result is not changed; the exchange holds a copy.
func (u *User) withInjected(in *platform.Interaction, act *harness.Act) *platform.Interaction {
	if in == nil || in.Result == nil {
		return in
	}
	var extra []rules.Violation
	for _, e := range u.e.p.Journal(platform.JournalFilter{App: u.AppID, User: u.OpenID, Kind: platform.KindPush, Since: act.Since}) {
		if act.Until != 0 && e.Seq > act.Until || e.Push.Injected == nil || e.Push.Result == nil {
			continue
		}
		extra = append(extra, e.Push.Result.Violations...)
	}
	if len(extra) == 0 {
		return in
	}
	res := *in.Result
	res.Violations = append(slices.Clip(res.Violations), extra...)
	cp := *in
	cp.Result = &res
	return &cp
}
