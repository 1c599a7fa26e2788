package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wxemu/wxemu/emulator"
	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/harness"
	"github.com/wxemu/wxemu/emulator/scenario"
)

// runOptions are the flags of wxemu run.
type runOptions struct {
	targets      targetList
	exec         string
	config       string
	junit        string
	json         bool
	parallel     int
	pushTimeout  time.Duration
	addr         string
	callbackPath string
	readyTimeout time.Duration
	app          string
	verbose      bool
}

func runRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	o := runOptions{targets: targetList{}}
	fs.Var(o.targets, "target", "the bot's callback URL for every app without one, or ALIAS=URL for one app (repeatable)")
	fs.StringVar(&o.exec, "exec", "", "start the bot with sh -c `CMD`, wait for its handshake, run the scenarios, then stop it")
	fs.StringVar(&o.config, "config", "", "YAML config file (default: the embedded demo config)")
	fs.StringVar(&o.junit, "junit", "", "write a JUnit XML report to this file")
	fs.BoolVar(&o.json, "json", false, "print one JSON document instead of the text report (progress goes to stderr)")
	fs.IntVar(&o.parallel, "p", 4, "how many scenarios run at once (those that move the clock or change agents run alone)")
	fs.DurationVar(&o.pushTimeout, "push-timeout", 0, "override the reply deadline of the config (e.g. 1s for fast CI)")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:0", "address of the emulated WeChat API")
	fs.StringVar(&o.callbackPath, "callback-path", "/wx", "the path of the bot's callback URL under --exec")
	fs.DurationVar(&o.readyTimeout, "ready-timeout", 30*time.Second, "how long --exec waits for the bot to answer the handshake")
	fs.StringVar(&o.app, "app", "", "the app whose credentials --exec passes in WXEMU_* (default: the app the scenarios use)")
	fs.BoolVar(&o.verbose, "v", false, "show the bot's output and every journal entry on stderr")
	fs.Usage = func() { runUsage(fs) }
	pos, code := parseInterspersed(fs, args, stdout, stderr)
	if code >= 0 {
		return code
	}
	if len(pos) == 0 {
		return usageError(stderr, "run", "PATH is missing: the scenario files or folders to run")
	}
	if o.parallel < 1 {
		return usageError(stderr, "run", "-p must be at least 1")
	}
	if o.readyTimeout <= 0 {
		return usageError(stderr, "run", "--ready-timeout must be positive")
	}
	if !strings.HasPrefix(o.callbackPath, "/") {
		return usageError(stderr, "run", "--callback-path must start with /, e.g. /wx")
	}
	return runScenarios(o, pos, stdout, stderr)
}

func runUsage(fs *flag.FlagSet) {
	fmt.Fprint(fs.Output(), `Usage: wxemu run [--target URL | --target ALIAS=URL ... | --exec "CMD"] [flags] PATH...

Runs YAML scenarios (files, or folders searched for *.yaml and *.yml) against a bot, on an
emulator of its own. Each scenario gets fresh users, so scenarios run in parallel; those that
move the clock (advance:) or change an agent's status run alone, after the others.

With --exec, wxemu starts the emulator, then the bot with sh -c CMD and these variables:
  WXEMU_API_BASE      the emulated WeChat API (instead of https://api.weixin.qq.com)
  WXEMU_APPID, WXEMU_APP_SECRET, WXEMU_TOKEN, WXEMU_AES_KEY, WXEMU_ORIGINAL_ID,
  WXEMU_FORMAT, WXEMU_MODE, WXEMU_KIND, WXEMU_APP
                      the app's credentials and settings (also WXEMU_<ALIAS>_APPID … per app)
  PORT                a free port the bot must listen on (127.0.0.1)
  WXEMU_CALLBACK_URL  http://127.0.0.1:$PORT/wx, where wxemu pushes
waits for the bot to answer WeChat's GET handshake, runs the scenarios, and stops the bot
(SIGTERM, then SIGKILL after 5 s).

Exit status: 0 when every scenario passes, 1 when one fails (or the bot does not start),
2 when a scenario file is invalid or the command line is wrong.

Flags:
`)
	fs.PrintDefaults()
}

func runScenarios(o runOptions, paths []string, stdout, stderr io.Writer) int {
	cfg := config.Default()
	if o.config != "" {
		var err error
		if cfg, err = config.Load(o.config); err != nil {
			fmt.Fprintf(stderr, "wxemu run: the config has problems:\n%v\n", err)
			return exitUsage
		}
	}
	scenarios, err := scenario.LoadAll(cfg, paths...)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return usageError(stderr, "run", "%v", err)
		}
		problems := scenario.Problems(err)
		fmt.Fprintf(stderr, "wxemu run: %s invalid:\n%v\n", plural(len(problems), "problem makes a scenario file", "problems make scenario files"), err)
		return exitUsage
	}
	if len(scenarios) == 0 {
		return usageError(stderr, "run", "no scenario files (*.yaml, *.yml) under %s", strings.Join(paths, ", "))
	}
	if o.app != "" {
		if _, ok := cfg.App(o.app); !ok {
			return usageError(stderr, "run", "--app %q: no such app%s", o.app, didYouMean(o.app, appKeys(cfg)))
		}
	}
	envApp := o.app
	if envApp == "" {
		envApp = scenarioApp(cfg, scenarios)
	}

	var port int
	var callback string
	if o.exec != "" {
		if port, err = harness.FreePort(); err != nil {
			fmt.Fprintf(stderr, "wxemu run: %v\n", err)
			return exitFail
		}
		callback = "http://127.0.0.1:" + strconv.Itoa(port) + o.callbackPath
		if _, ok := o.targets["*"]; !ok {
			o.targets["*"] = callback
		}
	}
	for _, alias := range usedApps(cfg, scenarios) {
		a, _ := cfg.App(alias)
		_, own := o.targets[a.Alias]
		_, byID := o.targets[a.AppID]
		_, all := o.targets["*"]
		if a.URL == "" && !own && !byID && !all {
			return usageError(stderr, "run", "app %s has no bot to push to: give --target URL, --target %s=URL or --exec CMD", a.Alias, a.Alias)
		}
	}

	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	emu, err := emulator.New(emulator.Options{Config: cfg, Clock: clock.NewOffset(), Targets: o.targets, PushTimeout: o.pushTimeout,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))})
	if err != nil {
		fmt.Fprintf(stderr, "wxemu run: %v\n", err)
		return exitUsage
	}
	if err := emu.Start(o.addr); err != nil {
		fmt.Fprintf(stderr, "wxemu run: %v\n", err)
		return exitFail
	}
	var bot *harness.Bot
	defer func() {
		// The emulator goes first: its idle keep-alive connections to the bot would otherwise
		// hold the bot's graceful shutdown (a connection that never carried a request counts as
		// busy for 5 s).
		_ = emu.Close()
		if bot != nil {
			if err := bot.Stop(5 * time.Second); err != nil {
				fmt.Fprintf(stderr, "wxemu run: stopping the bot: %v\n", err)
			}
		}
	}()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	progress := stdout
	if o.json {
		progress = stderr
	}
	if o.exec != "" {
		app, _ := emu.Platform().App(envApp)
		env := botEnv(emu, app.Alias, port, callback)
		var echo io.Writer
		if o.verbose {
			echo = stderr
		}
		if !app.HasBot() {
			fmt.Fprintf(stderr, "wxemu run: the bot is not ready: app %s has no callback URL\n", app.Alias)
			return exitFail
		}
		bot, err = harness.StartBot(harness.BotSpec{Command: o.exec, Env: env, Output: echo})
		if err != nil {
			fmt.Fprintf(stderr, "wxemu run: --exec: %v\n", err)
			return exitFail
		}
		fmt.Fprintf(progress, "wxemu run: started the bot (pid %d): %s\n", bot.Pid(), o.exec)
		if err := bot.WaitReady(ctx, app.URL, app.Token, o.readyTimeout); err != nil {
			fmt.Fprintf(stderr, "wxemu run: %s\n", notReady(err))
			if out := bot.Output(); out != "" {
				fmt.Fprintf(stderr, "the bot's output:\n%s\n", indentText(out))
			} else {
				fmt.Fprintln(stderr, "the bot printed nothing")
			}
			return exitFail
		}
		fmt.Fprintf(progress, "wxemu run: the bot answers the handshake at %s\n", callback)
	}

	alone := 0
	files := map[string]bool{}
	for _, s := range scenarios {
		files[s.File] = true
		if s.Serial {
			alone++
		}
	}
	fmt.Fprintf(progress, "wxemu run: %s in %s, WeChat API at %s, %d at a time", plural(len(scenarios), "scenario", "scenarios"),
		plural(len(files), "file", "files"), emu.URL(), o.parallel)
	if alone > 0 {
		fmt.Fprintf(progress, ", %d alone (they move the clock or change agents)", alone)
	}
	fmt.Fprintln(progress)

	runner := &scenario.Runner{Platform: emu.Platform(), Parallel: o.parallel,
		OnScenario: func(done, total int, r *scenario.ScenarioResult) { scenario.WriteScenario(progress, r, done, total) }}
	rep := runner.Run(ctx, scenarios)
	if bot != nil && bot.Exited() {
		fmt.Fprintf(stderr, "wxemu run: the bot exited during the run (%v); what it printed:\n%s\n", bot.Err(), indentText(bot.Output()))
	}

	status := exitOK
	if !rep.Passed {
		status = exitFail
	}
	if o.json {
		if err := rep.WriteJSON(stdout); err != nil {
			fmt.Fprintf(stderr, "wxemu run: %v\n", err)
			status = exitFail
		}
	}
	scenario.WriteSummary(progress, rep)
	if o.junit != "" {
		if err := writeJUnit(o.junit, rep); err != nil {
			fmt.Fprintf(stderr, "wxemu run: --junit: %v\n", err)
			status = exitFail
		}
	}
	return status
}

func writeJUnit(path string, rep *scenario.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := rep.WriteJUnit(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func appKeys(cfg *config.Config) []string {
	var keys []string
	for _, a := range cfg.Apps {
		keys = append(keys, a.Alias, a.AppID)
	}
	return keys
}

// usedApps lists the aliases of the apps the scenarios talk to.
func usedApps(cfg *config.Config, scenarios []*scenario.Scenario) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range scenarios {
		if a, ok := cfg.App(s.App); ok && !seen[a.Alias] {
			seen[a.Alias] = true
			out = append(out, a.Alias)
		}
	}
	sort.Strings(out)
	return out
}

// scenarioApp is the app whose credentials a bot started by --exec gets: the one the scenarios
// use, or the first of the config when they use several.
func scenarioApp(cfg *config.Config, scenarios []*scenario.Scenario) string {
	if used := usedApps(cfg, scenarios); len(used) == 1 {
		return used[0]
	}
	return cfg.Apps[0].Alias
}

func indentText(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "  " + l
	}
	return strings.Join(lines, "\n")
}
