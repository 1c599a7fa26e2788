package cloudfn_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestCloudfn(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "cloudfn")
}
