package emulator_test

import (
	"net/http"
	"testing"

	"github.com/wxemu/wxemu/emulator"
)

// BenchmarkStart measures what `wxemu serve` takes from nothing to a first answer: the
// emulator with the embedded default configuration, listening, answering the control plane.
// The target is under 100 ms; `make bench` reports it.
func BenchmarkStart(b *testing.B) {
	for i := 0; i < b.N; i++ {
		emu, err := emulator.New(emulator.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := emu.Start("127.0.0.1:0"); err != nil {
			b.Fatal(err)
		}
		resp, err := http.Get(emu.URL() + "/_emu/v1/clock")
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if err := emu.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
