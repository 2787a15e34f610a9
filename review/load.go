package review

import (
	"context"
	"fmt"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/trace"
)

// Read passes every decision of the store with since <= Time < until to fn, newest first, a
// page of trace.MaxLimit decisions at a time, so a window of any size is reviewed in bounded
// memory (fn must not keep the decisions; Review.Add does not). It returns fn's first error.
func Read(ctx context.Context, store trace.Store, since, until time.Time, fn func(*clearbar.Decision)) error {
	f := trace.Filter{Since: since, Until: until, Limit: trace.MaxLimit}
	// Decisions at the oldest time of a page may continue on the next one: the next page
	// starts at that time again, and the ones already seen there are skipped.
	seen := map[string]bool{}
	var seenAt time.Time
	for {
		ds, err := store.List(ctx, f)
		if err != nil {
			return fmt.Errorf("review: reading decisions: %w", err)
		}
		fresh := 0
		for _, d := range ds {
			if seen[d.ID] {
				continue
			}
			fresh++
			fn(d)
		}
		if len(ds) < f.Limit {
			return nil
		}
		if fresh == 0 {
			return fmt.Errorf("review: more than %d decisions share the time %s: the store cannot be paged", trace.MaxLimit, ds[len(ds)-1].Time)
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
