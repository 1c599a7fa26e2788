package apiserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/wire"
)

// listRoutes serves GET /_emu/v1/routes: the routing table.
func listRoutes(c *call) response {
	type row struct {
		Methods []string `json:"methods"`
		Path    string   `json:"path"`
		Access  string   `json:"access"`
	}
	var out []row
	for _, rt := range c.s.routes() {
		out = append(out, row{rt.Methods, rt.Path, [...]string{"public", "token", "control"}[rt.Access]})
	}
	return ok(map[string]any{"routes": out})
}

// AppInfo is an app as the control API lists it, credentials included (for scripts).
type AppInfo struct {
	Alias          string `json:"alias"`
	Kind           string `json:"kind"`
	AppID          string `json:"appid"`
	Secret         string `json:"secret"`
	OriginalID     string `json:"original_id"`
	Token          string `json:"token"`
	EncodingAESKey string `json:"encoding_aes_key"`
	Mode           string `json:"mode"`
	Format         string `json:"format"`
	URL            string `json:"url"`
	WeChatID       string `json:"wechat_id,omitempty"`
}

// listApps serves GET /_emu/v1/apps.
func listApps(c *call) response {
	var out []AppInfo
	for _, a := range c.s.p.Apps() {
		out = append(out, AppInfo{a.Alias, a.Kind, a.AppID, a.Secret, a.OriginalID, a.Token, a.EncodingAESKey, a.Mode, a.Format, a.URL, a.WeChatID})
	}
	return ok(map[string]any{"apps": out})
}

// app resolves the app named by the query parameter or body field "app", which may be omitted
// when there is only one app.
func (c *call) appParam(key string) (*platform.App, *response) {
	if key == "" {
		if apps := c.s.p.Apps(); len(apps) == 1 {
			return apps[0], nil
		}
	}
	a, err := c.s.p.LookupApp(key)
	if err != nil {
		r := controlError(http.StatusNotFound, "%v", err)
		return nil, &r
	}
	return a, nil
}

// listUsers serves GET /_emu/v1/users?app=…
func listUsers(c *call) response {
	appid := ""
	if key := c.query("app"); key != "" {
		a, errRes := c.appParam(key)
		if errRes != nil {
			return *errRes
		}
		appid = a.AppID
	}
	return ok(map[string]any{"users": nonNil(c.s.p.Users.List(appid))})
}

// userSends serves POST /_emu/v1/users/{openid}/send: {"app": …, "MsgType": "text", "Content":
// "hi", …} — any inbound type, in the PascalCase keys of a Mini Program JSON push.
func userSends(c *call) response {
	var probe struct {
		App string `json:"app"`
	}
	if len(c.body) == 0 {
		return controlError(http.StatusBadRequest, `the body is empty; send {"app":"oa","MsgType":"text","Content":"hi"}`)
	}
	if err := json.Unmarshal(c.body, &probe); err != nil {
		return controlError(http.StatusBadRequest, "the body is not a JSON object: %v", err)
	}
	a, errRes := c.appParam(probe.App)
	if errRes != nil {
		return *errRes
	}
	m, err := wire.ParseMessage(c.body, wire.JSON)
	if err != nil {
		return controlError(http.StatusBadRequest, "the message: %v", err)
	}
	in, err := c.s.p.UserSends(c.r.Context(), a.AppID, c.pathVar("openid"), *m)
	switch {
	case errors.Is(err, platform.ErrBadMessage):
		return controlError(http.StatusBadRequest, "%v", err)
	case errors.Is(err, platform.ErrNoBot):
		return controlError(http.StatusConflict, "%v", err)
	case err != nil:
		return controlError(http.StatusNotFound, "%v", err)
	}
	c.app = a
	return ok(in)
}

// userTriggers serves POST /_emu/v1/users/{openid}/trigger {"app": …, "trigger": "payment"}:
// a window trigger that has no push of its own (a payment) or one to open without pushing.
func userTriggers(c *call) response {
	var req struct {
		App     string `json:"app"`
		Trigger string `json:"trigger"`
	}
	if err := json.Unmarshal(c.body, &req); err != nil {
		return controlError(http.StatusBadRequest, `the body must be {"app":"oa","trigger":"payment"}: %v`, err)
	}
	a, errRes := c.appParam(req.App)
	if errRes != nil {
		return *errRes
	}
	g, err := c.s.p.Trigger(a.AppID, c.pathVar("openid"), req.Trigger)
	if err != nil {
		return controlError(http.StatusBadRequest, "%v", err)
	}
	c.app = a
	return ok(map[string]any{"grants": nonNil(g)})
}

// userTranscript serves GET /_emu/v1/users/{openid}/transcript?app=…: what the person on the
// phone saw, in order.
func userTranscript(c *call) response {
	a, errRes := c.appParam(c.query("app"))
	if errRes != nil {
		return *errRes
	}
	openid := c.pathVar("openid")
	return ok(map[string]any{"app": a.AppID, "openid": openid, "lines": nonNil(c.s.p.Transcripts.Get(a.AppID, openid))})
}

// userGrants serves GET /_emu/v1/users/{openid}/grants?app=…: the user's live windows.
func userGrants(c *call) response {
	a, errRes := c.appParam(c.query("app"))
	if errRes != nil {
		return *errRes
	}
	openid := c.pathVar("openid")
	u, known := c.s.p.Users.Get(a.AppID, openid)
	return ok(map[string]any{
		"app": a.AppID, "openid": openid, "known": known, "subscribed": u.Subscribed,
		"grants": nonNil(c.s.p.Ledger.Grants(a.AppID, openid, c.s.p.Now())),
	})
}

// ClockInfo is the answer of the clock routes.
type ClockInfo struct {
	Now      time.Time `json:"now"`
	Unix     int64     `json:"unix"`
	Advanced string    `json:"advanced"` // how far the control API has moved the clock in all
}

func clockInfo(p *platform.Platform) ClockInfo {
	now := p.Now()
	return ClockInfo{Now: now, Unix: now.Unix(), Advanced: p.Advanced().String()}
}

// getClock serves GET /_emu/v1/clock.
func getClock(c *call) response { return ok(clockInfo(c.s.p)) }

// advanceClock serves POST /_emu/v1/clock/advance {"by": "48h1s"}.
func advanceClock(c *call) response {
	var req struct {
		By string `json:"by"`
	}
	if err := json.Unmarshal(c.body, &req); err != nil || req.By == "" {
		return controlError(http.StatusBadRequest, `the body must be {"by":"48h1s"} (a Go duration: h, m, s)`)
	}
	d, err := time.ParseDuration(req.By)
	if err != nil || d < 0 {
		return controlError(http.StatusBadRequest, "by %q: a non-negative duration such as 30m1s or 48h is needed", req.By)
	}
	c.s.p.Advance(d)
	return ok(clockInfo(c.s.p))
}

// journalFilter reads the filters of the journal routes: app, user, kind, since, limit.
func (c *call) journalFilter() (state.JournalFilter, time.Time, *response) {
	f := state.JournalFilter{User: c.query("user"), Kind: c.query("kind")}
	if key := c.query("app"); key != "" {
		a, errRes := c.appParam(key)
		if errRes != nil {
			return f, time.Time{}, errRes
		}
		f.App = a.AppID
	}
	switch f.Kind {
	case "", state.EntryPush, state.EntryAPI, state.EntryState, state.EntryControl, state.EntryUnknown:
	default:
		r := controlError(http.StatusBadRequest, "kind %q: one of push, api, state, control, unknown", f.Kind)
		return f, time.Time{}, &r
	}
	seq, at, err := c.s.p.Journal.ParseSince(c.query("since"))
	if err != nil {
		r := controlError(http.StatusBadRequest, "since %q: a sequence number or an RFC 3339 time", c.query("since"))
		return f, time.Time{}, &r
	}
	f.Since = seq
	if l := c.query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			r := controlError(http.StatusBadRequest, "limit %q: a non-negative integer", l)
			return f, time.Time{}, &r
		}
		f.Limit = n
	}
	return f, at, nil
}

// listJournal serves GET /_emu/v1/journal?app=&user=&kind=&since=&limit=.
func listJournal(c *call) response {
	f, at, errRes := c.journalFilter()
	if errRes != nil {
		return *errRes
	}
	entries := c.s.p.Journal.List(f)
	if !at.IsZero() {
		kept := entries[:0]
		for _, e := range entries {
			if !e.Time.Before(at) {
				kept = append(kept, e)
			}
		}
		entries = kept
	}
	held, capacity, last, dropped := c.s.p.Journal.Stats()
	return ok(map[string]any{"entries": nonNil(entries), "held": held, "capacity": capacity, "last_seq": last, "dropped": dropped})
}

// streamJournal serves GET /_emu/v1/journal/stream: new entries as server-sent events, with the
// same filters as the list. Each event is `id: SEQ`, `event: KIND`, `data: ENTRY-JSON`.
func streamJournal(c *call) response {
	f, _, errRes := c.journalFilter()
	if errRes != nil {
		return *errRes
	}
	flusher, canFlush := c.w.(http.Flusher)
	if !canFlush {
		return controlError(http.StatusInternalServerError, "the connection cannot stream")
	}
	ch, cancel := c.s.p.Journal.Subscribe(f, 256)
	defer cancel()
	h := c.w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	c.w.WriteHeader(http.StatusOK)
	// A reader that reconnects with Last-Event-ID, or asked with since, first gets what it missed.
	if last := c.r.Header.Get("Last-Event-ID"); last != "" {
		if n, err := strconv.ParseUint(last, 10, 64); err == nil {
			f.Since = n
		}
	}
	var sent uint64
	if f.Since > 0 {
		for _, e := range c.s.p.Journal.List(f) {
			writeEvent(c.w, e)
			sent = e.Seq
		}
	}
	fmt.Fprint(c.w, ": wxemu journal stream\n\n")
	flusher.Flush()
	for {
		select {
		case <-c.r.Context().Done():
			return response{streamed: true, status: 200}
		case e, open := <-ch:
			if !open {
				return response{streamed: true, status: 200}
			}
			if e.Seq <= sent {
				continue
			}
			writeEvent(c.w, e)
			flusher.Flush()
		}
	}
}

func writeEvent(w http.ResponseWriter, e state.Entry) {
	data, err := json.Marshal(e)
	if err != nil {
		data, _ = json.Marshal(map[string]any{"seq": e.Seq, "summary": e.Summary, "error": err.Error()})
	}
	fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.Seq, e.Kind, strings.ReplaceAll(string(data), "\n", ""))
}

// reset serves POST /_emu/v1/reset.
func reset(c *call) response {
	c.s.p.Reset()
	return ok(map[string]string{"status": "reset"})
}

// exportState serves GET /_emu/v1/state: every piece of state, as JSON.
func exportState(c *call) response { return ok(c.s.p.Export()) }

// importState serves PUT /_emu/v1/state with a body from GET /_emu/v1/state.
func importState(c *call) response {
	var snap platform.Snapshot
	if err := json.Unmarshal(c.body, &snap); err != nil {
		return controlError(http.StatusBadRequest, "the body is not a state export: %v", err)
	}
	if err := c.s.p.Import(&snap); err != nil {
		return controlError(http.StatusBadRequest, "%v", err)
	}
	return ok(map[string]string{"status": "imported"})
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
