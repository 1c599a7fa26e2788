package wire_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/wire"
)

var _ = Describe("demo messages", func() {
	It("makes a complete push of every type but text from its demo values alone", func() {
		for _, t := range wire.InboundTypes() {
			for _, f := range wire.DemoFields(t.MsgType, t.Event) {
				Expect(t.Has(f.Name)).To(BeTrue(), "%s: demo field %s is not one of its fields", t.Name(), f.Name)
			}
			if t.MsgType == "text" {
				continue
			}
			m := wire.Demo(t.MsgType, t.Event)
			Expect(m.Check(t.Kinds[0])).To(Succeed(), t.Name())
		}
	})

	It("fills the fields a spec rarely cares about", func() {
		Expect(wire.Demo("image", "")).To(Equal(wire.Message{MsgType: "image",
			PicUrl: "http://mmbiz.qpic.cn/mmbiz_jpg/wxemu-demo/0", MediaId: "wxemu_demo_image_media_id"}))
		Expect(wire.Demo("event", "CLICK")).To(Equal(wire.Message{MsgType: "event", Event: "CLICK", EventKey: "wxemu_click"}))
	})

	It("shares a Mini Program card from the demo Mini Program", func() {
		Expect(wire.Demo("miniprogrampage", "").AppId).To(Equal(config.DemoMPAppID))
	})

	It("has none for text, for an event without fields, or for what is no type", func() {
		Expect(wire.DemoFields("text", "")).To(BeEmpty())
		Expect(wire.DemoFields("event", "subscribe")).To(BeEmpty())
		Expect(wire.DemoFields("image", "CLICK")).To(BeEmpty())
		Expect(wire.Demo("text", "")).To(Equal(wire.Message{MsgType: "text"}))
	})

	It("hands out a copy", func() {
		f := wire.DemoFields("image", "")
		f[0].Value = "changed"
		Expect(wire.DemoFields("image", "")[0].Value).NotTo(Equal("changed"))
	})
})
