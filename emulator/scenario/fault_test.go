package scenario_test

import (
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/scenario"
)

// naiveFor is, for each scenario of fixtures/scenarios/faults, a sample bot that does not
// survive its fault: the library's passing run against the resilient bot proves nothing unless
// these fail.
var naiveFor = map[string]string{
	"system-error.yaml":  "oa",
	"api-quota.yaml":     "oa",
	"token-revoked.yaml": "tokencache",
	"duplicate.yaml":     "oa",
}

var _ = Describe("the fault scenarios of the library", func() {
	dir := filepath.Join(libraryRoot, "faults")

	It("name a naive bot for every file", func() {
		files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		var names []string
		for _, f := range files {
			names = append(names, filepath.Base(f))
		}
		var known []string
		for f := range naiveFor {
			known = append(known, f)
		}
		Expect(names).To(ConsistOf(known))
	})

	for file, bot := range naiveFor {
		It("fails "+file+" against the naive bot "+bot, func() {
			cfg := config.Default()
			scenarios, err := scenario.Load(cfg, filepath.Join(dir, file))
			Expect(err).NotTo(HaveOccurred())
			e := start(cfg, map[string]botMaker{"oa": sample(bot)})
			rep := e.runner().Run(ctx(), scenarios)
			for _, r := range rep.Scenarios {
				Expect(r.Status).To(Equal(scenario.Failed), describeResult(r))
			}
		})
	}
})
