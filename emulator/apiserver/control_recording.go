package apiserver

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/wxemu/wxemu/emulator/platform"
)

// YAMLContentType is what a recorded scenario is served as.
const YAMLContentType = "application/yaml; charset=utf-8"

// startRecording serves POST /_emu/v1/recording/start {"name": "…"} (the body may be empty):
// the actions taken through the control API from now on are recorded as a scenario.
func startRecording(c *call) (any, error) {
	var req struct {
		Name string `json:"name"`
	}
	if len(strings.TrimSpace(string(c.body))) > 0 {
		if err := json.Unmarshal(c.body, &req); err != nil {
			return nil, platform.BadRequest(`the body is not a JSON object like {"name":"hand-over"}: %v`, err)
		}
	}
	return c.s.p.StartRecording(req.Name)
}

// recordingStatus serves GET /_emu/v1/recording.
func recordingStatus(c *call) (any, error) { return c.s.p.Recording(), nil }

// stopRecording serves POST /_emu/v1/recording/stop: the recording ends, and the answer is its
// scenario file, as a download.
func stopRecording(c *call) (any, error) {
	rec, err := c.s.p.StopRecording()
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	// The file name is letters, digits, '.', '_' and '-' only (platform.StopRecording).
	h.Set("Content-Disposition", `attachment; filename="`+rec.Filename+`"`)
	return raw{contentType: YAMLContentType, header: h, body: rec.YAML}, nil
}
