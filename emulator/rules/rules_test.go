package rules_test

import (
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/wire"
)

var _ = Describe("the rule catalog", func() {
	It("documents every rule with a severity, a protocol section and a summary", func() {
		Expect(rules.Catalog()).NotTo(BeEmpty())
		for _, r := range rules.Catalog() {
			Expect(r.ID).To(MatchRegexp(`^[a-z]+(\.[a-z_]+)+$`))
			Expect(r.Severity).To(BeElementOf(rules.Error, rules.Warning), r.ID)
			Expect(r.Ref).To(HavePrefix("§"), r.ID)
			Expect(r.Summary).NotTo(BeEmpty(), r.ID)
		}
	})

	It("makes violations with the catalog's severity and reference", func() {
		v := rules.New(rules.ReplyCreateTimeMilli, "CreateTime %d", 1)
		Expect(v).To(Equal(rules.Violation{Rule: "reply.createtime.millis", Severity: rules.Warning, Message: "CreateTime 1", Ref: "§3.1"}))
		Expect(v.String()).To(Equal("warning [reply.createtime.millis] CreateTime 1 (protocol §3.1)"))
		Expect(rules.HasError([]rules.Violation{v})).To(BeFalse())
		Expect(rules.HasError([]rules.Violation{v, rules.New(rules.ReplySyntax, "x")})).To(BeTrue())
	})

	It("refuses a rule id that is not in the catalog", func() {
		Expect(func() { rules.New("reply.made.up", "x") }).To(PanicWith(ContainSubstring("reply.made.up")))
	})
})

var _ = Describe("JudgeReply", func() {
	const user, account = "oUser", "gh_account"
	now := time.Unix(1795255200, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	ctx := func(kind wire.Kind, toEvent bool) rules.ReplyContext {
		return rules.ReplyContext{Kind: kind, OpenID: user, OriginalID: account, ToEvent: toEvent, Now: now}
	}
	reply := func(msgType string) *wire.RawReply {
		return &wire.RawReply{Root: "xml", ToUserName: user, FromUserName: account, CreateTime: ts, MsgType: msgType}
	}
	articles := func(n int) []wire.RawArticle {
		out := make([]wire.RawArticle, n)
		for i := range out {
			out[i] = wire.RawArticle{Title: "t" + strconv.Itoa(i)}
		}
		return out
	}

	It("passes a well-formed text reply and converts it", func() {
		r := reply("text")
		r.Content = "你好"
		v := rules.JudgeReply(ctx(wire.OA, false), r)
		Expect(v.Violations).To(BeEmpty())
		Expect(v.Delivered).To(BeTrue())
		Expect(v.Failed).To(BeFalse())
		Expect(v.Reply).To(Equal(wire.Reply{ToUserName: user, FromUserName: account, CreateTime: now.Unix(), MsgType: "text", Content: "你好"}))
	})

	DescribeTable("accepts a CreateTime near the push's virtual time or near wall time, and warns of one near neither",
		func(hasWall bool, wall, stamped time.Duration, says string) {
			c := ctx(wire.OA, false)
			if hasWall {
				c.WallNow = now.Add(wall)
			}
			r := reply("text")
			r.Content = "x"
			r.CreateTime = strconv.FormatInt(now.Add(stamped).Unix(), 10)
			v := rules.JudgeReply(c, r)
			Expect(v.Delivered).To(BeTrue())
			if says == "" {
				Expect(v.Violations).To(BeEmpty())
				return
			}
			Expect(v.Violations).To(ConsistOf(And(HaveField("Rule", rules.ReplyCreateTimeSkew), HaveField("Message", ContainSubstring(says)))))
		},
		Entry("5 minutes from virtual time, no wall time given", false, time.Duration(0), 5*time.Minute, ""),
		Entry("further from virtual time, no wall time given", false, time.Duration(0), 5*time.Minute+time.Second, "5m1s away from the push time 1795255200; it should"),
		Entry("far from both when they agree", true, time.Duration(0), time.Hour, "1h0m0s away from the push time 1795255200; it should"),
		Entry("the bot's own clock after the emulator's was advanced 2 h", true, -2*time.Hour, -2*time.Hour+time.Minute, ""),
		Entry("the emulator's clock after it was advanced 2 h", true, -2*time.Hour, -time.Minute, ""),
		Entry("near neither after the emulator's clock was advanced 2 h", true, -2*time.Hour, -time.Hour,
			"1h0m0s away from the push time 1795255200 (the emulator's clock) and 1h0m0s from the current time 1795248000 (the wall clock)"),
	)

	It("names both the mistake and the fix when the header is copied instead of swapped", func() {
		r := reply("text")
		r.Content = "x"
		r.ToUserName, r.FromUserName = account, user
		v := rules.JudgeReply(ctx(wire.OA, false), r)
		Expect(v.Failed).To(BeTrue())
		Expect(v.Violations).To(HaveLen(1))
		Expect(v.Violations[0].Rule).To(Equal(rules.ReplyHeaderSwap))
		Expect(v.Violations[0].Message).To(ContainSubstring(`ToUserName "oUser"`))
		Expect(v.Violations[0].Message).To(ContainSubstring("failure line"))
	})

	DescribeTable("news article limits since 2018-10-12",
		func(toEvent bool, n int, wantRule bool, kept int) {
			r := reply("news")
			r.ArticleCount, r.Articles = strconv.Itoa(n), articles(n)
			v := rules.JudgeReply(ctx(wire.OA, toEvent), r)
			Expect(v.Delivered).To(BeTrue())
			Expect(v.Reply.Articles).To(HaveLen(kept))
			if wantRule {
				Expect(v.Violations).To(ConsistOf(HaveField("Rule", rules.ReplyNewsTooMany)))
			} else {
				Expect(v.Violations).To(BeEmpty())
			}
		},
		Entry("1 to a message", false, 1, false, 1),
		Entry("2 to a message", false, 2, true, 1),
		Entry("8 to an event", true, 8, false, 8),
		Entry("9 to an event", true, 9, true, 8),
	)

	It("warns of over-long text but delivers it", func() {
		r := reply("text")
		r.Content = strings.Repeat("字", 700)
		v := rules.JudgeReply(ctx(wire.OA, false), r)
		Expect(v.Delivered).To(BeTrue())
		Expect(v.Violations).To(ConsistOf(HaveField("Rule", rules.ReplyTextTooLong)))
	})

	It("warns of a TransInfo with no KfAccount and transfers to the queue", func() {
		r := reply("transfer_customer_service")
		r.TransInfo = &wire.RawTransInfo{}
		v := rules.JudgeReply(ctx(wire.MP, false), r)
		Expect(v.Delivered).To(BeTrue())
		Expect(v.Reply.TransInfo).To(BeNil())
		Expect(v.Violations).To(ConsistOf(HaveField("Rule", rules.ReplyTransferKf)))
	})

	It("lets a Mini Program transfer but not reply with content", func() {
		r := reply("image")
		r.Image = &wire.RawMedia{MediaId: "m"}
		v := rules.JudgeReply(ctx(wire.MP, false), r)
		Expect(v.Delivered).To(BeFalse())
		Expect(v.Failed).To(BeFalse())
		Expect(v.Violations).To(ConsistOf(HaveField("Rule", rules.ReplyMPContent)))
	})
})
