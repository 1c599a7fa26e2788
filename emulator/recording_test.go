package emulator_test

import (
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/scenario"
)

var _ = Describe("Recording from Go", func() {
	It("records what is done through the emulator's control API between StartRecording and StopRecording", func() {
		emu := startWithOABot()

		st, err := emu.StartRecording("from go")
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Recording).To(BeTrue())
		_, err = emu.StartRecording("twice")
		Expect(err).To(MatchError(platform.ErrRecording))

		resp, err := http.Post(emu.URL()+"/_emu/v1/users/"+config.DemoAliceOA+"/send", "application/json",
			strings.NewReader(`{"app":"oa","MsgType":"text","Content":"hi"}`))
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		Expect(emu.Recording().Actions).To(Equal(1))

		rec, err := emu.StopRecording()
		Expect(err).NotTo(HaveOccurred())
		Expect(rec.Filename).To(Equal("from-go.yaml"))
		Expect(rec.Actions).To(Equal(1))
		list, err := scenario.Parse(nil, rec.Filename, rec.YAML)
		Expect(err).NotTo(HaveOccurred(), string(rec.YAML))
		Expect(*list[0].Steps[0].Reply.Text.Exact).To(Equal("hello, hi"))
		_, err = emu.StopRecording()
		Expect(err).To(MatchError(platform.ErrRecording))
		Expect(emu.Recording().Recording).To(BeFalse())
	})

	It("names in the scenario the fault rules held when the recording started", func() {
		emu, err := emulator.New(emulator.Options{Config: config.Default()})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(emu.Close)
		one := -1
		_, err = emu.Platform().AddFaults([]platform.FaultRule{{Family: "custom_send", Errcode: &one}}, nil)
		Expect(err).NotTo(HaveOccurred())
		_, err = emu.StartRecording("held")
		Expect(err).NotTo(HaveOccurred())
		rec, err := emu.StopRecording()
		Expect(err).NotTo(HaveOccurred())
		Expect(string(rec.YAML)).To(ContainSubstring("# WARNING: 1 fault rule(s) were held when the recording started"))
		Expect(string(rec.YAML)).To(ContainSubstring(`#   {"id":"f1","family":"custom_send","errcode":-1,`))
	})
})
