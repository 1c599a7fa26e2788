package platform

import (
	"context"
	"crypto/subtle"
	"fmt"
	"sync"
	"time"

	"github.com/wxemu/wxemu/emulator/journal"
	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/wire"
)

// tokenClock is the time access tokens live on (protocol §4.3): wall time by default, since a
// bot's SDK caches its token on its own clock and Advance must not expire it behind the bot's
// back, or virtual time (api.token_time, SetTokenTime). Token time is the chosen clock plus a
// shift, and a switch sets the shift so that token time goes on from where it was: a token keeps
// the time it had left, and the expiry carried in each token value keeps its meaning.
type tokenClock struct {
	mu      sync.Mutex // guards virtual and shift
	virtual bool
	shift   time.Duration
}

// tokenBase is the clock token time follows: virtual or wall now.
func (p *Platform) tokenBase(virtual bool) time.Time {
	if virtual {
		return p.clock.Now()
	}
	return p.wall.Now()
}

// tokenNow is token time.
func (p *Platform) tokenNow() time.Time {
	tc := &p.tokenClk
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return p.tokenBase(tc.virtual).Add(tc.shift)
}

// SetTokenTime makes access tokens live their 7200 s and their 5-minute overlaps on virtual time
// (true: Advance expires them) or on wall time (false, the default of api.token_time). Tokens
// issued before keep the time they had left. The daily quotas of the token APIs count on
// virtual time either way. A change is journaled as a control action.
func (p *Platform) SetTokenTime(virtual bool) {
	tc := &p.tokenClk
	tc.mu.Lock()
	if tc.virtual == virtual {
		tc.mu.Unlock()
		return
	}
	now := p.tokenBase(tc.virtual).Add(tc.shift)
	tc.virtual = virtual
	tc.shift = now.Sub(p.tokenBase(virtual))
	tc.mu.Unlock()
	p.control("access tokens now live on " + tokenTimeName(virtual) + " time")
}

// TokenTime reports whether access tokens live on virtual time (true) or wall time (false).
func (p *Platform) TokenTime() (virtual bool) {
	p.tokenClk.mu.Lock()
	defer p.tokenClk.mu.Unlock()
	return p.tokenClk.virtual
}

func tokenTimeName(virtual bool) string {
	if virtual {
		return "virtual"
	}
	return "wall"
}

// catchUpTokenTime moves token time forward to at if it is behind (an import of state exported
// later), as Import moves the virtual clock: a clock never moves backward.
func (p *Platform) catchUpTokenTime(at time.Time) {
	if at.IsZero() {
		return
	}
	tc := &p.tokenClk
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if ahead := at.Sub(p.tokenBase(tc.virtual).Add(tc.shift)); ahead > 0 {
		tc.shift += ahead
	}
}

// ExpireTokens makes every access_token and stable token of the app that is still valid expired
// now, as if its 7200 s had run out: its next use answers 42001, and the token APIs hand out new
// ones. It tests a bot's handling of 42001 whatever the token time, answers how many tokens it
// expired, and is journaled as a control action naming the app.
func (p *Platform) ExpireTokens(appKey string) (int, error) {
	return p.tokenAction(appKey, "expired", 42001, p.tokens.Expire)
}

// RevokeTokens forgets every access_token and stable token of the app, as a reset of its
// AppSecret does: the next use of one answers 40001 (42001 once its own 7200 s are over), and the
// token APIs hand out new ones. It tests a bot's handling of 40001, answers how many valid tokens
// it revoked, and is journaled as a control action naming the app.
func (p *Platform) RevokeTokens(appKey string) (int, error) {
	return p.tokenAction(appKey, "revoked", 40001, p.tokens.Revoke)
}

// tokenAction does something to every token of an app at token time and journals it as a
// control action naming the app and what the tokens' next use answers.
func (p *Platform) tokenAction(appKey, done string, next int, act func(appid string, now time.Time) int) (int, error) {
	app, err := p.LookupApp(appKey)
	if err != nil {
		return 0, err
	}
	unlock := p.shared()
	n := act(app.AppID, p.tokenNow())
	unlock()
	action := fmt.Sprintf("access tokens of %s %s: %d, whose next use answers %d", app.Name(), done, n, next)
	p.record(journal.Entry{App: app.AppID, Summary: action, Control: &journal.Control{Action: action}})
	return n, nil
}

// CheckToken finds the app an access_token belongs to (protocol §4.3), at token time. A token
// refused as expired or unknown still names its app when it is one of ours, so the refusal is
// journaled as that app's: app is then not nil along with the error.
func (p *Platform) CheckToken(token string) (*App, error) {
	appid, err := p.tokens.Check(token, p.tokenNow())
	a := p.byKey[appid]
	if a != nil && a.AppID != appid {
		a = nil // an alias is not an appid
	}
	if err != nil {
		return a, err
	}
	if a == nil {
		return nil, state.ErrTokenUnknown
	}
	return a, nil
}

// credentials checks the grant type, appid and secret of the token APIs.
func (p *Platform) credentials(grantType, appid, secret string) (*App, error) {
	switch {
	case grantType != "client_credential":
		return nil, apiError(wire.CodeInvalidGrantType, "grant_type is %q; it must be client_credential", grantType)
	case appid == "":
		return nil, apiError(wire.CodeAppIDMissing, "appid is missing")
	case secret == "":
		return nil, apiError(wire.CodeAppSecretMissing, "secret is missing")
	}
	a, ok := p.byKey[appid]
	if !ok || a.AppID != appid {
		return nil, apiError(wire.CodeInvalidAppID, "no app has appid %q", appid)
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(a.Secret)) != 1 {
		return nil, apiError(wire.CodeInvalidAppSecret, "the secret of app %s is not %q", appid, secret)
	}
	return a, nil
}

// IssuedToken is what the token APIs answer: the token and its expires_in, counted at the moment
// it was handed out, so a fresh token answers exactly 7200 and a stable token handed out again
// the whole seconds it has left.
type IssuedToken struct {
	Token
	ExpiresIn int
}

// IssueToken is /cgi-bin/token: a new token on every call. Its lifetime runs on token time, its
// daily quota on virtual time.
func (p *Platform) IssueToken(ctx context.Context, grantType, appid, secret string) (IssuedToken, error) {
	a, err := p.credentials(grantType, appid, secret)
	if err != nil {
		return IssuedToken{}, err
	}
	p.noteCall(ctx, a, "")
	unlock := p.shared()
	defer unlock()
	now := p.tokenNow()
	tk, err := p.tokens.Issue(a.AppID, now, p.clock.Now())
	if err != nil {
		return IssuedToken{}, err
	}
	return IssuedToken{Token: tk, ExpiresIn: tk.ExpiresIn(now)}, nil
}

// StableTokenRequest is the body of /cgi-bin/stable_token.
type StableTokenRequest struct {
	GrantType    string `json:"grant_type"`
	AppID        string `json:"appid"`
	Secret       string `json:"secret"`
	ForceRefresh bool   `json:"force_refresh"`
}

// StableToken is /cgi-bin/stable_token. Its lifetimes run on token time; its daily limit and the
// spacing of forced refreshes on virtual time.
func (p *Platform) StableToken(ctx context.Context, req StableTokenRequest) (IssuedToken, error) {
	a, err := p.credentials(req.GrantType, req.AppID, req.Secret)
	if err != nil {
		return IssuedToken{}, err
	}
	p.noteCall(ctx, a, "")
	unlock := p.shared()
	defer unlock()
	now := p.tokenNow()
	tk, err := p.tokens.Stable(a.AppID, req.ForceRefresh, now, p.clock.Now())
	if err != nil {
		return IssuedToken{}, err
	}
	return IssuedToken{Token: tk, ExpiresIn: tk.ExpiresIn(now)}, nil
}
