package wire_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wxemu/wxemu/emulator/wire"
)

// The properties:
//
//   - nothing panics, and every error is a *SyntaxError with a line;
//   - whatever ParseMessage accepts, AppendJSON writes as valid JSON that parses back to an equal
//     Message, and AppendXML writes as XML that parses back to an equal Message. The XML half holds
//     for every message read from XML (encoding/xml admits no character XML cannot carry); for a
//     message read from JSON it is checked only when no string holds a character XML 1.0 cannot
//     carry (C0 controls other than tab, LF and CR, U+FFFE, U+FFFF), which the encoder replaces;
//   - ParseReply accepts exactly the documents encoding/json (JSON, an object at the root) or
//     encoding/xml's Token walk (XML, one root, nothing but space, comments and processing
//     instructions around it) accepts.

func addSeeds(f *testing.F, dir, ext string, extra ...string) {
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*."+ext))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata/%s/*.%s: %v", dir, ext, err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range extra {
		f.Add([]byte(s))
	}
}

var xmlSeeds = []string{
	"", "<xml/>", "<xml></xml><xml/>", "<xml><Content>a</xml>", "<xml><![CDATA[x]]></xml>x",
	"<xml><Content><![CDATA[a]]]]><![CDATA[>b]]>&#13;</Content><MsgId>x</MsgId><CreateTime>1</CreateTime></xml>",
	"<xml><SendPicsInfo><Count>2</Count><PicList><item/><item><PicMd5Sum>a</PicMd5Sum></item></PicList></SendPicsInfo></xml>",
	"\xEF\xBB\xBF<xml/>", "<a:xml xmlns:a='u'><a:Content>x</a:Content></a:xml>",
}

var jsonSeeds = []string{
	"", "{}", "[]", `{"MsgId":"1_2"}`, `{"MsgId":1e3,"CreateTime":"12"}`, `{"Content":"\ud800\u0041\u0001"}`,
	`{"SendPicsInfo":{"Count":1,"PicList":["a",{"PicMd5Sum":"b"},null]}}`, `{"Location_X":"1.50"} x`,
	`{"encrypt":"e","ENCRYPT":"f","Articles":[{}, 1]}`,
}

func checkSyntaxError(t *testing.T, err error) {
	t.Helper()
	var se *wire.SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *SyntaxError", err, err)
	}
	if se.Line < 1 || se.Msg == "" || se.Error() == "" {
		t.Fatalf("SyntaxError without line or message: %#v", se)
	}
}

func roundTrip(t *testing.T, m *wire.Message, xmlToo bool) {
	t.Helper()
	body := m.AppendJSON(nil)
	if !json.Valid(body) {
		t.Fatalf("AppendJSON wrote invalid JSON: %q", body)
	}
	back, err := wire.ParseMessage(body, wire.JSON)
	if err != nil {
		t.Fatalf("re-parse JSON %q: %v", body, err)
	}
	if !reflect.DeepEqual(back, m) {
		t.Fatalf("JSON round trip\n got %#v\nwant %#v\nbody %q", back, m, body)
	}
	if !xmlToo {
		return
	}
	body = m.AppendXML(nil)
	back, err = wire.ParseMessage(body, wire.XML)
	if err != nil {
		t.Fatalf("re-parse XML %q: %v", body, err)
	}
	if !reflect.DeepEqual(back, m) {
		t.Fatalf("XML round trip\n got %#v\nwant %#v\nbody %q", back, m, body)
	}
}

// xmlCarries reports whether XML 1.0 can carry every string of m.
func xmlCarries(m *wire.Message) bool {
	ok := true
	check := func(s string) {
		for _, r := range s {
			if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF {
				ok = false
			}
		}
	}
	v := reflect.ValueOf(m).Elem()
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); f.Kind() == reflect.String {
			check(f.String())
		}
	}
	if s := m.ScanCodeInfo; s != nil {
		check(s.ScanType)
		check(s.ScanResult)
	}
	if s := m.SendPicsInfo; s != nil {
		for _, p := range s.PicList {
			check(p)
		}
	}
	if s := m.SendLocationInfo; s != nil {
		check(s.LocationX + s.LocationY + s.Scale + s.Label + s.Poiname)
	}
	return ok
}

func FuzzParseMessageXML(f *testing.F) {
	addSeeds(f, "message", "xml", xmlSeeds...)
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := wire.ParseMessage(body, wire.XML)
		sameBothWays(t, body, false, m, err)
		if err != nil {
			checkSyntaxError(t, err)
			return
		}
		roundTrip(t, m, true)
	})
}

func FuzzParseMessageJSON(f *testing.F) {
	addSeeds(f, "message", "json", jsonSeeds...)
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := wire.ParseMessage(body, wire.JSON)
		if err != nil {
			checkSyntaxError(t, err)
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		roundTrip(t, m, xmlCarries(m))
	})
}

func FuzzParseReplyXML(f *testing.F) {
	addSeeds(f, "reply", "xml", xmlSeeds...)
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := wire.ParseReply(body, wire.XML)
		sameBothWays(t, body, true, r, err)
		if err != nil {
			checkSyntaxError(t, err)
		}
		if want := xmlWellFormed(body); (err == nil) != want {
			t.Fatalf("ParseReply error %v, but encoding/xml says well-formed=%v for %q", err, want, body)
		}
		if err == nil && r.Root == "" {
			t.Fatalf("no Root for %q", body)
		}
	})
}

func FuzzParseReplyJSON(f *testing.F) {
	addSeeds(f, "reply", "json", jsonSeeds...)
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := wire.ParseReply(body, wire.JSON)
		if err != nil {
			checkSyntaxError(t, err)
		}
		trimmed := bytes.TrimLeft(body, " \t\r\n")
		want := json.Valid(body) && len(trimmed) > 0 && trimmed[0] == '{'
		if (err == nil) != want {
			t.Fatalf("ParseReply error %v, but encoding/json says object=%v for %q", err, want, body)
		}
		if err == nil {
			for _, s := range []string{r.ToUserName, r.Content, r.CreateTime, r.Encrypt} {
				if !utf8.ValidString(s) {
					t.Fatalf("invalid UTF-8 %q from %q", s, body)
				}
			}
		}
	})
}

// sameBothWays checks that the fast way, when it answers, agrees with encoding/xml, and that
// the answer given is encoding/xml's.
func sameBothWays(t *testing.T, body []byte, reply bool, got any, err error) {
	t.Helper()
	slow, slowErr := wire.ParseXMLSlow(body, reply)
	if (err == nil) != (slowErr == nil) || err != nil && err.Error() != slowErr.Error() {
		t.Fatalf("error %v, encoding/xml's way %v, for %q", err, slowErr, body)
	}
	if err == nil && !reflect.DeepEqual(got, slow) {
		t.Fatalf("result differs from encoding/xml's way for %q\n got %#v\nslow %#v", body, got, slow)
	}
	if fast, ok := wire.ParseXMLFast(body, reply); ok && !reflect.DeepEqual(fast, slow) {
		t.Fatalf("fast way differs for %q\nfast %#v\nslow %#v", body, fast, slow)
	}
}

// xmlWellFormed is the reference: encoding/xml's Token walk, which checks that end tags match,
// plus one root element with only space, comments and processing instructions around it.
func xmlWellFormed(body []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(bytes.TrimPrefix(body, []byte("\xEF\xBB\xBF"))))
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return roots == 1 && depth == 0
		}
		if err != nil {
			return false
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && strings.Trim(string(tok), " \t\r\n") != "" {
				return false
			}
		}
		if roots > 1 {
			return false
		}
	}
}
