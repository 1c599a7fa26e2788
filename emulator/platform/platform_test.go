package platform_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/wire"
	"github.com/wxemu/wxemu/emulator/wxcrypto"
)

// encryptOf is the Encrypt of a safe-mode XML push body.
func encryptOf(body string) string {
	m := regexp.MustCompile(`<Encrypt><!\[CDATA\[([^\]]+)\]\]></Encrypt>`).FindStringSubmatch(body)
	Expect(m).NotTo(BeNil(), body)
	return m[1]
}

var _ = Describe("Platform", func() {
	var p *platform.Platform
	BeforeEach(func() {
		var err error
		p, err = platform.New(platform.Options{Clock: clock.NewFake(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(p.Close)
	})
	text := wire.Message{MsgType: "text", Content: "hi"}

	It("suggests the app meant", func() {
		_, err := p.UserSends(context.Background(), "ao", config.DemoAliceOA, text)
		Expect(err).To(MatchError(platform.ErrUnknownApp))
		Expect(err.Error()).To(ContainSubstring(`did you mean "oa"?`))
	})

	It("says how to give an app a bot", func() {
		_, err := p.UserSends(context.Background(), "oa", config.DemoAliceOA, text)
		Expect(err).To(MatchError(platform.ErrNoBot))
		Expect(err.Error()).To(ContainSubstring("--target"))
	})

	It("refuses a message the app's kind does not receive", func() {
		_, err := p.UserSends(context.Background(), "mp", config.DemoAliceMP, wire.Message{MsgType: "voice", MediaId: "m"})
		Expect(err).To(MatchError(platform.ErrBadMessage))
	})

	It("opens windows by name, and only known ones", func() {
		g, err := p.Trigger("oa", "oNewUser000000000000000000001", "payment")
		Expect(err).NotTo(HaveOccurred())
		Expect(g).To(ConsistOf(HaveField("Remaining", -1)))
		_, err = p.Trigger("oa", "oNewUser000000000000000000001", "paymnet")
		Expect(err.Error()).To(ContainSubstring(`did you mean "payment"?`))
	})

	It("counts a message trigger where a user message counts, and no other trigger", func() {
		oa, _ := p.App("oa")
		typing := func(openid string) error {
			_, err := p.Typing(context.Background(), oa, []byte(`{"touser":"`+openid+`","command":"Typing"}`))
			return err
		}
		_, err := p.Trigger("oa", config.DemoBobOA, "click")
		Expect(err).NotTo(HaveOccurred())
		Expect(platform.Code(typing(config.DemoBobOA))).To(Equal(45080), "a click is not a message")
		_, err = p.Trigger("oa", config.DemoBobOA, "message")
		Expect(err).NotTo(HaveOccurred())
		Expect(typing(config.DemoBobOA)).To(Succeed(), "the typing rule's 30 seconds run from it")
		u, _ := p.User(oa.AppID, config.DemoBobOA)
		Expect(u.LastMessage).To(Equal(p.Now()))
	})

	It("keeps token time going on in an import of an export taken later", func() {
		start := p.Now()
		wall := clock.NewFake(start)
		src, err := platform.New(platform.Options{Clock: clock.NewFake(start), WallClock: wall})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(src.Close)
		tk, err := src.IssueToken(context.Background(), "client_credential", config.DemoOAAppID, config.DemoOASecret)
		Expect(err).NotTo(HaveOccurred())
		Expect(tk.ExpiresIn).To(Equal(7200))
		src.SetTokenTime(true)
		src.Advance(time.Hour)

		dst, err := platform.New(platform.Options{Clock: clock.NewFake(start), WallClock: wall})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(dst.Close)
		Expect(dst.TokenTime()).To(BeFalse())
		Expect(dst.Import(src.Export())).To(Succeed())
		_, err = dst.CheckToken(tk.Value)
		Expect(err).NotTo(HaveOccurred())
		wall.Advance(time.Hour - time.Nanosecond)
		_, err = dst.CheckToken(tk.Value)
		Expect(err).NotTo(HaveOccurred(), "an hour is left")
		wall.Advance(time.Nanosecond)
		app, err := dst.CheckToken(tk.Value)
		Expect(err).To(MatchError(state.ErrTokenExpired))
		Expect(app).NotTo(BeNil(), "an expired token still names its app")
		Expect(app.AppID).To(Equal(config.DemoOAAppID))
	})

	It("probes a bot with both signatures spoiled at once", func() {
		queries := make(chan url.Values, 1)
		bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			queries <- r.URL.Query()
			w.WriteHeader(http.StatusForbidden)
		}))
		DeferCleanup(bot.Close)
		cfg := config.Default()
		cfg.Apps[0].Mode = config.ModeSafe
		q, err := platform.New(platform.Options{Config: cfg, Clock: clock.NewFake(p.Now()), Targets: map[string]string{"oa": bot.URL}})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(q.Close)
		res, err := q.ProbeSignature(context.Background(), "oa", config.DemoAliceOA, text, platform.Tamper{Signature: true, MsgSignature: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Answer.Status).To(Equal(http.StatusForbidden))
		var query url.Values
		Eventually(queries).Should(Receive(&query))
		ts, nonce := query.Get("timestamp"), query.Get("nonce")
		Expect(query.Get("signature")).NotTo(Equal(wxcrypto.Signature(config.DemoOAToken, ts, nonce)))
		Expect(wxcrypto.VerifyMsgSignature(config.DemoOAToken, ts, nonce, encryptOf(res.Request.Body), query.Get("msg_signature"))).To(BeFalse())
		Expect(query.Get("msg_signature")).To(MatchRegexp(`^[0-9a-f]{40}$`), "well-formed, only wrong")
		entries := q.Journal(platform.JournalFilter{Kind: platform.KindPush})
		Expect(entries).To(HaveLen(1))
		Expect(entries[0]).To(And(HaveField("Errors", 0), HaveField("Summary", HavePrefix("signature probe (wrong signature and msg_signature): "))))
		Expect(entries[0].Push.Probe).To(Equal("signature probe (wrong signature and msg_signature)"))
	})

	It("refuses an unknown token clock", func() {
		cfg := config.Default()
		cfg.API.TokenTime = "sundial"
		_, err := platform.New(platform.Options{Config: cfg})
		Expect(err).To(MatchError(ContainSubstring(`api.token_time "sundial"`)))
	})

	It("maps every domain error to WeChat's errcode, and anything else to -1", func() {
		Expect(platform.Code(nil)).To(Equal(0))
		Expect(platform.Code(state.ErrQuotaUsed)).To(Equal(45047))
		Expect(platform.Code(state.ErrKfNoSession)).To(Equal(65413))
		Expect(platform.Code(&wire.Error{Code: 40008})).To(Equal(40008))
		Expect(platform.Code(errors.New("a bug"))).To(Equal(-1))
	})

	It("refuses an export of another version", func() {
		Expect(p.Import(&platform.Snapshot{Version: 2})).To(MatchError(ContainSubstring("version 2")))
	})

	It("moves the clock forward to an export taken later", func() {
		snap := p.Export()
		snap.Time = snap.Time.Add(time.Hour)
		Expect(p.Import(snap)).To(Succeed())
		Expect(p.Now()).To(Equal(snap.Time))
		Expect(p.Advanced()).To(Equal(time.Hour))
	})
})
