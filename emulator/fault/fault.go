// Package fault holds the fault rules of an emulated WeChat: what makes its API answer the way
// WeChat does when things go wrong (-1 system error, 45009, 45011, a revoked token, 48001, a
// forced 45015 or 45047, added latency, an HTTP 5xx, a dropped connection), and what makes its
// pushes misbehave the way WeChat's do (a message delivered twice, deliveries out of order).
//
// A Rule matches calls by path or API family, app and user (pushes by app, user and msgtype),
// and fires a number of times or with a probability drawn from its own seeded source, so that a
// run is reproducible for the same sequence of matching calls. A Set holds the rules of one
// platform, which owns it; the platform decides where each action acts.
package fault

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wxemu/wxemu/emulator/wire"
)

// Families name groups of WeChat API paths, for rules that match a whole family.
const (
	FamilyToken      = "token"
	FamilyCustomSend = "custom_send"
	FamilyTyping     = "typing"
	FamilyMedia      = "media"
	FamilyKF         = "kf"
)

// families maps each family to its paths, in the routing table's order. The API server's spec
// checks that every WeChat route has exactly one family and no family names an unknown path.
var families = []struct {
	name  string
	paths []string
}{
	{FamilyToken, []string{"/cgi-bin/token", "/cgi-bin/stable_token"}},
	{FamilyCustomSend, []string{"/cgi-bin/message/custom/send"}},
	{FamilyTyping, []string{"/cgi-bin/message/custom/typing", "/cgi-bin/message/custom/business/typing"}},
	{FamilyMedia, []string{"/cgi-bin/media/upload", "/cgi-bin/media/get"}},
	{FamilyKF, []string{
		"/customservice/kfaccount/add", "/customservice/kfaccount/update", "/customservice/kfaccount/del",
		"/customservice/kfaccount/inviteworker", "/customservice/kfaccount/uploadheadimg",
		"/cgi-bin/customservice/getkflist", "/cgi-bin/customservice/getonlinekflist",
		"/customservice/kfsession/create", "/customservice/kfsession/close", "/customservice/kfsession/getsession",
		"/customservice/kfsession/getsessionlist", "/customservice/kfsession/getwaitcase",
		"/customservice/msgrecord/getmsglist",
	}},
}

// Families lists the family names.
func Families() []string {
	out := make([]string, len(families))
	for i, f := range families {
		out[i] = f.name
	}
	return out
}

// Paths lists every WeChat API path a rule may name, in the routing table's order.
func Paths() []string {
	var out []string
	for _, f := range families {
		out = append(out, f.paths...)
	}
	return out
}

// FamilyOf is the family of an API path, "" for a path wxemu does not serve.
func FamilyOf(path string) string {
	for _, f := range families {
		if slices.Contains(f.paths, path) {
			return f.name
		}
	}
	return ""
}

// Push faults: what WeChat's side of a push does wrong.
const (
	// PushDuplicate delivers the message a second time after the bot answered it: the same body,
	// the same MsgId and CreateTime, as the cloud-hosting docs warn can happen (protocol §2, §8.5).
	PushDuplicate = "duplicate"
	// PushReorder holds the message back and delivers it after the user's next one.
	PushReorder = "reorder"
)

// Bounds of a rule and of a set.
const (
	// MaxLatency bounds the latency a rule adds: under the emulator's 2-minute write timeout,
	// and short enough that a drain of `wxemu serve` is not held for long.
	MaxLatency = 60 * time.Second
	// MaxRules bounds how many rules a set holds, so that a loop posting rules cannot grow the
	// emulator without end.
	MaxRules = 1000
	// maxID bounds a rule's id.
	maxID = 64
)

// Duration is a time.Duration written as Go prints one ("250ms", "2s") in JSON.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON writes d as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a Go duration string ("250ms"); a bare number is refused, since it could
// mean seconds or milliseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("latency: want a Go duration string like \"250ms\" or \"2s\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("latency: %q is not a duration; write e.g. \"250ms\" or \"2s\"", s)
	}
	*d = Duration(v)
	return nil
}

// Rule is one fault: what it matches, what it does, and how often it fires. Exactly one action
// is set — Errcode, Status, Drop or Push — except that Latency may come alone or before
// Errcode, Status or Drop.
type Rule struct {
	// ID names the rule in the journal, in GET /_emu/v1/faults and for DELETE; given or
	// assigned ("f1", "f2" …).
	ID string `json:"id,omitempty"`

	// Match. An API rule names Path or Family (not both); a push rule names neither. App is an
	// alias or appid (stored as the appid), User an openid; empty matches any.
	Path    string `json:"path,omitempty"`
	Family  string `json:"family,omitempty"`
	App     string `json:"app,omitempty"`
	User    string `json:"user,omitempty"`
	MsgType string `json:"msgtype,omitempty"` // push rules: text, image, event …

	// Action.
	// Errcode is WeChat's answer: {"errcode":N,"errmsg":"…"} with the catalog's errmsg, HTTP
	// 200. 40001 revokes every token of the app first (as a reset of the AppSecret does) and
	// 42001 expires them, so that the call and every later use of those tokens answer so, until
	// the bot fetches a new one.
	Errcode *int `json:"errcode,omitempty"`
	// Status is an HTTP 5xx with an empty body (API server only).
	Status int `json:"status,omitempty"`
	// Latency delays the answer, alone or before Errcode, Status or Drop.
	Latency Duration `json:"latency,omitempty"`
	// Drop closes the connection without an answer (API server only).
	Drop bool `json:"drop,omitempty"`
	// Push is a push fault: duplicate or reorder.
	Push string `json:"push,omitempty"`

	// Firing. Count is how many times the rule fires (nil: every time); After skips the first
	// After matching calls; Probability (0..1, nil: 1) is drawn for each matching call past
	// After while the count lasts, from a source seeded with Seed (nil: the set's seed) and the
	// rule's id.
	Count       *int     `json:"count,omitempty"`
	After       int      `json:"after,omitempty"`
	Probability *float64 `json:"probability,omitempty"`
	Seed        *uint64  `json:"seed,omitempty"`

	// Stream, when set, names the rule's random source instead of its id: a scenario's rules
	// get assigned ids that depend on the rules added before them in the run, and would
	// otherwise draw differently when the scenario runs alone or after others. Not in JSON.
	Stream string `json:"-"`
}

// Problem is one thing wrong with a rule: the field (its JSON key), what is wrong and how to
// fix it.
type Problem struct {
	Field string
	Msg   string
	Fix   string
}

func (p Problem) String() string {
	s := p.Msg
	if p.Field != "" {
		s = p.Field + ": " + s
	}
	if p.Fix != "" {
		s += " (" + p.Fix + ")"
	}
	return s
}

// IsPush reports whether the rule is about pushes rather than API calls.
func (r *Rule) IsPush() bool { return r.Push != "" }

// Check lists what is wrong with the rule, leaving the app to the caller, who knows the apps.
// suggest names the closest of a list of valid values, for did-you-mean hints.
func (r *Rule) Check(suggest func(s string, names []string) string) []Problem {
	var ps []Problem
	add := func(field, msg, fix string) { ps = append(ps, Problem{field, msg, fix}) }
	if len(r.ID) > maxID {
		add("id", fmt.Sprintf("%d bytes long; an id is at most %d", len(r.ID), maxID), "use a short name like f1 or send-fails")
	} else if r.ID != "" && !validID(r.ID) {
		add("id", fmt.Sprintf("%q has characters other than letters, digits, - and _", r.ID), "use a short name like f1 or send-fails")
	}
	actions := 0
	for _, set := range []bool{r.Errcode != nil, r.Status != 0, r.Drop, r.Push != ""} {
		if set {
			actions++
		}
	}
	if r.IsPush() {
		if r.Push != PushDuplicate && r.Push != PushReorder {
			add("push", fmt.Sprintf("unknown push fault %q%s", r.Push, suggest(r.Push, []string{PushDuplicate, PushReorder})), "write duplicate or reorder")
		}
		if r.Path != "" || r.Family != "" {
			add("push", "a push rule matches pushes, not API calls", "leave out path and family, or push")
		}
		if actions > 1 || r.Latency != 0 {
			add("push", "a push rule has no other action", "leave out errcode, status, latency and drop, or push")
		}
	} else {
		switch {
		case r.Path != "" && r.Family != "":
			add("family", "a rule names a path or a family, not both", "leave out one of them")
		case r.Path == "" && r.Family == "":
			add("path", "no path, family or push", "name the API, e.g. path: /cgi-bin/message/custom/send or family: custom_send, or write push: duplicate")
		case r.Path != "" && FamilyOf(r.Path) == "":
			add("path", fmt.Sprintf("%q is not an API wxemu serves%s", r.Path, suggest(r.Path, Paths())), "see GET /_emu/v1/routes")
		case r.Family != "" && !slices.Contains(Families(), r.Family):
			add("family", fmt.Sprintf("unknown family %q%s", r.Family, suggest(r.Family, Families())), "the families are "+strings.Join(Families(), ", "))
		}
		if r.MsgType != "" {
			add("msgtype", "only a push rule matches a msgtype", "leave it out, or write push: duplicate")
		}
		if actions == 0 && r.Latency == 0 {
			add("errcode", "the rule does nothing", "give errcode, status, latency or drop")
		}
		if actions > 1 {
			add("errcode", "errcode, status and drop are one action each; give one of them", "write two rules for two faults")
		}
	}
	if r.Errcode != nil {
		code := *r.Errcode
		if _, ok := wire.Errmsg(code); !ok {
			add("errcode", fmt.Sprintf("%d is not in wxemu's errcode catalog; wxemu answers only codes whose errmsg a source confirms", code), "e.g. -1, 45009, 45011, 40001, 42001, 48001, 45015, 45047")
		} else if code == 0 {
			add("errcode", "0 is success, not a fault", "leave errcode out for latency alone")
		} else if (code == wire.CodeInvalidCredential || code == wire.CodeAccessTokenExpired) && (r.Family == FamilyToken || FamilyOf(r.Path) == FamilyToken) {
			add("errcode", fmt.Sprintf("%d is about the access_token a call carries; the token APIs carry none", code), "put it on the APIs that take an access_token")
		}
	}
	if r.Status != 0 && (r.Status < 500 || r.Status > 599) {
		add("status", fmt.Sprintf("%d is not an HTTP 5xx", r.Status), "write 500, 502, 503 or 504; WeChat's refusals are errcodes with HTTP 200 (use errcode)")
	}
	if r.Latency < 0 || r.Latency.D() > MaxLatency {
		add("latency", fmt.Sprintf("%s is outside 0..%s", r.Latency.D(), MaxLatency), "write e.g. 250ms or 2s")
	}
	if r.Count != nil && *r.Count <= 0 {
		add("count", fmt.Sprintf("%d: a rule fires at least once", *r.Count), "leave count out for every matching call")
	}
	if r.After < 0 {
		add("after", fmt.Sprintf("%d is negative", r.After), "write the number of matching calls to let through first")
	}
	if p := r.Probability; p != nil && !(*p >= 0 && *p <= 1) {
		add("probability", fmt.Sprintf("%v is outside 0..1", *p), "write e.g. 0.5 for half of the matching calls")
	}
	return ps
}

func validID(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Action describes what the rule does, for the journal: "errcode -1", "latency 2s, then HTTP 503".
func (r *Rule) Action() string {
	var parts []string
	if r.Latency > 0 {
		parts = append(parts, "latency "+r.Latency.D().String())
	}
	switch {
	case r.Errcode != nil:
		msg, _ := wire.Errmsg(*r.Errcode)
		s := fmt.Sprintf("errcode %d %s", *r.Errcode, msg)
		switch *r.Errcode {
		case wire.CodeInvalidCredential:
			s = "revoked every token of the app: " + s
		case wire.CodeAccessTokenExpired:
			s = "expired every token of the app: " + s
		}
		parts = append(parts, s)
	case r.Status != 0:
		parts = append(parts, "HTTP "+strconv.Itoa(r.Status))
	case r.Drop:
		parts = append(parts, "connection dropped")
	case r.Push == PushDuplicate:
		parts = append(parts, "duplicate delivery")
	case r.Push == PushReorder:
		parts = append(parts, "delivered out of order")
	}
	return strings.Join(parts, ", then ")
}

// Call is what a rule is matched against: an API call (Path) or a push (Push true).
type Call struct {
	Path    string
	AppID   string
	User    string
	HTTP    bool // the call came over the API server: status and drop can act on it
	Push    bool
	MsgType string // of a push: the msgtype, "event" for events
	Holding bool   // a push of a user who has one held already: reorder rules do not match
}

// Status is a rule with what it has done.
type Status struct {
	Rule
	Matched int  `json:"matched"` // matching calls seen
	Fired   int  `json:"fired"`   // times it fired: the hit counter
	Spent   bool `json:"spent"`   // its count is used up
}

type entry struct {
	Rule
	matched, fired int
	rng            *rand.Rand
}

func (e *entry) spent() bool { return e.Count != nil && e.fired >= *e.Count }

// Set is the fault rules of one platform, in the order they were added. It is safe for
// concurrent use.
type Set struct {
	// held is len(rules), read without the lock so that a call meets no lock while no rule
	// is held.
	held atomic.Int32

	mu    sync.Mutex // guards the fields below
	rules []*entry
	next  int    // the number of the next assigned id
	seed  uint64 // the default seed of rules that give none
}

// NewSet returns an empty set whose rules draw from seed unless they give their own.
func NewSet(seed uint64) *Set { return &Set{seed: seed} }

// SetSeed changes the default seed of rules added later.
func (s *Set) SetSeed(seed uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seed = seed
}

// Add adds rules, assigning ids to those without one. The rules must have passed Check. It
// fails, adding none, when an id is taken or the set would hold more than MaxRules.
func (s *Set) Add(rules ...Rule) ([]Rule, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.rules)+len(rules) > MaxRules {
		return nil, fmt.Errorf("add fault rules: %d held and %d more would pass the bound of %d; clear some first", len(s.rules), len(rules), MaxRules)
	}
	taken := map[string]bool{}
	for _, e := range s.rules {
		taken[e.ID] = true
	}
	next := s.next
	out := make([]Rule, len(rules))
	for i, r := range rules {
		if r.ID == "" {
			for {
				next++
				r.ID = "f" + strconv.Itoa(next)
				if !taken[r.ID] {
					break
				}
			}
		} else if taken[r.ID] {
			return nil, fmt.Errorf("add fault rules: a rule with id %q is held already; give another id or delete it first", r.ID)
		}
		taken[r.ID] = true
		out[i] = r
	}
	s.next = next
	for _, r := range out {
		seed := s.seed
		if r.Seed != nil {
			seed = *r.Seed
		}
		h := fnv.New64a()
		if r.Stream != "" {
			h.Write([]byte(r.Stream))
		} else {
			h.Write([]byte(r.ID))
		}
		s.rules = append(s.rules, &entry{Rule: r, rng: rand.New(rand.NewPCG(seed, h.Sum64()))})
	}
	s.held.Store(int32(len(s.rules)))
	return out, nil
}

// Fire finds the first rule that fires on c, counts c against every rule it matches up to that
// one, and returns a copy of the rule that fired, or nil.
func (s *Set) Fire(c Call) *Rule {
	if s.Empty() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.rules {
		if !e.matches(c) {
			continue
		}
		e.matched++
		if e.matched <= e.After || e.spent() {
			continue
		}
		if e.Probability != nil && e.rng.Float64() >= *e.Probability {
			continue
		}
		e.fired++
		r := e.Rule
		return &r
	}
	return nil
}

func (e *entry) matches(c Call) bool {
	if e.IsPush() != c.Push {
		return false
	}
	if e.App != "" && e.App != c.AppID || e.User != "" && e.User != c.User {
		return false
	}
	if c.Push {
		return (e.MsgType == "" || e.MsgType == c.MsgType) && !(c.Holding && e.Push == PushReorder)
	}
	if (e.Status != 0 || e.Drop) && !c.HTTP {
		// Deviation: a 5xx or a dropped connection is about HTTP; a Go caller or a cloud
		// function's cloud.openapi has no connection of the API server to drop.
		return false
	}
	if e.Path != "" {
		return e.Path == c.Path
	}
	return e.Family == FamilyOf(c.Path)
}

// List returns every rule with its counters, in order.
func (s *Set) List() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Status, len(s.rules))
	for i, e := range s.rules {
		out[i] = Status{Rule: e.Rule, Matched: e.matched, Fired: e.fired, Spent: e.spent()}
	}
	return out
}

// Remove deletes the rule with id and reports whether there was one.
func (s *Set) Remove(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, e := range s.rules {
		if e.ID == id {
			s.rules = slices.Delete(s.rules, i, i+1)
			s.held.Store(int32(len(s.rules)))
			return true
		}
	}
	return false
}

// Clear deletes every rule and answers how many there were. Assigned ids go on counting, so a
// journal never names two rules with one id.
func (s *Set) Clear() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.rules)
	s.rules = nil
	s.held.Store(0)
	return n
}

// Empty reports whether the set holds no rule, without taking its lock.
func (s *Set) Empty() bool { return s.held.Load() == 0 }

// IDs lists the ids of the rules held.
func (s *Set) IDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.rules))
	for i, e := range s.rules {
		out[i] = e.ID
	}
	return out
}
