package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

func runClock(args []string, stdout, stderr io.Writer) int {
	rc := newRemoteCommand("clock", `Usage: wxemu clock                  show the virtual time of a running wxemu serve
       wxemu clock advance DURATION  move it forward: 30m1s, 48h, 2d (days are 24h)

wxemu serve runs on real time plus an offset; advance adds to the offset. Whatever falls due on
the way happens in order — a kf session's 30 minutes end, a 48-hour window closes, a token and a
media file expire — and the entries it caused are shown. Virtual time never goes back.
`+actsThroughServe, "print serve's answer as JSON")
	pos, code := rc.parse(args, stdout, stderr)
	if code >= 0 {
		return code
	}
	var by time.Duration
	switch {
	case len(pos) == 0 || (len(pos) == 1 && pos[0] == "show"):
	case pos[0] == "advance":
		if len(pos) != 2 {
			return usageError(stderr, "clock", "advance needs one DURATION: e.g. wxemu clock advance 48h1s")
		}
		d, err := parseDays(pos[1])
		if err != nil || d <= 0 {
			return usageError(stderr, "clock", "advance %q: a positive duration such as 30m1s, 48h or 2d is needed", pos[1])
		}
		by = d
	default:
		return usageError(stderr, "clock", "unknown action %q%s: wxemu clock, or wxemu clock advance DURATION", pos[0], didYouMean(pos[0], []string{"advance", "show"}))
	}
	r, ctx, stop, code := rc.connect(stderr, callTimeout)
	if code >= 0 {
		return code
	}
	defer stop()

	var info struct {
		Now      time.Time `json:"now"`
		Advanced string    `json:"advanced"`
	}
	var raw json.RawMessage
	if by == 0 {
		if err := r.call(ctx, http.MethodGet, "/clock", nil, nil, &raw); err != nil {
			return r.fail(stderr, err)
		}
		if *rc.asJSON {
			return writeJSON(stdout, stderr, raw, exitOK)
		}
		if err := json.Unmarshal(raw, &info); err != nil {
			return r.fail(stderr, fmt.Errorf("the answer of serve: %w", err))
		}
		fmt.Fprintf(stdout, "virtual time %s (moved %s ahead of real time by the control API)\n", info.Now.Format(time.RFC3339), info.Advanced)
		return exitOK
	}
	before, err := r.lastSeq(ctx)
	if err != nil {
		return r.fail(stderr, err)
	}
	body, _ := json.Marshal(map[string]string{"by": by.String()})
	if err := r.call(ctx, http.MethodPost, "/clock/advance", nil, body, &raw); err != nil {
		return r.fail(stderr, err)
	}
	if *rc.asJSON {
		return writeJSON(stdout, stderr, raw, exitOK)
	}
	if err := json.Unmarshal(raw, &info); err != nil {
		return r.fail(stderr, fmt.Errorf("the answer of serve: %w", err))
	}
	fmt.Fprintf(stdout, "virtual time is now %s (+%s; %s ahead of real time in all)\n", info.Now.Format(time.RFC3339), by, info.Advanced)
	// What fell due on the way: the entries after the mark but the advance's own.
	var list struct {
		Entries []json.RawMessage `json:"entries"`
	}
	q := url.Values{"since": {strconv.FormatUint(before, 10)}}
	if err := r.call(ctx, http.MethodGet, "/journal", q, nil, &list); err == nil {
		p := &journalPrinter{w: &indented{w: stdout, prefix: "  "}, names: map[string]string{}, aliases: map[string]string{}}
		p.learn(ctx, r)
		var due []json.RawMessage
		for _, raw := range list.Entries {
			var e journalEntry
			if json.Unmarshal(raw, &e) == nil && e.Kind != "control" {
				due = append(due, raw)
			}
		}
		if len(due) > 0 {
			fmt.Fprintln(stdout, "what fell due on the way:")
			for _, raw := range due {
				p.print(raw)
			}
		}
	}
	return exitOK
}

// parseDays is time.ParseDuration that also takes days: 2d, 1d12h.
func parseDays(s string) (time.Duration, error) {
	if days, rest, ok := strings.Cut(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, err
		}
		d := time.Duration(n) * 24 * time.Hour
		if rest == "" {
			return d, nil
		}
		r, err := time.ParseDuration(rest)
		return d + r, err
	}
	return time.ParseDuration(s)
}
