package state

import (
	"container/heap"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Transfer is a transfer_customer_service reply to a user message (protocol §3.2, §5.4).
// account is TransInfo's KfAccount, "" without one. A user in a session stays there; a user
// already waiting keeps their place and only Latest moves.
func (k *KF) Transfer(app, openid, account string, now time.Time) []KFEvent {
	k.mu.Lock()
	defer k.mu.Unlock()
	a := k.app(app)
	events := k.settle(a, now)
	if _, in := a.sessions[openid]; in {
		return events
	}
	if w, waiting := a.waiting[openid]; waiting {
		w.Latest = later(w.Latest, now)
		return events
	}
	cause := ""
	if account != "" && a.agent(account) == nil {
		// Deviation: a transfer to an account that does not exist is not documented (protocol
		// §10.21); the user is queued as by a plain transfer, and the cause says why.
		cause = "kf account " + account + " does not exist: a plain transfer"
		account = ""
	}
	w := &kfWaiting{Waiting: Waiting{App: app, OpenID: openid, Since: now, Latest: now, Account: account}}
	a.enqueue(w)
	if account == "" {
		events = append(events, KFEvent{Kind: KFQueued, App: app, OpenID: openid, Cause: cause, At: now})
	} else {
		// The named agent keeps the user even when it cannot take them now: the docs say no
		// other agent is told (protocol §3.2).
		events = append(events, KFEvent{Kind: KFAssigned, App: app, OpenID: openid, Account: account, Cause: "TransInfo names it", At: now})
	}
	return k.assign(a, w, now, events)
}

// usable checks that an agent can take a session by hand: it exists, is bound and is online.
func usable(a *kfApp, account string) (*Agent, error) {
	ag := a.agent(account)
	switch {
	case ag == nil:
		return nil, fmt.Errorf("%w: %s", ErrKfAccountUnknown, account)
	case ag.WeChat == "":
		return nil, fmt.Errorf("%w: %s", ErrKfNotBound, account)
	case !ag.Online:
		return nil, fmt.Errorf("%w: %s", ErrKfOffline, account)
	}
	return ag, nil
}

// Accept is an agent taking a waiting user in the kf tool. Capacity does not apply: it only
// limits what auto-accept takes.
func (k *KF) Accept(app, account, openid string, now time.Time) ([]KFEvent, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	a := k.app(app)
	events := k.settle(a, now)
	ag, err := usable(a, account)
	if err != nil {
		return events, fmt.Errorf("accept: %w", err)
	}
	if s, in := a.sessions[openid]; in && s.Account != account {
		return events, fmt.Errorf("accept: %w: %s serves %s", ErrKfServedByAnother, s.Account, openid)
	}
	w, waiting := a.waiting[openid]
	switch {
	case !waiting:
		return events, fmt.Errorf("accept: %w: %s", ErrKfNotWaiting, openid)
	case w.Account != "" && w.Account != account:
		return events, fmt.Errorf("accept: %w: %s waits for %s", ErrKfServedByAnother, openid, w.Account)
	}
	return append(events, k.begin(a, openid, ag, now, "accepted by the agent")), nil
}

// Create is /customservice/kfsession/create: a session whether or not the user waits, taking
// them out of the queue. The 48-hour interaction rule is the caller's to check.
func (k *KF) Create(app, account, openid string, now time.Time) ([]KFEvent, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	a := k.app(app)
	events := k.settle(a, now)
	ag, err := usable(a, account)
	if err != nil {
		return events, fmt.Errorf("create session: %w", err)
	}
	if s, in := a.sessions[openid]; in {
		if s.Account == account {
			return events, nil // the docs: creating an existing session succeeds
		}
		return events, fmt.Errorf("create session: %w: %s serves %s", ErrKfServedByAnother, s.Account, openid)
	}
	return append(events, k.begin(a, openid, ag, now, "kfsession/create")), nil
}

// Close ends a session, by the agent or by /customservice/kfsession/close.
func (k *KF) Close(app, account, openid string, now time.Time) ([]KFEvent, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	a := k.app(app)
	events := k.settle(a, now)
	s, in := a.sessions[openid]
	if !in || s.Account != account {
		return events, fmt.Errorf("close session: %w: %s has no session with %s", ErrKfNoSession, openid, account)
	}
	ag := k.end(a, s)
	events = append(events, KFEvent{Kind: KFClosed, App: app, OpenID: openid, Account: account, Cause: "closed by the agent", At: now})
	if ag != nil {
		events = k.fill(a, ag, now, events)
	}
	return events, nil
}

// Switch hands a session from one agent to another (kf_switch_session). Like Accept it
// ignores capacity. A switch to the agent that already serves the user changes nothing.
//
// Deviation: the session keeps its start, so with the start anchor the new agent has what is
// left of the 30 minutes; the docs do not say (protocol §5.4).
func (k *KF) Switch(app, fromAccount, toAccount, openid string, now time.Time) ([]KFEvent, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	a := k.app(app)
	events := k.settle(a, now)
	s, in := a.sessions[openid]
	if !in || s.Account != fromAccount {
		return events, fmt.Errorf("switch session: %w: %s has no session with %s", ErrKfNoSession, openid, fromAccount)
	}
	to, err := usable(a, toAccount)
	if err != nil {
		return events, fmt.Errorf("switch session: %w", err)
	}
	if toAccount == fromAccount {
		return events, nil
	}
	from := a.agent(fromAccount)
	if from != nil && from.Accepted > 0 {
		from.Accepted--
	}
	to.Accepted++
	s.Account = toAccount
	k.touch(a, s, now)
	events = append(events, KFEvent{Kind: KFSwitched, App: app, OpenID: openid, Account: toAccount, FromAccount: fromAccount, ToAccount: toAccount, Cause: "switched by the agent", At: now})
	if from != nil {
		events = k.fill(a, from, now, events)
	}
	return events, nil
}

// Touch is activity in a user's session: a message from the user or from the agent. With the
// activity anchor it moves the session's end. A session already past its end is not revived:
// the next call that looks ends it.
func (k *KF) Touch(app, openid string, now time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	a, ok := k.apps[app]
	if !ok {
		return
	}
	if s, in := a.sessions[openid]; in && now.Before(s.deadline) {
		k.touch(a, s, now)
	}
}

func (k *KF) touch(a *kfApp, s *kfSession, now time.Time) {
	if !now.After(s.LastActivity) {
		return
	}
	s.LastActivity = now
	if d := k.deadline(&s.Session); !d.Equal(s.deadline) {
		s.deadline = d
		heap.Fix(&a.due, s.index)
	}
}

// Route ends the app's sessions that are due, then says whether a message of the user goes to
// an agent (inSession) or to the bot.
func (k *KF) Route(app, openid string, now time.Time) (s Session, inSession bool, expired []KFEvent) {
	k.mu.Lock()
	defer k.mu.Unlock()
	a, ok := k.apps[app]
	if !ok {
		return Session{}, false, nil
	}
	expired = k.settle(a, now)
	if x, in := a.sessions[openid]; in {
		return x.Session, true, expired
	}
	return Session{}, false, expired
}

// Expire ends every session of every app that is due by now, for a caller that watches the
// clock rather than a user. WeChat pushes nothing when a session times out (protocol §5.4):
// the events are for the journal, and the user's messages simply go back to the bot.
func (k *KF) Expire(now time.Time) []KFEvent {
	k.mu.Lock()
	defer k.mu.Unlock()
	var events []KFEvent
	for _, app := range sortedKeys(k.apps) {
		events = append(events, k.settle(k.apps[app], now)...)
	}
	sortEvents(events)
	return events
}

// Session returns a user's session. Expiries it notices wait for the next call that returns
// events.
func (k *KF) Session(app, openid string, now time.Time) (Session, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	a, ok := k.apps[app]
	if !ok {
		return Session{}, false
	}
	k.notice(a, now)
	if s, in := a.sessions[openid]; in {
		return s.Session, true
	}
	return Session{}, false
}

// Sessions lists an agent's sessions, oldest first (getsessionlist).
func (k *KF) Sessions(app, account string, now time.Time) []Session {
	k.mu.Lock()
	defer k.mu.Unlock()
	a, ok := k.apps[app]
	if !ok {
		return []Session{}
	}
	k.notice(a, now)
	out := []Session{}
	for _, s := range a.sessions {
		if s.Account == account {
			out = append(out, s.Session)
		}
	}
	slices.SortFunc(out, func(x, y Session) int {
		if c := x.Created.Compare(y.Created); c != 0 {
			return c
		}
		return strings.Compare(x.OpenID, y.OpenID)
	})
	return out
}

// waitCaseMax is how many users getwaitcase lists.
const waitCaseMax = 100

// WaitCase is /customservice/kfsession/getwaitcase: how many users wait, and the first 100 of
// them, earliest first.
func (k *KF) WaitCase(app string, now time.Time) (count int, waiting []Waiting) {
	k.mu.Lock()
	defer k.mu.Unlock()
	a, ok := k.apps[app]
	if !ok {
		return 0, []Waiting{}
	}
	k.notice(a, now)
	waiting = make([]Waiting, 0, min(len(a.waiting), waitCaseMax))
	for w := a.head; w != nil && len(waiting) < waitCaseMax; w = w.next {
		waiting = append(waiting, w.Waiting)
	}
	return len(a.waiting), waiting
}

// WaitingFor returns a user's place in the queue. It takes no time, so it shows the queue as
// the last call that did left it.
func (k *KF) WaitingFor(app, openid string) (Waiting, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	a, ok := k.apps[app]
	if !ok {
		return Waiting{}, false
	}
	if w, ok := a.waiting[openid]; ok {
		return w.Waiting, true
	}
	return Waiting{}, false
}

// Leave takes a user out of the kf state without a trace for them: out of the queue, or out of
// their session, whose agent then takes waiting users as after a close. It returns the events
// of everyone else (the settled expiries, the users the freed agent took), and reports whether
// the user was waiting or served. Scenarios use it to put the shared agents back as they were.
func (k *KF) Leave(app, openid string, now time.Time) (others []KFEvent, left bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	a := k.app(app)
	events := k.settle(a, now)
	if w, ok := a.waiting[openid]; ok {
		a.dequeue(w)
		left = true
	}
	if s, in := a.sessions[openid]; in {
		if ag := k.end(a, s); ag != nil {
			events = k.fill(a, ag, now, events)
		}
		left = true
	}
	for _, ev := range events {
		if ev.OpenID != openid {
			others = append(others, ev)
		}
	}
	return others, left
}

// NextDeadline is when the earliest session of any app ends if nobody closes it, or false when
// no session is open: the time the platform schedules its expiry timer for.
func (k *KF) NextDeadline() (time.Time, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var next time.Time
	found := false
	for _, a := range k.apps {
		if len(a.due) > 0 && (!found || a.due[0].deadline.Before(next)) {
			next, found = a.due[0].deadline, true
		}
	}
	return next, found
}
