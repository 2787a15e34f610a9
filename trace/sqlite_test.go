package trace

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
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
		// A new file gets large pages, and big WAL files between checkpoints.
		"page_size":          "32768",
		"wal_autocheckpoint": "2000",
		"temp_store":         "2", // MEMORY
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
	// The store is still usable, and a batch failing in its second INSERT statement is rolled
	// back whole too.
	if err := s.Write(t.Context(), []*clearbar.Decision{fullDecision("d-1", testTime)}); err != nil {
		t.Errorf("Write after a failed batch: %v", err)
	}
	var long []*clearbar.Decision
	for i := range rowsPerInsert + 1 {
		long = append(long, smallDecision(fmt.Sprint("long-", i), testTime, "c", "m", clearbar.OK))
	}
	long[rowsPerInsert].ID = "d-bad"
	if err := s.Write(t.Context(), long); err == nil || !strings.Contains(err.Error(), "refused by test trigger") {
		t.Fatalf("Write error = %v, want the trigger's", err)
	}
	if err := s.DB().QueryRow(`SELECT COUNT(*) FROM decisions`).Scan(&decisions); err != nil || decisions != 1 {
		t.Errorf("after a failed batch of %d, the database holds %d decisions (%v), want 1", len(long), decisions, err)
	}
}

// TestSQLiteMigratesVersion1 writes a file as a version 1 build did, opens it, and checks
// that it is migrated: the same decisions, the attempts view giving the rows the version 1
// table held, the dropped indexes gone, and writes and lists working on its 4 KiB pages.
func TestSQLiteMigratesVersion1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.db")
	old, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	stored := []*clearbar.Decision{fullDecision("d-1", testTime), smallDecision("d-2", testTime.Add(time.Second), "chat", "small", clearbar.OK)}
	stored[1].Attempts = append(stored[1].Attempts, clearbar.Attempt{N: 2, Kind: clearbar.AttemptFallback, Model: "mid",
		Class: clearbar.Timeout, Status: 504, Latency: time.Second, Cost: 12_345, Usage: clearbar.Usage{PromptTokens: 9}})
	var want [][]any
	func() {
		tx, err := old.Begin()
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		for _, q := range []string{migrations[0], `CREATE TABLE schema_version (version INTEGER NOT NULL)`,
			`INSERT INTO schema_version VALUES (1)`} {
			if _, err := tx.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		// What a version 1 Write stored.
		for _, d := range stored {
			body, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(`INSERT INTO decisions (id, time_ns, category, model, provider, outcome, status,
				cost_nano, latency_ns, tokens_in, tokens_out, stream, client, prompt_hash, template_hash, body)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				d.ID, unixNanos(d.Time), d.Category, d.Model, d.Provider, d.Outcome.String(), d.Status,
				int64(d.Cost), int64(d.Latency), d.Usage.PromptTokens, d.Usage.CompletionTokens, boolInt(d.Stream),
				d.Client, d.PromptHash, d.TemplateHash, string(body)); err != nil {
				t.Fatal(err)
			}
			for j, a := range d.Attempts {
				row := []any{d.ID, j, a.N, a.Kind, a.Step, a.Model, a.Provider, a.Class.String(), a.Status, a.Outcome,
					int64(a.Latency), int64(a.TTFT), int64(a.Cost), a.Usage.PromptTokens, a.Usage.CompletionTokens}
				if _, err := tx.Exec(`INSERT INTO attempts (decision_id, seq, n, kind, step, model, provider, class,
					status, outcome, latency_ns, ttft_ns, cost_nano, tokens_in, tokens_out)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, row...); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}()
	want = attemptRows(t, old)
	if len(want) != 4 {
		t.Fatalf("the version 1 file holds %d attempt rows, want 4", len(want))
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var version int
	if err := s.DB().QueryRow(`SELECT version FROM schema_version`).Scan(&version); err != nil || version != schemaVersion {
		t.Fatalf("schema version after opening = %d (%v), want %d", version, err, schemaVersion)
	}
	for _, d := range stored {
		got, err := s.Get(t.Context(), d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, d) {
			t.Errorf("Get(%s) after migrating = %s, want %s", d.ID, jsonOf(t, got), jsonOf(t, d))
		}
	}
	if got := attemptRows(t, s.DB()); !reflect.DeepEqual(got, want) {
		t.Errorf("the attempts view gives\n%v\nthe version 1 table held\n%v", got, want)
	}
	var objects []string
	rows, err := s.DB().Query(`SELECT type || ' ' || name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			t.Fatal(err)
		}
		objects = append(objects, o)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"index decisions_time", "table decisions", "table schema_version", "view attempts"}; !slices.Equal(objects, want) {
		t.Errorf("schema objects after migrating = %v, want %v", objects, want)
	}

	// The file keeps its page size, and works.
	var pageSize int
	if err := s.DB().QueryRow(`PRAGMA page_size`).Scan(&pageSize); err != nil || pageSize != 4096 {
		t.Errorf("page size of the migrated file = %d (%v), want 4096", pageSize, err)
	}
	if err := s.Write(t.Context(), []*clearbar.Decision{fullDecision("d-3", testTime.Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(t.Context(), Filter{Category: "refunds"})
	if err != nil {
		t.Fatal(err)
	}
	if g := ids(list); !slices.Equal(g, []string{"d-3", "d-1"}) {
		t.Errorf("List(category refunds) after migrating = %v, want [d-3 d-1]", g)
	}
}

// attemptRows returns the attempts rows (the table in version 1, the view since), in order.
func attemptRows(t *testing.T, db *sql.DB) [][]any {
	t.Helper()
	rows, err := db.Query(`SELECT decision_id, seq, n, kind, step, model, provider, class, status, outcome,
		latency_ns, ttft_ns, cost_nano, tokens_in, tokens_out FROM attempts ORDER BY decision_id, seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		var (
			id, kind, model, provider, class, outcome string
			seq, n, step, status, tokensIn, tokensOut int
			latencyNs, ttftNs, costNano               int64
		)
		if err := rows.Scan(&id, &seq, &n, &kind, &step, &model, &provider, &class, &status, &outcome,
			&latencyNs, &ttftNs, &costNano, &tokensIn, &tokensOut); err != nil {
			t.Fatal(err)
		}
		out = append(out, []any{id, seq, n, kind, step, model, provider, class, status, outcome,
			latencyNs, ttftNs, costNano, tokensIn, tokensOut})
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSQLiteLargeBatch writes batches that take several INSERT statements, with an ID
// repeated within a statement and across statements: the last write of an ID wins.
func TestSQLiteLargeBatch(t *testing.T) {
	s := openSQLite(t)
	ctx := t.Context()
	for _, n := range []int{1, rowsPerInsert - 1, rowsPerInsert, rowsPerInsert + 1, 2 * rowsPerInsert, 3*rowsPerInsert + 7} {
		batch := make([]*clearbar.Decision, n)
		for i := range batch {
			batch[i] = smallDecision(fmt.Sprintf("n%d-%04d", n, i), testTime.Add(time.Duration(i)), "c", "m", clearbar.OK)
		}
		want := map[string]string{}
		if n > 2 {
			// The last decision repeats the first's ID; so does the second-last, with the
			// first's.
			batch[n-1].ID, batch[n-1].Category = batch[0].ID, "last"
			batch[n-2].ID, batch[n-2].Category = batch[1].ID, "second-last"
			want[batch[0].ID], want[batch[1].ID] = "last", "second-last"
		}
		if err := s.Write(ctx, batch); err != nil {
			t.Fatalf("batch of %d: %v", n, err)
		}
		var stored int
		if err := s.DB().QueryRow(`SELECT COUNT(*) FROM decisions WHERE id LIKE ?`, fmt.Sprintf("n%d-%%", n)).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if wantStored := n - len(want); stored != wantStored {
			t.Errorf("batch of %d: %d decisions stored, want %d", n, stored, wantStored)
		}
		for id, category := range want {
			d, err := s.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if d.Category != category {
				t.Errorf("batch of %d: %s has category %q, want the last write's %q", n, id, d.Category, category)
			}
		}
		for _, d := range batch {
			if _, replaced := want[d.ID]; replaced {
				continue
			}
			got, err := s.Get(ctx, d.ID)
			if err != nil {
				t.Fatalf("batch of %d: %v", n, err)
			}
			if !reflect.DeepEqual(got, d) {
				t.Errorf("batch of %d: Get(%s) = %s, want %s", n, d.ID, jsonOf(t, got), jsonOf(t, d))
			}
		}
	}
	var bodies, text int
	if err := s.DB().QueryRow(`SELECT COUNT(*), COUNT(*) FILTER (WHERE typeof(body) = 'text' AND json_valid(body))
		FROM decisions`).Scan(&bodies, &text); err != nil {
		t.Fatal(err)
	}
	if text != bodies {
		t.Errorf("%d of %d bodies are stored as valid JSON text", text, bodies)
	}
}

// TestSQLiteListUsesTimeIndex checks the query plan of every combination of conditions: List
// walks decisions_time, and never sorts the table.
func TestSQLiteListUsesTimeIndex(t *testing.T) {
	s := openSQLite(t)
	for mask := range 1 << 5 {
		var f Filter
		if mask&1 != 0 {
			f.Since = testTime
		}
		if mask&2 != 0 {
			f.Until = testTime.Add(time.Hour)
		}
		if mask&4 != 0 {
			f.Category = "c"
		}
		if mask&8 != 0 {
			f.Model = "m"
		}
		if mask&16 != 0 {
			f.Outcome = "ok"
		}
		f, err := f.normalize()
		if err != nil {
			t.Fatal(err)
		}
		q, args := listQuery(f)
		rows, err := s.DB().Query("EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notUsed int
			var detail string
			if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		if !strings.Contains(p, "USING INDEX decisions_time") || strings.Contains(p, "TEMP B-TREE FOR ORDER BY") {
			t.Errorf("List(%+v) plan: %s", f, p)
		}
	}
}
