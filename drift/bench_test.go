package drift

import (
	"testing"
	"time"

	"github.com/clearbar/clearbar"
)

// BenchmarkObserve measures the cost Observe adds to recording one decision: a mix of
// realistic decisions (one to two attempts, validator verdicts, fallbacks and escalations)
// through every detector and series of the simulation's spec, once their windows are full.
func BenchmarkObserve(b *testing.B) {
	m, ds := benchDecisions(b, 1)
	for _, d := range ds { // fill the windows and references, and create every stream
		m.Observe(d)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Observe(ds[i&(len(ds)-1)])
		i++
	}
}

// BenchmarkObserveParallel measures Observe from many goroutines, as the gateway calls it.
func BenchmarkObserveParallel(b *testing.B) {
	m, ds := benchDecisions(b, 2)
	for _, d := range ds {
		m.Observe(d)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.Observe(ds[i&(len(ds)-1)])
			i++
		}
	})
}

// BenchmarkObserveSettled is BenchmarkObserve with decisions as the gateway hands them: each
// says what has settled (Decision.Settled), here with 64 requests in flight, so that each
// decision waits in the heap for the ones that started before it.
func BenchmarkObserveSettled(b *testing.B) {
	m, ds := benchDecisions(b, 1)
	// Decision i settles at the start of decision i − 63 (they start 100ms apart), shifted
	// by the loop's round so that the watermark keeps moving.
	observe := func(i int) {
		d := *ds[i&(len(ds)-1)]
		round := time.Duration(i/len(ds)) * time.Duration(len(ds)) * 100 * time.Millisecond
		d.Time = d.Time.Add(round)
		d.Settled = d.Time.Add(-63 * 100 * time.Millisecond)
		m.Observe(&d)
	}
	for i := range ds {
		observe(i)
	}
	b.ReportAllocs()
	i := len(ds)
	for b.Loop() {
		observe(i)
		i++
	}
}

// benchDecisions returns a Monitor of the simulation's spec (window 200, reference 2,000) and
// 4,096 decisions of the simulated world with that seed, not yet observed.
func benchDecisions(b *testing.B, seed uint64) (*Monitor, []*clearbar.Decision) {
	w := newWorld(seed)
	m, err := New(Options{Spec: loadSimSpec(b, 200, 2000, 0.001, ""), Now: func() time.Time { return w.t }})
	if err != nil {
		b.Fatal(err)
	}
	ds := make([]*clearbar.Decision, 4096)
	for i := range ds {
		ds[i] = w.decision()
	}
	return m, ds
}
