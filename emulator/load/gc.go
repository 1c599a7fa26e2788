package load

import (
	"os"
	"runtime/debug"
)

// GCPercent is the garbage collector's target wxemu load runs with (GOGC), unless GOGC is set.
// A load run's live heap is small and bounded (histograms, counters, the bounded journal), and
// every push makes short-lived garbage; collecting at 9× the live heap rather than 2× takes a
// few tens of MiB and gives the pushes the CPU the collector took (BenchmarkLoadInterleaved).
const GCPercent = 800

// TuneGC sets the collector's target for a load run, unless the GOGC environment variable says
// otherwise, and returns what puts the previous one back. It changes the whole process: the
// command calls it, and the benchmark that measures the command; a library caller of Runner
// decides for itself.
func TuneGC() (restore func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	old := debug.SetGCPercent(GCPercent)
	return func() { debug.SetGCPercent(old) }
}
