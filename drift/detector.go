package drift

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Kind names what a detector watches.
type Kind string

// Detector kinds.
const (
	// PassRate is the share of answers that passed validation: per category, of requests
	// (a request passes when it delivered an answer that was not flagged); per model, of
	// the model's validated answers.
	PassRate Kind = "pass_rate"
	// Validity is the share of structured answers that were valid: answers checked by a
	// JSON Schema, required-fields or tool-call validator, and answers the provider sent
	// malformed (bad_response).
	Validity Kind = "structured_validity"
	// Latency is the whole request's time per category, and the time of each answered call
	// per model.
	Latency Kind = "latency"
	// Fallback is the share of requests that fell back to another model: after a provider
	// failure, or past models their circuit breakers left out without a call (diverted);
	// per model, the share of the requests whose first call was to it that fell back from
	// that call to another candidate of its step, after its failure.
	Fallback Kind = "fallback_rate"
	// Mix is the share of each model among the models that answered a category.
	Mix Kind = "route_mix"
)

// Against names what a detector compares the recent window with.
type Against string

// Baselines.
const (
	// Reference is the longer window of observations just before the recent one.
	Reference Against = "reference"
	// Assumption is what the spec assumes: assume.pass_rate (through the validator's
	// strength) and the model's latency p95.
	Assumption Against = "assumption"
	// Budget is the category's latency_budget, a p95.
	Budget Against = "budget"
)

// detector is one test's state: whether it is firing, and its hysteresis. It is guarded by
// its category's lock.
type detector struct {
	category, model string
	kind            Kind
	against         Against
	firing          bool
	// calm counts the consecutive checks, while firing, that found the window no worse
	// than its baseline.
	calm    int
	checked bool
	last    result
	// alert is the alert raised when the detector started firing, while it fires.
	alert *Alert
	gauge prometheus.Gauge
}

// result is one test's outcome. value and baseline are what the alert shows: rates, shares,
// or latencies in seconds, depending on the detector.
type result struct {
	p               float64
	value, baseline float64
}

// verdict is what a test's result does to its detector.
type verdict uint8

const (
	steady  verdict = iota // nothing changes
	fire                   // the detector starts firing: raise an alert
	resolve                // the detector stops firing
)

// A firing detector stops after calmChecks checks in a row (half a window) find the window no
// worse than its baseline: a p-value above calmP, one half, says the window is at least as
// good as the baseline's centre.
const (
	calmP      = 0.5
	calmChecks = 2
)

// update applies a test's result. A detector fires when p falls below level, and stops only
// when the window has looked no worse than its baseline for calmChecks checks in a row. That
// hysteresis keeps a lasting change, whose p-values wander around the level, from raising an
// alert each time they cross it.
func (d *detector) update(r result, level float64) verdict {
	d.checked, d.last = true, r
	switch {
	case !d.firing && r.p < level:
		d.firing, d.calm = true, 0
		d.gauge.Set(1)
		return fire
	case !d.firing:
		return steady
	case r.p > calmP:
		d.calm++
	default:
		d.calm = 0
	}
	if d.calm < calmChecks {
		return steady
	}
	d.stop()
	return resolve
}

// stop ends the detector's firing.
func (d *detector) stop() {
	d.firing, d.calm = false, 0
	d.gauge.Set(0)
}

// Status is a detector's state, for dashboards.
type Status struct {
	Category string  `json:"category"`
	Model    string  `json:"model,omitempty"`
	Detector Kind    `json:"detector"`
	Against  Against `json:"against"`
	// State is "warming up" (not tested yet: the window, or for a comparison with the
	// reference the reference, is not full enough), "ok" or "firing".
	State string `json:"state"`
	// Observations is how many the window holds now; Seen how many the stream has had since
	// the Monitor started.
	Observations int `json:"observations"`
	Seen         int `json:"seen"`
	// Value, Baseline and PValue are from the latest test (zero before the first).
	Value    float64 `json:"value"`
	Baseline float64 `json:"baseline"`
	PValue   float64 `json:"p_value"`
}

func (d *detector) status(r *ring) Status {
	n, _ := r.counts()
	st := Status{Category: d.category, Model: d.model, Detector: d.kind, Against: d.against, Observations: n, Seen: r.seen}
	switch {
	case d.firing:
		st.State = "firing"
	case !d.checked:
		st.State = "warming up"
	default:
		st.State = "ok"
	}
	if d.checked {
		st.Value, st.Baseline, st.PValue = d.last.value, d.last.baseline, d.last.p
	}
	return st
}
