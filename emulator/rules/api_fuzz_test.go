package rules_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/wire"
)

// FuzzCheckCustomSend checks, for both kinds of app, that any body is either rejected with an
// errcode of the send API or accepted as a message that reads back the same after json.Marshal.
func FuzzCheckCustomSend(f *testing.F) {
	for _, ex := range sendExamples {
		f.Add([]byte(ex.body))
	}
	for _, body := range []string{
		``, `{}`, `[]`, `null`, `{"touser":"OPENID","msgtype":"text","text":{"content":5}}`,
		`{"touser":"OPENID","msgtype":"text","text":{"content":"\u003ca href=\"u\"\u003e好\u003c/a\u003e\n"},"businessid":12}`,
		`{"touser":"OPENID","msgtype":"news","news":{"articles":[{"title":"a"},{"title":"b"}]}}`,
		`{"touser":"A","touser":"B","msgtype":"msgmenu","msgmenu":{"list":[{"id":"1","content":"是"}],"tail_content":"x"}}`,
	} {
		f.Add([]byte(body))
	}
	codes := map[int]bool{40003: true, 40008: true, 41006: true, 44002: true, 44003: true, 44004: true,
		45002: true, 45008: true, 45098: true, 45099: true, 47001: true}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, kind := range []wire.Kind{wire.OA, wire.MP} {
			s, aerr := rules.CheckCustomSend(kind, body, rules.SendLimits{})
			if aerr != nil {
				if s != nil {
					t.Fatalf("%s: both a message and an error %v", kind, aerr)
				}
				if !codes[aerr.Code] || aerr.Detail == "" {
					t.Fatalf("%s: unexpected error %v", kind, aerr)
				}
				continue
			}
			if s == nil || s.ToUser == "" || s.MsgType == "" {
				t.Fatalf("%s: accepted %q as %+v", kind, body, s)
			}
			if r := s.Render(); strings.ContainsAny(r, "\r\n") {
				t.Fatalf("%s: Render is not one line: %q", kind, r)
			}
			again, err := json.Marshal(s)
			if err != nil {
				t.Fatalf("%s: marshal: %v", kind, err)
			}
			s2, aerr := rules.CheckCustomSend(kind, again, rules.SendLimits{})
			if aerr != nil {
				t.Fatalf("%s: %q accepted, but its marshalled form %s is rejected: %v", kind, body, again, aerr)
			}
			if again2, _ := json.Marshal(s2); string(again2) != string(again) {
				t.Fatalf("%s: %q does not read back: %s then %s", kind, body, again, again2)
			}
		}
	})
}
