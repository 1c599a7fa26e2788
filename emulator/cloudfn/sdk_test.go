package cloudfn_test

import (
	"encoding/json"
	"regexp"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/cloudfn"
	"github.com/wxemu/wxemu/emulator/platform"
)

// shown is what the testdata sdk function printed for name: `name {json}`.
func (w *world) shown(name string) map[string]any {
	GinkgoHelper()
	m := regexp.MustCompile(`(?m)^` + name + ` (\{.*\})$`).FindStringSubmatch(w.output())
	Expect(m).NotTo(BeNil(), "%s not printed; the output:\n%s", name, w.output())
	var v map[string]any
	Expect(json.Unmarshal([]byte(m[1]), &v)).To(Succeed())
	return v
}

var _ = Describe("What wx-server-sdk 4.0.2 makes of the gateway's answers", func() {
	var w *world
	BeforeEach(func() {
		fixture("image") // the sdk function borrows its node_modules
		state := spec(testFn("state"))
		state.Routes = []cloudfn.Route{{MsgType: "image"}}
		sdk := spec(testFn("sdk"))
		sdk.Routes = []cloudfn.Route{{MsgType: "text"}}
		w = newWorld(sdk, state)
	})

	It("resolves each call as on WeChat, and throws WeChat's errors", func() {
		Expect(w.send("check").Result.Violations).To(BeEmpty())
		Expect(w.shown("context")).To(Equal(map[string]any{"OPENID": alice, "APPID": mpAppID, "ENV": "wxemu-" + mpAppID, "SOURCE": "wx_client"}))
		Expect(w.shown("send")).To(Equal(map[string]any{"errCode": 0.0, "errMsg": "openapi.customerServiceMessage.send:ok"}))
		Expect(w.shown("typing")).To(Equal(map[string]any{"errCode": 0.0, "errMsg": "openapi.customerServiceMessage.setTyping:ok"}))
		Expect(w.shown("again")).To(And(HaveKeyWithValue("thrown", true), HaveKeyWithValue("errCode", 45081.0),
			HaveKeyWithValue("errMsg", HavePrefix("openapi.customerServiceMessage.setTyping:fail you are already typing rid: "))))
		Expect(w.shown("upload")).To(And(HaveKeyWithValue("type", "image"), HaveKeyWithValue("mediaId", Not(BeEmpty())), HaveKey("createdAt"),
			HaveKeyWithValue("errCode", 0.0), HaveKeyWithValue("errMsg", "openapi.customerServiceMessage.uploadTempMedia:ok")))
		Expect(w.shown("get")).To(Equal(map[string]any{"contentType": "image/png", "same": true, "errCode": 0.0, "errMsg": "openapi.customerServiceMessage.getTempMedia:ok"}))
		Expect(w.shown("call")).To(HaveKeyWithValue("MsgType", "transfer_customer_service"), "cloud.callFunction's result")
		Expect(w.shown("database")).To(And(HaveKeyWithValue("thrown", true),
			HaveKeyWithValue("errMsg", ContainSubstring("wxemu does not emulate the cloud database"))))
		Expect(w.custom()).To(Equal([]string{"收到"}))
	})

	It("refuses a call the function did not await, made after it returned, as late", func() {
		Expect(w.send("late").Result.Outcome).To(Equal(platform.None))
		Eventually(w.output).Should(ContainSubstring("late {"))
		Expect(w.shown("late")).To(And(HaveKeyWithValue("thrown", true), HaveKeyWithValue("errMsg", ContainSubstring("dies when its invocation ends"))))
		findings := w.entries(platform.KindUnknown)
		Expect(findings).To(HaveLen(1))
		Expect(findings[0].Finding.Problem).To(And(HavePrefix("late cloud call: openapi.customerServiceMessage.send of cloud function sdk"), HaveSuffix("(returned)")))
		Expect(w.custom()).To(BeEmpty())
	})
})
