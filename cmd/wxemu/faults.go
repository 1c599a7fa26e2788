package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/wxemu/wxemu/emulator/platform"
)

var faultActions = []string{"add", "list", "clear"}

func runFaults(args []string, stdout, stderr io.Writer) int {
	rc := newRemoteCommand("faults", `Usage: wxemu faults add KEY=VALUE …      add a fault rule, e.g. path=/cgi-bin/message/custom/send errcode=-1 count=1
       wxemu faults add 'JSON'            add a rule, or a list of rules, as POST /_emu/v1/faults takes them
       wxemu faults list                  the rules, with how often each matched and fired
       wxemu faults clear [ID]            delete one rule, or every rule (held pushes are delivered)

Makes serve's WeChat answer the way it does when things go wrong: errcode=-1 (system error),
45009, 45011, 40001 (revokes the app's tokens), 42001 (expires them), 48001, 45015, 45047;
latency=2s; status=503; drop=true; push=duplicate or push=reorder for pushes. A rule matches
path= or family= (token, custom_send, typing, media, kf), app=, user= (an openid), msgtype= (push
rules), and fires count= times, after= the first N matching calls, with probability= (seed=).
`+actsThroughServe, "print serve's answer as JSON")
	pos, code := rc.parse(args, stdout, stderr)
	if code >= 0 {
		return code
	}
	if len(pos) == 0 {
		return usageError(stderr, "faults", "say what: wxemu faults add …, wxemu faults list, or wxemu faults clear")
	}
	action := pos[0]
	if !isOneOf(action, faultActions) {
		return usageError(stderr, "faults", "unknown action %q%s: add, list or clear", action, didYouMean(action, faultActions))
	}
	var body []byte
	switch action {
	case "add":
		if len(pos) < 2 {
			return usageError(stderr, "faults", "add what? e.g. wxemu faults add path=/cgi-bin/message/custom/send errcode=-1 count=1")
		}
		b, err := faultBody(pos[1:])
		if err != nil {
			return usageError(stderr, "faults", "%v", err)
		}
		body = b
	case "list":
		if len(pos) > 1 {
			return usageError(stderr, "faults", "list takes nothing more, not %q", pos[1:])
		}
	case "clear":
		if len(pos) > 2 {
			return usageError(stderr, "faults", "one rule at a time, not %q", pos[1:])
		}
	}
	r, ctx, stop, code := rc.connect(stderr, callTimeout)
	if code >= 0 {
		return code
	}
	defer stop()
	var raw json.RawMessage
	var err error
	switch action {
	case "add":
		err = r.call(ctx, http.MethodPost, "/faults", nil, body, &raw)
	case "list":
		err = r.call(ctx, http.MethodGet, "/faults", nil, nil, &raw)
	default:
		path := "/faults"
		if len(pos) == 2 {
			path += "/" + url.PathEscape(pos[1])
		}
		err = r.call(ctx, http.MethodDelete, path, nil, nil, &raw)
	}
	if err != nil {
		return r.fail(stderr, err)
	}
	if *rc.asJSON {
		return writeJSON(stdout, stderr, raw, exitOK)
	}
	var out struct {
		Added   []platform.FaultRule   `json:"added"`
		Faults  []platform.FaultStatus `json:"faults"`
		Cleared *int                   `json:"cleared"`
		Deleted string                 `json:"deleted"`
	}
	_ = json.Unmarshal(raw, &out)
	switch action {
	case "add":
		for _, f := range out.Added {
			fmt.Fprintf(stdout, "added %s: %s\n", f.ID, f.Action())
		}
	case "list":
		if len(out.Faults) == 0 {
			fmt.Fprintln(stdout, "no fault rules")
		}
		for _, f := range out.Faults {
			spent := ""
			if f.Spent {
				spent = ", spent"
			}
			rule, _ := json.Marshal(f.Rule)
			fmt.Fprintf(stdout, "%s  %s  matched %d, fired %d%s  %s\n", f.ID, f.Action(), f.Matched, f.Fired, spent, rule)
		}
	default:
		if out.Cleared != nil {
			fmt.Fprintf(stdout, "cleared %s\n", plural(*out.Cleared, "rule", "rules"))
		} else {
			fmt.Fprintf(stdout, "deleted %s\n", out.Deleted)
		}
	}
	return exitOK
}

// faultBody is the JSON of `faults add`: given as is ({…} or […]), or built from KEY=VALUE
// arguments, whose values are numbers, true/false or text.
func faultBody(args []string) ([]byte, error) {
	if first := strings.TrimSpace(args[0]); strings.HasPrefix(first, "{") || strings.HasPrefix(first, "[") {
		if len(args) > 1 {
			return nil, fmt.Errorf("give the JSON as one argument (quote it), not %d", len(args))
		}
		return []byte(first), nil
	}
	rule := map[string]any{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not KEY=VALUE (e.g. errcode=-1)", a)
		}
		switch {
		case v == "true" || v == "false":
			rule[k] = v == "true"
		case k != "id" && k != "user" && k != "app" && isNumber(v):
			rule[k] = json.Number(v)
		default:
			rule[k] = v
		}
	}
	return json.Marshal(rule)
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}
