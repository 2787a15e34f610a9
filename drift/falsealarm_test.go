package drift

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
)

// flakeOdds is the chance a false-alarm test fails on a correct detector: the bounds below are
// the binomial quantiles at 1 − flakeOdds.
const flakeOdds = 1e-6

// maxAlarms returns the largest number of alarms that n windows, each raising one with
// probability at most alpha, exceed only with probability flakeOdds.
func maxAlarms(n int, alpha float64) int {
	k := 0
	for binomUpper(k+1, n, alpha) > flakeOdds {
		k++
	}
	return k
}

// alarms counts the alerts a detector raises while feed runs: a new alert pointer is a new
// alert.
type alarms struct {
	d    *detector
	last *Alert
	n    int
}

func (a *alarms) poll() {
	if a.d.alert != nil && a.d.alert != a.last {
		a.n++
	}
	a.last = a.d.alert
}

// TestFalseAlarmRatePerWindow feeds each kind of detector unchanged traffic, many windows of
// it, and checks that it raises alerts at no more than drift.false_alarm per window. The
// count of windows a detector was tested in is (observations − warm-up)/window; the alerts
// must stay within the binomial bound for that many windows at that rate. Two settings run:
// the defaults (false alarm 0.001, window 200, reference 2000), and 0.05 with a window of 100
// and a reference of 400, where the bound is tight enough to catch a miscalibrated test.
func TestFalseAlarmRatePerWindow(t *testing.T) {
	settings := []struct {
		window, reference int
		alpha             float64
		windows           int
	}{
		{200, 2000, 0.001, 4000},
		{100, 400, 0.05, 4000},
	}
	type feed struct {
		name string
		// build makes the stream and returns its detectors, the warm-up in observations
		// before they are tested, and a function that adds one observation.
		build func(m *Monitor, r *rand.Rand) ([]*detector, int, func())
	}
	lognormal := func(r *rand.Rand, p50 time.Duration) time.Duration {
		return time.Duration(float64(p50) * math.Exp(0.65*r.NormFloat64()))
	}
	sc := scope{category: "fa"}
	feeds := []feed{
		{"pass rate 90% against the reference", func(m *Monitor, r *rand.Rand) ([]*detector, int, func()) {
			s := m.rates(sc, PassRate, true, "answers", "pass rate")
			return []*detector{s.ref}, m.window + m.reference, func() { s.add(m, r.Float64() < 0.1) }
		}},
		{"fallback rate 2% against the reference", func(m *Monitor, r *rand.Rand) ([]*detector, int, func()) {
			s := m.rates(sc, Fallback, false, "requests", "fallback rate")
			return []*detector{s.ref}, m.window + m.reference, func() { s.add(m, r.Float64() < 0.02) }
		}},
		{"pass rate 90.2% against an assumed 90.2%", func(m *Monitor, r *rand.Rand) ([]*detector, int, func()) {
			s := m.rates(sc, PassRate, true, "answers", "pass rate")
			s.ref = nil
			s.asm, s.assumed = m.detector(sc, PassRate, Assumption), 0.098
			return []*detector{s.asm}, m.window, func() { s.add(m, r.Float64() < 0.098) }
		}},
		{"lognormal latency against the reference and its own p95", func(m *Monitor, r *rand.Rand) ([]*detector, int, func()) {
			s := m.latencies(sc, "requests")
			// The lognormal's p95 is p50·e^(1.645σ).
			s.threshold, s.thresholdName = time.Duration(float64(800*time.Millisecond)*math.Exp(1.6448536269514722*0.65)), "assumed p95"
			s.thr = m.detector(sc, Latency, Assumption)
			return []*detector{s.refDet, s.thr}, m.window + m.reference, func() { s.add(m, lognormal(r, 800*time.Millisecond)) }
		}},
		{"route mix 60/30/9/1 against the reference", func(m *Monitor, r *rand.Rand) ([]*detector, int, func()) {
			s := &mixStream{ring: newRing(m.window, m.reference), scope: sc, names: []string{"a", "b", "c", "d"},
				win: make([]int32, 4), ref: make([]int32, 4), pooled: make([][2]float64, 0, 5), det: m.detector(sc, Mix, Reference)}
			return []*detector{s.det}, m.window + m.reference, func() {
				u := r.Float64()
				var code uint8
				switch {
				case u < 0.6:
				case u < 0.9:
					code = 1
				case u < 0.99:
					code = 2
				default:
					code = 3
				}
				s.add(m, code)
			}
		}},
	}
	for _, st := range settings {
		for _, f := range feeds {
			t.Run(fmt.Sprintf("%g per window of %d/%s", st.alpha, st.window, f.name), func(t *testing.T) {
				t.Parallel()
				m, err := New(Options{Spec: loadSimSpec(t, st.window, st.reference, st.alpha, "")})
				if err != nil {
					t.Fatal(err)
				}
				r := rand.New(rand.NewPCG(uint64(st.window), 99))
				dets, warm, add := f.build(m, r)
				counts := make([]alarms, len(dets))
				for i, d := range dets {
					counts[i].d = d
				}
				n := warm + st.windows*st.window
				for range n {
					add()
					for i := range counts {
						counts[i].poll()
					}
				}
				limit := maxAlarms(st.windows, st.alpha)
				for _, c := range counts {
					t.Logf("false alarm %g, window %d: %s against %s: %d alarms in %d windows (rate %.5f; bound %d)",
						st.alpha, st.window, c.d.kind, c.d.against, c.n, st.windows, float64(c.n)/float64(st.windows), limit)
					if c.n > limit {
						t.Errorf("%s against %s: %d alarms in %d windows, more than the %d a false-alarm rate of %g allows",
							c.d.kind, c.d.against, c.n, st.windows, limit, st.alpha)
					}
				}
			})
		}
	}
}

// TestUnchangedTrafficRaisesFewAlarms runs seeded traffic that matches the spec's assumptions
// exactly through the whole Monitor, every detector at once, and bounds the alerts by the
// false-alarm rate over the windows each detector was tested in.
//
// A detector whose baseline is wrong (an assumed rate or p95 computed differently from what
// the traffic does) would fire once and never stop, which the count of alerts hardly shows;
// so the test also samples every detector's state once a window and requires each to spend
// at most a quarter of its tested time firing. A right one, at this false-alarm rate, fires
// a few percent of the time.
func TestUnchangedTrafficRaisesFewAlarms(t *testing.T) {
	const (
		seeds     = 8
		requests  = 12000
		alpha     = 0.05
		maxFiring = 0.25
		window    = 100
		reference = 400
	)
	type key struct {
		model   string
		kind    Kind
		against Against
	}
	firing, sampled := map[key]int{}, map[key]int{}
	alerts, windows := 0, 0
	for seed := uint64(100); seed < 100+seeds; seed++ {
		w := newWorld(seed)
		m, err := New(Options{Spec: loadSimSpec(t, window, reference, alpha, ""), Now: func() time.Time { return w.t }})
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= requests; i++ {
			m.Observe(w.decision())
			if i%window != 0 {
				continue
			}
			for _, st := range m.Detectors() {
				if st.State == "warming up" {
					continue
				}
				k := key{st.Model, st.Detector, st.Against}
				sampled[k]++
				if st.State == "firing" {
					firing[k]++
				}
			}
		}
		for _, st := range m.Detectors() {
			warm := window
			if st.Against == Reference {
				warm = window + reference
			}
			windows += max(0, st.Seen-warm) / window
		}
		alerts += len(m.Alerts())
	}
	limit := maxAlarms(windows, alpha)
	t.Logf("%d alerts in %d detector-windows (rate %.4f; false alarm %g; bound %d)", alerts, windows, float64(alerts)/float64(windows), alpha, limit)
	if alerts > limit {
		t.Errorf("%d alerts in %d detector-windows, more than the %d a false-alarm rate of %g allows", alerts, windows, limit, alpha)
	}
	for k, n := range sampled {
		share := float64(firing[k]) / float64(n)
		t.Logf("%s/%s against %s: firing in %.1f%% of %d samples", k.model, k.kind, k.against, 100*share, n)
		if share > maxFiring {
			t.Errorf("%s/%s against %s fires %.0f%% of the time on unchanged traffic: its baseline is off", k.model, k.kind, k.against, 100*share)
		}
	}
}

// TestRestartUnderLoadRaisesFewAlarms starts a Monitor on traffic already flowing: many
// requests in flight, as when a gateway restarts under load. The Monitor sees each decision
// when it finishes, so its first observations are the requests that finished first: the fast
// ones, those that did not escalate and did not start on the slow model. A reference built
// from them alone looks better than the same traffic a moment later, and the comparisons with
// it fire on traffic that did not change. The traffic here matches the spec throughout; its
// alerts must stay within the false-alarm rate over the windows the detectors were tested in.
func TestRestartUnderLoadRaisesFewAlarms(t *testing.T) {
	const (
		seeds     = 20
		inFlight  = 100
		requests  = 1500
		window    = 100
		reference = 400
		alpha     = 0.001
	)
	type running struct {
		end time.Duration
		d   *clearbar.Decision
	}
	alerts, windows := 0, 0
	for seed := uint64(1); seed <= seeds; seed++ {
		w := newWorld(seed)
		m, err := New(Options{Spec: loadSimSpec(t, window, reference, alpha, ""), Now: func() time.Time { return w.t }})
		if err != nil {
			t.Fatal(err)
		}
		// Each client sends its next request when its last one finishes; the Monitor sees
		// the decisions in the order they finish.
		var flight []running
		for i := range inFlight {
			d := w.decision()
			flight = append(flight, running{time.Duration(i)*time.Millisecond + d.Latency, d})
		}
		for range requests {
			next := 0
			for i, r := range flight {
				if r.end < flight[next].end {
					next = i
				}
			}
			done := flight[next]
			m.Observe(done.d)
			d := w.decision()
			flight[next] = running{done.end + d.Latency, d}
		}
		for _, st := range m.Detectors() {
			warm := window
			if st.Against == Reference {
				warm = window + reference
			}
			windows += max(0, st.Seen-warm) / window
		}
		for _, a := range m.Alerts() {
			t.Logf("seed %d: %s", seed, a.Message)
		}
		alerts += len(m.Alerts())
	}
	limit := maxAlarms(windows, alpha)
	t.Logf("%d alerts in %d detector-windows (bound %d)", alerts, windows, limit)
	if alerts > limit {
		t.Errorf("%d alerts in %d detector-windows of unchanged traffic, more than the %d a false-alarm rate of %g allows", alerts, windows, limit, alpha)
	}
}

// burstAlarms runs bursts of traffic that matches the spec: each burst 100 clients send
// requests back to back until 800 have started, then stop; the next burst starts a minute
// after the last request finished. The Monitor sees each decision when its request finishes,
// with Settled as the gateway sets it when settled is true. It returns the alerts raised and
// the detector-windows tested.
func burstAlarms(t *testing.T, settled bool) (alerts, windows int) {
	const (
		seeds     = 8
		bursts    = 5
		inFlight  = 100
		perBurst  = 800
		window    = 100
		reference = 400
		alpha     = 0.001
	)
	type running struct {
		start, end time.Time
		d          *clearbar.Decision
	}
	for seed := uint64(1); seed <= seeds; seed++ {
		w := newWorld(seed)
		now := w.t
		m, err := New(Options{Spec: loadSimSpec(t, window, reference, alpha, ""), Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		issue := func(at time.Time) running {
			d := w.decision()
			d.Time = at
			return running{at, at.Add(d.Latency), d}
		}
		for range bursts {
			var flight []running
			for i := range inFlight {
				flight = append(flight, issue(now.Add(time.Duration(i)*time.Millisecond)))
			}
			issued := inFlight
			for len(flight) > 0 {
				next := 0
				for i, r := range flight {
					if r.end.Before(flight[next].end) {
						next = i
					}
				}
				done := flight[next]
				flight = slices.Delete(flight, next, next+1)
				if settled {
					done.d.Settled = done.end
					for _, r := range flight {
						if r.start.Before(done.d.Settled) {
							done.d.Settled = r.start
						}
					}
				}
				now = done.end
				m.Observe(done.d)
				if issued < perBurst {
					flight = append(flight, issue(done.end))
					issued++
				}
			}
			now = now.Add(time.Minute)
		}
		for _, st := range m.Detectors() {
			warm := window
			if st.Against == Reference {
				warm = window + reference
			}
			windows += max(0, st.Seen-warm) / window
		}
		alerts += len(m.Alerts())
	}
	return alerts, windows
}

// TestBurstEndsRaiseFewAlarms: when a burst of traffic ends, the last requests to finish are
// the slow ones (escalated, or started on the slow model), so windows taken in the order
// requests finish look slower and worse than the traffic is. Taken in the order they started,
// up to what the gateway says has settled, the alerts stay within the false-alarm rate; taken
// as they finish, they do not (which is what this test guards against).
func TestBurstEndsRaiseFewAlarms(t *testing.T) {
	const alpha = 0.001
	alerts, windows := burstAlarms(t, true)
	limit := maxAlarms(windows, alpha)
	t.Logf("in start order: %d alerts in %d detector-windows (bound %d)", alerts, windows, limit)
	if alerts > limit {
		t.Errorf("%d alerts in %d detector-windows of unchanged traffic in bursts, more than the %d a false-alarm rate of %g allows", alerts, windows, limit, alpha)
	}
	unordered, windows := burstAlarms(t, false)
	t.Logf("in finish order: %d alerts in %d detector-windows", unordered, windows)
	if unordered <= maxAlarms(windows, alpha) {
		t.Errorf("in the order requests finish, bursts raised only %d alerts: the test no longer shows what the order guards against", unordered)
	}
}

// TestSkippedDecisionsStillSettle: a decision the detectors skip (cancelled by its client)
// still says what has settled, so the decisions held behind it are tested: the slow request
// that held 50 others back was cancelled at the end of a burst.
func TestSkippedDecisionsStillSettle(t *testing.T) {
	w := newWorld(3)
	m, err := New(Options{Spec: loadSimSpec(t, 100, 400, 0.001, ""), Now: func() time.Time { return w.t }})
	if err != nil {
		t.Fatal(err)
	}
	first := w.decision()
	for range 50 {
		d := w.decision()
		d.Settled = first.Time // the first request is still in flight
		m.Observe(d)
	}
	seen := func() int {
		n := 0
		for _, st := range m.Detectors() {
			if st.Category == "extract" && st.Model == "" && st.Detector == PassRate && st.Against == Reference {
				n = st.Seen
			}
		}
		return n
	}
	if n := seen(); n != 0 {
		t.Fatalf("%d decisions tested while the first request runs, want 0", n)
	}
	first.Outcome = clearbar.Canceled
	first.Settled = w.t.Add(time.Hour)
	m.Observe(first)
	if n := seen(); n != 50 {
		t.Errorf("%d decisions tested after the first request was cancelled, want the 50 held", n)
	}
}
