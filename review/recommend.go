package review

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/estimate"
	"github.com/clearbar/clearbar/spec"
)

// Reestimate is the estimate redone with what traffic measured, and the spec change it
// recommends.
type Reestimate struct {
	// Before is the policy the estimate of the spec as written recommends, After the one the
	// re-estimate recommends, and Recommendation the estimator's reasons.
	Before         string `json:"before"`
	After          string `json:"after"`
	Recommendation string `json:"recommendation"`
	// Categories compare the spec's own routes before and after, and name the recommended
	// policy's route where it differs.
	Categories []ReestimateCategory `json:"categories"`
	// CostBefore and CostAfter are the spec's routes' cost per request over all categories;
	// RecommendedCost is the recommended policy's, after.
	CostBefore      clearbar.Money `json:"cost_before_usd"`
	CostAfter       clearbar.Money `json:"cost_after_usd"`
	RecommendedCost clearbar.Money `json:"recommended_cost_usd"`
	// Edits are the recommended changes; Diff is the unified diff of the spec file that
	// makes them ("" when there is nothing to change).
	Edits []Edit   `json:"edits"`
	Diff  string   `json:"diff,omitempty"`
	Notes []string `json:"notes,omitempty"`
}

// ReestimateCategory is one category's figures for the spec's own route, before and after.
type ReestimateCategory struct {
	Name          string         `json:"name"`
	CostBefore    clearbar.Money `json:"cost_before_usd"`
	CostAfter     clearbar.Money `json:"cost_after_usd"`
	QualityBefore float64        `json:"quality_before"`
	QualityAfter  float64        `json:"quality_after"`
	P95Before     float64        `json:"p95_before_s"`
	P95After      float64        `json:"p95_after_s"`
	ClearsBefore  bool           `json:"clears_before"`
	ClearsAfter   bool           `json:"clears_after"`
	// Recommended is the recommended policy's route, when it is not the spec's.
	Recommended string `json:"recommended_route,omitempty"`
}

// Edit is one recommended change to the spec.
type Edit struct {
	Category string `json:"category"`
	What     string `json:"what"`
	From     string `json:"from"`
	To       string `json:"to"`
	Why      string `json:"why"`
}

// recommend re-estimates with the measurements and writes the recommended spec change.
//
// Pass rates whose difference from the assumption is significant are replaced by the measured
// ones, in the spec file, so the change is visible and reviewable; latencies, tokens and
// provider failures replace the assumptions inside the estimator, as clearbar estimate
// --measured does, from the outcome rows of the decisions. When the re-estimate recommends a
// different policy than the estimate of the spec as written, each category whose own route no
// longer clears its bar and budget, or costs more than the recommended policy's clearing
// route, gets that route.
func (r *Review) recommend(ctx context.Context, rep *Report, base *estimate.Report) error {
	s := r.spec
	if s.File == "" {
		rep.Notes = append(rep.Notes, "the spec was not loaded from a file: no re-estimate or spec change")
		return nil
	}
	src, err := os.ReadFile(s.File)
	if err != nil {
		return fmt.Errorf("review: reading the spec: %w", err)
	}
	re := &Reestimate{Before: base.Recommended, Edits: []Edit{}}
	var edits []edit
	for _, cv := range rep.Categories {
		for _, c := range cv.Comparisons {
			// A pass rate is written only where it was tested, into the assumption it was
			// tested against: assume.pass_rate, score_pass_rate or escalated_pass_rate.
			key := passKey(c.Metric)
			if key == "" || !c.Tested || !c.Significant || !c.Measured.Finite() || c.From != "spec" {
				continue
			}
			to := strconv.FormatFloat(float64(c.Measured), 'f', 3, 64)
			edits = append(edits, edit{category: c.Category, path: []string{"assume", key, c.Model}, text: to})
			re.Edits = append(re.Edits, Edit{Category: c.Category, What: "assume." + key + "." + c.Model,
				From: strconv.FormatFloat(float64(c.Assumed), 'f', -1, 64), To: to, Why: evidence(c, rep.Confidence)})
		}
	}
	moved, notes := movedAssumptions(s, rep)
	edits = append(edits, moved.edits...)
	re.Edits = append(re.Edits, moved.described...)
	re.Notes = append(re.Notes, notes...)
	text, note, err := applyEdits(src, edits)
	if err != nil {
		return err
	}
	if note != "" {
		re.Notes = append(re.Notes, note)
	}
	measured, err := spec.Parse(text, s.File, spec.Options{Today: r.opts.Today, Catalog: s.Catalog})
	if err != nil {
		return reestimateError(s.File, re.Edits, err)
	}
	after, err := estimate.Run(ctx, measured, estimate.Options{Samples: r.opts.Samples, Seed: r.opts.Seed, Today: r.opts.Today,
		Measured: estimate.Measure(measured, r.obs), MeasuredFrom: "the reviewed decisions"})
	if err != nil {
		return fmt.Errorf("review: re-estimating: %w", err)
	}
	re.After, re.Recommendation = after.Recommended, after.Recommendation
	specBefore, specAfter := policyByKind(base, estimate.KindSpec), policyByKind(after, estimate.KindSpec)
	rec := policyByName(after, after.Recommended)
	re.CostBefore, re.CostAfter, re.RecommendedCost = specBefore.Total.Cost, specAfter.Total.Cost, rec.Total.Cost
	for i, c := range s.Categories {
		b, a, rc := specBefore.Categories[i], specAfter.Categories[i], rec.Categories[i]
		rcv := ReestimateCategory{Name: c.Name, CostBefore: b.Cost, CostAfter: a.Cost, QualityBefore: b.Quality, QualityAfter: a.Quality,
			P95Before: b.Latency.P95, P95After: a.Latency.P95, ClearsBefore: b.ClearsBar && b.MeetsBudget, ClearsAfter: a.ClearsBar && a.MeetsBudget}
		if rc.Route != a.Route {
			rcv.Recommended = rc.Route
		}
		re.Categories = append(re.Categories, rcv)
	}

	switch {
	case after.Recommended == base.Recommended && after.Recommended != estimate.KindSpec:
		re.Notes = append(re.Notes, fmt.Sprintf("the estimate of the spec as written already recommends %s over the spec's own routes; the review leaves the routes as they are", after.Recommended))
	case after.Recommended != base.Recommended:
		rep.Triggers = append(rep.Triggers, Trigger{Kind: TriggerRecommendation,
			Evidence: []string{fmt.Sprintf("with the measurements the estimator recommends %s; with the spec's assumptions it recommends %s", after.Recommended, base.Recommended)}})
		if after.Recommended != estimate.KindSpec {
			routeEdits, descs, notes := routeChanges(measured, text, after, rec)
			re.Notes = append(re.Notes, notes...)
			if len(routeEdits) > 0 {
				next, note, err := applyEdits(text, routeEdits)
				if err != nil {
					return err
				}
				if note != "" && !slices.Contains(re.Notes, note) {
					re.Notes = append(re.Notes, note)
				}
				if _, err := spec.Parse(next, s.File, spec.Options{Today: r.opts.Today, Catalog: s.Catalog}); err != nil {
					re.Notes = append(re.Notes, fmt.Sprintf("the routes of %s could not be written into the spec (%v): change them by hand", after.Recommended, err))
				} else {
					text = next
					re.Edits = append(re.Edits, descs...)
				}
			}
		}
	}
	re.Diff = unifiedDiff(s.File, string(src), string(text))
	rep.Reestimate = re
	return nil
}

// routeChanges returns the edits that give categories the recommended policy's routes, with
// their descriptions and notes about what could not be done.
func routeChanges(s *spec.Spec, src []byte, after *estimate.Report, rec *estimate.PolicyResult) ([]edit, []Edit, []string) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil || len(doc.Content) == 0 {
		return nil, nil, []string{"the spec could not be read back to write the recommended routes"}
	}
	specPolicy := policyByKind(after, estimate.KindSpec)
	var edits []edit
	var descs []Edit
	var notes []string
	for i, c := range s.Categories {
		// A category takes the recommended policy's route only where that route clears the
		// bar and budget and the spec's own route either no longer does or costs more:
		// categories the measurements leave as they were keep their routes.
		cur, want := specPolicy.Categories[i], rec.Categories[i]
		curOK, wantOK := cur.ClearsBar && cur.MeetsBudget, want.ClearsBar && want.MeetsBudget
		if cur.Route == want.Route || !wantOK || curOK && cur.Cost <= want.Cost {
			continue
		}
		why := fmt.Sprintf("%s's route costs %s per request against the spec route's %s, and clears the bar and budget", rec.Name, want.Cost, cur.Cost)
		if !curOK {
			why = fmt.Sprintf("with the measurements the spec's route misses its bar or budget (quality %s, p95 %s); %s's route clears them at %s per request",
				pct(cur.Quality), secs(cur.Latency.P95), rec.Name, want.Cost)
		}
		var es []edit
		var err error
		if rec.Kind == estimate.KindNamed {
			es, err = namedRoute(doc.Content[0], rec.Name, c)
		} else {
			es, err = describedRoute(doc.Content[0], c, want.Route)
		}
		if err != nil {
			notes = append(notes, fmt.Sprintf("category %s: %v; change its route to %q by hand", c.Name, err, want.Route))
			continue
		}
		edits = append(edits, es...)
		for _, e := range es {
			descs = append(descs, Edit{Category: c.Name, What: strings.Join(e.path, "."), From: editedFrom(c, e, cur.Route), To: e.text, Why: why})
		}
	}
	return edits, descs, notes
}

// editedFrom is what an edit of category c's route changes, for the list of changes: its
// fallbacks as the spec writes them ("[mini]") for an edit of fallback, else the route as
// the estimator describes it (route), without its fallbacks, which an edit of its own
// changes.
func editedFrom(c *spec.Category, e edit, route string) string {
	if len(e.path) == 1 && e.path[0] == "fallback" {
		names := make([]string, len(c.Fallback))
		for i, f := range c.Fallback {
			names[i] = f.Name
		}
		return "[" + strings.Join(names, ", ") + "]"
	}
	if i := strings.LastIndex(route, ", fallback "); i >= 0 {
		return route[:i]
	}
	return route
}

// describedRoute turns the estimator's description of an automatic policy's route
// ("cascade small → mid (validate: …), fallback strong" or "mid, fallback strong") into edits.
func describedRoute(root *yaml.Node, c *spec.Category, desc string) ([]edit, error) {
	head, fallback := desc, []string{}
	if i := strings.LastIndex(desc, ", fallback "); i >= 0 {
		head, fallback = desc[:i], strings.Split(desc[i+len(", fallback "):], ", ")
	}
	if i := strings.Index(head, " (validate: "); i >= 0 {
		head = head[:i]
	}
	var es []edit
	routeNode := categoryValue(root, c.Name, "route")
	if routeNode == nil {
		return nil, fmt.Errorf("no route in the spec file")
	}
	if names, ok := strings.CutPrefix(head, "cascade "); ok {
		list := "[" + strings.Join(strings.Split(names, " → "), ", ") + "]"
		if _, v := spec.MapEntry(routeNode, "cascade"); v != nil && bareSteps(v) {
			es = append(es, edit{category: c.Name, path: []string{"route", "cascade"}, text: list})
		} else {
			// Rewrite the route, keeping how the spec validates: the estimator's cascades are
			// validated as the spec's route is.
			text := "{cascade: " + list
			for _, key := range []string{"validate", "on_fail", "on_exhausted"} {
				v := routeValidation(routeNode, key)
				if v == nil {
					continue
				}
				ft, err := spec.FlowText(v)
				if err != nil {
					return nil, err
				}
				text += ", " + key + ": " + ft
			}
			es = append(es, edit{category: c.Name, path: []string{"route"}, text: text + "}"})
		}
	} else {
		if strings.ContainsAny(head, " ,") {
			return nil, fmt.Errorf("the route %q is not a single model or a cascade", head)
		}
		if _, v := spec.MapEntry(routeNode, "model"); v != nil {
			es = append(es, edit{category: c.Name, path: []string{"route", "model"}, text: head})
		} else {
			es = append(es, edit{category: c.Name, path: []string{"route"}, text: "{model: " + head + "}"})
		}
	}
	var cur []string
	for _, f := range c.Fallback {
		cur = append(cur, f.Name)
	}
	if !slices.Equal(cur, fallback) && (len(cur) > 0 || len(fallback) > 0) {
		es = append(es, edit{category: c.Name, path: []string{"fallback"}, text: "[" + strings.Join(fallback, ", ") + "]"})
	}
	return es, nil
}

// namedRoute copies a named policy's route for the category (and its fallbacks, when the
// policy sets them) into the category.
func namedRoute(root *yaml.Node, policy string, c *spec.Category) ([]edit, error) {
	_, policies := spec.MapEntry(root, "policies")
	_, p := spec.MapEntry(policies, policy)
	_, routes := spec.MapEntry(p, "routes")
	_, r := spec.MapEntry(routes, c.Name)
	if r == nil {
		return nil, fmt.Errorf("policy %s has no route for it in the spec file", policy)
	}
	route := *r
	var fallback *yaml.Node
	if route.Kind == yaml.MappingNode {
		route.Content = nil
		for i := 0; i+1 < len(r.Content); i += 2 {
			if r.Content[i].Value == "fallback" {
				fallback = r.Content[i+1]
				continue
			}
			route.Content = append(route.Content, r.Content[i], r.Content[i+1])
		}
	}
	rt, err := spec.FlowText(&route)
	if err != nil {
		return nil, err
	}
	es := []edit{{category: c.Name, path: []string{"route"}, text: rt}}
	if fallback != nil {
		ft, err := spec.FlowText(fallback)
		if err != nil {
			return nil, err
		}
		es = append(es, edit{category: c.Name, path: []string{"fallback"}, text: ft})
	}
	return es, nil
}

// editSet is spec edits with their descriptions for the report.
type editSet struct {
	edits     []edit
	described []Edit
}

// movedAssumptions writes the other assumptions the traffic shows have moved, as pass rates
// are: a category's fixed tokens in or out per call (a distribution is left to its author),
// its cache_hit, and a model's latency in a category (assume.latency, its measured p50 and p95, when either
// moved).
func movedAssumptions(s *spec.Spec, rep *Report) (editSet, []string) {
	var out editSet
	var notes []string
	for _, cv := range rep.Categories {
		c := s.Category(cv.Name)
		if c == nil {
			continue
		}
		latency := map[string][2]*Comparison{}
		var models []string
		for _, cmp := range cv.Comparisons {
			switch {
			case cmp.Metric == "tokens in per call" || cmp.Metric == "tokens out per call":
				if !cmp.Significant || !cmp.Measured.Finite() {
					continue
				}
				key, band := "in", c.Tokens.In
				if cmp.Metric == "tokens out per call" {
					key, band = "out", c.Tokens.Out
				}
				if band.Dist {
					notes = append(notes, fmt.Sprintf("%s: %s moved (%s); its distribution is left as written: set its p50 and p95 from the trace", c.Name, cmp.Metric, evidence(cmp, rep.Confidence)))
					continue
				}
				to := strconv.FormatFloat(math.Round(float64(cmp.Measured)), 'f', 0, 64)
				out.edits = append(out.edits, edit{category: c.Name, path: []string{"tokens", key}, text: to})
				out.described = append(out.described, Edit{Category: c.Name, What: "tokens." + key,
					From: strconv.FormatFloat(float64(cmp.Assumed), 'f', 0, 64), To: to, Why: evidence(cmp, rep.Confidence)})
			case cmp.Metric == "cache hit":
				if !cmp.Significant || !cmp.Measured.Finite() {
					continue
				}
				to := strconv.FormatFloat(math.Round(float64(cmp.Measured)*100)/100, 'f', -1, 64)
				out.edits = append(out.edits, edit{category: c.Name, path: []string{"tokens", "cache_hit"}, text: to})
				out.described = append(out.described, Edit{Category: c.Name, What: "tokens.cache_hit",
					From: strconv.FormatFloat(float64(cmp.Assumed), 'f', -1, 64), To: to, Why: evidence(cmp, rep.Confidence)})
			case cmp.Model != "" && (cmp.Metric == "latency p50" || cmp.Metric == "latency p95") && cmp.From == "spec":
				pair := latency[cmp.Model]
				if cmp.Metric == "latency p50" {
					pair[0] = cmp
				} else {
					pair[1] = cmp
				}
				if _, seen := latency[cmp.Model]; !seen {
					models = append(models, cmp.Model)
				}
				latency[cmp.Model] = pair
			}
		}
		var added []string // "model: {p50: …, p95: …}" entries for a latency mapping the category lacks
		for _, m := range models {
			p50, p95 := latency[m][0], latency[m][1]
			if p50 == nil || p95 == nil || !(p50.Significant || p95.Significant) || !p50.Measured.Finite() || !p95.Measured.Finite() {
				continue
			}
			d50, d95 := latencyValue(float64(p50.Measured)), latencyValue(float64(p95.Measured))
			if d50 <= 0 || d95 <= 0 {
				notes = append(notes, fmt.Sprintf("%s: %s's measured latency (p50 %s, p95 %s) is not above zero, which a spec cannot state: assume.latency.%s is left as written",
					c.Name, m, formatValue(UnitSeconds, float64(p50.Measured)), formatValue(UnitSeconds, float64(p95.Measured)), m))
				continue
			}
			d95 = max(d95, d50)
			to := fmt.Sprintf("{p50: %s, p95: %s}", spec.FormatDuration(d50), spec.FormatDuration(d95))
			why := evidence(p50, rep.Confidence)
			if p95.Significant {
				why = evidence(p95, rep.Confidence)
			}
			if c.Assume.Latency != nil {
				out.edits = append(out.edits, edit{category: c.Name, path: []string{"assume", "latency", m}, text: to})
			} else {
				added = append(added, m+": "+to)
			}
			out.described = append(out.described, Edit{Category: c.Name, What: "assume.latency." + m,
				From: fmt.Sprintf("p50 %s, p95 %s", formatValue(UnitSeconds, float64(p50.Assumed)), formatValue(UnitSeconds, float64(p95.Assumed))), To: to, Why: why})
		}
		if len(added) > 0 {
			// One new entry, so that the edit adds a line instead of re-encoding the spec.
			latencies := "{" + strings.Join(added, ", ") + "}"
			if hasAssume(c) {
				out.edits = append(out.edits, edit{category: c.Name, path: []string{"assume", "latency"}, text: latencies})
			} else {
				out.edits = append(out.edits, edit{category: c.Name, path: []string{"assume"}, text: "{latency: " + latencies + "}"})
			}
		}
	}
	return out, notes
}

// latencyValue is a measured latency in seconds as the spec is to state it: to the
// millisecond, below a millisecond (an answer from a replay provider, a local model) to the
// microsecond, and below a microsecond to the nanosecond, so that a latency above zero is
// never written as zero, which the spec refuses.
func latencyValue(sec float64) time.Duration {
	d := time.Duration(sec * float64(time.Second))
	switch {
	case d >= time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= time.Microsecond:
		return d.Round(time.Microsecond)
	}
	return d
}

// reestimateError is the error of a spec with the measured values written in that does not
// load. That spec is review's own edit of the file, made to re-estimate, not the file as its
// author wrote it: the error says so, and what review changed, so that a line it names is not
// taken for a line of the file.
func reestimateError(file string, edits []Edit, err error) error {
	var changed []string
	for _, e := range edits {
		changed = append(changed, fmt.Sprintf("%s %s → %s", e.Category, e.What, e.To))
	}
	what := "no value changed"
	if len(changed) > 0 {
		what = "it changed " + strings.Join(changed, ", ")
	}
	return fmt.Errorf("review: re-estimating with the measured values: review's copy of %s with the measured values written in does not load, so there is no re-estimate (%s; %s is unchanged, and line numbers below are of review's copy): %w",
		file, what, file, err)
}

// hasAssume reports whether a category writes an assume mapping.
func hasAssume(c *spec.Category) bool {
	a := c.Assume
	return len(a.PassRate) > 0 || a.Validator != nil || a.Latency != nil || len(a.ScoreShare) > 0 || len(a.ScorePassRate) > 0 || len(a.EscalatedPassRate) > 0
}

// categoryValue returns the value of key in the named category's mapping.
func categoryValue(root *yaml.Node, category, key string) *yaml.Node {
	_, cats := spec.MapEntry(root, "categories")
	if cats == nil {
		return nil
	}
	for _, c := range cats.Content {
		if _, n := spec.MapEntry(c, "name"); n != nil && n.Value == category {
			_, v := spec.MapEntry(c, key)
			return v
		}
	}
	return nil
}

// bareSteps reports whether every step of a cascade list is a bare model name.
func bareSteps(list *yaml.Node) bool {
	for _, st := range list.Content {
		if st.Kind != yaml.ScalarNode {
			return false
		}
	}
	return true
}

// routeValidation returns the route's setting of key (validate, on_fail or on_exhausted), or,
// for validate and on_fail, that of its first step that sets it, as the estimator's
// cascade-by-price policy takes it.
func routeValidation(route *yaml.Node, key string) *yaml.Node {
	if _, v := spec.MapEntry(route, key); v != nil {
		return v
	}
	if key == "on_exhausted" {
		return nil
	}
	_, steps := spec.MapEntry(route, "cascade")
	if steps == nil {
		return nil
	}
	for _, st := range steps.Content {
		if _, v := spec.MapEntry(st, key); v != nil {
			return v
		}
	}
	return nil
}
