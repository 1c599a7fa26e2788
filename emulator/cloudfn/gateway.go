package cloudfn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/wire"
)

// The tcb gateway (protocol §8.4, §8.4a): the SDKs of the functions post every cloud call to
// /admin, as multipart/form-data (action wx.openApi, its requestData a CommApiData protobuf) or
// as JSON (functions.invokeFunction, database.*, storage.* …), with the invocation's
// wxCloudApiToken. A cloud.openapi call becomes the platform's operation, journaled with via
// cloud; a refusal of the gateway itself is JSON {code, message}.

// gatewayBodyLimit bounds a request: the largest media upload and its envelope.
const gatewayBodyLimit = 32 << 20

// The content types of the gateway's answers: the SDK reads a body as JSON only when its type is
// exactly jsonType, and as a CommOpenApiResp otherwise.
const (
	jsonType  = "application/json; charset=utf-8"
	protoType = "application/octet-stream"
)

// The openapi functions wxemu serves, and the HTTP API each stands for (protocol §8.3).
const (
	apiSend       = "customerServiceMessage.send"
	apiTyping     = "customerServiceMessage.setTyping"
	apiUpload     = "customerServiceMessage.uploadTempMedia"
	apiGetMedia   = "customerServiceMessage.getTempMedia"
	pathUpload    = "/cgi-bin/media/upload"
	pathGetMedia  = "/cgi-bin/media/get"
	actionOpenAPI = "wx.openApi"
	actionInvoke  = "functions.invokeFunction"
)

var apiPaths = map[string]string{apiSend: platform.PathCustomSend, apiTyping: platform.PathTyping, apiUpload: pathUpload, apiGetMedia: pathGetMedia}

// gatewayError is the gateway's own refusal: {code, message} in JSON.
type gatewayError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *gatewayError) Error() string { return e.Code + ": " + e.Message }

func gwError(code, format string, args ...any) *gatewayError {
	return &gatewayError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// gatewayRequest is one request to the gateway, its form fields read.
type gatewayRequest struct {
	r      *http.Request
	url    string
	action string
	fields map[string][]byte // multipart fields, and file parts, by name
	json   map[string]json.RawMessage
}

func (q *gatewayRequest) field(name string) string {
	if v, ok := q.fields[name]; ok {
		return string(v)
	}
	if v, ok := q.json[name]; ok {
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
		return string(v)
	}
	return ""
}

func (h *Host) serveGateway(w http.ResponseWriter, r *http.Request) {
	q, gerr := readGateway(w, r)
	if gerr != nil {
		h.refuse(w, q, grant{}, gerr)
		return
	}
	switch q.action {
	case actionOpenAPI:
		h.openAPI(w, q)
	case actionInvoke:
		h.invokeFunction(w, q)
	default:
		h.notEmulated(w, q)
	}
}

// readGateway reads a gateway request: its body, multipart or JSON.
func readGateway(w http.ResponseWriter, r *http.Request) (*gatewayRequest, *gatewayError) {
	q := &gatewayRequest{r: r, url: r.URL.RequestURI(), fields: map[string][]byte{}}
	if r.Method != http.MethodPost {
		return q, gwError("INVALID_PARAM", "the tcb gateway takes POST, not %s", r.Method)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, gatewayBodyLimit))
	if err != nil {
		return q, gwError("INVALID_PARAM", "read the body: %v", err)
	}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mt == "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return q, gwError("INVALID_PARAM", "the multipart body does not parse: %v", err)
			}
			data, err := io.ReadAll(part)
			if err != nil {
				return q, gwError("INVALID_PARAM", "part %s: %v", part.FormName(), err)
			}
			q.fields[part.FormName()] = data
		}
	case len(bytes.TrimSpace(body)) > 0:
		if err := json.Unmarshal(body, &q.json); err != nil {
			return q, gwError("INVALID_PARAM", "the body is neither multipart/form-data nor a JSON object: %v", err)
		}
	}
	q.action = q.field("action")
	if q.action == "" {
		return q, gwError("INVALID_PARAM", "the request has no action")
	}
	return q, nil
}

// token finds the invocation a request comes from. A token of an invocation that has ended is
// refused and journaled as late.
// Deviation: SCF freezes an instance once its function returns, so a call it did not await runs,
// if ever, at a later invocation; wxemu keeps the worker running and refuses the call, so the
// bug shows (protocol §8.4a).
func (h *Host) token(q *gatewayRequest) (grant, *gatewayError) {
	token := q.field("wxCloudApiToken")
	g, live, ok := h.tokens.lookup(token)
	switch {
	case token == "":
		return grant{}, gwError("INVALID_PARAM", "the request carries no wxCloudApiToken; wxemu gives each invocation one in WX_API_TOKEN (listed in WX_CONTEXT_KEYS), which wx-server-sdk sends")
	case !ok:
		return grant{}, gwError("PERMISSION_DENIED", "wxCloudApiToken %q belongs to no invocation wxemu ran", clip(token, 12))
	case !live:
		what := fmt.Sprintf("%s of cloud function %s after its invocation %s had ended (%s)", q.describe(), g.fn.name, g.inv, g.ended)
		h.p.RecordFindingFor(g.app.AppID, g.openid, "late cloud call: "+what, h.exchange(q, http.StatusOK, jsonType, nil))
		h.log.Warn("late cloud call refused", "function", g.fn.name, "invocation", g.inv, "call", q.describe())
		return g, gwError("PERMISSION_DENIED", "wxemu refused %s: a function's wxCloudApiToken dies when its invocation ends — await every call before you return", what)
	}
	return g, nil
}

func (q *gatewayRequest) describe() string {
	if q.action == actionOpenAPI {
		return "openapi." + q.field("apiName")
	}
	if q.action == actionInvoke {
		return "callFunction " + q.field("function_name")
	}
	return q.action
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// refuse answers a gateway error and, unless the call was late (journaled already), journals it
// as a finding.
func (h *Host) refuse(w http.ResponseWriter, q *gatewayRequest, g grant, e *gatewayError) {
	body, _ := json.Marshal(struct {
		*gatewayError
		RequestID string `json:"requestId"`
	}{e, h.requestID()})
	if g.fn == nil {
		ex := h.exchange(q, http.StatusOK, jsonType, body)
		h.p.RecordFinding(fmt.Sprintf("tcb gateway: %s", e.Message), ex)
	}
	w.Header().Set("Content-Type", jsonType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// exchange records a gateway exchange for the journal: the form fields as text, the protobuf
// requestData decoded.
func (h *Host) exchange(q *gatewayRequest, status int, contentType string, response []byte) *platform.Exchange {
	var req []byte
	if q.json != nil {
		req, _ = json.Marshal(q.json)
	} else {
		names := make([]string, 0, len(q.fields))
		for k := range q.fields {
			names = append(names, k)
		}
		sort.Strings(names)
		var b strings.Builder
		for _, k := range names {
			v := q.fields[k]
			if k == "requestData" {
				if d, err := DecodeAPIData(v); err == nil {
					fmt.Fprintf(&b, "requestData=%s\n", pairsText(d.Pairs))
					continue
				}
			}
			if k == "wxCloudApiToken" && len(v) > 8 {
				v = append(append([]byte(nil), v[:8]...), "…"...)
			}
			fmt.Fprintf(&b, "%s=%s\n", k, v)
		}
		req = []byte(b.String())
	}
	return platform.NewExchange(http.MethodPost, q.url, req, status, contentType, response)
}

// pairsText shows the pairs of a call as the JSON object they make, media as their size.
func pairsText(pairs []Pair) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(p.Key)
		b.Write(k)
		b.WriteByte(':')
		if p.Filename != "" || !json.Valid(p.Value) {
			fmt.Fprintf(&b, `"(%d bytes%s)"`, len(p.Value), map[bool]string{true: " of " + p.Filename, false: ""}[p.Filename != ""])
			continue
		}
		b.Write(p.Value)
	}
	b.WriteByte('}')
	return b.String()
}

// openAPI serves action wx.openApi: a cloud.openapi call (protocol §8.3, §8.4a).
func (h *Host) openAPI(w http.ResponseWriter, q *gatewayRequest) {
	g, gerr := h.token(q)
	if gerr != nil {
		h.refuse(w, q, g, gerr)
		return
	}
	api := q.field("apiName")
	data, err := DecodeAPIData(q.fields["requestData"])
	if err != nil {
		h.refuse(w, q, grant{}, gwError("INVALID_PARAM", "openapi.%s: requestData: %v", api, err))
		return
	}
	if data.APIType != apiTypeOpen {
		h.refuse(w, q, grant{}, gwError("INVALID_PARAM", "openapi.%s: apiType %d (INNER_API 1, SVRKIT_API 2) is not emulated; cloud.openapi sends OPEN_API 0", api, data.APIType))
		return
	}
	path, known := apiPaths[api]
	if !g.perms[api] {
		// The permission is checked first: an API wxemu does not serve is refused the same way.
		if !known {
			path = "openapi." + api
		}
		werr := wire.Errorf(wire.CodeCloudNoPermission, "function %s has no permission to call openapi.%s: add %q to permissions.openapi in %s/config.json", g.fn.name, api, api, g.fn.dir)
		h.answerOpenAPI(w, q, g, path, func(context.Context) (OpenAPIResp, error) {
			return OpenAPIResp{ErrorCode: wire.CodeCloudNoPermission, HTTPCode: http.StatusOK}, werr
		})
		return
	}
	if !known {
		// Deviation: WeChat serves many more openapi functions; wxemu names the one it does not
		// rather than answer -604100 (API not found), whose text is unconfirmed (protocol §7.2).
		h.refuse(w, q, grant{}, gwError("INVALID_PARAM", "wxemu does not emulate openapi.%s; it serves %s", api, strings.Join(servedAPIs(), ", ")))
		return
	}
	body := pairsJSON(data.Pairs)
	h.answerOpenAPI(w, q, g, path, func(ctx context.Context) (OpenAPIResp, error) {
		switch api {
		case apiSend:
			_, err := h.p.CustomSend(ctx, g.app, body)
			return h.errcodeResp(err), err
		case apiTyping:
			_, err := h.p.Typing(ctx, g.app, body)
			return h.errcodeResp(err), err
		case apiUpload:
			return h.upload(ctx, g, data.Pairs)
		default: // apiGetMedia
			return h.getMedia(g, data.Pairs)
		}
	})
}

func servedAPIs() []string {
	out := make([]string, 0, len(apiPaths))
	for api := range apiPaths {
		out = append(out, api)
	}
	sort.Strings(out)
	return out
}

// answerOpenAPI runs op as a WeChat API call of path made by the cloud, answers its
// CommOpenApiResp and journals the call once.
func (h *Host) answerOpenAPI(w http.ResponseWriter, q *gatewayRequest, g grant, path string, op func(context.Context) (OpenAPIResp, error)) {
	start := clock.Real{}.Now()
	ctx, c := h.p.BeginCall(platform.WithVia(q.r.Context(), platform.ViaCloud), path)
	c.SetApp(g.app)
	resp, err := op(ctx)
	c.SetUser(g.openid)
	body := resp.Append(nil)
	ct := resp.ContentType
	if resp.ErrorCode != 0 {
		ct = "errorCode " + fmt.Sprint(resp.ErrorCode)
	}
	h.p.EndCall(c, h.exchange(q, http.StatusOK, ct, resp.RespData), err, float64(clock.Since(start).Microseconds())/1000)
	w.Header().Set("Content-Type", protoType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// errcodeResp is the HTTP API's JSON answer to err, as respData.
func (h *Host) errcodeResp(err error) OpenAPIResp {
	code := platform.Code(err)
	rid := ""
	if code != 0 && h.p.Config().API.RID {
		rid = h.p.Rid()
	}
	return OpenAPIResp{RespData: wire.ErrorBody(nil, code, rid), ContentType: "application/json", HTTPCode: http.StatusOK}
}

// jsonResp is a success answer with a JSON body: errcode 0 and the values.
func jsonResp(v map[string]any) OpenAPIResp {
	v["errcode"] = 0
	v["errmsg"] = "ok"
	b, _ := json.Marshal(v)
	return OpenAPIResp{RespData: b, ContentType: "application/json", HTTPCode: http.StatusOK}
}

// pairsJSON makes the JSON object of an API's body from the pairs: each value is JSON text
// already, its key snake_case already (the SDK converted it).
func pairsJSON(pairs []Pair) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	for _, p := range pairs {
		if p.Filename != "" {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		k, _ := json.Marshal(p.Key)
		b.Write(k)
		b.WriteByte(':')
		if json.Valid(p.Value) {
			b.Write(p.Value)
		} else {
			v, _ := json.Marshal(string(p.Value))
			b.Write(v)
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

// stringPair is the string value of pair key, and whether it is there.
func stringPair(pairs []Pair, key string) (string, bool) {
	for _, p := range pairs {
		if p.Key == key {
			var s string
			if json.Unmarshal(p.Value, &s) == nil {
				return s, true
			}
			return string(p.Value), true
		}
	}
	return "", false
}

// upload is customerServiceMessage.uploadTempMedia: /cgi-bin/media/upload with the raw bytes.
// The SDK loses the media's content type (it sets contentType, the protobuf field is
// contenttype; protocol §8.4a), so the file's name is all there is, as on WeChat.
func (h *Host) upload(ctx context.Context, g grant, pairs []Pair) (OpenAPIResp, error) {
	typ, _ := stringPair(pairs, "type")
	var data []byte
	var filename string
	present := false
	for _, p := range pairs {
		if p.Key == "media" && p.Filename != "" {
			data, filename, present = p.Value, p.Filename, true
		}
	}
	m, err := h.p.UploadMedia(ctx, g.app, typ, filename, data, present)
	if err != nil {
		return h.errcodeResp(err), err
	}
	body := map[string]any{"type": m.Type, "media_id": m.ID, "created_at": m.Created.Unix()}
	if m.Type == "thumb" {
		body["thumb_media_id"] = m.ID
	}
	return jsonResp(body), nil
}

// getMedia is customerServiceMessage.getTempMedia: /cgi-bin/media/get, answered with the bytes
// and their content type, which the SDK returns as {contentType, buffer}.
// Deviation: a video is answered with its bytes too, not a video_url (protocol §4.4).
func (h *Host) getMedia(g grant, pairs []Pair) (OpenAPIResp, error) {
	id, _ := stringPair(pairs, "media_id")
	m, err := h.p.GetMedia(g.app, id)
	if err != nil {
		return h.errcodeResp(err), err
	}
	ct := m.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	return OpenAPIResp{RespData: m.Data, ContentType: ct, HTTPCode: http.StatusOK}, nil
}

// invokeFunction serves action functions.invokeFunction: cloud.callFunction of another function
// of the same app, for the same user, its SOURCE marked ",scf" (protocol §8.4a).
func (h *Host) invokeFunction(w http.ResponseWriter, q *gatewayRequest) {
	g, gerr := h.token(q)
	if gerr != nil {
		h.refuse(w, q, g, gerr)
		return
	}
	name := q.field("function_name")
	callee := h.byName[g.app.AppID][name]
	switch {
	case callee == nil:
		h.refuse(w, q, grant{}, gwError("FUNCTIONS_REQUEST_FAIL", "function %s called function %q, which wxemu does not run for app %s; it runs %s", g.fn.name, name, g.app.Name(), strings.Join(h.Functions(g.app.AppID), ", ")))
		return
	case callee == g.fn:
		// Deviation: SCF would start another instance; wxemu runs one per function, which is
		// busy with the caller.
		h.refuse(w, q, grant{}, gwError("FUNCTIONS_REQUEST_FAIL", "function %s called itself: wxemu runs one instance of each function, which is busy with the caller", name))
		return
	}
	event := []byte(q.field("request_data"))
	if len(bytes.TrimSpace(event)) == 0 {
		event = []byte("{}")
	}
	if !json.Valid(event) {
		h.refuse(w, q, grant{}, gwError("INVALID_PARAM", "request_data of callFunction %s is not JSON", name))
		return
	}
	inv, o, _, dur := callee.run(q.r.Context(), call{openid: g.openid, source: g.source + ",scf", event: event})
	var body []byte
	switch o.kind {
	case outcomeReturned:
		if o.tooLarge {
			h.refuse(w, q, g, gwError("FUNCTIONS_EXECUTE_FAIL", "function %s returned %d bytes: cloudfunction result size exceed limit (1MB), -604001", name, o.size))
			return
		}
		body, _ = json.Marshal(map[string]any{"data": map[string]string{"response_data": string(o.result)}, "requestId": inv.id})
	default:
		v := callee.judge(&wire.Message{}, event, inv, o, clock.Real{}.Now(), dur)
		msg := "failed"
		if len(v.Violations) > 0 {
			msg = v.Violations[len(v.Violations)-1].Message
		}
		h.refuse(w, q, g, gwError("FUNCTIONS_EXECUTE_FAIL", "function %s (request_id %s): %s", name, inv.id, msg))
		return
	}
	w.Header().Set("Content-Type", jsonType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	h.log.Debug("cloud function called another", "caller", g.fn.name, "callee", name, "duration", dur.Round(time.Millisecond))
}

// notEmulated answers the cloud actions wxemu does not serve — database, storage and the rest —
// with the gateway's error at once: never a hang, never a fake success.
func (h *Host) notEmulated(w http.ResponseWriter, q *gatewayRequest) {
	family, _, _ := strings.Cut(q.action, ".")
	what := map[string]string{"database": "the cloud database", "storage": "cloud storage"}[family]
	if what == "" {
		what = "this cloud action"
	}
	g, _, _ := h.tokens.lookup(q.field("wxCloudApiToken"))
	e := gwError("WXEMU_NOT_EMULATED", "wxemu does not emulate %s (action %s): it serves cloud.openapi.customerServiceMessage.* and cloud.callFunction only", what, q.action)
	if g.fn != nil {
		h.p.RecordFindingFor(g.app.AppID, g.openid, fmt.Sprintf("cloud function %s: %s", g.fn.name, e.Message), h.exchange(q, http.StatusOK, jsonType, nil))
	}
	h.refuse(w, q, g, e)
}
