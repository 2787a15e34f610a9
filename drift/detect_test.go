package drift

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDetectsInjectedChanges runs seeded traffic that matches the spec's assumptions, injects
// one change, and measures how many requests pass before the detector meant for it fires,
// and whether a change that persists raises that detector's alert once.
//
// Detection is a matter of chance: a window of 200 can look like the old one by luck. Each
// scenario therefore runs 20 seeds and requires detection within its bound in at least 18
// of them (90%). Small answers about 70% of requests, so a window of 200 of its observations
// takes about 290 requests; most changes are caught within two such windows. A 10-point drop
// of a 90% pass rate is near what a window of 200 can tell apart at a false-alarm rate of
// 0.001 (each check catches it about two times in three), so its bound is three and a half
// windows. A lasting change may raise a second alert only as a false alarm on the new level,
// which over the 4000 requests after the change happens in well under one seed in ten; at
// most 2 of 20 are allowed.
func TestDetectsInjectedChanges(t *testing.T) {
	const (
		seeds    = 20
		required = 18
		warmup   = 3200 // requests before the change: every stream's window and reference full
		persist  = 4000 // requests after the change: more than window+reference of every stream
	)
	scenarios := []struct {
		name    string
		change  func(w *world)
		model   string // "" for the category's detector
		kind    Kind
		against Against
		within  int // requests after the change
	}{
		// The validator sees a pass rate of q(1−f) + (1−q)(1−d): q falling from 0.9 to 0.772
		// takes it from 90.2% to 80.2%.
		{"small's pass rate drops 10 points, against the reference", func(w *world) { w.small.pass = 0.772 }, "small", PassRate, Reference, 1000},
		{"small's pass rate drops 10 points, against the assumption", func(w *world) { w.small.pass = 0.772 }, "small", PassRate, Assumption, 1000},
		{"small's latency doubles, against the reference", func(w *world) { w.small.slowdown = 2 }, "small", Latency, Reference, 300},
		{"small's latency doubles, against its assumed p95", func(w *world) { w.small.slowdown = 2 }, "small", Latency, Assumption, 300},
		{"the category's latency rises with small's", func(w *world) { w.small.slowdown = 2 }, "", Latency, Reference, 300},
		{"the route mix shifts: 50% of requests go straight to strong, not 30%", func(w *world) { w.startStrong = 0.5 }, "", Mix, Reference, 400},
		// Schema failures of small go from 4.9% to 15%.
		{"small's structured-output validity drops 10 points", func(w *world) { w.small.invalid = 0.107 }, "small", Validity, Reference, 600},
		// The category's validity mixes small's answers with strong's, which stay valid.
		{"small's structured output breaks: the category's validity drops", func(w *world) { w.small.invalid = 0.2 }, "", Validity, Reference, 300},
		{"small's fallback rate rises from 2% to 12%", func(w *world) { w.small.fail = 0.12 }, "small", Fallback, Reference, 600},
		{"the category's fallback rate rises from 1.4% to 8.4%", func(w *world) { w.small.fail = 0.12 }, "", Fallback, Reference, 600},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			var delays []int
			within, repeated := 0, 0
			for seed := uint64(1); seed <= seeds; seed++ {
				w := newWorld(seed)
				m, err := New(Options{Spec: loadSimSpec(t, 200, 2000, 0.001, ""), Now: func() time.Time { return w.t }})
				if err != nil {
					t.Fatal(err)
				}
				for range warmup {
					m.Observe(w.decision())
				}
				det := findDetector(t, m, sc.model, sc.kind, sc.against)
				sc.change(w)
				detected, raised := 0, 0
				last := det.alert
				for i := 1; i <= persist; i++ {
					m.Observe(w.decision())
					if det.alert != nil && det.alert != last {
						raised++
						if detected == 0 {
							detected = i
						}
					}
					last = det.alert
				}
				switch {
				case detected == 0:
					t.Logf("seed %d: not detected in %d requests", seed, persist)
					continue
				case detected <= sc.within:
					within++
				}
				delays = append(delays, detected)
				if raised > 1 {
					repeated++
					t.Logf("seed %d: the lasting change raised %d alerts:\n%s", seed, raised, describeAlerts(alertsFor(m, sc.model, sc.kind, sc.against)))
				}
			}
			slices.Sort(delays)
			t.Logf("detected within %d requests in %d of %d seeds; delays %v", sc.within, within, seeds, delays)
			if within < required {
				t.Errorf("detected within %d requests in %d of %d seeds, want at least %d", sc.within, within, seeds, required)
			}
			if repeated > 2 {
				t.Errorf("a lasting change raised more than one alert in %d of %d seeds, want at most 2", repeated, seeds)
			}
		})
	}
}

// findDetector returns one of m's detectors; the model's must have had traffic.
func findDetector(t *testing.T, m *Monitor, model string, kind Kind, against Against) *detector {
	t.Helper()
	c := m.catList[0]
	c.mu.Lock()
	defer c.mu.Unlock()
	var found *detector
	check := func(ds ...*detector) {
		for _, d := range ds {
			if d != nil && d.model == model && d.kind == kind && d.against == against {
				found = d
			}
		}
	}
	check(c.pass.ref, c.valid.ref, c.fallback.ref, c.latency.refDet, c.latency.thr, c.mix.det)
	if ms := c.models[model]; ms != nil {
		check(ms.pass.ref, ms.pass.asm, ms.valid.ref, ms.fallback.ref, ms.latency.refDet, ms.latency.thr)
	}
	if found == nil {
		t.Fatalf("no detector %s/%s against %s", model, kind, against)
	}
	return found
}

// TestDetectorStopsFiringOnceTheReferenceAbsorbsTheChange checks the hysteresis against the
// reference: after a lasting change the detector fires, then stops once it has rebuilt its
// reference from the changed traffic, and its alert is marked resolved and its gauge falls
// back to 0.
func TestDetectorStopsFiringOnceTheReferenceAbsorbsTheChange(t *testing.T) {
	w := newWorld(7)
	m, err := New(Options{Spec: loadSimSpec(t, 200, 2000, 0.001, ""), Now: func() time.Time { return w.t }})
	if err != nil {
		t.Fatal(err)
	}
	for range 4000 {
		m.Observe(w.decision())
	}
	w.small.slowdown = 2
	for range 6000 {
		m.Observe(w.decision())
	}
	as := alertsFor(m, "small", Latency, Reference)
	if len(as) != 1 || as[0].ResolvedAt.IsZero() {
		t.Fatalf("alerts %+v, want one, resolved", as)
	}
	for _, st := range m.Detectors() {
		if st.Model == "small" && st.Detector == Latency && st.Against == Reference && st.State == "firing" {
			t.Errorf("still firing: %+v", st)
		}
		// The assumption does not move with the traffic: that detector keeps firing.
		if st.Model == "small" && st.Detector == Latency && st.Against == Assumption && st.State != "firing" {
			t.Errorf("assumed p95 detector: %+v", st)
		}
	}
}

// TestAlertOfAModelNoLongerCalledResolves: a model's detectors check only when it is called,
// so an alert raised while traffic went to it (a fallback during an outage) would fire for
// good once the traffic moves back. When the category has gone a whole stream's worth of
// requests without calling it, its alerts resolve, saying why.
func TestAlertOfAModelNoLongerCalledResolves(t *testing.T) {
	w := newWorld(11)
	m, err := New(Options{Spec: loadSimSpec(t, 200, 2000, 0.001, ""), Now: func() time.Time { return w.t }})
	if err != nil {
		t.Fatal(err)
	}
	w.small.fail, w.bk.slowdown = 0.3, 3 // an outage of small, and a slow fallback
	for range 4000 {
		m.Observe(w.decision())
	}
	if as := alertsFor(m, "backup", Latency, Assumption); len(as) == 0 || !as[0].ResolvedAt.IsZero() {
		t.Fatalf("backup latency alerts %+v: want one firing during the outage", as)
	}
	w.small.fail = 0 // small is back: backup gets no more calls
	for range 2400 {
		m.Observe(w.decision())
	}
	for _, a := range m.Alerts() {
		if a.Model == "backup" && (a.ResolvedAt.IsZero() || !strings.Contains(a.ResolvedWhy, "no calls of backup in extract")) {
			t.Errorf("alert %s still firing, or resolved without saying why: %+v", a.ID, a)
		}
	}
	for _, st := range m.Detectors() {
		if st.Model == "backup" && st.State == "firing" {
			t.Errorf("detector still firing: %+v", st)
		}
	}
	// A trickle of calls to backup again, as fast as before: its detectors warm up on them,
	// and the old outage's observations raise no new alert.
	n := len(m.Alerts())
	w.bk.slowdown = 0
	w.small.fail = 0.02
	for range 3000 {
		m.Observe(w.decision())
	}
	for _, a := range m.Alerts()[:len(m.Alerts())-n] {
		if a.Model == "backup" {
			t.Errorf("a new alert on the old data: %+v", a)
		}
	}
}
