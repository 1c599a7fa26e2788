package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"

	"github.com/wxemu/wxemu/emulator/platform"
)

// Exit codes shared by every subcommand.
const (
	exitOK    = 0
	exitFail  = 1 // the check ran and found an error
	exitUsage = 2 // the command line was wrong
)

type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

var commands = map[string]command{
	"serve":   {"run the emulated WeChat API, the control API and pushes to your bot", runServe},
	"run":     {"run YAML scenarios against a bot (CI)", runRun},
	"send":    {"push one message or event to a bot and judge its reply", runSend},
	"verify":  {"make the GET handshake against a bot's callback URL", runVerify},
	"version": {"print the version", runVersion},
}

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		usage(stdout)
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "wxemu: unknown command %q%s\n\n", args[0], didYouMean(args[0], commandNames()))
		usage(stderr)
		return exitUsage
	}
	return cmd.run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "wxemu — an emulator of the WeChat server for customer-service bots")
	fmt.Fprintln(w, "\nUsage: wxemu <command> [flags] [args]\n\nCommands:")
	for _, name := range commandNames() {
		fmt.Fprintf(w, "  %-8s %s\n", name, commands[name].summary)
	}
	fmt.Fprintln(w, "\nRun 'wxemu <command> --help' for the flags of a command.")
}

func runVersion(_ []string, stdout, _ io.Writer) int {
	fmt.Fprintln(stdout, "wxemu", version)
	return exitOK
}

func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// parseFlags parses fs and turns flag's own errors into the exit code for usage errors.
// It returns -1 when parsing succeeded.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return exitOK
		}
		return exitUsage
	}
	return -1
}

// usageError prints a usage problem of subcommand name and returns the usage exit code.
func usageError(stderr io.Writer, name, format string, args ...any) int {
	fmt.Fprintf(stderr, "wxemu %s: %s\n", name, fmt.Sprintf(format, args...))
	fmt.Fprintf(stderr, "Run 'wxemu %s --help' for usage.\n", name)
	return exitUsage
}

// didYouMean suggests the closest of names to s, or nothing when none is close.
func didYouMean(s string, names []string) string { return platform.DidYouMean(s, names) }
