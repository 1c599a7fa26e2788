// Package rules judges what a bot sends back to WeChat against the documented protocol and
// names every problem as a Violation with a stable rule id.
package rules

import (
	"fmt"
	"sort"
)

// Severity says whether a violation fails a check.
type Severity string

const (
	// Error: real WeChat would reject or mishandle this; a bot with an error is broken.
	Error Severity = "error"
	// Warning: real WeChat tolerates this, or the docs leave it open; worth fixing.
	Warning Severity = "warning"
)

// Violation is one problem found in a bot's answer or API call.
type Violation struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	Ref      string   `json:"ref"`
}

func (v Violation) String() string {
	return fmt.Sprintf("%s [%s] %s (protocol %s)", v.Severity, v.Rule, v.Message, v.Ref)
}

// Rule is an entry of the catalog: every rule id wxemu can report, its severity and the
// protocol section it rests on.
type Rule struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Ref      string   `json:"ref"`
	Summary  string   `json:"summary"`
}

// The rule ids. They are stable: scenarios and specs name them to tolerate or expect a violation.
const (
	PushTimeout    = "push.timeout"
	PushConnection = "push.connection"
	PushRetried    = "push.retried"
	// PushCanceled: wxemu itself cut the push short (it is shutting down, or whoever asked for
	// the push went away); nothing the bot did.
	PushCanceled = "push.canceled"
	// PushAnswerUnreadable: the bot answered, but the answer could not be read whole.
	PushAnswerUnreadable = "push.answer.unreadable"

	ReplyStatus          = "reply.http.status"
	ReplyTooLarge        = "reply.body.size"
	ReplyWhitespace      = "reply.body.whitespace"
	ReplySyntax          = "reply.syntax"
	ReplyEncoding        = "reply.encoding"
	ReplyFormat          = "reply.format"
	ReplyRoot            = "reply.root"
	ReplySafePlaintext   = "reply.safe.plaintext"
	ReplyEnvUnexpected   = "reply.envelope.unexpected"
	ReplyEnvIncomplete   = "reply.envelope.incomplete"
	ReplyEnvSignature    = "reply.envelope.signature"
	ReplyEnvDecrypt      = "reply.envelope.decrypt"
	ReplyEnvAppID        = "reply.envelope.appid"
	ReplyHeaderSwap      = "reply.header.swap"
	ReplyHeaderTo        = "reply.header.to"
	ReplyHeaderFrom      = "reply.header.from"
	ReplyCreateTime      = "reply.createtime.invalid"
	ReplyCreateTimeMilli = "reply.createtime.millis"
	ReplyCreateTimeSkew  = "reply.createtime.skew"
	ReplyMsgType         = "reply.msgtype.unknown"
	ReplyMPContent       = "reply.msgtype.mp"
	ReplyFieldMissing    = "reply.field.missing"
	ReplyFieldUnknown    = "reply.field.unknown"
	ReplyFieldDuplicate  = "reply.field.duplicate"
	ReplyNewsCount       = "reply.news.count"
	ReplyNewsTooMany     = "reply.news.too_many"
	ReplyTextTooLong     = "reply.text.too_long"
	ReplyTransferEvent   = "reply.transfer.event"
	ReplyTransferKf      = "reply.transfer.kf_account"

	FunctionTimeout     = "function.timeout"
	FunctionError       = "function.error"
	FunctionLoad        = "function.load"
	FunctionResultSize  = "function.result.size"
	FunctionResultShape = "function.result.shape"
	FunctionNetwork     = "function.network"

	VerifyEchostr = "verify.echostr"
	VerifyStatus  = "verify.status"

	// A duplicate delivery of a message (a fault rule's push: duplicate) the bot acted on again.
	PushDuplicateReply = "push.duplicate.reply"
	PushDuplicateSends = "push.duplicate.sends"
)

var catalog = map[string]Rule{}

func init() {
	for _, r := range []Rule{
		{PushTimeout, Error, "§3.1", "no answer within the deadline, on every attempt"},
		{PushConnection, Error, "§3.1", "the callback URL could not be reached"},
		{PushRetried, Warning, "§3.1", "the bot answered only after WeChat resent the message"},
		{PushDuplicateReply, Error, "§3.1", "the bot answered a duplicate delivery (same MsgId, or FromUserName+CreateTime) with another reply than the first"},
		{PushDuplicateSends, Error, "§3.1", "the bot made customer-service sends while answering a duplicate delivery: it did not dedupe by MsgId"},
		{PushCanceled, Warning, "§3.1", "wxemu cut the push short (shutting down, or the push's requester went away); not the bot's doing"},
		{PushAnswerUnreadable, Error, "§3.1", "the answer was cut off before its Content-Length, or its headers are over the limit"},
		{ReplyStatus, Error, "§3.1", "the answer's HTTP status is not 200"},
		{ReplyTooLarge, Error, "§3.1", "the answer body is larger than WeChat reads"},
		{ReplyWhitespace, Error, "§3.1", "no-reply body is not exactly `success` or empty"},
		{ReplySyntax, Error, "§3.2", "the answer is not well-formed XML or JSON"},
		{ReplyEncoding, Error, "§3.1", "the answer has a Content-Encoding (gzip, br…), which WeChat neither asks for nor decodes"},
		{ReplyFormat, Error, "§1.1", "the answer is in a format the app does not use"},
		{ReplyRoot, Error, "§3.2", "the XML root element is not <xml>"},
		{ReplySafePlaintext, Error, "§1.4", "a plaintext reply in safe mode"},
		{ReplyEnvUnexpected, Error, "§1.4", "an encrypted reply to a plaintext-mode app"},
		{ReplyEnvIncomplete, Error, "§1.6", "an encrypted reply without MsgSignature, TimeStamp or Nonce"},
		{ReplyEnvSignature, Error, "§1.5", "the reply's MsgSignature does not match"},
		{ReplyEnvDecrypt, Error, "§1.5", "the reply's Encrypt does not decrypt"},
		{ReplyEnvAppID, Error, "§1.5", "the reply was encrypted for another appid"},
		{ReplyHeaderSwap, Error, "§3.1", "ToUserName and FromUserName not swapped"},
		{ReplyHeaderTo, Error, "§3.1", "ToUserName is not the user's openid"},
		{ReplyHeaderFrom, Error, "§3.1", "FromUserName is not the account's original id"},
		{ReplyCreateTime, Error, "§3.1", "CreateTime missing or not an integer"},
		{ReplyCreateTimeMilli, Warning, "§3.1", "CreateTime in milliseconds"},
		{ReplyCreateTimeSkew, Warning, "§3.1", "CreateTime far from now"},
		{ReplyMsgType, Error, "§3.2", "MsgType missing or not a passive-reply type"},
		{ReplyMPContent, Error, "§3.1", "a Mini Program replied with content"},
		{ReplyFieldMissing, Error, "§3.2", "a field the reply type requires is missing"},
		{ReplyFieldUnknown, Warning, "§3.2", "an element no reply type has"},
		{ReplyFieldDuplicate, Warning, "§3.2", "an element written twice"},
		{ReplyNewsCount, Error, "§3.2", "ArticleCount does not match the articles"},
		{ReplyNewsTooMany, Error, "§3.2", "more news articles than the scenario allows"},
		{ReplyTextTooLong, Warning, "§3.2", "text content longer than WeChat is known to deliver"},
		{ReplyTransferEvent, Error, "§5.4", "transfer_customer_service in reply to an event"},
		{ReplyTransferKf, Warning, "§3.2", "TransInfo without a KfAccount"},
		{FunctionTimeout, Error, "§8.4a", "a cloud function did not return within its time limit"},
		{FunctionError, Error, "§8.4a", "a cloud function threw, rejected, failed through its callback or exited"},
		{FunctionLoad, Error, "§8.4a", "a cloud function's index.js does not load or exports no main"},
		{FunctionResultSize, Error, "§8.4a", "a cloud function returned more than 1 MB (-604001)"},
		{FunctionResultShape, Error, "§8.1", "a cloud function returned something that is neither nothing, 'success' nor an object"},
		{FunctionNetwork, Warning, "§8.4a", "a cloud function connected to a host other than loopback, which wxemu refuses"},
		{VerifyEchostr, Error, "§1.2", "the handshake answer is not exactly the echostr"},
		{VerifyStatus, Error, "§1.2", "the handshake answer's HTTP status is not 200"},
	} {
		catalog[r.ID] = r
	}
}

// Catalog lists every rule, sorted by id.
func Catalog() []Rule {
	out := make([]Rule, 0, len(catalog))
	for _, r := range catalog {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Lookup finds a rule by id.
func Lookup(id string) (Rule, bool) {
	r, ok := catalog[id]
	return r, ok
}

// New makes a violation of rule id with its catalog severity and reference. An id missing from
// the catalog is a programming error and panics, so every reported rule is documented.
func New(id, format string, args ...any) Violation {
	r, ok := catalog[id]
	if !ok {
		panic("rules: unknown rule id " + id)
	}
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return Violation{Rule: id, Severity: r.Severity, Message: msg, Ref: r.Ref}
}

// HasError reports whether any violation is of error severity.
func HasError(vs []Violation) bool {
	for _, v := range vs {
		if v.Severity == Error {
			return true
		}
	}
	return false
}
