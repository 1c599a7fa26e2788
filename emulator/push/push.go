package push

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/textenc"
	"github.com/wxemu/wxemu/emulator/wire"
	"github.com/wxemu/wxemu/emulator/wxcrypto"
)

// Outcome is what came of a push, from the user's side.
type Outcome string

const (
	// None: the bot answered `success` or an empty body; the user sees nothing.
	None Outcome = "none"
	// Replied: the bot's passive reply reaches the user.
	Replied Outcome = "reply"
	// Transferred: the bot handed the user to the human-agent (kf) system.
	Transferred Outcome = "transfer"
	// Failed: WeChat got no usable answer; the user sees the failure line.
	Failed Outcome = "failed"
)

// The system lines a user sees when a bot fails (protocol §3.1).
const (
	FailureLineOA = "该公众号暂时无法提供服务，请稍后再试"
	FailureLineMP = "该小程序客服暂时无法提供服务，请稍后再试"
)

// FailureLine is the system line the user of an app of kind k sees when its bot fails.
func FailureLine(k wire.Kind) string {
	if k == wire.MP {
		return FailureLineMP
	}
	return FailureLineOA
}

// Result is everything about one push: what was sent, every attempt, the answer, the verdict.
type Result struct {
	Outcome    Outcome           `json:"outcome"`
	Reply      *wire.Reply       `json:"reply,omitempty"`
	KfAccount  string            `json:"kf_account,omitempty"`
	UserSees   string            `json:"user_sees,omitempty"`
	Violations []rules.Violation `json:"violations"`
	Attempts   []Attempt         `json:"attempts"`

	// Message is the message as pushed, with the header fields the engine filled in.
	Message wire.Message `json:"message"`
	Request Request      `json:"request"`
	Answer  *Answer      `json:"answer,omitempty"`
}

// Request is the HTTP request WeChat sends; the query string of each attempt is in Attempts.
type Request struct {
	Method      string `json:"method"`
	ContentType string `json:"content_type"`
	Body        string `json:"body"`
	// Plaintext is the message before encryption; equal to Body in plaintext mode.
	Plaintext string `json:"plaintext"`
}

// Answer is the bot's HTTP answer that the verdict is about.
type Answer struct {
	Status      int    `json:"status"`
	ContentType string `json:"content_type,omitempty"`
	// ContentEncoding is the answer's Content-Encoding header, when it has one.
	ContentEncoding string `json:"content_encoding,omitempty"`
	Body            string `json:"body"`
	// Decrypted is the reply inside an encrypted envelope.
	Decrypted string `json:"decrypted,omitempty"`
}

// Attempt is one POST of the message.
type Attempt struct {
	N          int       `json:"n"`
	URL        string    `json:"url"`
	Started    time.Time `json:"started"`
	DurationMS float64   `json:"duration_ms"`
	Status     int       `json:"status,omitempty"`
	TimedOut   bool      `json:"timed_out,omitempty"`
	Error      string    `json:"error,omitempty"`
	// Output is what a cloud function printed while it ran (a push to a URL has none).
	Output []Output `json:"output,omitempty"`
	// LimitMS is a cloud function's time limit (a push to a URL has none).
	LimitMS int64 `json:"limit_ms,omitempty"`
	// Ended is how a cloud function's invocation ended, in words: "returned", "threw",
	// "timed out" … (a push to a URL has none).
	Ended string `json:"ended,omitempty"`
}

// FunctionPrefix starts the URL of an attempt that invoked a cloud function: "function NAME".
const FunctionPrefix = "function "

// Function is the name of the cloud function the attempt invoked; "" for a POST to a URL.
func (a *Attempt) Function() string {
	if name, ok := strings.CutPrefix(a.URL, FunctionPrefix); ok && !strings.Contains(a.URL, "://") {
		return name
	}
	return ""
}

// Invocation describes a cloud function's attempt as the reports show it, for example
// "invoke function kf (3 s limit)".
func (a *Attempt) Invocation() string {
	s := "invoke function " + a.Function()
	if a.LimitMS > 0 {
		s += " (" + strconv.FormatFloat(float64(a.LimitMS)/1000, 'f', -1, 64) + " s limit)"
	}
	return s
}

// Printed is what a cloud function printed during the attempt, one line each, a stdout line
// marked "  " and a stderr line "! ", clipped to n bytes (textenc.ClipBody); "" when it printed
// nothing.
func (a *Attempt) Printed(n int) string {
	var b strings.Builder
	for _, o := range a.Output {
		mark := "  "
		if o.Stream == "stderr" {
			mark = "! "
		}
		for _, line := range strings.Split(strings.TrimRight(o.Text, "\n"), "\n") {
			b.WriteString(mark + line + "\n")
		}
	}
	return strings.TrimRight(textenc.ClipBody(b.String(), n), "\n")
}

// Return describes how a cloud function's attempt ended, for example "returned" or
// "threw: boom".
func (a *Attempt) Return() string {
	ended := a.Ended
	if ended == "" {
		switch {
		case a.TimedOut:
			ended = "timed out"
		case a.Error != "":
			ended = "failed"
		default:
			ended = "returned"
		}
	}
	if a.Error != "" {
		return ended + ": " + a.Error
	}
	return ended
}

// Output is one write of a cloud function to its stdout or stderr.
type Output struct {
	Stream string `json:"stream"` // stdout or stderr
	Text   string `json:"text"`
}

// HasError reports whether the verdict holds an error-severity violation.
func (r *Result) HasError() bool { return rules.HasError(r.Violations) }

// Push delivers msg to the target's bot and judges the answer. msg is not modified: the engine
// works on a copy, filling in ToUserName (the original id), CreateTime (virtual now) and, for a
// user message without one, MsgId. Push never returns nil; a canceled ctx ends the attempts.
func (e *Engine) Push(ctx context.Context, t *Target, msg *wire.Message) *Result {
	return e.push(ctx, t, msg, Tamper{})
}

// Tamper spoils the signatures of a push, to check that a bot refuses what WeChat did not sign.
type Tamper struct {
	Signature    bool // a wrong signature query parameter
	MsgSignature bool // a wrong msg_signature (encrypted modes only)
}

// PushTampered is Push with spoiled signatures. A correct bot refuses the push (any status but
// 200, or no content): the caller judges that from the result.
func (e *Engine) PushTampered(ctx context.Context, t *Target, msg *wire.Message, tamper Tamper) *Result {
	return e.push(ctx, t, msg, tamper)
}

// Resend delivers the body of an earlier push again, as WeChat's retry does: the same message
// (same MsgId, same CreateTime), freshly signed. The answer is judged like any other.
func (e *Engine) Resend(ctx context.Context, t *Target, prev *Result) *Result {
	return e.push(ctx, t, &prev.Message, Tamper{})
}

func (e *Engine) push(ctx context.Context, t *Target, msg *wire.Message, tamper Tamper) *Result {
	m := *msg
	now := e.cfg.Clock.Now()
	if m.ToUserName == "" {
		m.ToUserName = t.OriginalID
	}
	if m.CreateTime == 0 {
		m.CreateTime = now.Unix()
	}
	if !m.IsEvent() && m.MsgId == 0 && m.MsgIdText == "" {
		m.MsgId = e.nextMsgID()
	}
	m.Encrypt = ""
	res := &Result{Message: m, Request: Request{Method: http.MethodPost}, Violations: []rules.Violation{}}

	plain := encode(&m, t.Format, nil)
	body := plain
	var encrypted string
	if t.Mode != wire.Plain {
		enc, err := t.cipher.Encrypt(e.random16(), plain)
		if err != nil {
			// The cipher was checked by NewTarget; failing here is a bug, not a bot's fault.
			panic(fmt.Sprintf("push: encrypt: %v", err))
		}
		encrypted = enc
		if t.Mode == wire.Compat {
			withEnc := m
			withEnc.Encrypt = enc
			body = encode(&withEnc, t.Format, nil)
		} else if t.Format == wire.JSON {
			body = wxcrypto.AppendRequestJSON(nil, m.ToUserName, enc)
		} else {
			body = wxcrypto.AppendRequestXML(nil, m.ToUserName, enc)
		}
	}
	res.Request.ContentType = contentType(t.Format)
	res.Request.Body = string(body)
	res.Request.Plaintext = res.Request.Body
	if t.Mode != wire.Plain {
		res.Request.Plaintext = string(plain)
	}

	var last, tried *answer
	var hdr http.Header
	if t.Container {
		hdr = t.ContainerHeaders(m.FromUserName)
	}
	for n := 1; n <= e.cfg.MaxAttempts; n++ {
		var u string
		if t.Container {
			// No signature, timestamp, nonce or openid: a container is reached on WeChat's
			// intranet and trusts the source header (protocol §8.5).
			u = t.URL
		} else {
			u = t.withQuery(e.query(t, m.FromUserName, encrypted, tamper))
		}
		a := e.attempt(ctx, t, n, u, res.Request.ContentType, body, hdr)
		res.Attempts = append(res.Attempts, a.Attempt)
		tried = a
		if a.answered {
			last = a
			break
		}
		if ctx.Err() != nil {
			break
		}
	}
	if last == nil {
		e.noAnswer(t, res, tried)
		return res
	}
	if n := len(res.Attempts); n > 1 {
		res.Violations = append(res.Violations, rules.New(rules.PushRetried,
			"the bot answered only on attempt %d: WeChat sent this message %d times with the same body, so the bot must tolerate duplicates (dedupe by MsgId, or FromUserName+CreateTime for events)", n, n))
	}
	res.Answer = &Answer{Status: last.status, ContentType: last.contentType, ContentEncoding: last.contentEncoding, Body: string(last.body)}
	e.judge(t, res, last)
	return res
}

// query builds the signed query string of one attempt (protocol §1.3). Every attempt gets a
// fresh timestamp and nonce.
// Deviation: whether WeChat's retries re-sign the query is open (protocol §3.1, §10.6); wxemu does.
func (e *Engine) query(t *Target, openid, encrypted string, tamper Tamper) [][2]string {
	ts := strconv.FormatInt(e.cfg.Clock.Now().Unix(), 10)
	nonce := e.digits(10)
	q := make([][2]string, 0, 6)
	q = append(q,
		[2]string{"signature", wxcrypto.Signature(t.Token, ts, nonce)},
		[2]string{"timestamp", ts},
		[2]string{"nonce", nonce})
	if t.Kind == wire.OA || t.Mode != wire.Plain || e.cfg.OpenIDInMPPlain {
		q = append(q, [2]string{"openid", openid})
	}
	if t.Mode != wire.Plain {
		q = append(q,
			[2]string{"encrypt_type", "aes"},
			[2]string{"msg_signature", wxcrypto.MsgSignature(t.Token, ts, nonce, encrypted)})
	}
	if tamper.Signature {
		q[0][1] = spoil(q[0][1])
	}
	if tamper.MsgSignature && t.Mode != wire.Plain {
		q[len(q)-1][1] = spoil(q[len(q)-1][1])
	}
	return q
}

type answer struct {
	Attempt
	answered    bool
	status      int
	contentType string
	// contentEncoding is the answer's Content-Encoding header.
	contentEncoding string
	body            []byte
	tooLarge        bool
	// canceled: the caller's context ended the attempt (wxemu shutting down, or the requester
	// gone), not the bot.
	canceled bool
	// unreadable: the bot answered, but its answer could not be read whole (Error says how).
	unreadable bool
}

// ErrShutdown is the cause to cancel a push's context with (context.WithCancelCause) when wxemu
// is shutting down: the push is then reported as cut short by the shutdown.
var ErrShutdown = errors.New("wxemu is shutting down")

// canceledBy describes why ctx, which has ended, cut a push short.
func canceledBy(ctx context.Context) string {
	if errors.Is(context.Cause(ctx), ErrShutdown) {
		return "the push was cut short because wxemu is shutting down"
	}
	return "the push was cut short on wxemu's side (" + context.Cause(ctx).Error() + ": wxemu is shutting down, or whoever asked for the push went away)"
}

// Header values shared by every push; the transport only reads them.
var (
	contentTypes = map[string][]string{contentType(wire.XML): {contentType(wire.XML)}, contentType(wire.JSON): {contentType(wire.JSON)}}
	userAgent    = []string{"Mozilla/4.0 (wxemu)"}
)

func (e *Engine) attempt(ctx context.Context, t *Target, n int, u, ct string, body []byte, extra http.Header) *answer {
	a := &answer{Attempt: Attempt{N: n, URL: u}}
	actx, cancel := e.attemptContext(ctx)
	defer cancel()
	a.Started = clock.Real{}.Now()
	defer func() { a.DurationMS = float64(clock.Since(a.Started).Microseconds()) / 1000 }()

	// The request is put together from the target's parsed URL rather than by parsing u again:
	// this is the hot path of every push.
	req, err := http.NewRequestWithContext(actx, http.MethodPost, "", nil)
	if err != nil {
		a.Error = err.Error()
		return a
	}
	target := *t.base
	if i := strings.IndexByte(u, '?'); i >= 0 {
		target.RawQuery = u[i+1:]
	}
	req.URL, req.Host = &target, target.Host
	req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	req.Header = http.Header{"Content-Type": contentTypes[ct], "User-Agent": userAgent}
	for k, v := range extra {
		req.Header[k] = v
	}
	resp, err := e.client.Do(req)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			a.canceled, a.Error = true, canceledBy(ctx)
		case strings.Contains(err.Error(), "server response headers exceeded"):
			// net/http has no error value for this; its message is stable since Go 1.7.
			a.unreadable = true
			a.Error = fmt.Sprintf("the answer's headers are larger than %d bytes (%s), so its body was not read", e.cfg.MaxHeaderBytes, describeTransportError(err, false, 0))
		default:
			a.TimedOut = errors.Is(err, context.DeadlineExceeded)
			a.Error = describeTransportError(err, a.TimedOut, e.cfg.Timeout)
		}
		return a
	}
	defer resp.Body.Close()
	a.Status = resp.StatusCode
	data, err := io.ReadAll(io.LimitReader(resp.Body, e.cfg.MaxReplyBytes+1))
	if err != nil {
		switch {
		case ctx.Err() != nil:
			a.canceled, a.Error = true, canceledBy(ctx)
		case errors.Is(err, context.DeadlineExceeded):
			a.TimedOut = true
			a.Error = describeTransportError(err, true, e.cfg.Timeout)
		case errors.Is(err, io.ErrUnexpectedEOF) && resp.ContentLength > 0:
			a.unreadable = true
			a.Error = fmt.Sprintf("the answer was cut off after %d of %d bytes: HTTP %d announced Content-Length: %d, then the connection closed", len(data), resp.ContentLength, resp.StatusCode, resp.ContentLength)
		case errors.Is(err, io.ErrUnexpectedEOF):
			a.unreadable = true
			a.Error = fmt.Sprintf("the answer was cut off after %d bytes: the HTTP %d body ended before its last chunk", len(data), resp.StatusCode)
		default:
			a.unreadable = true
			a.Error = fmt.Sprintf("the HTTP %d answer broke off after %d bytes of its body: %s", resp.StatusCode, len(data), describeTransportError(err, false, 0))
		}
		return a
	}
	if int64(len(data)) > e.cfg.MaxReplyBytes {
		a.tooLarge = true
		data = data[:e.cfg.MaxReplyBytes]
	}
	a.answered, a.status, a.contentType, a.body = true, resp.StatusCode, resp.Header.Get("Content-Type"), data
	a.contentEncoding = resp.Header.Get("Content-Encoding")
	return a
}

func describeTransportError(err error, timedOut bool, limit time.Duration) string {
	if timedOut {
		return fmt.Sprintf("no answer within %s", limit)
	}
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner.Error()
		}
	}
	return err.Error()
}

// noAnswer is the verdict when every attempt went unanswered.
// tried is the last attempt.
func (e *Engine) noAnswer(t *Target, res *Result, tried *answer) {
	res.Outcome = Failed
	res.UserSees = FailureLine(t.Kind)
	last := res.Attempts[len(res.Attempts)-1]
	what := "the callback URL"
	if t.Container {
		what = "the container"
	}
	switch {
	case tried.canceled:
		// Deviation: real WeChat has no such case. The outcome stays failed (no answer was
		// judged), but the violation is a warning: the bot is not to blame.
		res.Violations = append(res.Violations, rules.New(rules.PushCanceled,
			"%s (attempt %d), before %s %s answered; this says nothing about the bot, and the push was not judged",
			last.Error, last.N, what, t.URL))
		return
	case tried.unreadable:
		res.Violations = append(res.Violations, rules.New(rules.PushAnswerUnreadable,
			"%s answered, but %s (attempt %d of %d); WeChat gets no usable answer, gives up and the user sees 「%s」",
			what, last.Error, last.N, len(res.Attempts), res.UserSees))
		return
	}
	if last.TimedOut {
		res.Violations = append(res.Violations, rules.New(rules.PushTimeout,
			"no answer within %s on any of %d attempts; WeChat gives up and the user sees 「%s」. Answer within 5 s: reply `success` at once and send the content later with the customer-service API",
			e.cfg.Timeout, len(res.Attempts), res.UserSees))
		return
	}
	res.Violations = append(res.Violations, rules.New(rules.PushConnection,
		what+" %s could not be reached on any of %d attempts (%s); WeChat gives up and the user sees 「%s」",
		t.URL, len(res.Attempts), last.Error, res.UserSees))
}

func contentType(f wire.Format) string {
	if f == wire.JSON {
		return "application/json"
	}
	return "text/xml; charset=utf-8"
}

func encode(m *wire.Message, f wire.Format, dst []byte) []byte {
	if f == wire.JSON {
		return m.AppendJSON(dst)
	}
	return m.AppendXML(dst)
}

// spoil changes the first hex digit of a signature, so it is well-formed and wrong.
func spoil(sig string) string {
	if sig == "" {
		return "0"
	}
	c := byte('0')
	if sig[0] == '0' {
		c = '1'
	}
	return string(c) + sig[1:]
}
