package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/push"
)

func runJournal(args []string, stdout, stderr io.Writer) int {
	rc := newRemoteCommand("journal", `Usage: wxemu journal [-f] [-n N] [--app APP] [--user NAME] [--kind KIND] [flags]

Lists the journal of a running wxemu serve (--emu URL, or $WXEMU_URL; default `+defaultEmuURL+`):
every push to a bot with its verdict, every call of the WeChat API with its errcode, every change
of a kf session and other state, every control action and every request wxemu does not serve.
One line per entry; a push also shows its outcome, what the user sees and its violations, as
wxemu send does (-v: the whole exchange). With -f it keeps following the journal as it grows.`,
		"print each entry as one line of JSON, as the control API gives it")
	fs := rc.fs
	follow := fs.Bool("f", false, "follow: show the last entries, then each new one as it happens, until Ctrl-C")
	last := fs.Int("n", -1, "show the last `N` entries (default 50, or 10 with -f; 0 for all the journal holds)")
	appKey := fs.String("app", "", "only the entries of this `APP` (alias or appid)")
	userSpec := fs.String("user", "", "only the entries of this user: `NAME`, NAME@APP or an openid")
	kind := fs.String("kind", "", "only entries of this `KIND`: "+strings.Join(platform.JournalKinds(), ", "))
	since := fs.String("since", "", "only entries after this sequence number, or at or after this RFC 3339 time")
	verbose := fs.Bool("v", false, "show each push whole: the request, every attempt, the raw answer")
	pos, code := rc.parse(args, stdout, stderr)
	if code >= 0 {
		return code
	}
	if len(pos) > 0 {
		return usageError(stderr, "journal", "unexpected argument %q: filter with --app, --user and --kind", pos[0])
	}
	if *last < -1 {
		return usageError(stderr, "journal", "-n must be 0 or more")
	}
	if *kind != "" && !isOneOf(*kind, platform.JournalKinds()) {
		return usageError(stderr, "journal", "--kind %q%s: one of %s", *kind, didYouMean(*kind, platform.JournalKinds()), strings.Join(platform.JournalKinds(), ", "))
	}
	r, ctx, stop, code := rc.connect(stderr, 0)
	if code >= 0 {
		return code
	}
	defer stop()

	q := url.Values{}
	if *kind != "" {
		q.Set("kind", *kind)
	}
	if *since != "" {
		q.Set("since", *since)
	}
	switch {
	case *userSpec != "":
		u, err := r.user(ctx, *userSpec, *appKey)
		if err != nil {
			return r.fail(stderr, err)
		}
		q.Set("app", u.app.AppID)
		q.Set("user", u.openid)
	case *appKey != "":
		a, err := r.app(ctx, *appKey)
		if err != nil {
			return r.fail(stderr, err)
		}
		q.Set("app", a.AppID)
	}
	n := *last
	if n < 0 {
		n = 50
		if *follow {
			n = 10
		}
	}
	if n > 0 {
		q.Set("limit", strconv.Itoa(n))
	}
	p := &journalPrinter{w: stdout, json: *rc.asJSON, verbose: *verbose, names: map[string]string{}, aliases: map[string]string{}}
	p.learn(ctx, r)

	listCtx, cancel := clock.WithTimeout(ctx, callTimeout)
	var list struct {
		Entries []json.RawMessage `json:"entries"`
		LastSeq uint64            `json:"last_seq"`
		Dropped uint64            `json:"dropped"`
	}
	err := r.call(listCtx, http.MethodGet, "/journal", q, nil, &list)
	cancel()
	if err != nil {
		return r.fail(stderr, err)
	}
	seen := list.LastSeq
	for _, raw := range list.Entries {
		if e, ok := p.print(raw); ok {
			seen = max(seen, e.Seq)
		}
	}
	if !*follow {
		if len(list.Entries) == 0 && !*rc.asJSON {
			fmt.Fprintln(stderr, "wxemu journal: no entries (yet)")
		}
		return exitOK
	}
	q.Del("limit")
	q.Set("since", strconv.FormatUint(seen, 10))
	fmt.Fprintf(stderr, "wxemu journal: following %s (Ctrl-C to stop)\n", r.base)
	err = r.stream(ctx, q, func(raw json.RawMessage) {
		if e, ok := p.print(raw); ok && e.Kind == "push" {
			p.learn(ctx, r) // a push may be from a user serve had not seen before
		}
	})
	if ctx.Err() != nil {
		return exitOK
	}
	if err != nil {
		return r.fail(stderr, err)
	}
	fmt.Fprintf(stderr, "wxemu journal: the stream from %s ended: wxemu serve stopped\n", r.base)
	return exitFail
}

// stream reads GET /_emu/v1/journal/stream with query q, and calls each with the data of every
// event until ctx ends or the stream does.
func (r *remote) stream(ctx context.Context, q url.Values, each func(json.RawMessage)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+"/_emu/v1/journal/stream?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	authorize(req)
	resp, err := r.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return r.unreachable(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if err := r.decode(http.MethodGet, "/journal/stream", resp, data, nil); err != nil {
			return err
		}
		return r.notWxemu(resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var data []byte
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if len(data) > 0 {
				each(json.RawMessage(data))
				data = nil
			}
		case strings.HasPrefix(line, "data:"):
			data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " ")...)
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("read the journal stream: %w", err)
	}
	return nil
}

// journalEntry is a journal entry as the control API gives it.
type journalEntry struct {
	Seq        uint64          `json:"seq"`
	Time       time.Time       `json:"time"`
	Kind       string          `json:"kind"`
	App        string          `json:"app"`
	User       string          `json:"user"`
	Summary    string          `json:"summary"`
	DurationMS float64         `json:"duration_ms"`
	Errors     int             `json:"errors"`
	Data       json.RawMessage `json:"data"`
}

// journalPush is the record of a push entry.
type journalPush struct {
	push.Result
	Probe string `json:"probe"`
}

// journalPrinter writes entries for a person: one line each, and a push's verdict under it.
type journalPrinter struct {
	w       io.Writer
	json    bool
	verbose bool
	names   map[string]string // appid/openid → the user's name
	aliases map[string]string // appid → alias
	apps    map[string]pushApp
}

// learn reads the apps and users of serve, to name them.
func (p *journalPrinter) learn(ctx context.Context, r *remote) {
	r.users = nil
	ctx, cancel := clock.WithTimeout(ctx, callTimeout)
	defer cancel()
	if apps, err := r.appsList(ctx); err == nil {
		p.apps = map[string]pushApp{}
		for _, a := range apps {
			p.aliases[a.AppID] = a.Alias
			p.apps[a.AppID] = pushApp{AppID: a.AppID, Kind: a.Kind, Format: a.Format, Mode: a.Mode}
		}
	}
	for k, v := range r.names(ctx) {
		p.names[k] = v
	}
}

func (p *journalPrinter) print(raw json.RawMessage) (journalEntry, bool) {
	var e journalEntry
	if err := json.Unmarshal(raw, &e); err != nil {
		fmt.Fprintf(p.w, "(an entry this wxemu cannot read: %v)\n", err)
		return e, false
	}
	if p.json {
		fmt.Fprintf(p.w, "%s\n", strings.ReplaceAll(string(raw), "\n", ""))
		return e, true
	}
	fmt.Fprintln(p.w, p.line(e))
	if e.Kind == "push" && len(e.Data) > 0 {
		var rec journalPush
		if err := json.Unmarshal(e.Data, &rec); err == nil {
			out := &indented{w: p.w, prefix: "        "}
			if p.verbose {
				printResult(out, p.apps[e.App], &rec.Result)
			} else {
				printVerdict(out, &rec.Result)
			}
		}
	}
	return e, true
}

// line is the one line of an entry: sequence, virtual time, kind, app and user, summary.
func (p *journalPrinter) line(e journalEntry) string {
	who := ""
	if e.App != "" {
		who = p.aliases[e.App]
		if who == "" {
			who = e.App
		}
	}
	if e.User != "" {
		name := p.names[e.App+"/"+e.User]
		if name == "" {
			name = e.User
		}
		who += " " + name
	}
	s := fmt.Sprintf("#%-5d %s  %-7s %-10s %s", e.Seq, e.Time.Format("01-02 15:04:05"), e.Kind, strings.TrimSpace(who), e.Summary)
	if e.DurationMS >= 1 {
		s += fmt.Sprintf("  (%.0f ms)", e.DurationMS)
	}
	return s
}
