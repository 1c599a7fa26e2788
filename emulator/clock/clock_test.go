package clock_test

import (
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/clock"
)

var start = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

var _ = Describe("Fake", func() {
	var clk *clock.Fake
	BeforeEach(func() { clk = clock.NewFake(start) })

	It("stands still until advanced", func() {
		Expect(clk.Now()).To(Equal(start))
		clk.Advance(48 * time.Hour)
		Expect(clk.Now()).To(Equal(start.Add(48 * time.Hour)))
	})

	It("fires due timers in time order, with Now at each timer's due time", func() {
		var fired []string
		var at []time.Time
		record := func(name string) func() {
			return func() { fired = append(fired, name); at = append(at, clk.Now()) }
		}
		clk.AfterFunc(30*time.Minute, record("30m"))
		clk.AfterFunc(time.Minute, record("1m"))
		clk.AfterFunc(48*time.Hour, record("48h"))
		clk.AfterFunc(time.Minute, record("1m-second"))

		clk.Advance(time.Hour)
		Expect(fired).To(Equal([]string{"1m", "1m-second", "30m"}))
		Expect(at).To(Equal([]time.Time{start.Add(time.Minute), start.Add(time.Minute), start.Add(30 * time.Minute)}))
		Expect(clk.Now()).To(Equal(start.Add(time.Hour)))
		Expect(clk.Pending()).To(Equal(1))
	})

	It("fires timers scheduled by a firing timer when they fall due within the same advance", func() {
		var fired []time.Duration
		clk.AfterFunc(10*time.Second, func() {
			fired = append(fired, clk.Now().Sub(start))
			clk.AfterFunc(10*time.Second, func() { fired = append(fired, clk.Now().Sub(start)) })
		})
		clk.Advance(30 * time.Second)
		Expect(fired).To(Equal([]time.Duration{10 * time.Second, 20 * time.Second}))
	})

	It("does not fire a stopped timer", func() {
		fired := false
		t := clk.AfterFunc(time.Second, func() { fired = true })
		Expect(t.Stop()).To(BeTrue())
		Expect(t.Stop()).To(BeFalse())
		clk.Advance(time.Minute)
		Expect(fired).To(BeFalse())
	})

	It("never moves backward", func() {
		clk.Advance(-time.Hour)
		clk.AdvanceTo(start.Add(-time.Hour))
		Expect(clk.Now()).To(Equal(start))
	})

	It("is safe for concurrent use", func() {
		var wg sync.WaitGroup
		var mu sync.Mutex
		n := 0
		for i := 0; i < 50; i++ {
			wg.Add(2)
			go func() { defer wg.Done(); clk.AfterFunc(time.Second, func() { mu.Lock(); n++; mu.Unlock() }) }()
			go func() { defer wg.Done(); _ = clk.Now() }()
		}
		wg.Wait()
		clk.Advance(time.Second)
		Expect(n).To(Equal(50))
	})
})

var _ = Describe("Offset", func() {
	It("runs on real time plus an offset that Advance moves", func() {
		o := clock.NewOffset()
		before := time.Now()
		o.Advance(48 * time.Hour)
		Expect(o.Offset()).To(Equal(48 * time.Hour))
		Expect(o.Now()).To(BeTemporally(">=", before.Add(48*time.Hour)))
		Expect(o.Now()).To(BeTemporally("<", time.Now().Add(48*time.Hour+time.Minute)))
	})

	It("fires timers when Advance passes them", func() {
		o := clock.NewOffset()
		fired := false
		o.AfterFunc(30*time.Minute, func() { fired = true })
		o.Advance(29 * time.Minute)
		Expect(fired).To(BeFalse())
		o.Advance(2 * time.Minute)
		Expect(fired).To(BeTrue())
	})

	It("fires timers when real time reaches them, with nobody advancing or polling", func() {
		o := clock.NewOffset()
		fired := make(chan time.Time, 1)
		due := o.Now().Add(20 * time.Millisecond)
		o.AfterFunc(20*time.Millisecond, func() { fired <- o.Now() })
		var at time.Time
		Eventually(fired, 2*time.Second).Should(Receive(&at))
		Expect(at).NotTo(BeTemporally("<", due), "it fires at its due time, not before")
	})

	It("does not fire a stopped timer when real time passes it", func() {
		o := clock.NewOffset()
		fired := make(chan struct{}, 1)
		t := o.AfterFunc(10*time.Millisecond, func() { fired <- struct{}{} })
		Expect(t.Stop()).To(BeTrue())
		Consistently(fired, 60*time.Millisecond).ShouldNot(Receive())
	})
})

var _ = Describe("Offset limits", func() {
	It("ignores an advance that would take its offset past MaxAdvance, so it never wraps", func() {
		o := clock.NewOffset()
		o.Advance(2562047 * time.Hour)
		o.Advance(90 * time.Minute)
		Expect(o.Offset()).To(BeNumerically(">=", 0))
		Expect(o.Offset()).To(BeNumerically("<=", clock.MaxAdvance))
		Expect(o.Now().Year()).To(BeNumerically(">=", time.Now().Year()))
	})

	It("goes back to real time on Reset, keeping its timers for their time", func() {
		o := clock.NewOffset()
		o.Advance(48 * time.Hour)
		fired := false
		t := o.AfterFunc(time.Hour, func() { fired = true })
		DeferCleanup(t.Stop)
		o.Reset()
		Expect(o.Offset()).To(BeZero())
		Expect(o.Now()).To(BeTemporally("~", time.Now(), time.Minute))
		o.Advance(47 * time.Hour)
		Expect(fired).To(BeFalse())
		o.Advance(2 * time.Hour)
		Expect(fired).To(BeTrue())
	})
})
