package emutest

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/harness"
	"github.com/wxemu/wxemu/emulator/platform"
)

// User is a person talking to one app. One person has a different openid in each app, as in
// WeChat, so "alice" and "alice@mp" are two Users.
type User struct {
	Name   string // as the configuration or the spec names them; empty for NewUser's
	OpenID string
	App    string // the app's alias ("oa"), or its appid when it has none
	AppID  string
	e      *Emu
}

// User returns a user by name: "alice" in the first app of the configuration, "alice@mp" in
// another; an openid works too. A name the configuration does not have is a new person with a
// random openid, who follows the app; asking for the same name again gives the same person.
func (e *Emu) User(name string) *User {
	ginkgo.GinkgoHelper()
	appKey := ""
	if n, a, ok := strings.Cut(name, "@"); ok {
		name, appKey = n, a
	}
	e.g.Expect(name).NotTo(gomega.BeEmpty(), "emutest: User(%q): the name is empty", name)
	app := e.app(appKey)
	if cu, ok := app.User(name); ok {
		return &User{Name: cu.Name, OpenID: cu.OpenID, App: alias(app), AppID: app.AppID, e: e}
	}
	e.h.mu.Lock()
	key := app.AppID + "\x00" + name
	openid, known := e.h.fresh[key]
	if !known {
		openid = e.freshOpenID(app)
		e.h.fresh[key] = openid
	}
	e.h.mu.Unlock()
	e.p.EnsureUser(app.AppID, openid, name, true)
	return &User{Name: name, OpenID: openid, App: alias(app), AppID: app.AppID, e: e}
}

// NewUser returns a person no one has seen before, who follows app (alias or appid; "" is the
// first app).
func (e *Emu) NewUser(app string) *User {
	ginkgo.GinkgoHelper()
	a := e.app(app)
	e.h.mu.Lock()
	openid := e.freshOpenID(a)
	e.h.mu.Unlock()
	e.p.EnsureUser(a.AppID, openid, "", true)
	return &User{OpenID: openid, App: alias(a), AppID: a.AppID, e: e}
}

// freshOpenID makes an openid no user of the app has: 28 characters that begin as the app's
// configured users' do, because real openids of one app share their first six. The caller holds
// e.h.mu.
func (e *Emu) freshOpenID(app *platform.App) string {
	prefix := "o"
	if len(app.Users) > 0 && len(app.Users[0].OpenID) >= 6 {
		prefix = app.Users[0].OpenID[:6]
	}
	for {
		var b [21]byte
		if _, err := e.h.ids.Read(b[:]); err != nil {
			panic(fmt.Sprintf("emutest: random openid: %v", err))
		}
		id := (prefix + base64.RawURLEncoding.EncodeToString(b[:]))[:28]
		if _, taken := e.p.User(app.AppID, id); !taken {
			return id
		}
	}
}

func alias(a *platform.App) string {
	if a.Alias != "" {
		return a.Alias
	}
	return a.AppID
}

// Emu is the emulator the user belongs to; nil for a User not made by Emu.User or Emu.NewUser.
func (u *User) Emu() *Emu { return u.e }

// WithGomega returns the same person whose helpers assert with g (inside Eventually).
func (u *User) WithGomega(g gomega.Gomega) *User {
	c := *u
	c.e = u.e.WithGomega(g)
	return &c
}

// String is how messages name the user: "alice (o6_bmjrPTlm6_2sgVt7hMZOPfL2M) of oa".
func (u *User) String() string {
	if u.Name == "" {
		return fmt.Sprintf("user %s of %s", u.OpenID, u.App)
	}
	return fmt.Sprintf("%s (%s) of %s", u.Name, u.OpenID, u.App)
}

// Label is the user's name in a transcript: their name, or "user".
func (u *User) Label() string {
	if u.Name != "" {
		return u.Name
	}
	return "user"
}

// Transcript is everything the user has seen and done so far, oldest first.
func (u *User) Transcript() []platform.Line { return u.e.p.Transcript(u.AppID, u.OpenID) }

// Sends lists every customer-service send of the bot to the user the journal still holds, as it
// is now: u.WaitQuiet().Sends() first lets the bot finish.
func (u *User) Sends() []harness.SendRecord { return u.e.h.hx.After(u.AppID, u.OpenID, 0).Sends() }

// Grants are the user's open windows for customer-service messages, with what is left of each.
func (u *User) Grants() []platform.Grant { return u.e.p.Grants(u.AppID, u.OpenID) }

// ServedBy is the kf account serving the user, or "" when none is.
func (u *User) ServedBy() string {
	s, ok := u.e.p.KFSession(u.AppID, u.OpenID)
	if !ok {
		return ""
	}
	return s.Account
}

// Waiting reports whether the user waits for an agent (in the queue or assigned to one).
func (u *User) Waiting() bool {
	_, ok := u.e.p.KFWaiting(u.AppID, u.OpenID)
	return ok
}

// Trigger opens a window without a push: "payment" (which has none), or any trigger by name
// ("message", "click", "subscribe", "scan", "tempsession").
func (u *User) Trigger(trigger string) []platform.Grant {
	ginkgo.GinkgoHelper()
	g, err := u.e.p.Trigger(u.AppID, u.OpenID, trigger)
	u.e.g.Expect(err).NotTo(gomega.HaveOccurred(), "emutest: %s: trigger %q", u, trigger)
	return g
}

// Subscribed reports whether the user follows the app.
func (u *User) Subscribed() bool {
	su, ok := u.e.p.User(u.AppID, u.OpenID)
	return ok && su.Subscribed
}
