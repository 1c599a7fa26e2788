package scenario_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/scenario"
)

var openID = regexp.MustCompile(`^o[A-Za-z0-9_-]{27}$`)

const handOver = `
name: hand-over to a human agent
app: oa
users: [alice]
steps:
  - alice: {text: hi}
    reply: {text: {contains: hello}}
  - alice: {text: 人工 kf1@wxemu_demo}
    reply: {transfer: kf1@wxemu_demo}
  - agent: {account: kf1@wxemu_demo, accept: alice}
  - bot_receives: {event: kf_create_session}
  - alice: {text: "anyone there?"}
    delivered_to: agent
  - advance: 30m1s
  - alice: {text: push 6}
    delivered_to: bot
    sends: {count: 6, errcodes: [0, 0, 0, 0, 0, 45047]}
`

// failure matches a Failure by check, expected and actual.
func failure(check, expected, actual string) OmegaMatcher {
	return And(HaveField("Check", check), HaveField("Expected", expected), HaveField("Actual", actual))
}

var _ = Describe("running scenarios", func() {
	var e *env
	BeforeEach(func() { e = start(nil, nil) })

	It("plays a hand-over to a human agent with fresh users", func() {
		r := e.one(handOver)
		Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
		Expect(r.Steps).To(HaveLen(7))
		Expect(r.Users).To(HaveKeyWithValue("alice", MatchRegexp(openID.String())))
		Expect(r.Users["alice"]).NotTo(Equal(config.DemoAliceOA))
		Expect(r.App).To(Equal(config.DemoOAAppID))
		Expect(r.Serial).To(Equal("it moves the clock (line 14)"))
		Expect(r.Steps[3].Summary).To(Equal("received event kf_create_session (kf1@wxemu_demo)"))
		Expect(r.Steps[6].Summary).To(Equal("none (success); 6 sends (errcodes 0 0 0 0 0 45047)"))
		Expect(r.Transcripts).To(BeEmpty(), "transcripts are kept for failures only")
	})

	It("says when WeChat pushes a message nowhere", func() {
		cfg := config.Default()
		cfg.API.TempsessionEveryEntry = false
		e = start(cfg, nil)
		r := e.one(`
app: mp
users: [alice]
steps:
  - alice: {event: user_enter_tempsession}
    delivered_to: bot
  - alice: {event: user_enter_tempsession}
    delivered_to: none
  - alice: {event: user_enter_tempsession}
    reply: none
`)
		Expect(r.Status).To(Equal(scenario.Failed))
		Expect(r.Steps[1].Summary).To(Equal("WeChat pushed it nowhere"))
		Expect(failures(r)).To(ConsistOf(failure("reply", "none", "no push: WeChat pushed it nowhere")))
	})

	It("plays a Mini Program in JSON", func() {
		r := e.one(`
app: mp
users: [alice]
checks: [signature, replay]
steps:
  - alice: {event: user_enter_tempsession}
    reply: none
  - alice: 人工
    reply: transfer
    bot_receives: {event: kf_create_session, kf_account: kf1@wxemu_mp}
  - alice: hello
    delivered_to: kf1@wxemu_mp
`)
		Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
	})

	DescribeTable("judges each expectation",
		func(steps string, fails bool, match ...OmegaMatcher) {
			r := e.one("app: oa\nusers: [alice]\nsteps:\n" + steps)
			if !fails {
				Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
				return
			}
			Expect(r.Status).To(Equal(scenario.Failed), describeResult(r))
			for _, m := range match {
				Expect(failures(r)).To(ContainElement(m), describeResult(r))
			}
		},
		Entry("reply none", "  - alice: silent\n    reply: none\n", false),
		Entry("reply none, failing", "  - alice: hi\n    reply: none\n", true,
			failure("reply", "none", `reply text "hello, hi"`)),
		Entry("any reply", "  - alice: hi\n    reply: reply\n", false),
		Entry("an exact text", "  - alice: hi\n    reply: {text: \"hello, hi\"}\n", false),
		Entry("an exact text, failing", "  - alice: hi\n    reply: {text: hello}\n", true,
			failure("reply.text", `"hello"`, `"hello, hi"`)),
		Entry("contains, failing", "  - alice: hi\n    reply: {text: {contains: bye}}\n", true,
			failure("reply.text", `containing "bye"`, `"hello, hi"`)),
		Entry("a regex, failing", "  - alice: hi\n    reply: {text: {regex: '^bye'}}\n", true,
			failure("reply.text", "matching /^bye/", `"hello, hi"`)),
		Entry("not_contains, failing", "  - alice: hi\n    reply: {text: {not_contains: hello}}\n", true,
			failure("reply.text", `not containing "hello"`, `"hello, hi"`)),
		Entry("a transfer", "  - alice: 人工\n    reply: transfer\n", false),
		Entry("a transfer to an account", "  - alice: 人工 kf1@wxemu_demo\n    reply: {transfer: kf1@wxemu_demo}\n", false),
		Entry("a transfer to an account, failing", "  - alice: 人工\n    reply: {transfer: kf1@wxemu_demo}\n", true,
			failure("reply.transfer", "kf1@wxemu_demo", "no kf account (the waiting queue)")),
		Entry("a transfer, failing", "  - alice: hi\n    reply: transfer\n", true,
			failure("reply", "transfer", `reply text "hello, hi"`)),
		Entry("a reply type, failing", "  - alice: hi\n    reply: news\n", true,
			failure("reply.msgtype", "news", `reply text "hello, hi"`)),
		Entry("articles, failing", "  - alice: news\n    reply: {articles: 2}\n", true,
			failure("reply.articles", "2 article(s)", "1 article(s)")),
		Entry("a media id, failing", "  - alice: image\n    reply: {media_id: OTHER}\n", true,
			failure("reply.media_id", `"OTHER"`, `"MEDIA_IMAGE"`)),
		Entry("failed, failing", "  - alice: hi\n    reply: failed\n", true,
			failure("reply", "failed", `reply text "hello, hi"`)),
		Entry("what the user sees, failing", "  - alice: hi\n    user_sees: {contains: bye}\n", true,
			failure("user_sees", `containing "bye"`, `"hello, hi"`)),
		Entry("delivered to the bot", "  - alice: hi\n    delivered_to: bot\n", false),
		Entry("delivered to an agent, failing", "  - alice: hi\n    delivered_to: agent\n", true,
			failure("delivered_to", "agent", "bot")),
		Entry("delivered to a named agent, failing", "  - alice: 人工\n  - alice: hi\n    delivered_to: kf1@wxemu_demo\n", true,
			failure("delivered_to", "agent kf1@wxemu_demo", "agent kf2@wxemu_demo")),
		Entry("a reply to a message an agent got, failing", "  - alice: 人工\n  - alice: hi\n    reply: none\n", true,
			failure("reply", "none", "no push: delivered to agent kf2@wxemu_demo")),
		Entry("a count of sends", "  - alice: push 2\n    sends: 2\n", false),
		Entry("a count of sends, failing", "  - alice: push 2\n    sends: {count: 3}\n", true,
			failure("sends.count", "3 sends", "2 sends")),
		Entry("at least, failing", "  - alice: push 1\n    sends: {at_least: 2}\n", true,
			failure("sends.at_least", "at least 2 sends", "1 send")),
		Entry("msgtypes, failing", "  - alice: push 2\n    sends: {msgtypes: [text, image]}\n", true,
			failure("sends.msgtypes", "[text, image]", "[text, text]")),
		Entry("contents", "  - alice: push 2\n    sends: {contents: [\"message 1 of 2\", {regex: '2 of 2$'}]}\n", false),
		Entry("contents, failing", "  - alice: push 2\n    sends: {contents: [\"message 1 of 2\", nope]}\n", true,
			failure("sends.contents[1]", `"nope"`, `"message 2 of 2"`)),
		Entry("contents, one send too many", "  - alice: push 2\n    sends: {contents: [\"message 1 of 2\"]}\n", true,
			failure("sends.contents", "1 send", "2 sends")),
		Entry("errcodes, failing", "  - alice: push 6\n    sends: {errcodes: [0, 0, 0, 0, 0, 0]}\n", true,
			failure("sends.errcodes", "[0, 0, 0, 0, 0, 0]", "[0, 0, 0, 0, 0, 45047]")),
		Entry("sends of a step without an action", "  - alice: push 1\n  - sends: 1\n", false),
		Entry("a push the bot received", "  - alice: 人工\n  - bot_receives: kf_create_session\n", false),
		Entry("a push the bot received, failing", "  - alice: hi\n  - bot_receives: kf_create_session\n", true,
			failure("bot_receives", "event kf_create_session pushed for alice", `text "hi"`)),
		Entry("a push the bot must not receive, failing", "  - alice: 人工\n    bot_receives: {event: kf_create_session, count: 0}\n", true,
			failure("bot_receives", "event kf_create_session pushed 0 times for alice", `text "人工", event kf_create_session (kf2@wxemu_demo)`)),
		Entry("a push from the right account, failing", "  - alice: 人工\n    bot_receives: {event: kf_create_session, kf_account: kf1@wxemu_demo}\n", true,
			failure("bot_receives", "event kf_create_session (KfAccount kf1@wxemu_demo) pushed for alice", `text "人工", event kf_create_session (kf2@wxemu_demo)`)),
		Entry("a push found once is not found again", "  - alice: 人工\n  - bot_receives: kf_create_session\n  - bot_receives: kf_create_session\n", true,
			failure("bot_receives", "event kf_create_session pushed for alice", "nothing pushed")),
		Entry("a violation that must occur, failing", "  - alice: hi\n    violations: [reply.header.swap]\n", true,
			failure("violations", "reply.header.swap violated", "no violation")),
		Entry("an agent's action that fails", "  - agent: {account: kf1@wxemu_demo, accept: alice}\n", true,
			And(HaveField("Check", "error"), HaveField("Expected", "the action succeeds"), HaveField("Actual", ContainSubstring("not waiting")))),
		Entry("an agent's action that must fail", "  - agent: {account: kf1@wxemu_demo, accept: alice}\n    error: {contains: not waiting}\n", false),
		Entry("an agent's action that must fail, failing", "  - alice: 人工 kf1@wxemu_demo\n  - agent: {account: kf1@wxemu_demo, accept: alice}\n    error: {contains: not waiting}\n", true,
			failure("error", `the action fails with an error containing "not waiting"`, "it succeeded")),
		Entry("an agent's reply past the quota", "  - alice: 人工\n"+strings.Repeat("  - agent: {account: kf2@wxemu_demo, reply: alice, text: x}\n", 5)+
			"  - agent: {account: kf2@wxemu_demo, reply: alice, text: x}\n    error: {contains: \"45047\"}\n", false),
		Entry("a trigger", "  - trigger: click\n  - alice: {event: LOCATION}\n    sends: {errcodes: [0]}\n", false),
	)

	It("stops a scenario at its first failed step and skips the rest", func() {
		r := e.one("app: oa\nusers: [alice]\nsteps:\n  - alice: hi\n    reply: none\n  - alice: ho\n  - advance: 1m\n")
		Expect(r.Status).To(Equal(scenario.Failed))
		Expect(r.Steps).To(HaveLen(3))
		Expect(r.Steps[0].Status).To(Equal(scenario.Failed))
		Expect(r.Steps[1].Status).To(Equal(scenario.Skipped))
		Expect(r.Steps[2]).To(And(HaveField("Status", scenario.Skipped), HaveField("Action", "advance 1m"), HaveField("Line", 7)))
		Expect(r.Transcripts).To(ConsistOf(And(HaveField("User", "alice"), HaveField("Lines", HaveLen(2)))))
		Expect(r.Steps[0].Exchanges).To(ConsistOf(HaveField("Label", "push")))
	})

	Describe("back-references", func() {
		It("reads earlier results, variables, users, the app and the environment", func() {
			runner := e.runner()
			runner.Getenv = func(k string) string { return map[string]string{"GREETING": "env"}[k] }
			s, err := scenario.Parse(nil, "t.yaml", []byte(`
app: oa
users: [alice, bob]
vars: {word: 你好}
steps:
  - id: greet
    alice: "${word}"
  - id: again
    alice: "${greet.result.user_sees}"
    reply: {text: "hello, hello, 你好"}
  - alice: "${alice} ${bob.openid} ${app.appid} ${app} ${env.GREETING} $${literal}"
    reply: {text: {contains: "${app.appid}"}}
  - id: p
    bob: push 2
  - alice: "${p.sends.#} ${p.sends.1.content} ${p.sends.0.errcode} ${greet.result.message.MsgId}"
  - id: t
    agent: {account: kf1@wxemu_demo, accept: alice}
    error: {contains: not waiting}
  - alice: "${t.error}"
`))
			Expect(err).NotTo(HaveOccurred())
			r := runner.Run(context.Background(), s).Scenarios[0]
			Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
			Expect(r.Steps[1].Action).To(Equal(`alice: text "${greet.result.user_sees}"`))
			texts := func(i int) string {
				var res struct {
					Result struct {
						Message struct{ Content string } `json:"message"`
					} `json:"result"`
				}
				Expect(json.Unmarshal(r.Steps[i].Result, &res)).To(Succeed())
				return res.Result.Message.Content
			}
			Expect(texts(0)).To(Equal("你好"))
			Expect(texts(1)).To(Equal("hello, 你好"))
			Expect(texts(2)).To(Equal(r.Users["alice"] + " " + r.Users["bob"] + " " + config.DemoOAAppID + " oa env ${literal}"))
			Expect(texts(4)).To(MatchRegexp(`^2 message 2 of 2 0 24\d{15}$`))
			Expect(texts(6)).To(ContainSubstring("not waiting"))
		})

		It("fails the step when a path finds nothing", func() {
			r := e.one(`
app: oa
users: [alice]
steps:
  - id: greet
    alice: hi
  - alice: "${greet.result.reply.Contnet}"
`)
			Expect(r.Status).To(Equal(scenario.Failed))
			Expect(failures(r)).To(ConsistOf(And(HaveField("Check", "message"),
				HaveField("Detail", "${greet.result.reply.Contnet}: the result of step greet has no result.reply.Contnet"))))
		})
	})

	Describe("protocol violations", func() {
		BeforeEach(func() { e = start(nil, map[string]botMaker{"oa": sample("noswap")}) })

		It("fail the step by default", func() {
			r := e.one("app: oa\nusers: [alice]\nsteps:\n  - alice: hi\n")
			Expect(r.Status).To(Equal(scenario.Failed))
			Expect(failures(r)).To(ConsistOf(And(HaveField("Check", "violation"),
				HaveField("Expected", `no protocol error in the push of text "hi"`),
				HaveField("Actual", HavePrefix("error reply.header.swap (protocol §3.1): ")),
				HaveField("Detail", "add tolerate: [reply.header.swap] to the step or the scenario if this is expected"))))
			Expect(r.Steps[0].Violations).To(ContainElement(HaveField("Rule", "reply.header.swap")))
		})

		It("pass when the scenario or the step tolerates them, or the step expects them", func() {
			r := e.one(`
app: oa
users: [alice]
tolerate: [reply.header.swap]
steps:
  - alice: hi
    reply: failed
`)
			Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
			r = e.one("app: oa\nusers: [alice]\nsteps:\n  - alice: hi\n    tolerate: [reply.header.swap]\n  - alice: hi\n    violations: [reply.header.swap]\n")
			Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
		})
	})

	Describe("in parallel", func() {
		It("gives every scenario fresh users, so that they do not see each other's windows", func() {
			var b strings.Builder
			for i := range 12 {
				if i > 0 {
					b.WriteString("---\n")
				}
				fmt.Fprintf(&b, "name: s%d\napp: oa\nusers: [alice]\nsteps:\n  - alice: push 5\n    sends: {errcodes: [0, 0, 0, 0, 0]}\n  - alice: {event: LOCATION}\n    sends: {errcodes: [45047]}\n", i)
			}
			runner := e.runner()
			runner.Parallel = 6
			s, err := scenario.Parse(nil, "t.yaml", []byte(b.String()))
			Expect(err).NotTo(HaveOccurred())
			rep := runner.Run(context.Background(), s)
			Expect(rep.Passed).To(BeTrue())
			seen := map[string]bool{}
			for _, r := range rep.Scenarios {
				Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
				Expect(seen[r.Users["alice"]]).To(BeFalse())
				seen[r.Users["alice"]] = true
			}
			Expect(rep.Summary).To(And(HaveField("Files", 1), HaveField("Scenarios", 12), HaveField("Passed", 12), HaveField("Steps", 24)))
		})

		It("runs the scenarios that move the clock alone, after the others, and reports in file order", func() {
			s := mustParse(`
name: moves the clock
app: oa
users: [alice]
steps:
  - alice: hi
  - advance: 48h
  - alice: {event: LOCATION}
    sends: {errcodes: [45015]}
---
name: talks
app: oa
users: [alice]
steps:
  - alice: hi
  - alice: {event: LOCATION}
    sends: {errcodes: [0]}
---
name: talks too
app: oa
users: [alice]
steps:
  - alice: hi
`)
			var mu sync.Mutex
			var order []string
			runner := e.runner()
			runner.OnScenario = func(done, total int, r *scenario.ScenarioResult) {
				mu.Lock()
				defer mu.Unlock()
				Expect(total).To(Equal(3))
				order = append(order, fmt.Sprintf("%d %s", done, r.Name))
			}
			rep := runner.Run(context.Background(), s)
			Expect(rep.Passed).To(BeTrue())
			Expect(order).To(HaveLen(3))
			Expect(order[2]).To(Equal("3 moves the clock"))
			Expect([]string{rep.Scenarios[0].Name, rep.Scenarios[1].Name, rep.Scenarios[2].Name}).To(Equal([]string{"moves the clock", "talks", "talks too"}))
		})

		It("leaves the shared agents as it found them", func() {
			rep := e.run(`
app: oa
users: [alice, bob, carol]
steps:
  - alice: 人工
  - bob: 人工 kf3@wxemu_demo
  - carol: 人工 kf1@wxemu_demo
  - agent: {account: kf1@wxemu_demo, accept: carol}
  - agent: {account: kf2@wxemu_demo, capacity: 1, auto_accept: false}
`)
			Expect(rep.Passed).To(BeTrue(), describeResult(rep.Scenarios[0]))
			p := e.emu.Platform()
			for _, account := range []string{"kf1@wxemu_demo", "kf2@wxemu_demo", "kf3@wxemu_demo"} {
				ag, ok := p.Agent(config.DemoOAAppID, account)
				Expect(ok).To(BeTrue())
				Expect(ag.Accepted).To(BeZero(), account)
			}
			kf2, _ := p.Agent(config.DemoOAAppID, "kf2@wxemu_demo")
			Expect(kf2.AutoAccept).To(BeTrue())
			Expect(kf2.Capacity).To(Equal(5))
			n, _ := p.KFWaitCase(config.DemoOAAppID)
			Expect(n).To(BeZero())
		})

		It("reports the scenarios not run when the run is stopped", func() {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			rep := e.runner().Run(ctx, mustParse("app: oa\nusers: [alice]\nsteps:\n  - alice: hi\n"))
			Expect(rep.Passed).To(BeFalse())
			Expect(rep.Scenarios[0]).To(And(HaveField("Status", scenario.Failed), HaveField("Error", ContainSubstring("the run was stopped"))))
			Expect(rep.Scenarios[0].Steps).To(ConsistOf(HaveField("Status", scenario.Skipped)))
		})
	})

	Describe("the signature check", func() {
		const probe = "app: oa\nusers: [alice]\nchecks: [signature]\nsteps:\n  - alice: hi\n  - alice: send\n"

		It("passes a bot that refuses unsigned pushes", func() {
			r := e.one(probe)
			Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
			Expect(r.Steps[0].Summary).To(HaveSuffix("; wrong signature refused (HTTP 403)"))
		})

		It("probes the msg_signature too in safe mode", func() {
			cfg := config.Default()
			cfg.Apps[0].Mode = config.ModeSafe
			e = start(cfg, nil)
			r := e.one(probe)
			Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
			Expect(r.Steps[0].Summary).To(HaveSuffix("; wrong signature and msg_signature refused (HTTP 403); wrong msg_signature refused (HTTP 403)"))
			Expect(r.Steps[0].Violations).To(BeEmpty())
		})

		It("fails a bot that answers what WeChat did not sign", func() {
			e = start(nil, map[string]botMaker{"oa": tiny(nil)})
			r := e.one(probe)
			Expect(r.Status).To(Equal(scenario.Failed))
			Expect(failures(r)).To(ConsistOf(failure("signature",
				"the bot refuses a push with a wrong signature: any status but 200 or no reply, and no API call",
				`it answered HTTP 200 with reply text "ok": it did not check the signature`)))
			Expect(r.Steps[0].Exchanges).To(ContainElement(HaveField("Label", "signature probe (wrong signature)")))
		})

		It("fails a bot that calls the API before it checks the signature", func() {
			e = start(nil, map[string]botMaker{"oa": tiny(func(b *tinyBot) { b.checkSignature, b.callAPIFirst = true, true })})
			r := e.one(probe)
			Expect(r.Status).To(Equal(scenario.Failed), describeResult(r))
			Expect(r.Steps[1].Failures).To(ConsistOf(And(HaveField("Check", "signature"),
				HaveField("Actual", "it called the API 1 time(s) for the user: it acted on a push WeChat did not sign"),
				HaveField("Detail", ContainSubstring("POST /cgi-bin/message/custom/send")))))
		})
	})

	Describe("the replay check", func() {
		const replay = "app: oa\nusers: [alice]\nchecks: [replay]\nsteps:\n  - alice: hi\n  - alice: send\n    sends: 1\n  - alice: {event: CLICK, key: K}\n"

		It("passes a bot that sends nothing twice", func() {
			r := e.one("app: oa\nusers: [alice]\nchecks: [replay]\nsteps:\n  - alice: hi\n  - alice: {event: CLICK, key: K}\n")
			Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
			Expect(r.Steps[0].Summary).To(HaveSuffix("; retry: no duplicate send"))
		})

		It("passes a bot that dedupes by MsgId", func() {
			e = start(nil, map[string]botMaker{"oa": tiny(func(b *tinyBot) { b.checkSignature, b.dedupe = true, true })})
			r := e.one(replay)
			Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
		})

		It("fails a bot that sends again on WeChat's retry", func() {
			e = start(nil, map[string]botMaker{"oa": tiny(func(b *tinyBot) { b.checkSignature = true })})
			r := e.one(replay)
			Expect(r.Status).To(Equal(scenario.Failed))
			Expect(failures(r)).To(ConsistOf(And(HaveField("Check", "replay"),
				HaveField("Expected", MatchRegexp(`^no customer-service send after WeChat's retry of the same message \(MsgId 24\d{15}\): the bot must dedupe by MsgId, or FromUserName\+CreateTime for an event$`)),
				HaveField("Actual", "1 send(s) after the retry"),
				HaveField("Detail", `send 1: text "sent" → 0 ok`))))
			Expect(r.Steps[1].Exchanges).To(ContainElement(HaveField("Label", "retry")))
		})

		It("waits for the duplicates of a bot that sends after it answers", func() {
			e = start(nil, map[string]botMaker{"oa": tiny(func(b *tinyBot) { b.checkSignature, b.delay = true, 50*time.Millisecond })})
			r := e.one("app: oa\nusers: [alice]\nchecks: [replay]\nsteps:\n  - alice: send\n    sends: {count: 1, within: 500ms}\n")
			Expect(r.Status).To(Equal(scenario.Failed), describeResult(r))
			Expect(failures(r)).To(ConsistOf(HaveField("Check", "replay")))
		})
	})

	Describe("sends within a bound", func() {
		BeforeEach(func() {
			e = start(nil, map[string]botMaker{"oa": tiny(func(b *tinyBot) { b.checkSignature, b.dedupe, b.delay = true, true, 100*time.Millisecond })})
		})

		It("waits for a bot that sends after it answers", func() {
			r := e.one("app: oa\nusers: [alice]\nchecks: [replay]\nsteps:\n  - alice: send\n    sends: {count: 1, within: 1s}\n")
			Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
		})

		It("waits the run's bound without one of its own, 1 s by default", func() {
			r := e.one("app: oa\nusers: [alice]\nsteps:\n  - alice: send\n    sends: 1\n")
			Expect(r.Status).To(Equal(scenario.Passed), describeResult(r))
		})

		It("fails when the run's bound passes first", func() {
			runner := e.runner()
			runner.Within = 20 * time.Millisecond
			r := runner.Run(ctx(), mustParse("app: oa\nusers: [alice]\nsteps:\n  - alice: send\n    sends: 1\n")).Scenarios[0]
			Expect(failures(r)).To(ConsistOf(failure("sends.count", "1 send", "0 sends")))
		})

		It("waits the whole bound for none", func() {
			r := e.one("app: oa\nusers: [alice]\nsteps:\n  - alice: send\n    sends: {count: 0, within: 1s}\n")
			Expect(failures(r)).To(ConsistOf(And(failure("sends.count", "0 sends within 1s", "1 send"), HaveField("Detail", `send 1: text "sent" → 0 ok`))))
		})
	})
})
