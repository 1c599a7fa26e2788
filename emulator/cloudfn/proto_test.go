package cloudfn_test

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/cloudfn"
)

// The files in testdata/proto are what the real wx-server-sdk wrote (1.8.3, 2.6.3, 4.0.2);
// testdata/capture.js says how to capture them again.
func captured(name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", "proto", name+".bin"))
	Expect(err).NotTo(HaveOccurred(), "recapture with: node emulator/cloudfn/testdata/capture.js fixtures/functions/image sdk4 (see its header)")
	return b
}

func pair(key, value string) cloudfn.Pair { return cloudfn.Pair{Key: key, Value: []byte(value)} }

var png = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}

// The calls of capture.js and the requestData each makes.
var sdkCalls = map[string]cloudfn.APIData{
	"send": {Pairs: []cloudfn.Pair{pair("touser", `"oUser"`), pair("msgtype", `"text"`), pair("text", `{"content":"收到：你好"}`)}},
	"send-miniprogrampage": {Pairs: []cloudfn.Pair{pair("touser", `"oUser"`), pair("msgtype", `"miniprogrampage"`),
		pair("miniprogrampage", `{"title":"T","pagepath":"pages/index","thumb_media_id":"THUMB"}`)}},
	"setTyping": {Pairs: []cloudfn.Pair{pair("touser", `"oUser"`), pair("command", `"Typing"`)}},
	// The SDK loses the media's content type: it sets contentType, the field is contenttype.
	"uploadTempMedia": {Pairs: []cloudfn.Pair{pair("type", `"image"`), {Key: "media", Value: png, Filename: "media.png"}}},
	"getTempMedia":    {Pairs: []cloudfn.Pair{pair("media_id", `"MEDIA_ID"`)}},
}

var _ = Describe("The tcb gateway's protobuf", func() {
	DescribeTable("reads the requestData of every customerServiceMessage call",
		func(sdk string) {
			for call, want := range sdkCalls {
				got, err := cloudfn.DecodeAPIData(captured(sdk + "-" + call))
				Expect(err).NotTo(HaveOccurred(), call)
				Expect(got).To(Equal(want), call)
			}
		},
		Entry("wx-server-sdk 4.0.2", "sdk4"),
		Entry("wx-server-sdk 2.6.3", "sdk2"),
		Entry("wx-server-sdk 1.8.3", "sdk1"),
	)

	It("writes a requestData byte for byte as the SDK does", func() {
		for call, d := range sdkCalls {
			Expect(d.Append(nil)).To(Equal(captured("sdk4-"+call)), call)
		}
	})

	It("writes CommOpenApiResp byte for byte as the SDK's protobuf library does", func() {
		answers := map[string]cloudfn.OpenAPIResp{
			"resp-ok":     {RespData: []byte(`{"errcode":0,"errmsg":"ok"}`), ContentType: "application/json", HTTPCode: 200},
			"resp-noperm": {ErrorCode: -604101, HTTPCode: 200},
			"resp-media":  {RespData: png, ContentType: "image/png", HTTPCode: 200},
		}
		for name, r := range answers {
			Expect(r.Append(nil)).To(Equal(captured("sdk4-"+name)), name)
			for _, sdk := range []string{"sdk4", "sdk2", "sdk1"} {
				back, err := cloudfn.DecodeOpenAPIResp(captured(sdk + "-" + name))
				Expect(err).NotTo(HaveOccurred())
				if len(r.RespData) == 0 {
					back.RespData = nil
				}
				Expect(back).To(Equal(r), sdk+"-"+name)
			}
		}
	})

	It("writes a negative errorCode as protobuf's ten-byte varint", func() {
		b := cloudfn.OpenAPIResp{ErrorCode: -1}.Append(nil)
		back, err := cloudfn.DecodeOpenAPIResp(b)
		Expect(err).NotTo(HaveOccurred())
		Expect(back.ErrorCode).To(BeEquivalentTo(-1))
	})

	It("refuses what is not a CommApiData", func() {
		_, err := cloudfn.DecodeAPIData([]byte(`{"touser":"o"}`))
		Expect(err).To(MatchError(ContainSubstring("not a CommApiData protobuf")))
		_, err = cloudfn.DecodeAPIData([]byte{0x12, 0x05, 0x0a})
		Expect(err).To(HaveOccurred(), "a length past the end")
	})
})
