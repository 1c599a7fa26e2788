package cloudfn

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/textenc"
	"github.com/wxemu/wxemu/emulator/wire"
)

// Invoke pushes m to the function for the user openid of app: the message, its header filled in
// as the push to a function carries it (protocol §8.1), is exports.main's event; what the
// function returns is judged as a Mini Program's passive reply (§3, §8.1).
func (f *function) Invoke(ctx context.Context, app *platform.App, openid string, m *wire.Message) *platform.PushResult {
	msg := *m
	if f.toUser == ToAppID {
		msg.ToUserName = app.AppID
	} else if msg.ToUserName == "" {
		msg.ToUserName = app.OriginalID
	}
	if msg.FromUserName == "" {
		msg.FromUserName = openid
	}
	if msg.CreateTime == 0 {
		msg.CreateTime = f.h.p.Now().Unix()
	}
	if !msg.IsEvent() && msg.MsgId == 0 && msg.MsgIdText == "" {
		id := f.h.nextMsgID()
		if f.msgIDNumber {
			msg.MsgId = id
		} else {
			msg.MsgIdText = strconv.FormatInt(id, 10)
		}
	}
	msg.Encrypt = ""
	event := msg.AppendJSON(nil)
	inv, o, started, dur := f.run(ctx, call{openid: openid, source: f.source, event: event})
	return f.judge(&msg, event, inv, o, started, dur)
}

// judge turns how an invocation ended into the verdict of a push: the event as the request,
// the run as the one attempt, the return value as the answer.
func (f *function) judge(msg *wire.Message, event []byte, inv *invocation, o outcome, started time.Time, dur time.Duration) *push.Result {
	output, found := inv.results()
	res := &push.Result{
		Message:    *msg,
		Violations: append([]rules.Violation{}, found...),
		Request:    push.Request{Method: "INVOKE", ContentType: "application/json", Body: string(event), Plaintext: string(event)},
	}
	limit := o.limit
	if limit == 0 {
		limit = f.limit()
	}
	a := push.Attempt{N: 1, URL: push.FunctionPrefix + f.name, Started: started, DurationMS: float64(dur.Microseconds()) / 1000, Output: output,
		LimitMS: limit.Milliseconds(), Ended: ended(o)}
	line := push.FailureLineMP
	fail := func(v rules.Violation) {
		res.Violations = append(res.Violations, v)
		res.Outcome = push.Failed
		res.UserSees = line
	}
	switch o.kind {
	case outcomeReturned:
		a.Status = 200
		res.Answer = &push.Answer{Status: 200, ContentType: "application/json", Body: string(o.result)}
		if o.tooLarge {
			res.Answer.Body += "…"
			fail(rules.New(rules.FunctionResultSize, "the function returned %d bytes of JSON; a result over 1 MB fails with -604001 (cloudfunction result size exceed limit) and the user sees 「%s」", o.size, line))
			break
		}
		f.judgeValue(res, msg, o.result, fail)
	case outcomeTimedOut:
		// Deviation: what WeChat does when a push-triggered function times out is not documented
		// (protocol §8.4a, UNCERTAIN); wxemu treats it as a callback URL that did not answer.
		a.TimedOut = true
		a.Error = fmt.Sprintf("no return within %s", o.limit)
		hint := ""
		if o.pending {
			hint = " main returned nothing synchronously and never called its callback or context.done: return a promise (an async function), or call callback(null, result)."
		}
		fail(rules.New(rules.FunctionTimeout, "the function did not return within %s (its time limit: the spec's Timeout, else config.json's timeout, else 3 s); wxemu stopped its worker and the next message starts it cold.%s What WeChat shows then is not documented; wxemu treats it like a callback URL that did not answer, and the user sees 「%s」", o.limit, hint, line))
	case outcomeFailed:
		a.Error = o.err.Message
		fail(rules.New(rules.FunctionError, "%s: %s; the user sees 「%s」\n%s", failure(o.how), o.err.Message, line, o.err.Stack))
	case outcomeLoad:
		a.Error = o.err.Message
		if o.err.NoMain {
			fail(rules.New(rules.FunctionLoad, "%s/%s; the user sees 「%s」", f.dir, o.err.Message, line))
			break
		}
		fail(rules.New(rules.FunctionLoad, "%s/index.js does not load: %s; the user sees 「%s」\n%s", f.dir, o.err.Message, line, o.err.Stack))
	case outcomeExited:
		a.Error = o.exit
		fail(rules.New(rules.FunctionError, "the function's worker exited before the function returned: %s; the user sees 「%s」", o.exit, line))
	case outcomeNotRun:
		a.Error = o.exit
		fail(rules.New(rules.FunctionError, "the function could not run: %s; the user sees 「%s」", o.exit, line))
	}
	res.Attempts = []push.Attempt{a}
	return res
}

// ended is how an invocation ended, in the words of the reports' attempt lines.
func ended(o outcome) string {
	switch o.kind {
	case outcomeReturned:
		return "returned"
	case outcomeTimedOut:
		return "timed out"
	case outcomeLoad:
		return "did not load"
	case outcomeExited:
		return "exited"
	case outcomeNotRun:
		return "did not run"
	}
	switch o.how {
	case "exception", "promise":
		return "threw"
	case "callback":
		return "called back with an error"
	case "unhandled":
		return "left a promise rejection unhandled"
	case "uncaught":
		return "threw outside its promise"
	case "result":
		return "returned a value that is not JSON"
	}
	return "failed"
}

func failure(how string) string {
	switch how {
	case "exception":
		return "the function threw"
	case "promise":
		return "the function's promise was rejected"
	case "callback":
		return "the function passed an error to its callback (or context.done)"
	case "unhandled":
		return "a promise was rejected and nothing handled it (the worker restarts)"
	case "uncaught":
		return "an exception was thrown outside the function's promise (the worker restarts)"
	case "result":
		return "the function's return value is not JSON"
	}
	return "the function failed"
}

// judgeValue judges the JSON a function returned (protocol §8.1): nothing, 'success' or an empty
// string is no reply; a transfer object is judged as a JSON transfer reply; any other object is
// content a Mini Program cannot send passively, dropped; anything else fails.
func (f *function) judgeValue(res *push.Result, msg *wire.Message, value []byte, fail func(rules.Violation)) {
	line := push.FailureLineMP
	v := bytes.TrimSpace(value)
	if len(v) == 0 || string(v) == "null" {
		res.Outcome = push.None
		return
	}
	switch v[0] {
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err == nil && (s == "success" || s == "") {
			res.Outcome = push.None
			return
		}
		fail(rules.New(rules.FunctionResultShape, "the function returned the string %s; a function answers a push with nothing, 'success' or a transfer_customer_service object, so WeChat cannot use this and the user sees 「%s」", textenc.Clip(string(v), 60), line))
		return
	case '{':
	default:
		fail(rules.New(rules.FunctionResultShape, "the function returned %s, a JSON %s; a function answers a push with nothing, 'success' or a transfer_customer_service object, so WeChat cannot use this and the user sees 「%s」", textenc.Clip(string(v), 60), jsonKind(v[0]), line))
		return
	}
	var head struct {
		MsgType json.RawMessage `json:"MsgType"`
	}
	_ = json.Unmarshal(v, &head)
	var msgType string
	_ = json.Unmarshal(head.MsgType, &msgType)
	if msgType != wire.ReplyTransfer {
		what := "an object without MsgType"
		if msgType != "" {
			what = fmt.Sprintf("a %s message", msgType)
		} else if len(head.MsgType) > 0 {
			what = "an object whose MsgType is " + textenc.Clip(string(head.MsgType), 30)
		}
		res.Violations = append(res.Violations, rules.New(rules.ReplyMPContent,
			"the function returned %s (%s); a Mini Program cannot reply passively with content, so WeChat drops it and the user sees nothing — return 'success' and send it with cloud.openapi.customerServiceMessage.send", what, textenc.Clip(string(v), 80)))
		res.Outcome = push.None
		return
	}
	raw, err := wire.ParseReply(v, wire.JSON)
	if err != nil {
		fail(rules.New(rules.ReplySyntax, "the function's transfer object does not read as a JSON reply: %v; the user sees 「%s」", err, line))
		return
	}
	verdict := rules.JudgeReply(rules.ReplyContext{
		Kind:       wire.MP,
		OpenID:     msg.FromUserName,
		OriginalID: msg.ToUserName,
		ToEvent:    msg.IsEvent(),
		Now:        f.h.p.Now(),
		WallNow:    clock.Real{}.Now(),
	}, raw)
	res.Violations = append(res.Violations, verdict.Violations...)
	switch {
	case verdict.Failed:
		res.Outcome = push.Failed
		res.UserSees = line
	case !verdict.Delivered:
		res.Outcome = push.None
	default:
		res.Outcome = push.Transferred
		res.Reply = &verdict.Reply
		if verdict.Reply.TransInfo != nil {
			res.KfAccount = verdict.Reply.TransInfo.KfAccount
		}
	}
}

func jsonKind(c byte) string {
	switch c {
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	}
	if strings.IndexByte("-0123456789", c) >= 0 {
		return "number"
	}
	return "value"
}
