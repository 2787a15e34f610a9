package eval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/clearbar/clearbar/internal/atomicfile"
	"github.com/clearbar/clearbar/outcomes"
)

// Record is the line an eval run writes for one (item, model): an outcomes row, so that the
// file is an outcomes table, plus what only eval knows. Readers of outcomes tables ignore the
// extra fields.
//
// The row's Model is the provider's model id (as in imported benchmarks; see outcomes.Row),
// or the spec's name for the model when another spec model has the same id (RowModel),
// Item the item's id, Category the category, Prompt the last user message, Source "eval".
// Response is the answer's text, or, for an answer that is only tool calls, the calls as a
// JSON array of {name, arguments}. For an answered call, Score is the lowest score of the
// checks that grade it and Pass whether every one of them passed (see GradedBy: the category's
// validators beside a reference or checks are recorded, not counted); for a failed call
// (after retries), Error is its failure class and neither is set. Tokens are the call's usage:
// for a replayed answer whose recorded row has no counts, the replay's estimates, marked
// TokensEstimated. Cost is the answer's recorded cost when the provider knows it (a replayed
// row's cost_usd), else the usage at the spec model's prices.
type Record struct {
	outcomes.Row
	Extras
}

// Extras are what an eval run records about a pair beside its outcomes row.
type Extras struct {
	// Retries is how many times the call was retried before it succeeded or gave up.
	Retries int `json:"retries,omitempty"`
	// ErrorMessage is the failed call's error, as safe to show as a client error.
	ErrorMessage string `json:"error_message,omitempty"`
	// Checks are the verdicts of the item's graders, in the order they ran.
	Checks []Verdict `json:"checks,omitempty"`
	// Grading is the fingerprint of what graded the answer: the item's reference and checks,
	// and the category's validators when they graded it (Item.Grading). A resumed run grades
	// again the rows of items whose fingerprint changed.
	Grading string `json:"grading,omitempty"`
	// GradedBy says what Pass is: GradeChecks, the grade of the item's reference or
	// checks (the category's validators' verdict, when they ran beside them, is among Checks
	// and not in Pass), or GradeValidators, the verdict of the category's validators,
	// which grade the item alone: a share of answers their assumed strength corrects (see
	// Summary.ByValidators). Empty when the answer was not graded, and in rows written before
	// rows recorded it, whose Pass, beside a reference or checks, also needed the validators.
	GradedBy string `json:"graded_by,omitempty"`
	// Unverified says the category's validators, which grade the item alone, could not judge
	// the answer (Verdict.Unverified: an agreement check with no independent checker for the
	// model, or one that could not compare it): Pass and Score are unset, as for any ungraded
	// answer, but a resumed run does not grade it again, nor call its model again, until what
	// grades it (Grading) changes. Summaries count it apart (Summary.Unverified).
	Unverified bool `json:"unverified,omitempty"`
	// Simulated says the answer came from the simulated provider, whose stand-in text was
	// fitted to the item's checks as they were (see simulatedAnswer): such a pair runs again,
	// rather than be graded again, when its checks change. Rows written before rows recorded
	// it are taken for real answers.
	Simulated bool `json:"simulated,omitempty"`
}

// OutputOptions change how OpenOutput treats the rows a file already has.
type OutputOptions struct {
	// RetryErrors drops the rows of failed calls from the file, so that their pairs run again.
	RetryErrors bool
}

// Output is an outcomes file an eval run appends to.
//
// Opening it reads the rows it already has, so that a resumed run skips the pairs it has
// finished, and repairs the damage a killed run can leave: each row is written with one write
// call, so a kill leaves at most one partial last line, which OpenOutput cuts off (its pair
// runs again). Rows are not synced to disk one by one: a killed process loses nothing, a
// machine that loses power may lose the last rows, which then run again.
//
// Write is safe for concurrent use. Close the Output when done.
type Output struct {
	path  string
	f     *os.File
	notes []string

	mu    sync.Mutex
	rows  []Record
	lines []int // the line of each row read at open; 0 for rows written since
	index map[pairKey]int
	check *outcomes.Writer
	buf   bytes.Buffer
	enc   *json.Encoder
	err   error
}

type pairKey struct{ item, model string }

// OpenOutput opens (creating it when missing) the outcomes file at path for appending and
// reads its rows. A file that is not an outcomes table is an error naming the first bad
// line; a partial last line is not (see Output). The file is plain JSON Lines: a name ending
// in .csv or .gz, which readers of outcomes take for CSV or gzip, is refused before anything
// is created, and so is a gzip-compressed file, before anything is changed.
func OpenOutput(path string, opts OutputOptions) (*Output, error) {
	says := map[string]string{".csv": "CSV", ".gz": "gzip-compressed"}[strings.ToLower(filepath.Ext(path))]
	if says != "" {
		return nil, fmt.Errorf("outcomes file %s: an eval appends plain JSON Lines to its --out file, and readers of outcomes take a name ending in %s for %s: give --out a name ending in .jsonl (clearbar outcomes convert FILE.jsonl --format csv makes a CSV of it)", path, filepath.Ext(path), says)
	}
	o := &Output{path: path, index: map[pairKey]int{}, check: outcomes.NewWriter(io.Discard)}
	o.enc = json.NewEncoder(&o.buf)
	o.enc.SetEscapeHTML(false)
	if err := o.open(); err != nil {
		return nil, err
	}
	magic := make([]byte, 2)
	if n, _ := o.f.ReadAt(magic, 0); n == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		o.f.Close()
		return nil, fmt.Errorf("outcomes file %s is gzip-compressed: an eval appends JSON Lines to its --out file, so give another --out (or a decompressed copy: clearbar outcomes convert %s > FILE.jsonl)", path, path)
	}
	if err := o.repairTail(); err != nil {
		o.f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	failed, err := o.read()
	if err != nil {
		o.f.Close()
		return nil, err
	}
	if opts.RetryErrors && len(failed) > 0 {
		if err := o.drop(failed); err != nil {
			o.f.Close()
			return nil, fmt.Errorf("%s: dropping the rows of failed calls: %w", path, err)
		}
		o.notes = append(o.notes, fmt.Sprintf("dropped %d row(s) of failed calls from %s; those pairs run again", len(failed), path))
		if _, err := o.read(); err != nil {
			o.f.Close()
			return nil, err
		}
	}
	return o, nil
}

func (o *Output) open() error {
	f, err := os.OpenFile(o.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("outcomes file: %w", err)
	}
	o.f = f
	return nil
}

// repairTail makes the file end with a newline, cutting off a partial last line (see
// outcomes.RepairTail), and says so in the notes.
func (o *Output) repairTail() error {
	cut, err := outcomes.RepairTail(o.f)
	if cut > 0 {
		o.notes = append(o.notes, fmt.Sprintf("removed a partial last line (%d bytes) that an interrupted run left in %s; its pair runs again", cut, o.path))
	}
	return err
}

// read loads the file's rows, in one pass: each row's extras are decoded from its line beside
// the row. The first row of a pair wins. It returns the lines of the rows of failed calls.
func (o *Output) read() (failed map[int]bool, err error) {
	o.rows, o.lines, o.index = nil, nil, map[pairKey]int{}
	st, err := o.f.Stat()
	if err != nil {
		return nil, err
	}
	rd := outcomes.NewReader(io.NewSectionReader(o.f, 0, st.Size()))
	failed = map[int]bool{}
	for rd.Next() {
		rec := Record{Row: rd.Row()}
		k := pairKey{rec.Item, rec.Model}
		if _, dup := o.index[k]; dup {
			continue
		}
		if err := json.Unmarshal(rd.Raw(), &rec.Extras); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", o.path, rd.Line(), err)
		}
		if rec.Error != "" {
			failed[rd.Line()] = true
		}
		o.index[k] = len(o.rows)
		o.rows = append(o.rows, rec)
		o.lines = append(o.lines, rd.Line())
	}
	if err := rd.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w: it is not an eval outcomes table, or it was edited; fix that line or give another --out", o.path, err)
	}
	return failed, nil
}

// Replace rewrites the file with the rows of the pairs of recs replaced by recs, and the rows
// of the pairs in drop removed, through a temporary file renamed over it, so that a crash
// leaves the old file or the new one. Only rows read when the file was opened can be replaced
// or dropped; every record must have a row to replace.
func (o *Output) Replace(recs []Record, drop [][2]string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return o.err
	}
	edits := map[int][]byte{}
	rowOf := func(item, model string) (int, error) {
		i, ok := o.index[pairKey{item, model}]
		if !ok || o.lines[i] == 0 {
			return 0, fmt.Errorf("%s has no row read at open for item %q and model %q to replace", o.path, item, model)
		}
		return i, nil
	}
	replaced := make([]int, len(recs))
	for n, rec := range recs {
		i, err := rowOf(rec.Item, rec.Model)
		if err != nil {
			return err
		}
		if err := o.check.Write(rec.Row); err != nil {
			return err
		}
		o.buf.Reset()
		if err := o.enc.Encode(&rec); err != nil {
			return err
		}
		edits[o.lines[i]] = bytes.Clone(o.buf.Bytes())
		replaced[n] = i
	}
	for _, k := range drop {
		i, err := rowOf(k[0], k[1])
		if err != nil {
			return err
		}
		edits[o.lines[i]] = nil
	}
	if len(edits) == 0 {
		return nil
	}
	if err := o.rewrite(edits); err != nil {
		return fmt.Errorf("%s: rewriting rows: %w", o.path, err)
	}
	if len(drop) > 0 {
		// Removed lines move the rows after them, and may uncover a later row of a dropped
		// pair (the first row of a pair wins): read the file as it is now.
		_, err := o.read()
		return err
	}
	// Every replacement is one line in place of one: the rows keep their lines.
	for n, i := range replaced {
		o.rows[i] = recs[n]
	}
	return nil
}

// drop rewrites the file without the given lines (numbered from 1) and reopens it.
func (o *Output) drop(lines map[int]bool) error {
	edits := make(map[int][]byte, len(lines))
	for n := range lines {
		edits[n] = nil
	}
	return o.rewrite(edits)
}

// rewrite rewrites the file with the given lines (numbered from 1) replaced by their text (a
// whole line, newline included), or removed where it is nil, through a temporary file renamed
// over it, and reopens it.
func (o *Output) rewrite(edits map[int][]byte) error {
	tmp, err := atomicfile.Create(o.path)
	if err != nil {
		return err
	}
	defer tmp.Abort()
	st, err := o.f.Stat()
	if err != nil {
		return err
	}
	br := bufio.NewReader(io.NewSectionReader(o.f, 0, st.Size()))
	bw := bufio.NewWriter(tmp)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			if text, edited := edits[n]; edited {
				line = text
			}
			bw.Write(line)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := tmp.Commit(); err != nil {
		return err
	}
	o.f.Close()
	return o.open()
}

// Path returns the file's path.
func (o *Output) Path() string { return o.path }

// Notes says what opening the file repaired or dropped, for the user.
func (o *Output) Notes() []string { return o.notes }

// Lookup returns the record the file has for an item and a model id, and its line (0 for a
// row written since the file was opened).
func (o *Output) Lookup(item, model string) (rec Record, line int, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	i, ok := o.index[pairKey{item, model}]
	if !ok {
		return Record{}, 0, false
	}
	return o.rows[i], o.lines[i], true
}

// Records returns every record of the file, those read at open and those written since, in
// file order. The slice is a copy.
func (o *Output) Records() []Record {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.rows)
}

// Write appends one record as one line, with one write call. The row must be valid for an
// outcomes table (Reader's checks); a row for a pair the file already has is refused, so
// that (item, model) stays unique. After a write error, every further Write returns it.
func (o *Output) Write(rec Record) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return o.err
	}
	k := pairKey{rec.Item, rec.Model}
	if _, dup := o.index[k]; dup {
		return fmt.Errorf("%s already has a row for item %q and model %q", o.path, rec.Item, rec.Model)
	}
	if err := o.check.Write(rec.Row); err != nil {
		return err
	}
	o.buf.Reset()
	if err := o.enc.Encode(&rec); err != nil {
		return err
	}
	if _, err := o.f.Write(o.buf.Bytes()); err != nil {
		o.err = fmt.Errorf("writing %s: %w", o.path, err)
		return o.err
	}
	o.index[k] = len(o.rows)
	o.rows = append(o.rows, rec)
	o.lines = append(o.lines, 0)
	return nil
}

// Close closes the file.
func (o *Output) Close() error { return o.f.Close() }
