package gateway

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clearbar/clearbar"
)

// Repeated validator failures flag decisions for review: a validator that keeps failing in a
// category (fails every check, several in a row) points at a prompt, model or schema problem
// that escalation hides. The defaults
// are the spec's server.flag_repeats and server.flag_window.
const (
	repeatWindow    = 10 * time.Minute
	repeatThreshold = 5
)

// repeats follows, per category, validator and answering model, the current run of
// consecutive failures: a validator that keeps failing is one that failed every one of its
// last checks of that model's answers in the category (the failures a cascade's escalation
// hides), not one that failed some number of times, which any validator that catches bad
// answers does at enough traffic. It is safe for concurrent use; its memory is bounded by the
// spec's categories, validators and models.
type repeats struct {
	// threshold consecutive failures, the first within window, flag a decision.
	threshold int
	window    time.Duration

	mu   sync.Mutex
	runs map[[3]string]failRun
	// open is len(runs), read without the lock: a check whose validators all passed, when no
	// run is open, takes no lock.
	open atomic.Int64
}

// failRun is a run of consecutive failures: how many, and when the first was.
type failRun struct {
	n     int
	first time.Time
}

// note records the verdicts of one check of a model's answer in a category, under one lock,
// and returns the longest run of consecutive failures among the validators that failed, with
// that validator: 0 when every one passed. A pass with no run to end touches nothing.
func (r *repeats) note(category, model string, verdicts []clearbar.Verdict, now time.Time) (n int, validator string) {
	if r.open.Load() == 0 && !slices.ContainsFunc(verdicts, func(v clearbar.Verdict) bool { return !v.Pass }) {
		return 0, ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	defer func() { r.open.Store(int64(len(r.runs))) }()
	for _, v := range verdicts {
		key := [3]string{category, v.Validator, model}
		if v.Pass {
			if len(r.runs) > 0 {
				delete(r.runs, key)
			}
			continue
		}
		if r.runs == nil {
			r.runs = map[[3]string]failRun{}
		}
		run := r.runs[key]
		if run.n == 0 || now.Sub(run.first) > r.window {
			run = failRun{first: now}
		}
		run.n++
		r.runs[key] = run
		if run.n > n {
			n, validator = run.n, v.Validator
		}
	}
	return n, validator
}

// flagRepeats records the verdicts of a check of model's answer and flags the decision when a
// validator that just failed has failed that model's answers the threshold number of times in
// a row in its category, within the window.
func (r *run) flagRepeats(model string, verdicts []clearbar.Verdict) {
	n, v := r.g.repeats.note(r.d.Category, model, verdicts, r.g.now())
	if n >= r.g.repeats.threshold && !r.d.Flagged {
		r.d.Flagged = true
		r.d.FlagReason = fmt.Sprintf("%s failed the last %d answers of %s in category %s, within %s", v, n, model, r.d.Category, r.g.repeats.window)
	}
}
