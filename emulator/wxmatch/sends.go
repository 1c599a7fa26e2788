package wxmatch

import (
	"fmt"
	"strings"
	"time"

	"github.com/onsi/gomega"
	"github.com/onsi/gomega/format"
	"github.com/onsi/gomega/types"

	"github.com/wxemu/wxemu/emulator/emutest"
	"github.com/wxemu/wxemu/emulator/harness"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/push"
)

// settleSends reads the sends and judges them with ok. On an exchange or a user, it waits the
// way Gomega's Eventually and then Consistently do: until ok holds (at most the within bound),
// then for the quiet window, judging again at every new entry; the sends returned are the last
// judged.
func settleSends(name string, actual any, ok func([]harness.SendRecord) bool) ([]harness.SendRecord, error) {
	var sends []harness.SendRecord
	judge := func(a *harness.Act) bool {
		sends = a.Sends()
		return ok(sends)
	}
	switch a := actual.(type) {
	case *emutest.Exchange:
		if a == nil || a.User == nil {
			return nil, nilError(name, actual)
		}
		if a.User.Emu() == nil {
			return nil, notMadeError(name, a.User)
		}
		a.Settle(judge)
		return sends, nil
	case *emutest.User:
		if a == nil {
			return nil, nilError(name, actual)
		}
		if a.Emu() == nil {
			return nil, notMadeError(name, a)
		}
		a.Settle(judge)
		return sends, nil
	case []harness.SendRecord:
		return a, nil
	case *platform.Interaction, *push.Result:
		return nil, fmt.Errorf("%s: a %T does not hold the customer-service sends the bot made meanwhile; match the *emutest.Exchange that emutest's Send returns", name, actual)
	}
	return nil, fmt.Errorf("%s reads the customer-service sends of a *emutest.Exchange (those that followed it), a *emutest.User (all) or a []harness.SendRecord; got\n%s", name, format.Object(actual, 1))
}

// waited says how a judgement of sends waited, for a failure message.
func waited(actual any) string {
	var within, quiet time.Duration
	switch a := actual.(type) {
	case *emutest.Exchange:
		within, quiet = a.Bounds()
		if !a.Open() {
			return "(judged at once: the user acted again after it)"
		}
		if a.RetryOf != nil {
			key := "MsgId"
			if a.Message.IsEvent() {
				key = "FromUserName and CreateTime"
			}
			return fmt.Sprintf("(waited up to %s for them, then %s in which nothing more may happen; a retry carries the %s of the first delivery, and a bot that dedupes by it acts once)",
				within, quiet, key)
		}
	case *emutest.User:
		within, quiet = a.Bounds()
	default:
		return ""
	}
	return fmt.Sprintf("(waited up to %s for them, then %s in which nothing more may happen)", within, quiet)
}

// HaveSent succeeds when the bot's customer-service sends satisfy every matcher, each given the
// []harness.SendRecord: HaveSent(Sends(6), Errcodes(0, 0, 0, 0, 0, 45047)). With no matcher, it
// succeeds when there is at least one send.
//
// On an *emutest.Exchange (the sends that followed it) or an *emutest.User (all of theirs) it
// waits like Gomega's Eventually and then Consistently: until the matchers hold, for at most
// the exchange's within bound (default 1 s), and then for its quiet window (default 100 ms), in
// which a send too many fails it. So a bot that answers `success` and sends from a goroutine is
// judged exactly: HaveSent(Sends(2)) passes two sends 500 ms later and fails a third. NotTo
// waits for the whole bound; prefer HaveSent(Sends(0)), which waits only for the quiet window.
func HaveSent(matchers ...types.GomegaMatcher) types.GomegaMatcher {
	const name = "HaveSent"
	if len(matchers) == 0 {
		matchers = []types.GomegaMatcher{gomega.Not(gomega.BeEmpty())}
	}
	firstMiss := func(sends []harness.SendRecord) (types.GomegaMatcher, error) {
		for _, m := range matchers {
			ok, err := m.Match(sends)
			if err != nil {
				return nil, err
			}
			if !ok {
				return m, nil
			}
		}
		return nil, nil
	}
	// judged is what the last Match saw, for its failure message: reading again might wait.
	var judged []harness.SendRecord
	x := expectation{Want: "have sent customer-service messages that satisfy every matcher"}
	x.explain = func(actual any, failure bool) string {
		if !failure {
			return ""
		}
		out := waited(actual)
		if m, _ := firstMiss(judged); m != nil {
			out = strings.TrimPrefix(out+"\n"+m.FailureMessage(judged), "\n")
		}
		return out
	}
	return newMatcher(func(actual any) (bool, error) {
		var matchErr error
		sends, err := settleSends(name, actual, func(s []harness.SendRecord) bool {
			m, err := firstMiss(s)
			if err != nil {
				matchErr = err
				return true
			}
			return m == nil
		})
		if err != nil {
			return false, err
		}
		judged = sends
		if matchErr != nil {
			return false, matchErr
		}
		m, err := firstMiss(sends)
		return m == nil && err == nil, err
	}, x)
}

// Sends matches a list of sends of length n, for HaveSent.
func Sends(n int) types.GomegaMatcher {
	return gomega.WithTransform(func(s []harness.SendRecord) int { return len(s) }, gomega.Equal(n))
}

// Errcodes matches the errcodes WeChat answered the sends, in order, for HaveSent.
func Errcodes(codes ...int) types.GomegaMatcher {
	if codes == nil {
		codes = []int{}
	}
	return gomega.WithTransform(func(s []harness.SendRecord) []int {
		out := make([]int, len(s))
		for i, r := range s {
			out[i] = r.Errcode
		}
		return out
	}, gomega.Equal(codes))
}

// HaveSentMessage succeeds when one of the sends has the msgtype, the text content (a string,
// matched exactly, or a matcher; "" for a send without text) and the errcode WeChat answered.
// On an exchange or a user it waits for that send as HaveSent does.
func HaveSentMessage(msgtype string, content any, errcode int) types.GomegaMatcher {
	const name = "HaveSentMessage"
	x := expectation{Want: fmt.Sprintf("have sent a %s message WeChat answered with errcode %d, whose content is", msgtype, errcode),
		Expected: content, HasExpected: true}
	x.explain = func(actual any, failure bool) string {
		if !failure {
			return ""
		}
		return waited(actual)
	}
	return newMatcher(func(actual any) (bool, error) {
		cm, err := valueMatcher(name, content)
		if err != nil {
			return false, err
		}
		m := gomega.ContainElement(gomega.And(
			gomega.HaveField("MsgType", msgtype),
			gomega.HaveField("Content", cm),
			gomega.HaveField("Errcode", errcode),
		))
		var matchErr error
		sends, err := settleSends(name, actual, func(s []harness.SendRecord) bool {
			ok, err := m.Match(s)
			if err != nil {
				matchErr = err
				return true
			}
			return ok
		})
		if err != nil {
			return false, err
		}
		if matchErr != nil {
			return false, matchErr
		}
		return m.Match(sends)
	}, x)
}
