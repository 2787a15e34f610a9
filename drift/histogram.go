package drift

import (
	"math"
	"time"
)

// Latencies are kept as counts in fixed logarithmic bins: four bins per doubling from 1ms,
// so that a bin is 19% wide and doubling a latency moves it four bins. Bin 0 holds everything
// under 1ms and the last bin everything from about 17 minutes up. Fixed bins make adding,
// removing and merging counts O(1) per observation, and give quantiles within a few percent.
const (
	binsPerDoubling = 4
	nBins           = 80
	binBase         = time.Millisecond
)

// hist is a latency histogram.
type hist [nBins]uint32

// The quarter-octave steps 2^(1/4), 2^(2/4) and 2^(3/4).
const (
	step1 = 1.189207115002721
	step2 = 1.4142135623730951
	step3 = 1.681792830507429
)

// latencyBin returns the bin of a latency. It reads the octave from the float's exponent and
// the quarter from its mantissa, which is several times faster than a logarithm.
func latencyBin(d time.Duration) uint8 {
	if d < binBase {
		return 0
	}
	bits := math.Float64bits(float64(d) / float64(binBase))
	octave := int(bits>>52&0x7ff) - 1023
	mant := math.Float64frombits(bits&(1<<52-1) | 1023<<52) // in [1, 2)
	b := 1 + binsPerDoubling*octave
	switch {
	case mant >= step3:
		b += 3
	case mant >= step2:
		b += 2
	case mant >= step1:
		b++
	}
	return uint8(min(b, nBins-1))
}

// binBounds returns the latencies a bin covers, in seconds.
func binBounds(b int) (lo, hi float64) {
	base := binBase.Seconds()
	if b == 0 {
		return 0, base
	}
	lo = base * math.Exp2(float64(b-1)/binsPerDoubling)
	return lo, lo * math.Exp2(1.0/binsPerDoubling)
}

// quantile returns the q-quantile of the histogram in seconds, interpolated geometrically
// within its bin, and false when the histogram is empty.
func (h *hist) quantile(q float64) (float64, bool) {
	var n uint64
	for _, c := range h {
		n += uint64(c)
	}
	if n == 0 {
		return 0, false
	}
	rank := q * float64(n)
	var cum float64
	last := 0
	for b, c := range h {
		if c == 0 {
			continue
		}
		last = b
		if next := cum + float64(c); next >= rank {
			return interpolate(b, (rank-cum)/float64(c)), true
		}
		cum += float64(c)
	}
	return interpolate(last, 1), true // rounding left rank past the end
}

// interpolate returns the latency a fraction f of the way through bin b: linearly in bin 0,
// geometrically in the others.
func interpolate(b int, f float64) float64 {
	f = min(max(f, 0), 1)
	lo, hi := binBounds(b)
	if b == 0 {
		return lo + f*(hi-lo)
	}
	return lo * math.Pow(hi/lo, f)
}

// add adds another histogram's counts.
func (h *hist) add(o *hist) {
	for i, c := range o {
		h[i] += c
	}
}
