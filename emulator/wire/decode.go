package wire

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/wxemu/wxemu/emulator/textenc"
)

// xmlReader reads a document as a stream of tokens, in one of two ways. The fast way scans the
// body itself and handles the documents bots send: elements without attributes, text with the
// predefined entities and character references, CDATA, an XML declaration. On anything else, and
// on any error, the caller starts over the slow way, encoding/xml's RawToken, which decides and
// words the error. Both ways yield the same tokens for what the fast way accepts (the fuzz targets
// check it), so a result never depends on the way taken.
type xmlReader struct {
	fast  bool
	src   string // fast: the body
	pos   int    // fast: the next byte to read
	close bool   // fast: the element just started was self-closing
	d     *xml.Decoder
	stack []string // names of the open elements
	buf   []byte   // text: the pieces of an element's text
	dec   []byte   // decodeText: a decoded piece
}

type tokKind uint8

const (
	tokStart tokKind = iota
	tokEnd
	tokText  // character data or CDATA
	tokOther // comment, processing instruction, directive
)

// errSlow sends the fast way's caller to the slow way.
var errSlow = errors.New("xml: needs the full decoder")

var utf8BOM = []byte("\xEF\xBB\xBF")

func newFastXMLReader(body []byte) *xmlReader {
	return &xmlReader{fast: true, src: string(bytes.TrimPrefix(body, utf8BOM))}
}

func newXMLReader(body []byte) *xmlReader {
	// Strict (the default): undefined entities, bad names and unclosed tags are errors.
	return &xmlReader{d: xml.NewDecoder(bytes.NewReader(bytes.TrimPrefix(body, utf8BOM)))}
}

// parseXML runs parse the fast way, and again the slow way when the fast way gives up or fails.
func parseXML[T any](body []byte, parse func(r *xmlReader) (T, error)) (T, error) {
	if v, err := parse(newFastXMLReader(body)); err == nil {
		return v, nil
	}
	return parse(newXMLReader(body))
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

func (r *xmlReader) errorf(format string, args ...any) error {
	if r.fast {
		return errSlow
	}
	line, _ := r.d.InputPos()
	return &SyntaxError{Format: XML, Line: line, Offset: r.d.InputOffset(), Msg: fmt.Sprintf(format, args...)}
}

func (r *xmlReader) wrap(err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return &SyntaxError{Format: XML, Line: se.Line, Offset: r.d.InputOffset(), Msg: se.Msg}
	}
	// A declared encoding other than UTF-8 comes back as a plain error.
	return r.errorf("%s", strings.TrimPrefix(err.Error(), "xml: "))
}

// next returns the next token: an element's name for tokStart and tokEnd, the text for tokText
// (valid until the next call). It checks what Decoder.Token would: that each end tag closes the
// element it should. At the end of the document it returns io.EOF.
func (r *xmlReader) next() (tokKind, string, string, error) {
	if r.fast {
		return r.nextFast()
	}
	t, err := r.d.RawToken()
	if err != nil {
		if err == io.EOF {
			if n := len(r.stack); n > 0 {
				return 0, "", "", r.errorf("unexpected EOF: <%s> is not closed", r.stack[n-1])
			}
			return 0, "", "", io.EOF
		}
		return 0, "", "", r.wrap(err)
	}
	switch t := t.(type) {
	case xml.StartElement:
		name := qname(t.Name)
		r.stack = append(r.stack, name)
		return tokStart, name, "", nil
	case xml.EndElement:
		name := qname(t.Name)
		if err := r.pop(name); err != nil {
			return 0, "", "", err
		}
		return tokEnd, name, "", nil
	case xml.CharData:
		return tokText, "", string(t), nil
	}
	return tokOther, "", "", nil
}

func (r *xmlReader) pop(name string) error {
	n := len(r.stack)
	if n == 0 {
		return r.errorf("unexpected end element </%s>", name)
	}
	if top := r.stack[n-1]; top != name {
		return r.errorf("element <%s> closed by </%s>", top, name)
	}
	r.stack = r.stack[:n-1]
	return nil
}

func (r *xmlReader) nextFast() (tokKind, string, string, error) {
	s, i := r.src, r.pos
	if r.close {
		r.close = false
		name := r.stack[len(r.stack)-1]
		r.stack = r.stack[:len(r.stack)-1]
		return tokEnd, name, "", nil
	}
	if i >= len(s) {
		if len(r.stack) > 0 {
			return 0, "", "", errSlow
		}
		return 0, "", "", io.EOF
	}
	if s[i] != '<' {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			j = len(s) - i
		}
		r.pos = i + j
		text, ok := r.decodeText(s[i:i+j], false)
		if !ok {
			return 0, "", "", errSlow
		}
		return tokText, "", text, nil
	}
	rest := s[i+1:]
	switch {
	case strings.HasPrefix(rest, "![CDATA["):
		body := rest[len("![CDATA["):]
		end := strings.Index(body, "]]>")
		if end < 0 {
			return 0, "", "", errSlow
		}
		r.pos = i + 1 + len("![CDATA[") + end + len("]]>")
		text, ok := r.decodeText(body[:end], true)
		if !ok {
			return 0, "", "", errSlow
		}
		return tokText, "", text, nil
	case strings.HasPrefix(rest, "/"):
		name, n := scanName(rest[1:])
		n = 1 + n + skipSpace(rest[1+n:])
		if name == "" || n >= len(rest) || rest[n] != '>' {
			return 0, "", "", errSlow
		}
		r.pos = i + 1 + n + 1
		if err := r.pop(name); err != nil {
			return 0, "", "", err
		}
		return tokEnd, name, "", nil
	case strings.HasPrefix(rest, "?xml ") && i == 0:
		end := strings.Index(rest, "?>")
		if end < 0 || !plainDeclaration(rest[len("?xml "):end]) {
			return 0, "", "", errSlow
		}
		r.pos = i + 1 + end + 2
		return tokOther, "", "", nil
	}
	name, n := scanName(rest)
	n += skipSpace(rest[n:])
	if name == "" || n >= len(rest) {
		return 0, "", "", errSlow
	}
	switch {
	case rest[n] == '>':
		r.pos = i + 1 + n + 1
	case rest[n] == '/' && n+1 < len(rest) && rest[n+1] == '>':
		r.pos = i + 1 + n + 2
		r.close = true
	default: // attributes, comments, directives, processing instructions
		return 0, "", "", errSlow
	}
	r.stack = append(r.stack, name)
	return tokStart, name, "", nil
}

// scanName reads an ASCII element name without a prefix; anything else is left to the slow way.
func scanName(s string) (string, int) {
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '.') {
			i++
			continue
		}
		break
	}
	return s[:i], i
}

func skipSpace(s string) int {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
		i++
	}
	return i
}

// plainDeclaration reports whether an XML declaration says nothing the fast way would have to act
// on: version 1.0, UTF-8 if an encoding is named, and standalone.
func plainDeclaration(s string) bool {
	for {
		s = s[skipSpace(s):]
		if s == "" {
			return true
		}
		key, n := scanName(s)
		s = s[n:]
		if len(s) < 3 || s[0] != '=' || s[1] != '"' && s[1] != '\'' {
			return false
		}
		end := strings.IndexByte(s[2:], s[1])
		if end < 0 {
			return false
		}
		value := s[2 : 2+end]
		s = s[2+end+1:]
		switch {
		case key == "version" && value == "1.0":
		case key == "encoding" && strings.EqualFold(value, "utf-8"):
		case key == "standalone" && (value == "yes" || value == "no"):
		default:
			return false
		}
		if s != "" && skipSpace(s) == 0 {
			return false
		}
	}
}

// decodeText decodes character data (or the inside of a CDATA section) as encoding/xml does:
// references resolved, CR LF and lone CR read as LF. It refuses, for the slow way to judge,
// anything encoding/xml would reject or that it does not handle itself.
func (r *xmlReader) decodeText(s string, cdata bool) (string, bool) {
	plain := true
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf {
			switch c {
			case '&':
				if cdata {
					i++
					continue
				}
				plain = false
			case ']':
				if !cdata && strings.HasPrefix(s[i:], "]]>") {
					return "", false
				}
			}
			i++
			continue
		}
		switch c {
		case '\t', '\n':
			i++
			continue
		case '\r':
			plain = false
			i++
			continue
		}
		rn, size := utf8.DecodeRuneInString(s[i:])
		if !textenc.IsXMLChar(rn, size) {
			return "", false
		}
		i += size
	}
	if plain {
		return s, true
	}
	b := r.dec[:0]
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\r':
			b = append(b, '\n')
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
		case c == '&' && !cdata:
			end := strings.IndexByte(s[i:], ';')
			if end < 0 {
				return "", false
			}
			ref := s[i+1 : i+end]
			i += end
			switch ref {
			case "lt":
				b = append(b, '<')
			case "gt":
				b = append(b, '>')
			case "amp":
				b = append(b, '&')
			case "apos":
				b = append(b, '\'')
			case "quot":
				b = append(b, '"')
			default:
				rn, ok := charRef(ref)
				if !ok {
					return "", false
				}
				b = utf8.AppendRune(b, rn)
			}
		default:
			b = append(b, c)
		}
	}
	r.dec = b
	return string(b), true
}

// charRef reads "#65" or "#x41"; only characters XML can carry are taken.
func charRef(ref string) (rune, bool) {
	if len(ref) < 2 || ref[0] != '#' {
		return 0, false
	}
	base, digits := 10, ref[1:]
	if digits[0] == 'x' {
		base, digits = 16, digits[1:]
	}
	if digits == "" || len(digits) > 6 {
		return 0, false
	}
	var n rune
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		var d rune
		switch {
		case c >= '0' && c <= '9':
			d = rune(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = rune(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = rune(c-'A') + 10
		default:
			return 0, false
		}
		n = n*rune(base) + d
	}
	if !textenc.IsXMLChar(n, utf8.RuneLen(n)) {
		return 0, false
	}
	return n, true
}

func isXMLSpace(s string) bool { return skipSpace(s) == len(s) }

// root reads up to the root element's start tag.
func (r *xmlReader) root() (string, error) {
	for {
		k, name, text, err := r.next()
		if err == io.EOF {
			return "", r.errorf("no root element")
		}
		if err != nil {
			return "", err
		}
		switch k {
		case tokStart:
			return name, nil
		case tokText:
			if !isXMLSpace(text) {
				return "", r.errorf("text %q before the root element", textenc.Clip(strings.TrimSpace(text), 20))
			}
		}
	}
}

// end checks that nothing but white space, comments and processing instructions follows the
// root element: a second root, or text after it, makes the document malformed.
func (r *xmlReader) end(root string) error {
	for {
		k, name, text, err := r.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch k {
		case tokStart:
			return r.errorf("a second root element <%s> after </%s>", name, root)
		case tokText:
			if !isXMLSpace(text) {
				return r.errorf("text %q after the root element </%s>", textenc.Clip(strings.TrimSpace(text), 20), root)
			}
		}
	}
}

// text reads the rest of the element whose start tag was just read and returns its own
// character data (text and CDATA joined); child elements are skipped.
func (r *xmlReader) text() (string, error) {
	depth := len(r.stack)
	var first string
	pieces := 0
	for {
		k, _, text, err := r.next()
		if err != nil {
			return "", err
		}
		switch k {
		case tokText:
			if len(r.stack) != depth {
				continue
			}
			// One piece, the usual case, is returned as it is.
			switch pieces {
			case 0:
				first = text
			case 1:
				r.buf = append(append(r.buf[:0], first...), text...)
			default:
				r.buf = append(r.buf, text...)
			}
			pieces++
		case tokEnd:
			if len(r.stack) < depth {
				if pieces > 1 {
					return string(r.buf), nil
				}
				return first, nil
			}
		}
	}
}

// skip reads the rest of the element whose start tag was just read.
func (r *xmlReader) skip() error {
	depth := len(r.stack)
	for {
		k, _, _, err := r.next()
		if err != nil {
			return err
		}
		if k == tokEnd && len(r.stack) < depth {
			return nil
		}
	}
}

// children calls each for every child element of the element whose start tag was just read;
// each must read the child to its end (text, skip or children).
func (r *xmlReader) children(each func(name string) error) error {
	for {
		k, name, _, err := r.next()
		if err != nil {
			return err
		}
		switch k {
		case tokStart:
			if err := each(name); err != nil {
				return err
			}
		case tokEnd:
			return nil
		}
	}
}

func trimXMLSpace(s string) string { return strings.Trim(s, " \t\r\n") }

// jsonObject checks body and returns its root object. The fast validator decides; only a
// malformed body goes through encoding/json, for the position and wording of the error.
func jsonObject(body []byte) (gjson.Result, error) {
	if !gjson.ValidBytes(body) {
		return gjson.Result{}, jsonSyntaxError(body)
	}
	i := 0
	for i < len(body) && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n') {
		i++
	}
	if body[i] != '{' {
		what := "a number"
		switch body[i] {
		case '[':
			what = "an array"
		case '"':
			what = "a string"
		case 't':
			what = "true"
		case 'f':
			what = "false"
		case 'n':
			what = "null"
		}
		return gjson.Result{}, &SyntaxError{Format: JSON, Line: lineAt(body, i), Offset: int64(i), Msg: "the body is " + what + ", not an object"}
	}
	return gjson.Result{Type: gjson.JSON, Raw: string(body[i:]), Index: i}, nil
}

func jsonSyntaxError(body []byte) error {
	var raw json.RawMessage
	err := json.Unmarshal(body, &raw)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off := se.Offset
		if off > 0 {
			off-- // encoding/json counts the bytes read, the offending one included
		}
		msg := se.Error()
		if isXMLSpace(string(body)) {
			msg = "the body is empty"
		}
		return &SyntaxError{Format: JSON, Line: lineAt(body, int(off)), Offset: off, Msg: msg}
	}
	// Should the validators ever disagree, the faster one's refusal stands, without a position.
	return &SyntaxError{Format: JSON, Line: 1, Msg: "malformed JSON"}
}

func lineAt(body []byte, off int) int {
	if off > len(body) {
		off = len(body)
	}
	return 1 + bytes.Count(body[:off], []byte{'\n'})
}

// jsonValueError is a *SyntaxError for a value of the wrong kind.
func jsonValueError(body []byte, v gjson.Result, format string, args ...any) *SyntaxError {
	return &SyntaxError{Format: JSON, Line: lineAt(body, v.Index), Offset: int64(v.Index), Msg: fmt.Sprintf(format, args...)}
}

func jsonKind(v gjson.Result) string {
	switch {
	case v.IsObject():
		return "an object"
	case v.IsArray():
		return "an array"
	case v.Type == gjson.String:
		return "a string"
	case v.Type == gjson.Number:
		return "a number"
	case v.Type == gjson.Null:
		return "null"
	}
	return v.Raw
}

// jsonText is a scalar as text: a string's content, a number's or boolean's literal, "" for
// null. ok is false for an object or an array.
func jsonText(v gjson.Result) (s string, ok bool) {
	switch v.Type {
	case gjson.String:
		raw := v.Raw
		if strings.IndexByte(raw, '\\') < 0 {
			return validUTF8(raw[1 : len(raw)-1]), true
		}
		return unquote(raw[1 : len(raw)-1]), true
	case gjson.Null:
		return "", true
	case gjson.JSON:
		// An object or array is kept as its literal; a key or string inside it may hold invalid
		// UTF-8, which is replaced as in a string.
		return validUTF8(v.Raw), false
	}
	return v.Raw, true
}

// unquote decodes the inside of a valid JSON string as encoding/json does: a surrogate half
// that is not part of a pair, and each byte of invalid UTF-8, become U+FFFD.
func unquote(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			if c < utf8.RuneSelf {
				b = append(b, c)
				i++
				continue
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, replacement...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		c = s[i+1]
		i += 2
		switch c {
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r := hex4(s[i:])
			i += 4
			if utf16.IsSurrogate(r) {
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if r2 := utf16.DecodeRune(r, hex4(s[i+2:])); r2 != utf8.RuneError {
						r = r2
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			b = utf8.AppendRune(b, r)
		default: // '"', '\\', '/'
			b = append(b, c)
		}
	}
	return string(b)
}

func hex4(s string) rune {
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		default:
			c = c - 'A' + 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// replacement is U+FFFD, which invalid UTF-8 decodes to.
const replacement = "\uFFFD"

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
