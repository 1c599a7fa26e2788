package scenario_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/scenario"
)

// The JUnit shape CI systems read, as this spec reads it back.
type junit struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Time     string   `xml:"time,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Time     string `xml:"time,attr"`
		Cases    []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			File      string `xml:"file,attr"`
			Line      int    `xml:"line,attr"`
			Time      string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			SystemOut string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

var _ = Describe("reports", func() {
	var rep *scenario.Report
	BeforeEach(func() {
		e := start(nil, nil)
		pass, err := scenario.Parse(nil, "dir/pass.yaml", []byte("name: passes\napp: oa\nusers: [alice]\nsteps:\n  - alice: hi\n    reply: {text: \"hello, hi\"}\n---\nname: passes too\napp: oa\nusers: [bob]\nsteps:\n  - bob: hi\n"))
		Expect(err).NotTo(HaveOccurred())
		fail, err := scenario.Parse(nil, "dir/fail.yaml", []byte("name: fails <&>\napp: oa\nusers: [alice]\nsteps:\n  - alice: hi\n  - alice: 人工\n    reply: none\n  - alice: later\n"))
		Expect(err).NotTo(HaveOccurred())
		rep = e.runner().Run(ctx(), append(pass, fail...))
		Expect(rep.Passed).To(BeFalse())
	})

	It("writes valid JUnit XML: a testsuite per file, a testcase per scenario, a failure per failed one", func() {
		var b bytes.Buffer
		Expect(rep.WriteJUnit(&b)).To(Succeed())
		Expect(b.String()).To(HavePrefix(xml.Header))
		var j junit
		Expect(xml.Unmarshal(b.Bytes(), &j)).To(Succeed(), b.String())
		Expect(j.Tests).To(Equal(3))
		Expect(j.Failures).To(Equal(1))
		Expect(j.Suites).To(HaveLen(2))
		Expect(j.Suites[0].Name).To(Equal("dir/pass.yaml"))
		Expect(j.Suites[0].Tests).To(Equal(2))
		Expect(j.Suites[0].Failures).To(Equal(0))
		Expect(j.Suites[0].Cases[1].Name).To(Equal("passes too"))
		Expect(j.Suites[0].Cases[1].Classname).To(Equal("dir/pass"))
		Expect(j.Suites[0].Cases[1].Line).To(Equal(8))
		Expect(j.Suites[0].Cases[0].Failure).To(BeNil())
		Expect(j.Suites[0].Cases[0].SystemOut).To(ContainSubstring(`alice: text "hi"`))
		f := j.Suites[1].Cases[0]
		Expect(f.Name).To(Equal("fails <&>"))
		Expect(f.File).To(Equal("dir/fail.yaml"))
		Expect(f.Failure).NotTo(BeNil())
		Expect(f.Failure.Type).To(Equal("reply"))
		Expect(f.Failure.Message).To(Equal(`step 2 (dir/fail.yaml:6) alice: text "人工": reply: expected none, got transfer`))
		Expect(f.Failure.Text).To(ContainSubstring("transcript of alice"))
		Expect(j.Suites[1].Failures).To(Equal(1))
	})

	It("writes one JSON document", func() {
		var b bytes.Buffer
		Expect(rep.WriteJSON(&b)).To(Succeed())
		var doc map[string]any
		Expect(json.Unmarshal(b.Bytes(), &doc)).To(Succeed())
		Expect(doc).To(HaveKeyWithValue("passed", false))
		Expect(doc["summary"]).To(And(HaveKeyWithValue("files", 2.0), HaveKeyWithValue("scenarios", 3.0), HaveKeyWithValue("passed", 2.0),
			HaveKeyWithValue("failed", 1.0), HaveKeyWithValue("steps", 5.0), HaveKey("duration_ms")))
		scenarios := doc["scenarios"].([]any)
		Expect(scenarios).To(HaveLen(3))
		failed := scenarios[2].(map[string]any)
		Expect(failed).To(And(HaveKeyWithValue("name", "fails <&>"), HaveKeyWithValue("file", "dir/fail.yaml"), HaveKeyWithValue("line", 1.0),
			HaveKeyWithValue("status", "failed"), HaveKeyWithValue("app", "wx0e1d2c3b4a596877"), HaveKey("users"), HaveKey("transcripts")))
		steps := failed["steps"].([]any)
		Expect(steps).To(HaveLen(3))
		first := steps[0].(map[string]any)
		Expect(first).To(And(HaveKeyWithValue("index", 1.0), HaveKeyWithValue("line", 5.0), HaveKeyWithValue("status", "passed"),
			HaveKeyWithValue("action", `alice: text "hi"`), HaveKeyWithValue("summary", `reply text "hello, hi"`)))
		Expect(first["result"]).To(And(HaveKeyWithValue("routed", "bot"), HaveKeyWithValue("user", "alice"), HaveKeyWithValue("sends", BeEmpty())))
		Expect(first["result"].(map[string]any)["result"]).To(And(HaveKeyWithValue("outcome", "reply"), HaveKeyWithValue("user_sees", "hello, hi")))
		second := steps[1].(map[string]any)
		Expect(second).To(HaveKeyWithValue("status", "failed"))
		Expect(second["failures"]).To(ConsistOf(And(HaveKeyWithValue("check", "reply"), HaveKeyWithValue("expected", "none"), HaveKeyWithValue("actual", "transfer"))))
		Expect(second["exchanges"]).To(ContainElement(And(HaveKeyWithValue("label", "push"), HaveKey("request"), HaveKey("answer"), HaveKeyWithValue("outcome", "transfer"))))
		Expect(steps[2]).To(HaveKeyWithValue("status", "skipped"))
	})

	It("writes a line per scenario and per step, and for a failure where, what, the transcript and the exchange", func() {
		var b bytes.Buffer
		for i, r := range rep.Scenarios {
			scenario.WriteScenario(&b, r, i+1, len(rep.Scenarios))
		}
		scenario.WriteSummary(&b, rep)
		out := b.String()
		for _, want := range []string{
			"[1/3] PASS passes (dir/pass.yaml:1, 1 step, ",
			`  ok    1  line 5    alice: text "hi"  → reply text "hello, hi"`,
			"[3/3] FAIL fails <&> (dir/fail.yaml:1, 3 steps, ",
			`  FAIL  2  line 6    alice: text "人工"  → transfer, queued, kf2@wxemu_demo accepted`,
			"         at dir/fail.yaml:6\n",
			"         reply:\n           expected  none\n           actual    transfer\n",
			"         transcript of alice (",
			"  user   人工\n",
			"  system 客服小李 为你服务 (kf2@wxemu_demo joined)\n",
			"         exchange (push of text):\n",
			"<Content><![CDATA[人工]]></Content>",
			"           ← HTTP 200, ",
			"<MsgType><![CDATA[transfer_customer_service]]></MsgType>",
			"         exchange (kf event of event/kf_create_session):\n",
			`  skip  3  line 8    alice: text "later"`,
			"FAIL: 3 scenarios in 2 files: 2 passed, 1 failed (5 steps) in ",
			"  FAIL fails <&> (dir/fail.yaml:6)\n",
		} {
			Expect(out).To(ContainSubstring(want))
		}
		Expect(strings.Count(out, "transcript of")).To(Equal(1))
	})
})
