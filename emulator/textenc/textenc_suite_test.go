package textenc_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestTextenc(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "textenc")
}
