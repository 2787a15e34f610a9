package trace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrSchemaTooNew is returned (wrapped) by OpenSQLite for a database written by a newer
// Clearbar whose schema this build does not know.
var ErrSchemaTooNew = errors.New("trace: database schema is newer than this build supports")

// migrations[i] moves the schema from version i to version i+1. Versions are never edited
// once released: a change is a new entry.
var migrations = []string{
	// Version 1: decisions with indexed columns for the admin API and ad-hoc SQL, the whole
	// decision as JSON, and one row per attempt for analysis queries.
	`
CREATE TABLE decisions (
	id            TEXT    NOT NULL PRIMARY KEY,
	time_ns       INTEGER NOT NULL, -- Unix nanoseconds, UTC
	category      TEXT    NOT NULL,
	model         TEXT    NOT NULL, -- model that served the final answer, or ''
	provider      TEXT    NOT NULL,
	outcome       TEXT    NOT NULL, -- failure class name: 'ok', 'rate_limited', ...
	status        INTEGER NOT NULL, -- HTTP status sent to the client
	cost_nano     INTEGER NOT NULL, -- nano-dollars, all attempts
	latency_ns    INTEGER NOT NULL,
	tokens_in     INTEGER NOT NULL,
	tokens_out    INTEGER NOT NULL,
	stream        INTEGER NOT NULL, -- 0 or 1
	client        TEXT    NOT NULL,
	prompt_hash   TEXT    NOT NULL,
	template_hash TEXT    NOT NULL,
	body          TEXT    NOT NULL  -- the whole clearbar.Decision as JSON
);
CREATE INDEX decisions_time          ON decisions (time_ns);
CREATE INDEX decisions_category_time ON decisions (category, time_ns);
CREATE INDEX decisions_model_time    ON decisions (model, time_ns);
CREATE INDEX decisions_outcome_time  ON decisions (outcome, time_ns);
CREATE INDEX decisions_prompt_hash   ON decisions (prompt_hash);

CREATE TABLE attempts (
	decision_id TEXT    NOT NULL REFERENCES decisions (id) ON DELETE CASCADE,
	seq         INTEGER NOT NULL, -- position in Decision.Attempts, from 0
	n           INTEGER NOT NULL, -- Attempt.N
	kind        TEXT    NOT NULL,
	step        INTEGER NOT NULL,
	model       TEXT    NOT NULL,
	provider    TEXT    NOT NULL,
	class       TEXT    NOT NULL, -- failure class name
	status      INTEGER NOT NULL, -- upstream HTTP status, or 0
	outcome     TEXT    NOT NULL,
	latency_ns  INTEGER NOT NULL,
	ttft_ns     INTEGER NOT NULL,
	cost_nano   INTEGER NOT NULL,
	tokens_in   INTEGER NOT NULL,
	tokens_out  INTEGER NOT NULL,
	PRIMARY KEY (decision_id, seq)
) WITHOUT ROWID;
CREATE INDEX attempts_model_class ON attempts (model, class);
`,
	// Version 2: cheaper writes. A decision is one row and two index entries: the primary
	// key and decisions_time, which now also holds the columns List filters on, so that List
	// tests them without reading rows. The per-filter and prompt hash indexes, and the
	// attempts table with a row and an index entry per attempt, cost every write more than
	// they saved their rare readers. attempts becomes a view with the same columns, read
	// from the decision bodies with json_each (cost_nano is exact below a million dollars);
	// queries on it read every decision they cannot select by decision_id.
	`
DROP INDEX decisions_category_time;
DROP INDEX decisions_model_time;
DROP INDEX decisions_outcome_time;
DROP INDEX decisions_prompt_hash;
DROP TABLE attempts;
DROP INDEX decisions_time;
CREATE INDEX decisions_time ON decisions (time_ns, category, model, outcome);
CREATE VIEW attempts (decision_id, seq, n, kind, step, model, provider, class, status, outcome,
	latency_ns, ttft_ns, cost_nano, tokens_in, tokens_out) AS
SELECT d.id, a.key, a.value ->> '$.n', a.value ->> '$.kind', a.value ->> '$.step', a.value ->> '$.model',
	a.value ->> '$.provider', a.value ->> '$.class', IFNULL(a.value ->> '$.status', 0), a.value ->> '$.outcome',
	a.value ->> '$.latency_ns', IFNULL(a.value ->> '$.ttft_ns', 0),
	CAST(round((a.value ->> '$.cost_usd') * 1e9) AS INTEGER),
	a.value ->> '$.usage.prompt_tokens', a.value ->> '$.usage.completion_tokens'
FROM decisions AS d, json_each(d.body, '$.attempts') AS a;
`,
}

// schemaVersion is the schema version this build writes.
var schemaVersion = len(migrations)

// migrate brings the database to schemaVersion in one transaction, or fails without changing
// it. The schema_version table holds one row, written by the last migration applied.
func migrate(ctx context.Context, db *sql.DB, path string) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if _, err = tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return err
	}
	var have int
	if err = tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&have); err != nil {
		return err
	}
	if have > schemaVersion {
		return fmt.Errorf("%w: %s has schema version %d and this build knows versions up to %d; "+
			"run a newer Clearbar or point the trace store at another file", ErrSchemaTooNew, path, have, schemaVersion)
	}
	if have == schemaVersion {
		return tx.Rollback()
	}
	for v := have; v < schemaVersion; v++ {
		if _, err = tx.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migrate to schema version %d: %w", v+1, err)
		}
	}
	if _, err = tx.ExecContext(ctx, `DELETE FROM schema_version`); err != nil {
		return err
	}
	if _, err = tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (?)`, schemaVersion); err != nil {
		return err
	}
	return tx.Commit()
}
