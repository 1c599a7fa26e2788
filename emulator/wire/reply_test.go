package wire_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/wire"
)

// raw is what ParseReply should make of an encoded reply.
func raw(r *wire.Reply, root string) *wire.RawReply {
	out := &wire.RawReply{Root: root, ToUserName: r.ToUserName, FromUserName: r.FromUserName,
		CreateTime: strconv.FormatInt(r.CreateTime, 10), MsgType: r.MsgType, Content: r.Content}
	if r.Image != nil {
		out.Image = &wire.RawMedia{MediaId: r.Image.MediaId}
	}
	if r.Voice != nil {
		out.Voice = &wire.RawMedia{MediaId: r.Voice.MediaId}
	}
	if v := r.Video; v != nil {
		out.Video = &wire.RawVideo{MediaId: v.MediaId, Title: v.Title, Description: v.Description}
	}
	if m := r.Music; m != nil {
		out.Music = &wire.RawMusic{Title: m.Title, Description: m.Description, MusicUrl: m.MusicUrl, HQMusicUrl: m.HQMusicUrl, ThumbMediaId: m.ThumbMediaId}
	}
	if len(r.Articles) > 0 || r.MsgType == wire.ReplyNews {
		out.ArticleCount = strconv.Itoa(len(r.Articles))
		for _, a := range r.Articles {
			out.Articles = append(out.Articles, wire.RawArticle{Title: a.Title, Description: a.Description, PicUrl: a.PicUrl, Url: a.Url})
		}
	}
	if r.TransInfo != nil {
		out.TransInfo = &wire.RawTransInfo{KfAccount: r.TransInfo.KfAccount}
	}
	return out
}

func reply(msgType string, f func(*wire.Reply)) *wire.Reply {
	r := &wire.Reply{ToUserName: "oUserOpenId", FromUserName: "gh_97417a04a28d", CreateTime: 1714112446, MsgType: msgType}
	if f != nil {
		f(r)
	}
	return r
}

var sampleReplies = []*wire.Reply{
	reply(wire.ReplyText, func(r *wire.Reply) { r.Content = "你好 <a href=\"https://weixin.qq.com\">链接</a>\n]]> & \"q\"" }),
	reply(wire.ReplyText, func(r *wire.Reply) {}),
	reply(wire.ReplyImage, func(r *wire.Reply) { r.Image = &wire.Media{MediaId: "MEDIA_ID"} }),
	reply(wire.ReplyVoice, func(r *wire.Reply) { r.Voice = &wire.Media{MediaId: "MEDIA_ID"} }),
	reply(wire.ReplyVideo, func(r *wire.Reply) { r.Video = &wire.Video{MediaId: "MEDIA_ID", Title: "t", Description: "d"} }),
	reply(wire.ReplyVideo, func(r *wire.Reply) { r.Video = &wire.Video{MediaId: "MEDIA_ID"} }),
	reply(wire.ReplyMusic, func(r *wire.Reply) {
		r.Music = &wire.Music{Title: "t", Description: "d", MusicUrl: "u", HQMusicUrl: "hq", ThumbMediaId: "m"}
	}),
	reply(wire.ReplyMusic, func(r *wire.Reply) { r.Music = &wire.Music{ThumbMediaId: "{m}"} }),
	reply(wire.ReplyNews, func(r *wire.Reply) {
		r.Articles = []wire.Article{{Title: "title1", Description: "description1", PicUrl: "picurl", Url: "url"}, {Title: "2"}}
	}),
	reply(wire.ReplyNews, nil),
	reply(wire.ReplyTransfer, nil),
	reply(wire.ReplyTransfer, func(r *wire.Reply) { r.TransInfo = &wire.TransInfo{KfAccount: "test1@test"} }),
}

var goldenReplies = map[string]*wire.RawReply{
	"text.xml": {Root: "xml", ToUserName: "oUserOpenId", FromUserName: "gh_97417a04a28d", CreateTime: "1714112446", MsgType: "text", Content: "你好"},
	"news.xml": {Root: "xml", ToUserName: "oUserOpenId", FromUserName: "gh_97417a04a28d", CreateTime: "1714112446", MsgType: "news",
		ArticleCount: "1", Articles: []wire.RawArticle{{Title: "title1", Description: "description1", PicUrl: "picurl", Url: "url"}}},
	"transfer.xml": {Root: "xml", ToUserName: "oUserOpenId", FromUserName: "gh_97417a04a28d", CreateTime: "1714112446",
		MsgType: "transfer_customer_service", TransInfo: &wire.RawTransInfo{KfAccount: "test1@test"}},
	"envelope.xml":        {Root: "xml", Encrypt: "...", MsgSignature: "...", TimeStamp: "1713424427", Nonce: "415670741"},
	"envelope.json":       {Encrypt: "...", MsgSignature: "...", TimeStamp: "1713424427", Nonce: "415670741"},
	"envelope_lower.json": {Encrypt: "...", MsgSignature: "...", TimeStamp: "1713424427", Nonce: "415670741"},
	"text.json":           {ToUserName: "oUser", FromUserName: "gh_xxx", CreateTime: "1651049934", MsgType: "text", Content: "回复文本"},
	"image.json": {ToUserName: "oUser", FromUserName: "gh_xxx", CreateTime: "1651049934", MsgType: "image",
		Image: &wire.RawMedia{MediaId: "MEDIA_ID"}},
	"voice.json": {ToUserName: "oUser", FromUserName: "gh_xxx", CreateTime: "1651049934", MsgType: "voice",
		Voice: &wire.RawMedia{MediaId: "MEDIA_ID"}},
	"video.json": {ToUserName: "oUser", FromUserName: "gh_xxx", CreateTime: "1651049934", MsgType: "video",
		Video: &wire.RawVideo{MediaId: "MEDIA_ID", Title: "t", Description: "d"}},
	"music.json": {ToUserName: "oUser", FromUserName: "gh_xxx", CreateTime: "1651049934", MsgType: "music",
		Music: &wire.RawMusic{Title: "t", Description: "d", MusicUrl: "u", HQMusicUrl: "u", ThumbMediaId: "m"}},
	"transfer.json": {ToUserName: "touser", FromUserName: "fromuser", CreateTime: "1555684067", MsgType: "transfer_customer_service"},
}

func parseReply(body string, f wire.Format) *wire.RawReply {
	GinkgoHelper()
	r, err := wire.ParseReply([]byte(body), f)
	Expect(err).NotTo(HaveOccurred())
	return r
}

var _ = Describe("Reply", func() {
	Describe("golden payloads", func() {
		for name, want := range goldenReplies {
			It("parses "+name, func() {
				got, err := wire.ParseReply(golden("reply/"+name), formatOf(name))
				Expect(err).NotTo(HaveOccurred())
				Expect(got).To(Equal(want))
			})
		}

		It("lists every file of testdata/reply", func() {
			entries, err := os.ReadDir(filepath.Join("testdata", "reply"))
			Expect(err).NotTo(HaveOccurred())
			for _, e := range entries {
				Expect(goldenReplies).To(HaveKey(e.Name()))
			}
		})

		It("writes the protocol's JSON examples byte for byte", func() {
			for name, r := range map[string]*wire.Reply{
				"text.json":  {ToUserName: "oUser", FromUserName: "gh_xxx", CreateTime: 1651049934, MsgType: "text", Content: "回复文本"},
				"image.json": {ToUserName: "oUser", FromUserName: "gh_xxx", CreateTime: 1651049934, MsgType: "image", Image: &wire.Media{MediaId: "MEDIA_ID"}},
				"voice.json": {ToUserName: "oUser", FromUserName: "gh_xxx", CreateTime: 1651049934, MsgType: "voice", Voice: &wire.Media{MediaId: "MEDIA_ID"}},
				"video.json": {ToUserName: "oUser", FromUserName: "gh_xxx", CreateTime: 1651049934, MsgType: "video",
					Video: &wire.Video{MediaId: "MEDIA_ID", Title: "t", Description: "d"}},
				"music.json": {ToUserName: "oUser", FromUserName: "gh_xxx", CreateTime: 1651049934, MsgType: "music",
					Music: &wire.Music{Title: "t", Description: "d", MusicUrl: "u", HQMusicUrl: "u", ThumbMediaId: "m"}},
			} {
				Expect(string(r.AppendJSON(nil))).To(Equal(string(golden("reply/"+name))), name)
			}
		})

		It("writes the protocol's XML examples, laid out on one line", func() {
			r := reply(wire.ReplyNews, func(r *wire.Reply) {
				r.Articles = []wire.Article{{Title: "title1", Description: "description1", PicUrl: "picurl", Url: "url"}}
			})
			Expect(string(r.AppendXML(nil))).To(Equal(`<xml><ToUserName><![CDATA[oUserOpenId]]></ToUserName><FromUserName><![CDATA[gh_97417a04a28d]]></FromUserName>` +
				`<CreateTime>1714112446</CreateTime><MsgType><![CDATA[news]]></MsgType><ArticleCount>1</ArticleCount>` +
				`<Articles><item><Title><![CDATA[title1]]></Title><Description><![CDATA[description1]]></Description>` +
				`<PicUrl><![CDATA[picurl]]></PicUrl><Url><![CDATA[url]]></Url></item></Articles></xml>`))
			r = reply(wire.ReplyTransfer, func(r *wire.Reply) { r.TransInfo = &wire.TransInfo{KfAccount: "test1@test"} })
			Expect(string(r.AppendXML(nil))).To(HaveSuffix(`<MsgType><![CDATA[transfer_customer_service]]></MsgType>` +
				`<TransInfo><KfAccount><![CDATA[test1@test]]></KfAccount></TransInfo></xml>`))
			Expect(string(r.AppendJSON(nil))).To(HaveSuffix(`"MsgType":"transfer_customer_service","TransInfo":{"KfAccount":"test1@test"}}`))
		})
	})

	Describe("round trip", func() {
		var entries []TableEntry
		for i, r := range sampleReplies {
			entries = append(entries, Entry(r.MsgType+" #"+strconv.Itoa(i), r))
		}
		DescribeTable("XML", func(r *wire.Reply) {
			Expect(parseReply(string(r.AppendXML(nil)), wire.XML)).To(Equal(raw(r, "xml")))
		}, entries)
		DescribeTable("JSON", func(r *wire.Reply) {
			body := r.AppendJSON(nil)
			Expect(json.Valid(body)).To(BeTrue(), "%s", body)
			Expect(parseReply(string(body), wire.JSON)).To(Equal(raw(r, "")))
		}, entries)
	})

	Describe("ParseReply", func() {
		It("keeps CreateTime as written", func() {
			for _, ct := range []string{"1714112446", "1714112446123", "abc", " 1714112446 ", "-1", "1.5"} {
				Expect(parseReply("<xml><CreateTime>"+ct+"</CreateTime></xml>", wire.XML).CreateTime).To(Equal(ct))
				Expect(parseReply(`<xml><CreateTime><![CDATA[`+ct+`]]></CreateTime></xml>`, wire.XML).CreateTime).To(Equal(ct))
				Expect(parseReply(`{"CreateTime":"`+ct+`"}`, wire.JSON).CreateTime).To(Equal(ct))
			}
			for _, lit := range []string{"1714112446", "1714112446123", "1.7e9", "-0", "true"} {
				Expect(parseReply(`{"CreateTime":`+lit+`}`, wire.JSON).CreateTime).To(Equal(lit))
			}
			Expect(parseReply(`{"CreateTime":null}`, wire.JSON).CreateTime).To(BeEmpty())
			Expect(parseReply(`{"CreateTime":{"s":1}}`, wire.JSON).CreateTime).To(Equal(`{"s":1}`))
		})

		It("reads CDATA and plain text alike", func() {
			a := parseReply(`<xml><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[a < b]]></Content></xml>`, wire.XML)
			b := parseReply(`<xml><MsgType>text</MsgType><Content>a &lt; b</Content></xml>`, wire.XML)
			c := parseReply(`<xml><MsgType>te<![CDATA[xt]]></MsgType><Content>a <![CDATA[<]]> b</Content></xml>`, wire.XML)
			Expect(a).To(Equal(b))
			Expect(a).To(Equal(c))
			Expect(a.Content).To(Equal("a < b"))
		})

		It("lists unknown and duplicate top-level names in order, and keeps the first value", func() {
			r := parseReply(`<xml><ToUserName>a</ToUserName><FuncFlag>0</FuncFlag><ToUserName>b</ToUserName>`+
				`<FuncFlag>1</FuncFlag><x:MsgType xmlns:x="u">text</x:MsgType><Image><MediaId>1</MediaId><MediaId>2</MediaId></Image>`+
				`<ToUserName>c</ToUserName></xml>`, wire.XML)
			Expect(r.ToUserName).To(Equal("a"))
			Expect(r.MsgType).To(BeEmpty(), "a prefixed name is not MsgType")
			Expect(r.Image.MediaId).To(Equal("1"))
			Expect(r.Unknown).To(Equal([]string{"FuncFlag", "x:MsgType"}))
			Expect(r.Duplicate).To(Equal([]string{"ToUserName", "FuncFlag"}))

			r = parseReply(`{"ToUserName":"a","funcflag":0,"ToUserName":"b","touserName":"c","Encrypt":"e","encrypt":"f"}`, wire.JSON)
			Expect(r.ToUserName).To(Equal("a"))
			Expect(r.Encrypt).To(Equal("e"))
			Expect(r.Unknown).To(Equal([]string{"funcflag", "touserName"}))
			Expect(r.Duplicate).To(Equal([]string{"ToUserName", "encrypt"}))
		})

		It("matches JSON envelope keys in any case, and nothing else", func() {
			r := parseReply(`{"ENCRYPT":"e","msgSignature":"s","Timestamp":1713424427,"NONCE":"n","msgtype":"text","content":"x"}`, wire.JSON)
			Expect(r.IsEnvelope()).To(BeTrue())
			Expect([]string{r.Encrypt, r.MsgSignature, r.TimeStamp, r.Nonce}).To(Equal([]string{"e", "s", "1713424427", "n"}))
			Expect(r.MsgType).To(BeEmpty())
			Expect(r.Unknown).To(Equal([]string{"msgtype", "content"}))

			r = parseReply(`<xml><encrypt>e</encrypt></xml>`, wire.XML)
			Expect(r.IsEnvelope()).To(BeFalse(), "XML names are exact")
			Expect(r.Unknown).To(Equal([]string{"encrypt"}))
		})

		It("takes every item of Articles, and nothing else inside it", func() {
			r := parseReply(`<xml><ArticleCount>3</ArticleCount><Articles><item><Title>1</Title></item><other/>`+
				`<item/><item><Url>u</Url><Title>3</Title><Title>x</Title></item></Articles></xml>`, wire.XML)
			Expect(r.ArticleCount).To(Equal("3"))
			Expect(r.Articles).To(Equal([]wire.RawArticle{{Title: "1"}, {}, {Title: "3", Url: "u"}}))
			r = parseReply(`{"ArticleCount":2,"Articles":[{"Title":"1","Extra":1},"junk"]}`, wire.JSON)
			Expect(r.ArticleCount).To(Equal("2"))
			Expect(r.Articles).To(Equal([]wire.RawArticle{{Title: "1"}, {}}))
		})

		It("keeps a non-string value's literal as valid UTF-8, as it does strings", func() {
			r := parseReply("{\"ToUserName\":{\"\x96\":\"0\"},\"Content\":[\"\xff\"],\"MsgType\":\"\xfe\"}", wire.JSON)
			Expect(r.ToUserName).To(Equal("{\"\uFFFD\":\"0\"}"))
			Expect(r.Content).To(Equal("[\"\uFFFD\"]"))
			Expect(r.MsgType).To(Equal("\uFFFD"))
		})

		It("names a root that is not <xml>", func() {
			Expect(parseReply(`<?xml version="1.0"?><response><Content>x</Content></response>`, wire.XML).Root).To(Equal("response"))
		})

		DescribeTable("rejects malformed bodies with a *SyntaxError",
			func(body string, f wire.Format, line int, msg string) {
				_, err := wire.ParseReply([]byte(body), f)
				var se *wire.SyntaxError
				Expect(errors.As(err, &se)).To(BeTrue(), "got %v", err)
				Expect(se.Line).To(Equal(line))
				Expect(se.Error()).To(Equal(msg))
			},
			Entry("a mismatched end tag", "<xml>\n  <MsgType>text</MsgType>\n  <Content>hi</xml>", wire.XML, 3,
				"XML syntax error on line 3: element <Content> closed by </xml>"),
			Entry("trailing garbage", "<xml><MsgType>text</MsgType></xml>\nsuccess", wire.XML, 2,
				`XML syntax error on line 2: text "success" after the root element </xml>`),
			Entry("two roots", "<xml></xml>\n<xml></xml>", wire.XML, 2,
				"XML syntax error on line 2: a second root element <xml> after </xml>"),
			Entry("an unclosed element", "<xml><Content>hi", wire.XML, 1,
				"XML syntax error on line 1: unexpected EOF: <Content> is not closed"),
			Entry("a stray end tag", "<xml></xml></xml>", wire.XML, 1, "XML syntax error on line 1: unexpected end element </xml>"),
			Entry("a bare ampersand", "<xml><Content>a & b</Content></xml>", wire.XML, 1,
				"XML syntax error on line 1: invalid character entity & (no semicolon)"),
			Entry("a control character", "<xml><Content>a\x01</Content></xml>", wire.XML, 1,
				"XML syntax error on line 1: illegal character code U+0001"),
			Entry("a foreign encoding", `<?xml version="1.0" encoding="GBK"?><xml/>`, wire.XML, 1,
				`XML syntax error on line 1: encoding "GBK" declared but Decoder.CharsetReader is nil`),
			Entry("JSON in place of XML", `{"MsgType":"text"}`, wire.XML, 1,
				`XML syntax error on line 1: text "{\"MsgType\":\"text\"}" before the root element`),
			Entry("trailing JSON garbage", `{"MsgType":"text"} x`, wire.JSON, 1,
				"JSON syntax error on line 1 at byte 19: invalid character 'x' after top-level value"),
			Entry("two JSON objects", "{}\n{}", wire.JSON, 2,
				"JSON syntax error on line 2 at byte 3: invalid character '{' after top-level value"),
			Entry("an unclosed JSON object", `{"MsgType":"text"`, wire.JSON, 1,
				"JSON syntax error on line 1 at byte 16: unexpected end of JSON input"),
			Entry("a JSON string", `"success"`, wire.JSON, 1,
				"JSON syntax error on line 1 at byte 0: the body is a string, not an object"),
			Entry("a single-quoted JSON key", `{'MsgType':"text"}`, wire.JSON, 1,
				"JSON syntax error on line 1 at byte 1: invalid character '\\'' looking for beginning of object key string"),
		)
	})
})
