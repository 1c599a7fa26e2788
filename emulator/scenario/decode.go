package scenario

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wxemu/wxemu/emulator/config"
)

// A scenario file is decoded partly by config.DecodeStrict (the regular parts: agent actions,
// sends, the top-level keys) and partly by hand, because a step's keys include the scenario's
// user names and several values take more than one shape (reply: transfer, reply: {text: …}).
// Both report *config.Error values, so every problem reads the same way:
// FILE:LINE:COL: PATH: MSG (FIX).

// maxProblems bounds one file's report; past it the rest are mostly consequences.
const maxProblems = 50

type decoder struct {
	file string
	errs []*config.Error
	refs []ref // the templates of the step being decoded
}

// fail records a problem at node n (or at no position when n is nil).
func (d *decoder) fail(n *yaml.Node, path, msg, fix string) {
	e := &config.Error{File: d.file, Path: path, Msg: msg, Fix: fix}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

// failed reports whether problems were recorded since mark (a len(d.errs) taken before).
func (d *decoder) failed(mark int) bool { return len(d.errs) > mark }

// err returns the problems in file order, joined, or nil.
func (d *decoder) err() error {
	if len(d.errs) == 0 {
		return nil
	}
	errs := dedupe(d.errs)
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i], errs[j]
		if (a.Line == 0) != (b.Line == 0) {
			return b.Line == 0
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	if len(errs) > maxProblems {
		more := len(errs) - maxProblems
		errs = append(errs[:maxProblems], &config.Error{File: d.file, Msg: fmt.Sprintf("%d more problems not shown", more), Fix: "fix the ones above first"})
	}
	list := make([]error, len(errs))
	for i, e := range errs {
		list[i] = e
	}
	return errors.Join(list...)
}

func dedupe(errs []*config.Error) []*config.Error {
	seen := map[string]bool{}
	var out []*config.Error
	for _, e := range errs {
		if s := e.Error(); !seen[s] {
			seen[s] = true
			out = append(out, e)
		}
	}
	return out
}

// Problems lists the *config.Error values of an error Parse or Load returned, in file order.
func Problems(err error) []*config.Error {
	var out []*config.Error
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var e *config.Error
		if errors.As(err, &e) {
			out = append(out, e)
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

// strict decodes n into out with config.DecodeStrict and files its problems under path.
func (d *decoder) strict(n *yaml.Node, path string, out any) bool {
	err := config.DecodeStrict(d.file, n, out)
	if err == nil {
		return true
	}
	for _, e := range Problems(err) {
		c := *e
		c.Path = joinPath(path, c.Path)
		if c.Line == 0 && n != nil {
			c.Line, c.Column = n.Line, n.Column
		}
		d.errs = append(d.errs, &c)
	}
	if len(Problems(err)) == 0 {
		d.fail(n, path, err.Error(), "")
	}
	return false
}

func joinPath(path, key string) string {
	switch {
	case path == "":
		return key
	case key == "":
		return path
	case strings.HasPrefix(key, "["):
		return path + key
	}
	return path + "." + key
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return resolve(n.Content[0])
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || n.Kind == 0 || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// pair is one key of a mapping and its value.
type pair struct {
	key   string
	knode *yaml.Node
	value *yaml.Node
}

// pairs lists a mapping's keys in order, the keys merged in with << after them; duplicate keys
// are reported, x- keys (a place to keep anchors) are left out.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	n = resolve(n)
	var own, merged []pair
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			src := resolve(v)
			switch {
			case src != nil && src.Kind == yaml.MappingNode:
				merged = append(merged, d.pairs(src, path)...)
			case src != nil && src.Kind == yaml.SequenceNode:
				for _, item := range src.Content {
					if it := resolve(item); it != nil && it.Kind == yaml.MappingNode {
						merged = append(merged, d.pairs(it, path)...)
					}
				}
			default:
				d.fail(v, path, "<< takes a mapping or a list of mappings, got "+describe(v), "write <<: *anchor")
			}
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.fail(k, path, "a key must be a plain word, got "+describe(k), "write key: value")
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.fail(k, path, fmt.Sprintf("duplicate key %q", k.Value), fmt.Sprintf("it is already set at line %d; keep one", first.Line))
			continue
		}
		seen[k.Value] = k
		if strings.HasPrefix(k.Value, "x-") {
			continue
		}
		own = append(own, pair{k.Value, k, v})
	}
	for _, p := range merged {
		if _, ok := seen[p.key]; !ok {
			seen[p.key] = p.knode
			own = append(own, p)
		}
	}
	return own
}

// mapping lists the keys of a mapping that are among allowed, reporting the others with the
// allowed key they most resemble. what names the mapping for a type error.
func (d *decoder) mapping(n *yaml.Node, path, what string, allowed []string) ([]pair, bool) {
	r := resolve(n)
	if r == nil || r.Kind != yaml.MappingNode {
		d.fail(n, path, fmt.Sprintf("expected %s, got %s", what, describe(n)), "its keys are "+strings.Join(allowed, ", "))
		return nil, false
	}
	var out []pair
	for _, p := range d.pairs(r, path) {
		if !slices.Contains(allowed, p.key) {
			d.unknownKey(p.knode, path, p.key, allowed)
			continue
		}
		out = append(out, p)
	}
	return out, true
}

func (d *decoder) unknownKey(k *yaml.Node, path, key string, allowed []string) {
	msg := fmt.Sprintf("unknown key %q", key)
	if s, ok := suggest(key, allowed); ok {
		d.fail(k, path, msg, fmt.Sprintf("did you mean %q?", s))
		return
	}
	d.fail(k, path, msg, "allowed keys here: "+strings.Join(allowed, ", "))
}

// str reads a scalar as the text written. A null is "".
func (d *decoder) str(n *yaml.Node, path, what string) (string, bool) {
	r := resolve(n)
	if isNull(r) {
		return "", true
	}
	if r.Kind != yaml.ScalarNode {
		d.fail(n, path, fmt.Sprintf("expected %s, got %s", what, describe(n)), "")
		return "", false
	}
	return r.Value, true
}

// strList reads a list of scalars; a single scalar is a list of one.
func (d *decoder) strList(n *yaml.Node, path, what string) ([]string, bool) {
	r := resolve(n)
	if isNull(r) {
		return nil, true
	}
	if r.Kind == yaml.ScalarNode {
		return []string{r.Value}, true
	}
	if r.Kind != yaml.SequenceNode {
		d.fail(n, path, fmt.Sprintf("expected a list of %s, got %s", what, describe(n)), "write [a, b] or one item per line starting with \"- \"")
		return nil, false
	}
	out := make([]string, 0, len(r.Content))
	ok := true
	for i, item := range r.Content {
		s, good := d.str(item, fmt.Sprintf("%s[%d]", path, i), what)
		ok = ok && good
		out = append(out, s)
	}
	return out, ok
}

// describe names what a node holds, for "expected X, got Y".
func describe(n *yaml.Node) string { return config.Describe(resolve(n)) }

func suggest(word string, candidates []string) (string, bool) {
	return config.Suggest(word, candidates)
}

// syntaxError turns a YAML parser error into a problem with a line and a hint.
func syntaxError(file string, data []byte, err error) *config.Error {
	return config.YAMLSyntaxError(file, data, err)
}
