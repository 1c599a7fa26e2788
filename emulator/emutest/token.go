package emutest

import (
	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
)

// Access tokens live their 7200 s on wall time by default (api.token_time: wall), as the bot's
// SDK counts them on its own clock: Advance(48 * time.Hour) does not expire a token behind the
// bot's back. ExpireTokens and RevokeTokens end them on purpose; SetTokenTime(true) puts them on
// virtual time, where Advance expires them.

// ExpireTokens makes every valid access_token and stable token of the app (alias or appid)
// expired now, as if its 7200 s had run out: the next call with one answers 42001 access_token
// expired, and /cgi-bin/token hands out a new one. A bot that caches its token must fetch a new
// one then.
func (e *Emu) ExpireTokens(app string) {
	ginkgo.GinkgoHelper()
	a := e.app(app)
	_, err := e.p.ExpireTokens(a.AppID)
	e.g.Expect(err).To(gomega.Succeed(), "emutest: expire the tokens of %s", a.Alias)
}

// RevokeTokens forgets every access_token and stable token of the app, as resetting its
// AppSecret does: the next call with one answers 40001 invalid credential.
func (e *Emu) RevokeTokens(app string) {
	ginkgo.GinkgoHelper()
	a := e.app(app)
	_, err := e.p.RevokeTokens(a.AppID)
	e.g.Expect(err).To(gomega.Succeed(), "emutest: revoke the tokens of %s", a.Alias)
}

// SetTokenTime puts access tokens on virtual time (true: Advance expires them after 7200 s) or
// back on wall time (false, the default). Tokens handed out before keep the time they had left.
func (e *Emu) SetTokenTime(virtual bool) { e.p.SetTokenTime(virtual) }
