package record_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/journal"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/record"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/scenario"
	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/wire"
)

const (
	oa    = config.DemoOAAppID
	mp    = config.DemoMPAppID
	alice = config.DemoAliceOA
	bob   = config.DemoBobOA
	kf1   = "kf1@wxemu_demo"
)

// tape is a journal written by hand, entry by entry, the way the platform writes one: a control
// call is journaled when it ends, after what it caused, and says when it began.
type tape struct {
	seq     uint64
	entries []journal.Entry
}

func (t *tape) add(e journal.Entry) uint64 {
	t.seq++
	e.Seq = t.seq
	t.entries = append(t.entries, e)
	return t.seq
}

func (t *tape) mark() uint64 { return t.seq }

// control journals a call of the control plane that began at began.
func (t *tape) control(began uint64, method, route, app, user string, req, resp any, status int) {
	uri := route
	for _, v := range []struct{ key, val string }{{"{openid}", user}, {"{account}", kf1}, {"{app}", "oa"}} {
		uri = strings.ReplaceAll(uri, v.key, url.PathEscape(v.val))
	}
	body, _ := json.Marshal(req)
	answer, _ := json.Marshal(resp)
	e := journal.Entry{App: app, User: user, Summary: method + " " + route + " → ok",
		Control: &journal.Control{Action: method + " " + route, Began: began,
			Exchange: journal.NewExchange(method, uri, body, status, "application/json", answer)}}
	if status >= 400 {
		e.Errors = 1
		e.Summary = fmt.Sprintf("%s %s → HTTP %d: %s", method, route, status, answer)
	}
	t.add(e)
}

// push journals a push to the bot.
func (t *tape) push(app, user string, m wire.Message, res push.Result) {
	res.Message = m
	if res.Violations == nil {
		res.Violations = []rules.Violation{}
	}
	t.add(journal.Entry{App: app, User: user, Summary: "push", Push: &journal.Push{Result: &res}})
}

// send journals a customer-service send to the user, answered code.
func (t *tape) send(app, user, content string, code int, via string) {
	s := &rules.CustomSend{ToUser: user, MsgType: "text", Text: &rules.SendText{Content: content}}
	msg, _ := wire.Errmsg(code)
	t.add(journal.Entry{App: app, User: user, Summary: "POST /cgi-bin/message/custom/send",
		API: &journal.APICall{Path: "/cgi-bin/message/custom/send", Via: via, Errcode: code, Errmsg: msg, Send: s}})
}

func (t *tape) kf(app, user, kind, account string) {
	t.add(journal.Entry{App: app, User: user, Summary: "kf " + kind,
		KF: &journal.KFChange{KFEvent: state.KFEvent{Kind: kind, App: app, OpenID: user, Account: account}}})
}

func text(s string) wire.Message { return wire.Message{MsgType: "text", Content: s} }

func textReply(s string) push.Result {
	return push.Result{Outcome: push.Replied, Reply: &wire.Reply{MsgType: "text", Content: s}, UserSees: s}
}

// userSends is a user's message through the control API: what the platform journals while it
// pushes (the push, then the sends a bot makes before it answers), then the control call.
func (t *tape) userSends(app, user, content string, res push.Result, during func()) {
	began := t.mark()
	if during != nil {
		during()
	}
	t.push(app, user, text(content), res)
	t.control(began, "POST", "/_emu/v1/users/{openid}/send", app, user,
		map[string]any{"app": "oa", "MsgType": "text", "Content": content}, map[string]any{"routed": "bot"}, 200)
}

func (t *tape) session() record.Session {
	return record.Session{
		Name:    "spec session",
		Stopped: time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC),
		Began:   time.Date(2026, 12, 1, 19, 0, 0, 0, time.UTC),
		Ended:   time.Date(2026, 12, 1, 19, 30, 1, 0, time.UTC),
		Apps: []record.App{
			{Alias: "oa", AppID: oa, Kind: "oa", Target: "http://127.0.0.1:8080/wx", Users: []record.User{
				{OpenID: alice, Name: "alice", Subscribed: true}, {OpenID: bob, Name: "bob", Subscribed: true}}},
			{Alias: "mp", AppID: mp, Kind: "mp", Users: []record.User{{OpenID: config.DemoAliceMP, Name: "alice", Subscribed: true}}},
		},
		Entries: t.entries,
	}
}

// generate writes the tape as a scenario file and loads it with the strict loader of `wxemu
// run`: every file the recorder writes must load.
func generate(t *tape) (string, []*scenario.Scenario) {
	GinkgoHelper()
	out := string(record.Scenario(t.session()))
	GinkgoWriter.Println(out)
	list, err := scenario.Parse(nil, "recorded.yaml", []byte(out))
	Expect(err).NotTo(HaveOccurred(), "the recorded scenario loads:\n%s", out)
	return out, list
}

var _ = Describe("Recording a session as a scenario", func() {
	var t *tape
	BeforeEach(func() { t = &tape{} })

	It("makes a user's message a step whose reply is the exact text the bot answered, and names when and where it was recorded", func() {
		t.userSends(oa, alice, "hi", textReply("hello, hi"), nil)
		out, list := generate(t)
		Expect(out).To(HavePrefix("# Recorded with wxemu serve: spec session\n"))
		Expect(out).To(ContainSubstring("# stopped 2026-12-01 20:00:00 UTC (wall clock); virtual time 2026-12-01 19:00:00 UTC to 2026-12-01 19:30:01 UTC"))
		Expect(out).To(ContainSubstring("# app oa (" + oa + ", Official Account), its messages pushed to http://127.0.0.1:8080/wx"))
		Expect(out).To(ContainSubstring("# replay: wxemu run FILE --target http://127.0.0.1:8080/wx"))
		Expect(list).To(HaveLen(1))
		s := list[0]
		Expect(s.Name).To(Equal("spec session"))
		Expect(s.App).To(Equal("oa"))
		Expect(s.Users).To(HaveLen(1))
		Expect(s.Users[0].Name).To(Equal("alice"))
		Expect(s.Users[0].OpenID).To(BeEmpty(), "each run gets a fresh openid")
		Expect(s.Steps).To(HaveLen(1))
		st := s.Steps[0]
		Expect(st.User).To(Equal("alice"))
		Expect(st.Message.Describe()).To(Equal(`text "hi"`))
		Expect(st.DeliveredTo).To(Equal("bot"))
		Expect(st.Reply.Outcome).To(Equal("reply"))
		Expect(*st.Reply.Text.Exact).To(Equal("hello, hi"))
		Expect(*st.Sends.Count).To(Equal(0), "a bot that sent nothing must send nothing on replay")
	})

	It("writes every kind of passive outcome: none, a transfer to the named account, a failure with the line the user saw and its violation, news by its article count, media without its id", func() {
		t.userSends(oa, alice, "silent", push.Result{Outcome: push.None}, nil)
		t.userSends(oa, alice, "人工 kf1@wxemu_demo", push.Result{Outcome: push.Transferred, KfAccount: kf1}, func() {})
		t.kf(oa, alice, state.KFAssigned, kf1) // after the push, before the control entry
		t.userSends(oa, alice, "slow", push.Result{Outcome: push.Failed, UserSees: "该公众号暂时无法提供服务，请稍后再试",
			Violations: []rules.Violation{{Rule: "push.timeout", Severity: rules.Error}, {Rule: "push.retried", Severity: rules.Warning, Message: "answered after a retry"}}}, nil)
		t.userSends(oa, alice, "news", push.Result{Outcome: push.Replied, Reply: &wire.Reply{MsgType: "news", Articles: []wire.Article{{Title: "Orders", Url: "https://example.com/o"}, {Title: "Help"}}}}, nil)
		t.userSends(oa, alice, "image", push.Result{Outcome: push.Replied, Reply: &wire.Reply{MsgType: "image", Image: &wire.Media{MediaId: "GENERATED"}}}, nil)
		out, list := generate(t)
		steps := list[0].Steps
		Expect(steps).To(HaveLen(5))
		Expect(steps[0].Reply.Outcome).To(Equal("none"))
		Expect(steps[1].Reply.Outcome).To(Equal("transfer"))
		Expect(*steps[1].Reply.KfAccount).To(Equal(kf1))
		Expect(out).To(ContainSubstring("# kf: alice waits for kf1@wxemu_demo"))
		Expect(steps[2].Reply.Outcome).To(Equal("failed"))
		Expect(*steps[2].UserSees.Exact).To(Equal("该公众号暂时无法提供服务，请稍后再试"))
		Expect(steps[2].Violations).To(ConsistOf(scenario.ViolationExpect{Rule: "push.timeout"}), "an error the step caused must recur; warnings only tolerate")
		Expect(out).To(ContainSubstring("# warning push.retried: answered after a retry"))
		Expect(steps[3].Reply.MsgType).To(Equal("news"))
		Expect(*steps[3].Reply.Articles).To(Equal(2))
		Expect(out).To(ContainSubstring(`# article 1 (not checked, only the count is): "Orders" https://example.com/o`), "what the format cannot check is a comment")
		Expect(steps[4].Reply.MsgType).To(Equal("image"))
		Expect(steps[4].Reply.MediaID).To(BeNil())
		Expect(out).NotTo(ContainSubstring("GENERATED"))
	})

	It("writes a transfer that named no account as one, so that a transfer to a named account fails the replay", func() {
		t.userSends(oa, alice, "人工", push.Result{Outcome: push.Transferred}, nil)
		out, list := generate(t)
		Expect(out).To(ContainSubstring(`reply: {transfer: ""}`))
		st := list[0].Steps[0]
		Expect(st.Reply.Outcome).To(Equal("transfer"))
		Expect(st.Reply.KfAccount).NotTo(BeNil(), "reply: transfer alone passes a transfer to any account")
		Expect(*st.Reply.KfAccount).To(BeEmpty())
	})

	It("writes a message a reorder rule held as delivered_to: held", func() {
		began := t.mark()
		t.add(journal.Entry{App: oa, User: alice, Summary: "held", State: &journal.StateChange{What: `push text "first" held by fault rule f1`}})
		t.control(began, "POST", "/_emu/v1/users/{openid}/send", oa, alice,
			map[string]any{"app": "oa", "MsgType": "text", "Content": "first"}, map[string]any{"routed": "held"}, 200)
		_, list := generate(t)
		Expect(list[0].Steps[0].DeliveredTo).To(Equal("held"))
	})

	It("gives a bot's sends after its answer to the message that caused them, though another user acted in between", func() {
		began := t.mark()
		t.push(oa, alice, text("push 3 after 50ms"), push.Result{Outcome: push.None})
		t.control(began, "POST", "/_emu/v1/users/{openid}/send", oa, alice,
			map[string]any{"app": "oa", "MsgType": "text", "Content": "push 3 after 50ms"}, map[string]any{"routed": "bot"}, 200)
		t.send(oa, alice, "message 1 of 3", 0, journal.ViaHTTP)
		// Bob writes while alice's sends are still coming.
		t.userSends(oa, bob, "hi", textReply("hello, hi"), func() {
			t.send(oa, alice, "message 2 of 3", 0, journal.ViaHTTP)
		})
		t.send(oa, alice, "message 3 of 3", 0, journal.ViaHTTP)
		_, list := generate(t)
		steps := list[0].Steps
		Expect(steps).To(HaveLen(2))
		Expect(steps[0].User).To(Equal("alice"))
		Expect(*steps[0].Sends.Count).To(Equal(3))
		Expect(contents(steps[0].Sends)).To(Equal([]string{"message 1 of 3", "message 2 of 3", "message 3 of 3"}))
		Expect(steps[1].User).To(Equal("bob"))
		Expect(*steps[1].Sends.Count).To(Equal(0))
	})

	It("keeps refused sends with their errcodes: the quota's 45047, the window's 45015, and a token refusal read from the raw body", func() {
		t.userSends(oa, alice, "push 6", push.Result{Outcome: push.None}, func() {
			for i := 1; i <= 5; i++ {
				t.send(oa, alice, fmt.Sprintf("message %d of 6", i), 0, journal.ViaHTTP)
			}
			t.send(oa, alice, "message 6 of 6", wire.CodeOutOfResponseCount, journal.ViaHTTP)
		})
		t.userSends(oa, alice, "push 1", push.Result{Outcome: push.None}, func() {
			// A send refused for its token was never decoded: only its raw body tells what it was.
			t.add(journal.Entry{App: oa, User: alice, API: &journal.APICall{Path: "/cgi-bin/message/custom/send", Via: journal.ViaHTTP, Errcode: 40001,
				Exchange: journal.NewExchange("POST", "/cgi-bin/message/custom/send?access_token=OLD",
					[]byte(`{"touser":"`+alice+`","msgtype":"text","text":{"content":"message 1 of 1"}}`), 200, "application/json", []byte(`{"errcode":40001}`))}})
			t.send(oa, alice, "message 1 of 1", wire.CodeOutOfTimeLimit, journal.ViaHTTP)
		})
		out, list := generate(t)
		steps := list[0].Steps
		Expect(steps[0].Sends.Errcodes).To(Equal([]int{0, 0, 0, 0, 0, 45047}))
		Expect(steps[0].Sends.MsgTypes).To(HaveLen(6))
		Expect(out).To(ContainSubstring("# send 6 refused: 45047 out of response count limit"))
		Expect(steps[1].Sends.Errcodes).To(Equal([]int{40001, 45015}))
		Expect(contents(steps[1].Sends)).To(Equal([]string{"message 1 of 1", "message 1 of 1"}))
	})

	It("makes agents' actions steps: the accept with the kf event the bot received, a message delivered to the agent, the agent's reply and its send, a refused reply as the step's error", func() {
		began := t.mark()
		t.kf(oa, alice, state.KFAccepted, kf1)
		t.push(oa, alice, wire.Message{MsgType: "event", Event: "kf_create_session", KfAccount: kf1}, push.Result{Outcome: push.None})
		t.control(began, "POST", "/_emu/v1/agents/{account}/accept", oa, alice, map[string]any{"app": "oa", "openid": alice}, map[string]any{"in_session": true}, 200)

		began = t.mark()
		t.add(journal.Entry{App: oa, User: alice, KF: &journal.KFChange{KFEvent: state.KFEvent{Kind: "delivered", OpenID: alice, Account: kf1}, Message: &wire.Message{MsgType: "text", Content: "anyone?"}}})
		t.control(began, "POST", "/_emu/v1/users/{openid}/send", oa, alice,
			map[string]any{"app": "oa", "MsgType": "text", "Content": "anyone?"}, map[string]any{"routed": "agent", "agent": kf1}, 200)

		began = t.mark()
		t.send(oa, alice, "您好", 0, journal.ViaAgent)
		t.control(began, "POST", "/_emu/v1/agents/{account}/reply", oa, alice, map[string]any{"app": "oa", "openid": alice, "text": "您好"}, map[string]any{"delivered": true, "errcode": 0}, 200)

		began = t.mark()
		t.send(oa, alice, "还在吗", wire.CodeOutOfTimeLimit, journal.ViaAgent)
		t.control(began, "POST", "/_emu/v1/agents/{account}/reply", oa, alice, map[string]any{"app": "oa", "openid": alice, "text": "还在吗"}, map[string]any{"delivered": false, "errcode": 45015}, 200)

		began = t.mark()
		t.control(began, "POST", "/_emu/v1/agents/{account}/status", oa, "", map[string]any{"app": "oa", "online": false, "capacity": 3}, map[string]any{}, 200)

		out, list := generate(t)
		steps := list[0].Steps
		Expect(steps).To(HaveLen(5))
		Expect(*steps[0].Agent).To(MatchFields(kf1, "accept", "alice"))
		Expect(steps[0].BotReceives.Event).To(Equal("kf_create_session"))
		Expect(steps[0].BotReceives.KfAccount).To(Equal(kf1))
		Expect(*steps[0].Sends.Count).To(Equal(0), "a bot that starts sending on the kf event must fail the replay")
		Expect(out).To(ContainSubstring("# kf: alice is served by kf1@wxemu_demo (session begins)"))
		Expect(steps[1].DeliveredTo).To(Equal(kf1))
		Expect(steps[1].Reply).To(BeNil(), "the bot was not pushed")
		Expect(*steps[1].Sends.Count).To(Equal(0), "the bot must not send while an agent serves the user")
		Expect(*steps[2].Agent).To(MatchFields(kf1, "reply", "alice"))
		Expect(steps[2].Agent.Text).To(Equal("您好"))
		Expect(steps[2].Sends.Errcodes).To(Equal([]int{0}))
		Expect(steps[2].Error).To(BeNil())
		Expect(*steps[3].Error.Contains).To(Equal("errcode 45015"))
		Expect(steps[3].Sends.Errcodes).To(Equal([]int{45015}))
		Expect(steps[4].Agent.Do).To(Equal("status"))
		Expect(*steps[4].Agent.Online).To(BeFalse())
		Expect(*steps[4].Agent.Capacity).To(Equal(3))
		Expect(steps[4].Agent.AutoAccept).To(BeNil(), "only what was set")
	})

	It("makes a move of the clock a step in every app's scenario, names a session that ended on its timeout, and gives the sends it caused to their user", func() {
		t.userSends(oa, alice, "hi", textReply("hello, hi"), nil)
		began := t.mark()
		t.kf(oa, alice, state.KFExpired, kf1)
		t.send(oa, alice, "are you still there?", 0, journal.ViaHTTP)
		t.control(began, "POST", "/_emu/v1/clock/advance", "", "", map[string]any{"by": "30m1s"}, map[string]any{}, 200)
		began = t.mark()
		t.control(began, "POST", "/_emu/v1/clock/advance", "", "", map[string]any{"by": "48h0m1s"}, map[string]any{}, 200)
		began = t.mark()
		t.control(began, "POST", "/_emu/v1/apps/{app}/tokens/expire", oa, "", nil, map[string]any{"expired": 1}, 200)
		t.userSends(mp, config.DemoAliceMP, "hi", push.Result{Outcome: push.None}, nil)
		out, list := generate(t)
		Expect(list).To(HaveLen(2), "one scenario per app acted on")
		oaSteps := list[0].Steps
		Expect(list[0].Name).To(Equal("spec session (oa)"))
		Expect(oaSteps[1].Advance).To(Equal(30*time.Minute + time.Second))
		Expect(out).To(ContainSubstring("- advance: 30m1s\n"))
		Expect(out).To(ContainSubstring("- advance: 48h1s\n"))
		Expect(out).To(ContainSubstring("# kf: alice's session with kf1@wxemu_demo ended on its timeout"))
		Expect(oaSteps[1].Sends.User).To(Equal("alice"))
		Expect(contents(oaSteps[1].Sends)).To(Equal([]string{"are you still there?"}))
		Expect(oaSteps[3].Tokens).To(Equal("expire"))
		Expect(list[1].App).To(Equal("mp"))
		Expect(list[1].Name).To(Equal("spec session (mp)"))
		Expect(list[1].Steps[0].Advance).To(Equal(30*time.Minute+time.Second), "the clock moves for every app")
		Expect(list[1].Steps).To(HaveLen(3))
		Expect(out).To(ContainSubstring("# replay: wxemu run FILE --target-mp URL, or --function DIR for a cloud function"))
	})

	It("makes fault rules added or cleared a faults step of the app they concern, naming the user as the scenario does", func() {
		began := t.mark()
		t.control(began, "POST", "/_emu/v1/faults", "", "", map[string]any{"path": "/cgi-bin/message/custom/send", "errcode": -1, "count": 1, "user": alice},
			map[string]any{"added": []any{}}, 200)
		t.userSends(oa, alice, "push 1", push.Result{Outcome: push.None}, func() {
			t.send(oa, alice, "message 1 of 1", -1, journal.ViaHTTP)
			t.send(oa, alice, "message 1 of 1", 0, journal.ViaHTTP)
		})
		began = t.mark()
		t.control(began, "POST", "/_emu/v1/faults", "", "", []any{
			map[string]any{"family": "typing", "latency": "2s", "app": "mp"},
			map[string]any{"push": "duplicate", "count": 1},
		}, map[string]any{"added": []any{}}, 200)
		began = t.mark()
		t.control(began, "DELETE", "/_emu/v1/faults", "", "", nil, map[string]any{"cleared": 2}, 200)
		began = t.mark()
		t.control(began, "DELETE", "/_emu/v1/faults/{id}", "", "", nil, map[string]any{}, 200)
		out, list := generate(t)
		Expect(list).To(HaveLen(1))
		steps := list[0].Steps
		Expect(steps).To(HaveLen(4), out)
		Expect(steps[0].Faults).NotTo(BeNil())
		Expect(steps[0].Faults.Add).To(HaveLen(1))
		Expect(steps[0].Faults.Add[0].Rule.User).To(Equal("alice"), "the openid becomes the scenario's user")
		Expect(steps[1].Sends.Errcodes).To(Equal([]int{-1, 0}))
		Expect(steps[2].Faults.Add).To(HaveLen(1), "the mp rule is left to the mp scenario")
		Expect(steps[2].Faults.Add[0].Rule.Push).To(Equal("duplicate"))
		Expect(steps[3].Faults.Clear).To(BeTrue())
		Expect(out).To(ContainSubstring("# not replayed, no step does it: DELETE /_emu/v1/faults/{id}"))
	})

	It("writes as comments what a scenario cannot express, so that nothing observed is silently dropped", func() {
		t.userSends(oa, alice, "hi", textReply("hello, hi"), func() {
			t.add(journal.Entry{App: oa, User: alice, Summary: "POST /cgi-bin/message/custom/typing → ok",
				API: &journal.APICall{Path: "/cgi-bin/message/custom/typing", Via: journal.ViaHTTP}})
			t.add(journal.Entry{App: oa, Summary: "GET /cgi-bin/token → ok", API: &journal.APICall{Path: "/cgi-bin/token", Via: journal.ViaHTTP}})
			t.add(journal.Entry{Summary: "POST /cgi-bin/nope → HTTP 200: not an API wxemu serves", Finding: &journal.Finding{Problem: "not an API"}})
			t.add(journal.Entry{App: oa, User: alice, Summary: "function kf stdout: hi", Log: &journal.Log{Function: "kf", Stream: "stdout", Text: "got hi\n"}})
		})
		began := t.mark()
		t.push(oa, alice, text("hi"), push.Result{Outcome: push.None})
		t.add(journal.Entry{App: oa, User: alice, Push: &journal.Push{Probe: "retry", Result: &push.Result{Outcome: push.None, Message: text("hi"), Violations: []rules.Violation{}}}})
		t.control(began, "POST", "/_emu/v1/users/{openid}/send", oa, alice, map[string]any{"app": "oa", "MsgType": "text", "Content": "hi"}, map[string]any{"routed": "bot"}, 200)
		began = t.mark()
		t.control(began, "POST", "/_emu/v1/agents/{account}/accept", oa, alice, map[string]any{"app": "oa", "openid": alice},
			map[string]any{"error": "the agent does not serve this user"}, 409)
		began = t.mark()
		t.add(journal.Entry{Summary: "reset: all state forgotten, configured users seeded again", Control: &journal.Control{Action: "reset: all state forgotten, configured users seeded again"}})
		t.control(began, "POST", "/_emu/v1/reset", "", "", nil, map[string]any{"status": "reset"}, 200)
		began = t.mark()
		t.push(oa, alice, wire.Message{MsgType: "event", Event: "kf_close_session", KfAccount: kf1}, textReply("bye"))
		t.control(began, "POST", "/_emu/v1/agents/{account}/close", oa, alice, map[string]any{"app": "oa", "openid": alice}, map[string]any{}, 200)
		out, list := generate(t)
		Expect(out).To(ContainSubstring("# the bot called POST /cgi-bin/message/custom/typing → ok"))
		Expect(out).NotTo(ContainSubstring("/cgi-bin/token"), "a token fetch is the bot's plumbing")
		Expect(out).To(ContainSubstring("# finding: POST /cgi-bin/nope"))
		Expect(out).To(ContainSubstring("# cloud function kf printed on stdout: got hi"))
		Expect(list[0].Steps[1].Checks.Replay).To(BeTrue(), "a retry after which the bot sent nothing is the replay check")
		Expect(out).To(ContainSubstring("# not replayed, the call failed: POST /_emu/v1/agents/{account}/accept → HTTP 409"))
		Expect(out).To(ContainSubstring("# not replayed, no step does it: POST /_emu/v1/reset"))
		Expect(out).To(ContainSubstring(`# the bot answered the kf_close_session with text reply "bye", which a scenario does not check`))
		Expect(list[0].Steps).To(HaveLen(3))
		Expect(list[0].Steps[2].BotReceives.Event).To(Equal("kf_close_session"))
	})

	It("writes a trigger, an agent's switch and close with their kf events, and another user's sends as comments", func() {
		began := t.mark()
		t.add(journal.Entry{App: oa, User: alice, Summary: "window opened by payment (control API)", State: &journal.StateChange{What: "window opened by payment (control API)"}})
		t.control(began, "POST", "/_emu/v1/users/{openid}/trigger", oa, alice, map[string]any{"app": "oa", "trigger": "payment"}, map[string]any{"grants": []any{}}, 200)
		began = t.mark()
		t.kf(oa, alice, state.KFSwitched, "")
		t.push(oa, alice, wire.Message{MsgType: "event", Event: "kf_switch_session", FromKfAccount: kf1, ToKfAccount: "kf2@wxemu_demo"}, push.Result{Outcome: push.None})
		t.send(oa, bob, "meanwhile", 0, journal.ViaHTTP)
		t.control(began, "POST", "/_emu/v1/agents/{account}/switch", oa, alice, map[string]any{"app": "oa", "openid": alice, "to": "kf2@wxemu_demo"}, map[string]any{}, 200)
		began = t.mark()
		t.push(oa, alice, wire.Message{MsgType: "event", Event: "kf_close_session", KfAccount: "kf2@wxemu_demo"}, push.Result{Outcome: push.None})
		t.control(began, "POST", "/_emu/v1/agents/{account}/close", oa, alice, map[string]any{"app": "oa", "openid": alice}, map[string]any{}, 200)
		out, list := generate(t)
		steps := list[0].Steps
		Expect(steps).To(HaveLen(3))
		Expect(*steps[0].Trigger).To(Equal(scenario.TriggerAction{User: "alice", Kind: "payment"}))
		Expect(*steps[0].Sends.Count).To(Equal(0), "a bot that starts sending on the trigger must fail the replay")
		Expect(*steps[2].Sends.Count).To(Equal(0))
		Expect(out).To(ContainSubstring("# state: window opened by payment (control API)"))
		Expect(steps[1].Agent.Do).To(Equal("switch"))
		Expect(steps[1].Agent.To).To(Equal("kf2@wxemu_demo"))
		Expect(steps[1].BotReceives.FromKfAccount).To(Equal(kf1))
		Expect(steps[1].BotReceives.ToKfAccount).To(Equal("kf2@wxemu_demo"))
		Expect(steps[2].Agent.Do).To(Equal("close"))
		Expect(steps[2].BotReceives.Event).To(Equal("kf_close_session"))
		Expect(steps[2].BotReceives.KfAccount).To(Equal("kf2@wxemu_demo"))
		Expect(out).To(ContainSubstring(`# meanwhile, no recorded action of theirs: a send to bob (`+bob+`): text "meanwhile" → 0 ok`),
			"bob's send belongs to no step of bob's, and the switch acted on alice: it is told, not checked")
		Expect(list[0].Users).To(HaveLen(1), "a user only told of is not declared")
	})

	It("keeps the sends after WeChat's retry out of the step's sends, and says the bot was not idempotent", func() {
		hi := wire.Message{MsgType: "text", Content: "hi", FromUserName: alice}
		hi.MsgId = 24000000000000001
		began := t.mark()
		t.push(oa, alice, hi, push.Result{Outcome: push.None})
		t.send(oa, alice, "hello, hi", 0, journal.ViaHTTP)
		t.control(began, "POST", "/_emu/v1/users/{openid}/send", oa, alice, map[string]any{"app": "oa", "MsgType": "text", "Content": "hi"}, map[string]any{"routed": "bot"}, 200)
		other := hi
		other.MsgId = 24000000000000099
		began = t.mark()
		t.add(journal.Entry{App: oa, User: alice, Push: &journal.Push{Probe: "retry", Result: &push.Result{Outcome: push.None, Message: other, Violations: []rules.Violation{}}}})
		t.add(journal.Entry{App: oa, User: alice, Push: &journal.Push{Probe: "retry", Result: &push.Result{Outcome: push.None, Message: hi, Violations: []rules.Violation{}}}})
		t.send(oa, alice, "hello, hi", 0, journal.ViaHTTP)
		t.control(began, "POST", "/_emu/v1/journal/{seq}/replay", oa, alice, nil, map[string]any{}, 200)
		out, list := generate(t)
		st := list[0].Steps[0]
		Expect(st.Sends.Errcodes).To(Equal([]int{0}), "the retry's send is not the message's")
		Expect(st.Checks).To(BeNil())
		Expect(out).To(ContainSubstring("# WeChat's retry of the message was pushed, and the bot sent 1 more (not idempotent; checks: [replay] would fail):"))
		Expect(out).To(ContainSubstring(`#   text "hello, hi" → 0 ok`))
		Expect(out).To(ContainSubstring(`# retry of alice's text "hi": no reply`), "a retry of another message is only told")
		Expect(out).NotTo(ContainSubstring("not replayed"), "the retry is no step of its own")
		Expect(record.Actions(t.entries)).To(Equal(2))
	})

	It("names a user no config names user1, with the recorded openid in a comment, and quotes texts so they load back unchanged", func() {
		tricky := `a: "quoted" # not a comment, {braces}, [list], 'single', yes`
		t.userSends(oa, "o-adhoc-123", tricky, textReply("true"), nil)
		t.userSends(oa, alice, "@at", textReply("1001"), nil)
		out, list := generate(t)
		Expect(out).To(ContainSubstring("  - user1 # openid o-adhoc-123 when recorded"))
		steps := list[0].Steps
		Expect(steps[0].User).To(Equal("user1"))
		Expect(steps[0].Message.Describe()).To(Equal(fmt.Sprintf("text %q", tricky)))
		Expect(*steps[0].Reply.Text.Exact).To(Equal("true"))
		Expect(steps[1].Message.Describe()).To(Equal(`text "@at"`))
		Expect(*steps[1].Reply.Text.Exact).To(Equal("1001"))
	})

	It("writes every text so that it loads back as the same string", func() {
		texts := []string{"人工 kf1@wxemu_demo", "1001", "yes", "No", "null", "~", "-x", "x: y", "a #b", " lead", "trail ", "\ttab",
			"/path", "_x", "ΣΑΣ", "x]", "{x}", "*alias", "&anchor", "!tag", "%d", "`tick`", "line\nbreak", "您好，我是客服小王", "😀", "0x1F", ".5", "@x"}
		for _, s := range texts {
			t.userSends(oa, alice, "say "+s, textReply(s), nil)
		}
		_, list := generate(t)
		for i, s := range texts {
			Expect(*list[0].Steps[i].Reply.Text.Exact).To(Equal(s))
		}
	})

	It("writes an event with its key, and any other message by its wire names", func() {
		for _, body := range []map[string]any{
			{"app": "oa", "MsgType": "event", "Event": "CLICK", "EventKey": "V1001"},
			{"app": "oa", "MsgType": "location", "Location_X": 23.134521, "Location_Y": 113.358803, "Label": "广州"},
		} {
			began := t.mark()
			t.push(oa, alice, wire.Message{MsgType: body["MsgType"].(string)}, push.Result{Outcome: push.None})
			t.control(began, "POST", "/_emu/v1/users/{openid}/send", oa, alice, body, map[string]any{"routed": "bot"}, 200)
		}
		out, list := generate(t)
		Expect(out).To(ContainSubstring("- alice: {event: CLICK, key: V1001}"))
		Expect(out).To(ContainSubstring(`- alice: {MsgType: location, Label: 广州, Location_X: "23.134521", Location_Y: "113.358803"}`))
		Expect(list[0].Steps[0].Message.Describe()).To(Equal("event CLICK V1001"))
		Expect(list[0].Steps[1].Message.Describe()).To(Equal("location 23.134521,113.358803"))
	})

	It("names the fault rules held when the recording started, which the replay runs without", func() {
		t.userSends(oa, alice, "hi", textReply("hello, hi"), nil)
		s := t.session()
		s.HeldFaults = []string{`{"id":"f1","family":"custom_send","errcode":-1,"matched":0,"fired":0,"spent":false}`}
		out := string(record.Scenario(s))
		Expect(out).To(ContainSubstring("# WARNING: 1 fault rule(s) were held when the recording started"))
		Expect(out).To(ContainSubstring(`#   {"id":"f1","family":"custom_send","errcode":-1,`))
		_, err := scenario.Parse(config.Default(), "held.yaml", []byte(out))
		Expect(err).NotTo(HaveOccurred(), "the warning is a comment")
	})

	It("says when the journal no longer held part of the session, and when nothing was recorded", func() {
		s := t.session()
		s.Missing = 12
		out := string(record.Scenario(s))
		Expect(out).To(ContainSubstring("# WARNING: 12 journal entries of the session were no longer held"))
		Expect(out).To(ContainSubstring("# Nothing was recorded"))
		_, err := scenario.Parse(nil, "empty.yaml", []byte(out))
		Expect(err).To(MatchError(ContainSubstring("no scenario in the file")), "an empty recording is no scenario that passes by doing nothing")
		Expect(record.Actions(nil)).To(Equal(0))
	})

	It("keeps what it cannot replay of an app with no step: its failed calls, what its users saw", func() {
		t.control(t.mark(), "POST", "/_emu/v1/users/{openid}/send", oa, alice, map[string]any{"app": "oa", "MsgType": "text", "Content": "hi"},
			map[string]any{"error": "app oa has no callback URL"}, 409)
		t.send(mp, config.DemoAliceMP, "unprompted", wire.CodeOutOfTimeLimit, journal.ViaHTTP)
		out := string(record.Scenario(t.session()))
		Expect(out).To(ContainSubstring("# Nothing was recorded"))
		Expect(out).To(ContainSubstring("#   app oa:\n#   not replayed, the call failed: POST /_emu/v1/users/{openid}/send → HTTP 409"))
		Expect(out).To(ContainSubstring("#   app mp:\n#   before any action: a send to " + config.DemoAliceMP + ": text \"unprompted\" → 45015"))
	})

	It("counts the actions a recording has seen: failed calls and the recording's own calls are none", func() {
		t.userSends(oa, alice, "hi", textReply("hello, hi"), nil)
		t.control(t.mark(), "POST", "/_emu/v1/recording/start", "", "", map[string]any{"name": "x"}, map[string]any{}, 200)
		t.control(t.mark(), "POST", "/_emu/v1/agents/{account}/accept", oa, alice, map[string]any{}, map[string]any{"error": "x"}, 409)
		t.control(t.mark(), "POST", "/_emu/v1/clock/advance", "", "", map[string]any{"by": "1m"}, map[string]any{}, 200)
		Expect(record.Actions(t.entries)).To(Equal(2))
	})
})

// MatchFields matches an agent action's account, what it does and to whom.
func MatchFields(account, do, user string) OmegaMatcher {
	return And(HaveField("Account", account), HaveField("Do", do), HaveField("User", user))
}

func contents(s *scenario.SendsExpect) []string {
	var out []string
	for _, m := range s.Contents {
		out = append(out, *m.Exact)
	}
	return out
}
