package wire

import (
	"fmt"
	"strconv"
	"strings"
)

// field numbers the wire fields of Message. The order is the fallback wire order for a field
// that its type does not list (or a message of no known type), so that nothing set is lost.
type field uint8

const (
	fToUserName field = iota
	fFromUserName
	fCreateTime
	fMsgType
	fEvent
	fContent
	fMsgId
	fMsgDataId
	fIdx
	fBizMsgMenuID
	fPicUrl
	fMediaId
	fFormat
	fMediaId16K
	fRecognition
	fThumbMediaId
	fLocationX
	fLocationY
	fScale
	fLabel
	fTitle
	fDescription
	fUrl
	fAppId
	fPagePath
	fThumbUrl
	fSessionFrom
	fBusinessId
	fEventKey
	fTicket
	fLatitude
	fLongitude
	fPrecision
	fMenuId
	fScanCodeInfo
	fSendPicsInfo
	fSendLocationInfo
	fKfAccount
	fFromKfAccount
	fToKfAccount
	fEncrypt
	nFields
)

// fieldKind says how a field is written.
type fieldKind uint8

const (
	kString  fieldKind = iota // CDATA in XML, a string in JSON
	kDecimal                  // decimal text: bare in XML, a number in JSON when it is one
	kInt                      // CreateTime
	kMsgId                    // MsgId / MsgIdText
	kScanCodeInfo
	kSendPicsInfo
	kSendLocationInfo
)

type fieldInfo struct {
	name       string // wire name: the XML element and the JSON key
	kind       fieldKind
	open, shut string // "<Name>", "</Name>"
	key        string // `"Name":`
}

var fields = func() [nFields]fieldInfo {
	var t [nFields]fieldInfo
	set := func(f field, name string, k fieldKind) {
		t[f] = fieldInfo{name: name, kind: k, open: "<" + name + ">", shut: "</" + name + ">", key: `"` + name + `":`}
	}
	set(fToUserName, "ToUserName", kString)
	set(fFromUserName, "FromUserName", kString)
	set(fCreateTime, "CreateTime", kInt)
	set(fMsgType, "MsgType", kString)
	set(fEvent, "Event", kString)
	set(fContent, "Content", kString)
	set(fMsgId, "MsgId", kMsgId)
	set(fMsgDataId, "MsgDataId", kString)
	set(fIdx, "Idx", kString)
	set(fBizMsgMenuID, "bizmsgmenuid", kString)
	set(fPicUrl, "PicUrl", kString)
	set(fMediaId, "MediaId", kString)
	set(fFormat, "Format", kString)
	set(fMediaId16K, "MediaId16K", kString)
	set(fRecognition, "Recognition", kString)
	set(fThumbMediaId, "ThumbMediaId", kString)
	set(fLocationX, "Location_X", kDecimal)
	set(fLocationY, "Location_Y", kDecimal)
	set(fScale, "Scale", kDecimal)
	set(fLabel, "Label", kString)
	set(fTitle, "Title", kString)
	set(fDescription, "Description", kString)
	set(fUrl, "Url", kString)
	set(fAppId, "AppId", kString)
	set(fPagePath, "PagePath", kString)
	set(fThumbUrl, "ThumbUrl", kString)
	set(fSessionFrom, "SessionFrom", kString)
	set(fBusinessId, "BusinessId", kString)
	set(fEventKey, "EventKey", kString)
	set(fTicket, "Ticket", kString)
	set(fLatitude, "Latitude", kDecimal)
	set(fLongitude, "Longitude", kDecimal)
	set(fPrecision, "Precision", kDecimal)
	set(fMenuId, "MenuId", kString)
	set(fScanCodeInfo, "ScanCodeInfo", kScanCodeInfo)
	set(fSendPicsInfo, "SendPicsInfo", kSendPicsInfo)
	set(fSendLocationInfo, "SendLocationInfo", kSendLocationInfo)
	set(fKfAccount, "KfAccount", kString)
	set(fFromKfAccount, "FromKfAccount", kString)
	set(fToKfAccount, "ToKfAccount", kString)
	set(fEncrypt, "Encrypt", kString)
	return t
}()

var fieldByName = func() map[string]field {
	m := make(map[string]field, nFields)
	for f := field(0); f < nFields; f++ {
		m[fields[f].name] = f
	}
	return m
}()

// FieldFold finds the wire name of a message field written in another case ("msgtype" →
// "MsgType"); ok is false for an exact name or none. Wire names are case-sensitive, so a caller
// uses it to say how to fix a key, never to accept one.
func FieldFold(name string) (wireName string, ok bool) {
	if _, exact := fieldByName[name]; exact {
		return "", false
	}
	for f := field(0); f < nFields; f++ {
		if strings.EqualFold(fields[f].name, name) {
			return fields[f].name, true
		}
	}
	return "", false
}

func (f field) bit() uint64 { return 1 << f }

// str points at the string behind a kString or kDecimal field, nil for the others.
func (m *Message) str(f field) *string {
	switch f {
	case fToUserName:
		return &m.ToUserName
	case fFromUserName:
		return &m.FromUserName
	case fMsgType:
		return &m.MsgType
	case fEvent:
		return &m.Event
	case fContent:
		return &m.Content
	case fMsgDataId:
		return &m.MsgDataId
	case fIdx:
		return &m.Idx
	case fBizMsgMenuID:
		return &m.BizMsgMenuID
	case fPicUrl:
		return &m.PicUrl
	case fMediaId:
		return &m.MediaId
	case fFormat:
		return &m.Format
	case fMediaId16K:
		return &m.MediaId16K
	case fRecognition:
		return &m.Recognition
	case fThumbMediaId:
		return &m.ThumbMediaId
	case fLocationX:
		return &m.LocationX
	case fLocationY:
		return &m.LocationY
	case fScale:
		return &m.Scale
	case fLabel:
		return &m.Label
	case fTitle:
		return &m.Title
	case fDescription:
		return &m.Description
	case fUrl:
		return &m.Url
	case fAppId:
		return &m.AppId
	case fPagePath:
		return &m.PagePath
	case fThumbUrl:
		return &m.ThumbUrl
	case fSessionFrom:
		return &m.SessionFrom
	case fBusinessId:
		return &m.BusinessId
	case fEventKey:
		return &m.EventKey
	case fTicket:
		return &m.Ticket
	case fLatitude:
		return &m.Latitude
	case fLongitude:
		return &m.Longitude
	case fPrecision:
		return &m.Precision
	case fMenuId:
		return &m.MenuId
	case fKfAccount:
		return &m.KfAccount
	case fFromKfAccount:
		return &m.FromKfAccount
	case fToKfAccount:
		return &m.ToKfAccount
	case fEncrypt:
		return &m.Encrypt
	}
	return nil
}

// has reports whether field f is set (not its zero value).
func (m *Message) has(f field) bool {
	switch fields[f].kind {
	case kInt:
		return m.CreateTime != 0
	case kMsgId:
		return m.MsgId != 0 || m.MsgIdText != ""
	case kScanCodeInfo:
		return m.ScanCodeInfo != nil
	case kSendPicsInfo:
		return m.SendPicsInfo != nil
	case kSendLocationInfo:
		return m.SendLocationInfo != nil
	}
	return *m.str(f) != ""
}

// setFields is the set of fields that are set, spelled out because the encoders ask for it on
// every push and a loop over has costs several times more.
func (m *Message) setFields() uint64 {
	var b uint64
	if m.ToUserName != "" {
		b |= 1 << fToUserName
	}
	if m.FromUserName != "" {
		b |= 1 << fFromUserName
	}
	if m.CreateTime != 0 {
		b |= 1 << fCreateTime
	}
	if m.MsgType != "" {
		b |= 1 << fMsgType
	}
	if m.Event != "" {
		b |= 1 << fEvent
	}
	if m.Content != "" {
		b |= 1 << fContent
	}
	if m.MsgId != 0 || m.MsgIdText != "" {
		b |= 1 << fMsgId
	}
	if m.MsgDataId != "" {
		b |= 1 << fMsgDataId
	}
	if m.Idx != "" {
		b |= 1 << fIdx
	}
	if m.BizMsgMenuID != "" {
		b |= 1 << fBizMsgMenuID
	}
	if m.PicUrl != "" {
		b |= 1 << fPicUrl
	}
	if m.MediaId != "" {
		b |= 1 << fMediaId
	}
	if m.Format != "" {
		b |= 1 << fFormat
	}
	if m.MediaId16K != "" {
		b |= 1 << fMediaId16K
	}
	if m.Recognition != "" {
		b |= 1 << fRecognition
	}
	if m.ThumbMediaId != "" {
		b |= 1 << fThumbMediaId
	}
	if m.LocationX != "" {
		b |= 1 << fLocationX
	}
	if m.LocationY != "" {
		b |= 1 << fLocationY
	}
	if m.Scale != "" {
		b |= 1 << fScale
	}
	if m.Label != "" {
		b |= 1 << fLabel
	}
	if m.Title != "" {
		b |= 1 << fTitle
	}
	if m.Description != "" {
		b |= 1 << fDescription
	}
	if m.Url != "" {
		b |= 1 << fUrl
	}
	if m.AppId != "" {
		b |= 1 << fAppId
	}
	if m.PagePath != "" {
		b |= 1 << fPagePath
	}
	if m.ThumbUrl != "" {
		b |= 1 << fThumbUrl
	}
	if m.SessionFrom != "" {
		b |= 1 << fSessionFrom
	}
	if m.BusinessId != "" {
		b |= 1 << fBusinessId
	}
	if m.EventKey != "" {
		b |= 1 << fEventKey
	}
	if m.Ticket != "" {
		b |= 1 << fTicket
	}
	if m.Latitude != "" {
		b |= 1 << fLatitude
	}
	if m.Longitude != "" {
		b |= 1 << fLongitude
	}
	if m.Precision != "" {
		b |= 1 << fPrecision
	}
	if m.MenuId != "" {
		b |= 1 << fMenuId
	}
	if m.ScanCodeInfo != nil {
		b |= 1 << fScanCodeInfo
	}
	if m.SendPicsInfo != nil {
		b |= 1 << fSendPicsInfo
	}
	if m.SendLocationInfo != nil {
		b |= 1 << fSendLocationInfo
	}
	if m.KfAccount != "" {
		b |= 1 << fKfAccount
	}
	if m.FromKfAccount != "" {
		b |= 1 << fFromKfAccount
	}
	if m.ToKfAccount != "" {
		b |= 1 << fToKfAccount
	}
	if m.Encrypt != "" {
		b |= 1 << fEncrypt
	}
	return b
}

// Nested wire names that Set and Get accept, beside the top-level ones.
var nestedNames = []string{
	"ScanCodeInfo.ScanType", "ScanCodeInfo.ScanResult",
	"SendPicsInfo.Count", "SendPicsInfo.PicList",
	"SendLocationInfo.Location_X", "SendLocationInfo.Location_Y", "SendLocationInfo.Scale",
	"SendLocationInfo.Label", "SendLocationInfo.Poiname",
}

// Set sets a field by its wire name: "Content", "Location_X", "bizmsgmenuid", "MsgId", and the
// nested "ScanCodeInfo.ScanType", "SendPicsInfo.PicList" (a comma list of PicMd5Sum; it also sets
// Count), "SendLocationInfo.Poiname" and so on. An empty value clears a top-level field; a nested
// name always creates its parent, because an empty nested element (Poiname) is still written.
// Numbers are checked: CreateTime, MsgId and SendPicsInfo.Count take integers, the decimal fields
// (Location_X, Location_Y, Scale, Latitude, Longitude, Precision) take decimal numbers.
func (m *Message) Set(name, value string) error {
	if parent, child, ok := strings.Cut(name, "."); ok {
		return m.setNested(name, parent, child, value)
	}
	f, ok := fieldByName[name]
	if !ok {
		return unknownField(name)
	}
	switch fields[f].kind {
	case kScanCodeInfo, kSendPicsInfo, kSendLocationInfo:
		return fmt.Errorf("%s has parts; set %s", name, strings.Join(partsOf(name), ", "))
	case kInt:
		if value == "" {
			m.CreateTime = 0
			return nil
		}
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return fmt.Errorf("CreateTime %q is not an integer (unix seconds)", value)
		}
		m.CreateTime = n
	case kMsgId:
		m.MsgIdText = ""
		if value == "" {
			m.MsgId = 0
			return nil
		}
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return fmt.Errorf("MsgId %q is not a 64-bit integer", value)
		}
		m.MsgId = n
	case kDecimal:
		if value != "" && !isDecimal(value) {
			return fmt.Errorf("%s %q is not a decimal number", name, value)
		}
		*m.str(f) = value
	default:
		*m.str(f) = value
	}
	return nil
}

func (m *Message) setNested(name, parent, child, value string) error {
	switch parent {
	case "ScanCodeInfo":
		if m.ScanCodeInfo == nil {
			m.ScanCodeInfo = &ScanCodeInfo{}
		}
		switch child {
		case "ScanType":
			m.ScanCodeInfo.ScanType = value
			return nil
		case "ScanResult":
			m.ScanCodeInfo.ScanResult = value
			return nil
		}
	case "SendPicsInfo":
		if m.SendPicsInfo == nil {
			m.SendPicsInfo = &SendPicsInfo{}
		}
		switch child {
		case "Count":
			n, err := strconv.Atoi(value)
			if err != nil || n < 0 {
				return fmt.Errorf("SendPicsInfo.Count %q is not a count", value)
			}
			m.SendPicsInfo.Count = n
			return nil
		case "PicList":
			m.SendPicsInfo.PicList = nil
			if value != "" {
				m.SendPicsInfo.PicList = strings.Split(value, ",")
			}
			m.SendPicsInfo.Count = len(m.SendPicsInfo.PicList)
			return nil
		}
	case "SendLocationInfo":
		if m.SendLocationInfo == nil {
			m.SendLocationInfo = &SendLocationInfo{}
		}
		if p := m.SendLocationInfo.str(child); p != nil {
			*p = value
			return nil
		}
	}
	return unknownField(name)
}

// Get returns a field by its wire name (the names Set takes) as text: "" when the field is
// absent or the name unknown; SendPicsInfo.PicList as a comma list.
func (m *Message) Get(name string) string {
	if parent, child, ok := strings.Cut(name, "."); ok {
		switch parent {
		case "ScanCodeInfo":
			if s := m.ScanCodeInfo; s != nil {
				switch child {
				case "ScanType":
					return s.ScanType
				case "ScanResult":
					return s.ScanResult
				}
			}
		case "SendPicsInfo":
			if s := m.SendPicsInfo; s != nil {
				switch child {
				case "Count":
					return strconv.Itoa(s.Count)
				case "PicList":
					return strings.Join(s.PicList, ",")
				}
			}
		case "SendLocationInfo":
			if s := m.SendLocationInfo; s != nil {
				if p := s.str(child); p != nil {
					return *p
				}
			}
		}
		return ""
	}
	f, ok := fieldByName[name]
	if !ok {
		return ""
	}
	switch fields[f].kind {
	case kInt:
		if m.CreateTime == 0 {
			return ""
		}
		return strconv.FormatInt(m.CreateTime, 10)
	case kMsgId:
		if m.MsgId == 0 {
			return m.MsgIdText
		}
		return strconv.FormatInt(m.MsgId, 10)
	case kScanCodeInfo, kSendPicsInfo, kSendLocationInfo:
		return ""
	}
	return *m.str(f)
}

func (s *SendLocationInfo) str(name string) *string {
	switch name {
	case "Location_X":
		return &s.LocationX
	case "Location_Y":
		return &s.LocationY
	case "Scale":
		return &s.Scale
	case "Label":
		return &s.Label
	case "Poiname":
		return &s.Poiname
	}
	return nil
}

func partsOf(parent string) []string {
	var out []string
	for _, n := range nestedNames {
		if strings.HasPrefix(n, parent+".") {
			out = append(out, n)
		}
	}
	return out
}

// unknownField names the field a person probably meant: wire names are case-sensitive, and
// bizmsgmenuid is the one lowercase name among PascalCase ones.
func unknownField(name string) error {
	for f := field(0); f < nFields; f++ {
		if strings.EqualFold(fields[f].name, name) {
			return fmt.Errorf("unknown field %q; did you mean %q?", name, fields[f].name)
		}
	}
	for _, n := range nestedNames {
		if strings.EqualFold(n, name) {
			return fmt.Errorf("unknown field %q; did you mean %q?", name, n)
		}
	}
	return fmt.Errorf("unknown field %q (wire names are case-sensitive, e.g. Content, Location_X, bizmsgmenuid, ScanCodeInfo.ScanType)", name)
}

// isDecimal reports whether s is a decimal number as WeChat writes coordinates and scales:
// an optional minus, digits, and an optional fraction ("23.134521", "-0.5", "20").
func isDecimal(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		frac := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			frac++
		}
		if frac == 0 {
			return false
		}
	}
	return i == len(s)
}
