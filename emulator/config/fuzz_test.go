package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/wxemu/wxemu/emulator/config"
)

// FuzzParse feeds Parse arbitrary bytes. Whatever the input, Parse must not panic; a problem must
// come back as *Error values; and a configuration it accepts must be valid and survive a round trip
// through YAML, since `wxemu serve --print-config` and the console write configurations back out.
func FuzzParse(f *testing.F) {
	f.Add(config.DefaultYAML())
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	bad, _ := filepath.Glob(filepath.Join("testdata", "bad", "*.yaml"))
	for _, name := range append(seeds, bad...) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("x-a: &a {alias: x}\napps: [*a, *a, {<<: *a}]\n"))
	f.Add([]byte("apps: &a [*a]\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := config.Parse("fuzz.yaml", data)
		if err != nil {
			joined, ok := err.(interface{ Unwrap() []error })
			if !ok {
				t.Fatalf("Parse returned %T, want errors.Join: %v", err, err)
			}
			for _, e := range joined.Unwrap() {
				var ce *config.Error
				if !errors.As(e, &ce) {
					t.Fatalf("Parse returned a %T in the join, want *config.Error: %v", e, e)
				}
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Parse accepted a configuration Validate refuses: %v", err)
		}
		out, err := yaml.Marshal(cfg)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := config.Parse("again.yaml", out)
		if err != nil {
			t.Fatalf("the marshalled configuration does not parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(again, cfg) {
			t.Fatalf("round trip changed the configuration:\n%s", out)
		}
	})
}
