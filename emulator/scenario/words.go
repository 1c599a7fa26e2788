package scenario

import (
	"fmt"
	"github.com/wxemu/wxemu/emulator/textenc"
	"sort"
	"strconv"
	"strings"

	"github.com/wxemu/wxemu/emulator/harness"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/wire"
)

// These put what happened in a few words, for the one line each step gets in the output and
// for the expected/actual of a failure.

// describe is a step's action as the output shows it.
func (x *run) describe(st *Step) string {
	switch {
	case st.Message != nil:
		return st.User + ": " + st.Message.Describe()
	case st.Agent != nil:
		a := st.Agent
		switch a.Do {
		case "accept":
			return fmt.Sprintf("agent %s accepts %s", a.Account, a.User)
		case "close":
			return fmt.Sprintf("agent %s closes the session with %s", a.Account, a.User)
		case "switch":
			return fmt.Sprintf("agent %s switches %s to %s", a.Account, a.User, a.To)
		case "reply":
			return fmt.Sprintf("agent %s replies to %s: %q", a.Account, a.User, textenc.Clip(a.Text, 60))
		}
		var parts []string
		if a.Online != nil {
			parts = append(parts, map[bool]string{true: "online", false: "offline"}[*a.Online])
		}
		if a.AutoAccept != nil {
			parts = append(parts, "auto-accept "+strconv.FormatBool(*a.AutoAccept))
		}
		if a.Capacity != nil {
			parts = append(parts, "capacity "+strconv.Itoa(*a.Capacity))
		}
		return fmt.Sprintf("agent %s: %s", a.Account, strings.Join(parts, ", "))
	case st.Faults != nil && st.Faults.Clear:
		return "faults: clear"
	case st.Faults != nil:
		return fmt.Sprintf("faults: add %d rule(s)", len(st.Faults.Add))
	case st.Advance > 0:
		return "advance " + fmtDuration(st.Advance.String())
	case st.Trigger != nil:
		return fmt.Sprintf("trigger %s for %s", st.Trigger.Kind, st.Trigger.User)
	case st.Tokens != "":
		return st.Tokens + " the app's access tokens"
	}
	var what []string
	if st.Sends != nil {
		what = append(what, "sends to "+st.Sends.User)
	}
	if st.BotReceives != nil {
		b := st.BotReceives
		w := b.MsgType
		if b.Event != "" {
			w = b.Event
		}
		what = append(what, "bot receives "+w)
	}
	return "check " + strings.Join(what, " and ")
}

func fmtDuration(s string) string {
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// summarize is what came of a user's message.
func summarize(in *platform.Interaction) string {
	switch in.Routed {
	case platform.RoutedAgent:
		return "delivered to agent " + in.Agent
	case platform.RoutedNone:
		return "WeChat pushed it nowhere"
	}
	s := outcomeWords(in.Result)
	for _, ev := range in.Transfer {
		switch ev.Kind {
		case "queued":
			s += ", queued"
		case "assigned":
			s += ", waiting for " + ev.Account
		case "accepted":
			s += ", " + ev.Account + " accepted"
		}
	}
	return s
}

// outcomeWords is the outcome of a push: `reply text "hello"`, `transfer to kf1@…`, `failed: …`.
func outcomeWords(r *push.Result) string {
	if r == nil {
		return "no push"
	}
	switch r.Outcome {
	case push.Replied:
		if r.Reply == nil {
			return "reply"
		}
		switch r.Reply.MsgType {
		case wire.ReplyText:
			return fmt.Sprintf("reply text %q", textenc.Clip(r.Reply.Content, 80))
		case wire.ReplyNews:
			return fmt.Sprintf("reply news (%d article(s))", len(r.Reply.Articles))
		}
		return "reply " + r.Reply.MsgType
	case push.Transferred:
		if r.KfAccount != "" {
			return "transfer to " + r.KfAccount
		}
		return "transfer"
	case push.Failed:
		s := "failed"
		for _, v := range r.Violations {
			if v.Severity == "error" {
				return s + " (" + v.Rule + ")"
			}
		}
		return s
	}
	return "none (" + answerWords(r) + ")"
}

// answerWords is the bot's answer in short: `HTTP 403`, `success`, `empty body`, `no answer`.
func answerWords(r *push.Result) string {
	a := r.Answer
	switch {
	case a == nil:
		return "no answer"
	case a.Status != 200:
		return "HTTP " + strconv.Itoa(a.Status)
	case a.Body == "":
		return "empty body"
	case a.Body == "success":
		return "success"
	}
	return "HTTP 200"
}

func replyWords(e *ReplyExpect) string {
	var parts []string
	if e.Outcome != "" {
		parts = append(parts, e.Outcome)
	}
	if e.KfAccount != nil {
		parts = append(parts, "to "+accountWords(*e.KfAccount))
	}
	if e.MsgType != "" {
		parts = append(parts, e.MsgType)
	}
	if e.Text != nil {
		_, want, _ := e.Text.Match("", nil)
		parts = append(parts, want)
	}
	return strings.Join(parts, " ")
}

func accountWords(a string) string {
	if a == "" {
		return "no kf account (the waiting queue)"
	}
	return a
}

func quoteOrNothing(s string) string {
	if s == "" {
		return "nothing"
	}
	return strconv.Quote(s)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// sendsSummary is `6 sends: 0 0 0 0 0 45047`.
func sendsSummary(sends []harness.SendRecord) string {
	codes := make([]string, len(sends))
	for i, s := range sends {
		codes[i] = strconv.Itoa(s.Errcode)
	}
	return plural(len(sends), "send") + " (errcodes " + strings.Join(codes, " ") + ")"
}

// sendsDetail lists sends one per line with WeChat's answer.
func sendsDetail(sends []harness.SendRecord) string {
	if len(sends) == 0 {
		return "the bot sent nothing to the user"
	}
	var b strings.Builder
	for i, s := range sends {
		what := s.MsgType
		if s.Content != "" {
			what += " " + strconv.Quote(textenc.Clip(s.Content, 60))
		}
		fmt.Fprintf(&b, "send %d: %s → %d %s", i+1, what, s.Errcode, s.Errmsg)
		if s.Detail != "" {
			b.WriteString(": " + s.Detail)
		}
		if i < len(sends)-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func receivesWords(e *ReceivesExpect, want map[string]string) string {
	s := e.MsgType
	if e.Event != "" {
		s = "event " + e.Event
	}
	var parts []string
	for _, f := range []string{"KfAccount", "FromKfAccount", "ToKfAccount"} {
		if v := want[f]; v != "" {
			parts = append(parts, f+" "+v)
		}
	}
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	return s
}

// pushWords is what a push carried: `text "hi"`, `event kf_create_session (kf1@wxemu_demo)`.
func pushWords(m *wire.Message) string {
	switch {
	case m.MsgType == "text":
		return fmt.Sprintf("text %q", textenc.Clip(m.Content, 40))
	case m.IsEvent() && m.Event == "kf_switch_session":
		return fmt.Sprintf("event %s (%s → %s)", m.Event, m.FromKfAccount, m.ToKfAccount)
	case m.IsEvent() && m.KfAccount != "":
		return fmt.Sprintf("event %s (%s)", m.Event, m.KfAccount)
	case m.IsEvent():
		return "event " + m.Event
	}
	return m.MsgType
}

func sortStrings(s []string) []string {
	sort.Strings(s)
	return s
}
