package wire

import (
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/wxemu/wxemu/emulator/textenc"
)

func parseMessageXML(body []byte) (*Message, error) {
	return parseXML(body, readMessageXML)
}

func readMessageXML(r *xmlReader) (*Message, error) {
	root, err := r.root()
	if err != nil {
		return nil, err
	}
	m := &Message{}
	var seen uint64
	err = r.children(func(n string) error {
		f, ok := fieldByName[n]
		if !ok || seen&f.bit() != 0 {
			return r.skip()
		}
		seen |= f.bit()
		return m.readXML(r, f)
	})
	if err != nil {
		return nil, err
	}
	if err := r.end(root); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Message) readXML(r *xmlReader, f field) error {
	switch fields[f].kind {
	case kString, kDecimal:
		s, err := r.text()
		*m.str(f) = s
		return err
	case kInt:
		s, err := r.text()
		if err != nil {
			return err
		}
		if s = trimXMLSpace(s); s == "" {
			return nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return r.errorf("<CreateTime> is %q, not an integer", s)
		}
		m.CreateTime = n
	case kMsgId:
		s, err := r.text()
		if err != nil {
			return err
		}
		m.setMsgId(trimXMLSpace(s), s)
	case kScanCodeInfo:
		s := &ScanCodeInfo{}
		m.ScanCodeInfo = s
		var typ, res bool
		return r.children(func(n string) error {
			var err error
			switch n {
			case "ScanType":
				if !typ {
					typ = true
					s.ScanType, err = r.text()
					return err
				}
			case "ScanResult":
				if !res {
					res = true
					s.ScanResult, err = r.text()
					return err
				}
			}
			return r.skip()
		})
	case kSendPicsInfo:
		s := &SendPicsInfo{}
		m.SendPicsInfo = s
		var count, list bool
		return r.children(func(n string) error {
			switch n {
			case "Count":
				if count {
					break
				}
				count = true
				t, err := r.text()
				if err != nil {
					return err
				}
				if t = trimXMLSpace(t); t == "" {
					return nil
				}
				if s.Count, err = strconv.Atoi(t); err != nil {
					return r.errorf("<SendPicsInfo><Count> is %q, not an integer", t)
				}
				return nil
			case "PicList":
				if list {
					break
				}
				list = true
				return r.children(func(n string) error {
					if n != "item" {
						return r.skip()
					}
					var md5 string
					var got bool
					err := r.children(func(n string) error {
						if n != "PicMd5Sum" || got {
							return r.skip()
						}
						got = true
						var err error
						md5, err = r.text()
						return err
					})
					s.PicList = append(s.PicList, md5)
					return err
				})
			}
			return r.skip()
		})
	case kSendLocationInfo:
		s := &SendLocationInfo{}
		m.SendLocationInfo = s
		var seen [5]bool
		return r.children(func(n string) error {
			i := locationPart(n)
			if i < 0 || seen[i] {
				return r.skip()
			}
			seen[i] = true
			var err error
			*s.str(locationParts[i]), err = r.text()
			return err
		})
	}
	return nil
}

var locationParts = [5]string{"Location_X", "Location_Y", "Scale", "Label", "Poiname"}

func locationPart(name string) int {
	for i, p := range locationParts {
		if p == name {
			return i
		}
	}
	return -1
}

// setMsgId keeps an integer MsgId exact and anything else as text; a zero MsgId is no MsgId.
func (m *Message) setMsgId(trimmed, raw string) {
	if trimmed == "" {
		return
	}
	if n, err := strconv.ParseInt(trimmed, 10, 64); err == nil {
		m.MsgId = n
		return
	}
	m.MsgIdText = raw
}

func parseMessageJSON(body []byte) (*Message, error) {
	root, err := jsonObject(body)
	if err != nil {
		return nil, err
	}
	m := &Message{}
	var seen uint64
	root.ForEach(func(k, v gjson.Result) bool {
		name, _ := jsonText(k)
		f, ok := fieldByName[name]
		if !ok || seen&f.bit() != 0 {
			return true
		}
		seen |= f.bit()
		err = m.readJSON(body, f, v)
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Message) readJSON(body []byte, f field, v gjson.Result) error {
	name := fields[f].name
	switch fields[f].kind {
	case kString, kDecimal:
		s, ok := jsonText(v)
		if !ok {
			return jsonValueError(body, v, "%s is %s, not a string", name, jsonKind(v))
		}
		*m.str(f) = s
	case kInt:
		n, err := jsonInt(body, name, v)
		m.CreateTime = n
		return err
	case kMsgId:
		s, ok := jsonText(v)
		if !ok {
			return jsonValueError(body, v, "MsgId is %s, not a number or a string", jsonKind(v))
		}
		m.setMsgId(trimXMLSpace(s), s) // blank is no MsgId, as in XML, where the two cannot differ
	case kScanCodeInfo:
		if v.Type == gjson.Null {
			return nil
		}
		if !v.IsObject() {
			return jsonValueError(body, v, "ScanCodeInfo is %s, not an object", jsonKind(v))
		}
		s := &ScanCodeInfo{}
		m.ScanCodeInfo = s
		var typ, res bool
		return jsonMembers(body, "ScanCodeInfo", v, func(key string) *string {
			switch {
			case key == "ScanType" && !typ:
				typ = true
				return &s.ScanType
			case key == "ScanResult" && !res:
				res = true
				return &s.ScanResult
			}
			return nil
		})
	case kSendPicsInfo:
		if v.Type == gjson.Null {
			return nil
		}
		if !v.IsObject() {
			return jsonValueError(body, v, "SendPicsInfo is %s, not an object", jsonKind(v))
		}
		s := &SendPicsInfo{}
		m.SendPicsInfo = s
		return readPicsJSON(body, s, v)
	case kSendLocationInfo:
		if v.Type == gjson.Null {
			return nil
		}
		if !v.IsObject() {
			return jsonValueError(body, v, "SendLocationInfo is %s, not an object", jsonKind(v))
		}
		s := &SendLocationInfo{}
		m.SendLocationInfo = s
		var seen [5]bool
		return jsonMembers(body, "SendLocationInfo", v, func(key string) *string {
			i := locationPart(key)
			if i < 0 || seen[i] {
				return nil
			}
			seen[i] = true
			return s.str(key)
		})
	}
	return nil
}

// jsonInt reads an integer given as a number or as a string of digits; null is 0.
func jsonInt(body []byte, name string, v gjson.Result) (int64, error) {
	s, ok := jsonText(v)
	if ok && (v.Type == gjson.Number || v.Type == gjson.String || v.Type == gjson.Null) {
		if s == "" {
			return 0, nil
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, jsonValueError(body, v, "%s is %s, not an integer", name, textenc.Clip(v.Raw, 24))
}

// jsonMembers reads the scalar members of object v into the strings dst names; dst returns nil
// for a key to ignore.
func jsonMembers(body []byte, parent string, v gjson.Result, dst func(key string) *string) error {
	var err error
	v.ForEach(func(k, v gjson.Result) bool {
		key, _ := jsonText(k)
		p := dst(key)
		if p == nil {
			return true
		}
		s, ok := jsonText(v)
		if !ok {
			err = jsonValueError(body, v, "%s.%s is %s, not a string", parent, key, jsonKind(v))
			return false
		}
		*p = s
		return true
	})
	return err
}

func readPicsJSON(body []byte, s *SendPicsInfo, v gjson.Result) error {
	var err error
	var count, list bool
	v.ForEach(func(k, v gjson.Result) bool {
		switch key, _ := jsonText(k); {
		case key == "Count" && !count:
			count = true
			var n int64
			n, err = jsonInt(body, "SendPicsInfo.Count", v)
			if err == nil && int64(int(n)) != n {
				err = jsonValueError(body, v, "SendPicsInfo.Count %d is out of range", n)
			}
			s.Count = int(n)
		case key == "PicList" && !list:
			list = true
			switch {
			case v.Type == gjson.Null:
			case !v.IsArray():
				err = jsonValueError(body, v, "SendPicsInfo.PicList is %s, not an array", jsonKind(v))
			default:
				v.ForEach(func(_, item gjson.Result) bool {
					err = readPicJSON(body, s, item)
					return err == nil
				})
			}
		}
		return err == nil
	})
	return err
}

// readPicJSON takes a picture as the PicMd5Sum string, or as the XML-shaped {"PicMd5Sum": …}.
func readPicJSON(body []byte, s *SendPicsInfo, item gjson.Result) error {
	if item.IsObject() {
		var md5 string
		var got bool
		err := jsonMembers(body, "SendPicsInfo.PicList[]", item, func(key string) *string {
			if key != "PicMd5Sum" || got {
				return nil
			}
			got = true
			return &md5
		})
		s.PicList = append(s.PicList, md5)
		return err
	}
	md5, ok := jsonText(item)
	if !ok {
		return jsonValueError(body, item, "an item of SendPicsInfo.PicList is %s, not a string", jsonKind(item))
	}
	s.PicList = append(s.PicList, md5)
	return nil
}
