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
)

// xmlReader walks a document with encoding/xml's RawToken, which skips the namespace
// translation of Token, and checks what Token would: that every end tag closes the element
// it should. Errors are *SyntaxError.
type xmlReader struct {
	d     *xml.Decoder
	stack []xml.Name
	buf   []byte
}

var utf8BOM = []byte("\xEF\xBB\xBF")

func newXMLReader(body []byte) *xmlReader {
	// Strict (the default): undefined entities, bad names and unclosed tags are errors.
	return &xmlReader{d: xml.NewDecoder(bytes.NewReader(bytes.TrimPrefix(body, utf8BOM)))}
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// local is the element's name when it has no prefix; prefixed names match no field.
func local(n xml.Name) string {
	if n.Space != "" {
		return ""
	}
	return n.Local
}

func (r *xmlReader) errorf(format string, args ...any) *SyntaxError {
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

func (r *xmlReader) next() (xml.Token, error) {
	t, err := r.d.RawToken()
	if err != nil {
		if err == io.EOF {
			if n := len(r.stack); n > 0 {
				return nil, r.errorf("unexpected EOF: <%s> is not closed", qname(r.stack[n-1]))
			}
			return nil, io.EOF
		}
		return nil, r.wrap(err)
	}
	switch t := t.(type) {
	case xml.StartElement:
		r.stack = append(r.stack, t.Name)
	case xml.EndElement:
		n := len(r.stack)
		if n == 0 {
			return nil, r.errorf("unexpected end element </%s>", qname(t.Name))
		}
		if top := r.stack[n-1]; top != t.Name {
			return nil, r.errorf("element <%s> closed by </%s>", qname(top), qname(t.Name))
		}
		r.stack = r.stack[:n-1]
	}
	return t, nil
}

func isXMLSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

func clipText(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 20 {
		s = s[:20] + "…"
	}
	return s
}

// root reads up to the root element's start tag.
func (r *xmlReader) root() (xml.Name, error) {
	for {
		t, err := r.next()
		if err == io.EOF {
			return xml.Name{}, r.errorf("no root element")
		}
		if err != nil {
			return xml.Name{}, err
		}
		switch t := t.(type) {
		case xml.StartElement:
			return t.Name, nil
		case xml.CharData:
			if !isXMLSpace(t) {
				return xml.Name{}, r.errorf("text %q before the root element", clipText(t))
			}
		}
	}
}

// end checks that nothing but white space, comments and processing instructions follows the
// root element: a second root, or text after it, makes the document malformed.
func (r *xmlReader) end(root xml.Name) error {
	for {
		t, err := r.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := t.(type) {
		case xml.StartElement:
			return r.errorf("a second root element <%s> after </%s>", qname(t.Name), qname(root))
		case xml.CharData:
			if !isXMLSpace(t) {
				return r.errorf("text %q after the root element </%s>", clipText(t), qname(root))
			}
		}
	}
}

// text reads the rest of the element whose start tag was just read and returns its own
// character data (text and CDATA joined); child elements are skipped.
func (r *xmlReader) text() (string, error) {
	depth := len(r.stack)
	r.buf = r.buf[:0]
	for {
		t, err := r.next()
		if err != nil {
			return "", err
		}
		switch t := t.(type) {
		case xml.CharData:
			if len(r.stack) == depth {
				r.buf = append(r.buf, t...)
			}
		case xml.EndElement:
			if len(r.stack) < depth {
				return string(r.buf), nil
			}
		}
	}
}

// skip reads the rest of the element whose start tag was just read.
func (r *xmlReader) skip() error {
	depth := len(r.stack)
	for {
		t, err := r.next()
		if err != nil {
			return err
		}
		if _, ok := t.(xml.EndElement); ok && len(r.stack) < depth {
			return nil
		}
	}
}

// children calls each for every child element of the element whose start tag was just read;
// each must read the child to its end (text, skip or children).
func (r *xmlReader) children(each func(name xml.Name) error) error {
	for {
		t, err := r.next()
		if err != nil {
			return err
		}
		switch t := t.(type) {
		case xml.StartElement:
			if err := each(t.Name); err != nil {
				return err
			}
		case xml.EndElement:
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
		what := map[byte]string{'[': "an array", '"': "a string", 't': "true", 'f': "false", 'n': "null"}[body[i]]
		if what == "" {
			what = "a number"
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
		if len(body) == 0 || isXMLSpace(body) {
			msg = "the body is empty"
		}
		return &SyntaxError{Format: JSON, Line: lineAt(body, int(off)), Offset: off, Msg: msg}
	}
	// The two validators disagree only on inputs nesting deeper than encoding/json allows.
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
		return v.Raw, false
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
