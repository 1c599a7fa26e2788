package platform

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/wire"
)

// Errors of the platform's own operations, for the control plane and Go callers.
var (
	// ErrUnknownApp: no app has this alias or appid.
	ErrUnknownApp = errors.New("unknown app")
	// ErrNoBot: the app has no callback URL to push to.
	ErrNoBot = errors.New("the app has no callback URL")
	// ErrBadMessage: the message is not one the app's kind receives, or lacks a field.
	ErrBadMessage = errors.New("bad message")
	// ErrBadRequest: a control request is malformed or misses a field.
	ErrBadRequest = errors.New("bad request")
	// ErrNotFound: a control request names something that does not exist (a user, media, an agent).
	ErrNotFound = errors.New("not found")
	// ErrNotInSession: an agent acts on a user it does not serve.
	ErrNotInSession = errors.New("the agent does not serve this user")
)

// BadRequest is an ErrBadRequest that says what is wrong and how to fix it.
func BadRequest(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadRequest}, args...)...)
}

// NotFound is an ErrNotFound that says what is missing.
func NotFound(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrNotFound}, args...)...)
}

// codes maps every domain error of the state package to WeChat's errcode (protocol §4, §6, §7).
// The errors only the control plane can meet (ErrKfNotWaiting, ErrKfInviteExpired: no WeChat
// API accepts a waiting user or answers an invitation) are ControlAnswer's.
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

// Answer is what WeChat's API answers err with: its errcode and a detail for the journal. A
// *wire.Error carries its own; a domain error has its code in the table above. An error no rule
// maps is -1 system error, and mapped reports false: it is a bug of wxemu, never of the bot, and
// the caller logs it.
func Answer(err error) (code int, detail string, mapped bool) {
	if err == nil {
		return 0, "", true
	}
	var we *wire.Error
	if errors.As(err, &we) {
		return we.Code, we.Detail, true
	}
	var fa *FaultAnswer
	if errors.As(err, &fa) {
		// A 5xx or a dropped connection: no errcode reached the bot.
		return 0, fa.Error(), true
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code, err.Error(), true
		}
	}
	return wire.CodeSystemError, err.Error(), false
}

// Code is the errcode WeChat answers err with (see Answer).
func Code(err error) int {
	code, _, _ := Answer(err)
	return code
}

// ControlAnswer is what the control plane answers err with: an HTTP status and a message for a
// person that says what failed and how to fix it. mapped is false for an error no rule knows,
// answered 500: a bug of wxemu, which the caller logs.
func ControlAnswer(err error) (status int, msg string, mapped bool) {
	switch {
	case errors.Is(err, ErrBadRequest), errors.Is(err, ErrBadMessage):
		return http.StatusBadRequest, err.Error(), true
	case errors.Is(err, ErrUnknownApp), errors.Is(err, ErrNotFound):
		return http.StatusNotFound, err.Error(), true
	case errors.Is(err, ErrNoBot), errors.Is(err, ErrNotInSession), errors.Is(err, ErrRecording),
		errors.Is(err, state.ErrKfNotWaiting), errors.Is(err, state.ErrKfInviteExpired):
		return http.StatusConflict, err.Error(), true
	}
	code, detail, mapped := Answer(err)
	if !mapped {
		return http.StatusInternalServerError, "wxemu failed: " + err.Error(), false
	}
	// A refusal WeChat's API would give for the same action: say which.
	errmsg, _ := wire.Errmsg(code)
	var we *wire.Error
	if errors.As(err, &we) {
		return http.StatusConflict, fmt.Sprintf("%s (WeChat's API answers %d %s)", detail, code, errmsg), true
	}
	return http.StatusConflict, fmt.Sprintf("%v (WeChat's API answers %d %s)", err, code, errmsg), true
}

// DecodeBody is the one reader of a WeChat API body (protocol §9): empty or white space is 44002,
// not a UTF-8 JSON object is 47001, and the object is decoded into v.
func DecodeBody(body []byte, v any) error {
	if werr := rules.DecodeBody(body, v); werr != nil {
		return werr
	}
	return nil
}

// apiError is a WeChat refusal with its errcode and a detail for the journal.
func apiError(code int, format string, args ...any) *wire.Error {
	return wire.Errorf(code, format, args...)
}
