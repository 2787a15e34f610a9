package trace

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/bits"
	"net/url"
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

// pragmas are set on every connection, before the shorthand parameters of OpenSQLite's DSN
// (journal_mode among them), so that page_size reaches a new file before its first page is
// written.
var pragmas = []string{
	// Large pages for a new file: a decision is about 3 KB, and writing a page to the WAL,
	// and copying it to the database at the next checkpoint, costs system calls whatever the
	// page's size. With 32 KiB pages a batch of 256 decisions is about 30 pages rather than
	// 300 (the default 4 KiB leaves room for one decision per page), and a write costs about
	// a third less. An existing file keeps its page size: changing it takes a VACUUM outside
	// WAL mode (PRAGMA journal_mode=DELETE; PRAGMA page_size=32768; VACUUM;), offline.
	"page_size(32768)",
	// Checkpoint every 2,000 pages (64 MiB of WAL) rather than every 1,000: pages rewritten
	// by successive batches (the last page of the table and of each index) are copied to the
	// database once per checkpoint, and each checkpoint syncs the files.
	"wal_autocheckpoint(2000)",
	// The statement journal that a multi-row INSERT keeps, so that it can be undone alone,
	// lives in memory rather than in a temporary file. So do List's sorts.
	"temp_store(memory)",
}

// maxConns caps the connection pool: SQLite runs one writer at a time, and each connection
// keeps its own page cache, so more connections only help concurrent readers. Write keeps
// one of them (see writer), which leaves three for readers.
const maxConns = 4

// SQLite is a Store in a SQLite database file, through modernc.org/sqlite (pure Go, no cgo).
//
// The database runs in WAL mode, so readers (Get, List) never wait for the writer and the
// writer never waits for readers; synchronous=NORMAL, so a committed batch survives a crash
// of the process but the last batches before a power loss may not. Write transactions start
// with BEGIN IMMEDIATE and writes from this process are serialised before they reach SQLite,
// on a connection kept for writing; another process writing the same file makes a write
// wait up to BusyTimeout.
//
// SQLite is safe for concurrent use. Create it with OpenSQLite and Close it when done.
type SQLite struct {
	db     *sql.DB
	path   string
	wsem   chan struct{} // one token: serialises this process's write transactions
	w      writer        // Write's connection and buffers, used by whoever holds wsem
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
	for _, p := range pragmas {
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
//
// The decisions table has a row per decision: the whole decision as JSON text in body, and
// copies of the fields queries select on in columns. The attempts view has a row per
// attempt, read from the bodies: select it by decision_id, or expect it to read every
// decision.
func (s *SQLite) DB() *sql.DB { return s.db }

// rowsPerInsert is the most decisions one INSERT statement carries: a statement per row
// costs more in database/sql and the driver than SQLite spends storing the row. 64 rows
// bind 1,024 parameters, far below SQLite's limit of 32,766. It is a power of two: see
// writer.inserts.
const (
	rowsPerInsertLog2 = 6
	rowsPerInsert     = 1 << rowsPerInsertLog2
)

// decisionColumns are the columns of the decisions table, in the order Write binds them.
const decisionColumns = `id, time_ns, category, model, provider, outcome, status, cost_nano, latency_ns,
	tokens_in, tokens_out, stream, client, prompt_hash, template_hash, body`

// insertSQL returns an INSERT OR REPLACE of n decisions. OR REPLACE deletes the stored row
// with the same ID, if any, before inserting, as Store requires. The body is bound as a
// BLOB, which the driver copies as it is (a string would first have to be copied out of the
// encoding buffer), and cast to TEXT, so that SQLite's JSON functions read it as JSON text
// (they read a BLOB as SQLite's binary JSONB).
func insertSQL(n int) string {
	const (
		insert = "INSERT OR REPLACE INTO decisions (" + decisionColumns + ") VALUES "
		row    = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,CAST(? AS TEXT))"
	)
	var b strings.Builder
	b.Grow(len(insert) + n*(len(row)+1))
	b.WriteString(insert)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	return b.String()
}

// writer is what Write keeps from one batch to the next. It belongs to whoever holds
// SQLite.wsem.
//
// Every Write runs on the same connection, conn, with its insert statements prepared once.
// Only this connection writes, so its page cache stays valid from one batch to the next; a
// pooled connection would find its cache invalidated by the previous writer and read the
// pages back. Write begins and commits its transaction with SQL on conn, so that the
// prepared statements serve every transaction, and after any failure discards conn
// (closing a SQLite connection rolls back what it had begun) rather than guess at its
// state.
type writer struct {
	conn *sql.Conn
	// inserts[k] inserts 1<<k decisions, prepared on conn when first needed. Preparing a
	// statement costs about as much as running it, per row, so a batch is cut into
	// statements of these sizes rather than one prepared for its own size.
	inserts [rowsPerInsertLog2 + 1]*sql.Stmt

	json []byte // the batch's bodies, one after the other
	ends []int  // ends[i] is where body i ends in json
	args []any  // one statement's arguments
}

// open makes sure w has a connection.
func (w *writer) open(ctx context.Context, db *sql.DB) error {
	if w.conn != nil {
		return nil
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	w.conn = conn
	return nil
}

// insert inserts ds, a power of two of them up to rowsPerInsert, whose bodies start at start
// in w.json and end at ends.
func (w *writer) insert(ctx context.Context, ds []*clearbar.Decision, ends []int, start int) error {
	w.args = w.args[:0]
	for i, d := range ds {
		end := ends[i]
		w.args = append(w.args, d.ID, unixNanos(d.Time), d.Category, d.Model, d.Provider, outcomeArgs[d.Outcome],
			int64(d.Status), int64(d.Cost), int64(d.Latency), int64(d.Usage.PromptTokens),
			int64(d.Usage.CompletionTokens), boolInt(d.Stream), d.Client, d.PromptHash, d.TemplateHash,
			w.json[start:end:end])
		start = end
	}
	k := bits.Len(uint(len(ds))) - 1
	if w.inserts[k] == nil {
		st, err := w.conn.PrepareContext(ctx, insertSQL(len(ds)))
		if err != nil {
			return err
		}
		w.inserts[k] = st
	}
	_, err := w.inserts[k].ExecContext(ctx, w.args...)
	return err
}

// outcomeArgs[c] is c's name as a statement argument, converted to an interface once.
var outcomeArgs = func() []any {
	args := make([]any, numClasses)
	for i := range args {
		args[i] = clearbar.FailureClass(i).String()
	}
	return args
}()

// close closes the prepared statements and gives the connection back to the pool, or, with
// discard set, closes it.
func (w *writer) close(discard bool) error {
	if w.conn == nil {
		return nil
	}
	var err error
	for k, st := range w.inserts {
		if st != nil {
			err = errors.Join(err, st.Close())
			w.inserts[k] = nil
		}
	}
	if discard {
		_ = w.conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	err = errors.Join(err, w.conn.Close())
	if discard && errors.Is(err, sql.ErrConnDone) {
		err = nil
	}
	w.conn = nil
	return err
}

// Write implements Store. It encodes the batch into one reused buffer and stores it in one
// transaction, with INSERT OR REPLACE statements of up to rowsPerInsert decisions: a decision
// whose ID is already stored, or appears again later in the batch, replaces the stored one.
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
	w := &s.w
	w.json, w.ends = w.json[:0], w.ends[:0]
	for _, d := range ds {
		if w.json, err = appendDecision(w.json, d); err != nil {
			return err
		}
		w.ends = append(w.ends, len(w.json))
	}
	defer func() {
		clear(w.args[:cap(w.args)]) // keep no decision's strings alive until the next batch
		if cap(w.json) > maxKeptBuffer {
			w.json = nil
		}
	}()

	if err := w.open(ctx, s.db); err != nil {
		return fmt.Errorf("trace: sqlite %s: %w", s.path, err)
	}
	if _, err := w.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		_ = w.close(true)
		return fmt.Errorf("trace: sqlite %s: begin: %w", s.path, err)
	}
	for lo := 0; lo < len(ds); {
		// The largest statement the rest of the batch fills.
		n := 1 << (bits.Len(uint(min(len(ds)-lo, rowsPerInsert))) - 1)
		start := 0
		if lo > 0 {
			start = w.ends[lo-1]
		}
		if err := w.insert(ctx, ds[lo:lo+n], w.ends[lo:lo+n], start); err != nil {
			_ = w.close(true)
			return fmt.Errorf("trace: sqlite %s: insert decisions %s to %s: %w", s.path, ds[lo].ID, ds[lo+n-1].ID, err)
		}
		lo += n
	}
	// COMMIT is not interrupted once started: a COMMIT reported as failed after it had taken
	// effect would count written decisions as lost. In WAL mode, holding the write lock
	// since BEGIN IMMEDIATE, it waits for no other connection.
	if err := ctx.Err(); err != nil {
		_ = w.close(true)
		return fmt.Errorf("trace: sqlite %s: commit: %w", s.path, err)
	}
	if _, err := w.conn.ExecContext(context.Background(), "COMMIT"); err != nil {
		_ = w.close(true)
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

// List implements Store. It walks the decisions_time index, on (time_ns, category, model,
// outcome), from the newest decision in the window backwards. The category, model and outcome
// conditions are tested on the index entries, so that only matching rows are read, but they
// are not indexed: without a window, a condition costs a walk over every decision newer than
// its Limit-th match, the whole index when nothing matches. (Schema version 1 had an index
// per condition; keeping them up cost every write more than the rare filtered List saved.)
func (s *SQLite) List(ctx context.Context, f Filter) ([]*clearbar.Decision, error) {
	f, err := f.normalize()
	if err != nil {
		return nil, err
	}
	if s.closed.Load() {
		return nil, fmt.Errorf("trace: sqlite %s: %w", s.path, ErrClosed)
	}
	q, args := listQuery(f)
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

// listQuery returns List's query for a normalised filter and its arguments. INDEXED BY holds
// SQLite's planner to walking decisions_time: it could otherwise prefer to scan the table and
// sort it, as it does for a condition when the index holds the time alone.
func listQuery(f Filter) (string, []any) {
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
	if f.Flagged {
		where = append(where, "json_extract(body, '$.flagged') = 1")
	}
	q := "SELECT body FROM decisions INDEXED BY decisions_time"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY time_ns DESC, id DESC LIMIT ?"
	return q, append(args, f.Limit)
}

// Close implements Store. It waits for a Write in progress to finish, then closes the
// database (checkpointing the WAL into the main file). Closing twice is harmless.
func (s *SQLite) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.wsem <- struct{}{} // wait for a write in progress; later ones see closed and give up
	defer func() { <-s.wsem }()
	if err := errors.Join(s.w.close(false), s.db.Close()); err != nil {
		return fmt.Errorf("trace: sqlite %s: close: %w", s.path, err)
	}
	return nil
}

var (
	_ Store = (*SQLite)(nil)
	_ Store = (*Memory)(nil)
)
