package wxcrypto_test

import (
	"encoding/json"
	"encoding/xml"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/wxcrypto"
)

// Vector A's reply (protocol §1.7 A).
const (
	replyEncryptA   = "ELGduP2YcVatjqIS+eZbp80MNLoAUWvzzyJxgGzxZO/5sAvd070Bs6qrLARC9nVHm48Y4hyRbtzve1L32tmxSQ=="
	replySignatureA = "1b9339964ed2e271e7c7b6ff2b0ef902fc94dea1"
)

type requestXML struct {
	ToUserName string
	Encrypt    string
}

type replyXML struct {
	Encrypt      string
	MsgSignature string
	TimeStamp    string
	Nonce        string
}

var _ = Describe("envelopes", func() {
	Describe("golden bodies", func() {
		It("writes the inbound XML", func() {
			Expect(string(wxcrypto.AppendRequestXML(nil, "gh_97417a04a28d", encryptA))).To(Equal(
				"<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName><Encrypt><![CDATA[" + encryptA + "]]></Encrypt></xml>"))
		})

		It("writes the inbound JSON", func() {
			Expect(string(wxcrypto.AppendRequestJSON(nil, "gh_97417a04a28d", encryptA))).To(Equal(
				`{"ToUserName":"gh_97417a04a28d","Encrypt":"` + encryptA + `"}`))
		})

		It("writes the reply XML", func() {
			Expect(string(wxcrypto.AppendReplyXML(nil, replyEncryptA, replySignatureA, "1713424427", "415670741"))).To(Equal(
				"<xml><Encrypt><![CDATA[" + replyEncryptA + "]]></Encrypt>" +
					"<MsgSignature><![CDATA[" + replySignatureA + "]]></MsgSignature>" +
					"<TimeStamp>1713424427</TimeStamp><Nonce><![CDATA[415670741]]></Nonce></xml>"))
		})

		It("writes the reply JSON with TimeStamp as a number", func() {
			body := wxcrypto.AppendReplyJSON(nil, replyEncryptA, replySignatureA, "1713424427", "415670741")
			Expect(string(body)).To(Equal(
				`{"Encrypt":"` + replyEncryptA + `","MsgSignature":"` + replySignatureA + `","TimeStamp":1713424427,"Nonce":"415670741"}`))
			var decoded map[string]any
			Expect(json.Unmarshal(body, &decoded)).To(Succeed())
			Expect(decoded).To(HaveKeyWithValue("TimeStamp", BeNumerically("==", 1713424427)))
		})

		It("appends to what is already in the buffer", func() {
			dst := []byte("HTTP body: ")
			Expect(string(wxcrypto.AppendRequestJSON(dst, "a", "b"))).To(Equal(`HTTP body: {"ToUserName":"a","Encrypt":"b"}`))
			Expect(string(wxcrypto.AppendRequestXML(dst[:0:0], "a", "b"))).To(HavePrefix("<xml>"))
		})
	})

	Describe("CDATA", func() {
		DescribeTable("splits ]]> across sections",
			func(s, want string) {
				body := wxcrypto.AppendRequestXML(nil, s, "e")
				Expect(string(body)).To(Equal("<xml><ToUserName>" + want + "</ToUserName><Encrypt><![CDATA[e]]></Encrypt></xml>"))
				var got requestXML
				Expect(xml.Unmarshal(body, &got)).To(Succeed())
				Expect(got.ToUserName).To(Equal(s))
			},
			Entry("plain", "gh_1", "<![CDATA[gh_1]]>"),
			Entry("empty", "", "<![CDATA[]]>"),
			Entry("]]> alone", "]]>", "<![CDATA[]]]]><![CDATA[>]]>"),
			Entry("]]> inside", "a]]>b", "<![CDATA[a]]]]><![CDATA[>b]]>"),
			Entry("twice", "]]>]]>", "<![CDATA[]]]]><![CDATA[>]]]]><![CDATA[>]]>"),
			Entry("three brackets", "]]]>", "<![CDATA[]]]]]><![CDATA[>]]>"),
			Entry("brackets that do not close", "]] ]>", "<![CDATA[]] ]>]]>"),
			Entry("markup", "<a href='x'>&amp;</a>", "<![CDATA[<a href='x'>&amp;</a>]]>"),
		)

		It("keeps every reply field intact through a real XML parser", func() {
			body := wxcrypto.AppendReplyXML(nil, "e]]>", "s]]>x", "1<2&3>0", "n]]>")
			var got replyXML
			Expect(xml.Unmarshal(body, &got)).To(Succeed())
			Expect(got).To(Equal(replyXML{Encrypt: "e]]>", MsgSignature: "s]]>x", TimeStamp: "1<2&3>0", Nonce: "n]]>"}))
			Expect(string(body)).To(ContainSubstring("<TimeStamp>1&lt;2&amp;3&gt;0</TimeStamp>"))
		})

		It("replaces what XML 1.0 cannot hold, so the body still parses", func() {
			body := wxcrypto.AppendRequestXML(nil, "a\x00b\x1bc\xffd\uFFFEe", "tab\tnl\n中文\uFFFD")
			var got requestXML
			Expect(xml.Unmarshal(body, &got)).To(Succeed())
			Expect(got.ToUserName).To(Equal("a\uFFFDb\uFFFDc\uFFFDd\uFFFDe"))
			Expect(got.Encrypt).To(Equal("tab\tnl\n中文\uFFFD"))
		})
	})

	Describe("JSON strings", func() {
		DescribeTable("escape only what JSON requires",
			func(s, want string) {
				body := wxcrypto.AppendRequestJSON(nil, s, "e")
				Expect(string(body)).To(Equal(`{"ToUserName":` + want + `,"Encrypt":"e"}`))
				Expect(json.Valid(body)).To(BeTrue())
			},
			Entry("quotes", `say "hi"`, `"say \"hi\""`),
			Entry("backslashes", `C:\dir\`, `"C:\\dir\\"`),
			Entry("common control characters", "a\nb\rc\td\be\ff", `"a\nb\rc\td\be\ff"`),
			Entry("other control characters", "\x00\x01\x1f", `"\u0000\u0001\u001f"`),
			Entry("HTML characters left alone", "<a>&</a>", `"<a>&</a>"`),
			Entry("non-ASCII left alone", "中文 ]]> \u2028", "\"中文 ]]> \u2028\""),
			Entry("DEL left alone", "\x7f", "\"\x7f\""),
			Entry("invalid UTF-8 replaced", "a\xffb\xc3", `"a\ufffdb\ufffd"`),
		)

		It("round-trips through encoding/json", func() {
			s := "\"\\/\x00\x1f\n<>&'中文\u2028😀"
			var got struct{ ToUserName, Encrypt string }
			Expect(json.Unmarshal(wxcrypto.AppendRequestJSON(nil, s, s), &got)).To(Succeed())
			Expect(got.ToUserName).To(Equal(s))
			Expect(got.Encrypt).To(Equal(s))
		})

		DescribeTable("write TimeStamp as a number only when it is one",
			func(timestamp, want string) {
				body := wxcrypto.AppendReplyJSON(nil, "e", "s", timestamp, "n")
				Expect(string(body)).To(Equal(`{"Encrypt":"e","MsgSignature":"s","TimeStamp":` + want + `,"Nonce":"n"}`))
				Expect(json.Valid(body)).To(BeTrue())
			},
			Entry("digits", "1713424427", `1713424427`),
			Entry("zero", "0", `0`),
			Entry("leading zero", "0123", `"0123"`),
			Entry("empty", "", `""`),
			Entry("negative", "-1", `"-1"`),
			Entry("fraction", "1.5", `"1.5"`),
			Entry("text", `x"y`, `"x\"y"`),
		)
	})
})
