package state

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
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
	// ErrKfAccountLimit maps to 65405: 100 accounts already.
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
	// ErrKfNotWaiting: an agent accepts a user who is not waiting. No WeChat API has this.
	ErrKfNotWaiting = errors.New("kf: the user is not waiting for an agent")
	// ErrKfInviteExpired: the invitee answers an invitation that is gone. No WeChat API has this.
	ErrKfInviteExpired = errors.New("kf: no waiting invitation")
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
	Capacity      int       `json:"capacity"`
	Accepted      int       `json:"accepted_case"`
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

// Record is one line of /customservice/msgrecord/getmsglist.
type Record struct {
	OpenID   string    `json:"openid"`
	Worker   string    `json:"worker"`
	Opercode int       `json:"opercode"`
	Text     string    `json:"text"`
	Time     time.Time `json:"time"`
}

// KFEvent is a change of a user's kf state, with its cause.
type KFEvent struct {
	Kind        string    `json:"kind"` // queued, assigned, accepted, closed, switched, expired
	App         string    `json:"app"`
	OpenID      string    `json:"openid"`
	Account     string    `json:"kf_account,omitempty"`
	FromAccount string    `json:"from_kf_account,omitempty"`
	ToAccount   string    `json:"to_kf_account,omitempty"`
	Cause       string    `json:"cause,omitempty"`
	At          time.Time `json:"at"`
}

// KFConfig sets the rules of kf sessions.
type KFConfig struct {
	SessionTimeout time.Duration // default 30 minutes
	Anchor         string        // "start" (default) or "activity"
	MaxAccounts    int           // default 100
	// InviteValidity is how long an inviteworker invitation waits for an answer.
	// Deviation: the docs give no number (protocol §5.1, §10.22); wxemu uses 7 days.
	InviteValidity time.Duration
}

// KF is the human-agent state of every app: accounts, the waiting queue, sessions and records.
type KF struct {
	cfg KFConfig

	mu   sync.Mutex // guards apps
	apps map[string]*kfApp
}

type kfApp struct {
	agents   []*Agent // in ID order
	nextID   int
	waiting  map[string]*Waiting
	sessions map[string]*Session
	records  []Record
}

// maxRecords bounds the records kept per app.
const maxRecords = 100000

// NewKF returns an empty kf state.
func NewKF(cfg KFConfig) *KF {
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = 30 * time.Minute
	}
	if cfg.Anchor == "" {
		cfg.Anchor = "start"
	}
	if cfg.MaxAccounts <= 0 {
		cfg.MaxAccounts = 100
	}
	if cfg.InviteValidity <= 0 {
		cfg.InviteValidity = 7 * 24 * time.Hour
	}
	return &KF{cfg: cfg, apps: map[string]*kfApp{}}
}

func (k *KF) app(app string) *kfApp {
	a, ok := k.apps[app]
	if !ok {
		a = &kfApp{nextID: 1001, waiting: map[string]*Waiting{}, sessions: map[string]*Session{}}
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

var (
	kfPrefixChars = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	weChatID      = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{5,19}$`)
)

// SeedAgent adds an agent from the configuration as given (bound, online, auto-accept).
func (k *KF) SeedAgent(app string, ag Agent) {
	k.mu.Lock()
	defer k.mu.Unlock()
	a := k.app(app)
	if a.agent(ag.Account) != nil {
		return
	}
	if ag.Capacity <= 0 {
		ag.Capacity = 5
	}
	ag.ID, ag.Accepted = a.nextID, 0
	a.nextID++
	a.agents = append(a.agents, &ag)
}

// AddAccount is /customservice/kfaccount/add (protocol §5.1).
func (k *KF) AddAccount(app, wechatID, account, nickname string) (Agent, error) {
	prefix, suffix, ok := strings.Cut(account, "@")
	switch {
	case !ok || suffix != wechatID || wechatID == "":
		return Agent{}, fmt.Errorf("%w: %q must be prefix@%s", ErrKfIllegalAccount, account, wechatID)
	case prefix == "" || len(prefix) > 10:
		return Agent{}, fmt.Errorf("%w: the prefix %q must have 1 to 10 characters", ErrKfAccountLength, prefix)
	case !kfPrefixChars.MatchString(prefix):
		return Agent{}, fmt.Errorf("%w: the prefix %q may hold only letters, digits and _", ErrKfAccountIllegalChar, prefix)
	}
	if err := checkNickname(nickname); err != nil {
		return Agent{}, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	a := k.app(app)
	if a.agent(account) != nil {
		return Agent{}, fmt.Errorf("%w: %s", ErrKfAccountExists, account)
	}
	if len(a.agents) >= k.cfg.MaxAccounts {
		return Agent{}, fmt.Errorf("%w: %d accounts", ErrKfAccountLimit, len(a.agents))
	}
	ag := &Agent{Account: account, Nickname: nickname, ID: a.nextID, Capacity: 5}
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

// UpdateAccount is /customservice/kfaccount/update.
func (k *KF) UpdateAccount(app, account, nickname string) (Agent, error) {
	if err := checkNickname(nickname); err != nil {
		return Agent{}, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	ag := k.app(app).agent(account)
	if ag == nil {
		return Agent{}, fmt.Errorf("%w: %s", ErrKfAccountUnknown, account)
	}
	ag.Nickname = nickname
	return *ag, nil
}

// DeleteAccount is /customservice/kfaccount/del: its sessions close and the users assigned to
// it go back to the queue.
func (k *KF) DeleteAccount(app, account string, now time.Time) ([]KFEvent, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	events := k.expire(now)
	a := k.app(app)
	ag := a.agent(account)
	if ag == nil {
		return events, fmt.Errorf("%w: %s", ErrKfAccountUnknown, account)
	}
	for _, openid := range sortedKeys(a.sessions) {
		if s := a.sessions[openid]; s.Account == account {
			delete(a.sessions, openid)
			events = append(events, KFEvent{Kind: "closed", App: app, OpenID: openid, Account: account, Cause: "kf account deleted", At: now})
		}
	}
	for _, w := range a.waiting {
		if w.Account == account {
			w.Account = ""
		}
	}
	for i, x := range a.agents {
		if x == ag {
			a.agents = append(a.agents[:i], a.agents[i+1:]...)
			break
		}
	}
	return append(events, k.autoAssign(app, now)...), nil
}

// Invite is /customservice/kfaccount/inviteworker.
func (k *KF) Invite(app, account, inviteWX string, now time.Time) (Agent, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	a := k.app(app)
	ag := a.agent(account)
	switch {
	case ag == nil:
		return Agent{}, fmt.Errorf("%w: %s", ErrKfAccountUnknown, account)
	case ag.WeChat != "":
		return Agent{}, fmt.Errorf("%w: %s is bound to %s", ErrKfAccountBound, account, ag.WeChat)
	case ag.InviteStatus == "waiting" && now.Before(ag.InviteExpires) && ag.InviteWX == inviteWX:
		return Agent{}, fmt.Errorf("%w: %s invited %s until %s", ErrKfAlreadyInvited, account, inviteWX, ag.InviteExpires.Format(time.RFC3339))
	case ag.InviteStatus == "waiting" && now.Before(ag.InviteExpires):
		return Agent{}, fmt.Errorf("%w: %s invited %s until %s", ErrKfInvitationPending, account, ag.InviteWX, ag.InviteExpires.Format(time.RFC3339))
	case !weChatID.MatchString(inviteWX):
		return Agent{}, fmt.Errorf("%w: %q is not a WeChat id (6 to 20 letters, digits, _ or -, a letter first)", ErrKfWeChatInvalid, inviteWX)
	}
	for _, other := range a.agents {
		if other.WeChat == inviteWX {
			return Agent{}, fmt.Errorf("%w: %s is bound to %s", ErrKfAlreadyWorker, inviteWX, other.Account)
		}
	}
	ag.InviteWX, ag.InviteStatus, ag.InviteExpires = inviteWX, "waiting", now.Add(k.cfg.InviteValidity)
	return *ag, nil
}

// RespondInvite is the invited WeChat user accepting or rejecting the binding.
func (k *KF) RespondInvite(app, account string, accept bool, now time.Time) (Agent, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	ag := k.app(app).agent(account)
	if ag == nil {
		return Agent{}, fmt.Errorf("%w: %s", ErrKfAccountUnknown, account)
	}
	if ag.InviteStatus != "waiting" || !now.Before(ag.InviteExpires) {
		return Agent{}, fmt.Errorf("%w: %s", ErrKfInviteExpired, account)
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
		return fmt.Errorf("%w: %s", ErrKfAccountUnknown, account)
	}
	ag.HeadImgURL = url
	return nil
}

// SetAgent changes an agent's status. An agent that comes online with auto-accept and room takes
// the users waiting for it, then from the queue.
func (k *KF) SetAgent(app, account string, online, autoAccept *bool, capacity *int, now time.Time) (Agent, []KFEvent, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	events := k.expire(now)
	ag := k.app(app).agent(account)
	if ag == nil {
		return Agent{}, events, fmt.Errorf("%w: %s", ErrKfAccountUnknown, account)
	}
	if online != nil {
		if *online && ag.WeChat == "" {
			return *ag, events, fmt.Errorf("%w: %s", ErrKfNotBound, account)
		}
		ag.Online = *online
	}
	if autoAccept != nil {
		ag.AutoAccept = *autoAccept
	}
	if capacity != nil && *capacity > 0 {
		ag.Capacity = *capacity
	}
	events = append(events, k.autoAssign(app, now)...)
	return *ag, events, nil
}

// Agents lists an app's agents in ID order.
func (k *KF) Agents(app string, now time.Time) []Agent {
	k.mu.Lock()
	defer k.mu.Unlock()
	a := k.app(app)
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
	ag := k.app(app).agent(account)
	if ag == nil {
		return Agent{}, false
	}
	return agentView(ag, now), true
}

func agentView(ag *Agent, now time.Time) Agent {
	v := *ag
	if v.InviteStatus == "waiting" && !now.Before(v.InviteExpires) {
		v.InviteStatus = "expired"
	}
	return v
}

// Transfer is a transfer_customer_service reply to a user message (protocol §3.2, §5.4).
func (k *KF) Transfer(app, openid, account string, now time.Time) []KFEvent {
	k.mu.Lock()
	defer k.mu.Unlock()
	events := k.expire(now)
	a := k.app(app)
	if _, in := a.sessions[openid]; in {
		return events
	}
	if w, waiting := a.waiting[openid]; waiting {
		w.Latest = now
		return events
	}
	cause := ""
	if account != "" && a.agent(account) == nil {
		// Deviation: a transfer to an account that does not exist is not documented (protocol
		// §10.21); wxemu queues the user as a plain transfer.
		cause = "kf account " + account + " does not exist: a plain transfer"
		account = ""
	}
	a.waiting[openid] = &Waiting{App: app, OpenID: openid, Since: now, Latest: now, Account: account}
	if account == "" {
		events = append(events, KFEvent{Kind: "queued", App: app, OpenID: openid, Cause: cause, At: now})
	} else {
		events = append(events, KFEvent{Kind: "assigned", App: app, OpenID: openid, Account: account, Cause: "TransInfo names it", At: now})
	}
	return append(events, k.autoAssign(app, now)...)
}

// autoAssign lets online, auto-accepting agents with room take waiting users: first those
// assigned to them, then the queue, earliest first. The caller holds the lock.
func (k *KF) autoAssign(app string, now time.Time) []KFEvent {
	a := k.app(app)
	var events []KFEvent
	for _, w := range waitingInOrder(a) {
		var ag *Agent
		if w.Account != "" {
			if x := a.agent(w.Account); x != nil && x.Online && x.AutoAccept && x.WeChat != "" && x.Accepted < x.Capacity {
				ag = x
			}
		} else {
			for _, x := range a.agents {
				if x.Online && x.AutoAccept && x.WeChat != "" && x.Accepted < x.Capacity && (ag == nil || x.Accepted < ag.Accepted) {
					ag = x
				}
			}
		}
		if ag != nil {
			events = append(events, k.start(a, app, w.OpenID, ag, now, "auto-accept"))
		}
	}
	return events
}

func waitingInOrder(a *kfApp) []*Waiting {
	ws := make([]*Waiting, 0, len(a.waiting))
	for _, w := range a.waiting {
		ws = append(ws, w)
	}
	sort.Slice(ws, func(i, j int) bool {
		if !ws[i].Since.Equal(ws[j].Since) {
			return ws[i].Since.Before(ws[j].Since)
		}
		return ws[i].OpenID < ws[j].OpenID
	})
	return ws
}

// start opens a session of ag with the user. The caller holds the lock.
func (k *KF) start(a *kfApp, app, openid string, ag *Agent, now time.Time, cause string) KFEvent {
	delete(a.waiting, openid)
	a.sessions[openid] = &Session{App: app, OpenID: openid, Account: ag.Account, Created: now, LastActivity: now}
	ag.Accepted++
	return KFEvent{Kind: "accepted", App: app, OpenID: openid, Account: ag.Account, Cause: cause, At: now}
}

// usable checks that an agent can take a session.
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

// Accept is an agent taking a waiting user.
func (k *KF) Accept(app, account, openid string, now time.Time) ([]KFEvent, error) {
	return k.open(app, account, openid, now, "accepted by the agent", func(a *kfApp) error {
		w, waiting := a.waiting[openid]
		if !waiting {
			return fmt.Errorf("%w: %s", ErrKfNotWaiting, openid)
		}
		if w.Account != "" && w.Account != account {
			return fmt.Errorf("%w: %s is assigned to %s", ErrKfServedByAnother, openid, w.Account)
		}
		return nil
	})
}

// Create is /customservice/kfsession/create: a session whether or not the user waits.
func (k *KF) Create(app, account, openid string, now time.Time) ([]KFEvent, error) {
	return k.open(app, account, openid, now, "kfsession/create", nil)
}

// open starts a session of account with the user, after the checks both ways of starting one
// share (the agent can serve; no other agent serves the user) and the caller's own. A session
// that already exists with the same agent is success with no event.
func (k *KF) open(app, account, openid string, now time.Time, cause string, check func(*kfApp) error) ([]KFEvent, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	events := k.expire(now)
	a := k.app(app)
	ag, err := usable(a, account)
	if err != nil {
		return events, err
	}
	if s, in := a.sessions[openid]; in {
		if s.Account == account {
			return events, nil
		}
		return events, fmt.Errorf("%w: %s serves %s", ErrKfServedByAnother, s.Account, openid)
	}
	if check != nil {
		if err := check(a); err != nil {
			return events, err
		}
	}
	return append(events, k.start(a, app, openid, ag, now, cause)), nil
}

// Close ends a session (the agent, or /customservice/kfsession/close).
func (k *KF) Close(app, account, openid string, now time.Time) ([]KFEvent, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	events := k.expire(now)
	a := k.app(app)
	s, in := a.sessions[openid]
	if !in || s.Account != account {
		return events, fmt.Errorf("%w: %s has no session with %s", ErrKfNoSession, openid, account)
	}
	k.end(a, openid)
	events = append(events, KFEvent{Kind: "closed", App: app, OpenID: openid, Account: account, Cause: "closed by the agent", At: now})
	return append(events, k.autoAssign(app, now)...), nil
}

// end removes a session and frees its agent. The caller holds the lock.
func (k *KF) end(a *kfApp, openid string) {
	s := a.sessions[openid]
	delete(a.sessions, openid)
	if ag := a.agent(s.Account); ag != nil && ag.Accepted > 0 {
		ag.Accepted--
	}
}

// Switch hands a session from one agent to another.
func (k *KF) Switch(app, fromAccount, toAccount, openid string, now time.Time) ([]KFEvent, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	events := k.expire(now)
	a := k.app(app)
	s, in := a.sessions[openid]
	if !in || s.Account != fromAccount {
		return events, fmt.Errorf("%w: %s has no session with %s", ErrKfNoSession, openid, fromAccount)
	}
	to, err := usable(a, toAccount)
	if err != nil {
		return events, err
	}
	if from := a.agent(fromAccount); from != nil && from.Accepted > 0 {
		from.Accepted--
	}
	to.Accepted++
	s.Account, s.LastActivity = toAccount, now
	events = append(events, KFEvent{Kind: "switched", App: app, OpenID: openid, Account: toAccount, FromAccount: fromAccount, ToAccount: toAccount, Cause: "switched by the agent", At: now})
	return append(events, k.autoAssign(app, now)...), nil
}

// Touch records activity in a user's session, for the activity anchor.
func (k *KF) Touch(app, openid string, now time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if s, in := k.app(app).sessions[openid]; in && now.After(s.LastActivity) {
		s.LastActivity = now
	}
}

// Route says whether a user's message goes to an agent, after ending overdue sessions.
func (k *KF) Route(app, openid string, now time.Time) (Session, bool, []KFEvent) {
	k.mu.Lock()
	defer k.mu.Unlock()
	events := k.expire(now)
	s, in := k.app(app).sessions[openid]
	if !in {
		return Session{}, false, events
	}
	return *s, true, events
}

// Expire ends every session past its time, in every app.
func (k *KF) Expire(now time.Time) []KFEvent {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.expire(now)
}

// deadline is when a session ends if no one closes it.
func (k *KF) deadline(s *Session) time.Time {
	if k.cfg.Anchor == "activity" {
		return s.LastActivity.Add(k.cfg.SessionTimeout)
	}
	return s.Created.Add(k.cfg.SessionTimeout)
}

// expire ends overdue sessions, in time order. The caller holds the lock.
func (k *KF) expire(now time.Time) []KFEvent {
	var events []KFEvent
	for _, app := range sortedKeys(k.apps) {
		a := k.apps[app]
		for _, openid := range sortedKeys(a.sessions) {
			s := a.sessions[openid]
			if d := k.deadline(s); !now.Before(d) {
				k.end(a, openid)
				events = append(events, KFEvent{Kind: "expired", App: app, OpenID: openid, Account: s.Account,
					Cause: fmt.Sprintf("%s without a close", k.cfg.SessionTimeout), At: d})
			}
		}
		if len(events) > 0 {
			events = append(events, k.autoAssign(app, now)...)
		}
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].At.Before(events[j].At) })
	return events
}

// Session returns a user's session.
func (k *KF) Session(app, openid string, now time.Time) (Session, bool) {
	s, in, _ := k.Route(app, openid, now)
	return s, in
}

// Sessions lists an agent's sessions, oldest first.
func (k *KF) Sessions(app, account string, now time.Time) []Session {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.expire(now)
	var out []Session
	for _, s := range k.app(app).sessions {
		if s.Account == account {
			out = append(out, *s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out
}

// WaitCase is /customservice/kfsession/getwaitcase: the count, and at most 100, earliest first.
func (k *KF) WaitCase(app string, now time.Time) (int, []Waiting) {
	k.mu.Lock()
	defer k.mu.Unlock()
	ws := waitingInOrder(k.app(app))
	out := make([]Waiting, 0, min(len(ws), 100))
	for i, w := range ws {
		if i == 100 {
			break
		}
		out = append(out, *w)
	}
	return len(ws), out
}

// WaitingFor returns a user's place in the queue.
func (k *KF) WaitingFor(app, openid string) (Waiting, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	w, ok := k.app(app).waiting[openid]
	if !ok {
		return Waiting{}, false
	}
	return *w, true
}

// Record adds a line to the message records.
func (k *KF) Record(app string, r Record) {
	k.mu.Lock()
	defer k.mu.Unlock()
	a := k.app(app)
	a.records = append(a.records, r)
	if len(a.records) > 2*maxRecords {
		a.records = append([]Record(nil), a.records[len(a.records)-maxRecords:]...)
	}
}

// RecordsOf lists the records of one agent, oldest first.
func (k *KF) RecordsOf(app, account string) []Record {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []Record
	for _, r := range k.app(app).records {
		if r.Worker == account {
			out = append(out, r)
		}
	}
	return out
}

// Records is /customservice/msgrecord/getmsglist (protocol §5.3): msgid is the 1-based position
// in the records of [start, end]; next is the msgid to ask for the following page.
func (k *KF) Records(app string, start, end time.Time, msgid int64, number int) ([]Record, int64, error) {
	switch {
	case end.Sub(start) > 24*time.Hour:
		return nil, 0, fmt.Errorf("%w: %s from starttime to endtime", ErrKfRangeTooLong, end.Sub(start))
	case msgid < 1 || number < 1 || number > 10000 || end.Before(start):
		return nil, 0, fmt.Errorf("%w: msgid starts at 1, number is 1 to 10000, endtime is not before starttime", ErrKfParamInvalid)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	var in []Record
	for _, r := range k.app(app).records {
		if !r.Time.Before(start) && !r.Time.After(end) {
			in = append(in, r)
		}
	}
	from := int(msgid - 1)
	if from >= len(in) {
		return nil, msgid, nil
	}
	to := min(from+number, len(in))
	return append([]Record(nil), in[from:to]...), int64(to + 1), nil
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
	Waiting  []Waiting `json:"waiting"`
	Sessions []Session `json:"sessions"`
	Records  []Record  `json:"records"`
}

// Snapshot exports all kf state.
func (k *KF) Snapshot() KFSnapshot {
	k.mu.Lock()
	defer k.mu.Unlock()
	snap := KFSnapshot{Apps: []KFAppSnapshot{}}
	for _, app := range sortedKeys(k.apps) {
		a := k.apps[app]
		s := KFAppSnapshot{App: app, NextID: a.nextID, Agents: []Agent{}, Waiting: []Waiting{}, Sessions: []Session{}, Records: append([]Record{}, a.records...)}
		for _, ag := range a.agents {
			s.Agents = append(s.Agents, *ag)
		}
		for _, w := range waitingInOrder(a) {
			s.Waiting = append(s.Waiting, *w)
		}
		for _, openid := range sortedKeys(a.sessions) {
			s.Sessions = append(s.Sessions, *a.sessions[openid])
		}
		snap.Apps = append(snap.Apps, s)
	}
	return snap
}

// Restore replaces all kf state with an export.
func (k *KF) Restore(s KFSnapshot) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.apps = map[string]*kfApp{}
	for _, as := range s.Apps {
		a := k.app(as.App)
		a.nextID = max(as.NextID, 1001)
		for _, ag := range as.Agents {
			x := ag
			a.agents = append(a.agents, &x)
		}
		for _, w := range as.Waiting {
			x := w
			a.waiting[w.OpenID] = &x
		}
		for _, ss := range as.Sessions {
			x := ss
			a.sessions[ss.OpenID] = &x
		}
		a.records = append([]Record(nil), as.Records...)
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
