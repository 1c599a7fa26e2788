package rules_test

import (
	"bytes"
	"encoding/json"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/wire"
)

// sendExample is a body from protocol §4.1 and what it decodes to.
type sendExample struct {
	name string
	kind wire.Kind
	body string
	want rules.CustomSend
}

// sendExamples are the example bodies of protocol §4.1, verbatim.
var sendExamples = []sendExample{
	{"OA text", wire.OA, `{"touser":"OPENID","msgtype":"text","text":{"content":"Hello World"}}`,
		rules.CustomSend{ToUser: "OPENID", MsgType: "text", Text: &rules.SendText{Content: "Hello World"}}},
	{"OA image", wire.OA, `{"touser":"OPENID","msgtype":"image","image":{"media_id":"MEDIA_ID"}}`,
		rules.CustomSend{ToUser: "OPENID", MsgType: "image", Image: &rules.SendMedia{MediaID: "MEDIA_ID"}, MediaIDs: []string{"MEDIA_ID"}}},
	{"OA voice", wire.OA, `{"touser":"OPENID","msgtype":"voice","voice":{"media_id":"MEDIA_ID"}}`,
		rules.CustomSend{ToUser: "OPENID", MsgType: "voice", Voice: &rules.SendMedia{MediaID: "MEDIA_ID"}, MediaIDs: []string{"MEDIA_ID"}}},
	{"OA video", wire.OA, `{"touser":"OPENID","msgtype":"video","video":{"media_id":"MEDIA_ID","thumb_media_id":"MEDIA_ID","title":"TITLE","description":"DESCRIPTION"}}`,
		rules.CustomSend{ToUser: "OPENID", MsgType: "video",
			Video:    &rules.SendVideo{MediaID: "MEDIA_ID", ThumbMediaID: "MEDIA_ID", Title: "TITLE", Description: "DESCRIPTION"},
			MediaIDs: []string{"MEDIA_ID", "MEDIA_ID"}}},
	{"OA music", wire.OA, `{"touser":"OPENID","msgtype":"music","music":{"title":"TITLE","description":"DESCRIPTION","musicurl":"MUSIC_URL","hqmusicurl":"HQ_MUSIC_URL","thumb_media_id":"THUMB_MEDIA_ID"}}`,
		rules.CustomSend{ToUser: "OPENID", MsgType: "music",
			Music:    &rules.SendMusic{Title: "TITLE", Description: "DESCRIPTION", MusicURL: "MUSIC_URL", HQMusicURL: "HQ_MUSIC_URL", ThumbMediaID: "THUMB_MEDIA_ID"},
			MediaIDs: []string{"THUMB_MEDIA_ID"}}},
	{"OA news", wire.OA, `{"touser":"OPENID","msgtype":"news","news":{"articles":[{"title":"Happy Day","description":"Is Really A Happy Day","url":"URL","picurl":"PIC_URL"}]}}`,
		rules.CustomSend{ToUser: "OPENID", MsgType: "news",
			News: []rules.SendArticle{{Title: "Happy Day", Description: "Is Really A Happy Day", URL: "URL", PicURL: "PIC_URL"}}}},
	{"OA mpnews", wire.OA, `{"touser":"OPENID","msgtype":"mpnews","mpnews":{"media_id":"MEDIA_ID"}}`,
		rules.CustomSend{ToUser: "OPENID", MsgType: "mpnews", MpNews: &rules.SendMedia{MediaID: "MEDIA_ID"}, MediaIDs: []string{"MEDIA_ID"}}},
	{"OA mpnewsarticle", wire.OA, `{"touser":"OPENID","msgtype":"mpnewsarticle","mpnewsarticle":{"article_id":"ARTICLE_ID"}}`,
		rules.CustomSend{ToUser: "OPENID", MsgType: "mpnewsarticle", MpNewsArticle: &rules.SendArticleID{ArticleID: "ARTICLE_ID"}}},
	{"OA msgmenu", wire.OA, `{"touser":"OPENID","msgtype":"msgmenu","msgmenu":{"head_content":"您对本次服务是否满意呢? ","list":[{"id":"101","content":"满意"},{"id":"102","content":"不满意"}],"tail_content":"欢迎再次光临"}}`,
		rules.CustomSend{ToUser: "OPENID", MsgType: "msgmenu", MsgMenu: &rules.SendMsgMenu{
			HeadContent: "您对本次服务是否满意呢? ",
			List:        []rules.SendMenuItem{{ID: "101", Content: "满意"}, {ID: "102", Content: "不满意"}},
			TailContent: "欢迎再次光临"}}},
	{"OA wxcard", wire.OA, `{"touser":"OPENID","msgtype":"wxcard","wxcard":{"card_id":"123dsdajkasd231jhksad"}}`,
		rules.CustomSend{ToUser: "OPENID", MsgType: "wxcard", WxCard: &rules.SendCard{CardID: "123dsdajkasd231jhksad"}}},
	{"OA miniprogrampage", wire.OA, `{"touser":"OPENID","msgtype":"miniprogrampage","miniprogrampage":{"title":"title","appid":"appid","pagepath":"pagepath","thumb_media_id":"thumb_media_id"}}`,
		rules.CustomSend{ToUser: "OPENID", MsgType: "miniprogrampage",
			MiniProgramPage: &rules.SendMiniProgramPage{Title: "title", AppID: "appid", PagePath: "pagepath", ThumbMediaID: "thumb_media_id"},
			MediaIDs:        []string{"thumb_media_id"}}},
	{"OA text as a kf account", wire.OA, `{"touser":"OPENID","msgtype":"text","text":{"content":"Hello"},"customservice":{"kf_account":"test1@kftest"}}`,
		rules.CustomSend{ToUser: "OPENID", MsgType: "text", KfAccount: "test1@kftest", Text: &rules.SendText{Content: "Hello"}}},
	{"MP text", wire.MP, `{"touser":"OPENID","msgtype":"text","text":{"content":"Hello World"}}`,
		rules.CustomSend{ToUser: "OPENID", MsgType: "text", Text: &rules.SendText{Content: "Hello World"}}},
	{"MP image", wire.MP, `{"touser":"OPENID","msgtype":"image","image":{"media_id":"MEDIA_ID"}}`,
		rules.CustomSend{ToUser: "OPENID", MsgType: "image", Image: &rules.SendMedia{MediaID: "MEDIA_ID"}, MediaIDs: []string{"MEDIA_ID"}}},
	{"MP link", wire.MP, `{"touser":"OPENID","msgtype":"link","link":{"title":"Happy Day","description":"Is Really A Happy Day","url":"URL","thumb_url":"THUMB_URL"}}`,
		rules.CustomSend{ToUser: "OPENID", MsgType: "link",
			Link: &rules.SendLink{Title: "Happy Day", Description: "Is Really A Happy Day", URL: "URL", ThumbURL: "THUMB_URL"}}},
	{"MP miniprogrampage", wire.MP, `{"touser":"OPENID","msgtype":"miniprogrampage","miniprogrampage":{"title":"title","pagepath":"pages/index/index","thumb_media_id":"thumb_media_id"}}`,
		rules.CustomSend{ToUser: "OPENID", MsgType: "miniprogrampage",
			MiniProgramPage: &rules.SendMiniProgramPage{Title: "title", PagePath: "pages/index/index", ThumbMediaID: "thumb_media_id"},
			MediaIDs:        []string{"thumb_media_id"}}},
}

// typingExamples are the example bodies of protocol §4.2 and a business typing body.
var typingExamples = []string{
	`{"touser":"OPENID","command":"Typing"}`,
	`{"touser":"OPENID","command":"CancelTyping"}`,
	`{"touser":"OPENID","command":"Typing","businessid":1}`,
}

// send builds a custom-send body with touser OPENID.
func send(msgType, object string) string {
	return `{"touser":"OPENID","msgtype":"` + msgType + `",` + object + `}`
}

func menu(n int, content string) string {
	items := make([]string, n)
	for i := range items {
		items[i] = `{"id":"` + string(rune('a'+i)) + `","content":"` + content + `"}`
	}
	return send("msgmenu", `"msgmenu":{"list":[`+strings.Join(items, ",")+`]}`)
}

func check(kind wire.Kind, body string) (*rules.CustomSend, *wire.Error) {
	return rules.CheckCustomSend(kind, []byte(body), rules.SendLimits{})
}

var _ = Describe("CheckCustomSend", func() {
	entries := make([]TableEntry, 0, len(sendExamples))
	for _, ex := range sendExamples {
		entries = append(entries, Entry(ex.name, ex))
	}
	DescribeTable("accepts every example body of protocol §4.1",
		func(ex sendExample) {
			s, aerr := check(ex.kind, ex.body)
			Expect(aerr).To(BeNil())
			Expect(*s).To(Equal(ex.want))
		},
		entries,
	)

	DescribeTable("writes every example back in WeChat's shape",
		func(ex sendExample) {
			b, err := json.Marshal(ex.want)
			Expect(err).NotTo(HaveOccurred())
			Expect(b).To(MatchJSON(ex.body))
		},
		entries,
	)

	DescribeTable("rejects a body with the errcode of the first check it fails (protocol §9)",
		func(kind wire.Kind, body string, code int, detail string) {
			s, aerr := check(kind, body)
			Expect(s).To(BeNil())
			Expect(aerr).NotTo(BeNil())
			Expect(aerr.Code).To(Equal(code), aerr.Detail)
			Expect(aerr.Detail).To(ContainSubstring(detail))
		},
		// 44002
		Entry("an empty body", wire.OA, ``, 44002, "empty"),
		Entry("a body of white space", wire.MP, " \r\n\t", 44002, "empty"),

		// 47001: not a JSON object
		Entry("a form body", wire.OA, `touser=OPENID&msgtype=text`, 47001, "not valid JSON"),
		Entry("truncated JSON", wire.OA, `{"touser":"OPENID","msgtype":"text"`, 47001, "not valid JSON"),
		Entry("JSON followed by more", wire.OA, send("text", `"text":{"content":"hi"}`)+`x`, 47001, "not valid JSON"),
		Entry("single quotes", wire.OA, `{'touser':'OPENID'}`, 47001, "at byte 1"),
		Entry("a trailing comma", wire.OA, `{"touser":"OPENID",}`, 47001, "not valid JSON"),
		Entry("an array", wire.OA, `[{"touser":"OPENID"}]`, 47001, "is a JSON array; it must be an object"),
		Entry("a string", wire.OA, `"hello"`, 47001, "is a JSON string"),
		Entry("null", wire.MP, `null`, 47001, "is a JSON null"),
		Entry("GBK instead of UTF-8", wire.OA, "{\"touser\":\"OPENID\",\"msgtype\":\"text\",\"text\":{\"content\":\"\xc4\xe3\xba\xc3\"}}", 47001, "not UTF-8 (at byte 55)"),

		// 47001: a known field of the wrong type, named by its path
		Entry("touser a number", wire.OA, `{"touser":123,"msgtype":"text","text":{"content":"hi"}}`, 47001, "touser must be a string, not a number 123"),
		Entry("msgtype an array", wire.OA, `{"touser":"OPENID","msgtype":["text"]}`, 47001, `msgtype must be a string, not an array ["text"]`),
		Entry("text a string", wire.OA, send("text", `"text":"hi"`), 47001, `text must be an object, not a string "hi"`),
		Entry("text.content a number", wire.OA, send("text", `"text":{"content":5}`), 47001, "text.content must be a string, not a number 5"),
		Entry("text.content a boolean", wire.MP, send("text", `"text":{"content":true}`), 47001, "text.content must be a string, not a boolean true"),
		Entry("image.media_id an object", wire.OA, send("image", `"image":{"media_id":{}}`), 47001, "image.media_id must be a string, not an object {}"),
		Entry("news.articles an object", wire.OA, send("news", `"news":{"articles":{}}`), 47001, "news.articles must be an array, not an object {}"),
		Entry("news.articles[0] a string", wire.OA, send("news", `"news":{"articles":["x"]}`), 47001, `news.articles[0] must be an object, not a string "x"`),
		Entry("news.articles[0] null", wire.OA, send("news", `"news":{"articles":[null]}`), 47001, `news.articles[0] must be an object, not null`),
		Entry("news.articles[1].title a number", wire.OA, send("news", `"news":{"articles":[{"title":"a"},{"title":2}]}`), 47001, "news.articles[1].title must be a string"),
		Entry("msgmenu.list[1].id a number", wire.OA, send("msgmenu", `"msgmenu":{"list":[{"id":"1","content":"a"},{"id":2,"content":"b"}]}`), 47001, "msgmenu.list[1].id must be a string, not a number 2"),
		Entry("msgmenu.head_content a number", wire.OA, send("msgmenu", `"msgmenu":{"head_content":1,"list":[{"id":"1","content":"a"}]}`), 47001, "msgmenu.head_content must be a string"),
		Entry("customservice a string", wire.OA, send("text", `"text":{"content":"hi"},"customservice":"kf"`), 47001, "customservice must be an object"),
		Entry("customservice.kf_account a number", wire.OA, send("text", `"text":{"content":"hi"},"customservice":{"kf_account":1}`), 47001, "customservice.kf_account must be a string"),
		Entry("customservice.kf_account a number, from a Mini Program", wire.MP, send("text", `"text":{"content":"hi"},"customservice":{"kf_account":1}`), 47001, "customservice.kf_account must be a string"),
		Entry("miniprogrampage.appid a number, from a Mini Program", wire.MP, send("miniprogrampage", `"miniprogrampage":{"title":"t","appid":1,"pagepath":"p","thumb_media_id":"m"}`), 47001, "miniprogrampage.appid must be a string"),
		Entry("link.thumb_url a number", wire.MP, send("link", `"link":{"title":"t","description":"d","url":"u","thumb_url":1}`), 47001, "link.thumb_url must be a string"),
		Entry("businessid a fraction", wire.MP, send("text", `"text":{"content":"hi"},"businessid":1.5`), 47001, "businessid must be a 64-bit integer or a string, not a number 1.5"),
		Entry("businessid beyond 64 bits", wire.MP, send("text", `"text":{"content":"hi"},"businessid":9223372036854775808`), 47001, "businessid must be a 64-bit integer"),
		Entry("businessid a boolean", wire.MP, send("text", `"text":{"content":"hi"},"businessid":true`), 47001, "businessid must be an integer or a string"),
		Entry("a long value, clipped", wire.OA, `{"touser":"OPENID","msgtype":"text","text":{"content":12345678901234567890123456789012345678901234567890}}`, 47001, "1234567890123456789012345678901234567890…"),

		// 47001 before 40008: the body is decoded before msgtype is read
		Entry("a wrong type and an unknown msgtype", wire.OA, `{"touser":"OPENID","msgtype":"nope","text":{"content":5}}`, 47001, "text.content"),
		Entry("a wrong type in another type's object", wire.OA, send("text", `"text":{"content":"hi"},"image":{"media_id":1}`), 47001, "image.media_id"),
		Entry("a wrong type in a Mini Program only object, from an Official Account", wire.OA, send("text", `"text":{"content":"hi"},"link":[]`), 47001, "link must be an object"),
		Entry("a wrong type and no touser", wire.OA, `{"msgtype":"text","text":{"content":[]}}`, 47001, "text.content"),

		// 40008
		Entry("no msgtype", wire.OA, `{"touser":"OPENID","text":{"content":"hi"}}`, 40008, "msgtype is missing; it must be one of text, image, voice, video, music, news, mpnews, mpnewsarticle, msgmenu, wxcard, miniprogrampage"),
		Entry("msgtype empty", wire.MP, `{"touser":"OPENID","msgtype":"","text":{"content":"hi"}}`, 40008, "msgtype is missing; it must be one of text, image, link, miniprogrampage"),
		Entry("msgtype null", wire.OA, `{"touser":"OPENID","msgtype":null,"text":{"content":"hi"}}`, 40008, "msgtype is missing"),
		Entry("an unknown msgtype", wire.OA, send("location", `"location":{}`), 40008, `msgtype "location" is not a message type; an Official Account can send text, image,`),
		Entry("msgtype in capitals", wire.OA, send("Text", `"text":{"content":"hi"}`), 40008, `msgtype "Text" is not a message type`),
		Entry("a passive-reply type", wire.OA, send("transfer_customer_service", `"text":{"content":"hi"}`), 40008, `"transfer_customer_service" is not a message type`),
		Entry("link from an Official Account", wire.OA, send("link", `"link":{"title":"t","description":"d","url":"u","thumb_url":"p"}`), 40008, `msgtype "link" is for Mini Programs only; an Official Account can send`),
		Entry("voice from a Mini Program", wire.MP, send("voice", `"voice":{"media_id":"M"}`), 40008, `msgtype "voice" is for Official Accounts only; a Mini Program can send text, image, link, miniprogrampage`),
		Entry("video from a Mini Program", wire.MP, send("video", `"video":{"media_id":"M","thumb_media_id":"T"}`), 40008, `"video" is for Official Accounts only`),
		Entry("music from a Mini Program", wire.MP, send("music", `"music":{"thumb_media_id":"T"}`), 40008, `"music" is for Official Accounts only`),
		Entry("news from a Mini Program", wire.MP, send("news", `"news":{"articles":[{"title":"t"}]}`), 40008, `"news" is for Official Accounts only`),
		Entry("mpnews from a Mini Program", wire.MP, send("mpnews", `"mpnews":{"media_id":"M"}`), 40008, `"mpnews" is for Official Accounts only`),
		Entry("mpnewsarticle from a Mini Program", wire.MP, send("mpnewsarticle", `"mpnewsarticle":{"article_id":"A"}`), 40008, `"mpnewsarticle" is for Official Accounts only`),
		Entry("msgmenu from a Mini Program", wire.MP, menu(2, "ok"), 40008, `"msgmenu" is for Official Accounts only`),
		Entry("wxcard from a Mini Program", wire.MP, send("wxcard", `"wxcard":{"card_id":"C"}`), 40008, `"wxcard" is for Official Accounts only`),

		// 40008 before 40003
		Entry("an unknown msgtype and no touser", wire.OA, `{"msgtype":"nope","text":{"content":"hi"}}`, 40008, `"nope"`),
		Entry("no msgtype and no touser", wire.MP, `{"text":{"content":"hi"}}`, 40008, "msgtype is missing"),
		Entry("a wrong-kind msgtype and no touser", wire.MP, `{"msgtype":"news"}`, 40008, `"news" is for Official Accounts only`),

		// 40003
		Entry("no touser", wire.OA, `{"msgtype":"text","text":{"content":"hi"}}`, 40003, "touser is missing"),
		Entry("touser empty", wire.MP, `{"touser":"","msgtype":"text","text":{"content":"hi"}}`, 40003, "touser is missing"),
		Entry("touser null", wire.OA, `{"touser":null,"msgtype":"text","text":{"content":"hi"}}`, 40003, "touser is missing"),
		Entry("touser in capitals", wire.OA, `{"TOUSER":"OPENID","msgtype":"text","text":{"content":"hi"}}`, 40003, "touser is missing"),

		// 40003 before the fields of the type
		Entry("empty content and no touser", wire.OA, `{"msgtype":"text","text":{"content":""}}`, 40003, "touser is missing"),
		Entry("no media_id and no touser", wire.MP, `{"msgtype":"image","image":{}}`, 40003, "touser is missing"),
		Entry("no articles and no touser", wire.OA, `{"msgtype":"news"}`, 40003, "touser is missing"),
		Entry("an over-long menu and no touser", wire.OA, `{"msgtype":"msgmenu","msgmenu":{"list":[]}}`, 40003, "touser is missing"),

		// text
		Entry("text.content empty", wire.OA, send("text", `"text":{"content":""}`), 44004, "text.content is empty"),
		Entry("text.content missing", wire.MP, send("text", `"text":{}`), 44004, "text.content is empty"),
		Entry("text.content null", wire.OA, send("text", `"text":{"content":null}`), 44004, "text.content is empty"),
		Entry("no text object", wire.OA, send("text", `"image":{"media_id":"M"}`), 44004, "text.content is empty"),
		Entry("text null", wire.MP, send("text", `"text":null`), 44004, "text.content is empty"),
		Entry("text.content 2049 bytes", wire.OA, send("text", `"text":{"content":"`+strings.Repeat("a", 2049)+`"}`), 45002, "text.content is 2049 bytes of UTF-8; the limit is 2048"),
		Entry("text.content 683 Chinese characters", wire.MP, send("text", `"text":{"content":"`+strings.Repeat("好", 683)+`"}`), 45002, "2049 bytes"),

		// media ids
		Entry("image.media_id missing", wire.OA, send("image", `"image":{}`), 41006, "image.media_id is missing"),
		Entry("image.media_id empty, from a Mini Program", wire.MP, send("image", `"image":{"media_id":""}`), 41006, "image.media_id is missing"),
		Entry("no image object", wire.OA, send("image", `"text":{"content":"hi"}`), 41006, "image.media_id is missing"),
		Entry("voice.media_id missing", wire.OA, send("voice", `"voice":{}`), 41006, "voice.media_id is missing"),
		Entry("mpnews.media_id missing", wire.OA, send("mpnews", `"mpnews":{"media_id":null}`), 41006, "mpnews.media_id is missing"),
		Entry("video.media_id missing", wire.OA, send("video", `"video":{"thumb_media_id":"T"}`), 41006, "video.media_id is missing"),
		Entry("video.thumb_media_id missing", wire.OA, send("video", `"video":{"media_id":"M","title":"t"}`), 41006, "video.thumb_media_id is missing"),
		Entry("music.thumb_media_id missing", wire.OA, send("music", `"music":{"title":"t","musicurl":"u"}`), 41006, "music.thumb_media_id is missing"),
		Entry("miniprogrampage.thumb_media_id missing", wire.OA, send("miniprogrampage", `"miniprogrampage":{"title":"t","appid":"a","pagepath":"p"}`), 41006, "miniprogrampage.thumb_media_id is missing"),
		Entry("miniprogrampage.thumb_media_id missing, from a Mini Program", wire.MP, send("miniprogrampage", `"miniprogrampage":{"title":"t","pagepath":"p"}`), 41006, "miniprogrampage.thumb_media_id is missing"),

		// news
		Entry("no news object", wire.OA, send("news", `"text":{"content":"hi"}`), 44003, "news.articles is missing or empty"),
		Entry("news.articles missing", wire.OA, send("news", `"news":{}`), 44003, "news.articles is missing or empty"),
		Entry("news.articles empty", wire.OA, send("news", `"news":{"articles":[]}`), 44003, "news.articles is missing or empty"),
		Entry("two articles", wire.OA, send("news", `"news":{"articles":[{"title":"a"},{"title":"b"}]}`), 45008, "news.articles has 2 articles; a custom message may carry 1"),

		// other required fields
		Entry("mpnewsarticle.article_id missing", wire.OA, send("mpnewsarticle", `"mpnewsarticle":{}`), 47001, "mpnewsarticle.article_id is missing"),
		Entry("wxcard.card_id missing", wire.OA, send("wxcard", `"wxcard":{"card_ext":"{}"}`), 47001, "wxcard.card_id is missing"),
		Entry("miniprogrampage.title missing", wire.OA, send("miniprogrampage", `"miniprogrampage":{"appid":"a","pagepath":"p","thumb_media_id":"m"}`), 47001, "miniprogrampage.title is missing"),
		Entry("miniprogrampage.appid missing", wire.OA, send("miniprogrampage", `"miniprogrampage":{"title":"t","pagepath":"p","thumb_media_id":"m"}`), 47001, "miniprogrampage.appid is missing"),
		Entry("miniprogrampage.pagepath missing", wire.OA, send("miniprogrampage", `"miniprogrampage":{"title":"t","appid":"a","thumb_media_id":"m"}`), 47001, "miniprogrampage.pagepath is missing"),
		Entry("miniprogrampage.title missing, from a Mini Program", wire.MP, send("miniprogrampage", `"miniprogrampage":{"pagepath":"p","thumb_media_id":"m"}`), 47001, "miniprogrampage.title is missing"),
		Entry("miniprogrampage.pagepath missing, from a Mini Program", wire.MP, send("miniprogrampage", `"miniprogrampage":{"title":"t","thumb_media_id":"m"}`), 47001, "miniprogrampage.pagepath is missing"),
		Entry("link.title missing", wire.MP, send("link", `"link":{"description":"d","url":"u","thumb_url":"p"}`), 47001, "link.title is missing"),
		Entry("link.description missing", wire.MP, send("link", `"link":{"title":"t","url":"u","thumb_url":"p"}`), 47001, "link.description is missing"),
		Entry("link.url missing", wire.MP, send("link", `"link":{"title":"t","description":"d","thumb_url":"p"}`), 47001, "link.url is missing"),
		Entry("link.thumb_url missing", wire.MP, send("link", `"link":{"title":"t","description":"d","url":"u"}`), 47001, "link.thumb_url is missing"),

		// msgmenu
		Entry("no msgmenu object", wire.OA, send("msgmenu", `"text":{"content":"hi"}`), 45098, "msgmenu.list is missing or empty"),
		Entry("msgmenu.list missing", wire.OA, send("msgmenu", `"msgmenu":{"head_content":"h"}`), 45098, "msgmenu.list is missing or empty"),
		Entry("msgmenu.list empty", wire.OA, send("msgmenu", `"msgmenu":{"list":[]}`), 45098, "msgmenu.list is missing or empty"),
		Entry("11 msgmenu items", wire.OA, menu(11, "ok"), 45098, "msgmenu.list has 11 items; the limit is 10"),
		Entry("a msgmenu item of 129 bytes", wire.OA, menu(1, strings.Repeat("x", 129)), 45099, "msgmenu.list[0].content is 129 bytes of UTF-8; the limit is 128"),
		Entry("a msgmenu item without id", wire.OA, send("msgmenu", `"msgmenu":{"list":[{"id":"1","content":"a"},{"content":"b"}]}`), 47001, "msgmenu.list[1].id is missing"),
		Entry("a msgmenu item without content", wire.OA, send("msgmenu", `"msgmenu":{"list":[{"id":"1"}]}`), 47001, "msgmenu.list[0].content is missing"),
		Entry("a msgmenu item that is not an object", wire.OA, send("msgmenu", `"msgmenu":{"list":["满意"]}`), 47001, `msgmenu.list[0] must be an object, not a string "满意"`),

		// not the bot's fault
		Entry("an unknown kind of app", wire.Kind("wecom"), send("text", `"text":{"content":"hi"}`), -1, `unknown app kind "wecom"`),
	)

	Describe("JSON", func() {
		It("reads Chinese the same whether escaped or not", func() {
			plain, aerr := check(wire.OA, send("text", `"text":{"content":"你好，世界"}`))
			Expect(aerr).To(BeNil())
			escaped, aerr := check(wire.OA, send("text", `"text":{"content":"\u4f60\u597d\uff0c\u4e16\u754c"}`))
			Expect(aerr).To(BeNil())
			Expect(escaped.Text.Content).To(Equal("你好，世界"))
			Expect(plain).To(Equal(escaped))
		})

		It("reads characters outside the BMP written as surrogate pairs", func() {
			s, aerr := check(wire.MP, send("text", `"text":{"content":"\ud83d\ude00 and 😀"}`))
			Expect(aerr).To(BeNil())
			Expect(s.Text.Content).To(Equal("😀 and 😀"))
		})

		It("keeps links verbatim, escaped or not", func() {
			const link = `<a href="http://www.qq.com" data-miniprogram-appid="appid" data-miniprogram-path="pages/index/index">点击跳小程序</a>`
			s, aerr := check(wire.OA, send("text", `"text":{"content":"`+strings.ReplaceAll(link, `"`, `\"`)+`"}`))
			Expect(aerr).To(BeNil())
			Expect(s.Text.Content).To(Equal(link))
			s, aerr = check(wire.OA, send("text", `"text":{"content":"\u003ca href=\"https://example.com/?a=1\u0026b=2\"\u003ego\u003c/a\u003e"}`))
			Expect(aerr).To(BeNil())
			Expect(s.Text.Content).To(Equal(`<a href="https://example.com/?a=1&b=2">go</a>`))
			Expect(s.Render()).To(Equal(`<a href="https://example.com/?a=1&b=2">go</a>`))
		})

		It("resolves every JSON escape", func() {
			s, aerr := check(wire.OA, send("text", `"text":{"content":"a\nb\tc\\d\"e\/f"}`))
			Expect(aerr).To(BeNil())
			Expect(s.Text.Content).To(Equal("a\nb\tc\\d\"e/f"))
		})

		It("matches escaped keys by their value", func() {
			s, aerr := check(wire.OA, `{"\u0074ouser":"OPENID","msgtype":"text","text":{"content":"hi"}}`)
			Expect(aerr).To(BeNil())
			Expect(s.ToUser).To(Equal("OPENID"))
		})

		It("counts the limit in bytes of UTF-8 after unescaping", func() {
			// 682 × 3 + 2 = 2048 bytes, written as 682 six-byte escapes.
			s, aerr := check(wire.OA, send("text", `"text":{"content":"`+strings.Repeat(`\u597d`, 682)+`ab"}`))
			Expect(aerr).To(BeNil())
			Expect(s.Text.Content).To(HaveLen(2048))
		})

		It("accepts white space around and inside the body", func() {
			s, aerr := check(wire.OA, "\n {\r\n\t\"touser\" : \"OPENID\" ,\n \"msgtype\":\"text\", \"text\" : { \"content\" : \"hi\" } }\n")
			Expect(aerr).To(BeNil())
			Expect(s.Text.Content).To(Equal("hi"))
		})

		It("ignores keys it does not know, at any level", func() {
			s, aerr := check(wire.OA, `{"touser":"OPENID","msgtype":"text","text":{"content":"hi","extra":[1,{}]},"aimsgcontext":{"is_ai_msg":1},"x":null}`)
			Expect(aerr).To(BeNil())
			Expect(*s).To(Equal(rules.CustomSend{ToUser: "OPENID", MsgType: "text", Text: &rules.SendText{Content: "hi"}}))
		})

		It("takes the first of a key written twice, and does not look at the second", func() {
			s, aerr := check(wire.OA, `{"touser":"FIRST","touser":2,"msgtype":"text","text":{"content":"one"},"text":{"content":"two"}}`)
			Expect(aerr).To(BeNil())
			Expect(s.ToUser).To(Equal("FIRST"))
			Expect(s.Text.Content).To(Equal("one"))
		})

		It("keeps only the object msgtype names", func() {
			s, aerr := check(wire.OA, send("image", `"text":{"content":"hi"},"image":{"media_id":"M"},"video":{"media_id":"V","thumb_media_id":"T"}`))
			Expect(aerr).To(BeNil())
			Expect(*s).To(Equal(rules.CustomSend{ToUser: "OPENID", MsgType: "image", Image: &rules.SendMedia{MediaID: "M"}, MediaIDs: []string{"M"}}))
		})

		It("keeps businessid exactly, as an integer or a string", func() {
			s, aerr := check(wire.MP, send("text", `"text":{"content":"hi"},"businessid":9223372036854775807`))
			Expect(aerr).To(BeNil())
			Expect(s.BusinessID).To(Equal("9223372036854775807"))
			s, aerr = check(wire.MP, send("text", `"text":{"content":"hi"},"businessid":"sub-1"`))
			Expect(aerr).To(BeNil())
			Expect(s.BusinessID).To(Equal("sub-1"))
		})

		It("does not share memory with the body", func() {
			body := []byte(send("text", `"text":{"content":"hello"}`))
			s, aerr := rules.CheckCustomSend(wire.OA, body, rules.SendLimits{})
			Expect(aerr).To(BeNil())
			copy(body, bytes.Repeat([]byte("x"), len(body)))
			Expect(s.ToUser).To(Equal("OPENID"))
			Expect(s.Text.Content).To(Equal("hello"))
		})

		It("rejects a body nested too deep for the validator instead of exhausting the stack", func() {
			const depth = 100_000
			body := send("text", `"text":{"content":"hi"},"x":`+strings.Repeat("[", depth)+strings.Repeat("]", depth))
			_, aerr := check(wire.OA, body)
			Expect(aerr).NotTo(BeNil())
			Expect(aerr.Code).To(Equal(47001))
			Expect(aerr.Detail).To(ContainSubstring("depth"))
		})

		It("validates a large body that is not deep", func() {
			body := send("text", `"text":{"content":"hi"},"padding":"`+strings.Repeat("x", 100_000)+`"`)
			s, aerr := check(wire.OA, body)
			Expect(aerr).To(BeNil())
			Expect(s.Text.Content).To(Equal("hi"))
		})
	})

	Describe("kinds", func() {
		It("keeps an Official Account's kf_account", func() {
			s, aerr := check(wire.OA, send("image", `"image":{"media_id":"M"},"customservice":{"kf_account":"test1@kftest"}`))
			Expect(aerr).To(BeNil())
			Expect(s.KfAccount).To(Equal("test1@kftest"))
		})

		It("ignores a Mini Program's kf_account", func() {
			s, aerr := check(wire.MP, send("text", `"text":{"content":"hi"},"customservice":{"kf_account":"test1@kftest"}`))
			Expect(aerr).To(BeNil())
			Expect(s.KfAccount).To(BeEmpty())
		})

		It("ignores a Mini Program's miniprogrampage.appid: the card opens the sender", func() {
			s, aerr := check(wire.MP, send("miniprogrampage", `"miniprogrampage":{"title":"t","appid":"wxother","pagepath":"p","thumb_media_id":"m"}`))
			Expect(aerr).To(BeNil())
			Expect(*s.MiniProgramPage).To(Equal(rules.SendMiniProgramPage{Title: "t", PagePath: "p", ThumbMediaID: "m"}))
		})
	})

	Describe("limits", func() {
		It("accepts text of exactly MaxTextBytes", func() {
			_, aerr := check(wire.OA, send("text", `"text":{"content":"`+strings.Repeat("a", 2048)+`"}`))
			Expect(aerr).To(BeNil())
		})

		It("accepts 10 menu items of 128 bytes", func() {
			s, aerr := check(wire.OA, menu(10, strings.Repeat("好", 42)+"ab"))
			Expect(aerr).To(BeNil())
			Expect(s.MsgMenu.List).To(HaveLen(10))
		})

		It("takes every limit from SendLimits", func() {
			lim := rules.SendLimits{MaxTextBytes: 5, MaxNewsArticles: 8, MaxMsgMenuItems: 2, MaxMsgMenuItemBytes: 3}
			_, aerr := rules.CheckCustomSend(wire.OA, []byte(send("text", `"text":{"content":"123456"}`)), lim)
			Expect(aerr).To(HaveField("Code", 45002))
			s, aerr := rules.CheckCustomSend(wire.OA, []byte(send("news", `"news":{"articles":[{"title":"a"},{"title":"b"}]}`)), lim)
			Expect(aerr).To(BeNil())
			Expect(s.News).To(HaveLen(2))
			_, aerr = rules.CheckCustomSend(wire.OA, []byte(menu(3, "ok")), lim)
			Expect(aerr).To(HaveField("Code", 45098))
			_, aerr = rules.CheckCustomSend(wire.OA, []byte(menu(2, "four")), lim)
			Expect(aerr).To(HaveField("Code", 45099))
		})
	})

	DescribeTable("Render shows one line of what the user sees",
		func(kind wire.Kind, body, want string) {
			s, aerr := check(kind, body)
			Expect(aerr).To(BeNil())
			Expect(s.Render()).To(Equal(want))
		},
		Entry("text", wire.OA, sendExamples[0].body, "Hello World"),
		Entry("text over lines", wire.OA, send("text", `"text":{"content":"one\ntwo\r\nthree\rfour"}`), "one↵two↵three↵four"),
		Entry("image", wire.OA, sendExamples[1].body, "[image MEDIA_ID]"),
		Entry("voice", wire.OA, sendExamples[2].body, "[voice MEDIA_ID]"),
		Entry("video", wire.OA, sendExamples[3].body, "[video MEDIA_ID] TITLE"),
		Entry("video without a title", wire.OA, send("video", `"video":{"media_id":"M","thumb_media_id":"T"}`), "[video M]"),
		Entry("music", wire.OA, sendExamples[4].body, "[music] TITLE"),
		Entry("music without a title", wire.OA, send("music", `"music":{"musicurl":"http://m","thumb_media_id":"T"}`), "[music] http://m"),
		Entry("news", wire.OA, sendExamples[5].body, "[news] Happy Day"),
		Entry("mpnews", wire.OA, sendExamples[6].body, "[mpnews MEDIA_ID]"),
		Entry("mpnewsarticle", wire.OA, sendExamples[7].body, "[mpnewsarticle ARTICLE_ID]"),
		Entry("msgmenu", wire.OA, sendExamples[8].body, "[msgmenu] 您对本次服务是否满意呢? | 满意 / 不满意 | 欢迎再次光临"),
		Entry("msgmenu without head and tail", wire.OA, menu(2, "ok"), "[msgmenu] ok / ok"),
		Entry("msgmenu with a tail only", wire.OA, send("msgmenu", `"msgmenu":{"list":[{"id":"1","content":"是"}],"tail_content":"谢谢"}`), "[msgmenu] 是 | 谢谢"),
		Entry("wxcard", wire.OA, sendExamples[9].body, "[wxcard 123dsdajkasd231jhksad]"),
		Entry("miniprogrampage", wire.OA, sendExamples[10].body, "[miniprogrampage] title"),
		Entry("text as a kf account", wire.OA, sendExamples[11].body, "Hello"),
		Entry("link", wire.MP, sendExamples[14].body, "[link] Happy Day"),
		Entry("Mini Program miniprogrampage", wire.MP, sendExamples[15].body, "[miniprogrampage] title"),
	)

	It("renders nothing for no message, and the type alone for a message without its object", func() {
		var s *rules.CustomSend
		Expect(s.Render()).To(BeEmpty())
		Expect((&rules.CustomSend{MsgType: "image"}).Render()).To(Equal("[image]"))
		Expect((&rules.CustomSend{MsgType: "image", Text: &rules.SendText{Content: "hi"}}).Render()).To(Equal("[image]"))
		Expect((&rules.CustomSend{MsgType: "news", News: []rules.SendArticle{{}}}).Render()).To(Equal("[news]"))
	})

	It("marshals without escaping HTML when the encoder does not", func() {
		s, aerr := check(wire.OA, send("text", `"text":{"content":"<a href=\"u\">x</a>"},"customservice":{"kf_account":"k@a"},"businessid":"7"`))
		Expect(aerr).To(BeNil())
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		Expect(enc.Encode(s)).To(Succeed())
		Expect(b.String()).To(Equal(`{"touser":"OPENID","msgtype":"text","text":{"content":"<a href=\"u\">x</a>"},"customservice":{"kf_account":"k@a"},"businessid":7}` + "\n"))
	})

	It("says the errcode, its errmsg and the detail as an error", func() {
		_, aerr := check(wire.OA, send("text", `"text":{}`))
		Expect(aerr.Error()).To(Equal("errcode 44004 empty content: text.content is empty"))
		var err error = aerr
		Expect(err).To(MatchError(ContainSubstring("44004")))
		Expect((&wire.Error{Code: 12345, Detail: "d"}).Error()).To(Equal("errcode 12345: d"))
	})
})

var _ = Describe("CheckTyping", func() {
	DescribeTable("accepts",
		func(body string, want rules.Typing) {
			t, aerr := rules.CheckTyping([]byte(body))
			Expect(aerr).To(BeNil())
			Expect(*t).To(Equal(want))
		},
		Entry("Typing", typingExamples[0], rules.Typing{ToUser: "OPENID", Command: "Typing"}),
		Entry("CancelTyping", typingExamples[1], rules.Typing{ToUser: "OPENID", Command: "CancelTyping"}),
		Entry("a business typing with an integer businessid", typingExamples[2], rules.Typing{ToUser: "OPENID", Command: "Typing", BusinessID: "1"}),
		Entry("the largest 64-bit businessid, exactly", `{"touser":"OPENID","command":"Typing","businessid":9223372036854775807}`,
			rules.Typing{ToUser: "OPENID", Command: "Typing", BusinessID: "9223372036854775807"}),
		Entry("a string businessid", `{"touser":"OPENID","command":"CancelTyping","businessid":"42"}`,
			rules.Typing{ToUser: "OPENID", Command: "CancelTyping", BusinessID: "42"}),
		Entry("unknown keys", `{"touser":"OPENID","command":"Typing","extra":{"a":[1]}}`, rules.Typing{ToUser: "OPENID", Command: "Typing"}),
	)

	DescribeTable("rejects",
		func(body string, code int, detail string) {
			t, aerr := rules.CheckTyping([]byte(body))
			Expect(t).To(BeNil())
			Expect(aerr).NotTo(BeNil())
			Expect(aerr.Code).To(Equal(code), aerr.Detail)
			Expect(aerr.Detail).To(ContainSubstring(detail))
		},
		Entry("an empty body", ``, 44002, "empty"),
		Entry("invalid JSON", `{"touser":"OPENID",`, 47001, "not valid JSON"),
		Entry("an array", `[]`, 47001, "must be an object"),
		Entry("touser a number", `{"touser":1,"command":"Typing"}`, 47001, "touser must be a string"),
		Entry("command a boolean", `{"touser":"OPENID","command":true}`, 47001, "command must be a string"),
		Entry("businessid a fraction", `{"touser":"OPENID","command":"Typing","businessid":1.0}`, 47001, "businessid must be a 64-bit integer"),
		Entry("businessid beyond 64 bits", `{"touser":"OPENID","command":"Typing","businessid":18446744073709551616}`, 47001, "businessid must be a 64-bit integer"),
		Entry("businessid an object", `{"touser":"OPENID","command":"Typing","businessid":{}}`, 47001, "businessid must be an integer or a string"),
		Entry("a wrong type and no touser", `{"command":5}`, 47001, "command must be a string"),
		Entry("no touser", `{"command":"Typing"}`, 40003, "touser is missing"),
		Entry("touser empty", `{"touser":"","command":"Typing"}`, 40003, "touser is missing"),
		Entry("no touser and a bad command", `{"command":"Type"}`, 40003, "touser is missing"),
		Entry("no command", `{"touser":"OPENID"}`, 45072, "command is missing"),
		Entry("command in lower case", `{"touser":"OPENID","command":"typing"}`, 45072, `command is "typing"; it must be exactly Typing or CancelTyping`),
		Entry("command with a space", `{"touser":"OPENID","command":"Typing "}`, 45072, `"Typing "`),
		Entry("another command", `{"touser":"OPENID","command":"StopTyping"}`, 45072, `"StopTyping"`),
	)
})
