package scenario

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wxemu/wxemu/emulator/textenc"
	"github.com/wxemu/wxemu/emulator/wire"
)

// Message is what a user sends: a message or an event, with its fields by wire name. Values
// may be templates, expanded when the step runs.
type Message struct {
	MsgType string
	Event   string
	Fields  []Field // in the order written, demo values for required fields first
}

// Field is one wire field of a message and its value (a template).
type Field struct {
	Name  string // wire name: Content, Location_X, ScanCodeInfo.ScanType, …
	Value string
}

// Build makes the wire message, expanding each value.
func (m *Message) Build(expandFn func(string) (string, error)) (wire.Message, error) {
	w := wire.Message{MsgType: m.MsgType, Event: m.Event}
	for _, f := range m.Fields {
		v := f.Value
		if expandFn != nil {
			var err error
			if v, err = expandFn(v); err != nil {
				return wire.Message{}, err
			}
		}
		if err := w.Set(f.Name, v); err != nil {
			return wire.Message{}, fmt.Errorf("%s: %w", f.Name, err)
		}
	}
	return w, nil
}

// Describe is the message in a few words: `text "hi"`, `event CLICK V1001`, `image`.
func (m *Message) Describe() string {
	get := func(name string) string {
		for i := len(m.Fields) - 1; i >= 0; i-- {
			if m.Fields[i].Name == name {
				return m.Fields[i].Value
			}
		}
		return ""
	}
	switch m.MsgType {
	case "text":
		s := fmt.Sprintf("text %q", textenc.Clip(get("Content"), 60))
		if id := get("bizmsgmenuid"); id != "" {
			s += " (msgmenu " + id + ")"
		}
		return s
	case "event":
		s := "event " + m.Event
		if k := get("EventKey"); k != "" {
			s += " " + k
		}
		return s
	case "location":
		return fmt.Sprintf("location %s,%s", get("Location_X"), get("Location_Y"))
	case "link", "miniprogrampage":
		return fmt.Sprintf("%s %q", m.MsgType, textenc.Clip(get("Title"), 40))
	}
	return m.MsgType
}

// typeKeys are the keys that give a message its type.
var typeKeys = []string{"text", "image", "voice", "video", "shortvideo", "location", "link", "miniprogrampage", "event"}

// friendly are the short keys of message fields; where one key means different fields in
// different types (lat is Location_X in a location message and Latitude in a LOCATION event),
// the first field the type has is used.
var friendly = []struct {
	key    string
	fields []string
}{
	{"content", []string{"Content"}},
	{"key", []string{"EventKey"}},
	{"ticket", []string{"Ticket"}},
	{"media_id", []string{"MediaId"}},
	{"thumb_media_id", []string{"ThumbMediaId"}},
	{"pic_url", []string{"PicUrl"}},
	{"format", []string{"Format"}},
	{"recognition", []string{"Recognition"}},
	{"media_id_16k", []string{"MediaId16K"}},
	{"lat", []string{"Location_X", "Latitude", "SendLocationInfo.Location_X"}},
	{"lng", []string{"Location_Y", "Longitude", "SendLocationInfo.Location_Y"}},
	{"scale", []string{"Scale", "SendLocationInfo.Scale"}},
	{"label", []string{"Label", "SendLocationInfo.Label"}},
	{"poiname", []string{"SendLocationInfo.Poiname"}},
	{"precision", []string{"Precision"}},
	{"title", []string{"Title"}},
	{"description", []string{"Description"}},
	{"url", []string{"Url"}},
	{"appid", []string{"AppId"}},
	{"pagepath", []string{"PagePath"}},
	{"thumb_url", []string{"ThumbUrl"}},
	{"session_from", []string{"SessionFrom"}},
	{"business_id", []string{"BusinessId"}},
	{"menu_id", []string{"MenuId"}},
	{"msgmenu_id", []string{"bizmsgmenuid"}},
	{"scan_type", []string{"ScanCodeInfo.ScanType"}},
	{"scan_result", []string{"ScanCodeInfo.ScanResult"}},
	{"pics", []string{"SendPicsInfo.PicList"}},
	{"kf_account", []string{"KfAccount"}},
	{"from_kf_account", []string{"FromKfAccount"}},
	{"to_kf_account", []string{"ToKfAccount"}},
	{"msg_id", []string{"MsgId"}},
	{"msg_data_id", []string{"MsgDataId"}},
	{"idx", []string{"Idx"}},
}

// message decodes what a user sends: `hi` (text), or a mapping with one type key
// (`text: hi`, `event: CLICK`, `image: {}` …) and fields by short key or wire name, or the
// wire form (`MsgType: text, Content: hi`).
func (d *decoder) message(n *yaml.Node, path string, kind wire.Kind) *Message {
	r := resolve(n)
	if isNull(r) {
		d.fail(n, path, "what the user sends is missing", `write a text (alice: hi) or a message (alice: {event: CLICK, key: V1001})`)
		return nil
	}
	if r.Kind == yaml.ScalarNode {
		d.tmpl(n, path, r.Value)
		m := &Message{MsgType: "text", Fields: []Field{{"Content", r.Value}}}
		d.checkMessage(n, path, m, kind)
		return m
	}
	if r.Kind != yaml.MappingNode {
		d.fail(n, path, "expected a text or a message, got "+describe(n), `write alice: hi, or alice: {text: hi}`)
		return nil
	}
	mark := len(d.errs)
	m := &Message{}
	var typeNode *yaml.Node
	type rawField struct {
		key  string
		node *yaml.Node
		at   string
	}
	var raw []rawField
	setType := func(k *yaml.Node, msgType string) bool {
		if m.MsgType != "" {
			d.fail(k, path, fmt.Sprintf("a second message type %q (the first is %q at line %d)", k.Value, m.MsgType, typeNode.Line), "a step sends one message; split it into two steps")
			return false
		}
		m.MsgType, typeNode = msgType, k
		return true
	}
	for _, p := range d.pairs(r, path) {
		at := joinPath(path, p.key)
		switch {
		case p.key == "MsgType":
			s, ok := d.str(p.value, at, "a message type")
			if ok && setType(p.knode, s) && s == "" {
				d.fail(p.value, at, "MsgType is empty", "")
			}
		case p.key == "Event" || p.key == "event":
			s, ok := d.str(p.value, at, "an event name")
			if !ok {
				continue
			}
			if p.key == "event" && !setType(p.knode, "event") {
				continue
			}
			m.Event = s
			if s == "" {
				d.fail(p.value, at, "the event name is missing", "e.g. event: CLICK, event: subscribe")
			}
		case slices.Contains(typeKeys, p.key):
			if !setType(p.knode, p.key) {
				continue
			}
			v := resolve(p.value)
			if p.key == "text" {
				s, ok := d.str(p.value, at, "the text")
				if ok {
					raw = append(raw, rawField{"Content", &yaml.Node{Kind: yaml.ScalarNode, Value: s, Line: v.Line, Column: v.Column}, at})
				}
				continue
			}
			switch {
			case isNull(v):
			case v.Kind == yaml.MappingNode:
				for _, q := range d.pairs(v, at) {
					raw = append(raw, rawField{q.key, q.value, joinPath(at, q.key)})
				}
			default:
				d.fail(p.value, at, fmt.Sprintf("expected the fields of the %s, got %s", p.key, describe(p.value)),
					fmt.Sprintf("write %s: {} for demo values, or %s: {field: value}", p.key, p.key))
			}
		default:
			raw = append(raw, rawField{p.key, p.value, at})
		}
	}
	if d.failed(mark) {
		return nil
	}
	if m.MsgType == "" {
		d.fail(n, path, "the message has no type", "give one key of "+strings.Join(typeKeys, ", ")+" (or MsgType: as on the wire)")
		return nil
	}
	typ, ok := wire.LookupInbound(m.MsgType, m.Event)
	if !ok {
		if m.MsgType == "event" {
			fix := "events: " + strings.Join(wire.EventNames(), ", ")
			if s, ok := suggest(m.Event, wire.EventNames()); ok {
				fix = fmt.Sprintf("did you mean %q? Event names are case-sensitive", s)
			}
			d.fail(typeNode, path, fmt.Sprintf("unknown event %q", m.Event), fix)
		} else {
			fix := "message types: " + strings.Join(typeKeys, ", ")
			if s, ok := suggest(m.MsgType, typeKeys); ok {
				fix = fmt.Sprintf("did you mean %q?", s)
			}
			d.fail(typeNode, path, fmt.Sprintf("unknown message type %q", m.MsgType), fix)
		}
		return nil
	}
	// The demo values fill the fields the scenario leaves out, so that `alice: {image: {}}` or
	// `alice: {event: SCAN}` is a complete push.
	for _, f := range wire.DemoFields(m.MsgType, m.Event) {
		m.Fields = append(m.Fields, Field{f.Name, f.Value})
	}
	for _, f := range raw {
		name, ok := wireName(typ, f.key)
		if !ok {
			d.unknownField(f.node, f.at, f.key, typ)
			continue
		}
		value, ok := d.fieldValue(f.node, f.at, name)
		if !ok {
			continue
		}
		d.tmpl(f.node, f.at, value)
		m.Fields = append(m.Fields, Field{name, value})
	}
	if d.failed(mark) {
		return nil
	}
	d.checkMessage(n, path, m, kind)
	return m
}

// wireName finds the wire field a key names for a type: a short key, or a wire name.
func wireName(t wire.InboundType, key string) (string, bool) {
	for _, f := range friendly {
		if f.key != key {
			continue
		}
		for _, name := range f.fields {
			if t.Has(name) {
				return name, true
			}
		}
		if key == "msg_id" && t.MsgType != "event" {
			return "MsgId", true
		}
		return "", false
	}
	var probe wire.Message
	if probe.Set(key, "") == nil || strings.Contains(key, ".") && probe.Set(key, "1") == nil {
		return key, true
	}
	return "", false
}

func (d *decoder) unknownField(n *yaml.Node, path, key string, t wire.InboundType) {
	var candidates []string
	for _, f := range friendly {
		for _, name := range f.fields {
			if t.Has(name) || f.key == "msg_id" && t.MsgType != "event" {
				candidates = append(candidates, f.key)
				break
			}
		}
	}
	candidates = append(candidates, t.Fields...)
	msg := fmt.Sprintf("%q is not a field of %s", key, t.Name())
	if s, ok := suggest(key, candidates); ok {
		d.fail(n, parentOf(path), msg, fmt.Sprintf("did you mean %q?", s))
		return
	}
	if len(candidates) == 0 {
		d.fail(n, parentOf(path), msg, t.Name()+" has no fields of its own")
		return
	}
	d.fail(n, parentOf(path), msg, "its fields: "+strings.Join(candidates, ", "))
}

// fieldValue reads a field's value: a scalar, or for the picture list a list of them.
func (d *decoder) fieldValue(n *yaml.Node, path, name string) (string, bool) {
	r := resolve(n)
	if name == "SendPicsInfo.PicList" && r != nil && r.Kind == yaml.SequenceNode {
		list, ok := d.strList(n, path, "PicMd5Sum values")
		return strings.Join(list, ","), ok
	}
	return d.str(n, path, "a value")
}

// checkMessage checks the message as the app's kind receives it, templates standing in as
// numbers, so that a bad message is found when the file loads, not when it runs.
func (d *decoder) checkMessage(n *yaml.Node, path string, m *Message, kind wire.Kind) {
	w, err := m.Build(func(s string) (string, error) { return placeholder(s), nil })
	if err == nil {
		k := kind
		if k == "" {
			// Any kind that receives the type: the app is unknown, and that is reported already.
			if t, ok := wire.LookupInbound(w.MsgType, w.Event); ok && len(t.Kinds) > 0 {
				k = t.Kinds[0]
			}
		}
		err = w.Check(k)
	}
	if err != nil {
		d.fail(n, path, err.Error(), messageFix(err.Error()))
	}
}

// messageFix names the short key that sets a field a check found missing.
func messageFix(msg string) string {
	for _, f := range friendly {
		for _, name := range f.fields {
			if strings.Contains(msg, " "+name) && !strings.Contains(name, ".") {
				return fmt.Sprintf("set it with %s: …", f.key)
			}
		}
	}
	return ""
}

func parentOf(path string) string {
	if i := strings.LastIndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return ""
}
