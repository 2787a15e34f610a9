package gateway

import (
	"fmt"
	"sync"
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
}

// failRun is a run of consecutive failures: how many, and when the first was.
type failRun struct {
	n     int
	first time.Time
}

// note records a check of a validator on a model's answer in a category and returns the run
// of consecutive failures it ends or extends: 0 after a pass, else the failures in a row, this
// one included, counted from the first that is still within the window.
func (r *repeats) note(category, validator, model string, pass bool, now time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.runs == nil {
		r.runs = map[[3]string]failRun{}
	}
	key := [3]string{category, validator, model}
	if pass {
		delete(r.runs, key)
		return 0
	}
	run := r.runs[key]
	if run.n == 0 || now.Sub(run.first) > r.window {
		run = failRun{first: now}
	}
	run.n++
	r.runs[key] = run
	return run.n
}

// flagRepeats records the verdicts of a check of model's answer and flags the decision when a
// validator that just failed has failed that model's answers the threshold number of times in
// a row in its category, within the window.
func (r *run) flagRepeats(model string, verdicts []clearbar.Verdict) {
	for _, v := range verdicts {
		if n := r.g.repeats.note(r.d.Category, v.Validator, model, v.Pass, r.g.now()); n >= r.g.repeats.threshold && !r.d.Flagged {
			r.d.Flagged = true
			r.d.FlagReason = fmt.Sprintf("%s failed the last %d answers of %s in category %s, within %s", v.Validator, n, model, r.d.Category, r.g.repeats.window)
		}
	}
}
