package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/wire"
)

// Discover lists the scenario files under paths: each file given, and every *.yaml and *.yml
// file in each folder given, recursively, in lexical order. A config file named wxemu.yaml or
// wxemu.yml in a folder is not a scenario and is left out.
func Discover(paths ...string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, root := range paths {
		info, err := os.Stat(root)
		if err != nil {
			return nil, fmt.Errorf("find scenarios: %w", err)
		}
		if !info.IsDir() {
			add(root)
			continue
		}
		var found []string
		err = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() {
				if p != root && strings.HasPrefix(e.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if isScenarioFile(e.Name()) {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("find scenarios: %w", err)
		}
		sort.Strings(found)
		for _, p := range found {
			add(p)
		}
	}
	return out, nil
}

func isScenarioFile(name string) bool {
	ext := filepath.Ext(name)
	if ext != ".yaml" && ext != ".yml" {
		return false
	}
	base := strings.TrimSuffix(name, ext)
	return base != "wxemu" && !strings.HasPrefix(name, ".")
}

// LoadAll loads every scenario under paths (see Discover) for the apps of cfg (config.Default
// when nil). Problems of every file come back together, each a *config.Error; Problems lists
// them.
func LoadAll(cfg *config.Config, paths ...string) ([]*Scenario, error) {
	files, err := Discover(paths...)
	if err != nil {
		return nil, err
	}
	var all []*Scenario
	var errs []error
	for _, f := range files {
		s, err := Load(cfg, f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		all = append(all, s...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return all, nil
}

// Load reads the scenarios of one file.
func Load(cfg *config.Config, path string) ([]*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	return Parse(cfg, path, data)
}

// Parse decodes the scenarios of a file: one YAML document per scenario (documents are
// separated by ---). Every problem is a *config.Error with file, line, column, the path of the
// value, and how to fix it; they come back together, in file order.
func Parse(cfg *config.Config, file string, data []byte) ([]*Scenario, error) {
	if cfg == nil {
		cfg = config.Default()
	}
	d := &decoder{file: file}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []*Scenario
	for doc := 1; ; doc++ {
		var root yaml.Node
		err := dec.Decode(&root)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			d.errs = append(d.errs, config.YAMLSyntaxError(file, data, err, `{text: "anyone there?"}`))
			break
		}
		if isNull(&root) {
			continue
		}
		d.start(&root)
		if s := d.scenario(&root, cfg, doc); s != nil {
			out = append(out, s)
		}
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.Join(&config.Error{File: file, Msg: "no scenario in the file", Fix: "write name:, app:, users: and steps:; see the scenarios in fixtures/scenarios"})
	}
	if len(out) > 1 {
		for _, s := range out {
			if s.Name == defaultName(file, 0) {
				s.Name = defaultName(file, s.Doc)
			}
		}
	}
	return out, nil
}

func defaultName(file string, doc int) string {
	base := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	if doc > 0 {
		return fmt.Sprintf("%s #%d", base, doc)
	}
	return base
}

var (
	scenarioKeys = []string{"name", "app", "users", "vars", "tolerate", "checks", "serial", "token_time", "faults", "steps"}
	stepKeys     = []string{"id", "name", "agent", "advance", "trigger", "tokens", "faults", "reply", "delivered_to", "user_sees", "sends", "bot_receives", "violations", "tolerate", "checks", "error"}
	checkNames   = []string{"signature", "replay"}
	triggerKinds = []string{"message", "click", "subscribe", "scan", "payment", "tempsession"}
	tokenActions = []string{"expire", "revoke"}
	tokenTimes   = []string{"wall", "virtual"}
	// reserved names cannot name a user, a variable or a step, because a step's keys and a
	// template's first word would be ambiguous.
	reserved = append(append([]string{"app", "env"}, stepKeys...), typeKeys...)
	nameRe   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,31}$`)
)

// scenario decodes one document.
func (d *decoder) scenario(root *yaml.Node, cfg *config.Config, doc int) *Scenario {
	n := resolve(root)
	s := &Scenario{File: d.file, Line: n.Line, Doc: doc, Name: defaultName(d.file, 0)}
	pairs, ok := d.mapping(n, "", "a scenario (a mapping of name, app, users, steps)", scenarioKeys)
	if !ok {
		return nil
	}
	mark := len(d.errs)
	byKey := map[string]pair{}
	for _, p := range pairs {
		byKey[p.key] = p
	}
	if p, ok := byKey["name"]; ok {
		if v, ok := d.str(p.value, "name", "a name"); ok && v != "" {
			s.Name = v
		}
	}

	// The app decides what a user may send (an Official Account's events, a Mini Program's).
	var app *config.App
	if p, ok := byKey["app"]; ok {
		key, _ := d.str(p.value, "app", "an app alias or appid")
		s.App = key
		if a, found := cfg.App(key); found {
			app = a
		} else {
			d.fail(p.value, "app", fmt.Sprintf("unknown app %q", key), appFix(cfg, key))
		}
	} else if len(cfg.Apps) == 1 {
		app = &cfg.Apps[0]
		s.App = app.Alias
	} else {
		d.fail(n, "", "app is missing", appFix(cfg, ""))
	}

	if p, ok := byKey["users"]; ok {
		s.Users = d.users(p.value, "users")
	}
	names := map[string]string{} // every name a template may start with, and what it is
	names["app"] = "the app"
	names["env"] = "the environment"
	for _, u := range s.Users {
		names[u.Name] = "user"
	}
	if p, ok := byKey["vars"]; ok {
		var vars map[string]string
		if d.strict(p.value, "vars", &vars) {
			s.Vars = vars
			for _, k := range sortedKeys(vars) {
				at := joinPath("vars", k)
				switch {
				case !nameRe.MatchString(k):
					d.fail(valueNode(p.value, k), at, fmt.Sprintf("%q is not a valid name", k), "a name is a letter then letters, digits, _ or -")
				case contains(reserved, k):
					d.fail(valueNode(p.value, k), at, fmt.Sprintf("%q is a reserved word", k), "choose another name")
				case names[k] != "":
					d.fail(valueNode(p.value, k), at, fmt.Sprintf("%q is already the name of a %s", k, names[k]), "choose another name")
				default:
					names[k] = "variable"
				}
			}
		}
	}
	if p, ok := byKey["tolerate"]; ok {
		s.Tolerate = d.ruleList(p.value, "tolerate")
	}
	if p, ok := byKey["checks"]; ok {
		s.Checks = d.checks(p.value, "checks")
	}
	if p, ok := byKey["serial"]; ok {
		var b bool
		if d.strict(p.value, "serial", &b) && b {
			s.Serial, s.SerialWhy = true, "serial: true"
		}
	}
	if p, ok := byKey["token_time"]; ok {
		if v, ok := d.str(p.value, "token_time", "wall or virtual"); ok {
			if contains(tokenTimes, v) {
				s.TokenTime = v
				// The setting is the platform's, for every scenario at once.
				if !s.Serial {
					s.Serial, s.SerialWhy = true, "token_time: "+v
				}
			} else {
				d.enumError(p.value, "token_time", v, tokenTimes)
			}
		}
	}
	if p, ok := byKey["faults"]; ok {
		s.Faults = d.faults(p.value, "faults", s, cfg)
		if len(s.Faults) > 0 && !s.Serial {
			// Rules match every call of the app: no other scenario may run meanwhile.
			s.Serial, s.SerialWhy = true, "it sets fault rules"
		}
	}
	p, ok := byKey["steps"]
	if !ok {
		d.fail(n, "", "steps is missing", "add steps: a list of what happens, e.g. - alice: hi")
		return nil
	}
	list := resolve(p.value)
	if list == nil || list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		d.fail(p.value, "steps", "expected a list of steps, got "+describe(p.value), `write one step per line, each starting with "- "`)
		return nil
	}
	// The steps are checked even when the top is wrong, so one run reports every problem; with
	// no app known, messages are checked for their fields but not for the app's kind.
	var kind wire.Kind
	if app != nil {
		kind = wire.Kind(app.Kind)
	}
	for i, item := range list.Content {
		path := fmt.Sprintf("steps[%d]", i)
		st := d.step(item, path, s, kind, cfg)
		if st == nil {
			continue
		}
		st.Index = i
		if item.Kind == yaml.AliasNode {
			// A repeated step (*anchor) is reported where it is repeated.
			st.Line = item.Line
		}
		d.checkRefs(st, names, path)
		if st.ID != "" {
			switch {
			case names[st.ID] != "":
				d.fail(valueNode(item, "id"), joinPath(path, "id"), fmt.Sprintf("%q is already the name of a %s", st.ID, names[st.ID]), "give the step another id")
			default:
				names[st.ID] = "step"
			}
		}
		s.Steps = append(s.Steps, st)
		if !s.Serial {
			switch {
			case st.Advance > 0:
				s.Serial, s.SerialWhy = true, fmt.Sprintf("it moves the clock (line %d)", st.Line)
			case st.Agent != nil && st.Agent.Do == "status":
				s.Serial, s.SerialWhy = true, fmt.Sprintf("it changes an agent's status (line %d)", st.Line)
			case st.Faults != nil:
				s.Serial, s.SerialWhy = true, fmt.Sprintf("it sets fault rules (line %d)", st.Line)
			case st.Tokens != "":
				// Every scenario's bot holds a token of the app.
				s.Serial, s.SerialWhy = true, fmt.Sprintf("it makes the app's access tokens %s (line %d)", map[string]string{"expire": "expire", "revoke": "invalid"}[st.Tokens], st.Line)
			}
		}
	}
	if d.failed(mark) {
		return nil
	}
	return s
}

func appFix(cfg *config.Config, key string) string {
	var keys []string
	for _, a := range cfg.Apps {
		keys = append(keys, a.Alias)
	}
	for _, a := range cfg.Apps {
		keys = append(keys, a.AppID)
	}
	fix := "the apps are " + strings.Join(keys, ", ")
	if key != "" {
		if s, ok := suggest(key, keys); ok {
			fix = fmt.Sprintf("did you mean %q? %s", s, fix)
		}
	}
	return fix
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// users decodes `users:`, a list of names or of {name, subscribed, openid}.
func (d *decoder) users(n *yaml.Node, path string) []User {
	r := resolve(n)
	if isNull(r) {
		return nil
	}
	if r.Kind == yaml.ScalarNode {
		r = &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{r}, Line: r.Line, Column: r.Column}
	}
	if r.Kind != yaml.SequenceNode {
		d.fail(n, path, "expected a list of users, got "+describe(n), "write users: [alice, bob]")
		return nil
	}
	var out []User
	seen := map[string]bool{}
	for i, item := range r.Content {
		at := fmt.Sprintf("%s[%d]", path, i)
		u := User{Subscribed: true}
		it := resolve(item)
		if it != nil && it.Kind == yaml.MappingNode {
			var spec struct {
				Name       string `yaml:"name"`
				Subscribed *bool  `yaml:"subscribed"`
				OpenID     string `yaml:"openid"`
			}
			if !d.strict(item, at, &spec) {
				continue
			}
			u.Name, u.OpenID = spec.Name, spec.OpenID
			if spec.Subscribed != nil {
				u.Subscribed = *spec.Subscribed
			}
			if u.Name == "" {
				d.fail(item, at, "name is missing", "write {name: carol, subscribed: false}")
				continue
			}
			if u.OpenID != "" && !openIDRe.MatchString(u.OpenID) {
				d.fail(valueNode(item, "openid"), joinPath(at, "openid"), fmt.Sprintf("%q is not an openid", u.OpenID), "an openid is 28 characters of letters, digits, _ or -, starting with o")
				continue
			}
		} else {
			name, ok := d.str(item, at, "a user name")
			if !ok {
				continue
			}
			u.Name = name
		}
		switch {
		case !nameRe.MatchString(u.Name):
			d.fail(item, at, fmt.Sprintf("%q is not a valid user name", u.Name), "a name is a letter then up to 31 letters, digits, _ or -")
		case contains(reserved, u.Name):
			d.fail(item, at, fmt.Sprintf("%q cannot name a user: it is a step key or reserved word", u.Name), "choose another name, e.g. "+u.Name+"1")
		case seen[u.Name]:
			d.fail(item, at, fmt.Sprintf("user %q is listed twice", u.Name), "keep one")
		default:
			seen[u.Name] = true
			out = append(out, u)
		}
	}
	return out
}

var openIDRe = regexp.MustCompile(`^o[A-Za-z0-9_-]{27}$`)

// ruleList decodes a list of rule ids, each of which must be in the catalog.
func (d *decoder) ruleList(n *yaml.Node, path string) []string {
	list, ok := d.strList(n, path, "rule ids")
	if !ok {
		return nil
	}
	r := resolve(n)
	var out []string
	for i, id := range list {
		at, node := path, n
		if r.Kind == yaml.SequenceNode {
			at, node = fmt.Sprintf("%s[%d]", path, i), r.Content[i]
		}
		if d.rule(node, at, id) {
			out = append(out, id)
		}
	}
	return out
}

// rule checks that id names a rule: of the catalog, or of the scenario's own checks.
func (d *decoder) rule(n *yaml.Node, path, id string) bool {
	if _, ok := lookupRule(id); ok {
		return true
	}
	var ids []string
	for _, r := range rules.Catalog() {
		ids = append(ids, r.ID)
	}
	for _, r := range checkRules {
		ids = append(ids, r.ID)
	}
	fix := "see the rule ids in the README (wxemu send prints them too)"
	if s, ok := suggest(id, ids); ok {
		fix = fmt.Sprintf("did you mean %q?", s)
	}
	d.fail(n, path, fmt.Sprintf("unknown rule %q", id), fix)
	return false
}

// violationSpec is the mapping form of an item of violations:.
type violationSpec struct {
	Rule     string `yaml:"rule"`
	Severity string `yaml:"severity" enum:"error,warning"`
}

// violations decodes `violations:`: rule ids, or {rule, severity} items, or a mix.
func (d *decoder) violations(n *yaml.Node, path string) []ViolationExpect {
	r := resolve(n)
	if isNull(r) {
		return nil
	}
	items := []*yaml.Node{n}
	if r.Kind == yaml.SequenceNode {
		items = r.Content
	}
	var out []ViolationExpect
	for i, item := range items {
		at := path
		if r.Kind == yaml.SequenceNode {
			at = fmt.Sprintf("%s[%d]", path, i)
		}
		it := resolve(item)
		switch {
		case it != nil && it.Kind == yaml.MappingNode:
			var spec violationSpec
			mark := len(d.errs)
			if !d.strict(item, at, &spec) || d.failed(mark) {
				continue
			}
			if spec.Rule == "" {
				d.fail(item, at, "rule is missing", "write {rule: reply.createtime.skew, severity: warning}")
				continue
			}
			if !d.rule(valueNode(item, "rule"), joinPath(at, "rule"), spec.Rule) {
				continue
			}
			if spec.Rule == RuleLateSend {
				d.fail(valueNode(item, "rule"), joinPath(at, "rule"), RuleLateSend+" is not caused by a push", "tolerate it with tolerate: ["+RuleLateSend+"]")
				continue
			}
			out = append(out, ViolationExpect{Rule: spec.Rule, Severity: spec.Severity})
		case it != nil && it.Kind == yaml.ScalarNode && it.ShortTag() != "!!null":
			if !d.rule(item, at, it.Value) {
				continue
			}
			if it.Value == RuleLateSend {
				d.fail(item, at, RuleLateSend+" is not caused by a push", "tolerate it with tolerate: ["+RuleLateSend+"]")
				continue
			}
			out = append(out, ViolationExpect{Rule: it.Value})
		default:
			d.walker().TypeError(item, at, "a rule id or {rule, severity}", "write violations: [reply.header.swap] or violations: [{rule: reply.createtime.skew, severity: warning}]")
		}
	}
	return out
}

// checks decodes a list of built-in checks.
func (d *decoder) checks(n *yaml.Node, path string) Checks {
	var c Checks
	list, ok := d.strList(n, path, "checks")
	if !ok {
		return c
	}
	r := resolve(n)
	for i, name := range list {
		at, node := path, n
		if r.Kind == yaml.SequenceNode {
			at, node = fmt.Sprintf("%s[%d]", path, i), r.Content[i]
		}
		switch name {
		case "signature":
			c.Signature = true
		case "replay":
			c.Replay = true
		default:
			d.enumError(node, at, name, checkNames)
		}
	}
	return c
}

// checkRefs checks that each template of a step names something defined before it.
func (d *decoder) checkRefs(st *Step, names map[string]string, path string) {
	for _, r := range st.refs {
		what := names[r.name]
		switch {
		case r.name == st.ID && st.ID != "":
			d.fail(r.node, r.at, fmt.Sprintf("%s refers to the step's own result", r.text), "a step can refer to the results of the steps before it")
		case what == "":
			known := make([]string, 0, len(names))
			for k := range names {
				known = append(known, k)
			}
			slices.Sort(known)
			fix := "a template names a variable, a user, app, or the id of an earlier step; known here: " + strings.Join(known, ", ")
			if s, ok := suggest(r.name, known); ok {
				fix = fmt.Sprintf("did you mean %q?", s)
			}
			d.fail(r.node, r.at, fmt.Sprintf("%s: nothing is called %q", r.text, r.name), fix)
		case what == "variable" && r.path != "":
			d.fail(r.node, r.at, fmt.Sprintf("%s: variable %s has no fields", r.text, r.name), "write ${"+r.name+"}")
		}
	}
}
