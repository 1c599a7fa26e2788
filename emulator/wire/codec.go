package wire

// Codec entry points. The helper implementing this package replaces the bodies; the signatures
// are the contract other packages build on.

// SyntaxError says why and where a body could not be decoded.
type SyntaxError struct {
	Format Format
	Line   int    // 1-based line of the problem, 0 when unknown
	Offset int64  // byte offset of the problem
	Msg    string // what was wrong, for a person
}

func (e *SyntaxError) Error() string { panic("unimplemented") }

// AppendXML appends m as WeChat pushes it: <xml>…</xml>, strings in CDATA, numbers bare,
// fields in the canonical order of protocol §2, zero fields left out.
func (m *Message) AppendXML(dst []byte) []byte { panic("unimplemented") }

// AppendJSON appends m as a Mini Program JSON push: PascalCase keys, numbers as JSON numbers,
// MsgId exact, no HTML escaping.
func (m *Message) AppendJSON(dst []byte) []byte { panic("unimplemented") }

// ParseMessage decodes an inbound message or event from XML or JSON.
func ParseMessage(body []byte, f Format) (*Message, error) { panic("unimplemented") }

// AppendXML appends r as a passive reply in XML (protocol §3.2).
func (r *Reply) AppendXML(dst []byte) []byte { panic("unimplemented") }

// AppendJSON appends r as a passive reply in JSON (protocol §3.3).
func (r *Reply) AppendJSON(dst []byte) []byte { panic("unimplemented") }

// ParseReply decodes a bot's answer body (XML or JSON) into a RawReply.
func ParseReply(body []byte, f Format) (*RawReply, error) { panic("unimplemented") }
