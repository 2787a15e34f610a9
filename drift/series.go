package drift

import (
	"sync"
	"time"

	"github.com/clearbar/clearbar"
)

// bucket is one minute of one series.
type bucket struct {
	minute int64 // minutes since the Unix epoch; tells a stale slot from a current one
	agg
}

// agg sums observations: one minute's, or several merged.
type agg struct {
	n    uint32 // requests (category series) or calls (model series)
	cost clearbar.Money
	// judged counts observations with a pass/fail outcome, passed those that passed.
	judged, passed uint32
	// escalated, fellBack and failed count requests (calls) that escalated, fell back to
	// another model, or failed; clientErr counts the requests refused as the client's error
	// (a malformed request, an unknown model), and canceled those (calls) the client gave up
	// on by going away, neither of which are among the failed. The requests (calls) the
	// service answers for, the base of every rate but the client error rate, are the others:
	// n − clientErr − canceled (see agg.base).
	escalated, fellBack, failed, clientErr, canceled uint32
	lat                                              hist
}

func (a *agg) merge(o *agg) {
	a.n += o.n
	a.cost += o.cost
	a.judged += o.judged
	a.passed += o.passed
	a.escalated += o.escalated
	a.fellBack += o.fellBack
	a.failed += o.failed
	a.clientErr += o.clientErr
	a.canceled += o.canceled
	a.lat.add(&o.lat)
}

// sample is one observation for a series.
type sample struct {
	cost                        clearbar.Money
	latency                     time.Duration
	hasLatency, judged, passed  bool
	escalated, fellBack, failed bool
	clientErr, canceled         bool
}

// series is a per-minute time series: a ring of minute buckets covering the Monitor's
// history, allocated on the first observation, plus totals since the Monitor started.
type series struct {
	name     string
	mu       sync.Mutex
	buckets  []bucket
	requests int64
	cost     clearbar.Money
}

// add adds an observation to the minute's bucket and, when total, to the totals since start.
func (s *series) add(minute int64, length int, x *sample, total bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if total {
		s.requests++
		s.cost += x.cost
	}
	if s.buckets == nil {
		s.buckets = make([]bucket, length)
	}
	b := &s.buckets[int(minute%int64(length))]
	if b.minute != minute {
		if b.minute > minute {
			return // older than the history the ring holds
		}
		*b = bucket{minute: minute}
	}
	b.n++
	b.cost += x.cost
	if x.hasLatency {
		b.lat[latencyBin(x.latency)]++
	}
	if x.judged {
		b.judged++
		if x.passed {
			b.passed++
		}
	}
	if x.escalated {
		b.escalated++
	}
	if x.fellBack {
		b.fellBack++
	}
	if x.failed {
		b.failed++
	}
	if x.clientErr {
		b.clientErr++
	}
	if x.canceled {
		b.canceled++
	}
}

// sum adds the buckets of minutes [from, to) to out, and reports whether any held data.
func (s *series) sum(from, to int64, out *agg) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buckets == nil {
		return false
	}
	length := int64(len(s.buckets))
	from = max(from, to-length)
	any := false
	for m := from; m < to; m++ {
		b := &s.buckets[int(m%length)]
		if b.minute == m && b.n > 0 {
			out.merge(&b.agg)
			any = true
		}
	}
	return any
}

func (s *series) totals() (int64, clearbar.Money) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests, s.cost
}

// Point is a series over one step of time. Rates and latencies are null (nil) when the step
// has nothing to compute them from.
type Point struct {
	Time time.Time `json:"t"`
	// Requests counts requests (category series) or calls (model series).
	Requests int64   `json:"requests"`
	Cost     float64 `json:"cost_usd"`
	// P50 and P95 are latencies in seconds: of successful requests, or of answered calls.
	P50 *float64 `json:"p50_s"`
	P95 *float64 `json:"p95_s"`
	// The rates of a category series share one base: the requests the service answers for,
	// those that were neither the client's error (ClientErrors) nor given up by the client
	// going away (Canceled). Requests the gateway cut when it shut down are the service's
	// doing: they are in the base, and among the errors.
	//
	// PassRate is the share of those requests that delivered an unflagged answer (category),
	// or of validated answers that passed (model).
	PassRate *float64 `json:"pass_rate"`
	// EscalationRate and FallbackRate are the shares of those requests that escalated to a
	// stronger model, or fell back after a provider failure; for a model, of its calls (those
	// not canceled) that were followed by an escalation or a fallback.
	EscalationRate *float64 `json:"escalation_rate"`
	FallbackRate   *float64 `json:"fallback_rate"`
	// ErrorRate is the share of those requests that failed, or of a model's calls (those not
	// canceled) that failed with a provider error.
	ErrorRate *float64 `json:"error_rate"`
	// ClientErrors counts the requests refused as the client's error (4xx: a malformed
	// request, an unknown model), apart from the errors; ClientErrorRate is their share of
	// the requests. Model series have none.
	ClientErrors    int64    `json:"client_errors"`
	ClientErrorRate *float64 `json:"client_error_rate"`
	// Canceled counts the requests (calls) that ended because the client went away (closed
	// the connection or the stream), apart from the errors and out of every rate's base: the
	// service was not asked for the rest of the answer. A call cut by the gateway's shutdown
	// is canceled for its model (not the model's doing) but an error for its category.
	Canceled int64 `json:"canceled"`
}

func ratio(a, b uint32) *float64 {
	if b == 0 {
		return nil
	}
	r := float64(a) / float64(b)
	return &r
}

// base is the number of requests (calls) the service answers for: those neither the client's
// error nor canceled by the client.
func (a *agg) base() uint32 { return a.n - a.clientErr - a.canceled }

func (a *agg) point(t time.Time) Point {
	base := a.base()
	p := Point{Time: t, Requests: int64(a.n), Cost: a.cost.USD(), PassRate: ratio(a.passed, a.judged),
		EscalationRate: ratio(a.escalated, base), FallbackRate: ratio(a.fellBack, base), ErrorRate: ratio(a.failed, base),
		ClientErrors: int64(a.clientErr), ClientErrorRate: ratio(a.clientErr, a.n), Canceled: int64(a.canceled)}
	if q, ok := a.lat.quantile(0.5); ok {
		p.P50 = &q
	}
	if q, ok := a.lat.quantile(0.95); ok {
		p.P95 = &q
	}
	return p
}

// By says how series are grouped.
type By string

// Groupings.
const (
	// ByCategory gives a series per category; requests that could not be classified form
	// one named Unclassified.
	ByCategory By = "category"
	// ByModel gives a series per model, of every call to it (judge calls included).
	ByModel By = "model"
	// ByTotal gives one series, named "all", of every request.
	ByTotal By = "total"
)

// Unclassified names the series of requests that got no category (rejected before routing).
const Unclassified = "(unclassified)"

// Series is one named time series.
type Series struct {
	Name   string  `json:"name"`
	Points []Point `json:"points"`
}

func minuteOf(t time.Time) int64 { return t.Unix() / 60 }

// Series returns time series from since to until in steps of step (rounded to whole minutes,
// at least one), grouped by by. Series without any data in the range are left out. It is
// safe to call while decisions are observed; it costs time proportional to the number of
// series times the minutes in the range.
func (m *Monitor) Series(by By, since, until time.Time, step time.Duration) []Series {
	stepMin := max(int64(step/time.Minute), 1)
	from, to := minuteOf(since), minuteOf(until)+1
	from = to - (to-from+stepMin-1)/stepMin*stepMin // whole steps ending with until's minute
	var out []Series
	for _, g := range m.groups(by) {
		var pts []Point
		any := false
		for t := from; t < to; t += stepMin {
			var a agg
			for _, s := range g.members {
				if s.sum(t, t+stepMin, &a) {
					any = true
				}
			}
			pts = append(pts, a.point(time.Unix(t*60, 0).UTC()))
		}
		if any {
			out = append(out, Series{Name: g.name, Points: pts})
		}
	}
	return out
}

// group is an output series: the sum of one or more stored ones.
type group struct {
	name    string
	members []*series
}

// groups returns a grouping's output series in display order: spec order, unclassified
// requests last.
func (m *Monitor) groups(by By) []group {
	var out []group
	switch by {
	case ByModel:
		for _, s := range m.modelList {
			out = append(out, group{s.name, []*series{s}})
		}
	case ByTotal:
		all := make([]*series, 0, len(m.catList)+1)
		for _, c := range m.catList {
			all = append(all, &c.series)
		}
		out = append(out, group{"all", append(all, &m.unclassified)})
	default:
		for _, c := range m.catList {
			out = append(out, group{c.name, []*series{&c.series}})
		}
		out = append(out, group{Unclassified, []*series{&m.unclassified}})
	}
	return out
}

// Figures are a series' totals since the Monitor started and its recent figures.
type Figures struct {
	Name     string  `json:"name"`
	Requests int64   `json:"requests"`
	Cost     float64 `json:"cost_usd"`
	// Recent sums the last minutes (see Summary); its Time is the start of that span.
	Recent Point `json:"recent"`
}

// Summary is the live picture: totals and recent figures, overall, per category and per
// model.
type Summary struct {
	// Start is when the Monitor started; Time is now.
	Start time.Time `json:"start"`
	Time  time.Time `json:"time"`
	// RecentMinutes is the span of the recent figures, the current minute included.
	RecentMinutes int       `json:"recent_minutes"`
	Total         Figures   `json:"total"`
	Categories    []Figures `json:"categories"`
	Models        []Figures `json:"models"`
}

// Summary returns totals since start and figures over the last recent minutes (at least
// one, the current minute included). Categories and models appear in spec order, each
// whether or not it has traffic.
func (m *Monitor) Summary(recent time.Duration) Summary {
	now := m.now()
	mins := max(int64(recent/time.Minute), 1)
	to := minuteOf(now) + 1
	from := to - mins
	at := time.Unix(from*60, 0).UTC()
	out := Summary{Start: m.start.UTC(), Time: now.UTC(), RecentMinutes: int(mins)}
	figures := func(g group) Figures {
		f := Figures{Name: g.name}
		var a agg
		var cost clearbar.Money
		for _, s := range g.members {
			n, c := s.totals()
			f.Requests += n
			cost += c
			s.sum(from, to, &a)
		}
		f.Cost = cost.USD()
		f.Recent = a.point(at)
		return f
	}
	out.Total = figures(m.groups(ByTotal)[0])
	for _, g := range m.groups(ByCategory) {
		if g.name == Unclassified {
			continue
		}
		out.Categories = append(out.Categories, figures(g))
	}
	for _, g := range m.groups(ByModel) {
		out.Models = append(out.Models, figures(g))
	}
	return out
}
