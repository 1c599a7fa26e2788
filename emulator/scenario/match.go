package scenario

import (
	"errors"
	"fmt"
	"github.com/wxemu/wxemu/emulator/wire"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wxemu/wxemu/emulator/config"
)

// TextMatch is what a text must be: exactly a string (written as a plain scalar), or a mapping
// of exact, contains, regex and not_contains, all of which must hold. Values are templates.
type TextMatch struct {
	Exact       *string
	Contains    *string
	Regex       *string
	NotContains *string
}

var textMatchKeys = []string{"exact", "contains", "regex", "not_contains"}

// UnmarshalYAML lets the strict YAML walker (config.Decoder) read a TextMatch inside a larger structure.
func (t *TextMatch) UnmarshalYAML(n *yaml.Node) error {
	d := &decoder{}
	if got := d.textMatch(n, ""); got != nil {
		*t = *got
	}
	// The decoder that called knows where the value sits; a path set here would replace its.
	var errs []error
	for _, e := range d.errs {
		e.Path = ""
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}

// textMatch decodes a TextMatch; nil when the node is unusable (reported).
func (d *decoder) textMatch(n *yaml.Node, path string) *TextMatch {
	r := resolve(n)
	if r != nil && r.Kind == yaml.ScalarNode && r.ShortTag() != "!!null" {
		v := r.Value
		d.tmpl(n, path, v)
		return &TextMatch{Exact: &v}
	}
	mark := len(d.errs)
	pairs, ok := d.mapping(n, path, "a text or a mapping of exact, contains, regex, not_contains", textMatchKeys)
	if !ok || d.failed(mark) {
		return nil
	}
	t := &TextMatch{}
	for _, p := range pairs {
		at := joinPath(path, p.key)
		s, ok := d.str(p.value, at, "a text")
		if !ok {
			continue
		}
		d.tmpl(p.value, at, s)
		v := s
		switch p.key {
		case "exact":
			t.Exact = &v
		case "contains":
			t.Contains = &v
		case "regex":
			if !hasTemplate(v) {
				if _, err := regexp.Compile(v); err != nil {
					d.fail(p.value, at, fmt.Sprintf("the regex %q does not compile: %v", v, strings.TrimPrefix(err.Error(), "error parsing regexp: ")),
						"the syntax is Go's (RE2); quote the regex in single quotes so YAML keeps backslashes")
					continue
				}
			}
			t.Regex = &v
		case "not_contains":
			t.NotContains = &v
		}
	}
	if len(pairs) == 0 {
		d.fail(n, path, "the text match is empty", "write a text, or {contains: …}, {regex: …}")
		return nil
	}
	return t
}

// Match reports whether s matches; want describes the expectation for a failure message.
func (t *TextMatch) Match(s string, expandFn func(string) (string, error)) (ok bool, want string, err error) {
	var parts []string
	ok = true
	x := func(v string) (string, error) {
		if expandFn == nil {
			return v, nil
		}
		return expandFn(v)
	}
	if t.Exact != nil {
		v, err := x(*t.Exact)
		if err != nil {
			return false, "", err
		}
		parts = append(parts, strconv.Quote(v))
		ok = ok && s == v
	}
	if t.Contains != nil {
		v, err := x(*t.Contains)
		if err != nil {
			return false, "", err
		}
		parts = append(parts, "containing "+strconv.Quote(v))
		ok = ok && strings.Contains(s, v)
	}
	if t.Regex != nil {
		v, err := x(*t.Regex)
		if err != nil {
			return false, "", err
		}
		re, err := regexp.Compile(v)
		if err != nil {
			return false, "", fmt.Errorf("the regex %q does not compile: %w", v, err)
		}
		parts = append(parts, "matching /"+v+"/")
		ok = ok && re.MatchString(s)
	}
	if t.NotContains != nil {
		v, err := x(*t.NotContains)
		if err != nil {
			return false, "", err
		}
		parts = append(parts, "not containing "+strconv.Quote(v))
		ok = ok && !strings.Contains(s, v)
	}
	return ok, strings.Join(parts, " and "), nil
}

// The outcomes a reply can have, and the passive-reply types an Official Account may send.
var (
	outcomes     = []string{"none", "reply", "transfer", "failed"}
	replyTypes   = []string{"text", "image", "voice", "video", "music", "news"}
	replyKeys    = []string{"outcome", "transfer", "msgtype", "text", "articles", "media_id"}
	replyScalars = append(append([]string{}, outcomes...), replyTypes...)
)

// reply decodes `reply:`: none | reply | transfer | failed | a reply type, or a mapping of
// outcome, transfer, msgtype, text, articles and media_id.
func (d *decoder) reply(n *yaml.Node, path string) *ReplyExpect {
	r := resolve(n)
	if r != nil && r.Kind == yaml.ScalarNode && r.ShortTag() != "!!null" {
		v := r.Value
		switch {
		case contains(outcomes, v):
			return &ReplyExpect{Outcome: v}
		case contains(replyTypes, v):
			return &ReplyExpect{Outcome: "reply", MsgType: v}
		}
		fix := "write one of " + strings.Join(replyScalars, ", ") + `, or {text: "…"}, {text: {contains: …}}, {transfer: ACCOUNT}`
		if s, ok := suggest(v, replyScalars); ok {
			fix = fmt.Sprintf("did you mean %q? For a text reply write {text: %q}", s, v)
		}
		d.fail(n, path, fmt.Sprintf("unknown reply %q", v), fix)
		return nil
	}
	pairs, ok := d.mapping(n, path, "none, reply, transfer, failed or a mapping", replyKeys)
	if !ok {
		return nil
	}
	e := &ReplyExpect{}
	for _, p := range pairs {
		at := joinPath(path, p.key)
		switch p.key {
		case "outcome":
			s, ok := d.str(p.value, at, "an outcome")
			if !ok {
				continue
			}
			if !contains(outcomes, s) {
				d.enumError(p.value, at, s, outcomes)
				continue
			}
			e.Outcome = s
		case "transfer":
			if isNull(p.value) {
				e.Outcome = "transfer"
				continue
			}
			s, ok := d.str(p.value, at, "a kf account")
			if !ok {
				continue
			}
			d.tmpl(p.value, at, s)
			e.Outcome, e.KfAccount = "transfer", &s
		case "msgtype":
			s, ok := d.str(p.value, at, "a reply type")
			if !ok {
				continue
			}
			if !contains(replyTypes, s) && s != "transfer_customer_service" {
				d.enumError(p.value, at, s, replyTypes)
				continue
			}
			e.MsgType = s
		case "text":
			e.Text = d.textMatch(p.value, at)
		case "media_id":
			e.MediaID = d.textMatch(p.value, at)
		case "articles":
			var k int
			if d.strict(p.value, at, &k) {
				e.Articles = &k
			}
		}
	}
	if e.Text != nil && e.MsgType == "" {
		e.MsgType = "text"
	}
	if e.Articles != nil && e.MsgType == "" {
		e.MsgType = "news"
	}
	if e.Outcome == "" && (e.MsgType != "" || e.MediaID != nil) {
		e.Outcome = "reply"
	}
	if e.Outcome != "" && e.Outcome != "reply" && (e.MsgType != "" || e.MediaID != nil) {
		d.fail(n, path, fmt.Sprintf("outcome %s has no reply to check", e.Outcome), "a reply's text, msgtype, articles and media_id go with outcome reply")
	}
	return e
}

func (d *decoder) enumError(n *yaml.Node, path, v string, allowed []string) {
	fix := "allowed values: " + strings.Join(allowed, ", ")
	if s, ok := suggest(v, allowed); ok {
		fix = fmt.Sprintf("did you mean %q? %s", s, fix)
	}
	d.fail(n, path, fmt.Sprintf("unknown value %q", v), fix)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sendsSpec is the mapping form of sends:.
type sendsSpec struct {
	User     string           `yaml:"user"`
	Count    *int             `yaml:"count"`
	AtLeast  *int             `yaml:"at_least"`
	MsgTypes []string         `yaml:"msgtypes"`
	Contents []*TextMatch     `yaml:"contents"`
	Errcodes []int            `yaml:"errcodes"`
	Within   *config.Duration `yaml:"within"`
	Quiet    *config.Duration `yaml:"quiet"`
}

// sends decodes `sends:`: a count, or a mapping of user, count, at_least, msgtypes, contents,
// errcodes, within and quiet.
func (d *decoder) sends(n *yaml.Node, path string) *SendsExpect {
	r := resolve(n)
	if r != nil && r.Kind == yaml.ScalarNode && r.ShortTag() == "!!int" {
		var k int
		if !d.strict(n, path, &k) {
			return nil
		}
		return &SendsExpect{Count: &k}
	}
	if r == nil || r.Kind != yaml.MappingNode {
		d.fail(n, path, "expected a count or a mapping, got "+describe(n), "write sends: 6, or sends: {count: 6, errcodes: [0, 0, 0, 0, 0, 45047]}")
		return nil
	}
	var s sendsSpec
	mark := len(d.errs)
	d.strict(n, path, &s)
	if d.failed(mark) {
		return nil
	}
	for _, c := range []struct {
		name string
		v    *int
	}{{"count", s.Count}, {"at_least", s.AtLeast}} {
		if c.v != nil && *c.v < 0 {
			d.fail(valueNode(r, c.name), joinPath(path, c.name), fmt.Sprintf("%s is negative", c.name), "")
		}
	}
	for i, m := range s.Contents {
		if m == nil {
			d.fail(valueNode(r, "contents"), fmt.Sprintf("%s.contents[%d]", path, i), "the text match is missing", "")
			continue
		}
		d.matchRefs(m, valueNode(r, "contents"), joinPath(path, fmt.Sprintf("contents[%d]", i)))
	}
	lists := map[string]int{}
	if s.MsgTypes != nil {
		lists["msgtypes"] = len(s.MsgTypes)
	}
	if s.Contents != nil {
		lists["contents"] = len(s.Contents)
	}
	if s.Errcodes != nil {
		lists["errcodes"] = len(s.Errcodes)
	}
	for _, name := range []string{"msgtypes", "contents", "errcodes"} {
		k, ok := lists[name]
		if !ok {
			continue
		}
		if s.Count != nil && *s.Count != k {
			d.fail(valueNode(r, name), joinPath(path, name), fmt.Sprintf("%s lists %d sends but count is %d", name, k, *s.Count), "the lists describe every send, in order")
			continue
		}
		for _, other := range []string{"msgtypes", "contents", "errcodes"} {
			if j, ok := lists[other]; ok && other < name && j != k && s.Count == nil {
				d.fail(valueNode(r, name), joinPath(path, name), fmt.Sprintf("%s lists %d sends but %s lists %d", name, k, other, j), "the lists describe every send, in order")
			}
		}
	}
	for _, c := range []struct {
		name string
		v    *config.Duration
	}{{"within", s.Within}, {"quiet", s.Quiet}} {
		if c.v != nil && c.v.D() <= 0 {
			d.fail(valueNode(r, c.name), joinPath(path, c.name), c.name+" must be positive", "leave it out for the run's default (--"+c.name+")")
		}
	}
	if s.Quiet != nil && s.Count == nil && len(lists) == 0 {
		d.fail(valueNode(r, "quiet"), joinPath(path, "quiet"), "quiet watches for a send too many, and at_least allows any number",
			"give count: (or a list) for an exact number, or leave quiet out")
	}
	if d.failed(mark) {
		return nil
	}
	if s.User != "" {
		d.tmpl(valueNode(r, "user"), joinPath(path, "user"), s.User)
	}
	e := &SendsExpect{User: s.User, Count: s.Count, AtLeast: s.AtLeast, MsgTypes: s.MsgTypes, Contents: s.Contents, Errcodes: s.Errcodes}
	if s.Within != nil {
		e.Within = s.Within.D()
	}
	if s.Quiet != nil {
		e.Quiet = s.Quiet.D()
	}
	return e
}

// matchRefs records the templates of a TextMatch decoded by the strict YAML walker.
func (d *decoder) matchRefs(m *TextMatch, n *yaml.Node, path string) {
	for _, v := range []*string{m.Exact, m.Contains, m.Regex, m.NotContains} {
		if v != nil {
			d.tmpl(n, path, *v)
		}
	}
}

// receivesSpec is the mapping form of bot_receives:.
type receivesSpec struct {
	User          string           `yaml:"user"`
	Event         string           `yaml:"event"`
	MsgType       string           `yaml:"msgtype"`
	KfAccount     string           `yaml:"kf_account"`
	FromKfAccount string           `yaml:"from_kf_account"`
	ToKfAccount   string           `yaml:"to_kf_account"`
	Count         *int             `yaml:"count"`
	Within        *config.Duration `yaml:"within"`
}

// receives decodes `bot_receives:`: an event name, or a mapping.
func (d *decoder) receives(n *yaml.Node, path string) *ReceivesExpect {
	r := resolve(n)
	var s receivesSpec
	switch {
	case r != nil && r.Kind == yaml.ScalarNode && r.ShortTag() != "!!null":
		s.Event = r.Value
	case r != nil && r.Kind == yaml.MappingNode:
		mark := len(d.errs)
		d.strict(n, path, &s)
		if d.failed(mark) {
			return nil
		}
	default:
		d.fail(n, path, "expected an event name or a mapping, got "+describe(n), "write bot_receives: kf_create_session, or bot_receives: {event: kf_close_session, kf_account: kf1@wxemu_demo}")
		return nil
	}
	if s.Event == "" && s.MsgType == "" {
		d.fail(n, path, "say what the bot must receive", "give event: (kf_create_session, …) or msgtype:")
		return nil
	}
	if s.Event != "" && !contains(wire.EventNames(), s.Event) {
		at := joinPath(path, "event")
		if r.Kind == yaml.ScalarNode {
			at = path
		}
		d.enumError(valueNode(r, "event"), at, s.Event, wire.EventNames())
		return nil
	}
	if s.Count != nil && *s.Count < 0 {
		d.fail(valueNode(r, "count"), joinPath(path, "count"), "count is negative", "")
	}
	for key, v := range map[string]string{"user": s.User, "kf_account": s.KfAccount, "from_kf_account": s.FromKfAccount, "to_kf_account": s.ToKfAccount} {
		d.tmpl(valueNode(r, key), joinPath(path, key), v)
	}
	e := &ReceivesExpect{User: s.User, Event: s.Event, MsgType: s.MsgType, KfAccount: s.KfAccount,
		FromKfAccount: s.FromKfAccount, ToKfAccount: s.ToKfAccount, Count: s.Count}
	if s.Event != "" && e.MsgType == "" {
		e.MsgType = "event"
	}
	if s.Within != nil {
		e.Within = s.Within.D()
	}
	return e
}

// valueNode finds the value of key in a mapping, or the mapping itself, for a position.
func valueNode(n *yaml.Node, key string) *yaml.Node {
	r := resolve(n)
	if r != nil && r.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(r.Content); i += 2 {
			if r.Content[i].Value == key {
				return r.Content[i+1]
			}
		}
	}
	return n
}
