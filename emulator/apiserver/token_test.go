package apiserver_test

import (
	"net/http"
	"net/url"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/platform"
)

// valid is the errcode of /cgi-bin/media/get for an unknown media id: 40007 means the token
// itself passed.
const valid = 40007

func (e *env) use(tk string) int {
	return e.get("/cgi-bin/media/get?media_id=x&access_token=" + url.QueryEscape(tk)).errcode()
}

func (e *env) stableToken(appid string, force bool) string {
	app, ok := e.p().Config().App(appid)
	Expect(ok).To(BeTrue())
	a := e.post("/cgi-bin/stable_token", map[string]any{"grant_type": "client_credential", "appid": app.AppID, "secret": app.Secret, "force_refresh": force})
	Expect(a.JSON).To(HaveKey("access_token"), string(a.Raw))
	return a.JSON["access_token"].(string)
}

var _ = Describe("the time access tokens live on", func() {
	It("is the emulator's clock with api.token_time: virtual", func() {
		e := start(func(c *config.Config) { c.API.TokenTime = config.TokenTimeVirtual })
		Expect(e.p().TokenTime()).To(BeTrue())
		tk, st := e.token(oa), e.stableToken(oa, false)
		e.wall.Advance(48 * time.Hour)
		Expect(e.use(tk)).To(Equal(valid), "wall time does not count")
		e.clk.Advance(7200*time.Second - time.Second)
		Expect(e.use(st)).To(Equal(valid))
		e.clk.Advance(time.Second)
		Expect(e.use(tk)).To(Equal(42001))
		Expect(e.use(st)).To(Equal(42001))
	})

	It("switches at run time, each token keeping the time it had left", func() {
		e := start(nil)
		tk := e.token(oa)
		e.clk.Advance(24 * time.Hour)
		e.wall.Advance(time.Hour)
		mark := e.p().LastSeq()
		e.p().SetTokenTime(true)
		e.p().SetTokenTime(true)
		Expect(e.p().TokenTime()).To(BeTrue())
		Expect(e.p().Journal(platform.JournalFilter{Since: mark, Kind: "control"})).To(ConsistOf(
			HaveField("Summary", "access tokens now live on virtual time")), "one entry per change")
		Expect(e.use(tk)).To(Equal(valid), "the switch does not expire it, though virtual time is a day ahead")
		e.wall.Advance(2 * time.Hour)
		Expect(e.use(tk)).To(Equal(valid), "wall time no longer counts")
		e.clk.Advance(time.Hour - time.Second)
		Expect(e.use(tk)).To(Equal(valid))
		e.clk.Advance(time.Second)
		Expect(e.use(tk)).To(Equal(42001), "its last hour ran on the emulator's clock")

		fresh := e.token(oa)
		e.p().SetTokenTime(false)
		Expect(e.p().TokenTime()).To(BeFalse())
		e.clk.Advance(3 * time.Hour)
		Expect(e.use(fresh)).To(Equal(valid))
		e.wall.Advance(7200 * time.Second)
		Expect(e.use(fresh)).To(Equal(42001))
	})

	It("keeps the daily quota on the emulator's clock", func() {
		e := start(nil)
		body := map[string]any{"grant_type": "client_credential", "appid": oa, "secret": config.DemoOASecret, "force_refresh": true}
		Expect(e.post("/cgi-bin/stable_token", body).errcode()).To(Equal(0))
		e.wall.Advance(time.Minute)
		Expect(e.post("/cgi-bin/stable_token", body).errcode()).To(Equal(45011), "30 s of the emulator's clock have not passed")
		e.clk.Advance(30 * time.Second)
		Expect(e.post("/cgi-bin/stable_token", body).errcode()).To(Equal(0))
	})
})

var _ = Describe("expiring and revoking an app's tokens", func() {
	var e *env
	BeforeEach(func() { e = start(nil) })

	It("expires every token of the app: the next use answers 42001, and a new token works", func() {
		tk, st, theirs := e.token(oa), e.stableToken(oa, false), e.token(mp)
		mark := e.p().LastSeq()
		a := e.post("/_emu/v1/apps/oa/tokens/expire", nil)
		Expect(a.Status).To(Equal(200), string(a.Raw))
		Expect(a.JSON).To(Equal(map[string]any{"app": oa, "expired": 2.0}))
		Expect(e.use(tk)).To(Equal(42001))
		Expect(e.use(st)).To(Equal(42001))
		Expect(e.use(theirs)).To(Equal(valid), "another app's tokens stay")
		Expect(e.use(e.stableToken(oa, false))).To(Equal(valid), "stable_token hands out a new one")
		Expect(e.use(e.token(oa))).To(Equal(valid))

		controls := e.p().Journal(platform.JournalFilter{Since: mark, Kind: "control"})
		Expect(controls).To(HaveLen(2))
		Expect(controls[0]).To(And(HaveField("App", oa), HaveField("Summary", "access tokens of oa expired: 2, whose next use answers 42001")))
		Expect(controls[1]).To(And(HaveField("App", oa), HaveField("Summary", "POST /_emu/v1/apps/{app}/tokens/expire → ok")))
	})

	It("revokes every token of the app: the next use answers 40001, and a new token works", func() {
		tk, st, theirs := e.token(oa), e.stableToken(oa, false), e.token(mp)
		mark := e.p().LastSeq()
		a := e.post("/_emu/v1/apps/"+oa+"/tokens/revoke", nil)
		Expect(a.Status).To(Equal(200), string(a.Raw))
		Expect(a.JSON).To(Equal(map[string]any{"app": oa, "revoked": 2.0}))
		Expect(e.use(tk)).To(Equal(40001))
		Expect(e.use(st)).To(Equal(40001))
		Expect(e.use(theirs)).To(Equal(valid))
		Expect(e.use(e.stableToken(oa, false))).To(Equal(valid))
		Expect(e.p().Journal(platform.JournalFilter{Since: mark, Kind: "control"})[0]).To(And(
			HaveField("App", oa), HaveField("Summary", "access tokens of oa revoked: 2, whose next use answers 40001")))
		Expect(e.post("/_emu/v1/apps/oa/tokens/revoke", nil).JSON).To(HaveKeyWithValue("revoked", 1.0), "only the new stable token")
	})

	It("does the same for a Go caller, and names an unknown app", func() {
		tk := e.token(mp)
		Expect(e.p().ExpireTokens("mp")).Error().To(Succeed())
		Expect(e.use(tk)).To(Equal(42001))
		tk = e.token(mp)
		Expect(e.p().RevokeTokens(mp)).Error().To(Succeed())
		Expect(e.use(tk)).To(Equal(40001))
		Expect(e.p().ExpireTokens("mq")).Error().To(MatchError(platform.ErrUnknownApp))
		Expect(e.p().RevokeTokens("mq")).Error().To(MatchError(ContainSubstring(`did you mean "mp"?`)))

		a := e.post("/_emu/v1/apps/ao/tokens/expire", nil)
		Expect(a.Status).To(Equal(404))
		Expect(a.JSON["error"]).To(ContainSubstring(`did you mean "oa"?`))
		Expect(e.get("/_emu/v1/apps/oa/tokens/revoke").Status).To(Equal(405))
	})
})

var _ = Describe("a call refused for its access token", func() {
	var e *env
	BeforeEach(func() { e = start(nil) })

	// refused is the one api entry of the call made by do.
	refused := func(do func() answer) (platform.Entry, answer) {
		GinkgoHelper()
		mark := e.p().LastSeq()
		a := do()
		entries := e.p().Journal(platform.JournalFilter{Since: mark, Kind: "api"})
		Expect(entries).To(HaveLen(1))
		return entries[0], a
	}

	It("is journaled as the token's app's when the token names one, and as the user's the body names", func() {
		check := func(token, app string, code int) {
			GinkgoHelper()
			en, a := refused(func() answer { return e.sendText(token, alice, "hi") })
			Expect(a.errcode()).To(Equal(code))
			Expect(en.API).To(And(HaveField("Path", "/cgi-bin/message/custom/send"), HaveField("Errcode", code)))
			Expect(en).To(And(HaveField("App", app), HaveField("User", alice)), "token %q", token)
			Expect(en.API.Exchange.RequestBody).To(ContainSubstring(`"touser":"`+alice+`"`), "the body is in the journal")
		}
		expired := e.token(oa)
		Expect(e.p().ExpireTokens("oa")).Error().To(Succeed())
		check(expired, oa, 42001)
		revoked := e.token(oa)
		Expect(e.p().RevokeTokens("oa")).Error().To(Succeed())
		check(revoked, oa, 40001)
		check(expired, oa, 40001) // a revocation forgets expired tokens too
		old := e.token(oa)
		check("", "", 41001)
		check("not-a-token", "", 40014)
		e.wall.Advance(3 * time.Hour) // forgotten by the store: the token itself still names its app
		check(old, oa, 42001)
		Expect(e.p().Export().Tokens.Tokens).To(BeEmpty())
	})

	It("names the user of every JSON route that names one, and of the openid query", func() {
		Expect(e.p().ExpireTokens("oa")).Error().To(Succeed())
		tk := e.token(oa)
		Expect(e.p().ExpireTokens("oa")).Error().To(Succeed())
		for _, c := range []struct {
			method, path, body string
		}{
			{http.MethodPost, "/cgi-bin/message/custom/typing", `{"touser":"` + bob + `","command":"Typing"}`},
			{http.MethodPost, "/customservice/kfsession/create", `{"kf_account":"` + kf1 + `","openid":"` + bob + `"}`},
			{http.MethodPost, "/customservice/kfsession/close", `{"kf_account":"` + kf1 + `","openid":"` + bob + `"}`},
			{http.MethodGet, "/customservice/kfsession/getsession?openid=" + bob, ""},
		} {
			sep := "?"
			if c.method == http.MethodGet {
				sep = "&"
			}
			en, a := refused(func() answer {
				return e.do(c.method, c.path+sep+"access_token="+url.QueryEscape(tk), []byte(c.body), "application/json")
			})
			Expect(a.errcode()).To(Equal(42001), c.path)
			Expect(en).To(And(HaveField("App", oa), HaveField("User", bob)), c.path)
		}
		en, _ := refused(func() answer {
			return e.do(http.MethodPost, "/cgi-bin/message/custom/send?access_token="+url.QueryEscape(tk), []byte(`{"touser":7,"msgtype":`), "application/json")
		})
		Expect(en).To(And(HaveField("App", oa), HaveField("User", "")), "a body that names no user in a string names none")
	})
})
