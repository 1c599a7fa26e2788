package state

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

var (
	kfPrefixChars = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	weChatID      = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{5,19}$`)
)

// SeedAgent adds an agent from the configuration: bound, online, auto-accepting and with the
// capacity given (5 if none), with the next ID. An account the app already has is left as it
// is, because configuration validation rejects duplicates before this is called. Seeding
// assigns no waiting user: it happens before any user talks.
func (k *KF) SeedAgent(app string, ag Agent) {
	k.mu.Lock()
	defer k.mu.Unlock()
	a := k.app(app)
	if a.agent(ag.Account) != nil {
		return
	}
	if ag.Capacity <= 0 {
		ag.Capacity = defaultCapacity
	}
	ag.ID, ag.Accepted = a.nextID, 0
	a.nextID++
	a.agents = append(a.agents, &ag)
}

// AddAccount is /customservice/kfaccount/add (protocol §5.1): account must be
// prefix@wechatID, the app's own WeChat id.
func (k *KF) AddAccount(app, wechatID, account, nickname string) (Agent, error) {
	prefix, suffix, ok := strings.Cut(account, "@")
	switch {
	case !ok || suffix != wechatID || wechatID == "":
		return Agent{}, fmt.Errorf("add kf account: %w: %q must be prefix@%s", ErrKfIllegalAccount, account, wechatID)
	case prefix == "" || utf8.RuneCountInString(prefix) > 10:
		return Agent{}, fmt.Errorf("add kf account: %w: the prefix %q must have 1 to 10 characters", ErrKfAccountLength, prefix)
	case !kfPrefixChars.MatchString(prefix):
		return Agent{}, fmt.Errorf("add kf account: %w: the prefix %q may hold only letters, digits and _", ErrKfAccountIllegalChar, prefix)
	}
	if err := checkNickname(nickname); err != nil {
		return Agent{}, fmt.Errorf("add kf account: %w", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	a := k.app(app)
	if a.agent(account) != nil {
		return Agent{}, fmt.Errorf("add kf account: %w: %s", ErrKfAccountExists, account)
	}
	if len(a.agents) >= k.cfg.MaxAccounts {
		return Agent{}, fmt.Errorf("add kf account: %w: %d accounts", ErrKfAccountLimit, len(a.agents))
	}
	ag := &Agent{Account: account, Nickname: nickname, ID: a.nextID, Capacity: defaultCapacity}
	a.nextID++
	a.agents = append(a.agents, ag)
	return *ag, nil
}

func checkNickname(n string) error {
	if c := utf8.RuneCountInString(n); c == 0 || c > 16 {
		return fmt.Errorf("%w: %q must have 1 to 16 characters", ErrKfIllegalNickname, n)
	}
	return nil
}

// UpdateAccount is /customservice/kfaccount/update: a new nickname.
func (k *KF) UpdateAccount(app, account, nickname string) (Agent, error) {
	if err := checkNickname(nickname); err != nil {
		return Agent{}, fmt.Errorf("update kf account: %w", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	ag := k.app(app).agent(account)
	if ag == nil {
		return Agent{}, fmt.Errorf("update kf account: %w: %s", ErrKfAccountUnknown, account)
	}
	ag.Nickname = nickname
	return *ag, nil
}

// DeleteAccount is /customservice/kfaccount/del. The account's sessions close, and the users
// TransInfo assigned to it go back to the general queue, keeping their place, where other
// agents may take them.
func (k *KF) DeleteAccount(app, account string, now time.Time) ([]KFEvent, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	a := k.app(app)
	events := k.settle(a, now)
	ag := a.agent(account)
	if ag == nil {
		return events, fmt.Errorf("delete kf account: %w: %s", ErrKfAccountUnknown, account)
	}
	var closing []*kfSession
	for _, s := range a.sessions {
		if s.Account == account {
			closing = append(closing, s)
		}
	}
	slices.SortFunc(closing, func(x, y *kfSession) int {
		if c := x.Created.Compare(y.Created); c != 0 {
			return c
		}
		return strings.Compare(x.OpenID, y.OpenID)
	})
	for _, s := range closing {
		k.end(a, s)
		events = append(events, KFEvent{Kind: KFClosed, App: app, OpenID: s.OpenID, Account: account, Cause: "account deleted", At: now})
	}
	a.agents = slices.DeleteFunc(a.agents, func(x *Agent) bool { return x == ag })
	var requeued []*kfWaiting
	for w := a.head; w != nil; w = w.next {
		if w.Account == account {
			w.Account = ""
			requeued = append(requeued, w)
			events = append(events, KFEvent{Kind: KFQueued, App: app, OpenID: w.OpenID, Cause: "kf account " + account + " deleted", At: now})
		}
	}
	// The requeued users are the only ones another agent could take now: the rest of the
	// queue was already waiting with every agent full.
	for _, w := range requeued {
		if _, still := a.waiting[w.OpenID]; still {
			events = k.assign(a, w, now, events)
		}
	}
	return events, nil
}

// Invite is /customservice/kfaccount/inviteworker: it asks the personal WeChat inviteWX to
// bind the account.
//
// Deviation: 65410 (a worker bound to too many accounts) is never answered; the docs give no
// number (protocol §5.1).
func (k *KF) Invite(app, account, inviteWX string, now time.Time) (Agent, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	a := k.app(app)
	ag := a.agent(account)
	pending := ag != nil && ag.InviteStatus == "waiting" && now.Before(ag.InviteExpires)
	switch {
	case ag == nil:
		return Agent{}, fmt.Errorf("invite worker: %w: %s", ErrKfAccountUnknown, account)
	case ag.WeChat != "":
		return Agent{}, fmt.Errorf("invite worker: %w: %s is bound to %s", ErrKfAccountBound, account, ag.WeChat)
	case pending && ag.InviteWX == inviteWX:
		return Agent{}, fmt.Errorf("invite worker: %w: %s invited %s until %s", ErrKfAlreadyInvited, account, inviteWX, ag.InviteExpires.Format(time.RFC3339))
	case pending:
		return Agent{}, fmt.Errorf("invite worker: %w: %s invited %s until %s", ErrKfInvitationPending, account, ag.InviteWX, ag.InviteExpires.Format(time.RFC3339))
	case !weChatID.MatchString(inviteWX):
		return Agent{}, fmt.Errorf("invite worker: %w: %q is not a WeChat id (6 to 20 letters, digits, _ or -, a letter first)", ErrKfWeChatInvalid, inviteWX)
	}
	for _, other := range a.agents {
		if other.WeChat == inviteWX {
			return Agent{}, fmt.Errorf("invite worker: %w: %s is bound to %s", ErrKfAlreadyWorker, inviteWX, other.Account)
		}
	}
	ag.InviteWX, ag.InviteStatus, ag.InviteExpires = inviteWX, "waiting", now.Add(k.cfg.InviteValidity)
	return agentView(ag, now), nil
}

// RespondInvite is the invited WeChat user accepting or rejecting the binding in the WeChat
// app. An invitation is answerable until, not at, its expiry.
func (k *KF) RespondInvite(app, account string, accept bool, now time.Time) (Agent, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	ag := k.app(app).agent(account)
	if ag == nil {
		return Agent{}, fmt.Errorf("respond to invitation: %w: %s", ErrKfAccountUnknown, account)
	}
	if ag.InviteStatus != "waiting" || !now.Before(ag.InviteExpires) {
		return Agent{}, fmt.Errorf("respond to invitation: %w: %s", ErrKfInviteExpired, account)
	}
	if accept {
		ag.WeChat, ag.InviteWX, ag.InviteStatus, ag.InviteExpires = ag.InviteWX, "", "", time.Time{}
	} else {
		ag.InviteStatus = "rejected"
	}
	return *ag, nil
}

// SetHeadImg records the head image URL of an account.
func (k *KF) SetHeadImg(app, account, url string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	ag := k.app(app).agent(account)
	if ag == nil {
		return fmt.Errorf("set head image: %w: %s", ErrKfAccountUnknown, account)
	}
	ag.HeadImgURL = url
	return nil
}

// SetAgent changes an agent's status; nil leaves a field as it is. An agent that can take
// users afterwards takes those waiting for it and those in the general queue, earliest first.
// A capacity below 1 is ignored: the control API rejects it before it gets here.
//
// Deviation: going online needs a bound WeChat (65402), since only the bound person can sign
// in to the kf tool; nothing changes then.
func (k *KF) SetAgent(app, account string, online, autoAccept *bool, capacity *int, now time.Time) (Agent, []KFEvent, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	a := k.app(app)
	events := k.settle(a, now)
	ag := a.agent(account)
	if ag == nil {
		return Agent{}, events, fmt.Errorf("set agent: %w: %s", ErrKfAccountUnknown, account)
	}
	if online != nil && *online && ag.WeChat == "" {
		return Agent{}, events, fmt.Errorf("set agent: %w: %s", ErrKfNotBound, account)
	}
	if online != nil {
		ag.Online = *online
	}
	if autoAccept != nil {
		ag.AutoAccept = *autoAccept
	}
	if capacity != nil && *capacity > 0 {
		ag.Capacity = *capacity
	}
	events = k.fill(a, ag, now, events)
	return agentView(ag, now), events, nil
}

// Agents lists an app's agents in ID order.
func (k *KF) Agents(app string, now time.Time) []Agent {
	k.mu.Lock()
	defer k.mu.Unlock()
	a, ok := k.apps[app]
	if !ok {
		return []Agent{}
	}
	k.notice(a, now)
	out := make([]Agent, 0, len(a.agents))
	for _, ag := range a.agents {
		out = append(out, agentView(ag, now))
	}
	return out
}

// Agent returns one agent.
func (k *KF) Agent(app, account string, now time.Time) (Agent, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	a, ok := k.apps[app]
	if !ok {
		return Agent{}, false
	}
	k.notice(a, now)
	ag := a.agent(account)
	if ag == nil {
		return Agent{}, false
	}
	return agentView(ag, now), true
}

// agentView is an agent as getkflist shows it at now: an invitation past its time reads
// "expired" without anyone having to sweep it.
func agentView(ag *Agent, now time.Time) Agent {
	v := *ag
	if v.InviteStatus == "waiting" && !now.Before(v.InviteExpires) {
		v.InviteStatus = "expired"
	}
	return v
}
