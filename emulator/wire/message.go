package wire

import (
	"math/bits"
	"strconv"

	"github.com/wxemu/wxemu/emulator/textenc"
)

// The encoders walk the fields in the order of the message's type (protocol §2), then any other
// field that is set in the fallback order of the field table, so a message of an unknown type or
// with a field of another type still loses nothing; Encrypt is always last (§1.6).

// AppendXML appends m as WeChat pushes it: <xml>…</xml>, strings in CDATA, numbers bare,
// fields in the canonical order of protocol §2, zero fields left out except those WeChat writes
// even when empty. With enough capacity in dst it does not allocate.
func (m *Message) AppendXML(dst []byte) []byte {
	dst = append(dst, "<xml>"...)
	set := m.setFields()
	for f := range m.order(set) {
		dst = m.xmlField(dst, f)
	}
	return append(dst, "</xml>"...)
}

const header = 1<<fToUserName | 1<<fFromUserName | 1<<fCreateTime | 1<<fMsgType | 1<<fEvent

// order yields the fields to write, in wire order: the header, the type's own fields (set, or
// written even when empty), the other set fields, Encrypt.
func (m *Message) order(set uint64) func(yield func(field) bool) {
	return func(yield func(field) bool) {
		for rest := set & header; rest != 0; rest &= rest - 1 {
			if !yield(field(bits.TrailingZeros64(rest))) {
				return
			}
		}
		done := uint64(header | 1<<fEncrypt)
		if t := lookup(m.MsgType, m.Event); t != nil {
			for _, f := range t.fields {
				if (set|t.always)&f.bit() != 0 && !yield(f) {
					return
				}
			}
			done |= t.own
		}
		for rest := set &^ done; rest != 0; rest &= rest - 1 {
			if !yield(field(bits.TrailingZeros64(rest))) {
				return
			}
		}
		if set&fEncrypt.bit() != 0 {
			yield(fEncrypt)
		}
	}
}

func (m *Message) xmlField(dst []byte, f field) []byte {
	fi := &fields[f]
	switch fi.kind {
	case kString:
		s := *m.str(f)
		dst = append(dst, fi.open...)
		dst = textenc.AppendCDATA(dst, s)
	case kDecimal:
		s := *m.str(f)
		dst = append(dst, fi.open...)
		dst = textenc.AppendXMLText(dst, s)
	case kInt:
		dst = append(dst, fi.open...)
		dst = strconv.AppendInt(dst, m.CreateTime, 10)
	case kMsgId:
		switch {
		case m.MsgId != 0:
			dst = append(dst, fi.open...)
			dst = strconv.AppendInt(dst, m.MsgId, 10)
		case m.MsgIdText != "":
			dst = append(dst, fi.open...)
			dst = textenc.AppendCDATA(dst, m.MsgIdText)
		default:
			return dst
		}
	case kScanCodeInfo:
		s := m.ScanCodeInfo
		if s == nil {
			return dst
		}
		dst = append(dst, "<ScanCodeInfo><ScanType>"...)
		dst = textenc.AppendCDATA(dst, s.ScanType)
		dst = append(dst, "</ScanType><ScanResult>"...)
		dst = textenc.AppendCDATA(dst, s.ScanResult)
		dst = append(dst, "</ScanResult>"...)
	case kSendPicsInfo:
		s := m.SendPicsInfo
		if s == nil {
			return dst
		}
		dst = append(dst, "<SendPicsInfo><Count>"...)
		dst = strconv.AppendInt(dst, int64(s.Count), 10)
		dst = append(dst, "</Count><PicList>"...)
		for _, p := range s.PicList {
			dst = append(dst, "<item><PicMd5Sum>"...)
			dst = textenc.AppendCDATA(dst, p)
			dst = append(dst, "</PicMd5Sum></item>"...)
		}
		dst = append(dst, "</PicList>"...)
	case kSendLocationInfo:
		s := m.SendLocationInfo
		if s == nil {
			return dst
		}
		dst = append(dst, "<SendLocationInfo><Location_X>"...)
		dst = textenc.AppendCDATA(dst, s.LocationX)
		dst = append(dst, "</Location_X><Location_Y>"...)
		dst = textenc.AppendCDATA(dst, s.LocationY)
		dst = append(dst, "</Location_Y><Scale>"...)
		dst = textenc.AppendCDATA(dst, s.Scale)
		dst = append(dst, "</Scale><Label>"...)
		dst = textenc.AppendCDATA(dst, s.Label)
		dst = append(dst, "</Label><Poiname>"...)
		dst = textenc.AppendCDATA(dst, s.Poiname)
		dst = append(dst, "</Poiname>"...)
	}
	return append(dst, fi.shut...)
}

// AppendJSON appends m as a Mini Program JSON push: PascalCase keys, numbers as JSON numbers,
// MsgId exact, no HTML escaping. A decimal-text field (Location_X, Latitude, …) is a JSON number
// when its text is one, a string otherwise; a MsgIdText is a string.
func (m *Message) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	sep := byte(0)
	for f := range m.order(m.setFields()) {
		if sep != 0 {
			dst = append(dst, sep)
		}
		sep = ','
		dst = m.jsonField(dst, f)
	}
	return append(dst, '}')
}

func (m *Message) jsonField(dst []byte, f field) []byte {
	fi := &fields[f]
	switch fi.kind {
	case kString:
		s := *m.str(f)
		dst = append(dst, fi.key...)
		return textenc.AppendJSONString(dst, s)
	case kDecimal:
		s := *m.str(f)
		dst = append(dst, fi.key...)
		if isJSONNumber(s) {
			return append(dst, s...)
		}
		return textenc.AppendJSONString(dst, s)
	case kInt:
		dst = append(dst, fi.key...)
		return strconv.AppendInt(dst, m.CreateTime, 10)
	case kMsgId:
		switch {
		case m.MsgId != 0:
			dst = append(dst, fi.key...)
			return strconv.AppendInt(dst, m.MsgId, 10)
		case m.MsgIdText != "":
			dst = append(dst, fi.key...)
			return textenc.AppendJSONString(dst, m.MsgIdText)
		}
		return dst
	case kScanCodeInfo:
		s := m.ScanCodeInfo
		if s == nil {
			return dst
		}
		dst = append(dst, `"ScanCodeInfo":{"ScanType":`...)
		dst = textenc.AppendJSONString(dst, s.ScanType)
		dst = append(dst, `,"ScanResult":`...)
		dst = textenc.AppendJSONString(dst, s.ScanResult)
		return append(dst, '}')
	case kSendPicsInfo:
		s := m.SendPicsInfo
		if s == nil {
			return dst
		}
		dst = append(dst, `"SendPicsInfo":{"Count":`...)
		dst = strconv.AppendInt(dst, int64(s.Count), 10)
		dst = append(dst, `,"PicList":[`...)
		for i, p := range s.PicList {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = textenc.AppendJSONString(dst, p)
		}
		return append(dst, "]}"...)
	case kSendLocationInfo:
		s := m.SendLocationInfo
		if s == nil {
			return dst
		}
		dst = append(dst, `"SendLocationInfo":{"Location_X":`...)
		dst = textenc.AppendJSONString(dst, s.LocationX)
		dst = append(dst, `,"Location_Y":`...)
		dst = textenc.AppendJSONString(dst, s.LocationY)
		dst = append(dst, `,"Scale":`...)
		dst = textenc.AppendJSONString(dst, s.Scale)
		dst = append(dst, `,"Label":`...)
		dst = textenc.AppendJSONString(dst, s.Label)
		dst = append(dst, `,"Poiname":`...)
		dst = textenc.AppendJSONString(dst, s.Poiname)
		return append(dst, '}')
	}
	return dst
}

// isJSONNumber reports whether s is a number literal by the JSON grammar.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i == len(s) || s[i] < '0' || s[i] > '9' {
			return false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i == len(s) || s[i] < '0' || s[i] > '9' {
			return false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	return i == len(s)
}
