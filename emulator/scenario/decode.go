package scenario

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wxemu/wxemu/emulator/config"
)

// A scenario file is walked with config.Decoder: by hand, with its Pairs and UnknownKey, where a
// step's keys include the scenario's user names and values take more than one shape (reply:
// transfer, reply: {text: …}), and with its Decode for the regular parts (agent actions, sends,
// users). Every problem is a *config.Error, so it reads the same way as in a configuration file:
// FILE:LINE:COL: PATH: MSG (FIX).

// maxProblems bounds one file's report; past it the rest are mostly consequences.
const maxProblems = 50

type decoder struct {
	file string
	errs []*config.Error
	refs []ref // the templates of the step being decoded
	w    *config.Decoder
}

// walker is the strict walk of the document being decoded; its problems go to d.errs.
func (d *decoder) walker() *config.Decoder {
	if d.w == nil {
		d.start(nil)
	}
	return d.w
}

// start begins the walk of a document, whose root sizes the budget for aliases.
func (d *decoder) start(root *yaml.Node) {
	d.w = config.NewDecoder(d.file, root, func(e *config.Error) { d.errs = append(d.errs, e) })
}

// fail records a problem at node n (or at no position when n is nil).
func (d *decoder) fail(n *yaml.Node, path, msg, fix string) { d.walker().Fail(n, path, msg, fix) }

// failed reports whether problems were recorded since mark (a len(d.errs) taken before).
func (d *decoder) failed(mark int) bool { return len(d.errs) > mark }

// err returns the problems in file order, joined, or nil.
func (d *decoder) err() error { return config.Report(d.file, d.errs, 0, maxProblems) }

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

// strict decodes n into out, a pointer, by the rules of config.DecodeStrict.
func (d *decoder) strict(n *yaml.Node, path string, out any) bool {
	return d.walker().Decode(n, path, out)
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

// pairs lists a mapping's keys as config.Decoder.Pairs does, leaving out x- keys, a place to keep
// anchors.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	var out []pair
	for _, p := range d.walker().Pairs(resolve(n), path) {
		if !strings.HasPrefix(p.Key, "x-") {
			out = append(out, pair{p.Key, p.KeyNode, p.Value})
		}
	}
	return out
}

// mapping lists the keys of a mapping that are among allowed, reporting the others with the
// allowed key they most resemble. what names the mapping for a type error.
func (d *decoder) mapping(n *yaml.Node, path, what string, allowed []string) ([]pair, bool) {
	r := resolve(n)
	if r == nil || r.Kind != yaml.MappingNode {
		d.walker().TypeError(n, path, what, "its keys are "+strings.Join(allowed, ", "))
		return nil, false
	}
	var out []pair
	for _, p := range d.pairs(r, path) {
		if !slices.Contains(allowed, p.key) {
			d.walker().UnknownKey(p.knode, path, allowed)
			continue
		}
		out = append(out, p)
	}
	return out, true
}

// str reads a scalar as the text written. A null is "".
func (d *decoder) str(n *yaml.Node, path, what string) (string, bool) {
	r := resolve(n)
	if isNull(r) {
		return "", true
	}
	if r.Kind != yaml.ScalarNode {
		d.walker().TypeError(n, path, what, "")
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
		d.walker().TypeError(n, path, "a list of "+what, `write [a, b] or one item per line starting with "- "`)
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
