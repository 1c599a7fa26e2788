package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/wxemu/wxemu/emulator"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/wire"
)

func runVerify(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	var app appFlags
	app.register(fs, false)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: wxemu verify --url URL [--token TOKEN] [--timeout D] [--json]

Makes the GET handshake WeChat makes when a developer saves the callback URL: signature,
timestamp, nonce and a random echostr. Passes only if the bot answers 200 with exactly the
echostr. Exit status: 0 on pass, 1 on fail, 2 for a usage error.

Flags:
`)
		fs.PrintDefaults()
	}
	if code := parseFlagsOnly(fs, args, stdout, stderr); code >= 0 {
		return code
	}
	if app.url == "" {
		return usageError(stderr, "verify", "--url is required: the bot's callback URL, e.g. http://127.0.0.1:8080/wx")
	}
	if app.timeout <= 0 {
		return usageError(stderr, "verify", "--timeout must be positive")
	}
	t, err := push.NewTarget(push.App{Kind: wire.OA, AppID: emulator.DemoAppID, OriginalID: emulator.DemoOriginalID, Token: app.token, URL: app.url})
	if err != nil {
		return usageError(stderr, "verify", "%v", err)
	}
	e := push.New(push.Config{Timeout: app.timeout})
	defer e.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	r := e.Verify(ctx, t)

	if app.json {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		_ = enc.Encode(r)
	} else {
		fmt.Fprintf(stdout, "→ GET %s\n", r.URL)
		if r.Error != "" {
			fmt.Fprintf(stdout, "← %s\n", r.Error)
		} else {
			fmt.Fprintf(stdout, "← HTTP %d, %.1f ms: %q\n", r.Status, r.DurationMS, r.Body)
		}
		if r.Pass {
			fmt.Fprintf(stdout, "pass: the bot answered the echostr %s\n", r.Echostr)
		} else {
			fmt.Fprintln(stdout, "fail")
			printViolations(stdout, r.Violations)
		}
	}
	if !r.Pass {
		return exitFail
	}
	return exitOK
}
