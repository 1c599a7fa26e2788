// Package record turns a recorded session into a scenario file. A recording is a stretch of the
// journal: the actions a person took through the control API (a user's message or trigger, an
// agent's accept, reply, switch, close or status, a move of the clock, an expiry or revocation
// of the access tokens) become the steps, in order; what was observed after each becomes its
// expectations — the passive reply, the transfer, the failure line the user saw, the bot's
// customer-service sends with their errcodes, the kf events pushed to the bot, the agent a
// message was delivered to. What the scenario format cannot check is written as a YAML comment
// where it happened, so that nothing observed is silently left out.
//
// The package reads journal entries and writes YAML text; it knows the scenario format only as
// text, and it holds no state. The platform owns the recording (when it began, its name) and
// hands the entries over when it stops.
package record

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wxemu/wxemu/emulator/journal"
	"github.com/wxemu/wxemu/emulator/wire"
)

// Session is what a recording saw: its name, its bounds, the apps and the journal entries
// after Since.
type Session struct {
	// Name is the scenario's name.
	Name string
	// Stopped is when the recording stopped, in wall time; Began and Ended in virtual time.
	Stopped      time.Time
	Began, Ended time.Time
	// Since is the journal's newest sequence number when the recording started.
	Since uint64
	// Missing counts the entries after Since the journal no longer held at the stop (its
	// bounds dropped them, or a reset forgot them).
	Missing uint64
	// Apps are every app of the emulator, in config order.
	Apps []App
	// Entries are the journal entries after Since, oldest first.
	Entries []journal.Entry
	// HeldFaults are the fault rules held when the recording started, with their counters,
	// as JSON: what was observed may owe to them, and the replay runs without them.
	HeldFaults []string
}

// App is an app as the scenario names it.
type App struct {
	Alias  string
	AppID  string
	Kind   string // oa or mp
	Target string // where its messages are pushed, for the comment that says how to replay
	Users  []User
}

// User is a user the app knows: a configured one has a name scenarios can use.
type User struct {
	OpenID     string
	Name       string
	Subscribed bool // whether the config has the user follow the account at start
}

// Control routes of a recording: they are not actions of the session.
const recordingPrefix = "/_emu/v1/recording"

// Actions counts the actions in entries that a scenario would replay as steps.
func Actions(entries []journal.Entry) int {
	n := 0
	for i := range entries {
		if a := parseAction(&entries[i]); a != nil && a.failed == "" && a.kind != kindOther {
			n++
		}
	}
	return n
}

// Scenario writes the session as a scenario file: one YAML document per app acted on, each a
// scenario that `wxemu run` replays against the same bot.
func Scenario(s Session) []byte {
	var b strings.Builder
	g := &generator{s: s}
	g.parse()
	b.WriteString("# Recorded with wxemu serve")
	if s.Name != "" {
		b.WriteString(": " + oneLine(s.Name))
	}
	b.WriteString("\n")
	if !s.Stopped.IsZero() {
		fmt.Fprintf(&b, "# stopped %s (wall clock); virtual time %s to %s\n", s.Stopped.UTC().Format(timeLayout),
			s.Began.UTC().Format(timeLayout), s.Ended.UTC().Format(timeLayout))
	}
	b.WriteString("# The steps are what was done through the control API, in order; each step's checks are what\n")
	b.WriteString("# was observed. Comments hold what was observed and a scenario cannot check. Edit freely:\n")
	b.WriteString("# exact texts can become {contains: …} or {regex: …}.\n")
	if s.Missing > 0 {
		fmt.Fprintf(&b, "# WARNING: %d journal entr%s of the session were no longer held when the recording stopped\n", s.Missing, plural(s.Missing, "y", "ies"))
		b.WriteString("# (journal.max_entries / journal.max_bytes, or a reset): what they recorded is missing here.\n")
	}
	if len(s.HeldFaults) > 0 {
		fmt.Fprintf(&b, "# WARNING: %d fault rule(s) were held when the recording started, and what was observed may owe\n", len(s.HeldFaults))
		b.WriteString("# to them; the replay runs without them unless you add them (faults: at the top of a scenario):\n")
		for _, f := range s.HeldFaults {
			b.WriteString("#   " + f + "\n")
		}
	}
	if len(g.unplaced) > 0 && g.appsActedOn() > 0 {
		b.WriteString("# Observed outside any app while recording:\n")
		for _, c := range g.unplaced {
			b.WriteString("#   " + c + "\n")
		}
	}
	docs := 0
	for _, app := range s.Apps {
		doc := g.document(app)
		if doc == "" {
			continue
		}
		if docs > 0 {
			b.WriteString("---\n")
		}
		b.WriteString(doc)
		docs++
	}
	if docs == 0 {
		b.WriteString("# Nothing was recorded: no user, agent, clock or token action came through the control API\n")
		b.WriteString("# between the start and the stop of the recording.\n")
		for _, c := range g.unplaced {
			b.WriteString("# " + c + "\n")
		}
	}
	if len(g.leftover) > 0 {
		b.WriteString("# Observed and not replayed:\n")
		for _, c := range g.leftover {
			b.WriteString("#   " + c + "\n")
		}
	}
	return []byte(b.String())
}

const timeLayout = "2006-01-02 15:04:05 UTC"

// Kinds of actions.
const (
	kindSend    = "send"
	kindTrigger = "trigger"
	kindAgent   = "agent"
	kindAdvance = "advance"
	kindTokens  = "tokens"
	kindFaults  = "faults"
	kindOther   = "other" // a control call that changed something and is no step (reset, import)
	// kindReplay is WeChat's retry of a pushed message, asked for by hand: it is no step of its
	// own; the step of the message gets checks: [replay] when the bot sent nothing again.
	kindReplay = "replay"
)

// action is one call of the control plane that a person made.
type action struct {
	e      *journal.Entry
	began  uint64 // the journal's newest sequence number when the call began
	kind   string
	app    string // appid; "" for a move of the clock, which every app sees
	user   string // openid acted on
	failed string // the call failed: what it answered
	body   map[string]any
	answer map[string]any

	account, do string           // agent
	advance     time.Duration    // advance
	tokens      string           // expire or revoke
	faults      []map[string]any // fault rules added; nil with clearFaults
	clearFaults bool
	trigger     string // trigger kind

	obs []*journal.Entry // what was observed while and after it ran
	// stray is what happened after it began to a user it did not concern, and that no action
	// of theirs caused: only told.
	stray []*journal.Entry
}

// parseAction reads a control entry as an action; nil for what is not one (a read, a call of
// the recording itself, anything but a control call).
func parseAction(e *journal.Entry) *action {
	c := e.Control
	if c == nil || c.Exchange == nil {
		return nil
	}
	method, route, _ := strings.Cut(c.Action, " ")
	if method == "GET" || method == "HEAD" || strings.HasPrefix(route, recordingPrefix) {
		return nil
	}
	a := &action{e: e, began: c.Began, app: e.App, user: e.User}
	if a.began >= e.Seq {
		a.began = e.Seq - 1 // not a mark of this journal: the call caused nothing known
	}
	_ = json.Unmarshal([]byte(c.RequestBody), &a.body)
	_ = json.Unmarshal([]byte(c.ResponseBody), &a.answer)
	if e.Errors > 0 || c.Status >= 400 {
		a.failed = e.Summary
	}
	seg := pathSegments(c.URL)
	switch {
	case route == "/_emu/v1/users/{openid}/send":
		a.kind = kindSend
	case route == "/_emu/v1/users/{openid}/trigger":
		a.kind, a.trigger = kindTrigger, str(a.body["trigger"])
	case strings.HasPrefix(route, "/_emu/v1/agents/{account}/"):
		a.kind, a.do = kindAgent, strings.TrimPrefix(route, "/_emu/v1/agents/{account}/")
		if len(seg) >= 4 {
			a.account = seg[3]
		}
		if a.do == "invitation" {
			a.kind = kindOther
		}
	case route == "/_emu/v1/clock/advance":
		a.kind, a.app = kindAdvance, ""
		d, err := time.ParseDuration(str(a.body["by"]))
		if err != nil || d <= 0 {
			return nil // an advance by nothing changes nothing
		}
		a.advance = d
	case strings.HasPrefix(route, "/_emu/v1/apps/{app}/tokens/"):
		a.kind, a.tokens = kindTokens, strings.TrimPrefix(route, "/_emu/v1/apps/{app}/tokens/")
	case route == "/_emu/v1/faults" && method == "POST":
		a.kind, a.app = kindFaults, ""
		var one map[string]any
		if json.Unmarshal([]byte(c.RequestBody), &one) == nil && one != nil {
			a.faults = []map[string]any{one}
		} else if json.Unmarshal([]byte(c.RequestBody), &a.faults) != nil || len(a.faults) == 0 {
			a.kind = kindOther
		}
	case route == "/_emu/v1/faults" && method == "DELETE":
		a.kind, a.app, a.clearFaults = kindFaults, "", true
	case strings.Contains(route, "replay"):
		a.kind = kindReplay
	default:
		a.kind = kindOther
	}
	return a
}

// pathSegments splits the path of a request URI, each segment unescaped.
func pathSegments(uri string) []string {
	p, _, _ := strings.Cut(uri, "?")
	var out []string
	for _, s := range strings.Split(strings.Trim(p, "/"), "/") {
		if u, err := url.PathUnescape(s); err == nil {
			s = u
		}
		out = append(out, s)
	}
	return out
}

// generator assigns what was observed to the action that caused it and writes the documents.
type generator struct {
	s       Session
	actions []*action
	// unplaced are comments about what was observed outside any app.
	unplaced []string
	// leftover are the comments of apps that got no scenario: only failed calls, or only
	// observations.
	leftover []string
	pre      map[string][]string // by appid
}

// parse reads the actions and gives every other entry to the action it belongs to: an entry
// about a user is the latest action's, before it, that acted on the user or on no user (a move
// of the clock, the tokens, an agent's status) of its app. This is how `wxemu run` counts a
// send: the latest cause's before it, so a bot that sends after it answers has its sends in
// the step of the message that caused them.
func (g *generator) parse() {
	g.pre = map[string][]string{}
	// A call of the control plane is journaled when it ends, after what it caused: every
	// action is known before any entry is given to one.
	isAction := map[uint64]bool{}
	for i := range g.s.Entries {
		if a := parseAction(&g.s.Entries[i]); a != nil {
			g.actions = append(g.actions, a)
			isAction[a.e.Seq] = true
		}
	}
	// In the order they began: a call that overlapped a slower one (a push waiting for its bot)
	// is the later step if it began later.
	sort.SliceStable(g.actions, func(i, j int) bool { return g.actions[i].began < g.actions[j].began })
	for i := range g.s.Entries {
		e := &g.s.Entries[i]
		if isAction[e.Seq] {
			continue
		}
		if e.Control != nil {
			continue // reads, the recording's own calls, and what Go callers did
		}
		if a := g.owner(e); a != nil {
			a.obs = append(a.obs, e)
			continue
		}
		// No action concerned its user: it is told where it happened, after the latest action.
		if a := g.latest(e); a != nil {
			a.stray = append(a.stray, e)
			continue
		}
		if c := describeEntry(e, "before any action: "); c != "" {
			g.note(e, c)
		}
	}
}

// note keeps a comment about an entry no action caused.
func (g *generator) note(e *journal.Entry, c string) {
	if e.App == "" {
		g.unplaced = append(g.unplaced, c)
		return
	}
	g.pre[e.App] = append(g.pre[e.App], c)
}

// latest is the latest step of the entry's app (or of every app) that began before it.
func (g *generator) latest(e *journal.Entry) *action {
	for i := len(g.actions) - 1; i >= 0; i-- {
		a := g.actions[i]
		if a.failed != "" || a.kind == kindOther || a.kind == kindReplay {
			continue // no step: what it would tell would be lost
		}
		if a.began < e.Seq && (a.app == "" || e.App == "" || a.app == e.App) {
			return a
		}
	}
	return nil
}

// owner is the action an entry belongs to, or nil.
func (g *generator) owner(e *journal.Entry) *action {
	for i := len(g.actions) - 1; i >= 0; i-- {
		a := g.actions[i]
		if a.began >= e.Seq || a.failed != "" || a.kind == kindOther || a.kind == kindReplay {
			continue
		}
		if a.app != "" && e.App != "" && a.app != e.App {
			continue
		}
		if a.app == "" && e.App == "" {
			continue // a move of the clock owns what happened to some app's users
		}
		if e.User == "" || a.user == "" || a.user == e.User {
			if a.kind == kindAgent && a.do != "status" && e.User != a.user {
				continue
			}
			return a
		}
	}
	return nil
}

// document writes the scenario of one app: its actions and the moves of the clock among them.
// It is empty when nothing was done to the app.
func (g *generator) document(app App) string {
	var acts []*action
	own := 0
	for _, a := range g.actions {
		if a.app == app.AppID || a.app == "" {
			acts = append(acts, a)
			if a.app == app.AppID {
				own++
			}
		}
	}
	if own == 0 {
		// Only its comments, if any: no step of its own.
		if len(g.pre[app.AppID]) > 0 {
			g.leftover = append(g.leftover, "app "+app.Alias+":")
			g.leftover = append(g.leftover, g.pre[app.AppID]...)
		}
		return ""
	}
	d := &doc{app: app, names: map[string]string{}}
	for _, u := range app.Users {
		if u.Name != "" && nameRe.MatchString(u.Name) && !reserved[u.Name] {
			d.names[u.OpenID] = u.Name
		}
	}
	var steps strings.Builder
	for _, c := range g.pre[app.AppID] {
		steps.WriteString("  # " + c + "\n")
	}
	for _, a := range acts {
		steps.WriteString(d.step(a))
	}
	if d.count == 0 {
		// Only failed calls and comments: no scenario, but nothing of it is left unsaid.
		g.leftover = append(g.leftover, "app "+app.Alias+":")
		for _, l := range strings.Split(strings.TrimRight(steps.String(), "\n"), "\n") {
			g.leftover = append(g.leftover, strings.TrimPrefix(strings.TrimSpace(l), "# "))
		}
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# app %s (%s, %s)", app.Alias, app.AppID, kindWords(app.Kind))
	if app.Target != "" {
		fmt.Fprintf(&b, ", its messages pushed to %s", app.Target)
	}
	b.WriteString("\n")
	flag := "--target"
	if app.Kind == string(wire.MP) {
		flag = "--target-mp"
	}
	if app.Target != "" {
		fmt.Fprintf(&b, "# replay: wxemu run FILE %s %s (the bot fetching its access token from the run's API)\n", flag, app.Target)
	} else {
		fmt.Fprintf(&b, "# replay: wxemu run FILE %s URL, or --function DIR for a cloud function\n", flag)
	}
	name := g.s.Name
	if name == "" {
		name = "recorded session"
	}
	if g.appsActedOn() > 1 {
		name += " (" + app.Alias + ")"
	}
	fmt.Fprintf(&b, "name: %s\n", scalar(name))
	fmt.Fprintf(&b, "app: %s\n", scalar(app.Alias))
	b.WriteString(d.usersBlock())
	b.WriteString("steps:\n")
	b.WriteString(steps.String())
	return b.String()
}

func (g *generator) appsActedOn() int {
	seen := map[string]bool{}
	for _, a := range g.actions {
		if a.app != "" && a.kind != kindOther && a.kind != kindReplay && a.failed == "" {
			seen[a.app] = true
		}
	}
	return len(seen)
}

func kindWords(kind string) string {
	if kind == string(wire.MP) {
		return "Mini Program"
	}
	return "Official Account"
}

// doc is one scenario being written.
type doc struct {
	app   App
	names map[string]string // openid → the name the scenario calls the user
	order []string          // openids in the order they were first named
	count int               // steps written
}

// name is the scenario's name of a user, given on first use: the configured name, or user1 …
func (d *doc) name(openid string) string {
	n, ok := d.names[openid]
	if !ok {
		for i := 1; ; i++ {
			n = "user" + strconv.Itoa(i)
			if !d.taken(n) {
				break
			}
		}
		d.names[openid] = n
	}
	for _, o := range d.order {
		if o == openid {
			return n
		}
	}
	d.order = append(d.order, openid)
	return n
}

// label names a user in a comment without declaring them: the configured name, else the openid.
func (d *doc) label(openid string) string {
	for _, u := range d.app.Users {
		if u.OpenID == openid && u.Name != "" {
			return u.Name + " (" + openid + ")"
		}
	}
	return openid
}

func (d *doc) taken(n string) bool {
	for _, v := range d.names {
		if v == n {
			return true
		}
	}
	return false
}

// usersBlock declares the users the steps name. Each run gives them fresh openids, so the
// recorded openids are only named in comments.
func (d *doc) usersBlock() string {
	if len(d.order) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("users:\n")
	for _, openid := range d.order {
		n := d.names[openid]
		sub := true
		configured := false
		for _, u := range d.app.Users {
			if u.OpenID == openid {
				sub, configured = u.Subscribed, u.Name == n
			}
		}
		if !sub && d.app.Kind != string(wire.MP) {
			fmt.Fprintf(&b, "  - {name: %s, subscribed: false}", n)
		} else {
			fmt.Fprintf(&b, "  - %s", n)
		}
		if !configured {
			fmt.Fprintf(&b, " # openid %s when recorded", openid)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// step writes the step of one action with its checks and comments.
func (d *doc) step(a *action) string {
	var b strings.Builder
	if a.kind == kindReplay && a.failed == "" {
		return "" // in the step of the message it repeated (see observe)
	}
	if a.failed != "" || a.kind == kindOther || a.kind == kindReplay {
		what := a.e.Summary
		if a.failed != "" {
			fmt.Fprintf(&b, "  # not replayed, the call failed: %s\n", oneLine(what))
		} else {
			fmt.Fprintf(&b, "  # not replayed, no step does it: %s\n", oneLine(what))
			if strings.HasSuffix(a.e.Control.Action, "/_emu/v1/reset") {
				b.WriteString("  # (the emulator forgot every user, window, token and kf session here)\n")
			}
		}
		return b.String()
	}
	o := d.observe(a)
	var lines []string
	switch a.kind {
	case kindSend:
		lines = d.sendStep(a, o)
	case kindTrigger:
		lines = []string{fmt.Sprintf("- trigger: {user: %s, kind: %s}", d.name(a.user), scalar(a.trigger))}
	case kindAgent:
		lines = d.agentStep(a)
	case kindAdvance:
		lines = []string{"- advance: " + duration(a.advance)}
	case kindTokens:
		lines = []string{"- tokens: " + scalar(a.tokens)}
	case kindFaults:
		lines = d.faultsStep(a)
	}
	if len(lines) == 0 {
		fmt.Fprintf(&b, "  # not replayed, no step can say it: %s\n", oneLine(a.e.Summary))
		return b.String()
	}
	d.count++
	lines = append(lines, d.checks(a, o)...)
	for _, e := range a.stray {
		if e.App != "" && e.App != d.app.AppID {
			continue // told in its own app's scenario
		}
		if c := describeEntry(e, "meanwhile, no recorded action of theirs: "); c != "" {
			lines = append(lines, "# "+strings.ReplaceAll(c, e.User, d.label(e.User)))
		}
	}
	for i, l := range lines {
		if i > 0 && !strings.HasPrefix(l, "-") {
			l = "  " + l
		}
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

// faultsStep writes the fault rules added, or their clearing, as a faults step. The rules keep
// the keys they were given (a scenario takes the keys of POST /_emu/v1/faults), written as JSON,
// which YAML reads; a rule's user becomes the user's name in the scenario. A rule of another app
// than the document's is left to that app's scenario.
func (d *doc) faultsStep(a *action) []string {
	if a.clearFaults {
		return []string{"- faults: clear"}
	}
	var rules []string
	for _, r := range a.faults {
		if app := str(r["app"]); app != "" && app != d.app.AppID && app != d.app.Alias {
			continue
		}
		rule := make(map[string]any, len(r))
		for k, v := range r {
			rule[k] = v
		}
		if u := str(rule["user"]); u != "" {
			rule["user"] = d.name(u)
		}
		text, err := json.Marshal(rule)
		if err != nil {
			continue
		}
		rules = append(rules, "  - "+string(text))
	}
	if len(rules) == 0 {
		return nil
	}
	return append([]string{"- faults:"}, rules...)
}

// observed is what an action's entries say, sorted out.
type observed struct {
	main     *journal.Entry   // the push of the user's message, or its delivery to an agent
	events   []*journal.Entry // kf events WeChat pushed to the bot
	sends    map[string][]*journal.Entry
	users    []string // openids with sends, in order
	comments []string
	// retry is WeChat's retry of the step's message, asked for by hand; dups are the sends to
	// the user that came after it: they are the retry's, not the step's.
	retry *journal.Entry
	dups  []*journal.Entry
}

// observe sorts the action's entries into the push of its message, the kf events, the sends
// by user, and comments for the rest.
func (d *doc) observe(a *action) *observed {
	o := &observed{sends: map[string][]*journal.Entry{}}
	for _, e := range a.obs {
		switch {
		case e.Push != nil && e.Push.Result != nil:
			m := &e.Push.Result.Message
			switch {
			case e.Push.Probe == "retry" && o.retry == nil && o.main != nil && o.main.Push != nil && sameMessage(&o.main.Push.Message, m):
				o.retry = e
			case e.Push.Probe != "":
				o.comments = append(o.comments, fmt.Sprintf("%s of %s's %s: %s", e.Push.Probe, d.name(e.User), messageWords(m), outcomeWords(e.Push)))
			case m.IsEvent() && strings.HasPrefix(m.Event, "kf_"):
				o.events = append(o.events, e)
			case a.kind == kindSend && o.main == nil && e.User == a.user:
				o.main = e
			default:
				o.comments = append(o.comments, fmt.Sprintf("also pushed for %s: %s → %s", d.name(e.User), messageWords(m), outcomeWords(e.Push)))
			}
		case e.API != nil && e.API.Path == pathCustomSend && e.User != "" && o.retry != nil && e.User == a.user:
			o.dups = append(o.dups, e)
		case e.API != nil && e.API.Path == pathCustomSend && e.User != "":
			if _, ok := o.sends[e.User]; !ok {
				o.users = append(o.users, e.User)
			}
			o.sends[e.User] = append(o.sends[e.User], e)
		case e.KF != nil && e.KF.Kind == kfDelivered && a.kind == kindSend && e.User == a.user && o.main == nil:
			o.main = e
		default:
			if c := d.describe(e); c != "" {
				o.comments = append(o.comments, c)
			}
		}
	}
	return o
}

// The kf kinds of the journal (state.KF*), and the paths of the API a recording reads.
const (
	kfDelivered    = "delivered"
	pathCustomSend = "/cgi-bin/message/custom/send"
)

// sendStep is a user's message: what they sent, where it went, what they saw.
func (d *doc) sendStep(a *action, o *observed) []string {
	msg := messageYAML(a.body)
	if msg == "" {
		return nil
	}
	lines := []string{fmt.Sprintf("- %s: %s", d.name(a.user), msg)}
	routed := str(a.answer["routed"])
	switch {
	case o.main != nil && o.main.KF != nil:
		lines = append(lines, "delivered_to: "+scalar(o.main.KF.Account))
	case routed == "none":
		lines = append(lines, "delivered_to: none")
	case routed == "held":
		// A reorder rule held it: the replay must hold it too, or it would check nothing.
		lines = append(lines, "delivered_to: held")
	case o.main != nil && o.main.Push != nil:
		r := o.main.Push
		lines = append(lines, "delivered_to: bot")
		lines = append(lines, "reply: "+replyYAML(r))
		if r.Outcome == "failed" {
			lines = append(lines, "user_sees: "+scalar(r.UserSees))
		}
		var notes []string
		for _, v := range r.Violations {
			if v.Severity != "error" {
				notes = append(notes, fmt.Sprintf("warning %s: %s", v.Rule, oneLine(v.Message)))
			}
		}
		if r.Reply != nil && (r.Reply.MsgType == "image" || r.Reply.MsgType == "voice" || r.Reply.MsgType == "video" || r.Reply.MsgType == "music") {
			notes = append(notes, "the reply's media_id is not checked: the bot's upload gets a new one on every run")
		}
		if r.Reply != nil && r.Reply.MsgType == "news" {
			// A scenario compares a news reply's article count only: say what was in them, so
			// that a change of title or link is not silently passed unnoticed.
			for i, a := range r.Reply.Articles {
				notes = append(notes, fmt.Sprintf("article %d (not checked, only the count is): %s %s", i+1, strconv.Quote(oneLine(a.Title)), a.Url))
			}
		}
		o.comments = append(notes, o.comments...)
	}
	return lines
}

// agentStep is an agent's action in the kf tool.
func (d *doc) agentStep(a *action) []string {
	acc := scalar(a.account)
	user := ""
	if a.user != "" {
		user = d.name(a.user)
	}
	switch a.do {
	case "accept", "close":
		return []string{fmt.Sprintf("- agent: {account: %s, %s: %s}", acc, a.do, user)}
	case "switch":
		return []string{fmt.Sprintf("- agent: {account: %s, switch: %s, to: %s}", acc, user, scalar(str(a.body["to"])))}
	case "reply":
		lines := []string{fmt.Sprintf("- agent: {account: %s, reply: %s, text: %s}", acc, user, scalar(str(a.body["text"])))}
		if delivered, ok := a.answer["delivered"].(bool); ok && !delivered {
			code := number(a.answer["errcode"])
			lines = append(lines, fmt.Sprintf("error: {contains: %s}", quoted("errcode "+code)))
		}
		return lines
	case "status":
		var parts []string
		for _, k := range []string{"online", "auto_accept", "capacity"} {
			if v, ok := a.body[k]; ok && v != nil {
				parts = append(parts, k+": "+number(v))
			}
		}
		if len(parts) == 0 {
			return nil
		}
		return []string{fmt.Sprintf("- agent: {account: %s, %s}", acc, strings.Join(parts, ", "))}
	}
	return nil
}

// checks are the expectations every kind of step shares: the sends, the kf event pushed, the
// violations its pushes had, and comments.
func (d *doc) checks(a *action, o *observed) []string {
	var lines []string
	// The sends: the acting user's first, else the first user's; the others' as comments.
	var sendsUser string
	switch {
	case a.user != "":
		sendsUser = a.user
	case len(o.users) > 0:
		sendsUser = o.users[0]
	}
	if sendsUser != "" {
		sends := o.sends[sendsUser]
		routedBot := a.kind == kindSend && o.main != nil && o.main.Push != nil
		// A step that acted on a user and saw no send says so (sends: 0): without it, a bot
		// that starts sending on a kf event, a trigger or a message an agent got would pass.
		acted := a.user != "" && sendsUser == a.user && (a.kind == kindSend || a.kind == kindTrigger || a.kind == kindAgent)
		if len(sends) > 0 || routedBot || acted {
			lines = append(lines, d.sendsYAML(sendsUser, sends, sendsUser != a.user)...)
		}
	}
	for _, u := range o.users {
		if u == sendsUser {
			continue
		}
		for _, e := range o.sends[u] {
			lines = append(lines, fmt.Sprintf("# also sent to %s: %s", d.name(u), sendWords(e)))
		}
	}
	// The kf events: the first that concerns the step's user as bot_receives.
	var received bool
	for _, e := range o.events {
		m := &e.Push.Result.Message
		if !received && (a.user == "" || e.User == a.user) {
			received = true
			lines = append(lines, "bot_receives: "+d.receivesYAML(a, e))
		} else {
			lines = append(lines, fmt.Sprintf("# also pushed for %s: %s", d.name(e.User), messageWords(m)))
		}
		r := e.Push
		if r.Outcome != "none" {
			lines = append(lines, fmt.Sprintf("# the bot answered the %s with %s, which a scenario does not check", m.Event, outcomeWords(r)))
		}
	}
	// The error violations of the step's pushes: the step must cause them again.
	var rules []string
	seen := map[string]bool{}
	pushes := append([]*journal.Entry{}, o.events...)
	if o.main != nil && o.main.Push != nil {
		pushes = append([]*journal.Entry{o.main}, pushes...)
	}
	for _, e := range pushes {
		for _, v := range e.Push.Result.Violations {
			if v.Severity == "error" && !seen[v.Rule] {
				seen[v.Rule] = true
				rules = append(rules, v.Rule)
			}
		}
	}
	if len(rules) > 0 {
		lines = append(lines, "violations: ["+strings.Join(rules, ", ")+"]")
	}
	if o.retry != nil {
		if len(o.dups) == 0 {
			lines = append(lines, "checks: [replay] # WeChat's retry of the message was pushed, and the bot sent nothing again")
		} else {
			lines = append(lines, fmt.Sprintf("# WeChat's retry of the message was pushed, and the bot sent %d more (not idempotent; checks: [replay] would fail):", len(o.dups)))
			for _, e := range o.dups {
				lines = append(lines, "#   "+sendWords(e))
			}
		}
	}
	for _, c := range o.comments {
		lines = append(lines, "# "+c)
	}
	return lines
}

// sendsYAML is the sends: block of a user's sends, refused ones included.
func (d *doc) sendsYAML(openid string, sends []*journal.Entry, named bool) []string {
	if len(sends) == 0 {
		if named {
			return []string{fmt.Sprintf("sends: {user: %s, count: 0}", d.name(openid))}
		}
		return []string{"sends: 0"}
	}
	lines := []string{"sends:"}
	if named {
		lines = append(lines, "  user: "+d.name(openid))
	}
	var types, codes, contents []string
	texts := false
	for _, e := range sends {
		msgtype, content := sendContent(e)
		types = append(types, scalar(msgtype))
		codes = append(codes, strconv.Itoa(e.API.Errcode))
		contents = append(contents, content)
		texts = texts || msgtype == "text"
	}
	lines = append(lines, fmt.Sprintf("  count: %d", len(sends)))
	lines = append(lines, "  msgtypes: ["+strings.Join(types, ", ")+"]")
	if texts {
		lines = append(lines, "  contents:")
		for i, c := range contents {
			line := "    - " + scalar(c)
			if t := types[i]; t != "text" {
				line += " # " + t + ": only a text's content is compared"
			}
			lines = append(lines, line)
		}
	}
	lines = append(lines, "  errcodes: ["+strings.Join(codes, ", ")+"]")
	for i, e := range sends {
		if e.API.Errcode != 0 {
			lines = append(lines, fmt.Sprintf("  # send %d refused: %d %s", i+1, e.API.Errcode, oneLine(e.API.Errmsg)))
		}
		if e.API.Via == journal.ViaAgent {
			lines = append(lines, fmt.Sprintf("  # send %d is the agent's message", i+1))
		}
	}
	return lines
}

// receivesYAML is the bot_receives: of a kf event.
func (d *doc) receivesYAML(a *action, e *journal.Entry) string {
	m := &e.Push.Result.Message
	parts := []string{"event: " + m.Event}
	if a.user == "" {
		parts = append(parts, "user: "+d.name(e.User))
	}
	if m.Event == "kf_switch_session" {
		if m.FromKfAccount != "" {
			parts = append(parts, "from_kf_account: "+scalar(m.FromKfAccount))
		}
		if m.ToKfAccount != "" {
			parts = append(parts, "to_kf_account: "+scalar(m.ToKfAccount))
		}
	} else if m.KfAccount != "" {
		parts = append(parts, "kf_account: "+scalar(m.KfAccount))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// describe is a comment about an entry an action caused that no check covers; empty for what
// needs none (the bot's token fetches, what a cloud function printed).
func (d *doc) describe(e *journal.Entry) string {
	switch {
	case e.KF != nil:
		return "kf: " + d.kfWords(e)
	case e.API != nil:
		if strings.Contains(e.API.Path, "token") && e.API.Errcode == 0 {
			return ""
		}
		return "the bot called " + strings.TrimPrefix(e.Summary, e.API.Via+": ")
	}
	return describeEntry(e, "")
}

// describeEntry is a comment about an entry of no action.
func describeEntry(e *journal.Entry, where string) string {
	switch {
	case e.Finding != nil:
		return "finding: " + oneLine(e.Summary)
	case e.State != nil:
		return "state: " + oneLine(e.Summary)
	case e.API != nil && e.API.Path == pathCustomSend:
		return where + "a send to " + e.User + ": " + sendWords(e)
	case e.API != nil && strings.Contains(e.API.Path, "token") && e.API.Errcode == 0:
		return "" // the bot's plumbing
	case e.Push != nil, e.API != nil, e.KF != nil:
		return where + oneLine(e.Summary)
	case e.Log != nil:
		return fmt.Sprintf("cloud function %s printed on %s: %s", e.Log.Function, e.Log.Stream, oneLine(e.Log.Text))
	}
	return ""
}

// kfWords says what a kf change was, with the user's scenario name.
func (d *doc) kfWords(e *journal.Entry) string {
	k := e.KF
	who := d.name(k.OpenID)
	switch k.Kind {
	case "queued":
		return who + " waits in the queue for any agent"
	case "assigned":
		return who + " waits for " + k.Account
	case "accepted":
		return who + " is served by " + k.Account + " (session begins)"
	case "closed":
		return who + "'s session with " + k.Account + " was closed"
	case "switched":
		return who + " moved from " + k.FromAccount + " to " + k.ToAccount
	case "expired":
		return who + "'s session with " + k.Account + " ended on its timeout (WeChat pushes no event; the user's next message goes to the bot)"
	}
	s := who + " " + k.Kind
	if k.Account != "" {
		s += " " + k.Account
	}
	if k.Cause != "" {
		s += " (" + k.Cause + ")"
	}
	return s
}
