package scenario

import (
	"encoding/json"

	"github.com/wxemu/wxemu/emulator/harness"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/rules"
)

// Statuses of scenarios and steps.
const (
	Passed  = "passed"
	Failed  = "failed"
	Skipped = "skipped" // a step after a failed one
)

// Report is the outcome of a run: one document for --json, the source of the JUnit file.
type Report struct {
	Passed    bool              `json:"passed"`
	Summary   Summary           `json:"summary"`
	Scenarios []*ScenarioResult `json:"scenarios"`
}

// Summary counts a run.
type Summary struct {
	Files      int     `json:"files"`
	Scenarios  int     `json:"scenarios"`
	Passed     int     `json:"passed"`
	Failed     int     `json:"failed"`
	Steps      int     `json:"steps"`
	DurationMS float64 `json:"duration_ms"`
}

// ScenarioResult is what came of one scenario.
type ScenarioResult struct {
	Name       string  `json:"name"`
	File       string  `json:"file"`
	Line       int     `json:"line"`
	App        string  `json:"app"` // appid
	Status     string  `json:"status"`
	Serial     string  `json:"serial,omitempty"` // why it ran alone
	DurationMS float64 `json:"duration_ms"`
	// Users maps each user's name to the openid this run gave them.
	Users map[string]string `json:"users"`
	Steps []*StepResult     `json:"steps"`
	// Error is a problem that kept the scenario from running its steps.
	Error string `json:"error,omitempty"`
	// Transcripts are what each user saw up to the failure; only for a failed scenario.
	Transcripts []Transcript `json:"transcripts,omitempty"`
}

// Transcript is one user's transcript.
type Transcript struct {
	User   string          `json:"user"`
	OpenID string          `json:"openid"`
	Lines  []platform.Line `json:"lines"`
}

// StepResult is what came of one step.
type StepResult struct {
	Index      int     `json:"index"` // from 1, as the output shows it
	ID         string  `json:"id,omitempty"`
	Name       string  `json:"name,omitempty"`
	Line       int     `json:"line"`
	Action     string  `json:"action"`
	Status     string  `json:"status"`
	DurationMS float64 `json:"duration_ms"`
	// Summary says in a few words what happened.
	Summary  string    `json:"summary,omitempty"`
	Failures []Failure `json:"failures,omitempty"`
	// Violations lists every violation of the step's pushes, tolerated or not.
	Violations []rules.Violation `json:"violations,omitempty"`
	// Late lists the sends the step caused that came after they were judged (see sends.late).
	Late []LateSend `json:"late_sends,omitempty"`
	// Exchanges are the raw pushes of a failed step.
	Exchanges []Exchange `json:"exchanges,omitempty"`
	// Result is what ${id.path} reads.
	Result json.RawMessage `json:"result,omitempty"`
}

// Failure is one expectation that did not hold.
type Failure struct {
	Check    string `json:"check"`
	Expected string `json:"expected"`
	Actual   string `json:"actual"`
	// Detail adds what helps to see why: the sends with their errcodes, the pushes received.
	Detail string `json:"detail,omitempty"`
}

// LateSend is a customer-service send that came after the sends of its cause were judged.
type LateSend struct {
	harness.SendRecord
	User string `json:"user"`
	// After names the check whose push caused it (a signature probe, the retry); empty for the
	// step's own action.
	After string `json:"after,omitempty"`
	// Tolerated: the step or the scenario tolerates sends.late, so it failed nothing. (A late
	// send found once the scenario had failed fails nothing either: it is listed.)
	Tolerated bool `json:"tolerated,omitempty"`
	// Found says when the runner found it: before which step, after the last one.
	Found string `json:"found"`
}

// Exchange is one push of a failed step, raw.
type Exchange struct {
	Label string `json:"label"` // push, signature probe, retry, kf event
	*push.Result
}
