// Package textenc writes strings into the XML and JSON that wire and wxcrypto build by hand:
// CDATA sections, escaped character data and JSON strings. It imports nothing of the project.
//
// Each appender writes any Go string so that a conforming parser reads back exactly that string,
// except for what the format cannot carry at all: XML 1.0 has no way to write most C0 controls,
// U+FFFE and U+FFFF, and neither format carries invalid UTF-8; those are written as U+FFFD, as
// encoding/json does for invalid UTF-8. Whatever goes in, the result is well-formed.
package textenc

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// AppendCDATA appends s as one CDATA section. "]]>" inside s would end the section early, so it
// is split across two sections as "]]" and ">"; a carriage return leaves the section for "&#13;",
// because parsers turn a literal CR (and CR LF) into LF even inside CDATA.
func AppendCDATA(dst []byte, s string) []byte {
	dst = append(dst, "<![CDATA["...)
	for {
		i := strings.Index(s, "]]>")
		if i < 0 {
			break
		}
		dst = appendXML(dst, s[:i+2], true)
		dst = append(dst, "]]><![CDATA["...)
		s = s[i+2:]
	}
	dst = appendXML(dst, s, true)
	return append(dst, "]]>"...)
}

// AppendXMLText appends s as character data outside CDATA: &, < and > as entities, CR as "&#13;".
func AppendXMLText(dst []byte, s string) []byte {
	return appendXML(dst, s, false)
}

// cdataSafe and textSafe mark the bytes appendXML copies without a second look: the ASCII that
// XML 1.0 allows, minus CR, and minus &, < and > outside CDATA. Everything else takes the slow
// path, so the common all-ASCII field is one tight loop.
var cdataSafe, textSafe = func() (cdata, text [256]bool) {
	for b := range utf8.RuneSelf {
		cdata[b] = b >= 0x20 || b == '\t' || b == '\n'
		text[b] = cdata[b] && b != '&' && b != '<' && b != '>'
	}
	return cdata, text
}()

func appendXML(dst []byte, s string, cdata bool) []byte {
	safe := &textSafe
	if cdata {
		safe = &cdataSafe
	}
	start := 0
	for i := 0; i < len(s); {
		if safe[s[i]] {
			i++
			continue
		}
		var repl string
		size := 1
		switch b := s[i]; {
		case b == '&':
			repl = "&amp;"
		case b == '<':
			repl = "&lt;"
		case b == '>':
			repl = "&gt;"
		case b == '\r' && cdata:
			repl = "]]>&#13;<![CDATA["
		case b == '\r':
			repl = "&#13;"
		default:
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			if b >= utf8.RuneSelf && IsXMLChar(r, size) {
				i += size
				continue
			}
			repl = "\uFFFD"
		}
		dst = append(dst, s[start:i]...)
		dst = append(dst, repl...)
		i += size
		start = i
	}
	return append(dst, s[start:]...)
}

// IsXMLChar reports whether r, decoded from size bytes of UTF-8, is a Char of XML 1.0. A
// utf8.RuneError of size 1 is a decoding failure, not a literal U+FFFD.
func IsXMLChar(r rune, size int) bool {
	switch {
	case r < 0x20:
		return r == '\t' || r == '\n' || r == '\r'
	case r == utf8.RuneError:
		return size > 1
	}
	return r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= utf8.MaxRune
}

// AppendJSONString appends s as a quoted JSON string, escaped as encoding/json escapes it with
// HTML escaping off: <, > and & stay as they are, so <a href> links in a text survive as in
// WeChat's own JSON, and U+2028 and U+2029 are escaped.
func AppendJSONString(dst []byte, s string) []byte { return appendJSON(dst, s, true) }

// AppendJSONStringMinimal is AppendJSONString that also leaves U+2028 and U+2029 alone: it
// escapes only what JSON requires.
func AppendJSONStringMinimal(dst []byte, s string) []byte { return appendJSON(dst, s, false) }

// jsonSafe marks the ASCII bytes a JSON string holds as they are.
var jsonSafe = func() (safe [256]bool) {
	for b := range utf8.RuneSelf {
		safe[b] = b >= 0x20 && b != '"' && b != '\\'
	}
	return safe
}()

const hexDigits = "0123456789abcdef"

func appendJSON(dst []byte, s string, lineSeparators bool) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if jsonSafe[b] {
			i++
			continue
		}
		if b >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			var esc string
			switch {
			case r == utf8.RuneError && size == 1:
				esc = `\ufffd`
			case lineSeparators && (r == '\u2028' || r == '\u2029'):
				esc = [...]string{`\u2028`, `\u2029`}[r-'\u2028']
			default:
				i += size
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, esc...)
			i += size
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch b {
		case '"', '\\':
			dst = append(dst, '\\', b)
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
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// MarshalJSON is json.Marshal without HTML escaping: WeChat's bodies keep `<a href="…">` in
// text as written, and so must every body wxemu writes or records.
func MarshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
