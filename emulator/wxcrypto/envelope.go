package wxcrypto

import (
	"strings"
	"unicode/utf8"
)

// The envelopes are written by hand rather than with encoding/xml and encoding/json: WeChat puts
// strings in CDATA, which encoding/xml cannot emit for a plain field, it orders the keys as below,
// and these run for every push and reply. Whatever goes in, the result is well-formed: text that
// XML 1.0 or JSON cannot carry becomes U+FFFD.

// AppendRequestXML appends the body of a safe-mode push to an XML developer URL (protocol §1.6):
//
//	<xml><ToUserName><![CDATA[gh_…]]></ToUserName><Encrypt><![CDATA[…]]></Encrypt></xml>
func AppendRequestXML(dst []byte, toUserName, encrypt string) []byte {
	dst = append(dst, "<xml><ToUserName>"...)
	dst = appendCDATA(dst, toUserName)
	dst = append(dst, "</ToUserName><Encrypt>"...)
	dst = appendCDATA(dst, encrypt)
	return append(dst, "</Encrypt></xml>"...)
}

// AppendRequestJSON appends the body of a safe-mode push to a JSON developer URL (protocol §1.6):
//
//	{"ToUserName":"gh_…","Encrypt":"…"}
func AppendRequestJSON(dst []byte, toUserName, encrypt string) []byte {
	dst = append(dst, `{"ToUserName":`...)
	dst = appendJSONString(dst, toUserName)
	dst = append(dst, `,"Encrypt":`...)
	dst = appendJSONString(dst, encrypt)
	return append(dst, '}')
}

// AppendReplyXML appends an encrypted passive reply in XML (protocol §1.6):
//
//	<xml><Encrypt><![CDATA[…]]></Encrypt><MsgSignature><![CDATA[…]]></MsgSignature><TimeStamp>1713424427</TimeStamp><Nonce><![CDATA[…]]></Nonce></xml>
func AppendReplyXML(dst []byte, encrypt, msgSignature, timestamp, nonce string) []byte {
	dst = append(dst, "<xml><Encrypt>"...)
	dst = appendCDATA(dst, encrypt)
	dst = append(dst, "</Encrypt><MsgSignature>"...)
	dst = appendCDATA(dst, msgSignature)
	dst = append(dst, "</MsgSignature><TimeStamp>"...)
	dst = appendXMLText(dst, timestamp, true)
	dst = append(dst, "</TimeStamp><Nonce>"...)
	dst = appendCDATA(dst, nonce)
	return append(dst, "</Nonce></xml>"...)
}

// AppendReplyJSON appends an encrypted passive reply in JSON (protocol §1.6):
//
//	{"Encrypt":"…","MsgSignature":"…","TimeStamp":1713424427,"Nonce":"…"}
//
// TimeStamp is a JSON number, as in the official example, whenever timestamp can be written as
// one; anything else (empty, signed, a leading zero) is kept as a string so no input is lost or
// makes invalid JSON.
func AppendReplyJSON(dst []byte, encrypt, msgSignature, timestamp, nonce string) []byte {
	dst = append(dst, `{"Encrypt":`...)
	dst = appendJSONString(dst, encrypt)
	dst = append(dst, `,"MsgSignature":`...)
	dst = appendJSONString(dst, msgSignature)
	dst = append(dst, `,"TimeStamp":`...)
	if isJSONUint(timestamp) {
		dst = append(dst, timestamp...)
	} else {
		dst = appendJSONString(dst, timestamp)
	}
	dst = append(dst, `,"Nonce":`...)
	dst = appendJSONString(dst, nonce)
	return append(dst, '}')
}

// isJSONUint reports whether s is a JSON number made of digits only. JSON forbids leading zeros,
// so "0123" is not one.
func isJSONUint(s string) bool {
	if s == "" || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// appendCDATA writes s as one CDATA section, or several when s contains "]]>": that sequence
// would end the section early, so it is split between two sections as "]]" and ">".
func appendCDATA(dst []byte, s string) []byte {
	dst = append(dst, "<![CDATA["...)
	for {
		i := strings.Index(s, "]]>")
		if i < 0 {
			break
		}
		dst = appendXMLText(dst, s[:i+2], false)
		dst = append(dst, "]]><![CDATA["...)
		s = s[i+2:]
	}
	dst = appendXMLText(dst, s, false)
	return append(dst, "]]>"...)
}

// appendXMLText writes s as XML character data, replacing what XML 1.0 cannot hold (most C0
// controls, U+FFFE, U+FFFF, invalid UTF-8) with U+FFFD. With escape it also writes &, < and > as
// entities, for text outside CDATA.
func appendXMLText(dst []byte, s string, escape bool) []byte {
	safe := &cdataSafe
	if escape {
		safe = &textSafe
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
		case b < utf8.RuneSelf:
			repl = "\uFFFD"
		default:
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			if isXMLChar(r, size) {
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

// cdataSafe and textSafe mark the bytes that appendXMLText copies without a second look: the
// ASCII that XML 1.0 allows, minus &, < and > for text outside CDATA. Everything else takes the
// slow path, so the common all-ASCII field is one tight loop.
var cdataSafe, textSafe = func() (cdata, text [256]bool) {
	for b := range utf8.RuneSelf {
		cdata[b] = b >= 0x20 || b == '\t' || b == '\n' || b == '\r'
		text[b] = cdata[b] && b != '&' && b != '<' && b != '>'
	}
	return cdata, text
}()

// isXMLChar reports whether the non-ASCII rune r, decoded from size bytes, is an XML 1.0 Char.
func isXMLChar(r rune, size int) bool {
	if r == utf8.RuneError {
		return size > 1 // a literal U+FFFD, not a decoding failure
	}
	return r <= 0xD7FF || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= utf8.MaxRune)
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string. Unlike encoding/json it leaves <, > and & alone:
// these bodies go to a JSON parser, never into HTML, and \u003c in a captured body only makes it
// harder to read.
func appendJSONString(dst []byte, s string) []byte {
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
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\ufffd`...)
				start = i + 1
			}
			i += size
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

// jsonSafe marks the ASCII bytes a JSON string holds as they are.
var jsonSafe = func() (safe [256]bool) {
	for b := range utf8.RuneSelf {
		safe[b] = b >= 0x20 && b != '"' && b != '\\'
	}
	return safe
}()
