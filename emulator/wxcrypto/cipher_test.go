package wxcrypto_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/wxcrypto"
)

const (
	keyA   = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	appIDA = "wxba5fad812f8e6fb9"
	keyB   = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	// encryptA is vector A's inbound Encrypt (protocol §1.7 A).
	encryptA = "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04="
)

// plaintext builds random16 ‖ msg_len ‖ body, where body is whatever a spec needs after msg_len.
func plaintext(msgLen uint32, body string) []byte {
	p := []byte("0123456789abcdef")
	p = binary.BigEndian.AppendUint32(p, msgLen)
	return append(p, body...)
}

func padded(p []byte, pad int) []byte {
	return append(p, bytes.Repeat([]byte{byte(pad)}, pad)...)
}

var _ = Describe("NewCipher", func() {
	DescribeTable("rejects a key that is not 43 characters of base64",
		func(key, why string) {
			c, err := wxcrypto.NewCipher(key, appIDA)
			Expect(err).To(MatchError(wxcrypto.ErrAESKey))
			Expect(err).To(MatchError(ContainSubstring(why)))
			Expect(c).To(BeNil())
		},
		Entry("empty", "", "has 0 characters, want 43"),
		Entry("42 characters", keyA[:42], "has 42 characters, want 43"),
		Entry("44 characters", keyA+"A", "has 44 characters, want 43"),
		Entry("with the '=' already on", keyA+"=", "has 44 characters, want 43"),
		Entry("a character outside base64", keyA[:42]+"!", "is not base64"),
		Entry("URL-safe base64", keyA[:42]+"-", "is not base64"),
		Entry("43 characters, one of them not ASCII", keyA[:42]+"é", "outside base64"),
		Entry("a line break inside", keyA[:21]+"\n"+keyA[:21], "is not base64"),
		Entry("42 characters and an '='", keyA[:42]+"=", "decodes to 31 bytes, want 32"),
	)

	It("accepts a key whose last character has stray low bits, as every SDK does", func() {
		// Vector C's key ends in 'R', which carries bits that a strict decoder would refuse.
		_, err := wxcrypto.NewCipher("kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "wx49f0ab532d5d035a")
		Expect(err).NotTo(HaveOccurred())
	})

	It("remembers the appid", func() {
		c, err := wxcrypto.NewCipher(keyA, appIDA)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.AppID()).To(Equal(appIDA))
	})
})

var _ = Describe("Cipher", func() {
	var (
		c   *wxcrypto.Cipher
		key []byte
		rng *rand.Rand
	)

	BeforeEach(func() {
		var err error
		c, err = wxcrypto.NewCipher(keyA, appIDA)
		Expect(err).NotTo(HaveOccurred())
		key = aesKey(keyA)
		seed := uint64(GinkgoRandomSeed())
		rng = rand.New(rand.NewPCG(seed, seed))
	})

	randomBytes := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}

	Describe("Encrypt", func() {
		It("refuses a random prefix that is not 16 bytes", func() {
			for _, n := range []int{0, 15, 17} {
				s, err := c.Encrypt(make([]byte, n), []byte("hi"))
				Expect(err).To(MatchError(wxcrypto.ErrRandom16))
				Expect(err).To(MatchError(ContainSubstring("want 16")))
				Expect(s).To(BeEmpty())
			}
		})

		It("round-trips messages of 0..100 bytes, through every padding length", func() {
			pads := map[int]bool{}
			for n := 0; n <= 100; n++ {
				random16, msg := randomBytes(16), randomBytes(n)
				encrypt, err := c.Encrypt(random16, msg)
				Expect(err).NotTo(HaveOccurred())
				Expect(encrypt).To(Equal(refEncrypt(key, random16, msg, appIDA)), "length %d", n)

				raw, err := rawDecrypt(key, encrypt)
				Expect(err).NotTo(HaveOccurred())
				Expect(len(raw) % 32).To(BeZero())
				pad := int(raw[len(raw)-1])
				Expect(pad).To(Equal(32-(20+n+len(appIDA))%32), "length %d", n)
				Expect(raw[:16]).To(Equal(random16))
				pads[pad] = true

				got, appID, err := c.Decrypt(encrypt)
				Expect(err).NotTo(HaveOccurred())
				Expect(got).To(Equal(msg))
				Expect(appID).To(Equal(appIDA))
			}
			Expect(pads).To(HaveLen(32))
			Expect(pads).To(HaveKey(32), "a plaintext already a multiple of 32 gets a whole 32-byte pad block")
		})

		It("matches the reference on messages longer than its internal chunk", func() {
			for _, n := range []int{300, 345, 346, 347, 348, 364, 365, 366, 1000, 4096, 70000} {
				random16, msg := randomBytes(16), randomBytes(n)
				Expect(c.Encrypt(random16, msg)).To(Equal(refEncrypt(key, random16, msg, appIDA)), "length %d", n)
			}
		})

		It("round-trips an empty appid and a non-ASCII one", func() {
			for _, appID := range []string{"", "应用\x00id"} {
				other, err := wxcrypto.NewCipher(keyA, appID)
				Expect(err).NotTo(HaveOccurred())
				encrypt, err := other.Encrypt(randomBytes(16), []byte("<xml/>"))
				Expect(err).NotTo(HaveOccurred())
				msg, got, err := other.Decrypt(encrypt)
				Expect(err).NotTo(HaveOccurred())
				Expect(string(msg)).To(Equal("<xml/>"))
				Expect(got).To(Equal(appID))
			}
		})

		It("is safe to share between goroutines", func() {
			var wg sync.WaitGroup
			for g := range 8 {
				msg := []byte(strings.Repeat(string(rune('a'+g)), 100+g))
				random16 := bytes.Repeat([]byte{byte(g)}, 16)
				wg.Go(func() {
					defer GinkgoRecover()
					for range 200 {
						encrypt, err := c.Encrypt(random16, msg)
						Expect(err).NotTo(HaveOccurred())
						got, _, err := c.Decrypt(encrypt)
						Expect(err).NotTo(HaveOccurred())
						Expect(got).To(Equal(msg))
					}
				})
			}
			wg.Wait()
		})
	})

	Describe("Decrypt", func() {
		It("caps msg so appending to it cannot reach the appid", func() {
			msg, _, err := c.Decrypt(encryptA)
			Expect(err).NotTo(HaveOccurred())
			Expect(cap(msg)).To(Equal(len(msg)))
		})

		DescribeTable("rejects Encrypt that is not base64",
			func(encrypt string) {
				msg, appID, err := c.Decrypt(encrypt)
				Expect(err).To(MatchError(wxcrypto.ErrBase64))
				Expect(err).To(MatchError(HavePrefix("decrypt: Encrypt is not base64")))
				Expect(msg).To(BeNil())
				Expect(appID).To(BeEmpty())
			},
			Entry("punctuation", "not base64!"),
			Entry("URL-safe alphabet", strings.ReplaceAll(encryptA, "+", "-")),
			Entry("missing padding", strings.TrimSuffix(encryptA, "=")),
			Entry("a space inside", encryptA[:8]+" "+encryptA[8:]),
		)

		DescribeTable("rejects a ciphertext that is not whole AES blocks",
			func(n int, want string) {
				_, _, err := c.Decrypt(base64.StdEncoding.EncodeToString(make([]byte, n)))
				Expect(err).To(MatchError(wxcrypto.ErrCiphertext))
				Expect(err).To(MatchError(ContainSubstring(want)))
			},
			Entry("empty", 0, "ciphertext is 0 bytes, want a positive multiple of 16"),
			Entry("one byte", 1, "ciphertext is 1 bytes"),
			Entry("one byte short of a block", 15, "ciphertext is 15 bytes"),
			Entry("one byte over a block", 17, "ciphertext is 17 bytes"),
			Entry("one byte short of two pad blocks", 63, "ciphertext is 63 bytes"),
		)

		DescribeTable("rejects bad padding",
			func(plain []byte, want string) {
				_, _, err := c.Decrypt(rawEncrypt(key, plain))
				Expect(err).To(MatchError(wxcrypto.ErrPadding))
				Expect(err).To(MatchError(ContainSubstring(want)))
			},
			Entry("pad byte 0", append(plaintext(3, "abc"), make([]byte, 9)...), "decrypt: pad byte 0 is outside 1..32"),
			Entry("pad byte 33", append(plaintext(0, ""), bytes.Repeat([]byte{33}, 12)...), "decrypt: pad byte 33 is outside 1..32"),
			Entry("pad byte 45", append(plaintext(0, ""), bytes.Repeat([]byte{45}, 12)...), "decrypt: pad byte 45 is outside 1..32"),
			Entry("pad bytes that disagree", append(plaintext(3, "abc"), 9, 9, 9, 9, 9, 9, 9, 9, 7), "the last byte says 7 bytes of padding, but byte 7 from the end is 9"),
			Entry("pad bytes that disagree at the start", append(plaintext(3, "abc"), 8, 9, 9, 9, 9, 9, 9, 9, 9), "the last byte says 9 bytes of padding, but byte 9 from the end is 8"),
			Entry("padding longer than the plaintext", bytes.Repeat([]byte{32}, 16), "pad byte 32 is more than the 16-byte plaintext"),
		)

		It("reports a wrong key as bad padding", func() {
			other, err := wxcrypto.NewCipher(keyB, appIDA)
			Expect(err).NotTo(HaveOccurred())
			_, _, err = other.Decrypt(encryptA)
			Expect(err).To(MatchError(wxcrypto.ErrPadding))
			Expect(err).To(MatchError(ContainSubstring("EncodingAESKey")))
		})

		DescribeTable("rejects a plaintext that does not hold its message",
			func(plain []byte, want string) {
				_, _, err := c.Decrypt(rawEncrypt(key, plain))
				Expect(err).To(MatchError(wxcrypto.ErrPlaintext))
				Expect(err).To(MatchError(ContainSubstring(want)))
			},
			Entry("too short for random16 and msg_len",
				padded([]byte("0123456789abcdef\x00\x00"), 14), "plaintext is 18 bytes, too short for random16 and msg_len (20)"),
			Entry("nothing but padding",
				padded(nil, 32), "plaintext is 0 bytes"),
			Entry("msg_len past the end",
				padded(plaintext(1000, "short"+appIDA), 5), "msg_len 1000 is more than the 23 bytes after it"),
			Entry("msg_len at its maximum",
				padded(plaintext(0xFFFFFFFF, appIDA), 26), "msg_len 4294967295 is more than the 18 bytes after it"),
			Entry("msg_len one past the end",
				padded(plaintext(uint32(len(appIDA)+1), appIDA), 26), "msg_len 19 is more than the 18 bytes after it"),
		)

		It("rejects a message for another app, naming both appids, and still returns it", func() {
			other, err := wxcrypto.NewCipher(keyA, "wxotherapp0000000")
			Expect(err).NotTo(HaveOccurred())
			encrypt, err := other.Encrypt(randomBytes(16), []byte("hello"))
			Expect(err).NotTo(HaveOccurred())

			msg, appID, err := c.Decrypt(encrypt)
			Expect(err).To(MatchError(wxcrypto.ErrAppID))
			Expect(err).To(MatchError(`decrypt: message is for appid "wxotherapp0000000", this cipher is for "wxba5fad812f8e6fb9": appid mismatch`))
			Expect(string(msg)).To(Equal("hello"))
			Expect(appID).To(Equal("wxotherapp0000000"))
		})

		It("rejects a message with no appid after it", func() {
			_, appID, err := c.Decrypt(rawEncrypt(key, padded(plaintext(5, "hello"), 7)))
			Expect(err).To(MatchError(wxcrypto.ErrAppID))
			Expect(err).To(MatchError(ContainSubstring(`message is for appid "", this cipher is for "wxba5fad812f8e6fb9"`)))
			Expect(appID).To(BeEmpty())
		})

		It("accepts a padding WeChat would not produce but PKCS#7 allows", func() {
			// 16-byte aligned rather than 32: senders that pad to AES's block size still decrypt.
			plain := plaintext(2, "hi"+appIDA)
			plain = padded(plain, 16-len(plain)%16)
			Expect(len(plain) % 32).NotTo(BeZero())
			msg, appID, err := c.Decrypt(rawEncrypt(key, plain))
			Expect(err).NotTo(HaveOccurred())
			Expect(string(msg)).To(Equal("hi"))
			Expect(appID).To(Equal(appIDA))
		})
	})
})
