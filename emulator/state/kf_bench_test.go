package state_test

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxemu/wxemu/emulator/state"
)

const benchKFApp = "wx0e1d2c3b4a596877"

// benchKF holds users: the first half in sessions with one agent, the second half waiting for
// an agent who never comes, as a load test that transfers everyone leaves it.
func benchKF(b *testing.B, ids []string) *state.KF {
	b.Helper()
	k := state.NewKF(state.KFConfig{Anchor: state.AnchorActivity})
	k.SeedAgent(benchKFApp, state.Agent{Account: "kf1@bench", Nickname: "kf1", WeChat: "bench_kf", Online: true})
	for i, id := range ids {
		if i < len(ids)/2 {
			if _, err := k.Create(benchKFApp, "kf1@bench", id, benchNow); err != nil {
				b.Fatal(err)
			}
		} else {
			k.Transfer(benchKFApp, id, "", benchNow)
		}
	}
	return k
}

// BenchmarkKFRoute decides where a user's message goes with 100k users in the kf system, which
// every user message does; it should not grow with the number of users or allocate.
func BenchmarkKFRoute(b *testing.B) {
	const users = 100_000
	ids := benchOpenIDs(users)
	k := benchKF(b, ids)
	now := benchNow.Add(time.Minute)

	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i = (i + 7919) % users
			k.Route(benchKFApp, ids[i], now)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		var seq atomic.Uint64
		b.RunParallel(func(pb *testing.PB) {
			i := int(seq.Add(1) * 7919)
			for pb.Next() {
				i++
				k.Route(benchKFApp, ids[i%users], now)
			}
		})
	})
	b.Run("with touch", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i = (i + 7919) % users
			if _, in, _ := k.Route(benchKFApp, ids[i], now); in {
				k.Touch(benchKFApp, ids[i], now)
			}
		}
	})
}

// BenchmarkKFMemory measures what a user in a session or in the queue costs.
func BenchmarkKFMemory(b *testing.B) {
	const users = 100_000
	ids := benchOpenIDs(users)
	b.ReportAllocs()
	var total float64
	for range b.N {
		before := heapInUse()
		k := benchKF(b, ids)
		after := heapInUse()
		runtime.KeepAlive(k)
		total += float64(after-before) / users
	}
	b.ReportMetric(total/float64(b.N), "bytes/user")
}
