package scenario

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/wxemu/wxemu/emulator/harness"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/rules"
)

// WriteScenario writes the text report of one scenario: a line for the scenario, a line per
// step, and for a failed step where it is (file:line), what was expected and what happened, what
// the users saw up to then, the raw exchange and the violations. done and total, when total is
// positive, give the progress.
func WriteScenario(w io.Writer, res *ScenarioResult, done, total int) {
	status := "PASS"
	if res.Status != Passed {
		status = "FAIL"
	}
	progress := ""
	if total > 0 {
		progress = fmt.Sprintf("[%d/%d] ", done, total)
	}
	alone := ""
	if res.Serial != "" {
		alone = ", alone: " + res.Serial
	}
	fmt.Fprintf(w, "%s%s %s (%s:%d, %s, %s%s)\n", progress, status, res.Name, res.File, res.Line, plural(len(res.Steps), "step"), fmtMS(res.DurationMS), alone)
	if res.Error != "" {
		fmt.Fprintf(w, "      %s\n", res.Error)
	}
	for _, st := range res.Steps {
		mark := map[string]string{Passed: "ok  ", Failed: "FAIL", Skipped: "skip"}[st.Status]
		label := st.Action
		if st.Name != "" {
			label = st.Name + ": " + label
		}
		line := fmt.Sprintf("  %s %2d  line %-4d %s", mark, st.Index, st.Line, label)
		if st.Summary != "" && st.Status != Skipped {
			line += "  → " + st.Summary
		}
		if len(st.Late) > 0 {
			line += "; " + plural(len(st.Late), "late send")
		}
		fmt.Fprintln(w, line)
		if st.Status == Failed {
			writeFailure(w, res, st)
		} else {
			writeLate(w, st.Late)
		}
	}
}

func fmtMS(v float64) string {
	if v >= 1000 {
		return strconv.FormatFloat(v/1000, 'f', 2, 64) + "s"
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + "ms"
}

const pad = "         "

func writeFailure(w io.Writer, res *ScenarioResult, st *StepResult) {
	fmt.Fprintf(w, "%sat %s:%d\n", pad, res.File, st.Line)
	for _, f := range st.Failures {
		fmt.Fprintf(w, "%s%s:\n", pad, f.Check)
		fmt.Fprintf(w, "%s  expected  %s\n", pad, f.Expected)
		fmt.Fprintf(w, "%s  actual    %s\n", pad, f.Actual)
		if f.Detail != "" {
			indentLines(w, pad+"    ", f.Detail)
		}
	}
	writeLate(w, st.Late)
	if len(st.Violations) > 0 {
		fmt.Fprintf(w, "%sviolations:\n", pad)
		for _, v := range st.Violations {
			fmt.Fprintf(w, "%s  %-7s %s (protocol %s)\n", pad, v.Severity, v.Rule, v.Ref)
			indentLines(w, pad+"          ", v.Message)
		}
	}
	for _, t := range res.Transcripts {
		fmt.Fprintf(w, "%stranscript of %s (%s), up to this step:\n", pad, t.User, t.OpenID)
		if len(t.Lines) == 0 {
			fmt.Fprintf(w, "%s  (nothing yet)\n", pad)
		}
		for _, l := range t.Lines {
			fmt.Fprintf(w, "%s  %s  %-6s %s\n", pad, l.Time.Format("15:04:05"), l.From, lineText(l))
		}
	}
	for _, x := range st.Exchanges {
		writeExchange(w, x)
	}
}

// writeLate lists the late sends of a step, grouped by user and by what had been judged.
func writeLate(w io.Writer, late []LateSend) {
	for i := 0; i < len(late); {
		j := i
		for j < len(late) && late[j].User == late[i].User && late[j].After == late[i].After && late[j].Found == late[i].Found && late[j].Tolerated == late[i].Tolerated {
			j++
		}
		l := late[i]
		judged := "the step's sends were judged"
		if l.After != "" {
			judged = "the " + l.After + " was judged"
		}
		tolerated := ""
		if l.Tolerated {
			tolerated = ", tolerated"
		}
		fmt.Fprintf(w, "%sLATE: %s to %s after %s (found %s%s):\n", pad, plural(j-i, "send"), l.User, judged, l.Found, tolerated)
		sends := make([]harness.SendRecord, 0, j-i)
		for _, s := range late[i:j] {
			sends = append(sends, s.SendRecord)
		}
		indentLines(w, pad+"  ", sendsDetail(sends))
		i = j
	}
}

func lineText(l platform.Line) string {
	switch l.Kind {
	case platform.LineCustom:
		s := "(customer-service message"
		if l.KfAccount != "" {
			s += " as " + l.KfAccount
		}
		return s + ") " + l.Text
	case platform.LineEvent:
		return "(did) " + l.Text
	case platform.LineFault:
		return "(fault injected) " + l.Text
	}
	return l.Text
}

func writeExchange(w io.Writer, x Exchange) {
	r := x.Result
	m := r.Message
	what := m.MsgType
	if m.IsEvent() {
		what += "/" + m.Event
	}
	fmt.Fprintf(w, "%sexchange (%s of %s):\n", pad, x.Label, what)
	fn := len(r.Attempts) > 0 && r.Attempts[0].Function() != ""
	if fn {
		fmt.Fprintf(w, "%s  → %s, with the event (%s):\n", pad, r.Attempts[0].Invocation(), r.Request.ContentType)
	} else {
		fmt.Fprintf(w, "%s  → %s %s\n", pad, r.Request.Method, r.Request.ContentType)
	}
	indentLines(w, pad+"    ", r.Request.Body)
	if r.Request.Plaintext != r.Request.Body {
		fmt.Fprintf(w, "%s    plaintext before encryption:\n", pad)
		indentLines(w, pad+"    ", r.Request.Plaintext)
	}
	for _, a := range r.Attempts {
		if fn {
			fmt.Fprintf(w, "%s  ← %s after %.1f ms\n", pad, a.Return(), a.DurationMS)
			if printed := a.Printed(printedLimit); printed != "" {
				fmt.Fprintf(w, "%s    the function printed (! marks stderr):\n", pad)
				indentLines(w, pad+"    ", printed)
			}
			continue
		}
		status := fmt.Sprintf("HTTP %d", a.Status)
		if a.Error != "" {
			status = a.Error
		}
		fmt.Fprintf(w, "%s  attempt %d, %.1f ms: %s\n", pad, a.N, a.DurationMS, status)
	}
	if a := r.Answer; a != nil && fn {
		fmt.Fprintf(w, "%s    the value returned, %d bytes of JSON:\n", pad, len(a.Body))
		indentLines(w, pad+"    ", a.Body)
	} else if a != nil {
		fmt.Fprintf(w, "%s  ← HTTP %d, %d bytes\n", pad, a.Status, len(a.Body))
		if a.Body == "" {
			fmt.Fprintf(w, "%s    (empty body)\n", pad)
		} else {
			indentLines(w, pad+"    ", a.Body)
		}
		if a.Decrypted != "" {
			fmt.Fprintf(w, "%s    decrypted reply:\n", pad)
			indentLines(w, pad+"    ", a.Decrypted)
		}
	}
	fmt.Fprintf(w, "%s  outcome %s", pad, r.Outcome)
	if r.UserSees != "" {
		fmt.Fprintf(w, ", the user sees %q", r.UserSees)
	}
	fmt.Fprintln(w)
	if x.Label != "push" && x.Label != "kf event" {
		return
	}
	for _, v := range r.Violations {
		if v.Severity == rules.Error {
			fmt.Fprintf(w, "%s  %s %s\n", pad, v.Severity, v.Rule)
		}
	}
}

// printedLimit bounds what an exchange shows of a function's output; the journal has all of it.
const printedLimit = 4000

func indentLines(w io.Writer, prefix, s string) {
	const maxLines = 40
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if i == maxLines {
			fmt.Fprintf(w, "%s… (%d more lines)\n", prefix, len(lines)-maxLines)
			return
		}
		fmt.Fprintf(w, "%s%s\n", prefix, l)
	}
}

// WriteSummary writes the last line of a run.
func WriteSummary(w io.Writer, r *Report) {
	s := r.Summary
	verdict := "PASS"
	if !r.Passed {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "%s: %s in %s: %d passed, %d failed (%s) in %s\n", verdict,
		plural(s.Scenarios, "scenario"), plural(s.Files, "file"), s.Passed, s.Failed, plural(s.Steps, "step"), fmtMS(s.DurationMS))
	if !r.Passed {
		for _, res := range r.Scenarios {
			if res.Status == Passed {
				continue
			}
			where := fmt.Sprintf("%s:%d", res.File, res.Line)
			for _, st := range res.Steps {
				if st.Status == Failed {
					where = fmt.Sprintf("%s:%d", res.File, st.Line)
					break
				}
			}
			fmt.Fprintf(w, "  FAIL %s (%s)\n", res.Name, where)
		}
	}
}

// WriteJSON writes the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// JUnit XML as CI systems read it (Jenkins, GitLab, GitHub actions' reporters): a testsuite per
// file, a testcase per scenario, a failure element per failed scenario.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr"`
	Line      int           `xml:"line,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func seconds(ms float64) string { return strconv.FormatFloat(ms/1000, 'f', 3, 64) }

// WriteJUnit writes the report as JUnit XML.
func (r *Report) WriteJUnit(w io.Writer) error {
	out := junitSuites{Name: "wxemu run", Time: seconds(r.Summary.DurationMS)}
	index := map[string]int{}
	for _, res := range r.Scenarios {
		i, ok := index[res.File]
		if !ok {
			i = len(out.Suites)
			index[res.File] = i
			out.Suites = append(out.Suites, junitSuite{Name: filepath.ToSlash(res.File)})
		}
		s := &out.Suites[i]
		c := junitCase{Name: res.Name, Classname: strings.TrimSuffix(filepath.ToSlash(res.File), filepath.Ext(res.File)),
			File: filepath.ToSlash(res.File), Line: res.Line, Time: seconds(res.DurationMS)}
		var text strings.Builder
		WriteScenario(&text, res, 0, 0)
		if res.Status != Passed {
			c.Failure = &junitFailure{Message: failureMessage(res), Type: failureType(res), Text: text.String()}
			s.Failures++
			out.Failures++
		} else {
			c.SystemOut = text.String()
		}
		s.Tests++
		out.Tests++
		var ms float64
		for _, c := range s.Cases {
			f, _ := strconv.ParseFloat(c.Time, 64)
			ms += f * 1000
		}
		s.Cases = append(s.Cases, c)
		s.Time = seconds(ms + res.DurationMS)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// failureMessage is the one line a CI system shows for a failed scenario.
func failureMessage(res *ScenarioResult) string {
	if res.Error != "" {
		return res.Error
	}
	for _, st := range res.Steps {
		if st.Status != Failed || len(st.Failures) == 0 {
			continue
		}
		f := st.Failures[0]
		return fmt.Sprintf("step %d (%s:%d) %s: %s: expected %s, got %s", st.Index, res.File, st.Line, st.Action, f.Check, f.Expected, f.Actual)
	}
	return "failed"
}

func failureType(res *ScenarioResult) string {
	for _, st := range res.Steps {
		if st.Status == Failed && len(st.Failures) > 0 {
			return st.Failures[0].Check
		}
	}
	return "error"
}
