package platform

import (
	"context"
	"fmt"
	"sort"

	"github.com/wxemu/wxemu/emulator/fault"
	"github.com/wxemu/wxemu/emulator/journal"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/textenc"
	"github.com/wxemu/wxemu/emulator/wire"
)

// RoutedHeld: a reorder rule holds the message; WeChat delivers it after the user's next one.
const RoutedHeld = "held"

type heldKey struct{ app, openid string }

// heldPush is a message a reorder rule holds back: at most one per user, so held pushes are
// bounded by the users.
type heldPush struct {
	rule string
	m    wire.Message
	seq  uint64 // the journal entry that says it was held
}

// pushFault is the push rule that fires on a user's message about to be pushed to the bot's URL
// or container, or nil. A message of a user who has one held is not held again: it goes out,
// and the held one after it.
func (p *Platform) pushFault(app *App, openid string, m *wire.Message) *FaultRule {
	if app.target == nil || p.functionFor(app, m) != nil {
		// Deviation: push faults act on pushes to a URL or a container; a cloud function's
		// invocation is not an HTTP delivery that WeChat could repeat or reorder.
		return nil
	}
	p.heldMu.Lock()
	_, holding := p.held[heldKey{app.AppID, openid}]
	p.heldMu.Unlock()
	return p.faults.Fire(fault.Call{AppID: app.AppID, User: openid, Push: true, MsgType: m.MsgType, Holding: holding})
}

// hold keeps m back for delivery after the user's next message, journals it and marks the
// transcript. m gets its MsgId now, so that it keeps its place in WeChat's numbering.
func (p *Platform) hold(app *App, openid string, m *wire.Message, r *FaultRule) uint64 {
	p.engine.Number(m)
	what := "push " + messageWords(m)
	action := fmt.Sprintf("%s held by fault rule %s: delivered after the user's next message, out of order", what, r.ID)
	e := p.stateChange(app.AppID, openid, &journal.StateChange{What: action})
	p.transcripts.Append(app.AppID, openid, state.Line{Time: e.Time, From: state.FromSystem, Kind: state.LineFault,
		Text: "fault " + r.ID + ": " + action, Journal: e.Seq})
	p.heldMu.Lock()
	p.held[heldKey{app.AppID, openid}] = &heldPush{rule: r.ID, m: *m, seq: e.Seq}
	p.heldMu.Unlock()
	return e.Seq
}

func messageWords(m *wire.Message) string {
	switch {
	case m.IsEvent():
		return "event " + m.Event
	case m.MsgType == "text":
		return fmt.Sprintf("text %q", textenc.Clip(m.Content, 40))
	}
	return m.MsgType
}

// afterPush does what a push rule does once a message was delivered (res, journal entry seq):
// deliver it a second time (duplicate), or deliver the message a reorder rule held for the user.
func (p *Platform) afterPush(ctx context.Context, app *App, openid string, res *push.Result, seq uint64, r *FaultRule) {
	if r != nil && r.Push == fault.PushDuplicate {
		p.duplicate(ctx, app, openid, res, seq, r)
	}
	p.heldMu.Lock()
	h := p.held[heldKey{app.AppID, openid}]
	delete(p.held, heldKey{app.AppID, openid})
	p.heldMu.Unlock()
	if h != nil {
		p.release(ctx, app, openid, h, fmt.Sprintf("delivered out of order: held (journal %d), then delivered after push %d", h.seq, seq))
	}
}

// release delivers a held message and shows the user its outcome, as its delivery would have.
func (p *Platform) release(ctx context.Context, app *App, openid string, h *heldPush, action string) {
	res, reached := p.deliverPush(ctx, app, openid, &h.m)
	if !reached {
		return
	}
	unlock := p.lockUser(app.AppID, openid)
	e := p.pushEntry(app, openid, res, "")
	e.Push.Injected = &Injected{Rule: h.rule, Action: action}
	e.Summary += " [fault " + h.rule + ": out of order]"
	e = p.record(e)
	p.showOutcome(app, openid, res, e.Seq)
	unlock()
}

// releaseAllHeld delivers every held message (the rules were cleared).
func (p *Platform) releaseAllHeld(ctx context.Context) {
	p.heldMu.Lock()
	all := p.held
	p.held = map[heldKey]*heldPush{}
	p.heldMu.Unlock()
	keys := make([]heldKey, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return all[keys[i]].seq < all[keys[j]].seq })
	for _, k := range keys {
		app, ok := p.byKey[k.app]
		if !ok {
			continue
		}
		p.release(ctx, app, k.openid, all[k], fmt.Sprintf("delivered late: held (journal %d) until the fault rules were cleared", all[k].seq))
	}
}

// duplicate delivers the message of push first (journal entry seq) a second time, as WeChat
// sometimes does (protocol §2, §3.1, §8.5: dedupe by MsgId, or FromUserName+CreateTime), and
// judges what the bot did with it: another reply than the first, or a customer-service send
// while it answered, is acting twice. The user sees the first delivery's outcome only.
func (p *Platform) duplicate(ctx context.Context, app *App, openid string, first *push.Result, seq uint64, r *FaultRule) {
	before := p.LastSeq()
	res := p.engine.Resend(ctx, app.target, first)
	key := "MsgId " + first.Message.Get("MsgId")
	if first.Message.IsEvent() {
		key = fmt.Sprintf("FromUserName+CreateTime %s+%d", openid, first.Message.CreateTime)
	}
	if v, ok := differentAnswer(first, res); ok {
		res.Violations = append(res.Violations, rules.New(rules.PushDuplicateReply,
			"WeChat delivered the message (%s) a second time, and the bot answered %s after answering %s the first time; remember what was handled and answer success (or the same reply) to a duplicate", key, v[1], v[0]))
	}
	var sends []uint64
	for _, e := range p.Journal(JournalFilter{User: openid, Kind: KindAPI, Since: before}) {
		if e.App == app.AppID && e.API.Path == PathCustomSend && e.API.Via != ViaAgent {
			sends = append(sends, e.Seq)
		}
	}
	if len(sends) > 0 {
		res.Violations = append(res.Violations, rules.New(rules.PushDuplicateSends,
			"the bot made %d customer-service send(s) (journal %v) while answering a duplicate delivery of the message (%s): it acted on the message again; dedupe by MsgId, or FromUserName+CreateTime for events", len(sends), sends, key))
	}
	e := p.pushEntry(app, openid, res, "")
	e.Push.Injected = &Injected{Rule: r.ID, Action: fmt.Sprintf("duplicate delivery of push %d (same %s)", seq, key)}
	e.Summary += " [fault " + r.ID + ": duplicate]"
	e = p.record(e)
	p.transcripts.Append(app.AppID, openid, state.Line{Time: e.Time, From: state.FromSystem, Kind: state.LineFault,
		Text: fmt.Sprintf("fault %s: the message was delivered to the bot a second time (%s)", r.ID, key), Journal: e.Seq})
}

// differentAnswer reports whether the answer to a duplicate is another reply than the first
// answer: a reply or transfer where the first was nothing, or other content. Nothing (success,
// empty) or the same reply again is right; a failure is judged by the push's own rules.
func differentAnswer(first, dup *push.Result) ([2]string, bool) {
	words := func(r *push.Result) string {
		switch r.Outcome {
		case push.Replied:
			return fmt.Sprintf("the reply %q", textenc.Clip(r.UserSees, 60))
		case push.Transferred:
			return "a transfer to a human agent"
		}
		return string(r.Outcome)
	}
	switch dup.Outcome {
	case push.Replied, push.Transferred:
	default:
		return [2]string{}, false
	}
	if first.Outcome == dup.Outcome && first.UserSees == dup.UserSees && first.KfAccount == dup.KfAccount {
		return [2]string{}, false
	}
	return [2]string{words(first), words(dup)}, true
}

// ReleaseHeld delivers the message a reorder rule holds for one user, if any (a scenario ends).
func (p *Platform) ReleaseHeld(ctx context.Context, appID, openid string) {
	p.heldMu.Lock()
	h := p.held[heldKey{appID, openid}]
	delete(p.held, heldKey{appID, openid})
	p.heldMu.Unlock()
	app, ok := p.byKey[appID]
	if h == nil || !ok {
		return
	}
	p.release(ctx, app, openid, h, fmt.Sprintf("delivered late: held (journal %d) until its scenario ended", h.seq))
}
