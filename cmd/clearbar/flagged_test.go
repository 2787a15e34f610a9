package main

import (
	"path/filepath"
	"strings"
	"testing"

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
