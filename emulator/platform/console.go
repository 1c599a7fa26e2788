package platform

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/wxemu/wxemu/emulator/journal"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/wire"
	"github.com/wxemu/wxemu/emulator/wxcrypto"
)

// The operations the web console needs beyond WeChat's own, each also served by the control
// API: an entry by its sequence number, replay and edit-and-resend of a push, the signatures of
// a push checked again, what expires next, the tokens and media of an app.

// JournalEntry finds the entry with sequence number seq among those the journal still holds.
func (p *Platform) JournalEntry(seq uint64) (Entry, error) {
	if seq == 0 {
		return Entry{}, BadRequest("journal entry 0: sequence numbers start at 1")
	}
	for _, e := range p.journal.List(journal.Filter{Since: seq - 1}) {
		if e.Seq == seq {
			return e, nil
		}
		break
	}
	st := p.journal.Stats()
	if seq > st.LastSeq {
		return Entry{}, NotFound("journal entry %d: the newest entry is %d", seq, st.LastSeq)
	}
	return Entry{}, NotFound("journal entry %d is no longer held: the journal keeps the newest %d entries (journal.max_entries, journal.max_bytes)", seq, st.Held)
}

// pushOf is the app and push of the entry seq, or why it has none.
func (p *Platform) pushOf(seq uint64) (Entry, *App, error) {
	e, err := p.JournalEntry(seq)
	if err != nil {
		return e, nil, err
	}
	if e.Push == nil || e.Push.Result == nil {
		return e, nil, BadRequest("journal entry %d is a %s entry, not a push: only pushes can be replayed", seq, e.Kind())
	}
	app, err := p.LookupApp(e.App)
	if err != nil {
		return e, nil, err
	}
	return e, app, nil
}

// ReplayEntry delivers the push of journal entry seq again, byte for byte the same message
// (same MsgId and CreateTime), freshly signed and encrypted, as WeChat's retry does. It is a
// probe: the answer is journaled and judged, and no state changes (the user's chat, windows and
// kf sessions are as they were).
// Deviation: WeChat has no replay; a replay is journaled as a probe and not shown to the user,
// as Replay is.
func (p *Platform) ReplayEntry(ctx context.Context, seq uint64) (*PushResult, Entry, error) {
	e, app, err := p.pushOf(seq)
	if err != nil {
		return nil, Entry{}, err
	}
	m := e.Push.Message
	res, reached := p.deliverPush(ctx, app, e.User, &m)
	if !reached {
		return nil, Entry{}, fmt.Errorf("%w: app %s", ErrNoBot, app.Alias)
	}
	rec := p.recordPush(app, e.User, res, fmt.Sprintf("replay of #%d", seq))
	return res, rec, nil
}

// PushFormat is the format the app's bot receives pushes in.
func (a *App) PushFormat() wire.Format {
	if a.target != nil {
		return a.target.Format
	}
	if a.Format == string(wire.JSON) {
		return wire.JSON
	}
	return wire.XML
}

// ResendEdited pushes an edited copy of the push of journal entry seq: body is the plaintext
// message in the app's push format (XML, or JSON for a Mini Program that chose it), as the
// entry's request plaintext shows it. wxemu signs it and, in compatible and safe mode, encrypts
// it afresh. Empty FromUserName, ToUserName and CreateTime are filled in (the entry's user, the
// app's original id, now). Like a replay it is a probe: no state changes.
func (p *Platform) ResendEdited(ctx context.Context, seq uint64, body []byte) (*PushResult, Entry, error) {
	e, app, err := p.pushOf(seq)
	if err != nil {
		return nil, Entry{}, err
	}
	f := app.PushFormat()
	if strings.TrimSpace(string(body)) == "" {
		return nil, Entry{}, BadRequest("the edited message is empty; send the plaintext %s of the push, as journal entry %d shows it (data.request.plaintext)", strings.ToUpper(string(f)), seq)
	}
	m, err := wire.ParseMessage(body, f)
	if err != nil {
		return nil, Entry{}, BadRequest("the edited message is not a %s push app %s receives: %v", strings.ToUpper(string(f)), app.Name(), err)
	}
	if m.Encrypt != "" {
		return nil, Entry{}, BadRequest("the edited message has an Encrypt field: send the plaintext message; wxemu encrypts it in %s mode itself", app.Mode)
	}
	if m.FromUserName == "" {
		m.FromUserName = e.User
	}
	if m.ToUserName == "" {
		m.ToUserName = app.OriginalID
	}
	if m.CreateTime == 0 {
		m.CreateTime = p.clock.Now().Unix()
	}
	if err := m.Check(wire.Kind(app.Kind)); err != nil {
		return nil, Entry{}, BadRequest("the edited message: %v", err)
	}
	res, reached := p.deliverPush(ctx, app, m.FromUserName, m)
	if !reached {
		return nil, Entry{}, fmt.Errorf("%w: app %s", ErrNoBot, app.Alias)
	}
	rec := p.recordPush(app, m.FromUserName, res, fmt.Sprintf("edited resend of #%d", seq))
	return res, rec, nil
}

// SignatureCheck is one signature of a push recomputed from the app's Token.
type SignatureCheck struct {
	Where    string `json:"where"`    // "attempt 1 query", "reply envelope"
	Name     string `json:"name"`     // signature, msg_signature, MsgSignature
	Got      string `json:"got"`      // as sent
	Computed string `json:"computed"` // sha1 of the sorted parts
	Valid    bool   `json:"valid"`
	Inputs   string `json:"inputs"` // what was hashed, for a person to redo it
}

// Signatures recomputes every signature of the push of journal entry seq: signature and
// msg_signature in each attempt's query (wxemu's own, so they are valid unless a probe spoiled
// them), and MsgSignature of the bot's encrypted reply (the bot's).
func (p *Platform) Signatures(seq uint64) ([]SignatureCheck, error) {
	e, app, err := p.pushOf(seq)
	if err != nil {
		return nil, err
	}
	res := e.Push.Result
	out := []SignatureCheck{}
	var encrypt string
	if msg, err := wire.ParseMessage([]byte(res.Request.Body), app.PushFormat()); err == nil {
		encrypt = msg.Encrypt
	}
	for _, a := range res.Attempts {
		u, err := url.Parse(a.URL)
		if err != nil || a.Function() != "" {
			continue
		}
		q := u.Query()
		ts, nonce := q.Get("timestamp"), q.Get("nonce")
		where := fmt.Sprintf("attempt %d query", a.N)
		if got := q.Get("signature"); got != "" {
			c := wxcrypto.Signature(app.Token, ts, nonce)
			out = append(out, SignatureCheck{where, "signature", got, c, got == c, "sha1(sort(token, timestamp " + ts + ", nonce " + nonce + "))"})
		}
		if got := q.Get("msg_signature"); got != "" {
			c := wxcrypto.MsgSignature(app.Token, ts, nonce, encrypt)
			out = append(out, SignatureCheck{where, "msg_signature", got, c, got == c, "sha1(sort(token, timestamp " + ts + ", nonce " + nonce + ", Encrypt))"})
		}
	}
	if res.Answer != nil {
		if r, err := wire.ParseReply([]byte(res.Answer.Body), app.PushFormat()); err == nil && r.Encrypt != "" {
			c := wxcrypto.MsgSignature(app.Token, r.TimeStamp, r.Nonce, r.Encrypt)
			out = append(out, SignatureCheck{"reply envelope", "MsgSignature", r.MsgSignature, c, r.MsgSignature == c,
				"sha1(sort(token, TimeStamp " + r.TimeStamp + ", Nonce " + r.Nonce + ", Encrypt))"})
		}
	}
	return out, nil
}

// Expiry is something of WeChat's state that ends at a time: a window, a kf session, an access
// token, a media file.
type Expiry struct {
	Kind string    `json:"kind"` // window, session, token, media
	App  string    `json:"app"`
	User string    `json:"openid,omitempty"`
	What string    `json:"what"`
	At   time.Time `json:"at"`
	In   string    `json:"in"` // from now, on the clock it lives on
	// Wall is true for an access token that lives on wall time (api.token_time: wall): moving
	// the virtual clock does not bring it nearer.
	Wall bool `json:"wall,omitempty"`
}

// Expiry kinds.
const (
	ExpiryWindow  = "window"
	ExpirySession = "session"
	ExpiryToken   = "token"
	ExpiryMedia   = "media"
)

// Expiries lists what expires after now, soonest first: each live window, kf session, valid
// access token and media file.
func (p *Platform) Expiries() []Expiry {
	now := p.clock.Now()
	var out []Expiry
	add := func(x Expiry) {
		x.In = x.At.Sub(now).Round(time.Second).String()
		out = append(out, x)
	}
	for _, ug := range p.ledger.Snapshot() {
		for _, g := range ug.Grants {
			if g.Expires.After(now) {
				left := "unlimited sends"
				if g.Remaining >= 0 {
					left = fmt.Sprintf("%d of %d sends left", g.Remaining, g.Max)
				}
				add(Expiry{Kind: ExpiryWindow, App: ug.App, User: ug.OpenID, What: string(g.Trigger) + " window, " + left, At: g.Expires})
			}
		}
	}
	timeout := time.Duration(p.cfg.KF.SessionTimeout)
	if timeout <= 0 {
		timeout = 30 * time.Minute
	}
	for _, a := range p.kf.Snapshot().Apps {
		for _, s := range a.Sessions {
			from := s.Created
			if p.cfg.KF.SessionAnchor == "activity" {
				from = s.LastActivity
			}
			if end := from.Add(timeout); end.After(now) {
				add(Expiry{Kind: ExpirySession, App: a.App, User: s.OpenID, What: "kf session with " + s.Account, At: end})
			}
		}
	}
	virtual := p.TokenTime()
	tnow := p.tokenNow()
	for _, t := range p.tokens.Snapshot().Tokens {
		if !t.ValidUntil.After(tnow) || t.Expired {
			continue
		}
		what := "access_token"
		if t.Stable {
			what = "stable access_token"
		}
		// Token time may be shifted from the virtual clock; place the expiry on it.
		add(Expiry{Kind: ExpiryToken, App: t.AppID, What: what + " " + clipToken(t.Value), At: now.Add(t.ValidUntil.Sub(tnow)), Wall: !virtual})
	}
	for _, m := range p.media.List("", now) {
		add(Expiry{Kind: ExpiryMedia, App: m.AppID, What: m.Type + " " + m.ID, At: m.Expires})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

func clipToken(v string) string {
	if len(v) > 12 {
		return v[:12] + "…"
	}
	return v
}

// AdvanceToExpiry moves the virtual clock to the moment the next expiry of kind (any kind when
// empty) has passed, and returns it. A token that lives on wall time is skipped: the virtual
// clock cannot bring it nearer.
func (p *Platform) AdvanceToExpiry(kind string) (Expiry, error) {
	switch kind {
	case "", ExpiryWindow, ExpirySession, ExpiryToken, ExpiryMedia:
	default:
		return Expiry{}, BadRequest("kind %q: one of window, session, token, media, or none for the next of any", kind)
	}
	for _, x := range p.Expiries() {
		if x.Wall || (kind != "" && x.Kind != kind) {
			continue
		}
		// A grant is live while now is before Expires; at Expires exactly it is gone.
		if err := p.Advance(x.At.Sub(p.clock.Now())); err != nil {
			return x, err
		}
		return x, nil
	}
	what := "nothing"
	if kind != "" {
		what = "no " + kind
	}
	return Expiry{}, NotFound("%s expires on the virtual clock; tokens on wall time (api.token_time: wall) do not come nearer by it", what)
}

// TokenState is an access token that may still be valid, as the state export has it.
type TokenState = state.TokenState

// AppTokens lists the access tokens of an app that may still be valid.
func (p *Platform) AppTokens(appID string) []TokenState {
	var out []TokenState
	for _, t := range p.tokens.Snapshot().Tokens {
		if t.AppID == appID {
			out = append(out, t)
		}
	}
	return out
}

// AppMedia lists the live media files of an app, without their bytes (GET /_emu/v1/media/{id}
// serves them).
func (p *Platform) AppMedia(appID string) []Media { return p.media.List(appID, p.clock.Now()) }

// RuleCatalog lists every rule a verdict can name.
func RuleCatalog() []rules.Rule { return rules.Catalog() }
