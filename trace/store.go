package trace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/clearbar/clearbar"
)

// Store persists decisions. Implementations are safe for concurrent use.
//
// Decisions are keyed by ID: writing a decision whose ID is already stored replaces the stored
// one, so writing the same batch twice (a retry after an uncertain failure) is harmless.
//
// What is read back equals what was written, with two normalisations: times come back in UTC
// without a monotonic clock reading, and empty slices may come back as nil (and the reverse
// for the fields whose JSON form has no omitempty, such as Plan and Attempts).
type Store interface {
	// Write stores a batch in one transaction: all of it or, when it returns an error, none
	// of it. It rejects a batch holding a nil decision, a decision without an ID or one with
	// a failure class outside [clearbar.FailureClasses]. Write does not keep ds or the
	// decisions after it returns, and does not modify them.
	Write(ctx context.Context, ds []*clearbar.Decision) error
	// Get returns the decision with the given id, or an error wrapping ErrNotFound. The
	// caller owns the returned decision.
	Get(ctx context.Context, id string) (*clearbar.Decision, error)
	// List returns the decisions that match f, newest first (ties broken by ID, descending).
	// The caller owns the returned decisions.
	List(ctx context.Context, f Filter) ([]*clearbar.Decision, error)
	// Close releases the store. Other calls after Close return an error wrapping ErrClosed.
	Close() error
}

// ErrNotFound is returned (wrapped) by Store.Get for an unknown decision ID.
var ErrNotFound = errors.New("trace: decision not found")

// ErrClosed is returned (wrapped) by a Store used after Close, and by [Recorder.Flush] when
// Close gave up on decisions before they could be written.
var ErrClosed = errors.New("trace: closed")

// Filter limits Store.List. The zero Filter matches every decision and returns the newest
// DefaultLimit of them. Every condition that is set must hold.
type Filter struct {
	// Since and Until bound the decision time: Since <= Time < Until. A zero value leaves
	// that side open.
	Since, Until time.Time
	// Category matches Decision.Category exactly; "" matches any.
	Category string
	// Model matches the model that served the final answer (Decision.Model) exactly; ""
	// matches any. Attempts on other models do not count.
	Model string
	// Outcome matches Decision.Outcome by its name ("ok", "rate_limited", ...); "" matches
	// any. An unknown name is an error, not an empty result.
	Outcome string
	// Flagged keeps only decisions flagged for review.
	Flagged bool
	// Limit caps the number of decisions returned. 0 means DefaultLimit; values above
	// MaxLimit mean MaxLimit; negative values are an error.
	Limit int
}

// List limits.
const (
	// DefaultLimit is the number of decisions List returns when Filter.Limit is 0.
	DefaultLimit = 100
	// MaxLimit is the most decisions one List call returns.
	MaxLimit = 10_000
)

// Each passes every decision of the store that matches f, newest first, to fn, however many
// there are: it lists them a page of MaxLimit at a time (f's Limit is its own), so that fn
// sees a window of any size in bounded memory (fn must not keep the decisions past the next
// page). It stops at fn's first error and returns it.
func Each(ctx context.Context, s Store, f Filter, fn func(*clearbar.Decision) error) error {
	f.Limit = MaxLimit
	// Decisions at the oldest time of a page may continue on the next one: the next page
	// starts at that time again, and the ones already seen there are skipped.
	seen := map[string]bool{}
	var seenAt time.Time
	for {
		ds, err := s.List(ctx, f)
		if err != nil {
			return err
		}
		fresh := 0
		for _, d := range ds {
			if seen[d.ID] {
				continue
			}
			fresh++
			if err := fn(d); err != nil {
				return err
			}
		}
		if len(ds) < f.Limit {
			return nil
		}
		if fresh == 0 {
			return fmt.Errorf("trace: more than %d decisions share the time %s: the store cannot be paged", MaxLimit, ds[len(ds)-1].Time)
		}
		oldest := ds[len(ds)-1].Time
		if !oldest.Equal(seenAt) {
			clear(seen)
			seenAt = oldest
		}
		for _, d := range ds {
			if d.Time.Equal(oldest) {
				seen[d.ID] = true
			}
		}
		f.Until = oldest.Add(time.Nanosecond)
	}
}

// normalize checks f and returns it with Limit resolved.
func (f Filter) normalize() (Filter, error) {
	switch {
	case f.Limit < 0:
		return f, fmt.Errorf("trace: filter limit %d is negative", f.Limit)
	case f.Limit == 0:
		f.Limit = DefaultLimit
	case f.Limit > MaxLimit:
		f.Limit = MaxLimit
	}
	if f.Outcome != "" {
		var c clearbar.FailureClass
		if err := c.UnmarshalText([]byte(f.Outcome)); err != nil {
			return f, fmt.Errorf("trace: filter outcome: %w (use a failure class name such as %q or %q)",
				err, clearbar.OK, clearbar.RateLimited)
		}
	}
	return f, nil
}

// validate reports whether d can be stored and read back: it exists, has an ID, and every
// failure class in it has a name (an unnamed class would be written as "class(N)" and fail
// to decode).
func validate(d *clearbar.Decision) error {
	if d == nil {
		return errors.New("trace: nil decision")
	}
	if d.ID == "" {
		return errors.New("trace: decision has no id")
	}
	if !knownClass(d.Outcome) {
		return fmt.Errorf("trace: decision %s: unknown outcome %s", d.ID, d.Outcome)
	}
	for i := range d.Attempts {
		if !knownClass(d.Attempts[i].Class) {
			return fmt.Errorf("trace: decision %s: attempt %d: unknown failure class %s", d.ID, i, d.Attempts[i].Class)
		}
	}
	return nil
}

// numClasses is the number of named failure classes.
var numClasses = len(clearbar.FailureClasses())

func knownClass(c clearbar.FailureClass) bool { return int(c) < numClasses }

// encode returns the JSON form every store keeps: the whole decision, prompt text included
// when the decision holds it. It is json.Marshal's output, written by appendDecision.
func encode(d *clearbar.Decision) ([]byte, error) {
	return appendDecision(nil, d)
}

// decode reverses encode and normalises times to UTC.
func decode(b []byte) (*clearbar.Decision, error) {
	d := new(clearbar.Decision)
	if err := json.Unmarshal(b, d); err != nil {
		return nil, fmt.Errorf("trace: decode decision: %w", err)
	}
	d.Time = d.Time.UTC()
	for i := range d.Attempts {
		d.Attempts[i].Start = d.Attempts[i].Start.UTC()
	}
	return d, nil
}

var (
	minNanoTime = time.Unix(0, math.MinInt64)
	maxNanoTime = time.Unix(0, math.MaxInt64)
)

// unixNanos is t.UnixNano clamped to the int64 range, so the zero time (and any time outside
// 1678–2262) still sorts where it belongs instead of overflowing.
func unixNanos(t time.Time) int64 {
	switch {
	case t.Before(minNanoTime):
		return math.MinInt64
	case t.After(maxNanoTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}
