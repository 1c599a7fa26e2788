package platform

import (
	"context"
	"fmt"
	"time"

	"github.com/wxemu/wxemu/emulator/state"
)

// Advance moves virtual time forward by d and journals it.
func (p *Platform) Advance(d time.Duration) {
	p.advMu.Lock()
	p.advanced += d
	p.advMu.Unlock()
	p.clock.Advance(d)
	p.record(state.Entry{Kind: state.EntryControl, Summary: fmt.Sprintf("clock advanced by %s", d)})
	p.expireKF(context.Background())
}

// Tick notices what has fallen due by the passage of time alone — kf sessions past their 30
// minutes — so that `wxemu serve` journals it when it happens, not when someone next looks.
func (p *Platform) Tick() { p.expireKF(context.Background()) }

// Advanced is how far Advance has moved the clock in all.
func (p *Platform) Advanced() time.Duration {
	p.advMu.Lock()
	defer p.advMu.Unlock()
	return p.advanced
}

// triggers a control-plane caller may open by name.
var triggerNames = []string{"message", "click", "subscribe", "scan", "payment", "tempsession"}

// Trigger opens a window for a user without a push: a payment (which has no push of its own),
// or any other trigger by name. It returns the user's live grants.
func (p *Platform) Trigger(appKey, openid, trigger string) ([]state.Grant, error) {
	app, err := p.LookupApp(appKey)
	if err != nil {
		return nil, err
	}
	valid := false
	for _, t := range triggerNames {
		valid = valid || t == trigger
	}
	if !valid {
		return nil, fmt.Errorf("trigger %q%s: one of %v", trigger, DidYouMean(trigger, triggerNames), triggerNames)
	}
	if openid == "" {
		return nil, fmt.Errorf("the user's openid is empty")
	}
	now := p.clock.Now()
	p.Users.Ensure(app.AppID, openid, "", true)
	p.Ledger.Trigger(app.AppID, openid, state.Trigger(trigger), now)
	p.record(state.Entry{Kind: state.EntryState, App: app.AppID, User: openid, Summary: fmt.Sprintf("window opened by %s (control API)", trigger)})
	return p.Ledger.Grants(app.AppID, openid, now), nil
}
