package load

import (
	"math"
	"math/bits"
	"time"
)

// Histogram counts durations in log-linear buckets, as HdrHistogram does: each power of two is
// cut into subBuckets equal parts, so that a quantile it reports is within 1/subBuckets of the
// true value (0.8 %) at any scale, from a nanosecond to hours, in a fixed 58 KiB. A load run
// keeps histograms, never one sample per push, so that its memory does not grow with the pushes.
// The zero value is empty and ready; it is not safe for concurrent use.
type Histogram struct {
	counts   [numBuckets]uint64
	n        uint64
	sum      time.Duration
	min, max time.Duration
}

const (
	subBits    = 7
	subBuckets = 1 << subBits // parts per power of two
	// numBuckets covers every non-negative int64: values below subBuckets have a bucket each,
	// then subBuckets per power of two up to 2^63.
	numBuckets = subBuckets + (64-subBits)*subBuckets
)

// bucketOf is the bucket of v ≥ 0 nanoseconds.
func bucketOf(v uint64) int {
	if v < subBuckets {
		return int(v)
	}
	shift := bits.Len64(v) - subBits - 1 // v>>shift is in [subBuckets, 2·subBuckets)
	return subBuckets + shift*subBuckets + int(v>>shift) - subBuckets
}

// bucketRange is the smallest and the largest value of bucket i.
func bucketRange(i int) (lo, hi uint64) {
	if i < subBuckets {
		return uint64(i), uint64(i)
	}
	shift := (i - subBuckets) / subBuckets
	off := uint64((i-subBuckets)%subBuckets) + subBuckets
	lo = off << shift
	return lo, lo + (uint64(1) << shift) - 1
}

// Record adds one duration; a negative one counts as 0.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += d
}

// Merge adds every count of o.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

// Count is how many durations were recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Max is the largest duration recorded, exactly.
func (h *Histogram) Max() time.Duration { return h.max }

// Min is the smallest duration recorded, exactly.
func (h *Histogram) Min() time.Duration { return h.min }

// Mean is the average duration recorded, exactly.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// Quantile is the duration at or below which the fraction q (0 < q ≤ 1) of the recorded ones
// lie: the nearest-rank quantile, the middle of its bucket, within the exact min and max.
// It is 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	if rank < 1 {
		rank = 1
	}
	if rank > h.n {
		rank = h.n
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen < rank {
			continue
		}
		lo, hi := bucketRange(i)
		v := time.Duration(lo + (hi-lo)/2)
		return min(max(v, h.min), h.max)
	}
	return h.max
}
