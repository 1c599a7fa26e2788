package specs_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The browser the console specs drive: Debian's chromium, started once for the suite, a fresh
// tab per spec. .ci/run installs it; without it the specs fail under CI=true and are skipped,
// saying how to install it, elsewhere.

const chromiumPath = "/usr/bin/chromium"

// chromium starts the suite's browser, or skips (fails under CI) when it is missing.
func chromium() context.Context {
	path := chromiumPath
	if _, err := os.Stat(path); err != nil {
		if p, err := exec.LookPath("chromium"); err == nil {
			path = p
		} else {
			if os.Getenv("CI") == "true" {
				Fail("the console specs need chromium, and CI=true: .ci/run installs it with apt-get install chromium")
			}
			Skip("the console specs need a headless chromium: apt-get install chromium (CI=true makes its absence a failure)")
		}
	}
	dir, err := os.MkdirTemp("", "wxemu-chromium-")
	Expect(err).NotTo(HaveOccurred())
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(dir),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("no-first-run", true), chromedp.WindowSize(1500, 950))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	Expect(chromedp.Do(bctx)).To(Succeed(), "start chromium")
	DeferCleanup(func() {
		cancelBrowser()
		cancelAlloc()
		_ = os.RemoveAll(dir)
	})
	return bctx
}

// page is one tab on the console of one wxemu, with a record of every request it made.
type page struct {
	ctx  context.Context
	base string // http://127.0.0.1:PORT
	host string

	mu       sync.Mutex // guards requests and foreign
	requests []string
	foreign  []string // requests to a host that is not wxemu
	dlDir    string
	n        int
}

// openConsole opens a new tab on the console of the wxemu at base and waits until it has loaded
// the journal and the views.
func openConsole(bctx context.Context, base string) *page {
	return openConsoleAt(bctx, base, "/")
}

// openConsoleAt is openConsole on a given path and query, e.g. /_emu/console/?token=….
func openConsoleAt(bctx context.Context, base, path string) *page {
	ctx, cancel := chromedp.NewContext(bctx)
	DeferCleanup(cancel)
	u, err := url.Parse(base)
	Expect(err).NotTo(HaveOccurred())
	p := &page{ctx: ctx, base: base, host: u.Host, dlDir: GinkgoT().TempDir()}
	Expect(chromedp.Listen(ctx, func(ev any) {
		e, ok := ev.(*network.EventRequestWillBeSent)
		if !ok {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		p.requests = append(p.requests, e.Request.URL)
		if !p.ours(e.Request.URL) {
			p.foreign = append(p.foreign, e.Request.URL)
		}
	})).To(Succeed())
	_, err = chromedp.Call(ctx, network.Enable, network.EnableParams{})
	Expect(err).NotTo(HaveOccurred())
	_, err = chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: p.dlDir})
	Expect(err).NotTo(HaveOccurred())
	Expect(chromedp.Do(ctx, chromedp.Navigate(base+path))).To(Succeed())
	p.waitReady()
	return p
}

// ours reports whether a request goes to the wxemu under test (data: and blob: URLs stay in
// the page).
func (p *page) ours(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "data", "blob":
		return true
	case "http", "https":
		return u.Host == p.host
	}
	return false
}

func (p *page) foreignRequests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.foreign...)
}

func (p *page) waitReady() {
	Eventually(func() string { return p.eval(`document.body.dataset.ready || ''`) }, 10*time.Second, 50*time.Millisecond).Should(Equal("true"),
		"the console did not finish loading: %s", p.eval(`document.querySelector('#conn').textContent`))
}

// do runs actions in the page, each call bounded so that a missing element fails the spec
// instead of hanging it.
func (p *page) do(actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

// eval runs a JavaScript expression in the page and returns its value as a string.
func (p *page) eval(expr string) string {
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`Promise.resolve(`+expr+`).then(String)`, chromedp.EvalAwaitPromise))
	Expect(err).NotTo(HaveOccurred(), expr)
	return v
}

// text is the visible text of the elements a CSS selector finds, joined by newlines.
func (p *page) text(css string) string {
	return p.eval(fmt.Sprintf(`[...document.querySelectorAll(%q)].map(e => e.innerText).join('\n')`, css))
}

// byName finds the element with the accessible role and name, as a screen reader finds it (the
// browser's own accessibility tree), marks it, and returns a CSS selector for it. It fails when
// there is not exactly one.
func (p *page) byName(role, name string) string {
	var sel string
	Eventually(func() error {
		// The root is the document as a JavaScript object: DOM.getDocument would renumber the
		// nodes chromedp's own queries hold.
		doc, err := chromedp.Call(p.ctx, runtime.Evaluate, runtime.EvaluateParams{Expression: "document"})
		if err != nil {
			return err
		}
		res, err := chromedp.Call(p.ctx, accessibility.QueryAXTree, accessibility.QueryAXTreeParams{ObjectID: doc.Result.ObjectID, AccessibleName: name, Role: role})
		if err != nil {
			return err
		}
		var found []*accessibility.Node
		for _, n := range res.Nodes {
			if !n.Ignored && n.BackendDOMNodeID != 0 {
				found = append(found, n)
			}
		}
		if len(found) != 1 {
			return fmt.Errorf("%d elements with role %s and name %q", len(found), role, name)
		}
		obj, err := chromedp.Call(p.ctx, dom.ResolveNode, dom.ResolveNodeParams{BackendNodeID: found[0].BackendDOMNodeID})
		if err != nil {
			return err
		}
		p.n++
		mark := fmt.Sprintf("ax%d", p.n)
		_, err = chromedp.Call(p.ctx, runtime.CallFunctionOn, runtime.CallFunctionOnParams{
			ObjectID:            obj.Object.ObjectID,
			FunctionDeclaration: `function(m) { this.setAttribute('data-ax', m) }`,
			Arguments:           []*runtime.CallArgument{{Value: []byte(`"` + mark + `"`)}}})
		sel = `[data-ax="` + mark + `"]`
		return err
	}, 5*time.Second, 50*time.Millisecond).Should(Succeed())
	return sel
}

func (p *page) click(role, name string) {
	Expect(p.do(chromedp.Click(chromedp.CSS(p.byName(role, name))))).To(Succeed(), "click %s %q", role, name)
}

func (p *page) clickCSS(css string) {
	Expect(p.do(chromedp.Click(chromedp.CSS(css)))).To(Succeed(), "click %s", css)
}

func (p *page) typeInto(role, name, text string) {
	Expect(p.do(chromedp.SendKeys(chromedp.CSS(p.byName(role, name)), text))).To(Succeed(), "type into %s %q", role, name)
}

// sendMessage types text into the phone's message box and presses Send.
func (p *page) sendMessage(text string) {
	p.typeInto("textbox", "Message", text)
	p.click("button", "Send")
}

// inspect opens the newest journal entry whose summary contains text in the inspector and
// returns the inspector's text once it has loaded.
func (p *page) inspect(text string) string {
	Expect(p.do(chromedp.SetValue(chromedp.CSS("#f-text"), text))).To(Succeed())
	p.eval(`document.querySelector('#f-text').dispatchEvent(new Event('input')), 1`)
	Eventually(func() string { return p.text("#journal-list .jrow") }, 5*time.Second).Should(ContainSubstring(text))
	p.clickCSS("#journal-list .jrow:last-of-type")
	var got string
	Eventually(func() string {
		got = p.text("#inspector")
		return got
	}, 5*time.Second).ShouldNot(Or(ContainSubstring("loading…"), ContainSubstring("Pick an entry")))
	return got
}

// screenshot writes the page to specs/screenshots/NAME.png (not committed), for a person to look at.
func (p *page) screenshot(name string) {
	buf, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	Expect(err).NotTo(HaveOccurred())
	Expect(os.MkdirAll("screenshots", 0o755)).To(Succeed())
	Expect(os.WriteFile(filepath.Join("screenshots", name+".png"), buf, 0o644)).To(Succeed())
}

// download waits for the file a click downloads and returns its bytes.
func (p *page) download(suffix string) []byte {
	var data []byte
	Eventually(func() error {
		entries, err := os.ReadDir(p.dlDir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), suffix) {
				data, err = os.ReadFile(filepath.Join(p.dlDir, e.Name()))
				return err
			}
		}
		return fmt.Errorf("no %s file downloaded yet", suffix)
	}, 10*time.Second, 100*time.Millisecond).Should(Succeed())
	return data
}

// axe runs axe-core (vendored under testdata/axe) on the page and returns its serious and
// critical violations, one line each.
func (p *page) axe() []string {
	src, err := os.ReadFile(filepath.Join("testdata", "axe", "axe.min.js"))
	Expect(err).NotTo(HaveOccurred())
	_, err = chromedp.Run(p.ctx, chromedp.Evaluate[any](string(src)))
	Expect(err).NotTo(HaveOccurred())
	out := p.eval(`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}}).then(r =>
		r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
		 .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' — ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')).join('\n'))`)
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}
