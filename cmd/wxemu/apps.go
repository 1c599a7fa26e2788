package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/wxemu/wxemu/emulator/apiserver"
)

func runApps(args []string, stdout, stderr io.Writer) int {
	rc := newRemoteCommand("apps", `Usage: wxemu apps

Lists the apps of a running wxemu serve — alias, kind, credentials, where it pushes — and their
users, by the names wxemu user takes. Acts through serve's control API (--emu URL, or $WXEMU_URL;
default `+defaultEmuURL+`).`, "print serve's answer (GET /_emu/v1/apps) as JSON")
	if code := parseFlagsOnly(rc.fs, args, stdout, stderr); code >= 0 {
		return code
	}
	r, ctx, stop, code := rc.connect(stderr, callTimeout)
	if code >= 0 {
		return code
	}
	defer stop()
	if *rc.asJSON {
		var raw json.RawMessage
		if err := r.call(ctx, http.MethodGet, "/apps", nil, nil, &raw); err != nil {
			return r.fail(stderr, err)
		}
		return writeJSON(stdout, stderr, raw, exitOK)
	}
	apps, err := r.appsList(ctx)
	if err != nil {
		return r.fail(stderr, err)
	}
	users, err := r.usersList(ctx)
	if err != nil {
		return r.fail(stderr, err)
	}
	for i, a := range apps {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		printApp(stdout, a)
		var named, others []string
		for _, u := range users {
			if u.App != a.AppID {
				continue
			}
			if u.Name != "" {
				named = append(named, u.Name+" "+u.OpenID)
			} else {
				others = append(others, u.OpenID)
			}
		}
		if len(named) > 0 {
			fmt.Fprintf(stdout, "  users           %s\n", strings.Join(named, ", "))
		}
		if len(others) > 0 {
			fmt.Fprintf(stdout, "  other users     %s\n", strings.Join(others, ", "))
		}
	}
	return exitOK
}

func printApp(w io.Writer, a apiserver.AppInfo) {
	kind := "Official Account"
	if a.Kind == "mp" {
		kind = "Mini Program"
	}
	bot := "no bot: wxemu serve --target " + a.Alias + "=URL gives one"
	if a.URL != "" {
		bot = "pushes to " + a.URL
	}
	fmt.Fprintf(w, "app %s — %s, %s mode, %s — %s\n", a.Alias, kind, a.Mode, a.Format, bot)
	fmt.Fprintf(w, "  appid           %s\n  secret          %s\n  token           %s\n  EncodingAESKey  %s\n  original id     %s\n",
		a.AppID, a.Secret, a.Token, a.EncodingAESKey, a.OriginalID)
}
