package wire_test

import (
	"testing"

	"github.com/wxemu/wxemu/emulator/wire"
)

var benchText = wire.Message{ToUserName: "gh_97417a04a28d", FromUserName: "oUserOpenId_abcdefghijklmnop", CreateTime: 1714112446,
	MsgType: "text", Content: "你好，我想转人工客服 please", MsgId: 23637352235060880}

func BenchmarkMessageAppendXML(b *testing.B) {
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = benchText.AppendXML(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkMessageAppendJSON(b *testing.B) {
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = benchText.AppendJSON(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkParseMessage(b *testing.B) {
	for _, f := range []wire.Format{wire.XML, wire.JSON} {
		body := benchText.AppendXML(nil)
		if f == wire.JSON {
			body = benchText.AppendJSON(nil)
		}
		b.Run(string(f), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := wire.ParseMessage(body, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

var benchReply = wire.Reply{ToUserName: "oUserOpenId_abcdefghijklmnop", FromUserName: "gh_97417a04a28d", CreateTime: 1714112446,
	MsgType: wire.ReplyText, Content: "您好，已为您转接人工客服，请稍候。"}

func BenchmarkParseReplyXML(b *testing.B) {
	body := benchReply.AppendXML(nil)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := wire.ParseReply(body, wire.XML); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseReplyXMLDecoder is the same reply read by encoding/xml alone, the way taken for
// documents the fast reader leaves to it: the yardstick for the fast reader.
func BenchmarkParseReplyXMLDecoder(b *testing.B) {
	body := benchReply.AppendXML(nil)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := wire.ParseXMLSlow(body, true); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseReplyJSON(b *testing.B) {
	body := benchReply.AppendJSON(nil)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := wire.ParseReply(body, wire.JSON); err != nil {
			b.Fatal(err)
		}
	}
}
