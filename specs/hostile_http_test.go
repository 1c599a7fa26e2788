package specs_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/wxemu/wxemu/emulator"
	"github.com/wxemu/wxemu/emulator/apiserver"
	"github.com/wxemu/wxemu/emulator/config"
)

// These specs are the regressions of an adversarial review of wxemu's HTTP face: what a hostile
// client, a slow one, or a web page the developer has open can do to a running emulator.

// startEmu runs an in-process emulator on loopback, configured before Start, its Official
// Account's bot a stub that answers "success".
func startEmu(configure func(*emulator.Emulator)) *emulator.Emulator {
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write([]byte("success"))
	}))
	DeferCleanup(bot.Close)
	emu, err := emulator.New(emulator.Options{Config: config.Default(), Targets: map[string]string{"oa": bot.URL + "/wx"}})
	Expect(err).NotTo(HaveOccurred())
	if configure != nil {
		configure(emu)
	}
	Expect(emu.Start("127.0.0.1:0")).To(Succeed())
	DeferCleanup(emu.Close)
	return emu
}

// do sends a request and returns the status and the body.
func do(req *http.Request) (int, string) {
	GinkgoHelper()
	resp, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return resp.StatusCode, string(body)
}

func newRequest(method, url, body string) *http.Request {
	GinkgoHelper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	return req
}

// multipartTempFiles lists the temporary files mime/multipart spills large parts into.
func multipartTempFiles() []string {
	files, _ := filepath.Glob(filepath.Join(os.TempDir(), "multipart-*"))
	return files
}

// uploadGenerator is a multipart body whose file part is size bytes, made as it is read; it
// counts what the server took, and looks for spilled parts once it has given more than the bound.
type uploadGenerator struct {
	head, tail []byte
	size, sent int64
	read       atomic.Int64
	before     map[string]bool
	spilled    atomic.Value // string: a new multipart-* file seen while uploading
	looked     bool
}

func newUploadGenerator(size int64) *uploadGenerator {
	g := &uploadGenerator{size: size, before: map[string]bool{}}
	g.head = []byte("--BOUNDARY\r\nContent-Disposition: form-data; name=\"media\"; filename=\"big.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n")
	g.tail = []byte("\r\n--BOUNDARY--\r\n")
	for _, f := range multipartTempFiles() {
		g.before[f] = true
	}
	g.spilled.Store("")
	return g
}

func (g *uploadGenerator) Read(p []byte) (int, error) {
	n := 0
	if len(g.head) > 0 {
		n = copy(p, g.head)
		g.head = g.head[n:]
	} else if g.sent < g.size {
		m := int64(len(p))
		if m > g.size-g.sent {
			m = g.size - g.sent
		}
		for i := range p[:m] {
			p[i] = 0xA5
		}
		g.sent += m
		n = int(m)
	} else if len(g.tail) > 0 {
		n = copy(p, g.tail)
		g.tail = g.tail[n:]
	} else {
		return 0, io.EOF
	}
	g.read.Add(int64(n))
	if !g.looked && g.sent > 14<<20 {
		// Past the 12 MiB bound: a server that spills the part to disk has made its file by now.
		g.looked = true
		for range 20 {
			for _, f := range multipartTempFiles() {
				if !g.before[f] {
					g.spilled.Store(f)
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return n, nil
}

func accessToken(base string) string {
	GinkgoHelper()
	v := getJSON(base + "/cgi-bin/token?grant_type=client_credential&appid=" + config.DemoOAAppID + "&secret=" + config.DemoOASecret)
	Expect(v).To(HaveKeyWithValue("access_token", Not(BeEmpty())))
	return v["access_token"].(string)
}

var _ = Describe("a hostile HTTP client", func() {
	Describe("a media upload far over the bound", func() {
		for _, path := range []string{"/cgi-bin/media/upload?type=image", "/customservice/kfaccount/uploadheadimg?kf_account=" + config.DemoOAAgent1} {
			It("is refused with 45001 at the bound, without reading it all or spilling it to disk: "+path, func() {
				emu := startEmu(nil)
				gen := newUploadGenerator(40 << 20)
				req, err := http.NewRequest(http.MethodPost, emu.URL()+path+"&access_token="+accessToken(emu.URL()), gen)
				Expect(err).NotTo(HaveOccurred())
				req.Header.Set("Content-Type", "multipart/form-data; boundary=BOUNDARY")
				status, body := do(req)
				Expect(status).To(Equal(http.StatusOK))
				Expect(body).To(ContainSubstring(`"errcode":45001`))
				Expect(gen.read.Load()).To(BeNumerically("<", 30<<20), "the server read the whole upload before refusing it")
				Expect(gen.spilled.Load()).To(BeEmpty(), "the upload was written to a temporary file")
				var spilled []string
				for _, f := range multipartTempFiles() {
					if !gen.before[f] {
						spilled = append(spilled, f)
					}
				}
				Expect(spilled).To(BeEmpty())
			})
		}

		It("still takes an upload within the bound", func() {
			emu := startEmu(nil)
			body := &bytes.Buffer{}
			fmt.Fprint(body, "--B\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--B\r\nContent-Disposition: form-data; name=\"media\"; filename=\"a.jpg\"\r\n\r\n")
			body.Write([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F', 0})
			body.Write(make([]byte, 2<<20))
			fmt.Fprint(body, "\r\n--B--\r\n")
			req := newRequest(http.MethodPost, emu.URL()+"/cgi-bin/media/upload?type=image&access_token="+accessToken(emu.URL()), body.String())
			req.Header.Set("Content-Type", "multipart/form-data; boundary=B")
			status, answer := do(req)
			Expect(status).To(Equal(http.StatusOK))
			Expect(answer).To(ContainSubstring(`"media_id"`), answer)
		})
	})

	Describe("a web page driving the control plane", func() {
		It("is refused: a cross-site text/plain POST to reset, and a forged Host", func() {
			emu := startEmu(nil)
			req := newRequest(http.MethodPost, emu.URL()+"/_emu/v1/reset", "x")
			req.Header.Set("Content-Type", "text/plain")
			req.Header.Set("Origin", "http://evil.example")
			status, body := do(req)
			Expect(status).To(Equal(http.StatusForbidden))
			Expect(body).To(ContainSubstring("--cors-origin http://evil.example"))

			req = newRequest(http.MethodGet, emu.URL()+"/_emu/v1/apps", "")
			req.Host = "evil.example:7700"
			status, body = do(req)
			Expect(status).To(Equal(http.StatusForbidden))
			Expect(body).To(ContainSubstring("--host evil.example"))
			Expect(body).NotTo(ContainSubstring(config.DemoOASecret))

			for _, host := range []string{"localhost", "127.0.0.1", "[::1]"} {
				req = newRequest(http.MethodGet, emu.URL()+"/_emu/v1/clock", "")
				req.Host = host + ":7700"
				status, _ = do(req)
				Expect(status).To(Equal(http.StatusOK), host)
			}
		})

		It("leaves WeChat's own API as open as WeChat's", func() {
			emu := startEmu(nil)
			req := newRequest(http.MethodGet, emu.URL()+"/cgi-bin/token?grant_type=client_credential&appid="+config.DemoOAAppID+"&secret="+config.DemoOASecret, "")
			req.Host = "api.weixin.qq.com"
			req.Header.Set("Origin", "http://evil.example")
			status, body := do(req)
			Expect(status).To(Equal(http.StatusOK))
			Expect(body).To(ContainSubstring("access_token"))
		})

		It("answers CORS, preflight included, to an allowed origin and a configured host", func() {
			emu := startEmu(func(e *emulator.Emulator) {
				e.SetControlAccess(apiserver.ControlAccess{Origins: []string{"http://localhost:3000"}, Hosts: []string{"wxemu.test"}})
			})
			req := newRequest(http.MethodOptions, emu.URL()+"/_emu/v1/reset", "")
			req.Header.Set("Origin", "http://localhost:3000")
			req.Header.Set("Access-Control-Request-Method", "POST")
			resp, err := http.DefaultClient.Do(req)
			Expect(err).NotTo(HaveOccurred())
			resp.Body.Close()
			Expect(resp.StatusCode).To(Equal(http.StatusNoContent))
			Expect(resp.Header.Get("Access-Control-Allow-Origin")).To(Equal("http://localhost:3000"))
			Expect(resp.Header.Get("Access-Control-Allow-Methods")).To(ContainSubstring("POST"))

			req = newRequest(http.MethodPost, emu.URL()+"/_emu/v1/reset", "")
			req.Header.Set("Origin", "http://localhost:3000")
			req.Host = "wxemu.test:7700"
			resp, err = http.DefaultClient.Do(req)
			Expect(err).NotTo(HaveOccurred())
			resp.Body.Close()
			Expect(resp.StatusCode).To(Equal(http.StatusOK))
			Expect(resp.Header.Get("Access-Control-Allow-Origin")).To(Equal("http://localhost:3000"))
		})

		It("requires the control token when one is set, and the wxemu commands send $WXEMU_CONTROL_TOKEN", func() {
			base, session := serve("--control-token", "s3cret")
			Expect(string(session.Out.Contents())).To(ContainSubstring("control token s3cret"))
			status, body := do(newRequest(http.MethodGet, base+"/_emu/v1/apps", ""))
			Expect(status).To(Equal(http.StatusUnauthorized))
			Expect(body).NotTo(ContainSubstring(config.DemoOASecret))
			Expect(body).To(ContainSubstring("WXEMU_CONTROL_TOKEN"))

			req := newRequest(http.MethodGet, base+"/_emu/v1/clock", "")
			req.Header.Set("Authorization", "Bearer s3cret")
			status, _ = do(req)
			Expect(status).To(Equal(http.StatusOK))

			cmd := wxemuCommand("clock", "--emu", base)
			Expect(runTo(cmd)).NotTo(Equal(0))
			cmd = wxemuCommand("clock", "--emu", base)
			cmd.Env = append(cmd.Env, "WXEMU_CONTROL_TOKEN=s3cret")
			Expect(runTo(cmd)).To(Equal(0))
		})

		It("refuses a --cors-origin that is not an origin", func() {
			s := wxemu("serve", "--addr", "127.0.0.1:0", "--cors-origin", "localhost:3000/app")
			Expect(s.ExitCode()).To(Equal(2))
			Expect(string(s.Err.Contents())).To(ContainSubstring("scheme://host[:port]"))
		})
	})

	Describe("PUT /_emu/v1/state", func() {
		It("takes back an export over 1 MiB", func() {
			emu := startEmu(nil)
			text := strings.Repeat("长", 200)
			for i := range 2500 {
				status, body := do(newRequest(http.MethodPost, emu.URL()+fmt.Sprintf("/_emu/v1/users/o6_bmj_user%05d/send", i),
					`{"app":"oa","MsgType":"text","Content":"`+text+`"}`))
				Expect(status).To(Equal(http.StatusOK), body)
			}
			status, export := do(newRequest(http.MethodGet, emu.URL()+"/_emu/v1/state", ""))
			Expect(status).To(Equal(http.StatusOK))
			Expect(len(export)).To(BeNumerically(">", 1<<20))

			before := len(emu.Platform().Users(""))
			emu.Reset()
			status, body := do(newRequest(http.MethodPut, emu.URL()+"/_emu/v1/state", export))
			Expect(status).To(Equal(http.StatusOK), body)
			Expect(emu.Platform().Users("")).To(HaveLen(before))
			_, again := do(newRequest(http.MethodGet, emu.URL()+"/_emu/v1/state", ""))
			// The same state comes back (the export's own time moves with the real clock).
			var was, is map[string]json.RawMessage
			Expect(json.Unmarshal([]byte(export), &was)).To(Succeed())
			Expect(json.Unmarshal([]byte(again), &is)).To(Succeed())
			for _, part := range []string{"users", "grants", "transcripts", "kf", "media"} {
				Expect(string(is[part])).To(Equal(string(was[part])), part)
			}
		})
	})

	Describe("an openid on the control plane", func() {
		It("of 100 KB is refused with 400 and never becomes a user", func() {
			emu := startEmu(nil)
			long := strings.Repeat("o", 100<<10)
			status, body := do(newRequest(http.MethodPost, emu.URL()+"/_emu/v1/users/"+long+"/send", `{"app":"oa","MsgType":"text","Content":"hi"}`))
			Expect(status).To(Equal(http.StatusBadRequest))
			Expect(body).To(ContainSubstring("an openid is at most 64"))
			status, body = do(newRequest(http.MethodPost, emu.URL()+"/_emu/v1/agents/"+config.DemoOAAgent1+"/accept", `{"app":"oa","openid":"`+long+`"}`))
			Expect(status).To(Equal(http.StatusBadRequest))
			Expect(body).To(ContainSubstring(`openid\" is 102400 bytes long`))
			for _, u := range emu.Platform().Users("") {
				Expect(len(u.OpenID)).To(BeNumerically("<=", 64))
			}
			status, body = do(newRequest(http.MethodPost, emu.URL()+"/_emu/v1/users/hand-made_user/send", `{"app":"oa","MsgType":"text","Content":"hi"}`))
			Expect(status).To(Equal(http.StatusOK), body)
		})
	})

	Describe("a slow or idle connection", func() {
		var emu *emulator.Emulator
		BeforeEach(func() {
			emu = startEmu(func(e *emulator.Emulator) {
				e.SetTimeouts(emulator.Timeouts{Body: 300 * time.Millisecond, Idle: 300 * time.Millisecond, Write: 300 * time.Millisecond})
			})
		})
		dial := func() net.Conn {
			conn, err := net.Dial("tcp", strings.TrimPrefix(emu.URL(), "http://"))
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(conn.Close)
			return conn
		}
		// closedWithin reads until the server closes the connection, failing after d.
		closedWithin := func(conn net.Conn, d time.Duration) error {
			Expect(conn.SetReadDeadline(time.Now().Add(d))).To(Succeed())
			_, err := io.Copy(io.Discard, conn)
			return err
		}

		It("is cut when its body trickles", func() {
			conn := dial()
			fmt.Fprint(conn, "POST /_emu/v1/clock/advance HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
			Expect(closedWithin(conn, 3*time.Second)).To(Succeed(), "the connection is still open")
		})

		It("is cut when it idles between requests", func() {
			conn := dial()
			fmt.Fprint(conn, "GET /_emu/v1/clock HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			Expect(err).NotTo(HaveOccurred())
			Expect(resp.StatusCode).To(Equal(http.StatusOK))
			_, _ = io.Copy(io.Discard, resp.Body)
			Expect(closedWithin(conn, 3*time.Second)).To(Succeed(), "the idle connection is still open")
		})

		It("leaves the journal stream open past the write timeout", func() {
			emu = startEmu(func(e *emulator.Emulator) { e.SetTimeouts(emulator.Timeouts{Write: 300 * time.Millisecond}) })
			resp, err := http.Get(emu.URL() + "/_emu/v1/journal/stream")
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(resp.Body.Close)
			lines := make(chan string, 100)
			go func() {
				defer GinkgoRecover()
				sc := bufio.NewScanner(resp.Body)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			time.Sleep(600 * time.Millisecond) // past the write timeout, on purpose: wall time is what is tested
			status, _ := do(newRequest(http.MethodPost, emu.URL()+"/_emu/v1/reset", ""))
			Expect(status).To(Equal(http.StatusOK))
			Eventually(lines, 3*time.Second).Should(Receive(HavePrefix("event: control")))
		})
	})

	Describe("wxemu serve stopping with --export-on-exit", func() {
		It("lets a send in flight finish before it writes the export", func() {
			from := regexp.MustCompile(`<FromUserName><!\[CDATA\[(.*?)\]\]>`)
			to := regexp.MustCompile(`<ToUserName><!\[CDATA\[(.*?)\]\]>`)
			bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if r.Method != http.MethodPost {
					_, _ = w.Write([]byte(r.URL.Query().Get("echostr")))
					return
				}
				time.Sleep(1500 * time.Millisecond) // a slow bot: the stop comes while it thinks
				f, t := from.FindSubmatch(body), to.FindSubmatch(body)
				if f == nil || t == nil {
					http.Error(w, "not a push", http.StatusBadRequest)
					return
				}
				fmt.Fprintf(w, "<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[late answer]]></Content></xml>",
					f[1], t[1], time.Now().Unix())
			}))
			DeferCleanup(bot.Close)
			export := filepath.Join(GinkgoT().TempDir(), "state.json")
			base, session := serve("--target", bot.URL+"/wx", "--export-on-exit", export)
			sent := make(chan int, 1)
			go func() {
				defer GinkgoRecover()
				resp, err := http.Post(base+"/_emu/v1/users/"+config.DemoAliceOA+"/send", "application/json", strings.NewReader(`{"app":"oa","MsgType":"text","Content":"hi"}`))
				if err != nil {
					sent <- -1
					return
				}
				resp.Body.Close()
				sent <- resp.StatusCode
			}()
			// Wall time on purpose: the stop must come while the bot is still thinking.
			time.Sleep(500 * time.Millisecond)
			session.Signal(syscall.SIGTERM)
			Eventually(session, 10*time.Second).Should(gexec.Exit(0))
			Eventually(sent).Should(Receive(Equal(http.StatusOK)))
			data, err := os.ReadFile(export)
			Expect(err).NotTo(HaveOccurred())
			Expect(json.Valid(data)).To(BeTrue())
			Expect(string(data)).To(ContainSubstring("late answer"))
		})
	})
})

// runTo runs a wxemu command to its end and returns its exit code.
func runTo(cmd *exec.Cmd) int {
	cmd.Stdout, cmd.Stderr = GinkgoWriter, GinkgoWriter
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		Expect(errors.As(err, &ee)).To(BeTrue(), "run %s: %v", cmd.Args, err)
		return ee.ExitCode()
	}
	return 0
}
