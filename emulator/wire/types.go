package wire

// InboundType describes one inbound message or event type (protocol §2).
type InboundType struct {
	MsgType string
	Event   string   // empty for user messages
	Kinds   []Kind   // the app kinds WeChat pushes it to
	Fields  []string // wire names of its own fields, in wire order, beyond the header
}

// InboundTypes lists every inbound type, messages first.
func InboundTypes() []InboundType { panic("unimplemented") }

// LookupInbound finds the type of a message; event names match case-sensitively as WeChat
// spells them (subscribe, SCAN, CLICK, …).
func LookupInbound(msgType, event string) (InboundType, bool) { panic("unimplemented") }
