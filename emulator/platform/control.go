package platform

import (
	"fmt"
	"sync"
	"time"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/journal"
	"github.com/wxemu/wxemu/emulator/state"
)

// Advance moves virtual time forward by d and journals it. What falls due on the way — a kf
// session past its 30 minutes, a media file past its 3 days — happens at its own time, in order,
// through the clock's timers, before Advance returns on a fake clock.
//
// An advance that would leave the sane range of virtual time is refused with a BadRequest that
// names the limit, and the clock does not move: virtual time stays before clock.Horizon (2200)
// and the advances since the start or the last Reset add up to at most clock.MaxAdvance (200
// years), so that neither the time nor the sum of advances wraps.
func (p *Platform) Advance(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	p.advMu.Lock()
	if err := p.checkAdvance(d); err != nil {
		p.advMu.Unlock()
		return err
	}
	p.advanced += d
	p.advMu.Unlock()
	p.control(fmt.Sprintf("clock advanced by %s", d))
	p.clock.Advance(d)
	return nil
}

// checkAdvance says why an advance by d would leave the sane range of virtual time. The caller
// holds advMu.
func (p *Platform) checkAdvance(d time.Duration) error {
	if d > clock.MaxAdvance-p.advanced {
		return BadRequest("advance by %s: the clock has moved %s already, and all advances together may not pass %s (200 years); reset to start again",
			d, p.advanced, clock.MaxAdvance)
	}
	if to := p.clock.Now().Add(d); !to.Before(clock.Horizon) {
		return BadRequest("advance by %s: virtual time would be %s, and it must stay before %s",
			d, to.UTC().Format(time.RFC3339), clock.Horizon.Format(time.RFC3339))
	}
	return nil
}

// Advanced is how far Advance has moved the clock in all.
func (p *Platform) Advanced() time.Duration {
	p.advMu.Lock()
	defer p.advMu.Unlock()
	return p.advanced
}

// TriggerNames are the triggers a caller may open a window with by name.
var TriggerNames = []string{"message", "click", "subscribe", "scan", "payment", "tempsession"}

// Trigger opens a window for a user without a push: a payment (which has no push of its own),
// or any other trigger by name. It returns the user's live grants. A "message" trigger stands for
// a message the user sent, so it also counts where a user message does: the typing rule's 30
// seconds and kfsession/create's 48 hours. The other triggers are events or payments, which count
// for neither.
func (p *Platform) Trigger(appKey, openid, trigger string) ([]Grant, error) {
	app, err := p.LookupApp(appKey)
	if err != nil {
		return nil, err
	}
	valid := false
	for _, t := range TriggerNames {
		valid = valid || t == trigger
	}
	if !valid {
		return nil, BadRequest("trigger %q%s: one of %v", trigger, DidYouMean(trigger, TriggerNames), TriggerNames)
	}
	if openid == "" {
		return nil, BadRequest("the user's openid is empty")
	}
	unlock := p.lockUser(app.AppID, openid)
	now := p.clock.Now()
	p.people.Ensure(app.AppID, openid, "", true)
	p.ledger.Trigger(app.AppID, openid, state.Trigger(trigger), now)
	if state.Trigger(trigger) == state.TriggerMessage {
		_ = p.people.Talked(app.AppID, openid, now)
	}
	grants := p.ledger.Grants(app.AppID, openid, now)
	unlock()
	p.stateChange(app.AppID, openid, &journal.StateChange{What: fmt.Sprintf("window opened by %s (control API)", trigger), Grants: grants})
	return grants, nil
}

// dueTimer is the one clock timer of a platform: it is set for the earliest thing that falls
// due (a kf session's end, a media file's expiry) and, when it fires, handles everything due and
// sets itself again. Nothing polls.
type dueTimer struct {
	mu     sync.Mutex // guards timer, at and closed
	timer  clock.Timer
	at     time.Time
	closed bool
}

func (d *dueTimer) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
}

// reschedule sets the due timer for the earliest deadline, or stops it when nothing is due.
// Every operation that may start a session, move its end or keep a file calls it.
func (p *Platform) reschedule() {
	next, ok := p.kf.NextDeadline()
	if m, mok := p.media.NextExpiry(); mok && (!ok || m.Before(next)) {
		next, ok = m, true
	}
	d := &p.due
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	if d.timer != nil {
		if ok && d.at.Equal(next) {
			return
		}
		d.timer.Stop()
		d.timer = nil
	}
	if !ok {
		return
	}
	d.at = next
	d.timer = p.clock.AfterFunc(max(next.Sub(p.clock.Now()), 0), p.fallDue)
}

// fallDue is the due timer firing: it handles what is due at the clock's now.
func (p *Platform) fallDue() {
	p.due.mu.Lock()
	p.due.timer = nil
	closed := p.due.closed
	p.due.mu.Unlock()
	if !closed {
		p.settleDue()
	}
}

// settleDue handles what is due at the clock's now — expired media go, and kf sessions past
// their time end, each journaled at its own deadline, their agents taking waiting users at that
// moment — and sets the due timer for what comes next.
func (p *Platform) settleDue() {
	unlock := p.shared()
	now := p.clock.Now()
	p.media.Expire(now)
	pushes := p.noteKF(p.kf.Expire(now))
	unlock()
	p.pushKF(background(), pushes)
}
