package emutest

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/wxemu/wxemu/emulator/harness"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/textenc"
)

// The renderers write what a bot developer debugs with: the chat as the person on the phone saw
// it, and the raw exchange behind it. Gomega prints the harness's values with them (GomegaString),
// and wxmatch puts them in its failure messages.

// maxBody is how much of a request or answer body is shown; WeChat's are a few hundred bytes,
// and a larger one is usually the bug, which its start shows.
const maxBody = 4000

// RenderTranscript writes a transcript one line per thing seen or done, oldest first. user names
// the person in the From column.
func RenderTranscript(lines []platform.Line, user string) string {
	if len(lines) == 0 {
		return "(nothing yet)"
	}
	// The date shows only when the chat spans days, as after Advance(48 * time.Hour).
	layout := "15:04:05"
	first := lines[0].Time.Format("2006-01-02")
	for _, l := range lines {
		if l.Time.Format("2006-01-02") != first {
			layout = "01-02 15:04:05"
			break
		}
	}
	whos := make([]string, len(lines))
	width := 0
	for i, l := range lines {
		whos[i] = who(l, user)
		width = max(width, len([]rune(whos[i])))
	}
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		pad := strings.Repeat(" ", width-len([]rune(whos[i])))
		fmt.Fprintf(&b, "%s  %s%s  ", l.Time.Format(layout), whos[i], pad)
		b.WriteString(strings.ReplaceAll(l.Text, "\n", "\n"+strings.Repeat(" ", len(layout)+width+4)))
	}
	return b.String()
}

// who is the From column of a line: who said it, and how it reached the user.
func who(l platform.Line, user string) string {
	switch l.From {
	case platform.FromUser:
		if l.Kind == platform.LineEvent {
			return user + " (event)"
		}
		return user
	case platform.FromBot:
		switch l.Kind {
		case platform.LineReply:
			return "bot (reply)"
		case platform.LineCustom:
			return "bot (custom)"
		}
		return "bot"
	case platform.FromAgent:
		if l.KfAccount != "" {
			return l.KfAccount
		}
		return "agent"
	case platform.FromSystem:
		if l.Kind == platform.LineFault {
			return "wxemu (fault)"
		}
		return "WeChat"
	}
	return l.From
}

// RenderPush writes a push verdict: the outcome, what the user sees, every violation, every
// attempt, and the raw request and answer.
func RenderPush(res *push.Result) string {
	if res == nil {
		return "(not pushed)"
	}
	var b strings.Builder
	row := func(k, v string) { fmt.Fprintf(&b, "%-11s %s\n", k, v) }
	row("pushed", DescribeMessage(&res.Message))
	out := string(res.Outcome)
	if res.Outcome == push.Transferred && res.KfAccount != "" {
		out += " to " + res.KfAccount
	}
	row("outcome", out)
	if res.Reply != nil && res.Reply.MsgType != "" {
		row("reply", res.Reply.MsgType)
	}
	if res.UserSees != "" {
		row("user sees", res.UserSees)
	}
	row("violations", renderViolations(res.Violations))
	fn := len(res.Attempts) > 0 && res.Attempts[0].Function() != ""
	for _, a := range res.Attempts {
		if fn {
			row(fmt.Sprintf("attempt %d", a.N), fmt.Sprintf("→ %s ← %s after %.1f ms", a.Invocation(), a.Return(), a.DurationMS))
			if printed := a.Printed(maxBody); printed != "" {
				row("printed", "(what the function wrote; ! marks stderr)")
				b.WriteString("    " + strings.ReplaceAll(printed, "\n", "\n    ") + "\n")
			}
			continue
		}
		what := strconv.Itoa(a.Status)
		switch {
		case a.TimedOut:
			what = "timed out"
		case a.Error != "":
			what = "error: " + a.Error
		}
		row(fmt.Sprintf("attempt %d", a.N), fmt.Sprintf("%s after %.1f ms, POST %s", what, a.DurationMS, a.URL))
	}
	if fn {
		row("event", "(exports.main's event, "+res.Request.ContentType+")")
	} else {
		row("request", strings.TrimSpace(res.Request.Method+" "+res.Request.ContentType))
	}
	b.WriteString(indentBody(res.Request.Body))
	if res.Request.Plaintext != "" && res.Request.Plaintext != res.Request.Body {
		row("plaintext", "(the request before encryption)")
		b.WriteString(indentBody(res.Request.Plaintext))
	}
	if a := res.Answer; a != nil && fn {
		row("returned", "(the value, as JSON)")
		b.WriteString(indentBody(a.Body))
	} else if fn {
		row("returned", "nothing")
	} else if a != nil {
		row("answer", strings.TrimSpace(fmt.Sprintf("%d %s", a.Status, a.ContentType)))
		b.WriteString(indentBody(a.Body))
		if a.Decrypted != "" {
			row("decrypted", "(the reply inside the envelope)")
			b.WriteString(indentBody(a.Decrypted))
		}
	} else {
		row("answer", "none")
	}
	return strings.TrimRight(b.String(), "\n")
}

func renderViolations(vs []rules.Violation) string {
	if len(vs) == 0 {
		return "none"
	}
	errs := 0
	for _, v := range vs {
		if v.Severity == rules.Error {
			errs++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d error(s), %d warning(s)", errs, len(vs)-errs)
	for _, v := range vs {
		fmt.Fprintf(&b, "\n  %-7s %s (protocol %s)\n          %s", v.Severity, v.Rule, v.Ref, v.Message)
	}
	return b.String()
}

func indentBody(body string) string {
	if body == "" {
		return "    (empty)\n"
	}
	body = textenc.ClipBody(body, maxBody)
	return "    " + strings.ReplaceAll(body, "\n", "\n    ") + "\n"
}

// RenderInteraction writes where a user's action went and what came of it: the agent it reached,
// or the push verdict and the hand-overs a transfer caused.
func RenderInteraction(in *platform.Interaction) string {
	if in == nil {
		return "(no interaction)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "app %s, user %s, journal #%d", in.App, in.OpenID, in.Journal)
	if in.Trigger != "" {
		fmt.Fprintf(&b, ", opened a %s window", in.Trigger)
	}
	b.WriteByte('\n')
	if in.Routed == platform.RoutedAgent {
		fmt.Fprintf(&b, "routed to the agent %s: the bot was not asked", in.Agent)
		return b.String()
	}
	fmt.Fprintf(&b, "routed to the %s\n", in.Routed)
	if len(in.Transfer) > 0 {
		b.WriteString("hand-over: " + RenderKF(in.Transfer) + "\n")
	}
	b.WriteString(RenderPush(in.Result))
	return b.String()
}

// RenderKF writes kf state changes in one line: "assigned to kf1@wxemu_demo; accepted by …".
func RenderKF(events []platform.KFEvent) string {
	parts := make([]string, 0, len(events))
	for _, ev := range events {
		var s string
		switch ev.Kind {
		case "queued":
			s = "queued"
		case "assigned":
			s = "assigned to " + ev.Account
		case "accepted":
			s = "accepted by " + ev.Account
		case "closed":
			s = "closed by " + ev.Account
		case "switched":
			s = "switched from " + ev.FromAccount + " to " + ev.ToAccount
		case "expired":
			s = "the session with " + ev.Account + " expired"
		default:
			s = ev.Kind
		}
		if ev.Cause != "" {
			s += " (" + ev.Cause + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// RenderSends writes customer-service sends one per line: journal entry, message, errcode.
func RenderSends(sends []harness.SendRecord) string {
	if len(sends) == 0 {
		return "(none)"
	}
	var b strings.Builder
	for i, s := range sends {
		if i > 0 {
			b.WriteByte('\n')
		}
		what := s.MsgType
		if s.MsgType == "text" {
			what += " " + strconv.Quote(textenc.Clip(s.Content, 60))
		}
		if s.KfAccount != "" {
			what += " as " + s.KfAccount
		}
		fmt.Fprintf(&b, "#%-4d %s → %d %s", s.Seq, what, s.Errcode, s.Errmsg)
		if s.Errcode != 0 && s.Detail != "" {
			b.WriteString(" (" + s.Detail + ")")
		}
	}
	return b.String()
}

// GomegaString shows the exchange as a failure message needs it: what the user saw, then where
// the action went, the verdict with the raw request and answer, and the bot's sends.
func (ex *Exchange) GomegaString() string {
	if ex == nil {
		return "nil"
	}
	var b strings.Builder
	switch {
	case ex.RetryOf != nil:
		fmt.Fprintf(&b, "WeChat retried %s of %s (journal #%d to #%d)\n", DescribeMessage(&ex.Message), ex.User, ex.Since+1, ex.Until)
	case ex.Forged != "":
		fmt.Fprintf(&b, "a forged push of %s as %s, with a wrong %s (journal #%d to #%d)\n", DescribeMessage(&ex.Message), ex.User, ex.Forged, ex.Since+1, ex.Until)
	default:
		fmt.Fprintf(&b, "%s sent %s (journal #%d to #%d)\n", ex.User, DescribeMessage(&ex.Message), ex.Since+1, ex.Until)
	}
	fmt.Fprintf(&b, "What %s saw:\n%s\n", ex.User.Label(), indent(RenderTranscript(ex.seen(), ex.User.Label())))
	fmt.Fprintf(&b, "The exchange:\n%s\n", indent(RenderInteraction(ex.Interaction)))
	until := "until now"
	if end := ex.w.until(); end != 0 {
		until = fmt.Sprintf("until %s's next action at journal #%d", ex.User.Label(), end+1)
	}
	fmt.Fprintf(&b, "The bot's customer-service sends to %s after it, %s:\n%s", ex.User.Label(), until, indent(RenderSends(ex.sendsNow())))
	return b.String()
}

// GomegaString shows the user and the chat as they see it now.
func (u *User) GomegaString() string {
	if u == nil {
		return "nil"
	}
	if u.e == nil {
		return fmt.Sprintf("%s, not made by an emulator", u)
	}
	return fmt.Sprintf("%s, who saw:\n%s", u, indent(RenderTranscript(u.Transcript(), u.Label())))
}

// GomegaString shows the call and the raw answer.
func (r *APIResponse) GomegaString() string {
	if r == nil {
		return "nil"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL)
	if len(r.RequestBody) > 0 {
		b.WriteString(indentBody(string(r.RequestBody)))
	}
	fmt.Fprintf(&b, "answer %d %s\n", r.Status, r.Header.Get("Content-Type"))
	b.WriteString(strings.TrimRight(indentBody(string(r.Raw)), "\n"))
	return b.String()
}

// GomegaString shows the agent's message, WeChat's answer and the chat afterwards.
func (r *AgentReply) GomegaString() string {
	if r == nil {
		return "nil"
	}
	status := "delivered"
	if !r.Delivered {
		status = fmt.Sprintf("refused: %d %s (%s)", r.Errcode, r.Errmsg, r.Detail)
	}
	return fmt.Sprintf("%s replied %q to %s: %s\nWhat %s saw:\n%s", r.Agent.Account, textenc.Clip(r.Text, 60), r.User, status,
		r.User.Label(), indent(RenderTranscript(r.Transcript, r.User.Label())))
}

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }

// renderExchange shows a raw HTTP exchange of the journal.
func renderExchange(x *platform.Exchange) string {
	if x == nil {
		return "  (no HTTP exchange)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  → %s %s\n", x.Method, x.URL)
	if x.RequestBody != "" {
		b.WriteString(indentBody(x.RequestBody))
	}
	fmt.Fprintf(&b, "  ← HTTP %d\n", x.Status)
	if x.ResponseBody != "" {
		b.WriteString(indentBody(x.ResponseBody))
	}
	return b.String()
}
