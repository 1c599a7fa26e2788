package push

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/textenc"
	"github.com/wxemu/wxemu/emulator/wire"
	"github.com/wxemu/wxemu/emulator/wxcrypto"
)

var successBody = []byte("success")

// judge turns an HTTP answer into the outcome, following what WeChat does with it (protocol
// §3.1, §1.4–§1.6): status, size, the no-reply bodies, the envelope, then the reply itself.
func (e *Engine) judge(t *Target, res *Result, a *answer) {
	fail := func(v rules.Violation) {
		res.Violations = append(res.Violations, v)
		res.Outcome = Failed
		res.UserSees = FailureLine(t.Kind)
	}
	line := FailureLine(t.Kind)
	if a.status != 200 {
		fail(rules.New(rules.ReplyStatus, "the bot answered HTTP %d; WeChat treats any status but 200 as a failed push and the user sees 「%s」", a.status, line))
		return
	}
	if a.tooLarge {
		fail(rules.New(rules.ReplyTooLarge, "the answer is larger than %d bytes; WeChat does not take it and the user sees 「%s」", e.cfg.MaxReplyBytes, line))
		return
	}
	body := a.body
	if len(body) == 0 || bytes.Equal(body, successBody) {
		res.Outcome = None
		return
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || bytes.Equal(trimmed, successBody) {
		// Deviation: none; WeChat documents the two no-reply bodies byte for byte (protocol §3.1).
		fail(rules.New(rules.ReplyWhitespace, "the answer is %q; to send no reply the body must be exactly `success` or empty (0 bytes) — anything else is read as a malformed reply and the user sees 「%s」", textenc.Clip(string(body), 60), line))
		return
	}

	format, ok := sniff(trimmed)
	if !ok && encoded(a.contentEncoding) {
		fail(encodingViolation(a.contentEncoding, line))
		return
	}
	if !ok {
		fail(rules.New(rules.ReplySyntax, "the answer is neither XML nor JSON (it begins %q); the user sees 「%s」", textenc.Clip(string(trimmed), 60), line))
		return
	}
	if t.Kind == wire.OA && format == wire.JSON && !t.Container {
		fail(rules.New(rules.ReplyFormat, "the answer is JSON, but an Official Account reads XML replies only; the user sees 「%s」", line))
		return
	}
	raw, err := wire.ParseReply(body, format)
	if err != nil && encoded(a.contentEncoding) {
		fail(encodingViolation(a.contentEncoding, line))
		return
	}
	if err != nil {
		fail(rules.New(rules.ReplySyntax, "the answer is not well-formed %s: %s; the user sees 「%s」", strings.ToUpper(string(format)), syntaxMessage(err), line))
		return
	}

	if raw.IsEnvelope() {
		inner, ok := e.open(t, raw, fail)
		if !ok {
			return
		}
		res.Answer.Decrypted = string(inner)
		if len(inner) == 0 || bytes.Equal(inner, successBody) {
			res.Outcome = None
			return
		}
		innerFormat, ok := sniff(bytes.TrimSpace(inner))
		if !ok {
			fail(rules.New(rules.ReplySyntax, "the decrypted reply is neither XML nor JSON (it begins %q); the user sees 「%s」", textenc.Clip(string(inner), 60), line))
			return
		}
		if t.Kind == wire.OA && innerFormat == wire.JSON {
			fail(rules.New(rules.ReplyFormat, "the decrypted reply is JSON, but an Official Account reads XML replies only; the user sees 「%s」", line))
			return
		}
		raw, err = wire.ParseReply(inner, innerFormat)
		if err != nil {
			fail(rules.New(rules.ReplySyntax, "the decrypted reply is not well-formed %s: %s; the user sees 「%s」", strings.ToUpper(string(innerFormat)), syntaxMessage(err), line))
			return
		}
	} else if t.Mode == wire.Safe {
		fail(rules.New(rules.ReplySafePlaintext, "the app is in safe mode but the reply is plaintext; WeChat only reads encrypted replies here (only `success` and the empty body need no encryption), so the user sees 「%s」", line))
		return
	}

	m := &res.Message
	v := rules.JudgeReply(rules.ReplyContext{
		Kind:       t.Kind,
		OpenID:     m.FromUserName,
		OriginalID: m.ToUserName,
		ToEvent:    m.IsEvent(),
		Now:        e.cfg.Clock.Now(),
		WallNow:    e.cfg.WallClock.Now(),
	}, raw)
	res.Violations = append(res.Violations, v.Violations...)
	switch {
	case v.Failed:
		res.Outcome = Failed
		res.UserSees = line
	case !v.Delivered:
		res.Outcome = None
	case v.Reply.MsgType == wire.ReplyTransfer:
		res.Outcome = Transferred
		res.Reply = &v.Reply
		if v.Reply.TransInfo != nil {
			res.KfAccount = v.Reply.TransInfo.KfAccount
		}
	default:
		res.Outcome = Replied
		res.Reply = &v.Reply
		res.UserSees = Render(&v.Reply)
	}
}

// open checks and decrypts an encrypted reply (protocol §1.5, §1.6).
func (e *Engine) open(t *Target, raw *wire.RawReply, fail func(rules.Violation)) ([]byte, bool) {
	line := FailureLine(t.Kind)
	if t.Mode == wire.Plain || t.cipher == nil {
		fail(rules.New(rules.ReplyEnvUnexpected, "the reply is encrypted, but the app is in plaintext mode: WeChat does not decrypt it and the user sees 「%s」", line))
		return nil, false
	}
	var absent []string
	for _, f := range []struct{ name, value string }{{"MsgSignature", raw.MsgSignature}, {"TimeStamp", raw.TimeStamp}, {"Nonce", raw.Nonce}} {
		if f.value == "" {
			absent = append(absent, f.name)
		}
	}
	if len(absent) > 0 {
		fail(rules.New(rules.ReplyEnvIncomplete, "the encrypted reply lacks %s; WeChat cannot check it and the user sees 「%s」", strings.Join(absent, ", "), line))
		return nil, false
	}
	if want := wxcrypto.MsgSignature(t.Token, raw.TimeStamp, raw.Nonce, raw.Encrypt); want != raw.MsgSignature {
		fail(rules.New(rules.ReplyEnvSignature, "MsgSignature is %q, but sha1(sort(token, TimeStamp %q, Nonce %q, Encrypt)) is %q; WeChat rejects the reply and the user sees 「%s」", textenc.Clip(raw.MsgSignature, 60), raw.TimeStamp, raw.Nonce, want, line))
		return nil, false
	}
	msg, appID, err := t.cipher.Decrypt(raw.Encrypt)
	if errors.Is(err, wxcrypto.ErrAppID) {
		fail(rules.New(rules.ReplyEnvAppID, "the reply was encrypted for appid %q, not %q; WeChat rejects it and the user sees 「%s」", appID, t.AppID, line))
		return nil, false
	}
	if err != nil {
		fail(rules.New(rules.ReplyEnvDecrypt, "the reply's Encrypt does not decrypt with the app's EncodingAESKey: %v; the user sees 「%s」", err, line))
		return nil, false
	}
	return msg, true
}

// encoded reports whether an answer's Content-Encoding header names an encoding.
func encoded(ce string) bool {
	ce = strings.TrimSpace(ce)
	return ce != "" && !strings.EqualFold(ce, "identity")
}

// encodingViolation is the verdict on an unreadable answer that says it is encoded: WeChat
// reads the bytes as they are.
func encodingViolation(ce, line string) rules.Violation {
	return rules.New(rules.ReplyEncoding, "the answer has Content-Encoding: %s, but WeChat sends no Accept-Encoding and does not decode an answer: it reads the encoded bytes as the reply, which are neither XML nor JSON, and the user sees 「%s」. Send the reply uncompressed (exempt the callback route from compression middleware)", textenc.Clip(ce, 40), line)
}

// sniff tells XML from JSON by the first byte, as a receiver must when the format is open.
func sniff(b []byte) (wire.Format, bool) {
	if len(b) == 0 {
		return "", false
	}
	switch b[0] {
	case '<':
		return wire.XML, true
	case '{':
		return wire.JSON, true
	}
	return "", false
}

func syntaxMessage(err error) string {
	var se *wire.SyntaxError
	if errors.As(err, &se) {
		return se.Error()
	}
	return err.Error()
}

// Render is what the user sees of a passive reply, as one line.
func Render(r *wire.Reply) string {
	switch r.MsgType {
	case wire.ReplyText:
		return r.Content
	case wire.ReplyImage:
		return "[image " + r.Image.MediaId + "]"
	case wire.ReplyVoice:
		return "[voice " + r.Voice.MediaId + "]"
	case wire.ReplyVideo:
		return strings.TrimSpace("[video " + r.Video.MediaId + "] " + r.Video.Title)
	case wire.ReplyMusic:
		return strings.TrimSpace("[music] " + r.Music.Title)
	case wire.ReplyNews:
		titles := make([]string, len(r.Articles))
		for i, a := range r.Articles {
			titles[i] = a.Title
		}
		return "[news] " + strings.Join(titles, " | ")
	case wire.ReplyTransfer:
		return ""
	}
	return fmt.Sprintf("[%s]", r.MsgType)
}
