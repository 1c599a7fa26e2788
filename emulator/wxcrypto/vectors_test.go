package wxcrypto_test

import (
	"encoding/binary"
	"encoding/xml"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/wxcrypto"
)

var _ = Describe("golden vectors", func() {
	vectors := loadVectors()

	Describe("Signature", func() {
		for _, v := range vectors.Signatures {
			It("reproduces "+v.Name+" ("+v.Source+")", func() {
				Expect(wxcrypto.Signature(v.Token, v.Timestamp, v.Nonce)).To(Equal(v.Signature))
				Expect(wxcrypto.VerifySignature(v.Token, v.Timestamp, v.Nonce, v.Signature)).To(BeTrue())
			})
		}
	})

	for _, v := range vectors.Messages {
		Describe(v.Name+" ("+v.Source+")", func() {
			var (
				c   *wxcrypto.Cipher
				key []byte
			)

			BeforeEach(func() {
				var err error
				c, err = wxcrypto.NewCipher(v.EncodingAESKey, v.AppID)
				Expect(err).NotTo(HaveOccurred())
				key = aesKey(v.EncodingAESKey)
			})

			It("has the msg_signature", func() {
				Expect(wxcrypto.MsgSignature(v.Token, v.Timestamp, v.Nonce, v.Encrypt)).To(Equal(v.MsgSignature))
				Expect(wxcrypto.VerifyMsgSignature(v.Token, v.Timestamp, v.Nonce, v.Encrypt, v.MsgSignature)).To(BeTrue())
			})

			It("decrypts to the message and appid", func() {
				msg, appID, err := c.Decrypt(v.Encrypt)
				Expect(err).NotTo(HaveOccurred())
				Expect(appID).To(Equal(v.AppID))
				if v.Msg != nil {
					Expect(string(msg)).To(Equal(*v.Msg))
				}
				if v.MsgFields != nil {
					var fields struct {
						Content      string `xml:"Content"`
						FromUserName string `xml:"FromUserName"`
						MsgID        string `xml:"MsgId"`
					}
					Expect(xml.Unmarshal(msg, &fields)).To(Succeed())
					Expect(map[string]string{
						"Content":      fields.Content,
						"FromUserName": fields.FromUserName,
						"MsgId":        fields.MsgID,
					}).To(Equal(v.MsgFields))
				}
			})

			It("lays the plaintext out as random16, msg_len, msg, appid", func() {
				raw, err := rawDecrypt(key, v.Encrypt)
				Expect(err).NotTo(HaveOccurred())
				if v.CipherLen != 0 {
					Expect(raw).To(HaveLen(v.CipherLen))
				}
				if v.Random16 != "" {
					Expect(string(raw[:16])).To(Equal(v.Random16))
				}
				msg, _, err := c.Decrypt(v.Encrypt)
				Expect(err).NotTo(HaveOccurred())
				msgLen := int(binary.BigEndian.Uint32(raw[16:20]))
				Expect(msgLen).To(Equal(len(msg)))
				if v.MsgLen != 0 {
					Expect(msgLen).To(Equal(v.MsgLen))
				}
				plainLen := 20 + msgLen + len(v.AppID)
				if v.PlainLen != 0 {
					Expect(plainLen).To(Equal(v.PlainLen))
				}
				Expect(string(raw[20+msgLen : plainLen])).To(Equal(v.AppID))
			})

			It("re-encrypts to the same Encrypt", func() {
				random16 := []byte(v.Random16)
				if v.Random16 == "" {
					raw, err := rawDecrypt(key, v.Encrypt)
					Expect(err).NotTo(HaveOccurred())
					random16 = raw[:16]
				}
				var msg []byte
				if v.Msg != nil {
					msg = []byte(*v.Msg)
				} else {
					var err error
					msg, _, err = c.Decrypt(v.Encrypt)
					Expect(err).NotTo(HaveOccurred())
				}
				Expect(c.Encrypt(random16, msg)).To(Equal(v.Encrypt))
			})

			if v.ReplyXML != "" {
				It("builds the source's reply envelope", func() {
					msg := []byte(*v.Msg)
					encrypt, err := c.Encrypt([]byte(v.Random16), msg)
					Expect(err).NotTo(HaveOccurred())
					sig := wxcrypto.MsgSignature(v.Token, v.Timestamp, v.Nonce, encrypt)
					got := wxcrypto.AppendReplyXML(nil, encrypt, sig, v.Timestamp, v.Nonce)
					// The source pretty-prints with a newline after each element; nothing else differs.
					Expect(string(got)).To(Equal(strings.ReplaceAll(v.ReplyXML, "\n", "")))
				})
			}
		})
	}

	It("gives the B video reply the Encrypt prefix quoted in the protocol reference", func() {
		const prefix = "jn1L23DB+6ELqJ+6bruv23M2GmYfkv0x"
		var v messageVector
		for _, m := range vectors.Messages {
			if m.Name == "B: video XML reply" {
				v = m
			}
		}
		Expect(v.Msg).NotTo(BeNil(), "testdata/vectors.json has no row %q", "B: video XML reply")
		c, err := wxcrypto.NewCipher(v.EncodingAESKey, v.AppID)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Encrypt([]byte(v.Random16), []byte(*v.Msg))).To(HavePrefix(prefix))
	})
})
