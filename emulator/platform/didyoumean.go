package platform

import (
	"fmt"
	"strings"
)

// DidYouMean suggests the closest of names to s, as ` (did you mean "x"?)`, or "" when none is
// close enough to be a likely typo.
func DidYouMean(s string, names []string) string {
	best, bestD := "", 3
	ls := strings.ToLower(s)
	for _, n := range names {
		if d := editDistance(ls, strings.ToLower(n)); d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
