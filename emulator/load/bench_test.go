package load_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/load"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/wire"
	"github.com/wxemu/wxemu/emulator/wxcrypto"
	"github.com/wxemu/wxemu/fixtures/bots"
)

// benchConcurrency is how many users push at once in the load benchmarks, in both loops.
const benchConcurrency = 4

// benchBot is the minimal bot both loops push to, in process, on a loopback server: it checks
// the signature, parses the push and answers a text with the header swapped — what any correct
// plaintext bot does, and nothing more. (The sample bots record every request, which a
// one-minute run would see as memory growing.)
func benchBot(b *testing.B) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("signature") != wxcrypto.Signature(config.DemoOAToken, q.Get("timestamp"), q.Get("nonce")) {
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		var m struct {
			ToUserName, FromUserName, MsgType string
		}
		if err := xml.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, "<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[got %s]]></Content></xml>",
			m.FromUserName, m.ToUserName, time.Now().Unix(), m.MsgType)
	}))
	b.Cleanup(srv.Close)
	return srv.URL + "/wx"
}

// benchPlatform is an emulated WeChat pushing to u, set up as wxemu load sets it up: a
// bounded journal, short transcripts.
func benchPlatform(b *testing.B, u string) *platform.Platform {
	cfg := config.Default()
	cfg.Journal.MaxEntries = 1000
	p, err := platform.New(platform.Options{Config: cfg, Targets: map[string]string{config.DemoOAAlias: u}, TranscriptLines: 50})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(p.Close)
	return p
}

// bareLoop pushes n times from benchConcurrency goroutines, doing only what any push must:
// sign, POST a ready body, read and parse the reply. It returns how long it took.
func bareLoop(b *testing.B, client *http.Client, u string, n int) time.Duration {
	m := &wire.Message{ToUserName: config.DemoOAOriginalID, FromUserName: "load_000001", CreateTime: time.Now().Unix(), MsgType: "text", Content: "hi", MsgId: 1}
	body := m.AppendXML(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := clock.Real{}.Now()
	for w := 0; w < benchConcurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				ts := strconv.FormatInt(time.Now().Unix(), 10)
				nonce := strconv.FormatInt(i, 10)
				q := u + "?signature=" + wxcrypto.Signature(config.DemoOAToken, ts, nonce) + "&timestamp=" + ts + "&nonce=" + nonce + "&openid=" + url.QueryEscape("load_000001")
				resp, err := client.Post(q, "text/xml; charset=utf-8", bytes.NewReader(body))
				if err != nil {
					b.Error(err)
					return
				}
				data, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					b.Error(err)
					return
				}
				if _, err := wire.ParseReply(data, wire.XML); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return clock.Since(start)
}

// runLoad runs the load runner for n pushes and returns how long its pushes took, as its
// report says (the time from the first push to the end of the last).
func runLoad(b *testing.B, p *platform.Platform, n int) time.Duration {
	r, err := load.New(load.Options{Platform: p, Users: benchConcurrency, Pushes: n, Settle: time.Nanosecond})
	if err != nil {
		b.Fatal(err)
	}
	rep := r.Run(context.Background())
	if rep.Sent != int64(n) || rep.Replied != int64(n) || rep.Failed != 0 || len(rep.Violations) != 0 {
		b.Fatalf("load run: %d sent, %d replied, %d failed, violations %v", rep.Sent, rep.Replied, rep.Failed, rep.Violations)
	}
	return time.Duration(rep.ElapsedS * float64(time.Second))
}

// sampleBot is the correct Official Account sample bot, in process, on a loopback server: a bot
// that does a real bot's work (encoding/xml both ways), the bot the push benchmarks use.
func sampleBot(b *testing.B) string {
	h, err := bots.New("oa", bots.Config{Token: config.DemoOAToken, EncodingAESKey: config.DemoOAEncodingAESKey,
		AppID: config.DemoOAAppID, Random: rand.NewChaCha8([32]byte{5})})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	return srv.URL + "/wx"
}

// BenchmarkLoadInterleaved compares wxemu load with full verdicts — every push through the
// platform: signature, verdict, state, journal — with a bare loop that only signs, POSTs and
// parses the reply, against the same bot with the same concurrency. Each iteration runs a batch
// of each in turn, so that a noisy machine slows both alike. `make bench` reports the
// throughput ratio against the sample bot (target >= 80 %), and against the trivial bot for
// reference: there the bot costs next to nothing, and what is left is the push engine's and the
// platform's own work.
func BenchmarkLoadInterleaved(b *testing.B) {
	b.Run("samplebot", func(b *testing.B) { loadInterleaved(b, sampleBot(b)) })
	b.Run("trivialbot", func(b *testing.B) { loadInterleaved(b, benchBot(b)) })
}

func loadInterleaved(b *testing.B, u string) {
	// As wxemu load runs: the collector's target of the command (load.TuneGC), for both loops.
	defer load.TuneGC()()
	p := benchPlatform(b, u)
	client := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	const batch = 1000
	// Warm both up: connections, the access paths, the users.
	bareLoop(b, client, u, batch)
	runLoad(b, p, batch)
	var tBare, tLoad time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tBare += bareLoop(b, client, u, batch)
		tLoad += runLoad(b, p, batch)
	}
	pushes := float64(b.N * batch)
	b.ReportMetric(float64(tBare.Nanoseconds())/pushes, "bare-ns/push")
	b.ReportMetric(float64(tLoad.Nanoseconds())/pushes, "load-ns/push")
	b.ReportMetric(100*float64(tBare)/float64(tLoad), "load-vs-bare-%")
}

// BenchmarkLoadMemory runs wxemu load's runner for a minute against the minimal bot and
// measures the live heap after a warm-up of 10 s (the journal and the transcripts full) and at
// the end: a runner that kept something per push would grow by it. Each measure is the least of
// three, a second apart, so that the pushes in flight at one instant do not count as growth.
// `make bench` reports the growth (target < 16 MiB).
func BenchmarkLoadMemory(b *testing.B) {
	u := benchBot(b)
	p := benchPlatform(b, u)
	heap := func() float64 {
		least := 0.0
		for i := 0; i < 3; i++ {
			if i > 0 {
				clock.Sleep(time.Second)
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if v := float64(ms.HeapAlloc) / (1 << 20); i == 0 || v < least {
				least = v
			}
		}
		return least
	}
	defer load.TuneGC()() // as wxemu load runs; the heap is read after a collection
	const warmup, run = 10 * time.Second, 60 * time.Second
	for i := 0; i < b.N; i++ {
		r, err := load.New(load.Options{Platform: p, Users: 50, Concurrency: benchConcurrency, Duration: run, Settle: time.Nanosecond})
		if err != nil {
			b.Fatal(err)
		}
		var start, end float64
		var sent int64
		done := make(chan struct{})
		go func() {
			defer close(done)
			clock.Sleep(warmup)
			sent = r.Progress().Counts.Sent
			start = heap()
			clock.Sleep(run - warmup - 6*time.Second)
			end = heap()
			sent = r.Progress().Counts.Sent - sent
		}()
		rep := r.Run(context.Background())
		<-done
		if rep.Failed != 0 || rep.Errors != 0 {
			b.Fatalf("load run: %d failed, %d errors (%s)", rep.Failed, rep.Errors, rep.FirstError)
		}
		b.ReportMetric(start, "start-heap-MiB")
		b.ReportMetric(end, "end-heap-MiB")
		b.ReportMetric(end-start, "growth-MiB")
		b.ReportMetric(float64(sent), "pushes-measured")
	}
}
