package wire

import (
	"fmt"
	"strings"
)

// InboundType describes one inbound message or event type (protocol §2).
type InboundType struct {
	MsgType string
	Event   string   // empty for user messages
	Kinds   []Kind   // the app kinds WeChat pushes it to
	Fields  []string // wire names of its own fields, in wire order, beyond the header (and Event)
	// Required lists the Fields a push of this type cannot do without. MsgId is not among them:
	// it is the sender's to assign, like the header.
	Required []string
}

// Name is the type as a person writes it: "text", "event/subscribe".
func (t InboundType) Name() string {
	if t.Event == "" {
		return t.MsgType
	}
	return t.MsgType + "/" + t.Event
}

// Receives reports whether WeChat pushes the type to an app of kind k.
func (t InboundType) Receives(k Kind) bool {
	for _, x := range t.Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// inbound is the internal form of an InboundType.
type inbound struct {
	msgType, event string
	kinds          []Kind
	fields         []field // wire order, Event excluded (it follows MsgType in every event)
	// always are fields written even when empty, as WeChat does (protocol §2.2–§2.4 examples:
	// a miniprogrampage carries "ThumbUrl":"" and "ThumbMediaId":"").
	always   uint64
	own      uint64 // the fields as a set, filled in at init
	required []field
	check    func(m *Message) error // type-specific rules beyond presence, nil if none
}

func (t *inbound) public() InboundType {
	out := InboundType{MsgType: t.msgType, Event: t.event, Kinds: append([]Kind(nil), t.kinds...)}
	for _, f := range t.fields {
		out.Fields = append(out.Fields, fields[f].name)
	}
	for _, f := range t.required {
		out.Required = append(out.Required, fields[f].name)
	}
	return out
}

var (
	oaOnly = []Kind{OA}
	mpOnly = []Kind{MP}
	both   = []Kind{OA, MP}
)

func fieldSet(fs ...field) uint64 {
	var b uint64
	for _, f := range fs {
		b |= f.bit()
	}
	return b
}

// inboundTypes is every inbound type of protocol §2, messages first. Field order follows the
// §2 tables and examples. text and image serve both kinds: the Mini Program pushes use the same
// names (§2.4), and BusinessId (a kf sub-merchant, SKIT's MP sample) follows the MP ones.
var inboundTypes = []*inbound{
	{msgType: "text", kinds: both,
		fields:   []field{fContent, fMsgId, fMsgDataId, fIdx, fBizMsgMenuID, fBusinessId},
		required: []field{fContent}},
	{msgType: "image", kinds: both,
		fields:   []field{fPicUrl, fMediaId, fMsgId, fMsgDataId, fIdx, fBusinessId},
		required: []field{fPicUrl, fMediaId}},
	{msgType: "voice", kinds: oaOnly,
		fields:   []field{fMediaId, fFormat, fMsgId, fMediaId16K, fRecognition},
		required: []field{fMediaId, fFormat}},
	{msgType: "video", kinds: oaOnly,
		fields:   []field{fMediaId, fThumbMediaId, fMsgId},
		required: []field{fMediaId, fThumbMediaId}},
	{msgType: "shortvideo", kinds: oaOnly,
		fields:   []field{fMediaId, fThumbMediaId, fMsgId},
		required: []field{fMediaId, fThumbMediaId}},
	{msgType: "location", kinds: oaOnly,
		fields: []field{fLocationX, fLocationY, fScale, fLabel, fMsgId},
		// A place without a name still comes with its <Label>.
		always:   fieldSet(fLabel),
		required: []field{fLocationX, fLocationY, fScale}},
	{msgType: "link", kinds: oaOnly,
		fields:   []field{fTitle, fDescription, fUrl, fMsgId},
		required: []field{fTitle, fDescription, fUrl}},
	{msgType: "miniprogrampage", kinds: mpOnly,
		fields:   []field{fMsgId, fTitle, fAppId, fPagePath, fThumbUrl, fThumbMediaId, fBusinessId},
		always:   fieldSet(fThumbUrl, fThumbMediaId),
		required: []field{fTitle, fAppId, fPagePath}},

	{msgType: "event", event: "subscribe", kinds: oaOnly,
		fields: []field{fEventKey, fTicket}, check: checkSubscribe},
	{msgType: "event", event: "unsubscribe", kinds: oaOnly},
	{msgType: "event", event: "SCAN", kinds: oaOnly,
		fields: []field{fEventKey, fTicket}, required: []field{fEventKey, fTicket}},
	{msgType: "event", event: "LOCATION", kinds: oaOnly,
		fields: []field{fLatitude, fLongitude, fPrecision}, required: []field{fLatitude, fLongitude, fPrecision}},
	{msgType: "event", event: "CLICK", kinds: oaOnly,
		fields: []field{fEventKey}, required: []field{fEventKey}},
	{msgType: "event", event: "VIEW", kinds: oaOnly,
		fields: []field{fEventKey, fMenuId}, required: []field{fEventKey}},
	{msgType: "event", event: "scancode_push", kinds: oaOnly,
		fields: []field{fEventKey, fScanCodeInfo}, required: []field{fEventKey, fScanCodeInfo}, check: checkScanCode},
	{msgType: "event", event: "scancode_waitmsg", kinds: oaOnly,
		fields: []field{fEventKey, fScanCodeInfo}, required: []field{fEventKey, fScanCodeInfo}, check: checkScanCode},
	{msgType: "event", event: "pic_sysphoto", kinds: oaOnly,
		fields: []field{fEventKey, fSendPicsInfo}, required: []field{fEventKey, fSendPicsInfo}, check: checkPics},
	{msgType: "event", event: "pic_photo_or_album", kinds: oaOnly,
		fields: []field{fEventKey, fSendPicsInfo}, required: []field{fEventKey, fSendPicsInfo}, check: checkPics},
	{msgType: "event", event: "pic_weixin", kinds: oaOnly,
		fields: []field{fEventKey, fSendPicsInfo}, required: []field{fEventKey, fSendPicsInfo}, check: checkPics},
	{msgType: "event", event: "location_select", kinds: oaOnly,
		fields: []field{fEventKey, fSendLocationInfo}, required: []field{fEventKey, fSendLocationInfo}, check: checkLocationSelect},
	{msgType: "event", event: "view_miniprogram", kinds: oaOnly,
		fields: []field{fEventKey, fMenuId}, required: []field{fEventKey}},
	{msgType: "event", event: "kf_create_session", kinds: both,
		fields: []field{fKfAccount}, required: []field{fKfAccount}},
	{msgType: "event", event: "kf_close_session", kinds: both,
		fields: []field{fKfAccount}, required: []field{fKfAccount}},
	{msgType: "event", event: "kf_switch_session", kinds: both,
		fields: []field{fFromKfAccount, fToKfAccount}, required: []field{fFromKfAccount, fToKfAccount}},
	{msgType: "event", event: "user_enter_tempsession", kinds: mpOnly,
		// SessionFrom is the button's session-from, and is pushed even when that is empty.
		fields: []field{fSessionFrom, fBusinessId}, always: fieldSet(fSessionFrom)},
}

type typeKey struct{ msgType, event string }

var inboundByKey = func() map[typeKey]*inbound {
	m := make(map[typeKey]*inbound, len(inboundTypes))
	for _, t := range inboundTypes {
		t.own = fieldSet(t.fields...)
		m[typeKey{t.msgType, t.event}] = t
	}
	return m
}()

// lookup finds a type; the event counts only for MsgType "event".
func lookup(msgType, event string) *inbound {
	if msgType != "event" {
		event = ""
	}
	return inboundByKey[typeKey{msgType, event}]
}

// Has reports whether the type has the wire field name, listed whole or through its parent
// element (SendLocationInfo for SendLocationInfo.Label).
func (t InboundType) Has(name string) bool {
	parent, _, nested := strings.Cut(name, ".")
	for _, f := range t.Fields {
		if f == name || (nested && f == parent) {
			return true
		}
	}
	return false
}

// EventNames lists every event name, in the order of InboundTypes.
func EventNames() []string {
	var out []string
	for _, t := range InboundTypes() {
		if t.Event != "" {
			out = append(out, t.Event)
		}
	}
	return out
}

// MsgTypes lists every inbound MsgType once, in the order of InboundTypes.
func MsgTypes() []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range InboundTypes() {
		if !seen[t.MsgType] {
			seen[t.MsgType] = true
			out = append(out, t.MsgType)
		}
	}
	return out
}

// InboundTypes lists every inbound type, messages first. The result is the caller's to keep.
func InboundTypes() []InboundType {
	out := make([]InboundType, len(inboundTypes))
	for i, t := range inboundTypes {
		out[i] = t.public()
	}
	return out
}

// LookupInbound finds the type of a message; event names match case-sensitively as WeChat
// spells them (subscribe, SCAN, CLICK, …). The event is ignored unless msgType is "event".
func LookupInbound(msgType, event string) (InboundType, bool) {
	t := lookup(msgType, event)
	if t == nil {
		return InboundType{}, false
	}
	return t.public(), true
}

// kindNames are a kind's name for a person, singular and plural.
func kindNames(k Kind) (string, string) {
	switch k {
	case OA:
		return "an Official Account", "Official Accounts"
	case MP:
		return "a Mini Program", "Mini Programs"
	}
	return fmt.Sprintf("an app of kind %q", string(k)), fmt.Sprintf("apps of kind %q", string(k))
}

// Check reports whether m is a complete push of its type for an app of the given kind: a type
// that kind receives, every field the type needs, numbers where numbers go, and no field of
// another type. The header (ToUserName, FromUserName, CreateTime) and MsgId are not checked,
// because the sender fills them in. Errors name the fields, so a person can fix the message.
func (m *Message) Check(kind Kind) error {
	if m.MsgType == "" {
		return fmt.Errorf("MsgType is missing")
	}
	if m.MsgType == "event" && m.Event == "" {
		return fmt.Errorf("an event needs Event (subscribe, CLICK, …)")
	}
	t := lookup(m.MsgType, m.Event)
	if t == nil {
		if m.MsgType == "event" {
			return fmt.Errorf("unknown event %q (events are case-sensitive: subscribe, SCAN, CLICK, kf_create_session, …)", m.Event)
		}
		return fmt.Errorf("unknown MsgType %q", m.MsgType)
	}
	// Only the name and the kinds are read: no copy of the type, which every push would pay.
	pub := InboundType{MsgType: t.msgType, Event: t.event, Kinds: t.kinds}
	name := pub.Name()
	if !pub.Receives(kind) {
		var who []string
		for _, k := range t.kinds {
			_, plural := kindNames(k)
			who = append(who, plural)
		}
		one, _ := kindNames(kind)
		return fmt.Errorf("%s does not receive %s pushes (only %s do)", one, name, strings.Join(who, " and "))
	}
	var missing []string
	for _, f := range t.required {
		if !m.has(f) {
			missing = append(missing, fields[f].name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s needs %s", name, strings.Join(missing, ", "))
	}
	own := t.own | fieldSet(fToUserName, fFromUserName, fCreateTime, fMsgType, fEncrypt)
	if t.msgType == "event" {
		own |= fEvent.bit()
	} else {
		own |= fMsgId.bit()
	}
	var stray []string
	for f := field(0); f < nFields; f++ {
		if own&f.bit() == 0 && m.has(f) {
			stray = append(stray, fields[f].name)
		}
	}
	if len(stray) > 0 {
		if len(stray) == 1 {
			return fmt.Errorf("%s is not a field of %s", stray[0], name)
		}
		return fmt.Errorf("%s are not fields of %s", strings.Join(stray, ", "), name)
	}
	for _, f := range t.fields {
		if fields[f].kind == kDecimal {
			if v := *m.str(f); v != "" && !isDecimal(v) {
				return fmt.Errorf("%s %q is not a decimal number", fields[f].name, v)
			}
		}
	}
	if t.check != nil {
		return t.check(m)
	}
	return nil
}

func checkSubscribe(m *Message) error {
	switch {
	case m.EventKey == "" && m.Ticket != "":
		return fmt.Errorf("a subscribe with a Ticket comes from a QR code and needs EventKey qrscene_<scene>")
	case m.EventKey != "" && !strings.HasPrefix(m.EventKey, "qrscene_"):
		return fmt.Errorf("EventKey of a subscribe is qrscene_ followed by the QR scene, not %q", m.EventKey)
	case m.EventKey != "" && m.Ticket == "":
		return fmt.Errorf("a subscribe from a QR code (EventKey %q) needs its Ticket", m.EventKey)
	}
	return nil
}

func checkScanCode(m *Message) error {
	if m.ScanCodeInfo.ScanType == "" {
		return fmt.Errorf("ScanCodeInfo.ScanType is missing (e.g. qrcode, barcode)")
	}
	return nil
}

func checkPics(m *Message) error {
	p := m.SendPicsInfo
	if len(p.PicList) == 0 {
		return fmt.Errorf("SendPicsInfo.PicList is empty; a pic_* event carries at least one PicMd5Sum")
	}
	if p.Count != len(p.PicList) {
		return fmt.Errorf("SendPicsInfo.Count is %d but SendPicsInfo.PicList lists %d", p.Count, len(p.PicList))
	}
	return nil
}

func checkLocationSelect(m *Message) error {
	l := m.SendLocationInfo
	var missing []string
	for _, n := range []string{"Location_X", "Location_Y", "Scale"} {
		if *l.str(n) == "" {
			missing = append(missing, "SendLocationInfo."+n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("location_select needs %s", strings.Join(missing, ", "))
	}
	return nil
}
