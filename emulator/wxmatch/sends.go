package wxmatch

import (
	"fmt"

	"github.com/onsi/gomega"
	"github.com/onsi/gomega/format"
	"github.com/onsi/gomega/types"

	"github.com/wxemu/wxemu/emulator/emutest"
	"github.com/wxemu/wxemu/emulator/harness"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/push"
)

// sendsOf reads the customer-service sends of an exchange (those during its push), of a user
// (all of them), or a list of them.
func sendsOf(name string, actual any) ([]harness.SendRecord, error) {
	switch a := actual.(type) {
	case *emutest.Exchange:
		if a == nil {
			return nil, nilError(name, actual)
		}
		return a.Sends, nil
	case *emutest.User:
		if a == nil {
			return nil, nilError(name, actual)
		}
		if a.Emu() == nil {
			return nil, notMadeError(name, a)
		}
		return a.Sends(), nil
	case []harness.SendRecord:
		return a, nil
	case *platform.Interaction, *push.Result:
		return nil, fmt.Errorf("%s: a %T does not hold the customer-service sends the bot made meanwhile; match the *emutest.Exchange that emutest's Send returns", name, actual)
	}
	return nil, fmt.Errorf("%s reads the customer-service sends of a *emutest.Exchange (during its push), a *emutest.User (all) or a []harness.SendRecord; got\n%s", name, format.Object(actual, 1))
}

// HaveSent succeeds when the bot's customer-service sends satisfy every matcher, each given the
// []harness.SendRecord: HaveSent(Sends(6), Errcodes(0, 0, 0, 0, 0, 45047)). With no matcher, it
// succeeds when there is at least one send.
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
	x := expectation{Want: "have sent customer-service messages that satisfy every matcher"}
	x.explain = func(actual any, failure bool) string {
		sends, err := sendsOf(name, actual)
		if err != nil || !failure {
			return ""
		}
		if m, _ := firstMiss(sends); m != nil {
			return m.FailureMessage(sends)
		}
		return ""
	}
	return newMatcher(func(actual any) (bool, error) {
		sends, err := sendsOf(name, actual)
		if err != nil {
			return false, err
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
func HaveSentMessage(msgtype string, content any, errcode int) types.GomegaMatcher {
	const name = "HaveSentMessage"
	x := expectation{Want: fmt.Sprintf("have sent a %s message WeChat answered with errcode %d, whose content is", msgtype, errcode),
		Expected: content, HasExpected: true}
	return newMatcher(func(actual any) (bool, error) {
		sends, err := sendsOf(name, actual)
		if err != nil {
			return false, err
		}
		cm, err := valueMatcher(name, content)
		if err != nil {
			return false, err
		}
		return gomega.ContainElement(gomega.And(
			gomega.HaveField("MsgType", msgtype),
			gomega.HaveField("Content", cm),
			gomega.HaveField("Errcode", errcode),
		)).Match(sends)
	}, x)
}
