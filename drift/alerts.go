package drift

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Alert is a detector starting to fire. Its text names categories, models and figures only,
// never request content.
type Alert struct {
	// ID is unique within the Monitor: "drift-1", "drift-2", ...
	ID       string    `json:"id"`
	Time     time.Time `json:"time"`
	Category string    `json:"category"`
	// Model is empty for a category's detectors.
	Model    string  `json:"model,omitempty"`
	Detector Kind    `json:"detector"`
	Against  Against `json:"against"`
	// Value is the recent window's figure and Baseline what it was compared with: rates and
	// shares in [0, 1], latencies in seconds (medians against the reference), the share of
	// observations above a p95 threshold (against assumptions and budgets), or, for route
	// mix, the share of requests that moved (with a baseline of 0).
	Value    float64 `json:"value"`
	Baseline float64 `json:"baseline"`
	// PValue is the test's p-value; Level the threshold it fell below.
	PValue float64 `json:"p_value"`
	Level  float64 `json:"level"`
	// Window and Reference are the observations compared (Reference is 0 against
	// assumptions and budgets).
	Window    int `json:"window"`
	Reference int `json:"reference,omitempty"`
	// Message says it in words.
	Message string `json:"message"`
	// ResolvedAt is when the detector stopped firing; zero while it fires.
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	// ResolvedWhy says why the alert was resolved, set with ResolvedAt: the window looked no
	// worse than its baseline in consecutive checks (with the figures, and, for a comparison
	// with the reference, the reminder that the reference was rebuilt from the traffic after
	// the alert, so that the figure is steady at its new level rather than back where it was),
	// or its stream stopped getting observations while its category still had traffic (the
	// model stopped getting calls; the category stopped getting structured answers, or
	// successful requests): then the alert is cleared, not confirmed.
	ResolvedWhy string `json:"resolved_why,omitempty"`
}

// alertLog keeps the most recent alerts.
type alertLog struct {
	mu   sync.Mutex
	seq  int
	ring []*Alert // oldest first once full; next is where the next alert goes
	next int
	full bool
}

func (l *alertLog) add(a *Alert) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	a.ID = "drift-" + strconv.Itoa(l.seq)
	l.ring[l.next] = a
	if l.next++; l.next == len(l.ring) {
		l.next, l.full = 0, true
	}
}

func (l *alertLog) resolve(a *Alert, at time.Time, why string) {
	l.mu.Lock()
	a.ResolvedAt, a.ResolvedWhy = at, why
	l.mu.Unlock()
}

// list returns copies of the alerts, newest first.
func (l *alertLog) list() []Alert {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.next
	if l.full {
		n = len(l.ring)
	}
	out := make([]Alert, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, *l.ring[(l.next-i+len(l.ring))%len(l.ring)])
	}
	return out
}

// metrics are the Monitor's Prometheus metrics. Label sets are bounded by the spec.
type metrics struct {
	firing  *prometheus.GaugeVec   // category, model, detector, against
	alerts  *prometheus.CounterVec // category, model, detector, against
	webhook *prometheus.CounterVec // result
}

func newMetrics(reg prometheus.Registerer) *metrics {
	labels := []string{"category", "model", "detector", "against"}
	m := &metrics{
		firing: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "clearbar_drift_firing",
			Help: "Drift detector state: 1 while the detector fires, 0 otherwise (model is empty for a category's detectors)."}, labels),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "clearbar_drift_alerts_total",
			Help: "Drift alerts raised: a detector started firing."}, labels),
		webhook: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "clearbar_drift_webhook_total",
			Help: "Drift alert webhook deliveries, by result: sent, failed (gave up after retries) or dropped (queue full or shutting down)."}, []string{"result"}),
	}
	reg.MustRegister(m.firing, m.alerts, m.webhook)
	return m
}

// apply runs a detector's hysteresis on a test's result, raises or resolves its alert, and
// reports whether the detector started firing. msg builds the alert's text; it is called only
// then. The caller holds the detector's category lock.
func (m *Monitor) apply(d *detector, r result, window, reference int, msg func() string) bool {
	switch d.update(r, m.level) {
	case fire:
		a := &Alert{Time: m.now().UTC(), Category: d.category, Model: d.model, Detector: d.kind, Against: d.against,
			Value: r.value, Baseline: r.baseline, PValue: r.p, Level: m.level, Window: window, Reference: reference,
			Message: msg() + " (p = " + strconv.FormatFloat(r.p, 'g', 2, 64) + ")"}
		m.alerts.add(a)
		d.alert = a
		m.metrics.alerts.WithLabelValues(d.category, d.model, string(d.kind), string(d.against)).Inc()
		m.log.Warn("drift alert", "id", a.ID, "category", a.Category, "model", a.Model, "detector", a.Detector,
			"against", a.Against, "p_value", a.PValue, "message", a.Message)
		if m.hook != nil {
			m.hook.enqueue(a)
		}
		return true
	case resolve:
		m.resolveAlert(d, calmWhy(d, r, window, reference))
	}
	return false
}

// kindNames name what each detector measures, for resolution reasons.
var kindNames = map[Kind]string{PassRate: "pass rate", Validity: "structured-output validity", Latency: "latency",
	Fallback: "fallback rate", Mix: "route mix"}

// againstNames name the fixed baselines, for resolution reasons.
var againstNames = map[Against]string{Assumption: "assumption", Budget: "latency budget"}

// calmWhy says why a firing detector stopped after its last test, r, on window observations
// against reference ones: the window looked no worse than its baseline in calmChecks checks in
// a row. A baseline that is the reference was rebuilt from the traffic after the alert (see
// ring.restart), so the figure is compared with the figure it fired at as well: a change that
// lasts resolves too, once it stops getting worse. The caller holds d's category lock.
func calmWhy(d *detector, r result, window, reference int) string {
	whose := d.category
	if d.model != "" {
		whose = d.model + " in " + d.category
	}
	p := strconv.FormatFloat(r.p, 'g', 2, 64)
	switch {
	case d.against != Reference && d.kind == Latency:
		return fmt.Sprintf("%s of the last %d of %s took longer than the %s, no more than the %s a p95 allows in %d checks in a row (last p = %s): back within the spec",
			pct(r.value), window, whose, againstNames[d.against], pct(r.baseline), calmChecks, p)
	case d.against != Reference:
		return fmt.Sprintf("%s of %s is %s over the last %d, no worse than the %s of %s in %d checks in a row (last p = %s): back within the spec",
			kindNames[d.kind], whose, pct(r.value), window, againstNames[d.against], pct(r.baseline), calmChecks, p)
	case d.kind == Mix:
		then := ""
		if a := d.alert; a != nil {
			then = fmt.Sprintf("; when it fired, %s had moved", pct(a.Value))
		}
		return fmt.Sprintf("route mix of %s: %s of the last %d requests moved against the %d before them, no more than chance explains in %d checks in a row (last p = %s)%s. "+
			"That reference was rebuilt from the requests after the alert: the mix is steady, which need not be the mix before it",
			whose, pct(r.value), window, reference, calmChecks, p, then)
	}
	show, what := pct, kindNames[d.kind]
	if d.kind == Latency {
		show, what = secs, "median latency"
	}
	then := ""
	if a := d.alert; a != nil {
		then = fmt.Sprintf("; it fired at %s against %s before the alert", show(a.Value), show(a.Baseline))
	}
	return fmt.Sprintf("%s of %s is %s over the last %d, no worse than the %s over the %d before them in %d checks in a row (last p = %s)%s. "+
		"That reference was rebuilt from the traffic after the alert: the figure is steady at its level, which need not be the level before the alert",
		what, whose, show(r.value), window, show(r.baseline), reference, calmChecks, p, then)
}

// quiet stops a firing detector (nil: none) whose stream has no recent data, saying why.
func (m *Monitor) quiet(d *detector, why string) {
	if d == nil || !d.firing {
		return
	}
	d.stop()
	m.resolveAlert(d, why)
}

// resolveAlert resolves the alert of a detector that stopped firing.
func (m *Monitor) resolveAlert(d *detector, why string) {
	if d.alert == nil {
		return
	}
	m.alerts.resolve(d.alert, m.now().UTC(), why)
	m.log.Info("drift alert resolved", "id", d.alert.ID, "category", d.category, "model", d.model, "detector", d.kind, "against", d.against, "why", why)
	d.alert = nil
}

// payload is the webhook's JSON body: the alert, and its message as "text", which chat
// webhooks (Slack, Mattermost, Google Chat) display as it is.
type payload struct {
	Text  string `json:"text"`
	Spec  string `json:"spec"`
	Alert Alert  `json:"alert"`
}

func (m *Monitor) payload(a *Alert) []byte {
	b, _ := json.Marshal(payload{Text: "Clearbar drift: " + a.Message, Spec: m.spec.Name, Alert: *a})
	return b
}
