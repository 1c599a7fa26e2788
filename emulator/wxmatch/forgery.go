package wxmatch

import (
	"fmt"
	"strings"

	"github.com/onsi/gomega/format"
	"github.com/onsi/gomega/types"

	"github.com/wxemu/wxemu/emulator/emutest"
	"github.com/wxemu/wxemu/emulator/harness"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/push"
)

// BeRefused succeeds when the bot refused a forged push (emutest's u.Forge or
// u.ForgeMsgSignature): it neither replied nor transferred — an error status, `success` or an
// empty body all refuse — and it called no API about the user, during the push or in the quiet
// window after it (WithSettle, default 100 ms), so a bot that answers `success` and then acts on
// the push from a goroutine fails too. The scenario runner's signature check judges the same.
//
//	Expect(alice.Forge(emutest.Text("push 1"))).To(wxmatch.BeRefused())
//	Expect(alice.ForgeMsgSignature(emutest.Text("push 1"))).To(wxmatch.BeRefused())
func BeRefused() types.GomegaMatcher {
	const name = "BeRefused"
	// calls is what the last Match saw, for its failure message: reading again might wait.
	var calls []platform.Entry
	x := expectation{Want: "be refused: no reply, no transfer, and no API call about the user"}
	x.explain = func(actual any, failure bool) string {
		ex, ok := actual.(*emutest.Exchange)
		if !ok || ex == nil || ex.Result == nil {
			return ""
		}
		if !failure {
			return "but it was: the bot " + answerWords(ex.Result)
		}
		unchecked := "the " + ex.Forged
		if strings.Contains(ex.Forged, " and ") {
			unchecked = "either signature"
		}
		if accepted(ex.Result) {
			return fmt.Sprintf("but the bot %s: it did not check %s", answerWords(ex.Result), unchecked)
		}
		what := make([]string, len(calls))
		for i, c := range calls {
			what[i] = fmt.Sprintf("#%d %s", c.Seq, c.Summary)
		}
		_, quiet := ex.Bounds()
		return fmt.Sprintf("but the bot called the API %d time(s) about the user (watched until %s went by without one): it acted on a push WeChat did not sign\n%s",
			len(calls), quiet, indent(strings.Join(what, "\n")))
	}
	return newMatcher(func(actual any) (bool, error) {
		ex, ok := actual.(*emutest.Exchange)
		switch {
		case !ok:
			return false, fmt.Errorf("%s judges a forged push, the *emutest.Exchange of u.Forge(m) or u.ForgeMsgSignature(m); got\n%s", name, format.Object(actual, 1))
		case ex == nil || ex.Interaction == nil || ex.User == nil:
			return false, nilError(name, actual)
		case ex.User.Emu() == nil:
			return false, notMadeError(name, ex.User)
		case ex.Forged == "":
			return false, fmt.Errorf("%s judges a forged push, made by u.Forge(m) or u.ForgeMsgSignature(m); %s is a push WeChat signed", name, ex.Describe())
		case ex.Result == nil:
			return false, fmt.Errorf("%s: %s holds no push result", name, ex.Describe())
		}
		calls = nil
		if accepted(ex.Result) {
			return false, nil
		}
		refused := ex.Settle(func(a *harness.Act) bool {
			calls = a.APICalls()
			return len(calls) == 0
		})
		return refused, nil
	}, x)
}

// accepted reports whether the bot acted on a push as on one WeChat signed: its answer reached
// the user.
func accepted(r *push.Result) bool { return r.Outcome == push.Replied || r.Outcome == push.Transferred }

// answerWords says how the bot answered a push: "answered HTTP 200 with a text reply".
func answerWords(r *push.Result) string {
	status := "nothing"
	if r.Answer != nil {
		status = fmt.Sprintf("HTTP %d", r.Answer.Status)
	}
	switch r.Outcome {
	case push.Replied:
		what := "a reply"
		if r.Reply != nil && r.Reply.MsgType != "" {
			what = "a " + r.Reply.MsgType + " reply"
		}
		if r.UserSees != "" {
			what += fmt.Sprintf(" (%q)", r.UserSees)
		}
		return fmt.Sprintf("answered %s with %s", status, what)
	case push.Transferred:
		return fmt.Sprintf("answered %s with a transfer to customer service", status)
	}
	if r.Answer == nil {
		return "did not answer"
	}
	return fmt.Sprintf("answered %s without a reply", status)
}
