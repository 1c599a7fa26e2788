package scenario_test

import (
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/scenario"
	"github.com/wxemu/wxemu/emulator/wire"
)

// built expands nothing and builds the wire message of a user step.
func built(st *scenario.Step) wire.Message {
	m, err := st.Message.Build(nil)
	Expect(err).NotTo(HaveOccurred())
	return m
}

var _ = Describe("parsing a scenario", func() {
	It("reads every scenario key", func() {
		s := mustParse(`
name: everything
app: oa
users: [alice, {name: carol, subscribed: false}, {name: dave, openid: o6_bmjrPTlm6_2sgVt7hMZOPfL2M}]
vars: {greeting: hi}
tolerate: [reply.createtime.skew]
checks: [signature, replay]
serial: true
x-anchors: {anything: goes}
steps:
  - alice: hi
`)
		Expect(s).To(HaveLen(1))
		sc := s[0]
		Expect(sc.Name).To(Equal("everything"))
		Expect(sc.File).To(Equal("t.yaml"))
		Expect(sc.Line).To(Equal(2))
		Expect(sc.App).To(Equal("oa"))
		Expect(sc.Users).To(Equal([]scenario.User{{Name: "alice", Subscribed: true}, {Name: "carol"}, {Name: "dave", Subscribed: true, OpenID: "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"}}))
		Expect(sc.Vars).To(Equal(map[string]string{"greeting": "hi"}))
		Expect(sc.Tolerate).To(Equal([]string{"reply.createtime.skew"}))
		Expect(sc.Checks).To(Equal(scenario.Checks{Signature: true, Replay: true}))
		Expect(sc.Serial).To(BeTrue())
		Expect(sc.SerialWhy).To(Equal("serial: true"))
	})

	It("takes the only app of the configuration and the file name when they are left out", func() {
		cfg := config.Default()
		cfg.Apps = cfg.Apps[:1]
		s, err := scenario.Parse(cfg, "dir/greet.yaml", []byte("users: [alice]\nsteps:\n  - alice: hi\n"))
		Expect(err).NotTo(HaveOccurred())
		Expect(s[0].App).To(Equal("oa"))
		Expect(s[0].Name).To(Equal("greet"))
	})

	It("reads every step key", func() {
		sc := mustParse(`
app: oa
users: [alice, bob]
steps:
  - id: first
    name: greeting
    alice: hi
    reply: {text: {contains: hello, regex: '^h', exact: "hello, hi", not_contains: bye}}
    delivered_to: bot
    user_sees: "hello, hi"
    sends: {user: bob, count: 2, at_least: 1, msgtypes: [text, text], contents: [a, {contains: b}], errcodes: [0, 45047], within: 2s}
    bot_receives: {event: kf_create_session, user: alice, kf_account: kf1@wxemu_demo, count: 1, within: 1s}
    violations: [reply.header.swap]
    tolerate: [reply.text.too_long]
    checks: [replay]
  - agent: {account: kf1@wxemu_demo, accept: alice}
    error: {contains: "65415"}
  - agent: {account: kf1@wxemu_demo, switch: alice, to: kf2@wxemu_demo}
  - agent: {account: kf1@wxemu_demo, reply: alice, text: 您好}
  - agent: {account: kf1@wxemu_demo, close: alice}
  - agent: {account: kf3@wxemu_demo, online: true, auto_accept: false, capacity: 2}
  - advance: 48h1s
  - trigger: {user: bob, kind: payment}
  - sends: {user: alice, count: 0}
  - bot_receives: {event: kf_switch_session, user: alice, from_kf_account: kf1@wxemu_demo, to_kf_account: kf2@wxemu_demo}
`)[0]
		Expect(sc.Steps).To(HaveLen(10))
		st := sc.Steps[0]
		Expect(st.ID).To(Equal("first"))
		Expect(st.Name).To(Equal("greeting"))
		Expect(st.Line).To(Equal(5))
		Expect(st.User).To(Equal("alice"))
		Expect(built(st)).To(Equal(wire.Message{MsgType: "text", Content: "hi"}))
		Expect(st.Reply.Outcome).To(Equal("reply"))
		Expect(st.Reply.MsgType).To(Equal("text"))
		Expect(*st.Reply.Text.Contains).To(Equal("hello"))
		Expect(*st.Reply.Text.Regex).To(Equal("^h"))
		Expect(*st.Reply.Text.Exact).To(Equal("hello, hi"))
		Expect(*st.Reply.Text.NotContains).To(Equal("bye"))
		Expect(st.DeliveredTo).To(Equal("bot"))
		Expect(*st.UserSees.Exact).To(Equal("hello, hi"))
		Expect(st.Sends.User).To(Equal("bob"))
		Expect(*st.Sends.Count).To(Equal(2))
		Expect(*st.Sends.AtLeast).To(Equal(1))
		Expect(st.Sends.MsgTypes).To(Equal([]string{"text", "text"}))
		Expect(st.Sends.Contents).To(HaveLen(2))
		Expect(*st.Sends.Contents[1].Contains).To(Equal("b"))
		Expect(st.Sends.Errcodes).To(Equal([]int{0, 45047}))
		Expect(st.Sends.Within).To(Equal(2 * time.Second))
		Expect(st.BotReceives.Event).To(Equal("kf_create_session"))
		Expect(st.BotReceives.MsgType).To(Equal("event"))
		Expect(st.BotReceives.KfAccount).To(Equal("kf1@wxemu_demo"))
		Expect(*st.BotReceives.Count).To(Equal(1))
		Expect(st.BotReceives.Within).To(Equal(time.Second))
		Expect(st.Violations).To(Equal([]scenario.ViolationExpect{{Rule: "reply.header.swap"}}))
		Expect(st.Tolerate).To(Equal([]string{"reply.text.too_long"}))
		Expect(*st.Checks).To(Equal(scenario.Checks{Replay: true}))

		Expect(*sc.Steps[1].Agent).To(Equal(scenario.AgentAction{Account: "kf1@wxemu_demo", Do: "accept", User: "alice"}))
		Expect(*sc.Steps[1].Error.Contains).To(Equal("65415"))
		Expect(*sc.Steps[2].Agent).To(Equal(scenario.AgentAction{Account: "kf1@wxemu_demo", Do: "switch", User: "alice", To: "kf2@wxemu_demo"}))
		Expect(*sc.Steps[3].Agent).To(Equal(scenario.AgentAction{Account: "kf1@wxemu_demo", Do: "reply", User: "alice", Text: "您好"}))
		Expect(sc.Steps[4].Agent.Do).To(Equal("close"))
		a := sc.Steps[5].Agent
		Expect(a.Do).To(Equal("status"))
		Expect(*a.Online).To(BeTrue())
		Expect(*a.AutoAccept).To(BeFalse())
		Expect(*a.Capacity).To(Equal(2))
		Expect(sc.Steps[6].Advance).To(Equal(48*time.Hour + time.Second))
		Expect(*sc.Steps[7].Trigger).To(Equal(scenario.TriggerAction{User: "bob", Kind: "payment"}))
		Expect(sc.Steps[8].HasAction()).To(BeFalse())
		Expect(*sc.Steps[8].Sends.Count).To(Equal(0))
		Expect(sc.Steps[9].BotReceives.FromKfAccount).To(Equal("kf1@wxemu_demo"))
		Expect(sc.Steps[9].BotReceives.ToKfAccount).To(Equal("kf2@wxemu_demo"))
	})

	It("defaults whose sends and pushes a step checks to its user, its agent's user, or the only user", func() {
		sc := mustParse(`
app: oa
users: [alice, bob]
steps:
  - bob: hi
    sends: 1
    bot_receives: kf_create_session
  - agent: {account: kf1@wxemu_demo, accept: alice}
    sends: 0
    bot_receives: kf_create_session
  - trigger: {user: bob, kind: click}
    sends: 0
`)[0]
		Expect(sc.Steps[0].Sends.User).To(Equal("bob"))
		Expect(sc.Steps[0].BotReceives.User).To(Equal("bob"))
		Expect(sc.Steps[1].Sends.User).To(Equal("alice"))
		Expect(sc.Steps[1].BotReceives.User).To(Equal("alice"))
		Expect(sc.Steps[2].Sends.User).To(Equal("bob"))
		one := mustParse("app: oa\nusers: [carol]\nsteps:\n  - trigger: payment\n  - sends: {at_least: 1}\n")[0]
		Expect(one.Steps[0].Trigger.User).To(Equal("carol"))
		Expect(one.Steps[1].Sends.User).To(Equal("carol"))
	})

	DescribeTable("reads what a user sends",
		func(app, msg string, want wire.Message) {
			sc := mustParse("app: " + app + "\nusers: [alice]\nsteps:\n  - alice: " + msg + "\n")[0]
			Expect(built(sc.Steps[0])).To(Equal(want))
		},
		Entry("a text", "oa", "hi", wire.Message{MsgType: "text", Content: "hi"}),
		Entry("a text, written out", "oa", "{text: hi}", wire.Message{MsgType: "text", Content: "hi"}),
		Entry("a msgmenu tap", "oa", `{text: 满意, msgmenu_id: "101"}`, wire.Message{MsgType: "text", Content: "满意", BizMsgMenuID: "101"}),
		Entry("a fixed MsgId", "oa", `{text: hi, msg_id: "42"}`, wire.Message{MsgType: "text", Content: "hi", MsgId: 42}),
		Entry("an image with demo fields", "oa", "{image: {}}", wire.Message{MsgType: "image", PicUrl: "http://mmbiz.qpic.cn/mmbiz_jpg/wxemu-demo/0", MediaId: "wxemu_demo_image_media_id"}),
		Entry("an image with its fields", "oa", "{image: {media_id: M, pic_url: P}}", wire.Message{MsgType: "image", PicUrl: "P", MediaId: "M"}),
		Entry("fields beside the type key", "oa", "{image: {}, media_id: M}", wire.Message{MsgType: "image", PicUrl: "http://mmbiz.qpic.cn/mmbiz_jpg/wxemu-demo/0", MediaId: "M"}),
		Entry("a voice", "oa", "{voice: {format: speex, recognition: 你好}}", wire.Message{MsgType: "voice", MediaId: "wxemu_demo_voice_media_id", Format: "speex", Recognition: "你好"}),
		Entry("a location, numbers as written", "oa", "{location: {lat: 23.1, lng: 113.30, scale: 20, label: 塔}}",
			wire.Message{MsgType: "location", LocationX: "23.1", LocationY: "113.30", Scale: "20", Label: "塔"}),
		Entry("a link", "oa", "{link: {title: T, description: D, url: U}}", wire.Message{MsgType: "link", Title: "T", Description: "D", Url: "U"}),
		Entry("a click", "oa", "{event: CLICK, key: V1001}", wire.Message{MsgType: "event", Event: "CLICK", EventKey: "V1001"}),
		Entry("a LOCATION report, lat and lng as Latitude and Longitude", "oa", "{event: LOCATION, lat: 1.5, lng: 2.5, precision: 10}",
			wire.Message{MsgType: "event", Event: "LOCATION", Latitude: "1.5", Longitude: "2.5", Precision: "10"}),
		Entry("a scancode event", "oa", "{event: scancode_push, key: K, scan_type: barcode, scan_result: R}",
			wire.Message{MsgType: "event", Event: "scancode_push", EventKey: "K", ScanCodeInfo: &wire.ScanCodeInfo{ScanType: "barcode", ScanResult: "R"}}),
		Entry("a pic event with a list", "oa", "{event: pic_weixin, key: K, pics: [a, b]}",
			wire.Message{MsgType: "event", Event: "pic_weixin", EventKey: "K", SendPicsInfo: &wire.SendPicsInfo{Count: 2, PicList: []string{"a", "b"}}}),
		Entry("a location_select, lat and lng inside SendLocationInfo", "oa", "{event: location_select, key: K, lat: 1, lng: 2, scale: 3, label: L, poiname: P}",
			wire.Message{MsgType: "event", Event: "location_select", EventKey: "K", SendLocationInfo: &wire.SendLocationInfo{LocationX: "1", LocationY: "2", Scale: "3", Label: "L", Poiname: "P"}}),
		Entry("a subscribe from a QR code", "oa", "{event: subscribe, key: qrscene_1, ticket: T}", wire.Message{MsgType: "event", Event: "subscribe", EventKey: "qrscene_1", Ticket: "T"}),
		Entry("a SCAN with demo fields", "oa", "{event: SCAN}", wire.Message{MsgType: "event", Event: "SCAN", EventKey: "wxemu_scene", Ticket: "gQwxemu_demo_ticket"}),
		Entry("the wire form", "oa", "{MsgType: event, Event: VIEW, EventKey: U, MenuId: '7'}", wire.Message{MsgType: "event", Event: "VIEW", EventKey: "U", MenuId: "7"}),
		Entry("wire names beside short keys", "oa", "{text: hi, MsgDataId: '9', idx: '1'}", wire.Message{MsgType: "text", Content: "hi", MsgDataId: "9", Idx: "1"}),
		Entry("a Mini Program's entry", "mp", "{event: user_enter_tempsession, session_from: S}", wire.Message{MsgType: "event", Event: "user_enter_tempsession", SessionFrom: "S"}),
		Entry("a Mini Program page", "mp", "{miniprogrampage: {title: T, appid: A, pagepath: P}}",
			wire.Message{MsgType: "miniprogrampage", Title: "T", AppId: "A", PagePath: "P"}),
	)

	DescribeTable("reads what the reply must be",
		func(reply string, want scenario.ReplyExpect) {
			got := *mustParse("app: oa\nusers: [alice]\nsteps:\n  - alice: hi\n    reply: " + reply + "\n")[0].Steps[0].Reply
			Expect(got.Outcome).To(Equal(want.Outcome))
			Expect(got.MsgType).To(Equal(want.MsgType))
			Expect(got.KfAccount).To(Equal(want.KfAccount))
			Expect(got.Articles).To(Equal(want.Articles))
		},
		Entry("none", "none", scenario.ReplyExpect{Outcome: "none"}),
		Entry("any reply", "reply", scenario.ReplyExpect{Outcome: "reply"}),
		Entry("a transfer", "transfer", scenario.ReplyExpect{Outcome: "transfer"}),
		Entry("a failure", "failed", scenario.ReplyExpect{Outcome: "failed"}),
		Entry("a reply type", "news", scenario.ReplyExpect{Outcome: "reply", MsgType: "news"}),
		Entry("a transfer to an account", "{transfer: kf1@wxemu_demo}", scenario.ReplyExpect{Outcome: "transfer", KfAccount: ptr("kf1@wxemu_demo")}),
		Entry("a transfer to the queue", `{transfer: ""}`, scenario.ReplyExpect{Outcome: "transfer", KfAccount: ptr("")}),
		Entry("a text", "{text: hi}", scenario.ReplyExpect{Outcome: "reply", MsgType: "text"}),
		Entry("articles", "{articles: 2}", scenario.ReplyExpect{Outcome: "reply", MsgType: "news", Articles: ptr(2)}),
		Entry("an outcome", "{outcome: failed}", scenario.ReplyExpect{Outcome: "failed"}),
	)

	It("reads several scenarios from one file, one per YAML document", func() {
		s := mustParse("app: oa\nusers: [alice]\nsteps:\n  - alice: one\n---\napp: mp\nusers: [bob]\nsteps:\n  - bob: two\n")
		Expect(s).To(HaveLen(2))
		Expect(s[0].Name).To(Equal("t #1"))
		Expect(s[1].Name).To(Equal("t #2"))
		Expect(s[1].Line).To(Equal(6))
		Expect(s[1].Doc).To(Equal(2))
	})

	It("expands anchors, aliases and merge keys, and reports a repeated step where it is repeated", func() {
		sc := mustParse(`
app: oa
users: [alice]
x-hi: &hi {text: hi}
steps:
  - &step
    alice: *hi
    reply: {text: "hello, hi"}
  - *step
  - <<: *step
    reply: none
`)[0]
		Expect(sc.Steps).To(HaveLen(3))
		Expect(sc.Steps[1].Line).To(Equal(9))
		Expect(built(sc.Steps[1]).Content).To(Equal("hi"))
		Expect(sc.Steps[2].Reply.Outcome).To(Equal("none"))
	})

	It("runs alone a scenario that moves the clock or changes an agent's status", func() {
		s := mustParse(`
app: oa
users: [alice]
steps:
  - alice: hi
---
app: oa
users: [alice]
steps:
  - advance: 1m
---
app: oa
steps:
  - agent: {account: kf3@wxemu_demo, online: true}
---
app: oa
users: [alice]
steps:
  - agent: {account: kf1@wxemu_demo, accept: alice}
`)
		Expect(s[0].Serial).To(BeFalse())
		Expect(s[1].Serial).To(BeTrue())
		Expect(s[1].SerialWhy).To(Equal("it moves the clock (line 10)"))
		Expect(s[2].Serial).To(BeTrue())
		Expect(s[2].SerialWhy).To(Equal("it changes an agent's status (line 14)"))
		Expect(s[3].Serial).To(BeFalse())
	})

	It("accepts templates that name a variable, a user, the app, the environment or an earlier step", func() {
		_, err := parse(`
app: oa
users: [alice]
vars: {v: x}
steps:
  - id: s1
    alice: "${v} ${alice} ${alice.openid} ${app.appid} ${env.HOME} $${literal}"
  - alice: "${s1.result.user_sees}"
    reply: {text: "${s1.sends.#}"}
`)
		Expect(err).NotTo(HaveOccurred())
	})

	DescribeTable("reports an invalid file with its line, the key and what was meant",
		expectProblems,
		Entry("a misspelled step key", "app: oa\nusers: [alice]\nsteps:\n  - alice: hi\n    rely: none\n",
			`t.yaml:5:5: steps[0]: unknown key "rely" (did you mean "reply"?)`),
		Entry("a misspelled user", "app: oa\nusers: [alice]\nsteps:\n  - alcie: hi\n",
			`t.yaml:4:5: steps[0]: unknown key "alcie" (did you mean "alice"?)`),
		Entry("an undeclared user", "app: oa\nusers: [alice]\nsteps:\n  - zed: hi\n",
			`t.yaml:4:5: steps[0]: unknown key "zed" (a step's keys are a user's name (the users are alice; declare users in users:) and id, name, agent, advance, trigger, tokens, faults, reply, delivered_to, user_sees, sends, bot_receives, violations, tolerate, checks, error)`),
		Entry("a misspelled scenario key", "app: oa\nuser: [alice]\nsteps:\n  - advance: 1m\n",
			`t.yaml:2:1: unknown key "user" (did you mean "users"?)`),
		Entry("an unknown app", "app: oaa\nsteps:\n  - advance: 1m\n",
			`t.yaml:1:6: app: unknown app "oaa" (did you mean "oa"? the apps are oa, mp, wx0e1d2c3b4a596877, wx7a6b5c4d3e2f1a09)`),
		Entry("no app with several in the configuration", "steps:\n  - advance: 1m\n",
			`t.yaml:1:1: app is missing (the apps are oa, mp, wx0e1d2c3b4a596877, wx7a6b5c4d3e2f1a09)`),
		Entry("no steps", "app: oa\n", `t.yaml:1:1: steps is missing (add steps: a list of what happens, e.g. - alice: hi)`),
		Entry("an unknown rule", "app: oa\ntolerate: [reply.header.swp]\nsteps:\n  - advance: 1m\n",
			`t.yaml:2:12: tolerate[0]: unknown rule "reply.header.swp" (did you mean "reply.header.swap"?)`),
		Entry("an unknown check", "app: oa\nchecks: [signatures]\nsteps:\n  - advance: 1m\n",
			`t.yaml:2:10: checks[0]: unknown value "signatures" (did you mean "signature"? allowed values: signature, replay)`),
		Entry("a reserved user name", "app: oa\nusers: [reply]\nsteps:\n  - advance: 1m\n",
			`t.yaml:2:9: users[0]: "reply" cannot name a user: it is a step key or reserved word (choose another name, e.g. reply1)`),
		Entry("a user listed twice", "app: oa\nusers: [a, a]\nsteps:\n  - advance: 1m\n",
			`t.yaml:2:12: users[1]: user "a" is listed twice (keep one)`),
		Entry("a bad openid", "app: oa\nusers: [{name: a, openid: x}]\nsteps:\n  - advance: 1m\n",
			`t.yaml:2:27: users[0].openid: "x" is not an openid (an openid is 28 characters of letters, digits, _ or -, starting with o)`),
		Entry("an event in the wrong case", "app: oa\nusers: [a]\nsteps:\n  - a: {event: click}\n",
			`t.yaml:4:9: steps[0].a: unknown event "click" (did you mean "CLICK"? Event names are case-sensitive)`),
		Entry("an unknown message type", "app: oa\nusers: [a]\nsteps:\n  - a: {MsgType: imgae}\n",
			`t.yaml:4:9: steps[0].a: unknown message type "imgae" (did you mean "image"?)`),
		Entry("a field of another type", "app: oa\nusers: [a]\nsteps:\n  - a: {location: {lat: 1, lgn: 2}}\n",
			`t.yaml:4:33: steps[0].a.location: "lgn" is not a field of location (did you mean "lng"?)`),
		Entry("a message the app's kind does not receive", "app: mp\nusers: [a]\nsteps:\n  - a: {event: CLICK}\n",
			`t.yaml:4:8: steps[0].a: a Mini Program does not receive event/CLICK pushes (only Official Accounts do)`),
		Entry("a field that is not a number", "app: oa\nusers: [a]\nsteps:\n  - a: {location: {lat: north}}\n",
			`t.yaml:4:8: steps[0].a: Location_X: Location_X "north" is not a decimal number (set it with lat: …)`),
		Entry("two message types", "app: oa\nusers: [a]\nsteps:\n  - a: {text: hi, image: {}}\n",
			`t.yaml:4:19: steps[0].a: a second message type "image" (the first is "text" at line 4) (a step sends one message; split it into two steps)`),
		Entry("no message type", "app: oa\nusers: [a]\nsteps:\n  - a: {key: V}\n",
			`t.yaml:4:8: steps[0].a: the message has no type (give one key of text, image, voice, video, shortvideo, location, link, miniprogrampage, event (or MsgType: as on the wire))`),
		Entry("two actions", "app: oa\nusers: [a]\nsteps:\n  - a: hi\n    advance: 1m\n",
			`t.yaml:5:5: steps[0]: a step does one thing, this one has a and advance (split it into one step per action)`),
		Entry("a step that does nothing", "app: oa\nsteps:\n  - name: nothing\n",
			`t.yaml:3:5: steps[0]: the step does nothing and checks nothing (give a user's action (alice: hi), agent:, advance:, trigger:, tokens:, faults:, or a check (sends:, bot_receives:))`),
		Entry("a reply without a message", "app: oa\nsteps:\n  - advance: 1m\n    reply: none\n",
			`t.yaml:4:12: steps[0].reply: reply checks what came of a user's message, and this step has none (put it in the step where the user sends)`),
		Entry("a misspelled reply", "app: oa\nusers: [a]\nsteps:\n  - a: hi\n    reply: tranfser\n",
			`t.yaml:5:12: steps[0].reply: unknown reply "tranfser" (did you mean "transfer"? For a text reply write {text: "tranfser"})`),
		Entry("a misspelled text match", "app: oa\nusers: [a]\nsteps:\n  - a: hi\n    reply: {text: {contanis: x}}\n",
			`t.yaml:5:20: steps[0].reply.text: unknown key "contanis" (did you mean "contains"?)`),
		Entry("a regex that does not compile", "app: oa\nusers: [a]\nsteps:\n  - a: hi\n    reply: {text: {regex: '('}}\n",
			"t.yaml:5:27: steps[0].reply.text.regex: the regex \"(\" does not compile: missing closing ): `(` (the syntax is Go's (RE2); quote the regex in single quotes so YAML keeps backslashes)"),
		Entry("a misspelled sends key", "app: oa\nusers: [a]\nsteps:\n  - a: hi\n    sends: {count: 1, errcode: [0]}\n",
			`t.yaml:5:23: steps[0].sends: unknown key "errcode" (did you mean "errcodes"?)`),
		Entry("a sends list longer than its count", "app: oa\nusers: [a]\nsteps:\n  - a: hi\n    sends: {count: 1, errcodes: [0, 0]}\n",
			`t.yaml:5:33: steps[0].sends.errcodes: errcodes lists 2 sends but count is 1 (the lists describe every send, in order)`),
		Entry("a text match in sends contents", "app: oa\nusers: [a]\nsteps:\n  - a: hi\n    sends: {contents: [{contain: x}]}\n",
			`t.yaml:5:25: steps[0].sends.contents[0]: unknown key "contain" (did you mean "contains"?)`),
		Entry("sends of an unknown user", "app: oa\nusers: [alice]\nsteps:\n  - alice: hi\n    sends: {user: alcie}\n",
			`t.yaml:5:19: steps[0].sends.user: unknown user "alcie" (did you mean "alice"?)`),
		Entry("whose sends, with several users", "app: oa\nusers: [a, b]\nsteps:\n  - sends: 1\n",
			`t.yaml:4:12: steps[0].sends: whose sends? the step has no user (add user: NAME)`),
		Entry("a misspelled agent key", "app: oa\nusers: [a]\nsteps:\n  - agent: {account: kf1@wxemu_demo, acept: a}\n",
			`t.yaml:4:38: steps[0].agent: unknown key "acept" (did you mean "accept"?)`),
		Entry("an agent acting on an unknown user", "app: oa\nusers: [alice]\nsteps:\n  - agent: {account: kf1@wxemu_demo, accept: alcie}\n",
			`t.yaml:4:46: steps[0].agent.accept: unknown user "alcie" (did you mean "alice"?)`),
		Entry("an agent without an account", "app: oa\nusers: [a]\nsteps:\n  - agent: {accept: a}\n",
			`t.yaml:4:12: steps[0].agent: account is missing (name the kf account, e.g. account: kf1@wxemu_demo)`),
		Entry("an agent doing nothing", "app: oa\nsteps:\n  - agent: {account: kf1@wxemu_demo}\n",
			`t.yaml:3:12: steps[0].agent: what does the agent do? (give one of accept: USER, close: USER, switch: USER (with to:), reply: USER (with text:), or online:, auto_accept:, capacity:)`),
		Entry("a switch without to", "app: oa\nusers: [a]\nsteps:\n  - agent: {account: kf1@wxemu_demo, switch: a}\n",
			`t.yaml:4:12: steps[0].agent: switch needs to: (name the account that takes over, e.g. to: kf2@wxemu_demo)`),
		Entry("a bare number for a duration", "app: oa\nsteps:\n  - advance: 48\n",
			`t.yaml:3:14: steps[0].advance: expected a duration, got the bare number 48 (write 48s; a duration needs a unit: ns, us, ms, s, m or h)`),
		Entry("a misspelled trigger", "app: oa\nusers: [a]\nsteps:\n  - trigger: paymnt\n",
			`t.yaml:4:14: steps[0].trigger: unknown value "paymnt" (did you mean "payment"? allowed values: message, click, subscribe, scan, payment, tempsession)`),
		Entry("a misspelled event to receive", "app: oa\nusers: [a]\nsteps:\n  - bot_receives: kf_create_sesion\n",
			`t.yaml:4:19: steps[0].bot_receives: unknown value "kf_create_sesion" (did you mean "kf_create_session"? allowed values: subscribe, unsubscribe, SCAN, LOCATION, CLICK, VIEW, scancode_push, scancode_waitmsg, pic_sysphoto, pic_photo_or_album, pic_weixin, location_select, view_miniprogram, kf_create_session, kf_close_session, kf_switch_session, user_enter_tempsession)`),
		Entry("an error expectation without an agent", "app: oa\nusers: [a]\nsteps:\n  - a: hi\n    error: x\n",
			`t.yaml:5:12: steps[0].error: error expects an agent's or a trigger's action to fail, and this step has none`),
		Entry("a template naming nothing", "app: oa\nusers: [alice]\nsteps:\n  - alice: \"${gret.result}\"\n",
			`t.yaml:4:12: steps[0].alice: ${gret.result}: nothing is called "gret" (a template names a variable, a user, app, or the id of an earlier step; known here: alice, app, env)`),
		Entry("a template naming a later step", "app: oa\nusers: [alice]\nsteps:\n  - alice: \"${greet.x}\"\n  - id: greet\n    alice: hi\n",
			`t.yaml:4:12: steps[0].alice: ${greet.x}: nothing is called "greet" (a template names a variable, a user, app, or the id of an earlier step; known here: alice, app, env)`),
		Entry("a template naming its own step", "app: oa\nusers: [alice]\nsteps:\n  - id: me\n    alice: \"${me.x}\"\n",
			`t.yaml:5:12: steps[0].alice: ${me.x} refers to the step's own result (a step can refer to the results of the steps before it)`),
		Entry("a misspelled template", "app: oa\nusers: [alice]\nvars: {greeting: hi}\nsteps:\n  - alice: \"${greting}\"\n",
			`t.yaml:5:12: steps[0].alice: ${greting}: nothing is called "greting" (did you mean "greeting"?)`),
		Entry("an unclosed template", "app: oa\nusers: [alice]\nsteps:\n  - alice: \"${x\"\n",
			`t.yaml:4:12: steps[0].alice: a ${ without its closing } in "${x" (write ${name}, ${step_id.path}, or $${ for a literal ${)`),
		Entry("a field of a variable", "app: oa\nusers: [alice]\nvars: {v: x}\nsteps:\n  - alice: \"${v.x}\"\n",
			`t.yaml:5:12: steps[0].alice: ${v.x}: variable v has no fields (write ${v})`),
		Entry("a step id taken by a variable", "app: oa\nusers: [alice]\nvars: {v: x}\nsteps:\n  - id: v\n    alice: hi\n",
			`t.yaml:5:9: steps[0].id: "v" is already the name of a variable (give the step another id)`),
		Entry("a YAML syntax error", "app: oa\nusers: [alice]\nsteps:\n  - alice: {text: anyone there?}\n",
			`t.yaml:4: YAML syntax: did not find expected ',' or '}' (quote a text that holds ? : , # { } [ ] inside {…} or […], e.g. {text: "anyone there?"})`),
		Entry("tabs", "app: oa\nsteps:\n\t- advance: 1m\n",
			`t.yaml:3: YAML syntax: found character that cannot start any token (indent with spaces; YAML does not allow tabs)`),
		Entry("a duplicate key", "app: oa\nusers: [a]\nsteps:\n  - a: hi\n    a: ho\n",
			`t.yaml:5:5: steps[0]: duplicate key "a" (it is already set at line 4; keep one)`),
		Entry("an empty file", "", `t.yaml: no scenario in the file (write name:, app:, users: and steps:; see the scenarios in fixtures/scenarios)`),
		Entry("several problems, in file order", "app: oa\nusers: [alice]\nsteps:\n  - alcie: hi\n  - advance: 5\n",
			`t.yaml:4:5: steps[0]: unknown key "alcie" (did you mean "alice"?)`,
			`t.yaml:5:14: steps[1].advance: expected a duration, got the bare number 5 (write 5s; a duration needs a unit: ns, us, ms, s, m or h)`),
	)

	Describe("files and folders", func() {
		var dir string
		BeforeEach(func() {
			dir = GinkgoT().TempDir()
			write := func(name, text string) {
				p := filepath.Join(dir, name)
				Expect(os.MkdirAll(filepath.Dir(p), 0o755)).To(Succeed())
				Expect(os.WriteFile(p, []byte(text), 0o644)).To(Succeed())
			}
			ok := "app: oa\nusers: [alice]\nsteps:\n  - alice: hi\n"
			write("b.yaml", ok)
			write("a/c.yml", ok)
			write("a/wxemu.yaml", "apps: []\n")
			write(".hidden/d.yaml", "nonsense: [")
			write("notes.txt", "nonsense")
		})

		It("finds *.yaml and *.yml files recursively, without folder configs and hidden folders", func() {
			files, err := scenario.Discover(dir)
			Expect(err).NotTo(HaveOccurred())
			Expect(files).To(Equal([]string{filepath.Join(dir, "a", "c.yml"), filepath.Join(dir, "b.yaml")}))
			s, err := scenario.LoadAll(nil, dir)
			Expect(err).NotTo(HaveOccurred())
			Expect(s).To(HaveLen(2))
		})

		It("reports every invalid file at once", func() {
			Expect(os.WriteFile(filepath.Join(dir, "x.yaml"), []byte("app: oa\nsteps:\n  - advance: 1\n"), 0o644)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(dir, "y.yaml"), []byte("app: oa\nstep: []\n"), 0o644)).To(Succeed())
			_, err := scenario.LoadAll(nil, dir)
			Expect(scenario.Problems(err)).To(HaveLen(3))
			Expect(err.Error()).To(ContainSubstring(filepath.Join(dir, "x.yaml") + ":3:14: steps[0].advance"))
			Expect(err.Error()).To(ContainSubstring(filepath.Join(dir, "y.yaml") + `:2:1: unknown key "step" (did you mean "steps"?)`))
		})

		It("says when a path does not exist", func() {
			_, err := scenario.LoadAll(nil, filepath.Join(dir, "nope"))
			Expect(err).To(MatchError(os.ErrNotExist))
		})
	})
})

func ptr[T any](v T) *T { return &v }
