package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/wxemu/wxemu/emulator/textenc"
	"github.com/wxemu/wxemu/emulator/wire"
)

// SendLimits are the size limits of /cgi-bin/message/custom/send. A zero field means its default.
type SendLimits struct {
	// MaxTextBytes is the longest text.content in bytes of UTF-8; longer is 45002. Default 2048.
	// Deviation: WeChat does not document the limit; 2048 is what developers report (protocol §4.1, §10.8).
	MaxTextBytes int
	// MaxNewsArticles is the most articles a news message may carry; more is 45008. Default 1,
	// WeChat's limit since 2018-10 (protocol §4.1); 8 reproduces the older rule.
	MaxNewsArticles int
	// MaxMsgMenuItems is the most items msgmenu.list may have; more is 45098. Default 10.
	// Deviation: WeChat names the error but not the number (protocol §4.1, §10.8).
	MaxMsgMenuItems int
	// MaxMsgMenuItemBytes is the longest msgmenu item content in bytes of UTF-8; longer is 45099.
	// Default 128. Deviation: WeChat names the error but not the number (protocol §4.1, §10.8).
	MaxMsgMenuItemBytes int
}

func (l SendLimits) withDefaults() SendLimits {
	l.MaxTextBytes = orDefault(l.MaxTextBytes, 2048)
	l.MaxNewsArticles = orDefault(l.MaxNewsArticles, 1)
	l.MaxMsgMenuItems = orDefault(l.MaxMsgMenuItems, 10)
	l.MaxMsgMenuItemBytes = orDefault(l.MaxMsgMenuItemBytes, 128)
	return l
}

// CustomSend is a valid /cgi-bin/message/custom/send body, decoded (protocol §4.1). Exactly the
// object named by MsgType is set. Strings are as WeChat reads them: JSON escapes resolved, markup
// such as `<a href>` untouched.
//
// json.Marshal writes it back in WeChat's own shape (MarshalJSON), so a transcript can show the
// message as the bot sent it.
type CustomSend struct {
	ToUser  string `json:"touser"`
	MsgType string `json:"msgtype"`
	// KfAccount is customservice.kf_account: the kf account the message is shown as sent by.
	// Official Accounts only; a Mini Program's is dropped.
	KfAccount string `json:"kf_account,omitempty"`
	// BusinessID is the kf sub-merchant of a Mini Program (protocol §4.1), written in the body as a
	// JSON integer or a string and kept as its exact decimal text, so no 64-bit id loses digits.
	BusinessID string `json:"businessid,omitempty"`

	Text            *SendText            `json:"text,omitempty"`
	Image           *SendMedia           `json:"image,omitempty"`
	Voice           *SendMedia           `json:"voice,omitempty"`
	Video           *SendVideo           `json:"video,omitempty"`
	Music           *SendMusic           `json:"music,omitempty"`
	News            []SendArticle        `json:"news,omitempty"`
	MpNews          *SendMedia           `json:"mpnews,omitempty"`
	MpNewsArticle   *SendArticleID       `json:"mpnewsarticle,omitempty"`
	MsgMenu         *SendMsgMenu         `json:"msgmenu,omitempty"`
	WxCard          *SendCard            `json:"wxcard,omitempty"`
	MiniProgramPage *SendMiniProgramPage `json:"miniprogrampage,omitempty"`
	Link            *SendLink            `json:"link,omitempty"`

	// MediaIDs is every media id the message refers to (media_id, thumb_media_id), in body order,
	// for the caller's existence check. It is derived, not part of the body, so it is not marshalled.
	MediaIDs []string `json:"-"`
}

// SendText is the text object of a custom message.
type SendText struct {
	Content string `json:"content"`
}

// SendMedia is the image, voice or mpnews object of a custom message.
type SendMedia struct {
	MediaID string `json:"media_id"`
}

// SendVideo is the video object of a custom message.
type SendVideo struct {
	MediaID      string `json:"media_id"`
	ThumbMediaID string `json:"thumb_media_id"`
	Title        string `json:"title,omitempty"`
	Description  string `json:"description,omitempty"`
}

// SendMusic is the music object of a custom message.
type SendMusic struct {
	Title        string `json:"title,omitempty"`
	Description  string `json:"description,omitempty"`
	MusicURL     string `json:"musicurl,omitempty"`
	HQMusicURL   string `json:"hqmusicurl,omitempty"`
	ThumbMediaID string `json:"thumb_media_id"`
}

// SendArticle is one item of news.articles.
type SendArticle struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	URL         string `json:"url"`
	PicURL      string `json:"picurl"`
}

// SendArticleID is the mpnewsarticle object: a published article.
type SendArticleID struct {
	ArticleID string `json:"article_id"`
}

// SendMsgMenu is the msgmenu object: a question with tappable answers.
type SendMsgMenu struct {
	HeadContent string         `json:"head_content,omitempty"`
	List        []SendMenuItem `json:"list"`
	TailContent string         `json:"tail_content,omitempty"`
}

// SendMenuItem is one answer of a msgmenu. A tap comes back as a text push whose Content is
// Content and whose bizmsgmenuid is ID (protocol §2.2).
type SendMenuItem struct {
	ID      string `json:"id"`
	Content string `json:"content"`
}

// SendCard is the wxcard object.
type SendCard struct {
	CardID string `json:"card_id"`
}

// SendMiniProgramPage is the miniprogrampage object. AppID is empty for a Mini Program, whose card
// always opens the sending Mini Program itself.
type SendMiniProgramPage struct {
	Title        string `json:"title"`
	AppID        string `json:"appid,omitempty"`
	PagePath     string `json:"pagepath"`
	ThumbMediaID string `json:"thumb_media_id"`
}

// SendLink is the link object of a Mini Program custom message.
type SendLink struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	URL         string `json:"url"`
	ThumbURL    string `json:"thumb_url"`
}

// MarshalJSON writes the message in WeChat's shape: news as news.articles and the kf account under
// customservice. HTML is not escaped, because `<a href>` in a transcript should read as the bot wrote it.
func (s CustomSend) MarshalJSON() ([]byte, error) {
	type news struct {
		Articles []SendArticle `json:"articles"`
	}
	type customService struct {
		KfAccount string `json:"kf_account"`
	}
	w := struct {
		ToUser          string               `json:"touser"`
		MsgType         string               `json:"msgtype"`
		Text            *SendText            `json:"text,omitempty"`
		Image           *SendMedia           `json:"image,omitempty"`
		Voice           *SendMedia           `json:"voice,omitempty"`
		Video           *SendVideo           `json:"video,omitempty"`
		Music           *SendMusic           `json:"music,omitempty"`
		News            *news                `json:"news,omitempty"`
		MpNews          *SendMedia           `json:"mpnews,omitempty"`
		MpNewsArticle   *SendArticleID       `json:"mpnewsarticle,omitempty"`
		MsgMenu         *SendMsgMenu         `json:"msgmenu,omitempty"`
		WxCard          *SendCard            `json:"wxcard,omitempty"`
		MiniProgramPage *SendMiniProgramPage `json:"miniprogrampage,omitempty"`
		Link            *SendLink            `json:"link,omitempty"`
		CustomService   *customService       `json:"customservice,omitempty"`
		BusinessID      json.RawMessage      `json:"businessid,omitempty"`
	}{
		ToUser: s.ToUser, MsgType: s.MsgType, Text: s.Text, Image: s.Image, Voice: s.Voice,
		Video: s.Video, Music: s.Music, MpNews: s.MpNews, MpNewsArticle: s.MpNewsArticle,
		MsgMenu: s.MsgMenu, WxCard: s.WxCard, MiniProgramPage: s.MiniProgramPage, Link: s.Link,
	}
	if s.News != nil {
		w.News = &news{Articles: s.News}
	}
	if s.KfAccount != "" {
		w.CustomService = &customService{KfAccount: s.KfAccount}
	}
	if s.BusinessID != "" {
		w.BusinessID = businessIDJSON(s.BusinessID)
	}
	return textenc.MarshalJSON(w)
}

// businessIDJSON writes an integer id back as the number SDKs send (SKIT declares it a long), and
// any other text as a string.
func businessIDJSON(id string) json.RawMessage {
	if n, err := strconv.ParseInt(id, 10, 64); err == nil && strconv.FormatInt(n, 10) == id {
		return json.RawMessage(id)
	}
	b, _ := json.Marshal(id)
	return b
}

// Render is one line of what the user sees: the text itself, or the message type in brackets with
// the one value that tells the message apart ("[image MEDIA_ID]", "[news] title",
// "[msgmenu] head | 满意 / 不满意 | tail"). Line breaks are shown as ↵ so a transcript stays one
// line per message.
func (s *CustomSend) Render() string {
	if s == nil {
		return ""
	}
	out := "[" + s.MsgType + "]"
	switch {
	case s.MsgType == "text" && s.Text != nil:
		out = s.Text.Content
	case s.MsgType == "image" && s.Image != nil:
		out = "[image " + s.Image.MediaID + "]"
	case s.MsgType == "voice" && s.Voice != nil:
		out = "[voice " + s.Voice.MediaID + "]"
	case s.MsgType == "mpnews" && s.MpNews != nil:
		out = "[mpnews " + s.MpNews.MediaID + "]"
	case s.MsgType == "video" && s.Video != nil:
		out = withTitle("[video "+s.Video.MediaID+"]", s.Video.Title)
	case s.MsgType == "music" && s.Music != nil:
		title := s.Music.Title
		if title == "" {
			title = s.Music.MusicURL
		}
		out = withTitle(out, title)
	case s.MsgType == "news" && len(s.News) > 0:
		out = withTitle(out, s.News[0].Title)
	case s.MsgType == "mpnewsarticle" && s.MpNewsArticle != nil:
		out = "[mpnewsarticle " + s.MpNewsArticle.ArticleID + "]"
	case s.MsgType == "msgmenu" && s.MsgMenu != nil:
		out = renderMsgMenu(s.MsgMenu)
	case s.MsgType == "wxcard" && s.WxCard != nil:
		out = "[wxcard " + s.WxCard.CardID + "]"
	case s.MsgType == "miniprogrampage" && s.MiniProgramPage != nil:
		out = withTitle(out, s.MiniProgramPage.Title)
	case s.MsgType == "link" && s.Link != nil:
		out = withTitle(out, s.Link.Title)
	}
	return oneLine(out)
}

func withTitle(tag, title string) string {
	if title == "" {
		return tag
	}
	return tag + " " + title
}

func renderMsgMenu(m *SendMsgMenu) string {
	var b strings.Builder
	b.WriteString("[msgmenu]")
	sep := " "
	if head := strings.TrimSpace(m.HeadContent); head != "" {
		b.WriteString(sep + head)
		sep = " | "
	}
	for i, it := range m.List {
		if i == 0 {
			b.WriteString(sep)
		} else {
			b.WriteString(" / ")
		}
		b.WriteString(it.Content)
		sep = " | "
	}
	if tail := strings.TrimSpace(m.TailContent); tail != "" {
		b.WriteString(sep + tail)
	}
	return b.String()
}

var lineBreaks = strings.NewReplacer("\r\n", "↵", "\n", "↵", "\r", "↵")

func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return lineBreaks.Replace(s)
}

// The message types each kind of app may send (protocol §4.1).
var (
	oaMsgTypes = []string{"text", "image", "voice", "video", "music", "news", "mpnews", "mpnewsarticle", "msgmenu", "wxcard", "miniprogrampage"}
	mpMsgTypes = []string{"text", "image", "link", "miniprogrampage"}
)

// CheckCustomSend validates a /cgi-bin/message/custom/send body from an app of the given kind,
// in WeChat's order (protocol §9):
//
//  1. empty body (nothing but white space) → 44002;
//  2. not UTF-8, not JSON, not a JSON object, or a known field of the wrong JSON type
//     (`"text":{"content":5}`, `"news":{"articles":{}}`) → 47001, the detail naming the field;
//  3. msgtype missing, unknown, or not a type of the app's kind → 40008;
//  4. touser missing or empty → 40003;
//  5. the fields of the msgtype's object: text.content empty → 44004, longer than
//     lim.MaxTextBytes → 45002; a media_id or thumb_media_id missing → 41006; news.articles missing
//     or empty → 44003, more than lim.MaxNewsArticles → 45008; msgmenu.list missing or empty or
//     longer than lim.MaxMsgMenuItems → 45098, an item's content longer than
//     lim.MaxMsgMenuItemBytes → 45099; any other required field missing → 47001.
//
// Required fields: video media_id and thumb_media_id; music thumb_media_id; mpnewsarticle
// article_id; msgmenu list and each item's id and content; wxcard card_id; miniprogrampage title,
// appid (Official Accounts only), pagepath and thumb_media_id; link title, description, url and
// thumb_url. The object of the msgtype may be absent: it is then judged as empty.
//
// Whether media exist, the user exists and follows, and the window and quota are the caller's
// checks, made after this one with MediaIDs.
//
// Deviation: choices where WeChat's behaviour is not documented (protocol §4.1, §7.2, §9):
//   - A missing required field without its own errcode is 47001, because WeChat answers a body
//     it cannot use with "data format error".
//   - An empty or missing msgmenu.list is 45098, like news, whose missing or empty articles are
//     one error (44003): a server that decodes the body cannot tell the two apart, and the list
//     size check is the one that names the list.
//   - Known fields are type-checked whatever the msgtype, so a wrong type anywhere is 47001 even
//     when msgtype is unknown: WeChat decodes the body before it reads msgtype.
//   - null counts as absent, so `"content":null` is empty content (44004), not a type error.
//   - Of a key written twice the first counts, as a lookup in a parsed document finds it.
//   - The body must be UTF-8; anything else (e.g. GBK) is 47001 rather than garbled text.
//   - Keys match exactly: `"TOUSER"` is an unknown key, and unknown keys are ignored.
//   - News article lengths (45003–45006) are not checked: no limits are documented.
//   - A Mini Program's customservice.kf_account and miniprogrampage.appid are ignored (dropped
//     from the result) after the type check: Mini Programs have neither, and WeChat is not known
//     to reject them.
//   - businessid is accepted from either kind as an integer or a string.
//
// An unknown kind is -1 system error: it is a bug of the caller, not of the bot.
func CheckCustomSend(kind wire.Kind, body []byte, lim SendLimits) (*CustomSend, *wire.Error) {
	var allowed []string
	switch kind {
	case wire.OA:
		allowed = oaMsgTypes
	case wire.MP:
		allowed = mpMsgTypes
	default:
		return nil, wire.Errorf(wire.CodeSystemError, "unknown app kind %q", kind)
	}
	root, aerr := parseBody(body)
	if aerr != nil {
		return nil, aerr
	}
	s := new(CustomSend)
	if aerr := decodeSend(s, root); aerr != nil {
		return nil, aerr
	}
	if aerr := checkMsgType(kind, s.MsgType, allowed); aerr != nil {
		return nil, aerr
	}
	if s.ToUser == "" {
		return nil, wire.Errorf(wire.CodeInvalidOpenID, "touser is missing")
	}
	s.keepOnly(s.MsgType)
	if kind == wire.MP {
		s.KfAccount = ""
		if s.MiniProgramPage != nil {
			s.MiniProgramPage.AppID = ""
		}
	}
	if aerr := s.checkFields(kind, lim.withDefaults()); aerr != nil {
		return nil, aerr
	}
	return s, nil
}

func checkMsgType(kind wire.Kind, msgType string, allowed []string) *wire.Error {
	if msgType == "" {
		return wire.Errorf(wire.CodeInvalidMessageType, "msgtype is missing; it must be one of %s", strings.Join(allowed, ", "))
	}
	for _, t := range allowed {
		if t == msgType {
			return nil
		}
	}
	other, otherName, name := mpMsgTypes, "Mini Programs", "an Official Account"
	if kind == wire.MP {
		other, otherName, name = oaMsgTypes, "Official Accounts", "a Mini Program"
	}
	for _, t := range other {
		if t == msgType {
			return wire.Errorf(wire.CodeInvalidMessageType, "msgtype %q is for %s only; %s can send %s", msgType, otherName, name, strings.Join(allowed, ", "))
		}
	}
	return wire.Errorf(wire.CodeInvalidMessageType, "msgtype %q is not a message type; %s can send %s", textenc.Clip(msgType, 40), name, strings.Join(allowed, ", "))
}

// keepOnly clears every message object but the one msgType names (the others were only
// type-checked), and makes that one empty if it was absent, so that it fails exactly like an
// object without its fields.
func (s *CustomSend) keepOnly(msgType string) {
	keep := *s
	*s = CustomSend{ToUser: keep.ToUser, MsgType: keep.MsgType, KfAccount: keep.KfAccount, BusinessID: keep.BusinessID}
	switch msgType {
	case "text":
		s.Text = orNew(keep.Text)
	case "image":
		s.Image = orNew(keep.Image)
	case "voice":
		s.Voice = orNew(keep.Voice)
	case "video":
		s.Video = orNew(keep.Video)
	case "music":
		s.Music = orNew(keep.Music)
	case "news":
		s.News = keep.News
	case "mpnews":
		s.MpNews = orNew(keep.MpNews)
	case "mpnewsarticle":
		s.MpNewsArticle = orNew(keep.MpNewsArticle)
	case "msgmenu":
		s.MsgMenu = orNew(keep.MsgMenu)
	case "wxcard":
		s.WxCard = orNew(keep.WxCard)
	case "miniprogrampage":
		s.MiniProgramPage = orNew(keep.MiniProgramPage)
	case "link":
		s.Link = orNew(keep.Link)
	}
}

func orNew[T any](p *T) *T {
	if p == nil {
		return new(T)
	}
	return p
}

// checkFields applies the rules of the message type and fills MediaIDs.
func (s *CustomSend) checkFields(kind wire.Kind, lim SendLimits) *wire.Error {
	switch s.MsgType {
	case "text":
		switch n := len(s.Text.Content); {
		case n == 0:
			return wire.Errorf(wire.CodeEmptyContent, "text.content is empty")
		case n > lim.MaxTextBytes:
			return wire.Errorf(wire.CodeContentSizeLimit, "text.content is %d bytes of UTF-8; the limit is %d", n, lim.MaxTextBytes)
		}
	case "image":
		return s.media("image.media_id", s.Image.MediaID)
	case "voice":
		return s.media("voice.media_id", s.Voice.MediaID)
	case "mpnews":
		return s.media("mpnews.media_id", s.MpNews.MediaID)
	case "video":
		return s.media("video.media_id", s.Video.MediaID, "video.thumb_media_id", s.Video.ThumbMediaID)
	case "music":
		return s.media("music.thumb_media_id", s.Music.ThumbMediaID)
	case "news":
		switch n := len(s.News); {
		case n == 0:
			return wire.Errorf(wire.CodeEmptyNewsData, "news.articles is missing or empty")
		case n > lim.MaxNewsArticles:
			return wire.Errorf(wire.CodeArticleSizeLimit, "news.articles has %d articles; a custom message may carry %d", n, lim.MaxNewsArticles)
		}
	case "mpnewsarticle":
		return required("mpnewsarticle.article_id", s.MpNewsArticle.ArticleID)
	case "msgmenu":
		return checkMsgMenu(s.MsgMenu, lim)
	case "wxcard":
		return required("wxcard.card_id", s.WxCard.CardID)
	case "miniprogrampage":
		p := s.MiniProgramPage
		aerr := required("miniprogrampage.title", p.Title)
		if aerr == nil && kind == wire.OA {
			aerr = required("miniprogrampage.appid", p.AppID)
		}
		if aerr == nil {
			aerr = required("miniprogrampage.pagepath", p.PagePath)
		}
		if aerr == nil {
			aerr = s.media("miniprogrampage.thumb_media_id", p.ThumbMediaID)
		}
		return aerr
	case "link":
		l := s.Link
		return required("link.title", l.Title, "link.description", l.Description, "link.url", l.URL, "link.thumb_url", l.ThumbURL)
	}
	return nil
}

// media checks that each of the (path, media id) pairs is set (41006) and records the ids in MediaIDs.
func (s *CustomSend) media(pathsAndIDs ...string) *wire.Error {
	for i := 0; i < len(pathsAndIDs); i += 2 {
		if pathsAndIDs[i+1] == "" {
			return wire.Errorf(wire.CodeMediaIDMissing, "%s is missing", pathsAndIDs[i])
		}
	}
	s.MediaIDs = make([]string, 0, len(pathsAndIDs)/2)
	for i := 1; i < len(pathsAndIDs); i += 2 {
		s.MediaIDs = append(s.MediaIDs, pathsAndIDs[i])
	}
	return nil
}

// required checks that each of the (path, value) pairs is set; a missing field without an errcode
// of its own is 47001.
func required(pathsAndValues ...string) *wire.Error {
	for i := 0; i < len(pathsAndValues); i += 2 {
		if pathsAndValues[i+1] == "" {
			return wire.Errorf(wire.CodeDataFormatError, "%s is missing", pathsAndValues[i])
		}
	}
	return nil
}

func checkMsgMenu(m *SendMsgMenu, lim SendLimits) *wire.Error {
	switch n := len(m.List); {
	case n == 0:
		return wire.Errorf(wire.CodeMsgMenuListSize, "msgmenu.list is missing or empty")
	case n > lim.MaxMsgMenuItems:
		return wire.Errorf(wire.CodeMsgMenuListSize, "msgmenu.list has %d items; the limit is %d", n, lim.MaxMsgMenuItems)
	}
	for i, it := range m.List {
		if it.ID == "" {
			return wire.Errorf(wire.CodeDataFormatError, "msgmenu.list[%d].id is missing", i)
		}
		if it.Content == "" {
			return wire.Errorf(wire.CodeDataFormatError, "msgmenu.list[%d].content is missing", i)
		}
		if n := len(it.Content); n > lim.MaxMsgMenuItemBytes {
			return wire.Errorf(wire.CodeMsgMenuContentSize, "msgmenu.list[%d].content is %d bytes of UTF-8; the limit is %d", i, n, lim.MaxMsgMenuItemBytes)
		}
	}
	return nil
}

// The command values of the typing API (protocol §4.2).
const (
	CommandTyping       = "Typing"
	CommandCancelTyping = "CancelTyping"
)

// Typing is a valid /cgi-bin/message/custom/typing (or /business/typing) body, decoded.
type Typing struct {
	ToUser  string `json:"touser"`
	Command string `json:"command"`
	// BusinessID is the kf sub-merchant of a Mini Program's business typing, written as a JSON
	// integer or a string and kept as its exact decimal text; empty when absent.
	BusinessID string `json:"businessid,omitempty"`
}

// CheckTyping validates a typing body (protocol §4.2): empty → 44002; not a JSON object or a
// known field of the wrong type → 47001; touser missing or empty → 40003; command other than
// exactly Typing or CancelTyping → 45072. Whether the user may see typing (45080, 45081) is the
// caller's check.
func CheckTyping(body []byte) (*Typing, *wire.Error) {
	root, aerr := parseBody(body)
	if aerr != nil {
		return nil, aerr
	}
	t := new(Typing)
	top := path{idx: -1}
	_, aerr = object(top, root, typingKeys, func(key string, v gjson.Result) *wire.Error {
		switch key {
		case "touser":
			return str(top, key, v, &t.ToUser)
		case "command":
			return str(top, key, v, &t.Command)
		default:
			return integerOrString(top, key, v, &t.BusinessID)
		}
	})
	switch {
	case aerr != nil:
		return nil, aerr
	case t.ToUser == "":
		return nil, wire.Errorf(wire.CodeInvalidOpenID, "touser is missing")
	case t.Command == "":
		return nil, wire.Errorf(wire.CodeInvalidCommand, "command is missing; it must be %s or %s", CommandTyping, CommandCancelTyping)
	case t.Command != CommandTyping && t.Command != CommandCancelTyping:
		return nil, wire.Errorf(wire.CodeInvalidCommand, "command is %q; it must be exactly %s or %s", textenc.Clip(t.Command, 40), CommandTyping, CommandCancelTyping)
	}
	return t, nil
}

var typingKeys = []string{"touser", "command", "businessid"}

// Decoding. gjson walks the body without building a tree: the body is validated once, then each
// known object is visited once, and every string without escapes is a substring of one copy of
// the body.

// maxRecursiveValidate bounds the bodies gjson validates: its validator recurses once per nesting
// level, so a huge `[[[[…` could exhaust the stack; the standard library's validator, iterative
// and depth-limited, takes the larger ones. Both accept the same documents, except that the
// larger ones may nest at most 10000 deep.
const maxRecursiveValidate = 64 << 10

// parseBody is the first two checks of every JSON API: non-empty (44002), then a UTF-8 JSON object (47001).
func parseBody(body []byte) (gjson.Result, *wire.Error) {
	if len(bytes.TrimLeft(body, " \t\r\n")) == 0 {
		return gjson.Result{}, wire.Errorf(wire.CodeEmptyPostData, "the body is empty")
	}
	if !utf8.Valid(body) {
		return gjson.Result{}, wire.Errorf(wire.CodeDataFormatError, "the body is not UTF-8 (at byte %d)", invalidUTF8At(body))
	}
	var valid bool
	if len(body) <= maxRecursiveValidate {
		valid = gjson.ValidBytes(body)
	} else {
		valid = json.Valid(body)
	}
	if !valid {
		return gjson.Result{}, wire.Errorf(wire.CodeDataFormatError, "the body is not valid JSON: %s", syntaxError(body))
	}
	// Copied once, so the decoded strings do not alias a buffer the caller may reuse.
	root := gjson.Parse(string(body))
	if !root.IsObject() {
		return gjson.Result{}, wire.Errorf(wire.CodeDataFormatError, "the body is a JSON %s; it must be an object", typeName(root))
	}
	return root, nil
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

func syntaxError(body []byte) string {
	var raw json.RawMessage
	err := json.Unmarshal(body, &raw)
	if se := (*json.SyntaxError)(nil); errors.As(err, &se) {
		// Offset counts the bytes read, the bad one included; the detail names the bad one from 0,
		// as for UTF-8 errors.
		return fmt.Sprintf("%s (at byte %d)", se.Error(), max(se.Offset-1, 0))
	}
	if err != nil {
		return err.Error()
	}
	return "rejected"
}

// path names a place in the body for a detail. It is built into a string only for an error.
type path struct {
	base string // "" for the top level, "text", "news.articles", …
	idx  int    // the array index of base, or -1
}

func (p path) String() string {
	if p.idx < 0 {
		return p.base
	}
	return p.base + "[" + strconv.Itoa(p.idx) + "]"
}

func (p path) dot(key string) string {
	if p.base == "" {
		return key
	}
	return p.String() + "." + key
}

func typeName(v gjson.Result) string {
	switch v.Type {
	case gjson.Null:
		return "null"
	case gjson.False, gjson.True:
		return "boolean"
	case gjson.Number:
		return "number"
	case gjson.String:
		return "string"
	}
	if v.IsArray() {
		return "array"
	}
	return "object"
}

func typeErr(where, want string, v gjson.Result) *wire.Error {
	if v.Type == gjson.Null {
		return wire.Errorf(wire.CodeDataFormatError, "%s must be %s, not null", where, want)
	}
	return wire.Errorf(wire.CodeDataFormatError, "%s must be %s, not %s %s", where, want, aOrAn(typeName(v)), oneLine(textenc.Clip(v.Raw, 40)))
}

func aOrAn(noun string) string {
	if strings.IndexByte("aeiou", noun[0]) >= 0 {
		return "an " + noun
	}
	return "a " + noun
}

// object visits the first occurrence of each of keys in the object v; other keys are ignored.
// It reports whether v is an object (null and absent are not, and are no error).
func object(p path, v gjson.Result, keys []string, visit func(key string, v gjson.Result) *wire.Error) (bool, *wire.Error) {
	switch {
	case !v.Exists() || v.Type == gjson.Null:
		return false, nil
	case !v.IsObject():
		return false, typeErr(p.String(), "an object", v)
	}
	var seen uint32
	var aerr *wire.Error
	v.ForEach(func(k, val gjson.Result) bool {
		for i, key := range keys {
			if k.Str == key {
				if seen&(1<<i) == 0 {
					seen |= 1 << i
					aerr = visit(key, val)
				}
				break
			}
		}
		return aerr == nil
	})
	return true, aerr
}

// stringsObject decodes an object whose known fields are all strings, keys[i] into dst[i].
func stringsObject(p path, v gjson.Result, keys []string, dst ...*string) (bool, *wire.Error) {
	return object(p, v, keys, func(key string, val gjson.Result) *wire.Error {
		for i, k := range keys {
			if k == key {
				return str(p, key, val, dst[i])
			}
		}
		return nil
	})
}

func str(p path, key string, v gjson.Result, dst *string) *wire.Error {
	switch v.Type {
	case gjson.String:
		*dst = v.Str
	case gjson.Null:
	default:
		return typeErr(p.dot(key), "a string", v)
	}
	return nil
}

// integerOrString reads an id SDKs write either way. A number must be a 64-bit integer and is kept
// as written, never through a float.
func integerOrString(p path, key string, v gjson.Result, dst *string) *wire.Error {
	switch v.Type {
	case gjson.String:
		*dst = v.Str
	case gjson.Number:
		if _, err := strconv.ParseInt(v.Raw, 10, 64); err != nil {
			return typeErr(p.dot(key), "a 64-bit integer or a string", v)
		}
		*dst = v.Raw
	case gjson.Null:
	default:
		return typeErr(p.dot(key), "an integer or a string", v)
	}
	return nil
}

// array visits each element of the array v. It reports whether v is an array (null and absent
// are not, and are no error).
func array(p path, v gjson.Result, visit func(i int, v gjson.Result) *wire.Error) (bool, *wire.Error) {
	switch {
	case !v.Exists() || v.Type == gjson.Null:
		return false, nil
	case !v.IsArray():
		return false, typeErr(p.String(), "an array", v)
	}
	var aerr *wire.Error
	i := 0
	v.ForEach(func(_, e gjson.Result) bool {
		aerr = visit(i, e)
		i++
		return aerr == nil
	})
	return true, aerr
}

var (
	sendKeys          = []string{"touser", "msgtype", "customservice", "businessid", "text", "image", "voice", "video", "music", "news", "mpnews", "mpnewsarticle", "msgmenu", "wxcard", "miniprogrampage", "link"}
	customServiceKeys = []string{"kf_account"}
	contentKeys       = []string{"content"}
	mediaKeys         = []string{"media_id"}
	videoKeys         = []string{"media_id", "thumb_media_id", "title", "description"}
	musicKeys         = []string{"title", "description", "musicurl", "hqmusicurl", "thumb_media_id"}
	newsKeys          = []string{"articles"}
	articleKeys       = []string{"title", "description", "url", "picurl"}
	articleIDKeys     = []string{"article_id"}
	msgMenuKeys       = []string{"head_content", "list", "tail_content"}
	menuItemKeys      = []string{"id", "content"}
	cardKeys          = []string{"card_id"}
	miniProgramKeys   = []string{"title", "appid", "pagepath", "thumb_media_id"}
	linkKeys          = []string{"title", "description", "url", "thumb_url"}
)

// decodeSend type-checks every known field of the body, whatever the msgtype, and decodes it into s.
func decodeSend(s *CustomSend, root gjson.Result) *wire.Error {
	top := path{idx: -1}
	_, aerr := object(top, root, sendKeys, func(key string, v gjson.Result) *wire.Error {
		p := path{base: key, idx: -1}
		switch key {
		case "touser":
			return str(top, key, v, &s.ToUser)
		case "msgtype":
			return str(top, key, v, &s.MsgType)
		case "businessid":
			return integerOrString(top, key, v, &s.BusinessID)
		case "customservice":
			_, aerr := stringsObject(p, v, customServiceKeys, &s.KfAccount)
			return aerr
		case "text":
			x := new(SendText)
			return keep(&s.Text, x)(stringsObject(p, v, contentKeys, &x.Content))
		case "image":
			x := new(SendMedia)
			return keep(&s.Image, x)(stringsObject(p, v, mediaKeys, &x.MediaID))
		case "voice":
			x := new(SendMedia)
			return keep(&s.Voice, x)(stringsObject(p, v, mediaKeys, &x.MediaID))
		case "mpnews":
			x := new(SendMedia)
			return keep(&s.MpNews, x)(stringsObject(p, v, mediaKeys, &x.MediaID))
		case "video":
			x := new(SendVideo)
			return keep(&s.Video, x)(stringsObject(p, v, videoKeys, &x.MediaID, &x.ThumbMediaID, &x.Title, &x.Description))
		case "music":
			x := new(SendMusic)
			return keep(&s.Music, x)(stringsObject(p, v, musicKeys, &x.Title, &x.Description, &x.MusicURL, &x.HQMusicURL, &x.ThumbMediaID))
		case "news":
			return decodeNews(s, p, v)
		case "mpnewsarticle":
			x := new(SendArticleID)
			return keep(&s.MpNewsArticle, x)(stringsObject(p, v, articleIDKeys, &x.ArticleID))
		case "msgmenu":
			return decodeMsgMenu(s, p, v)
		case "wxcard":
			x := new(SendCard)
			return keep(&s.WxCard, x)(stringsObject(p, v, cardKeys, &x.CardID))
		case "miniprogrampage":
			x := new(SendMiniProgramPage)
			return keep(&s.MiniProgramPage, x)(stringsObject(p, v, miniProgramKeys, &x.Title, &x.AppID, &x.PagePath, &x.ThumbMediaID))
		case "link":
			x := new(SendLink)
			return keep(&s.Link, x)(stringsObject(p, v, linkKeys, &x.Title, &x.Description, &x.URL, &x.ThumbURL))
		}
		return nil
	})
	return aerr
}

// keep stores x in *dst when its object was present; null leaves *dst nil, as absent.
func keep[T any](dst **T, x *T) func(present bool, aerr *wire.Error) *wire.Error {
	return func(present bool, aerr *wire.Error) *wire.Error {
		if present {
			*dst = x
		}
		return aerr
	}
}

func decodeNews(s *CustomSend, p path, v gjson.Result) *wire.Error {
	_, aerr := object(p, v, newsKeys, func(key string, v gjson.Result) *wire.Error {
		ap := path{base: "news.articles", idx: -1}
		_, aerr := array(ap, v, func(i int, e gjson.Result) *wire.Error {
			var a SendArticle
			ip := path{base: ap.base, idx: i}
			ok, aerr := stringsObject(ip, e, articleKeys, &a.Title, &a.Description, &a.URL, &a.PicURL)
			if aerr == nil && !ok {
				aerr = typeErr(ip.String(), "an object", e)
			}
			s.News = append(s.News, a)
			return aerr
		})
		return aerr
	})
	return aerr
}

func decodeMsgMenu(s *CustomSend, p path, v gjson.Result) *wire.Error {
	var m SendMsgMenu
	present, aerr := object(p, v, msgMenuKeys, func(key string, v gjson.Result) *wire.Error {
		switch key {
		case "head_content":
			return str(p, key, v, &m.HeadContent)
		case "tail_content":
			return str(p, key, v, &m.TailContent)
		}
		lp := path{base: "msgmenu.list", idx: -1}
		_, aerr := array(lp, v, func(i int, e gjson.Result) *wire.Error {
			var it SendMenuItem
			ip := path{base: lp.base, idx: i}
			ok, aerr := stringsObject(ip, e, menuItemKeys, &it.ID, &it.Content)
			if aerr == nil && !ok {
				aerr = typeErr(ip.String(), "an object", e)
			}
			m.List = append(m.List, it)
			return aerr
		})
		return aerr
	})
	if present && aerr == nil {
		s.MsgMenu = &m
	}
	return aerr
}

// DecodeBody is the one reader of a JSON API body: the checks of every JSON API (empty, even
// of white space, is 44002; not a UTF-8 JSON object is 47001), then the object decoded into v,
// where a field of the wrong JSON type is 47001 too.
func DecodeBody(body []byte, v any) *wire.Error {
	if _, werr := parseBody(body); werr != nil {
		return werr
	}
	if err := json.Unmarshal(body, v); err != nil {
		return wire.Errorf(wire.CodeDataFormatError, "the body does not fit the API: %v", err)
	}
	return nil
}
