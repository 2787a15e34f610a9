package drift

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// Options configure a Monitor. Spec is required.
type Options struct {
	Spec *spec.Spec
	// Registerer receives the Monitor's metrics; nil keeps them unexported.
	Registerer prometheus.Registerer
	// Logger receives alerts and webhook failures; nil discards them.
	Logger *slog.Logger
	// Now is the clock, for alert times and the current minute; nil means time.Now.
	// Decisions go into the minute of their own Time.
	Now func() time.Time
	// History is how long the per-minute series are kept; zero means DefaultHistory. Each
	// series with traffic costs about 500 bytes per minute of history.
	History time.Duration
	// MaxAlerts is how many recent alerts are kept; zero means DefaultMaxAlerts.
	MaxAlerts int
	// WebhookClient posts alerts to the spec's drift.webhook; nil means http.DefaultClient.
	// WebhookTimeout bounds one POST; zero means DefaultWebhookTimeout.
	WebhookClient  *http.Client
	WebhookTimeout time.Duration
}

// Monitor defaults.
const (
	DefaultHistory   = 24 * time.Hour
	DefaultMaxAlerts = 100
	// checksPerWindow is how many times per window length each detector is tested.
	checksPerWindow = 4
)

// Recorder takes finished decisions. It has the method set of gateway.Recorder, so a
// Monitor, or a Tee of recorders, can be given to the gateway as its recorder.
type Recorder interface {
	Record(d *clearbar.Decision) bool
}

// Monitor watches decisions for drift and keeps time series of them. It is safe for
// concurrent use. Build it with New, hand it every decision (Record or Observe, typically
// through Tee beside the trace recorder) and Close it at shutdown.
type Monitor struct {
	spec *spec.Spec
	// detecting is false when the spec turns drift detection off; series are kept anyway.
	detecting bool
	window    int
	reference int
	// step is how many observations of a stream pass between its checks; level is each
	// check's significance level, so that the checks of one window together stay within
	// drift.false_alarm.
	step  int
	level float64

	log     *slog.Logger
	now     func() time.Time
	start   time.Time
	history int // minutes

	// cats, catList, models and modelList are built by New and never modified after.
	cats         map[string]*category
	catList      []*category
	models       map[string]*series
	modelList    []*series
	unclassified series
	// modelIndex numbers the spec's models for route-mix codes.
	modelIndex map[string]uint8
	modelNames []string
	// structured holds the names (as verdicts give them) of validators that check structure.
	structured map[string]bool

	metrics *metrics
	alerts  alertLog
	hook    *webhook

	// held are the decisions waiting for the requests that started before them to finish
	// (see Observe), and settled the latest Decision.Settled seen; order guards both.
	order   sync.Mutex
	held    heldHeap
	settled time.Time
	// holding is len(held), for Observe to pass over the lock when nothing is held.
	holding atomic.Int64
}

// category is one category's detectors and series. mu guards the detectors and models.
type category struct {
	name string
	spec *spec.Category
	mu   sync.Mutex
	// Nil when the Monitor is not detecting.
	pass, valid, fallback *rateStream
	latency               *latencyStream
	mix                   *mixStream
	models                map[string]*modelStreams
	series                series
	// requests counts the decisions the streams have taken, and sinceSweep those since the
	// last look for models gone quiet.
	requests, sinceSweep int
}

// modelStreams are one model's detectors within a category.
type modelStreams struct {
	pass, valid, fallback *rateStream
	latency               *latencyStream
	// lastSeen is the category's request count when a call of the model was last observed,
	// and quiet says its streams were emptied since (see sweepQuiet).
	lastSeen int
	quiet    bool
}

// New builds a Monitor for a loaded spec's categories, models, assumptions and drift
// settings, and, when the spec names a webhook, starts the goroutine that posts alerts.
func New(o Options) (*Monitor, error) {
	s := o.Spec
	if s == nil {
		return nil, errors.New("drift: no spec")
	}
	if len(s.Models) > 255 {
		return nil, fmt.Errorf("drift: %d models; route mix handles at most 255", len(s.Models))
	}
	set := s.Drift.Settings()
	m := &Monitor{spec: s, detecting: !set.Disabled, window: set.Window, reference: set.Reference,
		log: o.Logger, now: o.Now, cats: map[string]*category{}, models: map[string]*series{},
		modelIndex: map[string]uint8{}, structured: structuredValidators(s)}
	if m.window <= 0 || m.reference < m.window || !(set.FalseAlarm > 0 && set.FalseAlarm < 1) {
		return nil, fmt.Errorf("drift: window %d, reference %d and false alarm %g are not usable", m.window, m.reference, float64(set.FalseAlarm))
	}
	m.step = max(1, m.window/checksPerWindow)
	m.level = float64(set.FalseAlarm) * float64(m.step) / float64(m.window)
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.now == nil {
		m.now = time.Now
	}
	m.start = m.now()
	history := o.History
	if history <= 0 {
		history = DefaultHistory
	}
	m.history = max(int(history/time.Minute), 1)
	maxAlerts := o.MaxAlerts
	if maxAlerts <= 0 {
		maxAlerts = DefaultMaxAlerts
	}
	m.alerts.ring = make([]*Alert, maxAlerts)
	reg := o.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m.metrics = newMetrics(reg)
	m.unclassified.name = Unclassified
	for i, md := range s.Models {
		m.modelIndex[md.Name] = uint8(i)
		m.modelNames = append(m.modelNames, md.Name)
		ser := &series{name: md.Name}
		m.models[md.Name] = ser
		m.modelList = append(m.modelList, ser)
	}
	for _, cs := range s.Categories {
		c := &category{name: cs.Name, spec: cs, series: series{name: cs.Name}}
		if m.detecting {
			m.initCategory(c)
		}
		m.cats[cs.Name] = c
		m.catList = append(m.catList, c)
	}
	if m.detecting && set.Webhook != "" {
		w, err := newWebhook(set.Webhook, o.WebhookClient, o.WebhookTimeout, m.log, m.metrics.webhook, m.payload)
		if err != nil {
			return nil, err
		}
		m.hook = w
		w.start()
	}
	return m, nil
}

// structuredValidators returns the verdict names of the spec's validators that check an
// answer's structure (JSON Schema, required fields, tool calls).
func structuredValidators(s *spec.Spec) map[string]bool {
	out := map[string]bool{}
	var walk func(r *spec.Route)
	add := func(vs []*spec.Validator) {
		for _, v := range vs {
			switch v.Kind {
			case "json_schema", "required_fields", "tool_calls":
				out[v.Summary()] = true
				out[v.Kind] = true // the name a validator that failed to compile reports
			}
		}
	}
	walk = func(r *spec.Route) {
		if r == nil {
			return
		}
		add(r.Validate)
		for _, st := range r.Cascade {
			add(st.Validate)
		}
		for _, a := range r.Split {
			walk(&a.Route)
		}
	}
	for _, c := range s.Categories {
		walk(c.Route)
	}
	return out
}

func (m *Monitor) detector(sc scope, kind Kind, against Against) *detector {
	d := &detector{category: sc.category, model: sc.model, kind: kind, against: against,
		gauge: m.metrics.firing.WithLabelValues(sc.category, sc.model, string(kind), string(against))}
	d.gauge.Set(0)
	return d
}

func (m *Monitor) rates(sc scope, kind Kind, good bool, what, rate string) *rateStream {
	return &rateStream{ring: newRing(m.window, m.reference), scope: sc, good: good, what: what, rate: rate,
		ref: m.detector(sc, kind, Reference)}
}

func (m *Monitor) latencies(sc scope, what string) *latencyStream {
	return &latencyStream{ring: newRing(m.window, m.reference), scope: sc, what: what, refDet: m.detector(sc, Latency, Reference)}
}

func (m *Monitor) initCategory(c *category) {
	sc := scope{category: c.name}
	c.pass = m.rates(sc, PassRate, true, "requests", "pass rate")
	c.valid = m.rates(sc, Validity, true, "structured answers", "structured-output validity")
	c.fallback = m.rates(sc, Fallback, false, "requests", "fallback rate")
	c.latency = m.latencies(sc, "requests")
	if b := c.spec.LatencyBudget.D(); b > 0 {
		c.latency.threshold, c.latency.thresholdName = b, "latency budget"
		c.latency.thr = m.detector(sc, Latency, Budget)
	}
	c.mix = &mixStream{ring: newRing(m.window, m.reference), scope: sc, names: m.modelNames,
		win: make([]int32, len(m.modelNames)), ref: make([]int32, len(m.modelNames)),
		pooled: make([][2]float64, 0, len(m.modelNames)+1), det: m.detector(sc, Mix, Reference)}
	c.models = map[string]*modelStreams{}
	for _, r := range [...]*ring{&c.pass.ring, &c.valid.ring, &c.fallback.ring, &c.latency.ring, &c.mix.ring} {
		r.clock = &c.requests
	}
}

// model returns a model's streams in c, creating them on first use; nil for a name the spec
// does not declare. The caller holds c.mu.
func (m *Monitor) model(c *category, name string) *modelStreams {
	if ms, ok := c.models[name]; ok {
		return ms
	}
	md := m.spec.Model(name)
	if md == nil {
		return nil
	}
	sc := scope{category: c.name, model: name}
	ms := &modelStreams{
		pass:     m.rates(sc, PassRate, true, "validated answers", "pass rate"),
		valid:    m.rates(sc, Validity, true, "structured answers", "structured-output validity"),
		fallback: m.rates(sc, Fallback, false, "requests that started on it", "fallback rate"),
		latency:  m.latencies(sc, "answers"),
	}
	if q, ok := c.spec.PassRate(md); ok {
		// A validator passes a good answer unless it false-alarms, and a bad one unless it
		// detects it: the pass rate the validator reports is q(1−f) + (1−q)(1−d).
		st := c.spec.Strength()
		d, f := float64(st.Detect), float64(st.FalseAlarm)
		ms.pass.assumed = 1 - (q*(1-f) + (1-q)*(1-d))
		ms.pass.why = fmt.Sprintf("assume.pass_rate %g, validator detect %g and false_alarm %g", q, d, f)
		ms.pass.asm = m.detector(sc, PassRate, Assumption)
	}
	if p95, ok := assumedP95(c.spec, md); ok {
		ms.latency.threshold, ms.latency.thresholdName = p95, "assumed p95"
		ms.latency.thr = m.detector(sc, Latency, Assumption)
	}
	for _, r := range [...]*ring{&ms.pass.ring, &ms.valid.ring, &ms.fallback.ring, &ms.latency.ring} {
		r.clock = &c.requests
	}
	c.models[name] = ms
	return ms
}

// assumedP95 returns the p95 of model md's whole response time in category c that the spec
// assumes (c's latency override for md, else md's latency), and false when it assumes none:
// the model has no latency assumption and takes spec.DefaultLatency, or its latency is given
// as samples.
//
// The {p50, p95} form gives it. The ttft form gives the time to first token and a
// generation speed, and the response time is ttft + tokens/tokens_per_second, with tokens the
// category's tokens.out plus, for a model that bills reasoning, its tokens.reasoning (as the
// estimator and the simulated provider draw it). Neither exports that sum's quantile, so it
// is computed here as the sum of the parts' p95s: ttft's p95, plus each token band's p95 (a
// plain token count as it is) over tokens_per_second. With plain token counts that is the
// p95 exactly. With token bands that spread, it is a little above the sum's p95, since the
// independent parts are rarely slow together: in checks of the spreads specs use, 4.3% to
// 4.9% of responses took longer rather than 5%, which makes the test slightly conservative.
func assumedP95(c *spec.Category, md *spec.Model) (time.Duration, bool) {
	l := c.LatencyFor(md)
	if override := c.Assume.Latency[md.Name]; override == nil && md.Resolved.LatencyDefault {
		return 0, false
	}
	switch {
	case len(l.Samples) > 0:
		return 0, false
	case l.TTFT != nil:
		if l.TokensPerSecond <= 0 || l.TTFT.P95 <= 0 {
			return 0, false
		}
		tokens := bandP95(c.Tokens.Out)
		if md.Resolved.Reasoning {
			tokens += bandP95(c.Tokens.Reasoning)
		}
		gen := time.Duration(tokens / l.TokensPerSecond * float64(time.Second))
		return l.TTFT.P95.D() + gen, true
	}
	p95 := l.P95.D()
	return p95, p95 > 0
}

// bandP95 returns a token band's p95: a plain count is the same at every quantile.
func bandP95(b spec.Band) float64 {
	if b.Dist {
		return b.P95
	}
	return b.P50
}

// Record observes a decision and reports true: a Monitor never drops one. It implements
// Recorder (and gateway.Recorder).
func (m *Monitor) Record(d *clearbar.Decision) bool {
	m.Observe(d)
	return true
}

// maxHeld bounds the decisions Observe holds back for earlier requests still in flight: past
// it, the earliest started are tested without waiting (a request in flight for minutes would
// otherwise hold every decision after it).
const maxHeld = 4096

// Observe adds a decision to the detectors and the series. It does not modify d; it takes
// O(log maxHeld) amortised time, plus the testing of the decisions it releases, and allocates
// nothing in the steady state (an alert, the first decision of a category and model, or more
// than eight decisions released at once allocate); it never waits on I/O.
//
// The series take d at once. The detectors take decisions in the order their requests
// started: a decision the gateway marks Settled is held (and kept) until the requests that
// started before it have finished, at most maxHeld of them, since a gateway sees the fast
// requests finish first when traffic starts and the slow ones last when it stops, and
// windows made of either look like drift. A decision without Settled (not from a gateway)
// is tested at once, after those held.
//
// Requests the client cancelled or got wrong (client errors) go into the series but not the
// detectors: they say nothing about the models. What they say has settled counts all the
// same.
func (m *Monitor) Observe(d *clearbar.Decision) {
	minute := minuteOf(d.Time)
	if d.Time.IsZero() {
		minute = minuteOf(m.now())
	}
	c := m.cats[d.Category]
	m.observeSeries(c, d, minute, true)
	detected := c != nil && c.pass != nil && d.Outcome != clearbar.Canceled && d.Outcome != clearbar.ClientError
	if !detected && d.Settled.IsZero() {
		return
	}
	// The held decisions ready to test are taken under m.order and tested after it, so that
	// the lock covers the heap only and categories are tested in parallel (decisions released
	// together may be tested a little out of order between goroutines, which no window
	// notices).
	if d.Settled.IsZero() && m.holding.Load() == 0 {
		m.detect(c, d) // not from a gateway, and nothing held to test first
		return
	}
	var buf [8]*clearbar.Decision
	ready := buf[:0]
	m.order.Lock()
	switch {
	case d.Settled.IsZero():
		// Not from a gateway: the held go first, then d.
		ready = m.take(ready, func(*clearbar.Decision) bool { return true })
		ready = append(ready, d)
	default:
		// A decision the detectors skip still says what has settled.
		if d.Settled.After(m.settled) {
			m.settled = d.Settled
		}
		if detected {
			heap.Push(&m.held, d)
		}
		ready = m.take(ready, func(h *clearbar.Decision) bool { return h.Time.Before(m.settled) || len(m.held) > maxHeld })
	}
	m.holding.Store(int64(len(m.held)))
	m.order.Unlock()
	for _, h := range ready {
		m.detect(m.cats[h.Category], h)
	}
}

// take appends to ready the held decisions, earliest started first, while may says the
// earliest may go, and returns it. The caller holds m.order.
func (m *Monitor) take(ready []*clearbar.Decision, may func(*clearbar.Decision) bool) []*clearbar.Decision {
	for len(m.held) > 0 && may(m.held[0]) {
		ready = append(ready, heap.Pop(&m.held).(*clearbar.Decision))
	}
	return ready
}

// flush tests every held decision: at shutdown, nothing is in flight any more.
func (m *Monitor) flush() {
	m.order.Lock()
	ready := m.take(nil, func(*clearbar.Decision) bool { return true })
	m.holding.Store(0)
	m.order.Unlock()
	for _, h := range ready {
		m.detect(m.cats[h.Category], h)
	}
}

// heldHeap orders held decisions by when their requests started, then by id.
type heldHeap []*clearbar.Decision

func (h heldHeap) Len() int { return len(h) }
func (h heldHeap) Less(i, j int) bool {
	if !h[i].Time.Equal(h[j].Time) {
		return h[i].Time.Before(h[j].Time)
	}
	return h[i].ID < h[j].ID
}
func (h heldHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *heldHeap) Push(x any)   { *h = append(*h, x.(*clearbar.Decision)) }
func (h *heldHeap) Pop() any {
	old := *h
	d := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return d
}

// detect adds a decision of category c to the detectors.
func (m *Monitor) detect(c *category, d *clearbar.Decision) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests++
	ok := d.Outcome == clearbar.OK
	fellBack := hasAttempt(d, clearbar.AttemptFallback)
	c.pass.add(m, !ok || d.Flagged)
	c.fallback.add(m, fellBack)
	if ok {
		c.latency.add(m, d.Latency)
	}
	if i, known := m.modelIndex[d.Model]; known {
		c.mix.add(m, i)
	}
	first := true
	for i := range d.Attempts {
		a := &d.Attempts[i]
		if a.ValidatorCall() {
			continue
		}
		ms := m.model(c, a.Model)
		if ms != nil {
			ms.lastSeen, ms.quiet = c.requests, false
		}
		if first {
			first = false
			if ms != nil {
				ms.fallback.add(m, fellBackFrom(d, i))
			}
		}
		valid, structured := m.validity(a)
		if structured {
			c.valid.add(m, !valid)
		}
		if ms == nil {
			continue
		}
		if structured {
			ms.valid.add(m, !valid)
		}
		if a.Class == clearbar.OK || a.Class == clearbar.Quality {
			ms.latency.add(m, a.Latency)
			if len(a.Verdicts) > 0 || a.Class == clearbar.Quality {
				ms.pass.add(m, a.Class == clearbar.Quality)
			}
		}
	}
	if c.sinceSweep++; c.sinceSweep >= m.step {
		c.sinceSweep = 0
		m.sweepQuiet(c)
	}
}

// sweepQuiet resolves the alerts of the models the category has not called over as many of
// its requests as a stream holds (window and reference): traffic moved to other models (a
// cascade's first step answers again, a breaker opened). A detector checks only when its
// stream gets an observation, so it would otherwise fire on stale data for good; and the
// model's streams are emptied, so that when it is called again its detectors warm up on fresh
// observations instead of firing again on the old ones.
//
// Some streams are fed by part of the traffic only, and can go as long without an observation
// while the category, or the model, still gets requests: structured-output validity (only
// structured answers), latency (only successful requests per category, answered calls per
// model), route mix (only answered requests), a model's pass rate (only its validated answers)
// and fallback rate (only requests that started on it). A firing detector of such a stream is
// cleared the same way, saying what stopped, and the stream is emptied. A stream that is not
// firing keeps its observations: for a rare kind of traffic they are the only reference there
// is. The caller holds the category's lock.
func (m *Monitor) sweepQuiet(c *category) {
	for name, ms := range c.models {
		if ms.quiet || c.requests-ms.lastSeen < m.window+m.reference {
			continue
		}
		why := fmt.Sprintf("no calls of %s in %s over the category's last %d requests: resolved for want of data, not because the change was undone", name, c.name, c.requests-ms.lastSeen)
		for _, s := range [...]*rateStream{ms.pass, ms.valid, ms.fallback} {
			m.quiet(s.ref, why)
			m.quiet(s.asm, why)
			s.empty()
		}
		m.quiet(ms.latency.refDet, why)
		m.quiet(ms.latency.thr, why)
		ms.latency.empty()
		ms.quiet = true
	}
	if m.stale(c, &c.valid.ring, "structured answers", "", c.valid.ref, c.valid.asm) {
		c.valid.empty()
	}
	if m.stale(c, &c.latency.ring, "successful requests", "", c.latency.refDet, c.latency.thr) {
		c.latency.empty()
	}
	if m.stale(c, &c.mix.ring, "answered requests", "", c.mix.det) {
		c.mix.empty()
	}
	for name, ms := range c.models {
		if ms.quiet {
			continue
		}
		if m.stale(c, &ms.pass.ring, "validated answers from %s", name, ms.pass.ref, ms.pass.asm) {
			ms.pass.empty()
		}
		if m.stale(c, &ms.valid.ring, "structured answers from %s", name, ms.valid.ref, ms.valid.asm) {
			ms.valid.empty()
		}
		if m.stale(c, &ms.fallback.ring, "requests that started on %s", name, ms.fallback.ref, ms.fallback.asm) {
			ms.fallback.empty()
		}
		if m.stale(c, &ms.latency.ring, "answers from %s", name, ms.latency.refDet, ms.latency.thr) {
			ms.latency.empty()
		}
	}
}

// stale clears the firing detectors ds (nil: none) of a stream of category c that has had no
// observation over c's last window+reference requests, and reports whether it did; the
// caller then empties the stream. none names the observations that stopped; for a model's
// stream it is a format that takes the model's name. It builds the reason only when it clears
// something. The caller holds the category's lock.
func (m *Monitor) stale(c *category, r *ring, none, model string, ds ...*detector) bool {
	if c.requests-r.last < m.window+m.reference {
		return false
	}
	firing := false
	for _, d := range ds {
		firing = firing || d != nil && d.firing
	}
	if !firing {
		return false
	}
	if model != "" {
		none = fmt.Sprintf(none, model)
	}
	why := fmt.Sprintf("no %s in the last %d requests of %s: the alert is cleared, not confirmed", none, c.requests-r.last, c.name)
	for _, d := range ds {
		m.quiet(d, why)
	}
	return true
}

// validity says whether an attempt's answer was structurally valid, and whether anything
// judged its structure: a structure-checking validator's verdicts, or a malformed answer.
func (m *Monitor) validity(a *clearbar.Attempt) (valid, structured bool) {
	if a.Class == clearbar.BadResponse {
		return false, true
	}
	valid = true
	for i := range a.Verdicts {
		if m.structured[a.Verdicts[i].Validator] {
			structured = true
			valid = valid && a.Verdicts[i].Pass
		}
	}
	return valid, structured
}

// fellBackFrom reports whether the request fell back from the call of attempt i: a later
// attempt of the same step is a fallback. A request whose first call was itself a fallback
// (the models before it left out, their breakers open) fell back from that call only if it
// failed too.
func fellBackFrom(d *clearbar.Decision, i int) bool {
	for j := i + 1; j < len(d.Attempts); j++ {
		if a := &d.Attempts[j]; a.Kind == clearbar.AttemptFallback && a.Step == d.Attempts[i].Step {
			return true
		}
	}
	return false
}

func hasAttempt(d *clearbar.Decision, kind string) bool {
	for i := range d.Attempts {
		if d.Attempts[i].Kind == kind {
			return true
		}
	}
	return false
}

// observeSeries adds a decision to its category's series (the unclassified one for c nil) and
// each of its calls to its model's series; total says it counts in the totals since start too.
func (m *Monitor) observeSeries(c *category, d *clearbar.Decision, minute int64, total bool) {
	// The requests the service answers for (the base of every rate) are those neither the
	// client's error nor given up by the client; a request the gateway cut on shutdown is
	// among them, and failed: the gateway did not deliver the answer.
	clientErr, gone := d.Outcome == clearbar.ClientError, clientWentAway(d)
	counted := !clientErr && !gone
	x := sample{cost: d.Cost, latency: d.Latency, hasLatency: d.Outcome == clearbar.OK,
		judged: counted, passed: d.Outcome == clearbar.OK && !d.Flagged,
		escalated: counted && hasAttempt(d, clearbar.AttemptEscalation), fellBack: counted && hasAttempt(d, clearbar.AttemptFallback),
		failed: counted && d.Outcome != clearbar.OK, clientErr: clientErr, canceled: gone}
	ser := &m.unclassified
	if c != nil {
		ser = &c.series
	}
	ser.add(minute, m.history, &x, total)
	for i := range d.Attempts {
		a := &d.Attempts[i]
		ms := m.models[a.Model]
		if ms == nil {
			continue
		}
		vcall := a.ValidatorCall()
		answered := a.Class == clearbar.OK || a.Class == clearbar.Quality
		// A call canceled, by the client going away or the gateway shutting down, is not the
		// model's doing: counted apart, out of the base of its model's rates.
		canceled := a.Class == clearbar.Canceled
		x = sample{cost: a.Cost, latency: a.Latency, hasLatency: answered,
			judged: !vcall && (len(a.Verdicts) > 0 || a.Class == clearbar.Quality), passed: a.Class != clearbar.Quality,
			failed: a.Class.IsProviderFailure(), canceled: canceled}
		if !vcall && !canceled {
			switch nextKind(d, i) {
			case clearbar.AttemptEscalation:
				x.escalated = true
			case clearbar.AttemptFallback:
				x.fellBack = true
			}
		}
		ms.add(minute, m.history, &x, total)
	}
}

// RestoreWindow is the span of time whose decisions Restore takes: the history the series
// keep, up to when the Monitor started.
func (m *Monitor) RestoreWindow() (since, until time.Time) {
	return m.start.Add(-time.Duration(m.history) * time.Minute), m.start
}

// Restore adds a decision recorded before the Monitor started (by an earlier run of the
// gateway, read back from the decision store) to the time series, so that the charts and the
// recent figures cover the history across a restart. It reports whether the decision was
// taken: one outside RestoreWindow is not. Restored decisions count in neither the totals
// since start, which are this Monitor's, nor the detectors, which start empty: their windows
// would hold requests whose alerts, if any, were raised already. The series are sums, so the
// decisions may be restored in any order (newest first, say, to keep the most recent when
// their number is capped), and while live ones are observed.
func (m *Monitor) Restore(d *clearbar.Decision) bool {
	if d == nil || d.Time.IsZero() {
		return false
	}
	if since, until := m.RestoreWindow(); d.Time.Before(since) || !d.Time.Before(until) {
		return false
	}
	m.observeSeries(m.cats[d.Category], d, minuteOf(d.Time), false)
	return true
}

// clientWentAway reports whether the request ended because the client went away (closed the
// connection or the stream): canceled, but not cut by the gateway shutting down
// (Decision.Shutdown).
func clientWentAway(d *clearbar.Decision) bool {
	return d.Outcome == clearbar.Canceled && !gatewayCut(d)
}

// gatewayCut reports whether a canceled request was cut by the gateway shutting down.
func gatewayCut(d *clearbar.Decision) bool {
	return d.Outcome == clearbar.Canceled && d.Shutdown
}

// nextKind returns the kind of the first call after attempt i that is not a validator's, or "".
func nextKind(d *clearbar.Decision, i int) string {
	for j := i + 1; j < len(d.Attempts); j++ {
		if a := &d.Attempts[j]; !a.ValidatorCall() {
			return a.Kind
		}
	}
	return ""
}

// Alerts returns the recent alerts, newest first.
func (m *Monitor) Alerts() []Alert { return m.alerts.list() }

// Detectors returns every detector's state: each category's, in spec order, followed by those
// of its models that have had traffic, by name. It is empty when detection is off.
func (m *Monitor) Detectors() []Status {
	var out []Status
	for _, c := range m.catList {
		if c.pass == nil {
			continue
		}
		c.mu.Lock()
		out = c.appendStatus(out)
		c.mu.Unlock()
	}
	return out
}

func (c *category) appendStatus(out []Status) []Status {
	rate := func(s *rateStream) {
		out = append(out, s.ref.status(&s.ring))
		if s.asm != nil {
			out = append(out, s.asm.status(&s.ring))
		}
	}
	lat := func(s *latencyStream) {
		out = append(out, s.refDet.status(&s.ring))
		if s.thr != nil {
			out = append(out, s.thr.status(&s.ring))
		}
	}
	rate(c.pass)
	rate(c.valid)
	lat(c.latency)
	rate(c.fallback)
	out = append(out, c.mix.det.status(&c.mix.ring))
	for _, name := range slices.Sorted(maps.Keys(c.models)) {
		ms := c.models[name]
		rate(ms.pass)
		rate(ms.valid)
		lat(ms.latency)
		rate(ms.fallback)
	}
	return out
}

// Close tests the decisions still held (see Observe), then stops the webhook goroutine after
// it has delivered the alerts queued, or, when ctx ends first, abandons them and returns an
// error. Observe may still be called after Close;
// its alerts are then counted as dropped rather than posted.
func (m *Monitor) Close(ctx context.Context) error {
	m.flush()
	if m.hook == nil {
		return nil
	}
	return m.hook.close(ctx)
}

// Tee returns a Recorder that hands each decision to every one of rs, in order, and reports
// whether all of them kept it. Put the trace recorder first and the Monitor after it. The
// recorders must not be nil (beware a nil pointer in a non-nil interface).
func Tee(rs ...Recorder) Recorder { return tee(rs) }

type tee []Recorder

func (t tee) Record(d *clearbar.Decision) bool {
	kept := true
	for _, r := range t {
		kept = r.Record(d) && kept
	}
	return kept
}

var (
	_ Recorder = (*Monitor)(nil)
	_ Recorder = tee(nil)
)
