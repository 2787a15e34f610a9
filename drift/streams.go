package drift

import (
	"fmt"
	"strings"
	"time"
)

// ring holds the codes of a stream's last window+reference observations: the newest window
// of them are the recent window, the ones before them the reference. A code is a byte: 0 or 1
// for yes/no observations, a latency bin, a model's index.
type ring struct {
	codes  []uint8
	next   int // where the next code goes
	n      int // codes held
	window int
	seen   int // codes pushed since the start
	// drop counts the codes in the window that are to leave it without joining the
	// reference (see restart).
	drop int
	// rebuilt says the reference is being rebuilt after an alert (see restart and refReady).
	rebuilt bool
	// clock, when set, is the request count of the stream's category, and last its value at
	// the latest push: how long ago, in the category's requests, the stream was last fed
	// (see Monitor.sweepQuiet).
	clock *int
	last  int
}

func newRing(window, reference int) ring {
	return ring{codes: make([]uint8, window+reference), window: window}
}

// push adds a code. It returns the code that moved from the window into the reference and
// the code that left the reference, each with whether there was one. A code that leaves the
// window without joining the reference (see restart) is returned as both.
func (r *ring) push(c uint8) (moved uint8, hasMoved bool, gone uint8, hasGone bool) {
	size := len(r.codes)
	r.seen++
	if r.clock != nil {
		r.last = *r.clock
	}
	if r.n >= r.window {
		i := r.next - r.window
		if i < 0 {
			i += size
		}
		moved, hasMoved = r.codes[i], true
	}
	switch {
	case hasMoved && r.drop > 0:
		// The reference is empty (restart emptied it and it takes nothing until the drop
		// is done), so the ring keeps holding just the window.
		r.drop--
		gone, hasGone = moved, true
	case r.n == size:
		gone, hasGone = r.codes[r.next], true
	default:
		r.n++
	}
	r.codes[r.next] = c
	if r.next++; r.next == size {
		r.next = 0
	}
	return moved, hasMoved, gone, hasGone
}

// restart empties the reference so that a new one is built from the codes pushed from now on
// only. The window stays, for the tests that look at it alone, but its codes leave it
// without joining the new reference: the window a change was detected in holds codes from
// before the change, and a reference holding them would look better than the changed traffic
// for as long as they stayed in it. The new reference therefore holds a window's worth of
// codes two windows after the restart.
func (r *ring) restart() {
	r.n = min(r.n, r.window)
	r.drop = r.n
	r.rebuilt = true
}

// reset empties window and reference.
func (r *ring) reset() { r.n, r.drop, r.rebuilt = 0, 0, false }

// refReady reports whether the window is full and the reference holds enough to compare it
// with: a window's worth when it is being rebuilt after an alert, else all of it.
//
// A stream's first reference, since the Monitor started or the stream was emptied, must be
// full because the Monitor sees each decision when it finishes. When traffic is already
// flowing (a gateway restarted under load), the first decisions to finish are the fast ones:
// those that did not escalate, fall back or start on a slow model. A reference of those alone
// looks better than the same traffic a moment later, when the slow requests have finished
// too, and a comparison with it would fire on traffic that did not change. The requests in
// flight at the start are a fixed number, which a full reference dilutes. A reference rebuilt
// after an alert is made of traffic that was already flowing, which has no such bias.
func (r *ring) refReady() bool {
	win, ref := r.counts()
	return win >= r.window && (r.n == len(r.codes) || r.rebuilt && ref >= r.window)
}

// counts returns how many observations the window and the reference hold.
func (r *ring) counts() (win, ref int) {
	win = min(r.n, r.window)
	return win, r.n - win
}

// scope says whose observations a stream holds, for alert messages.
type scope struct {
	category, model string
}

func (s scope) String() string {
	if s.model == "" {
		return s.category
	}
	return s.model + " in " + s.category
}

// rateStream is a stream of yes/no observations, counted as "events": a request that did not
// pass, an invalid structured answer, a request that fell back. Its detectors look for a rise
// in the event rate, against the reference (Fisher's exact test) and, when the spec implies
// one, against an assumed rate (an exact binomial test).
type rateStream struct {
	ring
	scope
	winEvents, refEvents int
	// since counts observations since the last check.
	since int
	// good says the rate shown is that of non-events (pass rate, validity) rather than events.
	good bool
	// what names the observations and the rate, for messages.
	what, rate string
	ref, asm   *detector
	// assumed is the event rate the assumptions imply, for asm.
	assumed float64
	// why says where the assumed rate comes from.
	why string
}

func (s *rateStream) add(m *Monitor, event bool) {
	var c uint8
	if event {
		c = 1
	}
	moved, _, gone, _ := s.push(c)
	s.winEvents += int(c) - int(moved)
	s.refEvents += int(moved) - int(gone)
	if s.since++; s.since >= m.step {
		s.since = 0
		s.check(m)
	}
}

// empty forgets every observation: window and reference.
func (s *rateStream) empty() {
	s.reset()
	s.winEvents, s.refEvents, s.since = 0, 0, 0
}

// shown returns the rate as displayed: of events, or of non-events for a good rate.
func (s *rateStream) shown(events, n int) float64 {
	r := float64(events) / float64(n)
	if s.good {
		return 1 - r
	}
	return r
}

func (s *rateStream) check(m *Monitor) {
	nw, nr := s.counts()
	if nw < s.window {
		return
	}
	if s.ref != nil && s.refReady() {
		r := result{p: hypergeomUpper(s.winEvents, nw, s.winEvents+s.refEvents, nw+nr),
			value: s.shown(s.winEvents, nw), baseline: s.shown(s.refEvents, nr)}
		fired := m.apply(s.ref, r, nw, nr, func() string {
			dir := "rose"
			if s.good {
				dir = "fell"
			}
			return fmt.Sprintf("%s of %s %s to %s over the last %d %s, from %s over the %d before",
				s.rate, s.scope, dir, pct(r.value), nw, s.what, pct(r.baseline), nr)
		})
		if fired {
			s.restart()
			s.refEvents = 0
		}
	}
	if s.asm != nil {
		base := s.assumed
		if s.good {
			base = 1 - base
		}
		r := result{p: binomUpper(s.winEvents, nw, s.assumed), value: s.shown(s.winEvents, nw), baseline: base}
		m.apply(s.asm, r, nw, 0, func() string {
			return fmt.Sprintf("%s of %s is %s over the last %d %s, below the %s the spec implies (%s)",
				s.rate, s.scope, pct(r.value), nw, s.what, pct(r.baseline), s.why)
		})
	}
}

// aboveFlag marks, in a latency code, an observation above the stream's threshold.
const aboveFlag = 0x80

// latencyStream is a stream of latencies. Its detectors look for a slowdown against the
// reference (a one-sided Mann–Whitney test on the binned latencies) and, when a threshold is
// set, for more observations above it than the 5% a p95 allows (an exact binomial test).
type latencyStream struct {
	ring
	scope
	win, ref hist
	// threshold is the assumed p95 or the latency budget; zero means none. winAbove counts
	// window observations above it.
	threshold time.Duration
	winAbove  int
	since     int
	what      string
	// thresholdName says what the threshold is, for messages: "assumed p95", "latency budget".
	thresholdName string
	refDet, thr   *detector
}

func (s *latencyStream) add(m *Monitor, d time.Duration) {
	c := latencyBin(d)
	s.win[c]++
	if s.threshold > 0 && d > s.threshold {
		c |= aboveFlag
		s.winAbove++
	}
	moved, hasMoved, gone, hasGone := s.push(c)
	if hasMoved {
		b := moved &^ aboveFlag
		s.win[b]--
		s.ref[b]++
		if moved&aboveFlag != 0 {
			s.winAbove--
		}
	}
	if hasGone {
		s.ref[gone&^aboveFlag]--
	}
	if s.since++; s.since >= m.step {
		s.since = 0
		s.check(m)
	}
}

// empty forgets every observation: window and reference.
func (s *latencyStream) empty() {
	s.reset()
	s.win, s.ref, s.winAbove, s.since = hist{}, hist{}, 0, 0
}

// tailShare is the share of observations a p95 allows above it.
const tailShare = 0.05

func (s *latencyStream) check(m *Monitor) {
	nw, nr := s.counts()
	if nw < s.window {
		return
	}
	p50, _ := s.win.quantile(0.5)
	p95, _ := s.win.quantile(0.95)
	if s.refDet != nil && s.refReady() {
		r50, _ := s.ref.quantile(0.5)
		r95, _ := s.ref.quantile(0.95)
		r := result{p: mannWhitneyUpper(&s.win, &s.ref), value: p50, baseline: r50}
		fired := m.apply(s.refDet, r, nw, nr, func() string {
			return fmt.Sprintf("latency of %s rose: median %s, p95 %s over the last %d %s, against median %s, p95 %s over the %d before",
				s.scope, secs(p50), secs(p95), nw, s.what, secs(r50), secs(r95), nr)
		})
		if fired {
			s.restart()
			s.ref = hist{}
		}
	}
	if s.thr != nil {
		r := result{p: binomUpper(s.winAbove, nw, tailShare), value: float64(s.winAbove) / float64(nw), baseline: tailShare}
		m.apply(s.thr, r, nw, 0, func() string {
			return fmt.Sprintf("%s of the last %d %s of %s took longer than the %s of %s, where a p95 allows 5%% (p95 now %s)",
				pct(r.value), nw, s.what, s.scope, s.thresholdName, secs(s.threshold.Seconds()), secs(p95))
		})
	}
}

// mixStream is the stream of models that answered a category's requests. Its detector
// compares the window's shares with the reference's by a chi-square test of homogeneity.
type mixStream struct {
	ring
	scope
	win, ref []int32
	pooled   [][2]float64 // scratch for the test
	names    []string     // model names by code
	since    int
	det      *detector
}

func (s *mixStream) add(m *Monitor, model uint8) {
	s.win[model]++
	moved, hasMoved, gone, hasGone := s.push(model)
	if hasMoved {
		s.win[moved]--
		s.ref[moved]++
	}
	if hasGone {
		s.ref[gone]--
	}
	if s.since++; s.since >= m.step {
		s.since = 0
		s.check(m)
	}
}

// empty forgets every observation: window and reference.
func (s *mixStream) empty() {
	s.reset()
	s.since = 0
	clear(s.win)
	clear(s.ref)
}

func (s *mixStream) check(m *Monitor) {
	nw, nr := s.counts()
	if !s.refReady() {
		return
	}
	p, ok := chiSquareMix(s.win, s.ref, s.pooled)
	if !ok {
		return // an empty window or reference, which refReady rules out
	}
	// The value shown is the total variation distance: the share of requests that would
	// have to move to restore the reference mix.
	tv := 0.0
	for i := range s.win {
		d := float64(s.win[i])/float64(nw) - float64(s.ref[i])/float64(nr)
		if d > 0 {
			tv += d
		}
	}
	fired := m.apply(s.det, result{p: p, value: tv}, nw, nr, func() string {
		var parts []string
		for i, name := range s.names {
			if s.win[i] == 0 && s.ref[i] == 0 {
				continue
			}
			parts = append(parts, fmt.Sprintf("%s %s (was %s)", name, pct(float64(s.win[i])/float64(nw)), pct(float64(s.ref[i])/float64(nr))))
		}
		return fmt.Sprintf("route mix of %s moved over the last %d requests, against the %d before: %s",
			s.category, nw, nr, strings.Join(parts, ", "))
	})
	if fired {
		// The test is two-sided: a reference made of the window that fired would make the
		// next, ordinary windows look changed too. Start over instead.
		s.reset()
		s.rebuilt = true
		clear(s.win)
		clear(s.ref)
	}
}

func pct(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }

func secs(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d >= 10*time.Second:
		d = d.Round(100 * time.Millisecond)
	case d >= time.Millisecond:
		d = d.Round(time.Millisecond)
	}
	return d.String()
}
