// Package config reads the wxemu configuration: the apps the emulator plays WeChat for, their
// users and customer-service agents, and every knob that stands for a fact the WeChat docs leave
// open (protocol reference §10).
//
// A file is decoded strictly: an unknown key, a value of the wrong type or shape, a duplicate key
// and a broken semantic rule are all reported together, each with file, line, column, the path of
// the offending value and how to fix it, because the person reading the message has only the
// message and their file.
//
// With no file, [Default] holds a demo Official Account and a demo Mini Program with fixed
// credentials (see demo.go), so the emulator and the sample bots work with no configuration.
package config

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Values of the enumerated settings. The fields are plain strings so that a Config can be written
// as a literal; these names exist so that code comparing them cannot misspell one.
const (
	KindOA = "oa" // Official Account (公众号)
	KindMP = "mp" // Mini Program (小程序)

	ModePlain  = "plain"  // 明文模式
	ModeCompat = "compat" // 兼容模式: plaintext and ciphertext side by side
	ModeSafe   = "safe"   // 安全模式: ciphertext only

	FormatXML  = "xml"
	FormatJSON = "json"

	Rules20230612 = "2023-06-12" // a user message allows 5 sends in 48 h
	Rules20210601 = "2021-06-01" // a user message allows 20 sends in 48 h

	CombineReset       = "reset"       // a new trigger replaces the open grant
	CombineIndependent = "independent" // each trigger keeps its own grant

	KFIDNumber = "number" // "kf_id": 1001
	KFIDString = "string" // "kf_id": "1001"

	AnchorStart    = "start"    // the session timeout counts from the session's creation
	AnchorActivity = "activity" // the session timeout counts from the last message in it

	TokenTimeWall    = "wall"    // access tokens live 7200 s of wall time, as a bot's SDK counts
	TokenTimeVirtual = "virtual" // access tokens live 7200 s of the emulator's clock

	// MaxAgents is how many kf accounts one account may have (protocol §5.1; more gives 65405).
	MaxAgents = 100
)

// Config is the whole configuration of one emulator. Each field's comment gives its default, the
// value it has when the file does not mention it.
type Config struct {
	// Listen is the address of the HTTP server: the WeChat API and the control API.
	// Default "127.0.0.1:7700".
	Listen string `yaml:"listen"`
	// Push configures delivery to the bot's callback URL.
	Push Push `yaml:"push"`
	// Quota configures the customer-service send windows and quotas.
	Quota Quota `yaml:"quota"`
	// API configures the WeChat HTTP API the bot calls.
	API API `yaml:"api"`
	// KF configures human-agent transfer sessions.
	KF KF `yaml:"kf"`
	// Journal configures the record of every exchange.
	Journal Journal `yaml:"journal"`
	// Apps are the accounts the emulator plays WeChat for. A file must define at least one.
	Apps []App `yaml:"apps"`
	// Faults are fault rules active from the start (see faults.go). Default none.
	Faults Faults `yaml:"faults"`
}

// Push configures delivery of user messages and events to the bot (protocol §1, §3.1, §10.2, §10.6).
type Push struct {
	// Timeout is how long WeChat waits for the bot's answer, in wall time. Default 5s; CI may
	// shorten it to fail fast.
	Timeout Duration `yaml:"timeout"`
	// Attempts is how many times one message is delivered in all, the first included, when no
	// answer comes. Default 3: the docs' "总共重试三次" read as three deliveries in all.
	Attempts int `yaml:"attempts"`
	// MaxReplyBytes is the largest answer read from the bot; a larger one is a violation.
	// Default 1MiB.
	MaxReplyBytes ByteSize `yaml:"max_reply_bytes"`
	// OpenIDInMPPlain adds the openid query parameter to Mini Program pushes in plain mode, which
	// the documented plaintext example omits. Default false.
	OpenIDInMPPlain bool `yaml:"openid_in_mp_plain"`
}

// Quota configures the 48-hour window and the per-trigger send counts (protocol §6, §10.9).
type Quota struct {
	// Rules names the rule set by the date it took effect: "2023-06-12" (a user message allows 5
	// sends in 48 h) or "2021-06-01" (20 in 48 h). Default "2023-06-12".
	Rules string `yaml:"rules" enum:"2023-06-12,2021-06-01"`
	// Combine says what a trigger does to a grant that is still open: "reset" replaces it (the
	// count becomes the new trigger's maximum, the expiry the later of the two), the literal
	// reading of the docs; "independent" keeps one grant per trigger. Default "reset".
	Combine string `yaml:"combine" enum:"reset,independent"`
}

// API configures the WeChat HTTP API (protocol §4, §5, §7, §10).
type API struct {
	// RID appends " rid: …" to every errmsg, as the real server does. Default true.
	RID bool `yaml:"rid"`
	// TextLimitBytes is the longest text message/custom/send accepts, in UTF-8 bytes.
	// Default 2048 (§10.8).
	TextLimitBytes int `yaml:"text_limit_bytes"`
	// ImageLimit is the largest image media/upload accepts. Default 10MiB; older docs say 2 MB
	// (§10.16).
	ImageLimit ByteSize `yaml:"image_limit"`
	// KFIDType is the JSON type of kf_id in getkflist and getonlinekflist: "number" or "string".
	// Default "number" (§10.1).
	KFIDType string `yaml:"kf_id_type" enum:"number,string"`
	// TempsessionEveryEntry pushes user_enter_tempsession each time a Mini Program user opens the
	// chat; false pushes it only when no session is active. Default true (§10.23).
	TempsessionEveryEntry bool `yaml:"tempsession_every_entry"`
	// TokenTime is the clock the access tokens' 7200 s and 5-minute overlaps run on: "wall" (real
	// time, the clock a bot's SDK caches its token on, so moving the emulator's clock does not
	// expire it) or "virtual" (the emulator's clock, which Advance moves). Default "wall" (§4.3).
	TokenTime string `yaml:"token_time" enum:"wall,virtual"`
}

// KF configures transfer sessions with human agents (protocol §5.4, §10.20).
type KF struct {
	// SessionTimeout ends a session that no agent closed. Default 30m.
	SessionTimeout Duration `yaml:"session_timeout"`
	// SessionAnchor is what the timeout counts from: "start" (the session's creation) or
	// "activity" (the last message in it). Default "start".
	SessionAnchor string `yaml:"session_anchor" enum:"start,activity"`
}

// Journal configures the record of pushes and API calls.
type Journal struct {
	// MaxEntries bounds the journal; the oldest entries are dropped beyond it. Default 10000.
	MaxEntries int `yaml:"max_entries"`
	// MaxBytes bounds the journal in memory as well: while the entries held are larger than
	// this (Entry.Size), the oldest go. A bot answering 1 MiB bodies would otherwise hold
	// max_entries of them. Default 64MiB.
	MaxBytes ByteSize `yaml:"max_bytes"`
}

// App is one Official Account or Mini Program.
type App struct {
	// Alias is the short name scenarios and the control API use, e.g. "oa". Required, unique.
	Alias string `yaml:"alias"`
	// Kind is "oa" (Official Account) or "mp" (Mini Program). Required.
	Kind string `yaml:"kind" enum:"oa,mp"`
	// AppID is "wx" and 16 lowercase hex digits. Required, unique.
	AppID string `yaml:"appid"`
	// Secret is the AppSecret: 32 lowercase hex digits. Required.
	Secret string `yaml:"secret"`
	// OriginalID is "gh_" and 12 lowercase hex digits; it is the ToUserName of pushes. Required,
	// unique.
	OriginalID string `yaml:"original_id"`
	// Token signs pushes: 3 to 32 letters and digits. Required.
	Token string `yaml:"token"`
	// EncodingAESKey is 43 letters and digits. Required unless Mode is "plain".
	EncodingAESKey string `yaml:"encoding_aes_key"`
	// Mode is "plain", "compat" or "safe". Default "plain".
	Mode string `yaml:"mode" enum:"plain,compat,safe"`
	// Format is "xml" or "json"; an Official Account pushes XML only. Default "xml" for an
	// Official Account, "json" for a Mini Program.
	Format string `yaml:"format" enum:"xml,json"`
	// URL is the bot's callback URL, http:// or https://. Default empty: `wxemu serve --target`
	// or the control API sets it. An app with a container has no callback URL: the container
	// replaces it, as in WeChat (protocol §8.5), and a file that sets both is refused.
	URL string `yaml:"url"`
	// WeChatID is the account's WeChat id (微信号), the suffix of its kf accounts
	// (prefix@wechat_id). Required when the app has agents.
	WeChatID string `yaml:"wechat_id"`
	// KFEnabled says whether the account has turned on the customer-service (kf) function; the
	// kf account and session APIs answer 65400 when it is off. Default true.
	KFEnabled *bool `yaml:"kf_enabled"`
	// Users are the people who talk to the account.
	Users []User `yaml:"users"`
	// Agents are the customer-service (kf) accounts, at most 100.
	Agents []Agent `yaml:"agents"`
	// Cloud is a Mini Program's cloud development (云开发): its environment, and the cloud
	// functions WeChat pushes some of its messages to instead of the callback URL (protocol §8.1).
	Cloud *Cloud `yaml:"cloud"`
	// Container is the cloud-hosting (云托管) service WeChat pushes the app's messages to instead
	// of the callback URL, and its open-API service (protocol §8.5). Default none.
	Container *Container `yaml:"container"`
}

// The paths of WeChat's API that a container's open-API service may allow (the token APIs need
// no token and are not among them), and the ones it allows by default: the customer-service
// message and media APIs of protocol §4.
var (
	OpenAPIPaths = []string{
		"/cgi-bin/message/custom/send", "/cgi-bin/message/custom/typing", "/cgi-bin/message/custom/business/typing",
		"/cgi-bin/media/upload", "/cgi-bin/media/get",
		"/customservice/kfaccount/add", "/customservice/kfaccount/update", "/customservice/kfaccount/del",
		"/customservice/kfaccount/inviteworker", "/customservice/kfaccount/uploadheadimg",
		"/cgi-bin/customservice/getkflist", "/cgi-bin/customservice/getonlinekflist",
		"/customservice/kfsession/create", "/customservice/kfsession/close", "/customservice/kfsession/getsession",
		"/customservice/kfsession/getsessionlist", "/customservice/kfsession/getwaitcase",
		"/customservice/msgrecord/getmsglist",
	}
	DefaultOpenAPIAllow = []string{
		"/cgi-bin/message/custom/send", "/cgi-bin/message/custom/typing", "/cgi-bin/message/custom/business/typing",
		"/cgi-bin/media/upload", "/cgi-bin/media/get",
	}
)

// The spellings of the header that marks a push to a container as WeChat's (protocol §8.5, §10.14).
const (
	SourceHeader       = "x-wx-source"  // the push doc's spelling, the default
	SourceHeaderPlural = "x-wx-sources" // one copy of the doc spells it so
)

// Container is a cloud-hosting (云托管, WeChat Cloud Run) service: the path WeChat pushes to and
// the open-API service through which it calls the API without an access_token (protocol §8.5).
type Container struct {
	// URL is where the container's push path listens, http://host:port/path. Required. WeChat
	// reaches the container on its intranet; wxemu POSTs here without encryption and without the
	// signature query parameters.
	URL string `yaml:"url"`
	// Format is how pushes are written and replies read: "json" or "xml", for an Official
	// Account too. Default "json".
	Format string `yaml:"format" enum:"json,xml"`
	// SourceHeader is the name of the header that marks a push as WeChat's: "x-wx-source" (the
	// default) or "x-wx-sources", the spelling of one copy of the doc. Deviation: UNCERTAIN
	// (protocol §10.14).
	SourceHeader string `yaml:"source_header" enum:"x-wx-source,x-wx-sources"`
	// OpenAPI turns on the open-API service (开放接口服务): calls of WeChat's API that carry no
	// access_token are served as this app's. Default false: they get 41001.
	OpenAPI bool `yaml:"openapi"`
	// OpenAPIAllow lists the API paths the open-API service allows (its whitelist); a token-less
	// call of another path gets 85107. Default: the customer-service message and media APIs
	// (custom/send, custom/typing, custom/business/typing, media/upload, media/get).
	OpenAPIAllow []string `yaml:"openapi_allow" enum:"/cgi-bin/message/custom/send,/cgi-bin/message/custom/typing,/cgi-bin/message/custom/business/typing,/cgi-bin/media/upload,/cgi-bin/media/get,/customservice/kfaccount/add,/customservice/kfaccount/update,/customservice/kfaccount/del,/customservice/kfaccount/inviteworker,/customservice/kfaccount/uploadheadimg,/cgi-bin/customservice/getkflist,/cgi-bin/customservice/getonlinekflist,/customservice/kfsession/create,/customservice/kfsession/close,/customservice/kfsession/getsession,/customservice/kfsession/getsessionlist,/customservice/kfsession/getwaitcase,/customservice/msgrecord/getmsglist"`
}

// SetDefaults sets the documented defaults.
func (c *Container) SetDefaults() {
	*c = Container{Format: FormatJSON, SourceHeader: SourceHeader, OpenAPIAllow: slices.Clone(DefaultOpenAPIAllow)}
}

// Allows reports whether the open-API service allows the API path. A nil list (a Container
// written in code) is the default list; an empty one allows nothing.
func (c *Container) Allows(path string) bool {
	if c.OpenAPIAllow == nil {
		return slices.Contains(DefaultOpenAPIAllow, path)
	}
	return slices.Contains(c.OpenAPIAllow, path)
}

// complete fills the defaults of a Container written in code.
func (c *Container) complete() {
	if c.Format == "" {
		c.Format = FormatJSON
	}
	if c.SourceHeader == "" {
		c.SourceHeader = SourceHeader
	}
	if c.OpenAPIAllow == nil {
		c.OpenAPIAllow = slices.Clone(DefaultOpenAPIAllow)
	}
}

// Cloud is a Mini Program's cloud environment and its message-push functions.
type Cloud struct {
	// Env is the cloud environment id. Default "wxemu-" and the appid.
	Env string `yaml:"env"`
	// ToUserName is what the push to a function carries as ToUserName: "appid" (default, as the
	// docs' example shows) or "original_id". Deviation: UNCERTAIN (protocol §8.1).
	ToUserName string `yaml:"to_user_name" enum:"appid,original_id"`
	// MsgID is how the push writes MsgId: "string" (default, as the docs' example) or "number".
	MsgID string `yaml:"msgid" enum:"string,number"`
	// Source is what cloud.getWXContext().SOURCE says. Default "wx_client".
	Source string `yaml:"source"`
	// Functions are the cloud functions and the messages routed to each.
	Functions []CloudFunction `yaml:"functions"`
}

// CloudFunction is one cloud function: its folder and the <MsgType, Event> pairs routed to it.
type CloudFunction struct {
	// Name is the function's name. Default: the folder's base name.
	Name string `yaml:"name"`
	// Dir is the function's folder (index.js, package.json, config.json, node_modules), relative
	// to the configuration file. Required.
	Dir string `yaml:"dir"`
	// Timeout overrides the time limit of the function's config.json (default 3s there).
	Timeout Duration `yaml:"timeout"`
	// Routes are the <MsgType, Event> pairs pushed to the function. Default: text, image,
	// miniprogrampage and event user_enter_tempsession, every type a Mini Program's customer
	// service receives.
	Routes []CloudRoute `yaml:"routes"`
}

// CloudRoute is one <MsgType, Event> pair of the message push configuration.
type CloudRoute struct {
	MsgType string `yaml:"msgtype"`
	Event   string `yaml:"event"`
}

// User is a person who talks to an account. A person has a different openid in each app, as in
// WeChat.
type User struct {
	// Name is how scenarios and the control API refer to the user, e.g. "alice": up to 32
	// letters, digits, '_', '-' or '.'. Required, unique in the app.
	Name string `yaml:"name"`
	// OpenID is 28 characters of [A-Za-z0-9_-] starting with 'o', unique in the app. Default:
	// derived from the appid and the name (see DeriveOpenID), so it is stable across runs.
	OpenID string `yaml:"openid"`
	// Subscribed says whether the user follows an Official Account when the emulator starts.
	// Default true. A Mini Program has no followers: the field is ignored there and Parse sets
	// it to true.
	Subscribed *bool `yaml:"subscribed"`
	// Nickname is a display name for the user. Default empty.
	Nickname string `yaml:"nickname"`
}

// Agent is a customer-service (kf) account (protocol §5.1).
type Agent struct {
	// Account is prefix@wechat_id: a prefix of up to 10 letters, digits or '_', and the app's
	// WeChat id. Required, unique in the app.
	Account string `yaml:"account"`
	// Nickname is shown to users, up to 16 characters. Default: the account's prefix.
	Nickname string `yaml:"nickname"`
	// WeChat is the personal WeChat id the account is bound to (kf_wx); empty means not bound, and
	// an unbound account cannot take sessions (65402). Default empty.
	WeChat string `yaml:"wechat"`
	// Online says whether the agent is logged in when the emulator starts; only a bound account
	// can be. Default false.
	Online bool `yaml:"online"`
	// AutoAccept takes waiting users without a click, up to Capacity. Default false.
	AutoAccept bool `yaml:"auto_accept"`
	// Capacity is how many sessions the agent serves at once. Default 5.
	Capacity int `yaml:"capacity"`
}

// Defaulter is implemented by types whose defaults are not their zero value. The strict decoder
// calls SetDefaults on every value it creates (a list item, a map value, a pointer target) before
// filling it from the file, so keys the file leaves out keep their defaults.
type Defaulter interface {
	SetDefaults()
}

// SetDefaults sets every setting to its default and leaves no apps.
func (c *Config) SetDefaults() {
	c.Listen = "127.0.0.1:7700"
	c.Push.SetDefaults()
	c.Quota.SetDefaults()
	c.API.SetDefaults()
	c.KF.SetDefaults()
	c.Journal.SetDefaults()
	c.Apps = nil
}

// SetDefaults sets the documented defaults.
func (p *Push) SetDefaults() {
	*p = Push{Timeout: Duration(5 * time.Second), Attempts: 3, MaxReplyBytes: MiB}
}

// SetDefaults sets the documented defaults.
func (q *Quota) SetDefaults() {
	*q = Quota{Rules: Rules20230612, Combine: CombineReset}
}

// SetDefaults sets the documented defaults.
func (a *API) SetDefaults() {
	*a = API{RID: true, TextLimitBytes: 2048, ImageLimit: 10 * MiB, KFIDType: KFIDNumber, TempsessionEveryEntry: true,
		TokenTime: TokenTimeWall}
}

// SetDefaults sets the documented defaults.
func (k *KF) SetDefaults() {
	*k = KF{SessionTimeout: Duration(30 * time.Minute), SessionAnchor: AnchorStart}
}

// SetDefaults sets the documented defaults.
func (j *Journal) SetDefaults() {
	*j = Journal{MaxEntries: 10000, MaxBytes: 64 * MiB}
}

// SetDefaults sets the documented defaults. Format stays empty because its default depends on
// Kind, which the file may give after it; Parse fills it in.
func (a *App) SetDefaults() {
	*a = App{Mode: ModePlain}
}

// SetDefaults sets the documented defaults.
func (a *Agent) SetDefaults() {
	*a = Agent{Capacity: 5}
}

// App finds an app by alias or appid. The pointer is into c.Apps.
func (c *Config) App(aliasOrAppID string) (*App, bool) {
	for i := range c.Apps {
		if c.Apps[i].Alias == aliasOrAppID || c.Apps[i].AppID == aliasOrAppID {
			return &c.Apps[i], true
		}
	}
	return nil, false
}

// User finds a user by name or openid. The pointer is into a.Users.
func (a *App) User(nameOrOpenID string) (*User, bool) {
	for i := range a.Users {
		if a.Users[i].Name == nameOrOpenID || a.Users[i].OpenID == nameOrOpenID {
			return &a.Users[i], true
		}
	}
	return nil, false
}

// Agent finds an agent by kf account. The pointer is into a.Agents.
func (a *App) Agent(account string) (*Agent, bool) {
	for i := range a.Agents {
		if a.Agents[i].Account == account {
			return &a.Agents[i], true
		}
	}
	return nil, false
}

//go:embed default.yaml
var defaultYAML []byte

// DefaultFile is the name errors in the embedded default configuration carry.
const DefaultFile = "default.yaml"

// DefaultYAML returns a copy of the embedded default configuration, commented as a reference to
// copy and edit (`wxemu serve --print-config`).
func DefaultYAML() []byte {
	return append([]byte(nil), defaultYAML...)
}

// Default returns a fresh copy of the embedded default configuration: the demo apps, users and
// agents of demo.go, every knob at its default.
func Default() *Config {
	c, err := Parse(DefaultFile, defaultYAML)
	if err != nil {
		panic(fmt.Sprintf("config: the embedded default configuration is broken: %v", err))
	}
	return c
}

// Load reads and parses a configuration file. Problems in the file are *Error values joined with
// errors.Join, in file order.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes a configuration file strictly and validates it. Sections and keys the file leaves
// out take their defaults; a file without apps is an error. Defaults that depend on other values
// are then filled in, so that no consumer has to: format from kind, subscribed, openids derived
// from user names, agent nicknames from account prefixes. file names the file in messages.
// Problems are *Error values joined with errors.Join, in file order.
func Parse(file string, data []byte) (*Config, error) {
	root, err := parseYAML(file, data)
	if err != nil {
		return nil, err
	}
	c := new(Config)
	c.SetDefaults()
	var ps problems
	d := NewDecoder(file, root, ps.add)
	d.Decode(root, "", c)
	c.complete()
	c.resolveDirs(filepath.Dir(file))
	if !d.exhausted {
		// What was decoded before the budget ran out is a fragment; judging it would only add
		// noise to the one message that matters.
		d.addValidation(c.validate(d.lineOf))
	}
	if err := ps.report(file); err != nil {
		return nil, err
	}
	return c, nil
}

// resolveDirs makes the folders of cloud functions relative to the configuration file's folder,
// and names each function after its folder unless it has a name.
func (c *Config) resolveDirs(base string) {
	for i := range c.Apps {
		cl := c.Apps[i].Cloud
		if cl == nil {
			continue
		}
		for j := range cl.Functions {
			f := &cl.Functions[j]
			if f.Dir != "" && !filepath.IsAbs(f.Dir) {
				f.Dir = filepath.Join(base, f.Dir)
			}
			if f.Name == "" && f.Dir != "" {
				f.Name = filepath.Base(f.Dir)
			}
		}
	}
}

// complete fills the defaults that depend on other fields, so that consumers never see an empty
// Format, a nil Subscribed or a missing openid.
func (c *Config) complete() {
	for i := range c.Apps {
		a := &c.Apps[i]
		// "users: []" and no users are the same thing; one representation keeps comparisons and
		// round trips exact.
		if len(a.Users) == 0 {
			a.Users = nil
		}
		if len(a.Agents) == 0 {
			a.Agents = nil
		}
		if len(c.Faults.Rules) == 0 {
			c.Faults.Rules = nil
		}
		if a.Format == "" {
			a.Format = FormatXML
			if a.Kind == KindMP {
				a.Format = FormatJSON
			}
		}
		if a.Container != nil {
			a.Container.complete()
		}
		for j := range a.Users {
			u := &a.Users[j]
			if a.Kind == KindMP || u.Subscribed == nil {
				t := true
				u.Subscribed = &t
			}
			if u.OpenID == "" && u.Name != "" {
				u.OpenID = DeriveOpenID(a.AppID, u.Name)
			}
		}
		for j := range a.Agents {
			g := &a.Agents[j]
			if g.Nickname == "" {
				if at := strings.IndexByte(g.Account, '@'); at > 0 {
					g.Nickname = g.Account[:at]
				}
			}
		}
	}
}

// Validate checks the semantic rules (credential shapes, uniqueness, kf accounts) of a Config
// built in code. Problems are *Error values without file positions, joined with errors.Join.
// Parse runs the same checks with positions.
func (c *Config) Validate() error {
	errs := c.validate(nil)
	if len(errs) == 0 {
		return nil
	}
	return joinErrors(errs)
}

func joinErrors(errs []*Error) error {
	list := make([]error, len(errs))
	for i, e := range errs {
		list[i] = e
	}
	return errors.Join(list...)
}
