package apiserver

import (
	"strconv"

	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/wire"
)

// The control routes the web console needs beyond the others; each is usable with curl.

// seqParam reads the {seq} of a journal route.
func (c *call) seqParam() (uint64, error) {
	s := c.pathVar("seq")
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, platform.BadRequest("journal entry %q: a sequence number (the seq of GET /_emu/v1/journal), 1 or more", s)
	}
	return n, nil
}

// Errcode is a code of WeChat's errcode catalog and its exact errmsg.
type Errcode struct {
	Errcode int    `json:"errcode"`
	Errmsg  string `json:"errmsg"`
}

// journalEntry serves GET /_emu/v1/journal/{seq}: the entry, and for a push its signatures
// recomputed, for an API call the errmsg of its errcode in the catalog.
func journalEntry(c *call) (any, error) {
	seq, err := c.seqParam()
	if err != nil {
		return nil, err
	}
	e, err := c.s.p.JournalEntry(seq)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"entry": e}
	if e.Push != nil {
		sigs, err := c.s.p.Signatures(seq)
		if err == nil {
			out["signatures"] = sigs
		}
	}
	if e.API != nil {
		msg, known := wire.Errmsg(e.API.Errcode)
		out["errcode"] = map[string]any{"errcode": e.API.Errcode, "errmsg": msg, "in_catalog": known}
	}
	return out, nil
}

// replayEntry serves POST /_emu/v1/journal/{seq}/replay: the push again, as WeChat's retry.
func replayEntry(c *call) (any, error) {
	seq, err := c.seqParam()
	if err != nil {
		return nil, err
	}
	res, e, err := c.s.p.ReplayEntry(c.ctx, seq)
	if err != nil {
		return nil, err
	}
	c.app, _ = c.s.p.App(e.App)
	c.user = e.User
	return map[string]any{"journal": e.Seq, "result": res}, nil
}

// resendEntry serves POST /_emu/v1/journal/{seq}/resend {"message": "<xml>…</xml>"}: an edited
// copy of the push, signed and encrypted afresh.
func resendEntry(c *call) (any, error) {
	seq, err := c.seqParam()
	if err != nil {
		return nil, err
	}
	var req struct {
		Message *string `json:"message"`
	}
	const example = `{"message":"<xml><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content></xml>"} (the plaintext message, as data.request.plaintext of the entry shows it)`
	if err := c.decodeControl(&req, example); err != nil {
		return nil, err
	}
	if req.Message == nil {
		return nil, platform.BadRequest(`"message" is missing; send %s`, example)
	}
	res, e, err := c.s.p.ResendEdited(c.ctx, seq, []byte(*req.Message))
	if err != nil {
		return nil, err
	}
	c.app, _ = c.s.p.App(e.App)
	c.user = e.User
	return map[string]any{"journal": e.Seq, "result": res}, nil
}

// listExpiries serves GET /_emu/v1/expiries: what expires next, soonest first.
func listExpiries(c *call) (any, error) {
	return map[string]any{"now": c.s.p.Now(), "expiries": nonNil(c.s.p.Expiries())}, nil
}

// advanceToExpiry serves POST /_emu/v1/clock/next?kind=: the clock moved to the next expiry.
func advanceToExpiry(c *call) (any, error) {
	x, err := c.s.p.AdvanceToExpiry(c.query("kind"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"expired": x, "clock": clockInfo(c.s.p)}, nil
}

// appTokens serves GET /_emu/v1/apps/{app}/tokens.
func appTokens(c *call) (any, error) {
	a, err := c.appParam(c.pathVar("app"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"app": a.AppID, "token_time": tokenTime(c.s.p), "tokens": nonNil(c.s.p.AppTokens(a.AppID))}, nil
}

func tokenTime(p *platform.Platform) string {
	if p.TokenTime() {
		return "virtual"
	}
	return "wall"
}

// appMedia serves GET /_emu/v1/apps/{app}/media: the live files, each with its download URL.
func appMedia(c *call) (any, error) {
	a, err := c.appParam(c.pathVar("app"))
	if err != nil {
		return nil, err
	}
	type file struct {
		platform.Media
		URL string `json:"url"`
	}
	out := []file{}
	for _, m := range c.s.p.AppMedia(a.AppID) {
		out = append(out, file{m, "/_emu/v1/media/" + m.ID})
	}
	return map[string]any{"app": a.AppID, "media": out}, nil
}

// listErrcodes serves GET /_emu/v1/errcodes: WeChat's errcode catalog.
func listErrcodes(*call) (any, error) {
	var out []Errcode
	for _, code := range wire.Codes() {
		msg, _ := wire.Errmsg(code)
		out = append(out, Errcode{code, msg})
	}
	return map[string]any{"errcodes": out}, nil
}

// listRules serves GET /_emu/v1/rules: every rule a verdict can name, with its severity, its
// protocol section and what it checks.
func listRules(*call) (any, error) {
	return map[string]any{"rules": platform.RuleCatalog()}, nil
}

// BriefEntry is a journal entry's header without its record, as GET /_emu/v1/journal?brief=true
// lists it; GET /_emu/v1/journal/{seq} has the whole entry.
type BriefEntry struct {
	Seq        uint64  `json:"seq"`
	Time       string  `json:"time"`
	Kind       string  `json:"kind"`
	App        string  `json:"app,omitempty"`
	User       string  `json:"user,omitempty"`
	Summary    string  `json:"summary"`
	DurationMS float64 `json:"duration_ms,omitempty"`
	Errors     int     `json:"errors,omitempty"`
	// Verdict is a push's outcome (reply, transfer, none, failed) or an API call's errcode.
	Verdict string `json:"verdict,omitempty"`
}

func briefEntries(entries []platform.Entry) []BriefEntry {
	out := make([]BriefEntry, len(entries))
	for i := range entries {
		e := &entries[i]
		b := BriefEntry{Seq: e.Seq, Time: e.Time.Format("2006-01-02T15:04:05.999Z07:00"), Kind: e.Kind(), App: e.App, User: e.User,
			Summary: e.Summary, DurationMS: e.DurationMS, Errors: e.Errors}
		switch {
		case e.Push != nil && e.Push.Result != nil:
			b.Verdict = string(e.Push.Outcome)
		case e.API != nil:
			b.Verdict = strconv.Itoa(e.API.Errcode)
		}
		out[i] = b
	}
	return out
}
