package scenario

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wxemu/wxemu/emulator/harness"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/wire"
)

// userStep is a user's message: the signature probes, the push, what came of it, the sends, and
// WeChat's retry. Each of the three pushes is a cause of its own (see cause): the sends that
// follow a probe are the probe's, those that follow the push the push's, those that follow the
// retry the retry's.
func (x *run) userStep(ctx context.Context, st *Step, sr *StepResult, result map[string]any) {
	openid := x.openids[st.User]
	msg, err := st.Message.Build(x.expand)
	if err != nil {
		sr.fail("message", "a message to send", "it could not be built", err.Error())
		return
	}
	checks := x.s.Checks
	if st.Checks != nil {
		checks = *st.Checks
	}
	var notes []string
	if checks.Signature && x.app.HasBot() && !x.servedByAgent(openid) {
		notes = append(notes, x.probe(ctx, st, sr, msg)...)
	}
	push := &cause{sr: sr, st: st, begin: x.h.Mark()}
	x.open(st.User, push)
	// The user whose sends the step expects, if another, has the push as cause too.
	sendsUser := st.User
	if st.Sends != nil {
		if n, err := x.expand(st.Sends.User); err == nil && x.openids[n] != "" && n != st.User {
			sendsUser = n
			x.open(n, &cause{sr: sr, st: st, begin: push.begin, began: push.began})
		}
	}
	in, _, err := x.h.UserSends(ctx, x.app.AppID, openid, msg)
	if err != nil {
		sr.fail("message", "the message reaches WeChat", "WeChat refused it", err.Error())
		return
	}
	for k, v := range asMap(in) {
		result[k] = v
	}
	result["user"] = st.User
	sr.Summary = summarize(in)

	x.checkDelivered(st, in, sr)
	x.checkReply(st, in, sr)
	if st.UserSees != nil {
		seen := ""
		if in.Result != nil {
			seen = in.Result.UserSees
		}
		if ok, want, err := st.UserSees.Match(seen, x.expand); err != nil {
			sr.fail("user_sees", "a text to compare", "the expectation could not be read", err.Error())
		} else if !ok {
			sr.fail("user_sees", want, quoteOrNothing(seen), "")
		}
	}
	replay := checks.Replay && in.Result != nil
	var sends []harness.SendRecord
	if st.Sends != nil {
		list := x.causes[sendsUser]
		sends = x.checkSends(ctx, st.Sends, sr, sendsUser, list[len(list)-1])
	}
	if replay && (st.Sends == nil || sendsUser != st.User) {
		// The retry must not meet the first delivery's own sends: let them come first.
		x.settleSends(ctx, st.User, push, x.r.within(), x.r.quiet())
	}
	if st.Sends == nil {
		sends = readSends(x.window(st.User, push))
	}
	result["sends"] = nonNilSends(sends)
	if len(sends) > 0 {
		sr.Summary += "; " + sendsSummary(sends)
	}
	if replay {
		if note := x.replay(ctx, st, sr, in, push); note != "" {
			notes = append(notes, note)
		}
	}
	if len(notes) > 0 {
		sr.Summary += "; " + strings.Join(notes, "; ")
	}
}

func nonNilSends(s []harness.SendRecord) []harness.SendRecord {
	if s == nil {
		return []harness.SendRecord{}
	}
	return s
}

// servedByAgent reports whether a human agent serves the user now: WeChat pushes nothing of
// theirs to the bot then, so a probe would test what never happens.
func (x *run) servedByAgent(openid string) bool {
	_, in := x.p.KFSession(x.app.AppID, openid)
	return in
}

// sigProbe is one forged push of the signature check.
type sigProbe struct {
	tamper push.Tamper
	what   string // what is wrong: "signature", "signature and msg_signature", "msg_signature"
	// warn: accepting it is a warning (probe.msg_signature), not an error.
	warn bool
}

// sigProbes are the forged pushes of the signature check in a mode. In plaintext mode only
// signature exists. In compatible and safe mode a forger without the token gets both wrong,
// and a bot that accepts that is broken; a bot that verifies signature and not msg_signature
// accepts a body someone changed under a replayed signature, which the docs tell it not to
// (protocol §1.3: verify msg_signature): a warning. A wrong signature with a right
// msg_signature is not pushed: a bot that verifies msg_signature only, as the docs say, may
// take it, and it would act on it.
func sigProbes(mode string) []sigProbe {
	if mode == "plain" {
		return []sigProbe{{tamper: push.Tamper{Signature: true}, what: "signature"}}
	}
	return []sigProbe{
		{tamper: push.Tamper{Signature: true, MsgSignature: true}, what: "signature and msg_signature"},
		{tamper: push.Tamper{MsgSignature: true}, what: "msg_signature", warn: true},
	}
}

// probe pushes the message with forged signatures (see sigProbes): the bot must refuse each —
// any status but 200, or no reply — and call no API about the user, which is watched for the
// quiet window (or the step's sends.within, if longer) after its answer.
func (x *run) probe(ctx context.Context, st *Step, sr *StepResult, msg wire.Message) []string {
	openid := x.openids[st.User]
	watch := x.r.quiet()
	if st.Sends != nil {
		_, q := x.bounds(st.Sends)
		watch = max(q, st.Sends.Within)
	}
	var notes []string
	for _, pr := range sigProbes(x.app.Mode) {
		c := &cause{sr: sr, st: st, what: "signature probe (wrong " + pr.what + ")", begin: x.h.Mark()}
		x.open(st.User, c)
		res, err := x.p.ProbeSignature(ctx, x.app.AppID, openid, msg, pr.tamper)
		if err != nil {
			sr.fail("signature", "a probe with a wrong "+pr.what, "it could not be pushed", err.Error())
			continue
		}
		act := x.watchNone(ctx, st.User, c, watch, func(a *harness.Act) int { return len(a.APICalls()) })
		calls := act.APICalls()
		var accepted, detail string
		switch {
		case res.Outcome == push.Replied || res.Outcome == push.Transferred:
			accepted = fmt.Sprintf("it answered HTTP %d with %s", res.Answer.Status, outcomeWords(res))
		case len(calls) > 0:
			var what []string
			for _, c := range calls {
				what = append(what, c.Summary)
			}
			accepted = fmt.Sprintf("it called the API %d time(s) for the user", len(calls))
			detail = strings.Join(what, "\n")
		}
		switch {
		case accepted == "":
			notes = append(notes, "wrong "+pr.what+" refused ("+answerWords(res)+")")
		case pr.warn:
			v := rules.Violation{Rule: RuleMsgSignature, Severity: rules.Warning, Ref: "§1.3",
				Message: accepted + " to a push whose msg_signature was wrong and signature right: in compatible and safe mode the bot must verify msg_signature, which signs the encrypted body (不要使用 signature 验证); signature alone does not"}
			sr.Violations = append(sr.Violations, v)
			notes = append(notes, "wrong msg_signature accepted (warning "+RuleMsgSignature+")")
		default:
			expected := "the bot refuses a push with a wrong " + pr.what + ": any status but 200 or no reply, and no API call"
			if len(calls) > 0 && res.Outcome != push.Replied && res.Outcome != push.Transferred {
				sr.fail("signature", expected, accepted+": it acted on a push WeChat did not sign", detail)
			} else {
				sr.fail("signature", expected, accepted+": it did not check the "+strings.ReplaceAll(pr.what, " and ", " or the "), detail)
			}
		}
	}
	return notes
}

// replay delivers the message again, as WeChat's retry does: the bot must not send again. The
// retry is watched for the quiet window, and at least as long as the first delivery took to
// bring its sends plus the quiet window (a bot that sends late sends its duplicates late too),
// and at least the step's sends.within.
func (x *run) replay(ctx context.Context, st *Step, sr *StepResult, in *platform.Interaction, first *cause) string {
	quiet := x.r.quiet()
	var within time.Duration
	if st.Sends != nil {
		_, quiet = x.bounds(st.Sends)
		within = st.Sends.Within
	}
	watch := max(quiet, within, first.lastSeen()+quiet)
	c := &cause{sr: sr, st: st, what: "retry", begin: x.h.Mark()}
	x.open(st.User, c)
	res, err := x.p.Replay(ctx, in)
	if err != nil {
		sr.fail("replay", "WeChat's retry of the message", "it could not be pushed", err.Error())
		return ""
	}
	dups := readSends(x.watchNone(ctx, st.User, c, watch, func(a *harness.Act) int { return len(a.Sends()) }))
	if len(dups) > 0 {
		key := "MsgId " + res.Message.Get("MsgId")
		if res.Message.IsEvent() {
			key = "FromUserName+CreateTime " + res.Message.FromUserName + "+" + strconv.FormatInt(res.Message.CreateTime, 10)
		}
		sr.fail("replay", "no customer-service send after WeChat's retry of the same message ("+key+"): the bot must dedupe by MsgId, or FromUserName+CreateTime for an event",
			fmt.Sprintf("%d send(s) after the retry", len(dups)), sendsDetail(dups))
		return ""
	}
	return "retry: no duplicate send"
}

func (x *run) checkDelivered(st *Step, in *platform.Interaction, sr *StepResult) {
	if st.DeliveredTo == "" {
		return
	}
	want, err := x.expand(st.DeliveredTo)
	if err != nil {
		sr.fail("delivered_to", st.DeliveredTo, "the expectation could not be read", err.Error())
		return
	}
	got := in.Routed
	if got == platform.RoutedAgent {
		got = "agent " + in.Agent
	}
	switch {
	case want == in.Routed && want != platform.RoutedAgent,
		want == "agent" && in.Routed == platform.RoutedAgent,
		in.Routed == platform.RoutedAgent && want == in.Agent:
		return
	}
	exp := want
	if strings.Contains(want, "@") {
		exp = "agent " + want
	}
	sr.fail("delivered_to", exp, got, "")
}

func (x *run) checkReply(st *Step, in *platform.Interaction, sr *StepResult) {
	e := st.Reply
	if e == nil {
		return
	}
	if in.Result == nil {
		sr.fail("reply", replyWords(e), "no push: "+summarize(in), "")
		return
	}
	r := in.Result
	actual := outcomeWords(r)
	if e.Outcome != "" && string(r.Outcome) != e.Outcome {
		sr.fail("reply", replyWords(e), actual, "")
		return
	}
	if e.KfAccount != nil {
		want, err := x.expand(*e.KfAccount)
		if err != nil {
			sr.fail("reply.transfer", *e.KfAccount, "the expectation could not be read", err.Error())
		} else if want != r.KfAccount {
			sr.fail("reply.transfer", accountWords(want), accountWords(r.KfAccount), "")
		}
	}
	var reply wire.Reply
	if r.Reply != nil {
		reply = *r.Reply
	}
	if e.MsgType != "" && reply.MsgType != e.MsgType {
		sr.fail("reply.msgtype", e.MsgType, actual, "")
		return
	}
	if e.Text != nil {
		if ok, want, err := e.Text.Match(reply.Content, x.expand); err != nil {
			sr.fail("reply.text", "a text to compare", "the expectation could not be read", err.Error())
		} else if !ok {
			sr.fail("reply.text", want, strconv.Quote(reply.Content), "")
		}
	}
	if e.Articles != nil && len(reply.Articles) != *e.Articles {
		sr.fail("reply.articles", fmt.Sprintf("%d article(s)", *e.Articles), fmt.Sprintf("%d article(s)", len(reply.Articles)), "")
	}
	if e.MediaID != nil {
		id := ""
		switch {
		case reply.Image != nil:
			id = reply.Image.MediaId
		case reply.Voice != nil:
			id = reply.Voice.MediaId
		case reply.Video != nil:
			id = reply.Video.MediaId
		case reply.Music != nil:
			id = reply.Music.ThumbMediaId
		}
		if ok, want, err := e.MediaID.Match(id, x.expand); err != nil {
			sr.fail("reply.media_id", "a media id to compare", "the expectation could not be read", err.Error())
		} else if !ok {
			sr.fail("reply.media_id", want, quoteOrNothing(id), "")
		}
	}
}

func (x *run) judgeSends(e *SendsExpect, sends []harness.SendRecord) []Failure {
	var out []Failure
	detail := sendsDetail(sends)
	add := func(check, exp, act string) {
		out = append(out, Failure{Check: check, Expected: exp, Actual: act, Detail: detail})
	}
	within := ""
	if e.Within > 0 {
		within = " within " + e.Within.String()
	}
	if e.Count != nil && len(sends) != *e.Count {
		add("sends.count", plural(*e.Count, "send")+within, plural(len(sends), "send"))
	}
	if e.AtLeast != nil && len(sends) < *e.AtLeast {
		add("sends.at_least", "at least "+plural(*e.AtLeast, "send")+within, plural(len(sends), "send"))
	}
	if e.MsgTypes != nil {
		var got []string
		for _, s := range sends {
			got = append(got, s.MsgType)
		}
		if strings.Join(got, ",") != strings.Join(e.MsgTypes, ",") {
			add("sends.msgtypes", "["+strings.Join(e.MsgTypes, ", ")+"]", "["+strings.Join(got, ", ")+"]")
		}
	}
	if e.Errcodes != nil {
		var want, got []string
		for _, c := range e.Errcodes {
			want = append(want, strconv.Itoa(c))
		}
		for _, s := range sends {
			got = append(got, strconv.Itoa(s.Errcode))
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			add("sends.errcodes", "["+strings.Join(want, ", ")+"]", "["+strings.Join(got, ", ")+"]")
		}
	}
	for i, m := range e.Contents {
		check := fmt.Sprintf("sends.contents[%d]", i)
		if i >= len(sends) {
			_, want, _ := m.Match("", x.expand)
			add(check, want, "no send "+strconv.Itoa(i+1))
			continue
		}
		ok, want, err := m.Match(sends[i].Content, x.expand)
		switch {
		case err != nil:
			add(check, "a text to compare", err.Error())
		case !ok:
			add(check, want, quoteOrNothing(sends[i].Content))
		}
	}
	if e.Contents != nil && len(sends) > len(e.Contents) && e.Count == nil {
		add("sends.contents", plural(len(e.Contents), "send"), plural(len(sends), "send"))
	}
	return out
}

// checkReceives looks for a push to the bot after the user's cursor, and moves the cursor past
// what it found, so the next check of the same user looks further on.
func (x *run) checkReceives(ctx context.Context, e *ReceivesExpect, sr *StepResult) []*push.Result {
	name, openid, err := x.user(e.User)
	if err != nil {
		sr.fail("bot_receives", "a push to the bot for "+name, "the user could not be found", err.Error())
		return nil
	}
	want := map[string]string{}
	for field, v := range map[string]string{"KfAccount": e.KfAccount, "FromKfAccount": e.FromKfAccount, "ToKfAccount": e.ToKfAccount} {
		if v == "" {
			continue
		}
		if want[field], err = x.expand(v); err != nil {
			sr.fail("bot_receives", v, "the expectation could not be read", err.Error())
			return nil
		}
	}
	var all, matches []harness.Push
	look := func() bool {
		all, matches = nil, nil
		for _, p := range x.h.After(x.app.AppID, openid, x.cursor[name]).Pushes() {
			if p.Probe != "" {
				continue
			}
			all = append(all, p)
			if receives(e, want, &p.Message) {
				matches = append(matches, p)
			}
		}
		if e.Count != nil {
			return len(matches) == *e.Count
		}
		return len(matches) > 0
	}
	var ok bool
	if e.Count != nil && *e.Count == 0 {
		// Waiting for "none" can only end at the bound.
		harness.Hold(ctx, e.Within)
		ok = look()
	} else {
		ok = x.h.Await(ctx, x.app.AppID, openid, e.Within, look)
	}
	if !ok {
		exp := receivesWords(e, want) + " pushed"
		if e.Count != nil {
			exp += " " + plural(*e.Count, "time")
		}
		var got []string
		for _, p := range all {
			got = append(got, pushWords(&p.Message))
		}
		actual := "nothing pushed"
		if len(got) > 0 {
			actual = strings.Join(got, ", ")
		}
		sr.fail("bot_receives", exp+" for "+name, actual, fmt.Sprintf("%d matching push(es) since the previous check of %s", len(matches), name))
		return nil
	}
	var out []*push.Result
	var words []string
	for _, m := range matches {
		out = append(out, m.PushResult)
		words = append(words, pushWords(&m.Message))
	}
	note := "received " + strings.Join(words, ", ")
	if len(words) == 0 {
		note = "received no " + receivesWords(e, want)
	}
	if sr.Summary == "" {
		sr.Summary = note
	} else {
		sr.Summary += "; " + note
	}
	if len(matches) > 0 {
		x.cursor[name] = matches[0].Seq
		if e.Count != nil {
			x.cursor[name] = matches[len(matches)-1].Seq
		}
	}
	return out
}

func receives(e *ReceivesExpect, want map[string]string, m *wire.Message) bool {
	if e.MsgType != "" && m.MsgType != e.MsgType || e.Event != "" && m.Event != e.Event {
		return false
	}
	for field, v := range want {
		got := m.Get(field)
		if field == "KfAccount" && m.Event == "kf_switch_session" {
			got = m.ToKfAccount
		}
		if got != v {
			return false
		}
	}
	return true
}

// checkViolations fails the step for each error-severity violation of its pushes that is not
// tolerated, and for each expected violation that did not occur (with the severity expected,
// when one is). The step's checks may have found violations already (a probe's warning).
func (x *run) checkViolations(st *Step, sr *StepResult, mark uint64) {
	tolerated := map[string]bool{}
	for _, list := range [][]string{x.s.Tolerate, st.Tolerate} {
		for _, id := range list {
			tolerated[id] = true
		}
	}
	for _, v := range st.Violations {
		// An expected warning tolerates nothing: an error of the rule was not expected.
		if v.Severity == "" || v.Severity == string(rules.Error) {
			tolerated[v.Rule] = true
		}
	}
	seen := map[string]map[rules.Severity]bool{}
	note := func(v rules.Violation) {
		if seen[v.Rule] == nil {
			seen[v.Rule] = map[rules.Severity]bool{}
		}
		seen[v.Rule][v.Severity] = true
	}
	for _, v := range sr.Violations {
		note(v)
	}
	for _, p := range x.pushesSince(mark, 0, false) {
		r := p.PushResult
		for _, v := range r.Violations {
			sr.Violations = append(sr.Violations, v)
			note(v)
			if v.Severity == rules.Error && !tolerated[v.Rule] {
				sr.fail("violation", "no protocol error in the push of "+pushWords(&r.Message),
					fmt.Sprintf("%s %s (protocol %s): %s", v.Severity, v.Rule, v.Ref, v.Message),
					"add tolerate: ["+v.Rule+"] to the step or the scenario if this is expected")
			}
		}
	}
	for _, want := range st.Violations {
		got := seen[want.Rule]
		if want.Severity == "" && len(got) > 0 || got[rules.Severity(want.Severity)] {
			continue
		}
		expected := want.Rule + " violated"
		if want.Severity != "" {
			expected += " as " + article(want.Severity)
		}
		var actual string
		switch {
		case len(got) > 0:
			var as []string
			for sev := range got {
				as = append(as, article(string(sev)))
			}
			actual = want.Rule + " as " + strings.Join(sortStrings(as), " and ")
		case len(seen) > 0:
			var rules []string
			for rule := range seen {
				rules = append(rules, rule)
			}
			actual = "only " + strings.Join(sortStrings(rules), ", ")
		default:
			actual = "no violation"
		}
		sr.fail("violations", expected, actual, "")
	}
}

// article is "an error", "a warning".
func article(severity string) string {
	if severity == string(rules.Error) {
		return "an error"
	}
	return "a " + severity
}

// agentStep is a human agent acting in the kf tool.
func (x *run) agentStep(ctx context.Context, st *Step, sr *StepResult, result map[string]any) {
	a := st.Agent
	account, err := x.expand(a.Account)
	if err != nil {
		sr.fail("agent", "an account", "the account could not be read", err.Error())
		return
	}
	result["account"], result["action"] = account, a.Do
	var openid string
	if a.User != "" {
		openid = x.openids[a.User]
		result["user"], result["openid"] = a.User, openid
	}
	appID := x.app.AppID
	switch a.Do {
	case "accept":
		err = x.p.AgentAccept(ctx, appID, account, openid)
	case "close":
		err = x.p.AgentClose(ctx, appID, account, openid)
	case "switch":
		to, xerr := x.expand(a.To)
		if xerr != nil {
			sr.fail("agent", "an account to switch to", "the account could not be read", xerr.Error())
			return
		}
		result["to"] = to
		err = x.p.AgentSwitch(ctx, appID, account, to, openid)
	case "reply":
		text, xerr := x.expand(a.Text)
		if xerr != nil {
			sr.fail("agent", "a text", "the text could not be read", xerr.Error())
			return
		}
		result["text"] = text
		var send any
		send, err = x.p.AgentReply(ctx, appID, account, openid, text)
		code := platform.Code(err)
		msg, _ := wire.Errmsg(code)
		result["delivered"], result["errcode"], result["errmsg"] = err == nil, code, msg
		if err == nil {
			result["send"] = send
		}
	case "status":
		if _, saved := x.agents[account]; !saved {
			if ag, ok := x.p.Agent(appID, account); ok {
				x.agents[account] = ag
			}
		}
		var ag any
		ag, err = x.p.AgentSet(ctx, appID, account, platform.AgentStatus{Online: a.Online, AutoAccept: a.AutoAccept, Capacity: a.Capacity})
		result["agent"] = ag
	}
	x.judgeError(st, sr, err, result)
	if err == nil {
		sr.Summary = "done"
		if a.Do == "reply" {
			sr.Summary = "delivered to the user"
		}
	}
}

// tokensStep makes every access token of the app stop working: expired, as if its 7200 s had
// passed, or invalid, as if a new one had been fetched and the overlap were over.
func (x *run) tokensStep(st *Step, sr *StepResult, result map[string]any) {
	result["tokens"] = st.Tokens
	var err error
	switch st.Tokens {
	case "expire":
		_, err = x.p.ExpireTokens(x.app.AppID)
		sr.Summary = "the app's access tokens have expired: a call with one answers 42001"
	case "revoke":
		_, err = x.p.RevokeTokens(x.app.AppID)
		sr.Summary = "the app's access tokens are invalid: a call with one answers 40001"
	}
	if err != nil {
		result["error"] = err.Error()
		sr.Summary = ""
		sr.fail("tokens", "the app's access tokens "+map[string]string{"expire": "expire", "revoke": "are revoked"}[st.Tokens], "it failed", err.Error())
	}
}

func (x *run) triggerStep(st *Step, sr *StepResult, result map[string]any) {
	openid := x.openids[st.Trigger.User]
	grants, err := x.p.Trigger(x.app.AppID, openid, st.Trigger.Kind)
	result["user"], result["kind"], result["grants"] = st.Trigger.User, st.Trigger.Kind, grants
	x.judgeError(st, sr, err, result)
	if err == nil {
		sr.Summary = fmt.Sprintf("%d open window(s)", len(grants))
	}
}

// judgeError holds an action's error against error: (it must fail, and so) or its absence.
func (x *run) judgeError(st *Step, sr *StepResult, err error, result map[string]any) {
	if err != nil {
		result["error"] = err.Error()
	}
	switch {
	case st.Error == nil && err != nil:
		sr.fail("error", "the action succeeds", "it failed: "+err.Error(), "")
	case st.Error != nil && err == nil:
		_, want, _ := st.Error.Match("", x.expand)
		sr.fail("error", "the action fails with an error "+want, "it succeeded", "")
	case st.Error != nil:
		ok, want, merr := st.Error.Match(err.Error(), x.expand)
		switch {
		case merr != nil:
			sr.fail("error", "an error text to compare", merr.Error(), "")
		case !ok:
			sr.fail("error", "an error "+want, strconv.Quote(err.Error()), "")
		default:
			sr.Summary = "failed as expected: " + err.Error()
		}
	}
}
