package wxcrypto_test

import (
	"testing"

	"github.com/wxemu/wxemu/emulator/wxcrypto"
)

// benchMsg is a typical text push, about 300 bytes.
var benchMsg = []byte("<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName>" +
	"<FromUserName><![CDATA[o9AgO5Kd5ggOC-bXrbNODIiE3bGY]]></FromUserName>" +
	"<CreateTime>1714112445</CreateTime><MsgType><![CDATA[text]]></MsgType>" +
	"<Content><![CDATA[你好，请问我的订单什么时候发货？订单号 20240426-0001]]></Content>" +
	"<MsgId>24567890123456789</MsgId></xml>")

var benchRandom16 = []byte("a8eedb185eb2fecf")

func benchCipher(b *testing.B) *wxcrypto.Cipher {
	c, err := wxcrypto.NewCipher(keyA, appIDA)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func BenchmarkSignature(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		wxcrypto.Signature("AAAAA", "1714112445", "415670741")
	}
}

func BenchmarkMsgSignature(b *testing.B) {
	encrypt, err := benchCipher(b).Encrypt(benchRandom16, benchMsg)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		wxcrypto.MsgSignature("AAAAA", "1714112445", "415670741", encrypt)
	}
}

func BenchmarkVerifyMsgSignature(b *testing.B) {
	encrypt, err := benchCipher(b).Encrypt(benchRandom16, benchMsg)
	if err != nil {
		b.Fatal(err)
	}
	sig := wxcrypto.MsgSignature("AAAAA", "1714112445", "415670741", encrypt)
	b.ReportAllocs()
	for b.Loop() {
		if !wxcrypto.VerifyMsgSignature("AAAAA", "1714112445", "415670741", encrypt, sig) {
			b.Fatal("signature does not verify")
		}
	}
}

func BenchmarkEncrypt(b *testing.B) {
	c := benchCipher(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchMsg)))
	for b.Loop() {
		if _, err := c.Encrypt(benchRandom16, benchMsg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecrypt(b *testing.B) {
	c := benchCipher(b)
	encrypt, err := c.Encrypt(benchRandom16, benchMsg)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchMsg)))
	for b.Loop() {
		if _, _, err := c.Decrypt(encrypt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendReplyXML(b *testing.B) {
	c := benchCipher(b)
	encrypt, err := c.Encrypt(benchRandom16, benchMsg)
	if err != nil {
		b.Fatal(err)
	}
	sig := wxcrypto.MsgSignature("AAAAA", "1714112445", "415670741", encrypt)
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = wxcrypto.AppendReplyXML(buf[:0], encrypt, sig, "1714112445", "415670741")
	}
}
