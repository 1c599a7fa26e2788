package rules_test

import (
	"testing"

	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/wire"
)

func BenchmarkCheckCustomSend(b *testing.B) {
	body := []byte(`{"touser":"oUser-1234567890","msgtype":"text","text":{"content":"您好，请问有什么可以帮您？<a href=\"https://example.com/help\">帮助中心</a>"}}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, aerr := rules.CheckCustomSend(wire.OA, body, rules.SendLimits{}); aerr != nil {
			b.Fatal(aerr)
		}
	}
}

func BenchmarkCheckCustomSendMsgMenu(b *testing.B) {
	body := []byte(sendExamples[8].body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, aerr := rules.CheckCustomSend(wire.OA, body, rules.SendLimits{}); aerr != nil {
			b.Fatal(aerr)
		}
	}
}

func BenchmarkCheckTyping(b *testing.B) {
	body := []byte(typingExamples[0])
	b.ReportAllocs()
	for b.Loop() {
		if _, aerr := rules.CheckTyping(body); aerr != nil {
			b.Fatal(aerr)
		}
	}
}
