package apiserver_test

import (
	"io"
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/scenario"
)

var _ = Describe("recording a session through the control API", func() {
	var e *env
	BeforeEach(func() { e = start(nil) })

	stop := func() (*http.Response, string) {
		resp, err := http.Post(e.base+"/_emu/v1/recording/stop", "application/json", nil)
		Expect(err).NotTo(HaveOccurred())
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		Expect(err).NotTo(HaveOccurred())
		return resp, string(body)
	}

	It("starts, tells its state, and stops with the scenario file as a download", func() {
		Expect(e.get("/_emu/v1/recording").JSON).To(Equal(map[string]any{"recording": false, "since": 0.0, "name": "", "actions": 0.0}))
		e.post("/_emu/v1/users/"+alice+"/send", `{"app":"oa","MsgType":"text","Content":"before"}`)
		a := e.post("/_emu/v1/recording/start", `{"name":"hand over"}`)
		Expect(a.Status).To(Equal(200), string(a.Raw))
		since := e.p().LastSeq() - 1 // the start's own control entry came after the mark
		Expect(a.JSON).To(Equal(map[string]any{"recording": true, "since": float64(since), "name": "hand over", "actions": 0.0}))

		e.post("/_emu/v1/users/"+alice+"/send", `{"app":"oa","MsgType":"text","Content":"hi"}`)
		e.post("/_emu/v1/users/"+alice+"/send", `{"app":"oa","MsgType":"text","Content":"push 2"}`)
		e.post("/_emu/v1/clock/advance", `{"by":"30m1s"}`)
		st := e.get("/_emu/v1/recording").JSON
		Expect(st).To(Equal(map[string]any{"recording": true, "since": float64(since), "name": "hand over", "actions": 3.0}))

		resp, body := stop()
		Expect(resp.StatusCode).To(Equal(200), body)
		Expect(resp.Header.Get("Content-Type")).To(Equal("application/yaml; charset=utf-8"))
		Expect(resp.Header.Get("Content-Disposition")).To(Equal(`attachment; filename="hand-over.yaml"`))
		Expect(body).NotTo(ContainSubstring("before"), "what came before the start is not recorded")
		list, err := scenario.Parse(nil, "hand-over.yaml", []byte(body))
		Expect(err).NotTo(HaveOccurred(), body)
		steps := list[0].Steps
		Expect(steps).To(HaveLen(3))
		Expect(*steps[0].Reply.Text.Exact).To(Equal("hello, hi"))
		Expect(steps[1].Sends.Errcodes).To(Equal([]int{0, 0}))
		Expect(steps[2].Advance.String()).To(Equal("30m1s"))
		Expect(e.get("/_emu/v1/recording").JSON["recording"]).To(Equal(false))
	})

	It("refuses to start twice and to stop when not recording, with 409 and what to do", func() {
		a := e.post("/_emu/v1/recording/stop", nil)
		Expect(a.Status).To(Equal(409))
		Expect(a.JSON["error"]).To(ContainSubstring("no recording is running: start one with POST /_emu/v1/recording/start"))

		Expect(e.post("/_emu/v1/recording/start", nil).Status).To(Equal(200), "the body may be empty")
		a = e.post("/_emu/v1/recording/start", `{"name":"again"}`)
		Expect(a.Status).To(Equal(409))
		Expect(a.JSON["error"]).To(ContainSubstring(`recording "`))
		Expect(a.JSON["error"]).To(ContainSubstring(`is running already (since journal entry `))
		Expect(a.JSON["error"]).To(ContainSubstring("stop it first with POST /_emu/v1/recording/stop"))
		Expect(e.get("/_emu/v1/recording").JSON["name"]).To(HavePrefix("session "), "the default name, not the refused one")

		resp, body := stop()
		Expect(resp.StatusCode).To(Equal(200))
		Expect(resp.Header.Get("Content-Disposition")).To(MatchRegexp(`^attachment; filename="session-[0-9-]+-[0-9-]+\.yaml"$`))
		Expect(body).To(ContainSubstring("# Nothing was recorded"))
	})

	It("refuses a name that is not one line of text, or too long", func() {
		a := e.post("/_emu/v1/recording/start", `{"name":"a\nb"}`)
		Expect(a.Status).To(Equal(400))
		Expect(a.JSON["error"]).To(ContainSubstring("control character"))
		a = e.post("/_emu/v1/recording/start", `{"name":"`+strings.Repeat("x", 101)+`"}`)
		Expect(a.Status).To(Equal(400))
		Expect(a.JSON["error"]).To(ContainSubstring("at most 100"))
		a = e.post("/_emu/v1/recording/start", `["x"]`)
		Expect(a.Status).To(Equal(400))
		Expect(a.JSON["error"]).To(ContainSubstring(`like {"name":"hand-over"}`))
		Expect(e.get("/_emu/v1/recording").JSON["recording"]).To(Equal(false))
	})

	It("journals when each control call began, so that what it caused can be told from what came before", func() {
		e.post("/_emu/v1/users/"+alice+"/send", `{"app":"oa","MsgType":"text","Content":"first"}`)
		mark := e.p().LastSeq()
		e.post("/_emu/v1/users/"+alice+"/send", `{"app":"oa","MsgType":"text","Content":"hi"}`)
		entries := e.get("/_emu/v1/journal?kind=control").JSON["entries"].([]any)
		last := entries[len(entries)-1].(map[string]any)
		Expect(last["summary"]).To(HavePrefix("POST /_emu/v1/users/{openid}/send"))
		Expect(last["data"].(map[string]any)["began"]).To(Equal(float64(mark)))
		Expect(last["seq"].(float64)).To(BeNumerically(">", float64(mark+1)), "the push came between")
	})
})
