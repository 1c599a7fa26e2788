package emutest

import (
	"bytes"
	"encoding/json"
	"github.com/wxemu/wxemu/emulator/textenc"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
)

// APIClient calls the emulator's WeChat API over HTTP, as a bot does.
type APIClient struct {
	e *Emu
}

// API returns a client of the WeChat API the emulator serves (not the API server itself, which
// is the emulator's own API server, e.Emulator().API()).
func (e *Emu) API() *APIClient { return &APIClient{e: e} }

// Token gets a new access_token for the app (alias or appid, "" for the first app) from
// /cgi-bin/token with the app's appid and secret. An answer without a token fails the spec.
func (c *APIClient) Token(app string) string {
	ginkgo.GinkgoHelper()
	a := c.e.app(app)
	q := url.Values{"grant_type": {"client_credential"}, "appid": {a.AppID}, "secret": {a.Secret}}
	r := c.Call(http.MethodGet, "/cgi-bin/token?"+q.Encode(), nil)
	tk, _ := r.JSON["access_token"].(string)
	c.e.g.Expect(tk).NotTo(gomega.BeEmpty(), "emutest: no access_token for %s:\n%s", a.Alias, r.GomegaString())
	return tk
}

// Call sends one request to path (with its query string) and reads the answer. body is nil, a
// string or []byte sent as is, or a value sent as JSON. A transport error fails the spec; any
// answer, WeChat's refusals included, is returned.
func (c *APIClient) Call(method, path string, body any) *APIResponse {
	ginkgo.GinkgoHelper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		// WeChat's SDKs keep <a href> in text as is; so must the spec's bodies.
		var err error
		raw, err = textenc.MarshalJSON(b)
		c.e.g.Expect(err).NotTo(gomega.HaveOccurred(), "emutest: encode the body of %s %s", method, path)
	}
	u := strings.TrimRight(c.e.URL(), "/") + "/" + strings.TrimLeft(path, "/")
	req, err := http.NewRequestWithContext(background(), method, u, bytes.NewReader(raw))
	c.e.g.Expect(err).NotTo(gomega.HaveOccurred(), "emutest: build %s %s", method, path)
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.e.h.client.Do(req)
	c.e.g.Expect(err).NotTo(gomega.HaveOccurred(), "emutest: %s %s", method, path)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	c.e.g.Expect(err).NotTo(gomega.HaveOccurred(), "emutest: read the answer of %s %s", method, path)
	return NewAPIResponse(method, u, raw, resp.StatusCode, resp.Header, data)
}

// APIResponse is one call of the WeChat API and its answer.
type APIResponse struct {
	Method      string
	URL         string
	RequestBody []byte
	Status      int
	Header      http.Header
	Raw         []byte
	// JSON is the answer decoded, nil when it is not a JSON object.
	JSON map[string]any
	// Errcode and Errmsg are WeChat's verdict; a success without an errcode (a token) is 0.
	Errcode int
	Errmsg  string
}

// NewAPIResponse decodes an answer of the WeChat API.
func NewAPIResponse(method, url string, requestBody []byte, status int, header http.Header, raw []byte) *APIResponse {
	r := &APIResponse{Method: method, URL: url, RequestBody: requestBody, Status: status, Header: header, Raw: raw}
	if json.Unmarshal(raw, &r.JSON) == nil {
		if n, ok := r.JSON["errcode"].(float64); ok {
			r.Errcode = int(n)
		}
		r.Errmsg, _ = r.JSON["errmsg"].(string)
	}
	return r
}
