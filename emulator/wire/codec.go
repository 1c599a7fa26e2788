package wire

import (
	"fmt"
	"strconv"
	"strings"
)

// SyntaxError says why and where a body could not be decoded.
type SyntaxError struct {
	Format Format
	Line   int    // 1-based line of the problem, 0 when unknown
	Offset int64  // byte offset of the problem
	Msg    string // what was wrong, for a person
}

// Error reads like encoding/xml's errors, which people already know:
// "XML syntax error on line 3: element <Content> closed by </xml>". JSON bodies are often one
// long line, so their errors add the byte offset.
func (e *SyntaxError) Error() string {
	name := strings.ToUpper(string(e.Format))
	if name == "" {
		name = "body"
	}
	var b strings.Builder
	b.WriteString(name)
	b.WriteString(" syntax error")
	if e.Line > 0 {
		b.WriteString(" on line ")
		b.WriteString(strconv.Itoa(e.Line))
	}
	if e.Format == JSON || e.Line <= 0 {
		b.WriteString(" at byte ")
		b.WriteString(strconv.FormatInt(e.Offset, 10))
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// ParseMessage decodes an inbound message or event from XML or JSON. It reads what WeChat and
// the SDKs write: CDATA or plain text, fields in any order, unknown elements or keys ignored,
// MsgId as a number or a string (a string that is not an integer lands in MsgIdText). A field
// given twice keeps its first value. The root element may have any name.
//
// Errors are *SyntaxError: the body is not well-formed, its root is not an element (XML) or an
// object (JSON), or a number field (CreateTime, SendPicsInfo.Count) is not an integer.
func ParseMessage(body []byte, f Format) (*Message, error) {
	switch f {
	case XML:
		return parseMessageXML(body)
	case JSON:
		return parseMessageJSON(body)
	}
	return nil, fmt.Errorf("parse message: unknown format %q", string(f))
}

// ParseReply decodes a bot's answer body (XML or JSON) into a RawReply, keeping every scalar as
// the text it was written as. Names are case-sensitive, except that JSON envelope keys (Encrypt,
// MsgSignature, TimeStamp, Nonce) match in any case. A top-level name given twice keeps its first
// value and is listed in Duplicate; names of no reply field are listed in Unknown.
//
// Errors are *SyntaxError: the body is not one well-formed document (trailing garbage or a
// second XML root included), or its root is not an element (XML) or an object (JSON).
func ParseReply(body []byte, f Format) (*RawReply, error) {
	switch f {
	case XML:
		return parseReplyXML(body)
	case JSON:
		return parseReplyJSON(body)
	}
	return nil, fmt.Errorf("parse reply: unknown format %q", string(f))
}
