package state

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// Access token errors (protocol §4.3).
var (
	// ErrTokenMissing maps to 41001 "access_token missing".
	ErrTokenMissing = errors.New("token: access_token missing")
	// ErrTokenMalformed maps to 40014 "invalid access_token": the string is not shaped like a
	// token this emulator issues.
	ErrTokenMalformed = errors.New("token: not an access token")
	// ErrTokenUnknown maps to 40001 "invalid credential, access_token is invalid or not latest":
	// shaped like ours but never issued here, reset, or superseded past its overlap.
	ErrTokenUnknown = errors.New("token: access token unknown or not the latest")
	// ErrTokenExpired maps to 42001 "access_token expired".
	ErrTokenExpired = errors.New("token: access token expired")
	// ErrDailyQuota maps to 45009 "reach max api daily quota limit": /cgi-bin/token was called
	// more than the daily limit today.
	ErrDailyQuota = errors.New("token: daily quota of /cgi-bin/token reached")
	// ErrForceRefreshQuota maps to 45009 "reach max api daily quota limit": more than 20
	// force_refresh calls of /cgi-bin/stable_token today.
	ErrForceRefreshQuota = errors.New("token: daily quota of stable_token force_refresh reached")
	// ErrForceRefreshTooSoon maps to 45011 "api minute-quota reach limit, must slower, retry
	// next minute": a force_refresh less than 30 seconds after the previous one.
	//
	// Deviation: the documents (§4.3) say force refreshes must be 30 s apart but not which
	// errcode a faster one gets; 45011 is the frequency-limit code, so it is the likeliest.
	ErrForceRefreshTooSoon = errors.New("token: stable_token force_refresh less than 30 seconds after the previous one")
)

// Access token rules (protocol §4.3).
const (
	// TokenLifetime is the expires_in of a new token.
	TokenLifetime = 7200 * time.Second
	// TokenOverlap is how long a token stays valid after a newer one replaced it.
	TokenOverlap = 5 * time.Minute
	// DefaultTokenDailyLimit is the usual daily quota of /cgi-bin/token per appid.
	DefaultTokenDailyLimit = 2000
	// StableRenewBefore: stable_token hands out the same token until it has less than this left,
	// so the expires_in a caller sees is between 300 and 7200.
	StableRenewBefore = 5 * time.Minute
	// ForceRefreshDailyLimit is how many force_refresh calls stable_token allows per day.
	ForceRefreshDailyLimit = 20
	// ForceRefreshInterval is the least time between two force_refresh calls.
	ForceRefreshInterval = 30 * time.Second
)

// dayOf returns the start of the WeChat day that contains now: daily quotas roll over at
// midnight in China (UTC+8), whatever the zone of now.
func dayOf(now time.Time) time.Time {
	china := time.FixedZone("UTC+8", 8*60*60)
	y, m, d := now.In(china).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, china)
}

// Token is an access token as issued.
type Token struct {
	Value   string    `json:"value"`
	AppID   string    `json:"appid"`
	Issued  time.Time `json:"issued"`
	Expires time.Time `json:"expires"`
	Stable  bool      `json:"stable"` // from /cgi-bin/stable_token
}

// ExpiresIn is the expires_in to answer at now: whole seconds left, never negative.
func (tk Token) ExpiresIn(now time.Time) int {
	left := tk.Expires.Sub(now)
	if left <= 0 {
		return 0
	}
	return int(left / time.Second)
}

// Tokens issues and checks access tokens (protocol §4.3). It keeps only tokens that can still
// be valid; a token it has forgotten is still recognised as its own, told apart as expired or
// unknown, and known to be its app's, because each value carries its expiry, its appid and a
// checksum.
//
// Two times reach it. The lifetimes (7200 s, the 5-minute overlaps) are counted on the time the
// caller passes as now: the platform's token time, wall time by default. The daily quotas and
// the spacing of forced refreshes are counted on quotaNow: virtual time, the calendar of the
// scenario.
type Tokens struct {
	// DailyLimit is the daily quota of /cgi-bin/token per appid; NewTokens sets it to
	// DefaultTokenDailyLimit. It is configuration: set it before the store is shared.
	DailyLimit int

	mu      sync.Mutex // guards random, byValue and apps
	random  io.Reader  // the bytes of token values
	byValue map[string]*tokenRecord
	apps    map[string]*appTokens
}

type tokenRecord struct {
	tok     Token
	until   time.Time // when it stops being valid: Expires, or earlier once superseded
	expired bool      // by Expire, ahead of its time
}

// dead reports whether the record can be forgotten: once past its own expiry, or past its
// overlap unless Expire marked it (then it must keep answering "expired" until its own expiry).
func (r *tokenRecord) dead(now time.Time) bool {
	return !now.Before(r.tok.Expires) || (!r.expired && !now.Before(r.until))
}

type appTokens struct {
	plain   *tokenRecord   // the latest token from /cgi-bin/token
	stable  *tokenRecord   // the token /cgi-bin/stable_token hands out
	records []*tokenRecord // every token of the app in byValue

	day       time.Time // the WeChat day issued counts
	issued    int
	forceDay  time.Time // the WeChat day forced counts
	forced    int
	lastForce time.Time
}

// NewTokens returns an empty token store drawing token values from random.
func NewTokens(random io.Reader) *Tokens {
	return &Tokens{
		DailyLimit: DefaultTokenDailyLimit,
		random:     random,
		byValue:    map[string]*tokenRecord{},
		apps:       map[string]*appTokens{},
	}
}

// Issue answers /cgi-bin/token: a new token on every call. The previous one stays valid for
// TokenOverlap, or until its own expiry if that is sooner. now is token time; quotaNow is the
// time the daily quota counts on.
func (t *Tokens) Issue(appid string, now, quotaNow time.Time) (Token, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	a := t.app(appid, now)
	if day := dayOf(quotaNow); !day.Equal(a.day) {
		a.day, a.issued = day, 0
	}
	if a.issued >= t.DailyLimit {
		return Token{}, fmt.Errorf("issue token for %s: %w", appid, ErrDailyQuota)
	}
	rec, err := t.issue(a, appid, false, now)
	if err != nil {
		return Token{}, fmt.Errorf("issue token for %s: %w", appid, err)
	}
	a.issued++
	if a.plain != nil {
		a.plain.until = earlier(a.plain.until, now.Add(TokenOverlap))
	}
	a.plain = rec
	return rec.tok, nil
}

// Stable answers /cgi-bin/stable_token, which is isolated from Issue. Without force it hands
// out the same token until less than StableRenewBefore is left, then a new one, the old one
// staying valid until its own expiry. With force it issues a new one at once and the old one
// stays valid for TokenOverlap; force is limited to ForceRefreshDailyLimit calls a day, at least
// ForceRefreshInterval apart (counted from the previous force_refresh call that succeeded). now
// is token time; quotaNow is the time the daily limit and the spacing count on.
//
// Deviation: the frequency limits of stable_token itself (10 000/min, 500 000/day) are not
// enforced; no test suite comes near them.
func (t *Tokens) Stable(appid string, force bool, now, quotaNow time.Time) (Token, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	a := t.app(appid, now)
	cur := a.stable
	if !force {
		if cur != nil && !cur.expired && now.Before(cur.tok.Expires.Add(-StableRenewBefore)) {
			return cur.tok, nil
		}
		rec, err := t.issue(a, appid, true, now)
		if err != nil {
			return Token{}, fmt.Errorf("issue stable token for %s: %w", appid, err)
		}
		a.stable = rec
		return rec.tok, nil
	}
	if day := dayOf(quotaNow); !day.Equal(a.forceDay) {
		a.forceDay, a.forced = day, 0
	}
	if a.forced >= ForceRefreshDailyLimit {
		return Token{}, fmt.Errorf("force refresh stable token for %s: %w", appid, ErrForceRefreshQuota)
	}
	if !a.lastForce.IsZero() && quotaNow.Sub(a.lastForce) < ForceRefreshInterval {
		return Token{}, fmt.Errorf("force refresh stable token for %s: %w", appid, ErrForceRefreshTooSoon)
	}
	rec, err := t.issue(a, appid, true, now)
	if err != nil {
		return Token{}, fmt.Errorf("force refresh stable token for %s: %w", appid, err)
	}
	a.forced++
	a.lastForce = quotaNow
	if cur != nil {
		cur.until = earlier(cur.until, now.Add(TokenOverlap))
	}
	a.stable = rec
	return rec.tok, nil
}

// Check says whose token s is, or why it is not accepted at now (token time). appid names the
// app whenever the value is one of ours — also with ErrTokenExpired and ErrTokenUnknown, since a
// token carries its appid — and is empty with ErrTokenMissing and ErrTokenMalformed.
func (t *Tokens) Check(s string, now time.Time) (appid string, err error) {
	if s == "" {
		return "", ErrTokenMissing
	}
	raw, expires, ok := parseTokenValue(s)
	if !ok {
		return "", ErrTokenMalformed
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	rec, ok := t.byValue[s]
	if !ok {
		if !now.Before(time.Unix(0, expires)) {
			return tokenAppID(&raw), ErrTokenExpired
		}
		return tokenAppID(&raw), ErrTokenUnknown
	}
	switch {
	case rec.expired || !now.Before(rec.tok.Expires):
		err = ErrTokenExpired
	case !now.Before(rec.until):
		err = ErrTokenUnknown
	default:
		return rec.tok.AppID, nil
	}
	if rec.dead(now) {
		t.apps[rec.tok.AppID].prune(t.byValue, now)
	}
	return rec.tok.AppID, err
}

// Expire makes every token of appid that is valid at now (token time) expired, as if its time
// had run out, so that a bot's handling of 42001 can be tested; it returns how many there were.
// The next Issue or Stable hands out a new token.
func (t *Tokens) Expire(appid string, now time.Time) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	a, ok := t.apps[appid]
	if !ok {
		return 0
	}
	a.prune(t.byValue, now)
	n := 0
	for _, r := range a.records {
		if !r.expired && now.Before(r.until) {
			r.expired = true
			n++
		}
	}
	return n
}

// Revoke forgets every token of appid, as a reset of the AppSecret does, so that a bot's
// handling of 40001 can be tested; it returns how many of them were valid at now (token time).
// A forgotten token answers ErrTokenUnknown until its own expiry, ErrTokenExpired after. The
// daily counts stay.
func (t *Tokens) Revoke(appid string, now time.Time) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	a, ok := t.apps[appid]
	if !ok {
		return 0
	}
	n := 0
	for _, r := range a.records {
		if !r.expired && now.Before(r.until) {
			n++
		}
		delete(t.byValue, r.tok.Value)
	}
	clear(a.records)
	a.records, a.plain, a.stable = a.records[:0], nil, nil
	return n
}

// Reset forgets every token and every daily count. Tokens issued before are then unknown, or
// expired once their time has passed.
func (t *Tokens) Reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.byValue = map[string]*tokenRecord{}
	t.apps = map[string]*appTokens{}
}

// app returns the tokens of appid, creating them, after forgetting those that can never be
// valid again; so each app holds only the tokens of the last TokenLifetime.
func (t *Tokens) app(appid string, now time.Time) *appTokens {
	a, ok := t.apps[appid]
	if !ok {
		a = &appTokens{}
		t.apps[appid] = a
	}
	a.prune(t.byValue, now)
	return a
}

func (a *appTokens) prune(byValue map[string]*tokenRecord, now time.Time) {
	kept := a.records[:0]
	for _, r := range a.records {
		if !r.dead(now) {
			kept = append(kept, r)
			continue
		}
		delete(byValue, r.tok.Value)
		if a.plain == r {
			a.plain = nil
		}
		if a.stable == r {
			a.stable = nil
		}
	}
	clear(a.records[len(kept):])
	a.records = kept
}

func (t *Tokens) issue(a *appTokens, appid string, stable bool, now time.Time) (*tokenRecord, error) {
	expires := now.Add(TokenLifetime)
	v, err := newTokenValue(t.random, appid, expires)
	if err != nil {
		return nil, err
	}
	if _, dup := t.byValue[v]; dup {
		return nil, errors.New("new token value repeats a live one: the random source repeats itself")
	}
	rec := &tokenRecord{tok: Token{Value: v, AppID: appid, Issued: now, Expires: expires, Stable: stable}, until: expires}
	t.byValue[v] = rec
	a.records = append(a.records, rec)
	return rec, nil
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// Token values look like WeChat's: a decimal generation number, "_", then base64url text.
// The 96 bytes behind the text are 80 random bytes, the expiry in unix nanoseconds masked with
// the first random bytes (so it does not stand out), and 8 bytes of SHA-256 over the rest,
// which tells our values from random strings. Bytes 16 to 48 of the random part carry the
// appid, its length first, masked with a SHA-256 of the first 16 bytes: a token names its app
// even after the store has forgotten it, as WeChat's 42001 still knows whose token expired.
const (
	tokenPrefix   = "86_"
	tokenRandom   = 80
	tokenRawSize  = tokenRandom + 8 + 8
	tokenAppIDAt  = 16
	tokenAppIDMax = sha256.Size - 1 // longer appids (none are) are not carried
)

// tokenLen is the length of every token value: the prefix and 128 characters.
var tokenLen = len(tokenPrefix) + base64.RawURLEncoding.EncodedLen(tokenRawSize)

func newTokenValue(random io.Reader, appid string, expires time.Time) (string, error) {
	var raw [tokenRawSize]byte
	if _, err := io.ReadFull(random, raw[:tokenRandom]); err != nil {
		return "", fmt.Errorf("read random bytes: %w", err)
	}
	mask := appIDMask(&raw)
	if len(appid) <= tokenAppIDMax {
		field := raw[tokenAppIDAt : tokenAppIDAt+1+len(appid)]
		field[0] = byte(len(appid)) ^ mask[0]
		for i := range len(appid) {
			field[1+i] = appid[i] ^ mask[1+i]
		}
	} else {
		raw[tokenAppIDAt] = 0xff ^ mask[0] // a length no appid carried has: none
	}
	expMask := binary.BigEndian.Uint64(raw[:8])
	binary.BigEndian.PutUint64(raw[tokenRandom:], uint64(expires.UnixNano())^expMask)
	sum := tokenChecksum(raw[:tokenRandom+8])
	copy(raw[tokenRandom+8:], sum[:8])
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:]), nil
}

// appIDMask is the mask of the appid field: a SHA-256 of the bytes before it.
func appIDMask(raw *[tokenRawSize]byte) [sha256.Size]byte {
	const label = "wxemu token appid "
	var b [len(label) + tokenAppIDAt]byte
	copy(b[:], label)
	copy(b[len(label):], raw[:tokenAppIDAt])
	return sha256.Sum256(b[:])
}

// tokenAppID is the appid a token value carries, or "" when it carries none.
func tokenAppID(raw *[tokenRawSize]byte) string {
	mask := appIDMask(raw)
	n := int(raw[tokenAppIDAt] ^ mask[0])
	if n > tokenAppIDMax {
		return ""
	}
	id := make([]byte, n)
	for i := range id {
		id[i] = raw[tokenAppIDAt+1+i] ^ mask[1+i]
	}
	return string(id)
}

func tokenChecksum(b []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(tokenPrefix))
	h.Write(b)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// parseTokenValue checks that s is one of our token values and returns its bytes and the expiry
// it carries, in unix nanoseconds.
func parseTokenValue(s string) (raw [tokenRawSize]byte, expires int64, ok bool) {
	if len(s) != tokenLen || !strings.HasPrefix(s, tokenPrefix) {
		return raw, 0, false
	}
	n, err := base64.RawURLEncoding.Decode(raw[:], []byte(s[len(tokenPrefix):]))
	if err != nil || n != tokenRawSize {
		return raw, 0, false
	}
	sum := tokenChecksum(raw[:tokenRandom+8])
	if string(sum[:8]) != string(raw[tokenRandom+8:]) {
		return raw, 0, false
	}
	mask := binary.BigEndian.Uint64(raw[:8])
	return raw, int64(binary.BigEndian.Uint64(raw[tokenRandom:]) ^ mask), true
}

// TokenSnapshot is the token store in an export.
type TokenSnapshot struct {
	Tokens []TokenState `json:"tokens"`
	Apps   []TokenQuota `json:"apps"`
}

// TokenState is one token that may still be valid.
type TokenState struct {
	Token
	ValidUntil time.Time `json:"valid_until"`       // earlier than Expires once superseded
	Expired    bool      `json:"expired,omitempty"` // by Expire
	Current    bool      `json:"current,omitempty"` // the latest of its kind (plain or stable)
}

// TokenQuota is an app's use of the daily quotas.
type TokenQuota struct {
	AppID     string    `json:"appid"`
	Day       time.Time `json:"day"` // midnight UTC+8 starting the day Issued counts
	Issued    int       `json:"issued"`
	ForceDay  time.Time `json:"force_day"`
	Forced    int       `json:"forced"`
	LastForce time.Time `json:"last_force,omitzero"`
}

// Snapshot exports the tokens held and the daily counts, sorted by appid and issue time.
func (t *Tokens) Snapshot() TokenSnapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := TokenSnapshot{Tokens: []TokenState{}, Apps: []TokenQuota{}}
	for appid, a := range t.apps {
		s.Apps = append(s.Apps, TokenQuota{
			AppID: appid, Day: a.day, Issued: a.issued,
			ForceDay: a.forceDay, Forced: a.forced, LastForce: a.lastForce,
		})
		for _, r := range a.records {
			s.Tokens = append(s.Tokens, TokenState{
				Token: r.tok, ValidUntil: r.until, Expired: r.expired,
				Current: r == a.plain || r == a.stable,
			})
		}
	}
	sort.Slice(s.Apps, func(i, j int) bool { return s.Apps[i].AppID < s.Apps[j].AppID })
	sort.Slice(s.Tokens, func(i, j int) bool {
		a, b := s.Tokens[i], s.Tokens[j]
		if a.AppID != b.AppID {
			return a.AppID < b.AppID
		}
		if !a.Issued.Equal(b.Issued) {
			return a.Issued.Before(b.Issued)
		}
		return a.Value < b.Value
	})
	return s
}

// Restore replaces the store with an export. Values that are not ours are skipped: they could
// never be checked successfully.
func (t *Tokens) Restore(s TokenSnapshot) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.byValue = map[string]*tokenRecord{}
	t.apps = map[string]*appTokens{}
	get := func(appid string) *appTokens {
		a, ok := t.apps[appid]
		if !ok {
			a = &appTokens{}
			t.apps[appid] = a
		}
		return a
	}
	for _, q := range s.Apps {
		a := get(q.AppID)
		a.day, a.issued, a.forceDay, a.forced, a.lastForce = q.Day, q.Issued, q.ForceDay, q.Forced, q.LastForce
	}
	for _, x := range s.Tokens {
		if _, _, ok := parseTokenValue(x.Value); !ok {
			continue
		}
		if _, dup := t.byValue[x.Value]; dup {
			continue
		}
		rec := &tokenRecord{tok: x.Token, until: x.ValidUntil, expired: x.Expired}
		if rec.until.IsZero() || rec.until.After(rec.tok.Expires) {
			rec.until = rec.tok.Expires
		}
		a := get(x.AppID)
		t.byValue[x.Value] = rec
		a.records = append(a.records, rec)
		if x.Current {
			if x.Stable {
				a.stable = rec
			} else {
				a.plain = rec
			}
		}
	}
}
