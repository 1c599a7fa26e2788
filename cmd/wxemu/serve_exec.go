package main

// wxemu serve --exec CMD: the emulator around one command, the way `firebase emulators:exec`
// runs a test suite — start, make ready, run the command with an environment that says where
// everything is, stop when it ends, exit with its status.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wxemu/wxemu/emulator"
	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/harness"
	"github.com/wxemu/wxemu/emulator/platform"
)

// serveExec holds the flags of serve --exec and what it started.
type serveExec struct {
	command      string
	botCommand   string
	callbackPath string
	readyTimeout time.Duration

	port     int    // the port of the bot --exec-bot starts
	callback string // its callback URL
	bot      *harness.Bot
}

func (x *serveExec) register(fs *flag.FlagSet) {
	fs.StringVar(&x.command, "exec", "", "run `CMD` (sh -c) once the emulator is ready, with WXEMU_* saying where it is; stop when it exits, and exit with its status")
	fs.StringVar(&x.botCommand, "exec-bot", "", "start the bot with sh -c `CMD` (PORT, WXEMU_API_BASE and the app's credentials as wxemu run --exec gives them), wait for its handshake; stopped with serve")
	fs.StringVar(&x.callbackPath, "callback-path", "/wx", "the path of the bot's callback URL under --exec-bot")
	fs.DurationVar(&x.readyTimeout, "ready-timeout", 30*time.Second, "how long --exec waits for the bots (--exec-bot, --target) to answer the handshake")
}

// prepare picks the port of the bot --exec-bot starts. It returns the callback URL every app
// without a bot gets ("" without --exec-bot).
func (x *serveExec) prepare() (string, error) {
	if x.botCommand == "" {
		return "", nil
	}
	if !strings.HasPrefix(x.callbackPath, "/") {
		return "", errors.New("--callback-path must start with /, e.g. /wx")
	}
	port, err := harness.FreePort()
	if err != nil {
		return "", err
	}
	x.port = port
	x.callback = "http://127.0.0.1:" + strconv.Itoa(port) + x.callbackPath
	return x.callback, nil
}

// startBots starts the bot of --exec-bot and, with --exec, waits until every bot given by URL
// answers WeChat's handshake, so that the command finds them ready. It returns an exit code ≥ 0
// when serve cannot go on.
func (x *serveExec) startBots(ctx context.Context, emu *emulator.Emulator, stderr io.Writer) int {
	if x.botCommand != "" {
		// The bot's own credentials (WXEMU_APPID, WXEMU_TOKEN …) are those of the first app it
		// serves: the first app the config and --target leave without a bot.
		var own *platform.App
		for _, a := range emu.Apps() {
			if a.URL == x.callback {
				own = a
				break
			}
		}
		if own == nil {
			fmt.Fprintf(stderr, "wxemu serve: --exec-bot: every app has a bot already (url: in the config, or --target); the one it would start would get no pushes\n")
			return exitUsage
		}
		bot, err := harness.StartBot(harness.BotSpec{Command: x.botCommand, Env: botEnv(emu, own.Alias, x.port, x.callback), Output: stderr})
		if err != nil {
			fmt.Fprintf(stderr, "wxemu serve: --exec-bot: %v\n", err)
			return exitFail
		}
		x.bot = bot
		if err := bot.WaitReady(ctx, x.callback, own.Token, x.readyTimeout); err != nil {
			fmt.Fprintf(stderr, "wxemu serve: --exec-bot: %s\n", notReady(err))
			return exitFail
		}
	}
	if x.command == "" {
		return -1
	}
	for _, a := range emu.Apps() {
		if a.URL == "" || a.URL == x.callback || a.Container != nil {
			continue
		}
		if err := harness.WaitReady(ctx, a.URL, a.Token, x.readyTimeout); err != nil {
			if ctx.Err() != nil {
				return exitInterrupted
			}
			fmt.Fprintf(stderr, "wxemu serve: app %s: %s\n", a.Alias, targetNotReady(err, a.Token))
			return exitFail
		}
	}
	return -1
}

// stopBot stops the bot of --exec-bot; the emulator must be closed first, or its idle
// connections hold the bot's graceful shutdown.
func (x *serveExec) stopBot(stderr io.Writer) {
	if x.bot == nil {
		return
	}
	if err := x.bot.Stop(5 * time.Second); err != nil {
		fmt.Fprintf(stderr, "wxemu serve: stopping the bot: %v\n", err)
	}
}

// execEnv is what the command of --exec is told:
//
//	WXEMU_API_BASE        the WeChat API (instead of https://api.weixin.qq.com)
//	WXEMU_URL             the same base, which the wxemu commands (user, journal …) read
//	WXEMU_CONTROL_URL     the control API, …/_emu/v1
//	WXEMU_JOURNAL_STREAM  the journal's event stream, …/_emu/v1/journal/stream
//	WXEMU_CONTROL_TOKEN   the control API's bearer token, when it has one
//	WXEMU_<ALIAS>_APPID, _APP_SECRET, _TOKEN, _AES_KEY, _ORIGINAL_ID, _KIND, _MODE, _FORMAT, _APP
//	                      each app's credentials, the alias upper-cased, other characters _ (the
//	                      names a bot started by --exec-bot gets too)
//	WXEMU_APPS            all of them as JSON: [{"alias", "appid", …, "users": [{"name", "openid"}]}]
func execEnv(emu *emulator.Emulator, token string) []string {
	base := emu.URL()
	env := []string{
		"WXEMU_API_BASE=" + base,
		"WXEMU_URL=" + base,
		"WXEMU_CONTROL_URL=" + base + "/_emu/v1",
		"WXEMU_JOURNAL_STREAM=" + base + "/_emu/v1/journal/stream",
	}
	if token != "" {
		env = append(env, controlTokenEnv+"="+token)
	}
	type user struct {
		Name   string `json:"name,omitempty"`
		OpenID string `json:"openid"`
	}
	type app struct {
		Alias      string `json:"alias"`
		Kind       string `json:"kind"`
		AppID      string `json:"appid"`
		Secret     string `json:"secret"`
		Token      string `json:"token"`
		AESKey     string `json:"aeskey"`
		OriginalID string `json:"original_id"`
		Mode       string `json:"mode"`
		Format     string `json:"format"`
		Users      []user `json:"users"`
	}
	var apps []app
	for _, a := range emu.Apps() {
		x := app{Alias: a.Alias, Kind: a.Kind, AppID: a.AppID, Secret: a.Secret, Token: a.Token, AESKey: a.EncodingAESKey,
			OriginalID: a.OriginalID, Mode: a.Mode, Format: a.Format, Users: []user{}}
		for _, u := range a.Users {
			x.Users = append(x.Users, user{u.Name, u.OpenID})
		}
		apps = append(apps, x)
		for _, v := range appVars(a) {
			env = append(env, "WXEMU_"+envName(a.Alias)+"_"+v[0]+"="+v[1])
		}
	}
	data, _ := json.Marshal(apps) // strings only: it cannot fail
	env = append(env, "WXEMU_APPS="+string(data))
	sort.Strings(env[4:])
	return env
}

// runCommand runs the command of --exec to its end: its stdout and stderr are serve's, its
// stdin is empty, it runs in a process group of its own, and SIGINT or SIGTERM to serve is
// passed to that group. It returns the command's exit status, 128 + the signal's number when a
// signal ended it, 127 when it could not be started.
func (x *serveExec) runCommand(emu *emulator.Emulator, token string, stdout, stderr io.Writer) int {
	cmd := exec.Command("sh", "-c", x.command)
	cmd.Env = append(os.Environ(), execEnv(emu, token)...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	ownGroup(cmd)
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "wxemu serve: --exec: %v\n", err)
		return 127
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var killTimer clock.Timer
	defer func() {
		if killTimer != nil {
			killTimer.Stop()
		}
	}()
	for {
		select {
		case s := <-sig:
			fmt.Fprintf(stderr, "wxemu serve: %s: passed to the command (pid %d)\n", s, cmd.Process.Pid)
			signalGroup(cmd, s)
			if killTimer == nil {
				// A command that ignores the signal is killed after a grace period, so that
				// serve (and CI) cannot hang on it.
				killTimer = clock.Real{}.AfterFunc(execGrace, func() { signalGroup(cmd, syscall.SIGKILL) })
			}
		case err := <-done:
			return x.botDied(exitStatus(cmd, err, stderr), stderr)
		}
	}
}

// botDied turns a passing command's status into a failure when the bot of --exec-bot exited
// while the command ran: the suite may not have reached it, and a crash is what serve --exec
// is there to catch. A failing command's status is kept.
func (x *serveExec) botDied(status int, stderr io.Writer) int {
	if x.bot == nil || !x.bot.Exited() {
		return status
	}
	how := "with status 0"
	if err := x.bot.Err(); err != nil {
		how = "(" + err.Error() + ")"
	}
	fmt.Fprintf(stderr, "wxemu serve: the bot of --exec-bot exited %s while the command ran; what it printed:\n%s\n", how, indentText(x.bot.Output()))
	if status == 0 {
		fmt.Fprintf(stderr, "wxemu serve: the command passed, but its bot was gone: exit status %d\n", exitFail)
		return exitFail
	}
	return status
}

// execGrace is how long a command has to end after serve passed it a signal.
const execGrace = 10 * time.Second

// exitStatus turns how the command ended into serve's exit status.
func exitStatus(cmd *exec.Cmd, err error, stderr io.Writer) int {
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		fmt.Fprintf(stderr, "wxemu serve: --exec: %v\n", err)
		return exitFail
	}
	st := cmd.ProcessState
	if n, ok := killedBy(st); ok {
		fmt.Fprintf(stderr, "wxemu serve: the command was ended by signal %d; exit status %d\n", n, 128+n)
		return 128 + n
	}
	return st.ExitCode()
}
