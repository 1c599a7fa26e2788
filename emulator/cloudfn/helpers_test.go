package cloudfn_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/cloudfn"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/wire"
)

const (
	mpAppID = "wx7a6b5c4d3e2f1a09"
	alice   = config.DemoAliceMP
)

// fixture is the folder of a sample function of fixtures/functions, whose wx-server-sdk .ci/run
// installs. A spec never skips for want of it: it fails and says how to install it.
func fixture(name string) string {
	dir := filepath.Join("..", "..", "fixtures", "functions", name)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "wx-server-sdk", "package.json")); err != nil {
		Fail(fmt.Sprintf("%s/node_modules is missing: run .ci/run (npm ci in each fixtures/functions folder)", dir))
	}
	return dir
}

// testFn is the folder of a function of testdata/functions: no dependencies, nothing to install.
func testFn(name string) string { return filepath.Join("testdata", "functions", name) }

// world is a platform with the demo config, a host of cloud functions, and the gateway served
// on a loopback listener.
type world struct {
	p    *platform.Platform
	h    *cloudfn.Host
	url  string // the gateway
	logs *gbytes.Buffer
}

func newWorld(specs ...cloudfn.FunctionSpec) *world {
	GinkgoHelper()
	p, err := platform.New(platform.Options{Clock: clock.NewFake(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(p.Close)
	logs := gbytes.NewBuffer()
	log := slog.New(slog.NewTextHandler(io.MultiWriter(GinkgoWriter, logs), &slog.HandlerOptions{Level: slog.LevelDebug}))
	h, err := cloudfn.New(cloudfn.Options{Platform: p, Logger: log}, specs)
	Expect(err).NotTo(HaveOccurred())
	mux := http.NewServeMux()
	mux.Handle("/admin", h.Handler())
	srv := httptest.NewServer(mux)
	DeferCleanup(srv.Close)
	url := srv.URL + "/admin"
	Expect(h.Start(url)).To(Succeed())
	DeferCleanup(h.Close)
	return &world{p: p, h: h, url: url, logs: logs}
}

// spec is a function of the demo Mini Program.
func spec(dir string) cloudfn.FunctionSpec { return cloudfn.FunctionSpec{App: "mp", Dir: dir} }

// send is alice saying text to the Mini Program.
func (w *world) send(text string) *platform.Interaction {
	GinkgoHelper()
	in, err := w.p.UserSends(context.Background(), "mp", alice, wire.Message{MsgType: "text", Content: text})
	Expect(err).NotTo(HaveOccurred())
	Expect(in.Result).NotTo(BeNil())
	return in
}

func (w *world) entries(kind string) []platform.Entry {
	return w.p.Journal(platform.JournalFilter{Kind: kind})
}

// output is everything the functions printed, in order.
func (w *world) output() string {
	var b strings.Builder
	for _, e := range w.entries(platform.KindLog) {
		b.WriteString(e.Log.Text)
	}
	return b.String()
}

// token is the last wxCloudApiToken a testdata function printed ("token …").
func (w *world) token() string {
	m := regexp.MustCompile(`token ([0-9a-f]+)`).FindAllStringSubmatch(w.output(), -1)
	if len(m) == 0 {
		return ""
	}
	return m[len(m)-1][1]
}

// custom is what the bot sent alice through the customer-service API.
func (w *world) custom() []string {
	var out []string
	for _, l := range w.p.Transcript(mpAppID, alice) {
		if l.Kind == platform.LineCustom {
			out = append(out, l.Text)
		}
	}
	return out
}

// gateway is the answer of the gateway to one request.
type gateway struct {
	status      int
	contentType string
	body        []byte
}

// post sends a multipart request to the gateway, as the SDK does.
func (w *world) post(fields map[string]string, requestData []byte) gateway {
	GinkgoHelper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		Expect(mw.WriteField(k, v)).To(Succeed())
	}
	if requestData != nil {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="requestData"`)
		h.Set("Content-Type", "application/octet-stream")
		part, err := mw.CreatePart(h)
		Expect(err).NotTo(HaveOccurred())
		_, _ = part.Write(requestData)
	}
	Expect(mw.Close()).To(Succeed())
	resp, err := http.Post(w.url, mw.FormDataContentType(), &body)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return gateway{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: b}
}

// openAPI is a cloud.openapi call with token.
func (w *world) openAPI(token, api string, pairs ...cloudfn.Pair) gateway {
	GinkgoHelper()
	return w.post(map[string]string{"action": "wx.openApi", "apiName": api, "wxCloudApiToken": token, "envName": "wxemu-" + mpAppID},
		cloudfn.APIData{Pairs: pairs}.Append(nil))
}

// resp reads an answer of wx.openApi.
func (g gateway) resp() cloudfn.OpenAPIResp {
	GinkgoHelper()
	Expect(g.contentType).To(Equal("application/octet-stream"), string(g.body))
	r, err := cloudfn.DecodeOpenAPIResp(g.body)
	Expect(err).NotTo(HaveOccurred())
	return r
}

// hold runs a testdata state function's "hold": its invocation stays open, with a live token,
// until release is called; done is closed when the push has ended.
func (w *world) hold() (token string, release func(), done <-chan *platform.Interaction) {
	GinkgoHelper()
	gate := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		select {
		case <-gate:
		case <-r.Context().Done():
		}
	}))
	DeferCleanup(srv.Close)
	released := false
	release = func() {
		if !released {
			released = true
			close(gate)
		}
	}
	DeferCleanup(release)
	ch := make(chan *platform.Interaction, 1)
	go func() {
		defer GinkgoRecover()
		in, err := w.p.UserSends(context.Background(), "mp", alice, wire.Message{MsgType: "text", Content: "hold " + srv.URL})
		Expect(err).NotTo(HaveOccurred())
		ch <- in
	}()
	Eventually(w.token).ShouldNot(BeEmpty())
	return w.token(), release, ch
}

// violation finds the violation of rule in a verdict.
func violation(r *platform.PushResult, rule string) string {
	for _, v := range r.Violations {
		if v.Rule == rule {
			return v.Message
		}
	}
	return ""
}

// gbytesSay is gbytes.Say, waited for: what a worker logs comes from its own goroutines.
func gbytesSay(s string) OmegaMatcher { return gbytes.Say(regexp.QuoteMeta(s)) }
