package wxmatch

import (
	"fmt"
	"strings"

	"github.com/onsi/gomega/format"
	"github.com/onsi/gomega/types"

	"github.com/wxemu/wxemu/emulator/emutest"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/wire"
)

// judged is what the push matchers read, whichever value they were given. res is nil when the
// message went to an agent and the bot was not asked; in is nil for a bare *push.Result.
type judged struct {
	in  *platform.Interaction
	res *push.Result
}

const judgedTypes = "a *emutest.Exchange, *platform.Interaction or *push.Result"

func asJudged(name string, actual any) (judged, error) {
	switch a := actual.(type) {
	case *emutest.Exchange:
		if a == nil || a.Interaction == nil {
			return judged{}, nilError(name, actual)
		}
		return judged{in: a.Interaction, res: a.Result}, nil
	case *platform.Interaction:
		if a == nil {
			return judged{}, nilError(name, actual)
		}
		return judged{in: a, res: a.Result}, nil
	case *push.Result:
		if a == nil {
			return judged{}, nilError(name, actual)
		}
		return judged{res: a}, nil
	}
	return judged{}, fmt.Errorf("%s judges %s; got\n%s", name, judgedTypes, format.Object(actual, 1))
}

// outcome reports whether the bot was pushed the message and its answer had outcome o.
func (j judged) outcome(o push.Outcome) bool { return j.res != nil && j.res.Outcome == o }

func pushMatcher(name string, x expectation, match func(j judged) (bool, error)) types.GomegaMatcher {
	return newMatcher(func(actual any) (bool, error) {
		j, err := asJudged(name, actual)
		if err != nil {
			return false, err
		}
		return match(j)
	}, x)
}

// BeTransferred succeeds when the bot answered with transfer_customer_service: the user is handed
// to the human agents (protocol §3.2, §5.4).
func BeTransferred() types.GomegaMatcher {
	return pushMatcher("BeTransferred", expectation{Want: "be transferred to customer service (a transfer_customer_service reply)"},
		func(j judged) (bool, error) { return j.outcome(push.Transferred), nil })
}

// BeTransferredTo succeeds when the bot's transfer names the kf account in TransInfo/KfAccount
// (a string, or a matcher of the account). Who then takes the user is in the Exchange's Transfer.
func BeTransferredTo(kfAccount any) types.GomegaMatcher {
	const name = "BeTransferredTo"
	x := expectation{Want: "be transferred to the kf account", Expected: kfAccount, HasExpected: true}
	x.explain = func(actual any, failure bool) string {
		j, _ := asJudged(name, actual)
		m, err := valueMatcher(name, kfAccount)
		if err != nil || !j.outcome(push.Transferred) {
			return ""
		}
		return innerMessage(m, j.res.KfAccount, failure)
	}
	return pushMatcher(name, x, func(j judged) (bool, error) {
		m, err := valueMatcher(name, kfAccount)
		if err != nil {
			return false, err
		}
		if !j.outcome(push.Transferred) {
			return false, nil
		}
		return m.Match(j.res.KfAccount)
	})
}

// HaveTextReply succeeds when a passive text reply reached the user whose content is expected
// (a string, matched exactly, or a matcher such as ContainSubstring).
func HaveTextReply(expected any) types.GomegaMatcher {
	const name = "HaveTextReply"
	x := expectation{Want: "have the text reply", Expected: expected, HasExpected: true}
	textOf := func(j judged) (string, bool) {
		if !j.outcome(push.Replied) || j.res.Reply == nil || j.res.Reply.MsgType != wire.ReplyText {
			return "", false
		}
		return j.res.Reply.Content, true
	}
	x.explain = func(actual any, failure bool) string {
		j, _ := asJudged(name, actual)
		m, err := valueMatcher(name, expected)
		text, ok := textOf(j)
		if err != nil || !ok {
			return ""
		}
		return innerMessage(m, text, failure)
	}
	return pushMatcher(name, x, func(j judged) (bool, error) {
		m, err := valueMatcher(name, expected)
		if err != nil {
			return false, err
		}
		text, ok := textOf(j)
		if !ok {
			return false, nil
		}
		return m.Match(text)
	})
}

// HaveReply succeeds when a passive reply of msgtype (text, image, voice, video, music, news)
// reached the user. For a transfer, use BeTransferred.
func HaveReply(msgtype string) types.GomegaMatcher {
	return pushMatcher("HaveReply", expectation{Want: "have a passive reply of type", Expected: msgtype, HasExpected: true},
		func(j judged) (bool, error) {
			if msgtype == wire.ReplyTransfer {
				return j.outcome(push.Transferred), nil
			}
			return j.outcome(push.Replied) && j.res.Reply != nil && j.res.Reply.MsgType == msgtype, nil
		})
}

// HaveNoReply succeeds when the bot was pushed the message and answered `success` or an empty
// body: the user sees nothing, as a bot that answers later through the API wants. A message that
// went to an agent was not pushed, so it does not match.
func HaveNoReply() types.GomegaMatcher {
	return pushMatcher("HaveNoReply", expectation{Want: "have no reply (the bot answered `success` or an empty body)"},
		func(j judged) (bool, error) { return j.outcome(push.None), nil })
}

// HaveFailed succeeds when WeChat got no usable answer: the user sees the failure line
// 「该公众号暂时无法提供服务，请稍后再试」 (a Mini Program's user 「该小程序客服暂时无法提供服务，请稍后再试」).
func HaveFailed() types.GomegaMatcher {
	return pushMatcher("HaveFailed", expectation{Want: "have failed (the user sees the failure line)"},
		func(j judged) (bool, error) { return j.outcome(push.Failed), nil })
}

// BeDeliveredTo succeeds when the user's message went where says: "bot" (pushed to the bot),
// "agent" (the inbox of the agent serving the user), or a kf account ("kf1@wxemu_demo").
func BeDeliveredTo(where string) types.GomegaMatcher {
	const name = "BeDeliveredTo"
	return pushMatcher(name, expectation{Want: "be delivered to", Expected: where, HasExpected: true},
		func(j judged) (bool, error) {
			if j.in == nil {
				return false, fmt.Errorf("%s needs to know where the message went: a *push.Result is always a push to the bot; match the *emutest.Exchange or *platform.Interaction", name)
			}
			switch where {
			case platform.RoutedBot, platform.RoutedAgent:
				return j.in.Routed == where, nil
			case "":
				return false, fmt.Errorf(`%s takes "bot", "agent" or a kf account; got ""`, name)
			}
			return j.in.Routed == platform.RoutedAgent && j.in.Agent == where, nil
		})
}

// violationsOf reads the violations of a push verdict, or a list of them.
func violationsOf(name string, actual any) ([]rules.Violation, error) {
	if vs, ok := actual.([]rules.Violation); ok {
		return vs, nil
	}
	j, err := asJudged(name, actual)
	if err != nil {
		return nil, fmt.Errorf("%s judges %s, or a []rules.Violation; got\n%s", name, judgedTypes, format.Object(actual, 1))
	}
	if j.res == nil {
		return nil, nil
	}
	return j.res.Violations, nil
}

// HaveViolation succeeds when the verdict on the bot's answer holds the rule (a rules id such as
// "reply.header.swap"), with the severity if one is given.
func HaveViolation(ruleID string, severity ...rules.Severity) types.GomegaMatcher {
	const name = "HaveViolation"
	want := "have the violation"
	if len(severity) > 0 {
		want = fmt.Sprintf("have the %s-severity violation", severity[0])
	}
	return newMatcher(func(actual any) (bool, error) {
		vs, err := violationsOf(name, actual)
		if err != nil {
			return false, err
		}
		if _, known := rules.Lookup(ruleID); !known {
			return false, fmt.Errorf("%s(%q): wxemu has no such rule%s", name, ruleID, platform.DidYouMean(ruleID, ruleIDs()))
		}
		if len(severity) > 1 {
			return false, fmt.Errorf("%s takes one severity at most; got %v", name, severity)
		}
		for _, v := range vs {
			if v.Rule == ruleID && (len(severity) == 0 || v.Severity == severity[0]) {
				return true, nil
			}
		}
		return false, nil
	}, expectation{Want: want, Expected: ruleID, HasExpected: true})
}

func ruleIDs() []string {
	var ids []string
	for _, r := range rules.Catalog() {
		ids = append(ids, r.ID)
	}
	return ids
}

// HaveNoErrors succeeds when the verdict holds no error-severity violation: real WeChat would
// take the bot's answer. Warnings are allowed.
func HaveNoErrors() types.GomegaMatcher {
	const name = "HaveNoErrors"
	x := expectation{Want: "have no error-severity violation"}
	x.explain = func(actual any, failure bool) string {
		vs, _ := violationsOf(name, actual)
		var errs []string
		for _, v := range vs {
			if v.Severity == rules.Error {
				errs = append(errs, v.Rule)
			}
		}
		if !failure || len(errs) == 0 {
			return ""
		}
		return "but it has " + strings.Join(errs, ", ")
	}
	return newMatcher(func(actual any) (bool, error) {
		vs, err := violationsOf(name, actual)
		if err != nil {
			return false, err
		}
		return !rules.HasError(vs), nil
	}, x)
}
