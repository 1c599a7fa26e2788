package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/wxemu/wxemu/emulator"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/wire"
)

// appFlags are the flags that describe the app on WeChat's side; send and verify share them.
type appFlags struct {
	url, kind, format, mode, token, aesKey, appID, originalID string
	timeout                                                   time.Duration
	attempts                                                  int
	json                                                      bool
}

func (a *appFlags) register(fs *flag.FlagSet, full bool) {
	fs.StringVar(&a.url, "url", "", "the bot's callback `URL` (required)")
	if full {
		fs.StringVar(&a.token, "token", "", "the app's Token (default: the demo app's of --kind: "+config.DemoOAToken+", or "+config.DemoMPToken+" for mp)")
	} else {
		fs.StringVar(&a.token, "token", emulator.DemoToken, "the app's Token")
	}
	fs.DurationVar(&a.timeout, "timeout", 5*time.Second, "how long WeChat waits for an answer")
	fs.BoolVar(&a.json, "json", false, "print one JSON object instead of the human report")
	if !full {
		return
	}
	fs.StringVar(&a.kind, "kind", "oa", "account kind: oa (Official Account) or mp (Mini Program); the credentials default to that demo app's")
	fs.StringVar(&a.format, "format", "", "push format: xml, or json for a Mini Program (default xml)")
	fs.StringVar(&a.mode, "mode", "plain", "encryption mode: plain, compat or safe")
	fs.StringVar(&a.aesKey, "aes-key", "", "the app's EncodingAESKey, 43 characters (default: the demo app's of --kind)")
	fs.StringVar(&a.appID, "appid", "", "the app's AppID (default: the demo app's of --kind: "+config.DemoOAAppID+", or "+config.DemoMPAppID+" for mp)")
	fs.StringVar(&a.originalID, "original-id", "", "the account's original id, gh_… (default: the demo app's of --kind)")
	fs.IntVar(&a.attempts, "attempts", 3, "how many times WeChat sends a message that gets no answer")
}

// demoDefaults fills the credentials left out with the demo app of the kind: the Mini
// Program's are not the Official Account's, and a bot checks the signature with its own token.
func (a *appFlags) demoDefaults(kind wire.Kind) {
	token, aesKey, appID, originalID := config.DemoOAToken, config.DemoOAEncodingAESKey, config.DemoOAAppID, config.DemoOAOriginalID
	if kind == wire.MP {
		token, aesKey, appID, originalID = config.DemoMPToken, config.DemoMPEncodingAESKey, config.DemoMPAppID, config.DemoMPOriginalID
	}
	for _, f := range []struct {
		v   *string
		def string
	}{{&a.token, token}, {&a.aesKey, aesKey}, {&a.appID, appID}, {&a.originalID, originalID}} {
		if *f.v == "" {
			*f.v = f.def
		}
	}
}

func (a *appFlags) target() (*push.Target, error) {
	if a.url == "" {
		return nil, fmt.Errorf("--url is required: the bot's callback URL, e.g. http://127.0.0.1:8080/wx")
	}
	kind := wire.Kind(strings.ToLower(a.kind))
	if kind == "" {
		kind = wire.OA
	}
	if kind != wire.OA && kind != wire.MP {
		return nil, fmt.Errorf("--kind %q: use oa or mp", a.kind)
	}
	a.demoDefaults(kind)
	format := wire.Format(strings.ToLower(a.format))
	if format == "" {
		format = wire.XML
	}
	mode := wire.Mode(strings.ToLower(a.mode))
	if mode == "plaintext" {
		mode = wire.Plain
	}
	if mode == "" {
		mode = wire.Plain
	}
	return push.NewTarget(push.App{
		Kind: kind, AppID: a.appID, OriginalID: a.originalID, Token: a.token,
		EncodingAESKey: a.aesKey, Mode: mode, Format: format, URL: a.url,
	})
}

func runSend(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	var app appFlags
	app.register(fs, true)
	from := fs.String("from", "", "the user's openid (default: alice of the demo app of --kind, "+config.DemoAliceOA+" or "+config.DemoAliceMP+")")
	function := fs.String("function", "", "push to the Mini Program cloud function in `DIR` (index.js, node_modules), run unmodified for the demo Mini Program by a private emulator, instead of to --url")
	mf := registerMessageFlags(fs)
	fs.Usage = func() { sendUsage(fs) }

	pos, code := parseInterspersed(fs, args, stdout, stderr)
	if code >= 0 {
		return code
	}
	if app.timeout <= 0 {
		return usageError(stderr, "send", "--timeout must be positive")
	}
	if app.attempts < 1 {
		return usageError(stderr, "send", "--attempts must be at least 1")
	}
	if *function != "" {
		return sendFunction(fs, &app, *function, *from, mf, pos, stdout, stderr)
	}
	t, err := app.target()
	if err != nil {
		return usageError(stderr, "send", "%v", err)
	}
	msg, err := buildMessage(fs, mf, pos, t.Kind)
	if err != nil {
		return usageError(stderr, "send", "%v", err)
	}
	msg.FromUserName = *from
	if msg.FromUserName == "" {
		msg.FromUserName = config.DemoAliceOA
		if t.Kind == wire.MP {
			msg.FromUserName = config.DemoAliceMP
		}
	}

	progress := &waitNotes{w: stderr, cmd: "send", timeout: app.timeout, attempts: app.attempts}
	e := push.New(push.Config{Timeout: app.timeout, MaxAttempts: app.attempts, Transport: progress.transport(pushTransport())})
	defer e.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res := e.Push(ctx, t, msg)
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "wxemu send: interrupted")
		return exitInterrupted
	}

	if app.json {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			fmt.Fprintf(stderr, "wxemu send: %v\n", err)
			return exitFail
		}
	} else {
		printResult(stdout, targetApp(t), res)
	}
	if res.HasError() {
		return exitFail
	}
	return exitOK
}

func sendUsage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprint(w, `Usage: wxemu send --url URL [flags] MESSAGE
       wxemu send --function DIR [--from OPENID] [--timeout D] [--json] MESSAGE

Pushes one message or event to the bot at URL the way WeChat does (signed, in the app's format
and encryption mode, with the 5-second deadline and retries) and judges the answer.

With --function DIR instead of --url, the bot is a Mini Program cloud function (云函数), run
unmodified on the real wx-server-sdk: a private emulator (the embedded default config) runs it
for the demo Mini Program, alice of that app sends MESSAGE, and the report adds what the function
printed and its customer-service sends to alice during the push. --timeout is then the function's
time limit (default: its config.json's timeout, else 3s); --url, --kind, --format, --mode, the
credentials and --attempts do not apply.

wxemu send is a private, one-shot WeChat of its own: it talks to no wxemu serve. A bot that
calls wxemu serve's API gets 45015 for its customer-service sends to this user, because serve
never saw them. To play a user of a running wxemu serve, use wxemu user NAME send MESSAGE.

`+messageGrammar+`

Exit status: 0 when the verdict has no error, 1 when it has one, 2 for a usage error, 130 when
interrupted.

Flags:
`)
	printFlags(w, fs)
}

// messageGrammar is the MESSAGE of wxemu send and wxemu user NAME send.
const messageGrammar = `MESSAGE is one of:
  text CONTENT...                       a text message
  image | voice | video | shortvideo    a media message (demo media ids unless given)
  location | link | miniprogrampage     (fields from flags, demo values otherwise)
  event EVENT                           an event: subscribe, unsubscribe, SCAN, LOCATION, CLICK,
                                        VIEW, scancode_push, scancode_waitmsg, pic_sysphoto,
                                        pic_photo_or_album, pic_weixin, location_select,
                                        view_miniprogram, kf_create_session, kf_close_session,
                                        kf_switch_session, user_enter_tempsession
Fields come from the flags below (--key, --media-id, --lat …); --set Name=Value sets any field
by its wire name.`
