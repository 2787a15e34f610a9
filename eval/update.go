package eval

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/clearbar/clearbar/estimate"
	"github.com/clearbar/clearbar/spec"
)

// Change is one value Update writes into a spec, for the reviewer: the path below the
// category, and the old and new values as the spec would show them.
type Change struct {
	Path string `json:"path"`
	Old  string `json:"old"`
	New  string `json:"new"`
}

// String renders the change as "path: old → new".
func (c Change) String() string { return c.Path + ": " + c.Old + " → " + c.New }

// UpdateOptions say what Update writes.
type UpdateOptions struct {
	// Today is the review date written.
	Today time.Time
	// NoLatency, when set, says why measured latencies must not be written (they were
	// measured at a time scale where scheduling overhead swamps them); it becomes a note.
	NoLatency string
	// NoReview, when set, says why the category's review.last must not be moved (the answers
	// measured all came from simulated providers, which measure the spec's own assumptions);
	// it becomes a note.
	NoReview string
}

// Update returns the spec document data (the file s was loaded from) with the category's
// measured assumptions written in: for every summarised model with at least
// estimate.MinGraded graded answers, assume.pass_rate.<model> (rounded to three decimals; of
// the graded answers alone, those the category's validators could not judge left out:
// Summary.Unverified) and, when at least estimate.MinLatency answered calls had latencies,
// graded or not, assume.latency.<model> {p50, p95} (the category's override of the model's
// latency) — the minimums from which estimate --measured replaces an assumption; and the
// category's review.last set to opts.Today, unless opts.NoReview says why not or no
// measurement met its minimum. A value the spec already has is neither written nor listed.
// Comments and key order are kept (spec.SetInCategory); the caller should check that the
// result loads before writing it.
//
// It returns the changes, old → new, in the order written, for the reviewer, and a note for
// everything it left alone and why.
func Update(data []byte, s *spec.Spec, cat *spec.Category, sums []Summary, opts UpdateOptions) (out []byte, changes []Change, notes []string, err error) {
	out = data
	set := func(path []string, value any, was, now string) error {
		b, err := spec.SetInCategory(out, cat.Name, path, value)
		if err != nil {
			return err
		}
		out = b
		changes = append(changes, Change{Path: strings.Join(path, "."), Old: was, New: now})
		return nil
	}
	measured := false // whether any measurement met its minimum (written, or the spec's already)
	for _, sum := range sums {
		m := s.Model(sum.Model)
		if m == nil || sum.Category != cat.Name {
			notes = append(notes, fmt.Sprintf("%s: not a model of the spec's category %q, not updated", sum.Model, cat.Name))
			continue
		}
		if sum.Graded == 0 {
			why := "no graded answers"
			switch {
			case sum.PassRateNote != "":
				why = sum.PassRateNote
			case sum.Unverified > 0:
				why = fmt.Sprintf("no graded answers: the category's validators could not judge its %d answer(s) (%s)", sum.Unverified, sum.UnverifiedReason)
			}
			if sum.Latencies == 0 {
				notes = append(notes, fmt.Sprintf("%s: %s; nothing measured to write", m.Name, why))
				continue
			}
			notes = append(notes, fmt.Sprintf("%s: %s; assume.pass_rate not written", m.Name, why))
		} else if sum.Graded < estimate.MinGraded {
			// As estimate --measured keeps an assumption a pass rate of fewer answers would
			// replace: a few answers' interval is too wide to decide a route on.
			kept := "the spec assumes none"
			if sum.Assumed != nil {
				kept = "the spec keeps " + strconv.FormatFloat(*sum.Assumed, 'f', -1, 64)
			}
			notes = append(notes, fmt.Sprintf("%s: assume.pass_rate not written: it is of %d graded answer(s) (%s, 95%% interval %s–%s), fewer than the %d a measured pass rate needs, as estimate --measured uses one; %s. Grade more items to write it",
				m.Name, sum.Graded, pct(sum.PassRate), pct(sum.PassRateCI[0]), pct(sum.PassRateCI[1]), estimate.MinGraded, kept))
		} else {
			measured = true
			if sum.Unverified > 0 {
				notes = append(notes, fmt.Sprintf("%s: assume.pass_rate is of its %d graded answer(s); the category's validators could not judge %d more (%s)", m.Name, sum.Graded, sum.Unverified, sum.UnverifiedReason))
			}
			rate := roundTo(sum.PassRate, 3)
			old := "(none)"
			if sum.Assumed != nil {
				old = strconv.FormatFloat(*sum.Assumed, 'f', -1, 64)
			}
			// A value the spec already has is neither written nor listed as a change.
			if sum.Assumed == nil || *sum.Assumed != rate {
				if err := set([]string{"assume", "pass_rate", m.Name}, rate, old, strconv.FormatFloat(rate, 'f', -1, 64)); err != nil {
					return nil, nil, nil, err
				}
			}
		}
		if opts.NoLatency != "" {
			continue
		}
		if sum.Latencies == 0 || sum.LatencyP50 <= 0 {
			notes = append(notes, fmt.Sprintf("%s: no measured latencies, assume.latency not written", m.Name))
			continue
		}
		if sum.Latencies < estimate.MinLatency {
			notes = append(notes, fmt.Sprintf("%s: assume.latency not written: it is of %d call(s), fewer than the %d a measured latency needs, as estimate --measured uses one", m.Name, sum.Latencies, estimate.MinLatency))
			continue
		}
		measured = true
		p50, p95 := roundLatency(sum.LatencyP50), roundLatency(max(sum.LatencyP95, sum.LatencyP50))
		lat := struct {
			P50 string `yaml:"p50"`
			P95 string `yaml:"p95"`
		}{FormatLatency(p50), FormatLatency(p95)}
		old := "(the model's: " + describeLatency(m.Resolved.Latency) + ")"
		if l, ok := cat.Assume.Latency[m.Name]; ok && l != nil {
			if len(l.Samples) == 0 && l.TTFT == nil && l.P50.D() == p50 && l.P95.D() == p95 {
				continue // the category's override already is the measurement
			}
			old = describeLatency(*l)
		}
		if err := set([]string{"assume", "latency", m.Name}, lat, old, fmt.Sprintf("{p50: %s, p95: %s}", lat.P50, lat.P95)); err != nil {
			return nil, nil, nil, err
		}
	}
	if opts.NoLatency != "" {
		notes = append(notes, "assume.latency not written: "+opts.NoLatency)
	}
	if opts.NoReview != "" {
		notes = append(notes, "review.last not written: "+opts.NoReview)
		return out, changes, notes, nil
	}
	if !measured {
		// A review is a measurement the estimate uses: too few answers to write one are none.
		notes = append(notes, fmt.Sprintf("review.last not written: no measurement met its minimum (%d graded answers for a pass rate, %d calls for a latency)", estimate.MinGraded, estimate.MinLatency))
		return out, changes, notes, nil
	}
	// The date goes into the category's own review: what this eval measured is that
	// category. Its old value is the category's, or says that it had only the spec's.
	last, _ := s.LastReview(cat)
	old := "(none)"
	switch {
	case cat.Review != nil && !cat.Review.Last.IsZero():
		old = last.Format(time.DateOnly)
	case !last.IsZero():
		old = "(none; the spec's review.last is " + last.Format(time.DateOnly) + ")"
	}
	day := opts.Today.Format(time.DateOnly)
	if cat.Review != nil && !cat.Review.Last.IsZero() && last.Format(time.DateOnly) == day {
		return out, changes, notes, nil // already today's
	}
	// A timestamp-tagged node is written as a bare date, like the rest of the spec's dates,
	// rather than the quoted string a Go string would become.
	date := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!timestamp", Value: day}
	if err := set([]string{"review", "last"}, date, old, day); err != nil {
		return nil, nil, nil, err
	}
	return out, changes, notes, nil
}

// describeLatency renders a latency assumption in the spec's words.
func describeLatency(l spec.Latency) string {
	switch {
	case len(l.Samples) > 0:
		return fmt.Sprintf("%d samples", len(l.Samples))
	case l.TTFT != nil:
		return fmt.Sprintf("{ttft: {p50: %s, p95: %s}, tokens_per_second: %g}", spec.FormatDuration(l.TTFT.P50.D()), spec.FormatDuration(l.TTFT.P95.D()), l.TokensPerSecond)
	case l.P50 > 0:
		return fmt.Sprintf("{p50: %s, p95: %s}", spec.FormatDuration(l.P50.D()), spec.FormatDuration(l.P95.D()))
	}
	return "none"
}

func roundTo(f float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(f*p) / p
}
