package emutest

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/harness"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/wire"
)

// Exchange is what came of one thing a user did — or of a push WeChat made again (Retry) or
// never made (Forge): the interaction (where it went, the verdict on the bot's answer, the
// hand-overs a transfer caused), the chat as the user saw it once the push was over, and what
// followed it in the journal.
//
// What followed an exchange is everything about its user from the action on, until the user's
// next action through emutest (a Send, a Retry, a Forge, an agent acting on them) closes it. A
// bot may answer `success` and send later, from a goroutine: the matchers that read what
// followed (wxmatch.HaveSent, HaveSentMessage, BeRefused) and Sends wait for it the way
// Gomega's Eventually and then Consistently do — until what is expected has happened, for at
// most the within bound (default 1 s), then for a quiet window (default 100 ms) in which
// nothing more may happen about the user, so that one send too many fails too. Judge an exchange
// before the user acts again: a closed exchange is judged at once, on what it holds.
type Exchange struct {
	*platform.Interaction
	User *User
	// Message is what the user sent, as the spec built it; the push of it, with the header
	// WeChat fills in, is Result.Message.
	Message wire.Message
	// Transcript is what the user had seen once the push was over.
	Transcript []platform.Line
	// Since and Until bound the journal entries of the push itself: (Since, Until]. What
	// followed it starts after Since too.
	Since, Until uint64
	// RetryOf is the exchange this one delivered again, for WeChat's retry (Retry); nil for a
	// push WeChat made once.
	RetryOf *Exchange
	// Forged names the signatures a forged push had wrong ("signature and msg_signature",
	// "signature", "msg_signature"); "" for a push WeChat signed.
	Forged string

	act    *harness.Act // the push itself
	w      *window
	within time.Duration
	quiet  time.Duration
}

// window is what the views of one exchange share: where what followed it ends. A nil window (an
// Exchange a spec built itself) stays open and has seen nothing.
type window struct {
	mu   sync.Mutex      // guards end and seen
	end  uint64          // 0 while open: the user's next action sets it to its mark
	seen []platform.Line // what the user had seen when the exchange was last judged
}

func (w *window) until() uint64 {
	if w == nil {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.end
}

func (w *window) close(at uint64) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.end == 0 {
		w.end = at
	}
}

func (w *window) setSeen(lines []platform.Line) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = lines
}

func (w *window) lastSeen() []platform.Line {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen
}

// Send has the user send m (build it with Text, Image, Click, …): WeChat records it, routes it
// to the bot or to the agent serving the user, and judges the bot's answer. A platform error — a
// message the app's kind does not receive, an app without a bot — fails the spec.
func (u *User) Send(m wire.Message) *Exchange {
	ginkgo.GinkgoHelper()
	ex, err := u.TrySend(m)
	u.e.g.Expect(err).NotTo(gomega.HaveOccurred(), "emutest: %s could not send %s", u, DescribeMessage(&m))
	return ex
}

// TrySend is Send that returns the platform's error instead of failing the spec.
func (u *User) TrySend(m wire.Message) (*Exchange, error) {
	ginkgo.GinkgoHelper()
	in, act, err := u.e.h.hx.UserSends(background(), u.AppID, u.OpenID, m)
	u.e.h.closeExchange(u, act.Since)
	if err != nil {
		return nil, err
	}
	u.e.checkStrict()
	return u.exchange(u.withInjected(in, act), act, m), nil
}

// exchange makes the exchange of an act and makes it the user's open one.
func (u *User) exchange(in *platform.Interaction, act *harness.Act, m wire.Message) *Exchange {
	ex := &Exchange{
		Interaction: in, User: u, Message: m, act: act,
		Transcript: u.Transcript(),
		Since:      act.Since, Until: act.Until,
		w:      &window{},
		within: u.e.h.within, quiet: u.e.h.quiet,
	}
	u.e.h.openExchange(u, ex.w)
	return ex
}

// Retry delivers the exchange's push again, as WeChat does when it gets no answer in time: the
// same body, the same MsgId (an event: the same FromUserName and CreateTime). The user sees
// nothing of it. What followed the retry is the returned exchange's, so
//
//	Expect(ex.Retry()).To(wxmatch.HaveSent(wxmatch.Sends(0)))
//
// fails a bot that acts on a duplicate, even when it sends a while after answering. A message
// that went to an agent, not to the bot, fails the spec.
func (ex *Exchange) Retry() *Exchange {
	ginkgo.GinkgoHelper()
	u := ex.User
	u.e.g.Expect(ex.Interaction).NotTo(gomega.BeNil(), "emutest: Retry: the exchange holds no push")
	u.e.g.Expect(ex.Result).NotTo(gomega.BeNil(), "emutest: Retry: %s went to %s, not to the bot: WeChat has nothing to retry",
		ex.Describe(), ex.Routed)
	var res *platform.PushResult
	act, err := u.e.h.hx.Do(u.AppID, u.OpenID, func() error {
		var err error
		res, err = u.e.p.Replay(background(), ex.Interaction)
		return err
	})
	u.e.h.closeExchange(u, act.Since)
	u.e.g.Expect(err).NotTo(gomega.HaveOccurred(), "emutest: Retry of %s", ex.Describe())
	u.e.checkStrict()
	r := u.exchange(probeInteraction(ex.Interaction.App, u, res, act), act, ex.Message)
	r.RetryOf = ex
	return r
}

// Forge pushes m to the bot as the user's message with the signatures wrong — both signature
// and msg_signature in compatible and safe mode, signature in plain mode — as someone who is
// not WeChat would: wxmatch.BeRefused judges the bot's answer and what followed. WeChat's
// state does not change, and the user sees nothing of it.
func (u *User) Forge(m wire.Message) *Exchange {
	ginkgo.GinkgoHelper()
	t := platform.Tamper{Signature: true, MsgSignature: u.encrypted()}
	return u.forge(m, t)
}

// ForgeMsgSignature is Forge with only msg_signature wrong and signature right: a bot that
// checks signature alone takes it, though nothing ties the encrypted body to the query. Plain
// mode has no msg_signature, so there it fails the spec.
func (u *User) ForgeMsgSignature(m wire.Message) *Exchange {
	ginkgo.GinkgoHelper()
	u.e.g.Expect(u.encrypted()).To(gomega.BeTrue(),
		"emutest: ForgeMsgSignature: %s is in plain mode, whose pushes have no msg_signature; use Forge", u.App)
	return u.forge(m, platform.Tamper{MsgSignature: true})
}

func (u *User) encrypted() bool {
	ginkgo.GinkgoHelper()
	mode := u.e.app(u.AppID).Mode
	return mode != "" && mode != config.ModePlain
}

func (u *User) forge(m wire.Message, t platform.Tamper) *Exchange {
	ginkgo.GinkgoHelper()
	var res *platform.PushResult
	act, err := u.e.h.hx.Do(u.AppID, u.OpenID, func() error {
		var err error
		res, err = u.e.p.ProbeSignature(background(), u.AppID, u.OpenID, m, t)
		return err
	})
	u.e.h.closeExchange(u, act.Since)
	u.e.g.Expect(err).NotTo(gomega.HaveOccurred(), "emutest: %s could not forge %s", u, DescribeMessage(&m))
	u.e.checkStrict()
	ex := u.exchange(probeInteraction(u.AppID, u, res, act), act, m)
	ex.Forged = tamperWords(t)
	return ex
}

func tamperWords(t platform.Tamper) string {
	var wrong []string
	if t.Signature {
		wrong = append(wrong, "signature")
	}
	if t.MsgSignature {
		wrong = append(wrong, "msg_signature")
	}
	return strings.Join(wrong, " and ")
}

// probeInteraction is the interaction of a push WeChat did not make on the user's behalf: it went
// to the bot, and nowhere else.
func probeInteraction(app string, u *User, res *platform.PushResult, act *harness.Act) *platform.Interaction {
	in := &platform.Interaction{App: app, OpenID: u.OpenID, Routed: platform.RoutedBot, Result: res}
	if ps := act.Pushes(); len(ps) > 0 {
		in.Journal = ps[len(ps)-1].Seq
	}
	return in
}

// Describe names the exchange in a few words: `text "hi" of alice (o6_…) of oa`, `WeChat's retry
// of …`, `a forged push (wrong signature) of …`.
func (ex *Exchange) Describe() string {
	if ex == nil {
		return "nil"
	}
	what := DescribeMessage(&ex.Message)
	switch {
	case ex.RetryOf != nil:
		return fmt.Sprintf("WeChat's retry of %s of %s", what, ex.User)
	case ex.Forged != "":
		return fmt.Sprintf("a forged push (wrong %s) of %s as %s", ex.Forged, what, ex.User)
	}
	return fmt.Sprintf("%s of %s", what, ex.User)
}

// BotReceived lists what WeChat pushed to the bot for the user during the action: the message
// itself, and the kf_create_session a transfer to an auto-accepting agent raises. A retry and a
// forged push are not WeChat's pushes of the user's messages: they are not listed.
func (ex *Exchange) BotReceived() []wire.Message { return ex.act.Received() }

// Within returns the exchange judged with another bound for what is expected to arrive, in place
// of the emulator's (WithSettle): Expect(ex.Within(3 * time.Second)).To(wxmatch.HaveSent(…)).
func (ex *Exchange) Within(d time.Duration) *Exchange {
	ginkgo.GinkgoHelper()
	ex.User.e.g.Expect(d).To(gomega.BeNumerically(">=", 0), "emutest: Within(%s): a bound is not negative", d)
	c := *ex
	c.within = d
	return &c
}

// QuietFor returns the exchange judged with another quiet window, in place of the emulator's
// (WithSettle): how long nothing more may happen once what is expected has.
func (ex *Exchange) QuietFor(d time.Duration) *Exchange {
	ginkgo.GinkgoHelper()
	ex.User.e.g.Expect(d).To(gomega.BeNumerically(">=", 0), "emutest: QuietFor(%s): a window is not negative", d)
	c := *ex
	c.quiet = d
	return &c
}

// Bounds are how the exchange is judged: what is expected may take up to within to arrive, and
// then nothing more may happen for quiet.
func (ex *Exchange) Bounds() (within, quiet time.Duration) { return ex.within, ex.quiet }

// Open reports whether what followed the exchange may still grow: the user has not acted since.
func (ex *Exchange) Open() bool { return ex.w.until() == 0 }

// followed is what followed the action, up to the user's next action or up to now.
func (ex *Exchange) followed() *harness.Act {
	a := ex.User.e.h.hx.After(ex.User.AppID, ex.User.OpenID, ex.Since)
	a.Until = ex.w.until()
	return a
}

// Settle judges what followed the action the way Gomega's Eventually and then Consistently do
// (harness.Settle): it waits until done reports true, for at most the within bound, then for the
// quiet window, looking again at each new journal entry about the user, and reports whether done
// still holds at the end. It wakes on the journal, never on a timer. A closed exchange (the user
// acted since) is judged at once. When something in the quiet window spoils what had held — a
// send too many — Settle lets the bot finish (WaitQuiet) and calls done once more before it
// reports false, so that a failure message shows all the bot did. The wxmatch matchers judge
// with it; done is called from Settle's goroutine only.
func (ex *Exchange) Settle(done func(*harness.Act) bool) bool {
	a := ex.followed()
	within, quiet := ex.within, ex.quiet
	if a.Until != 0 {
		within, quiet = 0, 0
	}
	ok := ex.User.e.settle(ex.User, within, quiet, func() bool { return done(a) })
	ex.w.setSeen(ex.User.Transcript())
	return ok
}

// settle is harness.Settle, then, when what had held was spoiled in the quiet window, a wait for
// the bot to finish and a last look, for the failure message.
func (e *Emu) settle(u *User, within, quiet time.Duration, done func() bool) bool {
	held := false
	ok := e.h.hx.Settle(background(), u.AppID, u.OpenID, within, quiet, func() bool {
		r := done()
		held = held || r
		return r
	})
	if !ok && held && quiet > 0 {
		e.h.hx.Quiet(background(), u.AppID, u.OpenID, quiet, within+quiet)
		done()
	}
	return ok
}

// Sends lists the bot's customer-service sends to the user that followed the action, refused
// ones included, once the bot has gone quiet (WaitQuiet). A bot that sends only after a pause
// longer than the quiet window sends after Sends has looked: wxmatch.HaveSent, which knows what
// to wait for, waits for it.
func (ex *Exchange) Sends() []harness.SendRecord {
	ginkgo.GinkgoHelper()
	if ex.Open() {
		ex.User.e.waitQuiet(ex.User, ex.within, ex.quiet)
		ex.w.setSeen(ex.User.Transcript())
	}
	return ex.followed().Sends()
}

// sendsNow is what Sends returns, without waiting: for messages.
func (ex *Exchange) sendsNow() []harness.SendRecord { return ex.followed().Sends() }

// seen is what the user saw by the time the exchange was last judged, or when its push was over.
func (ex *Exchange) seen() []platform.Line {
	if s := ex.w.lastSeen(); s != nil {
		return s
	}
	return ex.Transcript
}

// WaitQuiet waits until nothing has happened about the user for the quiet window (WithSettle,
// default 100 ms) — no push, no API call, no kf change — for at most the within bound plus that
// window, and fails the spec if the bot keeps going. It returns the user, to read what they saw:
//
//	Expect(alice.WaitQuiet()).To(wxmatch.ShowUser("message 1 of 2", "message 2 of 2"))
//
// It waits on the journal, not on a timer.
func (u *User) WaitQuiet() *User {
	ginkgo.GinkgoHelper()
	u.e.waitQuiet(u, u.e.h.within, u.e.h.quiet)
	return u
}

func (e *Emu) waitQuiet(u *User, within, quiet time.Duration) {
	ginkgo.GinkgoHelper()
	if quiet <= 0 {
		return
	}
	if e.h.hx.Quiet(background(), u.AppID, u.OpenID, quiet, within+quiet) {
		return
	}
	var last []string
	for _, en := range e.p.Journal(platform.JournalFilter{User: u.OpenID, Limit: 5}) {
		last = append(last, fmt.Sprintf("#%d %s", en.Seq, en.Summary))
	}
	e.g.Expect(false).To(gomega.BeTrue(), "emutest: the bot did not go quiet about %s: something happened at least every %s for %s; the last entries:\n%s",
		u, quiet, within+quiet, indent(strings.Join(last, "\n")))
}

// Settle judges what the journal holds about the user, all of it, as Exchange.Settle does, with
// the emulator's bounds (WithSettle).
func (u *User) Settle(done func(*harness.Act) bool) bool {
	a := u.e.h.hx.After(u.AppID, u.OpenID, 0)
	return u.e.settle(u, u.e.h.within, u.e.h.quiet, func() bool { return done(a) })
}

// Bounds are how the user's sends are judged: the emulator's (WithSettle).
func (u *User) Bounds() (within, quiet time.Duration) { return u.e.h.within, u.e.h.quiet }

// openExchange makes w the user's open exchange.
func (h *shared) openExchange(u *User, w *window) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.open[u.AppID+"\x00"+u.OpenID] = w
}

// closeExchange ends what followed the user's open exchange at mark, where their next action
// began.
func (h *shared) closeExchange(u *User, mark uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	key := u.AppID + "\x00" + u.OpenID
	if w := h.open[key]; w != nil {
		w.close(mark)
		delete(h.open, key)
	}
}
