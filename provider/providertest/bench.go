package providertest

import (
	"testing"
	"time"
)

// BenchmarkPair measures what an adapter adds to a call: raw sends the already-translated
// request with a bare http.Client and reads the answer, adapter makes the same call through
// the adapter (translation both ways, headers, checks), against the same in-process upstream.
// It runs three sub-benchmarks: raw, adapter, and paired, which alternates the two in one loop
// and reports raw-ns/call, adapter-ns/call and overhead-ns/call, a ratio that machine noise
// mostly cancels out of. raw and adapter call b.Fatal on failure.
func BenchmarkPair(b *testing.B, raw, adapter func()) {
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			raw()
		}
	})
	b.Run("adapter", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			adapter()
		}
	})
	b.Run("paired", func(b *testing.B) {
		b.ReportAllocs()
		var rawT, adT time.Duration
		n := 0
		for b.Loop() {
			t0 := time.Now()
			raw()
			t1 := time.Now()
			adapter()
			adT += time.Since(t1)
			rawT += t1.Sub(t0)
			n++
		}
		b.ReportMetric(float64(rawT.Nanoseconds())/float64(n), "raw-ns/call")
		b.ReportMetric(float64(adT.Nanoseconds())/float64(n), "adapter-ns/call")
		b.ReportMetric(float64((adT-rawT).Nanoseconds())/float64(n), "overhead-ns/call")
	})
}
