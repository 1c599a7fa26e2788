package cloudfn_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/platform"
)

// onePixel is a valid 1×1 PNG.
var onePixel, _ = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")

// gatewayError reads the gateway's own refusal: JSON {code, message} of the exact content type
// the SDK tells from a protobuf answer.
func gatewayError(g gateway) (code, message string) {
	GinkgoHelper()
	Expect(g.status).To(Equal(http.StatusOK))
	Expect(g.contentType).To(Equal("application/json; charset=utf-8"))
	var e struct{ Code, Message string }
	Expect(json.Unmarshal(g.body, &e)).To(Succeed(), string(g.body))
	return e.Code, e.Message
}

var _ = Describe("The tcb gateway", func() {
	var (
		w       *world
		token   string
		release func()
		done    <-chan *platform.Interaction
	)
	BeforeEach(func() {
		w = newWorld(spec(testFn("state")))
		token, release, done = w.hold()
	})

	It("serves setTyping while the invocation runs", func() {
		r := w.openAPI(token, "customerServiceMessage.setTyping", pair("touser", `"`+alice+`"`), pair("command", `"Typing"`)).resp()
		Expect(r.ErrorCode).To(BeZero())
		Expect(r.ContentType).To(Equal("application/json"))
		Expect(string(r.RespData)).To(Equal(`{"errcode":0,"errmsg":"ok"}`))
		api := w.entries(platform.KindAPI)
		Expect(api).To(HaveLen(1))
		Expect(api[0].API.Via).To(Equal(platform.ViaCloud))
		Expect(api[0].API.Path).To(Equal(platform.PathTyping))
	})

	It("answers getTempMedia with the bytes and their content type", func() {
		app, _ := w.p.App("mp")
		m, err := w.p.UploadMedia(context.Background(), app, "image", "a.png", onePixel, true)
		Expect(err).NotTo(HaveOccurred())
		r := w.openAPI(token, "customerServiceMessage.getTempMedia", pair("media_id", `"`+m.ID+`"`)).resp()
		Expect(r.ErrorCode).To(BeZero())
		Expect(r.RespData).To(Equal(onePixel))
		Expect(r.ContentType).To(Equal("image/png"))

		r = w.openAPI(token, "customerServiceMessage.getTempMedia", pair("media_id", `"nope"`)).resp()
		Expect(string(r.RespData)).To(HavePrefix(`{"errcode":40007,"errmsg":"invalid media_id rid: `))
	})

	It("answers WeChat's errcode inside the answer, with its rid", func() {
		r := w.openAPI(token, "customerServiceMessage.send", pair("touser", `"`+alice+`"`), pair("msgtype", `"text"`)).resp()
		Expect(r.ErrorCode).To(BeZero())
		Expect(string(r.RespData)).To(MatchRegexp(`^\{"errcode":4\d{4},"errmsg":".+ rid: [0-9a-f]+-[0-9a-f]+-[0-9a-f]+"\}$`))
	})

	It("refuses an API config.json does not list with errorCode -604101", func() {
		r := w.openAPI(token, "security.msgSecCheck", pair("content", `"hi"`)).resp()
		Expect(r.ErrorCode).To(BeEquivalentTo(-604101))
		api := w.entries(platform.KindAPI)
		Expect(api).To(HaveLen(1))
		Expect(api[0].API.Path).To(Equal("openapi.security.msgSecCheck"))
		Expect(api[0].API.Errcode).To(Equal(-604101))
	})

	It("names an API it does not emulate", func() {
		code, msg := gatewayError(w.openAPI(token, "subscribeMessage.send", pair("touser", `"`+alice+`"`)))
		Expect(code).To(Equal("INVALID_PARAM"))
		Expect(msg).To(HavePrefix("wxemu does not emulate openapi.subscribeMessage.send; it serves customerServiceMessage.getTempMedia, "))
	})

	DescribeTable("answers the cloud actions it does not emulate at once, naming them",
		func(action, what string, asJSON bool) {
			var g gateway
			if asJSON {
				body, _ := json.Marshal(map[string]string{"action": action, "wxCloudApiToken": token, "collectionName": "orders"})
				resp, err := http.Post(w.url, "application/json", strings.NewReader(string(body)))
				Expect(err).NotTo(HaveOccurred())
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				Expect(err).NotTo(HaveOccurred())
				g = gateway{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: b}
			} else {
				g = w.post(map[string]string{"action": action, "wxCloudApiToken": token}, nil)
			}
			code, msg := gatewayError(g)
			Expect(code).To(Equal("WXEMU_NOT_EMULATED"))
			Expect(msg).To(HavePrefix("wxemu does not emulate " + what + " (action " + action + ")"))
			findings := w.entries(platform.KindUnknown)
			Expect(findings).To(HaveLen(1))
			Expect(findings[0].User).To(Equal(alice))
		},
		Entry("the database", "database.queryDocument", "the cloud database", true),
		Entry("storage", "storage.getUploadMetadata", "cloud storage", false),
		Entry("anything else", "wx.wxPayApi", "this cloud action", false),
	)

	It("refuses a token no invocation had, and a request without one", func() {
		code, msg := gatewayError(w.openAPI("0123456789abcdef", "customerServiceMessage.send"))
		Expect(code).To(Equal("PERMISSION_DENIED"))
		Expect(msg).To(ContainSubstring("belongs to no invocation"))
		code, _ = gatewayError(w.openAPI("", "customerServiceMessage.send"))
		Expect(code).To(Equal("INVALID_PARAM"))
		Expect(w.entries(platform.KindUnknown)).To(HaveLen(2))
	})

	It("refuses a token once its invocation has ended, as late", func() {
		release()
		Eventually(done).Should(Receive())
		code, msg := gatewayError(w.openAPI(token, "customerServiceMessage.setTyping", pair("touser", `"`+alice+`"`), pair("command", `"Typing"`)))
		Expect(code).To(Equal("PERMISSION_DENIED"))
		Expect(msg).To(ContainSubstring("(returned): a function's wxCloudApiToken dies when its invocation ends"))
		Expect(w.entries(platform.KindAPI)).To(BeEmpty())
		Expect(w.entries(platform.KindUnknown)[0].Finding.Problem).To(HavePrefix("late cloud call: openapi.customerServiceMessage.setTyping"))
	})

	It("refuses what is not a POST", func() {
		resp, err := http.Get(w.url)
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		Expect(resp.Header.Get("Content-Type")).To(Equal("application/json; charset=utf-8"))
	})
})
