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
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
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
	targets      targets
	functions    functionFlags
	exec         string
	config       string
	junit        string
	json         bool
	parallel     int
	pushTimeout  time.Duration
	addr         string
	callbackPath string
	readyTimeout time.Duration
	within       time.Duration
	quiet        time.Duration
	app          string
	verbose      bool
}

func runRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var o runOptions
	o.targets.register(fs)
	o.functions.register(fs)
	fs.StringVar(&o.exec, "exec", "", "start the bot with sh -c `CMD`, wait for its handshake, run the scenarios, then stop it")
	fs.StringVar(&o.config, "config", "", "YAML config `FILE` (default: the wxemu.yaml of the scenarios' folder, or the embedded demo config)")
	fs.StringVar(&o.junit, "junit", "", "write a JUnit XML report to this `FILE`")
	fs.BoolVar(&o.json, "json", false, "print one JSON document instead of the text report (progress goes to stderr)")
	fs.IntVar(&o.parallel, "p", 4, "how many scenarios run at once (those that move the clock or change agents run alone)")
	fs.DurationVar(&o.pushTimeout, "push-timeout", 0, "override the reply deadline of the config (e.g. 1s for fast CI)")
	fs.DurationVar(&o.within, "within", scenario.DefaultWithin, "how long a step waits for the customer-service sends it expects (wall time; a step's sends.within overrides it)")
	fs.DurationVar(&o.quiet, "quiet", scenario.DefaultQuiet, "how long a step then watches for one send too many (wall time; a step's sends.quiet overrides it)")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:0", "address of the emulated WeChat API")
	fs.StringVar(&o.callbackPath, "callback-path", "/wx", "the path of the bot's callback URL under --exec")
	fs.DurationVar(&o.readyTimeout, "ready-timeout", 30*time.Second, "how long to wait for the bot (--exec or --target) to answer the handshake")
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
	if o.within <= 0 {
		return usageError(stderr, "run", "--within must be positive, e.g. 2s")
	}
	if o.quiet <= 0 {
		return usageError(stderr, "run", "--quiet must be positive, e.g. 100ms")
	}
	if !strings.HasPrefix(o.callbackPath, "/") {
		return usageError(stderr, "run", "--callback-path must start with /, e.g. /wx")
	}
	return runScenarios(o, pos, stdout, stderr)
}

func runUsage(fs *flag.FlagSet) {
	fmt.Fprint(fs.Output(), `Usage: wxemu run [--target URL] [--target-mp URL] [--target ALIAS=URL ...] [--exec "CMD"]
                 [--function [APP=]DIR] [flags] PATH...

Runs YAML scenarios (files, or folders searched for *.yaml and *.yml) against a bot, on an
emulator of its own. Each scenario gets fresh users, so scenarios run in parallel; those that
move the clock (advance:) or change an agent's status run alone, after the others.

A folder's wxemu.yaml is its configuration: it is used when every scenario given has the same one
(or none), and a run of folders with different ones is refused. --config names one for all.

--target URL is the Official Account's bot, --target-mp URL the Mini Program's; wxemu makes the
GET handshake with each bot first. --function DIR runs a Mini Program cloud function instead,
unmodified (its node_modules installed): the Mini Program's messages are pushed to it. With
--exec, wxemu starts the emulator, then the bot with sh -c CMD and these variables:
  WXEMU_API_BASE      the emulated WeChat API (instead of https://api.weixin.qq.com)
  WXEMU_APPID, WXEMU_APP_SECRET, WXEMU_TOKEN, WXEMU_AES_KEY, WXEMU_ORIGINAL_ID,
  WXEMU_FORMAT, WXEMU_MODE, WXEMU_KIND, WXEMU_APP
                      the app's credentials and settings (also WXEMU_<ALIAS>_APPID … per app)
  PORT                a free port the bot must listen on (127.0.0.1)
  WXEMU_CALLBACK_URL  http://127.0.0.1:$PORT/wx, where wxemu pushes
waits for the bot to answer WeChat's GET handshake, runs the scenarios, and stops the bot
(SIGTERM, then SIGKILL after 5 s) — also when wxemu is interrupted or its output is closed.

Exit status: 0 when every scenario passes, 1 when one fails (or the bot does not start, or exits during the run),
2 when a scenario file is invalid or the command line is wrong, 130 when interrupted (SIGINT).

Flags:
`)
	printFlags(fs.Output(), fs)
}

// stopSignals end a run: the bot is stopped on each of them. SIGPIPE is among them so that a
// closed stdout (wxemu run … | head) makes a write fail rather than kill wxemu and leave the bot
// running.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE}

// signalStop is a context that ends on the first stop signal, and remembers which.
type signalStop struct {
	ctx    context.Context
	cancel context.CancelFunc
	ch     chan os.Signal
	done   chan struct{}

	mu  sync.Mutex // guards sig
	sig os.Signal

	cmd string // the command its messages name; "" is run
}

func newSignalStop() *signalStop {
	ctx, cancel := context.WithCancel(context.Background())
	s := &signalStop{ctx: ctx, cancel: cancel, ch: make(chan os.Signal, 1), done: make(chan struct{})}
	signal.Notify(s.ch, stopSignals...)
	go func() {
		select {
		case sig := <-s.ch:
			s.mu.Lock()
			s.sig = sig
			s.mu.Unlock()
			cancel()
		case <-s.done:
		}
	}()
	return s
}

// signal is the signal that stopped the run, or nil.
func (s *signalStop) signal() os.Signal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sig
}

func (s *signalStop) stop() {
	signal.Stop(s.ch)
	close(s.done)
	s.cancel()
}

// stopped reports a run ended by a signal, and returns its exit status: 128 + the signal's
// number, as a shell reports it (130 for SIGINT).
func (s *signalStop) stopped(stderr io.Writer, what string) int {
	sig := s.signal()
	n := 0
	if ss, ok := sig.(syscall.Signal); ok {
		n = int(ss)
	}
	cmd := s.cmd
	if cmd == "" {
		cmd = "run"
	}
	switch sig {
	case syscall.SIGPIPE:
		fmt.Fprintf(stderr, "wxemu %s: the output was closed (SIGPIPE); %s\n", cmd, what)
	case os.Interrupt:
		fmt.Fprintf(stderr, "wxemu %s: interrupted; %s\n", cmd, what)
	default:
		fmt.Fprintf(stderr, "wxemu %s: stopped by %s; %s\n", cmd, sig, what)
	}
	return 128 + n
}

func runScenarios(o runOptions, paths []string, stdout, stderr io.Writer) int {
	cfgPath, code := scenarioConfig(o.config, paths, stderr)
	if code >= 0 {
		return code
	}
	cfg := config.Default()
	if cfgPath != "" {
		var err error
		if cfg, err = config.Load(cfgPath); err != nil {
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
	}
	urls, err := o.targets.resolve(cfg, callback)
	if err != nil {
		return usageError(stderr, "run", "%v", err)
	}
	fo, err := o.functions.options(cfg)
	if err != nil {
		return usageError(stderr, "run", "%v", err)
	}
	withFunction := map[string]bool{}
	for _, f := range append(emulator.FunctionSpecs(cfg), fo.Extra...) {
		withFunction[f.App] = true
	}
	for _, alias := range usedApps(cfg, scenarios) {
		a, _ := cfg.App(alias)
		if a.URL == "" && urls[a.Alias] == "" && !withFunction[a.AppID] {
			return usageError(stderr, "run", "%s", missingBot(a, true))
		}
	}

	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	emu, err := emulator.NewWithFunctions(emulator.Options{Config: cfg, Clock: clock.NewOffset(), Targets: urls, PushTimeout: o.pushTimeout,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))}, fo)
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

	sig := newSignalStop()
	defer sig.stop()
	ctx := sig.ctx

	progress := stdout
	if o.json {
		progress = stderr
	}
	if cfgPath != "" && o.config == "" {
		fmt.Fprintf(progress, "wxemu run: the configuration is %s, the scenarios' folder's\n", cfgPath)
	}
	if o.exec != "" {
		app, _ := emu.Platform().App(envApp)
		env := botEnv(emu, app.Alias, port, callback)
		var echo io.Writer
		if o.verbose {
			echo = stderr
		}
		bot, err = harness.StartBot(harness.BotSpec{Command: o.exec, Env: env, Output: echo})
		if err != nil {
			fmt.Fprintf(stderr, "wxemu run: --exec: %v\n", err)
			return exitFail
		}
		fmt.Fprintf(progress, "wxemu run: started the bot (pid %d): %s\n", bot.Pid(), o.exec)
		stopNotes := readyNotes(stderr, callback, o.readyTimeout)
		err := bot.WaitReady(ctx, callback, app.Token, o.readyTimeout)
		stopNotes()
		if sig.signal() != nil {
			return sig.stopped(stderr, "the bot is stopped")
		}
		if err != nil {
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
	// The bots given by URL (--target, or the config's url:) are made to answer the handshake
	// too: a scenario against a bot that is not there would only fail step by step.
	for _, alias := range usedApps(cfg, scenarios) {
		app, _ := emu.Platform().App(alias)
		if app.URL == callback && callback != "" || app.URL == "" && withFunction[app.AppID] {
			continue
		}
		stopNotes := readyNotes(stderr, app.URL, o.readyTimeout)
		err := harness.WaitReady(ctx, app.URL, app.Token, o.readyTimeout)
		stopNotes()
		if sig.signal() != nil {
			return sig.stopped(stderr, "no scenario ran")
		}
		if err != nil {
			fmt.Fprintf(stderr, "wxemu run: app %s: %s\n", app.Alias, targetNotReady(err, app.Token))
			return exitFail
		}
		fmt.Fprintf(progress, "wxemu run: the bot of app %s answers the handshake at %s\n", app.Alias, app.URL)
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

	var mu sync.Mutex // guards done, reported and interrupted
	done, reported, interrupted := 0, 0, 0
	stopNotes := ticker(runNoticeEvery, runNoticeEvery, func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		if done == reported && ctx.Err() == nil {
			fmt.Fprintf(stderr, "wxemu run: still running after %s: %d of %d scenarios done (a step may be waiting for the bot: push timeouts, sends.within)\n", d, done, len(scenarios))
		}
		reported = done
	})
	runner := &scenario.Runner{Platform: emu.Platform(), Parallel: o.parallel, Within: o.within, Quiet: o.quiet,
		OnScenario: func(n, total int, r *scenario.ScenarioResult) {
			mu.Lock()
			done = n
			stopped := ctx.Err() != nil && r.Status != scenario.Passed
			if stopped {
				interrupted++
			}
			mu.Unlock()
			if stopped {
				// A scenario cut short by the signal did not fail: say so, without a report
				// of the steps it could not finish.
				fmt.Fprintf(progress, "[%d/%d] STOPPED %s (%s:%d)\n", n, total, r.Name, r.File, r.Line)
				return
			}
			scenario.WriteScenario(progress, r, n, total)
		}}
	rep := runner.Run(ctx, scenarios)
	stopNotes()
	// A bot that exits on its own during the run has crashed or quit: the run does not pass,
	// even when every check before it did (it may have died of the last step).
	botDied := bot != nil && bot.Exited() && sig.signal() == nil
	if botDied {
		how := "with status 0"
		if err := bot.Err(); err != nil {
			how = "(" + err.Error() + ")"
		}
		fmt.Fprintf(stderr, "wxemu run: the bot exited during the run %s, which fails the run; what it printed:\n%s\n", how, indentText(bot.Output()))
	}
	if sig.signal() != nil {
		mu.Lock()
		ended := len(scenarios) - interrupted
		mu.Unlock()
		passed := 0
		for _, r := range rep.Scenarios {
			if r.Status == scenario.Passed {
				passed++
			}
		}
		what := fmt.Sprintf("%d of %d scenarios ended before it (%d passed, %d failed), no report written", ended, len(scenarios), passed, ended-passed)
		if bot != nil {
			what += "; the bot is stopped"
		}
		return sig.stopped(stderr, what)
	}

	status := exitOK
	if !rep.Passed || botDied {
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

// runNoticeEvery is how long a run goes without a scenario ending before it says it is still
// running.
const runNoticeEvery = 10 * time.Second

// readyNotes says on stderr that wxemu is waiting for a bot's handshake, when it takes long.
func readyNotes(stderr io.Writer, url string, timeout time.Duration) (stop func()) {
	return ticker(2*time.Second, 5*time.Second, func(d time.Duration) {
		fmt.Fprintf(stderr, "wxemu run: waiting for the bot to answer the handshake at %s (%s of %s)…\n", url, d, timeout)
	})
}

// targetNotReady says that a bot given by URL does not answer the handshake, and what to check.
func targetNotReady(err error, token string) string {
	var ne *harness.NotReadyError
	if !errors.As(err, &ne) {
		return "the bot is not ready: " + err.Error()
	}
	switch ne.Reason {
	case harness.BotAnswersWrongly:
		return err.Error() + " (does it check the signature with the app's token, " + token + "?)"
	case harness.BotTimedOut:
		return err.Error() + " (is the bot running, and is this its callback URL? --ready-timeout waits longer)"
	}
	return err.Error()
}

// scenarioConfig decides the configuration of a run: --config when given, otherwise the
// wxemu.yaml of the scenarios' folder — the nearest one from each file up to the path given.
// Scenarios of folders with different configurations cannot share a run: it says which and
// how to run them. It returns the config file ("" for the embedded one), or an exit code ≥ 0.
func scenarioConfig(flagConfig string, paths []string, stderr io.Writer) (string, int) {
	byConfig := map[string][]string{} // config file ("" for none) → scenario files
	var order []string
	for _, root := range paths {
		files, err := scenario.Discover(root)
		if err != nil {
			return "", usageError(stderr, "run", "%v", err)
		}
		for _, f := range files {
			c := folderConfig(root, f)
			if _, ok := byConfig[c]; !ok {
				order = append(order, c)
			}
			byConfig[c] = append(byConfig[c], f)
		}
	}
	if flagConfig != "" {
		var others []string
		for _, c := range order {
			if c != "" && !sameFile(c, flagConfig) {
				others = append(others, c)
			}
		}
		if len(others) == 0 {
			return flagConfig, -1
		}
		fmt.Fprintf(stderr, "wxemu run: --config %s is not the configuration of every folder given:\n", flagConfig)
		listConfigs(stderr, byConfig, order)
		fmt.Fprintln(stderr, "Run the folders with their own wxemu.yaml on their own (without --config, it is used).")
		return "", exitUsage
	}
	switch {
	case len(order) == 0:
		return "", -1
	case len(order) == 1:
		return order[0], -1
	}
	fmt.Fprintln(stderr, "wxemu run: these scenarios have different configurations, and one run has one:")
	listConfigs(stderr, byConfig, order)
	fmt.Fprintln(stderr, "Run each folder on its own, e.g.:")
	for _, c := range order {
		if c != "" {
			fmt.Fprintf(stderr, "  wxemu run [flags] %s\n", filepath.Dir(c))
			break
		}
	}
	return "", exitUsage
}

func listConfigs(w io.Writer, byConfig map[string][]string, order []string) {
	for _, c := range order {
		name := c
		if c == "" {
			name = "(no wxemu.yaml: the embedded demo config)"
		}
		dirs := map[string]bool{}
		var list []string
		for _, f := range byConfig[c] {
			if d := filepath.Dir(f); !dirs[d] {
				dirs[d] = true
				list = append(list, d)
			}
		}
		fmt.Fprintf(w, "  %-44s %s in %s\n", name, plural(len(byConfig[c]), "file", "files"), strings.Join(list, ", "))
	}
}

// folderConfig is the wxemu.yaml (or .yml) of the nearest folder from file up to root, the
// path given on the command line ("" when none has one). A file given alone has its own
// folder's.
func folderConfig(root, file string) string {
	stop := filepath.Clean(root)
	if info, err := os.Stat(root); err == nil && !info.IsDir() {
		stop = filepath.Dir(stop)
	}
	for dir := filepath.Dir(file); ; dir = filepath.Dir(dir) {
		for _, name := range []string{"wxemu.yaml", "wxemu.yml"} {
			p := filepath.Join(dir, name)
			if info, err := os.Stat(p); err == nil && !info.IsDir() {
				return p
			}
		}
		if dir == stop || dir == filepath.Dir(dir) || !strings.HasPrefix(dir, stop) {
			return ""
		}
	}
}

func sameFile(a, b string) bool {
	ia, err1 := os.Stat(a)
	ib, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(ia, ib)
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
