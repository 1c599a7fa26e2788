package apiserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/wxemu/wxemu/emulator/apiserver"
	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/platform"
)

// BenchmarkCustomSend measures /cgi-bin/message/custom/send with its token, schema and quota
// checks, against a bare gorilla/mux handler that only decodes the JSON body and answers ok —
// the floor of any JSON API on the same router and loopback. `make bench` reports the ratio.
func BenchmarkCustomSend(b *testing.B) {
	body := []byte(`{"touser":"` + config.DemoAliceOA + `","msgtype":"text","text":{"content":"Hello World"}}`)
	post := func(b *testing.B, client *http.Client, url string) {
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.HasPrefix(data, []byte(`{"errcode":0,`)) {
			b.Fatalf("answer %s", data)
		}
	}

	b.Run("baseline", func(b *testing.B) {
		srv := httptest.NewServer(bareSendRouter())
		defer srv.Close()
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
		defer client.CloseIdleConnections()
		url := srv.URL + "/cgi-bin/message/custom/send?access_token=x"
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			post(b, client, url)
		}
	})

	b.Run("wxemu", func(b *testing.B) {
		base, tk := sendingServer(b)
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
		defer client.CloseIdleConnections()
		url := base + "/cgi-bin/message/custom/send?access_token=" + tk
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			post(b, client, url)
		}
	})
}

// BenchmarkCustomSendInterleaved sends through the bare handler and through wxemu in turn in
// every iteration, so that a noisy shared machine slows both alike, and reports wxemu's
// throughput as a share of the bare handler's (target >= 80 %).
func BenchmarkCustomSendInterleaved(b *testing.B) {
	body := []byte(`{"touser":"` + config.DemoAliceOA + `","msgtype":"text","text":{"content":"Hello World"}}`)
	bare := httptest.NewServer(bareSendRouter())
	defer bare.Close()
	base, tk := sendingServer(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer client.CloseIdleConnections()
	urls := []string{bare.URL + "/cgi-bin/message/custom/send?access_token=x", base + "/cgi-bin/message/custom/send?access_token=" + tk}
	var spent [2]time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j, u := range urls {
			start := clock.Real{}.Now()
			resp, err := client.Post(u, "application/json", bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !bytes.HasPrefix(data, []byte(`{"errcode":0,`)) {
				b.Fatalf("answer %s", data)
			}
			spent[j] += clock.Since(start)
		}
	}
	b.ReportMetric(float64(spent[0].Nanoseconds())/float64(b.N), "bare-ns/send")
	b.ReportMetric(float64(spent[1].Nanoseconds())/float64(b.N), "wxemu-ns/send")
	b.ReportMetric(100*float64(spent[0])/float64(spent[1]), "send-vs-bare-%")
}

// bareSendRouter is the floor of a JSON API on the same router: decode the body, answer ok.
func bareSendRouter() http.Handler {
	r := mux.NewRouter()
	r.HandleFunc("/cgi-bin/message/custom/send", func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		w.Header().Set("Content-Type", "application/json; encoding=utf-8")
		_, _ = w.Write([]byte(`{"errcode":0,"errmsg":"ok"}`))
	}).Methods(http.MethodPost)
	return r
}

// sendingServer serves a platform where alice has a payment window, which has no count limit
// under the 2023 rules, so every send passes the quota check rather than stopping at 5; it
// returns the API's base URL and an access token of the demo OA. Both stop when b ends.
func sendingServer(b *testing.B) (string, string) {
	p, err := platform.New(platform.Options{Clock: clock.NewFake(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(p.Close)
	srv := httptest.NewServer(apiserver.New(p, nil).Handler())
	b.Cleanup(srv.Close)
	if _, err := p.Trigger("oa", config.DemoAliceOA, "payment"); err != nil {
		b.Fatal(err)
	}
	tk, err := p.IssueToken(context.Background(), "client_credential", config.DemoOAAppID, config.DemoOASecret)
	if err != nil {
		b.Fatal(err)
	}
	return srv.URL, tk.Value
}
