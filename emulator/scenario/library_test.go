package scenario_test

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/scenario"
)

// library is the scenarios shipped in fixtures/scenarios: each folder and the sample bot it is
// written for (fixtures/scenarios/README.md says the same to people).
var library = map[string]string{
	"oa":                "oa",
	"mp":                "mp",
	"safe":              "oa",
	"compat":            "oa",
	"activity":          "oa",
	"rules-2021":        "oa",
	"noswap":            "noswap",
	"transfer-on-event": "transfer-on-event",
	"async":             "async",
	"msgsigonly":        "msgsigonly",
	"sigonly":           "sigonly",
	"tokencache":        "tokencache",
	"faults":            "resilient",
	"function":          "", // a cloud function its wxemu.yaml names, no bot
}

const libraryRoot = "../../fixtures/scenarios"

// folderConfig is a folder's wxemu.yaml, or the default configuration.
func folderConfig(dir string) *config.Config {
	p := filepath.Join(dir, "wxemu.yaml")
	if _, err := os.Stat(p); err != nil {
		return config.Default()
	}
	cfg, err := config.Load(p)
	Expect(err).NotTo(HaveOccurred())
	return cfg
}

var _ = Describe("the scenario library", func() {
	It("names the bot of every folder", func() {
		entries, err := os.ReadDir(libraryRoot)
		Expect(err).NotTo(HaveOccurred())
		var folders []string
		for _, e := range entries {
			if e.IsDir() {
				folders = append(folders, e.Name())
			}
		}
		var known []string
		for f := range library {
			known = append(known, f)
		}
		Expect(folders).To(ConsistOf(known))
	})

	for folder, bot := range library {
		It("loads and passes "+folder+" against the sample bot "+bot, func() {
			dir := filepath.Join(libraryRoot, folder)
			cfg := folderConfig(dir)
			scenarios, err := scenario.LoadAll(cfg, dir)
			Expect(err).NotTo(HaveOccurred())
			Expect(scenarios).NotTo(BeEmpty())
			makers := map[string]botMaker{}
			for _, s := range scenarios {
				app, ok := cfg.App(s.App)
				Expect(ok).To(BeTrue())
				if bot != "" {
					makers[app.Alias] = sample(bot)
				}
			}
			e := start(cfg, makers)
			rep := e.runner().Run(ctx(), scenarios)
			for _, r := range rep.Scenarios {
				Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
			}
		})
	}
})
