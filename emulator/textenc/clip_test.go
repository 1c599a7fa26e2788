package textenc_test

import (
	"strings"
	"unicode/utf8"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/textenc"
)

var _ = Describe("Clip", func() {
	DescribeTable("keeps at most n characters and marks the cut",
		func(s string, n int, want string) {
			Expect(textenc.Clip(s, n)).To(Equal(want))
		},
		Entry("short enough", "hello", 5, "hello"),
		Entry("empty", "", 3, ""),
		Entry("ASCII", "hello world", 5, "hello…"),
		Entry("Chinese counts characters, not bytes", "你好世界和平", 4, "你好世界…"),
		Entry("mixed", "a你b好c", 3, "a你b…"),
		Entry("n of 0", "hi", 0, "…"),
		Entry("a byte that is not UTF-8 counts as one and is kept", "\xffab", 2, "\xffa…"),
	)
})

var _ = Describe("ClipBody", func() {
	It("keeps a body that fits as it is", func() {
		Expect(textenc.ClipBody([]byte("<xml/>"), 6)).To(Equal("<xml/>"))
		Expect(textenc.ClipBody("<xml/>", 100)).To(Equal("<xml/>"))
	})

	It("cuts at n bytes and says how long the body was", func() {
		Expect(textenc.ClipBody(strings.Repeat("a", 10), 4)).To(Equal("aaaa… (10 bytes in all)"))
	})

	It("never cuts through a character", func() {
		s := textenc.ClipBody([]byte("ab你好"), 4) // 你 is bytes 2..4
		Expect(s).To(Equal("ab… (8 bytes in all)"))
		Expect(utf8.ValidString(s)).To(BeTrue())
	})

	It("does not eat a binary body of continuation bytes", func() {
		Expect(textenc.ClipBody(strings.Repeat("\x80", 100), 50)).To(HavePrefix(strings.Repeat("\x80", 47) + "…"))
	})
})
