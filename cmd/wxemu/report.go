package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/rules"
)

// pushApp is the app a push was for, as the report's first line names it.
type pushApp struct {
	AppID, Kind, Format, Mode string
}

func targetApp(t *push.Target) pushApp {
	return pushApp{AppID: t.AppID, Kind: string(t.Kind), Format: string(t.Format), Mode: string(t.Mode)}
}

// printResult writes the human report of a push: the request, every attempt, the raw answer,
// the decrypted reply, what the user sees, and each violation.
func printResult(w io.Writer, app pushApp, r *push.Result) {
	m := r.Message
	what := m.MsgType
	if m.IsEvent() {
		what += "/" + m.Event
	}
	if r.Request.Method == "INVOKE" {
		// A push to a cloud function is its event object: no format, no signature, no encryption.
		fmt.Fprintf(w, "push %s from %s to %s (%s, to a cloud function)\n", what, m.FromUserName, app.AppID, strings.ToUpper(app.Kind))
	} else {
		fmt.Fprintf(w, "push %s from %s to %s (%s, %s, %s mode)\n", what, m.FromUserName, app.AppID, strings.ToUpper(app.Kind), app.Format, app.Mode)
	}
	fn := len(r.Attempts) > 0 && r.Attempts[0].Function() != ""
	if fn {
		fmt.Fprintf(w, "\n→ %s, with the event (%s):\n", r.Attempts[0].Invocation(), r.Request.ContentType)
	} else {
		fmt.Fprintf(w, "\n→ request  %s %s\n", r.Request.Method, r.Request.ContentType)
	}
	indent(w, r.Request.Body)
	if r.Request.Plaintext != r.Request.Body {
		fmt.Fprintln(w, "  plaintext before encryption:")
		indent(w, r.Request.Plaintext)
	}
	fmt.Fprintln(w)
	for _, a := range r.Attempts {
		if a.Function() != "" {
			fmt.Fprintf(w, "  attempt %d  %8.1f ms  ← %s\n", a.N, a.DurationMS, a.Return())
			printOutput(w, &a)
			continue
		}
		status := fmt.Sprintf("HTTP %d", a.Status)
		if a.Error != "" {
			status = a.Error
		}
		fmt.Fprintf(w, "  attempt %d  %8.1f ms  %s\n             %s\n", a.N, a.DurationMS, status, a.URL)
		printOutput(w, &a)
	}
	if a := r.Answer; a != nil && fn {
		fmt.Fprintf(w, "\n← returned %d bytes of JSON\n", len(a.Body))
		indent(w, a.Body)
	} else if a != nil {
		ct := a.ContentType
		if ct == "" {
			ct = "no Content-Type"
		}
		fmt.Fprintf(w, "\n← answer   HTTP %d, %d bytes, %s\n", a.Status, len(a.Body), ct)
		if a.Body == "" {
			fmt.Fprintln(w, "  (empty body)")
		} else {
			indent(w, a.Body)
		}
		if a.Decrypted != "" {
			fmt.Fprintln(w, "  decrypted reply:")
			indent(w, a.Decrypted)
		}
	}
	fmt.Fprintln(w)
	printVerdict(w, r)
}

// printVerdict writes the end of a push's report: the outcome, what the user sees, and the
// violations.
func printVerdict(w io.Writer, r *push.Result) {
	fmt.Fprintf(w, "outcome    %s\n", r.Outcome)
	switch {
	case r.UserSees != "":
		fmt.Fprintf(w, "user sees  %s\n", r.UserSees)
	case r.Outcome == push.Transferred && r.KfAccount != "":
		fmt.Fprintf(w, "user sees  nothing yet: handed to kf account %s\n", r.KfAccount)
	case r.Outcome == push.Transferred:
		fmt.Fprintln(w, "user sees  nothing yet: handed to the kf waiting queue")
	default:
		fmt.Fprintln(w, "user sees  nothing")
	}
	printViolations(w, r.Violations)
}

func printViolations(w io.Writer, vs []rules.Violation) {
	if len(vs) == 0 {
		fmt.Fprintln(w, "verdict    ok, no violations")
		return
	}
	errs := 0
	for _, v := range vs {
		if v.Severity == rules.Error {
			errs++
		}
	}
	fmt.Fprintf(w, "verdict    %d error(s), %d warning(s)\n", errs, len(vs)-errs)
	for _, v := range vs {
		fmt.Fprintf(w, "  %-7s %s (protocol %s)\n          %s\n", v.Severity, v.Rule, v.Ref, v.Message)
	}
}

func indent(w io.Writer, s string) {
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		fmt.Fprintf(w, "  %s\n", line)
	}
}

// indented writes what it is given with prefix at the start of each line.
type indented struct {
	w      io.Writer
	prefix string
	mid    bool // the last write ended inside a line
}

func (p *indented) Write(b []byte) (int, error) {
	var out []byte
	for _, c := range b {
		if !p.mid {
			out = append(out, p.prefix...)
		}
		out = append(out, c)
		p.mid = c != '\n'
	}
	if _, err := p.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// printedLimit bounds what a report shows of a function's output; the journal has all of it.
const printedLimit = 4000

// printOutput writes what a cloud function printed while it ran, its stderr marked, clipped.
func printOutput(w io.Writer, a *push.Attempt) {
	printed := a.Printed(printedLimit)
	if printed == "" {
		return
	}
	fmt.Fprintln(w, "             the function printed (! marks stderr):")
	for _, line := range strings.Split(printed, "\n") {
		fmt.Fprintf(w, "             %s\n", line)
	}
}
