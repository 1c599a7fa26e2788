package push

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/textenc"
	"github.com/wxemu/wxemu/emulator/wxcrypto"
)

// VerifyResult is the outcome of the GET handshake WeChat makes when a developer saves the
// callback URL (protocol §1.2).
type VerifyResult struct {
	Pass       bool              `json:"pass"`
	URL        string            `json:"url"`
	Echostr    string            `json:"echostr"`
	Status     int               `json:"status,omitempty"`
	Body       string            `json:"body"`
	DurationMS float64           `json:"duration_ms"`
	Error      string            `json:"error,omitempty"`
	Violations []rules.Violation `json:"violations"`
}

// Verify makes the GET handshake: signature, timestamp, nonce and a random echostr; it passes
// only if the bot answers 200 with exactly the echostr. OA and MP handshakes carry only these
// four parameters, whatever the encryption mode (protocol §1.2).
func (e *Engine) Verify(ctx context.Context, t *Target) *VerifyResult {
	ts := strconv.FormatInt(e.cfg.Clock.Now().Unix(), 10)
	nonce := e.digits(10)
	echostr := e.digits(19)
	r := &VerifyResult{Echostr: echostr, URL: t.withQuery([][2]string{
		{"signature", wxcrypto.Signature(t.Token, ts, nonce)},
		{"echostr", echostr},
		{"timestamp", ts},
		{"nonce", nonce},
	})}
	actx, cancel := e.attemptContext(ctx)
	defer cancel()
	start := clock.Real{}.Now()
	defer func() { r.DurationMS = float64(clock.Since(start).Microseconds()) / 1000 }()

	req, err := http.NewRequestWithContext(actx, http.MethodGet, r.URL, nil)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	req.Header.Set("User-Agent", "Mozilla/4.0 (wxemu)")
	resp, err := e.client.Do(req)
	if err == nil {
		defer resp.Body.Close()
		var body []byte
		body, err = io.ReadAll(io.LimitReader(resp.Body, 4096))
		r.Status, r.Body = resp.StatusCode, string(body)
	}
	if err != nil {
		timedOut := errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil
		r.Error = describeTransportError(err, timedOut, e.cfg.Timeout)
		if timedOut {
			r.Violations = append(r.Violations, rules.New(rules.PushTimeout, "no answer to the handshake within %s; WeChat reports the URL as unreachable and does not save it", e.cfg.Timeout))
		} else {
			r.Violations = append(r.Violations, rules.New(rules.PushConnection, "the callback URL %s could not be reached (%s); WeChat does not save it", t.URL, r.Error))
		}
		return r
	}
	switch {
	case r.Status != 200:
		r.Violations = append(r.Violations, rules.New(rules.VerifyStatus, "the handshake was answered with HTTP %d; WeChat needs 200 with the echostr and does not save the URL", r.Status))
	case r.Body == echostr:
		r.Pass = true
	case strings.TrimSpace(r.Body) == echostr:
		r.Violations = append(r.Violations, rules.New(rules.VerifyEchostr, "the answer is the echostr %q with white space around it; WeChat compares the body byte for byte and does not save the URL", echostr))
	default:
		r.Violations = append(r.Violations, rules.New(rules.VerifyEchostr, "the answer is %q, not the echostr %q; answer the raw echostr (not JSON, not encrypted) after checking the signature. WeChat does not save the URL", textenc.Clip(r.Body, 60), echostr))
	}
	return r
}
