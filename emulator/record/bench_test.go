package record_test

import (
	"fmt"
	"testing"

	"github.com/wxemu/wxemu/emulator/journal"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/record"
)

// BenchmarkScenario writes a recording that fills the default journal (10 000 entries: 2 500
// messages, each with its push, a send and the control call). Stopping a recording does this
// once, while the console waits for the download.
func BenchmarkScenario(b *testing.B) {
	t := &tape{}
	for i := 0; t.seq < 10000; i++ {
		t.userSends(oa, alice, fmt.Sprintf("push %d", i), push.Result{Outcome: push.None}, func() {
			t.send(oa, alice, fmt.Sprintf("message %d", i), 0, journal.ViaHTTP)
		})
	}
	s := t.session()
	b.ReportAllocs()
	b.ResetTimer()
	var n int
	for range b.N {
		n = len(record.Scenario(s))
	}
	b.ReportMetric(float64(n), "yaml-bytes")
}
