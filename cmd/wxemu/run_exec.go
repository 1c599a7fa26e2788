package main

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/wxemu/wxemu/emulator"
	"github.com/wxemu/wxemu/emulator/harness"
	"github.com/wxemu/wxemu/emulator/platform"
)

// botEnv is what a bot started by --exec needs to know: where WeChat's API is, its app's
// credentials, the port to listen on. Every app's credentials are also there under its alias,
// for a bot that serves several.
func botEnv(emu *emulator.Emulator, alias string, port int, callback string) []string {
	env := []string{
		"WXEMU_API_BASE=" + emu.URL(),
		"PORT=" + strconv.Itoa(port),
		"WXEMU_CALLBACK_URL=" + callback,
	}
	for _, a := range emu.Apps() {
		for _, v := range appVars(a) {
			env = append(env, "WXEMU_"+envName(a.Alias)+"_"+v[0]+"="+v[1])
			if a.Alias == alias {
				env = append(env, "WXEMU_"+v[0]+"="+v[1])
			}
		}
	}
	return env
}

// appVars are an app's variables, each named WXEMU_<ALIAS>_<NAME> for a bot or a command that
// talks to several apps (and WXEMU_<NAME> for a bot's own app).
func appVars(a *platform.App) [][2]string {
	return [][2]string{
		{"APP", a.Alias}, {"KIND", a.Kind}, {"APPID", a.AppID}, {"APP_SECRET", a.Secret}, {"TOKEN", a.Token},
		{"AES_KEY", a.EncodingAESKey}, {"ORIGINAL_ID", a.OriginalID}, {"FORMAT", a.Format}, {"MODE", a.Mode},
	}
}

// envName turns an alias into the part of a variable name: upper case, _ for anything else.
func envName(alias string) string {
	b := []byte(strings.ToUpper(alias))
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

// notReady says that the bot --exec started does not answer the handshake, and what to look at.
func notReady(err error) string {
	var ne *harness.NotReadyError
	if !errors.As(err, &ne) {
		return "the bot is not ready: " + err.Error()
	}
	switch ne.Reason {
	case harness.BotAnswersWrongly:
		return err.Error() + " (is WXEMU_TOKEN used to check the signature?)"
	case harness.BotTimedOut:
		path := "/"
		if u, perr := url.Parse(ne.URL); perr == nil && u.Path != "" {
			path = u.Path
		}
		return err.Error() + " (does it listen on 127.0.0.1:$PORT, path " + path + "? --ready-timeout waits longer)"
	}
	return err.Error()
}
