package config

import (
	"fmt"
	"strings"

	"github.com/wxemu/wxemu/emulator/fault"
)

// Faults are the fault rules active from the start: what makes the emulated API answer the way
// WeChat does when things go wrong, and its pushes misbehave (package fault).
//
//	faults:
//	  seed: 7
//	  rules:
//	    - {path: /cgi-bin/message/custom/send, errcode: -1, count: 1}
//	    - {family: media, latency: 2s, probability: 0.5}
//	    - {push: duplicate, msgtype: text, count: 1}
type Faults struct {
	// Seed is the seed of the rules that give none: each rule draws its probability from a
	// source seeded with it and the rule's id, so a run is reproducible for the same sequence
	// of calls. Default 0 (`wxemu serve --fault-seed` overrides it).
	Seed uint64 `yaml:"seed,omitempty"`
	// Rules are the rules, in the order they are tried. Default none.
	Rules []FaultRule `yaml:"rules,omitempty"`
}

// FaultRule is one rule as the file writes it; see fault.Rule for each key.
type FaultRule struct {
	ID          string   `yaml:"id,omitempty"`
	Path        string   `yaml:"path,omitempty"`
	Family      string   `yaml:"family,omitempty"`
	App         string   `yaml:"app,omitempty"`
	User        string   `yaml:"user,omitempty"`
	MsgType     string   `yaml:"msgtype,omitempty"`
	Errcode     *int     `yaml:"errcode,omitempty"`
	Status      int      `yaml:"status,omitempty"`
	Latency     Duration `yaml:"latency,omitempty"`
	Drop        bool     `yaml:"drop,omitempty"`
	Push        string   `yaml:"push,omitempty"`
	Count       *int     `yaml:"count,omitempty"`
	After       int      `yaml:"after,omitempty"`
	Probability *float64 `yaml:"probability,omitempty"`
	Seed        *uint64  `yaml:"seed,omitempty"`
}

// Rule is r as the fault package takes it. App is as written (an alias or an appid).
func (r FaultRule) Rule() fault.Rule {
	return fault.Rule{ID: r.ID, Path: r.Path, Family: r.Family, App: r.App, User: r.User, MsgType: r.MsgType,
		Errcode: r.Errcode, Status: r.Status, Latency: fault.Duration(r.Latency), Drop: r.Drop, Push: r.Push,
		Count: r.Count, After: r.After, Probability: r.Probability, Seed: r.Seed}
}

// FaultSuggest is a did-you-mean hint for the fault package's checks: ` (did you mean "x"?)`.
func FaultSuggest(s string, names []string) string {
	if best, ok := Suggest(s, names); ok {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

// CheckFaultApp says what is wrong with the app a rule names, "" when it is one of cfg's apps
// (by alias or appid) or empty.
func (cfg *Config) CheckFaultApp(app string) (msg, fix string) {
	if app == "" {
		return "", ""
	}
	var keys []string
	for _, a := range cfg.Apps {
		if a.Alias == app || a.AppID == app {
			return "", ""
		}
		if a.Alias != "" {
			keys = append(keys, a.Alias)
		}
		keys = append(keys, a.AppID)
	}
	return fmt.Sprintf("unknown app %q%s", app, FaultSuggest(app, keys)), "the apps are " + strings.Join(keys, ", ")
}

func (cfg *Config) validateFaults(c *checker) {
	ids := map[string]string{}
	for i, fr := range cfg.Faults.Rules {
		p := fmt.Sprintf("faults.rules[%d]", i)
		r := fr.Rule()
		for _, pr := range r.Check(FaultSuggest) {
			c.add(p+"."+pr.Field, pr.Msg, pr.Fix)
		}
		if msg, fix := cfg.CheckFaultApp(r.App); msg != "" {
			c.add(p+".app", msg, fix)
		}
		if r.ID != "" {
			c.unique(ids, r.ID, p+".id", "fault rule id")
		}
	}
	if len(cfg.Faults.Rules) > fault.MaxRules {
		c.add("faults.rules", fmt.Sprintf("%d rules; at most %d", len(cfg.Faults.Rules), fault.MaxRules), "keep the rules a test needs")
	}
}
