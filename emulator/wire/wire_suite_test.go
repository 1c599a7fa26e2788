package wire_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/wire"
)

func TestWire(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "wire")
}

// golden reads a file of testdata/.
func golden(name string) []byte {
	GinkgoHelper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	Expect(err).NotTo(HaveOccurred())
	return b
}

func formatOf(name string) wire.Format {
	if strings.HasSuffix(name, ".json") {
		return wire.JSON
	}
	return wire.XML
}
