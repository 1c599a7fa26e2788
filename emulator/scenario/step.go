package scenario

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/wire"
)

// step decodes one step: at most one action (a user's name, agent, advance or trigger) and the
// expectations that go with it.
func (d *decoder) step(n *yaml.Node, path string, s *Scenario, kind wire.Kind, cfg *config.Config) *Step {
	r := resolve(n)
	users := make([]string, 0, len(s.Users))
	for _, u := range s.Users {
		users = append(users, u.Name)
	}
	if r == nil || r.Kind != yaml.MappingNode {
		d.fail(n, path, "expected a step, got "+describe(n), "a step is a mapping, e.g. - alice: hi, or - advance: 30m")
		return nil
	}
	d.refs = nil
	mark := len(d.errs)
	st := &Step{Line: r.Line}
	var actions []string
	var actionNode *yaml.Node
	allowed := append(append([]string{}, users...), stepKeys...)
	for _, p := range d.pairs(r, path) {
		at := joinPath(path, p.key)
		if contains(users, p.key) {
			actions = append(actions, p.key)
			actionNode = p.knode
			st.User = p.key
			st.Message = d.message(p.value, at, kind)
			continue
		}
		if !contains(stepKeys, p.key) {
			d.unknownStepKey(p.knode, path, p.key, allowed, users)
			continue
		}
		switch p.key {
		case "id":
			id, ok := d.str(p.value, at, "an id")
			switch {
			case !ok:
			case !nameRe.MatchString(id):
				d.fail(p.value, at, fmt.Sprintf("%q is not a valid id", id), "an id is a letter then up to 31 letters, digits, _ or - (it is used as ${id.path})")
			case contains(reserved, id) || contains(users, id):
				d.fail(p.value, at, fmt.Sprintf("%q cannot be a step id: it is a user or a reserved word", id), "choose another id")
			default:
				st.ID = id
			}
		case "name":
			st.Name, _ = d.str(p.value, at, "a label")
		case "agent":
			actions = append(actions, p.key)
			actionNode = p.knode
			st.Agent = d.agent(p.value, at, users)
		case "advance":
			actions = append(actions, p.key)
			actionNode = p.knode
			var dur config.Duration
			if d.strict(p.value, at, &dur) {
				if dur <= 0 {
					d.fail(p.value, at, "advance needs a positive duration", "e.g. advance: 30m1s or advance: 48h")
				}
				st.Advance = dur.D()
			}
		case "trigger":
			actions = append(actions, p.key)
			actionNode = p.knode
			st.Trigger = d.trigger(p.value, at, users)
		case "tokens":
			actions = append(actions, p.key)
			actionNode = p.knode
			if v, ok := d.str(p.value, at, "expire or revoke"); ok {
				if contains(tokenActions, v) {
					st.Tokens = v
				} else {
					d.enumError(p.value, at, v, tokenActions)
				}
			}
		case "faults":
			actions = append(actions, p.key)
			actionNode = p.knode
			st.Faults = d.faultsStep(p.value, at, s, cfg)
		case "reply":
			st.Reply = d.reply(p.value, at)
		case "delivered_to":
			v, ok := d.str(p.value, at, "bot, agent, none, held or a kf account")
			if ok && v != "bot" && v != "agent" && v != "none" && v != "held" && !strings.Contains(v, "@") && !hasTemplate(v) {
				d.enumError(p.value, at, v, []string{"bot", "agent", "none", "held"})
				ok = false
			}
			if ok {
				d.tmpl(p.value, at, v)
				st.DeliveredTo = v
			}
		case "user_sees":
			st.UserSees = d.textMatch(p.value, at)
		case "sends":
			st.Sends = d.sends(p.value, at)
		case "bot_receives":
			st.BotReceives = d.receives(p.value, at)
		case "violations":
			st.Violations = d.violations(p.value, at)
		case "tolerate":
			st.Tolerate = d.ruleList(p.value, at)
		case "checks":
			c := d.checks(p.value, at)
			st.Checks = &c
		case "error":
			st.Error = d.textMatch(p.value, at)
		}
	}
	if d.failed(mark) {
		return nil
	}
	switch {
	case len(actions) > 1:
		d.fail(actionNode, path, fmt.Sprintf("a step does one thing, this one has %s", strings.Join(actions, " and ")), "split it into one step per action")
	case len(actions) == 0 && st.Sends == nil && st.BotReceives == nil:
		d.fail(n, path, "the step does nothing and checks nothing",
			"give a user's action (alice: hi), agent:, advance:, trigger:, tokens:, faults:, or a check (sends:, bot_receives:)")
	}
	if st.Message == nil {
		for key, set := range map[string]bool{"reply": st.Reply != nil, "delivered_to": st.DeliveredTo != "", "user_sees": st.UserSees != nil, "checks": st.Checks != nil} {
			if set {
				d.fail(valueNode(r, key), joinPath(path, key), key+" checks what came of a user's message, and this step has none", "put it in the step where the user sends")
			}
		}
	}
	if st.Error != nil && st.Agent == nil && st.Trigger == nil {
		d.fail(valueNode(r, "error"), joinPath(path, "error"), "error expects an agent's or a trigger's action to fail, and this step has none", "")
	}
	if len(st.Violations) > 0 && len(actions) == 0 {
		d.fail(valueNode(r, "violations"), joinPath(path, "violations"), "violations are found in what an action pushes, and this step has none", "put it in the step whose push breaks the rule")
	}
	if st.Sends != nil && st.Sends.User == "" {
		switch {
		case st.User != "":
			st.Sends.User = st.User
		case st.Agent != nil && st.Agent.User != "":
			st.Sends.User = st.Agent.User
		case st.Trigger != nil:
			st.Sends.User = st.Trigger.User
		case len(users) == 1:
			st.Sends.User = users[0]
		default:
			d.fail(valueNode(r, "sends"), joinPath(path, "sends"), "whose sends? the step has no user", "add user: NAME")
		}
	}
	if st.Sends != nil && st.Sends.User != "" && !hasTemplate(st.Sends.User) {
		d.checkUser(valueNode(valueNode(r, "sends"), "user"), joinPath(path, "sends.user"), st.Sends.User, users)
	}
	if b := st.BotReceives; b != nil {
		if b.User == "" {
			switch {
			case st.User != "":
				b.User = st.User
			case st.Agent != nil && st.Agent.User != "":
				b.User = st.Agent.User
			case len(users) == 1:
				b.User = users[0]
			default:
				d.fail(valueNode(r, "bot_receives"), joinPath(path, "bot_receives"), "about which user? the step has none", "add user: NAME")
			}
		}
		if b.User != "" {
			d.checkUser(valueNode(valueNode(r, "bot_receives"), "user"), joinPath(path, "bot_receives.user"), b.User, users)
		}
	}
	st.refs = d.refs
	d.refs = nil
	if d.failed(mark) {
		return nil
	}
	return st
}

func (d *decoder) unknownStepKey(k *yaml.Node, path, key string, allowed, users []string) {
	msg := fmt.Sprintf("unknown key %q", key)
	if s, ok := suggest(key, allowed); ok {
		d.fail(k, path, msg, fmt.Sprintf("did you mean %q?", s))
		return
	}
	who := "the scenario has no users"
	if len(users) > 0 {
		who = "the users are " + strings.Join(users, ", ")
	}
	d.fail(k, path, msg, fmt.Sprintf("a step's keys are a user's name (%s; declare users in users:) and %s", who, strings.Join(stepKeys, ", ")))
}

func (d *decoder) checkUser(n *yaml.Node, path, name string, users []string) bool {
	if contains(users, name) {
		return true
	}
	fix := "declare the user in users:"
	if len(users) > 0 {
		fix = "the users are " + strings.Join(users, ", ")
	}
	if s, ok := suggest(name, users); ok {
		fix = fmt.Sprintf("did you mean %q?", s)
	}
	d.fail(n, path, fmt.Sprintf("unknown user %q", name), fix)
	return false
}

// agentSpec is the mapping of `agent:`.
type agentSpec struct {
	Account    string `yaml:"account"`
	Accept     string `yaml:"accept"`
	Close      string `yaml:"close"`
	Switch     string `yaml:"switch"`
	To         string `yaml:"to"`
	Reply      string `yaml:"reply"`
	Text       string `yaml:"text"`
	Online     *bool  `yaml:"online"`
	AutoAccept *bool  `yaml:"auto_accept"`
	Capacity   *int   `yaml:"capacity"`
}

// agent decodes `agent: {account: kf1@…, accept: alice}` and the other agent actions: close,
// switch (with to), reply (with text), and online / auto_accept / capacity.
func (d *decoder) agent(n *yaml.Node, path string, users []string) *AgentAction {
	var s agentSpec
	mark := len(d.errs)
	if !d.strict(n, path, &s) || d.failed(mark) {
		return nil
	}
	r := resolve(n)
	if s.Account == "" {
		d.fail(n, path, "account is missing", "name the kf account, e.g. account: kf1@wxemu_demo")
		return nil
	}
	d.tmpl(valueNode(r, "account"), joinPath(path, "account"), s.Account)
	a := &AgentAction{Account: s.Account, Online: s.Online, AutoAccept: s.AutoAccept, Capacity: s.Capacity}
	var dos []string
	for do, user := range map[string]string{"accept": s.Accept, "close": s.Close, "switch": s.Switch, "reply": s.Reply} {
		if user == "" {
			continue
		}
		dos = append(dos, do)
		a.Do, a.User = do, user
		d.checkUser(valueNode(r, do), joinPath(path, do), user, users)
	}
	if s.Online != nil || s.AutoAccept != nil || s.Capacity != nil {
		dos = append(dos, "status")
		a.Do = "status"
	}
	switch {
	case len(dos) == 0:
		d.fail(n, path, "what does the agent do?", "give one of accept: USER, close: USER, switch: USER (with to:), reply: USER (with text:), or online:, auto_accept:, capacity:")
		return nil
	case len(dos) > 1:
		d.fail(n, path, fmt.Sprintf("an agent step does one thing, this one has %d", len(dos)), "split it into one step per action")
		return nil
	}
	if a.Do == "switch" {
		if s.To == "" {
			d.fail(n, path, "switch needs to:", "name the account that takes over, e.g. to: kf2@wxemu_demo")
		}
		a.To = s.To
		d.tmpl(valueNode(r, "to"), joinPath(path, "to"), s.To)
	} else if s.To != "" {
		d.fail(valueNode(r, "to"), joinPath(path, "to"), "to goes with switch", "")
	}
	if a.Do == "reply" {
		if s.Text == "" {
			d.fail(n, path, "reply needs text:", "write what the agent says, e.g. text: 您好")
		}
		a.Text = s.Text
		d.tmpl(valueNode(r, "text"), joinPath(path, "text"), s.Text)
	} else if s.Text != "" {
		d.fail(valueNode(r, "text"), joinPath(path, "text"), "text goes with reply", "")
	}
	if s.Capacity != nil && *s.Capacity < 1 {
		d.fail(valueNode(r, "capacity"), joinPath(path, "capacity"), "capacity must be at least 1", "")
	}
	if d.failed(mark) {
		return nil
	}
	return a
}

// trigger decodes `trigger: {user: alice, kind: payment}`, or `trigger: payment` when the
// scenario has one user.
func (d *decoder) trigger(n *yaml.Node, path string, users []string) *TriggerAction {
	r := resolve(n)
	var spec struct {
		User string `yaml:"user"`
		Kind string `yaml:"kind"`
	}
	switch {
	case r != nil && r.Kind == yaml.ScalarNode && r.ShortTag() != "!!null":
		spec.Kind = r.Value
	default:
		mark := len(d.errs)
		if !d.strict(n, path, &spec) || d.failed(mark) {
			return nil
		}
	}
	if spec.User == "" {
		if len(users) != 1 {
			d.fail(n, path, "whose trigger? user is missing", "write trigger: {user: alice, kind: payment}")
			return nil
		}
		spec.User = users[0]
	}
	if !d.checkUser(valueNode(r, "user"), joinPath(path, "user"), spec.User, users) {
		return nil
	}
	if !contains(triggerKinds, spec.Kind) {
		at := joinPath(path, "kind")
		if r.Kind == yaml.ScalarNode {
			at = path
		}
		if spec.Kind == "" {
			d.fail(n, at, "kind is missing", "one of "+strings.Join(triggerKinds, ", "))
		} else {
			d.enumError(valueNode(r, "kind"), at, spec.Kind, triggerKinds)
		}
		return nil
	}
	return &TriggerAction{User: spec.User, Kind: spec.Kind}
}
