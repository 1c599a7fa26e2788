// Package harness acts on an emulated WeChat and observes what each action caused: it is what
// the scenario runner and the Go harness (emutest) share. An action — a user's message, an
// agent's accept, reply or close, the clock moving — is marked in the journal; what it caused
// (the pushes the bot received, the customer-service sends it made, the kf changes, the
// transcript) is read back from the journal by type, and a wait for something a bot does later
// wakes on a journal subscription rather than polling.
//
// It also starts bots for the platform to push to (bot.go): a sample bot, a handler, or a
// process, each waited for until it answers WeChat's URL verification.
package harness

import (
	"context"
	"sort"
	"time"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/wire"
)

// Harness acts on one platform and observes it.
type Harness struct {
	p *platform.Platform
}

// New returns a harness of p.
func New(p *platform.Platform) *Harness { return &Harness{p: p} }

// Platform is the platform the harness acts on.
func (h *Harness) Platform() *platform.Platform { return h.p }

// Mark is the journal's newest sequence number: what an action causes comes after it.
func (h *Harness) Mark() uint64 { return h.p.LastSeq() }

// Act is what one action caused: the journal entries in (Since, Until] about one user of one app.
type Act struct {
	h           *Harness
	App, OpenID string // appid and openid the action was about
	Since       uint64
	Until       uint64 // 0: up to now, for an act whose effects are still coming
}

// Do runs action as an act about (appID, openid) and returns what it caused.
func (h *Harness) Do(appID, openid string, action func() error) (*Act, error) {
	a := &Act{h: h, App: appID, OpenID: openid, Since: h.Mark()}
	err := action()
	a.Until = h.Mark()
	return a, err
}

// After is an act that began at since and is still going: it sees what comes later too.
func (h *Harness) After(appID, openid string, since uint64) *Act {
	return &Act{h: h, App: appID, OpenID: openid, Since: since}
}

// UserSends is the user openid of app sending m, as an act.
func (h *Harness) UserSends(ctx context.Context, appID, openid string, m wire.Message) (*platform.Interaction, *Act, error) {
	var in *platform.Interaction
	act, err := h.Do(appID, openid, func() error {
		var err error
		in, err = h.p.UserSends(ctx, appID, openid, m)
		return err
	})
	return in, act, err
}

// Push is a push to the bot as the journal holds it. Probe names a push a check made (a
// signature probe, a retry) rather than one WeChat made.
type Push struct {
	Seq uint64
	*platform.PushResult
	Probe string
}

// SendRecord is one call of /cgi-bin/message/custom/send for a user, however it was made (by
// the bot over HTTP, by a Go caller, by an agent): what was sent and what WeChat answered.
type SendRecord struct {
	Seq       uint64 `json:"seq"`
	Via       string `json:"via"`
	MsgType   string `json:"msgtype"`
	Content   string `json:"content,omitempty"` // text.content of a text message
	KfAccount string `json:"kf_account,omitempty"`
	Errcode   int    `json:"errcode"`
	Errmsg    string `json:"errmsg"`
	Detail    string `json:"detail,omitempty"`
	Body      string `json:"body,omitempty"` // the raw body, for a call over HTTP
}

// entries lists the act's journal entries of one kind about its user. An API call refused for
// its access token names no app when the token was unknown: it is the user's all the same.
func (a *Act) entries(kind string) []platform.Entry {
	all := a.h.p.Journal(platform.JournalFilter{User: a.OpenID, Kind: kind, Since: a.Since})
	kept := all[:0]
	for _, e := range all {
		if e.App == a.App || (e.App == "" && e.API != nil) {
			kept = append(kept, e)
		}
	}
	if a.Until == 0 {
		return kept
	}
	n := sort.Search(len(kept), func(i int) bool { return kept[i].Seq > a.Until })
	return kept[:n]
}

// Pushes lists the pushes to the bot the act caused, probes included, in order.
func (a *Act) Pushes() []Push {
	var out []Push
	for _, e := range a.entries(platform.KindPush) {
		if e.Push != nil && e.Push.Result != nil {
			out = append(out, Push{Seq: e.Seq, PushResult: e.Push.Result, Probe: e.Push.Probe})
		}
	}
	return out
}

// Received lists what WeChat itself pushed to the bot in the act: the user's messages and the
// kf_* events, without the probes of checks.
func (a *Act) Received() []wire.Message {
	var out []wire.Message
	for _, p := range a.Pushes() {
		if p.Probe == "" {
			out = append(out, p.Message)
		}
	}
	return out
}

// Sends lists the customer-service sends to the user in the act, refused ones included. A call
// a fault rule cut (an HTTP 5xx, a dropped connection) is not a send: WeChat never answered it,
// and counting it with errcode 0 would pass a bot whose message never arrived; the journal
// keeps it.
func (a *Act) Sends() []SendRecord {
	var out []SendRecord
	for _, e := range a.entries(platform.KindAPI) {
		c := e.API
		if c == nil || c.Path != platform.PathCustomSend {
			continue
		}
		if c.Injected != nil && c.Send == nil && c.Errcode == 0 {
			continue
		}
		r := SendRecord{Seq: e.Seq, Via: c.Via, Errcode: c.Errcode, Errmsg: c.Errmsg, Detail: c.Detail}
		if s := c.Send; s != nil {
			r.MsgType, r.KfAccount = s.MsgType, s.KfAccount
			if s.Text != nil {
				r.Content = s.Text.Content
			}
		}
		if c.Exchange != nil {
			r.Body = c.RequestBody
		}
		out = append(out, r)
	}
	return out
}

// APICalls lists the API calls about the user in the act.
func (a *Act) APICalls() []platform.Entry { return a.entries(platform.KindAPI) }

// KFChanges lists the changes of the user's kf session in the act.
func (a *Act) KFChanges() []platform.Entry { return a.entries(platform.KindKF) }

// Transcript is what the user has seen and done, up to now.
func (a *Act) Transcript() []platform.Line { return a.h.p.Transcript(a.App, a.OpenID) }

// Await waits until done reports true, for at most d of wall time or until ctx ends, and
// reports whether done did. It looks again whenever the journal gains an entry about the user
// (a bot that sends after it answered, a push of a kf event), never on a timer.
func (h *Harness) Await(ctx context.Context, appID, openid string, d time.Duration, done func() bool) bool {
	if done() {
		return true
	}
	if d <= 0 {
		return false
	}
	ch, cancel := h.subscribe(openid)
	defer cancel()
	wait, stop := clock.WithTimeout(ctx, d)
	defer stop()
	// An entry added between the first look and the subscription would wake nobody.
	if done() {
		return true
	}
	for {
		select {
		case <-wait.Done():
			return done()
		case <-ch:
			if done() {
				return true
			}
		}
	}
}

// Settle judges something a bot does asynchronously, the way Gomega's Eventually and then
// Consistently do: it waits until done reports true (for at most within), then watches for
// quiet with nothing new about the user, looking again at every entry, and reports whether done
// still holds at the end. A bot that sends one message too many, a few milliseconds after the
// ones expected, fails; a bot that sends them late, within the bound, passes. With done nil it
// only watches for quiet: "nothing more happens".
func (h *Harness) Settle(ctx context.Context, appID, openid string, within, quiet time.Duration, done func() bool) bool {
	if done == nil {
		done = func() bool { return true }
	}
	if !h.Await(ctx, appID, openid, within, done) {
		return false
	}
	if quiet <= 0 {
		return done()
	}
	ch, cancel := h.subscribe(openid)
	defer cancel()
	wait, stop := clock.WithTimeout(ctx, quiet)
	defer stop()
	for {
		select {
		case <-wait.Done():
			return done()
		case <-ch:
			if !done() {
				return false
			}
		}
	}
}

// Quiet waits until nothing has happened about the user for quiet, for at most max of wall
// time in all, and reports whether it became quiet: a spec's "wait until the bot is done".
func (h *Harness) Quiet(ctx context.Context, appID, openid string, quiet, max time.Duration) bool {
	ch, cancel := h.subscribe(openid)
	defer cancel()
	bound, stop := clock.WithTimeout(ctx, max)
	defer stop()
	for {
		calm, stopCalm := clock.WithTimeout(bound, quiet)
		select {
		case <-bound.Done():
			stopCalm()
			return false
		case <-calm.Done():
			stopCalm()
			if bound.Err() != nil {
				return false
			}
			return true
		case <-ch:
			stopCalm()
		}
	}
}

// subscribe wakes a wait on every entry about the user. It filters by user alone: an API call
// refused for a token wxemu never issued names no app, and it is the user's all the same (the
// readers of an Act keep what belongs to the app).
func (h *Harness) subscribe(openid string) (<-chan platform.Entry, func()) {
	return h.p.Subscribe(platform.JournalFilter{User: openid}, 64)
}

// Hold waits d of wall time, or less when ctx ends: the bound of a check that only passes when
// nothing more happens ("no sends", "at most"), judged once at the end.
func Hold(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	wait, stop := clock.WithTimeout(ctx, d)
	defer stop()
	<-wait.Done()
}
