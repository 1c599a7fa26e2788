// Package wxmatch holds Gomega matchers for wxemu: what the bot answered a push (a text reply, a
// transfer, nothing, a failure), which rules its answer broke, what it sent through the
// customer-service API and what WeChat answered, whether it refused a push WeChat did not sign,
// and what the person on the phone saw.
//
//	ex := emu.User("alice").Send(emutest.Text("push 6"))
//	Expect(ex).To(wxmatch.HaveNoReply())
//	Expect(ex).To(wxmatch.HaveSent(wxmatch.Sends(6), wxmatch.Errcodes(0, 0, 0, 0, 0, 45047)))
//
// HaveSent, HaveSentMessage and BeRefused judge what a bot does after it answered, on an
// *emutest.Exchange, the way Gomega's Eventually and then Consistently do: they wait for what is
// expected, then watch a quiet window for one send or call too many (emutest.WithSettle).
//
// The push matchers read an *emutest.Exchange, a *platform.Interaction or a *push.Result. Like
// Gomega's own, a matcher returns an error, not false, for a value it cannot judge. A failure
// shows what the user saw on the phone and the raw exchange — the signed request, the bot's
// answer, every violation — because that is what a bot developer debugs with.
package wxmatch

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"text/template"

	"github.com/onsi/gomega"
	"github.com/onsi/gomega/format"
	"github.com/onsi/gomega/gcustom"
	"github.com/onsi/gomega/matchers"
	"github.com/onsi/gomega/types"

	"github.com/wxemu/wxemu/emulator/emutest"
	"github.com/wxemu/wxemu/emulator/harness"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/state"
)

// expectation is the template data of a matcher: what it wants, and how to explain a miss.
type expectation struct {
	Want        string
	Expected    any
	HasExpected bool
	explain     func(actual any, failure bool) string
}

// Detail is the part of a failure message that depends on the actual value, such as the message
// of a matcher the expectation delegates to.
func (x expectation) Detail(actual any, failure bool) string {
	if x.explain == nil {
		return ""
	}
	return x.explain(actual, failure)
}

// failureTemplate is every wxmatch failure message: the value, the expectation, then the chat and
// the raw exchange.
var failureTemplate = template.Must(template.New("wxmatch").Funcs(template.FuncMap{
	"format": func(v any, indent uint) string { return format.Object(v, indent) },
	"title":  title,
	"report": report,
}).Parse(`Expected {{title .Actual}}
{{.To}} {{.Data.Want}}{{if .Data.HasExpected}}
{{format .Data.Expected 1}}{{end}}{{with .Data.Detail .Actual .Failure}}
{{.}}{{end}}

{{report .Actual}}`))

func newMatcher(match func(actual any) (bool, error), x expectation) gcustom.CustomGomegaMatcher {
	return gcustom.MakeMatcher(match).WithPrecompiledTemplate(failureTemplate, x)
}

// title names the value a message is about.
func title(actual any) string {
	switch a := actual.(type) {
	case *emutest.Exchange:
		if a != nil {
			return a.Describe()
		}
	case *platform.Interaction:
		if a != nil && a.Result != nil {
			return fmt.Sprintf("%s of %s to %s", emutest.DescribeMessage(&a.Result.Message), a.OpenID, a.App)
		}
		if a != nil {
			return fmt.Sprintf("the message of %s to %s", a.OpenID, a.App)
		}
	case *push.Result:
		if a != nil {
			return "the push of " + emutest.DescribeMessage(&a.Message)
		}
	case *emutest.User:
		if a != nil {
			return fmt.Sprintf("what %s saw", a)
		}
	case *emutest.Handover:
		if a != nil {
			return fmt.Sprintf("what %s saw after the hand-over by %s", a.User, a.Agent.Account)
		}
	case []state.Line:
		return "the transcript"
	case *emutest.APIResponse:
		if a != nil {
			return fmt.Sprintf("the answer to %s %s", a.Method, a.URL)
		}
	case *emutest.AgentReply:
		if a != nil {
			return fmt.Sprintf("the reply of %s to %s", a.Agent.Account, a.User)
		}
	case *http.Response:
		if a != nil && a.Request != nil {
			return fmt.Sprintf("the answer to %s %s", a.Request.Method, a.Request.URL)
		}
		return "the HTTP answer"
	case []byte, json.RawMessage:
		return "the API answer"
	case []harness.SendRecord:
		return "the customer-service sends"
	case []rules.Violation:
		return "the violations"
	}
	return "\n" + format.Object(actual, 1)
}

// report is what a developer debugs with: the chat and the raw exchange.
func report(actual any) string {
	switch a := actual.(type) {
	case *emutest.Exchange:
		return a.GomegaString()
	case *platform.Interaction:
		return "The exchange:\n" + indent(emutest.RenderInteraction(a))
	case *push.Result:
		return "The push:\n" + indent(emutest.RenderPush(a))
	case *emutest.User:
		if a.Emu() == nil {
			return a.GomegaString()
		}
		return fmt.Sprintf("What %s saw:\n%s\nThe bot's customer-service sends to them:\n%s", a.Label(),
			indent(emutest.RenderTranscript(a.Transcript(), a.Label())), indent(emutest.RenderSends(a.Sends())))
	case *emutest.Handover:
		return fmt.Sprintf("The bot received:\n%s\nWhat %s saw:\n%s", indent(describeMessages(a)), a.User.Label(),
			indent(emutest.RenderTranscript(a.Transcript, a.User.Label())))
	case []state.Line:
		return "The transcript:\n" + indent(emutest.RenderTranscript(a, "user"))
	case *emutest.APIResponse:
		return "The call:\n" + indent(a.GomegaString())
	case *emutest.AgentReply:
		return a.GomegaString()
	case *http.Response:
		body, _ := readBody(a)
		return fmt.Sprintf("The answer:\n    %d %s\n%s", a.StatusCode, a.Header.Get("Content-Type"), indent(string(body)))
	case []byte:
		return "The answer:\n" + indent(string(a))
	case json.RawMessage:
		return "The answer:\n" + indent(string(a))
	case []harness.SendRecord:
		return "The sends:\n" + indent(emutest.RenderSends(a))
	case []rules.Violation:
		return "The violations:\n" + indent(renderViolations(a))
	}
	return ""
}

func describeMessages(h *emutest.Handover) string {
	if len(h.BotReceived) == 0 {
		return "(nothing)"
	}
	out := make([]string, len(h.BotReceived))
	for i := range h.BotReceived {
		out[i] = emutest.DescribeMessage(&h.BotReceived[i])
	}
	return strings.Join(out, "\n")
}

func renderViolations(vs []rules.Violation) string {
	if len(vs) == 0 {
		return "(none)"
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.String()
	}
	return strings.Join(out, "\n")
}

func indent(s string) string { return format.IndentString(s, 1) }

// valueMatcher turns an expected value into a matcher: a string is matched exactly, a matcher is
// used as is.
func valueMatcher(name string, expected any) (types.GomegaMatcher, error) {
	switch x := expected.(type) {
	case string:
		return gomega.Equal(x), nil
	case types.GomegaMatcher:
		return x, nil
	}
	return nil, fmt.Errorf("%s takes a string or a matcher such as ContainSubstring(…); got\n%s", name, format.Object(expected, 1))
}

// innerMessage is the failure message of the matcher an expectation delegates to. For an exact
// string the expectation has shown already, the value found is enough.
func innerMessage(m types.GomegaMatcher, v any, failure bool) string {
	if _, exact := m.(*matchers.EqualMatcher); exact {
		if failure {
			return "but it is\n" + format.Object(v, 1)
		}
		return ""
	}
	if failure {
		return m.FailureMessage(v)
	}
	return m.NegatedFailureMessage(v)
}

func nilError(name string, actual any) error {
	return fmt.Errorf("%s got a nil %T: there is nothing to judge", name, actual)
}

func notMadeError(name string, u *emutest.User) error {
	return fmt.Errorf("%s: %s was not made by an emulator (Emu.User or Emu.NewUser): there is no chat to read", name, u)
}
