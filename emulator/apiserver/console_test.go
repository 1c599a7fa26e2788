package apiserver_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/apiserver"
	"github.com/wxemu/wxemu/emulator/config"
)

// The control routes the web console uses, each usable with curl.
var _ = Describe("the control API for the console", func() {
	var e *env

	seqOf := func(a answer) string {
		GinkgoHelper()
		Expect(a.Status).To(Equal(200), string(a.Raw))
		return strconv.Itoa(int(a.JSON["journal"].(float64)))
	}
	sendHi := func() string {
		return seqOf(e.post("/_emu/v1/users/"+alice+"/send", `{"app":"oa","MsgType":"text","Content":"hi"}`))
	}

	Describe("a journal entry by its sequence number", func() {
		BeforeEach(func() { e = start(nil) })

		It("answers a push with its signatures recomputed", func() {
			seq := sendHi()
			a := e.get("/_emu/v1/journal/" + seq)
			Expect(a.Status).To(Equal(200), string(a.Raw))
			Expect(a.JSON["entry"]).To(HaveKeyWithValue("kind", "push"))
			sigs := a.JSON["signatures"].([]any)
			Expect(sigs).To(HaveLen(1), "plaintext mode: signature only")
			Expect(sigs[0]).To(And(HaveKeyWithValue("name", "signature"), HaveKeyWithValue("valid", true)))
		})

		It("answers an API call with its errcode's text from the catalog", func() {
			e.sendText(e.token(oa), alice, "no window")
			entries := e.get("/_emu/v1/journal?kind=api").JSON["entries"].([]any)
			last := entries[len(entries)-1].(map[string]any)
			a := e.get(fmt.Sprintf("/_emu/v1/journal/%d", int(last["seq"].(float64))))
			Expect(a.JSON["errcode"]).To(And(HaveKeyWithValue("errcode", 45015.0), HaveKeyWithValue("errmsg", "response out of time limit or subscription is canceled"), HaveKeyWithValue("in_catalog", true)))
		})

		It("records the window a send used, and why a send was refused", func() {
			tk := e.token(oa)
			e.say(oa, alice, "hi")
			Expect(e.sendText(tk, alice, "one").errcode()).To(Equal(0))
			Expect(e.sendText(tk, bob, "none").errcode()).To(Equal(45015))
			entries := e.get("/_emu/v1/journal?kind=api").JSON["entries"].([]any)
			var ok, refused map[string]any
			for _, en := range entries {
				d := en.(map[string]any)["data"].(map[string]any)
				if d["path"] == "/cgi-bin/message/custom/send" && d["errcode"] == 0.0 {
					ok = d
				}
				if d["errcode"] == 45015.0 {
					refused = d
				}
			}
			Expect(ok["window"]).To(And(HaveKeyWithValue("trigger", "message"), HaveKeyWithValue("remaining", 4.0), HaveKeyWithValue("max", 5.0)))
			Expect(refused).NotTo(HaveKey("window"))
			Expect(refused["detail"]).To(ContainSubstring("no open window"))
		})

		It("refuses a sequence number that is not one, and says which entries it holds", func() {
			Expect(e.get("/_emu/v1/journal/abc")).To(And(HaveField("Status", 400), HaveField("Raw", ContainSubstring(`journal entry \"abc\": a sequence number`))))
			Expect(e.get("/_emu/v1/journal/0").Status).To(Equal(400))
			a := e.get("/_emu/v1/journal/999")
			Expect(a.Status).To(Equal(404))
			Expect(string(a.Raw)).To(ContainSubstring("journal entry 999: the newest entry is"))
		})

		It("lists headers only with brief=true, each with its verdict", func() {
			sendHi()
			a := e.get("/_emu/v1/journal?brief=true&kind=push")
			entries := a.JSON["entries"].([]any)
			Expect(entries).To(HaveLen(1))
			Expect(entries[0]).NotTo(HaveKey("data"))
			Expect(entries[0]).To(And(HaveKeyWithValue("verdict", "reply"), HaveKeyWithValue("kind", "push")))
		})
	})

	Describe("replay and edit-and-resend", func() {
		It("replays a push as WeChat's retry, changing no state", func() {
			e = start(nil)
			seq := sendHi()
			a := e.post("/_emu/v1/journal/"+seq+"/replay", nil)
			Expect(a.Status).To(Equal(200), string(a.Raw))
			Expect(a.JSON["result"]).To(HaveKeyWithValue("user_sees", "hello, hi"))
			orig := e.get("/_emu/v1/journal/" + seq).JSON["entry"].(map[string]any)["data"].(map[string]any)["message"].(map[string]any)
			replay := e.get("/_emu/v1/journal/" + seqOf(a)).JSON["entry"].(map[string]any)
			Expect(replay["summary"]).To(HavePrefix("replay of #" + seq + ": "))
			Expect(replay["data"].(map[string]any)["message"]).To(HaveKeyWithValue("MsgId", orig["MsgId"]), "the same MsgId, as a retry")
			Expect(e.get("/_emu/v1/users/" + alice + "/transcript?app=oa").JSON["lines"]).To(HaveLen(2), "the user saw the answer once")
		})

		It("refuses to replay what is not a push", func() {
			e = start(nil)
			e.post("/_emu/v1/clock/advance", `{"by":"1m"}`)
			a := e.post("/_emu/v1/journal/1/replay", nil)
			Expect(a.Status).To(Equal(400))
			Expect(string(a.Raw)).To(ContainSubstring("journal entry 1 is a control entry, not a push"))
		})

		It("resends an edited message in safe mode, encrypted and signed afresh", func() {
			e = start(func(c *config.Config) { c.Apps[0].Mode = config.ModeSafe })
			seq := sendHi()
			plain := e.get("/_emu/v1/journal/" + seq).JSON["entry"].(map[string]any)["data"].(map[string]any)["request"].(map[string]any)["plaintext"].(string)
			edited := strings.Replace(plain, "<![CDATA[hi]]>", "<![CDATA[edited]]>", 1)
			a := e.post("/_emu/v1/journal/"+seq+"/resend", map[string]string{"message": edited})
			Expect(a.Status).To(Equal(200), string(a.Raw))
			Expect(a.JSON["result"]).To(HaveKeyWithValue("user_sees", "hello, edited"))
			d := e.get("/_emu/v1/journal/" + seqOf(a))
			data := d.JSON["entry"].(map[string]any)["data"].(map[string]any)
			Expect(data["probe"]).To(Equal("edited resend of #" + seq))
			req := data["request"].(map[string]any)
			Expect(req["body"]).To(ContainSubstring("<Encrypt><![CDATA["))
			Expect(req["body"]).NotTo(ContainSubstring("edited"))
			Expect(req["plaintext"]).To(ContainSubstring("<![CDATA[edited]]>"))
			sigs := d.JSON["signatures"].([]any)
			Expect(sigs).To(HaveLen(3), "signature, msg_signature, the reply's MsgSignature")
			for _, s := range sigs {
				Expect(s).To(HaveKeyWithValue("valid", true))
			}
			Expect(e.get("/_emu/v1/users/" + alice + "/transcript?app=oa").JSON["lines"]).To(HaveLen(2))
		})

		It("fills in the header an edit leaves out", func() {
			e = start(nil)
			seq := sendHi()
			a := e.post("/_emu/v1/journal/"+seq+"/resend", map[string]string{"message": "<xml><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[bare]]></Content></xml>"})
			Expect(a.Status).To(Equal(200), string(a.Raw))
			msg := a.JSON["result"].(map[string]any)["message"].(map[string]any)
			Expect(msg).To(And(HaveKeyWithValue("FromUserName", alice), HaveKeyWithValue("ToUserName", config.DemoOAOriginalID)))
			Expect(a.JSON["result"]).To(HaveKeyWithValue("user_sees", "hello, bare"))
		})

		DescribeTable("refuses a bad edit precisely, pushing nothing",
			func(body any, want string) {
				e = start(nil)
				seq := sendHi()
				before := e.p().LastSeq()
				a := e.post("/_emu/v1/journal/"+seq+"/resend", body)
				Expect(a.Status).To(Equal(400), string(a.Raw))
				Expect(string(a.Raw)).To(ContainSubstring(want))
				for _, en := range e.get(fmt.Sprintf("/_emu/v1/journal?since=%d", before)).JSON["entries"].([]any) {
					Expect(en).NotTo(HaveKeyWithValue("kind", "push"))
				}
			},
			Entry("no body", nil, "the body is empty"),
			Entry("no message", map[string]string{}, `\"message\" is missing`),
			Entry("an empty message", map[string]string{"message": " "}, "the edited message is empty; send the plaintext XML"),
			Entry("broken XML", map[string]string{"message": "<xml><MsgType>text</MsgType>"}, "the edited message is not a XML push app oa receives"),
			Entry("an envelope", map[string]string{"message": "<xml><ToUserName>gh_e1d2c3b4a596</ToUserName><Encrypt>abc</Encrypt></xml>"}, "send the plaintext message"),
			Entry("a type the app does not receive", map[string]string{"message": "<xml><MsgType>nonsense</MsgType></xml>"}, "the edited message"),
		)
	})

	Describe("expiries and the clock", func() {
		BeforeEach(func() { e = start(nil) })

		It("lists what expires, soonest first, and moves the clock to the next", func() {
			sendHi()
			ex := e.get("/_emu/v1/expiries").JSON["expiries"].([]any)
			Expect(ex).To(HaveLen(1))
			Expect(ex[0]).To(And(HaveKeyWithValue("kind", "window"), HaveKeyWithValue("openid", alice), HaveKeyWithValue("in", "48h0m0s"),
				HaveKeyWithValue("what", "message window, 5 of 5 sends left")))
			a := e.post("/_emu/v1/clock/next", nil)
			Expect(a.Status).To(Equal(200), string(a.Raw))
			Expect(a.JSON["expired"]).To(HaveKeyWithValue("kind", "window"))
			Expect(a.JSON["clock"]).To(HaveKeyWithValue("advanced", "48h0m0s"))
			Expect(e.get("/_emu/v1/users/" + alice + "/grants?app=oa").JSON["grants"]).To(BeEmpty())

			a = e.post("/_emu/v1/clock/next", nil)
			Expect(a.Status).To(Equal(404))
			Expect(string(a.Raw)).To(ContainSubstring("nothing expires on the virtual clock"))
		})

		It("jumps to a kf session's end, past the windows that end later", func() {
			e.say(oa, alice, "人工 kf1@wxemu_demo")
			Expect(e.post("/_emu/v1/agents/kf1@wxemu_demo/accept", `{"app":"oa","openid":"`+alice+`"}`).Status).To(Equal(200))
			ex := e.get("/_emu/v1/expiries").JSON["expiries"].([]any)
			Expect(ex[0]).To(And(HaveKeyWithValue("kind", "session"), HaveKeyWithValue("in", "30m0s")))
			a := e.post("/_emu/v1/clock/next?kind=session", nil)
			Expect(a.JSON["clock"]).To(HaveKeyWithValue("advanced", "30m0s"))
			Expect(e.get("/_emu/v1/queue?app=oa").JSON["sessions"]).To(BeEmpty())
			Expect(e.post("/_emu/v1/clock/next?kind=sessions", nil)).To(And(HaveField("Status", 400), HaveField("Raw", ContainSubstring("one of window, session, token, media"))))
		})

		It("lists tokens, and skips a wall-time token when it moves the virtual clock", func() {
			e.token(oa)
			ex := e.get("/_emu/v1/expiries").JSON["expiries"].([]any)
			Expect(ex).To(ContainElement(And(HaveKeyWithValue("kind", "token"), HaveKeyWithValue("wall", true))))
			Expect(e.post("/_emu/v1/clock/next", nil).Status).To(Equal(404))
		})
	})

	Describe("tokens, media and catalogs", func() {
		BeforeEach(func() { e = start(nil) })

		It("lists an app's tokens and media, each file with its download URL", func() {
			tk := e.token(oa)
			toks := e.get("/_emu/v1/apps/oa/tokens")
			Expect(toks.JSON).To(HaveKeyWithValue("token_time", "wall"))
			Expect(toks.JSON["tokens"]).To(ContainElement(HaveKeyWithValue("value", tk)))
			Expect(e.get("/_emu/v1/apps/mp/tokens").JSON["tokens"]).To(BeEmpty())

			body, mct := multipartBody("media", "a.png", "image/png", png)
			up := e.do(http.MethodPost, "/cgi-bin/media/upload?access_token="+tk+"&type=image", body, mct)
			id := up.JSON["media_id"].(string)
			media := e.get("/_emu/v1/apps/oa/media").JSON["media"].([]any)
			Expect(media).To(HaveLen(1))
			Expect(media[0]).To(And(HaveKeyWithValue("media_id", id), HaveKeyWithValue("url", "/_emu/v1/media/"+id), Not(HaveKey("data"))))
			Expect(e.get("/_emu/v1/media/" + id).Raw).To(Equal(png))
			resp, err := http.Get(e.base + "/_emu/v1/media/" + id)
			Expect(err).NotTo(HaveOccurred())
			resp.Body.Close()
			Expect(resp.Header.Get("X-Content-Type-Options")).To(Equal("nosniff"))
			Expect(resp.Header.Get("Content-Security-Policy")).To(HavePrefix("sandbox"), "a file is never run in the console's origin")
			Expect(e.get("/_emu/v1/apps/nope/media").Status).To(Equal(404))
		})

		It("serves WeChat's errcode catalog and the rules a verdict names", func() {
			codes := e.get("/_emu/v1/errcodes").JSON["errcodes"].([]any)
			Expect(codes).To(ContainElement(And(HaveKeyWithValue("errcode", 45047.0), HaveKeyWithValue("errmsg", "out of response count limit"))))
			rules := e.get("/_emu/v1/rules").JSON["rules"].([]any)
			Expect(rules).To(ContainElement(And(HaveKeyWithValue("id", "reply.syntax"), HaveKeyWithValue("summary", Not(BeEmpty())))))
		})

		It("reads a path variable written percent-encoded, as a browser writes an account", func() {
			a := e.post("/_emu/v1/agents/kf3%40wxemu_demo/status", `{"app":"oa","online":true}`)
			Expect(a.Status).To(Equal(200), string(a.Raw))
		})
	})
})

// The console's files are served to a browser under the control plane's rules.
var _ = Describe("serving the console", func() {
	var e *env
	var srv *httptest.Server
	BeforeEach(func() {
		e = start(nil)
		e.api.SetConsole(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, "console file %s", r.URL.Path)
		}))
		srv = httptest.NewServer(e.api.Handler())
		DeferCleanup(srv.Close)
	})
	fetch := func(method, path string, hdr map[string]string) (int, string) {
		req, err := http.NewRequest(method, srv.URL+path, nil)
		Expect(err).NotTo(HaveOccurred())
		for k, v := range hdr {
			if k == "Host" {
				req.Host = v
			} else {
				req.Header.Set(k, v)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		Expect(err).NotTo(HaveOccurred())
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	It("serves / to a browser and WeChat's 40066 to an API client", func() {
		code, body := fetch("GET", "/", map[string]string{"Accept": "text/html"})
		Expect(code).To(Equal(200))
		Expect(body).To(Equal("console file /"))
		_, body = fetch("GET", "/", nil)
		Expect(body).To(ContainSubstring(`"errcode":40066`))
		_, body = fetch("POST", "/", map[string]string{"Accept": "text/html"})
		Expect(body).To(ContainSubstring(`"errcode":40066`))
		_, body = fetch("GET", "/_emu/console/app.js", nil)
		Expect(body).To(Equal("console file /app.js"))
	})

	It("refuses a rebinding Host and another site's Origin, and lets the console's own origin call the control plane", func() {
		code, _ := fetch("GET", "/_emu/console/", map[string]string{"Host": "evil.example"})
		Expect(code).To(Equal(403))
		code, _ = fetch("GET", "/_emu/console/app.js", map[string]string{"Origin": "http://evil.example"})
		Expect(code).To(Equal(403))
		own := "http://" + strings.TrimPrefix(srv.URL, "http://")
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/_emu/v1/clock/advance", strings.NewReader(`{"by":"1s"}`))
		req.Header.Set("Origin", own)
		resp, err := http.DefaultClient.Do(req)
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(200), "the console's POSTs carry its own Origin")
		req, _ = http.NewRequest(http.MethodPost, srv.URL+"/_emu/v1/clock/advance", strings.NewReader(`{"by":"1s"}`))
		req.Header.Set("Origin", "http://127.0.0.1:1")
		resp, err = http.DefaultClient.Do(req)
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(403), "another port is another origin")
	})

	It("serves the page only with the control token when there is one", func() {
		e.api.SetControlAccess(apiserver.ControlAccess{Token: "tok-123"})
		code, body := fetch("GET", "/_emu/console/", nil)
		Expect(code).To(Equal(401))
		Expect(body).To(ContainSubstring("?token="))
		code, _ = fetch("GET", "/_emu/console/?token=nope", nil)
		Expect(code).To(Equal(401))
		code, _ = fetch("GET", "/_emu/console/?token=tok-123", nil)
		Expect(code).To(Equal(200))
		code, _ = fetch("GET", "/", map[string]string{"Accept": "text/html", "Authorization": "Bearer tok-123"})
		Expect(code).To(Equal(200))
		code, _ = fetch("GET", "/_emu/console/app.js", nil)
		Expect(code).To(Equal(200), "the scripts hold no secret")
		code, _ = fetch("GET", "/_emu/v1/expiries", nil)
		Expect(code).To(Equal(401), "the data does")
	})
})
