package drift

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
)

// tightLatency draws a latency from a lognormal with median p50 and a spread of 8%: a steady
// model's, or a simulated provider's at a small time scale.
func tightLatency(r *rand.Rand, p50 time.Duration) time.Duration {
	return time.Duration(float64(p50) * math.Exp(0.08*r.NormFloat64()))
}

// TestLastingChangeStopsFiringOnceTheReferenceIsRebuilt runs a stream at level A, then at a
// worse level B for 60 windows, then at a worse level C, with the default settings (window
// 200, reference 2000, false alarm 0.001). The detector against the reference must fire near
// the change to B, stop once it has rebuilt its reference from level B (within one reference
// length of the alert, as the package doc says), raise no more alerts on level B than false
// alarms explain, and fire on the change to C.
//
// The window that fires holds observations from before the change as well as after it. Were
// they moved into the new reference, it would look better than the level-B windows that
// follow for as long as they stayed in it, and the detector would go on firing for most of
// a reference length more. Latencies of a tight distribution show it most: the rank test
// ties the level-B observations, so a hundred level-A ones in a reference of two thousand
// keep its p-value far below one half. The test also checks that the rebuilt reference holds
// no level-A latency.
func TestLastingChangeStopsFiringOnceTheReferenceIsRebuilt(t *testing.T) {
	const (
		seeds  = 10
		window = 200
		ref    = 2000
		alpha  = 0.001
		atA    = 3000
		atB    = 60 * window
		atC    = 2 * window
		fireBy = 2 * window // observations after a change by which the alert must be raised
	)
	levels := [3]time.Duration{10 * time.Millisecond, 22 * time.Millisecond, 45 * time.Millisecond}
	// Every level-A latency falls below cut and every level-B one above it.
	cut := latencyBin(15 * time.Millisecond)
	type stream struct {
		det *detector
		add func(level int)
		// old returns how many level-A observations the reference holds; -1 when the
		// stream cannot tell them apart.
		old func() int
	}
	sc := scope{category: "restart"}
	feeds := []struct {
		name  string
		build func(m *Monitor, r *rand.Rand) stream
	}{
		{"latency 10ms, then 22ms, then 45ms", func(m *Monitor, r *rand.Rand) stream {
			s := m.latencies(sc, "requests")
			return stream{s.refDet, func(l int) { s.add(m, tightLatency(r, levels[l])) }, func() int {
				n := 0
				for b := range cut {
					n += int(s.ref[b])
				}
				return n
			}}
		}},
		{"fallback rate 2%, then 15%, then 40%", func(m *Monitor, r *rand.Rand) stream {
			s := m.rates(sc, Fallback, false, "requests", "fallback rate")
			rates := [3]float64{0.02, 0.15, 0.4}
			return stream{s.ref, func(l int) { s.add(m, r.Float64() < rates[l]) }, func() int { return -1 }}
		}},
	}
	for _, f := range feeds {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			extra := 0
			for seed := uint64(1); seed <= seeds; seed++ {
				m, err := New(Options{Spec: loadSimSpec(t, window, ref, alpha, "")})
				if err != nil {
					t.Fatal(err)
				}
				s := f.build(m, rand.New(rand.NewPCG(seed, 0x5eed)))
				for range atA {
					s.add(0)
				}
				if s.det.firing {
					t.Fatalf("seed %d: firing on unchanged traffic", seed)
				}
				count := alarms{d: s.det}
				// first is when level B's alert was raised; since, when the current run of
				// firing started (0: not firing); longest, the longest such run. All count
				// observations into level B.
				first, since, longest := 0, 0, 0
				for i := 1; i <= atB; i++ {
					s.add(1)
					count.poll()
					switch {
					case s.det.firing && since == 0:
						since = i
						if first == 0 {
							first = i
						}
					case !s.det.firing && since > 0:
						longest, since = max(longest, i-since), 0
					}
					if first > 0 && i == first+2*window+m.step {
						// The rebuilt reference has just been tested for the first time.
						if n := s.old(); n > 0 {
							t.Errorf("seed %d: %d observations into level B, the rebuilt reference holds %d level-A observations", seed, i, n)
						}
					}
				}
				if since > 0 {
					longest = max(longest, atB+1-since)
				}
				t.Logf("seed %d: level B raised %d alerts, the first after %d observations; the longest stretch of firing lasted %d", seed, count.n, first, longest)
				if first == 0 || first > fireBy {
					t.Errorf("seed %d: the change to level B raised its alert after %d observations, want within %d", seed, first, fireBy)
				}
				if longest > ref {
					t.Errorf("seed %d: level B kept the detector firing for %d observations in a row, more than the reference length %d", seed, longest, ref)
				}
				extra += max(0, count.n-1)

				// Level C fires anew, unless a false alarm on level B is still firing.
				wasFiring, before := s.det.firing, count.n
				for range atC {
					s.add(2)
					count.poll()
				}
				if count.n == before && !(wasFiring && s.det.firing) {
					t.Errorf("seed %d: the change from level B to level C raised no alert within %d observations", seed, atC)
				}
			}
			// A further alert on level B can only be a false alarm on the new level.
			if limit := maxAlarms(seeds*atB/window, alpha); extra > limit {
				t.Errorf("level B raised %d alerts besides the first, over %d windows; false alarms at %g a window explain at most %d", extra, seeds*atB/window, alpha, limit)
			}
		})
	}
}

// TestCategoryLatencyAlertStopsAtTheNewLevel is the operator's report through the whole
// Monitor: a category's requests take 10ms for 3,000 requests, then 22ms for good. Its latency
// alert against the reference is raised once, soon after the change, and has stopped within
// one reference length of it; the detector is not firing afterwards.
func TestCategoryLatencyAlertStopsAtTheNewLevel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 0x5eed))
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	m, err := New(Options{Spec: loadSimSpec(t, 200, 2000, 0.001, ""), Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	observe := func(n int, p50 time.Duration) {
		for range n {
			at = at.Add(10 * time.Millisecond)
			m.Observe(&clearbar.Decision{Time: at, Category: "extract", Model: "small", Latency: tightLatency(r, p50)})
		}
	}
	observe(3000, 10*time.Millisecond)
	observe(2400, 22*time.Millisecond)
	as := alertsFor(m, "", Latency, Reference)
	if len(as) != 1 || as[0].ResolvedAt.IsZero() {
		t.Fatalf("alerts:\n%s want one, resolved", describeAlerts(as))
	}
	if d := as[0].ResolvedAt.Sub(as[0].Time); d > 2000*10*time.Millisecond {
		t.Errorf("the alert stopped %d requests after it was raised, more than the reference length", d/(10*time.Millisecond))
	}
	if d := findDetector(t, m, "", Latency, Reference); d.firing {
		t.Errorf("still firing: %+v", d.last)
	}
}

// TestRingRestartKeepsTheWindowOutOfTheNewReference: after restart the window stays, but its
// codes leave it without joining the reference, which holds only codes pushed after the
// restart; the caller sees each dropped code as moved and gone at once.
func TestRingRestartKeepsTheWindowOutOfTheNewReference(t *testing.T) {
	ring := newRing(3, 4)
	m := &ringModel{r: &ring}
	for c := uint8(1); c <= 10; c++ {
		m.push(t, c)
	}
	m.r.restart()
	m.ref = nil // the window holds 8, 9, 10
	if w, ref := m.r.counts(); w != 3 || ref != 0 {
		t.Fatalf("after restart: counts %d, %d; want 3, 0", w, ref)
	}
	for c := uint8(11); c <= 30; c++ {
		m.push(t, c)
		for _, x := range m.ref {
			if x <= 10 {
				t.Fatalf("push %d: the reference %v holds %d, from before the restart", c, m.ref, x)
			}
		}
		if c == 16 && len(m.ref) != 3 {
			t.Fatalf("two windows after the restart the reference holds %v, want a window", m.ref)
		}
	}
	if len(m.ref) != 4 {
		t.Fatalf("reference %v, want full", m.ref)
	}
}
