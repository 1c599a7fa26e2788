package emutest

import (
	"fmt"
	"strconv"

	"github.com/wxemu/wxemu/emulator/textenc"
	"github.com/wxemu/wxemu/emulator/wire"
)

// The builders make the messages and events of protocol §2 with the demo values of wire.Demo in
// the fields a spec rarely cares about; the platform fills in the header (ToUserName,
// FromUserName, CreateTime, MsgId). Field sets or overrides any field by its wire name.

// Text is a text message.
func Text(content string) wire.Message { return wire.Message{MsgType: "text", Content: content} }

// Image is an image message (Official Account and Mini Program).
func Image() wire.Message { return wire.Demo("image", "") }

// Voice is a voice message (Official Account).
func Voice() wire.Message { return wire.Demo("voice", "") }

// Video is a video message (Official Account).
func Video() wire.Message { return wire.Demo("video", "") }

// Location is a location the user shares in the chat (Official Account), e.g.
// Location("23.134521", "113.358803"). It is a message, and opens a window; the periodic
// location report is ReportLocation.
func Location(lat, lng string) wire.Message {
	m := wire.Demo("location", "")
	m.LocationX, m.LocationY = lat, lng
	return m
}

// Link is a link the user shares (Official Account); its description is its title.
func Link(title, url string) wire.Message {
	m := wire.Demo("link", "")
	m.Title, m.Description, m.Url = title, title, url
	return m
}

// MiniProgramPage is a Mini Program card the user sends in the chat (Mini Program), e.g.
// MiniProgramPage("订单详情", "pages/order/index").
func MiniProgramPage(title, path string) wire.Message {
	m := wire.Demo("miniprogrampage", "")
	m.Title, m.PagePath = title, path
	return m
}

// Field sets one field of a message by its wire name.
type Field struct {
	Name, Value string
}

// Set is a Field: Set("Ticket", "gQH47joAAAAAAAAAASxodHRw…"), Set("ScanCodeInfo.ScanType", "qrcode").
func Set(name, value string) Field { return Field{Name: name, Value: value} }

// Key is the EventKey of an event.
func Key(v string) Field { return Field{Name: "EventKey", Value: v} }

// Event is an event by its name as WeChat spells it ("CLICK", "subscribe", "user_enter_tempsession")
// with its fields. A field name wire does not know panics, as regexp.MustCompile does on a bad
// pattern: it is a typo in the spec, and Ginkgo reports it where it was made.
func Event(name string, fields ...Field) wire.Message {
	m := wire.Message{MsgType: "event", Event: name}
	return With(m, fields...)
}

// demoEvent is the event with its demo values (wire.Demo) and fields set over them.
func demoEvent(name string, fields ...Field) wire.Message {
	return With(wire.Demo("event", name), fields...)
}

// With returns m with fields set, e.g. With(Text("1"), Set("bizmsgmenuid", "101")) for a tap on
// a msgmenu option. It panics on a field name wire does not know (see Event).
func With(m wire.Message, fields ...Field) wire.Message {
	for _, f := range fields {
		if err := m.Set(f.Name, f.Value); err != nil {
			panic(fmt.Sprintf("emutest: %s %s: %v", DescribeMessage(&m), f.Name, err))
		}
	}
	return m
}

// Click is a tap on a click-type menu item (a window of 3 sends in 1 minute).
func Click(key string) wire.Message { return demoEvent("CLICK", Key(key)) }

// Subscribe is a follow (Official Account); a window of 3 sends in 1 minute.
func Subscribe() wire.Message { return Event("subscribe") }

// Unsubscribe is an unfollow: from then on every send to the user gets 45015.
func Unsubscribe() wire.Message { return Event("unsubscribe") }

// Scan is a follower scanning a parametric QR code with scene value scene.
func Scan(scene string) wire.Message { return demoEvent("SCAN", Key(scene)) }

// ReportLocation is the location report an Official Account with location reporting gets when a
// user enters the chat. It opens no window: a bot that answers it with a customer-service
// message needs an earlier one.
func ReportLocation(lat, lng string) wire.Message {
	return demoEvent("LOCATION", Set("Latitude", lat), Set("Longitude", lng))
}

// EnterTempSession is a Mini Program user opening the customer-service chat from a button whose
// session-from is from (a window of 2 sends in 1 minute).
func EnterTempSession(from string) wire.Message {
	return wire.Message{MsgType: "event", Event: "user_enter_tempsession", SessionFrom: from}
}

// DescribeMessage is a message in a few words: `text "hi"`, `event CLICK V1001`, `image`.
func DescribeMessage(m *wire.Message) string {
	switch {
	case m.MsgType == "text":
		return "text " + strconv.Quote(textenc.Clip(m.Content, 60))
	case m.IsEvent():
		s := "event " + m.Event
		if m.EventKey != "" {
			s += " " + m.EventKey
		}
		if m.KfAccount != "" {
			s += " " + m.KfAccount
		}
		if m.FromKfAccount != "" || m.ToKfAccount != "" {
			s += " " + m.FromKfAccount + " → " + m.ToKfAccount
		}
		return s
	case m.MsgType == "location":
		return fmt.Sprintf("location %s,%s", m.LocationX, m.LocationY)
	case m.MsgType == "link" || m.MsgType == "miniprogrampage":
		return fmt.Sprintf("%s %q", m.MsgType, textenc.Clip(m.Title, 40))
	case m.MsgType == "":
		return "a message without MsgType"
	}
	return m.MsgType
}
