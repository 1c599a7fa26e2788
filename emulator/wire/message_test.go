package wire_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/wire"
)

// goldenMessage is a payload of testdata/message and the Message it holds. Files with encode
// set are byte for byte what the encoder writes; the others are other writers' layouts, read only.
type goldenMessage struct {
	file   string
	encode bool
	msg    wire.Message
}

func oaHeader(to, from string, t int64, msgType string) wire.Message {
	return wire.Message{ToUserName: to, FromUserName: from, CreateTime: t, MsgType: msgType}
}

func with(m wire.Message, f func(*wire.Message)) wire.Message {
	f(&m)
	return m
}

const docMsgID = 1234567890123456

var goldenMessages = []goldenMessage{
	// Protocol §2.2.
	{"text.xml", true, with(oaHeader("toUser", "fromUser", 1348831860, "text"), func(m *wire.Message) {
		m.Content, m.MsgId = "this is a test", docMsgID
	})},
	{"text_msgmenu.xml", true, with(oaHeader("toUser", "fromUser", 1714112446, "text"), func(m *wire.Message) {
		m.Content, m.MsgId, m.BizMsgMenuID = "取消支付", docMsgID, "0"
	})},
	{"image.xml", true, with(oaHeader("toUser", "fromUser", 1348831860, "image"), func(m *wire.Message) {
		m.PicUrl, m.MediaId, m.MsgId = "this is a url", "media_id", docMsgID
	})},
	{"voice.xml", true, with(oaHeader("toUser", "fromUser", 1357290913, "voice"), func(m *wire.Message) {
		m.MediaId, m.Format, m.MsgId = "media_id", "Format", docMsgID
	})},
	{"video.xml", true, with(oaHeader("toUser", "fromUser", 1357290913, "video"), func(m *wire.Message) {
		m.MediaId, m.ThumbMediaId, m.MsgId = "media_id", "thumb_media_id", docMsgID
	})},
	{"shortvideo.xml", true, with(oaHeader("toUser", "fromUser", 1357290913, "shortvideo"), func(m *wire.Message) {
		m.MediaId, m.ThumbMediaId, m.MsgId = "media_id", "thumb_media_id", docMsgID
	})},
	{"location.xml", true, with(oaHeader("toUser", "fromUser", 1351776360, "location"), func(m *wire.Message) {
		m.LocationX, m.LocationY, m.Scale, m.Label, m.MsgId = "23.134521", "113.358803", "20", "位置信息", docMsgID
	})},
	{"link.xml", true, with(oaHeader("toUser", "fromUser", 1351776360, "link"), func(m *wire.Message) {
		m.Title, m.Description, m.Url, m.MsgId = "公众平台官网链接", "公众平台官网链接", "url", docMsgID
	})},

	// Protocol §2.3.
	{"event_subscribe.xml", true, event("subscribe", nil)},
	{"event_subscribe_qrscene.xml", true, event("subscribe", func(m *wire.Message) {
		m.EventKey, m.Ticket = "qrscene_123123", "TICKET"
	})},
	{"event_unsubscribe.xml", true, event("unsubscribe", nil)},
	{"event_SCAN.xml", true, event("SCAN", func(m *wire.Message) { m.EventKey, m.Ticket = "SCENE_VALUE", "TICKET" })},
	{"event_LOCATION.xml", true, event("LOCATION", func(m *wire.Message) {
		m.Latitude, m.Longitude, m.Precision = "23.137466", "113.352425", "119.385040"
	})},
	{"event_CLICK.xml", true, event("CLICK", func(m *wire.Message) { m.EventKey = "EVENTKEY" })},
	{"event_VIEW.xml", true, event("VIEW", func(m *wire.Message) { m.EventKey, m.MenuId = "www.qq.com", "MENUID" })},
	{"event_view_miniprogram.xml", true, event("view_miniprogram", func(m *wire.Message) {
		m.EventKey, m.MenuId = "pages/index/index", "MENUID"
	})},
	{"event_scancode_push.xml", true, menuEvent(1408090502, "scancode_push", func(m *wire.Message) {
		m.ScanCodeInfo = &wire.ScanCodeInfo{ScanType: "qrcode", ScanResult: "1"}
	})},
	{"event_scancode_waitmsg.xml", true, menuEvent(1408090606, "scancode_waitmsg", func(m *wire.Message) {
		m.ScanCodeInfo = &wire.ScanCodeInfo{ScanType: "qrcode", ScanResult: "2"}
	})},
	{"event_pic_sysphoto.xml", true, menuEvent(1408090651, "pic_sysphoto", func(m *wire.Message) {
		m.SendPicsInfo = &wire.SendPicsInfo{Count: 1, PicList: []string{"1b5f7c23b5bf75682a53e7b6d163e185"}}
	})},
	{"event_pic_photo_or_album.xml", true, menuEvent(1408090816, "pic_photo_or_album", func(m *wire.Message) {
		m.SendPicsInfo = &wire.SendPicsInfo{Count: 1, PicList: []string{"5a75aaca956d97be686719218f275c6b"}}
	})},
	{"event_pic_weixin.xml", true, menuEvent(1408090816, "pic_weixin", func(m *wire.Message) {
		m.SendPicsInfo = &wire.SendPicsInfo{Count: 1, PicList: []string{"5a75aaca956d97be686719218f275c6b"}}
	})},
	{"event_location_select.xml", true, menuEvent(1408091189, "location_select", func(m *wire.Message) {
		m.SendLocationInfo = &wire.SendLocationInfo{LocationX: "23", LocationY: "113", Scale: "15", Label: "广州市海珠区客村艺苑路 106号"}
	})},
	{"event_kf_create_session.xml", true, kfEvent("kf_create_session", func(m *wire.Message) { m.KfAccount = "test1@test" })},
	{"event_kf_close_session.xml", true, kfEvent("kf_close_session", func(m *wire.Message) { m.KfAccount = "test1@test" })},
	{"event_kf_switch_session.xml", true, kfEvent("kf_switch_session", func(m *wire.Message) {
		m.FromKfAccount, m.ToKfAccount = "test1@test", "test2@test"
	})},

	// Protocol §2.4: Mini Program pushes, JSON as documented and the XML equivalents.
	{"mp_text.json", true, mpText},
	{"mp_text.xml", true, mpText},
	{"mp_image.json", true, mpImage},
	{"mp_image.xml", true, mpImage},
	{"mp_miniprogrampage.json", true, mpPage},
	{"mp_miniprogrampage.xml", true, mpPage},
	{"mp_event_user_enter_tempsession.json", true, mpEnter},
	{"mp_event_user_enter_tempsession.xml", true, mpEnter},
	{"mp_event_kf_create_session.json", true, kfEvent("kf_create_session", func(m *wire.Message) { m.KfAccount = "test1@test" })},
	{"mp_event_kf_close_session.json", true, kfEvent("kf_close_session", func(m *wire.Message) { m.KfAccount = "test1@test" })},
	{"mp_event_kf_switch_session.json", true, kfEvent("kf_switch_session", func(m *wire.Message) {
		m.FromKfAccount, m.ToKfAccount = "test1@test", "test2@test"
	})},

	// Protocol §8.5 (cloud hosting: a MsgId beyond 2^53) and §8.1 (cloud function: a string MsgId,
	// keys in another order).
	{"cloudrun_text.json", true, with(oaHeader("gh_919b00572d95", "oVneZ57wJnV-ObtCiGv26PRrOz2g", 1651049934, "text"), func(m *wire.Message) {
		m.Content, m.MsgId = "回复文本", 23637352235060880
	})},
	{"cloudfn_text.json", false, with(oaHeader("wx3d289323f5900f8e", "ohl4L0Rnhq7vmmbT_DaNQa4ePaz0", 1555684067, "text"), func(m *wire.Message) {
		m.Content, m.MsgIdText = "测试", "49d72d67b16d115e7935ac386f2f0fa41535298877_1555684067"
	})},

	// Protocol §1.6: safe-mode envelopes, laid out as the protocol shows them.
	{"envelope_safe.xml", false, wire.Message{ToUserName: "gh_97417a04a28d", Encrypt: "...base64..."}},
	{"envelope_safe.json", false, wire.Message{ToUserName: "gh_97417a04a28d", Encrypt: "...base64..."}},
}

var (
	mpText = with(oaHeader("toUser", "fromUser", 1482048670, "text"), func(m *wire.Message) {
		m.Content, m.MsgId = "this is a test", docMsgID
	})
	mpImage = with(oaHeader("toUser", "fromUser", 1482048670, "image"), func(m *wire.Message) {
		m.PicUrl, m.MediaId, m.MsgId = "this is a url", "media_id", docMsgID
	})
	mpPage = with(oaHeader("toUser", "fromUser", 1482048670, "miniprogrampage"), func(m *wire.Message) {
		m.MsgId, m.Title, m.AppId, m.PagePath = docMsgID, "title", "appid", "path"
	})
	mpEnter = with(oaHeader("toUser", "fromUser", 1482048670, "event"), func(m *wire.Message) {
		m.Event, m.SessionFrom = "user_enter_tempsession", "sessionFrom"
	})
)

func event(name string, f func(*wire.Message)) wire.Message {
	m := oaHeader("toUser", "FromUser", 123456789, "event")
	m.Event = name
	if f != nil {
		f(&m)
	}
	return m
}

func menuEvent(t int64, name string, f func(*wire.Message)) wire.Message {
	m := oaHeader("gh_e136c6e50636", "oMgHVjngRipVsoxg6TuX3vz6glDg", t, "event")
	m.Event, m.EventKey = name, "6"
	f(&m)
	return m
}

func kfEvent(name string, f func(*wire.Message)) wire.Message {
	m := oaHeader("touser", "fromuser", 1399197672, "event")
	m.Event = name
	f(&m)
	return m
}

func encode(m *wire.Message, f wire.Format) []byte {
	if f == wire.JSON {
		return m.AppendJSON(nil)
	}
	return m.AppendXML(nil)
}

// sample fills every field of a type with a value of the right shape.
func sample(t wire.InboundType) *wire.Message {
	GinkgoHelper()
	m := &wire.Message{ToUserName: "gh_97417a04a28d", FromUserName: "oUserOpenId", CreateTime: 1714112446, MsgType: t.MsgType, Event: t.Event}
	if t.Event == "" {
		m.MsgId = 23637352235060880
	}
	for _, name := range t.Fields {
		var err error
		switch name {
		case "MsgId":
			continue
		case "Location_X", "Latitude":
			err = m.Set(name, "23.134521")
		case "Location_Y", "Longitude":
			err = m.Set(name, "113.358803")
		case "Scale":
			err = m.Set(name, "20")
		case "Precision":
			err = m.Set(name, "119.385040")
		case "EventKey":
			if t.Event == "subscribe" {
				err = m.Set(name, "qrscene_123123")
			} else {
				err = m.Set(name, "6")
			}
		case "ScanCodeInfo":
			Expect(m.Set("ScanCodeInfo.ScanType", "qrcode")).To(Succeed())
			err = m.Set("ScanCodeInfo.ScanResult", "http://weixin.qq.com/r/x?a=1&b=<2>")
		case "SendPicsInfo":
			err = m.Set("SendPicsInfo.PicList", "1b5f7c23b5bf75682a53e7b6d163e185,5a75aaca956d97be686719218f275c6b")
		case "SendLocationInfo":
			for _, part := range []string{"Location_X", "Location_Y", "Scale", "Label"} {
				Expect(m.Set("SendLocationInfo."+part, "1"+part)).To(Succeed())
			}
			err = m.Set("SendLocationInfo.Poiname", "")
		default:
			err = m.Set(name, name+" 值 <&> ]]> \"quoted\"")
		}
		Expect(err).NotTo(HaveOccurred())
	}
	return m
}

var _ = Describe("Message", func() {
	Describe("golden payloads", func() {
		for _, g := range goldenMessages {
			f := formatOf(g.file)
			It("parses "+g.file, func() {
				m, err := wire.ParseMessage(golden("message/"+g.file), f)
				Expect(err).NotTo(HaveOccurred())
				Expect(*m).To(Equal(g.msg))
			})
			if g.encode {
				It("encodes "+g.file+" byte for byte", func() {
					Expect(string(encode(&g.msg, f))).To(Equal(string(golden("message/" + g.file))))
				})
			}
		}

		It("lists every file of testdata/message", func() {
			listed := map[string]bool{}
			for _, g := range goldenMessages {
				listed[g.file] = true
			}
			entries, err := os.ReadDir(filepath.Join("testdata", "message"))
			Expect(err).NotTo(HaveOccurred())
			for _, e := range entries {
				Expect(listed).To(HaveKey(e.Name()), "testdata/message/%s has no expected Message", e.Name())
			}
		})

		It("covers every inbound type in XML, and the Mini Program ones in JSON", func() {
			has := map[string]bool{}
			for _, g := range goldenMessages {
				t, ok := wire.LookupInbound(g.msg.MsgType, g.msg.Event)
				if ok && g.encode {
					has[t.Name()+" "+string(formatOf(g.file))] = true
				}
			}
			for _, t := range wire.InboundTypes() {
				Expect(has).To(HaveKey(t.Name()+" xml"), "no XML golden for %s", t.Name())
				if t.Receives(wire.MP) {
					Expect(has).To(HaveKey(t.Name()+" json"), "no JSON golden for %s", t.Name())
				}
			}
		})
	})

	Describe("round trip of every inbound type", func() {
		var entries []TableEntry
		for _, t := range wire.InboundTypes() {
			entries = append(entries, Entry(t.Name(), t))
		}
		DescribeTable("XML", func(t wire.InboundType) {
			m := sample(t)
			for _, k := range t.Kinds {
				Expect(m.Check(k)).To(Succeed())
			}
			got, err := wire.ParseMessage(m.AppendXML(nil), wire.XML)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(m))
		}, entries)
		DescribeTable("JSON", func(t wire.InboundType) {
			m := sample(t)
			body := m.AppendJSON(nil)
			Expect(json.Valid(body)).To(BeTrue(), "%s", body)
			got, err := wire.ParseMessage(body, wire.JSON)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(m))
		}, entries)
	})

	Describe("MsgId", func() {
		DescribeTable("is exact in JSON", func(id int64, literal string) {
			m := &wire.Message{MsgType: "text", Content: "x", MsgId: id}
			body := m.AppendJSON(nil)
			Expect(string(body)).To(ContainSubstring(`"MsgId":` + literal + `}`))
			got, err := wire.ParseMessage(body, wire.JSON)
			Expect(err).NotTo(HaveOccurred())
			Expect(got.MsgId).To(Equal(id))
		},
			Entry("beyond 2^53", int64(23637352235060880), "23637352235060880"),
			Entry("2^53+1", int64(9007199254740993), "9007199254740993"),
			Entry("the largest int64", int64(9223372036854775807), "9223372036854775807"),
			Entry("the smallest int64", int64(-9223372036854775808), "-9223372036854775808"),
		)

		It("takes a string of digits as the number", func() {
			m, err := wire.ParseMessage([]byte(`{"MsgType":"text","MsgId":"9223372036854775807"}`), wire.JSON)
			Expect(err).NotTo(HaveOccurred())
			Expect(m.MsgId).To(BeEquivalentTo(9223372036854775807))
			Expect(m.MsgIdText).To(BeEmpty())
		})

		It("keeps a MsgId that is not an integer as text, and writes it back as a string", func() {
			for _, in := range []string{`"49d72d67_1555684067"`, `1.5`, `99999999999999999999`} {
				m, err := wire.ParseMessage([]byte(`{"MsgType":"text","MsgId":`+in+`}`), wire.JSON)
				Expect(err).NotTo(HaveOccurred())
				Expect(m.MsgId).To(BeZero())
				Expect(m.MsgIdText).To(Equal(strings.Trim(in, `"`)))
				Expect(string(m.AppendJSON(nil))).To(HaveSuffix(`"MsgId":"` + m.MsgIdText + `"}`))
			}
			m, err := wire.ParseMessage([]byte(`<xml><MsgId>abc_1</MsgId><MsgId>2</MsgId></xml>`), wire.XML)
			Expect(err).NotTo(HaveOccurred())
			Expect(m.MsgIdText).To(Equal("abc_1"), "the first of two wins")
			Expect(m.Get("MsgId")).To(Equal("abc_1"))
		})
	})

	Describe("AppendXML", func() {
		It("splits ]]> across CDATA sections and keeps carriage returns exact", func() {
			m := &wire.Message{MsgType: "text", Content: "a]]>b]]]>c\r\nd"}
			body := m.AppendXML(nil)
			Expect(string(body)).To(ContainSubstring(`<Content><![CDATA[a]]]]><![CDATA[>b]]]]]><![CDATA[>c]]>&#13;<![CDATA[` + "\nd]]></Content>"))
			got, err := wire.ParseMessage(body, wire.XML)
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Content).To(Equal(m.Content))
		})

		It("writes what XML cannot carry as U+FFFD", func() {
			m := &wire.Message{MsgType: "text", Content: "a\x00b\x1bc\xffd\uFFFEe\tf"}
			got, err := wire.ParseMessage(m.AppendXML(nil), wire.XML)
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Content).To(Equal("a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\tf"))
		})

		It("writes decimal fields bare, escaping what is not a number", func() {
			m := &wire.Message{MsgType: "event", Event: "LOCATION", Latitude: "23.1", Longitude: "a<b&c", Precision: "1"}
			Expect(string(m.AppendXML(nil))).To(ContainSubstring(`<Latitude>23.1</Latitude><Longitude>a&lt;b&amp;c</Longitude><Precision>1</Precision>`))
		})

		It("keeps fields of another type, after the type's own, and Encrypt last", func() {
			m := &wire.Message{ToUserName: "gh", MsgType: "event", Event: "CLICK", EventKey: "k", Content: "stray", Encrypt: "E"}
			Expect(string(m.AppendXML(nil))).To(Equal(`<xml><ToUserName><![CDATA[gh]]></ToUserName><MsgType><![CDATA[event]]></MsgType>` +
				`<Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[k]]></EventKey><Content><![CDATA[stray]]></Content><Encrypt><![CDATA[E]]></Encrypt></xml>`))
		})

		It("writes a compatible-mode message with Encrypt after the plaintext fields", func() {
			m := goldenMessages[0].msg
			m.Encrypt = "ENC"
			Expect(string(m.AppendXML(nil))).To(HaveSuffix(`<MsgId>1234567890123456</MsgId><Encrypt><![CDATA[ENC]]></Encrypt></xml>`))
			Expect(string(m.AppendJSON(nil))).To(HaveSuffix(`"MsgId":1234567890123456,"Encrypt":"ENC"}`))
		})

		It("does not allocate when the buffer has room", func() {
			m := goldenMessages[0].msg
			buf := make([]byte, 0, 1024)
			Expect(testing.AllocsPerRun(100, func() { buf = m.AppendXML(buf[:0]) })).To(BeZero())
			Expect(testing.AllocsPerRun(100, func() { buf = m.AppendJSON(buf[:0]) })).To(BeZero())
		})

		It("appends to what the buffer holds", func() {
			m := goldenMessages[0].msg
			Expect(string(m.AppendXML([]byte("x")))).To(Equal("x" + string(golden("message/text.xml"))))
			Expect(string(mpText.AppendJSON([]byte("[")))).To(Equal("[" + string(golden("message/mp_text.json"))))
		})

		It("writes an empty message as an empty element or object", func() {
			m := &wire.Message{}
			Expect(string(m.AppendXML(nil))).To(Equal("<xml></xml>"))
			Expect(string(m.AppendJSON(nil))).To(Equal("{}"))
		})
	})

	Describe("AppendJSON", func() {
		It("writes valid JSON for any string, without HTML escaping", func() {
			m := &wire.Message{MsgType: "text", Content: "<a href=\"u\">x</a> & \\ \x00\x1f\n\r\t\b\f \xff \u2028 😀"}
			body := m.AppendJSON(nil)
			Expect(string(body)).To(ContainSubstring(`"Content":"<a href=\"u\">x</a> & \\ \u0000\u001f\n\r\t\b\f \ufffd \u2028 😀"`))
			var back struct{ Content string }
			Expect(json.Unmarshal(body, &back)).To(Succeed())
			Expect(back.Content).To(Equal(strings.ToValidUTF8(m.Content, "\uFFFD")))
		})

		It("writes decimal fields as numbers when they are numbers", func() {
			m := &wire.Message{MsgType: "location", LocationX: "23.134521", LocationY: "-1e5", Scale: "020", Label: "l"}
			Expect(string(m.AppendJSON(nil))).To(Equal(`{"MsgType":"location","Location_X":23.134521,"Location_Y":-1e5,"Scale":"020","Label":"l"}`))
		})

		It("writes the nested payloads as objects", func() {
			m := &wire.Message{MsgType: "event", Event: "pic_weixin", EventKey: "6",
				SendPicsInfo: &wire.SendPicsInfo{Count: 2, PicList: []string{"a", "b"}},
				ScanCodeInfo: &wire.ScanCodeInfo{ScanType: "qrcode", ScanResult: "r"}}
			Expect(string(m.AppendJSON(nil))).To(Equal(`{"MsgType":"event","Event":"pic_weixin","EventKey":"6",` +
				`"SendPicsInfo":{"Count":2,"PicList":["a","b"]},"ScanCodeInfo":{"ScanType":"qrcode","ScanResult":"r"}}`))
		})
	})

	Describe("ParseMessage", func() {
		It("reads plain text as well as CDATA, in any order, with unknown elements, comments and layout", func() {
			body := `<?xml version="1.0" encoding="utf-8"?>
<!-- a push as a person might write it -->
<xml>
	<MsgId>  42 </MsgId>
	<Content>1 &lt; 2 &amp; <![CDATA[3 > 2]]></Content>
	<Unknown><Deep>x</Deep></Unknown>
	<MsgType>text</MsgType>
	<CreateTime>
		1714112446
	</CreateTime>
	<FromUserName attr="ignored">oUser</FromUserName>
</xml>
`
			m, err := wire.ParseMessage([]byte(body), wire.XML)
			Expect(err).NotTo(HaveOccurred())
			Expect(*m).To(Equal(wire.Message{FromUserName: "oUser", CreateTime: 1714112446, MsgType: "text", Content: "1 < 2 & 3 > 2", MsgId: 42}))
		})

		It("reads the nested payloads in JSON, pictures as strings or as objects", func() {
			m, err := wire.ParseMessage([]byte(`{"MsgType":"event","Event":"pic_weixin","SendPicsInfo":{"Count":"2","PicList":["a",{"PicMd5Sum":"b"}]},`+
				`"SendLocationInfo":{"Location_X":23,"Poiname":""},"Unknown":{"x":[1,2]}}`), wire.JSON)
			Expect(err).NotTo(HaveOccurred())
			Expect(m.SendPicsInfo).To(Equal(&wire.SendPicsInfo{Count: 2, PicList: []string{"a", "b"}}))
			Expect(m.SendLocationInfo).To(Equal(&wire.SendLocationInfo{LocationX: "23"}))
		})

		It("decodes JSON strings as encoding/json does", func() {
			m, err := wire.ParseMessage([]byte(`{"Content":"\ud83d\ude00 \ud83d\u0041 \u00e9\/ \"q\" `+"\xff"+`"}`), wire.JSON)
			Expect(err).NotTo(HaveOccurred())
			var want struct{ Content string }
			Expect(json.Unmarshal([]byte(`{"Content":"\ud83d\ude00 \ud83d\u0041 \u00e9\/ \"q\" `+"\xff"+`"}`), &want)).To(Succeed())
			Expect(m.Content).To(Equal(want.Content))
		})

		DescribeTable("rejects what it cannot read with a *SyntaxError",
			func(body string, f wire.Format, line int, msg string) {
				_, err := wire.ParseMessage([]byte(body), f)
				var se *wire.SyntaxError
				Expect(errors.As(err, &se)).To(BeTrue(), "got %v", err)
				Expect(se.Format).To(Equal(f))
				Expect(se.Line).To(Equal(line))
				Expect(se.Error()).To(Equal(msg))
			},
			Entry("a mismatched end tag", "<xml>\n<MsgType>text</MsgType>\n<Content>hi</xml>", wire.XML, 3,
				"XML syntax error on line 3: element <Content> closed by </xml>"),
			Entry("not XML at all", "hello", wire.XML, 1, `XML syntax error on line 1: text "hello" before the root element`),
			Entry("an empty body", "", wire.XML, 1, "XML syntax error on line 1: no root element"),
			Entry("an unclosed root", "<xml><Content>hi</Content>", wire.XML, 1, "XML syntax error on line 1: unexpected EOF: <xml> is not closed"),
			Entry("an undefined entity", "<xml><Content>&nbsp;</Content></xml>", wire.XML, 1, "XML syntax error on line 1: invalid character entity &nbsp;"),
			Entry("a CreateTime that is no integer", "<xml>\n<CreateTime>soon</CreateTime></xml>", wire.XML, 2,
				`XML syntax error on line 2: <CreateTime> is "soon", not an integer`),
			Entry("a JSON array", "[1]", wire.JSON, 1, "JSON syntax error on line 1 at byte 0: the body is an array, not an object"),
			Entry("broken JSON", "{\n\"MsgType\":\"text\",}", wire.JSON, 2, "JSON syntax error on line 2 at byte 19: invalid character '}' looking for beginning of object key string"),
			Entry("an empty JSON body", "", wire.JSON, 1, "JSON syntax error on line 1 at byte 0: the body is empty"),
			Entry("a JSON CreateTime that is no integer", `{"CreateTime":1.5}`, wire.JSON, 1, "JSON syntax error on line 1 at byte 14: CreateTime is 1.5, not an integer"),
			Entry("a JSON Content that is an object", `{"Content":{}}`, wire.JSON, 1, "JSON syntax error on line 1 at byte 11: Content is an object, not a string"),
		)
	})
})

var _ = Describe("the fast XML reader", func() {
	It("reads every golden payload without falling back to encoding/xml", func() {
		for _, dir := range []string{"message", "reply"} {
			files, err := filepath.Glob(filepath.Join("testdata", dir, "*.xml"))
			Expect(err).NotTo(HaveOccurred())
			for _, name := range files {
				body, err := os.ReadFile(name)
				Expect(err).NotTo(HaveOccurred())
				fast, ok := wire.ParseXMLFast(body, dir == "reply")
				Expect(ok).To(BeTrue(), name)
				slow, err := wire.ParseXMLSlow(body, dir == "reply")
				Expect(err).NotTo(HaveOccurred())
				Expect(fast).To(Equal(slow), name)
			}
		}
	})

	It("reads declarations, entities, character references, CR LF and self-closing tags", func() {
		body := []byte("\xEF\xBB\xBF<?xml version=\"1.0\" encoding='UTF-8' standalone=\"yes\"?>\r\n<xml >\r\n" +
			"<Content>a&lt;b&gt;c&amp;d&apos;e&quot;f&#65;&#x1F600;\r\ng\rh<![CDATA[&amp;\r\n]]></Content><Label/>" +
			"<MsgType>text</MsgType ></xml>\r\n")
		fast, ok := wire.ParseXMLFast(body, false)
		Expect(ok).To(BeTrue())
		Expect(fast.(*wire.Message).Content).To(Equal("a<b>c&d'e\"fA😀\ng\nh&amp;\n"))
		slow, err := wire.ParseXMLSlow(body, false)
		Expect(err).NotTo(HaveOccurred())
		Expect(fast).To(Equal(slow))
	})

	It("leaves attributes, comments, prefixes and odd declarations to encoding/xml", func() {
		for _, body := range []string{
			`<xml a="1"/>`, `<xml><!-- c --></xml>`, `<x:xml xmlns:x="u"/>`, `<?xml version="1.1"?><xml/>`,
			`<?xml version="1.0" encoding="GBK"?><xml/>`, `<!DOCTYPE xml><xml/>`, `<xml>&nbsp;</xml>`, `<xml>&#0;</xml>`,
			`<xml>]]></xml>`, "<xml>\x01</xml>", `<xml><a></b></xml>`, `<xml/><xml/>`,
		} {
			_, ok := wire.ParseXMLFast([]byte(body), true)
			Expect(ok).To(BeFalse(), body)
		}
	})
})
