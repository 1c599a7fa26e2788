package wire

import (
	"slices"
	"strconv"
	"time"

	"github.com/wxemu/wxemu/emulator/textenc"
)

// Error codes of the WeChat API (protocol §7.2, §6.1), named for what they say.
const (
	CodeSystemError = -1
	CodeOK          = 0

	CodeInvalidCredential      = 40001
	CodeInvalidGrantType       = 40002
	CodeInvalidOpenID          = 40003
	CodeInvalidMediaType       = 40004
	CodeInvalidFileType        = 40005
	CodeInvalidMediaSize       = 40006
	CodeInvalidMediaID         = 40007
	CodeInvalidMessageType     = 40008
	CodeInvalidAppID           = 40013
	CodeInvalidAccessToken     = 40014
	CodeInvalidURL             = 40066
	CodeInvalidAppSecret       = 40125
	CodeIPNotInWhitelist       = 40164
	CodeInvalidAccountType     = 40200
	CodeAccessTokenMissing     = 41001
	CodeAppIDMissing           = 41002
	CodeAppSecretMissing       = 41004
	CodeMediaDataMissing       = 41005
	CodeMediaIDMissing         = 41006
	CodeAccessTokenExpired     = 42001
	CodeRequireGET             = 43001
	CodeRequirePOST            = 43002
	CodeRequireSubscribe       = 43004
	CodeRequireUnblacklist     = 43019
	CodeEmptyMediaData         = 44001
	CodeEmptyPostData          = 44002
	CodeEmptyNewsData          = 44003
	CodeEmptyContent           = 44004
	CodeMediaSizeLimit         = 45001
	CodeContentSizeLimit       = 45002
	CodeTitleSizeLimit         = 45003
	CodeDescriptionSizeLimit   = 45004
	CodeURLSizeLimit           = 45005
	CodePicURLSizeLimit        = 45006
	CodePlaytimeLimit          = 45007
	CodeArticleSizeLimit       = 45008
	CodeAPIDailyQuota          = 45009
	CodeAPIMinuteQuota         = 45011
	CodeOutOfTimeLimit         = 45015
	CodeOutOfResponseCount     = 45047
	CodeInvalidCommand         = 45072
	CodeTypingNeedsInteraction = 45080
	CodeAlreadyTyping          = 45081
	CodeSendPunished           = 45094
	CodeMsgMenuListSize        = 45098
	CodeMsgMenuContentSize     = 45099
	CodeMediaDataNotExist      = 46001
	CodeDataFormatError        = 47001
	CodeAPIUnauthorized        = 48001
	CodeUserBlockReceive       = 48002
	CodeAPIForbidden           = 48004
	CodeMsgTypeNoPermission    = 48008
	CodeUserUnauthorized       = 50001
	CodeUserLimited            = 50002
	CodeUserUnsubscribed       = 50005

	// The old kf account API (kfaccount/add, update, del, uploadheadimg).
	CodeKfSystemError        = 61450
	CodeKfInvalidParameter   = 61451
	CodeKfInvalidAccount     = 61452
	CodeKfAccountExisted     = 61453
	CodeKfAccountLength      = 61454
	CodeKfAccountIllegalChar = 61455
	CodeKfAccountCountLimit  = 61456
	CodeKfInvalidFileType    = 61457

	// The new kf API (customservice/kfaccount, kfsession, msgrecord).
	CodeKfNotEnabled            = 65400
	CodeKfAccountInvalid        = 65401
	CodeKfAccountNotBound       = 65402
	CodeKfIllegalNickname       = 65403
	CodeKfIllegalAccount        = 65404
	CodeKfAccountNumberLimit    = 65405
	CodeKfAccountExists         = 65406
	CodeKfAlreadyWorker         = 65407
	CodeKfAlreadyInvited        = 65408
	CodeKfWechatAccountInvalid  = 65409
	CodeKfWorkerBindLimit       = 65410
	CodeKfInvitationPending     = 65411
	CodeKfAccountAlreadyBound   = 65412
	CodeKfNoSession             = 65413
	CodeKfServedByAnotherWorker = 65414
	CodeKfWorkerOffline         = 65415
	CodeKfParamInvalid          = 65416
	CodeKfTimeRangeTooLong      = 65417

	// wx-server-sdk in a cloud function (protocol §8.2).
	CodeCloudNoPermission = -604101

	// A cloud-hosting container's open-API service (protocol §8.5). No source gives their
	// errmsg, so they have no catalog text (see ErrorBody).
	CodeOpenAPINotAllowed    = 85107 // the API is not in the service's allow list
	CodeOpenAPITokenNotReady = 85113 // token not ready; wxemu does not emulate it
)

// catalog holds each errmsg as the server writes it before the rid suffix, historic typos
// ("meida", "exsited", "kf_acount") included. Codes whose text no source confirms (40243,
// 45037, 45038, 70000, 85107, 85113, -604100) are not here: emitting an invented text would
// teach a bot to match on it.
var catalog = map[int]string{
	CodeSystemError: "system error",
	CodeOK:          "ok",

	// Deviation: since 2023 the server appends ", could get access_token by getStableAccessToken,
	// more details at https://mmbizurl.cn/s/JtxxFh33r" (one source, protocol §7.2); the
	// confirmed text is kept.
	CodeInvalidCredential:  "invalid credential, access_token is invalid or not latest",
	CodeInvalidGrantType:   "invalid grant_type",
	CodeInvalidOpenID:      "invalid openid",
	CodeInvalidMediaType:   "invalid media type",
	CodeInvalidFileType:    "invalid file type",
	CodeInvalidMediaSize:   "invalid meida size",
	CodeInvalidMediaID:     "invalid media_id",
	CodeInvalidMessageType: "invalid message type",
	CodeInvalidAppID:       "invalid appid",
	CodeInvalidAccessToken: "invalid access_token",
	CodeInvalidURL:         "invalid url",
	// The doc link is part of the server's text (protocol §4.3, §7.2); the rid follows it.
	CodeInvalidAppSecret: "invalid appsecret, view more at http://t.cn/RAEkdVq",
	// The server puts the caller's address in place of <ip>; see InvalidIPErrmsg.
	CodeIPNotInWhitelist:       "invalid ip <ip> ipv6 ::ffff:<ip>, not in whitelist",
	CodeInvalidAccountType:     "invalid account type",
	CodeAccessTokenMissing:     "access_token missing",
	CodeAppIDMissing:           "appid missing",
	CodeAppSecretMissing:       "appsecret missing",
	CodeMediaDataMissing:       "media data missing",
	CodeMediaIDMissing:         "media_id missing",
	CodeAccessTokenExpired:     "access_token expired",
	CodeRequireGET:             "require GET method",
	CodeRequirePOST:            "require POST method",
	CodeRequireSubscribe:       "require subscribe",
	CodeRequireUnblacklist:     "require remove blacklist",
	CodeEmptyMediaData:         "empty media data",
	CodeEmptyPostData:          "empty post data",
	CodeEmptyNewsData:          "empty news data",
	CodeEmptyContent:           "empty content",
	CodeMediaSizeLimit:         "media size out of limit",
	CodeContentSizeLimit:       "content size out of limit",
	CodeTitleSizeLimit:         "title size out of limit",
	CodeDescriptionSizeLimit:   "description size out of limit",
	CodeURLSizeLimit:           "url size out of limit",
	CodePicURLSizeLimit:        "picurl size out of limit",
	CodePlaytimeLimit:          "playtime out of limit",
	CodeArticleSizeLimit:       "article size out of limit",
	CodeAPIDailyQuota:          "reach max api daily quota limit",
	CodeAPIMinuteQuota:         "api minute-quota reach limit, must slower, retry next minute",
	CodeOutOfTimeLimit:         "response out of time limit or subscription is canceled",
	CodeOutOfResponseCount:     "out of response count limit",
	CodeInvalidCommand:         "invalid command",
	CodeTypingNeedsInteraction: "need sending message to user, or recving message from user in the last 30 seconds before typing",
	CodeAlreadyTyping:          "you are already typing",
	CodeSendPunished:           "not allow to send custom message when user enter session, for punishment",
	CodeMsgMenuListSize:        "msgmenu list size is out of limit",
	CodeMsgMenuContentSize:     "msgmenu item content size is out of limit",
	CodeMediaDataNotExist:      "media data no exist",
	CodeDataFormatError:        "data format error",
	CodeAPIUnauthorized:        "api unauthorized",
	CodeUserBlockReceive:       "user block receive message",
	CodeAPIForbidden:           "api forbidden for irregularities, view detail on mp.weixin.qq.com",
	CodeMsgTypeNoPermission:    "no permission for this msgtype",
	CodeUserUnauthorized:       "api unauthorized or user unauthorized",
	CodeUserLimited:            "user limited",
	CodeUserUnsubscribed:       "user is unsubscribed",

	CodeKfSystemError:        "system error",
	CodeKfInvalidParameter:   "invalid parameter",
	CodeKfInvalidAccount:     "invalid kf_account",
	CodeKfAccountExisted:     "kf_account exsited",
	CodeKfAccountLength:      "invalid kf_acount length",
	CodeKfAccountIllegalChar: "illegal character in kf_account",
	CodeKfAccountCountLimit:  "kf_account count exceeded",
	CodeKfInvalidFileType:    "invalid file type",

	CodeKfNotEnabled:            "please enable new custom service, or wait for a while if you have enabled",
	CodeKfAccountInvalid:        "invalid custom service account",
	CodeKfAccountNotBound:       "the custom service account need to bind a wechat user",
	CodeKfIllegalNickname:       "illegal nickname",
	CodeKfIllegalAccount:        "illegal custom service account",
	CodeKfAccountNumberLimit:    "custom service account number reach limit",
	CodeKfAccountExists:         "custom service account exists",
	CodeKfAlreadyWorker:         "the wechat user have been one of your workers",
	CodeKfAlreadyInvited:        "you have already invited the wechat user",
	CodeKfWechatAccountInvalid:  "wechat account invalid",
	CodeKfWorkerBindLimit:       "too many custom service accounts bound by the worker",
	CodeKfInvitationPending:     "a effective invitation to bind the custom service account exists",
	CodeKfAccountAlreadyBound:   "the custom service account have been bound by a wechat user",
	CodeKfNoSession:             "no effective session for the customer",
	CodeKfServedByAnotherWorker: "another worker is serving the customer",
	CodeKfWorkerOffline:         "the worker is not online",
	CodeKfParamInvalid:          "param invalid, please check",
	CodeKfTimeRangeTooLong:      "it is too long from the starttime to endtime",

	CodeCloudNoPermission: "function has no permission to call this API",
}

var codes = func() []int {
	out := make([]int, 0, len(catalog))
	for c := range catalog {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}()

// Errmsg returns the exact errmsg WeChat sends with code (protocol §7), without any rid suffix,
// and whether the code is in the catalog.
func Errmsg(code int) (string, bool) {
	s, ok := catalog[code]
	return s, ok
}

// Codes lists every code of the catalog in ascending order. The slice is the caller's.
func Codes() []int { return slices.Clone(codes) }

// InvalidIPErrmsg is the errmsg of 40164 for a caller at ip (IPv4).
func InvalidIPErrmsg(ip string) string {
	return "invalid ip " + ip + " ipv6 ::ffff:" + ip + ", not in whitelist"
}

// Rid is the value of the current errmsg suffix " rid: …" (protocol §7.1): three lowercase hex
// segments without zero padding, the first the unix time of t (truncated to 32 bits), the others
// r1 and r2, which the caller draws from its random source.
func Rid(t time.Time, r1, r2 uint32) string {
	var b [26]byte
	return string(appendRid(b[:0], t, r1, r2))
}

func appendRid(dst []byte, t time.Time, r1, r2 uint32) []byte {
	dst = strconv.AppendUint(dst, uint64(uint32(t.Unix())), 16)
	dst = append(dst, '-')
	dst = strconv.AppendUint(dst, uint64(r1), 16)
	dst = append(dst, '-')
	return strconv.AppendUint(dst, uint64(r2), 16)
}

// ErrorBody appends the API answer for code: {"errcode":N,"errmsg":"TEXT rid: RID"}. Code 0 is
// {"errcode":0,"errmsg":"ok"}, without a rid, as WeChat writes it; an empty rid leaves the suffix
// out. A code outside the catalog gets an empty errmsg and no rid: the catalog has no text for
// it, and an invented one would be worse than a visibly empty one (map unknown failures to
// CodeSystemError before calling).
func ErrorBody(dst []byte, code int, rid string) []byte {
	msg, ok := catalog[code]
	if !ok || code == CodeOK {
		rid = ""
	}
	return AppendErrorBody(dst, code, msg, rid)
}

// AppendErrorBody appends {"errcode":N,"errmsg":"ERRMSG rid: RID"} with any errmsg, for the texts
// that carry a value (InvalidIPErrmsg); an empty rid leaves the suffix out.
func AppendErrorBody(dst []byte, code int, errmsg, rid string) []byte {
	dst = append(dst, `{"errcode":`...)
	dst = strconv.AppendInt(dst, int64(code), 10)
	dst = append(dst, `,"errmsg":`...)
	dst = textenc.AppendJSONString(dst, errmsg)
	if rid != "" {
		// Reopen the string to add the suffix without building errmsg+rid.
		dst = append(dst[:len(dst)-1], " rid: "...)
		open := len(dst)
		dst = textenc.AppendJSONString(dst, rid)
		copy(dst[open:], dst[open+1:])
		dst = dst[:len(dst)-1]
	}
	return append(dst, '}')
}
