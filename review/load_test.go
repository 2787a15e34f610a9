package review

import (
	"context"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/trace"
)

// TestReadPages reads a window larger than one page, with many decisions at the same instant
// across a page boundary: each decision comes exactly once, and only those in the window.
func TestReadPages(t *testing.T) {
	store := trace.NewMemory(0)
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var ds []*clearbar.Decision
	n := trace.MaxLimit*2 + 500
	for i := range n {
		// Groups of 3,000 decisions share a timestamp, so pages end inside a group.
		ds = append(ds, &clearbar.Decision{ID: time.Duration(i).String(), Time: start.Add(time.Duration(i/3000) * time.Second), Category: "x"})
	}
	if err := store.Write(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	// The window leaves out the first group (Since) and the last (Until).
	since, until := start.Add(time.Second), start.Add(time.Duration((n-1)/3000)*time.Second)
	err := Read(context.Background(), store, since, until, func(d *clearbar.Decision) { got[d.ID]++ })
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, d := range ds {
		in := !d.Time.Before(since) && d.Time.Before(until)
		if in {
			want++
		}
		if in && got[d.ID] != 1 || !in && got[d.ID] != 0 {
			t.Fatalf("decision %s at %s read %d times", d.ID, d.Time, got[d.ID])
		}
	}
	if len(got) != want {
		t.Errorf("read %d decisions, want %d", len(got), want)
	}
}

// TestReadRefusesUnpageable: more than a page of decisions at one instant cannot be paged by
// time; Read says so instead of looping.
func TestReadRefusesUnpageable(t *testing.T) {
	store := trace.NewMemory(0)
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var ds []*clearbar.Decision
	for i := range trace.MaxLimit + 1 {
		ds = append(ds, &clearbar.Decision{ID: time.Duration(i).String(), Time: at})
	}
	if err := store.Write(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	if err := Read(context.Background(), store, time.Time{}, time.Time{}, func(*clearbar.Decision) {}); err == nil {
		t.Error("no error")
	}
}
