package textenc_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"unicode/utf8"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/textenc"
)

// readXML parses <x>body</x> with encoding/xml and returns the text of x.
func readXML(body []byte) string {
	GinkgoHelper()
	var v struct {
		Text string `xml:",chardata"`
	}
	Expect(xml.Unmarshal(append(append([]byte("<x>"), body...), "</x>"...), &v)).To(Succeed(), "%q", body)
	return v.Text
}

var _ = Describe("textenc", func() {
	DescribeTable("AppendCDATA",
		func(s, want string) {
			body := textenc.AppendCDATA(nil, s)
			Expect(string(body)).To(Equal(want))
			Expect(readXML(body)).To(Equal(s))
		},
		Entry("plain", "gh_1", "<![CDATA[gh_1]]>"),
		Entry("empty", "", "<![CDATA[]]>"),
		Entry("]]> alone", "]]>", "<![CDATA[]]]]><![CDATA[>]]>"),
		Entry("]]> twice", "a]]>b]]>", "<![CDATA[a]]]]><![CDATA[>b]]]]><![CDATA[>]]>"),
		Entry("three brackets", "]]]>", "<![CDATA[]]]]]><![CDATA[>]]>"),
		Entry("brackets that do not close", "]] ]>", "<![CDATA[]] ]>]]>"),
		Entry("markup and quotes left alone", `<a href="x">&amp;'</a>`, `<![CDATA[<a href="x">&amp;'</a>]]>`),
		Entry("CR as a reference", "a\r\nb\r", "<![CDATA[a]]>&#13;<![CDATA[\nb]]>&#13;<![CDATA[]]>"),
		Entry("CR between ]] and >", "]]\r>", "<![CDATA[]]]]>&#13;<![CDATA[>]]>"),
		Entry("tab, LF, DEL and non-ASCII kept", "\t\n\x7f中文😀\uFFFD", "<![CDATA[\t\n\x7f中文😀\uFFFD]]>"),
	)

	DescribeTable("AppendXMLText",
		func(s, want string) {
			body := textenc.AppendXMLText(nil, s)
			Expect(string(body)).To(Equal(want))
			Expect(readXML(body)).To(Equal(s))
		},
		Entry("plain", "1713424427", "1713424427"),
		Entry("markup", "1<2&3>0", "1&lt;2&amp;3&gt;0"),
		Entry("quotes left alone", `"'`, `"'`),
		Entry("]]> escaped", "]]>", "]]&gt;"),
		Entry("CR as a reference", "a\r\nb", "a&#13;\nb"),
		Entry("non-ASCII kept", "中文😀", "中文😀"),
	)

	DescribeTable("replace what XML 1.0 cannot carry with U+FFFD",
		func(s, want string) {
			Expect(readXML(textenc.AppendCDATA(nil, s))).To(Equal(want))
			Expect(readXML(textenc.AppendXMLText(nil, s))).To(Equal(want))
		},
		Entry("C0 controls", "a\x00b\x1bc\x1f", "a\uFFFDb\uFFFDc\uFFFD"),
		Entry("U+FFFE and U+FFFF", "\uFFFE\uFFFF", "\uFFFD\uFFFD"),
		Entry("each byte of invalid UTF-8", "a\xffb\xc3\xed\xa0\x80", "a\uFFFDb\uFFFD\uFFFD\uFFFD\uFFFD"),
		Entry("invalid UTF-8 between ]] and >", "]]\xff>", "]]\uFFFD>"),
	)

	DescribeTable("IsXMLChar",
		func(r rune, size int, want bool) {
			Expect(textenc.IsXMLChar(r, size)).To(Equal(want))
		},
		Entry("tab", '\t', 1, true),
		Entry("CR", '\r', 1, true),
		Entry("NUL", rune(0), 1, false),
		Entry("a decoding failure", utf8.RuneError, 1, false),
		Entry("a literal U+FFFD", utf8.RuneError, 3, true),
		Entry("a surrogate", rune(0xD800), 3, false),
		Entry("U+FFFE", rune(0xFFFE), 3, false),
		Entry("the last rune", rune(utf8.MaxRune), 4, true),
		Entry("past the last rune", rune(utf8.MaxRune+1), -1, false),
		Entry("negative", rune(-1), -1, false),
	)

	DescribeTable("AppendJSONString escapes as encoding/json without HTML escaping",
		func(s, want string) {
			body := textenc.AppendJSONString(nil, s)
			Expect(string(body)).To(Equal(want))
			var got string
			Expect(json.Unmarshal(body, &got)).To(Succeed())
			Expect(got).To(Equal(string([]rune(s))), "invalid UTF-8 reads back as U+FFFD")
		},
		Entry("empty", "", `""`),
		Entry("quotes and backslashes", `say "hi" C:\`, `"say \"hi\" C:\\"`),
		Entry("common control characters", "a\nb\rc\td\be\ff", `"a\nb\rc\td\be\ff"`),
		Entry("other control characters", "\x00\x01\x1f", `"\u0000\u0001\u001f"`),
		Entry("HTML characters and DEL left alone", "<a>&</a>\x7f", "\"<a>&</a>\x7f\""),
		Entry("non-ASCII left alone", "中文 ]]> 😀", `"中文 ]]> 😀"`),
		Entry("line separators escaped", "a\u2028b\u2029", `"a\u2028b\u2029"`),
		Entry("each byte of invalid UTF-8 replaced", "a\xffb\xc3", `"a\ufffdb\ufffd"`),
	)

	DescribeTable("AppendJSONStringMinimal escapes only what JSON requires",
		func(s, want string) {
			Expect(string(textenc.AppendJSONStringMinimal(nil, s))).To(Equal(want))
		},
		Entry("line separators left alone", "a\u2028b\u2029", "\"a\u2028b\u2029\""),
		Entry("quotes and controls", "\"\\\n\x00", `"\"\\\n\u0000"`),
		Entry("invalid UTF-8 replaced", "\xff", `"\ufffd"`),
	)

	It("appends to what is already in the buffer", func() {
		dst := []byte("x=")
		Expect(string(textenc.AppendJSONString(dst, "a"))).To(Equal(`x="a"`))
		Expect(string(textenc.AppendCDATA(dst[:2:2], "a"))).To(Equal(`x=<![CDATA[a]]>`))
		Expect(string(textenc.AppendXMLText(dst[:2:2], "<"))).To(Equal(`x=&lt;`))
	})

	It("writes what encoding/json writes with HTML escaping off, byte for byte", func() {
		b := []byte("\xff a\xc3 \xed\xa0\x80 ")
		for r := rune(0); r < 0x3000; r++ {
			b = utf8.AppendRune(b, r)
		}
		for _, r := range []rune{0xFFFD, 0xFFFE, 0xFFFF, 0x10000, 0x1F600, utf8.MaxRune} {
			b = utf8.AppendRune(b, r)
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		Expect(enc.Encode(string(b))).To(Succeed())
		Expect(string(textenc.AppendJSONString(nil, string(b))) + "\n").To(Equal(want.String()))
	})
})
