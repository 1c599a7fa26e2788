package emutest_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestEmutest(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "emutest")
}
