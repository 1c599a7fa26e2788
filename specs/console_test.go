package specs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/wxemu/wxemu/emulator/config"
)

// The web console, driven in a real headless chromium as a person uses it: by the accessible
// names of its controls. Each spec runs its own `wxemu serve` against a real sample bot.
var _ = Describe("The web console", Ordered, ContinueOnFailure, func() {
	var bctx = new(chromedpContext)

	BeforeAll(func() { bctx.ctx = chromium() })

	// safeConfig is the demo configuration with the Official Account in safe mode.
	safeConfig := func() string {
		yaml := strings.Replace(string(config.DefaultYAML()), "    mode: plain", "    mode: safe", 1)
		path := filepath.Join(GinkgoT().TempDir(), "safe.yaml")
		Expect(os.WriteFile(path, []byte(yaml), 0o644)).To(Succeed())
		return path
	}

	// noForeignHost is checked at the end of every spec: the page asked nothing of any host but
	// the wxemu under test.
	open := func(base string) *page {
		p := openConsole(bctx.ctx, base)
		DeferCleanup(func() {
			Expect(p.foreignRequests()).To(BeEmpty(), "the console requested another host than wxemu")
		})
		return p
	}

	It("is served to a browser at / while an API client calling / keeps WeChat's answer", func() {
		base, session := serve()
		Expect(string(session.Out.Contents())).To(ContainSubstring("web console " + base + "/_emu/console/"))
		req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
		req.Header.Set("Accept", "text/html,application/xhtml+xml")
		resp, err := http.DefaultClient.Do(req)
		Expect(err).NotTo(HaveOccurred())
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		Expect(string(body)).To(ContainSubstring("<title>wxemu console</title>"))
		Expect(resp.Header.Get("Content-Security-Policy")).To(ContainSubstring("default-src 'self'"))
		Expect(getJSON(base + "/")).To(HaveKeyWithValue("errcode", 40066.0))

		// A page of another site must not get the console, nor a rebinding name.
		req, _ = http.NewRequest(http.MethodGet, base+"/_emu/console/", nil)
		req.Host = "evil.example:80"
		resp, err = http.DefaultClient.Do(req)
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusForbidden))
	})

	It("asks for the control token when the control plane has one, and works with it", func() {
		base, session := serve("--control-token", "s3cret-token-for-console")
		Expect(string(session.Out.Contents())).To(ContainSubstring("web console " + base + "/_emu/console/?token=s3cret-token-for-console"))
		resp, err := http.Get(base + "/_emu/console/")
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusUnauthorized))
		resp, err = http.Get(base + "/_emu/console/?token=wrong")
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusUnauthorized))

		p := openConsoleAt(bctx.ctx, base, "/_emu/console/?token=s3cret-token-for-console")
		Expect(p.eval(`location.search`)).To(BeEmpty(), "the token leaves the address bar")
		Expect(p.text("#user-picker")).To(ContainSubstring("o6_bmjrPTlm6_2sgVt7hMZOPfL2M"), "the control calls carried the token")
	})

	It("sends a message from the phone and shows the bot's reply", func() {
		base, _ := serve("--target", "oa="+startSampleBot())
		p := open(base)
		// The accessible names are a contract: each names exactly one control.
		for _, c := range [][2]string{{"combobox", "App"}, {"combobox", "User"}, {"textbox", "Message"}, {"button", "Send"},
			{"button", "+30 min"}, {"button", "+48 h"}, {"region", "Journal"}, {"region", "Agents"}, {"button", "Record"},
			{"log", "Chat"}, {"log", "Journal entries"}} {
			p.byName(c[0], c[1])
		}
		p.sendMessage("hi")
		Eventually(func() string { return p.text("#chat") }, 10*time.Second).Should(And(ContainSubstring("hi"), ContainSubstring("hello, hi")))
		Eventually(func() string { return p.text("#journal-list") }, 5*time.Second).Should(ContainSubstring("push"))
		p.screenshot("phone")

		// The bot's typing shows as the phone's "typing…" line while it is on.
		user := p.eval(`document.querySelector('#user-picker').value`)
		tok := getJSON(base + "/cgi-bin/token?grant_type=client_credential&appid=" + config.DemoOAAppID + "&secret=" + config.DemoOASecret)["access_token"].(string)
		Expect(p.eval(`document.querySelector('#typing').hidden`)).To(Equal("true"))
		Expect(postJSON(base+"/cgi-bin/message/custom/typing?access_token="+tok, `{"touser":"`+user+`","command":"Typing"}`)).To(HaveKeyWithValue("errcode", 0.0))
		Eventually(func() string { return p.eval(`document.querySelector('#typing').hidden`) }, 5*time.Second).Should(Equal("false"))
		Expect(postJSON(base+"/cgi-bin/message/custom/typing?access_token="+tok, `{"touser":"`+user+`","command":"CancelTyping"}`)).To(HaveKeyWithValue("errcode", 0.0))
		Eventually(func() string { return p.eval(`document.querySelector('#typing').hidden`) }, 5*time.Second).Should(Equal("true"))

		// An event from the form: a menu CLICK with its key.
		Expect(p.do(chromedp.Click(chromedp.CSS("#more summary")))).To(Succeed())
		Expect(p.do(chromedp.SetValue(chromedp.CSS("#event-kind"), "CLICK"))).To(Succeed())
		p.eval(`document.querySelector('#event-kind').dispatchEvent(new Event('change')), 1`)
		Expect(p.do(chromedp.SetValue(chromedp.CSS(`[data-field="EventKey"]`), "MENU_HELP"))).To(Succeed())
		p.click("button", "Send event or message")
		Eventually(func() string { return p.text("#chat") }, 10*time.Second).Should(ContainSubstring("CLICK MENU_HELP"))
	})

	It("shows a cloud function's invocation and its openapi calls", func() {
		base, _ := serve("--function", "../fixtures/functions/kf")
		p := open(base)
		p.eval(`(document.querySelector('#app-picker').value = '` + config.DemoMPAppID + `', document.querySelector('#app-picker').dispatchEvent(new Event('change')), 1)`)
		Eventually(func() string { return p.text("#phone-peer") }, 5*time.Second).Should(HavePrefix("mp · "))
		p.sendMessage("push 1")
		Eventually(func() string { return p.text("#chat") }, 20*time.Second).Should(ContainSubstring("message 1 of 1"))
		got := p.inspect("push text")
		Expect(got).To(ContainSubstring("function kf"))
		Expect(got).To(MatchRegexp(`(?i)attempts \(1\)`))
		// No HTTP request reaches a function: the inspector offers no cURL that could not work.
		Expect(p.eval(`[...document.querySelectorAll('#inspector button')].filter(b => b.textContent === 'Copy as cURL').length`)).To(Equal("0"))
		Expect(got).To(ContainSubstring("No cURL: this push invoked a cloud function"))
		got = p.inspect("cloud: POST")
		Expect(got).To(ContainSubstring("errcode 0 — ok · via cloud"))
		Expect(got).To(ContainSubstring(`"content": "message 1 of 1"`))
	})

	It("runs a cloud function's openapi calls when serve listens on every address, and prints loopback URLs", func() {
		base, session := serve("--addr", "0.0.0.0:0", "--control-token", "t0ken", "--function", "../fixtures/functions/kf")
		Expect(base).To(HavePrefix("http://127.0.0.1:"), "a listener on 0.0.0.0 is reached at 127.0.0.1")
		Expect(string(session.Out.Contents())).To(ContainSubstring(base + "/_emu/console/?token=t0ken"))
		req := newRequest(http.MethodPost, base+"/_emu/v1/users/"+config.DemoAliceMP+"/send", `{"app":"mp","MsgType":"text","Content":"push 1"}`)
		req.Header.Set("Authorization", "Bearer t0ken")
		status, body := do(req)
		Expect(status).To(Equal(http.StatusOK), body)
		req = newRequest(http.MethodGet, base+"/_emu/v1/journal?kind=api", "")
		req.Header.Set("Authorization", "Bearer t0ken")
		Eventually(func() string { _, b := do(req); return b }, 10*time.Second).Should(And(
			ContainSubstring(`"via":"cloud"`), ContainSubstring(`"errcode":0`)), "the function's customerServiceMessage.send reached wxemu")
	})

	It("shows the grey line and the violation when the bot fails", func() {
		base, _ := serve("--target", "oa="+startSampleBot("--bot", "malformed"))
		p := open(base)
		p.sendMessage("hi")
		Eventually(func() string { return p.text("#chat .sys") }, 10*time.Second).Should(Equal("该公众号暂时无法提供服务，请稍后再试"))
		got := p.inspect("text")
		Expect(got).To(ContainSubstring("outcome: failed"))
		Expect(got).To(MatchRegexp(`(?i)violations`))
		Expect(got).To(MatchRegexp(`error\s+reply\.\w+`), "each violation names its severity and rule")
		Expect(got).To(ContainSubstring("protocol §"))
		Expect(got).To(ContainSubstring("Rule: "), "the rule's explanation from GET /_emu/v1/rules")
		p.screenshot("failure")
	})

	It("shows a safe-mode push as its envelope beside the decrypted text, each signature recomputed", func() {
		base, _ := serve("--config", safeConfig(), "--target", "oa="+startSampleBot())
		p := open(base)
		p.sendMessage("hi")
		Eventually(func() string { return p.text("#chat") }, 10*time.Second).Should(ContainSubstring("hello, hi"))
		got := p.inspect("text")
		Expect(got).To(ContainSubstring("Envelope (safe mode, as sent)"))
		Expect(got).To(ContainSubstring("<Encrypt><![CDATA["))
		Expect(got).To(ContainSubstring("Decrypted plaintext"))
		Expect(got).To(ContainSubstring("<Content><![CDATA[hi]]></Content>"))
		Expect(got).To(ContainSubstring("Decrypted reply"))
		Expect(got).To(ContainSubstring("msg_signature"))
		Expect(strings.Count(got, "✓ valid")).To(Equal(3), "signature, msg_signature and the reply's MsgSignature")
		Expect(got).NotTo(ContainSubstring("✗ invalid"))
		p.screenshot("inspector-safe")
	})

	It("marks a reply signed wrongly as invalid", func() {
		base, _ := serve("--config", safeConfig(), "--target", "oa="+startSampleBot("--bot", "badsig"))
		p := open(base)
		p.sendMessage("hi")
		got := p.inspect("text")
		Expect(got).To(MatchRegexp(`reply envelope\s+MsgSignature.*✗ invalid`))
	})

	It("replays a push, and resends an edited copy signed and encrypted afresh", func() {
		base, _ := serve("--config", safeConfig(), "--target", "oa="+startSampleBot())
		p := open(base)
		p.sendMessage("hi")
		Eventually(func() string { return p.text("#chat") }, 10*time.Second).Should(ContainSubstring("hello, hi"))
		p.inspect("text")

		// Copy as cURL gives a command that reaches the bot as WeChat did.
		p.eval(`(navigator.clipboard.writeText = (t) => { window.__copied = t; return Promise.resolve() }, 1)`)
		p.click("button", "Copy as cURL")
		Eventually(func() string { return p.eval(`window.__copied || ''`) }, 5*time.Second).Should(HavePrefix("curl -X POST 'http://127.0.0.1:"))
		curl := p.eval(`window.__copied`)
		Expect(curl).To(ContainSubstring("msg_signature="))
		Expect(curl).To(ContainSubstring("--data-binary '<xml>"))
		if _, err := exec.LookPath("curl"); err == nil {
			out, err := exec.Command("sh", "-c", curl+" -s").CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), string(out))
			Expect(string(out)).To(ContainSubstring("<Encrypt><![CDATA["), "the bot answered the copied request")
		} else {
			fmt.Fprintln(GinkgoWriter, "curl is not installed: the copied command is checked by its form only")
		}

		p.click("button", "Replay")
		Eventually(func() string { return p.text("#inspector .status") }, 10*time.Second).Should(MatchRegexp(`replayed as #\d+: reply`))
		Eventually(func() string { return p.text("#journal-list") }, 5*time.Second).Should(ContainSubstring("replay of #"))

		p.click("button", "Edit and resend")
		edit := p.byName("textbox", "Edited message (plaintext; wxemu signs and encrypts it afresh)")
		plain := p.eval(`document.querySelector('` + edit + `').value`)
		Expect(plain).To(ContainSubstring("<Content><![CDATA[hi]]></Content>"))

		// A bad edit is refused precisely, and nothing is pushed.
		Expect(p.do(chromedp.SetValue(chromedp.CSS(edit), "<xml><MsgType>text</MsgType>"))).To(Succeed())
		p.click("button", "Resend edited")
		Eventually(func() string { return p.text("#inspector .status") }, 5*time.Second).Should(ContainSubstring("resend refused: "))
		Expect(p.text("#inspector .status")).To(ContainSubstring("XML"))

		Expect(p.do(chromedp.SetValue(chromedp.CSS(edit), strings.Replace(plain, "[hi]", "[edited]", 1)))).To(Succeed())
		p.click("button", "Resend edited")
		Eventually(func() string { return p.text("#inspector .status") }, 10*time.Second).Should(MatchRegexp(`resent as #\d+: reply`))
		seq := strings.TrimPrefix(strings.Fields(p.text("#inspector .status"))[2], "#")
		seq = strings.TrimSuffix(seq, ":")
		d := getJSON(base + "/_emu/v1/journal/" + seq)
		entry := d["entry"].(map[string]any)["data"].(map[string]any)
		Expect(entry["probe"]).To(MatchRegexp(`^edited resend of #\d+$`))
		req := entry["request"].(map[string]any)
		Expect(req["plaintext"]).To(ContainSubstring("<Content><![CDATA[edited]]></Content>"))
		Expect(req["body"]).To(ContainSubstring("<Encrypt>"))
		Expect(req["body"]).NotTo(ContainSubstring("edited"), "the edited text travels encrypted")
		Expect(entry["user_sees"]).To(Equal("hello, edited"))
		for _, s := range d["signatures"].([]any) {
			Expect(s).To(HaveKeyWithValue("valid", true))
		}
	})

	It("hands the user to an agent, who accepts and replies, until the session expires on the clock", func() {
		base, _ := serve("--target", "oa="+startSampleBot())
		p := open(base)
		p.eval(`(document.querySelector('#user-picker').value = 'o6_bmjrPTlm6_2sgVt7hMZOPfL2M', document.querySelector('#user-picker').dispatchEvent(new Event('change')), 1)`)
		p.sendMessage("人工 kf1@wxemu_demo")
		agents := p.byName("region", "Agents")
		Eventually(func() string { return p.text(agents) }, 10*time.Second).Should(MatchRegexp(`(?i)waiting \(1\)`))
		p.click("button", "Accept o6_bmjrPTlm6_2sgVt7hMZOPfL2M as 客服小王")
		Eventually(func() string { return p.text(agents) }, 5*time.Second).Should(MatchRegexp(`serving o6_bmjrPTlm6_2sgVt7hMZOPfL2M · ends in (29m|30m)`))
		p.typeInto("textbox", "Reply to o6_bmjrPTlm6_2sgVt7hMZOPfL2M as kf1@wxemu_demo", "您好，我是客服小王")
		p.click("button", "Reply to o6_bmjrPTlm6_2sgVt7hMZOPfL2M")
		Eventually(func() string { return p.text("#chat") }, 5*time.Second).Should(ContainSubstring("您好，我是客服小王"))
		// The agent's message is a customer-service send: the inspector says which window let it through.
		Expect(p.inspect("agent: POST")).To(MatchRegexp(`errcode 0 — ok · via agent[\s\S]*the message window opened .*: 4 of 5 sends left after it, open until`))
		Expect(p.text("#chat")).To(ContainSubstring("客服小王 为你服务"))
		p.screenshot("agents")

		p.click("button", "+30 min")
		Eventually(func() string { return p.text("#chat") }, 5*time.Second).Should(ContainSubstring("会话已结束"))
		Eventually(func() string { return p.text(agents) }, 5*time.Second).ShouldNot(ContainSubstring("serving"))
		q := getJSON(base + "/_emu/v1/queue?app=oa")
		Expect(q["sessions"]).To(BeEmpty())
	})

	It("switches a session to another agent and closes it, and sets an agent online", func() {
		base, _ := serve("--target", "oa="+startSampleBot())
		p := open(base)
		p.eval(`(document.querySelector('#user-picker').value = 'o6_bmjrPTlm6_2sgVt7hMZOPfL2M', document.querySelector('#user-picker').dispatchEvent(new Event('change')), 1)`)
		p.click("checkbox", "kf3@wxemu_demo online")
		Eventually(func() any { return agentOf(base, "kf3@wxemu_demo")["online"] }, 5*time.Second).Should(BeTrue())

		p.sendMessage("人工 kf1@wxemu_demo")
		p.click("button", "Accept o6_bmjrPTlm6_2sgVt7hMZOPfL2M as 客服小王")
		agents := p.byName("region", "Agents")
		Eventually(func() string { return p.text(agents) }, 5*time.Second).Should(ContainSubstring("serving o6_bmjrPTlm6_2sgVt7hMZOPfL2M"))
		sw := p.byName("combobox", "Switch o6_bmjrPTlm6_2sgVt7hMZOPfL2M to")
		Expect(p.do(chromedp.SetValue(chromedp.CSS(sw), "kf3@wxemu_demo"))).To(Succeed())
		p.click("button", "Switch o6_bmjrPTlm6_2sgVt7hMZOPfL2M")
		Eventually(func() string { return p.text("#chat") }, 5*time.Second).Should(ContainSubstring("switched from kf1@wxemu_demo to kf3@wxemu_demo"))
		Eventually(func() []any { return agentOf(base, "kf3@wxemu_demo")["sessions"].([]any) }, 5*time.Second).Should(HaveLen(1))
		p.click("button", "Close session with o6_bmjrPTlm6_2sgVt7hMZOPfL2M")
		Eventually(func() string { return p.text("#chat") }, 5*time.Second).Should(ContainSubstring("结束了会话"))
		Expect(getJSON(base + "/_emu/v1/queue?app=oa")["sessions"]).To(BeEmpty())
	})

	It("shows the windows and what is left of their quota, and their end after +48 h", func() {
		base, _ := serve("--target", "oa="+startSampleBot())
		p := open(base)
		p.sendMessage("hi")
		limits := p.byName("region", "Time and limits")
		Eventually(func() string { return p.text(limits) }, 10*time.Second).Should(MatchRegexp(`message window · 5 of 5 sends left · closes in (1d 23h 59m|2d 0h 0m)`))
		Expect(p.eval(`document.querySelector('meter').value`)).To(Equal("5"))
		p.screenshot("limits")
		p.click("button", "+48 h")
		Eventually(func() string { return p.text(limits) }, 5*time.Second).Should(ContainSubstring("No open window"))
		Eventually(func() string { return p.text("#clock-now") }, 5*time.Second).Should(ContainSubstring("(+48h0m0s)"))
	})

	It("moves the clock to the next expiry", func() {
		base, _ := serve("--target", "oa="+startSampleBot())
		p := open(base)
		p.sendMessage("hi")
		Eventually(func() string { return p.text("#limits") }, 10*time.Second).Should(ContainSubstring("message window"))
		p.click("button", "Next expiry")
		// What the button did is said beside it, in the header's clock group.
		Eventually(func() string { return p.text(p.byName("group", "Clock")) }, 5*time.Second).Should(MatchRegexp(`clock moved to \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: window expired — message window, \d of 5 sends left · o6_`))
		Eventually(func() string { return p.text("#clock-now") }, 5*time.Second).Should(MatchRegexp(`\(\+4[78]h\d+m\d+s\)$`), "the offset in whole seconds")
		// The window closes 48 h after the message, a little less than 48 h after the page
		// looked at the clock.
		advanced, err := time.ParseDuration(getJSON(base + "/_emu/v1/clock")["advanced"].(string))
		Expect(err).NotTo(HaveOccurred())
		Expect(advanced).To(BeNumerically("~", 48*time.Hour, time.Minute))
	})

	It("exports the state and imports it back", func() {
		base, _ := serve("--target", "oa="+startSampleBot())
		p := open(base)
		p.sendMessage("hi")
		Eventually(func() string { return p.text("#chat") }, 10*time.Second).Should(ContainSubstring("hello, hi"))
		p.click("button", "Export state")
		data := p.download(".json")
		Expect(string(data)).To(ContainSubstring("hello, hi"))
		file := filepath.Join(GinkgoT().TempDir(), "state.json")
		Expect(os.WriteFile(file, data, 0o644)).To(Succeed())

		postJSON(base+"/_emu/v1/reset", "")
		p.eval(`(document.querySelector('#user-picker').dispatchEvent(new Event('change')), 1)`)
		Eventually(func() string { return p.text("#chat") }, 5*time.Second).ShouldNot(ContainSubstring("hello, hi"))

		Expect(p.do(chromedp.SetUploadFiles(chromedp.CSS("#import"), []string{file}))).To(Succeed())
		Eventually(func() string { return p.text("#state-status") }, 5*time.Second).Should(ContainSubstring("imported state.json"))
		Eventually(func() string { return p.text("#chat") }, 5*time.Second).Should(ContainSubstring("hello, hi"))

		// A file that is not an export is refused with the reason.
		bad := filepath.Join(GinkgoT().TempDir(), "bad.json")
		Expect(os.WriteFile(bad, []byte(`{"version": 99}`), 0o644)).To(Succeed())
		Expect(p.do(chromedp.SetUploadFiles(chromedp.CSS("#import"), []string{bad}))).To(Succeed())
		Eventually(func() string { return p.text("#state-status") }, 5*time.Second).Should(ContainSubstring("import refused: "))
		Expect(p.text("#state-status")).To(ContainSubstring("version 99"))
	})

	It("records a session as a scenario that wxemu run passes against the same bot, and fails against another", func() {
		bot := startSampleBot()
		base, _ := serve("--target", "oa="+bot)
		p := open(base)
		p.eval(`(document.querySelector('#user-picker').value = 'o6_bmjrPTlm6_2sgVt7hMZOPfL2M', document.querySelector('#user-picker').dispatchEvent(new Event('change')), 1)`)
		p.click("button", "Record")
		p.byName("button", "Stop recording")
		p.sendMessage("hi")
		Eventually(func() string { return p.text("#chat") }, 10*time.Second).Should(ContainSubstring("hello, hi"))
		// The agent panel: a hand-over, accepted, and the agent's reply.
		p.sendMessage("人工 kf1@wxemu_demo")
		agents := p.byName("region", "Agents")
		Eventually(func() string { return p.text(agents) }, 10*time.Second).Should(MatchRegexp(`(?i)waiting \(1\)`))
		p.click("button", "Accept o6_bmjrPTlm6_2sgVt7hMZOPfL2M as 客服小王")
		Eventually(func() string { return p.text(agents) }, 5*time.Second).Should(ContainSubstring("serving o6_bmjrPTlm6_2sgVt7hMZOPfL2M"))
		p.typeInto("textbox", "Reply to o6_bmjrPTlm6_2sgVt7hMZOPfL2M as kf1@wxemu_demo", "您好，我是客服小王")
		p.click("button", "Reply to o6_bmjrPTlm6_2sgVt7hMZOPfL2M")
		Eventually(func() string { return p.text("#chat") }, 5*time.Second).Should(ContainSubstring("您好，我是客服小王"))
		Expect(p.text("#rec-status")).To(MatchRegexp(`● recording .* \(\d+ actions\)`))
		p.click("button", "Stop recording")
		yaml := string(p.download(".yaml"))
		// The page says what it saved, and the line stays once the recording is over.
		Eventually(func() string { return p.text("#rec-status") }, 5*time.Second).Should(MatchRegexp(`^scenario downloaded: \S+\.yaml$`))
		Consistently(func() string { return p.text("#rec-status") }, 1500*time.Millisecond).Should(HavePrefix("scenario downloaded: "))
		Expect(yaml).To(ContainSubstring("hello, hi"))
		Expect(yaml).To(ContainSubstring("transfer: kf1@wxemu_demo"))
		Expect(yaml).To(ContainSubstring("accept: alice"))
		Expect(yaml).To(ContainSubstring("您好，我是客服小王"))
		file := filepath.Join(GinkgoT().TempDir(), "recorded.yaml")
		Expect(os.WriteFile(file, []byte(yaml), 0o644)).To(Succeed())
		run := wxemu("run", "--target", "oa="+bot, file)
		Eventually(run, 30*time.Second).Should(gexec.Exit(0), string(run.Out.Contents()))

		// The same file against a bot that answers otherwise fails: the recording checks something.
		other := startSampleBot("--bot", "async")
		run = wxemu("run", "--target", "oa="+other, file)
		Eventually(run, 30*time.Second).Should(gexec.Exit(1), string(run.Out.Contents()))
	})

	It("marks on the phone where a fault rule answered the bot, apart from what the user sees", func() {
		base, _ := serve("--target", "oa="+startSampleBot())
		p := open(base)
		p.sendMessage("hi")
		Eventually(func() string { return p.text("#chat") }, 10*time.Second).Should(ContainSubstring("hello, hi"))
		user := p.eval(`document.querySelector('#user-picker').value`)
		postJSON(base+"/_emu/v1/faults", `{"path": "/cgi-bin/message/custom/send", "errcode": -1, "count": 1}`)
		tok := getJSON(base + "/cgi-bin/token?grant_type=client_credential&appid=" + config.DemoOAAppID + "&secret=" + config.DemoOASecret)["access_token"].(string)
		send := `{"touser":"` + user + `","msgtype":"text","text":{"content":"after the fault"}}`
		Expect(postJSON(base+"/cgi-bin/message/custom/send?access_token="+tok, send)).To(HaveKeyWithValue("errcode", -1.0))
		Expect(postJSON(base+"/cgi-bin/message/custom/send?access_token="+tok, send)).To(HaveKeyWithValue("errcode", 0.0))
		Eventually(func() string { return p.text("#chat .sys.fault") }, 5*time.Second).Should(
			ContainSubstring("fault injected (not shown to the user): fault f1: the bot's call of /cgi-bin/message/custom/send was answered: errcode -1"))
		Eventually(func() string { return p.text("#chat .bubble.bot") }, 5*time.Second).Should(ContainSubstring("after the fault"))
		Expect(p.text("#chat .bubble")).NotTo(ContainSubstring("fault f1"), "a fault line is no message of the bot's")
	})

	It("asks nothing of any host but wxemu, and would notice if it did", func() {
		base, _ := serve("--target", "oa="+startSampleBot())
		p := openConsole(bctx.ctx, base)
		p.sendMessage("image")
		Eventually(func() string { return p.text("#chat") }, 10*time.Second).Should(ContainSubstring("MEDIA_IMAGE"))
		p.inspect("text")
		p.click("button", "+1 min")
		Expect(p.foreignRequests()).To(BeEmpty())
		p.mu.Lock()
		Expect(len(p.requests)).To(BeNumerically(">", 10), "the guard sees the page's requests")
		p.mu.Unlock()

		// The guard is not blind: a request to another host is caught (the page's CSP blocks
		// it before it leaves, but the browser reports it).
		p.eval(`(new Image().src = 'http://wxemu-elsewhere.invalid/x.png', 1)`)
		Eventually(p.foreignRequests, 5*time.Second).Should(ContainElement("http://wxemu-elsewhere.invalid/x.png"))
	})

	It("shows the user's message at once, marked sending, while a slow bot holds the push", func() {
		base, _ := serve("--target", "oa="+startSampleBot("--bot", "slow", "--delay", "2s"))
		p := open(base)
		p.sendMessage("hi")
		// WeChat shows what the user sent before the bot answers; the push takes 2 s here.
		Eventually(func() string { return p.text("#chat .line.pending") }, time.Second, 20*time.Millisecond).Should(
			And(ContainSubstring("hi"), ContainSubstring("sending…")))
		// wxemu's transcript holds the message while the push is under way: a refresh then
		// shows it once, still marked.
		p.eval(`(document.querySelector('#user-picker').dispatchEvent(new Event('change')), 1)`)
		Eventually(func() string { return p.eval(`String(document.querySelectorAll('#chat .line.pending').length)`) }, time.Second, 20*time.Millisecond).Should(Equal("1"))
		Consistently(func() int { return strings.Count(p.text("#chat .bubble.me"), "hi") }, 500*time.Millisecond, 20*time.Millisecond).Should(Equal(1))
		Expect(p.text("#chat .line.pending")).To(ContainSubstring("sending…"))
		Eventually(func() string { return p.text("#chat") }, 10*time.Second).Should(ContainSubstring("hello, hi"))
		Expect(p.text("#chat")).NotTo(ContainSubstring("sending…"))
		Expect(strings.Count(p.text("#chat .bubble.me"), "hi")).To(Equal(1), "the message shows once when it is delivered")
	})

	It("names each waiting user on the accept buttons, and says in the Agents region why an action failed", func() {
		base, _ := serve("--target", "oa="+startSampleBot())
		p := open(base)
		const alice, bob, carol = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M", "o6_bmjk4FhXw9dQe2uZrT8cLmN1s", "o6_bmjHq7YpV3nGt0aWxE5iJbK9o"
		for _, u := range []string{alice, bob} {
			postJSON(base+"/_emu/v1/users/"+u+"/send", `{"app":"oa","MsgType":"text","Content":"人工 kf1@wxemu_demo"}`)
		}
		agents := p.byName("region", "Agents")
		Eventually(func() string { return p.text(agents) }, 10*time.Second).Should(MatchRegexp(`(?i)waiting \(2\)`))
		// Two users wait for 客服小王: each button names whom it accepts.
		p.click("button", "Accept "+bob+" as 客服小王")
		Eventually(func() string { return p.text(agents) }, 5*time.Second).Should(ContainSubstring("serving " + bob))
		Expect(p.text(agents)).To(MatchRegexp(`(?i)waiting \(1\)`))
		Expect(getJSON(base + "/_emu/v1/queue?app=oa")["waiting"]).To(ConsistOf(HaveKeyWithValue("openid", alice)))

		// 客服小张 is offline (the demo config): accepting is refused, and the panel says why.
		postJSON(base+"/_emu/v1/users/"+carol+"/send", `{"app":"oa","MsgType":"text","Content":"人工 kf3@wxemu_demo"}`)
		p.click("button", "Accept "+carol+" as 客服小张")
		Eventually(func() string { return p.text("#agents [role=status]") }, 5*time.Second).Should(
			And(ContainSubstring("Accept "+carol+" as 客服小张: "), ContainSubstring("not online"), ContainSubstring("65415")))
		Expect(p.text("#state-status")).To(BeEmpty(), "the error is said where the person clicked, not under State")
	})

	It("resets all state after the confirmation, keeps it when the person cancels, and says when a reset fails", func() {
		base, _ := serve("--target", "oa="+startSampleBot())
		p := open(base)
		p.sendMessage("hi")
		Eventually(func() string { return p.text("#chat") }, 10*time.Second).Should(ContainSubstring("hello, hi"))

		// Cancelled: nothing is forgotten.
		p.eval(`(window.__confirm = window.confirm, window.confirm = () => false, 1)`)
		p.click("button", "Reset")
		Consistently(func() string { return p.text("#chat") }, 500*time.Millisecond).Should(ContainSubstring("hello, hi"))
		Expect(getJSON(base + "/_emu/v1/journal")["entries"]).NotTo(BeEmpty())

		// Accepted in the browser's own dialog: the state and the journal are gone.
		p.eval(`(window.confirm = window.__confirm, 1)`)
		dialog := make(chan string, 1)
		Expect(chromedp.Listen(p.ctx, func(ev any) {
			if e, ok := ev.(*cdppage.EventJavascriptDialogOpening); ok {
				dialog <- e.Message
				go chromedp.Call(p.ctx, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{Accept: true})
			}
		})).To(Succeed())
		Expect(chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(p.byName("button", "Reset"))))).To(Succeed())
		Eventually(dialog, 5*time.Second).Should(Receive(ContainSubstring("Forget all state")))
		Eventually(func() string { return p.text("#state-status") }, 5*time.Second).Should(ContainSubstring("reset: all state forgotten"))
		Eventually(func() string { return p.text("#chat") }, 5*time.Second).ShouldNot(ContainSubstring("hello, hi"))
		Expect(p.text("#journal-list")).NotTo(ContainSubstring(`push text "hi"`))
		Expect(getJSON(base + "/_emu/v1/users/o6_bmjrPTlm6_2sgVt7hMZOPfL2M/grants?app=oa")["grants"]).To(BeEmpty())

		// A reset the control API refuses is said so, not reported done.
		p.eval(`(window.confirm = () => true, window.__fetch = window.fetch, window.fetch = (u, i) => String(u).endsWith('/_emu/v1/reset')
			? Promise.resolve(new Response(JSON.stringify({error: 'refused for the spec'}), {status: 500})) : window.__fetch(u, i), 1)`)
		p.click("button", "Reset")
		Eventually(func() string { return p.text("#state-status") }, 5*time.Second).Should(Equal("reset failed: refused for the spec"))
	})

	It("drives the Mini Program in JSON: user_enter_tempsession and a card from the event form, text, and the grey line", func() {
		base, _ := serve("--target", "mp="+startSampleBot("--bot", "mp", "--token", config.DemoMPToken, "--format", "json"))
		p := open(base)
		p.eval(`(document.querySelector('#app-picker').value = '` + config.DemoMPAppID + `', document.querySelector('#app-picker').dispatchEvent(new Event('change')), 1)`)
		Eventually(func() string { return p.text("#phone-peer") }, 5*time.Second).Should(HavePrefix("mp · "))
		// The form offers what a Mini Program user can send, and nothing an Official Account only has.
		kinds := p.eval(`[...document.querySelector('#event-kind').options].map(o => o.value).join(' ')`)
		Expect(kinds).To(ContainSubstring("user_enter_tempsession"))
		Expect(kinds).To(ContainSubstring("miniprogrampage"))
		Expect(kinds).NotTo(ContainSubstring("subscribe"))

		Expect(p.do(chromedp.Click(chromedp.CSS("#more summary")))).To(Succeed())
		Expect(p.do(chromedp.SetValue(chromedp.CSS("#event-kind"), "user_enter_tempsession"))).To(Succeed())
		p.eval(`document.querySelector('#event-kind').dispatchEvent(new Event('change')), 1`)
		session := p.byName("textbox", "Session from")
		Expect(p.do(chromedp.SetValue(chromedp.CSS(session), "spec-entry"))).To(Succeed())
		p.click("button", "Send event or message")
		Eventually(func() string { return p.text("#chat .evt") }, 10*time.Second).Should(ContainSubstring("user_enter_tempsession"))
		// The bot got it, in JSON, and answered.
		got := p.inspect("user_enter_tempsession")
		Expect(got).To(ContainSubstring("Content-Type: application/json"))
		Expect(got).To(ContainSubstring(`"Event":"user_enter_tempsession"`))
		Expect(got).To(ContainSubstring(`"SessionFrom":"spec-entry"`))
		Expect(got).To(MatchRegexp(`1\s+\S+\s+[\d.]+\s+200\s+answered`))
		Expect(got).To(ContainSubstring("outcome: none"))

		// A Mini Program card, from the form.
		Expect(p.do(chromedp.SetValue(chromedp.CSS("#event-kind"), "miniprogrampage"))).To(Succeed())
		p.eval(`document.querySelector('#event-kind').dispatchEvent(new Event('change')), 1`)
		Expect(p.do(chromedp.SetValue(chromedp.CSS(p.byName("textbox", "Title")), "spec card"))).To(Succeed())
		p.click("button", "Send event or message")
		Eventually(func() string { return p.text("#chat .card.mp") }, 10*time.Second).Should(And(ContainSubstring("小程序"), ContainSubstring("spec card")))
		Expect(p.inspect("miniprogrampage")).To(ContainSubstring(`"Title":"spec card"`))

		// Text that asks for a person: the bot transfers, the Mini Program's agent takes it.
		p.sendMessage("人工")
		Eventually(func() string { return p.text("#chat .sys") }, 10*time.Second).Should(ContainSubstring("为你服务"))

		// A Mini Program bot that fails: the user sees the Mini Program's own grey line.
		base, _ = serve("--target", "mp="+startSampleBot("--bot", "malformed", "--token", config.DemoMPToken, "--format", "json"))
		p = open(base)
		p.eval(`(document.querySelector('#app-picker').value = '` + config.DemoMPAppID + `', document.querySelector('#app-picker').dispatchEvent(new Event('change')), 1)`)
		Eventually(func() string { return p.text("#phone-peer") }, 5*time.Second).Should(HavePrefix("mp · "))
		p.sendMessage("hi")
		Eventually(func() string { return p.text("#chat .sys") }, 10*time.Second).Should(Equal("该小程序客服暂时无法提供服务，请稍后再试"))
	})

	It("walks a long journal from the keyboard, starting from the rows on screen", func() {
		base, _ := serve("--target", "oa="+startSampleBot())
		for i := range 80 {
			postJSON(base+"/_emu/v1/users/o6_bmjrPTlm6_2sgVt7hMZOPfL2M/send", fmt.Sprintf(`{"app":"oa","MsgType":"text","Content":"m%d"}`, i))
		}
		p := open(base)
		last := int(getJSON(base + "/_emu/v1/journal?brief=true")["last_seq"].(float64))
		Expect(last).To(BeNumerically(">=", 160))
		Eventually(func() string { return p.text("#journal-list") }, 5*time.Second).Should(ContainSubstring(`"m79"`))
		// The list follows the newest entries; the first ArrowDown picks a row the person sees.
		Expect(p.do(chromedp.Focus(chromedp.CSS("#journal-list")), chromedp.KeyEvent(kb.ArrowDown))).To(Succeed())
		Eventually(func() string {
			return p.eval(`(document.querySelector('#journal-list .jrow.sel') || {dataset: {}}).dataset.seq || ''`)
		}, 5*time.Second).ShouldNot(BeEmpty())
		sel, _ := strconv.Atoi(p.eval(`document.querySelector('#journal-list .jrow.sel').dataset.seq`))
		Expect(sel).To(BeNumerically(">", last-40), "ArrowDown picked #%d of %d, off screen", sel, last)
		Expect(p.eval(`(() => { const l = document.querySelector('#journal-list').getBoundingClientRect(), r = document.querySelector('#journal-list .jrow.sel').getBoundingClientRect(); return r.top >= l.top && r.bottom <= l.bottom })()`)).To(Equal("true"))
		Expect(p.do(chromedp.KeyEvent(kb.ArrowDown))).To(Succeed())
		Eventually(func() string { return p.eval(`document.querySelector('#journal-list .jrow.sel').dataset.seq`) }, 5*time.Second).Should(Equal(strconv.Itoa(sel + 1)))
		// Enter moves the focus to the inspector, which shows the entry.
		Expect(p.do(chromedp.KeyEvent(kb.Enter))).To(Succeed())
		Eventually(func() string { return p.eval(`document.activeElement.id`) }, 5*time.Second).Should(Equal("inspector"))
		Eventually(func() string { return p.text("#inspector h2") }, 5*time.Second).Should(HavePrefix(fmt.Sprintf("Inspector — #%d", sel+1)))
	})

	It("copies a media upload as a cURL command that uploads the file again", func() {
		base, _ := serve()
		tok := getJSON(base + "/cgi-bin/token?grant_type=client_credential&appid=" + config.DemoOAAppID + "&secret=" + config.DemoOASecret)["access_token"].(string)
		dir := GinkgoT().TempDir()
		_, pngBytes := uploadImage(base, tok, "dot.png", 2, 2)
		Expect(os.WriteFile(filepath.Join(dir, "dot.png"), pngBytes, 0o644)).To(Succeed())

		p := open(base)
		Expect(p.inspect("media/upload")).To(ContainSubstring("multipart/form-data"))
		p.eval(`(navigator.clipboard.writeText = (t) => { window.__copied = t; return Promise.resolve() }, 1)`)
		p.click("button", "Copy as cURL")
		Eventually(func() string { return p.eval(`window.__copied || ''`) }, 5*time.Second).Should(HavePrefix("curl -X POST 'http://127.0.0.1:"))
		curl := p.eval(`window.__copied`)
		// Without its file the same POST gets 41005 (media data missing).
		Expect(curl).To(HaveSuffix(" -F 'media=@dot.png'"))
		if _, err := exec.LookPath("curl"); err == nil {
			cmd := exec.Command("sh", "-c", curl+" -s")
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), string(out))
			Expect(string(out)).To(ContainSubstring(`"media_id"`), "the copied command uploaded the file")
		} else {
			fmt.Fprintln(GinkgoWriter, "curl is not installed: the copied command is checked by its form only")
		}
	})

	It("keeps the newest line of the chat in view when an image loads and when the typing line shows", func() {
		base, _ := serve("--target", "oa="+startSampleBot())
		p := open(base)
		p.sendMessage("hi")
		Eventually(func() string { return p.text("#chat") }, 10*time.Second).Should(ContainSubstring("hello, hi"))
		user := p.eval(`document.querySelector('#user-picker').value`)
		tok := getJSON(base + "/cgi-bin/token?grant_type=client_credential&appid=" + config.DemoOAAppID + "&secret=" + config.DemoOASecret)["access_token"].(string)
		// Enough lines that the chat scrolls.
		for i := range 8 {
			postJSON(base+"/_emu/v1/users/"+user+"/send", fmt.Sprintf(`{"app":"oa","MsgType":"text","Content":"line %d"}`, i))
		}
		Eventually(func() string { return p.text("#chat") }, 10*time.Second).Should(ContainSubstring("hello, line 7"))
		media, _ := uploadImage(base, tok, "tall.png", 150, 170)
		for _, m := range []string{`"msgtype":"image","image":{"media_id":"` + media + `"}`, `"msgtype":"text","text":{"content":"after the image"}`} {
			Expect(postJSON(base+"/cgi-bin/message/custom/send?access_token="+tok, `{"touser":"`+user+`",`+m+`}`)).To(HaveKeyWithValue("errcode", 0.0))
		}
		lastInView := `(() => { const c = document.querySelector('#chat').getBoundingClientRect(), b = [...document.querySelectorAll('#chat .bubble')].pop().getBoundingClientRect(); return b.bottom <= c.bottom + 1 && b.top >= c.top })()`
		Eventually(func() string { return p.text("#chat .bubble") }, 5*time.Second).Should(ContainSubstring("after the image"))
		Eventually(func() string {
			return p.eval(`String([...document.querySelectorAll('#chat img')].every(i => i.complete && i.naturalHeight > 0))`)
		}, 5*time.Second).Should(Equal("true"))
		Eventually(func() string { return p.eval(lastInView) }, 2*time.Second).Should(Equal("true"), "the newest message is in view once the image has loaded")
		Consistently(func() string { return p.eval(lastInView) }, 500*time.Millisecond).Should(Equal("true"))

		Expect(postJSON(base+"/cgi-bin/message/custom/typing?access_token="+tok, `{"touser":"`+user+`","command":"Typing"}`)).To(HaveKeyWithValue("errcode", 0.0))
		Eventually(func() string { return p.eval(`document.querySelector('#typing').hidden`) }, 5*time.Second).Should(Equal("false"))
		Eventually(func() string { return p.eval(lastInView) }, 2*time.Second).Should(Equal("true"), "the newest message is in view above the typing line")

		// A media id (64 characters, no space) wraps: the side panel and the phone need no
		// sideways scrolling to show the file's expiry and the voice card.
		Expect(postJSON(base+"/cgi-bin/message/custom/send?access_token="+tok, `{"touser":"`+user+`","msgtype":"voice","voice":{"media_id":"`+media+`"}}`)).To(HaveKeyWithValue("errcode", 0.0))
		Eventually(func() string { return p.text("#limits") }, 5*time.Second).Should(ContainSubstring(media))
		Eventually(func() string { return p.text("#chat .card") }, 5*time.Second).Should(ContainSubstring("[语音]"))
		Expect(p.eval(`String([...document.querySelectorAll('.side, #chat')].every(e => e.scrollWidth <= e.clientWidth))`)).To(Equal("true"))
	})

	It("refuses a new user whose openid WeChat could not have, saying why, and picks a good one", func() {
		base, _ := serve("--target", "oa="+startSampleBot())
		p := open(base)
		p.typeInto("textbox", "New user's openid", "a b")
		p.click("button", "Add user")
		Eventually(func() string { return p.text("#phone-error") }, 5*time.Second).Should(ContainSubstring(`the openid "a b" has a space or control character; an openid is letters, digits, - and _`))
		Expect(p.text("#user-picker")).NotTo(ContainSubstring("a b"))
		// A pasted openid that is too long is refused whole, not cut to a different one.
		p.eval(`(document.querySelector('#new-user').value = '', 1)`)
		p.typeInto("textbox", "New user's openid", strings.Repeat("o", 70))
		p.click("button", "Add user")
		Eventually(func() string { return p.text("#phone-error") }, 5*time.Second).Should(ContainSubstring("is 70 bytes long, more than 64"))

		p.eval(`(document.querySelector('#new-user').value = '', 1)`)
		p.typeInto("textbox", "New user's openid", "o_new_user_1")
		p.click("button", "Add user")
		Eventually(func() string { return p.eval(`document.querySelector('#user-picker').value`) }, 5*time.Second).Should(Equal("o_new_user_1"))
		Expect(p.text("#phone-error")).To(BeEmpty())
		p.sendMessage("hi")
		Eventually(func() string { return p.text("#chat") }, 10*time.Second).Should(ContainSubstring("hello, hi"))
	})

	It("lets a keyboard user accept, reply and close without losing the focus", func() {
		base, _ := serve("--target", "oa="+startSampleBot())
		p := open(base)
		const alice = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
		postJSON(base+"/_emu/v1/users/"+alice+"/send", `{"app":"oa","MsgType":"text","Content":"人工 kf1@wxemu_demo"}`)
		agents := p.byName("region", "Agents")
		Eventually(func() string { return p.text(agents) }, 10*time.Second).Should(MatchRegexp(`(?i)waiting \(1\)`))
		active := func() string {
			return p.eval(`document.activeElement ? (document.activeElement.getAttribute('aria-label') || document.activeElement.id || document.activeElement.tagName) : ''`)
		}
		// Enter on Accept: the focus lands in the new session's reply box.
		Expect(p.do(chromedp.Focus(chromedp.CSS(p.byName("button", "Accept "+alice+" as 客服小王"))), chromedp.KeyEvent(kb.Enter))).To(Succeed())
		replyBox := fmt.Sprintf("reply-%v-%s", agentOf(base, "kf1@wxemu_demo")["kf_id"], alice)
		Eventually(active, 5*time.Second).Should(Equal(replyBox))
		Expect(p.eval(`document.activeElement.labels[0].textContent`)).To(Equal("Reply to " + alice + " as kf1@wxemu_demo"))
		// Type and press Enter: the reply goes, the panel says so, and the focus stays to type again.
		Expect(p.do(chromedp.KeyEvent("hello from the keyboard"), chromedp.KeyEvent(kb.Enter))).To(Succeed())
		Eventually(func() string { return p.text("#chat") }, 5*time.Second).Should(ContainSubstring("hello from the keyboard"))
		Eventually(func() string { return p.text("#agents-status") }, 5*time.Second).Should(Equal("Reply to " + alice + ": delivered"))
		Consistently(active, time.Second).Should(Equal(replyBox))
		// Enter on Close: the session ends and the focus goes to the panel's heading, not the page's top.
		Expect(p.do(chromedp.Focus(chromedp.CSS(p.byName("button", "Close session with "+alice))), chromedp.KeyEvent(kb.Enter))).To(Succeed())
		Eventually(func() string { return p.text("#chat") }, 5*time.Second).Should(ContainSubstring("结束了会话"))
		Eventually(active, 5*time.Second).Should(Equal("agents-title"))
	})

	It("appends new lines to the chat log and leaves the lines on screen alone", func() {
		base, _ := serve("--target", "oa="+startSampleBot())
		p := open(base)
		p.sendMessage("first")
		Eventually(func() string { return p.text("#chat") }, 10*time.Second).Should(ContainSubstring("hello, first"))
		// role="log" announces what is added: a chat drawn anew would be read out whole again.
		p.eval(`([...document.querySelectorAll('#chat > *')].forEach(e => e.dataset.old = '1'), 1)`)
		p.sendMessage("second")
		Eventually(func() string { return p.text("#chat") }, 10*time.Second).Should(ContainSubstring("hello, second"))
		Expect(p.eval(`String(document.querySelectorAll('#chat > [data-old]').length)`)).To(Equal("2"), "the first two lines are the same elements")
		Expect(p.text("#chat > :not([data-old])")).To(And(ContainSubstring("second"), ContainSubstring("hello, second")))
		Expect(strings.Count(p.text("#chat"), "hello, first")).To(Equal(1))
	})

	It("follows a wxemu started anew on the same address: its journal and its chat, not the old ones", func() {
		bot := startSampleBot()
		addr := fmt.Sprintf("127.0.0.1:%d", freePort())
		base, first := serve("--target", "oa="+bot, "--addr", addr)
		p := open(base)
		for i := range 6 {
			postJSON(base+"/_emu/v1/users/o6_bmjrPTlm6_2sgVt7hMZOPfL2M/send", fmt.Sprintf(`{"app":"oa","MsgType":"text","Content":"old %d"}`, i))
		}
		Eventually(func() string { return p.text("#chat") }, 10*time.Second).Should(ContainSubstring("hello, old 5"))

		first.Terminate()
		Eventually(first, 10*time.Second).Should(gexec.Exit())
		Eventually(func() string { return p.text("#conn") }, 10*time.Second).ShouldNot(Equal("live"))
		base2, _ := serve("--target", "oa="+bot, "--addr", addr)
		Expect(base2).To(Equal(base))
		// The new wxemu numbers its journal from 1: its first entries are below the page's last.
		postJSON(base+"/_emu/v1/users/o6_bmjrPTlm6_2sgVt7hMZOPfL2M/send", `{"app":"oa","MsgType":"text","Content":"new 1"}`)
		Eventually(func() string { return p.text("#journal-list") }, 10*time.Second).Should(ContainSubstring(`push text "new 1"`))
		Expect(p.text("#journal-list")).NotTo(ContainSubstring(`"old 5"`))
		Eventually(func() string { return p.text("#chat") }, 5*time.Second).Should(ContainSubstring("hello, new 1"))
		Expect(p.text("#chat")).NotTo(ContainSubstring("old 5"))
		Eventually(func() string { return p.text("#conn") }, 5*time.Second).Should(Equal("live"))
	})

	It("shows in the inspector the entry picked last, whatever order the answers come in", func() {
		base, _ := serve("--target", "oa="+startSampleBot())
		var seqs []string
		for _, text := range []string{"one", "two"} {
			r := postJSON(base+"/_emu/v1/users/o6_bmjrPTlm6_2sgVt7hMZOPfL2M/send", `{"app":"oa","MsgType":"text","Content":"`+text+`"}`)
			seqs = append(seqs, fmt.Sprint(r["journal"]))
		}
		p := open(base)
		// The answer for the first entry comes late, as on a slow connection.
		p.eval(`(window.__fetch = window.fetch, window.fetch = (u, i) => String(u).endsWith('/_emu/v1/journal/` + seqs[0] + `')
			? new Promise(r => setTimeout(r, 800)).then(() => window.__fetch(u, i)) : window.__fetch(u, i), 1)`)
		p.clickCSS(`#journal-list .jrow[data-seq="` + seqs[0] + `"]`)
		p.clickCSS(`#journal-list .jrow[data-seq="` + seqs[1] + `"]`)
		Eventually(func() string { return p.text("#inspector .summary") }, 5*time.Second).Should(ContainSubstring(`"two"`))
		Consistently(func() string { return p.text("#inspector h2") }, 1500*time.Millisecond).Should(Equal("Inspector — #" + seqs[1] + " push"))
		Expect(p.text("#inspector .summary")).To(ContainSubstring(`"two"`))
	})

	It("shows the chat of the user picked last, not one whose transcript came late", func() {
		base, _ := serve("--target", "oa="+startSampleBot())
		const alice, bob = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M", "o6_bmjk4FhXw9dQe2uZrT8cLmN1s"
		postJSON(base+"/_emu/v1/users/"+alice+"/send", `{"app":"oa","MsgType":"text","Content":"from alice"}`)
		postJSON(base+"/_emu/v1/users/"+bob+"/send", `{"app":"oa","MsgType":"text","Content":"from bob"}`)
		p := open(base)
		pick := func(u string) {
			p.eval(`(document.querySelector('#user-picker').value = '` + u + `', document.querySelector('#user-picker').dispatchEvent(new Event('change')), 1)`)
		}
		pick(bob)
		Eventually(func() string { return p.text("#chat") }, 5*time.Second).Should(ContainSubstring("hello, from bob"))
		// Alice's transcript comes late; the person has moved on to Bob by then.
		p.eval(`(window.__fetch = window.fetch, window.fetch = (u, i) => String(u).includes('/users/` + alice + `/')
			? new Promise(r => setTimeout(r, 600)).then(() => window.__fetch(u, i)) : window.__fetch(u, i), 1)`)
		pick(alice)
		time.Sleep(150 * time.Millisecond) // Alice's transcript is on its way
		pick(bob)
		Consistently(func() string { return p.text("#chat") + "\n" + p.text("#limits") }, 1500*time.Millisecond, 20*time.Millisecond).Should(
			And(ContainSubstring("hello, from bob"), ContainSubstring("of "+bob), Not(ContainSubstring("alice")), Not(ContainSubstring("of "+alice))))
	})

	It("passes axe-core with no serious or critical violation", func() {
		base, _ := serve("--target", "oa="+startSampleBot())
		p := open(base)
		p.sendMessage("人工 kf1@wxemu_demo")
		Eventually(func() string { return p.text("#agents") }, 10*time.Second).Should(MatchRegexp(`(?i)waiting \(1\)`))
		p.inspect("text")
		Expect(p.axe()).To(BeEmpty())

		// axe is not blind either: an unlabelled control is reported.
		p.eval(`(document.querySelector('#state').append(Object.assign(document.createElement('button'), {id: 'unlabelled'})), 1)`)
		Expect(p.axe()).To(ContainElement(ContainSubstring("button-name")))
	})
})

// uploadImage uploads a w×h PNG named name as the demo Official Account's temporary media and
// returns its media_id and the PNG's bytes.
func uploadImage(base, tok, name string, w, h int) (string, []byte) {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), &image.Uniform{color.RGBA{200, 30, 30, 255}}, image.Point{}, draw.Src)
	var pngBuf bytes.Buffer
	Expect(png.Encode(&pngBuf, img)).To(Succeed())
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("media", name)
	Expect(err).NotTo(HaveOccurred())
	_, _ = fw.Write(pngBuf.Bytes())
	Expect(mw.Close()).To(Succeed())
	resp, err := http.Post(base+"/cgi-bin/media/upload?type=image&access_token="+tok, mw.FormDataContentType(), &body)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	var out map[string]any
	Expect(json.NewDecoder(resp.Body).Decode(&out)).To(Succeed())
	Expect(out).To(HaveKey("media_id"), "upload: %v", out)
	return out["media_id"].(string), pngBuf.Bytes()
}

// chromedpContext holds the suite's browser, set in BeforeAll.
type chromedpContext struct{ ctx context.Context }

// agentOf is an agent as GET /_emu/v1/agents shows it.
func agentOf(base, account string) map[string]any {
	for _, a := range getJSON(base + "/_emu/v1/agents?app=oa")["agents"].([]any) {
		if a.(map[string]any)["kf_account"] == account {
			return a.(map[string]any)
		}
	}
	Fail("no agent " + account)
	return nil
}

func mustGet(url string) []byte {
	resp, err := http.Get(url)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return data
}
