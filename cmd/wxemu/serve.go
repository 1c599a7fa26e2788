package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/wxemu/wxemu/emulator"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/platform"
)

// targetList collects --target values: a URL for every app without one, or alias=URL.
type targetList map[string]string

func (t targetList) String() string { return fmt.Sprint(map[string]string(t)) }
func (t targetList) Set(v string) error {
	if key, url, ok := strings.Cut(v, "="); ok && !strings.Contains(key, "/") {
		t[key] = url
		return nil
	}
	t["*"] = v
	return nil
}

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "", "address to listen on (default from the config: 127.0.0.1:7700)")
	cfgPath := fs.String("config", "", "YAML config file (default: the embedded demo config; see --print-config)")
	targets := targetList{}
	fs.Var(targets, "target", "the bot's callback URL for every app without one, or ALIAS=URL for one app (repeatable)")
	importPath := fs.String("import", "", "import state from this file (a GET /_emu/v1/state export) at start")
	exportPath := fs.String("export-on-exit", "", "write all state to this file when stopping")
	printConfig := fs.Bool("print-config", false, "print the embedded default config and exit")
	pushTimeout := fs.Duration("push-timeout", 0, "override the reply deadline of the config (e.g. 1s for fast CI)")
	verbose := fs.Bool("v", false, "log every journal entry to stderr")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: wxemu serve [--target URL] [--config FILE] [--addr ADDR] [flags]

Runs the emulated WeChat: the API on WeChat's own paths (point your SDK's base URL here instead
of https://api.weixin.qq.com), the control API under /_emu/v1, and pushes to your bot.

Flags:
`)
		fs.PrintDefaults()
	}
	pos, code := parseInterspersed(fs, args, stdout, stderr)
	if code >= 0 {
		return code
	}
	if len(pos) > 0 {
		return usageError(stderr, "serve", "unexpected argument %q", pos[0])
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
	listen := cfg.Listen
	if *addr != "" {
		listen = *addr
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	emu, err := emulator.New(emulator.Options{Config: cfg, Targets: targets, PushTimeout: *pushTimeout, Logger: logger})
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
	if err := emu.Start(listen); err != nil {
		fmt.Fprintf(stderr, "wxemu serve: %v\n", err)
		return exitFail
	}
	printBanner(stdout, emu)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	s := <-sig
	fmt.Fprintf(stdout, "wxemu serve: %s, stopping\n", s)

	status := exitOK
	if *exportPath != "" {
		if err := exportState(emu.Platform(), *exportPath); err != nil {
			fmt.Fprintf(stderr, "wxemu serve: --export-on-exit %s: %v\n", *exportPath, err)
			status = exitFail
		} else {
			fmt.Fprintf(stdout, "wxemu serve: state written to %s\n", *exportPath)
		}
	}
	if err := emu.Close(); err != nil {
		fmt.Fprintf(stderr, "wxemu serve: stop: %v\n", err)
		status = exitFail
	}
	return status
}

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

// printBanner tells a person everything needed to point a bot at the emulator.
func printBanner(w io.Writer, emu *emulator.Emulator) {
	base := emu.URL()
	fmt.Fprintf(w, "wxemu %s — the WeChat API is at %s (instead of https://api.weixin.qq.com)\n", version, base)
	fmt.Fprintf(w, "control API %s/_emu/v1 · journal stream %s/_emu/v1/journal/stream · clock %s\n\n", base, base, emu.Now().Format(time.RFC3339))
	for _, a := range emu.Apps() {
		kind := "Official Account"
		if a.Kind == "mp" {
			kind = "Mini Program"
		}
		bot := "no bot yet: give --target URL or --target " + a.Alias + "=URL"
		if a.URL != "" {
			bot = "pushes to " + a.URL
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
	fmt.Fprintf(w, "  wechatpy           WeChatClient(appid, secret); client.API_BASE_URL = \"%s/cgi-bin/\"\n", base)
	fmt.Fprintf(w, "  WxJava             WxMpHostConfig.setApiHost(\"%s\")\n", base)
	fmt.Fprintf(w, "  EasyWeChat 6       'http' => ['base_uri' => '%s/']\n", base)
	fmt.Fprintf(w, "  anything else      send https://api.weixin.qq.com/… to %s/…\n\n", base)
	fmt.Fprintf(w, "Try: curl -s -XPOST %s/_emu/v1/users/%s/send -d '{\"app\":\"oa\",\"MsgType\":\"text\",\"Content\":\"hi\"}'\n", base, config.DemoAliceOA)
	fmt.Fprintln(w, "ready")
}
