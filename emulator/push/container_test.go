package push_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/wire"
)

var _ = Describe("Pushing to a cloud-hosting container", func() {
	type seen struct {
		query  string
		header http.Header
		body   string
	}

	// container runs h behind a container target and records what each push carried.
	container := func(kind wire.Kind, format wire.Format, sourceHeader string, answer func(w http.ResponseWriter, body string)) (*push.Engine, *push.Target, chan seen) {
		got := make(chan seen, 8)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			got <- seen{query: r.URL.RawQuery, header: r.Header.Clone(), body: string(b)}
			answer(w, string(b))
		}))
		DeferCleanup(srv.Close)
		e := newEngine(clock.NewFake(epoch), push.Config{Timeout: 300 * time.Millisecond})
		t, err := push.NewTarget(push.App{Kind: kind, AppID: appID, OriginalID: originalID, Format: format,
			URL: srv.URL + "/container/wx", Container: true, SourceHeader: sourceHeader})
		Expect(err).NotTo(HaveOccurred())
		return e, t, got
	}

	It("posts plaintext JSON with no signature query, the source header and the identity headers", func() {
		e, t, got := container(wire.MP, wire.JSON, "", func(w http.ResponseWriter, _ string) { _, _ = io.WriteString(w, "success") })
		res := e.Push(context.Background(), t, withFrom(text("hi")))
		Expect(res.Outcome).To(Equal(push.None))
		Expect(res.Violations).To(BeEmpty())
		s := <-got
		Expect(s.query).To(BeEmpty())
		Expect(s.header.Values("X-Wx-Source")).To(Equal([]string{push.SourceValue}))
		Expect(s.header.Get("X-WX-OPENID")).To(Equal(openID))
		Expect(s.header.Get("X-WX-APPID")).To(Equal(appID))
		Expect(s.header.Get("Content-Type")).To(Equal("application/json"))
		Expect(s.body).To(ContainSubstring(`"Content":"hi"`))
		Expect(s.body).To(ContainSubstring(`"ToUserName":"` + originalID + `"`))
		Expect(res.Attempts[0].URL).To(HaveSuffix("/container/wx"))
	})

	It("spells the source header as configured", func() {
		e, t, got := container(wire.MP, wire.JSON, "x-wx-sources", func(w http.ResponseWriter, _ string) {})
		e.Push(context.Background(), t, withFrom(text("hi")))
		s := <-got
		Expect(s.header.Get("X-Wx-Sources")).To(Equal(push.SourceValue))
		Expect(s.header.Get("X-Wx-Source")).To(BeEmpty())
	})

	It("judges the transfer object as a URL push's", func() {
		e, t, _ := container(wire.MP, wire.JSON, "", func(w http.ResponseWriter, _ string) {
			_, _ = io.WriteString(w, `{"ToUserName":"`+openID+`","FromUserName":"`+originalID+`","CreateTime":`+itoa(epoch.Unix())+`,"MsgType":"transfer_customer_service"}`)
		})
		res := e.Push(context.Background(), t, withFrom(text("人工")))
		Expect(res.Outcome).To(Equal(push.Transferred))
	})

	It("lets an Official Account push and read a passive reply in JSON", func() {
		e, t, got := container(wire.OA, wire.JSON, "", func(w http.ResponseWriter, _ string) {
			_, _ = io.WriteString(w, `{"ToUserName":"`+openID+`","FromUserName":"`+originalID+`","CreateTime":`+itoa(epoch.Unix())+`,"MsgType":"text","Content":"hello"}`)
		})
		res := e.Push(context.Background(), t, withFrom(text("hi")))
		Expect(rules.HasError(res.Violations)).To(BeFalse(), "%v", res.Violations)
		Expect(res.Outcome).To(Equal(push.Replied))
		Expect(res.UserSees).To(Equal("hello"))
		Expect((<-got).body).To(HavePrefix("{"))
	})

	It("retries a silent container with the same deadline and attempts", func() {
		var n atomic.Int32
		e, t, _ := container(wire.MP, wire.XML, "", func(w http.ResponseWriter, _ string) {
			n.Add(1)
			time.Sleep(500 * time.Millisecond)
		})
		res := e.Push(context.Background(), t, withFrom(text("hi")))
		Expect(res.Outcome).To(Equal(push.Failed))
		Expect(res.Attempts).To(HaveLen(3))
		Expect(res.Request.ContentType).To(HavePrefix("text/xml"))
	})
})

func withFrom(m *wire.Message) *wire.Message { m.FromUserName = openID; return m }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
