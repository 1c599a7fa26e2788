package wxcrypto_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/wxcrypto"
)

var _ = Describe("signatures", func() {
	const (
		token     = "AAAAA"
		timestamp = "1714112445"
		nonce     = "415670741"
		want      = "6c5c811b55cc85e0e1b54100749188c20beb3f5d" // protocol §1.7 A, safe-mode URL
		wantMsg   = "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3" // protocol §1.7 A, msg_signature
	)

	It("does not depend on the order of its arguments", func() {
		Expect(wxcrypto.Signature(nonce, token, timestamp)).To(Equal(want))
		Expect(wxcrypto.Signature(timestamp, nonce, token)).To(Equal(want))
		Expect(wxcrypto.MsgSignature(encryptA, nonce, timestamp, token)).To(Equal(wantMsg))
		Expect(wxcrypto.MsgSignature(timestamp, encryptA, token, nonce)).To(Equal(wantMsg))
	})

	It("sorts byte-wise, as PHP's sort(SORT_STRING) does", func() {
		// "B" < "a" < "é" byte-wise; a locale-aware or case-folding sort would differ.
		Expect(wxcrypto.Signature("a", "é", "B")).To(Equal(refSignature("a", "é", "B")))
		Expect(wxcrypto.Signature("10", "9", "1")).To(Equal(refSignature("10", "9", "1")))
	})

	It("agrees with the reference on empty and long parts", func() {
		long := strings.Repeat("x", 5000)
		for _, parts := range [][]string{
			{"", "", ""},
			{long, "", "b"},
			{long[:511], "1", "22"},
			{long[:512], "1", "22"},
			{long[:513], long[:1024], "z"},
		} {
			Expect(wxcrypto.Signature(parts[0], parts[1], parts[2])).To(Equal(refSignature(parts...)))
			Expect(wxcrypto.MsgSignature(parts[0], parts[1], parts[2], long)).To(Equal(refSignature(append(parts, long)...)))
		}
	})

	DescribeTable("VerifySignature refuses anything but the exact lowercase hex",
		func(signature string) {
			Expect(wxcrypto.VerifySignature(token, timestamp, nonce, signature)).To(BeFalse())
			Expect(wxcrypto.VerifyMsgSignature(token, timestamp, nonce, encryptA, signature)).To(BeFalse())
		},
		Entry("empty", ""),
		Entry("one character changed", "6c5c811b55cc85e0e1b54100749188c20beb3f5e"),
		Entry("first character changed", "7c5c811b55cc85e0e1b54100749188c20beb3f5d"),
		Entry("uppercase", strings.ToUpper(want)),
		Entry("truncated", want[:39]),
		Entry("with a trailing newline", want+"\n"),
	)

	It("does not take one kind of signature for the other", func() {
		Expect(wxcrypto.VerifySignature(token, timestamp, nonce, wantMsg)).To(BeFalse())
		Expect(wxcrypto.VerifyMsgSignature(token, timestamp, nonce, encryptA, want)).To(BeFalse())
		Expect(wxcrypto.VerifySignature(token, timestamp, nonce, want)).To(BeTrue())
	})

	It("VerifyMsgSignature refuses a signature over a different Encrypt", func() {
		Expect(wxcrypto.VerifyMsgSignature(token, timestamp, nonce, encryptA[1:], wantMsg)).To(BeFalse())
		Expect(wxcrypto.VerifyMsgSignature(token, timestamp, nonce, encryptA, wantMsg)).To(BeTrue())
	})
})
