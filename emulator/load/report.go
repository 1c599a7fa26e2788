package load

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Report is what a run found. Its JSON is `wxemu load --json`.
type Report struct {
	App         string  `json:"app"`
	AppID       string  `json:"appid"`
	Kind        string  `json:"kind"`
	Mode        string  `json:"mode"`
	Model       string  `json:"model"` // closed (users at once) or open (a rate)
	Users       int     `json:"users"`
	Concurrency int     `json:"concurrency,omitempty"`
	Rate        float64 `json:"rate,omitempty"`
	Mix         string  `json:"mix,omitempty"`
	Script      string  `json:"script,omitempty"` // the scenario each user ran
	DurationS   float64 `json:"duration_s,omitempty"`
	PushesAsked int     `json:"pushes_asked,omitempty"`
	Interrupted bool    `json:"interrupted,omitempty"`

	// ElapsedS is from the first push to the end of the last.
	ElapsedS float64 `json:"elapsed_s"`
	// Throughput is messages sent per second of ElapsedS.
	Throughput float64 `json:"throughput_per_s"`
	// Late are the pushes of the open model that started behind their time (no user was free).
	Late      int64   `json:"late"`
	MaxLateMS float64 `json:"max_late_ms"`
	// Unsent are the pushes of the open model that were due and found no user free before the
	// run's end: the bot did not keep up with the rate.
	Unsent int64 `json:"unsent"`

	Counts
	Latency     Latency `json:"latency_ms"`
	DeadlineMS  float64 `json:"deadline_ms"`
	MaxAttempts int     `json:"max_attempts"`

	Violations []RuleCount `json:"violations"`
	APICalls   []APICount  `json:"api_calls"`

	Checks []Check `json:"thresholds"`
	Passed bool    `json:"passed"`

	latency Histogram
}

// Latency is the wall time of the pushes, from the user's message to the end of the push
// (every attempt, retries included), in milliseconds: nearest-rank quantiles within 1 %, exact
// max and mean.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Thresholds make a run fail (wxemu load's exit status 1).
type Thresholds struct {
	// MaxP99, when positive, is the largest p99 latency that passes.
	MaxP99 time.Duration
	// MaxFailed is the most failed pushes that pass (count), or with FailedPct, their most
	// percentage of the pushes sent. Default 0: any failed push fails the run.
	MaxFailed float64
	FailedPct bool
}

// ParseMaxFailed reads --max-failed: N pushes, or P% of them.
func ParseMaxFailed(s string) (float64, bool, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || v < 0 || v > 100 {
			return 0, false, fmt.Errorf("%q is not a percentage from 0%% to 100%%, e.g. 0.5%%", s)
		}
		return v, true, nil
	}
	v, err := strconv.ParseUint(s, 10, 63)
	if err != nil {
		return 0, false, fmt.Errorf("%q is neither a number of pushes (e.g. 10) nor a percentage (e.g. 1%%)", s)
	}
	return float64(v), false, nil
}

// Check is one threshold and how the run did against it.
type Check struct {
	Name   string `json:"name"`
	Limit  string `json:"limit"`
	Actual string `json:"actual"`
	Passed bool   `json:"passed"`
}

// Judge checks the report against t and sets Checks and Passed. A run that was interrupted or
// in which no message was sent does not pass.
func (rep *Report) Judge(t Thresholds) {
	rep.Checks = nil
	// A push the open model never sent (the bot did not keep up with the rate) is a failed one:
	// WeChat would have delivered it, and the user would have waited for an answer.
	failed := rep.Failed + rep.Errors + rep.Unsent
	if t.FailedPct {
		pct := 0.0
		if due := rep.Sent + rep.Unsent; due > 0 {
			pct = 100 * float64(failed) / float64(due)
		}
		rep.Checks = append(rep.Checks, Check{Name: "max-failed", Limit: fmtNum(t.MaxFailed) + "%",
			Actual: fmt.Sprintf("%s%% (%d of %d)", fmtNum(pct), failed, rep.Sent+rep.Unsent), Passed: pct <= t.MaxFailed})
	} else {
		rep.Checks = append(rep.Checks, Check{Name: "max-failed", Limit: fmtNum(t.MaxFailed),
			Actual: strconv.FormatInt(failed, 10), Passed: float64(failed) <= t.MaxFailed})
	}
	if t.MaxP99 > 0 {
		p99 := rep.latency.Quantile(0.99)
		rep.Checks = append(rep.Checks, Check{Name: "max-p99", Limit: t.MaxP99.String(),
			Actual: fmtDur(p99), Passed: p99 <= t.MaxP99})
	}
	rep.Passed = !rep.Interrupted && rep.Sent > 0
	for _, c := range rep.Checks {
		rep.Passed = rep.Passed && c.Passed
	}
}

// WriteJSON writes the report as one JSON document.
func (rep *Report) WriteJSON(w io.Writer) error {
	if rep.Violations == nil {
		rep.Violations = []RuleCount{}
	}
	if rep.APICalls == nil {
		rep.APICalls = []APICount{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteText writes the report for a person.
func (rep *Report) WriteText(w io.Writer) {
	users := strconv.Itoa(rep.Users) + " users"
	if rep.Users == 1 {
		users = "1 user"
	}
	how := fmt.Sprintf("closed model, %s, %d at a time", users, rep.Concurrency)
	if rep.Model == "open" {
		how = fmt.Sprintf("open model, %s pushes/s over %s", fmtNum(rep.Rate), users)
	}
	what := "mix " + rep.Mix
	if rep.Script != "" {
		what = "each user runs " + strconv.Quote(rep.Script)
	}
	fmt.Fprintf(w, "wxemu load: app %s (%s, %s, %s mode) — %s, %s\n", rep.App, rep.AppID, strings.ToUpper(rep.Kind), rep.Mode, how, what)
	if rep.Interrupted {
		fmt.Fprintln(w, "INTERRUPTED: the run was stopped; pushes in flight were cut")
	}
	fmt.Fprintf(w, "throughput   %d messages in %.1f s: %s per second\n", rep.Sent, rep.ElapsedS, fmtNum(rep.Throughput))
	if rep.Model == "open" {
		fmt.Fprintf(w, "late         %d pushes started behind their time (max %s late), %d due were not sent before the end: no user was free\n",
			rep.Late, fmtDur(msDur(rep.MaxLateMS)), rep.Unsent)
	}
	fmt.Fprintf(w, "outcomes     %d replied · %d success/empty · %d transferred · %d failed (the user saw the failure line)",
		rep.Replied, rep.None, rep.Transferred, rep.FailedOutcome)
	if rep.NotPushed > 0 {
		fmt.Fprintf(w, " · %d went to an agent, not the bot", rep.NotPushed)
	}
	fmt.Fprintln(w)
	if rep.Errors > 0 {
		fmt.Fprintf(w, "errors       %d messages could not be sent: %s\n", rep.Errors, rep.FirstError)
	}
	deadline := fmtDur(msDur(rep.DeadlineMS))
	if rep.Pushed > 0 {
		fmt.Fprintf(w, "latency      p50 %s · p90 %s · p99 %s · max %s · mean %s   (WeChat's deadline: %s per attempt)\n",
			fmtDur(msDur(rep.Latency.P50)), fmtDur(msDur(rep.Latency.P90)), fmtDur(msDur(rep.Latency.P99)),
			fmtDur(msDur(rep.Latency.Max)), fmtDur(msDur(rep.Latency.Mean)), deadline)
	}
	fmt.Fprintf(w, "deadline     %d of %d attempts got no answer within %s; WeChat would have retried %d pushes and given up on %d (after %d attempts)\n",
		rep.TimedOut, rep.Attempts, deadline, rep.Retried, rep.GivenUp, rep.MaxAttempts)
	if len(rep.Violations) == 0 {
		fmt.Fprintln(w, "violations   none")
	} else {
		fmt.Fprintln(w, "violations   by rule:")
		for _, v := range rep.Violations {
			ref := ""
			if v.Ref != "" {
				ref = " (protocol " + v.Ref + ")"
			}
			fmt.Fprintf(w, "  %8d  %-7s %s%s\n            e.g. %s\n", v.Count, v.Severity, v.Rule, ref, v.Example)
		}
	}
	if len(rep.APICalls) == 0 {
		fmt.Fprintln(w, "API calls    none")
	} else {
		fmt.Fprintln(w, "API calls    by path and errcode:")
		for _, a := range rep.APICalls {
			fmt.Fprintf(w, "  %8d  %-40s %6d %s\n", a.Count, a.Path, a.Errcode, a.Errmsg)
		}
	}
	if len(rep.Checks) > 0 {
		fmt.Fprintln(w, "thresholds")
		for _, c := range rep.Checks {
			verdict := "ok"
			if !c.Passed {
				verdict = "FAILED"
			}
			fmt.Fprintf(w, "  %-11s limit %-10s actual %-22s %s\n", c.Name, c.Limit, c.Actual, verdict)
		}
	}
	switch {
	case rep.Passed:
		fmt.Fprintln(w, "result       passed")
	case rep.Interrupted:
		fmt.Fprintln(w, "result       not judged: interrupted")
	case rep.Sent == 0:
		fmt.Fprintln(w, "result       FAILED: no message was sent")
	default:
		fmt.Fprintln(w, "result       FAILED")
	}
}

func msDur(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// fmtDur writes a duration with three significant digits: 812µs, 1.23ms, 5s.
func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmtNum(d.Seconds()) + "s"
	case d >= time.Millisecond:
		return fmtNum(float64(d)/float64(time.Millisecond)) + "ms"
	default:
		return fmtNum(float64(d)/float64(time.Microsecond)) + "µs"
	}
}

// fmtNum writes v with up to three significant digits after the point, without trailing zeros.
func fmtNum(v float64) string {
	prec := 0
	switch {
	case v < 10:
		prec = 2
	case v < 100:
		prec = 1
	}
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
