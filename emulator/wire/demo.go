package wire

import "slices"

// DemoField is one field of a demo message: its wire name and value.
type DemoField struct {
	Name, Value string
}

// demoFields are the values that fill the fields a type needs when whoever sends it leaves them
// out — a scenario's `alice: {image: {}}`, `wxemu send image`, emutest.Image() — so that a
// message written with only what matters to the test is a complete push. Each type's fields are
// in the order they are set; a field that is written even when empty (ThumbUrl, Poiname) is
// listed with "". Text has none: its content is never a default.
var demoFields = map[typeKey][]DemoField{
	{"image", ""}:      {{"PicUrl", "http://mmbiz.qpic.cn/mmbiz_jpg/wxemu-demo/0"}, {"MediaId", "wxemu_demo_image_media_id"}},
	{"voice", ""}:      {{"MediaId", "wxemu_demo_voice_media_id"}, {"Format", "amr"}},
	{"video", ""}:      {{"MediaId", "wxemu_demo_video_media_id"}, {"ThumbMediaId", "wxemu_demo_thumb_media_id"}},
	{"shortvideo", ""}: {{"MediaId", "wxemu_demo_video_media_id"}, {"ThumbMediaId", "wxemu_demo_thumb_media_id"}},
	{"location", ""}:   {{"Location_X", "23.134521"}, {"Location_Y", "113.358803"}, {"Scale", "20"}, {"Label", "位置信息"}},
	{"link", ""}:       {{"Title", "wxemu"}, {"Description", "a link from the user"}, {"Url", "https://example.com/"}},
	// The AppId is the demo Mini Program's (config.DemoMPAppID; a spec checks they agree): the
	// card a user shares in a Mini Program's chat is usually one of its own pages.
	{"miniprogrampage", ""}: {{"Title", "wxemu demo page"}, {"AppId", "wx7a6b5c4d3e2f1a09"}, {"PagePath", "pages/index/index"},
		{"ThumbUrl", ""}, {"ThumbMediaId", ""}},

	{"event", "SCAN"}:               {{"EventKey", "wxemu_scene"}, {"Ticket", "gQwxemu_demo_ticket"}},
	{"event", "LOCATION"}:           {{"Latitude", "23.137466"}, {"Longitude", "113.352425"}, {"Precision", "119.385040"}},
	{"event", "CLICK"}:              {{"EventKey", "wxemu_click"}},
	{"event", "VIEW"}:               {{"EventKey", "https://example.com/"}},
	{"event", "view_miniprogram"}:   {{"EventKey", "pages/index/index"}},
	{"event", "scancode_push"}:      {{"EventKey", "wxemu_scan"}, {"ScanCodeInfo.ScanType", "qrcode"}, {"ScanCodeInfo.ScanResult", "wxemu"}},
	{"event", "scancode_waitmsg"}:   {{"EventKey", "wxemu_scan"}, {"ScanCodeInfo.ScanType", "qrcode"}, {"ScanCodeInfo.ScanResult", "wxemu"}},
	{"event", "pic_sysphoto"}:       {{"EventKey", "wxemu_pic"}, {"SendPicsInfo.PicList", "1b5f7c23b5bf75682a53e7b6d163e185"}},
	{"event", "pic_photo_or_album"}: {{"EventKey", "wxemu_pic"}, {"SendPicsInfo.PicList", "1b5f7c23b5bf75682a53e7b6d163e185"}},
	{"event", "pic_weixin"}:         {{"EventKey", "wxemu_pic"}, {"SendPicsInfo.PicList", "1b5f7c23b5bf75682a53e7b6d163e185"}},
	{"event", "location_select"}: {{"EventKey", "wxemu_location"}, {"SendLocationInfo.Location_X", "23"}, {"SendLocationInfo.Location_Y", "113"},
		{"SendLocationInfo.Scale", "15"}, {"SendLocationInfo.Label", "广州市海珠区"}, {"SendLocationInfo.Poiname", ""}},
	{"event", "kf_create_session"}: {{"KfAccount", "kf1@wxemu_demo"}},
	{"event", "kf_close_session"}:  {{"KfAccount", "kf1@wxemu_demo"}},
	{"event", "kf_switch_session"}: {{"FromKfAccount", "kf1@wxemu_demo"}, {"ToKfAccount", "kf2@wxemu_demo"}},
}

// DemoFields lists the demo values of a type's fields, in the order to set them: msgType with
// event "" for a user message, "event" and the event's name as WeChat spells it for an event.
// It is nil for a type without demo values (text, subscribe, …) and for a pair that is no type.
// The result is the caller's to keep.
func DemoFields(msgType, event string) []DemoField {
	return slices.Clone(demoFields[typeKey{msgType, event}])
}

// Demo is a message of the type (see DemoFields) with its demo values set: every field a push of
// it needs except for text's Content and the header, which the sender fills in. For example
// Demo("image", "") is an image with a demo PicUrl and MediaId, and Demo("event", "CLICK") a
// click on the menu key wxemu_click.
func Demo(msgType, event string) Message {
	m := Message{MsgType: msgType, Event: event}
	for _, f := range demoFields[typeKey{msgType, event}] {
		if err := m.Set(f.Name, f.Value); err != nil {
			// The table is checked against the types by a spec; this is a bug in it.
			panic("wire: demo " + msgType + "/" + event + ": " + err.Error())
		}
	}
	return m
}
