package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/wxemu/wxemu/emulator/wire"
)

// tokenActions are what `wxemu token` does to an app's access tokens, and what the bot sees next.
var tokenActions = []string{"expire", "revoke"}

func runToken(args []string, stdout, stderr io.Writer) int {
	rc := newRemoteCommand("token", `Usage: wxemu token expire [APP]   every access_token of the app expires now: the next use answers 42001
       wxemu token revoke [APP]   every access_token of the app is forgotten: the next use answers 40001

Checks that a bot gets a new token when WeChat refuses the one it holds, without waiting two
hours. APP is an alias (oa, mp) or an appid; it may be left out when serve has one app. Stable
tokens (/cgi-bin/stable_token) are expired and revoked too.
`+actsThroughServe, "print serve's answer as JSON")
	pos, code := rc.parse(args, stdout, stderr)
	if code >= 0 {
		return code
	}
	if len(pos) == 0 {
		return usageError(stderr, "token", "say what: wxemu token expire APP, or wxemu token revoke APP")
	}
	action := pos[0]
	if !isOneOf(action, tokenActions) {
		return usageError(stderr, "token", "unknown action %q%s: expire or revoke", action, didYouMean(action, tokenActions))
	}
	if len(pos) > 2 {
		return usageError(stderr, "token", "one app at a time, not %q", pos[1:])
	}
	r, ctx, stop, code := rc.connect(stderr, callTimeout)
	if code >= 0 {
		return code
	}
	defer stop()
	key := ""
	if len(pos) == 2 {
		key = pos[1]
	}
	app, err := r.app(ctx, key)
	if err != nil {
		return r.fail(stderr, err)
	}
	var raw json.RawMessage
	if err := r.call(ctx, http.MethodPost, "/apps/"+url.PathEscape(app.Alias)+"/tokens/"+action, nil, nil, &raw); err != nil {
		return r.fail(stderr, err)
	}
	if *rc.asJSON {
		return writeJSON(stdout, stderr, raw, exitOK)
	}
	var out struct {
		Expired *int `json:"expired"`
		Revoked *int `json:"revoked"`
	}
	_ = json.Unmarshal(raw, &out)
	n, code := out.Expired, 42001
	if action == "revoke" {
		n, code = out.Revoked, 40001
	}
	msg, _ := wire.Errmsg(code)
	next := fmt.Sprintf("%d %s", code, msg)
	count := "the tokens"
	if n != nil {
		count = plural(*n, "token", "tokens")
	}
	fmt.Fprintf(stdout, "app %s (%s): %s %sd; the bot's next call with one gets %s\n", app.Alias, app.AppID, count, action, next)
	return exitOK
}
