package config_test

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.yaml.in/yaml/v3"

	"github.com/wxemu/wxemu/emulator/config"
)

// problems unpacks the joined errors Parse returns.
func problems(err error) []*config.Error {
	GinkgoHelper()
	Expect(err).To(HaveOccurred())
	joined, ok := err.(interface{ Unwrap() []error })
	Expect(ok).To(BeTrue(), "want errors.Join, got %T", err)
	var out []*config.Error
	for _, e := range joined.Unwrap() {
		var ce *config.Error
		Expect(errors.As(e, &ce)).To(BeTrue(), "want *config.Error, got %T: %v", e, e)
		out = append(out, ce)
	}
	return out
}

func knobs() *config.Config {
	c := new(config.Config)
	c.SetDefaults()
	return c
}

func ptr[T any](v T) *T { return &v }

var _ = Describe("Default", func() {
	var cfg *config.Config

	BeforeEach(func() {
		cfg = config.Default()
	})

	It("parses and validates", func() {
		Expect(cfg.Validate()).To(Succeed())
		Expect(cfg.Apps).To(HaveLen(2))
	})

	It("sets every knob to the default the code documents", func() {
		want := knobs()
		cfg.Apps = nil
		Expect(cfg).To(Equal(want))
		Expect(want.Listen).To(Equal("127.0.0.1:7700"))
		Expect(want.Push).To(Equal(config.Push{Timeout: config.Duration(5 * time.Second), Attempts: 3, MaxReplyBytes: 1 << 20}))
		Expect(want.Quota).To(Equal(config.Quota{Rules: "2023-06-12", Combine: "reset"}))
		Expect(want.API).To(Equal(config.API{RID: true, TextLimitBytes: 2048, ImageLimit: 10 << 20, KFIDType: "number", TempsessionEveryEntry: true,
			TokenTime: "wall"}))
		Expect(want.KF).To(Equal(config.KF{SessionTimeout: config.Duration(30 * time.Minute), SessionAnchor: "start"}))
		Expect(want.Journal).To(Equal(config.Journal{MaxEntries: 10000, MaxBytes: 64 * config.MiB}))
	})

	It("holds the demo Official Account of the exported constants", func() {
		oa, ok := cfg.App(config.DemoOAAlias)
		Expect(ok).To(BeTrue())
		Expect(*oa).To(sameSettings(oa, config.App{
			Alias: config.DemoOAAlias, Kind: config.KindOA, AppID: config.DemoOAAppID, Secret: config.DemoOASecret,
			OriginalID: config.DemoOAOriginalID, Token: config.DemoOAToken, EncodingAESKey: config.DemoOAEncodingAESKey,
			Mode: config.ModePlain, Format: config.FormatXML, URL: "", WeChatID: config.DemoOAWeChatID, KFEnabled: ptr(true),
		}))
		Expect(oa.Users).To(Equal([]config.User{
			{Name: "alice", OpenID: config.DemoAliceOA, Subscribed: ptr(true), Nickname: "Alice"},
			{Name: "bob", OpenID: config.DemoBobOA, Subscribed: ptr(true), Nickname: "Bob"},
			{Name: "carol", OpenID: config.DemoCarolOA, Subscribed: ptr(true), Nickname: "Carol"},
		}))
		Expect(oa.Agents).To(Equal([]config.Agent{
			{Account: config.DemoOAAgent1, Nickname: "客服小王", WeChat: "wang_kf", Online: true, AutoAccept: false, Capacity: 5},
			{Account: config.DemoOAAgent2, Nickname: "客服小李", WeChat: "li_kf", Online: true, AutoAccept: true, Capacity: 5},
			{Account: config.DemoOAAgent3, Nickname: "客服小张", WeChat: "zhang_kf", Online: false, AutoAccept: false, Capacity: 5},
		}))
	})

	It("holds the demo Mini Program of the exported constants", func() {
		mp, ok := cfg.App(config.DemoMPAppID)
		Expect(ok).To(BeTrue())
		Expect(*mp).To(sameSettings(mp, config.App{
			Alias: config.DemoMPAlias, Kind: config.KindMP, AppID: config.DemoMPAppID, Secret: config.DemoMPSecret,
			OriginalID: config.DemoMPOriginalID, Token: config.DemoMPToken, EncodingAESKey: config.DemoMPEncodingAESKey,
			Mode: config.ModePlain, Format: config.FormatJSON, URL: "", WeChatID: config.DemoMPWeChatID,
		}))
		Expect(mp.Users).To(Equal([]config.User{
			{Name: "alice", OpenID: config.DemoAliceMP, Subscribed: ptr(true), Nickname: "Alice"},
			{Name: "bob", OpenID: config.DemoBobMP, Subscribed: ptr(true), Nickname: "Bob"},
			{Name: "carol", OpenID: config.DemoCarolMP, Subscribed: ptr(true), Nickname: "Carol"},
		}))
		Expect(mp.Agents).To(Equal([]config.Agent{
			{Account: config.DemoMPAgent1, Nickname: "小程序客服", WeChat: "mp_kf", Online: true, AutoAccept: true, Capacity: 5},
		}))
	})

	It("gives each person a different openid in each app, as WeChat does", func() {
		oa, _ := cfg.App("oa")
		mp, _ := cfg.App("mp")
		for _, name := range []string{"alice", "bob", "carol"} {
			a, ok := oa.User(name)
			Expect(ok).To(BeTrue())
			b, ok := mp.User(name)
			Expect(ok).To(BeTrue())
			Expect(a.OpenID).NotTo(Equal(b.OpenID))
		}
	})

	It("returns a fresh copy each time", func() {
		cfg.Apps[0].Users[0].Name = "mallory"
		*cfg.Apps[0].Users[0].Subscribed = false
		again := config.Default()
		Expect(again.Apps[0].Users[0].Name).To(Equal("alice"))
		Expect(*again.Apps[0].Users[0].Subscribed).To(BeTrue())
	})

	It("prints the file it parses, commented, and hands out copies", func() {
		data := config.DefaultYAML()
		Expect(string(data)).To(ContainSubstring("# "))
		parsed, err := config.Parse("printed.yaml", data)
		Expect(err).NotTo(HaveOccurred())
		Expect(parsed).To(Equal(cfg))
		data[0] = 'X'
		Expect(config.DefaultYAML()[0]).NotTo(Equal(byte('X')))
	})

	It("round-trips through YAML", func() {
		out, err := yaml.Marshal(cfg)
		Expect(err).NotTo(HaveOccurred())
		again, err := config.Parse("marshalled.yaml", out)
		Expect(err).NotTo(HaveOccurred())
		Expect(again).To(Equal(cfg))
	})
})

// sameSettings compares the scalar fields of an app, leaving users and agents to their own specs.
func sameSettings(actual *config.App, want config.App) OmegaMatcher {
	want.Users, want.Agents = actual.Users, actual.Agents
	return Equal(want)
}

var _ = Describe("Parse", func() {
	It("fills what a file leaves out with the defaults", func() {
		cfg, err := config.Load(filepath.Join("testdata", "minimal.yaml"))
		Expect(err).NotTo(HaveOccurred())

		apps := cfg.Apps
		cfg.Apps = nil
		Expect(cfg).To(Equal(knobs()))

		shop, mini := apps[0], apps[1]
		Expect(shop.Mode).To(Equal(config.ModePlain))
		Expect(shop.Format).To(Equal(config.FormatXML))
		Expect(shop.URL).To(BeEmpty())
		Expect(shop.Users[0].Subscribed).To(Equal(ptr(true)))
		Expect(shop.Users[0].OpenID).To(Equal(config.DeriveOpenID("wx1111111111111111", "dave")))
		Expect(shop.Agents).To(Equal([]config.Agent{{Account: "anna@shop_wx", Nickname: "anna", Capacity: 5}}))

		Expect(mini.Format).To(Equal(config.FormatJSON))
		Expect(mini.Users[0].Subscribed).To(Equal(ptr(true)), "a Mini Program has no followers; subscribed is ignored")
		Expect(mini.Users[0].OpenID).To(Equal(config.DeriveOpenID("wx4444444444444444", "dave")))
		Expect(mini.Users[0].OpenID).NotTo(Equal(shop.Users[0].OpenID))
	})

	It("derives openids that have WeChat's shape and do not change between runs", func() {
		id := config.DeriveOpenID("wx1111111111111111", "dave")
		Expect(id).To(MatchRegexp(`^o[A-Za-z0-9_-]{27}$`))
		Expect(config.DeriveOpenID("wx1111111111111111", "dave")).To(Equal(id))
		Expect(config.DeriveOpenID("wx1111111111111111", "erin")).NotTo(Equal(id))
	})

	Describe("a file that sets every key", func() {
		var cfg *config.Config

		BeforeEach(func() {
			var err error
			cfg, err = config.Load(filepath.Join("testdata", "full.yaml"))
			Expect(err).NotTo(HaveOccurred())
		})

		It("keeps every value", func() {
			Expect(cfg).To(Equal(&config.Config{
				Listen: "0.0.0.0:9000",
				Push:   config.Push{Timeout: config.Duration(1500 * time.Millisecond), Attempts: 1, MaxReplyBytes: 64000, OpenIDInMPPlain: true},
				Quota:  config.Quota{Rules: config.Rules20210601, Combine: config.CombineIndependent},
				API: config.API{RID: false, TextLimitBytes: 2047, ImageLimit: 2000000, KFIDType: config.KFIDString,
					TempsessionEveryEntry: false, TokenTime: config.TokenTimeVirtual},
				KF:      config.KF{SessionTimeout: config.Duration(2 * time.Hour), SessionAnchor: config.AnchorActivity},
				Journal: config.Journal{MaxEntries: 50, MaxBytes: 2 * config.MiB},
				Apps: []config.App{{
					Alias: "shop", Kind: config.KindOA, AppID: "wx1111111111111111", Secret: "22222222222222222222222222222222",
					OriginalID: "gh_333333333333", Token: "shoptoken", EncodingAESKey: "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG",
					Mode: config.ModeSafe, Format: config.FormatXML, URL: "https://bot.example.com/wx?x=1", WeChatID: "shop_wx",
					Users: []config.User{
						{Name: "dave", OpenID: "oShop0000000000000000000dave", Subscribed: ptr(false), Nickname: "大卫"},
						{Name: "erin.s", OpenID: "oShop000000000000000000-erin", Subscribed: ptr(true), Nickname: ""},
					},
					Agents: []config.Agent{
						{Account: "anna@shop_wx", Nickname: "Anna", WeChat: "anna-wx", Online: true, AutoAccept: true, Capacity: 12},
						{Account: "ben_2@shop_wx", Nickname: "本", Capacity: 1},
					},
				}, {
					Alias: "mini", Kind: config.KindMP, AppID: "wx4444444444444444", Secret: "55555555555555555555555555555555",
					OriginalID: "gh_666666666666", Token: "minitoken", Mode: config.ModePlain, Format: config.FormatXML,
					URL: "http://127.0.0.1:8080/mini",
				}},
			}))
		})

		It("round-trips through YAML", func() {
			out, err := yaml.Marshal(cfg)
			Expect(err).NotTo(HaveOccurred())
			Expect(string(out)).To(ContainSubstring("timeout: 1.5s\n"))
			Expect(string(out)).To(ContainSubstring("max_reply_bytes: 64KB"))
			Expect(string(out)).To(ContainSubstring("session_timeout: 2h\n"))
			again, err := config.Parse("marshalled.yaml", out)
			Expect(err).NotTo(HaveOccurred())
			Expect(again).To(Equal(cfg))
		})
	})

	DescribeTable("a broken file is refused with a message that says where and how to fix it",
		func(name string, want ...string) {
			file := filepath.Join("testdata", "bad", name)
			_, err := config.Load(file)
			Expect(err).To(HaveOccurred())
			for i := range want {
				want[i] = file + ":" + want[i]
			}
			Expect(strings.Split(err.Error(), "\n")).To(Equal(want))
		},
		Entry("unknown key, with the key it resembles", "unknown_key.yaml",
			`8:5: apps[0]: unknown key "tokn" (did you mean "token"?)`),
		Entry("key in the wrong section", "misplaced_key.yaml",
			`3:3: kf: unknown key "agents" ("agents" is a key of apps[N], not of kf: move it there)`),
		Entry("wrong type", "wrong_type.yaml",
			`2:13: push.attempts: expected a whole number, got "three" (write a whole number, e.g. attempts: 3)`),
		Entry("bare number for a duration", "bad_duration.yaml",
			`2:12: push.timeout: expected a duration, got the bare number 30 (write 30s; a duration needs a unit: ns, us, ms, s, m or h)`),
		Entry("bad size", "bad_size.yaml",
			`2:16: api.image_limit: expected a size, got "10 megs" (write a number of bytes or a number with a unit: B, KB, MB, GB (1000-based) or KiB, MiB, GiB (1024-based), e.g. 64KiB or 10MB)`),
		Entry("YAML 1.1 boolean", "bad_bool.yaml",
			`2:8: api.rid: expected true or false, got "yes" (write true or false; yes, no, on and off are text in YAML 1.2)`),
		Entry("value outside an enum, listing the allowed ones", "bad_enum.yaml",
			`8:11: apps[0].mode: unknown value "encrypted" (allowed values: plain, compat, safe)`),
		Entry("a token clock that does not exist, with the one it resembles", "bad_token_time.yaml",
			`3:15: api.token_time: unknown value "virtaul" (did you mean "virtual"? allowed values: wall, virtual)`),
		Entry("the token clock key misspelled", "unknown_token_time.yaml",
			`3:3: api: unknown key "token_tim" (did you mean "token_time"?)`),
		Entry("bad appid", "bad_appid.yaml",
			`4:12: apps[0].appid: invalid appid "wx12345": it has 5 characters after "wx", want 16 (an appid is "wx" and 16 lowercase hex digits, e.g. wx0e1d2c3b4a596877)`),
		Entry("short EncodingAESKey, not echoed", "short_aes_key.yaml",
			`9:23: apps[0].encoding_aes_key: invalid encoding_aes_key: it is 42 characters long, want 43 (an EncodingAESKey is exactly 43 letters and digits; copy all of it)`),
		Entry("no EncodingAESKey outside plain mode", "missing_aes_key.yaml",
			`2:5: apps[0].encoding_aes_key: required in compat mode (add encoding_aes_key: 43 letters and digits, or write mode: plain)`),
		Entry("JSON for an Official Account", "oa_json.yaml",
			`8:13: apps[0].format: an Official Account pushes XML only (write format: xml or leave format out; JSON is for Mini Programs)`),
		Entry("duplicate alias, pointing at the first", "duplicate_alias.yaml",
			`8:12: apps[1].alias: duplicate alias "shop" (apps[0].alias (line 2) already uses it; each must be unique)`),
		Entry("duplicate key", "duplicate_key.yaml",
			`8:5: apps[0]: duplicate key "token" (it is already set at line 7; keep one)`),
		Entry("bad agent accounts", "bad_agent_account.yaml",
			`10:18: apps[0].agents[0].account: account "kf1@shop" ends in @shop, but this app's wechat_id is "shop_wx" (write kf1@shop_wx)`,
			`12:18: apps[0].agents[1].account: invalid account "customer_service@shop_wx": in the prefix, it is 16 characters long, want 1 to 10 (the part before @ is up to 10 letters, digits and '_')`),
		Entry("online agent without a bound WeChat", "unbound_online.yaml",
			`11:17: apps[0].agents[0].online: an account not bound to a WeChat (no wechat) cannot be online (add wechat: the agent's personal WeChat id, or write online: false)`),
		Entry("short openid", "bad_openid.yaml",
			`10:17: apps[0].users[0].openid: invalid openid "o6_bmjrPTlm6_2sgVt7hMZOPfL2": it has 26 characters after "o", want 27 (an openid is "o" and 27 letters, digits, '_' or '-', e.g. o6_bmjrPTlm6_2sgVt7hMZOPfL2M; or leave openid out to derive one from the name)`),
		Entry("no apps", "no_apps.yaml",
			`1:1: apps: no apps (add one, see the default config (wxemu serve --print-config))`),
		Entry("tab indentation", "tab.yaml",
			`2: YAML syntax: found character that cannot start any token (indent with spaces; YAML does not allow tabs)`),
		Entry("an unquoted colon in a flow mapping, with a configuration's own example", "unquoted_flow.yaml",
			`3: YAML syntax: did not find expected ',' or '}' (quote a text that holds ? : , # { } [ ] inside {…} or […], e.g. users: [{name: alice, nickname: "Alice: the tester"}])`),
		Entry("two documents", "two_documents.yaml",
			`8:1: a second YAML document starts here (a configuration is one document: merge the two and remove the --- line, or split them into two files)`),
		Entry("several problems at once, in file order", "several.yaml",
			`3:12: push.timeout: expected a duration, got "5 seconds" (write a number with a unit (ns, us, ms, s, m or h), e.g. 5s, 1m30s or 48h)`,
			`6:3: quota: unknown key "combin" (did you mean "combine"?)`,
			`8:5: apps[0].wechat_id: required when the app has agents (add wechat_id: the account's WeChat id; agent accounts are prefix@wechat_id)`,
			`11:13: apps[0].secret: invalid secret: it is 31 characters long, want 32 (an AppSecret is 32 lowercase hex digits, e.g. e1d2c3b4a5968778f9e0d1c2b3a49586)`,
			`16:17: apps[0].users[0].openid: invalid openid "alice": it does not start with "o" (an openid is "o" and 27 letters, digits, '_' or '-', e.g. o6_bmjrPTlm6_2sgVt7hMZOPfL2M; or leave openid out to derive one from the name)`),
	)

	It("returns each problem as an *Error with its parts", func() {
		_, err := config.Load(filepath.Join("testdata", "bad", "several.yaml"))
		ps := problems(err)
		Expect(ps).To(HaveLen(5))
		Expect(*ps[1]).To(Equal(config.Error{
			File: filepath.Join("testdata", "bad", "several.yaml"), Line: 6, Column: 3,
			Path: "quota", Msg: `unknown key "combin"`, Fix: `did you mean "combine"?`,
		}))
		var first *config.Error
		Expect(errors.As(err, &first)).To(BeTrue())
		Expect(first.Path).To(Equal("push.timeout"))
	})

	It("does not report a key as missing when a misspelling of it was reported", func() {
		_, err := config.Load(filepath.Join("testdata", "bad", "unknown_key.yaml"))
		Expect(problems(err)).To(HaveLen(1))
	})

	It("refuses an empty file for having no apps", func() {
		_, err := config.Parse("empty.yaml", nil)
		Expect(err).To(MatchError("empty.yaml: apps: no apps (add one, see the default config (wxemu serve --print-config))"))
	})

	It("refuses a file that is not a mapping, and only for that", func() {
		_, err := config.Parse("list.yaml", []byte("- a\n- b\n"))
		Expect(err).To(MatchError(`list.yaml:1:1: expected a mapping, got a list (write it as key: value lines; its keys are listen, push, quota, api, kf, journal, apps, faults)`))
	})

	It("reports a file it cannot read", func() {
		_, err := config.Load(filepath.Join("testdata", "no-such-file.yaml"))
		Expect(err).To(MatchError(fs.ErrNotExist))
	})

	It("suggests the spelling of the WeChat docs' names", func() {
		data := strings.Replace(string(config.DefaultYAML()), "encoding_aes_key: abc", "EncodingAESKey: abc", 1)
		_, err := config.Parse("camel.yaml", []byte(data))
		Expect(err).To(MatchError(ContainSubstring(`apps[0]: unknown key "EncodingAESKey" (did you mean "encoding_aes_key"?)`)))
	})

	It("accepts anchors, merge keys and x- keys that hold them", func() {
		data := `
x-credentials: &creds
  kind: oa
  secret: 22222222222222222222222222222222
  token: shoptoken
apps:
  - <<: *creds
    alias: one
    appid: wx1111111111111111
    original_id: gh_111111111111
  - <<: *creds
    alias: two
    token: othertoken
    appid: wx2222222222222222
    original_id: gh_222222222222
`
		cfg, err := config.Parse("anchors.yaml", []byte(data))
		Expect(err).NotTo(HaveOccurred())
		Expect(cfg.Apps).To(HaveLen(2))
		Expect(cfg.Apps[0].Token).To(Equal("shoptoken"))
		Expect(cfg.Apps[1].Token).To(Equal("othertoken"), "a key written next to << wins over the merged one")
		Expect(cfg.Apps[1].Secret).To(Equal("22222222222222222222222222222222"))
	})
})

var _ = Describe("Config lookups", func() {
	var cfg *config.Config

	BeforeEach(func() {
		cfg = config.Default()
	})

	It("finds an app by alias or appid, in place", func() {
		byAlias, ok := cfg.App("mp")
		Expect(ok).To(BeTrue())
		byID, ok := cfg.App(config.DemoMPAppID)
		Expect(ok).To(BeTrue())
		Expect(byID).To(BeIdenticalTo(byAlias))
		byAlias.URL = "http://127.0.0.1:1/wx"
		Expect(cfg.Apps[1].URL).To(Equal("http://127.0.0.1:1/wx"))
		_, ok = cfg.App("nope")
		Expect(ok).To(BeFalse())
	})

	It("finds a user by name or openid and an agent by account", func() {
		oa, _ := cfg.App("oa")
		u, ok := oa.User(config.DemoBobOA)
		Expect(ok).To(BeTrue())
		Expect(u.Name).To(Equal("bob"))
		_, ok = oa.User(config.DemoBobMP)
		Expect(ok).To(BeFalse())
		g, ok := oa.Agent(config.DemoOAAgent2)
		Expect(ok).To(BeTrue())
		Expect(g.AutoAccept).To(BeTrue())
		_, ok = oa.Agent("kf9@wxemu_demo")
		Expect(ok).To(BeFalse())
	})
})

var _ = Describe("Validate", func() {
	It("checks a configuration built in code, without file positions", func() {
		cfg := config.Default()
		cfg.Apps[1].Alias = "oa"
		cfg.Apps[0].Agents = append(cfg.Apps[0].Agents, config.Agent{Account: "kf4@wxemu_demo", Nickname: "一二三四五六七八九十一二三四五六七", Capacity: 0})
		cfg.Push.Attempts = 0
		err := cfg.Validate()
		Expect(strings.Split(err.Error(), "\n")).To(Equal([]string{
			`push.attempts: must be more than 0, got 0 (write 3, as WeChat, or 1 for no retries)`,
			`apps[0].agents[3].nickname: nickname is 17 characters long, at most 16 (shorten it)`,
			`apps[0].agents[3].capacity: must be at least 1, got 0 (write the number of users the agent serves at once, e.g. 5)`,
			`apps[1].alias: duplicate alias "oa" (apps[0].alias already uses it; each must be unique)`,
		}))
	})

	It("validates the token clock of a configuration built in code", func() {
		cfg := config.Default()
		cfg.API.TokenTime = config.TokenTimeVirtual
		Expect(cfg.Validate()).To(Succeed())
		cfg.API.TokenTime = ""
		Expect(cfg.Validate()).To(MatchError(`api.token_time: required but not set (add the key token_time; one of wall, virtual)`))
		cfg.API.TokenTime = "real"
		Expect(cfg.Validate()).To(MatchError(`api.token_time: unknown value "real" (allowed values: wall, virtual)`))
	})

	It("allows at most 100 agents", func() {
		cfg := config.Default()
		oa, _ := cfg.App("oa")
		oa.Agents = nil
		for i := range 101 {
			oa.Agents = append(oa.Agents, config.Agent{Account: fmt.Sprintf("kf%d@wxemu_demo", i), Capacity: 1})
		}
		Expect(cfg.Validate()).To(MatchError(`apps[0].agents[100]: too many agents: 101 (an account has at most 100 kf accounts; remove 1)`))
	})

	It("refuses an alias that could be taken for another app's appid", func() {
		cfg := config.Default()
		cfg.Apps[1].Alias = config.DemoOAAppID
		Expect(cfg.Validate()).To(MatchError(ContainSubstring(`apps[1].alias: alias "wx0e1d2c3b4a596877" looks like an appid`)))
	})
})

var _ = Describe("Error", func() {
	DescribeTable("formats as FILE:LINE:COL: PATH: MSG (FIX), leaving out what is empty",
		func(e config.Error, want string) {
			Expect(e.Error()).To(Equal(want))
		},
		Entry("all parts", config.Error{File: "a.yaml", Line: 3, Column: 5, Path: "apps[0].token", Msg: "m", Fix: "f"}, "a.yaml:3:5: apps[0].token: m (f)"),
		Entry("no column", config.Error{File: "a.yaml", Line: 3, Msg: "m"}, "a.yaml:3: m"),
		Entry("no line", config.Error{File: "a.yaml", Path: "apps", Msg: "m", Fix: "f"}, "a.yaml: apps: m (f)"),
		Entry("no file", config.Error{Path: "listen", Msg: "m"}, "listen: m"),
		Entry("line without file", config.Error{Line: 2, Column: 1, Msg: "m"}, "line 2: m"),
	)
})

var _ = Describe("Duration", func() {
	decode := func(text string) (config.Duration, error) {
		var d config.Duration
		var n yaml.Node
		Expect(yaml.Unmarshal([]byte(text), &n)).To(Succeed())
		return d, d.UnmarshalYAML(n.Content[0])
	}

	DescribeTable("reads Go durations",
		func(text string, want time.Duration) {
			var d config.Duration
			var n yaml.Node
			Expect(yaml.Unmarshal([]byte(text), &n)).To(Succeed())
			Expect(d.UnmarshalYAML(n.Content[0])).To(Succeed())
			Expect(d.D()).To(Equal(want))
		},
		Entry(nil, "5s", 5*time.Second),
		Entry(nil, "1m30s", 90*time.Second),
		Entry(nil, "48h", 48*time.Hour),
		Entry(nil, `"250ms"`, 250*time.Millisecond),
	)

	DescribeTable("refuses anything else with a fix",
		func(text, want string) {
			_, err := decode(text)
			Expect(err).To(MatchError(want))
		},
		Entry("a bare number", "30", "expected a duration, got the bare number 30 (write 30s; a duration needs a unit: ns, us, ms, s, m or h)"),
		Entry("days", "2d", `expected a duration, got "2d" (write 48h; the largest unit is h)`),
		Entry("negative", "-5s", "negative duration -5s (write a positive duration, e.g. 5s)"),
		Entry("words", "five seconds", `expected a duration, got "five seconds" (write a number with a unit (ns, us, ms, s, m or h), e.g. 5s, 1m30s or 48h)`),
		Entry("a list", "[5s]", "expected a duration, got a list (write a number with a unit, e.g. 5s, 30m or 48h)"),
	)

	It("reads a bare number in the unit of the key's default", func() {
		d := config.Duration(30 * time.Minute)
		err := yaml.Unmarshal([]byte("30"), &d)
		Expect(err).To(MatchError("expected a duration, got the bare number 30 (write 30m, the unit of its default 30m, or 30s if seconds were meant; a duration needs a unit: ns, us, ms, s, m or h)"))
		d = config.Duration(48 * time.Hour)
		Expect(yaml.Unmarshal([]byte("2"), &d)).To(MatchError(ContainSubstring("write 2h, the unit of its default 48h")))
	})

	DescribeTable("prints without zero tails",
		func(d time.Duration, want string) {
			Expect(config.Duration(d).String()).To(Equal(want))
		},
		Entry(nil, 48*time.Hour, "48h"),
		Entry(nil, 30*time.Minute, "30m"),
		Entry(nil, 90*time.Minute, "1h30m"),
		Entry(nil, 90*time.Second, "1m30s"),
		Entry(nil, 1500*time.Millisecond, "1.5s"),
		Entry(nil, time.Duration(0), "0s"),
	)
})

var _ = Describe("ByteSize", func() {
	DescribeTable("reads bytes, 1000-based and 1024-based units",
		func(text string, want config.ByteSize) {
			Expect(config.ParseByteSize(text)).To(Equal(want))
		},
		Entry(nil, "512", config.ByteSize(512)),
		Entry(nil, "512B", config.ByteSize(512)),
		Entry(nil, "64KB", config.ByteSize(64000)),
		Entry(nil, "64KiB", config.ByteSize(65536)),
		Entry(nil, "10MB", config.ByteSize(10000000)),
		Entry(nil, "1MiB", config.ByteSize(1048576)),
		Entry(nil, "1 mib", config.ByteSize(1048576)),
		Entry(nil, "1.5KiB", config.ByteSize(1536)),
		Entry(nil, "2GiB", config.ByteSize(2<<30)),
	)

	DescribeTable("refuses anything else with a fix",
		func(text, want string) {
			_, err := config.ParseByteSize(text)
			Expect(err).To(MatchError(want))
		},
		Entry("an unknown unit", "10 megs", `expected a size, got "10 megs" (write a number of bytes or a number with a unit: B, KB, MB, GB (1000-based) or KiB, MiB, GiB (1024-based), e.g. 64KiB or 10MB)`),
		Entry("a unit alone", "MiB", `expected a size, got "MiB" (write a number of bytes or a number with a unit: B, KB, MB, GB (1000-based) or KiB, MiB, GiB (1024-based), e.g. 64KiB or 10MB)`),
		Entry("a fraction of a byte", "1.5B", "size 1.5B is not a whole number of bytes (write whole bytes, e.g. 1)"),
		Entry("negative", "-1KB", "negative size -1KB (write a positive size, e.g. 1KB)"),
		Entry("too large", "9999999999GiB", "size 9999999999GiB is too large (write a size below 8EiB)"),
	)

	DescribeTable("prints with the largest exact unit",
		func(b config.ByteSize, want string) {
			Expect(b.String()).To(Equal(want))
		},
		Entry(nil, config.ByteSize(0), "0"),
		Entry(nil, config.ByteSize(1500), "1500"),
		Entry(nil, config.ByteSize(64000), "64KB"),
		Entry(nil, config.MiB, "1MiB"),
		Entry(nil, 10*config.MiB, "10MiB"),
		Entry(nil, 3*config.GB, "3GB"),
	)
})

// step stands for the kind of file the scenario loader reads with the same decoder.
type step struct {
	Name   string            `yaml:"name"`
	Action string            `yaml:"action" enum:"say,wait"`
	Wait   config.Duration   `yaml:"wait"`
	Tags   map[string]int    `yaml:"tags"`
	Body   any               `yaml:"body"`
	Raw    yaml.Node         `yaml:"raw"`
	Next   []step            `yaml:"next"`
	Opt    *config.Duration  `yaml:"opt"`
	Ignore string            `yaml:"-"`
	Extra  map[string]string `yaml:"extra"`
	common `yaml:",inline"`
}

type common struct {
	Note string `yaml:"note"`
}

var _ = Describe("DecodeStrict", func() {
	decode := func(text string) (step, error) {
		GinkgoHelper()
		var n yaml.Node
		Expect(yaml.Unmarshal([]byte(text), &n)).To(Succeed())
		var s step
		return s, config.DecodeStrict("s.yaml", &n, &s)
	}

	It("fills any struct by its yaml tags", func() {
		s, err := decode(`
name: greet
action: say
wait: 2s
tags: {a: 1, b: 2}
body: {msgtype: text, text: {content: hi}}
raw: [1, 2]
note: inline field
opt: 1m
next:
  - name: inner
    action: wait
`)
		Expect(err).NotTo(HaveOccurred())
		Expect(s.Name).To(Equal("greet"))
		Expect(s.Wait.D()).To(Equal(2 * time.Second))
		Expect(s.Tags).To(Equal(map[string]int{"a": 1, "b": 2}))
		Expect(s.Body).To(Equal(map[string]any{"msgtype": "text", "text": map[string]any{"content": "hi"}}))
		Expect(s.Raw.Kind).To(Equal(yaml.SequenceNode))
		Expect(s.Note).To(Equal("inline field"))
		Expect(*s.Opt).To(Equal(config.Duration(time.Minute)))
		Expect(s.Next).To(HaveLen(1))
		Expect(s.Next[0].Action).To(Equal("wait"))
	})

	It("reports every problem in file order", func() {
		_, err := decode(`
name: [x]
action: shout
tags: {a: one, a: 2}
nxt: []
Ignore: x
next:
  - wait: soon
`)
		Expect(strings.Split(err.Error(), "\n")).To(Equal([]string{
			`s.yaml:2:7: name: expected text, got a list`,
			`s.yaml:3:9: action: unknown value "shout" (allowed values: say, wait)`,
			`s.yaml:4:11: tags.a: expected a whole number, got "one" (write a whole number, e.g. a: 1)`,
			`s.yaml:4:16: tags: duplicate key "a" (it is already set at line 4; keep one)`,
			`s.yaml:5:1: unknown key "nxt" (did you mean "next"?)`,
			`s.yaml:6:1: unknown key "Ignore" (allowed keys here: name, action, wait, tags, body, raw, next, opt, extra, note)`,
			`s.yaml:8:11: next[0].wait: expected a duration, got "soon" (write a number with a unit (ns, us, ms, s, m or h), e.g. 5s, 1m30s or 48h)`,
		}))
	})

	It("stops an alias that contains itself", func() {
		_, err := decode("&a\nname: x\nnext: [*a]\n")
		Expect(err).To(MatchError(ContainSubstring("alias *a is used inside its own anchor")))
	})

	It("stops aliases that expand a small file into a huge one", func() {
		text := "x-a: &a {next: [{}, {}, {}, {}, {}, {}, {}, {}, {}, {}]}\n"
		for _, c := range "bcdefgh" {
			prev := string(c - 1)
			text += "x-" + string(c) + ": &" + string(c) + " {next: [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]}\n"
		}
		text += "next: [*h]\n"
		_, err := decode(text)
		Expect(err).To(MatchError(ContainSubstring("the file expands to too many values (use fewer aliases (*name))")))
	})

	It("needs a pointer", func() {
		var n yaml.Node
		Expect(config.DecodeStrict("s.yaml", &n, step{})).To(MatchError(ContainSubstring("need a non-nil pointer")))
	})
})

var _ = Describe("journal.max_bytes", func() {
	It("is validated and read with a unit", func() {
		cfg := config.Default()
		cfg.Journal.MaxBytes = 0
		Expect(cfg.Validate()).To(MatchError(ContainSubstring("journal.max_bytes: must be more than 0, got 0 (write e.g. 64MiB)")))
	})
})
