package config

import (
	"fmt"
	"github.com/wxemu/wxemu/emulator/textenc"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is one problem in a configuration file, phrased for the person who has to fix it.
// Several problems come back together, joined with errors.Join, in file order; errors.As finds the
// first, and a loop over Unwrap() []error finds them all.
type Error struct {
	File   string // as given to Parse or Load; empty for Validate
	Line   int    // 1-based; 0 when the problem has no place in the file (an empty file)
	Column int    // 1-based; 0 when unknown
	Path   string // where in the configuration, e.g. "apps[0].token"; empty for the whole file
	Msg    string // what is wrong
	Fix    string // how to make it right
}

// Error formats e as "FILE:LINE:COL: PATH: MSG (FIX)", leaving out the parts that are empty.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0 && e.Column > 0:
		fmt.Fprintf(&b, "%s:%d:%d: ", e.File, e.Line, e.Column)
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	if e.Fix != "" {
		b.WriteString(" (" + e.Fix + ")")
	}
	return b.String()
}

// maxErrors bounds one report: past it the rest are usually consequences of the first ones, and
// a hostile file (aliases multiplying one bad value) must not make the report huge.
const maxErrors = 100

// Report joins the problems found in file into one error, nil when there are none: deduplicated
// (an anchor used twice is wrong twice), in file order (those without a line last), at most limit
// of them and then a count of the rest. dropped counts problems found but not kept in errs.
func Report(file string, errs []*Error, dropped, limit int) error {
	seen := map[string]bool{}
	var out []*Error
	for _, e := range errs {
		if s := e.Error(); !seen[s] {
			seen[s] = true
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.Line == 0) != (b.Line == 0) {
			return b.Line == 0
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	if total := len(out) + dropped; total > limit {
		out = out[:min(len(out), limit)]
		out = append(out, &Error{File: file, Msg: fmt.Sprintf("%d more problems not shown", total-len(out)), Fix: "fix the ones above first"})
	}
	if len(out) == 0 {
		return nil
	}
	return joinErrors(out)
}

// Describe names what a node holds, for "expected X, got Y"; the scenario loader shares it.
func Describe(n *yaml.Node) string {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.DocumentNode:
		return "a document"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "nothing"
		}
		return strconv.Quote(textenc.Clip(n.Value, 40))
	}
	return "nothing"
}

// Suggest picks the candidate a mistyped word most likely meant: the same word with other case
// or separators ("AppID" for "appid"), then the nearest within two edits (one for a word of four
// letters or fewer: zed is not id), then one it starts or is the start of. The scenario loader
// and the control API use it too, so every did-you-mean in wxemu agrees.
func Suggest(word string, candidates []string) (string, bool) {
	w := normalize(word)
	for _, c := range candidates {
		if normalize(c) == w {
			return c, true
		}
	}
	limit := 2
	if len(w) <= 4 {
		limit = 1
	}
	best, bestDist := "", limit+1
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(word), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best != "" {
		return best, true
	}
	if len(w) >= 3 {
		for _, c := range candidates {
			n := normalize(c)
			if strings.HasPrefix(n, w) || strings.HasPrefix(w, n) {
				return c, true
			}
		}
	}
	return "", false
}

func suggest(word string, candidates []string) (string, bool) { return Suggest(word, candidates) }

func normalize(s string) string {
	return strings.NewReplacer("_", "", "-", "", " ", "").Replace(strings.ToLower(s))
}

// editDistance counts the edits between a and b, a swap of two neighbours being one edit
// (optimal string alignment), because swapped letters are the commonest typo: lgn for lng.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return 64
	}
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

func describe(n *yaml.Node) string { return Describe(n) }
