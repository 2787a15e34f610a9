package trace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
)

// The tests in this file are the Store contract: each runs against every implementation.

func TestFullDecisionIsFull(t *testing.T) {
	assertNoZeroFields(t, reflect.ValueOf(fullDecision("d-1", testTime)), "Decision")
}

func TestStoreRoundTrip(t *testing.T) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := k.open(t)
			want := fullDecision("d-1", testTime)
			if err := s.Write(ctx, []*clearbar.Decision{want}); err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(ctx, "d-1")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Get returned a different decision\n got: %s\nwant: %s", jsonOf(t, got), jsonOf(t, want))
			}
			list, err := s.List(ctx, Filter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 || !reflect.DeepEqual(list[0], want) {
				t.Errorf("List returned %s, want the written decision", jsonOf(t, list))
			}
			// The caller owns what Get returns: changing it changes nothing stored.
			got.Attempts[0].Verdicts[0].Reason = "changed"
			again, err := s.Get(ctx, "d-1")
			if err != nil {
				t.Fatal(err)
			}
			if again.Attempts[0].Verdicts[0].Reason != want.Attempts[0].Verdicts[0].Reason {
				t.Error("modifying a returned decision changed the stored one")
			}
		})
	}
}

func TestStoreTimesComeBackInUTC(t *testing.T) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := k.open(t)
			// time.Now carries a monotonic reading; the zone is not UTC; nanoseconds are set.
			at := time.Now().In(time.FixedZone("IST", 5*3600+1800)).Add(7)
			d := fullDecision("d-tz", at)
			d.Attempts[1].Start = at.In(time.FixedZone("PST", -8*3600))
			if err := s.Write(ctx, []*clearbar.Decision{d}); err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(ctx, "d-tz")
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name     string
				got, was time.Time
			}{{"Time", got.Time, d.Time}, {"Attempts[0].Start", got.Attempts[0].Start, d.Attempts[0].Start},
				{"Attempts[1].Start", got.Attempts[1].Start, d.Attempts[1].Start}} {
				if c.got != c.was.UTC() || c.got.Location() != time.UTC || c.got.Nanosecond() != c.was.Nanosecond() {
					t.Errorf("%s = %v, want %v (the same instant in UTC, to the nanosecond)", c.name, c.got, c.was.UTC())
				}
			}
		})
	}
}

func TestStoreGetUnknown(t *testing.T) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			s := k.open(t)
			if err := s.Write(t.Context(), []*clearbar.Decision{fullDecision("known", testTime)}); err != nil {
				t.Fatal(err)
			}
			_, err := s.Get(t.Context(), "unknown")
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get(unknown) error = %v, want ErrNotFound", err)
			}
			if !strings.Contains(err.Error(), `"unknown"`) {
				t.Errorf("error %q does not name the id", err)
			}
		})
	}
}

func TestStoreList(t *testing.T) {
	t0 := testTime
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	data := []*clearbar.Decision{
		smallDecision("a", at(0), "refunds", "small", clearbar.OK),
		smallDecision("b", at(1), "refunds", "strong", clearbar.OK),
		smallDecision("c", at(2), "chat", "small", clearbar.RateLimited),
		smallDecision("d", at(3), "chat", "small", clearbar.OK),
		smallDecision("e", at(3), "chat", "mid", clearbar.Timeout), // same time as d
		smallDecision("f", at(5), "legal", "strong", clearbar.Quality),
	}
	tests := []struct {
		explanation string
		f           Filter
		want        []string
	}{
		{"the zero filter lists everything, newest first, ties by id descending", Filter{}, []string{"f", "e", "d", "c", "b", "a"}},
		{"Since is inclusive", Filter{Since: at(3)}, []string{"f", "e", "d"}},
		{"Until is exclusive", Filter{Until: at(3)}, []string{"c", "b", "a"}},
		{"Since and Until together", Filter{Since: at(1), Until: at(5)}, []string{"e", "d", "c", "b"}},
		{"an empty window matches nothing", Filter{Since: at(4), Until: at(4)}, nil},
		{"category", Filter{Category: "chat"}, []string{"e", "d", "c"}},
		{"model is the model that served the answer", Filter{Model: "small"}, []string{"d", "c", "a"}},
		{"outcome by class name", Filter{Outcome: "rate_limited"}, []string{"c"}},
		{"outcome ok", Filter{Outcome: "ok"}, []string{"d", "b", "a"}},
		{"every condition must hold", Filter{Category: "chat", Model: "small", Outcome: "ok"}, []string{"d"}},
		{"conditions with a window", Filter{Category: "refunds", Since: at(1)}, []string{"b"}},
		{"an unknown category matches nothing", Filter{Category: "nope"}, nil},
		{"limit keeps the newest", Filter{Limit: 2}, []string{"f", "e"}},
		{"limit with a condition", Filter{Model: "small", Limit: 1}, []string{"d"}},
		{"a limit above the maximum is the maximum", Filter{Limit: MaxLimit + 1}, []string{"f", "e", "d", "c", "b", "a"}},
	}
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			s := k.open(t)
			// Written in two batches, out of time order.
			if err := s.Write(t.Context(), []*clearbar.Decision{data[3], data[0], data[5]}); err != nil {
				t.Fatal(err)
			}
			if err := s.Write(t.Context(), []*clearbar.Decision{data[2], data[4], data[1]}); err != nil {
				t.Fatal(err)
			}
			for _, tt := range tests {
				got, err := s.List(t.Context(), tt.f)
				if err != nil {
					t.Errorf("%s: %v", tt.explanation, err)
					continue
				}
				if g := ids(got); !slices.Equal(g, tt.want) {
					t.Errorf("%s: List(%+v) = %v, want %v", tt.explanation, tt.f, g, tt.want)
				}
			}
		})
	}
}

func TestStoreListDefaultLimitAndBadFilters(t *testing.T) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			s := k.open(t)
			var ds []*clearbar.Decision
			for i := range DefaultLimit + 50 {
				ds = append(ds, smallDecision(fmt.Sprintf("d-%03d", i), testTime.Add(time.Duration(i)), "c", "m", clearbar.OK))
			}
			if err := s.Write(t.Context(), ds); err != nil {
				t.Fatal(err)
			}
			got, err := s.List(t.Context(), Filter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != DefaultLimit || got[0].ID != "d-149" {
				t.Errorf("List(zero filter) returned %d decisions starting at %s, want the newest %d", len(got), got[0].ID, DefaultLimit)
			}
			for _, f := range []Filter{{Limit: -1}, {Outcome: "great"}} {
				if _, err := s.List(t.Context(), f); err == nil {
					t.Errorf("List(%+v) succeeded, want an error", f)
				}
			}
		})
	}
}

func TestStoreWriteReplacesSameID(t *testing.T) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := k.open(t)
			first := fullDecision("d-1", testTime)
			second := fullDecision("d-1", testTime.Add(time.Hour))
			second.Category = "chat"
			second.Attempts = second.Attempts[:1]
			if err := s.Write(ctx, []*clearbar.Decision{first}); err != nil {
				t.Fatal(err)
			}
			// The same id twice in one batch, then again in another: the last write wins.
			if err := s.Write(ctx, []*clearbar.Decision{first, second}); err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(ctx, "d-1")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, second) {
				t.Errorf("after rewriting, Get = %s, want the last write", jsonOf(t, got))
			}
			list, err := s.List(ctx, Filter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 {
				t.Errorf("List returned %d decisions for one id", len(list))
			}
			if sq, ok := s.(*SQLite); ok {
				var n int
				if err := sq.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM attempts WHERE decision_id = 'd-1'`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 1 {
					t.Errorf("attempts rows for the replaced decision = %d, want 1", n)
				}
			}
		})
	}
}

func TestStoreWriteRejectsBadBatchWhole(t *testing.T) {
	noID := fullDecision("", testTime)
	badClass := fullDecision("d-bad", testTime)
	badClass.Attempts[1].Class = clearbar.FailureClass(200)
	badOutcome := fullDecision("d-bad", testTime)
	badOutcome.Outcome = clearbar.FailureClass(201)
	tests := []struct {
		explanation string
		bad         *clearbar.Decision
	}{
		{"a nil decision", nil},
		{"a decision without an id", noID},
		{"an attempt class without a name (would not decode)", badClass},
		{"an outcome without a name", badOutcome},
	}
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			s := k.open(t)
			for _, tt := range tests {
				err := s.Write(t.Context(), []*clearbar.Decision{fullDecision("d-good", testTime), tt.bad})
				if err == nil {
					t.Errorf("%s: Write succeeded", tt.explanation)
				}
				if _, err := s.Get(t.Context(), "d-good"); !errors.Is(err, ErrNotFound) {
					t.Errorf("%s: the good decision of a refused batch was stored (Get error %v)", tt.explanation, err)
				}
			}
		})
	}
}

func TestStoreWriteEmptyBatch(t *testing.T) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			if err := k.open(t).Write(t.Context(), nil); err != nil {
				t.Errorf("Write(nil) = %v", err)
			}
		})
	}
}

func TestStoreClosed(t *testing.T) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			s := k.open(t)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Errorf("second Close = %v", err)
			}
			ctx := t.Context()
			if err := s.Write(ctx, []*clearbar.Decision{fullDecision("d", testTime)}); !errors.Is(err, ErrClosed) {
				t.Errorf("Write after Close = %v, want ErrClosed", err)
			}
			if _, err := s.Get(ctx, "d"); !errors.Is(err, ErrClosed) {
				t.Errorf("Get after Close = %v, want ErrClosed", err)
			}
			if _, err := s.List(ctx, Filter{}); !errors.Is(err, ErrClosed) {
				t.Errorf("List after Close = %v, want ErrClosed", err)
			}
		})
	}
}

func TestStoreWriteCanceled(t *testing.T) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			s := k.open(t)
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if err := s.Write(ctx, []*clearbar.Decision{fullDecision("d", testTime)}); err == nil {
				t.Error("Write with a canceled context succeeded")
			}
			if _, err := s.Get(t.Context(), "d"); !errors.Is(err, ErrNotFound) {
				t.Errorf("a canceled Write stored its decision (Get error %v)", err)
			}
		})
	}
}

func TestMemoryCapacityEvictsOldestWritten(t *testing.T) {
	m := NewMemory(3)
	ctx := t.Context()
	for _, id := range []string{"a", "b", "c"} {
		if err := m.Write(ctx, []*clearbar.Decision{smallDecision(id, testTime, "c", "m", clearbar.OK)}); err != nil {
			t.Fatal(err)
		}
	}
	// Rewriting "a" keeps its place; "d" and "e" push out "a" and "b".
	if err := m.Write(ctx, []*clearbar.Decision{
		smallDecision("a", testTime, "c", "m", clearbar.OK),
		smallDecision("d", testTime, "c", "m", clearbar.OK),
		smallDecision("e", testTime, "c", "m", clearbar.OK),
	}); err != nil {
		t.Fatal(err)
	}
	if m.Len() != 3 {
		t.Errorf("Len = %d, want 3", m.Len())
	}
	got, err := m.List(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if g := ids(got); !slices.Equal(g, []string{"e", "d", "c"}) {
		t.Errorf("after eviction List = %v, want [e d c]", g)
	}
}

// TestStoreConcurrentUse writes and reads from several goroutines at once; run with -race.
func TestStoreConcurrentUse(t *testing.T) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			s := k.open(t)
			ctx := t.Context()
			const writers, batches, batchSize = 4, 10, 20
			errc := make(chan error, writers*2)
			for w := range writers {
				go func() {
					for b := range batches {
						ds := make([]*clearbar.Decision, batchSize)
						for i := range ds {
							ds[i] = fullDecision(fmt.Sprintf("w%d-b%d-%d", w, b, i), testTime.Add(time.Duration(i)))
						}
						if err := s.Write(ctx, ds); err != nil {
							errc <- err
							return
						}
					}
					errc <- nil
				}()
				go func() {
					for range batches {
						if _, err := s.List(ctx, Filter{Category: "refunds", Limit: 50}); err != nil {
							errc <- err
							return
						}
					}
					errc <- nil
				}()
			}
			for range writers * 2 {
				if err := <-errc; err != nil {
					t.Error(err)
				}
			}
			got, err := s.List(ctx, Filter{Limit: MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != writers*batches*batchSize {
				t.Errorf("stored %d decisions, want %d", len(got), writers*batches*batchSize)
			}
		})
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStoreListFlagged(t *testing.T) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			s := k.open(t)
			plain := smallDecision("plain", testTime, "c", "m", clearbar.OK)
			flagged := smallDecision("flagged", testTime.Add(time.Second), "c", "m", clearbar.OK)
			flagged.Flagged, flagged.FlagReason = true, "every step failed validation"
			if err := s.Write(t.Context(), []*clearbar.Decision{plain, flagged}); err != nil {
				t.Fatal(err)
			}
			got, err := s.List(t.Context(), Filter{Flagged: true})
			if err != nil || len(got) != 1 || got[0].ID != "flagged" || got[0].FlagReason != "every step failed validation" {
				t.Fatalf("List(Flagged) = %v, %v", ids(got), err)
			}
			all, _ := s.List(t.Context(), Filter{})
			if len(all) != 2 {
				t.Errorf("List() = %v", ids(all))
			}
		})
	}
}
