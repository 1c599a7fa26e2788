package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"
)

// Window and quota errors of the customer-service send API (protocol §6).
var (
	// ErrNoWindow maps to 45015 "response out of time limit or subscription is canceled": the
	// user has no open window (never interacted, the window passed, or the user unfollowed).
	ErrNoWindow = errors.New("ledger: no open window for the user")
	// ErrQuotaUsed maps to 45047 "out of response count limit": a window is open but every
	// message it allows has been sent.
	ErrQuotaUsed = errors.New("ledger: window quota used up")
)

// Trigger is a user action that opens a window for customer-service messages (protocol §6).
type Trigger string

// The triggers WeChat knows. Tapping a msgmenu option counts as TriggerClick, not as a message.
const (
	TriggerMessage     Trigger = "message"     // the user sends a message (OA and MP)
	TriggerClick       Trigger = "click"       // a click menu, scancode_push/waitmsg, or a msgmenu option (OA)
	TriggerSubscribe   Trigger = "subscribe"   // the user follows (OA)
	TriggerScan        Trigger = "scan"        // the user scans a parametric QR code (OA)
	TriggerPayment     Trigger = "payment"     // a WeChat Pay payment succeeds (OA service accounts)
	TriggerTempSession Trigger = "tempsession" // the user enters the kf chat of a Mini Program (MP)
)

// triggers is the fixed order in which grants store their trigger as a one-byte index, which
// keeps a grant at 32 bytes. It is never modified.
var triggers = [...]Trigger{TriggerMessage, TriggerClick, TriggerSubscribe, TriggerScan, TriggerPayment, TriggerTempSession}

func triggerIndex(t Trigger) (uint8, bool) {
	for i, x := range triggers {
		if x == t {
			return uint8(i), true
		}
	}
	return 0, false
}

// Unlimited is the Max of a Limit without a count limit, and the Remaining of its grants.
const Unlimited = -1

// Limit is what one trigger allows: Max messages (Unlimited for no count limit) within Window
// of the trigger. In JSON the window is a Go duration string such as "48h0m0s", so that rule
// sets written by hand stay readable.
type Limit struct {
	Max    int
	Window time.Duration
}

type limitJSON struct {
	Max    int    `json:"max"`
	Window string `json:"window"`
}

// MarshalJSON writes the window as a duration string.
func (l Limit) MarshalJSON() ([]byte, error) {
	return json.Marshal(limitJSON{Max: l.Max, Window: l.Window.String()})
}

// UnmarshalJSON reads the window as a duration string.
func (l *Limit) UnmarshalJSON(b []byte) error {
	var x limitJSON
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	d, err := time.ParseDuration(x.Window)
	if err != nil {
		return fmt.Errorf("read limit window: %w", err)
	}
	*l = Limit{Max: x.Max, Window: d}
	return nil
}

// RuleSet is one generation of WeChat's window rules. Official Accounts and Mini Programs are
// limited separately because the same trigger differs between them: a user message allowed 20
// sends to an OA under the 2021 rules but 5 to an MP.
type RuleSet struct {
	Name string `json:"name"`
	// Limits are the Official Account triggers.
	Limits map[Trigger]Limit `json:"limits"`
	// MiniProgram are the Mini Program triggers.
	MiniProgram map[Trigger]Limit `json:"mini_program"`
}

// DefaultRuleSet is the name of the rules in force since 2023-06-12.
const DefaultRuleSet = "2023-06-12"

// RuleSetByName returns a fresh copy of the named rules: "2023-06-12" (the default) or
// "2021-06-01" (in force until 2023-06-11). Both carry the same Mini Program rules, message
// 5/48 h and tempsession 2/1 min, since the 2023 change concerned Official Accounts only.
func RuleSetByName(name string) (RuleSet, bool) {
	mp := map[Trigger]Limit{
		TriggerMessage:     {Max: 5, Window: 48 * time.Hour},
		TriggerTempSession: {Max: 2, Window: time.Minute},
	}
	switch name {
	case "2023-06-12":
		return RuleSet{Name: name, MiniProgram: mp, Limits: map[Trigger]Limit{
			TriggerMessage:   {Max: 5, Window: 48 * time.Hour},
			TriggerClick:     {Max: 3, Window: time.Minute},
			TriggerSubscribe: {Max: 3, Window: time.Minute},
			TriggerScan:      {Max: 3, Window: time.Minute},
			TriggerPayment:   {Max: Unlimited, Window: 48 * time.Hour},
		}}, true
	case "2021-06-01":
		return RuleSet{Name: name, MiniProgram: mp, Limits: map[Trigger]Limit{
			TriggerMessage:   {Max: 20, Window: 48 * time.Hour},
			TriggerClick:     {Max: 3, Window: time.Minute},
			TriggerSubscribe: {Max: 3, Window: time.Minute},
			TriggerScan:      {Max: 3, Window: time.Minute},
			TriggerPayment:   {Max: 20, Window: 48 * time.Hour},
		}}, true
	}
	return RuleSet{}, false
}

// RuleSetNames lists the rule sets RuleSetByName knows, newest first.
func RuleSetNames() []string { return []string{"2023-06-12", "2021-06-01"} }

// Limit returns the limit of trigger t for an app of kind "oa" or "mp"; ok is false when t
// opens no window for that kind of app.
func (rs RuleSet) Limit(kind string, t Trigger) (l Limit, ok bool) {
	if kind == kindMP {
		l, ok = rs.MiniProgram[t]
	} else {
		l, ok = rs.Limits[t]
	}
	return l, ok
}

func (rs RuleSet) clone() RuleSet {
	c := RuleSet{Name: rs.Name, Limits: make(map[Trigger]Limit, len(rs.Limits)), MiniProgram: make(map[Trigger]Limit, len(rs.MiniProgram))}
	for t, l := range rs.Limits {
		c.Limits[t] = l
	}
	for t, l := range rs.MiniProgram {
		c.MiniProgram[t] = l
	}
	return c
}

// The kinds of app, as the configuration and the wire package spell them.
const (
	kindOA = "oa"
	kindMP = "mp"
)

// Combine says how overlapping triggers of one user combine. Which one WeChat does is not
// known (protocol §6.1, §10 item 9), so it is configuration; CombineReset is the default
// because it is what the rule text says.
type Combine string

const (
	// CombineReset is the literal reading of the rule text: a user has one grant, and each
	// trigger resets its count to that trigger's maximum and extends its expiry to the longer
	// of the current expiry and the trigger's window.
	CombineReset Combine = "reset"
	// CombineIndependent keeps one grant per trigger kind; a send takes from the grant that
	// runs out first.
	CombineIndependent Combine = "independent"
)

// ParseCombine reads a Combine; the empty string is CombineReset.
func ParseCombine(s string) (Combine, bool) {
	switch Combine(s) {
	case "", CombineReset:
		return CombineReset, true
	case CombineIndependent:
		return CombineIndependent, true
	}
	return "", false
}

// Grant is an open window: what a trigger allows to be sent to a user and until when. A grant
// is live while now is before Expires; at Expires exactly it is gone.
type Grant struct {
	Trigger   Trigger   `json:"trigger"`
	Max       int       `json:"max"`       // Unlimited (-1) for no count limit
	Remaining int       `json:"remaining"` // Unlimited (-1) for no count limit
	Opened    time.Time `json:"opened"`    // the trigger that last reset the grant
	Expires   time.Time `json:"expires"`
}

// UserGrants is one user's grants in an export.
type UserGrants struct {
	App    string  `json:"app"`
	OpenID string  `json:"openid"`
	Grants []Grant `json:"grants"`
}

// grant is the stored form of a Grant: 32 bytes, times as unix nanoseconds so that a million
// users cost no location pointers (which limits times to the years 1678 to 2262).
type grant struct {
	opened    int64
	expires   int64
	max       int32
	remaining int32
	trigger   uint8
}

func (g grant) live(now int64) bool { return now < g.expires }

func (g grant) export() Grant {
	return Grant{
		Trigger:   triggers[g.trigger],
		Max:       int(g.max),
		Remaining: int(g.remaining),
		Opened:    time.Unix(0, g.opened).UTC(),
		Expires:   time.Unix(0, g.expires).UTC(),
	}
}

const ledgerShards = 64

// Ledger keeps the windows and send quotas of every user of every app (protocol §6). Users are
// spread over shards by a hash of (app, openid), so concurrent sends to different users rarely
// wait for each other. Expired grants are dropped as they are met and by a sweep of a shard
// whenever it has doubled in size since its last sweep, so memory follows the live users.
type Ledger struct {
	rules   RuleSet // never modified after NewLedger
	combine Combine
	oa, mp  [len(triggers)]limit // rules by trigger index, for lookups without map access

	kindsMu sync.RWMutex      // guards kinds
	kinds   map[string]string // "oa" or "mp" by appid, as told by SetAppKind

	shards [ledgerShards]shard
}

type limit struct {
	ok     bool
	max    int32
	window int64
}

type shard struct {
	mu      sync.Mutex         // guards one, many and sweepAt
	one     map[string]*grant  // CombineReset: the single grant of each user, updated in place
	many    map[string][]grant // CombineIndependent: one grant per trigger kind
	sweepAt int                // sweep expired grants when the shard reaches this many users
	_       [64]byte           // keeps neighbouring shards' locks off one cache line
}

const minSweep = 1024

// NewLedger returns an empty ledger enforcing rs. An unknown Combine is CombineReset. Triggers
// in rs other than the six WeChat knows are ignored, as are limits without a positive window;
// a Max beyond what int32 holds is cut to it, as no test sends that many.
func NewLedger(rs RuleSet, c Combine) *Ledger {
	if c != CombineIndependent {
		c = CombineReset
	}
	l := &Ledger{rules: rs.clone(), combine: c, kinds: map[string]string{}}
	fill := func(dst *[len(triggers)]limit, src map[Trigger]Limit) {
		for t, x := range src {
			i, ok := triggerIndex(t)
			if !ok || x.Window <= 0 {
				continue
			}
			dst[i] = limit{ok: true, max: clamp32(x.Max), window: int64(x.Window)}
		}
	}
	fill(&l.oa, rs.Limits)
	fill(&l.mp, rs.MiniProgram)
	l.Reset()
	return l
}

// Rules returns a copy of the rules the ledger enforces.
func (l *Ledger) Rules() RuleSet { return l.rules.clone() }

// Combine returns how the ledger combines overlapping triggers.
func (l *Ledger) Combine() Combine { return l.combine }

// SetAppKind tells the ledger whether app is an Official Account ("oa") or a Mini Program
// ("mp"), which selects the rules its triggers follow. It is configuration, so Reset keeps it.
//
// An app the ledger has not been told about follows the OA rules, and the MP rules for
// triggers only Mini Programs have (tempsession): a forgotten SetAppKind then still opens the
// windows the app's own events call for, and differs only in the 2021 message quota (OA 20,
// MP 5).
func (l *Ledger) SetAppKind(app, kind string) {
	l.kindsMu.Lock()
	defer l.kindsMu.Unlock()
	if kind != kindMP {
		kind = kindOA
	}
	l.kinds[app] = kind
}

func (l *Ledger) limitFor(app string, t Trigger) (uint8, limit) {
	i, ok := triggerIndex(t)
	if !ok {
		return 0, limit{}
	}
	l.kindsMu.RLock()
	kind := l.kinds[app]
	l.kindsMu.RUnlock()
	switch {
	case kind == kindMP:
		return i, l.mp[i]
	case kind == kindOA || l.oa[i].ok:
		return i, l.oa[i]
	}
	return i, l.mp[i]
}

// Trigger records that the user did t at now and opens or refreshes their window accordingly.
// An action that is no trigger for the app's kind (a click in a Mini Program, a tempsession in
// an Official Account, an unknown trigger) opens nothing, as WeChat ignores such events.
func (l *Ledger) Trigger(app, openid string, t Trigger, now time.Time) {
	i, lim := l.limitFor(app, t)
	if !lim.ok {
		return
	}
	n := now.UnixNano()
	fresh := grant{opened: n, expires: n + lim.window, max: lim.max, remaining: lim.max, trigger: i}

	var buf [96]byte
	k := appendKey(buf[:0], app, openid)
	s := l.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.combine == CombineReset {
		g, ok := s.one[string(k)]
		if !ok {
			g = new(grant)
			s.one[string(k)] = g
		} else if g.live(n) {
			// The rule text: the count becomes the new trigger's maximum and the validity
			// the longer one; an expired grant has nothing to extend, so it is replaced.
			fresh.expires = max(g.expires, fresh.expires)
		}
		*g = fresh
		if !ok {
			s.grew(len(s.one), n, l.combine)
		}
		return
	}
	gs, ok := s.many[string(k)]
	for j := range gs {
		if gs[j].trigger == i {
			gs[j] = fresh
			return
		}
	}
	// Drop expired grants while the slice is at hand, so a user never holds more than one
	// grant per trigger kind plus nothing dead.
	live := gs[:0]
	for _, g := range gs {
		if g.live(n) {
			live = append(live, g)
		}
	}
	s.many[string(k)] = append(live, fresh)
	if !ok {
		s.grew(len(s.many), n, l.combine)
	}
}

// Consume takes one message from the user's quota for a send at now and returns the grant it
// was taken from, as it is afterwards. With independent grants it takes from the usable grant
// that expires first, and from an unlimited one only when no counted one is left, so that no
// count goes to waste. It fails with ErrNoWindow when no grant is live and with ErrQuotaUsed
// when grants are live but used up.
func (l *Ledger) Consume(app, openid string, now time.Time) (Grant, error) {
	n := now.UnixNano()
	var buf [96]byte
	k := appendKey(buf[:0], app, openid)
	s := l.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.combine == CombineReset {
		g, ok := s.one[string(k)]
		if !ok || !g.live(n) {
			if ok {
				delete(s.one, string(k))
			}
			return Grant{}, ErrNoWindow
		}
		if g.remaining == 0 {
			return Grant{}, ErrQuotaUsed
		}
		if g.remaining > 0 {
			g.remaining--
		}
		return g.export(), nil
	}
	gs := s.many[string(k)]
	pick, anyLive := -1, false
	for j, g := range gs {
		if !g.live(n) {
			continue
		}
		anyLive = true
		if g.remaining == 0 {
			continue
		}
		if pick < 0 || before(g, gs[pick]) {
			pick = j
		}
	}
	switch {
	case !anyLive:
		if gs != nil {
			delete(s.many, string(k))
		}
		return Grant{}, ErrNoWindow
	case pick < 0:
		return Grant{}, ErrQuotaUsed
	}
	if gs[pick].remaining > 0 {
		gs[pick].remaining--
	}
	return gs[pick].export(), nil
}

// before orders usable grants for Consume: counted before unlimited, then by expiry, then by
// trigger, so the choice never depends on the order grants were stored in.
func before(a, b grant) bool {
	if (a.remaining < 0) != (b.remaining < 0) {
		return a.remaining > 0
	}
	if a.expires != b.expires {
		return a.expires < b.expires
	}
	return a.trigger < b.trigger
}

// Grants returns copies of the user's live grants at now, the one expiring first first.
func (l *Ledger) Grants(app, openid string, now time.Time) []Grant {
	n := now.UnixNano()
	var buf [96]byte
	k := appendKey(buf[:0], app, openid)
	s := l.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Grant
	if l.combine == CombineReset {
		if g, ok := s.one[string(k)]; ok && g.live(n) {
			out = append(out, g.export())
		}
		return out
	}
	gs := append([]grant(nil), s.many[string(k)]...)
	sort.Slice(gs, func(i, j int) bool {
		if gs[i].expires != gs[j].expires {
			return gs[i].expires < gs[j].expires
		}
		return gs[i].trigger < gs[j].trigger
	})
	for _, g := range gs {
		if g.live(n) {
			out = append(out, g.export())
		}
	}
	return out
}

// Forget drops the user's grants, as an unfollow does.
func (l *Ledger) Forget(app, openid string) {
	var buf [96]byte
	k := appendKey(buf[:0], app, openid)
	s := l.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.one, string(k))
	delete(s.many, string(k))
}

// Reset drops every grant. Which apps are Mini Programs is kept.
func (l *Ledger) Reset() {
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		if l.combine == CombineReset {
			s.one, s.many = map[string]*grant{}, nil
		} else {
			s.one, s.many = nil, map[string][]grant{}
		}
		s.sweepAt = minSweep
		s.mu.Unlock()
	}
}

// Snapshot exports every stored grant, sorted by app and openid. Expired grants not yet
// dropped may be among them; they stay harmless after Restore.
func (l *Ledger) Snapshot() []UserGrants {
	out := []UserGrants{}
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		for k, g := range s.one {
			out = append(out, userGrants(k, []grant{*g}))
		}
		for k, gs := range s.many {
			out = append(out, userGrants(k, gs))
		}
		s.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].App != out[j].App {
			return out[i].App < out[j].App
		}
		return out[i].OpenID < out[j].OpenID
	})
	return out
}

func userGrants(k string, gs []grant) UserGrants {
	app, openid, _ := strings.Cut(k, keySep)
	u := UserGrants{App: app, OpenID: openid, Grants: make([]Grant, len(gs))}
	for i, g := range gs {
		u.Grants[i] = g.export()
	}
	return u
}

// Restore replaces every grant with an export. Grants of triggers WeChat does not know are
// dropped. Under CombineReset only a user's latest-expiring grant is kept, since that mode
// holds one grant per user; under CombineIndependent only the last grant of each trigger kind.
func (l *Ledger) Restore(us []UserGrants) {
	l.Reset()
	for _, u := range us {
		k := string(appendKey(nil, u.App, u.OpenID))
		s := l.shard([]byte(k))
		s.mu.Lock()
		for _, x := range u.Grants {
			i, ok := triggerIndex(x.Trigger)
			if !ok {
				continue
			}
			g := grant{
				opened: x.Opened.UnixNano(), expires: x.Expires.UnixNano(),
				max: clamp32(x.Max), remaining: clamp32(x.Remaining), trigger: i,
			}
			if l.combine == CombineReset {
				if old, ok := s.one[k]; !ok || g.expires >= old.expires {
					s.one[k] = &g
				}
				continue
			}
			gs := s.many[k]
			replaced := false
			for j := range gs {
				if gs[j].trigger == i {
					gs[j], replaced = g, true
				}
			}
			if !replaced {
				s.many[k] = append(gs, g)
			}
		}
		s.mu.Unlock()
	}
}

func clamp32(n int) int32 {
	switch {
	case n < 0:
		return Unlimited
	case n > math.MaxInt32:
		return math.MaxInt32
	}
	return int32(n)
}

// grew is called with the shard locked after a user was added; it sweeps the shard once it has
// doubled since the last sweep, which keeps the cost of sweeping constant per added user.
func (s *shard) grew(size int, now int64, c Combine) {
	if size < s.sweepAt {
		return
	}
	if c == CombineReset {
		for k, g := range s.one {
			if !g.live(now) {
				delete(s.one, k)
			}
		}
		size = len(s.one)
	} else {
		for k, gs := range s.many {
			if !anyLive(gs, now) {
				delete(s.many, k)
			}
		}
		size = len(s.many)
	}
	s.sweepAt = max(2*size, minSweep)
}

func anyLive(gs []grant, now int64) bool {
	for _, g := range gs {
		if g.live(now) {
			return true
		}
	}
	return false
}

// keySep cannot occur in an appid, so the key splits back into app and openid unambiguously.
const keySep = "\x00"

// appendKey builds the map key of a user into buf; lookups convert it with string(k) in the
// index expression, which Go does without allocating, so only a new user costs an allocation.
func appendKey(buf []byte, app, openid string) []byte {
	buf = append(buf, app...)
	buf = append(buf, keySep...)
	return append(buf, openid...)
}

func (l *Ledger) shard(k []byte) *shard {
	// FNV-1a: cheap, allocation-free and good enough to spread openids over 64 shards.
	h := uint32(2166136261)
	for _, c := range k {
		h ^= uint32(c)
		h *= 16777619
	}
	return &l.shards[h%ledgerShards]
}
