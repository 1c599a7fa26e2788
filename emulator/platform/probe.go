package platform

import (
	"context"
	"fmt"

	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/wire"
)

// ProbeSignature pushes m as openid's message with spoiled signatures, to check that the bot
// refuses what WeChat did not sign. It changes no state: WeChat never sent this push, so only
// the journal records it.
func (p *Platform) ProbeSignature(ctx context.Context, appKey, openid string, m wire.Message, tamper push.Tamper) (*push.Result, error) {
	app, err := p.LookupApp(appKey)
	if err != nil {
		return nil, err
	}
	if !app.HasBot() {
		return nil, fmt.Errorf("%w: app %s", ErrNoBot, app.Alias)
	}
	m.FromUserName, m.ToUserName, m.CreateTime = openid, app.OriginalID, p.clock.Now().Unix()
	res := p.engine.PushTampered(ctx, app.target, &m, tamper)
	p.record(state.Entry{Kind: state.EntryPush, App: app.AppID, User: openid,
		Summary:    "signature probe: " + pushSummary(&res.Message, res),
		DurationMS: totalMS(res.Attempts), Data: res})
	return res, nil
}

// Replay delivers the push of an earlier interaction again, as WeChat's retry does (same MsgId,
// same body), and journals it. Its outcome is not shown to the user: WeChat shows the answer of
// one delivery only.
func (p *Platform) Replay(ctx context.Context, in *Interaction) (*push.Result, error) {
	app, err := p.LookupApp(in.App)
	if err != nil {
		return nil, err
	}
	if in.Result == nil || !app.HasBot() {
		return nil, fmt.Errorf("interaction %d was not pushed to a bot", in.Journal)
	}
	res := p.engine.Resend(ctx, app.target, in.Result)
	p.record(state.Entry{Kind: state.EntryPush, App: app.AppID, User: in.OpenID,
		Summary:    "retry: " + pushSummary(&res.Message, res),
		DurationMS: totalMS(res.Attempts), Errors: countErrors(res.Violations), Data: res})
	return res, nil
}
