package cloudfn

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/wire"
)

// benchWorld is the demo platform with the fixture function kf of the demo Mini Program, its
// gateway served on loopback through a wrapper that adds up the time wxemu's handler takes.
type benchWorld struct {
	p       *platform.Platform
	h       *Host
	gateway atomic.Int64 // nanoseconds spent in the gateway's handler, summed
	calls   atomic.Int64 // requests the gateway served
}

func newBenchWorld(b *testing.B) *benchWorld {
	b.Helper()
	dir := filepath.Join("..", "..", "fixtures", "functions", "kf")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "wx-server-sdk", "package.json")); err != nil {
		b.Fatalf("%s/node_modules is missing: run make functions (npm ci in each fixtures/functions folder)", dir)
	}
	p, err := platform.New(platform.Options{Clock: clock.NewFake(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(p.Close)
	h, err := New(Options{Platform: p}, []FunctionSpec{{App: "mp", Dir: dir}})
	if err != nil {
		b.Fatal(err)
	}
	w := &benchWorld{p: p, h: h}
	handler := h.Handler()
	mux := http.NewServeMux()
	mux.Handle("/admin", http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		t := time.Now()
		handler.ServeHTTP(rw, r)
		w.gateway.Add(int64(time.Since(t)))
		w.calls.Add(1)
	}))
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	if err := h.Start(srv.URL + "/admin"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = h.Close() })
	return w
}

// hi is alice saying "hi" to the Mini Program: kf answers with one customer-service message,
// 收到：hi, through cloud.openapi, and returns 'success'.
func (w *benchWorld) hi(b *testing.B) *platform.Interaction {
	in, err := w.p.UserSends(context.Background(), "mp", config.DemoAliceMP, wire.Message{MsgType: "text", Content: "hi"})
	if err != nil {
		b.Fatal(err)
	}
	if in.Result == nil || in.Result.Outcome != push.None || len(in.Result.Violations) != 0 || len(in.Result.Attempts) != 1 || in.Result.Attempts[0].Status != 200 {
		b.Fatalf("the push to kf did not end as expected: %+v", in.Result)
	}
	return in
}

// BenchmarkFunctionInvoke measures a warm invocation's round trip: alice's message pushed to
// kf, kf's customerServiceMessage.send through the gateway, kf's 'success' judged. ns/op is the
// whole of it. Apart:
//
//   - gateway-ms: wxemu's /admin handler for the openapi call — the multipart body read, the
//     token, the protobuf decoded, the platform's custom/send operation (rules, quota, transcript,
//     journal), the answer encoded. Timed around the handler: the loopback HTTP transport is not in it.
//   - verdict+platform-ms: the whole minus the attempt's span (push.Attempt.DurationMS, from the
//     invoke command written to the worker's answer read): UserSends' routing, window and journal,
//     the event built, the token issued, the verdict judged.
//   - wxemu-ms: the two above, wxemu's own part (target < 2 ms).
//   - node-ms: the attempt's span minus gateway-ms: the function's run in Node with the SDK's
//     client side of the call (encoding, the loopback HTTP round trip), and the pipe to and from
//     the worker (JSON both ways, Go reading the report).
func BenchmarkFunctionInvoke(b *testing.B) {
	w := newBenchWorld(b)
	w.hi(b) // the first invocation loads what the SDK loads lazily
	var gateway, span time.Duration
	var custom int
	for _, l := range w.p.Transcript(mpAppIDOf(w), config.DemoAliceMP) {
		if l.Kind == platform.LineCustom {
			custom++
		}
	}
	w.gateway.Store(0)
	w.calls.Store(0)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		in := w.hi(b)
		span += time.Duration(in.Result.Attempts[0].DurationMS * float64(time.Millisecond))
	}
	total := time.Since(start)
	b.StopTimer()
	gateway = time.Duration(w.gateway.Load())
	if calls := w.calls.Load(); calls != int64(b.N) {
		b.Fatalf("the gateway served %d requests for %d invocations, not one each", calls, b.N)
	}
	sent := 0
	for _, l := range w.p.Transcript(mpAppIDOf(w), config.DemoAliceMP) {
		if l.Kind == platform.LineCustom {
			if l.Text != "收到：hi" {
				b.Fatalf("kf sent %q", l.Text)
			}
			sent++
		}
	}
	if sent-custom != b.N {
		b.Fatalf("kf sent %d customer-service messages in %d invocations", sent-custom, b.N)
	}
	n := float64(b.N)
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 / n }
	b.ReportMetric(ms(total), "total-ms")
	b.ReportMetric(ms(gateway), "gateway-ms")
	b.ReportMetric(ms(total-span), "verdict+platform-ms")
	b.ReportMetric(ms(total-span+gateway), "wxemu-ms")
	b.ReportMetric(ms(span-gateway), "node-ms")
}

func mpAppIDOf(w *benchWorld) string { return w.h.fns[0].app.AppID }

// BenchmarkFunctionColdStart measures a cold start: kf's worker killed, then a new one started
// until it is ready — Node started with the preload, runner.js, index.js loaded with its require
// of wx-server-sdk (ns/op). first-ms is the first invocation on that worker, apart (its SDK's
// lazy loads and first connection included), not in ns/op.
func BenchmarkFunctionColdStart(b *testing.B) {
	w := newBenchWorld(b)
	f := w.h.fns[0]
	w.hi(b)
	var first time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		f.mu.Lock()
		old := f.w
		f.mu.Unlock()
		if old != nil {
			old.kill()
			<-old.exited
		}
		b.StartTimer()
		nw, err := f.worker()
		if err != nil {
			b.Fatal(err)
		}
		select {
		case <-nw.ready:
		case <-nw.exited:
			b.Fatalf("the worker exited while it loaded: %s", nw.exit)
		}
		b.StopTimer()
		if nw.load != nil {
			b.Fatalf("index.js did not load: %s", nw.load.Message)
		}
		t := time.Now()
		w.hi(b)
		first += time.Since(t)
	}
	b.ReportMetric(float64(first)/1e6/float64(b.N), "first-ms")
}
