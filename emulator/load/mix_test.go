package load_test

import (
	"context"
	"net/http/httptest"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/load"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/wire"
	"github.com/wxemu/wxemu/fixtures/bots"
)

var _ = Describe("ParseMix", func() {
	It("reads message types and events by name, any case, with demo values", func() {
		mix, err := load.ParseMix("text=70, click=20,IMAGE=10", wire.OA, "push 1")
		Expect(err).NotTo(HaveOccurred())
		Expect(mix).To(HaveLen(3))
		Expect(mix[0].Message.Content).To(Equal("push 1"))
		Expect(mix[1].Message.MsgType).To(Equal("event"))
		Expect(mix[1].Message.Event).To(Equal("CLICK"))
		Expect(mix[1].Message.EventKey).NotTo(BeEmpty())
		Expect(mix[2].Message.MsgType).To(Equal("image"))
		Expect(mix[2].Message.PicUrl).NotTo(BeEmpty())
		Expect(mix.String()).To(Equal("text=70,click=20,IMAGE=10"))
	})

	It("takes a Mini Program's entry into the chat", func() {
		mix, err := load.ParseMix("text=1,user_enter_tempsession=1,miniprogrampage=1", wire.MP, "hi")
		Expect(err).NotTo(HaveOccurred())
		Expect(mix[1].Message.Event).To(Equal("user_enter_tempsession"))
	})

	DescribeTable("names each mistake precisely",
		func(spec string, kind wire.Kind, want string) {
			_, err := load.ParseMix(spec, kind, "hi")
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("empty", "", wire.OA, "the mix is empty"),
		Entry("an empty item", "text=1,,click=1", wire.OA, "item 2 is empty"),
		Entry("no weight", "text", wire.OA, `item 1 "text" has no weight: write text=WEIGHT`),
		Entry("a zero weight", "text=0", wire.OA, `the weight "0" is not a whole number above 0`),
		Entry("a fraction", "text=0.5", wire.OA, `the weight "0.5" is not a whole number above 0`),
		Entry("a typo", "imgae=1", wire.OA, "did you mean image?"),
		Entry("an unknown word, with the list", "sticker=1", wire.OA, "the messages of an Official Account are text, image"),
		Entry("the other kind's message", "location=1", wire.MP, "location is not pushed to a Mini Program, only to an Official Account"),
		Entry("a kf event, which WeChat raises itself", "kf_create_session=1", wire.OA, "unknown message"),
		Entry("a duplicate", "click=1,CLICK=2", wire.OA, "is in the mix already (item 1)"),
	)
})

var _ = Describe("Runner", func() {
	var p *platform.Platform

	BeforeEach(func() {
		h, err := bots.New("oa", bots.Config{Token: config.DemoOAToken, EncodingAESKey: config.DemoOAEncodingAESKey, AppID: config.DemoOAAppID})
		Expect(err).NotTo(HaveOccurred())
		srv := httptest.NewServer(h)
		DeferCleanup(srv.Close)
		p, err = platform.New(platform.Options{Targets: map[string]string{config.DemoOAAlias: srv.URL + "/wx"}})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(p.Close)
	})

	It("sends the mix in its proportions, each user one message at a time", func() {
		mix, err := load.ParseMix("text=3,click=1", wire.OA, "hi")
		Expect(err).NotTo(HaveOccurred())
		r, err := load.New(load.Options{Platform: p, Users: 3, Pushes: 40, Mix: mix})
		Expect(err).NotTo(HaveOccurred())
		done := make(chan struct{})
		go func() { // Progress is read while the run goes on (the race detector watches)
			defer close(done)
			for i := 0; i < 20; i++ {
				_ = r.Progress()
				time.Sleep(time.Millisecond)
			}
		}()
		rep := r.Run(context.Background())
		<-done
		Expect(rep.Sent).To(BeNumerically("==", 40))
		var texts, clicks int
		for i := 0; i < 3; i++ {
			for _, l := range p.Transcript(config.DemoOAAppID, r.OpenID(i)) {
				switch {
				case l.From == "user" && l.MsgType == "text":
					texts++
				case l.From == "user" && l.MsgType == "CLICK":
					clicks++
				}
			}
		}
		Expect(texts).To(Equal(30))
		Expect(clicks).To(Equal(10))
	})

	It("runs a script in order for each user, from the start again", func() {
		script := &load.Script{Name: "two steps", Messages: []wire.Message{
			{MsgType: "text", Content: "one"}, {MsgType: "text", Content: "two"},
		}}
		r, err := load.New(load.Options{Platform: p, Users: 2, Pushes: 6, Script: script})
		Expect(err).NotTo(HaveOccurred())
		rep := r.Run(context.Background())
		Expect(rep.Sent).To(BeNumerically("==", 6))
		// Which user a free worker takes is not fixed: each user's messages are the script from
		// its start, however many each sent.
		total := 0
		for i := 0; i < 2; i++ {
			var said []string
			for _, l := range p.Transcript(config.DemoOAAppID, r.OpenID(i)) {
				if l.From == "user" {
					said = append(said, l.Text)
				}
			}
			Expect(said).To(Equal([]string{"one", "two", "one", "two", "one", "two"}[:len(said)]))
			total += len(said)
		}
		Expect(total).To(Equal(6))
	})

	It("refuses options that cannot run", func() {
		_, err := load.New(load.Options{Platform: p, Users: 2})
		Expect(err).To(MatchError(ContainSubstring("give a duration or a number of pushes")))
		_, err = load.New(load.Options{Platform: p, Users: 2, Concurrency: 3, Pushes: 1})
		Expect(err).To(MatchError(ContainSubstring("a concurrency of 3 needs as many users")))
		_, err = load.New(load.Options{Platform: p, App: "oaa", Pushes: 1})
		Expect(err).To(MatchError(ContainSubstring(`did you mean "oa"`)))
	})
})
