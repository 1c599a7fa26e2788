package wxcrypto_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestWxcrypto(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "wxcrypto")
}
