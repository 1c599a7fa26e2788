package console_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/console"
)

var _ = Describe("The console's files", func() {
	get := func(h http.Handler, path string) (int, string, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		body, _ := io.ReadAll(rec.Body)
		return rec.Code, rec.Header().Get("Content-Type"), string(body)
	}

	It("serves index.html at / and the modules by name, from the binary", func() {
		h := console.Handler("")
		code, ct, body := get(h, "/")
		Expect(code).To(Equal(200))
		Expect(ct).To(HavePrefix("text/html"))
		Expect(body).To(ContainSubstring(`<script type="module" src="/_emu/console/app.js">`))
		code, ct, _ = get(h, "/app.js")
		Expect(code).To(Equal(200))
		Expect(ct).To(HavePrefix("text/javascript"))
		code, _, _ = get(h, "/nope.js")
		Expect(code).To(Equal(404))
	})

	It("serves the files of a folder instead, read on every request, for --console-dir", func() {
		dir := GinkgoT().TempDir()
		Expect(os.WriteFile(filepath.Join(dir, "index.html"), []byte("first"), 0o644)).To(Succeed())
		h := console.Handler(dir)
		_, _, body := get(h, "/")
		Expect(body).To(Equal("first"))
		Expect(os.WriteFile(filepath.Join(dir, "index.html"), []byte("second"), 0o644)).To(Succeed())
		_, _, body = get(h, "/")
		Expect(body).To(Equal("second"))
	})

	// The page may ask nothing of any host but wxemu: no URL of another host in what it loads
	// (the browser specs check the requests themselves; this names the file and line).
	It("names no other host in any file, and loads only its own files", func() {
		url := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
		load := regexp.MustCompile(`(?:src|href)="([^"]*)"|from '([^']*)'|import\('([^']*)'\)|url\(([^)]*)\)`)
		// Text the page shows or sends as data, never loads: the demo values of the message
		// forms, which a bot receives.
		allowed := []string{"http://mmbiz.qpic.cn/mmbiz_jpg/wxemu-demo/0", "https://example.com/"}
		n := 0
		Expect(fs.WalkDir(console.Static(), ".", func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			n++
			data, err := fs.ReadFile(console.Static(), path)
			if err != nil {
				return err
			}
			for i, line := range strings.Split(string(data), "\n") {
				rest := line
				for _, a := range allowed {
					rest = strings.ReplaceAll(rest, "'"+a+"'", "")
				}
				Expect(url.FindString(rest)).To(BeEmpty(), "%s:%d names another host: %s", path, i+1, line)
				for _, m := range load.FindAllStringSubmatch(line, -1) {
					ref := m[1] + m[2] + m[3] + m[4]
					if strings.HasPrefix(ref, "data:") || ref == "" {
						continue
					}
					Expect(ref).To(Or(HavePrefix("/_emu/console/"), HavePrefix("./")), "%s:%d loads %q", path, i+1, ref)
				}
			}
			return nil
		})).To(Succeed())
		Expect(n).To(BeNumerically(">=", 7))
	})
})
