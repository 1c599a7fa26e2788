package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wxemu/wxemu/emulator"
	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/harness"
	"github.com/wxemu/wxemu/emulator/load"
	"github.com/wxemu/wxemu/emulator/wire"
)

// loadOptions are the flags of wxemu load.
type loadOptions struct {
	targets        targets
	functions      functionFlags
	exec           string
	config         string
	app            string
	mode           string
	users          int
	rate           rateFlag
	concurrency    int
	duration       time.Duration
	pushes         int
	mix            string
	text           string
	scenario       string
	json           bool
	progress       bool
	maxP99         time.Duration
	maxFailed      string
	pushTimeout    time.Duration
	addr           string
	callbackPath   string
	readyTimeout   time.Duration
	journalEntries int
	verbose        bool
}

// rateFlag is --rate: pushes per second, written 200 or 200/s.
type rateFlag float64

func (r *rateFlag) String() string { return strconv.FormatFloat(float64(*r), 'f', -1, 64) }

func (r *rateFlag) Set(v string) error {
	s := strings.TrimSuffix(strings.TrimSpace(v), "/s")
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		return fmt.Errorf("%q is not a rate: write pushes per second, e.g. 200 or 200/s", v)
	}
	*r = rateFlag(f)
	return nil
}

// loadTranscriptLines is how many transcript lines a user of a load run keeps: enough to look
// at, and a bound on the memory of many users sending for long.
const loadTranscriptLines = 50

func runLoad(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	var o loadOptions
	o.targets.register(fs)
	o.functions.register(fs)
	fs.StringVar(&o.exec, "exec", "", "start the bot with sh -c `CMD` (as wxemu run --exec does), load it, then stop it")
	fs.StringVar(&o.config, "config", "", "YAML config `FILE` (default: the embedded demo config)")
	fs.StringVar(&o.app, "app", "", "the app whose bot is loaded, alias or appid (default: the scenario's, the function's, the Mini Program's with only --target-mp, else the first app)")
	fs.StringVar(&o.mode, "mode", "", "push in this encryption `MODE` (plain, compat, safe) instead of the config's")
	fs.IntVar(&o.users, "users", 10, "how many users send; each sends one message at a time")
	fs.Var(&o.rate, "rate", "open model: start `R` pushes per second (200 or 200/s) whatever the bot does; a push with no free user starts late (counted), and those left at the end are counted as unsent")
	fs.IntVar(&o.concurrency, "concurrency", 0, "closed model: how many users send at once, each its next message when the last is answered (default --users)")
	fs.DurationVar(&o.duration, "duration", 0, "how long pushes start (e.g. 30s); default 10s unless --pushes is given")
	fs.IntVar(&o.pushes, "pushes", 0, "stop after this many pushes")
	fs.StringVar(&o.mix, "mix", load.DefaultMix, "what the users send, by weight, e.g. text=70,click=20,image=10 (message types and events)")
	fs.StringVar(&o.text, "text", "hi", "the content of the mix's text messages")
	fs.StringVar(&o.scenario, "scenario", "", "a scenario `FILE` whose steps that send are each user's script, run again and again (instead of --mix)")
	fs.BoolVar(&o.json, "json", false, "print the report as one JSON document (no progress unless --progress)")
	fs.BoolVar(&o.progress, "progress", false, "print progress to stderr every second (default: when stderr is a terminal)")
	fs.DurationVar(&o.maxP99, "max-p99", 0, "fail (exit 1) when the p99 latency is above this `DURATION`")
	fs.StringVar(&o.maxFailed, "max-failed", "0", "fail (exit 1) when more pushes failed than `N` or P% (a failure line, or an error violation)")
	fs.DurationVar(&o.pushTimeout, "push-timeout", 0, "override the reply deadline of the config (e.g. 1s)")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:0", "address of the emulated WeChat API")
	fs.StringVar(&o.callbackPath, "callback-path", "/wx", "the path of the bot's callback URL under --exec")
	fs.DurationVar(&o.readyTimeout, "ready-timeout", 30*time.Second, "how long to wait for the bot to answer the handshake")
	fs.IntVar(&o.journalEntries, "journal-entries", 1000, "how many journal entries the run keeps (the newest)")
	fs.BoolVar(&o.verbose, "v", false, "show the bot's output on stderr")
	fs.Usage = func() { loadUsage(fs) }
	if code := parseFlagsOnly(fs, args, stdout, stderr); code >= 0 {
		return code
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	switch {
	case o.users < 1:
		return usageError(stderr, "load", "--users must be at least 1")
	case o.concurrency < 0:
		return usageError(stderr, "load", "--concurrency must be at least 1")
	case given["rate"] && given["concurrency"]:
		return usageError(stderr, "load", "--rate (open model) and --concurrency (closed model) exclude each other: give one")
	case o.rate == 0 && o.concurrency > o.users:
		return usageError(stderr, "load", "--concurrency %d is more than --users %d: a user sends one message at a time; give --users %d or more", o.concurrency, o.users, o.concurrency)
	case o.duration < 0:
		return usageError(stderr, "load", "--duration must be positive, e.g. 30s")
	case o.pushes < 0:
		return usageError(stderr, "load", "--pushes must be positive")
	case given["scenario"] && given["mix"]:
		return usageError(stderr, "load", "--scenario and --mix exclude each other: the scenario is what each user sends")
	case o.readyTimeout <= 0:
		return usageError(stderr, "load", "--ready-timeout must be positive")
	case o.journalEntries < 1:
		return usageError(stderr, "load", "--journal-entries must be at least 1")
	case !strings.HasPrefix(o.callbackPath, "/"):
		return usageError(stderr, "load", "--callback-path must start with /, e.g. /wx")
	case o.exec != "" && (o.targets.given() || len(o.functions) > 0):
		return usageError(stderr, "load", "--exec starts the bot; do not give --target or --function with it")
	}
	if o.duration == 0 && o.pushes == 0 {
		o.duration = 10 * time.Second
	}
	th := load.Thresholds{MaxP99: o.maxP99}
	var err error
	if th.MaxFailed, th.FailedPct, err = load.ParseMaxFailed(o.maxFailed); err != nil {
		return usageError(stderr, "load", "--max-failed %v", err)
	}
	if o.maxP99 < 0 {
		return usageError(stderr, "load", "--max-p99 must be positive, e.g. 200ms")
	}

	cfg := config.Default()
	if o.config != "" {
		if cfg, err = config.Load(o.config); err != nil {
			fmt.Fprintf(stderr, "wxemu load: the config has problems:\n%v\n", err)
			return exitUsage
		}
	}
	// Deviation: a load run keeps only the newest journal entries (--journal-entries, default
	// 1000), whatever journal.max_entries says: the report is made of aggregates, and the
	// journal is kept for looking at the last pushes, bounded so the run's memory stays flat.
	cfg.Journal.MaxEntries = o.journalEntries

	var script *load.Script
	if o.scenario != "" {
		if script, err = load.LoadScript(cfg, o.scenario); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return usageError(stderr, "load", "--scenario: %v", err)
			}
			fmt.Fprintf(stderr, "wxemu load: --scenario %s is invalid:\n%v\n", o.scenario, err)
			return exitUsage
		}
	}
	appKey := o.app
	if appKey == "" && script != nil {
		appKey = script.App
	}
	if appKey == "" {
		appKey = defaultLoadApp(&o, cfg)
	}
	ca, ok := cfg.App(appKey)
	if !ok {
		return usageError(stderr, "load", "--app %q: no such app%s; the apps are %s", appKey, didYouMean(appKey, appKeys(cfg)), strings.Join(aliases(cfg), ", "))
	}
	if o.mode != "" {
		switch o.mode {
		case config.ModePlain, "compat", "safe":
		default:
			return usageError(stderr, "load", "--mode %q: write plain, compat or safe%s", o.mode, didYouMean(o.mode, []string{"plain", "compat", "safe"}))
		}
		if o.mode != config.ModePlain && ca.EncodingAESKey == "" {
			return usageError(stderr, "load", "--mode %s: app %s has no encoding_aes_key in the config, and %s mode encrypts with it", o.mode, ca.Alias, o.mode)
		}
		ca.Mode = o.mode
	}
	var mix load.Mix
	if script == nil {
		if mix, err = load.ParseMix(o.mix, wire.Kind(ca.Kind), o.text); err != nil {
			return usageError(stderr, "load", "--mix: %v", err)
		}
	}

	sig := newSignalStop()
	sig.cmd = "load"
	defer sig.stop()
	emu, stopAll, code := startLoadTarget(&o, cfg, ca, stdout, stderr, sig)
	if code >= 0 {
		return code
	}
	defer stopAll()
	if script != nil && script.Skipped > 0 {
		fmt.Fprintf(stderr, "wxemu load: each user sends the %d messages of %q; its %d other steps (agents, clock, tokens, checks) are not run under load\n",
			len(script.Messages), script.Name, script.Skipped)
	}
	if script != nil && script.Faults > 0 {
		fmt.Fprintf(stderr, "wxemu load: the %d fault rule(s) of %q are not applied under load; to load the bot with faults, give them in the config (faults.rules, users by openid) with --config\n",
			script.Faults, script.Name)
	}

	runner, err := load.New(load.Options{Platform: emu.Platform(), App: ca.Alias, Users: o.users, Rate: float64(o.rate),
		Concurrency: o.concurrency, Duration: o.duration, Pushes: o.pushes, Mix: mix, Script: script})
	if err != nil {
		return usageError(stderr, "load", "%v", err)
	}
	// Deviation: wxemu load collects garbage at 9× its live heap (GOGC=800 unless GOGC is
	// set): its memory is bounded and small, and the pushes get the CPU.
	defer load.TuneGC()()
	showProgress := o.progress || !o.json && isTerminal(stderr)
	stopProgress := func() {}
	if showProgress {
		stopProgress = loadProgress(stderr, runner)
	}
	rep := runner.Run(sig.ctx)
	stopProgress()
	if sig.signal() != nil {
		return sig.stopped(stderr, fmt.Sprintf("%d messages sent, the pushes in flight cut; no report", rep.Sent))
	}
	rep.Judge(th)
	if o.json {
		if err := rep.WriteJSON(stdout); err != nil {
			fmt.Fprintf(stderr, "wxemu load: %v\n", err)
			return exitFail
		}
	} else {
		rep.WriteText(stdout)
	}
	if !rep.Passed {
		return exitFail
	}
	return exitOK
}

// startLoadTarget starts the emulator and makes sure the loaded app's bot is there: started by
// --exec, or given by --target / the config (its handshake answered), or a cloud function.
// stop stops both. code ≥ 0 means the run cannot go on.
func startLoadTarget(o *loadOptions, cfg *config.Config, ca *config.App, stdout, stderr io.Writer, sig *signalStop) (emu *emulator.Emulator, stop func(), code int) {
	var port int
	var callback string
	var err error
	if o.exec != "" {
		if port, err = harness.FreePort(); err != nil {
			fmt.Fprintf(stderr, "wxemu load: %v\n", err)
			return nil, nil, exitFail
		}
		callback = "http://127.0.0.1:" + strconv.Itoa(port) + o.callbackPath
	}
	urls, err := o.targets.resolve(cfg, callback)
	if err != nil {
		return nil, nil, usageError(stderr, "load", "%v", err)
	}
	fo, err := o.functions.options(cfg)
	if err != nil {
		return nil, nil, usageError(stderr, "load", "%v", err)
	}
	withFunction := false
	for _, f := range append(emulator.FunctionSpecs(cfg), fo.Extra...) {
		withFunction = withFunction || f.App == ca.AppID
	}
	if ca.URL == "" && urls[ca.Alias] == "" && ca.Container == nil && !withFunction {
		return nil, nil, usageError(stderr, "load", "%s", missingBot(ca, true))
	}
	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelInfo
	}
	emu, err = emulator.NewWithFunctions(emulator.Options{Config: cfg, Clock: clock.NewOffset(), Targets: urls, PushTimeout: o.pushTimeout,
		TranscriptLines: loadTranscriptLines, Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))}, fo)
	if err != nil {
		fmt.Fprintf(stderr, "wxemu load: %v\n", err)
		return nil, nil, exitUsage
	}
	if err := emu.Start(o.addr); err != nil {
		fmt.Fprintf(stderr, "wxemu load: %v\n", err)
		return nil, nil, exitFail
	}
	var bot *harness.Bot
	stop = func() {
		// The emulator first: its idle connections to the bot would hold the bot's shutdown.
		_ = emu.Close()
		if bot != nil {
			if err := bot.Stop(5 * time.Second); err != nil {
				fmt.Fprintf(stderr, "wxemu load: stopping the bot: %v\n", err)
			}
		}
	}
	app, _ := emu.Platform().App(ca.Alias)
	switch {
	case o.exec != "":
		var echo io.Writer
		if o.verbose {
			echo = stderr
		}
		bot, err = harness.StartBot(harness.BotSpec{Command: o.exec, Env: botEnv(emu, app.Alias, port, callback), Output: echo})
		if err != nil {
			stop()
			fmt.Fprintf(stderr, "wxemu load: --exec: %v\n", err)
			return nil, nil, exitFail
		}
		stopNotes := readyNotes(stderr, callback, o.readyTimeout)
		err = bot.WaitReady(sig.ctx, callback, app.Token, o.readyTimeout)
		stopNotes()
		if sig.signal() != nil {
			stop()
			return nil, nil, sig.stopped(stderr, "the bot is stopped")
		}
		if err != nil {
			fmt.Fprintf(stderr, "wxemu load: %s\n", notReady(err))
			if out := bot.Output(); out != "" {
				fmt.Fprintf(stderr, "the bot's output:\n%s\n", indentText(out))
			}
			stop()
			return nil, nil, exitFail
		}
	case app.URL != "" && app.Container == nil:
		err = harness.WaitReady(sig.ctx, app.URL, app.Token, o.readyTimeout)
		if sig.signal() != nil {
			stop()
			return nil, nil, sig.stopped(stderr, "no push was made")
		}
		if err != nil {
			fmt.Fprintf(stderr, "wxemu load: app %s: %s\n", app.Alias, targetNotReady(err, app.Token))
			stop()
			return nil, nil, exitFail
		}
	}
	return emu, stop, -1
}

// defaultLoadApp is the app a run without --app or a scenario loads: the app of the first
// --function, the first Mini Program when only --target-mp is given, else the first app.
func defaultLoadApp(o *loadOptions, cfg *config.Config) string {
	if fo, err := o.functions.options(cfg); err == nil && len(fo.Extra) > 0 {
		return fo.Extra[0].App
	}
	if o.targets.mp != "" && o.targets.oa == "" {
		for _, a := range cfg.Apps {
			if a.Kind == "mp" {
				return a.Alias
			}
		}
	}
	return cfg.Apps[0].Alias
}

// loadProgress prints the run so far to w every second, until stop.
func loadProgress(w io.Writer, r *load.Runner) (stop func()) {
	var last int64
	var lastAt time.Duration
	return ticker(time.Second, time.Second, func(time.Duration) {
		p := r.Progress()
		rate := 0.0
		if dt := p.Elapsed - lastAt; dt > 0 {
			rate = float64(p.Counts.Sent-last) / dt.Seconds()
		}
		last, lastAt = p.Counts.Sent, p.Elapsed
		fmt.Fprintf(w, "wxemu load: %3.0fs  %d sent  %.0f/s  p50 %s  p99 %s  failed %d  violations %d  API errors %d",
			p.Elapsed.Seconds(), p.Counts.Sent, rate, p.Latency.Quantile(0.5).Round(10*time.Microsecond),
			p.Latency.Quantile(0.99).Round(10*time.Microsecond), p.Counts.Failed+p.Counts.Errors, p.Breaches, p.APIErrs)
		if p.Late > 0 {
			fmt.Fprintf(w, "  late %d", p.Late)
		}
		fmt.Fprintln(w)
	})
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

func loadUsage(fs *flag.FlagSet) {
	fmt.Fprint(fs.Output(), `Usage: wxemu load [--target URL | --exec "CMD" | --function DIR] [--users N]
                  [--rate R/s | --concurrency C] [--duration D | --pushes N]
                  [--mix text=70,click=20,image=10 | --scenario FILE] [flags]

Loads a bot through the whole emulated WeChat, on an emulator of its own: every push is signed,
encrypted in the app's mode, judged, and changes state; the bot's API calls are served with
their windows and quotas. Users are load_000001, load_000002, …; each sends one message at a
time. Progress goes to stderr every second (on a terminal, or with --progress), then a report:
throughput; latency p50, p90, p99 and max against WeChat's deadline; how many pushes WeChat
would have retried or given up on; the violations by rule; the bot's API calls by errcode.

The closed model (default) keeps --concurrency users sending, each its next message as soon as
the last is answered. The open model (--rate) starts pushes at a fixed rate whatever the bot
does; a push that finds no free user starts late and is counted as late, and the pushes still
waiting for one at the end are counted as unsent: nothing is dropped silently, and the run ends
on time.

--mix names message types (text, image, voice, video, shortvideo, location, link,
miniprogrampage) and events (click, view, subscribe, scan, user_enter_tempsession, …) with their
weights; each is sent with demo values, a text with --text. --scenario FILE makes each user run
the scenario's steps that send, again and again.

Exit status: 0 when the run passes its thresholds (--max-failed, default 0: a push that failed
or broke a rule with an error fails the run; --max-p99), 1 when it does not or the bot does not
start, 2 when the command line, the config or the scenario is wrong, 130 when interrupted.

Flags:
`)
	printFlags(fs.Output(), fs)
}
