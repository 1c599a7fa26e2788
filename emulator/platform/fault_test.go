package platform_test

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/wire"
)

func intp(n int) *int { return &n }

var _ = Describe("fault rules of the platform", func() {
	var p *platform.Platform
	var app *platform.App
	alice := config.DemoAliceOA
	body := []byte(fmt.Sprintf(`{"touser":%q,"msgtype":"text","text":{"content":"hi"}}`, alice))
	newPlatform := func(cfg *config.Config) *platform.Platform {
		q, err := platform.New(platform.Options{Config: cfg, Clock: clock.NewFake(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(q.Close)
		return q
	}
	BeforeEach(func() {
		p = newPlatform(nil)
		app, _ = p.App("oa")
		_, err := p.Trigger("oa", alice, "message")
		Expect(err).NotTo(HaveOccurred())
	})

	lastAPI := func() platform.Entry {
		all := p.Journal(platform.JournalFilter{Kind: platform.KindAPI})
		Expect(all).NotTo(BeEmpty())
		return all[len(all)-1]
	}

	It("act on a Go caller's operation: the errcode, the marker, the transcript line", func() {
		_, err := p.AddFaults([]platform.FaultRule{{Path: platform.PathCustomSend, Errcode: intp(45009), Count: intp(1)}}, nil)
		Expect(err).NotTo(HaveOccurred())
		_, err = p.CustomSend(context.Background(), app, body)
		Expect(platform.Code(err)).To(Equal(wire.CodeAPIDailyQuota))
		e := lastAPI()
		Expect(e.API.Via).To(Equal(platform.ViaGo))
		Expect(e.API.Injected).To(Equal(&platform.Injected{Rule: "f1", Action: "errcode 45009 reach max api daily quota limit"}))
		Expect(e.User).To(Equal(alice))
		ls := p.Transcript(app.AppID, alice)
		Expect(ls[len(ls)-1]).To(And(HaveField("Kind", platform.LineFault), HaveField("Journal", e.Seq)))
		_, err = p.CustomSend(context.Background(), app, body)
		Expect(err).NotTo(HaveOccurred())
	})

	It("refuse a user given by name, which no call would match, naming the openid to write", func() {
		_, err := p.AddFaults([]platform.FaultRule{{Family: "custom_send", User: "alice", Errcode: intp(-1)}}, nil)
		Expect(err).To(MatchError(ContainSubstring(`user: "alice" is a user's name, and a rule matches an openid: it would never fire (write the openid: ` + alice + ` (alice of oa) or `)))
		_, err = p.AddFaults([]platform.FaultRule{{Family: "custom_send", App: "oa", User: "alice", Errcode: intp(-1)}}, nil)
		Expect(err).To(MatchError(HaveSuffix(`(write the openid: ` + alice + ` (alice of oa))`)))
		Expect(p.Faults()).To(BeEmpty())
		_, err = p.AddFaults([]platform.FaultRule{{Family: "custom_send", User: alice, Errcode: intp(-1)}, {Push: "duplicate", User: "o_not_yet_seen"}}, nil)
		Expect(err).NotTo(HaveOccurred(), "an openid, known or not yet, is what a rule matches")
	})

	It("act on a cloud function's cloud.openapi call, which the gateway begins and ends", func() {
		_, _ = p.AddFaults([]platform.FaultRule{{Family: "custom_send", Errcode: intp(-1), Count: intp(1)}, {Family: "typing", Drop: true}}, nil)
		ctx, c := p.BeginCall(platform.WithVia(context.Background(), platform.ViaCloud), platform.PathCustomSend)
		c.SetApp(app)
		_, err := p.CustomSend(ctx, app, body)
		Expect(platform.Code(err)).To(Equal(-1))
		e := p.EndCall(c, nil, err, 1)
		Expect(e.API.Via).To(Equal(platform.ViaCloud))
		Expect(e.API.Injected).To(HaveField("Rule", "f1"))

		tctx, tc := p.BeginCall(platform.WithVia(context.Background(), platform.ViaCloud), platform.PathTyping)
		_, err = p.Typing(tctx, app, []byte(fmt.Sprintf(`{"touser":%q,"command":"Typing"}`, alice)))
		e = p.EndCall(tc, nil, err, 1)
		Expect(e.API.Injected).To(BeNil(), "a drop needs a connection: it does not match a cloud call")
	})

	It("take the config's rules at the start, and again with fresh counters after a reset", func() {
		cfg := config.Default()
		cfg.Faults.Rules = []config.FaultRule{{ID: "cfg", App: "oa", Family: "custom_send", Errcode: intp(-1), Count: intp(1)}}
		q := newPlatform(cfg)
		a, _ := q.App("oa")
		_, _ = q.Trigger("oa", alice, "message")
		_, err := q.CustomSend(context.Background(), a, body)
		Expect(platform.Code(err)).To(Equal(-1))
		Expect(q.Faults()).To(ConsistOf(And(HaveField("Rule.ID", "cfg"), HaveField("Rule.App", a.AppID), HaveField("Spent", true))))
		q.Reset()
		Expect(q.Faults()).To(ConsistOf(And(HaveField("Rule.ID", "cfg"), HaveField("Fired", 0))))
	})

	It("refuse to build with a rule the config validation would have refused", func() {
		cfg := config.Default()
		cfg.Faults.Rules = []config.FaultRule{{Family: "custom_snd", Errcode: intp(-1)}}
		_, err := platform.New(platform.Options{Config: cfg})
		Expect(err).To(MatchError(ContainSubstring(`faults.rules[0].family: unknown family "custom_snd" (did you mean "custom_send"?)`)))
	})
})
