package cloudfn_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/platform"
)

var _ = Describe("fault rules on a cloud function's cloud.openapi", func() {
	It("answer the injected errcode inside the gateway's answer, and leave 5xx and drops to HTTP", func() {
		w := newWorld(spec(testFn("state")))
		token, release, _ := w.hold()
		defer release()
		minus1 := -1
		one := 1
		_, err := w.p.AddFaults([]platform.FaultRule{
			{Family: "custom_send", App: "mp", Errcode: &minus1, Count: &one},
			{Family: "typing", Drop: true},
		}, nil)
		Expect(err).NotTo(HaveOccurred())

		r := w.openAPI(token, "customerServiceMessage.send", pair("touser", `"`+alice+`"`), pair("msgtype", `"text"`),
			pair("text", `{"content":"hi"}`)).resp()
		Expect(r.ErrorCode).To(BeZero())
		Expect(string(r.RespData)).To(MatchRegexp(`^\{"errcode":-1,"errmsg":"system error rid: [0-9a-f]+-[0-9a-f]+-[0-9a-f]+"\}$`))
		api := w.entries(platform.KindAPI)
		Expect(api).To(HaveLen(1))
		Expect(api[0].API.Via).To(Equal(platform.ViaCloud))
		Expect(api[0].API.Injected).To(Equal(&platform.Injected{Rule: "f1", Action: "errcode -1 system error"}))
		Expect(api[0].User).To(Equal(alice))

		r = w.openAPI(token, "customerServiceMessage.setTyping", pair("touser", `"`+alice+`"`), pair("command", `"Typing"`)).resp()
		Expect(string(r.RespData)).To(Equal(`{"errcode":0,"errmsg":"ok"}`), "a drop needs the API server's connection")
		Expect(w.p.Faults()[1].Matched).To(Equal(0))
	})
})
