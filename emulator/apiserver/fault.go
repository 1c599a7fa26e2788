package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/platform"
)

var del = []string{http.MethodDelete}

// injectFault is the fault step of a WeChat API call, after routing, the token check, the
// method and the body, before the handler: the first fault rule that fires on the call's path,
// app and user acts. A latency waits (bounded by the request's context and by a drain); an
// errcode answers as WeChat would; a 5xx or a drop comes back as a *platform.FaultAnswer for
// serveWeChat to write. A call refused before this step (its token, its method) meets no fault.
func (s *Server) injectFault(rt Route, c *call, pc *platform.Call) error {
	if !s.p.HasFaults() {
		return nil
	}
	app := c.app
	if app == nil {
		app = s.appNamed(c, rt)
	}
	user := openidOf(c.r)
	if user == "" && rt.Body == JSONBody {
		for _, key := range [...]string{"touser", "openid"} {
			if v := gjson.GetBytes(c.body, key); v.Type == gjson.String && v.Str != "" {
				user = v.Str
				break
			}
		}
	}
	f := s.p.InjectFault(pc, app, user)
	if f == nil {
		return nil
	}
	if f.Latency > 0 && !s.wait(c.r.Context(), f) {
		// The caller left: there is no one to answer.
		return &platform.FaultAnswer{Fault: &platform.Fault{Rule: f.Rule, Action: f.Action + " (the caller left during the latency)", Drop: true, Left: true}}
	}
	switch {
	case f.Status != 0 || f.Drop:
		return &platform.FaultAnswer{Fault: f}
	case f.Refetch() && rt.Access == TokenRequired && !c.openapi:
		// The app's tokens were revoked or expired: the call's own token now answers so.
		if _, err := s.p.CheckToken(c.query("access_token")); err != nil {
			return err
		}
	}
	return f.Err
}

// appNamed is the app a call of the token APIs names by its appid (query or JSON body).
func (s *Server) appNamed(c *call, rt Route) *platform.App {
	appid := c.query("appid")
	if appid == "" && rt.Body == JSONBody {
		appid = gjson.GetBytes(c.body, "appid").Str
	}
	if a, ok := s.p.App(appid); ok && a.AppID == appid {
		return a
	}
	return nil
}

// wait holds the answer for a rule's latency, in wall time. It reports false when the caller
// left first; a drain of the server cuts the latency short and answers at once.
func (s *Server) wait(ctx context.Context, f *platform.Fault) bool {
	t, cancel := clock.WithTimeout(ctx, f.Latency)
	defer cancel()
	select {
	case <-t.Done():
	case <-s.draining:
	}
	return ctx.Err() == nil
}

// writeFault writes the answer of a call a 5xx or drop rule cut, and reports whether it did.
// Deviation: what WeChat's front end sends with a 5xx is not documented; wxemu sends the status
// with an empty body, so a bot that parses every answer as JSON meets the same surprise. A drop
// closes the connection without a byte of answer, which an HTTP client reports as EOF.
func (s *Server) writeFault(w http.ResponseWriter, err error) (status int, ok bool) {
	var fa *platform.FaultAnswer
	if !errors.As(err, &fa) {
		return 0, false
	}
	if !fa.Fault.Drop {
		write(w, answer{status: fa.Fault.Status})
		return fa.Fault.Status, true
	}
	if hj, isHJ := w.(http.Hijacker); isHJ {
		if conn, _, herr := hj.Hijack(); herr == nil {
			_ = conn.Close()
			return 0, true
		}
	}
	// No connection of our own to close (a recorder in a spec): write nothing at all.
	return 0, true
}

// addFaults serves POST /_emu/v1/faults: one rule or a list of rules, added all or none.
func addFaults(c *call) (any, error) {
	const example = `{"path": "/cgi-bin/message/custom/send", "errcode": -1, "count": 1}`
	body := bytes.TrimSpace(c.body)
	if len(body) == 0 {
		return nil, platform.BadRequest("the body is empty; send a rule like %s, or a list of them", example)
	}
	var raws []json.RawMessage
	list := body[0] == '['
	if list {
		if err := json.Unmarshal(body, &raws); err != nil {
			return nil, platform.BadRequest("the body is not a JSON list of rules like [%s]: %v", example, err)
		}
		if len(raws) == 0 {
			return nil, platform.BadRequest("the list is empty; send at least one rule like %s", example)
		}
	} else {
		raws = []json.RawMessage{body}
	}
	at := func(i int) string {
		if list {
			return fmt.Sprintf("[%d]", i)
		}
		return ""
	}
	rules := make([]platform.FaultRule, len(raws))
	var bad []string
	for i, raw := range raws {
		bad = append(bad, decodeRule(raw, &rules[i], at(i), example)...)
	}
	if len(bad) > 0 {
		return nil, &platform.FaultError{Problems: bad}
	}
	added, err := c.s.p.AddFaults(rules, at)
	if err != nil {
		return nil, err
	}
	return map[string]any{"added": added}, nil
}

// ruleKeys are the JSON keys of a rule, for did-you-mean.
var ruleKeys = func() []string {
	var out []string
	t := reflect.TypeOf(platform.FaultRule{})
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}()

// decodeRule reads one rule strictly: unknown keys (with the key probably meant) and values of
// the wrong type are problems named by their path.
func decodeRule(raw json.RawMessage, r *platform.FaultRule, at, example string) []string {
	join := func(key string) string {
		if at == "" {
			return key
		}
		if key == "" {
			return at
		}
		return at + "." + key
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil || keys == nil {
		return []string{fmt.Sprintf("%snot a JSON object like %s", lead(at), example)}
	}
	var bad []string
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !containsString(ruleKeys, k) {
			bad = append(bad, fmt.Sprintf("%s: unknown key%s (the keys are %s)", join(k), platform.DidYouMean(k, ruleKeys), strings.Join(ruleKeys, ", ")))
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(r); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			bad = append(bad, fmt.Sprintf("%s: got a JSON %s, want a %s", join(te.Field), te.Value, jsonKind(te.Type)))
		case errors.Is(err, io.EOF):
			bad = append(bad, lead(at)+"empty")
		default:
			// A latency that is not a duration string names itself.
			bad = append(bad, lead(at)+err.Error())
		}
	}
	return bad
}

// lead is "[i]: " for a rule of a list, "" for a rule posted alone.
func lead(at string) string {
	if at == "" {
		return ""
	}
	return at + ": "
}

func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Uint64:
		return "whole number"
	case reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean (true or false)"
	case reflect.String:
		return "string"
	}
	return t.String()
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// listFaults serves GET /_emu/v1/faults: every rule with its counters (matched, fired, spent),
// the families and paths a rule may name.
func listFaults(c *call) (any, error) {
	return map[string]any{"faults": nonNil(c.s.p.Faults()), "families": platform.FaultFamilies()}, nil
}

// clearFaults serves DELETE /_emu/v1/faults: every rule goes; held pushes are delivered.
func clearFaults(c *call) (any, error) {
	return map[string]any{"cleared": c.s.p.ClearFaults(c.r.Context())}, nil
}

// deleteFault serves DELETE /_emu/v1/faults/{id}.
func deleteFault(c *call) (any, error) {
	id := c.pathVar("id")
	if err := c.s.p.RemoveFault(id); err != nil {
		return nil, err
	}
	return map[string]any{"deleted": id}, nil
}
