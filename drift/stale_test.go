package drift

import (
	"strings"
	"testing"
	"time"
)

// TestFiringStreamThatStopsGettingObservationsIsCleared: a category's validity stream is fed
// by structured answers only, its latency by successful requests only and its route mix by
// answered requests only, so each can stop getting observations while the category still has
// traffic. A detector is tested only when its stream gets one, so an alert firing then would
// fire for good. Once the category has gone a whole stream's worth of requests (window plus
// reference) without one, the alert is resolved, saying that it was cleared for want of
// observations, and the stream is emptied. A model's streams that are fed by part of its calls
// are cleared the same way while it is still called.
func TestFiringStreamThatStopsGettingObservationsIsCleared(t *testing.T) {
	const window, reference = 200, 2000
	allFail := func(w *world) { w.small.fail, w.strong.fail, w.bk.fail = 1, 1, 1 }
	tests := []struct {
		explanation string
		change      func(w *world) // makes the detector fire
		stop        func(w *world) // stops its stream while the category keeps its traffic
		model       string         // "" for the category's detector
		kind        Kind
		why         string
	}{
		{"validity falls, then requests stop asking for JSON",
			func(w *world) { w.small.invalid = 0.2 }, func(w *world) { w.noSchema = true },
			"", Validity, "no structured answers in the last "},
		{"latency rises, then every request fails",
			func(w *world) { w.small.slowdown = 2 }, allFail,
			"", Latency, "no successful requests in the last "},
		{"the route mix moves, then every request fails",
			func(w *world) { w.startStrong = 0.5 }, allFail,
			"", Mix, "no answered requests in the last "},
		// small is still called, and fails, but gives no answer to time.
		{"small's latency rises, then every call of it fails",
			func(w *world) { w.small.slowdown = 2 }, func(w *world) { w.small.fail = 1 },
			"small", Latency, "no answers from small in the last "},
		{"small's validity falls, then requests stop asking for JSON",
			func(w *world) { w.small.invalid = 0.2 }, func(w *world) { w.noSchema = true },
			"small", Validity, "no structured answers from small in the last "},
	}
	for _, tt := range tests {
		t.Run(tt.explanation, func(t *testing.T) {
			t.Parallel()
			w := newWorld(5)
			m, err := New(Options{Spec: loadSimSpec(t, window, reference, 0.001, ""), Now: func() time.Time { return w.t }})
			if err != nil {
				t.Fatal(err)
			}
			for range 3200 {
				m.Observe(w.decision())
			}
			det := findDetector(t, m, tt.model, tt.kind, Reference)
			tt.change(w)
			for i := 0; !det.firing; i++ {
				if i == 4000 {
					t.Fatalf("%s/%s did not fire in 4000 requests after the change", tt.kind, Reference)
				}
				m.Observe(w.decision())
			}
			tt.stop(w)
			// Short of a stream's worth of requests without an observation, the alert stands;
			// the category looks for stale streams every m.step requests.
			for range window + reference - m.step {
				m.Observe(w.decision())
			}
			if !det.firing {
				t.Fatalf("cleared after %d requests without an observation, fewer than the stream holds", window+reference-m.step)
			}
			for range 2 * m.step {
				m.Observe(w.decision())
			}
			if det.firing {
				t.Fatal("still firing after a stream's worth of requests without an observation")
			}
			as := alertsFor(m, tt.model, tt.kind, Reference)
			a := as[0]
			want := "requests of extract: the alert is cleared, not confirmed"
			if a.ResolvedAt.IsZero() || !strings.HasPrefix(a.ResolvedWhy, tt.why) || !strings.HasSuffix(a.ResolvedWhy, want) {
				t.Errorf("alert %+v: want it resolved, saying %q ... %q", a, tt.why, want)
			}
			for _, st := range m.Detectors() {
				if st.Model == tt.model && st.Detector == tt.kind && st.Observations != 0 {
					t.Errorf("stream not emptied: %+v", st)
				}
			}
		})
	}
}
