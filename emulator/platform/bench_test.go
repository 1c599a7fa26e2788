package platform_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/wire"
)

// BenchmarkUserMemory measures the memory a user costs once known with an open window: the user
// record and the grant. The target is 1 M users under 1 GiB, i.e. under 1073 bytes each;
// `make bench` reports bytes/user.
func BenchmarkUserMemory(b *testing.B) {
	const users = 1_000_000
	for i := 0; i < b.N; i++ {
		clk := clock.NewFake(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
		p, err := platform.New(platform.Options{Clock: clk})
		if err != nil {
			b.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for u := 0; u < users; u++ {
			openid := "o6_bmj" + strconv.FormatInt(int64(1_000_000_000_000+u), 36) + "AbCdEfGhIjKlMn"
			if _, err := p.Trigger("oa", openid, "message"); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/users, "bytes/user")
		runtime.KeepAlive(p)
	}
}

// BenchmarkSoak pushes to a bot that answers every push with a 1 MiB body (a reply too large to
// be one, judged and journaled each time) and sends a customer-service message per push, and
// reports the peak of the heap it added beside the journal's byte bound: what a long run against
// a hostile bot costs. The heap is sampled (after a collection) every 50 pushes; the process's
// RSS would count the benchmarks that ran before in the same binary. `make bench` reports it.
func BenchmarkSoak(b *testing.B) {
	big := bytes.Repeat([]byte("x"), 1<<20)
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write(big)
	}))
	defer bot.Close()
	clk := clock.NewFake(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
	p, err := platform.New(platform.Options{Clock: clk, Targets: map[string]string{"oa": bot.URL + "/wx"}, PushTimeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	oa, _ := p.App("oa")
	ctx := context.Background()
	base := heapInUse()
	peak := base
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%50 == 49 {
			peak = max(peak, heapInUse())
		}
		openid := "o6_bmjSoak" + strconv.FormatInt(int64(1_000_000_000_000_000+i), 10)
		if _, err := p.UserSends(ctx, "oa", openid, wire.Message{MsgType: "text", Content: "hi"}); err != nil {
			b.Fatal(err)
		}
		body := []byte(`{"touser":"` + openid + `","msgtype":"text","text":{"content":"` + string(big[:2000]) + `"}}`)
		_, _ = p.CustomSend(ctx, oa, body)
	}
	b.StopTimer()
	peak = max(peak, heapInUse())
	st := p.JournalStats()
	b.ReportMetric(float64(peak-base)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(st.Bytes)/(1<<20), "journal-MiB")
	b.ReportMetric(float64(st.MaxBytes)/(1<<20), "journal-bound-MiB")
}

// heapInUse is the heap in use after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}
