package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/wxemu/wxemu/emulator"
	"github.com/wxemu/wxemu/emulator/cloudfn"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/wire"
)

// functionExcludes are the flags of send that say how to reach a URL: a cloud function is
// reached by no URL, signature, format or encryption, and is invoked once.
var functionExcludes = []string{"url", "kind", "format", "mode", "token", "aes-key", "appid", "original-id", "attempts"}

// functionSend is `wxemu send --function --json`: the verdict, as wxemu send --json prints it,
// and the function's API calls for the user during the push.
type functionSend struct {
	*push.Result
	APICalls []platform.Entry `json:"api_calls"`
}

// sendFunction is wxemu send --function DIR: a private emulator with the embedded default
// config runs the function for the demo Mini Program, alice (or --from) of that app sends msg
// through it, and the report is send's, with the function's customer-service sends.
func sendFunction(fs *flag.FlagSet, app *appFlags, dir, from string, mf *messageFlags, pos []string, stdout, stderr io.Writer) int {
	var stray []string
	timeoutSet := false
	fs.Visit(func(f *flag.Flag) {
		if isOneOf(f.Name, functionExcludes) {
			stray = append(stray, dashed(f.Name))
		}
		timeoutSet = timeoutSet || f.Name == "timeout"
	})
	if len(stray) > 0 {
		return usageError(stderr, "send", "--function pushes to a cloud function, not to a URL: drop %s", strings.Join(stray, ", "))
	}
	msg, err := buildMessage(fs, mf, pos, wire.MP)
	if err != nil {
		return usageError(stderr, "send", "%v", err)
	}
	cfg := config.Default()
	spec, err := emulator.ParseFunctionFlag(cfg, dir)
	if err != nil {
		return usageError(stderr, "send", "%v", err)
	}
	if timeoutSet {
		spec.Timeout = app.timeout
	}
	openid := from
	if openid == "" {
		openid = config.DemoAliceMP
	}

	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	emu, err := emulator.NewWithFunctions(emulator.Options{Config: cfg, Logger: logger}, emulator.FunctionOptions{Extra: []cloudfn.FunctionSpec{spec}})
	if err != nil {
		fmt.Fprintf(stderr, "wxemu send: %v\n", err)
		return exitUsage
	}
	status := func() int {
		if err := emu.Start("127.0.0.1:0"); err != nil {
			fmt.Fprintf(stderr, "wxemu send: %v\n", err)
			return exitFail
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		p := emu.Platform()
		before := p.LastSeq()
		in, err := p.UserSends(ctx, spec.App, openid, *msg)
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "wxemu send: interrupted")
			return exitInterrupted
		}
		switch {
		case errors.Is(err, platform.ErrNoBot):
			return usageError(stderr, "send", "the function does not receive %s: a Mini Program's cloud function gets text, image, miniprogrampage and event user_enter_tempsession", describeMessage(msg))
		case errors.Is(err, platform.ErrBadMessage):
			return usageError(stderr, "send", "%v", err)
		case err != nil:
			fmt.Fprintf(stderr, "wxemu send: %v\n", err)
			return exitFail
		case in.Result == nil:
			fmt.Fprintf(stderr, "wxemu send: the message was not pushed (routed %s)\n", in.Routed)
			return exitFail
		}
		calls := p.Journal(platform.JournalFilter{App: in.App, User: openid, Kind: platform.KindAPI, Since: before})
		return reportFunctionSend(stdout, stderr, app.json, in, calls)
	}()
	if err := emu.Close(); err != nil {
		fmt.Fprintf(stderr, "wxemu send: stop the function: %v\n", err)
		if status == exitOK {
			status = exitFail
		}
	}
	return status
}

func reportFunctionSend(stdout, stderr io.Writer, asJSON bool, in *platform.Interaction, calls []platform.Entry) int {
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if calls == nil {
			calls = []platform.Entry{}
		}
		if err := enc.Encode(functionSend{Result: in.Result, APICalls: calls}); err != nil {
			fmt.Fprintf(stderr, "wxemu send: %v\n", err)
			return exitFail
		}
	} else {
		printResult(stdout, pushApp{AppID: in.App, Kind: string(wire.MP)}, in.Result)
		for _, k := range in.Transfer {
			fmt.Fprintf(stdout, "kf         %s\n", kfEventText(k))
		}
		if len(calls) > 0 {
			// The entries as the control API shows them, as wxemu user NAME send reads them.
			var entries []journalEntry
			if b, err := json.Marshal(calls); err == nil {
				_ = json.Unmarshal(b, &entries)
			}
			printAPICalls(stdout, userLabel(in.OpenID), entries)
		}
	}
	if in.Result.HasError() {
		return exitFail
	}
	return exitOK
}

// userLabel names the demo Mini Program's alice by name, any other user by openid.
func userLabel(openid string) string {
	if openid == config.DemoAliceMP {
		return "alice"
	}
	return openid
}
