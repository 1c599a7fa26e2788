package apiserver_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/apiserver"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/wire"
)

func eventMsg(name string) wire.Message { return wire.Message{MsgType: "event", Event: name} }

var _ = Describe("the routing table", func() {
	var e *env
	BeforeEach(func() { e = start(nil) })

	It("makes every token-required route reject a missing, malformed, unknown and expired token", func() {
		// Tokens live on wall time (api.token_time: wall).
		expired := e.token(oa)
		e.wall.Advance(7200 * time.Second)
		superseded := e.token(oa)
		e.token(oa)
		e.wall.Advance(6 * time.Minute)
		for _, rt := range e.api.Routes() {
			if rt.Access != apiserver.TokenRequired {
				continue
			}
			method := rt.Methods[0]
			for _, c := range []struct {
				query string
				code  int
			}{
				{"", 41001},
				{"?access_token=", 41001},
				{"?access_token=not-a-token", 40014},
				{"?access_token=" + superseded, 40001},
				{"?access_token=" + expired, 42001},
			} {
				a := e.do(method, rt.Path+c.query, nil, "")
				Expect(a.Status).To(Equal(200), rt.Path)
				Expect(a.errcode()).To(Equal(c.code), "%s %s%s: %s", method, rt.Path, c.query, a.Raw)
			}
		}
	})

	It("answers 44002 for an empty body and 47001 for anything but a JSON object on every JSON route", func() {
		tk := e.token(oa)
		routes := 0
		for _, rt := range e.api.Routes() {
			if rt.Access == apiserver.Control || rt.Body != apiserver.JSONBody {
				continue
			}
			routes++
			path := rt.Path
			if rt.Access == apiserver.TokenRequired {
				path += "?access_token=" + tk
			}
			for _, c := range []struct {
				body string
				code int
			}{
				{"", 44002},
				{" \r\n\t ", 44002},
				{"{", 47001},
				{"not json", 47001},
				{"[]", 47001},
				{`"a string"`, 47001},
				{"null", 47001},
				{"{\"touser\":\"\xff\xfe\"}", 47001},
				{`{"touser":1,"openid":1,"kf_account":1,"grant_type":1,"starttime":"x","command":1}`, 47001},
			} {
				a := e.post(path, c.body)
				Expect(a.Status).To(Equal(200), rt.Path)
				Expect(a.errcode()).To(Equal(c.code), "POST %s %q: %s", rt.Path, c.body, a.Raw)
			}
		}
		Expect(routes).To(BeNumerically(">=", 10), "stable_token, send, typing, the kf accounts and sessions, getmsglist")
	})

	It("journals exactly one api entry per call of a WeChat route, with the raw exchange", func() {
		tk := e.token(oa)
		for _, rt := range e.api.Routes() {
			if rt.Access == apiserver.Control {
				continue
			}
			path := rt.Path + "?access_token=" + tk
			mark := e.p().LastSeq()
			var a answer
			if rt.Methods[0] == http.MethodGet {
				a = e.get(path)
			} else {
				a = e.post(path, "{}")
			}
			var apis []platform.Entry
			for _, en := range e.p().Journal(platform.JournalFilter{Since: mark}) {
				if en.API != nil {
					apis = append(apis, en)
				}
			}
			Expect(apis).To(HaveLen(1), rt.Path)
			Expect(apis[0].API).To(And(HaveField("Path", rt.Path), HaveField("Via", "http"), HaveField("Errcode", a.errcode())), rt.Path)
			Expect(apis[0].API.Exchange).NotTo(BeNil(), rt.Path)
			Expect(apis[0].API.Exchange).To(And(HaveField("Method", rt.Methods[0]), HaveField("URL", path), HaveField("Status", 200)), rt.Path)
		}
	})

	It("answers a GET on a POST-only API with 43002, after the token check", func() {
		tk := e.token(oa)
		for _, rt := range e.api.Routes() {
			if rt.Access != apiserver.TokenRequired || rt.Methods[0] != http.MethodPost {
				continue
			}
			a := e.get(rt.Path + "?access_token=" + tk)
			Expect(a.errcode()).To(Equal(43002), rt.Path)
			Expect(a.errmsg()).To(HavePrefix("require POST method rid: "))
		}
	})

	It("answers a POST on a GET-only API with 43001", func() {
		tk := e.token(oa)
		for _, rt := range e.api.Routes() {
			if rt.Access != apiserver.TokenRequired || len(rt.Methods) != 1 || rt.Methods[0] != http.MethodGet {
				continue
			}
			Expect(e.post(rt.Path+"?access_token="+tk, "{}").errcode()).To(Equal(43001), rt.Path)
		}
	})

	It("answers an unknown path as WeChat would, and journals it", func() {
		a := e.get("/cgi-bin/no/such/api?access_token=x")
		Expect(a.Status).To(Equal(200))
		Expect(a.errcode()).To(Equal(40066))
		Expect(a.ContentType).To(Equal("application/json; encoding=utf-8"))
		entries := e.get("/_emu/v1/journal?kind=unknown").JSON["entries"].([]any)
		Expect(entries).To(HaveLen(1))
		Expect(entries[0].(map[string]any)["summary"]).To(ContainSubstring("/cgi-bin/no/such/api"))
		Expect(entries[0].(map[string]any)["data"]).To(And(HaveKeyWithValue("problem", ContainSubstring("not an API wxemu serves")),
			HaveKeyWithValue("url", "/cgi-bin/no/such/api?access_token=x"), HaveKeyWithValue("response_body", string(a.Raw))))
		Expect(e.p().Journal(platform.JournalFilter{Kind: "api"})).To(BeEmpty(), "a finding, not an API call")
	})

	It("writes errmsg with the current rid suffix", func() {
		a := e.get("/cgi-bin/message/custom/send")
		Expect(a.errmsg()).To(MatchRegexp(`^access_token missing rid: [0-9a-f]{1,8}-[0-9a-f]{1,8}-[0-9a-f]{1,8}$`))
		Expect(strings.Split(strings.TrimPrefix(a.errmsg(), "access_token missing rid: "), "-")[0]).To(Equal("6b016ba0"), "the first segment is the unix time in hex")
	})

	It("leaves the rid out when configured so", func() {
		e = start(func(c *config.Config) { c.API.RID = false })
		Expect(e.get("/cgi-bin/message/custom/send").errmsg()).To(Equal("access_token missing"))
	})
})

var _ = Describe("/cgi-bin/token and /cgi-bin/stable_token", func() {
	var e *env
	BeforeEach(func() { e = start(nil) })

	tokenURL := func(grant, appid, secret string) string {
		return "/cgi-bin/token?grant_type=" + grant + "&appid=" + appid + "&secret=" + secret
	}

	DescribeTable("rejects bad credentials with the real codes",
		func(grant, appid, secret string, code int) {
			a := e.get(tokenURL(grant, appid, secret))
			Expect(a.errcode()).To(Equal(code), string(a.Raw))
			Expect(a.JSON).NotTo(HaveKey("access_token"))
		},
		Entry("wrong grant_type", "password", oa, config.DemoOASecret, 40002),
		Entry("no appid", "client_credential", "", config.DemoOASecret, 41002),
		Entry("no secret", "client_credential", oa, "", 41004),
		Entry("unknown appid", "client_credential", "wx0000000000000000", config.DemoOASecret, 40013),
		Entry("wrong secret", "client_credential", oa, config.DemoMPSecret, 40125),
	)

	It("answers 40125 with the doc link real WeChat puts in its errmsg", func() {
		a := e.get(tokenURL("client_credential", oa, config.DemoMPSecret))
		Expect(a.errmsg()).To(MatchRegexp(`^invalid appsecret, view more at http://t\.cn/RAEkdVq rid: [0-9a-f]+-[0-9a-f]+-[0-9a-f]+$`))
	})

	It("issues a new token on every call; the previous one lasts 5 more minutes", func() {
		a := e.get(tokenURL("client_credential", oa, config.DemoOASecret))
		Expect(a.JSON).To(HaveKeyWithValue("expires_in", BeNumerically("==", 7200)))
		Expect(a.JSON).NotTo(HaveKey("errcode"))
		Expect(string(a.Raw)).To(MatchRegexp(`^\{"access_token":"[^"]{100,}","expires_in":7200\}$`), "WeChat's bytes, no errcode")
		first := a.JSON["access_token"].(string)
		Expect(len(first)).To(BeNumerically(">", 100))
		second := e.token(oa)
		Expect(second).NotTo(Equal(first))

		e.wall.Advance(4 * time.Minute)
		Expect(e.get("/cgi-bin/media/get?media_id=x&access_token="+first).errcode()).To(Equal(40007), "still valid")
		e.wall.Advance(time.Minute + time.Second)
		Expect(e.get("/cgi-bin/media/get?media_id=x&access_token="+first).errcode()).To(Equal(40001), "superseded")
		Expect(e.get("/cgi-bin/media/get?media_id=x&access_token=" + second).errcode()).To(Equal(40007))
	})

	It("expires a token after 7200 s of wall time, however far the emulator's clock moves", func() {
		Expect(e.p().TokenTime()).To(BeFalse(), "wall time is the default")
		tk := e.token(oa)
		e.clk.Advance(48 * time.Hour)
		Expect(e.get("/cgi-bin/media/get?media_id=x&access_token="+tk).errcode()).To(Equal(40007), "a bot's cached token still works")
		e.wall.Advance(7199 * time.Second)
		Expect(e.get("/cgi-bin/media/get?media_id=x&access_token=" + tk).errcode()).To(Equal(40007))
		e.wall.Advance(time.Second)
		Expect(e.get("/cgi-bin/media/get?media_id=x&access_token=" + tk).errcode()).To(Equal(42001))
	})

	It("answers a fresh token's expires_in as exactly 7200 on a clock that moves on its own", func() {
		// Real time moves between issuing the token and writing the answer.
		q, err := platform.New(platform.Options{})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(q.Close)
		srv := httptest.NewServer(apiserver.New(q, nil).Handler())
		DeferCleanup(srv.Close)
		for range 20 {
			a := getJSON(srv.URL + "/cgi-bin/token?grant_type=client_credential&appid=" + oa + "&secret=" + config.DemoOASecret)
			Expect(a).To(HaveKeyWithValue("expires_in", BeNumerically("==", 7200)))
			body := `{"grant_type":"client_credential","appid":"` + oa + `","secret":"` + config.DemoOASecret + `","force_refresh":true}`
			b := postJSON(srv.URL+"/cgi-bin/stable_token", body)
			if _, refused := b["errcode"]; !refused { // force_refresh is spaced 30 s apart
				Expect(b).To(HaveKeyWithValue("expires_in", BeNumerically("==", 7200)))
			}
		}
	})

	It("returns the same stable token until force_refresh, which is limited", func() {
		body := map[string]any{"grant_type": "client_credential", "appid": oa, "secret": config.DemoOASecret}
		a := e.post("/cgi-bin/stable_token", body)
		b := e.post("/cgi-bin/stable_token", body)
		Expect(a.JSON["access_token"]).To(Equal(b.JSON["access_token"]))
		Expect(a.JSON["expires_in"]).To(BeNumerically("==", 7200))
		e.wall.Advance(time.Hour + 500*time.Millisecond)
		c := e.post("/cgi-bin/stable_token", body)
		Expect(c.JSON["access_token"]).To(Equal(a.JSON["access_token"]))
		Expect(c.JSON["expires_in"]).To(BeNumerically("==", 3599), "what it has left, in whole seconds")

		body["force_refresh"] = true
		d := e.post("/cgi-bin/stable_token", body)
		Expect(d.JSON["access_token"]).NotTo(Equal(a.JSON["access_token"]))
		Expect(e.post("/cgi-bin/stable_token", body).errcode()).To(Equal(45011), "force_refresh needs 30 s between calls")

		Expect(e.post("/cgi-bin/stable_token", "").errcode()).To(Equal(44002))
		Expect(e.post("/cgi-bin/stable_token", "{").errcode()).To(Equal(47001))
	})

	It("keeps /token and /stable_token apart", func() {
		stable := e.post("/cgi-bin/stable_token", map[string]any{"grant_type": "client_credential", "appid": oa, "secret": config.DemoOASecret}).JSON["access_token"].(string)
		plain := e.token(oa)
		e.token(oa)
		e.wall.Advance(10 * time.Minute)
		Expect(e.get("/cgi-bin/media/get?media_id=x&access_token=" + stable).errcode()).To(Equal(40007))
		Expect(e.get("/cgi-bin/media/get?media_id=x&access_token=" + plain).errcode()).To(Equal(40001))
	})
})

var _ = Describe("/cgi-bin/message/custom/send", func() {
	var e *env
	var tk string
	BeforeEach(func() {
		e = start(nil)
		tk = e.token(oa)
	})

	send := func(body any) answer { return e.post("/cgi-bin/message/custom/send?access_token="+tk, body) }

	It("delivers a message inside the window to the user's transcript", func() {
		e.say(oa, alice, "hi")
		a := e.sendText(tk, alice, "客服消息 <a href=\"https://example.com\">link</a>")
		Expect(a.JSON).To(Equal(map[string]any{"errcode": 0.0, "errmsg": "ok"}))
		lines := e.p().Transcript(oa, alice)
		Expect(lines[len(lines)-1].Kind).To(Equal("custom"))
		Expect(lines[len(lines)-1].Text).To(Equal(`客服消息 <a href="https://example.com">link</a>`))
	})

	It("journals one api entry with the decoded send, the caller and the raw body", func() {
		e.say(oa, alice, "hi")
		mark := e.p().LastSeq()
		Expect(e.sendText(tk, alice, "journaled").errcode()).To(Equal(0))
		j := e.get("/_emu/v1/journal?since=" + strconv.FormatUint(mark, 10)).JSON
		entries := j["entries"].([]any)
		Expect(entries).To(HaveLen(1), "one HTTP call, one entry")
		entry := entries[0].(map[string]any)
		Expect(entry).To(And(HaveKeyWithValue("kind", "api"), HaveKeyWithValue("app", oa), HaveKeyWithValue("user", alice),
			HaveKeyWithValue("summary", "POST /cgi-bin/message/custom/send → ok")))
		data := entry["data"].(map[string]any)
		Expect(data).To(And(HaveKeyWithValue("via", "http"), HaveKeyWithValue("path", "/cgi-bin/message/custom/send"), HaveKeyWithValue("errcode", 0.0)))
		Expect(data).To(HaveKeyWithValue("send", HaveKeyWithValue("msgtype", "text")))
		Expect(data).To(HaveKeyWithValue("request_body", ContainSubstring(`"content":"journaled"`)))
		Expect(data).To(HaveKeyWithValue("response_body", `{"errcode":0,"errmsg":"ok"}`))
	})

	It("journals a refused send once, with its errcode and what was wrong", func() {
		mark := e.p().LastSeq()
		Expect(e.sendText(tk, alice, "no window").errcode()).To(Equal(45015))
		entries := e.p().Journal(platform.JournalFilter{Since: mark})
		Expect(entries).To(HaveLen(1))
		Expect(entries[0].API).To(And(HaveField("Errcode", 45015), HaveField("Detail", ContainSubstring("no open window"))))
		Expect(entries[0].User).To(Equal(alice))
		Expect(entries[0].Errors).To(Equal(1))
	})

	DescribeTable("answers each validation failure with the real code",
		func(body string, code int) {
			e.say(oa, alice, "hi")
			a := send(body)
			Expect(a.errcode()).To(Equal(code), string(a.Raw))
		},
		Entry("empty body", "", 44002),
		Entry("not JSON", "{touser", 47001),
		Entry("unknown msgtype", `{"touser":"`+alice+`","msgtype":"markdown"}`, 40008),
		Entry("an MP-only msgtype", `{"touser":"`+alice+`","msgtype":"link","link":{"title":"t","description":"d","url":"u","thumb_url":"t"}}`, 40008),
		Entry("no touser", `{"msgtype":"text","text":{"content":"x"}}`, 40003),
		Entry("another app's openid", `{"touser":"`+aliceM+`","msgtype":"text","text":{"content":"x"}}`, 40003),
		Entry("empty content", `{"touser":"`+alice+`","msgtype":"text","text":{"content":""}}`, 44004),
		Entry("content too long", `{"touser":"`+alice+`","msgtype":"text","text":{"content":"`+strings.Repeat("x", 2049)+`"}}`, 45002),
		Entry("two news articles", `{"touser":"`+alice+`","msgtype":"news","news":{"articles":[{"title":"a","url":"u"},{"title":"b","url":"u"}]}}`, 45008),
		Entry("an unknown media id", `{"touser":"`+alice+`","msgtype":"image","image":{"media_id":"nope"}}`, 40007),
	)

	It("answers 45015 without a window and after it closes, 45047 when it is used up", func() {
		Expect(e.sendText(tk, alice, "x").errcode()).To(Equal(45015), "never interacted")
		e.say(oa, alice, "hi")
		for i := 0; i < 5; i++ {
			Expect(e.sendText(tk, alice, "x").errcode()).To(Equal(0))
		}
		a := e.sendText(tk, alice, "x")
		Expect(a.errcode()).To(Equal(45047))
		Expect(a.errmsg()).To(HavePrefix("out of response count limit rid: "))
		e.clk.Advance(48 * time.Hour)
		tk = e.token(oa)
		Expect(e.sendText(tk, alice, "x").errcode()).To(Equal(45015))
	})

	It("answers 45015 to an unfollowed user", func() {
		e.say(oa, alice, "hi")
		_, err := e.p().UserSends(context.Background(), oa, alice, eventMsg("unsubscribe"))
		Expect(err).NotTo(HaveOccurred())
		Expect(e.sendText(tk, alice, "x").errcode()).To(Equal(45015))
	})

	It("opens 3 messages for a minute on a menu click", func() {
		click := eventMsg("CLICK")
		click.EventKey = "V1001_TODAY_MUSIC"
		_, err := e.p().UserSends(context.Background(), oa, bob, click)
		Expect(err).NotTo(HaveOccurred())
		for i := 0; i < 3; i++ {
			Expect(e.sendText(tk, bob, "x").errcode()).To(Equal(0))
		}
		Expect(e.sendText(tk, bob, "x").errcode()).To(Equal(45047))
		e.clk.Advance(time.Minute)
		Expect(e.sendText(tk, bob, "x").errcode()).To(Equal(45015))
	})

	It("gives exactly 5 successes to 1,000 simultaneous sends against a fresh window", func() {
		for round := 0; round < 3; round++ {
			e.p().Reset()
			tk = e.token(oa)
			e.say(oa, alice, "hi")
			var okCount, quota atomic.Int32
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := 0; i < 1000; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer GinkgoRecover()
					<-start
					_, err := e.p().CustomSend(context.Background(), mustApp(e, oa), []byte(`{"touser":"`+alice+`","msgtype":"text","text":{"content":"x"}}`))
					if err == nil {
						okCount.Add(1)
					} else if strings.Contains(err.Error(), "used up") {
						quota.Add(1)
					}
				}()
			}
			close(start)
			wg.Wait()
			Expect(okCount.Load()).To(Equal(int32(5)))
			Expect(quota.Load()).To(Equal(int32(995)))
		}
	})

	It("lets a Mini Program send its own types only", func() {
		mtk := e.token(mp)
		e.say(mp, aliceM, "hi")
		a := e.post("/cgi-bin/message/custom/send?access_token="+mtk, map[string]any{"touser": aliceM, "msgtype": "link",
			"link": map[string]string{"title": "t", "description": "d", "url": "https://example.com", "thumb_url": "https://example.com/t.png"}})
		Expect(a.errcode()).To(Equal(0), string(a.Raw))
		a = e.post("/cgi-bin/message/custom/send?access_token="+mtk, map[string]any{"touser": aliceM, "msgtype": "voice", "voice": map[string]string{"media_id": "m"}})
		Expect(a.errcode()).To(Equal(40008))
	})
})

var _ = Describe("typing", func() {
	var e *env
	var tk string
	BeforeEach(func() {
		e = start(nil)
		tk = e.token(oa)
	})

	for _, path := range []string{"/cgi-bin/message/custom/typing", "/cgi-bin/message/custom/business/typing"} {
		It("follows the 30-second rule on "+path, func() {
			typing := func(cmd string) int {
				return e.post(path+"?access_token="+tk, map[string]string{"touser": alice, "command": cmd}).errcode()
			}
			Expect(typing("Typing")).To(Equal(45080), "no interaction yet")
			e.say(oa, alice, "hi")
			Expect(typing("Typing")).To(Equal(0))
			Expect(typing("Typing")).To(Equal(45081))
			Expect(typing("CancelTyping")).To(Equal(0))
			Expect(typing("Typing")).To(Equal(0))
			Expect(typing("typing")).To(Equal(45072))
			e.clk.Advance(31 * time.Second)
			Expect(typing("Typing")).To(Equal(45080))
		})
	}
})

// multipartBody builds a media upload body with the file in part name.
func multipartBody(part, filename, contentType string, data []byte) ([]byte, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if part != "" {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="`+part+`"; filename="`+filename+`"`)
		h.Set("Content-Type", contentType)
		pw, err := w.CreatePart(h)
		Expect(err).NotTo(HaveOccurred())
		_, _ = pw.Write(data)
	}
	Expect(w.Close()).To(Succeed())
	return buf.Bytes(), w.FormDataContentType()
}

var png = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 100)...)

var _ = Describe("/cgi-bin/media/upload and /cgi-bin/media/get", func() {
	var e *env
	var tk string
	BeforeEach(func() {
		e = start(nil)
		tk = e.token(oa)
	})
	upload := func(typ, part, filename, ct string, data []byte) answer {
		body, mct := multipartBody(part, filename, ct, data)
		return e.do(http.MethodPost, "/cgi-bin/media/upload?access_token="+tk+"&type="+typ, body, mct)
	}

	It("stores an image for 3 days, serves it, and lets send use it", func() {
		a := upload("image", "media", "a.png", "image/png", png)
		Expect(a.JSON).To(HaveKeyWithValue("type", "image"))
		Expect(a.JSON).To(HaveKeyWithValue("created_at", BeNumerically("==", epoch.Unix())))
		id := a.JSON["media_id"].(string)

		g := e.get("/cgi-bin/media/get?access_token=" + tk + "&media_id=" + id)
		Expect(g.Raw).To(Equal(png))
		Expect(g.ContentType).To(Equal("image/png"))

		e.say(oa, alice, "hi")
		s := e.post("/cgi-bin/message/custom/send?access_token="+tk, map[string]any{"touser": alice, "msgtype": "image", "image": map[string]string{"media_id": id}})
		Expect(s.errcode()).To(Equal(0))

		e.clk.Advance(72 * time.Hour)
		tk = e.token(oa)
		Expect(e.get("/cgi-bin/media/get?access_token=" + tk + "&media_id=" + id).errcode()).To(Equal(40007))
	})

	DescribeTable("serves the file as an attachment with its name quoted and the content's own type",
		func(filename, claimed, disposition string) {
			a := upload("image", "media", filename, claimed, png)
			Expect(a.errcode()).To(Equal(0), string(a.Raw))
			req, err := http.NewRequest(http.MethodGet, e.base+"/cgi-bin/media/get?access_token="+tk+"&media_id="+a.JSON["media_id"].(string), nil)
			Expect(err).NotTo(HaveOccurred())
			resp, err := http.DefaultClient.Do(req)
			Expect(err).NotTo(HaveOccurred())
			resp.Body.Close()
			Expect(resp.Header.Get("Content-Disposition")).To(Equal(disposition))
			Expect(resp.Header.Get("Content-Type")).To(Equal("image/png"))
		},
		Entry("a plain name", "a.png", "image/png", `attachment; filename="a.png"`),
		Entry("a generic part type", "cat.png", "application/octet-stream", `attachment; filename="cat.png"`),
		Entry("a PNG named .jpg and sent as JPEG", "photo.jpg", "image/jpeg", `attachment; filename="photo.jpg"`),
		Entry("spaces and a semicolon", "my best; pic.png", "image/png", `attachment; filename="my best; pic.png"`),
		Entry("a quote (escaped in the upload)", `a\"b.png`, "image/png", `attachment; filename="a_b.png"`),
		Entry("a Chinese name", "猫.png", "image/png", `attachment; filename="_.png"`),
	)

	DescribeTable("rejects bad uploads with the real codes",
		func(typ, part, filename, ct string, data []byte, code int) {
			Expect(upload(typ, part, filename, ct, data).errcode()).To(Equal(code))
		},
		Entry("unknown type", "gif", "media", "a.png", "image/png", png, 40004),
		Entry("a PNG as voice", "voice", "media", "a.png", "image/png", png, 40005),
		Entry("no media part", "image", "", "", "", nil, 41005),
		Entry("empty file", "image", "media", "a.png", "image/png", []byte{}, 44001),
		Entry("thumb over 64 KB", "thumb", "media", "a.jpg", "image/jpeg", append([]byte{0xff, 0xd8, 0xff, 0xe0}, make([]byte, 70<<10)...), 45001),
	)

	It("answers 45001 for an upload larger than 12 MB", func() {
		body, ct := multipartBody("media", "big.jpg", "image/jpeg", append([]byte{0xff, 0xd8, 0xff, 0xe0}, make([]byte, 13<<20)...))
		Expect(e.do(http.MethodPost, "/cgi-bin/media/upload?access_token="+tk+"&type=image", body, ct).errcode()).To(Equal(45001))
	})

	It("answers 41005 for a body that is not multipart, or not well-formed", func() {
		Expect(e.post("/cgi-bin/media/upload?access_token="+tk+"&type=image", `{"media":"x"}`).errcode()).To(Equal(41005))
		body, ct := multipartBody("media", "a.png", "image/png", png)
		Expect(e.do(http.MethodPost, "/cgi-bin/media/upload?access_token="+tk+"&type=image", body[:len(body)/2], ct).errcode()).To(Equal(41005))
	})

	It("answers both media_id and thumb_media_id for a thumb", func() {
		a := upload("thumb", "media", "t.jpg", "image/jpeg", append([]byte{0xff, 0xd8, 0xff, 0xe0}, make([]byte, 100)...))
		Expect(a.JSON["thumb_media_id"]).To(Equal(a.JSON["media_id"]))
	})
})

func mustApp(e *env, key string) *platform.App {
	a, ok := e.p().App(key)
	Expect(ok).To(BeTrue())
	return a
}
