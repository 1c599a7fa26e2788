package state_test

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxemu/wxemu/emulator/state"
)

var benchNow = time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)

func benchOpenIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = openid(i)
	}
	return ids
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkLedgerMemory measures what a million users with one open window cost, the target
// being well under 1 GiB.
func BenchmarkLedgerMemory(b *testing.B) {
	const users = 1_000_000
	ids := benchOpenIDs(users)
	rs, _ := state.RuleSetByName(state.DefaultRuleSet)
	for _, c := range []state.Combine{state.CombineReset, state.CombineIndependent} {
		b.Run(string(c), func(b *testing.B) {
			b.ReportAllocs()
			var total float64
			for range b.N {
				before := heapInUse()
				l := state.NewLedger(rs, c)
				for _, id := range ids {
					l.Trigger("wx0e1d2c3b4a596877", id, state.TriggerMessage, benchNow)
				}
				after := heapInUse()
				runtime.KeepAlive(l)
				total += float64(after-before) / users
			}
			b.ReportMetric(total/float64(b.N), "bytes/user")
		})
	}
}

// BenchmarkLedgerConsume sends from many goroutines to many users, as a load test does.
func BenchmarkLedgerConsume(b *testing.B) {
	const users = 100_000
	ids := benchOpenIDs(users)
	rs, _ := state.RuleSetByName(state.DefaultRuleSet)
	rs.Limits[state.TriggerMessage] = state.Limit{Max: 1 << 30, Window: 48 * time.Hour}
	for _, c := range []state.Combine{state.CombineReset, state.CombineIndependent} {
		b.Run(string(c), func(b *testing.B) {
			l := state.NewLedger(rs, c)
			for _, id := range ids {
				l.Trigger("wx0e1d2c3b4a596877", id, state.TriggerMessage, benchNow)
			}
			var seq atomic.Uint64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(seq.Add(1) * 7919)
				for pb.Next() {
					i++
					if _, err := l.Consume("wx0e1d2c3b4a596877", ids[i%users], benchNow); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
	b.Run("one-user", func(b *testing.B) {
		l := state.NewLedger(rs, state.CombineReset)
		l.Trigger("wx0e1d2c3b4a596877", ids[0], state.TriggerMessage, benchNow)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := l.Consume("wx0e1d2c3b4a596877", ids[0], benchNow); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkLedgerTrigger refreshes the windows of known users from many goroutines.
func BenchmarkLedgerTrigger(b *testing.B) {
	const users = 100_000
	ids := benchOpenIDs(users)
	rs, _ := state.RuleSetByName(state.DefaultRuleSet)
	l := state.NewLedger(rs, state.CombineReset)
	var seq atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seq.Add(1) * 7919)
		for pb.Next() {
			i++
			l.Trigger("wx0e1d2c3b4a596877", ids[i%users], state.TriggerMessage, benchNow)
		}
	})
}

func BenchmarkTokensCheck(b *testing.B) {
	tokens := state.NewTokens(seeded(1))
	tk, err := tokens.Issue("wx0e1d2c3b4a596877", benchNow, benchNow)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := tokens.Check(tk.Value, benchNow); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkTokensIssue(b *testing.B) {
	tokens := state.NewTokens(seeded(1))
	tokens.DailyLimit = 1 << 62
	now := benchNow
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Second)
		if _, err := tokens.Issue("wx0e1d2c3b4a596877", now, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMediaUpload(b *testing.B) {
	store := state.NewMediaStore(seeded(1))
	data := file(pngMagic, 1<<20)
	now := benchNow
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		// Ten hours per upload: about eight files are live at any time, and the sweeps keep
		// the store near that, so the benchmark measures uploads rather than a growing heap.
		now = now.Add(10 * time.Hour)
		if _, err := store.Upload("wx0e1d2c3b4a596877", "oa", "image", "a.png", data, now); err != nil {
			b.Fatal(err)
		}
	}
}
