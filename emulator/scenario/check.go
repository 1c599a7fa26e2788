package scenario

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/wxemu/wxemu/emulator/harness"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/wire"
)

// userStep is a user's message: the signature probe, the push, what came of it, the sends, and
// WeChat's retry.
func (x *run) userStep(ctx context.Context, st *Step, sr *StepResult, mark uint64, result map[string]any) {
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
		notes = append(notes, x.probe(ctx, sr, openid, msg)...)
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
	var sends []harness.SendRecord
	if st.Sends != nil {
		sends = x.checkSends(ctx, st.Sends, sr, mark)
	} else {
		// Since the step's mark, before the probes: a send a probe caused counts too.
		sends = x.h.After(x.app.AppID, openid, mark).Sends()
	}
	result["sends"] = nonNilSends(sends)
	if len(sends) > 0 {
		sr.Summary += "; " + sendsSummary(sends)
	}
	if checks.Replay && in.Result != nil {
		if note := x.replay(ctx, st, sr, in); note != "" {
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

// probe pushes the message with a wrong signature (and, encrypted, a wrong msg_signature): the
// bot must refuse it — any status but 200, or no reply — and call no API about the user.
func (x *run) probe(ctx context.Context, sr *StepResult, openid string, msg wire.Message) []string {
	probes := []struct {
		tamper push.Tamper
		what   string
	}{{push.Tamper{Signature: true}, "signature"}}
	if x.app.Mode != "plain" {
		probes = append(probes, struct {
			tamper push.Tamper
			what   string
		}{push.Tamper{MsgSignature: true}, "msg_signature"})
	}
	var notes []string
	for _, pr := range probes {
		var res *platform.PushResult
		act, err := x.h.Do(x.app.AppID, openid, func() error {
			var err error
			res, err = x.p.ProbeSignature(ctx, x.app.AppID, openid, msg, pr.tamper)
			return err
		})
		if err != nil {
			sr.fail("signature", "a probe with a wrong "+pr.what, "it could not be pushed", err.Error())
			continue
		}
		expected := "the bot refuses a push with a wrong " + pr.what + ": any status but 200 or no reply, and no API call"
		calls := act.APICalls()
		switch {
		case res.Outcome == push.Replied || res.Outcome == push.Transferred:
			sr.fail("signature", expected, fmt.Sprintf("it answered HTTP %d with %s: it did not check the %s", res.Answer.Status, outcomeWords(res), pr.what), "")
		case len(calls) > 0:
			var what []string
			for _, c := range calls {
				what = append(what, c.Summary)
			}
			sr.fail("signature", expected, fmt.Sprintf("it called the API %d time(s) for the user: it acted on a push WeChat did not sign", len(calls)), strings.Join(what, "\n"))
		default:
			notes = append(notes, "wrong "+pr.what+" refused ("+answerWords(res)+")")
		}
	}
	return notes
}

// replay delivers the message again, as WeChat's retry does: the bot must not send again.
func (x *run) replay(ctx context.Context, st *Step, sr *StepResult, in *platform.Interaction) string {
	act := x.h.After(x.app.AppID, in.OpenID, x.h.Mark())
	res, err := x.p.Replay(ctx, in)
	if err != nil {
		sr.fail("replay", "WeChat's retry of the message", "it could not be pushed", err.Error())
		return ""
	}
	if st.Sends != nil && st.Sends.Within > 0 {
		// A bot that sends after it answers sends its duplicates after it too: none may come
		// within the bound.
		harness.Hold(ctx, st.Sends.Within)
	}
	dups := act.Sends()
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

// checkSends compares the bot's customer-service sends to a user after mark with what must be,
// waiting up to Within for a bot that sends after it answers.
func (x *run) checkSends(ctx context.Context, e *SendsExpect, sr *StepResult, mark uint64) []harness.SendRecord {
	name, openid, err := x.user(e.User)
	if err != nil {
		sr.fail("sends", "the sends of "+name, "the user could not be found", err.Error())
		return nil
	}
	act := x.h.After(x.app.AppID, openid, mark)
	var sends []harness.SendRecord
	var fails []Failure
	judge := func() bool {
		sends = act.Sends()
		fails = x.judgeSends(e, sends)
		return len(fails) == 0
	}
	if e.Count != nil && *e.Count == 0 {
		// Waiting for "no sends" can only end at the bound.
		harness.Hold(ctx, e.Within)
		judge()
	} else {
		x.h.Await(ctx, x.app.AppID, openid, e.Within, judge)
	}
	sr.Failures = append(sr.Failures, fails...)
	return sends
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
// tolerated, and for each expected violation that did not occur.
func (x *run) checkViolations(st *Step, sr *StepResult, mark uint64) {
	tolerated := map[string]bool{}
	for _, list := range [][]string{x.s.Tolerate, st.Tolerate, st.Violations} {
		for _, id := range list {
			tolerated[id] = true
		}
	}
	seen := map[string]bool{}
	for _, p := range x.pushesSince(mark, false) {
		r := p.PushResult
		for _, v := range r.Violations {
			sr.Violations = append(sr.Violations, v)
			seen[v.Rule] = true
			if v.Severity == rules.Error && !tolerated[v.Rule] {
				sr.fail("violation", "no protocol error in the push of "+pushWords(&r.Message),
					fmt.Sprintf("%s %s (protocol %s): %s", v.Severity, v.Rule, v.Ref, v.Message),
					"add tolerate: ["+v.Rule+"] to the step or the scenario if this is expected")
			}
		}
	}
	for _, id := range st.Violations {
		if !seen[id] {
			var got []string
			for rule := range seen {
				got = append(got, rule)
			}
			actual := "no violation"
			if len(got) > 0 {
				actual = "only " + strings.Join(sortStrings(got), ", ")
			}
			sr.fail("violations", id+" violated", actual, "")
		}
	}
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
