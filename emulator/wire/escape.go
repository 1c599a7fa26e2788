package wire

import (
	"unicode/utf8"
)

// The appenders below write any Go string so that a conforming parser reads back exactly that
// string, except for what the format cannot carry at all: XML 1.0 has no way to write most C0
// controls, U+FFFE and U+FFFF, and neither format carries invalid UTF-8; those are written as
// U+FFFD, as encoding/json does for invalid UTF-8.

const replacement = "\uFFFD"

// xmlIllegal reports whether the rune cannot appear in an XML 1.0 document.
func xmlIllegal(r rune, size int) bool {
	return r < 0x20 && r != '\t' && r != '\n' && r != '\r' ||
		r == utf8.RuneError && size == 1 || r == 0xFFFE || r == 0xFFFF
}

// appendCDATA writes s as one CDATA section. "]]>" inside s is split across two sections, and a
// carriage return leaves the section for "&#13;", because parsers turn a literal CR (and CR LF)
// into LF even inside CDATA.
func appendCDATA(dst []byte, s string) []byte {
	dst = append(dst, "<![CDATA["...)
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != ']' || c == '\t' || c == '\n' {
			i++
			continue
		}
		switch {
		case c == ']':
			if len(s)-i >= 3 && s[i+1] == ']' && s[i+2] == '>' {
				dst = append(dst, s[start:i+2]...)
				dst = append(dst, "]]><![CDATA["...)
				i += 2
				start = i
				continue
			}
			i++
		case c == '\r':
			dst = append(dst, s[start:i]...)
			dst = append(dst, "]]>&#13;<![CDATA["...)
			i++
			start = i
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if xmlIllegal(r, size) {
				dst = append(dst, s[start:i]...)
				dst = append(dst, replacement...)
				i += size
				start = i
				continue
			}
			i += size
		}
	}
	dst = append(dst, s[start:]...)
	return append(dst, "]]>"...)
}

// appendXMLText writes s as escaped character data, for the fields WeChat writes bare.
func appendXMLText(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '&' && c != '<' && c != '>' || c == '\t' || c == '\n' {
			i++
			continue
		}
		var esc string
		size := 1
		switch c {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\r':
			esc = "&#13;"
		default:
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			if !xmlIllegal(r, size) {
				i += size
				continue
			}
			esc = replacement
		}
		dst = append(dst, s[start:i]...)
		dst = append(dst, esc...)
		i += size
		start = i
	}
	return append(dst, s[start:]...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string without HTML escaping, so that <a href> links in
// text survive as WeChat's own JSON does. U+2028 and U+2029 are escaped as encoding/json does.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// isJSONNumber reports whether s is a number literal by the JSON grammar.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i == len(s) || s[i] < '0' || s[i] > '9' {
			return false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i == len(s) || s[i] < '0' || s[i] > '9' {
			return false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	return i == len(s)
}

// validUTF8 returns s with each byte of invalid UTF-8 replaced by U+FFFD, as encoding/json
// decodes strings; s itself when it is valid.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, replacement...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}
