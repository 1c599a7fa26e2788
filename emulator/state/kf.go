package state

import (
	"cmp"
	"container/heap"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
)

// Errors of the kf (human-agent) APIs. Each doc comment names the errcode it maps to.
var (
	// ErrKfIllegalAccount maps to 65404: the account is not prefix@wechat_id of this account.
	ErrKfIllegalAccount = errors.New("kf: illegal kf account")
	// ErrKfAccountLength maps to 61454: the prefix is empty or longer than 10 characters.
	ErrKfAccountLength = errors.New("kf: kf account prefix length")
	// ErrKfAccountIllegalChar maps to 61455: the prefix has a character outside [A-Za-z0-9_].
	ErrKfAccountIllegalChar = errors.New("kf: illegal character in kf account")
	// ErrKfIllegalNickname maps to 65403: the nickname is empty or longer than 16 characters.
	ErrKfIllegalNickname = errors.New("kf: illegal nickname")
	// ErrKfAccountExists maps to 65406.
	ErrKfAccountExists = errors.New("kf: kf account exists")
	// ErrKfAccountLimit maps to 65405: the app has MaxAccounts accounts already.
	ErrKfAccountLimit = errors.New("kf: kf account number reaches the limit")
	// ErrKfAccountUnknown maps to 65401.
	ErrKfAccountUnknown = errors.New("kf: no such kf account")
	// ErrKfAccountBound maps to 65412: the account is already bound to a WeChat user.
	ErrKfAccountBound = errors.New("kf: the kf account is already bound")
	// ErrKfAlreadyInvited maps to 65408: the same WeChat user has an unexpired invitation.
	ErrKfAlreadyInvited = errors.New("kf: the wechat user is already invited")
	// ErrKfInvitationPending maps to 65411: an unexpired invitation of another WeChat user exists.
	ErrKfInvitationPending = errors.New("kf: an effective invitation exists")
	// ErrKfWeChatInvalid maps to 65409: invite_wx is not a WeChat id.
	ErrKfWeChatInvalid = errors.New("kf: invalid wechat account")
	// ErrKfAlreadyWorker maps to 65407: the WeChat user is already bound to another account.
	ErrKfAlreadyWorker = errors.New("kf: the wechat user is already a worker")
	// ErrKfNotBound maps to 65402: the account has no bound WeChat user.
	ErrKfNotBound = errors.New("kf: the kf account is not bound to a wechat user")
	// ErrKfOffline maps to 65415.
	ErrKfOffline = errors.New("kf: the worker is not online")
	// ErrKfServedByAnother maps to 65414.
	ErrKfServedByAnother = errors.New("kf: another worker is serving the customer")
	// ErrKfNoSession maps to 65413.
	ErrKfNoSession = errors.New("kf: no effective session for the customer")
	// ErrKfRangeTooLong maps to 65417: getmsglist over more than 24 hours.
	ErrKfRangeTooLong = errors.New("kf: the time range is longer than 24 hours")
	// ErrKfParamInvalid maps to 65416: bad getmsglist parameters.
	ErrKfParamInvalid = errors.New("kf: invalid parameter")
	// ErrKfNotWaiting has no WeChat errcode: only the control API lets an agent accept, and
	// it names a user who is not waiting.
	ErrKfNotWaiting = errors.New("kf: the user is not waiting for an agent")
	// ErrKfInviteExpired has no WeChat errcode: the invitee answers in the WeChat app, which
	// the control API stands in for, and there is no waiting invitation to answer.
	ErrKfInviteExpired = errors.New("kf: no waiting invitation")
)

// Kinds of KFEvent.
const (
	KFQueued   = "queued"   // the user waits in the general queue
	KFAssigned = "assigned" // the user waits for the agent TransInfo named
	KFAccepted = "accepted" // a session began (kf_create_session)
	KFClosed   = "closed"   // a session was closed (kf_close_session)
	KFSwitched = "switched" // a session moved to another agent (kf_switch_session)
	KFExpired  = "expired"  // a session outlived SessionTimeout; WeChat sends no event
)

// Session anchors of KFConfig.
const (
	AnchorStart    = "start"
	AnchorActivity = "activity"
)

// Agent is a kf account and the person behind it.
type Agent struct {
	Account       string    `json:"kf_account"`
	Nickname      string    `json:"kf_nick"`
	ID            int       `json:"kf_id"`
	HeadImgURL    string    `json:"kf_headimgurl,omitempty"`
	WeChat        string    `json:"kf_wx,omitempty"` // the bound personal WeChat; empty = not bound
	InviteWX      string    `json:"invite_wx,omitempty"`
	InviteExpires time.Time `json:"invite_expire_time,omitzero"`
	InviteStatus  string    `json:"invite_status,omitempty"` // waiting, rejected or expired
	Online        bool      `json:"online"`
	AutoAccept    bool      `json:"auto_accept"`
	Capacity      int       `json:"capacity"`      // how many sessions auto-accept fills
	Accepted      int       `json:"accepted_case"` // sessions it serves now
}

// takesMore reports whether auto-accept would give the agent another user.
func (ag *Agent) takesMore() bool {
	return ag.Online && ag.AutoAccept && ag.WeChat != "" && ag.Accepted < ag.Capacity
}

// Session is a user served by an agent.
type Session struct {
	App          string    `json:"app"`
	OpenID       string    `json:"openid"`
	Account      string    `json:"kf_account"`
	Created      time.Time `json:"created"`
	LastActivity time.Time `json:"last_activity"`
}

// Waiting is a user transferred and not yet accepted.
type Waiting struct {
	App     string    `json:"app"`
	OpenID  string    `json:"openid"`
	Since   time.Time `json:"since"`
	Latest  time.Time `json:"latest_time"`
	Account string    `json:"kf_account,omitempty"` // assigned to this agent by TransInfo; empty = the queue
}

// Record is one line of /customservice/msgrecord/getmsglist. Opercode 2002: the agent sent
// Text; 2003: the agent received it; 1000: a session waits; 1001: accepted; 1002: created by
// the agent; 1004: closed (protocol §5.3).
type Record struct {
	OpenID   string    `json:"openid"`
	Worker   string    `json:"worker"`
	Opercode int       `json:"opercode"`
	Text     string    `json:"text"`
	Time     time.Time `json:"time"`
}

// KFEvent is a change of a user's kf state, with its cause.
type KFEvent struct {
	Kind        string    `json:"kind"` // one of the KF* kinds
	App         string    `json:"app"`
	OpenID      string    `json:"openid"`
	Account     string    `json:"kf_account,omitempty"`
	FromAccount string    `json:"from_kf_account,omitempty"`
	ToAccount   string    `json:"to_kf_account,omitempty"`
	Cause       string    `json:"cause,omitempty"`
	At          time.Time `json:"at"`
}

// KFConfig sets the rules of kf sessions. Zero fields take their defaults.
type KFConfig struct {
	// SessionTimeout ends a session nobody closed. Default 30 minutes (protocol §5.4).
	SessionTimeout time.Duration
	// Anchor is what SessionTimeout counts from: AnchorStart (default), the session's start,
	// or AnchorActivity, the last message either way. Deviation: the docs leave it open
	// (protocol §10.20).
	Anchor string
	// MaxAccounts is how many kf accounts an app may have. Default 100.
	MaxAccounts int
	// InviteValidity is how long an inviteworker invitation waits for an answer.
	// Deviation: the docs give no number (protocol §5.1, §10.22); the default is 7 days.
	InviteValidity time.Duration
}

// KF is the human-agent state of every app: accounts, the waiting queue, sessions and records.
type KF struct {
	cfg KFConfig

	mu   sync.Mutex // guards apps and everything reachable from it
	apps map[string]*kfApp
}

// kfApp is one app's kf state.
type kfApp struct {
	id      string
	agents  []*Agent // in ID order; at most MaxAccounts, so a scan is cheap
	nextID  int
	waiting map[string]*kfWaiting
	// head and tail are the queue, in order of Since and then of arrival, so that assigning
	// the earliest user never sorts.
	head, tail *kfWaiting
	sessions   map[string]*kfSession
	due        sessionHeap // the sessions by deadline, so expiry costs nothing until one is due
	// pending holds expiries a call noticed but could not return (Session, WaitCase …); the
	// next call that returns events for the app hands them over, so none is lost.
	pending []KFEvent
	records []Record // in time order, for binary search by getmsglist
}

type kfWaiting struct {
	Waiting
	prev, next *kfWaiting
}

type kfSession struct {
	Session
	deadline time.Time
	index    int // in due
}

// sessionHeap is a min-heap of sessions by deadline (container/heap).
type sessionHeap []*kfSession

func (h sessionHeap) Len() int { return len(h) }
func (h sessionHeap) Less(i, j int) bool {
	if c := h[i].deadline.Compare(h[j].deadline); c != 0 {
		return c < 0
	}
	return h[i].OpenID < h[j].OpenID
}
func (h sessionHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *sessionHeap) Push(x any) {
	s := x.(*kfSession)
	s.index = len(*h)
	*h = append(*h, s)
}
func (h *sessionHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	s.index = -1
	return s
}

// The defaults of KFConfig.
const (
	DefaultKFSessionTimeout = 30 * time.Minute
	DefaultKFMaxAccounts    = 100
	DefaultKFInviteValidity = 7 * 24 * time.Hour
	defaultCapacity         = 5
	firstAgentID            = 1001
)

// NewKF returns an empty kf state.
func NewKF(cfg KFConfig) *KF {
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = DefaultKFSessionTimeout
	}
	if cfg.Anchor != AnchorActivity {
		cfg.Anchor = AnchorStart // the configuration has rejected anything else already
	}
	if cfg.MaxAccounts <= 0 {
		cfg.MaxAccounts = DefaultKFMaxAccounts
	}
	if cfg.InviteValidity <= 0 {
		cfg.InviteValidity = DefaultKFInviteValidity
	}
	return &KF{cfg: cfg, apps: map[string]*kfApp{}}
}

// app returns an app's state, creating it. The caller holds the lock.
func (k *KF) app(app string) *kfApp {
	a, ok := k.apps[app]
	if !ok {
		a = &kfApp{id: app, nextID: firstAgentID, waiting: map[string]*kfWaiting{}, sessions: map[string]*kfSession{}}
		k.apps[app] = a
	}
	return a
}

func (a *kfApp) agent(account string) *Agent {
	for _, ag := range a.agents {
		if ag.Account == account {
			return ag
		}
	}
	return nil
}

// enqueue puts w in the queue after everyone who has waited as long or longer. The search
// starts at the tail because Since is nearly always the latest.
func (a *kfApp) enqueue(w *kfWaiting) {
	a.waiting[w.OpenID] = w
	at := a.tail
	for at != nil && at.Since.After(w.Since) {
		at = at.prev
	}
	w.prev = at
	if at == nil {
		w.next, a.head = a.head, w
	} else {
		w.next, at.next = at.next, w
	}
	if w.next == nil {
		a.tail = w
	} else {
		w.next.prev = w
	}
}

func (a *kfApp) dequeue(w *kfWaiting) {
	delete(a.waiting, w.OpenID)
	if w.prev == nil {
		a.head = w.next
	} else {
		w.prev.next = w.next
	}
	if w.next == nil {
		a.tail = w.prev
	} else {
		w.next.prev = w.prev
	}
	w.prev, w.next = nil, nil
}

// deadline is when a session ends if nobody closes it: it is over at exactly this instant.
func (k *KF) deadline(s *Session) time.Time {
	if k.cfg.Anchor == AnchorActivity {
		return s.LastActivity.Add(k.cfg.SessionTimeout)
	}
	return s.Created.Add(k.cfg.SessionTimeout)
}

// expiryCause words SessionTimeout the way the docs do.
func (k *KF) expiryCause() string {
	t := k.cfg.SessionTimeout
	if t%time.Minute == 0 {
		return fmt.Sprintf("%d minutes without a close", t/time.Minute)
	}
	return t.String() + " without a close"
}

// begin opens a session of ag with the user at at, taking the user out of the queue. The
// caller holds the lock.
func (k *KF) begin(a *kfApp, openid string, ag *Agent, at time.Time, cause string) KFEvent {
	if w, ok := a.waiting[openid]; ok {
		a.dequeue(w)
	}
	s := &kfSession{Session: Session{App: a.id, OpenID: openid, Account: ag.Account, Created: at, LastActivity: at}}
	s.deadline = k.deadline(&s.Session)
	a.sessions[openid] = s
	heap.Push(&a.due, s)
	ag.Accepted++
	return KFEvent{Kind: KFAccepted, App: a.id, OpenID: openid, Account: ag.Account, Cause: cause, At: at}
}

// end removes a session and frees its agent, which it returns (nil once deleted). The caller
// holds the lock.
func (k *KF) end(a *kfApp, s *kfSession) *Agent {
	delete(a.sessions, s.OpenID)
	heap.Remove(&a.due, s.index)
	ag := a.agent(s.Account)
	if ag != nil && ag.Accepted > 0 {
		ag.Accepted--
	}
	return ag
}

// fill lets ag take waiting users while auto-accept allows, earliest first: those TransInfo
// assigned to it and those of the general queue, never one waiting for another agent. Only
// ag needs looking at: whenever the general queue is not empty, no other agent has room,
// or it would have taken the user already.
func (k *KF) fill(a *kfApp, ag *Agent, at time.Time, events []KFEvent) []KFEvent {
	for w := a.head; w != nil && ag.takesMore(); {
		next := w.next
		if w.Account == "" || w.Account == ag.Account {
			events = append(events, k.begin(a, w.OpenID, ag, later(at, w.Since), "auto-accept"))
		}
		w = next
	}
	return events
}

// assign finds an agent for one waiting user: its named agent if that can take it, else the
// auto-accepting agent with room serving the fewest (the lowest ID on a tie).
func (k *KF) assign(a *kfApp, w *kfWaiting, at time.Time, events []KFEvent) []KFEvent {
	var best *Agent
	if w.Account != "" {
		if ag := a.agent(w.Account); ag != nil && ag.takesMore() {
			best = ag
		}
	} else {
		for _, ag := range a.agents {
			if ag.takesMore() && (best == nil || ag.Accepted < best.Accepted) {
				best = ag
			}
		}
	}
	if best == nil {
		return events
	}
	return append(events, k.begin(a, w.OpenID, best, later(at, w.Since), "auto-accept"))
}

// expire ends a's sessions due by now in deadline order, letting each freed agent take
// waiting users at the moment it was freed, so a late look gives the same history as a
// punctual one. The caller holds the lock.
func (k *KF) expire(a *kfApp, now time.Time, events []KFEvent) []KFEvent {
	for len(a.due) > 0 && !now.Before(a.due[0].deadline) {
		s := a.due[0]
		ag := k.end(a, s)
		events = append(events, KFEvent{Kind: KFExpired, App: a.id, OpenID: s.OpenID, Account: s.Account, Cause: k.expiryCause(), At: s.deadline})
		if ag != nil {
			events = k.fill(a, ag, s.deadline, events)
		}
	}
	return events
}

// settle expires a's due sessions and returns them with the expiries noticed earlier, in time
// order; every method that returns events starts with it. The caller holds the lock.
func (k *KF) settle(a *kfApp, now time.Time) []KFEvent {
	events := k.expire(a, now, a.pending)
	a.pending = nil
	sortEvents(events)
	return events
}

// notice expires a's due sessions for a method that cannot return events, keeping them for
// the next one that can. The caller holds the lock.
func (k *KF) notice(a *kfApp, now time.Time) {
	a.pending = k.expire(a, now, a.pending)
}

func sortEvents(events []KFEvent) {
	slices.SortStableFunc(events, func(x, y KFEvent) int { return x.At.Compare(y.At) })
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Reset forgets all kf state.
func (k *KF) Reset() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.apps = map[string]*kfApp{}
}

// KFSnapshot is the kf state in an export.
type KFSnapshot struct {
	Apps []KFAppSnapshot `json:"apps"`
}

// KFAppSnapshot is one app's kf state.
type KFAppSnapshot struct {
	App      string    `json:"app"`
	Agents   []Agent   `json:"agents"`
	NextID   int       `json:"next_id"`
	Waiting  []Waiting `json:"waiting"`  // in queue order
	Sessions []Session `json:"sessions"` // by openid
	Records  []Record  `json:"records"`
	// Pending are expiries noticed and not yet handed to a caller.
	Pending []KFEvent `json:"pending,omitempty"`
}

// Snapshot exports all kf state, apps sorted by appid.
func (k *KF) Snapshot() KFSnapshot {
	k.mu.Lock()
	defer k.mu.Unlock()
	snap := KFSnapshot{Apps: []KFAppSnapshot{}}
	for _, app := range sortedKeys(k.apps) {
		a := k.apps[app]
		s := KFAppSnapshot{
			App: app, NextID: a.nextID,
			Agents:   make([]Agent, 0, len(a.agents)),
			Waiting:  make([]Waiting, 0, len(a.waiting)),
			Sessions: make([]Session, 0, len(a.sessions)),
			Records:  slices.Clone(a.records),
			Pending:  slices.Clone(a.pending),
		}
		if s.Records == nil {
			s.Records = []Record{}
		}
		for _, ag := range a.agents {
			s.Agents = append(s.Agents, *ag)
		}
		for w := a.head; w != nil; w = w.next {
			s.Waiting = append(s.Waiting, w.Waiting)
		}
		for _, openid := range sortedKeys(a.sessions) {
			s.Sessions = append(s.Sessions, a.sessions[openid].Session)
		}
		snap.Apps = append(snap.Apps, s)
	}
	return snap
}

// Restore replaces all kf state with an export. Each agent's Accepted is counted again from
// the sessions, so a hand-edited export cannot leave an agent with phantom load.
func (k *KF) Restore(snap KFSnapshot) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.apps = map[string]*kfApp{}
	for _, as := range snap.Apps {
		a := k.app(as.App)
		for _, ag := range as.Agents {
			if a.agent(ag.Account) != nil {
				continue
			}
			x := ag
			x.Accepted = 0
			a.agents = append(a.agents, &x)
			a.nextID = max(a.nextID, x.ID+1)
		}
		slices.SortStableFunc(a.agents, func(x, y *Agent) int { return cmp.Compare(x.ID, y.ID) })
		a.nextID = max(a.nextID, as.NextID)
		for _, ss := range as.Sessions {
			if _, dup := a.sessions[ss.OpenID]; dup {
				continue
			}
			s := &kfSession{Session: ss}
			s.App = as.App
			s.deadline = k.deadline(&s.Session)
			a.sessions[ss.OpenID] = s
			heap.Push(&a.due, s)
			if ag := a.agent(ss.Account); ag != nil {
				ag.Accepted++
			}
		}
		for _, w := range as.Waiting {
			if _, dup := a.waiting[w.OpenID]; dup {
				continue
			}
			if _, in := a.sessions[w.OpenID]; in {
				continue
			}
			x := &kfWaiting{Waiting: w}
			x.App = as.App
			a.enqueue(x)
		}
		a.records = slices.Clone(as.Records)
		slices.SortStableFunc(a.records, func(x, y Record) int { return x.Time.Compare(y.Time) })
		a.pending = slices.Clone(as.Pending)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
