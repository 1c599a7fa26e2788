package apiserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/wire"
)

// listRoutes serves GET /_emu/v1/routes: the routing table.
func listRoutes(c *call) (any, error) {
	type row struct {
		Methods []string `json:"methods"`
		Path    string   `json:"path"`
		Access  string   `json:"access"`
		Body    string   `json:"body,omitempty"`
	}
	var out []row
	for _, rt := range c.s.routes() {
		out = append(out, row{rt.Methods, rt.Path, [...]string{"public", "token", "control"}[rt.Access], [...]string{"", "json", "multipart", "json"}[rt.Body]})
	}
	return map[string]any{"routes": out}, nil
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
func listApps(c *call) (any, error) {
	var out []AppInfo
	for _, a := range c.s.p.Apps() {
		out = append(out, AppInfo{a.Alias, a.Kind, a.AppID, a.Secret, a.OriginalID, a.Token, a.EncodingAESKey, a.Mode, a.Format, a.URL, a.WeChatID})
	}
	return map[string]any{"apps": out}, nil
}

// appParam resolves the app named by the query parameter or body field "app", which may be
// omitted when there is only one app. The call is then about that app, for the journal.
func (c *call) appParam(key string) (*platform.App, error) {
	if key == "" {
		if apps := c.s.p.Apps(); len(apps) == 1 {
			c.app = apps[0]
			return apps[0], nil
		}
	}
	a, err := c.s.p.LookupApp(key)
	if err != nil {
		return nil, err
	}
	c.app = a
	return a, nil
}

// decodeControl reads the JSON body of a control route into v; example shows a good one.
func (c *call) decodeControl(v any, example string) error {
	if len(strings.TrimSpace(string(c.body))) == 0 {
		return platform.BadRequest("the body is empty; send %s", example)
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		return platform.BadRequest("the body is not a JSON object like %s: %v", example, err)
	}
	return nil
}

// listUsers serves GET /_emu/v1/users?app=…
func listUsers(c *call) (any, error) {
	appid := ""
	if key := c.query("app"); key != "" {
		a, err := c.appParam(key)
		if err != nil {
			return nil, err
		}
		appid = a.AppID
	}
	return map[string]any{"users": nonNil(c.s.p.Users(appid))}, nil
}

// userSends serves POST /_emu/v1/users/{openid}/send: {"app": …, "MsgType": "text", "Content":
// "hi", …} — any inbound type, in the PascalCase keys of a Mini Program JSON push.
func userSends(c *call) (any, error) {
	var probe struct {
		App string `json:"app"`
	}
	if err := c.decodeControl(&probe, `{"app":"oa","MsgType":"text","Content":"hi"}`); err != nil {
		return nil, err
	}
	a, err := c.appParam(probe.App)
	if err != nil {
		return nil, err
	}
	if err := caseOfKeys(c.body); err != nil {
		return nil, err
	}
	m, err := wire.ParseMessage(c.body, wire.JSON)
	if err != nil {
		return nil, platform.BadRequest("the message: %v", err)
	}
	return c.s.p.UserSends(c.ctx, a.AppID, c.pathVar("openid"), *m)
}

// caseOfKeys refuses keys that are wire names in another case ("msgtype"), saying which: they
// would otherwise be ignored, and the message answered "MsgType is missing".
func caseOfKeys(body []byte) error {
	var keys map[string]json.RawMessage
	if json.Unmarshal(body, &keys) != nil {
		return nil // ParseMessage says what is wrong with the body
	}
	var wrong []string
	for k := range keys {
		if name, ok := wire.FieldFold(k); ok {
			wrong = append(wrong, fmt.Sprintf("%q is %q", k, name))
		}
	}
	if len(wrong) == 0 {
		return nil
	}
	sort.Strings(wrong)
	return platform.BadRequest(`the keys are the wire names of a JSON push, and they are case-sensitive: %s; send {"app":"oa","MsgType":"text","Content":"hi"}`, strings.Join(wrong, ", "))
}

// userTriggers serves POST /_emu/v1/users/{openid}/trigger {"app": …, "trigger": "payment"}:
// a window trigger that has no push of its own (a payment) or one to open without pushing.
func userTriggers(c *call) (any, error) {
	var req struct {
		App     string `json:"app"`
		Trigger string `json:"trigger"`
	}
	if err := c.decodeControl(&req, `{"app":"oa","trigger":"payment"}`); err != nil {
		return nil, err
	}
	a, err := c.appParam(req.App)
	if err != nil {
		return nil, err
	}
	g, err := c.s.p.Trigger(a.AppID, c.pathVar("openid"), req.Trigger)
	if err != nil {
		return nil, err
	}
	return map[string]any{"grants": nonNil(g)}, nil
}

// userTranscript serves GET /_emu/v1/users/{openid}/transcript?app=…: what the person on the
// phone saw, in order.
func userTranscript(c *call) (any, error) {
	a, err := c.appParam(c.query("app"))
	if err != nil {
		return nil, err
	}
	openid := c.pathVar("openid")
	return map[string]any{"app": a.AppID, "openid": openid, "lines": nonNil(c.s.p.Transcript(a.AppID, openid))}, nil
}

// userGrants serves GET /_emu/v1/users/{openid}/grants?app=…: the user's live windows.
func userGrants(c *call) (any, error) {
	a, err := c.appParam(c.query("app"))
	if err != nil {
		return nil, err
	}
	openid := c.pathVar("openid")
	u, known := c.s.p.User(a.AppID, openid)
	return map[string]any{
		"app": a.AppID, "openid": openid, "known": known, "subscribed": u.Subscribed,
		"grants": nonNil(c.s.p.Grants(a.AppID, openid)),
	}, nil
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
func getClock(c *call) (any, error) { return clockInfo(c.s.p), nil }

// advanceClock serves POST /_emu/v1/clock/advance {"by": "48h1s"}.
func advanceClock(c *call) (any, error) {
	var req struct {
		By string `json:"by"`
	}
	const example = `{"by":"48h1s"} (a Go duration: h, m, s)`
	if err := c.decodeControl(&req, example); err != nil {
		return nil, err
	}
	if req.By == "" {
		return nil, platform.BadRequest(`"by" is missing; send %s`, example)
	}
	d, err := time.ParseDuration(req.By)
	if err != nil || d < 0 {
		return nil, platform.BadRequest("by %q: a non-negative duration such as 30m1s or 48h is needed", req.By)
	}
	if err := c.s.p.Advance(d); err != nil {
		return nil, err
	}
	return clockInfo(c.s.p), nil
}

// journalFilter reads the filters of the journal routes: app, user, kind, since, limit. A
// since that is a time selects the entries at or after it, returned as at.
func (c *call) journalFilter() (platform.JournalFilter, time.Time, error) {
	f := platform.JournalFilter{User: c.query("user"), Kind: c.query("kind")}
	if key := c.query("app"); key != "" {
		a, err := c.appParam(key)
		if err != nil {
			return f, time.Time{}, err
		}
		f.App = a.AppID
	}
	if f.Kind != "" {
		kinds := platform.JournalKinds()
		known := false
		for _, k := range kinds {
			known = known || k == f.Kind
		}
		if !known {
			return f, time.Time{}, platform.BadRequest("kind %q%s: one of %s", f.Kind, platform.DidYouMean(f.Kind, kinds), strings.Join(kinds, ", "))
		}
	}
	seq, at, err := platform.ParseSince(c.query("since"))
	if err != nil {
		return f, time.Time{}, platform.BadRequest("since %q: a sequence number or an RFC 3339 time", c.query("since"))
	}
	f.Since = seq
	if l := c.query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			return f, time.Time{}, platform.BadRequest("limit %q: a non-negative integer", l)
		}
		f.Limit = n
	}
	return f, at, nil
}

// listJournal serves GET /_emu/v1/journal?app=&user=&kind=&since=&limit=&brief=.
func listJournal(c *call) (any, error) {
	f, at, err := c.journalFilter()
	if err != nil {
		return nil, err
	}
	entries := c.s.p.Journal(f)
	if !at.IsZero() {
		kept := entries[:0]
		for _, e := range entries {
			if !e.Time.Before(at) {
				kept = append(kept, e)
			}
		}
		entries = kept
	}
	st := c.s.p.JournalStats()
	if c.query("brief") == "true" {
		// The headers alone: what a list shows, a tenth of the bytes (the console's first load).
		return map[string]any{"entries": briefEntries(entries), "held": st.Held, "capacity": st.Capacity, "bytes": st.Bytes,
			"max_bytes": st.MaxBytes, "last_seq": st.LastSeq, "dropped": st.Dropped, "dropped_bytes": st.DroppedBytes}, nil
	}
	return map[string]any{"entries": nonNil(entries), "held": st.Held, "capacity": st.Capacity, "bytes": st.Bytes,
		"max_bytes": st.MaxBytes, "last_seq": st.LastSeq, "dropped": st.Dropped, "dropped_bytes": st.DroppedBytes}, nil
}

// streamJournal serves GET /_emu/v1/journal/stream: new entries as server-sent events, with the
// same filters as the list. Each event is `id: SEQ`, `event: KIND`, `data: ENTRY-JSON`.
func streamJournal(c *call) (any, error) {
	f, _, err := c.journalFilter()
	if err != nil {
		return nil, err
	}
	flusher, canFlush := c.w.(http.Flusher)
	if !canFlush {
		return nil, fmt.Errorf("stream the journal: the connection cannot flush")
	}
	// The stream is exempt from the server's write timeout: it lasts as long as its reader.
	_ = http.NewResponseController(c.w).SetWriteDeadline(time.Time{})
	ch, cancel := c.s.p.Subscribe(f, 256)
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
		for _, e := range c.s.p.Journal(f) {
			writeEvent(c.w, e)
			sent = e.Seq
		}
	}
	fmt.Fprint(c.w, ": wxemu journal stream\n\n")
	flusher.Flush()
	for {
		select {
		case <-c.ctx.Done():
			return streamed{}, nil
		case <-c.s.draining:
			return streamed{}, nil
		case e, open := <-ch:
			if !open {
				return streamed{}, nil
			}
			if e.Seq <= sent {
				continue
			}
			writeEvent(c.w, e)
			flusher.Flush()
		}
	}
}

func writeEvent(w http.ResponseWriter, e platform.Entry) {
	data, err := json.Marshal(e)
	if err != nil {
		data, _ = json.Marshal(map[string]any{"seq": e.Seq, "summary": e.Summary, "error": err.Error()})
	}
	fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.Seq, e.Kind(), strings.ReplaceAll(string(data), "\n", ""))
}

// reset serves POST /_emu/v1/reset.
func reset(c *call) (any, error) {
	c.s.p.Reset()
	return map[string]string{"status": "reset"}, nil
}

// exportState serves GET /_emu/v1/state: every piece of state, as JSON.
func exportState(c *call) (any, error) { return c.s.p.Export(), nil }

// importState serves PUT /_emu/v1/state with a body from GET /_emu/v1/state.
func importState(c *call) (any, error) {
	var snap platform.Snapshot
	dec := json.NewDecoder(c.r.Body)
	if err := dec.Decode(&snap); err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			return nil, tooLarge(c.rt, maxStateBody)
		case errors.Is(err, io.EOF):
			return nil, platform.BadRequest("the body is empty; send the answer of GET /_emu/v1/state")
		}
		return nil, platform.BadRequest("the body is not a JSON object like the answer of GET /_emu/v1/state: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, tooLarge(c.rt, maxStateBody)
		}
		return nil, platform.BadRequest("the body has more after the state export; send the answer of GET /_emu/v1/state alone")
	}
	if err := c.s.p.Import(&snap); err != nil {
		return nil, err
	}
	return map[string]string{"status": "imported"}, nil
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
