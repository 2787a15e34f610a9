package trace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/clearbar/clearbar"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver (pure Go, no cgo)
)

// BusyTimeout is how long a SQLite statement waits for another connection's (or process's)
// lock before failing with SQLITE_BUSY.
const BusyTimeout = 5 * time.Second

// maxConns caps the connection pool: SQLite runs one writer at a time, and each connection
// keeps its own page cache, so more connections only help concurrent readers.
const maxConns = 4

var expPragmas = strings.Fields(os.Getenv("EXP_PRAGMAS"))

// SQLite is a Store in a SQLite database file, through modernc.org/sqlite (pure Go, no cgo).
//
// The database runs in WAL mode, so readers (Get, List) never wait for the writer and the
// writer never waits for readers; synchronous=NORMAL, so a committed batch survives a crash
// of the process but the last batches before a power loss may not. Write transactions start
// with BEGIN IMMEDIATE and writes from this process are serialised before they reach SQLite;
// another process writing the same file makes a write wait up to BusyTimeout.
//
// SQLite is safe for concurrent use. Create it with OpenSQLite and Close it when done.
type SQLite struct {
	db     *sql.DB
	path   string
	wsem   chan struct{} // one token: serialises this process's write transactions
	bufs   writeBuffers  // Write's buffers, used by whoever holds wsem
	closed atomic.Bool
}

// OpenSQLite opens the SQLite database file at path, creating the file and its directory
// entry if needed (not missing parent directories), and creates or migrates its schema. The
// schema's version is kept in a schema_version table; a file written by a newer Clearbar
// fails with an error wrapping ErrSchemaTooNew and is left untouched.
//
// path is a file system path, never a DSN. ":memory:" is refused: database/sql keeps a pool
// of connections and each in-memory connection would get a database of its own, so a batch
// written on one connection would be missing on the next. Tests use a file in t.TempDir().
func OpenSQLite(path string) (*SQLite, error) {
	switch {
	case path == "":
		return nil, errors.New("trace: sqlite: empty path")
	case path == ":memory:" || strings.HasPrefix(path, "file::memory:"):
		return nil, errors.New("trace: sqlite: in-memory databases are not supported " +
			"(each pooled connection would get its own empty database); use a file, or trace.Memory")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("trace: sqlite %s: %w", path, err)
	}
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(BusyTimeout.Milliseconds()))
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	q.Set("_foreign_keys", "1")
	q.Set("_txlock", "immediate")
	for _, p := range expPragmas {
		q.Add("_pragma", p)
	}
	// A file: URI, so that '?', '#' and '%' in the path are escaped rather than taken for the
	// start of the parameters.
	dsn := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}).String()

	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("trace: sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(0)
	if err := migrate(context.Background(), db, path); err != nil {
		_ = db.Close()
		if errors.Is(err, ErrSchemaTooNew) {
			return nil, err
		}
		return nil, fmt.Errorf("trace: sqlite %s: %w", path, err)
	}
	return &SQLite{db: db, path: path, wsem: make(chan struct{}, 1)}, nil
}

// DB returns the underlying database, for read-only analysis queries. Writing through it
// bypasses the store's guarantees.
func (s *SQLite) DB() *sql.DB { return s.db }

// rowsPerInsert is the most decisions one INSERT statement carries: one statement per row
// costs more in the driver than SQLite spends storing the row. 64 rows bind 1,024
// parameters, far below SQLite's limit of 32,766.
const rowsPerInsert = 64

// decisionColumns are the columns of the decisions table, in the order Write binds them.
const decisionColumns = `id, time_ns, category, model, provider, outcome, status, cost_nano, latency_ns,
	tokens_in, tokens_out, stream, client, prompt_hash, template_hash, body`

// numDecisionColumns is the number of columns in decisionColumns.
const numDecisionColumns = 16

// insertSQL returns an INSERT OR REPLACE of n decisions.
func insertSQL(n int) string {
	const row = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
	var b strings.Builder
	b.Grow(len("INSERT OR REPLACE INTO decisions () VALUES ") + len(decisionColumns) + n*(len(row)+1))
	b.WriteString("INSERT OR REPLACE INTO decisions (" + decisionColumns + ") VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	return b.String()
}

// insertFullSQL inserts rowsPerInsert decisions.
var insertFullSQL = insertSQL(rowsPerInsert)

// writeBuffers are the buffers Write reuses from one batch to the next. They belong to
// whoever holds SQLite.wsem.
type writeBuffers struct {
	json []byte // the batch's bodies, one after the other
	ends []int  // ends[i] is where body i ends in json
	args []any  // one statement's arguments
}

// Write implements Store. It encodes the batch into one reused buffer and stores it in one
// transaction, up to rowsPerInsert decisions per INSERT OR REPLACE: a decision whose ID is
// already stored, or appears twice in the batch, replaces the stored one.
func (s *SQLite) Write(ctx context.Context, ds []*clearbar.Decision) (err error) {
	if s.closed.Load() {
		return fmt.Errorf("trace: sqlite %s: %w", s.path, ErrClosed)
	}
	if len(ds) == 0 {
		return nil
	}
	for _, d := range ds {
		if err := validate(d); err != nil {
			return err
		}
	}

	select {
	case s.wsem <- struct{}{}:
		defer func() { <-s.wsem }()
	case <-ctx.Done():
		return ctx.Err()
	}
	if s.closed.Load() {
		return fmt.Errorf("trace: sqlite %s: %w", s.path, ErrClosed)
	}
	w := &s.bufs
	w.json, w.ends = w.json[:0], w.ends[:0]
	for _, d := range ds {
		if w.json, err = appendDecision(w.json, d); err != nil {
			return err
		}
		w.ends = append(w.ends, len(w.json))
	}
	// Bodies are bound as TEXT, not BLOB, so that SQLite's JSON functions read them as JSON.
	// One string for the whole batch, sliced per decision, costs one copy and one allocation.
	bodies := string(w.json)
	defer func() {
		clear(w.args) // keep no decision alive until the next batch
		if cap(w.json) > maxKeptBuffer {
			w.json = nil
		}
	}()

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("trace: sqlite %s: begin: %w", s.path, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var full *sql.Stmt // prepared when the batch fills more than one statement
	if len(ds) >= 2*rowsPerInsert {
		if full, err = tx.PrepareContext(ctx, insertFullSQL); err != nil {
			return fmt.Errorf("trace: sqlite %s: prepare: %w", s.path, err)
		}
		defer full.Close()
	}
	for lo := 0; lo < len(ds); lo += rowsPerInsert {
		hi := min(lo+rowsPerInsert, len(ds))
		args := w.args[:0]
		start := 0
		if lo > 0 {
			start = w.ends[lo-1]
		}
		for i, d := range ds[lo:hi] {
			end := w.ends[lo+i]
			args = append(args, d.ID, unixNanos(d.Time), d.Category, d.Model, d.Provider, d.Outcome.String(),
				int64(d.Status), int64(d.Cost), int64(d.Latency), int64(d.Usage.PromptTokens),
				int64(d.Usage.CompletionTokens), boolInt(d.Stream), d.Client, d.PromptHash, d.TemplateHash,
				bodies[start:end])
			start = end
		}
		w.args = args
		switch {
		case hi-lo == rowsPerInsert && full != nil:
			_, err = full.ExecContext(ctx, args...)
		case hi-lo == rowsPerInsert:
			_, err = tx.ExecContext(ctx, insertFullSQL, args...)
		default:
			_, err = tx.ExecContext(ctx, insertSQL(hi-lo), args...)
		}
		if err != nil {
			return fmt.Errorf("trace: sqlite %s: insert decisions %s to %s: %w", s.path, ds[lo].ID, ds[hi-1].ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("trace: sqlite %s: commit: %w", s.path, err)
	}
	return nil
}

// maxKeptBuffer is the largest encoding buffer Write keeps for the next batch.
const maxKeptBuffer = 4 << 20

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// Get implements Store.
func (s *SQLite) Get(ctx context.Context, id string) (*clearbar.Decision, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("trace: sqlite %s: %w", s.path, ErrClosed)
	}
	var body []byte
	err := s.db.QueryRowContext(ctx, `SELECT body FROM decisions WHERE id = ?`, id).Scan(&body)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
	case err != nil:
		return nil, fmt.Errorf("trace: sqlite %s: get %q: %w", s.path, id, err)
	}
	return decode(body)
}

// List implements Store. Each condition uses an index: time alone, or category, model or
// outcome with time.
func (s *SQLite) List(ctx context.Context, f Filter) ([]*clearbar.Decision, error) {
	f, err := f.normalize()
	if err != nil {
		return nil, err
	}
	if s.closed.Load() {
		return nil, fmt.Errorf("trace: sqlite %s: %w", s.path, ErrClosed)
	}
	var (
		where []string
		args  []any
	)
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if !f.Since.IsZero() {
		add("time_ns >= ?", unixNanos(f.Since))
	}
	if !f.Until.IsZero() {
		add("time_ns < ?", unixNanos(f.Until))
	}
	if f.Category != "" {
		add("category = ?", f.Category)
	}
	if f.Model != "" {
		add("model = ?", f.Model)
	}
	if f.Outcome != "" {
		add("outcome = ?", f.Outcome)
	}
	q := "SELECT body FROM decisions"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY time_ns DESC, id DESC LIMIT ?"
	args = append(args, f.Limit)

	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("trace: sqlite %s: list: %w", s.path, err)
	}
	defer rows.Close()
	var out []*clearbar.Decision
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("trace: sqlite %s: list: %w", s.path, err)
		}
		d, err := decode(body)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("trace: sqlite %s: list: %w", s.path, err)
	}
	return out, nil
}

// Close implements Store. It waits for a Write in progress to finish, then closes the
// database (checkpointing the WAL into the main file). Closing twice is harmless.
func (s *SQLite) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.wsem <- struct{}{} // wait for a write in progress; later ones see closed and give up
	defer func() { <-s.wsem }()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("trace: sqlite %s: close: %w", s.path, err)
	}
	return nil
}

var (
	_ Store = (*SQLite)(nil)
	_ Store = (*Memory)(nil)
)
