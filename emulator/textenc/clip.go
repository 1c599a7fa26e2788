package textenc

import (
	"strconv"
	"unicode/utf8"
)

// Clip shortens s for a message to a person: at most n characters, and "…" where it was cut. It
// counts and cuts by character (a byte that is not UTF-8 counts as one), so that Chinese text is
// clipped as much as ASCII is and never in the middle of a character; the bytes it keeps are
// s's, unchanged.
func Clip(s string, n int) string {
	i := 0
	for c := 0; i < len(s); c++ {
		if c >= n {
			return s[:i] + "…"
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s
}

// ClipBody shortens a raw body kept for a person (a journal entry, a failure message) to at most
// n bytes, cut on a character boundary, and says how long it was: "… (70000 bytes in all)". It
// counts bytes, not characters, because what it bounds is memory and screen space for bodies that
// need not be text.
func ClipBody[T ~string | ~[]byte](b T, n int) string {
	if len(b) <= n {
		return string(b)
	}
	cut := max(n, 0)
	// Back to the start of the character cut through: at most UTFMax-1 bytes, so that a binary
	// body of continuation bytes is not eaten whole.
	for back := 0; cut > 0 && back < utf8.UTFMax-1 && !utf8.RuneStart(b[cut]); back++ {
		cut--
	}
	return string(b[:cut]) + "… (" + strconv.Itoa(len(b)) + " bytes in all)"
}
