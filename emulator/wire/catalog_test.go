package wire_test

import (
	"encoding/json"
	"regexp"
	"sort"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/wire"
)

var _ = Describe("errcode catalog", func() {
	DescribeTable("has the server's exact text",
		func(code int, text string) {
			got, ok := wire.Errmsg(code)
			Expect(ok).To(BeTrue())
			Expect(got).To(Equal(text))
		},
		Entry(nil, wire.CodeSystemError, "system error"),
		Entry(nil, wire.CodeOK, "ok"),
		Entry(nil, 40001, "invalid credential, access_token is invalid or not latest"),
		Entry(nil, 40003, "invalid openid"),
		Entry(nil, 40006, "invalid meida size"),
		Entry(nil, 40066, "invalid url"),
		Entry(nil, 40125, "invalid appsecret, view more at http://t.cn/RAEkdVq"),
		Entry(nil, wire.CodeAccessTokenMissing, "access_token missing"),
		Entry(nil, 41006, "media_id missing"),
		Entry(nil, 43004, "require subscribe"),
		Entry(nil, wire.CodeOutOfTimeLimit, "response out of time limit or subscription is canceled"),
		Entry(nil, wire.CodeOutOfResponseCount, "out of response count limit"),
		Entry(nil, 45080, "need sending message to user, or recving message from user in the last 30 seconds before typing"),
		Entry(nil, 45094, "not allow to send custom message when user enter session, for punishment"),
		Entry(nil, 46001, "media data no exist"),
		Entry(nil, 48002, "user block receive message"),
		Entry(nil, 48008, "no permission for this msgtype"),
		Entry(nil, 50005, "user is unsubscribed"),
		Entry(nil, 61450, "system error"),
		Entry(nil, 61453, "kf_account exsited"),
		Entry(nil, 61454, "invalid kf_acount length"),
		Entry(nil, 65416, "param invalid, please check"),
		Entry(nil, -604101, "function has no permission to call this API"),
	)

	It("has no text for codes no source confirms", func() {
		for _, code := range []int{40243, 45037, 45038, 70000, 85107, 85113, -604100, 12345} {
			_, ok := wire.Errmsg(code)
			Expect(ok).To(BeFalse(), "%d", code)
		}
	})

	It("lists its codes in order, each with a lowercase text", func() {
		codes := wire.Codes()
		Expect(len(codes)).To(BeNumerically(">", 80))
		Expect(sort.IntsAreSorted(codes)).To(BeTrue())
		Expect(codes).To(ContainElements(-604101, -1, 0, 40001, 45015, 45047, 65417))
		for _, c := range codes {
			text, ok := wire.Errmsg(c)
			Expect(ok).To(BeTrue())
			Expect(text).NotTo(BeEmpty())
		}
		codes[0] = 7
		Expect(wire.Codes()[0]).To(Equal(-604101), "Codes returns a copy")
	})

	Describe("Rid", func() {
		It("writes the unix time and two random values in unpadded lowercase hex", func() {
			Expect(wire.Rid(time.Unix(0x66f3bd4d, 0), 0x25a283a9, 0x73c6a452)).To(Equal("66f3bd4d-25a283a9-73c6a452"))
			Expect(wire.Rid(time.Unix(0x66f3bd4d, 999), 0x446a67a, 0)).To(Equal("66f3bd4d-446a67a-0"))
			Expect(wire.Rid(time.Date(2024, 9, 25, 7, 35, 41, 0, time.UTC), 1, 0xffffffff)).To(Equal("66f3bd4d-1-ffffffff"))
		})
	})

	Describe("ErrorBody", func() {
		It("appends the errcode, the text and the rid", func() {
			Expect(string(wire.ErrorBody(nil, wire.CodeInvalidOpenID, "66f3bd4d-25a283a9-73c6a452"))).
				To(Equal(`{"errcode":40003,"errmsg":"invalid openid rid: 66f3bd4d-25a283a9-73c6a452"}`))
			Expect(string(wire.ErrorBody([]byte("x"), wire.CodeOutOfTimeLimit, "1-2-3"))).
				To(Equal(`x{"errcode":45015,"errmsg":"response out of time limit or subscription is canceled rid: 1-2-3"}`))
		})

		It("writes ok without a rid, and no suffix for an empty rid", func() {
			Expect(string(wire.ErrorBody(nil, 0, "1-2-3"))).To(Equal(`{"errcode":0,"errmsg":"ok"}`))
			Expect(string(wire.ErrorBody(nil, -1, ""))).To(Equal(`{"errcode":-1,"errmsg":"system error"}`))
		})

		It("writes an empty errmsg for a code outside the catalog", func() {
			Expect(string(wire.ErrorBody(nil, 12345, "1-2-3"))).To(Equal(`{"errcode":12345,"errmsg":""}`))
		})

		It("writes valid JSON whatever the text", func() {
			body := wire.AppendErrorBody(nil, wire.CodeIPNotInWhitelist, wire.InvalidIPErrmsg("1.2.3.4"), `"odd\rid"`)
			var v struct {
				Errcode int
				Errmsg  string
			}
			Expect(json.Unmarshal(body, &v)).To(Succeed())
			Expect(v.Errcode).To(Equal(40164))
			Expect(v.Errmsg).To(Equal(`invalid ip 1.2.3.4 ipv6 ::ffff:1.2.3.4, not in whitelist rid: "odd\rid"`))
		})

		It("matches the modern suffix format", func() {
			rid := wire.Rid(time.Unix(1714112446, 0), 0xabc, 0x1234567)
			Expect(string(wire.ErrorBody(nil, wire.CodeOutOfResponseCount, rid))).
				To(MatchRegexp(`^\{"errcode":45047,"errmsg":"out of response count limit rid: [0-9a-f]+-[0-9a-f]+-[0-9a-f]+"\}$`))
			Expect(regexp.MustCompile(`^[0-9a-f]{1,8}(-[0-9a-f]{1,8}){2}$`).MatchString(rid)).To(BeTrue())
		})
	})
})
