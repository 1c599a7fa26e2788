package push_test

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/wire"
	"github.com/wxemu/wxemu/emulator/wxcrypto"
	"github.com/wxemu/wxemu/fixtures/bots"
)

// BenchmarkPush measures a push round trip with the full verdict against the correct bot, in
// plaintext and safe mode, and a bare loop that only signs, POSTs and parses the reply — the
// floor any push costs. `make bench` reports plain/baseline and safe/plain.
func BenchmarkPush(b *testing.B) {
	h, err := bots.New("oa", bots.Config{Token: token, EncodingAESKey: aesKey, AppID: appID})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	u := srv.URL + "/wx"

	b.Run("baseline", func(b *testing.B) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
		defer client.CloseIdleConnections()
		m := &wire.Message{ToUserName: originalID, FromUserName: openID, CreateTime: time.Now().Unix(), MsgType: "text", Content: "hi", MsgId: 1}
		body := m.AppendXML(nil)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			bareRoundTrip(b, client, u, body, i)
		}
	})
	for _, mode := range []wire.Mode{wire.Plain, wire.Safe} {
		b.Run(string(mode), func(b *testing.B) {
			e := push.New(push.Config{Clock: clock.Real{}})
			defer e.Close()
			t, err := push.NewTarget(push.App{Kind: wire.OA, AppID: appID, OriginalID: originalID, Token: token, EncodingAESKey: aesKey, Mode: mode, URL: u})
			if err != nil {
				b.Fatal(err)
			}
			m := &wire.Message{FromUserName: openID, MsgType: "text", Content: "hi"}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if res := e.Push(ctx, t, m); res.Outcome != push.Replied || len(res.Violations) != 0 {
					b.Fatalf("outcome %s, violations %v", res.Outcome, res.Violations)
				}
			}
		})
	}
}

// BenchmarkPushInterleaved runs the bare loop, a plaintext push and a safe-mode push in turn in
// every iteration, so that a noisy shared machine slows all three alike, and reports the
// throughput ratios the targets are about: plain vs the bare loop (target >= 90 %) and safe vs
// plain (target >= 75 %).
func BenchmarkPushInterleaved(b *testing.B) {
	// The bot draws the random prefix of its encrypted replies from a seeded stream, as the
	// engine does, so that safe mode measures encryption rather than a system call per reply.
	h, err := bots.New("oa", bots.Config{Token: token, EncodingAESKey: aesKey, AppID: appID, Random: rand.NewChaCha8([32]byte{3})})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	u := srv.URL + "/wx"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()
	bare := &wire.Message{ToUserName: originalID, FromUserName: openID, CreateTime: time.Now().Unix(), MsgType: "text", Content: "hi", MsgId: 1}
	body := bare.AppendXML(nil)
	e := push.New(push.Config{Clock: clock.Real{}})
	defer e.Close()
	targets := map[wire.Mode]*push.Target{}
	for _, mode := range []wire.Mode{wire.Plain, wire.Safe} {
		t, err := push.NewTarget(push.App{Kind: wire.OA, AppID: appID, OriginalID: originalID, Token: token, EncodingAESKey: aesKey, Mode: mode, URL: u})
		if err != nil {
			b.Fatal(err)
		}
		targets[mode] = t
	}
	m := &wire.Message{FromUserName: openID, MsgType: "text", Content: "hi"}
	ctx := context.Background()
	var tBare, tPlain, tSafe time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := clock.Real{}.Now()
		bareRoundTrip(b, client, u, body, i)
		tBare += clock.Since(start)

		start = clock.Real{}.Now()
		if res := e.Push(ctx, targets[wire.Plain], m); res.Outcome != push.Replied {
			b.Fatalf("plain: %s %v", res.Outcome, res.Violations)
		}
		tPlain += clock.Since(start)

		start = clock.Real{}.Now()
		if res := e.Push(ctx, targets[wire.Safe], m); res.Outcome != push.Replied {
			b.Fatalf("safe: %s %v", res.Outcome, res.Violations)
		}
		tSafe += clock.Since(start)
	}
	b.ReportMetric(float64(tBare.Nanoseconds())/float64(b.N), "bare-ns/push")
	b.ReportMetric(float64(tPlain.Nanoseconds())/float64(b.N), "plain-ns/push")
	b.ReportMetric(float64(tSafe.Nanoseconds())/float64(b.N), "safe-ns/push")
	b.ReportMetric(100*float64(tBare)/float64(tPlain), "plain-vs-bare-%")
	b.ReportMetric(100*float64(tPlain)/float64(tSafe), "safe-vs-plain-%")
}

// bareRoundTrip is the floor of a push: sign, POST a ready body, read and parse the reply.
func bareRoundTrip(b *testing.B, client *http.Client, u string, body []byte, i int) {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	nonce := strconv.Itoa(i)
	q := u + "?signature=" + wxcrypto.Signature(token, ts, nonce) + "&timestamp=" + ts + "&nonce=" + nonce + "&openid=" + url.QueryEscape(openID)
	resp, err := client.Post(q, "text/xml; charset=utf-8", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := wire.ParseReply(data, wire.XML); err != nil {
		b.Fatal(err)
	}
}
