package review

import (
	"context"
	"fmt"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/trace"
)

// Read passes every decision of the store with since <= Time < until to fn, newest first, a
// page of trace.MaxLimit decisions at a time (trace.Each), so a window of any size is reviewed
// in bounded memory (fn must not keep the decisions; Review.Add does not).
func Read(ctx context.Context, store trace.Store, since, until time.Time, fn func(*clearbar.Decision)) error {
	err := trace.Each(ctx, store, trace.Filter{Since: since, Until: until}, func(d *clearbar.Decision) error {
		fn(d)
		return nil
	})
	if err != nil {
		return fmt.Errorf("review: reading decisions: %w", err)
	}
	return nil
}
