package push_test

import (
	"context"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/wire"
	"github.com/wxemu/wxemu/emulator/wxcrypto"
	"github.com/wxemu/wxemu/fixtures/bots"
)

const (
	appID      = "wx0e1d2c3b4a596877"
	originalID = "gh_e1d2c3b4a596"
	token      = "wxemu"
	aesKey     = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	openID     = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
)

var epoch = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// rig is one engine on a fake clock pushing to one bot.
type rig struct {
	clk    *clock.Fake
	engine *push.Engine
	bot    *bots.Bot
	target *push.Target
}

func newEngine(clk *clock.Fake, cfg push.Config) *push.Engine {
	cfg.Clock = clk
	cfg.Random = rand.NewChaCha8([32]byte{7})
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	e := push.New(cfg)
	DeferCleanup(e.Close)
	return e
}

// startBot runs a sample bot on 127.0.0.1 and an engine that pushes to it.
func startBot(name string, kind wire.Kind, mode wire.Mode, format wire.Format, cfg push.Config) *rig {
	r := &rig{clk: clock.NewFake(epoch)}
	h, err := bots.New(name, bots.Config{Token: token, EncodingAESKey: aesKey, AppID: appID, Format: string(format), Now: r.clk.Now, Delay: time.Second})
	Expect(err).NotTo(HaveOccurred())
	r.bot = h.(*bots.Bot)
	srv := httptest.NewServer(h)
	DeferCleanup(srv.Close)
	r.engine = newEngine(r.clk, cfg)
	r.target = target(kind, mode, format, srv.URL+"/wx")
	return r
}

// startHandler runs an inline handler for answers no sample bot gives.
func startHandler(kind wire.Kind, mode wire.Mode, format wire.Format, h http.HandlerFunc) *rig {
	r := &rig{clk: clock.NewFake(epoch)}
	srv := httptest.NewServer(h)
	DeferCleanup(srv.Close)
	r.engine = newEngine(r.clk, push.Config{})
	r.target = target(kind, mode, format, srv.URL+"/wx")
	return r
}

func target(kind wire.Kind, mode wire.Mode, format wire.Format, url string) *push.Target {
	t, err := push.NewTarget(push.App{Kind: kind, AppID: appID, OriginalID: originalID, Token: token,
		EncodingAESKey: aesKey, Mode: mode, Format: format, URL: url})
	Expect(err).NotTo(HaveOccurred())
	return t
}

func (r *rig) push(m *wire.Message) *push.Result {
	if m.FromUserName == "" {
		m.FromUserName = openID
	}
	return r.engine.Push(context.Background(), r.target, m)
}

func text(s string) *wire.Message { return &wire.Message{MsgType: "text", Content: s} }

func event(name string) *wire.Message { return &wire.Message{MsgType: "event", Event: name} }

func ruleIDs(vs []rules.Violation) []string {
	ids := make([]string, len(vs))
	for i, v := range vs {
		ids[i] = v.Rule
	}
	return ids
}

var _ = Describe("pushing to the correct Official Account bot", func() {
	DescribeTable("answers a text message with a text reply in every mode",
		func(mode wire.Mode) {
			r := startBot("oa", wire.OA, mode, wire.XML, push.Config{})
			res := r.push(text("hi"))

			Expect(res.Violations).To(BeEmpty())
			Expect(res.Outcome).To(Equal(push.Replied))
			Expect(res.UserSees).To(Equal("hello, hi"))
			Expect(res.Reply.ToUserName).To(Equal(openID))
			Expect(res.Reply.FromUserName).To(Equal(originalID))
			Expect(res.Reply.CreateTime).To(Equal(epoch.Unix()))
			Expect(res.Attempts).To(HaveLen(1))

			got := r.bot.Received()
			Expect(got).To(HaveLen(1))
			Expect(got[0].Plaintext).To(ContainSubstring("<Content><![CDATA[hi]]></Content>"))
			switch mode {
			case wire.Plain:
				Expect(res.Attempts[0].URL).NotTo(ContainSubstring("msg_signature"))
				Expect(res.Answer.Decrypted).To(BeEmpty())
			case wire.Compat:
				Expect(res.Request.Body).To(ContainSubstring("<Content><![CDATA[hi]]></Content>"))
				Expect(res.Request.Body).To(ContainSubstring("<Encrypt>"))
				Expect(res.Answer.Decrypted).To(ContainSubstring("hello, hi"))
			case wire.Safe:
				Expect(res.Request.Body).NotTo(ContainSubstring("<Content>"))
				Expect(res.Request.Body).To(MatchRegexp(`^<xml><ToUserName><!\[CDATA\[gh_e1d2c3b4a596\]\]></ToUserName><Encrypt><!\[CDATA\[[A-Za-z0-9+/=]+\]\]></Encrypt></xml>$`))
				Expect(res.Attempts[0].URL).To(ContainSubstring("encrypt_type=aes"))
				Expect(res.Answer.Decrypted).To(ContainSubstring("hello, hi"))
			}
		},
		Entry("plaintext", wire.Plain),
		Entry("compatible", wire.Compat),
		Entry("safe", wire.Safe),
	)

	DescribeTable("delivers every passive reply type",
		func(command, msgType string, check func(*wire.Reply)) {
			r := startBot("oa", wire.OA, wire.Safe, wire.XML, push.Config{})
			res := r.push(text(command))
			Expect(res.Violations).To(BeEmpty())
			Expect(res.Outcome).To(Equal(push.Replied))
			Expect(res.Reply.MsgType).To(Equal(msgType))
			check(res.Reply)
		},
		Entry("image", "image", "image", func(r *wire.Reply) { Expect(r.Image.MediaId).To(Equal("MEDIA_IMAGE")) }),
		Entry("voice", "voice", "voice", func(r *wire.Reply) { Expect(r.Voice.MediaId).To(Equal("MEDIA_VOICE")) }),
		Entry("video", "video", "video", func(r *wire.Reply) { Expect(r.Video.MediaId).To(Equal("MEDIA_VIDEO")) }),
		Entry("music", "music", "music", func(r *wire.Reply) { Expect(r.Music.ThumbMediaId).To(Equal("MEDIA_THUMB")) }),
		Entry("news", "news", "news", func(r *wire.Reply) { Expect(r.Articles).To(HaveLen(1)) }),
	)

	It("hands the user to the kf system on 人工, with or without a named account", func() {
		r := startBot("oa", wire.OA, wire.Compat, wire.XML, push.Config{})
		res := r.push(text("人工"))
		Expect(res.Violations).To(BeEmpty())
		Expect(res.Outcome).To(Equal(push.Transferred))
		Expect(res.KfAccount).To(BeEmpty())
		Expect(res.UserSees).To(BeEmpty())

		res = r.push(text("人工 kf1@demo"))
		Expect(res.Outcome).To(Equal(push.Transferred))
		Expect(res.KfAccount).To(Equal("kf1@demo"))
	})

	It("takes `success` and the empty body as no reply, even in safe mode", func() {
		r := startBot("oa", wire.OA, wire.Safe, wire.XML, push.Config{})
		for _, cmd := range []string{"silent", "empty"} {
			res := r.push(text(cmd))
			Expect(res.Violations).To(BeEmpty(), cmd)
			Expect(res.Outcome).To(Equal(push.None), cmd)
		}
	})

	It("allows several news articles in reply to an event", func() {
		r := startBot("oa", wire.OA, wire.Plain, wire.XML, push.Config{})
		res := r.push(event("subscribe"))
		Expect(res.Violations).To(BeEmpty())
		Expect(res.Outcome).To(Equal(push.Replied))
		Expect(res.Reply.Articles).To(HaveLen(2))
		Expect(res.Message.MsgId).To(BeZero(), "events carry no MsgId")
	})

	It("fills in the header and numbers user messages", func() {
		r := startBot("oa", wire.OA, wire.Plain, wire.XML, push.Config{})
		a, b := r.push(text("one")), r.push(text("two"))
		Expect(a.Message.ToUserName).To(Equal(originalID))
		Expect(a.Message.CreateTime).To(Equal(epoch.Unix()))
		Expect(b.Message.MsgId).To(Equal(a.Message.MsgId + 1))
		Expect(a.Attempts[0].URL).To(ContainSubstring("openid=" + openID))
		Expect(a.Attempts[0].URL).To(ContainSubstring("timestamp=" + "1795255200"))
	})
})

var _ = Describe("pushing to the correct Mini Program bot", func() {
	DescribeTable("answers nothing to text and transfers on 人工",
		func(format wire.Format, mode wire.Mode) {
			r := startBot("mp", wire.MP, mode, format, push.Config{})
			res := r.push(text("hi"))
			Expect(res.Violations).To(BeEmpty())
			Expect(res.Outcome).To(Equal(push.None))

			res = r.push(text("人工 kf2@demo"))
			Expect(res.Violations).To(BeEmpty())
			Expect(res.Outcome).To(Equal(push.Transferred))
			Expect(res.KfAccount).To(Equal("kf2@demo"))
			if format == wire.JSON {
				Expect(res.Request.ContentType).To(Equal("application/json"))
				Expect(res.Request.Plaintext).To(HavePrefix(`{"ToUserName":"gh_e1d2c3b4a596"`))
			}
		},
		Entry("JSON, plaintext", wire.JSON, wire.Plain),
		Entry("JSON, safe", wire.JSON, wire.Safe),
		Entry("XML, compatible", wire.XML, wire.Compat),
	)

	It("leaves out the openid query parameter in plaintext mode unless told", func() {
		r := startBot("mp", wire.MP, wire.Plain, wire.JSON, push.Config{})
		Expect(r.push(text("hi")).Attempts[0].URL).NotTo(ContainSubstring("openid="))
		r = startBot("mp", wire.MP, wire.Plain, wire.JSON, push.Config{OpenIDInMPPlain: true})
		Expect(r.push(text("hi")).Attempts[0].URL).To(ContainSubstring("openid="))
	})

	It("pushes user_enter_tempsession as JSON", func() {
		r := startBot("mp", wire.MP, wire.Plain, wire.JSON, push.Config{})
		m := event("user_enter_tempsession")
		m.SessionFrom = "wxapp"
		res := r.push(m)
		Expect(res.Outcome).To(Equal(push.None))
		Expect(res.Request.Body).To(ContainSubstring(`"Event":"user_enter_tempsession"`))
		Expect(res.Request.Body).To(ContainSubstring(`"SessionFrom":"wxapp"`))
	})
})

var _ = Describe("the verdicts on broken bots", func() {
	DescribeTable("each broken bot gets a precise violation and the user sees the failure line",
		func(name string, mode wire.Mode, rule string) {
			r := startBot(name, wire.OA, mode, wire.XML, push.Config{})
			res := r.push(text("hi"))
			Expect(ruleIDs(res.Violations)).To(ContainElement(rule))
			Expect(res.HasError()).To(BeTrue())
			Expect(res.Outcome).To(Equal(push.Failed))
			Expect(res.UserSees).To(Equal("该公众号暂时无法提供服务，请稍后再试"))
		},
		Entry("malformed XML", "malformed", wire.Plain, rules.ReplySyntax),
		Entry("header not swapped", "noswap", wire.Plain, rules.ReplyHeaderSwap),
		Entry("plaintext reply in safe mode", "plaintext", wire.Safe, rules.ReplySafePlaintext),
		Entry("bad MsgSignature", "badsig", wire.Safe, rules.ReplyEnvSignature),
		Entry("HTTP 500", "http500", wire.Plain, rules.ReplyStatus),
	)

	It("retries a slow bot with the same body, then fails on the deadline", func() {
		r := startBot("slow", wire.OA, wire.Safe, wire.XML, push.Config{Timeout: 150 * time.Millisecond, MaxAttempts: 3})
		res := r.push(text("hi"))
		Expect(ruleIDs(res.Violations)).To(Equal([]string{rules.PushTimeout}))
		Expect(res.Outcome).To(Equal(push.Failed))
		Expect(res.Attempts).To(HaveLen(3))
		for _, a := range res.Attempts {
			Expect(a.TimedOut).To(BeTrue())
			Expect(a.DurationMS).To(BeNumerically(">=", 150))
		}
		Eventually(r.bot.Received).Should(HaveLen(3))
		got := r.bot.Received()
		Expect(got[1].Body).To(Equal(got[0].Body), "a retry carries the same body")
		Expect(got[2].Body).To(Equal(got[0].Body))
		Expect(got[1].Query.Get("nonce")).NotTo(Equal(got[0].Query.Get("nonce")), "each attempt is signed afresh")
	})

	It("flags a transfer in reply to an event and does not move the user", func() {
		r := startBot("transfer-on-event", wire.OA, wire.Plain, wire.XML, push.Config{})
		res := r.push(event("CLICK"))
		Expect(ruleIDs(res.Violations)).To(Equal([]string{rules.ReplyTransferEvent}))
		Expect(res.Outcome).To(Equal(push.None))

		res = r.push(text("hi"))
		Expect(res.Violations).To(BeEmpty(), "a transfer in reply to a user message is right")
		Expect(res.Outcome).To(Equal(push.Transferred))
	})

	It("fails when nothing listens at the URL", func() {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL + "/wx"
		srv.Close()
		e := newEngine(clock.NewFake(epoch), push.Config{MaxAttempts: 2})
		res := e.Push(context.Background(), target(wire.OA, wire.Plain, wire.XML, url), text("hi"))
		Expect(ruleIDs(res.Violations)).To(Equal([]string{rules.PushConnection}))
		Expect(res.Attempts).To(HaveLen(2))
		Expect(res.Attempts[0].Error).NotTo(BeEmpty())
		Expect(res.Outcome).To(Equal(push.Failed))
	})
})

// answer makes a handler that answers every push with status and body.
func answer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// xmlReply writes a reply to the demo user from the demo account, with the given CreateTime
// and body elements.
func xmlReply(createTime, rest string) string {
	return "<xml><ToUserName><![CDATA[" + openID + "]]></ToUserName><FromUserName><![CDATA[" + originalID +
		"]]></FromUserName><CreateTime>" + createTime + "</CreateTime>" + rest + "</xml>"
}

var now = "1795255200"

var _ = Describe("the verdict on a reply", func() {
	DescribeTable("answers WeChat rejects",
		func(kind wire.Kind, format wire.Format, body string, rule string) {
			r := startHandler(kind, wire.Plain, format, answer(200, body))
			res := r.push(text("hi"))
			Expect(ruleIDs(res.Violations)).To(ContainElement(rule))
			Expect(res.Outcome).To(Equal(push.Failed))
			Expect(res.UserSees).To(Equal(push.FailureLine(kind)))
			Expect(res.Answer.Body).To(Equal(body))
		},
		Entry("a space", wire.OA, wire.XML, " ", rules.ReplyWhitespace),
		Entry("success and a newline", wire.OA, wire.XML, "success\n", rules.ReplyWhitespace),
		Entry("neither XML nor JSON", wire.OA, wire.XML, "ok", rules.ReplySyntax),
		Entry("JSON to an Official Account", wire.OA, wire.XML, `{"MsgType":"text"}`, rules.ReplyFormat),
		Entry("unclosed element", wire.OA, wire.XML, "<xml><MsgType>text</xml>", rules.ReplySyntax),
		Entry("wrong root", wire.OA, wire.XML, "<reply><MsgType>text</MsgType></reply>", rules.ReplyRoot),
		Entry("no MsgType", wire.OA, wire.XML, xmlReply(now, ""), rules.ReplyMsgType),
		Entry("unknown MsgType", wire.OA, wire.XML, xmlReply(now, "<MsgType>markdown</MsgType>"), rules.ReplyMsgType),
		Entry("text without Content", wire.OA, wire.XML, xmlReply(now, "<MsgType>text</MsgType>"), rules.ReplyFieldMissing),
		Entry("image without MediaId", wire.OA, wire.XML, xmlReply(now, "<MsgType>image</MsgType><Image></Image>"), rules.ReplyFieldMissing),
		Entry("music without ThumbMediaId", wire.OA, wire.XML, xmlReply(now, "<MsgType>music</MsgType><Music><Title>t</Title></Music>"), rules.ReplyFieldMissing),
		Entry("no CreateTime", wire.OA, wire.XML, "<xml><ToUserName>"+openID+"</ToUserName><FromUserName>"+originalID+"</FromUserName><MsgType>text</MsgType><Content>x</Content></xml>", rules.ReplyCreateTime),
		Entry("CreateTime not a number", wire.OA, wire.XML, xmlReply("now", "<MsgType>text</MsgType><Content>x</Content>"), rules.ReplyCreateTime),
		Entry("ToUserName wrong", wire.OA, wire.XML, "<xml><ToUserName>someone</ToUserName><FromUserName>"+originalID+"</FromUserName><CreateTime>"+now+"</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>", rules.ReplyHeaderTo),
		Entry("FromUserName wrong", wire.OA, wire.XML, "<xml><ToUserName>"+openID+"</ToUserName><FromUserName>gh_other</FromUserName><CreateTime>"+now+"</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>", rules.ReplyHeaderFrom),
		Entry("ArticleCount off", wire.OA, wire.XML, xmlReply(now, "<MsgType>news</MsgType><ArticleCount>2</ArticleCount><Articles><item><Title>a</Title></item></Articles>"), rules.ReplyNewsCount),
		Entry("news without articles", wire.OA, wire.XML, xmlReply(now, "<MsgType>news</MsgType><ArticleCount>0</ArticleCount>"), rules.ReplyFieldMissing),
		Entry("an encrypted reply in plaintext mode", wire.OA, wire.XML, "<xml><Encrypt>abc</Encrypt><MsgSignature>x</MsgSignature><TimeStamp>1</TimeStamp><Nonce>2</Nonce></xml>", rules.ReplyEnvUnexpected),
		Entry("malformed JSON from a Mini Program", wire.MP, wire.JSON, `{"MsgType":`, rules.ReplySyntax),
	)

	It("reads an answer over the size limit as a failure", func() {
		r := startHandler(wire.OA, wire.Plain, wire.XML, answer(200, xmlReply(now, "<MsgType>text</MsgType><Content>"+strings.Repeat("x", 2<<20)+"</Content>")))
		res := r.push(text("hi"))
		Expect(ruleIDs(res.Violations)).To(Equal([]string{rules.ReplyTooLarge}))
		Expect(res.Outcome).To(Equal(push.Failed))
	})

	It("warns of a CreateTime in milliseconds but delivers the reply", func() {
		r := startHandler(wire.OA, wire.Plain, wire.XML, answer(200, xmlReply(now+"000", "<MsgType>text</MsgType><Content>x</Content>")))
		res := r.push(text("hi"))
		Expect(ruleIDs(res.Violations)).To(Equal([]string{rules.ReplyCreateTimeMilli}))
		Expect(res.HasError()).To(BeFalse())
		Expect(res.Outcome).To(Equal(push.Replied))
		Expect(res.UserSees).To(Equal("x"))
	})

	It("warns of a CreateTime far from now", func() {
		r := startHandler(wire.OA, wire.Plain, wire.XML, answer(200, xmlReply("1400000000", "<MsgType>text</MsgType><Content>x</Content>")))
		res := r.push(text("hi"))
		Expect(ruleIDs(res.Violations)).To(Equal([]string{rules.ReplyCreateTimeSkew}))
		Expect(res.Outcome).To(Equal(push.Replied))
	})

	It("accepts a CreateTime of the bot's own clock after the emulator's was moved, and warns of one near neither", func() {
		srv := httptest.NewServer(answer(200, xmlReply(now, "<MsgType>text</MsgType><Content>x</Content>")))
		DeferCleanup(srv.Close)
		clk, wall := clock.NewFake(epoch), clock.NewFake(epoch)
		e := newEngine(clk, push.Config{WallClock: wall})
		t := target(wire.OA, wire.Plain, wire.XML, srv.URL+"/wx")
		m := text("hi")
		m.FromUserName = openID
		clk.Advance(2 * time.Hour) // a scenario moved the emulator's clock; the bot's stays
		res := e.Push(context.Background(), t, m)
		Expect(res.Violations).To(BeEmpty())
		Expect(res.Outcome).To(Equal(push.Replied))
		wall.Advance(time.Hour)
		res = e.Push(context.Background(), t, m)
		Expect(ruleIDs(res.Violations)).To(Equal([]string{rules.ReplyCreateTimeSkew}))
		Expect(res.Violations[0].Message).To(ContainSubstring("(the wall clock)"))
	})

	It("truncates news to one article in reply to a user message, as an error", func() {
		two := "<MsgType>news</MsgType><ArticleCount>2</ArticleCount><Articles><item><Title>a</Title></item><item><Title>b</Title></item></Articles>"
		r := startHandler(wire.OA, wire.Plain, wire.XML, answer(200, xmlReply(now, two)))
		res := r.push(text("hi"))
		Expect(ruleIDs(res.Violations)).To(Equal([]string{rules.ReplyNewsTooMany}))
		Expect(res.HasError()).To(BeTrue())
		Expect(res.Outcome).To(Equal(push.Replied))
		Expect(res.Reply.Articles).To(HaveLen(1))
		Expect(res.UserSees).To(Equal("[news] a"))
	})

	It("drops a Mini Program's content reply: the user sees nothing", func() {
		r := startHandler(wire.MP, wire.Plain, wire.JSON, answer(200,
			`{"ToUserName":"`+openID+`","FromUserName":"`+originalID+`","CreateTime":`+now+`,"MsgType":"text","Content":"hi"}`))
		res := r.push(text("hi"))
		Expect(ruleIDs(res.Violations)).To(Equal([]string{rules.ReplyMPContent}))
		Expect(res.Outcome).To(Equal(push.None))
		Expect(res.UserSees).To(BeEmpty())
	})

	It("warns of unknown and repeated elements", func() {
		r := startHandler(wire.OA, wire.Plain, wire.XML, answer(200, xmlReply(now, "<MsgType>text</MsgType><Content>x</Content><Content>y</Content><Extra>1</Extra>")))
		res := r.push(text("hi"))
		Expect(ruleIDs(res.Violations)).To(ConsistOf(rules.ReplyFieldUnknown, rules.ReplyFieldDuplicate))
		Expect(res.HasError()).To(BeFalse())
	})

	It("answers a retry that succeeds with a warning that duplicates happen", func() {
		var calls atomic.Int32
		stop := make(chan struct{})
		r := startHandler(wire.OA, wire.Plain, wire.XML, func(w http.ResponseWriter, req *http.Request) {
			if calls.Add(1) == 1 {
				select {
				case <-req.Context().Done():
				case <-stop:
				}
				return
			}
			_, _ = w.Write([]byte("success"))
		})
		DeferCleanup(func() { close(stop) }) // runs before the server's Close
		r.engine = newEngine(r.clk, push.Config{Timeout: 100 * time.Millisecond})
		res := r.push(text("hi"))
		Expect(ruleIDs(res.Violations)).To(Equal([]string{rules.PushRetried}))
		Expect(res.Attempts).To(HaveLen(2))
		Expect(res.Attempts[0].TimedOut).To(BeTrue())
		Expect(res.Outcome).To(Equal(push.None))
	})
})

var _ = Describe("the GET handshake", func() {
	It("passes a bot that answers the echostr", func() {
		r := startBot("oa", wire.OA, wire.Safe, wire.XML, push.Config{})
		v := r.engine.Verify(context.Background(), r.target)
		Expect(v.Violations).To(BeEmpty())
		Expect(v.Pass).To(BeTrue())
		Expect(v.Body).To(Equal(v.Echostr))
		Expect(v.Echostr).To(MatchRegexp(`^[1-9][0-9]{18}$`))
		Expect(v.URL).NotTo(ContainSubstring("encrypt_type"), "the handshake is never encrypted")
	})

	DescribeTable("fails every other answer",
		func(status int, body string, rule string) {
			r := startHandler(wire.OA, wire.Plain, wire.XML, func(w http.ResponseWriter, req *http.Request) {
				w.WriteHeader(status)
				_, _ = w.Write([]byte(strings.ReplaceAll(body, "ECHO", req.URL.Query().Get("echostr"))))
			})
			v := r.engine.Verify(context.Background(), r.target)
			Expect(v.Pass).To(BeFalse())
			Expect(ruleIDs(v.Violations)).To(Equal([]string{rule}))
		},
		Entry("a trailing newline", 200, "ECHO\n", rules.VerifyEchostr),
		Entry("JSON", 200, `{"echostr":"ECHO"}`, rules.VerifyEchostr),
		Entry("403", 403, "forbidden", rules.VerifyStatus),
	)

	It("fails a bot with another token", func() {
		r := startBot("oa", wire.OA, wire.Plain, wire.XML, push.Config{})
		t, err := push.NewTarget(push.App{Kind: wire.OA, AppID: appID, OriginalID: originalID, Token: "another", URL: r.target.URL})
		Expect(err).NotTo(HaveOccurred())
		v := r.engine.Verify(context.Background(), t)
		Expect(v.Pass).To(BeFalse())
		Expect(v.Status).To(Equal(403))
	})
})

var _ = Describe("NewTarget", func() {
	DescribeTable("rejects an app WeChat would not accept",
		func(app push.App, want string) {
			_, err := push.NewTarget(app)
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("JSON for an OA", push.App{Kind: wire.OA, Format: wire.JSON, AppID: appID, OriginalID: originalID, Token: token, URL: "http://127.0.0.1/wx"}, "XML only"),
		Entry("short AES key", push.App{Kind: wire.OA, Mode: wire.Safe, AppID: appID, OriginalID: originalID, Token: token, EncodingAESKey: "abc", URL: "http://127.0.0.1/wx"}, "EncodingAESKey"),
		Entry("long token", push.App{Kind: wire.OA, AppID: appID, OriginalID: originalID, Token: strings.Repeat("t", 33), URL: "http://127.0.0.1/wx"}, "3 to 32"),
		Entry("bad URL", push.App{Kind: wire.OA, AppID: appID, OriginalID: originalID, Token: token, URL: "ftp://x"}, "not an http(s) URL"),
		Entry("bad mode", push.App{Kind: wire.OA, Mode: "secret", AppID: appID, OriginalID: originalID, Token: token, URL: "http://127.0.0.1/wx"}, "mode"),
	)
})

var _ = Describe("the probes of a bot's checks", func() {
	It("sends a push with a spoiled signature, which a correct bot refuses", func() {
		r := startBot("oa", wire.OA, wire.Safe, wire.XML, push.Config{})
		res := r.engine.PushTampered(context.Background(), r.target, text("hi"), push.Tamper{Signature: true})
		Expect(res.Answer.Status).To(Equal(403))
		res = r.engine.PushTampered(context.Background(), r.target, text("hi"), push.Tamper{MsgSignature: true})
		Expect(res.Answer.Status).To(Equal(403))
		Expect(r.bot.Received()).To(HaveLen(2))
		Expect(r.bot.Received()[1].SignatureOK).To(BeFalse())
	})

	DescribeTable("spoils exactly the signatures asked for, and nothing else",
		func(mode wire.Mode, tamper push.Tamper, wrong ...string) {
			var query url.Values
			var body string
			r := startHandler(wire.OA, mode, wire.XML, func(w http.ResponseWriter, req *http.Request) {
				b, _ := io.ReadAll(req.Body)
				query, body = req.URL.Query(), string(b)
				w.WriteHeader(http.StatusForbidden)
			})
			m := text("hi")
			m.FromUserName = openID
			res := r.engine.PushTampered(context.Background(), r.target, m, tamper)
			Expect(res.Attempts).To(HaveLen(1), "a refusal is an answer")
			Expect(query).NotTo(BeNil())

			enc := regexp.MustCompile(`<Encrypt><!\[CDATA\[([^\]]+)\]\]></Encrypt>`).FindStringSubmatch(body)
			Expect(enc).NotTo(BeNil(), body)
			ts, nonce := query.Get("timestamp"), query.Get("nonce")
			Expect(ts).To(Equal(strconv.FormatInt(epoch.Unix(), 10)))
			Expect(nonce).To(MatchRegexp(`^[1-9][0-9]{9}$`))
			Expect(query.Get("openid")).To(Equal(openID))
			Expect(query.Get("encrypt_type")).To(Equal("aes"))
			right := map[string]string{
				"signature":     wxcrypto.Signature(token, ts, nonce),
				"msg_signature": wxcrypto.MsgSignature(token, ts, nonce, enc[1]),
			}
			for name, want := range right {
				got := query.Get(name)
				Expect(got).To(MatchRegexp(`^[0-9a-f]{40}$`), "%s stays well-formed", name)
				if slices.Contains(wrong, name) {
					Expect(got).NotTo(Equal(want), "%s must be wrong", name)
				} else {
					Expect(got).To(Equal(want), "%s must be right", name)
				}
			}
			Expect(slices.Sorted(maps.Keys(query))).To(Equal([]string{"encrypt_type", "msg_signature", "nonce", "openid", "signature", "timestamp"}))
		},
		Entry("signature, safe mode", wire.Safe, push.Tamper{Signature: true}, "signature"),
		Entry("msg_signature, safe mode", wire.Safe, push.Tamper{MsgSignature: true}, "msg_signature"),
		Entry("both, safe mode", wire.Safe, push.Tamper{Signature: true, MsgSignature: true}, "signature", "msg_signature"),
		Entry("signature, compatible mode", wire.Compat, push.Tamper{Signature: true}, "signature"),
		Entry("msg_signature, compatible mode", wire.Compat, push.Tamper{MsgSignature: true}, "msg_signature"),
		Entry("both, compatible mode", wire.Compat, push.Tamper{Signature: true, MsgSignature: true}, "signature", "msg_signature"),
		Entry("nothing, safe mode", wire.Safe, push.Tamper{}),
	)

	It("spoils the signature of a plaintext push, which has no msg_signature", func() {
		var query url.Values
		r := startHandler(wire.OA, wire.Plain, wire.XML, func(w http.ResponseWriter, req *http.Request) {
			query = req.URL.Query()
			w.WriteHeader(http.StatusForbidden)
		})
		r.engine.PushTampered(context.Background(), r.target, text("hi"), push.Tamper{Signature: true, MsgSignature: true})
		Expect(query.Get("signature")).NotTo(Equal(wxcrypto.Signature(token, query.Get("timestamp"), query.Get("nonce"))))
		Expect(query.Has("msg_signature")).To(BeFalse())
	})

	It("resends the same message, as WeChat's retry does", func() {
		r := startBot("oa", wire.OA, wire.Plain, wire.XML, push.Config{})
		first := r.push(text("hi"))
		again := r.engine.Resend(context.Background(), r.target, first)
		Expect(again.Message.MsgId).To(Equal(first.Message.MsgId))
		Expect(again.Request.Body).To(Equal(first.Request.Body))
		Expect(again.Attempts[0].URL).NotTo(Equal(first.Attempts[0].URL))
	})
})
