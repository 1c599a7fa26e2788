package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/wxemu/wxemu/emulator"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/platform"
)

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "", "address to listen on (default from the config: 127.0.0.1:7700)")
	cfgPath := fs.String("config", "", "YAML config `FILE` (default: the embedded demo config; see --print-config)")
	var tg targets
	tg.register(fs)
	var fns functionFlags
	fns.register(fs)
	importPath := fs.String("import", "", "import state from this `FILE` (a GET /_emu/v1/state export) at start")
	exportPath := fs.String("export-on-exit", "", "write all state to this `FILE` when stopping")
	printConfig := fs.Bool("print-config", false, "print the embedded default config and exit")
	pushTimeout := fs.Duration("push-timeout", 0, "override the reply deadline of the config (e.g. 1s for fast CI)")
	verbose := fs.Bool("v", false, "log every journal entry to stderr")
	faultSeed := fs.Uint64("fault-seed", 0, "the `SEED` of fault rules that give none (overrides faults.seed of the config)")
	consoleDir := fs.String("console-dir", "", "serve the web console's files from this `DIR` (e.g. emulator/console/static) instead of the built-in ones, while developing it")
	var af accessFlags
	af.register(fs)
	var sx serveExec
	sx.register(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: wxemu serve [--target URL] [--target-mp URL] [--function [APP=]DIR] [--config FILE]
                   [--addr ADDR] [flags]

Runs the emulated WeChat until SIGINT or SIGTERM: the API on WeChat's own paths (point your
SDK's base URL here instead of https://api.weixin.qq.com), the control API under /_emu/v1, and
pushes to your bots. --target URL is the Official Account's bot, --target-mp URL the Mini
Program's: each kind of app has its own bot, with its own credentials. --function DIR runs a Mini
Program cloud function (云函数) unmodified, its cloud.openapi calls served by this emulator.

Act on it from another terminal with wxemu user, clock, journal, token, faults, record and apps,
or in a browser with the web console it prints, e.g.
  wxemu user alice send text hi
  wxemu journal -f

With --exec CMD, serve runs CMD (sh -c) once the emulator listens and the bots answer their
handshake, with WXEMU_API_BASE, WXEMU_URL, WXEMU_CONTROL_URL, WXEMU_JOURNAL_STREAM,
WXEMU_CONTROL_TOKEN (when set), WXEMU_<ALIAS>_APPID, _APP_SECRET, _TOKEN, _AES_KEY (and
_ORIGINAL_ID, _KIND, _MODE, _FORMAT, _APP) and WXEMU_APPS (all apps as JSON) in its environment; streams its
output, passes SIGINT and SIGTERM to it, stops everything when it exits, writes --export-on-exit,
and exits with its status (128 + N when signal N ended it). --exec-bot CMD starts the bot too,
as wxemu run --exec does.

Flags:
`)
		printFlags(fs.Output(), fs)
	}
	if code := parseFlagsOnly(fs, args, stdout, stderr); code >= 0 {
		return code
	}
	if *printConfig {
		_, _ = stdout.Write(config.DefaultYAML())
		return exitOK
	}

	cfg := config.Default()
	if *cfgPath != "" {
		var err error
		if cfg, err = config.Load(*cfgPath); err != nil {
			fmt.Fprintf(stderr, "wxemu serve: the config has problems:\n%v\n", err)
			return exitUsage
		}
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "fault-seed" {
			cfg.Faults.Seed = *faultSeed
		}
	})
	listen := cfg.Listen
	if *addr != "" {
		listen = *addr
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	fallback, err := sx.prepare()
	if err != nil {
		return usageError(stderr, "serve", "%v", err)
	}
	urls, err := tg.resolve(cfg, fallback)
	if err != nil {
		return usageError(stderr, "serve", "%v", err)
	}
	fo, err := fns.options(cfg)
	if err != nil {
		return usageError(stderr, "serve", "%v", err)
	}
	access, generated, err := af.access(listen)
	if err != nil {
		return usageError(stderr, "serve", "%v", err)
	}
	emu, err := emulator.NewWithFunctions(emulator.Options{Config: cfg, Targets: urls, PushTimeout: *pushTimeout, Logger: logger}, fo)
	if err != nil {
		fmt.Fprintf(stderr, "wxemu serve: %v\n", err)
		return exitUsage
	}
	if *importPath != "" {
		if err := importState(emu.Platform(), *importPath); err != nil {
			fmt.Fprintf(stderr, "wxemu serve: --import %s: %v\n", *importPath, err)
			return exitUsage
		}
	}
	emu.SetControlAccess(access)
	if *consoleDir != "" {
		if st, err := os.Stat(filepath.Join(*consoleDir, "index.html")); err != nil || st.IsDir() {
			return usageError(stderr, "serve", "--console-dir %s: no index.html there; give the console's folder, e.g. emulator/console/static", *consoleDir)
		}
		emu.SetConsoleDir(*consoleDir)
	}
	if err := emu.Start(listen); err != nil {
		fmt.Fprintf(stderr, "wxemu serve: %v\n", err)
		return exitFail
	}
	if !isLoopback(listen) {
		warnExposed(stderr, listen, access.Token, generated)
	}
	// With --exec the command's output is serve's stdout; the banner goes to stderr.
	banner := stdout
	if sx.command != "" {
		banner = stderr
	}
	defer sx.stopBot(stderr) // after emu.Close below: its idle connections would hold the bot
	ctx, stopWaits := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := sx.startBots(ctx, emu, stderr)
	stopWaits()
	if code >= 0 {
		_ = emu.Close()
		return code
	}
	if access.Token != "" {
		fmt.Fprintf(banner, "control token %s — the control API needs Authorization: Bearer TOKEN; the wxemu commands send $%s\n", access.Token, controlTokenEnv)
	}
	printBanner(banner, emu, defaultEmuURL)

	execStatus := -1
	if sx.command != "" {
		fmt.Fprintf(stderr, "wxemu serve: running %s\n", sx.command)
		execStatus = sx.runCommand(emu, access.Token, stdout, stderr)
		fmt.Fprintf(stderr, "wxemu serve: the command exited with status %d, stopping\n", execStatus)
	} else {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(sig)
		s := <-sig
		fmt.Fprintf(stdout, "wxemu serve: %s, stopping\n", s)
	}

	// Stop accepting and let the calls in flight end (a send waiting for its push), so that the
	// export holds what they did; one that takes longer is cut by Close.
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	if err := emu.Drain(ctx); err != nil {
		fmt.Fprintf(stderr, "wxemu serve: calls still in flight after %s are cut: %v\n", drainTimeout, err)
	}
	cancel()
	status := exitOK
	if *exportPath != "" {
		if err := exportState(emu.Platform(), *exportPath); err != nil {
			fmt.Fprintf(stderr, "wxemu serve: --export-on-exit %s: %v\n", *exportPath, err)
			status = exitFail
		} else {
			fmt.Fprintf(banner, "wxemu serve: state written to %s\n", *exportPath)
		}
	}
	if err := emu.Close(); err != nil {
		fmt.Fprintf(stderr, "wxemu serve: stop: %v\n", err)
		status = exitFail
	}
	// serve --exec exits with the command's status; a failure of serve's own turns a passing
	// command's 0 into 1, never a failing command's status into 0.
	if execStatus > 0 || execStatus == 0 && status == exitOK {
		return execStatus
	}
	return status
}

// drainTimeout bounds how long serve waits for calls in flight when stopping: longer than a
// push with its retries at the default deadline (3 × 5 s).
const drainTimeout = 20 * time.Second

func importState(p *platform.Platform, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var snap platform.Snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("not a state export: %w", err)
	}
	return p.Import(&snap)
}

func exportState(p *platform.Platform, path string) error {
	data, err := json.MarshalIndent(p.Export(), "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// printBanner tells a person everything needed to point a bot at the emulator, and what to try
// first, in words that work for how serve was started. defaultBase is the address the remote
// commands use without --emu.
func printBanner(w io.Writer, emu *emulator.Emulator, defaultBase string) {
	base := emu.URL()
	fmt.Fprintf(w, "wxemu %s — the WeChat API is at %s (instead of https://api.weixin.qq.com)\n", readBuildInfo().short(), base)
	fmt.Fprintf(w, "control API %s/_emu/v1 · journal stream %s/_emu/v1/journal/stream · clock %s\n", base, base, emu.Now().Format(time.RFC3339))
	fmt.Fprintf(w, "web console %s\n\n", emu.ConsoleURL())
	var withBot []*platform.App
	for _, a := range emu.Apps() {
		kind, flag := "Official Account", "--target URL"
		if a.Kind == "mp" {
			kind, flag = "Mini Program", "--target-mp URL"
		}
		bot := "no bot yet: give " + flag + " or --target " + a.Alias + "=URL"
		var fns []string
		if h := emu.Functions(); h != nil {
			fns = h.Functions(a.AppID)
		}
		switch {
		case a.Container != nil:
			bot = "pushes to its cloud-hosting container " + a.Container.URL
			withBot = append(withBot, a)
		case a.URL != "" && len(fns) > 0:
			bot = "pushes to " + a.URL + " and to the cloud function " + strings.Join(fns, ", ")
			withBot = append(withBot, a)
		case a.URL != "":
			bot = "pushes to " + a.URL
			withBot = append(withBot, a)
		case len(fns) > 0:
			bot = "pushes to the cloud function " + strings.Join(fns, ", ")
			withBot = append(withBot, a)
		}
		fmt.Fprintf(w, "app %s — %s, %s mode, %s — %s\n", a.Alias, kind, a.Mode, a.Format, bot)
		fmt.Fprintf(w, "  appid           %s\n  secret          %s\n  token           %s\n  EncodingAESKey  %s\n  original id     %s\n",
			a.AppID, a.Secret, a.Token, a.EncodingAESKey, a.OriginalID)
		var users []string
		for _, u := range a.Users {
			users = append(users, u.Name+" "+u.OpenID)
		}
		if len(users) > 0 {
			fmt.Fprintf(w, "  users           %s\n", strings.Join(users, ", "))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "Point your SDK at %s — only the API base URL changes (the README has a section per SDK):\n", base)
	fmt.Fprintf(w, "  wechatpy           API_BASE_URL = \"%s/cgi-bin/\", and fetch_access_token from \"%s/cgi-bin/token\" (hard-coded in wechatpy)\n", base, base)
	fmt.Fprintf(w, "  WxJava             WxMpHostConfig.setApiHost(\"%s\")\n", base)
	fmt.Fprintf(w, "  EasyWeChat 6       'http' => ['base_uri' => '%s/']\n", base)
	fmt.Fprintf(w, "  anything else      send https://api.weixin.qq.com/… to %s/…\n\n", base)
	printTry(w, base, defaultBase, emu.Apps(), withBot)
	fmt.Fprintln(w, "ready")
}

// printTry shows the first commands to try: a message from a user of each app that has a bot,
// with wxemu user and with curl; or, when no app has a bot, how to give one.
func printTry(w io.Writer, base, defaultBase string, apps, withBot []*platform.App) {
	emuFlag := ""
	if base != defaultBase {
		emuFlag = " --emu " + base
	}
	if len(withBot) == 0 {
		fmt.Fprintln(w, "No app has a bot to push to yet. Start your bot, then restart with its callback URL:")
		fmt.Fprintln(w, "  wxemu serve --target http://127.0.0.1:8080/wx          # the Official Account's bot")
		fmt.Fprintln(w, "  wxemu serve --target-mp http://127.0.0.1:8081/wx       # the Mini Program's bot")
		fmt.Fprintf(w, "Meanwhile: wxemu apps%s · wxemu clock%s · wxemu journal -f%s\n", emuFlag, emuFlag, emuFlag)
		return
	}
	fmt.Fprintln(w, "Try, from another terminal:")
	for _, a := range withBot {
		name, openid := tryUser(a)
		// A bare name is the first app's that has a user of that name; others take @alias.
		who := name
		if first := firstAppWithUser(apps, name); first == nil || first.Alias != a.Alias || name == openid {
			who = name + "@" + a.Alias
		}
		text := "hi"
		if a.Kind == "mp" {
			text = "人工"
		}
		fmt.Fprintf(w, "  wxemu user %s send text %s%s\n", who, text, emuFlag)
		fmt.Fprintf(w, "  curl -s -XPOST %s/_emu/v1/users/%s/send -d '{\"app\":\"%s\",\"MsgType\":\"text\",\"Content\":\"%s\"}'\n", base, openid, a.Alias, text)
	}
	fmt.Fprintf(w, "  wxemu journal -f%s                 # every push with its verdict, every API call\n", emuFlag)
}

func firstAppWithUser(apps []*platform.App, name string) *platform.App {
	for _, a := range apps {
		for _, u := range a.Users {
			if u.Name == name || u.OpenID == name {
				return a
			}
		}
	}
	return nil
}

// tryUser is the user the banner's examples speak as: the app's first configured user, or a
// fresh openid (the control API takes any).
func tryUser(a *platform.App) (name, openid string) {
	if len(a.Users) > 0 {
		u := a.Users[0]
		if u.Name != "" {
			return u.Name, u.OpenID
		}
		return u.OpenID, u.OpenID
	}
	return config.DemoAliceOA, config.DemoAliceOA
}
