package platform

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/state"
)

// snapshotCheck gathers the problems of a snapshot, each with its JSON path, so that an import
// answers all of them at once and changes nothing.
type snapshotCheck struct {
	p        *Platform
	problems []string
}

func (c *snapshotCheck) add(path, format string, args ...any) {
	c.problems = append(c.problems, path+": "+fmt.Sprintf(format, args...))
}

// app checks that an appid names a configured app: state of an app that does not exist would be
// held and never reached, or reached through a lookup that then disagrees with another.
func (c *snapshotCheck) app(path, appID string) bool {
	for _, a := range c.p.apps {
		if a.AppID == appID {
			return true
		}
	}
	c.add(path, "no app with appid %q%s", appID, DidYouMean(appID, c.appIDs()))
	return false
}

func (c *snapshotCheck) appIDs() []string {
	ids := make([]string, 0, len(c.p.apps))
	for _, a := range c.p.apps {
		ids = append(ids, a.AppID)
	}
	return ids
}

// time checks that t is unset or in the sane range of virtual time (clock.InRange).
func (c *snapshotCheck) time(path string, t time.Time) {
	if !t.IsZero() && !clock.InRange(t) {
		c.add(path, "%s is outside %s … %s", t.UTC().Format(time.RFC3339), clock.Epoch.Format(time.RFC3339), clock.Horizon.Format(time.RFC3339))
	}
}

func (c *snapshotCheck) oneOf(path, v string, allowed []string) {
	if !slices.Contains(allowed, v) {
		c.add(path, "%q%s is not one of %s", v, DidYouMean(v, allowed), strings.Join(allowed, ", "))
	}
}

func (c *snapshotCheck) openid(path, openid string) {
	if openid == "" {
		c.add(path, "the openid is empty")
	}
}

// checkSnapshot validates a snapshot whole before Import changes anything: references (every
// record names a configured app; sessions and waiting users name existing agents), ranges
// (capacity at least 1, grants' remaining within their max), times (inside the sane range of
// virtual time, and an advance to the snapshot's time within clock.MaxAdvance) and enumerations
// (triggers, line kinds and senders, invitation statuses, kf event kinds). Agents' accepted
// counts are not trusted: Restore counts the sessions again. It returns one BadRequest joining
// every problem, or nil.
func (p *Platform) checkSnapshot(s *Snapshot) error {
	c := &snapshotCheck{p: p}
	if s.Version != SnapshotVersion {
		c.add("version", "%d: this wxemu reads version %d", s.Version, SnapshotVersion)
	}
	if s.Time.IsZero() || !clock.InRange(s.Time) {
		c.add("time", "%s is outside %s … %s", s.Time.UTC().Format(time.RFC3339), clock.Epoch.Format(time.RFC3339), clock.Horizon.Format(time.RFC3339))
	} else if ahead := s.Time.Sub(p.clock.Now()); ahead > 0 {
		p.advMu.Lock()
		err := p.checkAdvance(ahead)
		p.advMu.Unlock()
		if err != nil {
			c.add("time", "the clock would move to it: %s", strings.TrimPrefix(err.Error(), ErrBadRequest.Error()+": "))
		}
	}
	c.time("token_time", s.TokenTime)
	for i, u := range s.Users {
		at := fmt.Sprintf("users[%d]", i)
		c.app(at+".app", u.App)
		c.openid(at+".openid", u.OpenID)
		c.time(at+".last_interaction", u.LastInteraction)
		c.time(at+".last_message", u.LastMessage)
		c.time(at+".typing_until", u.TypingUntil)
	}
	for i, ug := range s.Grants {
		at := fmt.Sprintf("grants[%d]", i)
		c.app(at+".app", ug.App)
		c.openid(at+".openid", ug.OpenID)
		for k, g := range ug.Grants {
			gat := fmt.Sprintf("%s.grants[%d]", at, k)
			c.oneOf(gat+".trigger", string(g.Trigger), TriggerNames)
			switch {
			case g.Max < state.Unlimited:
				c.add(gat+".max", "%d: a count of at least 0, or %d for no limit", g.Max, state.Unlimited)
			case g.Max == state.Unlimited && g.Remaining != state.Unlimited:
				c.add(gat+".remaining", "%d: a grant without a limit (max %d) has remaining %d", g.Remaining, state.Unlimited, state.Unlimited)
			case g.Max != state.Unlimited && (g.Remaining < 0 || g.Remaining > g.Max):
				c.add(gat+".remaining", "%d: must be between 0 and max (%d)", g.Remaining, g.Max)
			}
			c.time(gat+".opened", g.Opened)
			c.time(gat+".expires", g.Expires)
		}
	}
	for i, t := range s.Tokens.Tokens {
		at := fmt.Sprintf("tokens.tokens[%d]", i)
		c.app(at+".appid", t.AppID)
		c.time(at+".issued", t.Issued)
		c.time(at+".expires", t.Expires)
		c.time(at+".valid_until", t.ValidUntil)
	}
	for i, q := range s.Tokens.Apps {
		at := fmt.Sprintf("tokens.apps[%d]", i)
		c.app(at+".appid", q.AppID)
		c.time(at+".day", q.Day)
	}
	for i, m := range s.Media {
		at := fmt.Sprintf("media[%d]", i)
		c.app(at+".appid", m.AppID)
		c.time(at+".created", m.Created)
		c.time(at+".expires", m.Expires)
	}
	lineKinds := []string{state.LineMessage, state.LineEvent, state.LineReply, state.LineCustom, state.LineSystem, state.LineFault}
	froms := []string{state.FromUser, state.FromBot, state.FromAgent, state.FromSystem}
	for i, t := range s.Transcripts {
		at := fmt.Sprintf("transcripts[%d]", i)
		c.app(at+".app", t.App)
		c.openid(at+".openid", t.OpenID)
		for k, l := range t.Lines {
			lat := fmt.Sprintf("%s.lines[%d]", at, k)
			c.oneOf(lat+".kind", l.Kind, lineKinds)
			c.oneOf(lat+".from", l.From, froms)
			c.time(lat+".time", l.Time)
		}
	}
	for i, a := range s.KF.Apps {
		c.kfApp(fmt.Sprintf("kf.apps[%d]", i), a)
	}
	if len(c.problems) == 0 {
		return nil
	}
	return BadRequest("state import refused, nothing imported: %d problem(s):\n%s", len(c.problems), strings.Join(c.problems, "\n"))
}

// kfApp checks one app's kf state: its agents, and that every session and assigned waiting user
// names one of them.
func (c *snapshotCheck) kfApp(at string, a state.KFAppSnapshot) {
	c.app(at+".app", a.App)
	agents := map[string]bool{}
	var accounts []string
	for k, ag := range a.Agents {
		aat := fmt.Sprintf("%s.agents[%d]", at, k)
		switch {
		case ag.Account == "":
			c.add(aat+".kf_account", "the account is empty")
		case agents[ag.Account]:
			c.add(aat+".kf_account", "%q appears twice", ag.Account)
		}
		agents[ag.Account] = true
		accounts = append(accounts, ag.Account)
		if ag.Capacity < 1 {
			c.add(aat+".capacity", "%d: an agent takes at least 1 session", ag.Capacity)
		}
		if ag.Accepted < 0 {
			c.add(aat+".accepted_case", "%d: a count of sessions is at least 0", ag.Accepted)
		}
		c.oneOf(aat+".invite_status", ag.InviteStatus, []string{"", "waiting", "rejected", "expired"})
		c.time(aat+".invite_expire_time", ag.InviteExpires)
	}
	agent := func(path, account string) {
		if !agents[account] {
			c.add(path, "no agent %q%s", account, DidYouMean(account, accounts))
		}
	}
	sessions := map[string]bool{}
	for k, ss := range a.Sessions {
		sat := fmt.Sprintf("%s.sessions[%d]", at, k)
		c.openid(sat+".openid", ss.OpenID)
		if sessions[ss.OpenID] {
			c.add(sat+".openid", "%q has two sessions", ss.OpenID)
		}
		sessions[ss.OpenID] = true
		agent(sat+".kf_account", ss.Account)
		c.time(sat+".created", ss.Created)
		c.time(sat+".last_activity", ss.LastActivity)
	}
	for k, w := range a.Waiting {
		wat := fmt.Sprintf("%s.waiting[%d]", at, k)
		c.openid(wat+".openid", w.OpenID)
		if sessions[w.OpenID] {
			c.add(wat+".openid", "%q waits and is in a session at once", w.OpenID)
		}
		if w.Account != "" {
			agent(wat+".kf_account", w.Account)
		}
		c.time(wat+".since", w.Since)
		c.time(wat+".latest_time", w.Latest)
	}
	for k, r := range a.Records {
		c.time(fmt.Sprintf("%s.records[%d].time", at, k), r.Time)
	}
	kinds := []string{state.KFQueued, state.KFAssigned, state.KFAccepted, state.KFClosed, state.KFSwitched, state.KFExpired}
	for k, e := range a.Pending {
		c.oneOf(fmt.Sprintf("%s.pending[%d].kind", at, k), e.Kind, kinds)
	}
}
