package gateway

import (
	"fmt"
	"sync"
	"time"
)

// Repeated validator failures flag decisions for review: a validator that keeps failing in a
// category points at a prompt, model or schema problem that escalation hides. The defaults
// are the spec's server.flag_repeats and server.flag_window.
const (
	repeatWindow    = 10 * time.Minute
	repeatThreshold = 5
)

// repeats counts recent validator failures per category and validator. It is safe for
// concurrent use; its memory is bounded by the spec's categories and validators times the
// threshold.
type repeats struct {
	// threshold failures within window flag a decision.
	threshold int
	window    time.Duration

	mu   sync.Mutex
	seen map[[2]string][]time.Time
}

// note records a failure and returns how many failures of this validator the category had in
// the window, this one included.
func (r *repeats) note(category, validator string, now time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[[2]string][]time.Time{}
	}
	key := [2]string{category, validator}
	ts := r.seen[key]
	cut := 0
	for cut < len(ts) && now.Sub(ts[cut]) > r.window {
		cut++
	}
	ts = append(ts[cut:], now)
	if len(ts) > r.threshold {
		ts = ts[len(ts)-r.threshold:]
	}
	r.seen[key] = ts
	return len(ts)
}

// flagRepeats flags the decision when a validator that just failed has failed at least the
// threshold number of times in its category within the window.
func (r *run) flagRepeats(validators []string) {
	for _, v := range validators {
		if n := r.g.repeats.note(r.d.Category, v, r.g.now()); n >= r.g.repeats.threshold && !r.d.Flagged {
			r.d.Flagged = true
			r.d.FlagReason = fmt.Sprintf("%s failed %d times in category %s within %s", v, n, r.d.Category, r.g.repeats.window)
		}
	}
}
