package wire_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/wire"
)

var _ = Describe("inbound types", func() {
	It("lists every type of protocol §2, messages first", func() {
		var names []string
		for _, t := range wire.InboundTypes() {
			names = append(names, t.Name())
		}
		Expect(names).To(Equal([]string{
			"text", "image", "voice", "video", "shortvideo", "location", "link", "miniprogrampage",
			"event/subscribe", "event/unsubscribe", "event/SCAN", "event/LOCATION", "event/CLICK", "event/VIEW",
			"event/scancode_push", "event/scancode_waitmsg", "event/pic_sysphoto", "event/pic_photo_or_album",
			"event/pic_weixin", "event/location_select", "event/view_miniprogram",
			"event/kf_create_session", "event/kf_close_session", "event/kf_switch_session",
			"event/user_enter_tempsession",
		}))
	})

	DescribeTable("says which kinds receive a type",
		func(msgType, event string, kinds ...wire.Kind) {
			t, ok := wire.LookupInbound(msgType, event)
			Expect(ok).To(BeTrue())
			Expect(t.Kinds).To(Equal(kinds))
		},
		Entry(nil, "text", "", wire.OA, wire.MP),
		Entry(nil, "image", "", wire.OA, wire.MP),
		Entry(nil, "voice", "", wire.OA),
		Entry(nil, "miniprogrampage", "", wire.MP),
		Entry(nil, "event", "subscribe", wire.OA),
		Entry(nil, "event", "kf_switch_session", wire.OA, wire.MP),
		Entry(nil, "event", "user_enter_tempsession", wire.MP),
	)

	It("gives each type's fields in wire order", func() {
		t, _ := wire.LookupInbound("location", "")
		Expect(t.Fields).To(Equal([]string{"Location_X", "Location_Y", "Scale", "Label", "MsgId"}))
		Expect(t.Required).To(Equal([]string{"Location_X", "Location_Y", "Scale"}))
		t, _ = wire.LookupInbound("text", "")
		Expect(t.Fields).To(Equal([]string{"Content", "MsgId", "MsgDataId", "Idx", "bizmsgmenuid", "BusinessId"}))
		t, _ = wire.LookupInbound("event", "location_select")
		Expect(t.Fields).To(Equal([]string{"EventKey", "SendLocationInfo"}))
	})

	It("matches event names case-sensitively and ignores Event on user messages", func() {
		_, ok := wire.LookupInbound("event", "scan")
		Expect(ok).To(BeFalse())
		_, ok = wire.LookupInbound("event", "SCAN")
		Expect(ok).To(BeTrue())
		t, ok := wire.LookupInbound("text", "whatever")
		Expect(ok).To(BeTrue())
		Expect(t.Name()).To(Equal("text"))
		_, ok = wire.LookupInbound("event", "")
		Expect(ok).To(BeFalse())
	})

	It("hands out copies", func() {
		a := wire.InboundTypes()
		a[0].Fields[0] = "changed"
		a[0].Kinds[0] = "changed"
		b := wire.InboundTypes()
		Expect(b[0].Fields[0]).To(Equal("Content"))
		Expect(b[0].Kinds[0]).To(Equal(wire.OA))
	})
})

var _ = Describe("Message.Set and Get", func() {
	var m *wire.Message
	BeforeEach(func() { m = &wire.Message{} })

	It("sets fields by wire name", func() {
		Expect(m.Set("Content", "hi")).To(Succeed())
		Expect(m.Set("Location_X", "23.134521")).To(Succeed())
		Expect(m.Set("bizmsgmenuid", "101")).To(Succeed())
		Expect(m.Set("MsgId", "9223372036854775807")).To(Succeed())
		Expect(m.Set("CreateTime", "1714112446")).To(Succeed())
		Expect(m.Set("ScanCodeInfo.ScanType", "qrcode")).To(Succeed())
		Expect(m.Set("SendPicsInfo.PicList", "a,b")).To(Succeed())
		Expect(m.Set("SendLocationInfo.Poiname", "")).To(Succeed())
		Expect(*m).To(Equal(wire.Message{
			Content: "hi", LocationX: "23.134521", BizMsgMenuID: "101", MsgId: 9223372036854775807, CreateTime: 1714112446,
			ScanCodeInfo:     &wire.ScanCodeInfo{ScanType: "qrcode"},
			SendPicsInfo:     &wire.SendPicsInfo{Count: 2, PicList: []string{"a", "b"}},
			SendLocationInfo: &wire.SendLocationInfo{},
		}))
		for name, want := range map[string]string{
			"Content": "hi", "Location_X": "23.134521", "bizmsgmenuid": "101", "MsgId": "9223372036854775807",
			"CreateTime": "1714112446", "ScanCodeInfo.ScanType": "qrcode", "SendPicsInfo.PicList": "a,b",
			"SendPicsInfo.Count": "2", "SendLocationInfo.Poiname": "", "Latitude": "", "Nope": "",
		} {
			Expect(m.Get(name)).To(Equal(want), name)
		}
	})

	It("clears a field with an empty value", func() {
		m.Content, m.MsgId = "hi", 5
		Expect(m.Set("Content", "")).To(Succeed())
		Expect(m.Set("MsgId", "")).To(Succeed())
		Expect(*m).To(BeZero())
	})

	DescribeTable("names the field in its errors",
		func(name, value, msg string) {
			Expect(m.Set(name, value)).To(MatchError(msg))
		},
		Entry(nil, "content", "x", `unknown field "content"; did you mean "Content"?`),
		Entry(nil, "BizMsgMenuID", "x", `unknown field "BizMsgMenuID"; did you mean "bizmsgmenuid"?`),
		Entry(nil, "scancodeinfo.scantype", "x", `unknown field "scancodeinfo.scantype"; did you mean "ScanCodeInfo.ScanType"?`),
		Entry(nil, "Colour", "x", `unknown field "Colour" (wire names are case-sensitive, e.g. Content, Location_X, bizmsgmenuid, ScanCodeInfo.ScanType)`),
		Entry(nil, "SendPicsInfo", "x", `SendPicsInfo has parts; set SendPicsInfo.Count, SendPicsInfo.PicList`),
		Entry(nil, "MsgId", "12a", `MsgId "12a" is not a 64-bit integer`),
		Entry(nil, "MsgId", "9223372036854775808", `MsgId "9223372036854775808" is not a 64-bit integer`),
		Entry(nil, "CreateTime", "now", `CreateTime "now" is not an integer (unix seconds)`),
		Entry(nil, "Location_X", "north", `Location_X "north" is not a decimal number`),
		Entry(nil, "Precision", "1.", `Precision "1." is not a decimal number`),
		Entry(nil, "SendPicsInfo.Count", "-1", `SendPicsInfo.Count "-1" is not a count`),
	)
})

var _ = Describe("Message.Check", func() {
	valid := func(t wire.InboundType) *wire.Message { return sample(t) }

	It("accepts a complete message of every type, for each kind that receives it", func() {
		for _, t := range wire.InboundTypes() {
			for _, k := range t.Kinds {
				Expect(valid(t).Check(k)).To(Succeed(), t.Name())
			}
		}
	})

	It("accepts the golden payloads", func() {
		for _, g := range goldenMessages {
			t, ok := wire.LookupInbound(g.msg.MsgType, g.msg.Event)
			if !ok {
				continue
			}
			Expect(g.msg.Check(t.Kinds[0])).To(Succeed(), g.file)
		}
	})

	DescribeTable("says what is wrong",
		func(m wire.Message, kind wire.Kind, msg string) {
			Expect(m.Check(kind)).To(MatchError(msg))
		},
		Entry("no MsgType", wire.Message{}, wire.OA, "MsgType is missing"),
		Entry("no Event", wire.Message{MsgType: "event"}, wire.OA, "an event needs Event (subscribe, CLICK, …)"),
		Entry("unknown MsgType", wire.Message{MsgType: "sticker"}, wire.OA, `unknown MsgType "sticker"`),
		Entry("unknown event", wire.Message{MsgType: "event", Event: "click"}, wire.OA,
			`unknown event "click" (events are case-sensitive: subscribe, SCAN, CLICK, kf_create_session, …)`),
		Entry("an OA type to an MP", wire.Message{MsgType: "voice", MediaId: "m", Format: "amr"}, wire.MP,
			"a Mini Program does not receive voice pushes (only Official Accounts do)"),
		Entry("an MP type to an OA", wire.Message{MsgType: "event", Event: "user_enter_tempsession"}, wire.OA,
			"an Official Account does not receive event/user_enter_tempsession pushes (only Mini Programs do)"),
		Entry("text without Content", wire.Message{MsgType: "text"}, wire.OA, "text needs Content"),
		Entry("location without Location_X", wire.Message{MsgType: "location", LocationY: "1", Scale: "2"}, wire.OA, "location needs Location_X"),
		Entry("SCAN without anything", wire.Message{MsgType: "event", Event: "SCAN"}, wire.OA, "event/SCAN needs EventKey, Ticket"),
		Entry("a field of another type", wire.Message{MsgType: "event", Event: "CLICK", EventKey: "k", Content: "x"}, wire.OA,
			"Content is not a field of event/CLICK"),
		Entry("an event with a MsgId", wire.Message{MsgType: "event", Event: "unsubscribe", MsgId: 1}, wire.OA,
			"MsgId is not a field of event/unsubscribe"),
		Entry("a coordinate that is no number", wire.Message{MsgType: "event", Event: "LOCATION", Latitude: "n", Longitude: "1", Precision: "1"}, wire.OA,
			`Latitude "n" is not a decimal number`),
		Entry("a QR subscribe without Ticket", wire.Message{MsgType: "event", Event: "subscribe", EventKey: "qrscene_1"}, wire.OA,
			`a subscribe from a QR code (EventKey "qrscene_1") needs its Ticket`),
		Entry("a subscribe EventKey without qrscene_", wire.Message{MsgType: "event", Event: "subscribe", EventKey: "1", Ticket: "T"}, wire.OA,
			`EventKey of a subscribe is qrscene_ followed by the QR scene, not "1"`),
		Entry("a scancode without ScanType", wire.Message{MsgType: "event", Event: "scancode_push", EventKey: "6", ScanCodeInfo: &wire.ScanCodeInfo{}}, wire.OA,
			"ScanCodeInfo.ScanType is missing (e.g. qrcode, barcode)"),
		Entry("a pic event whose Count is off", wire.Message{MsgType: "event", Event: "pic_weixin", EventKey: "6",
			SendPicsInfo: &wire.SendPicsInfo{Count: 2, PicList: []string{"a"}}}, wire.OA,
			"SendPicsInfo.Count is 2 but SendPicsInfo.PicList lists 1"),
		Entry("a location_select without coordinates", wire.Message{MsgType: "event", Event: "location_select", EventKey: "6",
			SendLocationInfo: &wire.SendLocationInfo{Scale: "15"}}, wire.OA,
			"location_select needs SendLocationInfo.Location_X, SendLocationInfo.Location_Y"),
	)
})
