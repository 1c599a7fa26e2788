package record

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wxemu/wxemu/emulator/journal"
	"github.com/wxemu/wxemu/emulator/wire"
)

// replyYAML is the reply: expectation of a push's outcome: the exact text of a text reply, the
// type of a media reply (its media_id changes from run to run), the article count of news, the
// account a transfer names.
func replyYAML(p *journal.Push) string {
	switch p.Outcome {
	case "none", "failed":
		return string(p.Outcome)
	case "transfer":
		// A transfer that named no account is written as one, {transfer: ""}: `reply: transfer`
		// would pass a bot that transfers to a named account instead.
		return "{transfer: " + scalar(p.KfAccount) + "}"
	}
	if p.Reply == nil {
		return "reply"
	}
	switch p.Reply.MsgType {
	case "text":
		return "{text: " + scalar(p.Reply.Content) + "}"
	case "news":
		return fmt.Sprintf("{msgtype: news, articles: %d}", len(p.Reply.Articles))
	case "image", "voice", "video", "music":
		return p.Reply.MsgType
	}
	return "reply"
}

// outcomeWords is a push's outcome in a few words.
func outcomeWords(p *journal.Push) string {
	switch p.Outcome {
	case "reply":
		if p.Reply != nil && p.Reply.MsgType == "text" {
			return "text reply " + strconv.Quote(p.Reply.Content)
		}
		if p.Reply != nil {
			return p.Reply.MsgType + " reply"
		}
	case "transfer":
		if p.KfAccount != "" {
			return "transfer to " + p.KfAccount
		}
	case "failed":
		return "failed (the user saw " + strconv.Quote(p.UserSees) + ")"
	case "none":
		return "no reply"
	}
	return string(p.Outcome)
}

// sameMessage reports whether a retry repeats m: the same MsgId, or for an event the same
// FromUserName and CreateTime, as WeChat's dedupe key is.
func sameMessage(m, retry *wire.Message) bool {
	if m.MsgType != retry.MsgType || m.FromUserName != retry.FromUserName {
		return false
	}
	if m.IsEvent() {
		return m.Event == retry.Event && m.CreateTime == retry.CreateTime
	}
	return m.Get("MsgId") == retry.Get("MsgId")
}

// messageWords is a pushed message in a few words.
func messageWords(m *wire.Message) string {
	switch {
	case m.IsEvent():
		s := "event " + m.Event
		if m.KfAccount != "" {
			s += " " + m.KfAccount
		}
		if m.ToKfAccount != "" {
			s += " to " + m.ToKfAccount
		}
		return s
	case m.MsgType == "text":
		return "text " + strconv.Quote(clip(m.Content, 60))
	}
	return m.MsgType
}

// skipFields are the fields of a control API message wxemu fills in itself on every run.
var skipFields = map[string]bool{"app": true, "ToUserName": true, "FromUserName": true, "CreateTime": true, "Encrypt": true}

// messageYAML is what a user sent, as a step writes it: {text: …} for a text, {event: E, key: K}
// for an event, and every other field by its wire name, so that demo values fill what the
// person left out, as they did when recorded.
func messageYAML(body map[string]any) string {
	fields := map[string]string{}
	flatten("", body, fields)
	msgType := fields["MsgType"]
	if msgType == "" {
		return ""
	}
	var parts []string
	switch msgType {
	case "text":
		parts = append(parts, "text: "+scalar(fields["Content"]))
		delete(fields, "Content")
	case "event":
		parts = append(parts, "event: "+scalar(fields["Event"]))
		delete(fields, "Event")
		if k, ok := fields["EventKey"]; ok {
			parts = append(parts, "key: "+scalar(k))
			delete(fields, "EventKey")
		}
	default:
		parts = append(parts, "MsgType: "+scalar(msgType))
	}
	delete(fields, "MsgType")
	keys := make([]string, 0, len(fields))
	for k := range fields {
		if !skipFields[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, scalar(k)+": "+scalar(fields[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// flatten writes the fields of a JSON message by wire name, nested objects as Outer.Inner.
func flatten(prefix string, v map[string]any, out map[string]string) {
	for k, x := range v {
		name := k
		if prefix != "" {
			name = prefix + "." + k
		}
		switch y := x.(type) {
		case map[string]any:
			flatten(name, y, out)
		case nil:
		default:
			out[name] = number(y)
		}
	}
}

// sendContent is a send's msgtype and text: decoded when the send passed the schema, read from
// the raw body when WeChat refused it before (its access token).
func sendContent(e *journal.Entry) (string, string) {
	c := e.API
	if c.Send != nil {
		if c.Send.Text != nil {
			return c.Send.MsgType, c.Send.Text.Content
		}
		return c.Send.MsgType, ""
	}
	if c.Exchange != nil {
		var body struct {
			MsgType string `json:"msgtype"`
			Text    struct {
				Content string `json:"content"`
			} `json:"text"`
		}
		if json.Unmarshal([]byte(c.RequestBody), &body) == nil {
			return body.MsgType, body.Text.Content
		}
	}
	return "", ""
}

// sendWords is a send in a few words.
func sendWords(e *journal.Entry) string {
	t, content := sendContent(e)
	s := t
	if content != "" {
		s += " " + strconv.Quote(clip(content, 60))
	}
	return fmt.Sprintf("%s → %d %s", s, e.API.Errcode, e.API.Errmsg)
}

// nameRe is what the scenario format takes as a user's name; reserved are the words it does not.
var (
	nameRe   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,31}$`)
	reserved = map[string]bool{}
	// plainRe is a scalar safe to write unquoted in block and flow context alike.
	plainRe = regexp.MustCompile(`^[\p{L}_/][\p{L}\p{N}_@./-]*( [\p{L}\p{N}_@./-]+)*$`)
	// keywords YAML would read as something other than a string.
	keywords = map[string]bool{"true": true, "false": true, "null": true, "yes": true, "no": true, "on": true, "off": true, "y": true, "n": true, "~": true}
)

func init() {
	for _, w := range []string{"app", "env", "id", "name", "agent", "advance", "trigger", "tokens", "reply", "delivered_to", "user_sees",
		"sends", "bot_receives", "violations", "tolerate", "checks", "error",
		"text", "image", "voice", "video", "shortvideo", "location", "link", "miniprogrampage", "event"} {
		reserved[w] = true
	}
}

// scalar writes a string as a YAML scalar: plain when that reads back as the same string, else
// double-quoted.
func scalar(s string) string {
	if plainRe.MatchString(s) && !keywords[strings.ToLower(s)] {
		return s
	}
	return quoted(s)
}

// quoted writes a string double-quoted; Go's escapes are YAML's.
func quoted(s string) string { return strconv.Quote(s) }

// str reads a JSON value as a string.
func str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if v == nil {
		return ""
	}
	return number(v)
}

// number writes a JSON value as text: numbers without exponent, booleans as true/false.
func number(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	data, _ := json.Marshal(v)
	return string(data)
}

// duration writes a duration as the scenario format reads it: 30m1s, 48h, 1h30m.
func duration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	if i := strings.Index(s, "h0m"); i >= 0 {
		s = s[:i+1] + s[i+3:] // 48h0m1s: 48h1s
	}
	return s
}

// oneLine keeps a text on one comment line.
func oneLine(s string) string {
	return clip(strings.Join(strings.Fields(s), " "), 200)
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

func plural(n uint64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
