package specs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/journal"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/wire"
)

// These specs are the regressions of an adversarial review of wxemu's state: a clock moved until
// it wraps, a journal filled with megabyte answers, and an import that contradicts itself.

// hostilePlatform is an in-process platform on the default configuration; clk nil is the clock
// of `wxemu serve` (real time plus an offset).
func hostilePlatform(cfg *config.Config, clk platform.Clock, targets map[string]string) *platform.Platform {
	GinkgoHelper()
	if cfg == nil {
		cfg = config.Default()
	}
	p, err := platform.New(platform.Options{Config: cfg, Clock: clk, Targets: targets})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(p.Close)
	return p
}

var _ = Describe("hostile state", func() {
	Describe("the clock", func() {
		It("refuses advances that would wrap the offset, naming the limit, and reset puts it back on real time", func() {
			p := hostilePlatform(nil, nil, nil)
			err := p.Advance(2562047 * time.Hour)
			Expect(errors.Is(err, platform.ErrBadRequest)).To(BeTrue(), "%v", err)
			Expect(err).To(MatchError(ContainSubstring("may not pass")))
			Expect(p.Advance(90 * time.Minute)).To(Succeed())
			Expect(p.Now()).To(BeTemporally("~", time.Now().Add(90*time.Minute), time.Minute))
			Expect(p.Now().Unix()).To(BeNumerically(">", 0), "a CreateTime is never negative")

			Expect(p.Advance(150 * 365 * 24 * time.Hour)).To(Succeed())
			err = p.Advance(40 * 365 * 24 * time.Hour)
			Expect(err).To(MatchError(ContainSubstring("must stay before 2200-01-01T00:00:00Z")))
			Expect(p.Now().Year()).To(BeNumerically("<", 2200))

			p.Reset()
			Expect(p.Now()).To(BeTemporally("~", time.Now(), time.Minute))
			Expect(p.Advanced()).To(BeZero())
		})

		It("refuses an import at the end of time, and the clock goes on sanely", func() {
			p := hostilePlatform(nil, nil, nil)
			snap := p.Export()
			snap.Time = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
			err := p.Import(snap)
			Expect(errors.Is(err, platform.ErrBadRequest)).To(BeTrue(), "%v", err)
			Expect(err).To(MatchError(ContainSubstring("time: 9999-12-31T23:59:59Z is outside 1970-01-01T00:00:00Z … 2200-01-01T00:00:00Z")))
			Expect(p.Advance(time.Hour)).To(Succeed())
			Expect(p.Now().Year()).To(BeNumerically("<", 2200))
			Expect(p.Now().Unix()).To(BeNumerically(">", 0))
		})

		It("leaves a fake clock where it is on reset, since it cannot go back", func() {
			start := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
			fake := clock.NewFake(start)
			p := hostilePlatform(nil, fake, nil)
			Expect(p.Advance(time.Hour)).To(Succeed())
			p.Reset()
			Expect(p.Now()).To(Equal(start.Add(time.Hour)))
			Expect(p.Advance(180 * 365 * 24 * time.Hour)).To(MatchError(ContainSubstring("must stay before 2200")))
		})
	})

	Describe("the journal", func() {
		It("stays within journal.max_bytes when a bot answers megabytes, and shows the drops", func() {
			answer := strings.Repeat("x", 1<<20)
			bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				_, _ = io.WriteString(w, answer)
			}))
			DeferCleanup(bot.Close)
			cfg := config.Default()
			cfg.Journal.MaxBytes = config.MiB
			p := hostilePlatform(cfg, clock.NewFake(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)), map[string]string{"*": bot.URL + "/wx"})
			app := p.Apps()[0]
			for i := 0; i < 20; i++ {
				_, err := p.UserSends(context.Background(), app.AppID, "o_hostile", wire.Message{MsgType: "text", Content: fmt.Sprint("hi ", i)})
				Expect(err).NotTo(HaveOccurred())
			}
			st := p.JournalStats()
			Expect(st.Bytes).To(BeNumerically("<=", 1<<20))
			Expect(st.MaxBytes).To(Equal(1 << 20))
			Expect(st.Dropped).To(BeNumerically(">", 0))
			Expect(st.DroppedBytes).To(BeNumerically(">", 0))
			pushes := p.Journal(platform.JournalFilter{Kind: journal.KindPush})
			Expect(pushes).NotTo(BeEmpty())
			last := pushes[len(pushes)-1]
			Expect(last.Push.Answer.Body).To(HaveSuffix(fmt.Sprintf("… (%d bytes dropped)", 1<<20-journal.BodyLimit)))
		})
	})

	Describe("an import", func() {
		It("is refused whole, with every problem's path, and changes nothing", func() {
			p := hostilePlatform(nil, clock.NewFake(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)), nil)
			before := p.Export()
			snap := p.Export()
			Expect(snap.KF.Apps).NotTo(BeEmpty())
			kf := &snap.KF.Apps[0]
			Expect(kf.Agents).NotTo(BeEmpty())
			now := snap.Time
			good := kf.Agents[0].Account
			kf.Sessions = append(kf.Sessions,
				state.Session{App: kf.App, OpenID: "o_good", Account: good, Created: now, LastActivity: now},
				state.Session{App: kf.App, OpenID: "o_ghost", Account: "kf9@x", Created: now, LastActivity: now})
			kf.Agents[0].Capacity = -5
			kf.Waiting = append(kf.Waiting, state.Waiting{App: kf.App, OpenID: "o_wait", Since: now, Latest: now, Account: "kf8@x"})
			snap.Users = append(snap.Users, state.User{App: "wx_nope", OpenID: "o_x", Subscribed: true})
			snap.Grants = append(snap.Grants, state.UserGrants{App: kf.App, OpenID: "o_good", Grants: []state.Grant{
				{Trigger: "telepathy", Max: 5, Remaining: 9, Opened: now, Expires: now.Add(time.Hour)},
			}})
			snap.Transcripts = append(snap.Transcripts, state.TranscriptSnapshot{App: kf.App, OpenID: "o_good", Lines: []state.Line{
				{Time: time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), From: state.FromUser, Kind: "shout", Text: "hi"},
			}})

			err := p.Import(snap)
			Expect(errors.Is(err, platform.ErrBadRequest)).To(BeTrue(), "%v", err)
			n := len(kf.Sessions) - 1
			for _, want := range []string{
				fmt.Sprintf(`kf.apps[0].sessions[%d].kf_account: no agent "kf9@x"`, n),
				`kf.apps[0].agents[0].capacity: -5`,
				fmt.Sprintf(`kf.apps[0].waiting[%d].kf_account: no agent "kf8@x"`, len(kf.Waiting)-1),
				fmt.Sprintf(`users[%d].app: no app with appid "wx_nope"`, len(snap.Users)-1),
				fmt.Sprintf(`grants[%d].grants[0].trigger: "telepathy"`, len(snap.Grants)-1),
				fmt.Sprintf(`grants[%d].grants[0].remaining: 9: must be between 0 and max (5)`, len(snap.Grants)-1),
				fmt.Sprintf(`transcripts[%d].lines[0].kind: "shout"`, len(snap.Transcripts)-1),
				fmt.Sprintf(`transcripts[%d].lines[0].time: 1600-01-01T00:00:00Z is outside`, len(snap.Transcripts)-1),
			} {
				Expect(err.Error()).To(ContainSubstring(want))
			}
			after := p.Export()
			Expect(after.Users).To(Equal(before.Users))
			Expect(after.Grants).To(Equal(before.Grants))
			Expect(after.Transcripts).To(Equal(before.Transcripts))
			Expect(after.KF).To(Equal(before.KF), "nothing was imported")
			_, ok := p.KFSession(kf.App, "o_ghost")
			Expect(ok).To(BeFalse())
		})

		It("still takes a sound export", func() {
			p := hostilePlatform(nil, clock.NewFake(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)), nil)
			Expect(p.Import(p.Export())).To(Succeed())
		})
	})
})
