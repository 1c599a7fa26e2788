package platform_test

import (
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/platform"
)

var _ = Describe("Observe", func() {
	var p *platform.Platform

	BeforeEach(func() {
		var err error
		p, err = platform.New(platform.Options{Clock: clock.NewFake(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(p.Close)
	})

	It("sees every entry recorded, from many goroutines at once, where a subscription drops some", func() {
		var seen atomic.Int64
		cancel := p.Observe(func(e *platform.Entry) {
			if e.Control != nil {
				seen.Add(1)
			}
		})
		defer cancel()
		// A subscriber that never reads: its buffer of 1 fills, the rest is dropped for it.
		_, unsubscribe := p.Subscribe(platform.JournalFilter{}, 1)
		defer unsubscribe()
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 500; i++ {
					p.RecordControl("observe", config.DemoOAAppID, "", nil, nil, 0)
				}
			}()
		}
		wg.Wait()
		Expect(seen.Load()).To(BeNumerically("==", 8*500))
	})

	It("stops calling once cancelled, and leaves the other observers", func() {
		var a, b atomic.Int64
		cancelA := p.Observe(func(*platform.Entry) { a.Add(1) })
		cancelB := p.Observe(func(*platform.Entry) { b.Add(1) })
		defer cancelB()
		p.RecordControl("one", "", "", nil, nil, 0)
		cancelA()
		cancelA() // twice is harmless
		p.RecordControl("two", "", "", nil, nil, 0)
		Expect(a.Load()).To(BeNumerically("==", 1))
		Expect(b.Load()).To(BeNumerically("==", 2))
	})

	It("gives the push engine's deadline and attempts", func() {
		d, n := p.PushLimits()
		Expect(d).To(Equal(5 * time.Second))
		Expect(n).To(Equal(3))
		q, err := platform.New(platform.Options{PushTimeout: 150 * time.Millisecond})
		Expect(err).NotTo(HaveOccurred())
		defer q.Close()
		d, _ = q.PushLimits()
		Expect(d).To(Equal(150 * time.Millisecond))
	})
})
