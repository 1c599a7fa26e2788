package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"

	"github.com/wxemu/wxemu/emulator/platform"
)

// recordActions are what `wxemu record` does.
var recordActions = []string{"start", "stop", "status"}

func runRecord(args []string, stdout, stderr io.Writer) int {
	rc := newRemoteCommand("record", `Usage: wxemu record start [NAME]      start recording what you do to a running wxemu serve
       wxemu record [status]            is a recording running, since when, how many actions
       wxemu record stop [-o FILE]      stop, and write the recording as a scenario file

Between start and stop, every action taken through the control API — a user's message or
trigger (wxemu user, the console's phone), an agent's accept, reply, switch, close or status,
wxemu clock advance, wxemu token expire or revoke, wxemu faults add or clear — becomes a step of a YAML scenario, and what
was observed becomes its checks: the reply, the transfer, the failure line, the bot's sends
with their errcodes, the kf events, the agent a message went to. What a scenario cannot check is
kept as a comment. Replay it with: wxemu run FILE --target URL (the bot fetching its access
token from the run's API). Without -o the scenario is printed on stdout.
`+actsThroughServe, "print serve's answer as JSON (start and status)")
	out := rc.fs.String("o", "", "write the scenario to `FILE` (stop; default stdout)")
	pos, code := rc.parse(args, stdout, stderr)
	if code >= 0 {
		return code
	}
	action := "status"
	if len(pos) > 0 {
		action = pos[0]
	}
	if !isOneOf(action, recordActions) {
		return usageError(stderr, "record", "unknown action %q%s: start, stop or status", action, didYouMean(action, recordActions))
	}
	if len(pos) > 2 || (len(pos) == 2 && action != "start") {
		return usageError(stderr, "record", "too many arguments: %q", pos[1:])
	}
	if *out != "" && action != "stop" {
		return usageError(stderr, "record", "-o goes with stop")
	}
	r, ctx, stop, code := rc.connect(stderr, callTimeout)
	if code >= 0 {
		return code
	}
	defer stop()
	switch action {
	case "start":
		var body []byte
		if len(pos) == 2 {
			body, _ = json.Marshal(map[string]string{"name": pos[1]})
		}
		var raw json.RawMessage
		if err := r.call(ctx, http.MethodPost, "/recording/start", nil, body, &raw); err != nil {
			return r.fail(stderr, err)
		}
		if *rc.asJSON {
			return writeJSON(stdout, stderr, raw, exitOK)
		}
		var st platform.RecordingStatus
		_ = json.Unmarshal(raw, &st)
		fmt.Fprintf(stdout, "recording %q from journal entry %d; stop with: wxemu record stop -o %s.yaml\n", st.Name, st.Since, fileStem(st.Name))
	case "status":
		var raw json.RawMessage
		if err := r.call(ctx, http.MethodGet, "/recording", nil, nil, &raw); err != nil {
			return r.fail(stderr, err)
		}
		if *rc.asJSON {
			return writeJSON(stdout, stderr, raw, exitOK)
		}
		var st platform.RecordingStatus
		_ = json.Unmarshal(raw, &st)
		if !st.Recording {
			fmt.Fprintln(stdout, "not recording; start with: wxemu record start [NAME]")
			return exitOK
		}
		fmt.Fprintf(stdout, "recording %q since journal entry %d: %s so far\n", st.Name, st.Since, plural(st.Actions, "action", "actions"))
	case "stop":
		data, file, err := r.download(ctx, "/recording/stop")
		if err != nil {
			return r.fail(stderr, err)
		}
		if *out == "" || *out == "-" {
			_, _ = stdout.Write(data)
			fmt.Fprintf(stderr, "wxemu record: stopped; the scenario is above (serve named it %s; -o FILE writes it to a file)\n", file)
			return exitOK
		}
		if err := os.WriteFile(*out, data, 0o644); err != nil {
			fmt.Fprintf(stderr, "wxemu record: the recording has stopped, but its scenario could not be written: %v\n", err)
			_, _ = stdout.Write(data)
			return exitFail
		}
		fmt.Fprintf(stdout, "recording stopped; its scenario is in %s; replay it with: wxemu run %s --target URL\n", *out, *out)
	}
	return exitOK
}

// download makes a control call whose answer is a file (the recording's scenario) and returns
// it with the file name serve gives it.
func (r *remote) download(ctx context.Context, path string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.base+"/_emu/v1"+path, nil)
	if err != nil {
		return nil, "", fmt.Errorf("POST %s: %w", path, err)
	}
	authorize(req)
	resp, err := r.http.Do(req)
	if err != nil {
		return nil, "", r.unreachable(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", fmt.Errorf("POST %s: read the answer: %w", path, err)
	}
	if resp.StatusCode/100 != 2 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/yaml") {
		if err := r.decode(http.MethodPost, path, resp, data, nil); err != nil {
			return nil, "", err
		}
		return nil, "", r.notWxemu(resp.StatusCode)
	}
	file := "recording.yaml"
	if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil && params["filename"] != "" {
		file = params["filename"]
	}
	return data, file, nil
}

// fileStem is a recording's name as a file name, as serve makes it.
func fileStem(name string) string {
	var b strings.Builder
	dash := false
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		switch {
		case ok:
			b.WriteRune(c)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.Trim(b.String(), "-.")
	if s == "" {
		return "recording"
	}
	return s
}
