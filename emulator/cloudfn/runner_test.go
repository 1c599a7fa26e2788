package cloudfn_test

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/cloudfn"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/rules"
)

// pid is the process a testdata state function printed it ran in, last.
func (w *world) pid() string {
	m := regexp.MustCompile(`invocation \d+ pid (\d+)`).FindAllStringSubmatch(w.output(), -1)
	Expect(m).NotTo(BeEmpty())
	return m[len(m)-1][1]
}

// invocations is the count a testdata state function printed last: 1 after a cold start.
func (w *world) invocations() string {
	m := regexp.MustCompile(`invocation (\d+) pid`).FindAllStringSubmatch(w.output(), -1)
	Expect(m).NotTo(BeEmpty())
	return m[len(m)-1][1]
}

var _ = Describe("The runner", func() {
	var w *world
	BeforeEach(func() {
		w = newWorld(spec(testFn("state")))
	})

	DescribeTable("judges what exports.main returns",
		func(content string, outcome platform.Outcome, rule string) {
			r := w.send(content).Result
			Expect(r.Outcome).To(Equal(outcome))
			if rule == "" {
				Expect(r.Violations).To(BeEmpty())
			} else {
				Expect(violation(r, rule)).NotTo(BeEmpty(), "%v", r.Violations)
			}
			if outcome == platform.Failed {
				Expect(r.UserSees).To(Equal(push.FailureLineMP))
			}
		},
		Entry("'success'", "success", platform.None, ""),
		Entry("''", "empty", platform.None, ""),
		Entry("nothing, synchronously", "nothing", platform.None, ""),
		Entry("a transfer object in a promise", "transfer", platform.Transferred, ""),
		Entry("a transfer object through context.done, later", "done", platform.Transferred, ""),
		Entry("a number", "number", platform.Failed, rules.FunctionResultShape),
		Entry("another string", "string", platform.Failed, rules.FunctionResultShape),
		Entry("more than 1 MB", "big", platform.Failed, rules.FunctionResultSize),
	)

	It("answers through a callback", func() {
		w := newWorld(spec(testFn("callback")))
		r := w.send("fail").Result
		Expect(r.Outcome).To(Equal(platform.Failed))
		Expect(violation(r, rules.FunctionError)).To(HavePrefix("the function passed an error to its callback (or context.done): failed through the callback"))
		r = w.send("hello").Result
		Expect(r.Outcome).To(Equal(platform.Transferred))
		Expect(r.KfAccount).To(Equal("kf1@wxemu_mp"))
	})

	It("reports a thrown exception with its stack, and the worker goes on", func() {
		w.send("hello")
		pid := w.pid()
		r := w.send("throw").Result
		Expect(r.Outcome).To(Equal(platform.Failed))
		msg := violation(r, rules.FunctionError)
		Expect(msg).To(HavePrefix("the function threw: thrown on purpose"))
		Expect(msg).To(ContainSubstring("testdata/functions/state/index.js:"), "the stack")
		Expect(msg).NotTo(ContainSubstring("runner.js"), "the harness's frames are left out")
		Expect(r.Attempts[0].Error).To(Equal("thrown on purpose"))
		w.send("hello")
		Expect(w.pid()).To(Equal(pid))
		Expect(w.invocations()).To(Equal("3"))
	})

	It("reports a rejected promise, and the worker goes on", func() {
		w.send("hello")
		pid := w.pid()
		r := w.send("reject").Result
		Expect(violation(r, rules.FunctionError)).To(HavePrefix("the function's promise was rejected: rejected on purpose"))
		w.send("hello")
		Expect(w.pid()).To(Equal(pid))
	})

	It("reports an exception outside the promise, and starts the worker again", func() {
		w.send("hello")
		pid := w.pid()
		r := w.send("uncaught").Result
		Expect(r.Outcome).To(Equal(platform.Failed))
		Expect(violation(r, rules.FunctionError)).To(ContainSubstring("thrown later, outside the promise"))
		Eventually(w.logs).Should(gbytesSay("cloud function crashed"))
		w.send("hello")
		Expect(w.pid()).NotTo(Equal(pid))
		Expect(w.invocations()).To(Equal("1"), "a cold start: the module's state is new")
	})

	It("reports process.exit", func() {
		r := w.send("exit").Result
		Expect(violation(r, rules.FunctionError)).To(ContainSubstring("process.exit(3)"))
		Expect(w.send("hello").Result.Outcome).To(Equal(platform.None))
	})

	It("tags what the function prints with the invocation", func() {
		w.send("stdout")
		logs := w.entries(platform.KindLog)
		var streams []string
		for _, e := range logs {
			Expect(e.Log.Function).To(Equal("state"))
			Expect(e.Log.Invocation).To(MatchRegexp(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`))
			Expect(e.Log.Invocation).To(Equal(logs[0].Log.Invocation))
			Expect(e.User).To(Equal(alice))
			streams = append(streams, e.Log.Stream+": "+e.Log.Text)
		}
		Expect(streams).To(ContainElements("stdout: to stdout\n", "stderr: to stderr\n"))
		Expect(logs[0].Seq).To(BeNumerically("<", w.entries(platform.KindPush)[0].Seq), "printed before the verdict")
	})

	It("runs the function in the environment of §8.4a, and nothing of wxemu's", func() {
		os.Setenv("WXEMU_SPEC_LEAK", "leaked")
		DeferCleanup(os.Unsetenv, "WXEMU_SPEC_LEAK")
		w := newWorld(spec(testFn("state")))
		w.send("env")
		m := regexp.MustCompile(`(?m)^\{"context".*$`).FindString(w.output())
		var got struct {
			Context map[string]any    `json:"context"`
			Env     map[string]string `json:"env"`
		}
		Expect(json.Unmarshal([]byte(m), &got)).To(Succeed())
		Expect(got.Context).To(HaveKeyWithValue("function_name", "state"))
		Expect(got.Context).To(HaveKeyWithValue("function_version", "$LATEST"))
		Expect(got.Context).To(HaveKeyWithValue("time_limit_in_ms", BeNumerically("==", 10000)), "config.json's timeout")
		Expect(got.Context).To(HaveKeyWithValue("memory_limit_in_mb", BeNumerically("==", 256)))
		Expect(got.Context).To(HaveKeyWithValue("request_id", MatchRegexp(`^[0-9a-f-]{36}$`)))
		Expect(got.Context).To(HaveKeyWithValue("environ", ContainSubstring("WX_OPENID="+alice+";")))
		env := got.Env
		Expect(env).To(HaveKeyWithValue("TENCENTCLOUD_RUNENV", "SCF"))
		Expect(env).To(HaveKeyWithValue("TENCENTCLOUD_REGION", "ap-shanghai"))
		Expect(env).To(HaveKeyWithValue("SCF_NAMESPACE", "wxemu-"+mpAppID))
		Expect(env).To(HaveKeyWithValue("TCB_ENV", "wxemu-"+mpAppID))
		Expect(env).To(HaveKeyWithValue("TCB_CONTEXT_CNFG", `{"URL":"`+w.url+`"}`))
		Expect(env).To(HaveKeyWithValue("WX_CONTEXT_KEYS", "WX_OPENID,WX_APPID,WX_UNIONID,WX_API_TOKEN"))
		Expect(env).To(HaveKeyWithValue("WX_OPENID", alice))
		Expect(env).To(HaveKeyWithValue("WX_APPID", mpAppID))
		Expect(env).To(HaveKeyWithValue("TCB_SOURCE", "wx_client"))
		Expect(env).To(HaveKeyWithValue("WX_API_TOKEN", MatchRegexp(`^[0-9a-f]{48}$`)))
		Expect(env).To(HaveKey("TENCENTCLOUD_SECRETID"))
		Expect(env).To(HaveKeyWithValue("NODE_OPTIONS", HavePrefix("--require ")))
		Expect(env).NotTo(HaveKey("WXEMU_SPEC_LEAK"))
		for k := range env {
			Expect(k).To(Or(HavePrefix("TENCENTCLOUD_"), HavePrefix("SCF_"), HavePrefix("TCB_"), HavePrefix("WX_"),
				BeElementOf("PATH", "HOME", "NODE_OPTIONS", "TZ")), "no variable leaks in")
		}
	})

	It("pushes ToUserName and MsgId as configured", func() {
		s := spec(testFn("state"))
		s.ToUserName = cloudfn.ToOriginalID
		s.MsgIDNumber = true
		w := newWorld(s)
		body := w.send("hello").Result.Request.Body
		Expect(body).To(ContainSubstring(`"ToUserName":"gh_7a6b5c4d3e2f"`))
		Expect(body).To(MatchRegexp(`"MsgId":\d+`))
	})

	It("times out a function that never calls back, says why, and refuses its token afterwards", func() {
		s := spec(testFn("state"))
		s.Timeout = 300 * time.Millisecond
		w := newWorld(s)
		w.send("hello")
		pid := w.pid()
		r := w.send("hang").Result
		Expect(violation(r, rules.FunctionTimeout)).To(HavePrefix("the function did not return within 300ms"))
		token := w.token()
		Expect(token).NotTo(BeEmpty())

		By("refusing a call with the dead token, journaled as late")
		g := w.openAPI(token, "customerServiceMessage.send", pair("touser", `"`+alice+`"`), pair("msgtype", `"text"`), pair("text", `{"content":"late"}`))
		Expect(g.contentType).To(Equal("application/json; charset=utf-8"))
		var e struct{ Code, Message string }
		Expect(json.Unmarshal(g.body, &e)).To(Succeed())
		Expect(e.Code).To(Equal("PERMISSION_DENIED"))
		Expect(e.Message).To(ContainSubstring("timed out after 300ms"))
		findings := w.entries(platform.KindUnknown)
		Expect(findings).To(HaveLen(1))
		Expect(findings[0].Finding.Problem).To(HavePrefix("late cloud call: openapi.customerServiceMessage.send of cloud function state after its invocation"))
		Expect(findings[0].User).To(Equal(alice))
		Expect(w.custom()).To(BeEmpty())

		By("starting cold at the next message")
		w.send("hello")
		Expect(w.pid()).NotTo(Equal(pid))
		Expect(w.invocations()).To(Equal("1"))
	})

	It("says which export is missing when index.js has no main", func() {
		w := newWorld(spec(testFn("nomain")))
		r := w.send("hello").Result
		Expect(r.Outcome).To(Equal(platform.Failed))
		Expect(violation(r, rules.FunctionLoad)).To(ContainSubstring("index.js does not export main (it exports handler)"))
		Eventually(w.logs).Should(gbytesSay("cloud function does not load"))
	})

	It("says why index.js does not load", func() {
		w := newWorld(spec(testFn("syntax")))
		r := w.send("hello").Result
		Expect(violation(r, rules.FunctionLoad)).To(And(ContainSubstring("index.js does not load"), ContainSubstring("SyntaxError")))
	})

	It("runs one invocation at a time", func() {
		token, release, done := w.hold()
		Expect(token).NotTo(BeEmpty())
		second := make(chan *platform.Interaction, 1)
		go func() {
			defer GinkgoRecover()
			second <- w.send("hello")
		}()
		Consistently(second, "200ms").ShouldNot(Receive(), "queued behind the held one")
		release()
		Eventually(done).Should(Receive())
		Eventually(second).Should(Receive())
		Expect(strings.Count(w.output(), "invocation ")).To(Equal(2))
	})
})
