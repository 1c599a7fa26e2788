package platform

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/wire"
)

// apiError is an API failure with its errcode and a detail for the journal.
func apiError(code int, format string, args ...any) *rules.APIError {
	return &rules.APIError{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// codes maps every domain error of the state package to WeChat's errcode (protocol §4, §6, §7).
var codes = []struct {
	err  error
	code int
}{
	{state.ErrTokenMissing, wire.CodeAccessTokenMissing},
	{state.ErrTokenMalformed, wire.CodeInvalidAccessToken},
	{state.ErrTokenUnknown, wire.CodeInvalidCredential},
	{state.ErrTokenExpired, wire.CodeAccessTokenExpired},
	{state.ErrDailyQuota, wire.CodeAPIDailyQuota},
	{state.ErrForceRefreshQuota, wire.CodeAPIDailyQuota},
	{state.ErrForceRefreshTooSoon, wire.CodeAPIMinuteQuota},
	{state.ErrNoWindow, wire.CodeOutOfTimeLimit},
	{state.ErrQuotaUsed, wire.CodeOutOfResponseCount},
	{state.ErrUserUnknown, wire.CodeInvalidOpenID},
	{state.ErrTypingNoInteraction, wire.CodeTypingNeedsInteraction},
	{state.ErrAlreadyTyping, wire.CodeAlreadyTyping},
	{state.ErrMediaUnknown, wire.CodeInvalidMediaID},
	{state.ErrMediaType, wire.CodeInvalidMediaType},
	{state.ErrFileType, wire.CodeInvalidFileType},
	{state.ErrMediaMissing, wire.CodeMediaDataMissing},
	{state.ErrMediaEmpty, wire.CodeEmptyMediaData},
	{state.ErrMediaTooLarge, wire.CodeMediaSizeLimit},
	{state.ErrKfIllegalAccount, wire.CodeKfIllegalAccount},
	{state.ErrKfAccountLength, wire.CodeKfAccountLength},
	{state.ErrKfAccountIllegalChar, wire.CodeKfAccountIllegalChar},
	{state.ErrKfIllegalNickname, wire.CodeKfIllegalNickname},
	{state.ErrKfAccountExists, wire.CodeKfAccountExists},
	{state.ErrKfAccountLimit, wire.CodeKfAccountNumberLimit},
	{state.ErrKfAccountUnknown, wire.CodeKfAccountInvalid},
	{state.ErrKfAccountBound, wire.CodeKfAccountAlreadyBound},
	{state.ErrKfInvitationPending, wire.CodeKfInvitationPending},
	{state.ErrKfAlreadyInvited, wire.CodeKfAlreadyInvited},
	{state.ErrKfWeChatInvalid, wire.CodeKfWechatAccountInvalid},
	{state.ErrKfAlreadyWorker, wire.CodeKfAlreadyWorker},
	{state.ErrKfNotBound, wire.CodeKfAccountNotBound},
	{state.ErrKfOffline, wire.CodeKfWorkerOffline},
	{state.ErrKfServedByAnother, wire.CodeKfServedByAnotherWorker},
	{state.ErrKfNoSession, wire.CodeKfNoSession},
	{state.ErrKfRangeTooLong, wire.CodeKfTimeRangeTooLong},
	{state.ErrKfParamInvalid, wire.CodeKfParamInvalid},
}

// Code is the errcode WeChat answers err with. An error no rule maps is -1 system error; the
// API server logs it, because it is a bug of wxemu, not of the bot.
func Code(err error) int {
	if err == nil {
		return 0
	}
	var ae *rules.APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return wire.CodeSystemError
}

// CheckToken finds the app an access_token belongs to (protocol §4.3).
func (p *Platform) CheckToken(token string) (*App, error) {
	appid, err := p.Tokens.Check(token, p.clock.Now())
	if err != nil {
		return nil, err
	}
	a, ok := p.byKey[appid]
	if !ok {
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

// IssueToken is /cgi-bin/token: a new token on every call.
func (p *Platform) IssueToken(grantType, appid, secret string) (state.Token, error) {
	a, err := p.credentials(grantType, appid, secret)
	if err != nil {
		return state.Token{}, err
	}
	return p.Tokens.Issue(a.AppID, p.clock.Now())
}

// StableToken is /cgi-bin/stable_token.
func (p *Platform) StableToken(grantType, appid, secret string, force bool) (state.Token, error) {
	a, err := p.credentials(grantType, appid, secret)
	if err != nil {
		return state.Token{}, err
	}
	return p.Tokens.Stable(a.AppID, force, p.clock.Now())
}

// CustomSend is /cgi-bin/message/custom/send for app: the body's schema, its media, the user,
// the follow, then the window and its quota, in that order (protocol §9). A message that passes
// reaches the user's transcript.
func (p *Platform) CustomSend(app *App, body []byte) (*rules.CustomSend, error) {
	return p.customSend(app, body, state.FromBot)
}

// customSend delivers a customer-service message from the bot or, as a kf account, from an
// agent.
func (p *Platform) customSend(app *App, body []byte, from string) (*rules.CustomSend, error) {
	now := p.clock.Now()
	s, aerr := rules.CheckCustomSend(wire.Kind(app.Kind), body, rules.SendLimits{MaxTextBytes: p.cfg.API.TextLimitBytes})
	if aerr != nil {
		return nil, aerr
	}
	if s.MsgType != "mpnews" {
		// Deviation: wxemu has temporary media only; a permanent-material media_id is unknown
		// to it, except for mpnews, whose media_id is always permanent material (not checked).
		for _, id := range s.MediaIDs {
			if !p.Media.Exists(app.AppID, id, now) {
				return nil, apiError(wire.CodeInvalidMediaID, "media id %q is not a temporary media of app %s, or has expired (3 days)", id, app.AppID)
			}
		}
	}
	u, ok := p.Users.Get(app.AppID, s.ToUser)
	if !ok {
		return nil, apiError(wire.CodeInvalidOpenID, "touser %q is not a user of app %s", s.ToUser, app.AppID)
	}
	if app.Kind == string(wire.OA) && !u.Subscribed {
		return nil, apiError(wire.CodeOutOfTimeLimit, "user %s has unfollowed the account", s.ToUser)
	}
	g, err := p.Ledger.Consume(app.AppID, s.ToUser, now)
	if err != nil {
		return nil, apiError(Code(err), "%s", windowDetail(err, p.Ledger.Grants(app.AppID, s.ToUser, now)))
	}
	_ = g
	_ = p.Users.Touch(app.AppID, s.ToUser, now, true)
	p.Transcripts.Append(app.AppID, s.ToUser, state.Line{Time: now, From: from, Kind: state.LineCustom, MsgType: s.MsgType, Text: s.Render(), KfAccount: s.KfAccount})
	return s, nil
}

func windowDetail(err error, live []state.Grant) string {
	if errors.Is(err, state.ErrNoWindow) {
		return "no open window: the user has not sent a message (48 h), tapped a menu, followed or scanned a QR code (1 min) recently enough"
	}
	return fmt.Sprintf("every open window is used up (%d live grant(s))", len(live))
}

// Typing is /cgi-bin/message/custom/typing and /business/typing.
func (p *Platform) Typing(app *App, body []byte) (*rules.Typing, error) {
	t, aerr := rules.CheckTyping(body)
	if aerr != nil {
		return nil, aerr
	}
	now := p.clock.Now()
	var err error
	if t.Command == "Typing" {
		err = p.Users.StartTyping(app.AppID, t.ToUser, now)
	} else {
		err = p.Users.CancelTyping(app.AppID, t.ToUser, now)
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// UploadMedia is /cgi-bin/media/upload.
func (p *Platform) UploadMedia(app *App, typ, filename, contentType string, data []byte, present bool) (state.Media, error) {
	if !present {
		return state.Media{}, state.ErrMediaMissing
	}
	return p.Media.Upload(app.AppID, app.Kind, typ, filename, contentType, data, p.clock.Now())
}

// GetMedia is /cgi-bin/media/get.
func (p *Platform) GetMedia(app *App, id string) (state.Media, error) {
	if id == "" {
		return state.Media{}, apiError(wire.CodeMediaIDMissing, "media_id is missing")
	}
	return p.Media.Get(app.AppID, id, p.clock.Now())
}

// jsonBody encodes v as an API body, without HTML escaping (WeChat's SDKs keep <a> tags as is).
func jsonBody(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
