package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// shape describes a credential or identifier: a fixed prefix and a run of allowed characters.
type shape struct {
	prefix   string
	min, max int // length after the prefix, in characters
	ok       func(byte) bool
	chars    string // the allowed characters, for messages
}

func isLowerHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }
func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
func isWord(c byte) bool     { return isAlnum(c) || c == '_' }
func isIDChar(c byte) bool   { return isWord(c) || c == '-' }
func isNameChar(c byte) bool { return isIDChar(c) || c == '.' }

// The shapes of protocol §1.1, §5.1 and of real identifiers.
var (
	appIDShape      = shape{prefix: "wx", min: 16, max: 16, ok: isLowerHex, chars: "lowercase hex digits"}
	secretShape     = shape{min: 32, max: 32, ok: isLowerHex, chars: "lowercase hex digits"}
	originalIDShape = shape{prefix: "gh_", min: 12, max: 12, ok: isLowerHex, chars: "lowercase hex digits"}
	tokenShape      = shape{min: 3, max: 32, ok: isAlnum, chars: "letters and digits"}
	aesKeyShape     = shape{min: 43, max: 43, ok: isAlnum, chars: "letters and digits"}
	openIDShape     = shape{prefix: "o", min: 27, max: 27, ok: isIDChar, chars: "letters, digits, '_' and '-'"}
	aliasShape      = shape{min: 1, max: 32, ok: isIDChar, chars: "letters, digits, '_' and '-'"}
	userNameShape   = shape{min: 1, max: 32, ok: isNameChar, chars: "letters, digits, '_', '-' and '.'"}
	kfPrefixShape   = shape{min: 1, max: 10, ok: isWord, chars: "letters, digits and '_'"}
	wechatIDShape   = shape{min: 1, max: 30, ok: isIDChar, chars: "letters, digits, '_' and '-'"}
)

// problem says what is wrong with v, or "" when it fits.
func (s shape) problem(v string) string {
	if !strings.HasPrefix(v, s.prefix) {
		return fmt.Sprintf("it does not start with %q", s.prefix)
	}
	rest := v[len(s.prefix):]
	for i := 0; i < len(rest); i++ {
		if !s.ok(rest[i]) {
			r, _ := utf8.DecodeRuneInString(rest[i:])
			at := utf8.RuneCountInString(v[:len(s.prefix)+i]) + 1
			return fmt.Sprintf("character %d, %q, is not allowed: use %s", at, r, s.chars)
		}
	}
	n := len(rest)
	if n >= s.min && n <= s.max {
		return ""
	}
	want := strconv.Itoa(s.min)
	if s.min != s.max {
		want = fmt.Sprintf("%d to %d", s.min, s.max)
	}
	if s.prefix != "" {
		return fmt.Sprintf("it has %d characters after %q, want %s", n, s.prefix, want)
	}
	return fmt.Sprintf("it is %d characters long, want %s", n, want)
}

func (s shape) matches(v string) bool { return s.problem(v) == "" }

// checker collects semantic problems. lineOf, when set, gives the line a path is written on, so
// that "already used by" can point at the other place.
type checker struct {
	errs   []*Error
	lineOf func(path string) int
}

func (c *checker) add(path, msg, fix string) {
	c.errs = append(c.errs, &Error{Path: path, Msg: msg, Fix: fix})
}

func (c *checker) where(path string) string {
	if c.lineOf != nil {
		if l := c.lineOf(path); l > 0 {
			return fmt.Sprintf("%s (line %d)", path, l)
		}
	}
	return path
}

// shaped checks a required value against a shape; show says whether the value may be echoed
// (secrets are not, since messages end up in CI logs).
func (c *checker) shaped(path, key, v string, s shape, show bool, fix string) {
	if v == "" {
		c.add(path, "required but not set", "add the key "+key+"; "+fix)
		return
	}
	if p := s.problem(v); p != "" {
		subject := "invalid " + key
		if show {
			subject += " " + strconv.Quote(v)
		}
		c.add(path, subject+": "+p, fix)
	}
}

func (c *checker) enum(path, key, v string, allowed []string, required bool) {
	if v == "" && !required {
		return
	}
	if v == "" {
		c.add(path, "required but not set", fmt.Sprintf("add the key %s; one of %s", key, strings.Join(allowed, ", ")))
		return
	}
	if !slices.Contains(allowed, v) {
		c.add(path, fmt.Sprintf("unknown value %q", v), "allowed values: "+strings.Join(allowed, ", "))
	}
}

func (c *checker) positive(path string, v int64, fix string) {
	if v <= 0 {
		c.add(path, fmt.Sprintf("must be more than 0, got %d", v), fix)
	}
}

func (cfg *Config) validate(lineOf func(string) int) []*Error {
	c := &checker{lineOf: lineOf}
	if host, port, err := net.SplitHostPort(cfg.Listen); err != nil || !validPort(port) || strings.ContainsAny(host, " /") {
		c.add("listen", fmt.Sprintf("invalid address %q", cfg.Listen), "write host:port, e.g. 127.0.0.1:7700, or :7700 for every interface")
	}
	if cfg.Push.Timeout <= 0 {
		c.add("push.timeout", "must be longer than 0", "write e.g. 5s, as WeChat, or 1s for fast CI")
	}
	c.positive("push.attempts", int64(cfg.Push.Attempts), "write 3, as WeChat, or 1 for no retries")
	c.positive("push.max_reply_bytes", int64(cfg.Push.MaxReplyBytes), "write e.g. 1MiB")
	c.enum("quota.rules", "rules", cfg.Quota.Rules, []string{Rules20230612, Rules20210601}, true)
	c.enum("quota.combine", "combine", cfg.Quota.Combine, []string{CombineReset, CombineIndependent}, true)
	c.positive("api.text_limit_bytes", int64(cfg.API.TextLimitBytes), "write e.g. 2048")
	c.positive("api.image_limit", int64(cfg.API.ImageLimit), "write e.g. 10MiB")
	c.enum("api.kf_id_type", "kf_id_type", cfg.API.KFIDType, []string{KFIDNumber, KFIDString}, true)
	c.enum("api.token_time", "token_time", cfg.API.TokenTime, []string{TokenTimeWall, TokenTimeVirtual}, true)
	if cfg.KF.SessionTimeout <= 0 {
		c.add("kf.session_timeout", "must be longer than 0", "write e.g. 30m, as WeChat")
	}
	c.enum("kf.session_anchor", "session_anchor", cfg.KF.SessionAnchor, []string{AnchorStart, AnchorActivity}, true)
	c.positive("journal.max_entries", int64(cfg.Journal.MaxEntries), "write e.g. 10000")
	c.positive("journal.max_bytes", int64(cfg.Journal.MaxBytes), "write e.g. 64MiB")

	if len(cfg.Apps) == 0 {
		c.add("apps", "no apps", "add one, see the default config (wxemu serve --print-config)")
	}
	aliases := map[string]string{}
	appIDs := map[string]string{}
	originalIDs := map[string]string{}
	for i := range cfg.Apps {
		cfg.Apps[i].validate(c, fmt.Sprintf("apps[%d]", i), aliases, appIDs, originalIDs)
	}
	cfg.validateFaults(c)
	return c.errs
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 0 && n <= 65535
}

// unique reports v when an earlier path already holds it.
func (c *checker) unique(seen map[string]string, v, path, what string) {
	if v == "" {
		return
	}
	if first, ok := seen[v]; ok {
		c.add(path, fmt.Sprintf("duplicate %s %q", what, v), fmt.Sprintf("%s already uses it; each must be unique", c.where(first)))
		return
	}
	seen[v] = path
}

func (a *App) validate(c *checker, p string, aliases, appIDs, originalIDs map[string]string) {
	c.shaped(p+".alias", "alias", a.Alias, aliasShape, true, "a short name such as oa or shop, in letters, digits, '_' and '-'")
	if appIDShape.matches(a.Alias) {
		c.add(p+".alias", fmt.Sprintf("alias %q looks like an appid", a.Alias), "choose a short name such as oa; apps are found by alias or by appid, so the two must not be confused")
	}
	c.unique(aliases, a.Alias, p+".alias", "alias")
	c.enum(p+".kind", "kind", a.Kind, []string{KindOA, KindMP}, true)
	c.shaped(p+".appid", "appid", a.AppID, appIDShape, true, `an appid is "wx" and 16 lowercase hex digits, e.g. `+DemoOAAppID)
	c.unique(appIDs, a.AppID, p+".appid", "appid")
	c.shaped(p+".secret", "secret", a.Secret, secretShape, false, "an AppSecret is 32 lowercase hex digits, e.g. "+DemoOASecret)
	c.shaped(p+".original_id", "original_id", a.OriginalID, originalIDShape, true, `an original id is "gh_" and 12 lowercase hex digits, e.g. `+DemoOAOriginalID)
	c.unique(originalIDs, a.OriginalID, p+".original_id", "original_id")
	c.shaped(p+".token", "token", a.Token, tokenShape, false, "a token is 3 to 32 letters and digits, e.g. "+DemoOAToken)
	c.enum(p+".mode", "mode", a.Mode, []string{ModePlain, ModeCompat, ModeSafe}, true)
	switch {
	case a.EncodingAESKey == "" && a.Mode != ModePlain && a.Mode != "":
		c.add(p+".encoding_aes_key", "required in "+a.Mode+" mode", "add encoding_aes_key: 43 letters and digits, or write mode: plain")
	case a.EncodingAESKey != "":
		c.shaped(p+".encoding_aes_key", "encoding_aes_key", a.EncodingAESKey, aesKeyShape, false, "an EncodingAESKey is exactly 43 letters and digits; copy all of it")
	}
	c.enum(p+".format", "format", a.Format, []string{FormatXML, FormatJSON}, true)
	if a.Kind == KindOA && a.Format == FormatJSON {
		c.add(p+".format", "an Official Account pushes XML only", "write format: xml or leave format out; JSON is for Mini Programs")
	}
	if a.URL != "" {
		if problem := urlProblem(a.URL); problem != "" {
			c.add(p+".url", fmt.Sprintf("invalid url %q: %s", a.URL, problem), "write http://host:port/path or https://…, e.g. http://127.0.0.1:8080/wx, or leave url out and pass --target")
		}
	}
	if a.WeChatID == "" && len(a.Agents) > 0 {
		c.add(p+".wechat_id", "required when the app has agents", "add wechat_id: the account's WeChat id; agent accounts are prefix@wechat_id")
	} else if a.WeChatID != "" {
		c.shaped(p+".wechat_id", "wechat_id", a.WeChatID, wechatIDShape, true, "a WeChat id is up to 30 letters, digits, '_' and '-', e.g. "+DemoOAWeChatID)
	}

	names := map[string]string{}
	openIDs := map[string]string{}
	for j := range a.Users {
		u := &a.Users[j]
		up := fmt.Sprintf("%s.users[%d]", p, j)
		c.shaped(up+".name", "name", u.Name, userNameShape, true, "a name such as alice, used by scenarios and the control API")
		c.unique(names, u.Name, up+".name", "user name")
		if u.Name == "" && u.OpenID == "" {
			continue // the missing name is the problem; the openid would be derived from it
		}
		c.shaped(up+".openid", "openid", u.OpenID, openIDShape, true, `an openid is "o" and 27 letters, digits, '_' or '-', e.g. `+DemoAliceOA+"; or leave openid out to derive one from the name")
		c.unique(openIDs, u.OpenID, up+".openid", "openid")
	}

	if len(a.Agents) > MaxAgents {
		c.add(fmt.Sprintf("%s.agents[%d]", p, MaxAgents), fmt.Sprintf("too many agents: %d", len(a.Agents)), fmt.Sprintf("an account has at most %d kf accounts; remove %d", MaxAgents, len(a.Agents)-MaxAgents))
	}
	if a.Cloud != nil {
		a.Cloud.validate(c, p+".cloud", a.Kind)
	}
	if a.Container != nil {
		a.validateContainer(c, p)
	}
	accounts := map[string]string{}
	for j := range a.Agents {
		a.Agents[j].validate(c, fmt.Sprintf("%s.agents[%d]", p, j), a.WeChatID)
		c.unique(accounts, a.Agents[j].Account, fmt.Sprintf("%s.agents[%d].account", p, j), "account")
	}
}

func urlProblem(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "it does not parse"
	case u.Scheme != "http" && u.Scheme != "https":
		return "it must start with http:// or https://"
	case u.Host == "" || u.Hostname() == "":
		return "it has no host"
	case u.Port() != "" && !validPort(u.Port()):
		return "its port is not a number from 0 to 65535"
	}
	return ""
}

func (g *Agent) validate(c *checker, p, wechatID string) {
	suffix := wechatID
	if suffix == "" {
		suffix = "wechat_id"
	}
	if g.Account == "" {
		c.add(p+".account", "required but not set", fmt.Sprintf("add account: prefix@%s, e.g. kf1@%s", suffix, suffix))
	} else if prefix, domain, ok := strings.Cut(g.Account, "@"); !ok {
		c.add(p+".account", fmt.Sprintf("invalid account %q: it is not prefix@wechat_id", g.Account), fmt.Sprintf("write e.g. %s@%s", shortPrefix(prefix), suffix))
	} else if problem := kfPrefixShape.problem(prefix); problem != "" {
		c.add(p+".account", fmt.Sprintf("invalid account %q: in the prefix, %s", g.Account, problem), "the part before @ is up to 10 letters, digits and '_'")
	} else if wechatID != "" && domain != wechatID {
		c.add(p+".account", fmt.Sprintf("account %q ends in @%s, but this app's wechat_id is %q", g.Account, domain, wechatID), fmt.Sprintf("write %s@%s", prefix, wechatID))
	}
	if n := utf8.RuneCountInString(g.Nickname); n > 16 {
		c.add(p+".nickname", fmt.Sprintf("nickname is %d characters long, at most 16", n), "shorten it")
	}
	if g.WeChat != "" {
		c.shaped(p+".wechat", "wechat", g.WeChat, wechatIDShape, true, "the personal WeChat id the account is bound to, or leave it out for an unbound account")
	}
	if g.Online && g.WeChat == "" {
		c.add(p+".online", "an account not bound to a WeChat (no wechat) cannot be online", "add wechat: the agent's personal WeChat id, or write online: false")
	}
	if g.Capacity < 1 {
		c.add(p+".capacity", fmt.Sprintf("must be at least 1, got %d", g.Capacity), "write the number of users the agent serves at once, e.g. 5")
	}
}

// shortPrefix turns whatever was written into a plausible kf prefix for the fix.
func shortPrefix(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < 10; i++ {
		if isWord(s[i]) {
			b.WriteByte(s[i])
		}
	}
	if b.Len() == 0 {
		return "kf1"
	}
	return b.String()
}

// cloudMsgTypes are the message types a Mini Program's message push can route (protocol §8.1).
var cloudMsgTypes = []string{"text", "image", "miniprogrampage", "event"}

func (cl *Cloud) validate(c *checker, p, kind string) {
	if kind != KindMP {
		c.add(p, "cloud functions receive a Mini Program's messages only", "move cloud: to a Mini Program app (kind: mp)")
	}
	c.enum(p+".to_user_name", "to_user_name", cl.ToUserName, []string{"appid", "original_id"}, false)
	c.enum(p+".msgid", "msgid", cl.MsgID, []string{"string", "number"}, false)
	names := map[string]string{}
	for i := range cl.Functions {
		f := &cl.Functions[i]
		fp := fmt.Sprintf("%s.functions[%d]", p, i)
		if f.Dir == "" {
			c.add(fp+".dir", "required but not set", "add dir: the function's folder (index.js, package.json, node_modules), relative to this file")
		}
		c.unique(names, f.Name, fp+".name", "function name")
		for j, r := range f.Routes {
			rp := fmt.Sprintf("%s.routes[%d]", fp, j)
			c.enum(rp+".msgtype", "msgtype", r.MsgType, cloudMsgTypes, true)
			if r.MsgType == "event" && r.Event == "" {
				c.add(rp+".event", "required for msgtype event", "add event: e.g. user_enter_tempsession")
			}
			if r.MsgType != "event" && r.Event != "" {
				c.add(rp+".event", "only msgtype event has an event", "remove event:, or write msgtype: event")
			}
		}
	}
}

// validateContainer checks a cloud-hosting container (protocol §8.5). A container replaces the
// callback URL, so an app with both is refused rather than one silently ignored; a push to a
// container is never encrypted and never goes to a cloud function.
func (a *App) validateContainer(c *checker, p string) {
	ct := a.Container
	cp := p + ".container"
	switch {
	case ct.URL == "":
		c.add(cp+".url", "required but not set", "add url: where the container's push path listens, e.g. http://127.0.0.1:8080/wx")
	default:
		if problem := urlProblem(ct.URL); problem != "" {
			c.add(cp+".url", fmt.Sprintf("invalid url %q: %s", ct.URL, problem), "write http://host:port/path, e.g. http://127.0.0.1:8080/wx")
		}
	}
	c.enum(cp+".format", "format", ct.Format, []string{FormatJSON, FormatXML}, true)
	c.enum(cp+".source_header", "source_header", ct.SourceHeader, []string{SourceHeader, SourceHeaderPlural}, true)
	for i, path := range ct.OpenAPIAllow {
		c.enum(fmt.Sprintf("%s.openapi_allow[%d]", cp, i), "openapi_allow", path, OpenAPIPaths, true)
	}
	if a.URL != "" {
		c.add(p+".url", "an app with a container has no callback URL: the container replaces it (protocol §8.5)",
			"remove url:, or remove container: to push to the callback URL")
	}
	if a.Mode != ModePlain && a.Mode != "" {
		c.add(p+".mode", "a push to a container is never encrypted (protocol §8.5)", "write mode: plain or leave mode out")
	}
	if a.Cloud != nil && len(a.Cloud.Functions) > 0 {
		c.add(cp, "an app pushes to cloud functions or to a container, not both", "remove container:, or the functions of cloud:")
	}
}
