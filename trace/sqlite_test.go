package trace

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
)

func TestSQLiteReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.db")
	s, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	want := fullDecision("d-1", testTime)
	if err := s.Write(t.Context(), []*clearbar.Decision{want}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = OpenSQLite(path)
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	defer s.Close()
	got, err := s.Get(t.Context(), "d-1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after reopening, Get = %s", jsonOf(t, got))
	}
	var version, rows int
	if err := s.DB().QueryRow(`SELECT version, (SELECT COUNT(*) FROM schema_version) FROM schema_version`).Scan(&version, &rows); err != nil {
		t.Fatal(err)
	}
	if version != schemaVersion || rows != 1 {
		t.Errorf("schema_version holds version %d in %d rows, want %d in 1", version, rows, schemaVersion)
	}
}

func TestSQLiteRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.db")
	s, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec(`UPDATE schema_version SET version = 99`); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	_, err = OpenSQLite(path)
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("OpenSQLite of a version-99 file: error %v, want ErrSchemaTooNew", err)
	}
	for _, part := range []string{path, "99", fmt.Sprint("up to ", schemaVersion)} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not mention %q", err, part)
		}
	}
	// The file is left as it was.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRow(`SELECT version FROM schema_version`).Scan(&v); err != nil || v != 99 {
		t.Errorf("schema_version after the refused open = %d (%v), want 99", v, err)
	}
}

func TestOpenSQLiteRefusesMemory(t *testing.T) {
	for _, path := range []string{":memory:", "file::memory:?cache=shared", ""} {
		s, err := OpenSQLite(path)
		if err == nil {
			s.Close()
			t.Errorf("OpenSQLite(%q) succeeded", path)
		}
	}
	_, err := OpenSQLite(":memory:")
	if !strings.Contains(err.Error(), "own") {
		t.Errorf("error %q does not say why in-memory databases are refused", err)
	}
}

func TestOpenSQLitePathIsNotADSN(t *testing.T) {
	// '?', '#', '%' and spaces are file name characters, not DSN syntax.
	path := filepath.Join(t.TempDir(), "odd dir?x=1#frag%41", "trace.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Write(t.Context(), []*clearbar.Decision{fullDecision("d", testTime)}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database is not at the given path: %v", err)
	}
}

func TestSQLiteSettings(t *testing.T) {
	s := openSQLite(t)
	for pragma, want := range map[string]string{
		"journal_mode": "wal",
		"busy_timeout": "5000",
		"foreign_keys": "1",
		"synchronous":  "1", // NORMAL
	} {
		var got string
		if err := s.DB().QueryRow("PRAGMA " + pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
}

func TestSQLiteColumns(t *testing.T) {
	s := openSQLite(t)
	d := fullDecision("d-1", testTime)
	if err := s.Write(t.Context(), []*clearbar.Decision{d}); err != nil {
		t.Fatal(err)
	}
	var (
		timeNs, costNano, latencyNs                int64
		category, model, provider, outcome, client string
		promptHash, templateHash                   string
		status, tokensIn, tokensOut, stream        int
		bodyModel                                  string
	)
	err := s.DB().QueryRow(`SELECT time_ns, category, model, provider, outcome, status, cost_nano, latency_ns,
		tokens_in, tokens_out, stream, client, prompt_hash, template_hash, json_extract(body, '$.model')
		FROM decisions WHERE id = 'd-1'`).Scan(&timeNs, &category, &model, &provider, &outcome, &status,
		&costNano, &latencyNs, &tokensIn, &tokensOut, &stream, &client, &promptHash, &templateHash, &bodyModel)
	if err != nil {
		t.Fatal(err)
	}
	got := []any{timeNs, category, model, provider, outcome, status, costNano, latencyNs, tokensIn, tokensOut,
		stream, client, promptHash, templateHash, bodyModel}
	want := []any{testTime.UnixNano(), "refunds", "strong", "anthropic", "quality", 200, int64(5_822_550),
		int64(1780*time.Millisecond + 123), 1642, 305, 1, "support-bot", d.PromptHash, d.TemplateHash, "strong"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decision columns = %v\nwant %v", got, want)
	}

	rows, err := s.DB().Query(`SELECT seq, n, kind, model, class, status, outcome, latency_ns, ttft_ns, cost_nano,
		tokens_in, tokens_out FROM attempts WHERE decision_id = 'd-1' ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var attempts [][]any
	for rows.Next() {
		var (
			seq, n, status, in, out int
			kind, model, class, oc  string
			lat, ttft, cost         int64
		)
		if err := rows.Scan(&seq, &n, &kind, &model, &class, &status, &oc, &lat, &ttft, &cost, &in, &out); err != nil {
			t.Fatal(err)
		}
		attempts = append(attempts, []any{seq, n, kind, model, class, status, oc, lat, ttft, cost, in, out})
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	wantAttempts := [][]any{
		{0, 1, "primary", "small", "quality", 200, "escalated", int64(412 * time.Millisecond), int64(120 * time.Millisecond), int64(182_550), 812, 95},
		{1, 2, "escalation", "strong", "rate_limited", 429, "accepted", int64(1312 * time.Millisecond), int64(640 * time.Millisecond), int64(5_640_000), 830, 210},
	}
	if !reflect.DeepEqual(attempts, wantAttempts) {
		t.Errorf("attempt rows = %v\nwant %v", attempts, wantAttempts)
	}
}

// TestSQLiteBatchIsOneTransaction makes SQLite itself refuse the second decision of a batch
// and checks that the first was rolled back with it.
func TestSQLiteBatchIsOneTransaction(t *testing.T) {
	s := openSQLite(t)
	if _, err := s.DB().Exec(`CREATE TRIGGER refuse BEFORE INSERT ON decisions WHEN NEW.id = 'd-bad'
		BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END`); err != nil {
		t.Fatal(err)
	}
	batch := []*clearbar.Decision{fullDecision("d-1", testTime), fullDecision("d-bad", testTime), fullDecision("d-3", testTime)}
	err := s.Write(t.Context(), batch)
	if err == nil || !strings.Contains(err.Error(), "refused by test trigger") {
		t.Fatalf("Write error = %v, want the trigger's", err)
	}
	var decisions, attempts int
	if err := s.DB().QueryRow(`SELECT (SELECT COUNT(*) FROM decisions), (SELECT COUNT(*) FROM attempts)`).Scan(&decisions, &attempts); err != nil {
		t.Fatal(err)
	}
	if decisions != 0 || attempts != 0 {
		t.Errorf("after a failed batch the database holds %d decisions and %d attempts, want none", decisions, attempts)
	}
	// The store is still usable.
	if err := s.Write(t.Context(), []*clearbar.Decision{fullDecision("d-1", testTime)}); err != nil {
		t.Errorf("Write after a failed batch: %v", err)
	}
}
