package wxmatch

import (
	"fmt"

	"github.com/onsi/gomega/format"
	"github.com/onsi/gomega/types"

	"github.com/wxemu/wxemu/emulator/emutest"
	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/textenc"
)

// linesOf reads a transcript: a user's as it is now, or the one an exchange, a hand-over or an
// agent's reply captured.
func linesOf(name string, actual any) ([]state.Line, error) {
	switch a := actual.(type) {
	case *emutest.User:
		if a != nil && a.Emu() == nil {
			return nil, notMadeError(name, a)
		}
		if a != nil {
			return a.Transcript(), nil
		}
	case *emutest.Exchange:
		if a != nil {
			return a.Transcript, nil
		}
	case *emutest.Handover:
		if a != nil {
			return a.Transcript, nil
		}
	case *emutest.AgentReply:
		if a != nil {
			return a.Transcript, nil
		}
	case []state.Line:
		return a, nil
	default:
		return nil, fmt.Errorf("%s reads what a user saw: a *emutest.User, *emutest.Exchange, *emutest.Handover, *emutest.AgentReply or []state.Line; got\n%s", name, format.Object(actual, 1))
	}
	return nil, nilError(name, actual)
}

// ShowUser succeeds when the lines the user sees on the phone — their own messages, the bot's
// replies and customer-service messages, the agents' messages, WeChat's system lines — contain
// these, in this order, other lines in between allowed. Each is a string, matched exactly, or a
// matcher of the line's text. Events the user caused are not lines they see.
func ShowUser(lines ...any) types.GomegaMatcher {
	const name = "ShowUser"
	x := expectation{Want: "show the user, in order, the lines", Expected: lines, HasExpected: true}
	x.explain = func(actual any, failure bool) string {
		ls, err := linesOf(name, actual)
		if err != nil || !failure {
			return ""
		}
		n, after, _ := showsInOrder(name, ls, lines)
		if n == len(lines) {
			return ""
		}
		where := "in the transcript"
		if after != nil {
			where = fmt.Sprintf("after %q (%s)", textenc.Clip(after.Text, 40), after.Time.Format("15:04:05"))
		}
		return fmt.Sprintf("but only %d of %d appear in order: nothing %s matches\n%s", n, len(lines), where, format.Object(lines[n], 1))
	}
	return newMatcher(func(actual any) (bool, error) {
		ls, err := linesOf(name, actual)
		if err != nil {
			return false, err
		}
		n, _, err := showsInOrder(name, ls, lines)
		return n == len(lines) && err == nil, err
	}, x)
}

// showsInOrder finds the expected lines among the visible ones in order, and says how many it
// found and the line the last one matched.
func showsInOrder(name string, ls []state.Line, expected []any) (int, *state.Line, error) {
	var last *state.Line
	pos := 0
	for n, e := range expected {
		m, err := valueMatcher(name, e)
		if err != nil {
			return n, last, err
		}
		found := false
		for ; pos < len(ls); pos++ {
			l := ls[pos]
			if !l.Visible() {
				continue
			}
			ok, err := m.Match(l.Text)
			if err != nil {
				return n, last, err
			}
			if ok {
				last, found = &ls[pos], true
				pos++
				break
			}
		}
		if !found {
			return n, last, nil
		}
	}
	return len(expected), last, nil
}
