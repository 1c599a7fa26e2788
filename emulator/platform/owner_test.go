package platform_test

import (
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/wire"
)

// sentinels is every exported error variable of the state and platform packages. The spec
// below reads the packages' source, so an error added there and not here fails it, and so does
// one that maps to nothing.
var sentinels = map[string]error{
	"state.ErrTokenMissing": state.ErrTokenMissing, "state.ErrTokenMalformed": state.ErrTokenMalformed,
	"state.ErrTokenUnknown": state.ErrTokenUnknown, "state.ErrTokenExpired": state.ErrTokenExpired,
	"state.ErrDailyQuota": state.ErrDailyQuota, "state.ErrForceRefreshQuota": state.ErrForceRefreshQuota,
	"state.ErrForceRefreshTooSoon": state.ErrForceRefreshTooSoon, "state.ErrNoWindow": state.ErrNoWindow,
	"state.ErrQuotaUsed": state.ErrQuotaUsed, "state.ErrUserUnknown": state.ErrUserUnknown,
	"state.ErrTypingNoInteraction": state.ErrTypingNoInteraction, "state.ErrAlreadyTyping": state.ErrAlreadyTyping,
	"state.ErrMediaUnknown": state.ErrMediaUnknown, "state.ErrMediaType": state.ErrMediaType,
	"state.ErrFileType": state.ErrFileType, "state.ErrMediaMissing": state.ErrMediaMissing,
	"state.ErrMediaEmpty": state.ErrMediaEmpty, "state.ErrMediaTooLarge": state.ErrMediaTooLarge,
	"state.ErrKfIllegalAccount": state.ErrKfIllegalAccount, "state.ErrKfAccountLength": state.ErrKfAccountLength,
	"state.ErrKfAccountIllegalChar": state.ErrKfAccountIllegalChar, "state.ErrKfIllegalNickname": state.ErrKfIllegalNickname,
	"state.ErrKfAccountExists": state.ErrKfAccountExists, "state.ErrKfAccountLimit": state.ErrKfAccountLimit,
	"state.ErrKfAccountUnknown": state.ErrKfAccountUnknown, "state.ErrKfAccountBound": state.ErrKfAccountBound,
	"state.ErrKfAlreadyInvited": state.ErrKfAlreadyInvited, "state.ErrKfInvitationPending": state.ErrKfInvitationPending,
	"state.ErrKfWeChatInvalid": state.ErrKfWeChatInvalid, "state.ErrKfAlreadyWorker": state.ErrKfAlreadyWorker,
	"state.ErrKfNotBound": state.ErrKfNotBound, "state.ErrKfOffline": state.ErrKfOffline,
	"state.ErrKfServedByAnother": state.ErrKfServedByAnother, "state.ErrKfNoSession": state.ErrKfNoSession,
	"state.ErrKfRangeTooLong": state.ErrKfRangeTooLong, "state.ErrKfParamInvalid": state.ErrKfParamInvalid,
	"state.ErrKfNotWaiting": state.ErrKfNotWaiting, "state.ErrKfInviteExpired": state.ErrKfInviteExpired,
	"platform.ErrUnknownApp": platform.ErrUnknownApp, "platform.ErrNoBot": platform.ErrNoBot,
	"platform.ErrBadMessage": platform.ErrBadMessage, "platform.ErrBadRequest": platform.ErrBadRequest,
	"platform.ErrNotFound": platform.ErrNotFound, "platform.ErrNotInSession": platform.ErrNotInSession,
	"platform.ErrRecording": platform.ErrRecording,
}

// exportedErrors lists the exported package-level variables named Err… in the non-test files
// of a package directory.
func exportedErrors(dir, pkg string) []string {
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	Expect(err).NotTo(HaveOccurred())
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		Expect(err).NotTo(HaveOccurred())
		for _, d := range file.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, spec := range g.Specs {
				for _, n := range spec.(*ast.ValueSpec).Names {
					if strings.HasPrefix(n.Name, "Err") && n.IsExported() {
						out = append(out, pkg+"."+n.Name)
					}
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

var _ = Describe("One error path", func() {
	It("knows every sentinel of state and platform, and maps each to a WeChat errcode or a control answer", func() {
		found := append(exportedErrors("../state", "state"), exportedErrors(".", "platform")...)
		Expect(found).NotTo(BeEmpty())
		for _, name := range found {
			err, ok := sentinels[name]
			Expect(ok).To(BeTrue(), "%s is a new error: add it to the sentinels of this spec, and map it in platform.Answer or platform.ControlAnswer", name)
			code, _, mapped := platform.Answer(err)
			status, _, cmapped := platform.ControlAnswer(err)
			Expect(mapped || cmapped).To(BeTrue(), "%s maps to nothing: WeChat's API would answer -1 and the control plane 500", name)
			if mapped {
				Expect(code).NotTo(Equal(wire.CodeSystemError), name)
				_, known := wire.Errmsg(code)
				Expect(known).To(BeTrue(), "%s maps to %d, which the errcode catalog does not have", name, code)
			}
			Expect(status).To(BeNumerically("<", 500), name)
		}
		Expect(sentinels).To(HaveLen(len(found)), "the spec lists an error the packages no longer have")
	})

	It("answers an unmapped error -1 on the wire and 500 on the control plane, saying it is wxemu's bug", func() {
		bug := fmt.Errorf("a bug")
		code, detail, mapped := platform.Answer(bug)
		Expect([]any{code, detail, mapped}).To(Equal([]any{-1, "a bug", false}))
		status, msg, cmapped := platform.ControlAnswer(bug)
		Expect(status).To(Equal(500))
		Expect(msg).To(ContainSubstring("wxemu failed"))
		Expect(cmapped).To(BeFalse())
		code, _, _ = platform.Answer(fmt.Errorf("send: %w", &wire.Error{Code: 45015, Detail: "closed"}))
		Expect(code).To(Equal(45015), "a wrapped wire error keeps its code")
	})

	It("reads every JSON body the same way: white space is 44002, not an object 47001", func() {
		var v struct{ A string }
		for body, code := range map[string]int{"": 44002, " \n\t": 44002, "[1]": 47001, "{": 47001, `{"A":1}`: 47001, "\xff": 47001} {
			Expect(platform.Code(platform.DecodeBody([]byte(body), &v))).To(Equal(code), "body %q", body)
		}
		Expect(platform.DecodeBody([]byte(`{"A":"x"}`), &v)).To(Succeed())
		Expect(v.A).To(Equal("x"))
	})
})

// transferBot answers a plaintext XML push: 人工 transfers to customer service, anything else
// gets no reply.
func transferBot() *httptest.Server {
	field := func(body, name string) string {
		m := regexp.MustCompile("<" + name + `><!\[CDATA\[(.*?)\]\]></` + name + ">").FindStringSubmatch(body)
		if m == nil {
			return ""
		}
		return m[1]
	}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body := string(b)
		if field(body, "Content") != "人工" {
			_, _ = io.WriteString(w, "success")
			return
		}
		fmt.Fprintf(w, "<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[transfer_customer_service]]></MsgType></xml>",
			field(body, "FromUserName"), field(body, "ToUserName"), time.Now().Unix())
	}))
}

var _ = Describe("The sole owner of state", func() {
	start := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	var (
		p    *platform.Platform
		clk  *clock.Fake
		wall *clock.Fake // token time: an export names it, so a round trip needs it to stand still
	)
	BeforeEach(func() {
		bot := transferBot()
		DeferCleanup(bot.Close)
		clk, wall = clock.NewFake(start), clock.NewFake(start)
		var err error
		p, err = platform.New(platform.Options{Clock: clk, WallClock: wall, Targets: map[string]string{"oa": bot.URL + "/wx"}, PushTimeout: 5 * time.Second})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(p.Close)
	})

	// consistent checks what no single store can: each agent serves as many users as there are
	// sessions with it, no user both waits and is served, and what a user's one grant has spent
	// is what their transcript shows as customer-service messages (the ledger and the
	// transcripts move together, or not at all).
	consistent := func(s *platform.Snapshot) {
		spent := map[string]int{}
		for _, ug := range s.Grants {
			for _, g := range ug.Grants {
				if g.Max > 0 {
					spent[ug.OpenID] += g.Max - g.Remaining
				}
			}
		}
		for _, t := range s.Transcripts {
			shown := 0
			for _, l := range t.Lines {
				if l.Kind == platform.LineCustom {
					shown++
				}
			}
			Expect(shown).To(Equal(spent[t.OpenID]), "%s: sends shown and sends spent", t.OpenID)
		}
		for _, a := range s.KF.Apps {
			served := map[string]int{}
			inSession := map[string]bool{}
			for _, se := range a.Sessions {
				served[se.Account]++
				inSession[se.OpenID] = true
			}
			for _, ag := range a.Agents {
				Expect(ag.Accepted).To(Equal(served[ag.Account]), "agent %s: accepted_case and its sessions", ag.Account)
			}
			for _, w := range a.Waiting {
				Expect(inSession[w.OpenID]).To(BeFalse(), "%s both waits and is served", w.OpenID)
			}
		}
	}

	It("exports one consistent state in the middle of a burst of sends and transfers, and it imports into an equal state", func() {
		ctx := context.Background()
		oa, _ := p.App("oa")
		const users = 48
		var wg sync.WaitGroup
		for i := range users {
			openid := fmt.Sprintf("o6_bmjBurst%017d", i)
			wg.Go(func() {
				defer GinkgoRecover()
				// One message, so one grant of 5: what it has spent is what the user was shown.
				_, err := p.UserSends(ctx, "oa", openid, wire.Message{MsgType: "text", Content: "人工"})
				Expect(err).NotTo(HaveOccurred())
				body := fmt.Sprintf(`{"touser":%q,"msgtype":"text","text":{"content":"n"}}`, openid)
				for range 5 {
					_, _ = p.CustomSend(ctx, oa, []byte(body))
				}
				if i%3 == 0 {
					_ = p.AgentAccept(ctx, "oa", "kf1@wxemu_demo", openid)
				}
				if s, ok := p.KFSession(oa.AppID, openid); ok && i%2 == 0 {
					_ = p.AgentClose(ctx, "oa", s.Account, openid)
				}
			})
		}
		// Exports run back to back for as long as the burst does.
		var snaps []*platform.Snapshot
		burst, exported := make(chan struct{}), make(chan struct{})
		go func() {
			defer GinkgoRecover()
			defer close(exported)
			for {
				select {
				case <-burst:
					return
				default:
					snaps = append(snaps, p.Export())
				}
			}
		}()
		wg.Wait()
		close(burst)
		<-exported
		snaps = append(snaps, p.Export())
		for _, s := range snaps {
			consistent(s)
		}
		for i, s := range snaps {
			if i%25 != 0 && i != len(snaps)-1 {
				continue
			}
			q, err := platform.New(platform.Options{Clock: clock.NewFake(start), WallClock: wall})
			Expect(err).NotTo(HaveOccurred())
			Expect(q.Import(s)).To(Succeed())
			again := q.Export()
			q.Close()
			want, _ := json.Marshal(s)
			got, _ := json.Marshal(again)
			Expect(string(got)).To(Equal(string(want)))
		}
		last := snaps[len(snaps)-1]
		Expect(last.Users).To(ContainElements(HaveField("OpenID", "o6_bmjBurst00000000000000000"), HaveField("OpenID", fmt.Sprintf("o6_bmjBurst%017d", users-1))))
		// What the ledger let through is what the users saw: the two stores moved together.
		for i := range users {
			openid := fmt.Sprintf("o6_bmjBurst%017d", i)
			delivered := 0
			for _, e := range p.Journal(platform.JournalFilter{User: openid, Kind: platform.KindAPI}) {
				if e.API.Path == platform.PathCustomSend && e.API.Errcode == 0 {
					delivered++
				}
			}
			shown := 0
			for _, l := range p.Transcript(oa.AppID, openid) {
				if l.Kind == platform.LineCustom {
					shown++
				}
			}
			Expect(shown).To(Equal(delivered), openid)
			Expect(delivered).To(BeNumerically("<=", 5), "a message opens 5 sends")
		}
		var sessions, waiting int
		for _, a := range last.KF.Apps {
			sessions += len(a.Sessions)
			waiting += len(a.Waiting)
		}
		Expect(sessions+waiting).To(BeNumerically(">", 0), "the burst transferred users")
	})

	It("resets in the middle of a burst to one consistent state", func() {
		ctx := context.Background()
		var wg sync.WaitGroup
		for i := range 16 {
			openid := fmt.Sprintf("o6_bmjReset%017d", i)
			wg.Go(func() {
				defer GinkgoRecover()
				_, err := p.UserSends(ctx, "oa", openid, wire.Message{MsgType: "text", Content: "人工"})
				Expect(err).NotTo(HaveOccurred())
			})
			if i == 8 {
				p.Reset()
			}
		}
		wg.Wait()
		consistent(p.Export())
		Expect(p.Agents(config.DemoOAAppID)).To(HaveLen(3), "the configured agents are back")
	})

	It("ends a kf session at its 30th minute on the clock's timer, with no call in between, and lets the agent take the next user then", func() {
		ctx := context.Background()
		oa, _ := p.App("oa")
		kf2, _ := p.Agent(oa.AppID, "kf2@wxemu_demo")
		capacity := 1
		_, err := p.AgentSet(ctx, "oa", "kf2@wxemu_demo", platform.AgentStatus{Capacity: &capacity})
		Expect(err).NotTo(HaveOccurred())
		Expect(kf2.AutoAccept).To(BeTrue())
		_, err = p.UserSends(ctx, "oa", config.DemoAliceOA, wire.Message{MsgType: "text", Content: "人工"})
		Expect(err).NotTo(HaveOccurred())
		clk.Advance(10 * time.Minute)
		_, err = p.UserSends(ctx, "oa", config.DemoBobOA, wire.Message{MsgType: "text", Content: "人工"})
		Expect(err).NotTo(HaveOccurred())
		s, ok := p.KFSession(oa.AppID, config.DemoAliceOA)
		Expect(ok).To(BeTrue())
		Expect(s.Account).To(Equal("kf2@wxemu_demo"))
		_, waits := p.KFWaiting(oa.AppID, config.DemoBobOA)
		Expect(waits).To(BeTrue(), "kf2 is full")

		mark := p.LastSeq()
		p.Advance(25 * time.Minute) // nobody looks between the 30th minute and the end of this
		var expired, accepted *platform.Entry
		for _, e := range p.Journal(platform.JournalFilter{Kind: platform.KindKF, Since: mark}) {
			switch {
			case e.KF.Kind == state.KFExpired && e.User == config.DemoAliceOA:
				expired = &e
			case e.KF.Kind == state.KFAccepted && e.User == config.DemoBobOA:
				accepted = &e
			}
		}
		Expect(expired).NotTo(BeNil(), "alice's session expired on the timer")
		Expect(expired.Time).To(Equal(start.Add(30*time.Minute)), "at its deadline, not when someone looked")
		Expect(accepted).NotTo(BeNil(), "kf2 took bob when it was freed")
		Expect(accepted.Time).To(Equal(start.Add(30 * time.Minute)))
		Expect(accepted.Seq).To(BeNumerically(">", expired.Seq))
	})
})
