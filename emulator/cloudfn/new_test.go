package cloudfn_test

import (
	"context"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/cloudfn"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/wire"
)

var _ = Describe("New", func() {
	var p *platform.Platform
	BeforeEach(func() {
		var err error
		p, err = platform.New(platform.Options{Clock: clock.NewFake(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(p.Close)
	})

	// folder makes a function folder with files.
	folder := func(files map[string]string) string {
		dir := GinkgoT().TempDir()
		for name, text := range files {
			Expect(os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644)).To(Succeed())
		}
		return dir
	}

	DescribeTable("says what is wrong with a function, and where",
		func(opts cloudfn.Options, s func() cloudfn.FunctionSpec, want ...string) {
			opts.Platform = p
			_, err := cloudfn.New(opts, []cloudfn.FunctionSpec{s()})
			Expect(err).To(HaveOccurred())
			for _, w := range want {
				Expect(err.Error()).To(ContainSubstring(w))
			}
		},
		Entry("no node on PATH", cloudfn.Options{Node: "wxemu-no-such-node"}, func() cloudfn.FunctionSpec { return spec(testFn("state")) },
			`"wxemu-no-such-node" is not found on PATH: install Node.js`),
		Entry("no folder", cloudfn.Options{}, func() cloudfn.FunctionSpec { return spec(testFn("missing")) },
			"function missing: folder", "does not exist"),
		Entry("no index.js", cloudfn.Options{}, func() cloudfn.FunctionSpec { return spec(folder(map[string]string{"main.js": ""})) },
			"index.js is missing"),
		Entry("no node_modules", cloudfn.Options{}, func() cloudfn.FunctionSpec { return spec(testFn("uninstalled")) },
			"function uninstalled:", "node_modules is missing: run npm install in", "testdata/functions/uninstalled"),
		Entry("a dependency missing from node_modules", cloudfn.Options{}, func() cloudfn.FunctionSpec {
			dir := folder(map[string]string{"index.js": "", "package.json": `{"dependencies":{"wx-server-sdk":"4.0.2"}}`})
			Expect(os.Mkdir(filepath.Join(dir, "node_modules"), 0o755)).To(Succeed())
			return spec(dir)
		}, "package.json depends on wx-server-sdk, which is not in", "run npm install in"),
		Entry("a config.json that does not parse", cloudfn.Options{}, func() cloudfn.FunctionSpec { return spec(testFn("badconfig")) },
			"testdata/functions/badconfig/config.json:3:", "invalid character ']'"),
		Entry("a config.json of the wrong shape", cloudfn.Options{}, func() cloudfn.FunctionSpec {
			return spec(folder(map[string]string{"index.js": "", "config.json": "{\n  \"permissions\": {\"openapi\": \"customerServiceMessage.send\"}\n}"}))
		}, "config.json:2:", "permissions.openapi is string, not []string"),
		Entry("an Official Account", cloudfn.Options{}, func() cloudfn.FunctionSpec {
			s := spec(testFn("state"))
			s.App = "oa"
			return s
		}, "Official Account: cloud functions receive a Mini Program's messages only"),
		Entry("an unknown app", cloudfn.Options{}, func() cloudfn.FunctionSpec {
			s := spec(testFn("state"))
			s.App = "np"
			return s
		}, `unknown app "np"`),
		Entry("a ToUserName knob of neither value", cloudfn.Options{}, func() cloudfn.FunctionSpec {
			s := spec(testFn("state"))
			s.ToUserName = "gh"
			return s
		}, `ToUserName "gh" is neither "appid" nor "original_id"`),
	)

	It("refuses two functions for one <MsgType, Event>", func() {
		_, err := cloudfn.New(cloudfn.Options{Platform: p}, []cloudfn.FunctionSpec{spec(testFn("state")), spec(testFn("callback"))})
		Expect(err).To(MatchError(ContainSubstring("messages text of app mp are routed to both function state and function callback")))
	})

	It("routes only the pairs it is given", func() {
		s := spec(testFn("state"))
		s.Routes = []cloudfn.Route{{MsgType: "event", Event: "user_enter_tempsession"}}
		w := newWorld(s)
		_, err := w.p.UserSends(context.Background(), "mp", alice, wire.Message{MsgType: "text", Content: "hi"})
		Expect(err).To(MatchError(platform.ErrNoBot), "text goes to the callback URL, and the app has none")
		in, err := w.p.UserSends(context.Background(), "mp", alice, wire.Message{MsgType: "event", Event: "user_enter_tempsession", SessionFrom: "card"})
		Expect(err).NotTo(HaveOccurred())
		Expect(in.Result.Outcome).To(Equal(platform.None))
		Expect(in.Result.Request.Body).To(ContainSubstring(`"Event":"user_enter_tempsession"`))
		Expect(in.Result.Request.Body).NotTo(ContainSubstring(`"MsgId"`), "an event has none")
	})
})

var _ = Describe("A host", func() {
	It("reloads a function whose folder changes", func() {
		dir := GinkgoT().TempDir()
		write := func(version string, at time.Time) {
			file := filepath.Join(dir, "index.js")
			Expect(os.WriteFile(file, []byte("exports.main = async () => { console.log('version "+version+"'); return 'success' }\n"), 0o644)).To(Succeed())
			Expect(os.Chtimes(file, at, at)).To(Succeed())
		}
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		write("1", t0)
		s := spec(dir)
		s.Name = "reloading"
		w := newWorld(s)
		w.send("hello")
		Expect(w.output()).To(ContainSubstring("version 1"))
		write("2", t0.Add(time.Hour))
		Eventually(w.logs, "3s").Should(gbytesSay("function reloading reloaded"))
		w.send("hello")
		Expect(w.output()).To(ContainSubstring("version 2"))
	})

	It("ignores changes under node_modules", func() {
		dir := GinkgoT().TempDir()
		Expect(os.WriteFile(filepath.Join(dir, "index.js"), []byte("exports.main = async () => { console.log('invocation 1 pid ' + process.pid); return 'success' }\n"), 0o644)).To(Succeed())
		Expect(os.Mkdir(filepath.Join(dir, "node_modules"), 0o755)).To(Succeed())
		w := newWorld(spec(dir))
		w.send("hello")
		pid := w.pid()
		Expect(os.WriteFile(filepath.Join(dir, "node_modules", "x.js"), nil, 0o644)).To(Succeed())
		Consistently(w.logs, "1200ms").ShouldNot(gbytesSay("reloaded"))
		w.send("hello")
		Expect(w.pid()).To(Equal(pid))
	})

	It("fails the pushes after Close", func() {
		w := newWorld(spec(testFn("state")))
		Expect(w.h.Close()).To(Succeed())
		r := w.send("hello").Result
		Expect(r.Outcome).To(Equal(platform.Failed))
		Expect(violation(r, rules.FunctionError)).To(ContainSubstring("the cloud-function host is closed"))
		Expect(w.h.Close()).To(Succeed(), "twice is fine")
	})

	It("starts once", func() {
		w := newWorld(spec(testFn("state")))
		Expect(w.h.Start(w.url)).To(MatchError(ContainSubstring("already started")))
	})
})
