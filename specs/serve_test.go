package specs_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"
)

var apiLine = regexp.MustCompile(`the WeChat API is at (http://127\.0\.0\.1:\d+)`)

// serve runs `wxemu serve` and returns its API base URL and session. The caller stops it.
func serve(args ...string) (string, *gexec.Session) {
	cmd := wxemuCommand(append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	session, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		session.Signal(syscall.SIGKILL)
		session.Wait(5 * time.Second)
	})
	Eventually(session.Out, 10*time.Second).Should(gbytes.Say(`(?m)^ready$`))
	m := apiLine.FindSubmatch(session.Out.Contents())
	Expect(m).NotTo(BeNil(), "banner: %s", session.Out.Contents())
	return string(m[1]), session
}

// freePort finds a loopback port nothing listens on, for a bot that must be named before it runs.
func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	port := ln.Addr().(*net.TCPAddr).Port
	Expect(ln.Close()).To(Succeed())
	return port
}

func getJSON(url string) map[string]any {
	resp, err := http.Get(url)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	var v map[string]any
	Expect(json.NewDecoder(resp.Body).Decode(&v)).To(Succeed())
	return v
}

func postJSON(url, body string) map[string]any {
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	var v map[string]any
	Expect(json.Unmarshal(data, &v)).To(Succeed(), string(data))
	return v
}

var _ = Describe("wxemu serve", func() {
	It("runs with zero configuration and tells how to connect", func() {
		base, session := serve()
		out := string(session.Out.Contents())
		for _, want := range []string{"wx0e1d2c3b4a596877", "e1d2c3b4a5968778f9e0d1c2b3a49586", "gh_e1d2c3b4a596", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
			"wx7a6b5c4d3e2f1a09", "o6_bmjrPTlm6_2sgVt7hMZOPfL2M", "Point your SDK at " + base} {
			Expect(out).To(ContainSubstring(want))
		}
		apps := getJSON(base + "/_emu/v1/apps")["apps"].([]any)
		Expect(apps).To(HaveLen(2))

		session.Signal(syscall.SIGINT)
		Eventually(session, 5*time.Second).Should(gexec.Exit(0))
	})

	It("runs a bot end to end, and keeps its state across a restart", func() {
		port := freePort()
		target := "http://127.0.0.1:" + strconv.Itoa(port) + "/wx"
		state := filepath.Join(GinkgoT().TempDir(), "state.json")
		base, session := serve("--target", "oa="+target, "--export-on-exit", state)
		bot := exec.Command(binaries.Samplebot, "--bot", "oa", "--listen", "127.0.0.1:"+strconv.Itoa(port), "--api-base", base)
		botSession, err := gexec.Start(bot, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { botSession.Signal(syscall.SIGTERM); botSession.Wait(5 * time.Second) })
		Eventually(botSession.Out, 10*time.Second).Should(gbytes.Say("listening on"))

		in := postJSON(base+"/_emu/v1/users/o6_bmjrPTlm6_2sgVt7hMZOPfL2M/send", `{"app":"oa","MsgType":"text","Content":"push 6"}`)
		Expect(in["result"].(map[string]any)["outcome"]).To(Equal("none"))
		api := getJSON(base + "/_emu/v1/journal?kind=api")["entries"].([]any)
		var sends []string
		for _, e := range api {
			s := e.(map[string]any)["summary"].(string)
			if strings.Contains(s, "custom/send") {
				sends = append(sends, s)
			}
		}
		Expect(sends).To(HaveLen(6))
		Expect(sends[5]).To(ContainSubstring("45047 out of response count limit"))

		session.Signal(syscall.SIGTERM)
		Eventually(session, 5*time.Second).Should(gexec.Exit(0))
		Expect(session.Out).To(gbytes.Say("state written to"))
		data, err := os.ReadFile(state)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(data)).To(ContainSubstring("message 5 of 6"))

		base2, _ := serve("--import", state)
		lines := getJSON(base2 + "/_emu/v1/users/o6_bmjrPTlm6_2sgVt7hMZOPfL2M/transcript?app=oa")["lines"].([]any)
		Expect(lines).To(HaveLen(6), "the user's message and the five delivered")
		grants := getJSON(base2 + "/_emu/v1/users/o6_bmjrPTlm6_2sgVt7hMZOPfL2M/grants?app=oa")["grants"].([]any)
		Expect(grants[0]).To(HaveKeyWithValue("remaining", 0.0))
	})

	It("names the file, line and fix of a broken config, and exits 2", func() {
		path := filepath.Join(GinkgoT().TempDir(), "wxemu.yaml")
		Expect(os.WriteFile(path, []byte("apps:\n  - alias: oa\n    kind: oa\n    tokn: abc\n"), 0o644)).To(Succeed())
		s := wxemu("serve", "--config", path)
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring(path + ":4"))
		Expect(string(s.Err.Contents())).To(ContainSubstring(`did you mean "token"`))
	})

	It("prints the embedded config, which loads back as a config file", func() {
		s := wxemu("serve", "--print-config")
		Expect(s.ExitCode()).To(Equal(0))
		path := filepath.Join(GinkgoT().TempDir(), "default.yaml")
		Expect(os.WriteFile(path, s.Out.Contents(), 0o644)).To(Succeed())
		base, session := serve("--config", path)
		Expect(getJSON(base + "/_emu/v1/apps")["apps"]).To(HaveLen(2))
		session.Signal(syscall.SIGTERM)
		Eventually(session, 5*time.Second).Should(gexec.Exit(0))
	})
})

var _ = Describe("wxemu serve, as a new user meets it", func() {
	appURLs := func(base string) map[string]string {
		out := map[string]string{}
		for _, a := range getJSON(base + "/_emu/v1/apps")["apps"].([]any) {
			app := a.(map[string]any)
			out[app["alias"].(string)] = app["url"].(string)
		}
		return out
	}

	It("points --target at the Official Account only, and --target-mp at the Mini Program", func() {
		base, _ := serve("--target", "http://127.0.0.1:9/wx")
		Expect(appURLs(base)).To(Equal(map[string]string{"oa": "http://127.0.0.1:9/wx", "mp": ""}))

		base, _ = serve("--target", "http://127.0.0.1:9/wx", "--target-mp", "http://127.0.0.1:10/wx")
		Expect(appURLs(base)).To(Equal(map[string]string{"oa": "http://127.0.0.1:9/wx", "mp": "http://127.0.0.1:10/wx"}))

		base, _ = serve("--target", "mp=http://127.0.0.1:10/wx")
		Expect(appURLs(base)).To(Equal(map[string]string{"oa": "", "mp": "http://127.0.0.1:10/wx"}))

		s := wxemu("serve", "--target", "pm=http://127.0.0.1:10/wx")
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring(`--target pm=URL: no app "pm" (did you mean "mp"?)`))
	})

	It("gives first commands that work for how it was started", func() {
		base, _, session := serveWithBot("--target", []string{"--bot", "oa"})
		out := string(session.Out.Contents())
		Expect(out).To(ContainSubstring("Try, from another terminal:"))
		try := regexp.MustCompile(`(?m)^  (wxemu user .*)$`).FindStringSubmatch(out)
		Expect(try).NotTo(BeNil(), out)
		args := strings.Fields(try[1])[1:]
		s := wxemu(args...)
		Expect(s.ExitCode()).To(Equal(0), "the banner's first command %q: %s", try[1], s.Err.Contents())
		Expect(string(s.Out.Contents())).To(ContainSubstring("user sees  hello, hi"))
		Expect(args).To(ContainElements("--emu", base), "serve does not listen on the default address")

		curl := regexp.MustCompile(`(?m)^  curl -s -XPOST (\S+) -d '(.*)'$`).FindStringSubmatch(out)
		Expect(curl).NotTo(BeNil(), out)
		Expect(postJSON(curl[1], curl[2])["result"]).To(HaveKeyWithValue("outcome", "reply"))
		expectGolden("serve-banner-target", normalize(out))
	})

	It("without a bot, says how to give one rather than suggest a send that fails", func() {
		_, session := serve()
		out := string(session.Out.Contents())
		Expect(out).NotTo(ContainSubstring("wxemu user"))
		Expect(out).NotTo(ContainSubstring("curl -s -XPOST"))
		Expect(out).To(ContainSubstring("No app has a bot to push to yet"))
		Expect(out).To(ContainSubstring("--target-mp http://127.0.0.1:8081/wx"))
		expectGolden("serve-banner", normalize(out))
	})

	It("shows wechatpy's token URL, which wechatpy does not take from API_BASE_URL", func() {
		base, session := serve()
		Expect(string(session.Out.Contents())).To(ContainSubstring(`fetch_access_token from "` + base + `/cgi-bin/token"`))
	})
})
