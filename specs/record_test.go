package specs_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/harness"
	"github.com/wxemu/wxemu/emulator/scenario"
)

// controlCall makes one call of serve's control API, as curl would, and returns the status, the
// body and the headers.
func controlCall(method, url, body string) (int, string, http.Header) {
	GinkgoHelper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return resp.StatusCode, string(data), resp.Header
}

// act is an action through the control API that must succeed.
func act(url, body string) string {
	GinkgoHelper()
	status, answer, _ := controlCall(http.MethodPost, url, body)
	Expect(status).To(Equal(200), answer)
	return answer
}

// stopRecording stops serve's recording, checks the download's headers, writes the scenario
// to a file and checks that the strict loader of wxemu run takes it.
func stopRecording(emu, file string) string {
	GinkgoHelper()
	status, body, h := controlCall(http.MethodPost, emu+"/recording/stop", "")
	Expect(status).To(Equal(200), body)
	Expect(h.Get("Content-Type")).To(Equal("application/yaml; charset=utf-8"))
	Expect(h.Get("Content-Disposition")).To(Equal(`attachment; filename="` + filepath.Base(file) + `"`))
	Expect(os.WriteFile(file, []byte(body), 0o644)).To(Succeed())
	_, err := scenario.Load(nil, file)
	Expect(err).NotTo(HaveOccurred(), "the recorded scenario loads with the strict loader:\n%s", body)
	return body
}

// replay runs the scenario file with `wxemu run FILE --target …` against a fresh process of a
// sample bot whose API base is the run's own emulator (a bot fetches its token from the WeChat
// it talks to), and returns the run.
func replay(file, targetFlag string, bot ...string) *gexec.Session {
	GinkgoHelper()
	api, port := freePort(), freePort()
	b, err := harness.StartBot(harness.BotSpec{
		Args:   append([]string{binaries.Samplebot, "--listen", "127.0.0.1:" + strconv.Itoa(port), "--api-base", "http://127.0.0.1:" + strconv.Itoa(api)}, bot...),
		Output: GinkgoWriter,
	})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { _ = b.Stop(5 * time.Second) })
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/wx"
	token := config.DemoOAToken
	if targetFlag == "--target-mp" {
		token = config.DemoMPToken
	}
	Expect(b.WaitReady(context.Background(), url, token, 10*time.Second)).To(Succeed(), b.Output())
	return wxemu("run", file, "--addr", "127.0.0.1:"+strconv.Itoa(api), targetFlag, url)
}

var _ = Describe("Recording a session of wxemu serve as a scenario, and replaying it with wxemu run", func() {
	It("records the Official Account bot: a reply, refused sends, a transfer accepted by an agent, the agent's reply, a session that times out, a closed window", func() {
		base, _, _ := serveWithBot("--target", []string{"--bot", "oa"})
		emu := base + "/_emu/v1"
		alice := emu + "/users/" + config.DemoAliceOA
		kf1 := emu + "/agents/kf1@wxemu_demo"
		openid := `"openid":"` + config.DemoAliceOA + `"`

		act(alice+"/send", `{"app":"oa","MsgType":"text","Content":"before the recording"}`)
		start := act(emu+"/recording/start", `{"name":"oa hand-over"}`)
		Expect(start).To(MatchJSON(`{"recording":true,"since":` + sinceOf(start) + `,"name":"oa hand-over","actions":0}`))
		status, answer, _ := controlCall(http.MethodPost, emu+"/recording/start", `{"name":"again"}`)
		Expect(status).To(Equal(409), answer)
		Expect(answer).To(ContainSubstring(`recording \"oa hand-over\" is running already`))

		act(alice+"/send", `{"app":"oa","MsgType":"text","Content":"hi"}`)
		act(alice+"/send", `{"app":"oa","MsgType":"text","Content":"push 6"}`)
		act(alice+"/send", `{"app":"oa","MsgType":"text","Content":"人工 kf1@wxemu_demo"}`)
		act(kf1+"/accept", `{"app":"oa",`+openid+`}`)
		act(alice+"/send", `{"app":"oa","MsgType":"text","Content":"anyone there?"}`)
		Expect(act(kf1+"/reply", `{"app":"oa",`+openid+`,"text":"您好，我是客服小王"}`)).To(ContainSubstring(`"delivered":true`))
		act(emu+"/clock/advance", `{"by":"30m1s"}`)
		act(alice+"/send", `{"app":"oa","MsgType":"text","Content":"push 1"}`)
		act(emu+"/clock/advance", `{"by":"48h1s"}`)
		act(alice+"/send", `{"app":"oa","MsgType":"event","Event":"LOCATION","Latitude":"23.137466","Longitude":"113.352425","Precision":"119.385040"}`)
		_, st, _ := controlCall(http.MethodGet, emu+"/recording", "")
		Expect(st).To(MatchJSON(`{"recording":true,"since":` + sinceOf(start) + `,"name":"oa hand-over","actions":10}`))

		file := filepath.Join(GinkgoT().TempDir(), "oa-hand-over.yaml")
		body := stopRecording(emu, file)
		expectGolden("record-oa", normalize(body))
		Expect(body).NotTo(ContainSubstring("before the recording"))
		Expect(body).To(ContainSubstring("errcodes: [0, 0, 0, 0, 0, 45047]"))
		Expect(body).To(ContainSubstring("errcodes: [45015]"))
		Expect(body).To(ContainSubstring("bot_receives: {event: kf_create_session, kf_account: kf1@wxemu_demo}"))
		Expect(body).To(ContainSubstring("delivered_to: kf1@wxemu_demo"))
		Expect(body).To(ContainSubstring("- advance: 30m1s"))
		status, answer, _ = controlCall(http.MethodPost, emu+"/recording/stop", "")
		Expect(status).To(Equal(409), answer)

		By("replaying it against the same bot: it passes")
		run := replay(file, "--target", "--bot", "oa")
		Expect(run.ExitCode()).To(Equal(0), string(run.Out.Contents()))
		Expect(string(run.Out.Contents())).To(ContainSubstring("PASS: 1 scenario in 1 file: 1 passed, 0 failed (10 steps)"))

		By("replaying it against a bot that answers after the fact instead: it fails at the first step")
		run = replay(file, "--target", "--bot", "async")
		Expect(run.ExitCode()).To(Equal(1), string(run.Out.Contents()))
		Expect(string(run.Out.Contents())).To(MatchRegexp(`FAIL +1 +line \d+ +alice: text "hi"`))
		Expect(string(run.Out.Contents())).To(ContainSubstring(`expected  reply text "hello, hi"`))

		By("replaying it against a bot that copies the header instead of swapping it: it fails")
		run = replay(file, "--target", "--bot", "noswap")
		Expect(run.ExitCode()).To(Equal(1), string(run.Out.Contents()))
		Expect(string(run.Out.Contents())).To(ContainSubstring("reply.header.swap"))
	})

	It("records the Mini Program JSON bot: a transfer its agent takes at once, a message the agent gets, the quota's refusal after the session times out", func() {
		base, _, _ := serveWithBot("--target-mp", mpBot("--format", "json"))
		emu := base + "/_emu/v1"
		alice := emu + "/users/" + config.DemoAliceMP

		act(emu+"/recording/start", `{"name":"mp session"}`)
		act(alice+"/send", `{"app":"mp","MsgType":"event","Event":"user_enter_tempsession","SessionFrom":"wxapp"}`)
		act(alice+"/send", `{"app":"mp","MsgType":"text","Content":"hi"}`)
		act(alice+"/send", `{"app":"mp","MsgType":"text","Content":"人工"}`)
		act(alice+"/send", `{"app":"mp","MsgType":"text","Content":"where is my order?"}`)
		act(emu+"/agents/kf1@wxemu_mp/reply", `{"app":"mp","openid":"`+config.DemoAliceMP+`","text":"马上为您查询"}`)
		act(emu+"/clock/advance", `{"by":"30m1s"}`)
		act(alice+"/send", `{"app":"mp","MsgType":"text","Content":"push 6"}`)

		file := filepath.Join(GinkgoT().TempDir(), "mp-session.yaml")
		body := stopRecording(emu, file)
		expectGolden("record-mp", normalize(body))
		Expect(body).To(ContainSubstring("app: mp"))
		Expect(body).To(ContainSubstring(`reply: {transfer: ""}`), "a transfer that named no account must not pass one that names one")
		Expect(body).To(ContainSubstring("bot_receives: {event: kf_create_session, kf_account: kf1@wxemu_mp}"))
		Expect(body).To(ContainSubstring("delivered_to: kf1@wxemu_mp"))
		Expect(body).To(ContainSubstring("errcodes: [0, 0, 0, 0, 0, 45047]"))
		Expect(body).To(ContainSubstring("--target-mp"))

		run := replay(file, "--target-mp", mpBot("--format", "json")...)
		Expect(run.ExitCode()).To(Equal(0), string(run.Out.Contents()))

		By("replaying it against a Mini Program bot that answers every text with a send: it fails")
		run = replay(file, "--target-mp", append(mpBot("--format", "json"), "--bot", "async")...)
		Expect(run.ExitCode()).To(Equal(1), string(run.Out.Contents()))
		Expect(string(run.Out.Contents())).To(ContainSubstring("sends.count"))
	})

	It("gives the sends of a bot that answers first and sends afterwards to the step of the message that caused them", func() {
		base, _, _ := serveWithBot("--target", []string{"--bot", "async"})
		emu := base + "/_emu/v1"
		alice := emu + "/users/" + config.DemoAliceOA
		bob := emu + "/users/" + config.DemoBobOA

		act(emu+"/recording/start", `{"name":"async"}`)
		act(alice+"/send", `{"app":"oa","MsgType":"text","Content":"push 3 after 300ms"}`)
		// Bob writes while alice's sends are still to come.
		act(bob+"/send", `{"app":"oa","MsgType":"text","Content":"hi"}`)
		Eventually(func() string {
			_, j, _ := controlCall(http.MethodGet, emu+"/journal?kind=api&user="+config.DemoAliceOA, "")
			return j
		}, 5*time.Second).Should(ContainSubstring("message 3 of 3"))
		act(emu+"/apps/oa/tokens/expire", "")

		file := filepath.Join(GinkgoT().TempDir(), "async.yaml")
		body := stopRecording(emu, file)
		list, err := scenario.Load(nil, file)
		Expect(err).NotTo(HaveOccurred())
		steps := list[0].Steps
		Expect(steps[0].User).To(Equal("alice"))
		Expect(*steps[0].Sends.Count).To(Equal(3), body)
		Expect(steps[0].Reply.Outcome).To(Equal("none"))
		Expect(steps[1].User).To(Equal("bob"))
		Expect(*steps[1].Sends.Count).To(Equal(1), body)
		Expect(steps[2].Tokens).To(Equal("expire"))

		run := replay(file, "--target", "--bot", "async")
		Expect(run.ExitCode()).To(Equal(0), string(run.Out.Contents()))
		run = replay(file, "--target", "--bot", "oa")
		Expect(run.ExitCode()).To(Equal(1), string(run.Out.Contents()))
	})
})

var _ = Describe("wxemu record against a running wxemu serve", func() {
	It("starts, tells its state, and stops with the scenario written to -o FILE or printed", func() {
		base, _, _ := serveWithBot("--target", []string{"--bot", "oa"})
		s := wxemu("record", "--emu", base)
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		Expect(string(s.Out.Contents())).To(Equal("not recording; start with: wxemu record start [NAME]\n"))
		s = wxemu("record", "start", "cli session", "--emu", base)
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		Expect(string(s.Out.Contents())).To(MatchRegexp(`^recording "cli session" from journal entry \d+; stop with: wxemu record stop -o cli-session.yaml\n$`))
		s = wxemu("record", "start", "--emu", base)
		Expect(s.ExitCode()).To(Equal(1))
		Expect(string(s.Err.Contents())).To(ContainSubstring(`wxemu record: recording "cli session" is running already (since journal entry `))

		Expect(wxemu("user", "alice", "send", "text", "hi", "--emu", base).ExitCode()).To(Equal(0))
		Expect(wxemu("clock", "advance", "30m1s", "--emu", base).ExitCode()).To(Equal(0))
		s = wxemu("record", "status", "--emu", base)
		Expect(string(s.Out.Contents())).To(MatchRegexp(`^recording "cli session" since journal entry \d+: 2 actions so far\n$`))

		file := filepath.Join(GinkgoT().TempDir(), "cli.yaml")
		s = wxemu("record", "stop", "-o", file, "--emu", base)
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		Expect(string(s.Out.Contents())).To(Equal("recording stopped; its scenario is in " + file + "; replay it with: wxemu run " + file + " --target URL\n"))
		list, err := scenario.Load(nil, file)
		Expect(err).NotTo(HaveOccurred())
		Expect(list[0].Name).To(Equal("cli session"))
		Expect(list[0].Steps).To(HaveLen(2))
		Expect(*list[0].Steps[0].Reply.Text.Exact).To(Equal("hello, hi"))

		s = wxemu("record", "stop", "--emu", base)
		Expect(s.ExitCode()).To(Equal(1))
		Expect(string(s.Err.Contents())).To(ContainSubstring("no recording is running"))
		s = wxemu("record", "start", "--emu", base)
		Expect(s.ExitCode()).To(Equal(0))
		s = wxemu("record", "stop", "--emu", base)
		Expect(s.ExitCode()).To(Equal(0))
		Expect(string(s.Out.Contents())).To(HavePrefix("# Recorded with wxemu serve: session "))
		Expect(string(s.Err.Contents())).To(MatchRegexp(`serve named it session-[0-9-]+\.yaml`))

		s = wxemu("record", "pause", "--emu", base)
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring(`unknown action "pause"`))
		s = wxemu("record", "start", "-o", "x.yaml", "--emu", base)
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring("-o goes with stop"))
	})
})

// sinceOf reads "since" from the answer of recording/start.
func sinceOf(answer string) string {
	i := strings.Index(answer, `"since":`)
	Expect(i).To(BeNumerically(">=", 0), answer)
	rest := answer[i+len(`"since":`):]
	return rest[:strings.IndexAny(rest, ",}")]
}
