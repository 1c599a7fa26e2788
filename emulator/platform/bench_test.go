package platform_test

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/platform"
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
