package load_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/load"
)

// exact is the nearest-rank quantile of sorted samples, the definition Histogram follows.
func exact(sorted []time.Duration, q float64) time.Duration {
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

var _ = Describe("Histogram", func() {
	quantiles := []float64{0.5, 0.9, 0.99, 0.999, 1}

	DescribeTable("reports quantiles within 1 % of the exact ones",
		func(draw func(r *rand.Rand) time.Duration) {
			r := rand.New(rand.NewPCG(1, 2))
			var h load.Histogram
			samples := make([]time.Duration, 200000)
			for i := range samples {
				samples[i] = draw(r)
				h.Record(samples[i])
			}
			slices.Sort(samples)
			for _, q := range quantiles {
				want := exact(samples, q)
				got := h.Quantile(q)
				Expect(float64(got)).To(BeNumerically("~", float64(want), float64(want)/100+1), "quantile %v: got %s, exact %s", q, got, want)
			}
			Expect(h.Max()).To(Equal(samples[len(samples)-1]))
			Expect(h.Min()).To(Equal(samples[0]))
			Expect(h.Count()).To(BeNumerically("==", len(samples)))
		},
		Entry("uniform 0–10 ms", func(r *rand.Rand) time.Duration { return time.Duration(r.Int64N(int64(10 * time.Millisecond))) }),
		Entry("exponential, mean 3 ms", func(r *rand.Rand) time.Duration { return time.Duration(r.ExpFloat64() * float64(3*time.Millisecond)) }),
		Entry("log-normal around 2 ms with a long tail", func(r *rand.Rand) time.Duration {
			return time.Duration(math.Exp(r.NormFloat64()*1.5) * float64(2*time.Millisecond))
		}),
		Entry("bimodal: 1 ms, and 5 % at 6 s (a slow bot past the deadline)", func(r *rand.Rand) time.Duration {
			if r.IntN(100) < 5 {
				return 6*time.Second + time.Duration(r.Int64N(int64(time.Millisecond)))
			}
			return time.Millisecond + time.Duration(r.Int64N(int64(100*time.Microsecond)))
		}),
		Entry("tiny values, below the first power of two it splits", func(r *rand.Rand) time.Duration { return time.Duration(r.Int64N(300)) }),
	)

	It("puts the tail where it is: a p99 of a 1 % tail is the tail", func() {
		var h load.Histogram
		for i := 0; i < 990; i++ {
			h.Record(time.Millisecond)
		}
		for i := 0; i < 10; i++ {
			h.Record(5 * time.Second)
		}
		Expect(h.Quantile(0.99)).To(BeNumerically("~", time.Millisecond, 10*time.Microsecond))
		Expect(h.Quantile(0.991)).To(BeNumerically("~", 5*time.Second, 40*time.Millisecond))
		Expect(h.Max()).To(Equal(5 * time.Second))
	})

	It("merges shards into the same histogram as one", func() {
		r := rand.New(rand.NewPCG(3, 4))
		var whole, a, b load.Histogram
		for i := 0; i < 10000; i++ {
			d := time.Duration(r.Int64N(int64(time.Second)))
			whole.Record(d)
			if i%2 == 0 {
				a.Record(d)
			} else {
				b.Record(d)
			}
		}
		a.Merge(&b)
		Expect(a).To(Equal(whole))
	})

	It("is empty and answers zero before anything is recorded", func() {
		var h load.Histogram
		Expect(h.Quantile(0.99)).To(BeZero())
		Expect(h.Mean()).To(BeZero())
		Expect(h.Count()).To(BeZero())
	})
})
