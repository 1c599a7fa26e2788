package scenario

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/platform"
)

// FaultSpec is a fault rule as a scenario writes it (the config's faults.rules keys): User names
// a user of the scenario, not an openid, and App defaults to the scenario's app.
type FaultSpec struct {
	Rule config.FaultRule
	Line int
}

// FaultsAction is a step's faults: a list of rules to add, or clear (remove the scenario's).
type FaultsAction struct {
	Add   []FaultSpec
	Clear bool
}

// faults decodes a list of fault rules at n: strict keys, then each rule's own checks, each
// problem at its key.
func (d *decoder) faults(n *yaml.Node, path string, s *Scenario, cfg *config.Config) []FaultSpec {
	r := resolve(n)
	if r == nil || r.Kind != yaml.SequenceNode || len(r.Content) == 0 {
		d.fail(n, path, "expected a list of fault rules, got "+describe(n),
			"write e.g. - {path: /cgi-bin/message/custom/send, errcode: -1, count: 1}")
		return nil
	}
	var rules []config.FaultRule
	if !d.strict(n, path, &rules) {
		return nil
	}
	users := make([]string, 0, len(s.Users))
	for _, u := range s.Users {
		users = append(users, u.Name)
	}
	out := make([]FaultSpec, len(rules))
	for i, fr := range rules {
		item := r.Content[i]
		at := fmt.Sprintf("%s[%d]", path, i)
		rule := fr.Rule()
		for _, pr := range rule.Check(config.FaultSuggest) {
			node := valueNode(item, pr.Field)
			if node == nil {
				node = item
			}
			d.fail(node, joinPath(at, pr.Field), pr.Msg, pr.Fix)
		}
		if msg, fix := cfg.CheckFaultApp(rule.App); msg != "" {
			d.fail(valueNode(item, "app"), joinPath(at, "app"), msg, fix)
		}
		if fr.User != "" && !contains(users, fr.User) {
			d.fail(valueNode(item, "user"), joinPath(at, "user"), fmt.Sprintf("%q is not a user of the scenario%s", fr.User, config.FaultSuggest(fr.User, users)),
				"name one of users: "+strings.Join(users, ", "))
		}
		out[i] = FaultSpec{Rule: fr, Line: resolve(item).Line}
	}
	return out
}

// faultsStep decodes a step's faults: clear, or a list of rules.
func (d *decoder) faultsStep(n *yaml.Node, path string, s *Scenario, cfg *config.Config) *FaultsAction {
	if r := resolve(n); r != nil && r.Kind == yaml.ScalarNode {
		v, _ := d.str(n, path, "clear or a list of rules")
		if v != "clear" {
			d.enumError(n, path, v, []string{"clear"})
			return nil
		}
		return &FaultsAction{Clear: true}
	}
	rules := d.faults(n, path, s, cfg)
	if rules == nil {
		return nil
	}
	return &FaultsAction{Add: rules}
}

// addFaults adds a scenario's rules: its users by their openids of this run, its app by
// default. The rules draw from the seed they give, or the platform's.
func (x *run) addFaults(specs []FaultSpec) ([]string, error) {
	rules := make([]platform.FaultRule, len(specs))
	for i, sp := range specs {
		r := sp.Rule.Rule()
		if r.App == "" {
			r.App = x.app.AppID
		}
		if r.User != "" {
			r.User = x.openids[r.User]
		}
		if r.ID == "" {
			// The rule draws from a source of its own place in the scenario, not of the id
			// the run assigns it, so that a probability fires the same way whether the
			// scenario runs alone or after others that added rules.
			r.Stream = fmt.Sprintf("scenario %s, rule %d", x.s.Name, x.faultRules+i)
		}
		rules[i] = r
	}
	added, err := x.p.AddFaults(rules, func(i int) string { return fmt.Sprintf("line %d", specs[i].Line) })
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(added))
	if x.faultLines == nil {
		x.faultLines = map[string]int{}
	}
	for i, r := range added {
		ids[i] = r.ID
		x.faultLines[r.ID] = specs[i].Line
	}
	x.faultIDs = append(x.faultIDs, ids...)
	x.faultRules += len(ids)
	return ids, nil
}

// unmetFaults names the scenario's fault rules that met no matching call: those cleared so, and
// those held now. A rule the bot never met checks nothing of how the bot handles its fault,
// and a scenario that injects it would pass a bot that never gets there.
func (x *run) unmetFaults() []string {
	unmet := slices.Clone(x.unmet)
	held := map[string]bool{}
	for _, id := range x.faultIDs {
		held[id] = true
	}
	for _, st := range x.p.Faults() {
		if held[st.Rule.ID] && st.Matched == 0 {
			unmet = append(unmet, x.describeFault(st.Rule))
		}
	}
	return unmet
}

func (x *run) describeFault(r platform.FaultRule) string {
	on := r.Path
	if on == "" {
		on = r.Family
	}
	if r.Push != "" {
		on = "a push"
	}
	return fmt.Sprintf("fault rule %s (line %d: %s on %s)", r.ID, x.faultLines[r.ID], r.Action(), on)
}

// clearFaults removes the rules the scenario added and delivers its users' held pushes.
func (x *run) clearFaults(ctx context.Context) int {
	x.unmet = x.unmetFaults()
	n := 0
	for _, id := range x.faultIDs {
		if x.p.RemoveFault(id) == nil {
			n++
		}
	}
	x.faultIDs = nil
	for _, openid := range sortedValues(x.openids) {
		x.p.ReleaseHeld(ctx, x.app.AppID, openid)
	}
	return n
}

// faultsStep adds or clears fault rules.
func (x *run) faultsStep(ctx context.Context, st *Step, sr *StepResult, result map[string]any) {
	if st.Faults.Clear {
		n := x.clearFaults(ctx)
		result["cleared"] = n
		sr.Summary = fmt.Sprintf("%d fault rule(s) cleared", n)
		return
	}
	ids, err := x.addFaults(st.Faults.Add)
	if err != nil {
		sr.fail("faults", "the fault rules are added", "they were refused", err.Error())
		return
	}
	result["added"] = ids
	sr.Summary = "fault rule(s) " + strings.Join(ids, ", ") + " added"
}
