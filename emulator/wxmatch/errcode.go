package wxmatch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/onsi/gomega"
	"github.com/onsi/gomega/format"
	"github.com/onsi/gomega/types"

	"github.com/wxemu/wxemu/emulator/emutest"
)

// errcodeOf reads WeChat's errcode from an API answer. A JSON answer without one is a success
// (the token APIs answer so), 0.
func errcodeOf(name string, actual any) (int, error) {
	var raw []byte
	switch a := actual.(type) {
	case *emutest.APIResponse:
		if a == nil {
			return 0, nilError(name, actual)
		}
		raw = a.Raw
	case *emutest.AgentReply:
		if a == nil {
			return 0, nilError(name, actual)
		}
		return a.Errcode, nil
	case *http.Response:
		if a == nil {
			return 0, nilError(name, actual)
		}
		body, err := readBody(a)
		if err != nil {
			return 0, fmt.Errorf("%s: read the answer: %w", name, err)
		}
		raw = body
	case []byte:
		raw = a
	case json.RawMessage:
		raw = a
	default:
		return 0, fmt.Errorf("%s reads a WeChat API answer: a *emutest.APIResponse, *emutest.AgentReply, *http.Response or the JSON bytes; got\n%s", name, format.Object(actual, 1))
	}
	var v struct {
		Errcode *json.Number `json:"errcode"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, fmt.Errorf("%s: the answer is not a JSON object (%v):\n%s", name, err, format.IndentString(string(raw), 1))
	}
	if v.Errcode == nil {
		return 0, nil
	}
	n, err := v.Errcode.Int64()
	if err != nil {
		return 0, fmt.Errorf("%s: errcode %s is not an integer", name, v.Errcode.String())
	}
	return int(n), nil
}

// readBody reads a response's body once and puts it back, so that the matcher, its failure
// message and the spec can each read it.
func readBody(r *http.Response) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, err
}

// HaveErrcode succeeds when WeChat answered the API call with errcode code (an int, or a matcher
// such as BeNumerically(">", 0)); 0 is success.
func HaveErrcode(code any) types.GomegaMatcher {
	const name = "HaveErrcode"
	codeMatcher := func() (types.GomegaMatcher, error) {
		switch c := code.(type) {
		case int:
			return gomega.Equal(c), nil
		case types.GomegaMatcher:
			return c, nil
		}
		return nil, fmt.Errorf("%s takes an int or a matcher; got\n%s", name, format.Object(code, 1))
	}
	x := expectation{Want: "have the errcode", Expected: code, HasExpected: true}
	x.explain = func(actual any, failure bool) string {
		got, err := errcodeOf(name, actual)
		if err != nil {
			return ""
		}
		if m, err := codeMatcher(); err == nil {
			if _, isInt := code.(int); !isInt {
				return innerMessage(m, got, failure)
			}
		}
		if failure {
			return fmt.Sprintf("but it is %d", got)
		}
		return ""
	}
	return newMatcher(func(actual any) (bool, error) {
		m, err := codeMatcher()
		if err != nil {
			return false, err
		}
		got, err := errcodeOf(name, actual)
		if err != nil {
			return false, err
		}
		return m.Match(got)
	}, x)
}
