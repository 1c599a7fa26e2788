package journal

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/textenc"
	"github.com/wxemu/wxemu/emulator/wire"
)

// Kinds of entries, as the control API names and filters them.
const (
	KindPush    = "push"    // a push to the bot: every attempt, the answer, the verdict
	KindAPI     = "api"     // a call of the WeChat API: decoded, answered, with its raw exchange
	KindKF      = "kf"      // a change of a user's kf session: queued, accepted, closed, expired …
	KindState   = "state"   // another change of state and its cause
	KindControl = "control" // a call of the control plane, or a control action of a Go caller
	KindUnknown = "unknown" // a finding: a request for a path or method WeChat does not serve
	KindLog     = "log"     // what a cloud function printed to its stdout or stderr
)

// Kinds lists every kind, in the order above.
var Kinds = []string{KindPush, KindAPI, KindKF, KindState, KindControl, KindUnknown, KindLog}

// Entry is one record of the journal: a header every reader can filter on, and exactly one
// typed record. It is written once and never changed, so entries are shared by readers.
type Entry struct {
	Seq        uint64
	Time       time.Time // virtual time
	App        string    // appid
	User       string    // openid
	Summary    string
	DurationMS float64 // wall time spent, for pushes and API calls
	Errors     int     // error-severity violations or a nonzero errcode

	// Exactly one of these is set; Kind names which.
	Push    *Push
	API     *APICall
	KF      *KFChange
	State   *StateChange
	Control *Control
	Finding *Finding
	Log     *Log

	size int // bytes, computed once when the entry is added
}

// Push is a push WeChat made to the bot: what was sent, every attempt, the answer and the
// verdict. Probe names a push a check made rather than WeChat (a signature probe, a retry).
type Push struct {
	*push.Result
	Probe string `json:"probe,omitempty"`
	// Injected marks a push a fault rule made WeChat misbehave with: a duplicate delivery, or
	// a delivery out of order.
	Injected *Injected `json:"injected,omitempty"`
}

// Injected marks what a fault rule did to an API call or a push: the rule's id and its action
// ("errcode -1 system error", "latency 2s, then HTTP 503", "duplicate delivery of push 12").
type Injected struct {
	Rule   string `json:"rule"`
	Action string `json:"action"`
}

// Vias of an API call: who made it.
const (
	ViaHTTP  = "http"  // the bot, over WeChat's API
	ViaGo    = "go"    // a Go caller of the platform
	ViaAgent = "agent" // a human agent in the kf tool; the call is the agent's message
	ViaCloud = "cloud" // a Mini Program cloud function, through cloud.openapi
)

// APICall is one operation of the WeChat API, however it was made. Send is the decoded body of
// a customer-service send that passed the schema; Exchange is the raw HTTP exchange, when the
// call came over HTTP.
type APICall struct {
	Path    string            `json:"path"` // the API's path, without the query
	Via     string            `json:"via"`
	Errcode int               `json:"errcode"`
	Errmsg  string            `json:"errmsg"`
	Detail  string            `json:"detail,omitempty"`
	Send    *rules.CustomSend `json:"send,omitempty"`
	// Injected marks an answer a fault rule made, not WeChat's state.
	Injected *Injected `json:"injected,omitempty"`
	// Window is the window a customer-service send used, as it is after the send: its trigger,
	// the sends left of its quota, its end. What decided a refused send is in Detail.
	Window *state.Grant `json:"window,omitempty"`
	*Exchange
}

// Exchange is one raw HTTP request and its answer, bodies clipped to ExchangeBodyLimit.
type Exchange struct {
	Method       string `json:"method"`
	URL          string `json:"url"`
	RequestBody  string `json:"request_body,omitempty"`
	Status       int    `json:"status"`
	ResponseBody string `json:"response_body,omitempty"`
}

// ExchangeBodyLimit is how much of a body an exchange keeps.
const ExchangeBodyLimit = 64 << 10

// KFChange is a change of a user's kf session (protocol §5.4), with what caused it.
type KFChange struct {
	state.KFEvent
	// Message is the user's message an agent received instead of the bot, for Kind "delivered".
	Message *wire.Message `json:"message,omitempty"`
}

// StateChange is any other change of state: an agent's status, a window opened by hand, a push
// WeChat did not make. Agent and Grants carry the new state when it is about them.
type StateChange struct {
	What   string        `json:"what"`
	Agent  *state.Agent  `json:"agent,omitempty"`
	Grants []state.Grant `json:"grants,omitempty"`
}

// Control is a control action (reset, clock, import) or a call of the control plane.
type Control struct {
	Action string `json:"action"`
	// Began is the journal's newest sequence number when a call of the control plane began:
	// the entries after it and before this one were written while the call was served (what it
	// caused, and whatever else happened meanwhile). 0 for an action of a Go caller.
	Began uint64 `json:"began,omitempty"`
	*Exchange
}

// Finding is a request wxemu does not serve: a finding about the bot, not a 200.
type Finding struct {
	Problem string `json:"problem"`
	*Exchange
}

// Log is what a Mini Program cloud function printed: one write to its stdout or stderr.
// Invocation is the request_id of the invocation it printed during, empty while the function's
// folder was being loaded or between invocations.
type Log struct {
	Function   string `json:"function"`
	Invocation string `json:"invocation,omitempty"`
	Stream     string `json:"stream"` // stdout or stderr
	Text       string `json:"text"`
}

// Kind names the entry's record.
func (e *Entry) Kind() string {
	switch {
	case e.Push != nil:
		return KindPush
	case e.API != nil:
		return KindAPI
	case e.KF != nil:
		return KindKF
	case e.State != nil:
		return KindState
	case e.Control != nil:
		return KindControl
	case e.Finding != nil:
		return KindUnknown
	case e.Log != nil:
		return KindLog
	}
	return ""
}

// Size is about how many bytes the entry holds, what a journal bounded in bytes counts.
func (e *Entry) Size() int {
	if e.size == 0 {
		e.size = e.measure()
	}
	return e.size
}

// entryOverhead is the header and the record's fixed fields, roughly.
const entryOverhead = 256

func (e *Entry) measure() int {
	n := entryOverhead + len(e.App) + len(e.User) + len(e.Summary)
	switch {
	case e.Push != nil && e.Push.Result != nil:
		r := e.Push.Result
		n += len(r.Request.Body) + len(r.Request.Plaintext) + len(r.UserSees) + len(e.Push.Probe) + e.Push.Injected.size()
		if r.Answer != nil {
			n += len(r.Answer.Body) + len(r.Answer.Decrypted)
		}
		for _, a := range r.Attempts {
			n += 64 + len(a.URL) + len(a.Error)
			for _, o := range a.Output {
				n += 16 + len(o.Text)
			}
		}
		for _, v := range r.Violations {
			n += 64 + len(v.Message)
		}
	case e.API != nil:
		n += len(e.API.Path) + len(e.API.Detail) + e.API.Exchange.size() + e.API.Injected.size()
		if e.API.Send != nil {
			n += 256
		}
		if e.API.Window != nil {
			n += 64
		}
	case e.KF != nil:
		n += 128
		if e.KF.Message != nil {
			n += len(e.KF.Message.Content) + 128
		}
	case e.State != nil:
		n += len(e.State.What) + 64*len(e.State.Grants)
	case e.Control != nil:
		n += len(e.Control.Action) + e.Control.Exchange.size()
	case e.Finding != nil:
		n += len(e.Finding.Problem) + e.Finding.Exchange.size()
	case e.Log != nil:
		n += len(e.Log.Function) + len(e.Log.Invocation) + len(e.Log.Text)
	}
	return n
}

func (i *Injected) size() int {
	if i == nil {
		return 0
	}
	return len(i.Rule) + len(i.Action)
}

func (x *Exchange) size() int {
	if x == nil {
		return 0
	}
	return len(x.Method) + len(x.URL) + len(x.RequestBody) + len(x.ResponseBody)
}

// data is the entry's record, for its JSON form.
func (e *Entry) data() any {
	switch {
	case e.Push != nil:
		return e.Push
	case e.API != nil:
		return e.API
	case e.KF != nil:
		return e.KF
	case e.State != nil:
		return e.State
	case e.Control != nil:
		return e.Control
	case e.Finding != nil:
		return e.Finding
	case e.Log != nil:
		return e.Log
	}
	return nil
}

// entryJSON is the wire form of an entry: the header, its kind, and the record as data.
type entryJSON struct {
	Seq        uint64    `json:"seq"`
	Time       time.Time `json:"time"`
	Kind       string    `json:"kind"`
	App        string    `json:"app,omitempty"`
	User       string    `json:"user,omitempty"`
	Summary    string    `json:"summary"`
	DurationMS float64   `json:"duration_ms,omitempty"`
	Errors     int       `json:"errors,omitempty"`
	Data       any       `json:"data,omitempty"`
}

// MarshalJSON writes the entry as the control API shows it: {"seq", "time", "kind", …,
// "data": the record}.
func (e Entry) MarshalJSON() ([]byte, error) {
	return json.Marshal(entryJSON{Seq: e.Seq, Time: e.Time, Kind: e.Kind(), App: e.App, User: e.User,
		Summary: e.Summary, DurationMS: e.DurationMS, Errors: e.Errors, Data: e.data()})
}

// NewExchange records a raw HTTP exchange, its bodies clipped to ExchangeBodyLimit. A response
// that is not JSON is described by its size and type rather than kept.
func NewExchange(method, url string, request []byte, status int, contentType string, response []byte) *Exchange {
	x := &Exchange{Method: method, URL: url, RequestBody: textenc.ClipBody(request, ExchangeBodyLimit), Status: status}
	switch {
	case len(response) == 0:
	case strings.HasPrefix(contentType, "application/json"):
		x.ResponseBody = textenc.ClipBody(response, ExchangeBodyLimit)
	default:
		x.ResponseBody = fmt.Sprintf("(%d bytes of %s)", len(response), contentType)
	}
	return x
}
