package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/trace"
)

// TestFlaggedUsageShowsTheDefault: the usage line of clearbar flagged -h shows the --since the
// command uses when none is given.
func TestFlaggedUsageShowsTheDefault(t *testing.T) {
	code, out, errOut := run(t, "flagged", "-h")
	if code != 0 {
		t.Fatalf("clearbar flagged -h: exit %d\n%s%s", code, out, errOut)
	}
	help := out + errOut
	if !strings.Contains(help, "[--since 7d]") || !strings.Contains(help, "(default 7d)") {
		t.Errorf("the usage line and the flag's default disagree:\n%s", help)
	}
}

// TestFlaggedSinceReadsAsReviewDoes: --since takes days, weeks, cadences and durations, as
// review and outcomes export do, and says so when it cannot read one.
func TestFlaggedSinceReadsAsReviewDoes(t *testing.T) {
	db := filepath.Join(t.TempDir(), "clearbar.db")
	store, err := trace.OpenSQLite(db)
	if err != nil {
		t.Fatal(err)
	}
	store.Close()
	for _, since := range []string{"7d", "2w", "monthly", "72h"} {
		if code, out, errOut := run(t, "flagged", "--trace", db, "--since", since); code != 0 || !strings.Contains(out, "no decision flagged") {
			t.Errorf("--since %s: exit %d\n%s%s", since, code, out, errOut)
		}
	}
	if code, _, errOut := run(t, "flagged", "--trace", db, "--since", "a week"); code != 2 || !strings.Contains(errOut, "write days (30d), weeks (6w), monthly, or a duration (72h)") {
		t.Errorf("--since 'a week': exit %d\n%s", code, errOut)
	}
}

// TestFlaggedSaysWhatTheLimitLeftOut: with more flagged decisions in the window than --limit,
// flagged lists the newest --limit of them and says how many there are, rather than passing
// the limit off as the count; --limit 0 lists them all.
func TestFlaggedSaysWhatTheLimitLeftOut(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) // run's clock
	// Every fifth decision of the last hour is not flagged; the others are, more than the
	// default --limit of them.
	var ds []*clearbar.Decision
	flagged := 0
	for i := range 330 {
		d := &clearbar.Decision{ID: fmt.Sprintf("dec_%04d", i), Time: now.Add(-time.Duration(i) * time.Second), Category: "intent", Model: "small"}
		if i%5 != 0 {
			d.Flagged, d.FlagReason = true, "every step failed validation"
			flagged++
		}
		ds = append(ds, d)
	}
	if flagged <= trace.DefaultLimit {
		t.Fatalf("the store holds %d flagged decisions, not more than the default --limit %d", flagged, trace.DefaultLimit)
	}
	// An older flagged decision, outside the window, is not counted.
	ds = append(ds, &clearbar.Decision{ID: "dec_old", Time: now.Add(-2 * time.Hour), Category: "intent", Flagged: true})
	db := filepath.Join(t.TempDir(), "clearbar.db")
	store, err := trace.OpenSQLite(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Write(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	store.Close()

	code, out, errOut := run(t, "flagged", "--trace", db, "--since", "1h")
	want := fmt.Sprintf("the newest %d of %d decisions flagged for review in the last 1h (--limit %d): raise --limit", trace.DefaultLimit, flagged, trace.DefaultLimit)
	if code != 0 || !strings.Contains(out, want) || strings.Count(out, "dec_") != trace.DefaultLimit || !strings.Contains(out, "dec_0001") {
		t.Errorf("flagged: exit %d; want the newest %d listed and %q\n%s%s", code, trace.DefaultLimit, want, out, errOut)
	}

	code, out, errOut = run(t, "flagged", "--trace", db, "--since", "1h", "--limit", "5", "--format", "json")
	var listed []*clearbar.Decision
	if err := json.Unmarshal([]byte(out), &listed); code != 0 || err != nil || len(listed) != 5 {
		t.Errorf("flagged --limit 5 --format json: exit %d, %d listed (%v)\n%s", code, len(listed), err, errOut)
	}
	if want := fmt.Sprintf("listed the newest 5 of %d decisions flagged in the last 1h (--limit 5)", flagged); !strings.Contains(errOut, want) {
		t.Errorf("flagged --format json does not say on stderr what the limit left out: %q", errOut)
	}

	code, out, errOut = run(t, "flagged", "--trace", db, "--since", "1h", "--limit", "0")
	if want := fmt.Sprintf("\n%d decision(s) flagged for review", flagged); code != 0 || !strings.Contains(out, want) || strings.Count(out, "dec_") != flagged {
		t.Errorf("flagged --limit 0: exit %d; want every one listed and %q\n%.300s%s", code, want, out, errOut)
	}
	if code, _, errOut := run(t, "flagged", "--trace", db, "--limit", "-1"); code != 2 || !strings.Contains(errOut, "--limit -1") {
		t.Errorf("flagged --limit -1: exit %d: %s", code, errOut)
	}
}
