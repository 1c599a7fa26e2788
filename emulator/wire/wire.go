// Package wire is the message model of wxemu and its codecs: inbound messages and events
// (protocol §2), passive replies (protocol §3), in XML and JSON, and the errcode catalog (§7).
//
// Of the project it imports only the leaf textenc, which escapes strings. Encoders append to a
// caller's buffer and avoid reflection, because pushing a message is the emulator's hot path.
package wire

// Kind is the kind of account a message belongs to.
type Kind string

const (
	// OA is an Official Account (公众号 / 服务号). Pushes are XML only.
	OA Kind = "oa"
	// MP is a Mini Program (小程序). Pushes are XML or JSON.
	MP Kind = "mp"
)

// Format is the data format of pushes and replies.
type Format string

const (
	XML  Format = "xml"
	JSON Format = "json"
)

// Mode is the message encryption mode of an app (protocol §1.4).
type Mode string

const (
	Plain  Mode = "plain"  // 明文
	Compat Mode = "compat" // 兼容: plaintext fields plus Encrypt
	Safe   Mode = "safe"   // 安全: ToUserName and Encrypt only
)

// Message is an inbound message or event, flat, exactly as WeChat pushes it (protocol §2).
// The zero value of a field means "absent": encoders leave it out.
//
// JSON tags are the PascalCase keys WeChat uses for Mini Program JSON pushes, so the control API
// can accept the same shape.
type Message struct {
	ToUserName   string `json:"ToUserName"`
	FromUserName string `json:"FromUserName"`
	CreateTime   int64  `json:"CreateTime"`
	MsgType      string `json:"MsgType"`
	Event        string `json:"Event,omitempty"`

	// Normal messages.
	Content      string `json:"Content,omitempty"`
	MsgId        int64  `json:"MsgId,omitempty"` // 64-bit, kept exact in JSON
	MsgIdText    string `json:"-"`               // a MsgId that is not an integer (cloud functions send "49d7…_1555684067", §8.1); written when MsgId is 0
	MsgDataId    string `json:"MsgDataId,omitempty"`
	Idx          string `json:"Idx,omitempty"`
	BizMsgMenuID string `json:"bizmsgmenuid,omitempty"` // the tapped msgmenu item id; lowercase on the wire
	PicUrl       string `json:"PicUrl,omitempty"`
	MediaId      string `json:"MediaId,omitempty"`
	Format       string `json:"Format,omitempty"`
	MediaId16K   string `json:"MediaId16K,omitempty"`
	Recognition  string `json:"Recognition,omitempty"`
	ThumbMediaId string `json:"ThumbMediaId,omitempty"`
	LocationX    string `json:"Location_X,omitempty"` // decimal text, written bare (a number) on the wire
	LocationY    string `json:"Location_Y,omitempty"` // decimal text, written bare
	Scale        string `json:"Scale,omitempty"`      // integer text, written bare
	Label        string `json:"Label,omitempty"`
	Title        string `json:"Title,omitempty"`
	Description  string `json:"Description,omitempty"`
	Url          string `json:"Url,omitempty"`

	// Mini Program messages and events.
	AppId       string `json:"AppId,omitempty"`
	PagePath    string `json:"PagePath,omitempty"`
	ThumbUrl    string `json:"ThumbUrl,omitempty"`
	SessionFrom string `json:"SessionFrom,omitempty"`
	BusinessId  string `json:"BusinessId,omitempty"`

	// Events.
	EventKey         string            `json:"EventKey,omitempty"`
	Ticket           string            `json:"Ticket,omitempty"`
	Latitude         string            `json:"Latitude,omitempty"`  // decimal text, written bare
	Longitude        string            `json:"Longitude,omitempty"` // decimal text, written bare
	Precision        string            `json:"Precision,omitempty"` // decimal text, written bare
	MenuId           string            `json:"MenuId,omitempty"`
	ScanCodeInfo     *ScanCodeInfo     `json:"ScanCodeInfo,omitempty"`
	SendPicsInfo     *SendPicsInfo     `json:"SendPicsInfo,omitempty"`
	SendLocationInfo *SendLocationInfo `json:"SendLocationInfo,omitempty"`
	KfAccount        string            `json:"KfAccount,omitempty"`
	FromKfAccount    string            `json:"FromKfAccount,omitempty"`
	ToKfAccount      string            `json:"ToKfAccount,omitempty"`

	// Encrypt is the ciphertext of the whole message in compatible and safe mode (protocol §1.6).
	Encrypt string `json:"Encrypt,omitempty"`
}

// ScanCodeInfo is the payload of scancode_push and scancode_waitmsg events.
type ScanCodeInfo struct {
	ScanType   string `json:"ScanType"`
	ScanResult string `json:"ScanResult"`
}

// SendPicsInfo is the payload of the pic_* events.
type SendPicsInfo struct {
	Count   int      `json:"Count"`
	PicList []string `json:"PicList"` // the PicMd5Sum of each picture; XML: <PicList><item><PicMd5Sum>…
}

// SendLocationInfo is the payload of location_select. Every field is CDATA text on the wire.
type SendLocationInfo struct {
	LocationX string `json:"Location_X"`
	LocationY string `json:"Location_Y"`
	Scale     string `json:"Scale"`
	Label     string `json:"Label"`
	Poiname   string `json:"Poiname"`
}

// IsEvent reports whether the message is an event rather than a user message.
func (m *Message) IsEvent() bool { return m.MsgType == "event" }

// Reply is a passive reply (protocol §3) as a bot should build it.
type Reply struct {
	ToUserName   string
	FromUserName string
	CreateTime   int64
	MsgType      string

	Content   string     // text
	Image     *Media     // image
	Voice     *Media     // voice
	Video     *Video     // video
	Music     *Music     // music
	Articles  []Article  // news; ArticleCount is written from len(Articles)
	TransInfo *TransInfo // transfer_customer_service, optional
}

// Media names a media id in an image or voice reply.
type Media struct {
	MediaId string `json:"MediaId"`
}

// Video is the body of a video reply.
type Video struct {
	MediaId     string `json:"MediaId"`
	Title       string `json:"Title,omitempty"`
	Description string `json:"Description,omitempty"`
}

// Music is the body of a music reply.
type Music struct {
	Title        string `json:"Title,omitempty"`
	Description  string `json:"Description,omitempty"`
	MusicUrl     string `json:"MusicUrl,omitempty"`
	HQMusicUrl   string `json:"HQMusicUrl,omitempty"`
	ThumbMediaId string `json:"ThumbMediaId"`
}

// Article is one item of a news reply.
type Article struct {
	Title       string `json:"Title"`
	Description string `json:"Description"`
	PicUrl      string `json:"PicUrl"`
	Url         string `json:"Url"`
}

// TransInfo names the kf account a transfer goes to.
type TransInfo struct {
	KfAccount string `json:"KfAccount"`
}

// Reply types (protocol §3.2).
const (
	ReplyText     = "text"
	ReplyImage    = "image"
	ReplyVoice    = "voice"
	ReplyVideo    = "video"
	ReplyMusic    = "music"
	ReplyNews     = "news"
	ReplyTransfer = "transfer_customer_service"
)

// RawReply is a passive reply as the bot wrote it: every scalar is kept as the text it was
// written as, so that rules can tell an absent CreateTime from one in milliseconds or one that is
// not a number. ParseReply fills it from XML or JSON.
type RawReply struct {
	// Root is the name of the XML root element ("xml" when well formed); empty for JSON.
	Root string

	ToUserName   string
	FromUserName string
	CreateTime   string
	MsgType      string
	Content      string
	Image        *RawMedia
	Voice        *RawMedia
	Video        *RawVideo
	Music        *RawMusic
	ArticleCount string
	Articles     []RawArticle
	TransInfo    *RawTransInfo

	// Envelope fields: present when the body is an encrypted reply (protocol §1.6).
	// JSON keys are matched case-insensitively (EasyWeChat writes them in lowercase).
	Encrypt      string
	MsgSignature string
	TimeStamp    string
	Nonce        string

	// Unknown lists the top-level element (or key) names that belong to no reply type, in order.
	Unknown []string
	// Duplicate lists the top-level names that appeared more than once.
	Duplicate []string
}

// RawMedia is <Image> or <Voice> as written.
type RawMedia struct{ MediaId string }

// RawVideo is <Video> as written.
type RawVideo struct{ MediaId, Title, Description string }

// RawMusic is <Music> as written.
type RawMusic struct{ Title, Description, MusicUrl, HQMusicUrl, ThumbMediaId string }

// RawArticle is one <item> of <Articles> as written.
type RawArticle struct{ Title, Description, PicUrl, Url string }

// RawTransInfo is <TransInfo> as written.
type RawTransInfo struct{ KfAccount string }

// IsEnvelope reports whether the reply is an encrypted envelope.
func (r *RawReply) IsEnvelope() bool { return r.Encrypt != "" }
