package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/platform"
)

// Exit codes shared by every subcommand.
const (
	exitOK          = 0
	exitFail        = 1   // the check ran and found an error
	exitUsage       = 2   // the command line was wrong
	exitInterrupted = 130 // stopped by SIGINT (128 + 2), as a shell reports it
)

// A command is one subcommand: its group in the help, a line of summary, and the function that
// runs it. Each runs its own flag set, and prints its help on --help.
type command struct {
	name    string
	group   int
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// The groups of the help, in order. The first two say plainly which commands run a WeChat of
// their own and which act on a `wxemu serve` that is already running.
const (
	groupEmulator = iota
	groupOneShot
	groupRemote
	groupOther
)

var groupTitles = [...]string{
	groupEmulator: "Run an emulated WeChat:",
	groupOneShot:  "One-shot checks: a private WeChat of their own, against your bot's callback URL:",
	groupRemote:   "Act on a running `wxemu serve` through its control API (--emu URL, or $WXEMU_URL;\ndefault " + defaultEmuURL + "):",
	groupOther:    "Other:",
}

// commands lists every command in the order the help lists them. It is a function, not a
// table, because help is one of them and reads it.
func commands() []command {
	return []command{
		{"serve", groupEmulator, "run the emulated WeChat: its API for your bot, the control API, pushes to your bot", runServe},
		{"run", groupEmulator, "run YAML scenarios against a bot, on an emulator of its own (CI)", runRun},
		{"load", groupEmulator, "load a bot with many users, on an emulator of its own: throughput, latency, violations", runLoad},
		{"send", groupOneShot, "push one message or event to a callback URL and judge the bot's reply", runSend},
		{"verify", groupOneShot, "make the GET handshake WeChat makes against a callback URL", runVerify},
		{"user", groupRemote, "act as a user: send a message or event, open a window; show the transcript", runUser},
		{"clock", groupRemote, "show the virtual clock, or move it forward", runClock},
		{"journal", groupRemote, "list or follow (-f) every push with its verdict, API call and change", runJournal},
		{"token", groupRemote, "expire or revoke an app's access tokens", runToken},
		{"record", groupRemote, "record what you do as a YAML scenario: start, then stop -o FILE", runRecord},
		{"faults", groupRemote, "add, list or clear fault rules: WeChat's errors, latency, 5xx, drops, duplicate pushes", runFaults},
		{"apps", groupRemote, "list the apps, their credentials and their users", runApps},
		{"help", groupOther, "show the help of wxemu or of a command", runHelp},
		{"version", groupOther, "print the version and the commit wxemu was built from (also --version)", runVersion},
	}
}

func lookupCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func commandNames() []string {
	names := []string{}
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return names
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	case "-version", "--version":
		return runVersion(nil, stdout, stderr)
	}
	cmd, ok := lookupCommand(args[0])
	if !ok {
		if strings.HasPrefix(args[0], "-") {
			fmt.Fprintf(stderr, "wxemu: unknown flag %s: flags come after the command, e.g. wxemu send --url URL text hi\n", args[0])
		} else {
			fmt.Fprintf(stderr, "wxemu: unknown command %q%s\n", args[0], didYouMean(args[0], commandNames()))
		}
		fmt.Fprintln(stderr, "Run 'wxemu help' for the commands.")
		return exitUsage
	}
	return cmd.run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprint(w, `wxemu — an emulator of the WeChat server for customer-service bots

Usage: wxemu <command> [flags] [args]
`)
	for g, title := range groupTitles {
		fmt.Fprintf(w, "\n%s\n", title)
		for _, c := range commands() {
			if c.group == g {
				fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
			}
		}
	}
	fmt.Fprint(w, `
send and verify never talk to a wxemu serve: when a bot that calls wxemu serve's API answers
their user with a customer-service send, it gets 45015, because serve never saw that user.
To play a user of a running wxemu serve, use wxemu user:
  wxemu serve --target http://127.0.0.1:8080/wx      # in one terminal
  wxemu user alice send text hi                      # in another
  wxemu journal -f                                   # and watch what the bot does

Run 'wxemu help <command>' for the flags of a command.
`)
}

// runHelp serves `wxemu help [COMMAND]`: the help of wxemu, or the command's own --help.
func runHelp(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stdout)
		return exitOK
	}
	if len(args) > 1 {
		fmt.Fprintf(stderr, "wxemu help: one command at a time, e.g. wxemu help %s\n", args[0])
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "--help":
		usage(stdout)
		return exitOK
	}
	cmd, ok := lookupCommand(args[0])
	if !ok {
		fmt.Fprintf(stderr, "wxemu help: unknown command %q%s\n", args[0], didYouMean(args[0], commandNames()))
		fmt.Fprintln(stderr, "Run 'wxemu help' for the commands.")
		return exitUsage
	}
	return cmd.run([]string{"--help"}, stdout, stderr)
}

// parseFlags parses fs. Help (-h, --help) goes to stdout, once; a flag error goes to stderr with
// the flag meant and where to find the usage. It returns -1 when parsing succeeded, or the exit
// code the command should stop with.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	help := fs.Usage
	// The flag package prints its error and the whole usage itself; this prints them once, here.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = help
	if err == nil {
		return -1
	}
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		return exitOK
	}
	fs.SetOutput(stderr)
	return usageError(stderr, fs.Name(), "%s", flagError(fs, err))
}

// flagError rewrites the flag package's error in this CLI's words: --name for long flags, and
// the flag meant for one that does not exist.
func flagError(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		if name != "" && (name[0] >= '0' && name[0] <= '9' || name[0] == '.') {
			return fmt.Sprintf("-%s is read as a flag: a value that starts with - goes after --, e.g. -- -%s", name, name)
		}
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		s := "unknown flag " + dashed(name)
		if best, ok := suggest(strings.TrimLeft(name, "-"), names); ok {
			s += " (did you mean " + dashed(best) + "?)"
		}
		return s
	}
	if rest, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return dashed(rest) + " needs a value"
	}
	if i := strings.Index(msg, " for flag -"); i >= 0 {
		// invalid value "x" for flag -timeout: parse error
		name, tail, _ := strings.Cut(msg[i+len(" for flag -"):], ":")
		return msg[:i] + " for " + dashed(name) + ":" + tail
	}
	return msg
}

// dashed writes a flag's name the way the help does: -p, --target.
func dashed(name string) string {
	name = strings.TrimLeft(name, "-")
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// printFlags lists fs's flags like flag.PrintDefaults, with -x for one-letter names and --name
// for the others.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		name, text := flag.UnquoteUsage(f)
		line := "  " + dashed(f.Name)
		if name != "" {
			line += " " + name
		}
		if len(line) <= 4 {
			line += "\t"
		} else {
			line += "\n    \t"
		}
		line += strings.ReplaceAll(text, "\n", "\n    \t")
		if !isZeroValue(f) {
			if fmt.Sprintf("%T", f.Value) == "*flag.stringValue" {
				line += fmt.Sprintf(" (default %q)", f.DefValue)
			} else {
				line += fmt.Sprintf(" (default %v)", f.DefValue)
			}
		}
		fmt.Fprintln(w, line)
	})
}

// isZeroValue reports whether f's default is its type's zero value, which the help leaves out
// (as the flag package does).
func isZeroValue(f *flag.Flag) bool {
	typ := reflect.TypeOf(f.Value)
	var z reflect.Value
	if typ.Kind() == reflect.Pointer {
		z = reflect.New(typ.Elem())
	} else {
		z = reflect.Zero(typ)
	}
	v, ok := z.Interface().(flag.Value)
	return ok && f.DefValue == v.String()
}

// usageError prints a usage problem of subcommand name and returns the usage exit code.
func usageError(stderr io.Writer, name, format string, args ...any) int {
	fmt.Fprintf(stderr, "wxemu %s: %s\n", name, fmt.Sprintf(format, args...))
	fmt.Fprintf(stderr, "Run 'wxemu %s --help' for usage.\n", strings.Fields(name)[0])
	return exitUsage
}

// suggest finds the closest of names to s, when one is close enough to be a likely typo.
func suggest(s string, names []string) (string, bool) { return config.Suggest(s, names) }

// didYouMean suggests the closest of names to s, or nothing when none is close.
func didYouMean(s string, names []string) string { return platform.DidYouMean(s, names) }
