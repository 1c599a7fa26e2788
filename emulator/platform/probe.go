package platform

import (
	"context"
	"fmt"

	"github.com/wxemu/wxemu/emulator/wire"
)

// ProbeSignature pushes m as openid's message with spoiled signatures, to check that the bot
// refuses what WeChat did not sign. It changes no state: WeChat never sent this push, so only
// the journal records it, as a probe.
func (p *Platform) ProbeSignature(ctx context.Context, appKey, openid string, m wire.Message, tamper Tamper) (*PushResult, error) {
	app, err := p.LookupApp(appKey)
	if err != nil {
		return nil, err
	}
	if !app.HasBot() {
		return nil, fmt.Errorf("%w: app %s", ErrNoBot, app.Alias)
	}
	m.FromUserName, m.ToUserName, m.CreateTime = openid, app.OriginalID, p.clock.Now().Unix()
	res := p.engine.PushTampered(ctx, app.target, &m, tamper)
	what := "signature"
	switch {
	case tamper.MsgSignature && tamper.Signature:
		what = "signature and msg_signature"
	case tamper.MsgSignature:
		what = "msg_signature"
	}
	e := p.pushEntry(app, openid, res, "signature probe (wrong "+what+")")
	// The verdict is the probe's check to make: a bot that refuses the push is right to.
	e.Errors = 0
	p.record(e)
	return res, nil
}

// Replay delivers the push of an earlier interaction again, as WeChat's retry does (same MsgId,
// same body), and journals it as a probe. Its outcome is not shown to the user: WeChat shows the
// answer of one delivery only.
func (p *Platform) Replay(ctx context.Context, in *Interaction) (*PushResult, error) {
	app, err := p.LookupApp(in.App)
	if err != nil {
		return nil, err
	}
	if in.Result == nil || !app.HasBot() {
		return nil, fmt.Errorf("interaction %d was not pushed to a bot", in.Journal)
	}
	res := p.engine.Resend(ctx, app.target, in.Result)
	p.recordPush(app, in.OpenID, res, "retry")
	return res, nil
}
