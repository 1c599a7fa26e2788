package scenario

import (
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Templates: any text a step holds may refer to a variable, a user, the app or an earlier
// step's result, as stripe-cli fixtures do:
//
//	${name}            a variable of vars:
//	${alice}           the user's openid in this run (${alice.openid}, ${alice.name})
//	${app.appid}       the app: alias, appid, original_id, kind, mode, format, wechat_id
//	${greet.PATH}      a gjson path into the result of the step with id greet
//	$${                a literal ${
var tmplRe = regexp.MustCompile(`\$\$\{|\$\{([^{}]*)\}`)

// ref is one ${…} of a template, with where it is written, for the checks of Load.
type ref struct {
	name, path string
	text       string // the whole ${…}
	node       *yaml.Node
	at         string // the YAML path of the value
}

func hasTemplate(s string) bool { return strings.Contains(s, "${") }

// parseRefs lists the references of a template, and a problem with its syntax if any.
func parseRefs(s string) ([]ref, string) {
	var out []ref
	for _, m := range tmplRe.FindAllStringSubmatchIndex(s, -1) {
		if s[m[0]:m[1]] == "$${" {
			continue
		}
		inner := strings.TrimSpace(s[m[2]:m[3]])
		if inner == "" {
			return nil, "empty ${}"
		}
		name, path, _ := strings.Cut(inner, ".")
		out = append(out, ref{name: name, path: path, text: s[m[0]:m[1]]})
	}
	rest := tmplRe.ReplaceAllString(s, "")
	if strings.Contains(rest, "${") {
		return nil, "a ${ without its closing }"
	}
	return out, ""
}

// tmpl records the references of a text the file holds, so Load can check that each names
// something defined before it.
func (d *decoder) tmpl(n *yaml.Node, path, s string) {
	if !hasTemplate(s) {
		return
	}
	refs, problem := parseRefs(s)
	if problem != "" {
		d.fail(n, path, fmt.Sprintf("%s in %q", problem, s), "write ${name}, ${step_id.path}, or $${ for a literal ${")
		return
	}
	for _, r := range refs {
		r.node, r.at = n, path
		d.refs = append(d.refs, r)
	}
}

// expand replaces each ${…} of s with what lookup finds for it.
func expand(s string, lookup func(name, path string) (string, error)) (string, error) {
	if !hasTemplate(s) {
		return s, nil
	}
	var firstErr error
	out := tmplRe.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$${" {
			return "${"
		}
		inner := strings.TrimSpace(m[2 : len(m)-1])
		name, path, _ := strings.Cut(inner, ".")
		v, err := lookup(name, path)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%s: %w", m, err)
		}
		return v
	})
	return out, firstErr
}

// placeholder stands in for a template when a value is checked at load time, before the values
// it refers to exist: a number, so that it passes where a number is needed.
func placeholder(s string) string {
	if !hasTemplate(s) {
		return s
	}
	return tmplRe.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$${" {
			return "${"
		}
		return "1"
	})
}
