package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/drift"
	"github.com/clearbar/clearbar/health"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/trace"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeError answers {"error": {"message": ...}}, the shape of the gateway's errors.
func writeError(w http.ResponseWriter, status int, msg string) {
	// The gateway's error envelope (OpenAI's), so that one client handles both.
	type body struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    string  `json:"code"`
	}
	b := body{Message: msg, Type: "invalid_request_error", Code: "invalid_parameter"}
	switch {
	case status == http.StatusNotFound:
		b.Code = "not_found"
	case status == http.StatusMethodNotAllowed:
		b.Code = "method_not_allowed"
	case status >= 500:
		b.Type, b.Code = "server_error", "internal_error"
	}
	writeJSON(w, status, map[string]body{"error": b})
}

// recentFigures is the span of the live figures.
const recentFigures = 5 * time.Minute

// live is the payload of GET /ui/api/live.
type live struct {
	Spec struct {
		Name       string   `json:"name"`
		Categories []string `json:"categories"`
		Models     []string `json:"models"`
	} `json:"spec"`
	// Explorer says whether decisions can be looked up.
	Explorer bool `json:"explorer"`
	// Summary is absent without a Monitor.
	Summary *drift.Summary `json:"summary,omitempty"`
	// RecentFrom is when the data of the summary's recent figures begins: the start of their
	// span, or, when the gateway started within it, when it started, or the start of the
	// first minute before it with traffic restored from the decision store. The time from it
	// to the summary's time is what per-minute rates divide by. Absent without a Monitor.
	RecentFrom *time.Time `json:"recent_from,omitempty"`
	// TimeScales are the time scales, other than 1, that simulated providers run at (serve
	// --time-scale, or a provider's simulate.time_scale), by provider: their latencies are
	// scaled wall-clock ones, not the spec's. Absent when there are none.
	TimeScales map[string]float64 `json:"time_scales,omitempty"`
	Breakers   []health.Status    `json:"breakers"`
	// BreakerWindowS is, in seconds, the rolling window that the breakers' requests and
	// failures count calls in.
	BreakerWindowS float64    `json:"breaker_window_s"`
	Drift          driftState `json:"drift"`
}

// driftState is the detectors' state: settings, counts by state, the detectors firing and
// the recent alerts, newest first.
type driftState struct {
	Enabled    bool           `json:"enabled"`
	Window     int            `json:"window"`
	Reference  int            `json:"reference"`
	FalseAlarm float64        `json:"false_alarm"`
	States     map[string]int `json:"states"`
	Firing     []drift.Status `json:"firing"`
	Alerts     []drift.Alert  `json:"alerts"`
}

func (d *Dashboard) live(w http.ResponseWriter, r *http.Request) {
	s := d.o.Spec
	var out live
	out.Spec.Name = s.Name
	for _, c := range s.Categories {
		out.Spec.Categories = append(out.Spec.Categories, c.Name)
	}
	for _, m := range s.Models {
		out.Spec.Models = append(out.Spec.Models, m.Name)
	}
	out.Explorer = d.o.Decisions != nil
	for _, p := range s.Providers {
		if p.Simulate != nil && p.Simulate.TimeScale > 0 && p.Simulate.TimeScale != 1 {
			if out.TimeScales == nil {
				out.TimeScales = map[string]float64{}
			}
			out.TimeScales[p.Name] = p.Simulate.TimeScale
		}
	}
	out.Breakers = []health.Status{}
	if d.o.Breakers != nil {
		out.Breakers = d.o.Breakers.Snapshot()
	}
	out.BreakerWindowS = d.o.BreakerWindow.Seconds()
	set := s.Drift.Settings()
	out.Drift = driftState{Enabled: d.o.Monitor != nil && !set.Disabled, Window: set.Window, Reference: set.Reference,
		FalseAlarm: float64(set.FalseAlarm), States: map[string]int{}, Firing: []drift.Status{}, Alerts: []drift.Alert{}}
	if m := d.o.Monitor; m != nil {
		sum := m.Summary(recentFigures)
		out.Summary = &sum
		from := recentFrom(m, &sum)
		out.RecentFrom = &from
		for _, st := range m.Detectors() {
			out.Drift.States[st.State]++
			if st.State == "firing" {
				out.Drift.Firing = append(out.Drift.Firing, st)
			}
		}
		out.Drift.Alerts = append(out.Drift.Alerts, m.Alerts()...)
	}
	writeJSON(w, http.StatusOK, out)
}

// recentFrom returns when the data of sum's recent figures begins (see live.RecentFrom).
func recentFrom(m *drift.Monitor, sum *drift.Summary) time.Time {
	span := sum.Total.Recent.Time
	if !sum.Start.After(span) {
		return span
	}
	// Decisions restored from the store are from before the start: the first minute of the
	// span that holds any, before the start's own minute, begins the data.
	startMinute := sum.Start.Truncate(time.Minute)
	if startMinute.After(span) {
		for _, sr := range m.Series(drift.ByTotal, span, startMinute.Add(-time.Minute), time.Minute) {
			for _, p := range sr.Points {
				if p.Requests > 0 {
					return p.Time
				}
			}
		}
	}
	return sum.Start
}

// ranges are the chart spans the page offers, with their steps.
var ranges = map[string]struct{ span, step time.Duration }{
	"15m": {15 * time.Minute, time.Minute},
	"1h":  {time.Hour, time.Minute},
	"6h":  {6 * time.Hour, 5 * time.Minute},
	"24h": {24 * time.Hour, 15 * time.Minute},
}

func (d *Dashboard) series(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	by := drift.By(q.Get("by"))
	switch by {
	case "":
		by = drift.ByCategory
	case drift.ByCategory, drift.ByModel, drift.ByTotal:
	default:
		writeError(w, http.StatusBadRequest, "by must be category, model or total")
		return
	}
	name := q.Get("range")
	if name == "" {
		name = "1h"
	}
	rg, ok := ranges[name]
	if !ok {
		writeError(w, http.StatusBadRequest, "range must be 15m, 1h, 6h or 24h")
		return
	}
	// Buckets are aligned to the clock: each starts on a multiple of the step (15-minute
	// steps at :00, :15, :30 and :45), so they stay put from one poll to the next and a
	// point's time, its bucket's start, names the same minutes every time. The last bucket
	// is the current one, which ends after now: it holds the minutes up to until.
	now := d.o.Now()
	until := now.Truncate(time.Minute).Add(time.Minute) // the end of the current minute
	series := []drift.Series{}
	if d.o.Monitor != nil {
		// Monitor.Series gives whole steps ending with its until's minute: pass the last
		// minute of the current step, and the first of the step span-step before it.
		end := now.Truncate(rg.step).Add(rg.step)
		series = append(series, d.o.Monitor.Series(by, end.Add(-rg.span), end.Add(-time.Minute), rg.step)...)
	}
	writeJSON(w, http.StatusOK, map[string]any{"by": by, "range": name, "step_s": rg.step.Seconds(), "until": until.UTC(), "series": series})
}

func (d *Dashboard) specDocument(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	if err := spec.NewDocument(d.o.Spec, d.o.Now()).WriteHTML(&buf); err != nil {
		writeError(w, http.StatusInternalServerError, "rendering the routing document failed")
		d.o.Logger.Error("rendering the routing document", "error", err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// The document is shown in a sandboxed frame; opened directly, it runs no script either.
	w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'")
	w.Write(buf.Bytes())
}

// decisionRow is one line of the explorer's list.
type decisionRow struct {
	ID       string                `json:"id"`
	Time     time.Time             `json:"time"`
	Category string                `json:"category"`
	Model    string                `json:"model"`
	Route    string                `json:"route"`
	Outcome  clearbar.FailureClass `json:"outcome"`
	Status   int                   `json:"status"`
	Flagged  bool                  `json:"flagged"`
	Attempts int                   `json:"attempts"`
	Cost     float64               `json:"cost_usd"`
	Latency  float64               `json:"latency_s"`
}

// Explorer list limits.
const (
	defaultListLimit = 50
	maxListLimit     = 500
)

func (d *Dashboard) listDecisions(w http.ResponseWriter, r *http.Request) {
	if d.o.Decisions == nil {
		writeError(w, http.StatusNotFound, "decision records are not stored (trace: none)")
		return
	}
	q := r.URL.Query()
	f := trace.Filter{Category: q.Get("category"), Model: q.Get("model"), Outcome: q.Get("outcome"), Limit: defaultListLimit}
	f.Flagged, _ = strconv.ParseBool(q.Get("flagged"))
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxListLimit {
			writeError(w, http.StatusBadRequest, "limit must be a number from 1 to "+strconv.Itoa(maxListLimit))
			return
		}
		f.Limit = n
	}
	if f.Outcome != "" {
		var c clearbar.FailureClass
		if c.UnmarshalText([]byte(f.Outcome)) != nil {
			writeError(w, http.StatusBadRequest, "unknown outcome "+strconv.Quote(f.Outcome)+": use ok or a failure class such as rate_limited")
			return
		}
	}
	ds, err := d.o.Decisions.List(r.Context(), f)
	if err != nil {
		d.o.Logger.Error("listing decisions", "error", err)
		writeError(w, http.StatusInternalServerError, "listing decisions failed")
		return
	}
	rows := make([]decisionRow, 0, len(ds))
	for _, dec := range ds {
		rows = append(rows, decisionRow{ID: dec.ID, Time: dec.Time, Category: dec.Category, Model: dec.Model, Route: dec.Route,
			Outcome: dec.Outcome, Status: dec.Status, Flagged: dec.Flagged, Attempts: len(dec.Attempts),
			Cost: dec.Cost.USD(), Latency: dec.Latency.Seconds()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"decisions": rows})
}

func (d *Dashboard) getDecision(w http.ResponseWriter, r *http.Request) {
	if d.o.Decisions == nil {
		writeError(w, http.StatusNotFound, "decision records are not stored (trace: none)")
		return
	}
	id := r.PathValue("id")
	dec, err := d.o.Decisions.Get(r.Context(), id)
	switch {
	case isNotFound(err):
		writeError(w, http.StatusNotFound, "no decision "+id+" (decisions are written asynchronously; retry in a moment)")
	case err != nil:
		d.o.Logger.Error("reading a decision", "id", id, "error", err)
		writeError(w, http.StatusInternalServerError, "reading the decision failed")
	default:
		writeJSON(w, http.StatusOK, dec)
	}
}

// isNotFound recognises a store's not-found error: trace.ErrNotFound, or any error that says
// NotFound() (as the gateway's flushing store does).
func isNotFound(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, trace.ErrNotFound) {
		return true
	}
	var nf interface{ NotFound() bool }
	return errors.As(err, &nf) && nf.NotFound()
}
