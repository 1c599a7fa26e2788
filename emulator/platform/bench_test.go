package platform_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
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
// reports the peak resident set beside the journal's byte bound: what a long run against a hostile
// bot costs, and whether it stops growing once the journal is full (its peak half-way, about 1,500
// pushes after the journal filled, beside its peak at the end). The soak runs in a child process of its own (this test binary again, running this
// benchmark alone), so that the peak (VmHWM in /proc/self/status) counts nothing that ran before
// it. `make bench` reports it.
func BenchmarkSoak(b *testing.B) {
	if os.Getenv(soakChild) != "" {
		soak(b)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^BenchmarkSoak$", "-test.benchtime="+strconv.Itoa(soakPushes)+"x", "-test.count=1")
	cmd.Env = append(os.Environ(), soakChild+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("the soak's child process: %v\n%s", err, out)
	}
	line := regexp.MustCompile(`(?m)^BenchmarkSoak\S*\s+\d+\s+(.*)$`).FindSubmatch(out)
	if line == nil {
		b.Fatalf("the soak's child process printed no result:\n%s", out)
	}
	metrics := strings.Fields(string(line[1]))
	for i := 0; i+1 < len(metrics); i += 2 {
		v, err := strconv.ParseFloat(metrics[i], 64)
		if err != nil {
			b.Fatalf("the soak's child process printed %q", line[0])
		}
		b.ReportMetric(v, metrics[i+1])
	}
}

const (
	soakChild  = "WXEMU_SOAK_CHILD"
	soakPushes = 3000
)

// soak is the child's part of BenchmarkSoak: b.N pushes, the journal bounded at its default.
func soak(b *testing.B) {
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
	base := peakRSS(b)
	b.ResetTimer()
	var mid uint64
	for i := 0; i < b.N; i++ {
		if i == b.N/2 {
			mid = peakRSS(b)
		}
		openid := "o6_bmjSoak" + strconv.FormatInt(int64(1_000_000_000_000_000+i), 10)
		if _, err := p.UserSends(ctx, "oa", openid, wire.Message{MsgType: "text", Content: "hi"}); err != nil {
			b.Fatal(err)
		}
		body := []byte(`{"touser":"` + openid + `","msgtype":"text","text":{"content":"` + string(big[:2000]) + `"}}`)
		_, _ = p.CustomSend(ctx, oa, body)
	}
	b.StopTimer()
	st := p.JournalStats()
	b.ReportMetric(float64(peakRSS(b))/(1<<20), "peak-rss-MiB")
	b.ReportMetric(float64(mid)/(1<<20), "half-way-peak-rss-MiB")
	b.ReportMetric(float64(base)/(1<<20), "start-rss-MiB")
	b.ReportMetric(float64(st.Bytes)/(1<<20), "journal-MiB")
	b.ReportMetric(float64(st.MaxBytes)/(1<<20), "journal-bound-MiB")
	b.ReportMetric(float64(b.N), "pushes")
}

// peakRSS is this process's peak resident set, in bytes (VmHWM).
func peakRSS(b *testing.B) uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^VmHWM:\s+(\d+) kB$`).FindSubmatch(data)
	if m == nil {
		b.Fatal("no VmHWM in /proc/self/status")
	}
	kb, _ := strconv.ParseUint(string(m[1]), 10, 64)
	return kb << 10
}
