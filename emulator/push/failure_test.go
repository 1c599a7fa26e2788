package push_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/wire"
)

// rawAnswer makes a handler that writes raw bytes on the connection, then closes it: answers
// net/http's server would not write.
func rawAnswer(raw string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		_, _ = buf.WriteString(raw)
		_ = buf.Flush()
	}
}

func pushTo(h http.HandlerFunc, cfg push.Config) *push.Result {
	srv := httptest.NewServer(h)
	DeferCleanup(srv.Close)
	e := newEngine(clock.NewFake(epoch), cfg)
	m := text("hi")
	m.FromUserName = openID
	return e.Push(context.Background(), target(wire.OA, wire.Plain, wire.XML, srv.URL+"/wx"), m)
}

var _ = Describe("the wording of a push that went wrong", func() {
	It("does not blame the bot for a push cut short by wxemu's shutdown", func() {
		got := make(chan struct{}, 4)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body) // the server notices a closed connection only then
			got <- struct{}{}
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}))
		DeferCleanup(srv.Close)
		e := newEngine(clock.NewFake(epoch), push.Config{Timeout: 10 * time.Second, MaxAttempts: 3})
		ctx, cancel := context.WithCancelCause(context.Background())
		go func() { <-got; cancel(push.ErrShutdown) }()
		m := text("hi")
		m.FromUserName = openID
		res := e.Push(ctx, target(wire.OA, wire.Plain, wire.XML, srv.URL+"/wx"), m)
		Expect(ruleIDs(res.Violations)).To(Equal([]string{rules.PushCanceled}))
		v := res.Violations[0]
		Expect(v.Severity).To(Equal(rules.Warning))
		Expect(v.Message).To(ContainSubstring("the push was cut short because wxemu is shutting down"))
		Expect(v.Message).NotTo(ContainSubstring("could not be reached"))
		Expect(v.Message).NotTo(ContainSubstring("context canceled"))
		Expect(res.HasError()).To(BeFalse(), "the bot is not to blame")
		Expect(res.Outcome).To(Equal(push.Failed))
		Expect(res.Attempts).To(HaveLen(1), "no retry once wxemu is closing")
		Expect(res.Attempts[0].TimedOut).To(BeFalse())
	})

	It("says so when the push's context is canceled for another reason", func() {
		got := make(chan struct{}, 4)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body) // the server notices a closed connection only then
			got <- struct{}{}
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}))
		DeferCleanup(srv.Close)
		e := newEngine(clock.NewFake(epoch), push.Config{Timeout: 10 * time.Second})
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-got; cancel() }()
		m := text("hi")
		m.FromUserName = openID
		res := e.Push(ctx, target(wire.OA, wire.Plain, wire.XML, srv.URL+"/wx"), m)
		Expect(ruleIDs(res.Violations)).To(Equal([]string{rules.PushCanceled}))
		Expect(res.Violations[0].Message).To(ContainSubstring("cut short on wxemu's side"))
		Expect(res.HasError()).To(BeFalse())
	})

	It("names a body cut off before its Content-Length", func() {
		res := pushTo(rawAnswer("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 100\r\n\r\n<xml>"), push.Config{MaxAttempts: 2})
		Expect(ruleIDs(res.Violations)).To(Equal([]string{rules.PushAnswerUnreadable}))
		msg := res.Violations[0].Message
		Expect(msg).To(ContainSubstring("the answer was cut off after 5 of 100 bytes"))
		Expect(msg).NotTo(ContainSubstring("could not be reached"))
		Expect(res.Attempts).To(HaveLen(2), "WeChat resends when it got no usable answer")
		Expect(res.Attempts[0].Status).To(Equal(200))
		Expect(res.Outcome).To(Equal(push.Failed))
		Expect(res.UserSees).To(Equal(push.FailureLineOA))
	})

	It("names a chunked body that ends before its last chunk", func() {
		res := pushTo(rawAnswer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n<xml>\r\n"), push.Config{MaxAttempts: 1})
		Expect(ruleIDs(res.Violations)).To(Equal([]string{rules.PushAnswerUnreadable}))
		Expect(res.Violations[0].Message).To(ContainSubstring("the answer was cut off after 5 bytes"))
	})

	It("names a header block over the limit", func() {
		big := strings.Repeat("a", 8192)
		res := pushTo(rawAnswer("HTTP/1.1 200 OK\r\nX-Big: "+big+"\r\nContent-Length: 7\r\n\r\nsuccess"), push.Config{MaxAttempts: 1, MaxHeaderBytes: 4096})
		Expect(ruleIDs(res.Violations)).To(Equal([]string{rules.PushAnswerUnreadable}))
		msg := res.Violations[0].Message
		Expect(msg).To(ContainSubstring("the answer's headers are larger than 4096 bytes"))
		Expect(msg).NotTo(ContainSubstring("could not be reached"))
	})

	DescribeTable("names the Content-Encoding of an encoded answer",
		func(encoding string, body func() []byte) {
			var accept []string
			res := pushTo(func(w http.ResponseWriter, r *http.Request) {
				accept = r.Header.Values("Accept-Encoding")
				w.Header().Set("Content-Type", "text/xml")
				w.Header().Set("Content-Encoding", encoding)
				_, _ = w.Write(body())
			}, push.Config{})
			Expect(accept).To(BeEmpty(), "WeChat sends no Accept-Encoding")
			Expect(ruleIDs(res.Violations)).To(Equal([]string{rules.ReplyEncoding}))
			Expect(res.Violations[0].Message).To(ContainSubstring("Content-Encoding: " + encoding))
			Expect(res.Violations[0].Message).To(ContainSubstring("does not decode"))
			Expect(res.Answer.ContentEncoding).To(Equal(encoding))
			Expect(res.Outcome).To(Equal(push.Failed))
		},
		Entry("gzip", "gzip", func() []byte {
			var b bytes.Buffer
			z := gzip.NewWriter(&b)
			_, _ = z.Write([]byte(xmlReply("1763719200", "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content>")))
			_ = z.Close()
			return b.Bytes()
		}),
		Entry("br, whose bytes may begin like XML", "br", func() []byte { return []byte("<\x8b\x00\x01garbage") }),
	)

	It("reads an answer that is readable despite its Content-Encoding as usual", func() {
		res := pushTo(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write([]byte("success"))
		}, push.Config{})
		Expect(res.Violations).To(BeEmpty())
		Expect(res.Outcome).To(Equal(push.None))
	})
})
