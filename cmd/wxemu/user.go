package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/wire"
)

// userActions are what `wxemu user NAME` does, in the order the help lists them.
var userActions = []string{"send", "trigger", "transcript", "grants"}

// callTimeout bounds a control call that answers at once; a push waits for the bot.
const callTimeout = 30 * time.Second

func runUser(args []string, stdout, stderr io.Writer) int {
	rc := newRemoteCommand("user", userUsage(), "print serve's answer as JSON instead of the human report")
	fs := rc.fs
	appKey := fs.String("app", "", "the user's `APP` (alias or appid), when NAME does not say it as NAME@APP")
	mf := registerMessageFlags(fs)
	pos, code := rc.parse(args, stdout, stderr)
	if code >= 0 {
		return code
	}
	if len(pos) < 2 {
		return usageError(stderr, "user", "say who and what: e.g. wxemu user alice send text hi, or wxemu user alice transcript")
	}
	spec, action, rest := pos[0], pos[1], pos[2:]
	if !isOneOf(action, userActions) {
		if isOneOf(spec, userActions) {
			return usageError(stderr, "user", "the user comes first: wxemu user NAME %s …", spec)
		}
		return usageError(stderr, "user", "unknown action %q%s: one of %s", action, didYouMean(action, userActions), strings.Join(userActions, ", "))
	}
	if action != "send" {
		var stray []string
		fs.Visit(func(f *flag.Flag) {
			if _, ok := mf.values[f.Name]; ok || f.Name == "set" {
				stray = append(stray, dashed(f.Name))
			}
		})
		if len(stray) > 0 {
			return usageError(stderr, "user", "%s: message flags belong to send", strings.Join(stray, ", "))
		}
	}
	if action == "send" && len(rest) > 0 && rest[0] != "event" {
		// A misspelt type is known before serve is asked anything.
		if _, ok := wire.LookupInbound(rest[0], ""); !ok {
			return usageError(stderr, "user", "%v", unknownType(rest[0]))
		}
	}
	r, ctx, stop, code := rc.connect(stderr, 0)
	if code >= 0 {
		return code
	}
	defer stop()
	u, err := r.user(ctx, spec, *appKey)
	if err != nil {
		return r.fail(stderr, err)
	}
	out := &userCmd{r: r, u: u, typed: spec, json: *rc.asJSON, stdout: stdout, stderr: stderr}
	switch action {
	case "send":
		msg, err := buildMessage(fs, mf, rest, wire.Kind(u.app.Kind))
		if err != nil {
			return usageError(stderr, "user", "%v", err)
		}
		code = out.send(ctx, msg)
	case "trigger":
		if len(rest) != 1 {
			return usageError(stderr, "user", "trigger needs one KIND: %s", strings.Join(platform.TriggerNames, ", "))
		}
		code = out.trigger(ctx, rest[0])
	case "transcript", "grants":
		if len(rest) > 0 {
			return usageError(stderr, "user", "%s takes no arguments, not %q", action, strings.Join(rest, " "))
		}
		if action == "transcript" {
			code = out.transcript(ctx)
		} else {
			code = out.grants(ctx)
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "wxemu user: interrupted")
		return exitInterrupted
	}
	return code
}

func isOneOf(s string, list []string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// userUsage is the help of wxemu user, before its flags.
func userUsage() string {
	return `Usage: wxemu user NAME send MESSAGE [flags]   the user sends a message or an event; show the verdict
       wxemu user NAME trigger KIND             open a window without a push: ` + strings.Join(platform.TriggerNames, ", ") + `
       wxemu user NAME transcript               what the person on the phone saw, in order
       wxemu user NAME grants                   the user's open windows and what is left of them

Acts as a user of a running wxemu serve, through its control API (--emu URL, or $WXEMU_URL;
default ` + defaultEmuURL + `). Unlike wxemu send, which pushes from a private WeChat of its own,
the user's message goes through serve: serve records it, opens the user's window, routes it to
the bot (or to the agent serving the user) and pushes it, so the bot's customer-service sends to
the user are answered as WeChat would. The report shows the push and its verdict, as wxemu send's
does, and the bot's API calls for the user while it was pushed.

NAME is a user's name — alice is the first app's, in the order of the config, that has an alice;
alice@mp is the Mini Program's — or an openid, alone or as OPENID@APP (a new user of that app).
wxemu apps lists the apps and their users.

` + messageGrammar + `

Exit status: 0 when the verdict has no error, 1 when it has one or serve refuses, 2 for a usage
error (an unknown user, app or message type).`
}

// userCmd carries out one action of wxemu user.
type userCmd struct {
	r              *remote
	u              who
	typed          string // the user as given on the command line
	json           bool
	stdout, stderr io.Writer
}

// interaction is the answer of POST /users/{openid}/send.
type interaction struct {
	App      string             `json:"app"`
	OpenID   string             `json:"openid"`
	Trigger  string             `json:"trigger"`
	Routed   string             `json:"routed"`
	Agent    string             `json:"agent"`
	Result   *push.Result       `json:"result"`
	Transfer []platform.KFEvent `json:"transfer"`
	Journal  uint64             `json:"journal"`
}

func (c *userCmd) send(ctx context.Context, msg *wire.Message) int {
	before, err := c.r.lastSeq(ctx)
	if err != nil {
		return c.r.fail(c.stderr, err)
	}
	body := msg.AppendJSON(nil)
	app, _ := json.Marshal(c.u.app.Alias)
	body = append(append([]byte(`{"app":`), app...), append([]byte{','}, body[1:]...)...)

	stopNotes := ticker(noticeAfter, 5*time.Second, func(d time.Duration) {
		fmt.Fprintf(c.stderr, "wxemu user: waiting for the bot's answer to %s's %s (%s so far; WeChat waits, and retries, as the config says)…\n", c.u.label(), msg.MsgType, d)
	})
	var raw json.RawMessage
	err = c.r.call(ctx, http.MethodPost, "/users/"+url.PathEscape(c.u.openid)+"/send", nil, body, &raw)
	stopNotes()
	if err != nil {
		return c.r.fail(c.stderr, err)
	}
	if c.json {
		return c.printJSON(raw, exitOK)
	}
	var in interaction
	if err := json.Unmarshal(raw, &in); err != nil {
		return c.r.fail(c.stderr, fmt.Errorf("the answer of serve: %w", err))
	}
	w := c.stdout
	fmt.Fprintf(w, "%s (%s) of app %s sends %s\n", c.u.label(), c.u.openid, c.u.app.Alias, describeMessage(msg))
	if in.Trigger != "" {
		fmt.Fprintf(w, "window     opened by this %s: see wxemu user %s grants\n", in.Trigger, c.spec())
	}
	status := exitOK
	switch {
	case in.Routed == platform.RoutedAgent:
		who := "an agent"
		if in.Agent != "" {
			who = in.Agent
		}
		fmt.Fprintf(w, "routed     to %s: the user is in a kf session, so the bot was not pushed\n", who)
	case in.Result == nil:
		fmt.Fprintf(w, "routed     %s: WeChat pushed it to no one\n", in.Routed)
	default:
		fmt.Fprintln(w)
		printResult(w, pushApp{AppID: c.u.app.AppID, Kind: c.u.app.Kind, Format: c.u.app.Format, Mode: c.u.app.Mode}, in.Result)
		for _, v := range in.Result.Violations {
			if v.Severity == rules.Error {
				status = exitFail
			}
		}
	}
	for _, k := range in.Transfer {
		fmt.Fprintf(w, "kf         %s\n", kfEventText(k))
	}
	c.printCalls(ctx, before)
	return status
}

// printCalls lists the bot's API calls for the user after seq: what it did while it was pushed.
func (c *userCmd) printCalls(ctx context.Context, seq uint64) {
	q := url.Values{"app": {c.u.app.AppID}, "user": {c.u.openid}, "kind": {"api"}, "since": {fmt.Sprint(seq)}}
	var out struct {
		Entries []journalEntry `json:"entries"`
	}
	if err := c.r.call(ctx, http.MethodGet, "/journal", q, nil, &out); err != nil || len(out.Entries) == 0 {
		return
	}
	printAPICalls(c.stdout, c.u.label(), out.Entries)
	fmt.Fprintf(c.stdout, "(a bot that sends later: wxemu journal -f --user %s)\n", c.spec())
}

// printAPICalls lists the bot's API calls for the user labelled who, one line each.
func printAPICalls(w io.Writer, who string, entries []journalEntry) {
	fmt.Fprintf(w, "\nthe bot's API calls for %s so far:\n", who)
	for _, e := range entries {
		fmt.Fprintf(w, "  #%-5d %s\n", e.Seq, e.Summary)
		// A customer-service send says what the user got; other calls' summaries suffice.
		var call struct {
			Send *rules.CustomSend `json:"send"`
		}
		if json.Unmarshal(e.Data, &call) == nil && call.Send != nil {
			fmt.Fprintf(w, "         sends %s\n", call.Send.Render())
		}
	}
}

// spec is how to name the user again on the command line: as it was given.
func (c *userCmd) spec() string { return c.typed }

func (c *userCmd) trigger(ctx context.Context, kind string) int {
	body, _ := json.Marshal(map[string]string{"app": c.u.app.Alias, "trigger": kind})
	var raw json.RawMessage
	if err := c.r.call(ctx, http.MethodPost, "/users/"+url.PathEscape(c.u.openid)+"/trigger", nil, body, &raw); err != nil {
		return c.r.fail(c.stderr, err)
	}
	if c.json {
		return c.printJSON(raw, exitOK)
	}
	var out struct {
		Grants []platform.Grant `json:"grants"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return c.r.fail(c.stderr, fmt.Errorf("the answer of serve: %w", err))
	}
	fmt.Fprintf(c.stdout, "%s (%s) of app %s: a %s opened a window\n", c.u.label(), c.u.openid, c.u.app.Alias, kind)
	printGrants(c.stdout, out.Grants)
	return exitOK
}

func (c *userCmd) grants(ctx context.Context) int {
	var raw json.RawMessage
	q := url.Values{"app": {c.u.app.AppID}}
	ctx, cancel := clock.WithTimeout(ctx, callTimeout)
	defer cancel()
	if err := c.r.call(ctx, http.MethodGet, "/users/"+url.PathEscape(c.u.openid)+"/grants", q, nil, &raw); err != nil {
		return c.r.fail(c.stderr, err)
	}
	if c.json {
		return c.printJSON(raw, exitOK)
	}
	var out struct {
		Known      bool             `json:"known"`
		Subscribed bool             `json:"subscribed"`
		Grants     []platform.Grant `json:"grants"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return c.r.fail(c.stderr, fmt.Errorf("the answer of serve: %w", err))
	}
	follow := "follows"
	switch {
	case !out.Known:
		follow = "has not interacted yet"
	case !out.Subscribed && c.u.app.Kind == "oa":
		follow = "does not follow the account: every send gets 45015"
	case c.u.app.Kind == "mp":
		follow = "a Mini Program user"
	}
	fmt.Fprintf(c.stdout, "%s (%s) of app %s: %s\n", c.u.label(), c.u.openid, c.u.app.Alias, follow)
	printGrants(c.stdout, out.Grants)
	return exitOK
}

func printGrants(w io.Writer, grants []platform.Grant) {
	if len(grants) == 0 {
		fmt.Fprintln(w, "  no open window: a customer-service send gets 45015")
		return
	}
	for _, g := range grants {
		left := "unlimited"
		if g.Max >= 0 {
			left = fmt.Sprintf("%d of %d left", g.Remaining, g.Max)
		}
		fmt.Fprintf(w, "  %-12s %-14s opened %s, closes %s\n", g.Trigger, left, g.Opened.Format(time.DateTime), g.Expires.Format(time.DateTime))
	}
}

func (c *userCmd) transcript(ctx context.Context) int {
	var raw json.RawMessage
	q := url.Values{"app": {c.u.app.AppID}}
	ctx, cancel := clock.WithTimeout(ctx, callTimeout)
	defer cancel()
	if err := c.r.call(ctx, http.MethodGet, "/users/"+url.PathEscape(c.u.openid)+"/transcript", q, nil, &raw); err != nil {
		return c.r.fail(c.stderr, err)
	}
	if c.json {
		return c.printJSON(raw, exitOK)
	}
	var out struct {
		Lines []platform.Line `json:"lines"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return c.r.fail(c.stderr, fmt.Errorf("the answer of serve: %w", err))
	}
	fmt.Fprintf(c.stdout, "transcript of %s (%s) of app %s, %s\n", c.u.label(), c.u.openid, c.u.app.Alias, plural(len(out.Lines), "line", "lines"))
	for _, l := range out.Lines {
		fmt.Fprintf(c.stdout, "  %s  %s\n", l.Time.Format(time.DateTime), lineText(l))
	}
	return exitOK
}

// lineText is a transcript line as the person on the phone would tell it.
func lineText(l platform.Line) string {
	from := l.From
	if l.KfAccount != "" && l.From == platform.FromAgent {
		from = "agent " + l.KfAccount
	}
	text := l.Text
	if l.Kind == platform.LineEvent {
		text = "(" + text + ")"
	}
	if l.Kind == platform.LineFault {
		text = "(fault injected) " + text
	}
	return fmt.Sprintf("%-7s %s", from, text)
}

func kfEventText(k platform.KFEvent) string {
	s := k.Kind
	switch {
	case k.FromAccount != "" || k.ToAccount != "":
		s += " " + k.FromAccount + " → " + k.ToAccount
	case k.Account != "":
		s += " " + k.Account
	}
	if k.Cause != "" {
		s += " (" + k.Cause + ")"
	}
	return s
}

func (c *userCmd) printJSON(raw json.RawMessage, code int) int {
	return writeJSON(c.stdout, c.stderr, raw, code)
}

// writeJSON prints a JSON answer indented, its numbers as they came (a MsgId has 17 digits).
func writeJSON(stdout, stderr io.Writer, raw json.RawMessage, code int) int {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		fmt.Fprintf(stderr, "wxemu: the answer is not JSON: %v\n", err)
		return exitFail
	}
	buf.WriteByte('\n')
	_, _ = stdout.Write(buf.Bytes())
	return code
}

// describeMessage names a message in a line: text "hi", event CLICK V1001, image.
func describeMessage(m *wire.Message) string {
	switch {
	case m.MsgType == "text":
		return fmt.Sprintf("text %q", m.Content)
	case m.IsEvent() && m.EventKey != "":
		return "event " + m.Event + " " + m.EventKey
	case m.IsEvent():
		return "event " + m.Event
	}
	return m.MsgType
}
