package emulator_test

import (
	"net/http/httptest"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator"
	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/fixtures/bots"
)

func TestEmulator(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "emulator")
}

// startWithOABot runs an emulator of the default config on loopback, on a fake clock, its
// Official Account pushing to the sample bot oa (a real HTTP server), both stopped when the
// spec ends.
func startWithOABot() *emulator.Emulator {
	GinkgoHelper()
	clk := clock.NewFake(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
	cfg := config.Default()
	oaCfg, _ := cfg.App("oa")
	bot, err := bots.New("oa", bots.Config{Token: oaCfg.Token, Now: clk.Now})
	Expect(err).NotTo(HaveOccurred())
	srv := httptest.NewServer(bot)
	DeferCleanup(srv.Close)
	emu, err := emulator.New(emulator.Options{Config: cfg, Clock: clk, Targets: map[string]string{"oa": srv.URL + "/wx"}})
	Expect(err).NotTo(HaveOccurred())
	Expect(emu.Start("127.0.0.1:0")).To(Succeed())
	DeferCleanup(emu.Close)
	return emu
}
