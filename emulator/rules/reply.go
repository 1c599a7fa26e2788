package rules

import (
	"strconv"
	"time"

	"github.com/wxemu/wxemu/emulator/textenc"
	"github.com/wxemu/wxemu/emulator/wire"
)

// ReplyContext is what the judge of a passive reply needs to know about the push it answers.
type ReplyContext struct {
	Kind       wire.Kind
	OpenID     string    // the user: the push's FromUserName, the reply's expected ToUserName
	OriginalID string    // the account: the push's ToUserName, the reply's expected FromUserName
	ToEvent    bool      // the push was an event, not a user message
	Now        time.Time // virtual time of the push
	// WallNow is wall time at the push. A bot stamps its reply with its own clock, which does not
	// follow the emulator's when a scenario moves it, so a CreateTime near WallNow is as good as
	// one near Now. Zero: only Now counts.
	WallNow time.Time
	// MaxSkew is how far CreateTime may be from Now (or WallNow) before a warning; 0 means 5
	// minutes.
	MaxSkew time.Duration
	// MaxTextBytes is the longest text Content before a warning; 0 means 2047 (protocol §3.2).
	MaxTextBytes int
}

// Verdict is the judgement of one decoded passive reply.
type Verdict struct {
	Reply      wire.Reply
	Violations []Violation
	// Delivered: WeChat acts on the reply (shows it to the user, or transfers the user).
	Delivered bool
	// Failed: WeChat rejects the answer and the user sees the failure line (protocol §3.1).
	Failed bool
}

// News article limits since 2018-10-12 (protocol §3.2).
const (
	newsLimitMessage = 1
	newsLimitEvent   = 8
)

// JudgeReply judges a decoded (and, if it was encrypted, decrypted) passive reply.
func JudgeReply(c ReplyContext, raw *wire.RawReply) Verdict {
	v := Verdict{Delivered: true}
	fail := func(x Violation) {
		v.Violations = append(v.Violations, x)
		v.Delivered, v.Failed = false, true
	}
	warn := func(x Violation) { v.Violations = append(v.Violations, x) }

	if raw.Root != "" && raw.Root != "xml" {
		fail(New(ReplyRoot, "the reply's root element is <%s>; WeChat reads only <xml>…</xml> and shows the user the failure line", raw.Root))
		return v
	}
	for _, name := range raw.Unknown {
		warn(New(ReplyFieldUnknown, "<%s> is not an element of any passive reply; WeChat ignores it", name))
	}
	for _, name := range raw.Duplicate {
		warn(New(ReplyFieldDuplicate, "<%s> appears more than once; which one WeChat reads is undefined", name))
	}

	r := &v.Reply
	r.ToUserName, r.FromUserName, r.MsgType = raw.ToUserName, raw.FromUserName, raw.MsgType

	switch raw.MsgType {
	case "":
		fail(New(ReplyMsgType, "the reply has no MsgType; WeChat cannot tell what it is and shows the user the failure line"))
		return v
	case wire.ReplyText, wire.ReplyImage, wire.ReplyVoice, wire.ReplyVideo, wire.ReplyMusic, wire.ReplyNews, wire.ReplyTransfer:
	default:
		fail(New(ReplyMsgType, "MsgType %q is not a passive-reply type (text, image, voice, video, music, news, transfer_customer_service); WeChat shows the user the failure line", raw.MsgType))
		return v
	}

	judgeHeader(c, raw, fail)
	judgeCreateTime(c, raw, r, fail, warn)
	if v.Failed {
		return v
	}

	if c.Kind == wire.MP && raw.MsgType != wire.ReplyTransfer {
		v.Violations = append(v.Violations, New(ReplyMPContent,
			"a Mini Program replied with a %s message; Mini Programs cannot reply passively with content, so WeChat drops it and the user sees nothing — answer `success` and send it with customerServiceMessage.send (/cgi-bin/message/custom/send)", raw.MsgType))
		v.Delivered = false
		return v
	}

	missing := func(field string) {
		fail(New(ReplyFieldMissing, "a %s reply needs %s; without it WeChat shows the user the failure line", raw.MsgType, field))
	}
	switch raw.MsgType {
	case wire.ReplyText:
		if raw.Content == "" {
			missing("a non-empty <Content>")
		} else if max := orDefault(c.MaxTextBytes, 2047); len(raw.Content) > max {
			warn(New(ReplyTextTooLong, "<Content> is %d bytes of UTF-8; WeChat is reported to drop passive text replies over %d bytes", len(raw.Content), max))
		}
		r.Content = raw.Content
	case wire.ReplyImage:
		if raw.Image == nil || raw.Image.MediaId == "" {
			missing("<Image><MediaId>")
		} else {
			r.Image = &wire.Media{MediaId: raw.Image.MediaId}
		}
	case wire.ReplyVoice:
		if raw.Voice == nil || raw.Voice.MediaId == "" {
			missing("<Voice><MediaId>")
		} else {
			r.Voice = &wire.Media{MediaId: raw.Voice.MediaId}
		}
	case wire.ReplyVideo:
		if raw.Video == nil || raw.Video.MediaId == "" {
			missing("<Video><MediaId>")
		} else {
			r.Video = &wire.Video{MediaId: raw.Video.MediaId, Title: raw.Video.Title, Description: raw.Video.Description}
		}
	case wire.ReplyMusic:
		if raw.Music == nil || raw.Music.ThumbMediaId == "" {
			missing("<Music><ThumbMediaId>")
		} else {
			m := raw.Music
			r.Music = &wire.Music{Title: m.Title, Description: m.Description, MusicUrl: m.MusicUrl, HQMusicUrl: m.HQMusicUrl, ThumbMediaId: m.ThumbMediaId}
		}
	case wire.ReplyNews:
		judgeNews(c, raw, r, fail, warn)
	case wire.ReplyTransfer:
		if raw.TransInfo != nil {
			if raw.TransInfo.KfAccount == "" {
				warn(New(ReplyTransferKf, "<TransInfo> has no <KfAccount>; WeChat treats it as a transfer to the waiting queue"))
			} else {
				r.TransInfo = &wire.TransInfo{KfAccount: raw.TransInfo.KfAccount}
			}
		}
		if c.ToEvent {
			v.Violations = append(v.Violations, New(ReplyTransferEvent,
				"transfer_customer_service in reply to an event: only user messages may be transferred (the agent would see a meaningless message); the user is not moved to the kf queue"))
			v.Delivered = false
		}
	}
	return v
}

func judgeHeader(c ReplyContext, raw *wire.RawReply, fail func(Violation)) {
	to, from := raw.ToUserName, raw.FromUserName
	switch {
	case to == c.OriginalID && from == c.OpenID && to != from:
		fail(New(ReplyHeaderSwap, "ToUserName is %q and FromUserName is %q: the header is copied from the push instead of swapped; a reply goes to the user (ToUserName %q) from the account (FromUserName %q). WeChat shows the user the failure line", to, from, c.OpenID, c.OriginalID))
		return
	case to != c.OpenID:
		fail(New(ReplyHeaderTo, "ToUserName is %q; it must be the user's openid %q (the push's FromUserName). WeChat shows the user the failure line", to, c.OpenID))
	}
	if from != c.OriginalID {
		fail(New(ReplyHeaderFrom, "FromUserName is %q; it must be the account's original id %q (the push's ToUserName). WeChat shows the user the failure line", from, c.OriginalID))
	}
}

func judgeCreateTime(c ReplyContext, raw *wire.RawReply, r *wire.Reply, fail, warn func(Violation)) {
	if raw.CreateTime == "" {
		fail(New(ReplyCreateTime, "the reply has no <CreateTime>; it must be the current unix time in seconds. WeChat shows the user the failure line"))
		return
	}
	t, err := strconv.ParseInt(raw.CreateTime, 10, 64)
	if err != nil || t < 0 {
		fail(New(ReplyCreateTime, "<CreateTime> is %q, not a non-negative integer; it must be the current unix time in seconds. WeChat shows the user the failure line", textenc.Clip(raw.CreateTime, 40)))
		return
	}
	r.CreateTime = t
	// Deviation: real WeChat accepts a CreateTime in milliseconds (protocol §3.1); wxemu warns.
	if t >= 1e12 {
		warn(New(ReplyCreateTimeMilli, "<CreateTime> %d looks like milliseconds; WeChat expects seconds (it tolerates this)", t))
		t /= 1000
	}
	at := time.Unix(t, 0)
	max := orDefaultDur(c.MaxSkew, 5*time.Minute)
	skew := distance(c.Now, at)
	if skew <= max {
		return
	}
	if c.WallNow.IsZero() || distance(c.WallNow, c.Now) <= max {
		warn(New(ReplyCreateTimeSkew, "<CreateTime> %d is %s away from the push time %d; it should be the current unix time", t, skew.Round(time.Second), c.Now.Unix()))
		return
	}
	if wall := distance(c.WallNow, at); wall > max {
		warn(New(ReplyCreateTimeSkew, "<CreateTime> %d is %s away from the push time %d (the emulator's clock) and %s from the current time %d (the wall clock); it should be the current unix time",
			t, skew.Round(time.Second), c.Now.Unix(), wall.Round(time.Second), c.WallNow.Unix()))
	}
}

// distance is how far apart two times are, either way.
func distance(a, b time.Time) time.Duration {
	if d := a.Sub(b); d >= 0 {
		return d
	}
	return b.Sub(a)
}

func judgeNews(c ReplyContext, raw *wire.RawReply, r *wire.Reply, fail, report func(Violation)) {
	n := len(raw.Articles)
	if n == 0 {
		fail(New(ReplyFieldMissing, "a news reply needs at least one <Articles><item>; WeChat shows the user the failure line"))
		return
	}
	count, err := strconv.Atoi(raw.ArticleCount)
	switch {
	case raw.ArticleCount == "":
		fail(New(ReplyFieldMissing, "a news reply needs <ArticleCount> (here %d); WeChat shows the user the failure line", n))
		return
	case err != nil:
		fail(New(ReplyNewsCount, "<ArticleCount> is %q, not an integer; WeChat shows the user the failure line", textenc.Clip(raw.ArticleCount, 40)))
		return
	case count != n:
		fail(New(ReplyNewsCount, "<ArticleCount> says %d but <Articles> has %d items; WeChat shows the user the failure line", count, n))
		return
	}
	limit, scene := newsLimitMessage, "a user message"
	if c.ToEvent {
		limit, scene = newsLimitEvent, "an event"
	}
	if n > limit {
		// Deviation: whether WeChat truncates or drops an over-long news reply is open
		// (protocol §3.2, §10.10); wxemu truncates, as the current docs describe.
		report(New(ReplyNewsTooMany, "a news reply to %s may carry %d article(s) since 2018-10-12, this one has %d; WeChat shows only the first %d", scene, limit, n, limit))
		n = limit
	}
	for _, a := range raw.Articles[:n] {
		r.Articles = append(r.Articles, wire.Article{Title: a.Title, Description: a.Description, PicUrl: a.PicUrl, Url: a.Url})
	}
}

func orDefault(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

func orDefaultDur(v, d time.Duration) time.Duration {
	if v <= 0 {
		return d
	}
	return v
}

// clip shortens a value quoted in a finding to the width every rule quotes at.
