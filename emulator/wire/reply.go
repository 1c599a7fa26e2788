package wire

import (
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/wxemu/wxemu/emulator/textenc"
)

// AppendXML appends r as a passive reply in XML (protocol §3.2). The header is always written;
// the body elements are written when set, and the one a MsgType cannot do without (Content for
// text, ArticleCount and Articles for news) even when empty.
func (r *Reply) AppendXML(dst []byte) []byte {
	dst = append(dst, "<xml><ToUserName>"...)
	dst = textenc.AppendCDATA(dst, r.ToUserName)
	dst = append(dst, "</ToUserName><FromUserName>"...)
	dst = textenc.AppendCDATA(dst, r.FromUserName)
	dst = append(dst, "</FromUserName><CreateTime>"...)
	dst = strconv.AppendInt(dst, r.CreateTime, 10)
	dst = append(dst, "</CreateTime><MsgType>"...)
	dst = textenc.AppendCDATA(dst, r.MsgType)
	dst = append(dst, "</MsgType>"...)
	if r.Content != "" || r.MsgType == ReplyText {
		dst = xmlElem(dst, "Content", r.Content, true)
	}
	if r.Image != nil {
		dst = append(dst, "<Image>"...)
		dst = xmlElem(dst, "MediaId", r.Image.MediaId, true)
		dst = append(dst, "</Image>"...)
	}
	if r.Voice != nil {
		dst = append(dst, "<Voice>"...)
		dst = xmlElem(dst, "MediaId", r.Voice.MediaId, true)
		dst = append(dst, "</Voice>"...)
	}
	if v := r.Video; v != nil {
		dst = append(dst, "<Video>"...)
		dst = xmlElem(dst, "MediaId", v.MediaId, true)
		dst = xmlElem(dst, "Title", v.Title, false)
		dst = xmlElem(dst, "Description", v.Description, false)
		dst = append(dst, "</Video>"...)
	}
	if m := r.Music; m != nil {
		dst = append(dst, "<Music>"...)
		dst = xmlElem(dst, "Title", m.Title, false)
		dst = xmlElem(dst, "Description", m.Description, false)
		dst = xmlElem(dst, "MusicUrl", m.MusicUrl, false)
		dst = xmlElem(dst, "HQMusicUrl", m.HQMusicUrl, false)
		dst = xmlElem(dst, "ThumbMediaId", m.ThumbMediaId, true)
		dst = append(dst, "</Music>"...)
	}
	if len(r.Articles) > 0 || r.MsgType == ReplyNews {
		dst = append(dst, "<ArticleCount>"...)
		dst = strconv.AppendInt(dst, int64(len(r.Articles)), 10)
		dst = append(dst, "</ArticleCount><Articles>"...)
		for i := range r.Articles {
			a := &r.Articles[i]
			dst = append(dst, "<item>"...)
			dst = xmlElem(dst, "Title", a.Title, true)
			dst = xmlElem(dst, "Description", a.Description, true)
			dst = xmlElem(dst, "PicUrl", a.PicUrl, true)
			dst = xmlElem(dst, "Url", a.Url, true)
			dst = append(dst, "</item>"...)
		}
		dst = append(dst, "</Articles>"...)
	}
	if r.TransInfo != nil {
		dst = append(dst, "<TransInfo>"...)
		dst = xmlElem(dst, "KfAccount", r.TransInfo.KfAccount, true)
		dst = append(dst, "</TransInfo>"...)
	}
	return append(dst, "</xml>"...)
}

func xmlElem(dst []byte, name, value string, always bool) []byte {
	if value == "" && !always {
		return dst
	}
	dst = append(append(append(dst, '<'), name...), '>')
	dst = textenc.AppendCDATA(dst, value)
	return append(append(append(dst, '<', '/'), name...), '>')
}

// AppendJSON appends r as a passive reply in JSON (protocol §3.3): the XML names as keys, nested
// objects for Image, Voice, Video, Music and TransInfo, and news as "ArticleCount":n,
// "Articles":[…] (the shape of news is not documented; this is the analogue of the XML).
func (r *Reply) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"ToUserName":`...)
	dst = textenc.AppendJSONString(dst, r.ToUserName)
	dst = append(dst, `,"FromUserName":`...)
	dst = textenc.AppendJSONString(dst, r.FromUserName)
	dst = append(dst, `,"CreateTime":`...)
	dst = strconv.AppendInt(dst, r.CreateTime, 10)
	dst = append(dst, `,"MsgType":`...)
	dst = textenc.AppendJSONString(dst, r.MsgType)
	if r.Content != "" || r.MsgType == ReplyText {
		dst = jsonMember(dst, "Content", r.Content, true)
	}
	if r.Image != nil {
		dst = append(dst, `,"Image":{"MediaId":`...)
		dst = textenc.AppendJSONString(dst, r.Image.MediaId)
		dst = append(dst, '}')
	}
	if r.Voice != nil {
		dst = append(dst, `,"Voice":{"MediaId":`...)
		dst = textenc.AppendJSONString(dst, r.Voice.MediaId)
		dst = append(dst, '}')
	}
	if v := r.Video; v != nil {
		dst = append(dst, `,"Video":{"MediaId":`...)
		dst = textenc.AppendJSONString(dst, v.MediaId)
		dst = jsonMember(dst, "Title", v.Title, false)
		dst = jsonMember(dst, "Description", v.Description, false)
		dst = append(dst, '}')
	}
	if m := r.Music; m != nil {
		dst = append(dst, `,"Music":{`...)
		first := len(dst)
		dst = jsonMember(dst, "Title", m.Title, false)
		dst = jsonMember(dst, "Description", m.Description, false)
		dst = jsonMember(dst, "MusicUrl", m.MusicUrl, false)
		dst = jsonMember(dst, "HQMusicUrl", m.HQMusicUrl, false)
		dst = jsonMember(dst, "ThumbMediaId", m.ThumbMediaId, true)
		// Each member was written with a leading comma; the object's first one must lose it.
		copy(dst[first:], dst[first+1:])
		dst = append(dst[:len(dst)-1], '}')
	}
	if len(r.Articles) > 0 || r.MsgType == ReplyNews {
		dst = append(dst, `,"ArticleCount":`...)
		dst = strconv.AppendInt(dst, int64(len(r.Articles)), 10)
		dst = append(dst, `,"Articles":[`...)
		for i := range r.Articles {
			a := &r.Articles[i]
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"Title":`...)
			dst = textenc.AppendJSONString(dst, a.Title)
			dst = jsonMember(dst, "Description", a.Description, true)
			dst = jsonMember(dst, "PicUrl", a.PicUrl, true)
			dst = jsonMember(dst, "Url", a.Url, true)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if r.TransInfo != nil {
		dst = append(dst, `,"TransInfo":{"KfAccount":`...)
		dst = textenc.AppendJSONString(dst, r.TransInfo.KfAccount)
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

func jsonMember(dst []byte, key, value string, always bool) []byte {
	if value == "" && !always {
		return dst
	}
	dst = append(append(append(dst, ',', '"'), key...), '"', ':')
	return textenc.AppendJSONString(dst, value)
}

// replyField numbers the top-level names of a reply.
type replyField uint8

const (
	rToUserName replyField = iota
	rFromUserName
	rCreateTime
	rMsgType
	rContent
	rImage
	rVoice
	rVideo
	rMusic
	rArticleCount
	rArticles
	rTransInfo
	rEncrypt
	rMsgSignature
	rTimeStamp
	rNonce
	nReplyFields
)

var replyFieldNames = [nReplyFields]string{
	"ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "Image", "Voice", "Video",
	"Music", "ArticleCount", "Articles", "TransInfo", "Encrypt", "MsgSignature", "TimeStamp", "Nonce",
}

func replyFieldByName(name string, envelopeFold bool) (replyField, bool) {
	for f, n := range replyFieldNames {
		if n == name {
			return replyField(f), true
		}
	}
	if envelopeFold {
		for f := rEncrypt; f <= rNonce; f++ {
			if strings.EqualFold(replyFieldNames[f], name) {
				return f, true
			}
		}
	}
	return 0, false
}

func (rr *RawReply) scalar(f replyField) *string {
	switch f {
	case rToUserName:
		return &rr.ToUserName
	case rFromUserName:
		return &rr.FromUserName
	case rCreateTime:
		return &rr.CreateTime
	case rMsgType:
		return &rr.MsgType
	case rContent:
		return &rr.Content
	case rArticleCount:
		return &rr.ArticleCount
	case rEncrypt:
		return &rr.Encrypt
	case rMsgSignature:
		return &rr.MsgSignature
	case rTimeStamp:
		return &rr.TimeStamp
	case rNonce:
		return &rr.Nonce
	}
	return nil
}

// nested lists the member names of a nested reply element and where each goes.
func (rr *RawReply) nested(f replyField) (names []string, dst []*string) {
	switch f {
	case rImage:
		rr.Image = &RawMedia{}
		return []string{"MediaId"}, []*string{&rr.Image.MediaId}
	case rVoice:
		rr.Voice = &RawMedia{}
		return []string{"MediaId"}, []*string{&rr.Voice.MediaId}
	case rVideo:
		v := &RawVideo{}
		rr.Video = v
		return []string{"MediaId", "Title", "Description"}, []*string{&v.MediaId, &v.Title, &v.Description}
	case rMusic:
		m := &RawMusic{}
		rr.Music = m
		return []string{"Title", "Description", "MusicUrl", "HQMusicUrl", "ThumbMediaId"},
			[]*string{&m.Title, &m.Description, &m.MusicUrl, &m.HQMusicUrl, &m.ThumbMediaId}
	case rTransInfo:
		rr.TransInfo = &RawTransInfo{}
		return []string{"KfAccount"}, []*string{&rr.TransInfo.KfAccount}
	}
	return nil, nil
}

var articleNames = []string{"Title", "Description", "PicUrl", "Url"}

func (a *RawArticle) parts() []*string { return []*string{&a.Title, &a.Description, &a.PicUrl, &a.Url} }

func indexOf(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	return -1
}

// topNames tracks the top-level names of a reply, for Unknown and Duplicate. The maps exist only
// once a name needs them, which for a correct reply is never.
type topNames struct {
	seen  uint32          // reply fields read
	other map[string]bool // names of no reply field
	dup   map[string]bool // names listed in Duplicate
}

// note records a top-level name and reports whether its value is to be read: only the first
// occurrence of a reply field is.
func (rr *RawReply) note(n *topNames, name string, f replyField, known bool) bool {
	switch {
	case known && n.seen&(1<<f) == 0:
		n.seen |= 1 << f
		return true
	case !known && !n.other[name]:
		if n.other == nil {
			n.other = map[string]bool{}
		}
		n.other[name] = true
		rr.Unknown = append(rr.Unknown, name)
		return false
	}
	if !n.dup[name] {
		if n.dup == nil {
			n.dup = map[string]bool{}
		}
		n.dup[name] = true
		rr.Duplicate = append(rr.Duplicate, name)
	}
	return false
}

func parseReplyXML(body []byte) (*RawReply, error) {
	return parseXML(body, readReplyXML)
}

func readReplyXML(r *xmlReader) (*RawReply, error) {
	root, err := r.root()
	if err != nil {
		return nil, err
	}
	rr := &RawReply{Root: root}
	var names topNames
	err = r.children(func(n string) error {
		f, known := replyFieldByName(n, false)
		if !rr.note(&names, n, f, known) {
			return r.skip()
		}
		if p := rr.scalar(f); p != nil {
			var err error
			*p, err = r.text()
			return err
		}
		if f == rArticles {
			return r.children(func(n string) error {
				if n != "item" {
					return r.skip()
				}
				rr.Articles = append(rr.Articles, RawArticle{})
				return r.members(articleNames, rr.Articles[len(rr.Articles)-1].parts())
			})
		}
		return r.members(rr.nested(f))
	})
	if err != nil {
		return nil, err
	}
	if err := r.end(root); err != nil {
		return nil, err
	}
	return rr, nil
}

// members reads the child elements named in names into dst, the first of each name.
func (r *xmlReader) members(names []string, dst []*string) error {
	var seen uint32
	return r.children(func(n string) error {
		i := indexOf(names, n)
		if i < 0 || seen&(1<<i) != 0 {
			return r.skip()
		}
		seen |= 1 << i
		var err error
		*dst[i], err = r.text()
		return err
	})
}

func parseReplyJSON(body []byte) (*RawReply, error) {
	root, err := jsonObject(body)
	if err != nil {
		return nil, err
	}
	rr := &RawReply{}
	var names topNames
	root.ForEach(func(k, v gjson.Result) bool {
		name, _ := jsonText(k)
		f, known := replyFieldByName(name, true)
		if !rr.note(&names, name, f, known) {
			return true
		}
		if p := rr.scalar(f); p != nil {
			// Anything but a string keeps its literal: 1714112446, true, {"a":1}; null is absent.
			*p, _ = jsonText(v)
			return true
		}
		if f == rArticles {
			if !v.IsArray() {
				return true
			}
			v.ForEach(func(_, item gjson.Result) bool {
				rr.Articles = append(rr.Articles, RawArticle{})
				jsonScalars(item, articleNames, rr.Articles[len(rr.Articles)-1].parts())
				return true
			})
			return true
		}
		names, dst := rr.nested(f)
		jsonScalars(v, names, dst)
		return true
	})
	return rr, nil
}

// jsonScalars reads the members of object v named in names into dst, the first of each name,
// keeping each value's text as written.
func jsonScalars(v gjson.Result, names []string, dst []*string) {
	if !v.IsObject() {
		return
	}
	var seen uint32
	v.ForEach(func(k, v gjson.Result) bool {
		key, _ := jsonText(k)
		i := indexOf(names, key)
		if i >= 0 && seen&(1<<i) == 0 {
			seen |= 1 << i
			*dst[i], _ = jsonText(v)
		}
		return true
	})
}
