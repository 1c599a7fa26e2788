package wxmatch_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestWxmatch(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "wxmatch")
}
