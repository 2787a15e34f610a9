package outcomes

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/clearbar/clearbar"
)

// csvColumns is the CSV form of a row, in order. Verdicts, checks and tool calls are a JSON
// array in one cell, the request a JSON object.
//
// The CSV form holds a row's fields and what eval runs add to their rows (lineExtras), so that
// JSON Lines → CSV → JSON Lines loses nothing: retries, the failed calls before the row's,
// which estimate --measured counts in the model's availability; graded_by, "validators" when
// the category's validators alone graded the row's pass, which estimate --measured, replay and
// learn then take for the validators' verdict rather than a grade, or "checks" when the item's
// reference or checks did; simulated, an answer of a simulated provider, which validate
// calibrate measures no validator with; unverified; checks, the verdicts of the item's graders
// (a JSON array, as eval writes it: in a row written before graded_by, what tells a pass the
// validators gave); and the error message and grading fingerprint. A CSV written before these
// columns were added still reads: its rows say nothing of them, as JSON rows without the keys.
//
// A carriage return followed by a newline inside a cell (a prompt or answer with Windows line
// ends) is written as is, as spreadsheets read it, and reads back as written (see crlfKeeper).
var csvColumns = []string{"item", "category", "task", "prompt_hash", "model", "tokens_in", "tokens_out",
	"tokens_cached", "tokens_reasoning", "tokens_estimated", "cost_usd", "latency_ms", "time_scale", "error", "retries", "score", "pass",
	"graded_by", "simulated", "unverified", "source", "prompt", "response", "verdicts", "checks", "request", "tool_calls",
	"error_message", "grading"}

// CSVWriter writes rows as CSV with a header, for spreadsheets. Use Flush when done.
type CSVWriter struct {
	w      *csv.Writer
	header bool
}

// NewCSVWriter returns a writer of CSV rows to w.
func NewCSVWriter(w io.Writer) *CSVWriter { return &CSVWriter{w: csv.NewWriter(w)} }

// Write writes one row, after the same checks as Writer.Write.
func (c *CSVWriter) Write(row Row) error { return c.WriteLine(row, nil) }

// WriteLine is Write for a row read with the JSON line it came from (Reader.Raw,
// ReadFileLines): what eval runs write beside the row (lineExtras) is kept in its columns.
func (c *CSVWriter) WriteLine(row Row, line []byte) error {
	if err := row.check(); err != nil {
		return err
	}
	ex, err := extrasOf(line)
	if err != nil {
		return fmt.Errorf("item %q: %w", row.Item, err)
	}
	if !c.header {
		c.header = true
		if err := c.w.Write(csvColumns); err != nil {
			return err
		}
	}
	opt := func(f *float64) string {
		if f == nil {
			return ""
		}
		return strconv.FormatFloat(*f, 'g', -1, 64)
	}
	pass := ""
	if row.Pass != nil {
		pass = strconv.FormatBool(*row.Pass)
	}
	verdicts, err := jsonCell(row.Verdicts, len(row.Verdicts))
	if err != nil {
		return err
	}
	calls, err := jsonCell(row.ToolCalls, len(row.ToolCalls))
	if err != nil {
		return err
	}
	cost := ""
	if row.Cost != 0 {
		cost = row.Cost.Decimal()
	}
	lat, scale := "", ""
	if row.LatencyMS != 0 {
		lat = strconv.FormatFloat(row.LatencyMS, 'g', -1, 64)
	}
	if row.TimeScale != 0 {
		scale = strconv.FormatFloat(row.TimeScale, 'g', -1, 64)
	}
	itoa := func(n int) string {
		if n == 0 {
			return ""
		}
		return strconv.Itoa(n)
	}
	cached := ""
	if row.TokensCached != nil {
		cached = strconv.Itoa(*row.TokensCached)
	}
	flag := func(b bool) string {
		if b {
			return "true"
		}
		return ""
	}
	checks := ""
	if len(ex.Checks) > 0 {
		var b bytes.Buffer
		if err := json.Compact(&b, ex.Checks); err != nil {
			return fmt.Errorf("item %q: checks: %w", row.Item, err)
		}
		checks = b.String()
	}
	return c.w.Write([]string{row.Item, row.Category, row.Task, row.PromptHash, row.Model, itoa(row.TokensIn), itoa(row.TokensOut),
		cached, itoa(row.TokensReasoning), flag(row.TokensEstimated), cost, lat, scale, row.Error, itoa(ex.Retries), opt(row.Score), pass,
		ex.GradedBy, flag(ex.Simulated), flag(ex.Unverified), row.Source, row.Prompt, row.Response, verdicts, checks, string(row.Request), calls,
		ex.ErrorMessage, ex.Grading})
}

// jsonCell is the JSON form of a list of n elements for one CSV cell; "" when it is empty.
func jsonCell(v any, n int) (string, error) {
	if n == 0 {
		return "", nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// Flush writes buffered rows and reports any error.
func (c *CSVWriter) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

// errEmptyCSV is readCSV's error for a file with no header.
var errEmptyCSV = errors.New("empty CSV")

// readCSV reads CSV rows written by CSVWriter: columns in any order, by header name. Columns
// the table does not define are skipped, except those within a few letters of one it does
// (like "itm"), which are errors, as are rows with another number of cells than the header.
// fn gets each row with the JSON line the cells of what eval runs write beside a row make
// (lineExtras), like {"graded_by": "validators"}, or nil when they are empty or the file has no
// such columns.
func readCSV(r io.Reader, fn func(Row, []byte) error) error {
	cr := csv.NewReader(&crlfKeeper{r: bufio.NewReader(r)})
	header, err := cr.Read()
	if err == io.EOF {
		return errEmptyCSV
	}
	if err != nil {
		return csvError(err, 1)
	}
	headerLine, _ := cr.FieldPos(0)
	col := map[string]int{}
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff") // a byte order mark, as spreadsheets write
		}
		name := strings.TrimSpace(strings.ToLower(h))
		if err := checkKey(name, "column"); err != nil {
			return fmt.Errorf("line %d: %w", headerLine, err)
		}
		col[name] = i
	}
	for _, need := range []string{"model"} {
		if _, ok := col[need]; !ok {
			return fmt.Errorf("line %d: the header has no %q column", headerLine, need)
		}
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if errors.Is(err, csv.ErrFieldCount) {
				line, _ := cr.FieldPos(0)
				return fmt.Errorf("line %d: the row has %d cells, the header %d", line, len(rec), len(header))
			}
			return csvError(err, 0)
		}
		line, _ := cr.FieldPos(0)
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		row := Row{Item: get("item"), Category: get("category"), Task: get("task"), PromptHash: get("prompt_hash"), Model: get("model"),
			Error: get("error"), Source: get("source"), Prompt: get("prompt"), Response: get("response")}
		var perr error
		num := func(name string) float64 {
			v := get(name)
			if v == "" {
				return 0
			}
			f, err := strconv.ParseFloat(v, 64)
			if (err != nil || math.IsNaN(f) || math.IsInf(f, 0)) && perr == nil {
				perr = fmt.Errorf("line %d, %s: %q is not a number", line, name, v)
			}
			return f
		}
		count := func(name string) int {
			v := get(name)
			if v == "" {
				return 0
			}
			n, err := strconv.Atoi(v)
			if err != nil && perr == nil {
				perr = fmt.Errorf("line %d, %s: %q is not a whole number", line, name, v)
			}
			return n
		}
		row.TokensIn, row.TokensOut, row.LatencyMS = count("tokens_in"), count("tokens_out"), num("latency_ms")
		row.TimeScale = num("time_scale")
		row.TokensReasoning = count("tokens_reasoning")
		if get("tokens_cached") != "" {
			n := count("tokens_cached")
			row.TokensCached = &n
		}
		boolean := func(name string) bool {
			v := get(name)
			if v == "" {
				return false
			}
			b, err := strconv.ParseBool(v)
			if err != nil && perr == nil {
				perr = fmt.Errorf("line %d, %s: %q is not true or false", line, name, v)
			}
			return b
		}
		row.TokensEstimated = boolean("tokens_estimated")
		if perr != nil {
			return perr
		}
		if v := get("cost_usd"); v != "" {
			m, err := clearbar.ParseMoney(v)
			if err != nil {
				return fmt.Errorf("line %d, cost_usd: %w", line, err)
			}
			row.Cost = m
		}
		if v := get("score"); v != "" {
			f := num("score")
			row.Score = &f
		}
		if v := get("pass"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("line %d, pass: %q is not true or false", line, v)
			}
			row.Pass = &b
		}
		if v := get("verdicts"); v != "" {
			if err := json.Unmarshal([]byte(v), &row.Verdicts); err != nil {
				return fmt.Errorf("line %d, verdicts: %s", line, cellError(err, "a JSON list of verdicts, like [{\"validator\": \"max length 200\", \"pass\": true}]"))
			}
		}
		if v := get("request"); v != "" {
			if !json.Valid([]byte(v)) {
				return fmt.Errorf("line %d, request: not a JSON document", line)
			}
			row.Request = json.RawMessage(v)
		}
		if v := get("tool_calls"); v != "" {
			if err := json.Unmarshal([]byte(v), &row.ToolCalls); err != nil {
				return fmt.Errorf("line %d, tool_calls: %s", line, cellError(err, "a JSON list of tool calls, as the chat completions API writes them"))
			}
		}
		ex := lineExtras{Retries: count("retries"), ErrorMessage: get("error_message"), Grading: get("grading"), GradedBy: get("graded_by"),
			Unverified: boolean("unverified"), Simulated: boolean("simulated")}
		if ex.Retries < 0 && perr == nil {
			perr = fmt.Errorf("line %d, retries: %d is below 0", line, ex.Retries)
		}
		if ex.GradedBy != "" && !slices.Contains(gradedByValues, ex.GradedBy) {
			return fmt.Errorf("line %d, graded_by: %q is not one of %s (or empty: not said)", line, ex.GradedBy, strings.Join(gradedByValues, ", "))
		}
		if v := get("checks"); v != "" {
			var checks []map[string]json.RawMessage
			if err := json.Unmarshal([]byte(v), &checks); err != nil {
				return fmt.Errorf("line %d, checks: %s", line, cellError(err, "a JSON list of the item's checks' verdicts, as clearbar eval writes them, like [{\"check\": \"contains refund\", \"pass\": true, \"score\": 1}]"))
			}
			ex.Checks = json.RawMessage(v)
		}
		var extra []byte
		if !ex.isZero() {
			extra, _ = json.Marshal(ex)
		}
		if perr != nil {
			return perr
		}
		if err := row.check(); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		if err := fn(row, extra); err != nil {
			return err
		}
	}
}

// crlfKeeper reads CSV text for encoding/csv so that a carriage return before a newline inside
// a quoted cell survives: csv.Reader turns every CR LF that ends a physical line into LF, in a
// quoted cell too, so crlfKeeper doubles the CR of each CR LF within quotes, and the reader's
// normalisation leaves the one written. Quotes are told by counting them: in CSV that
// csv.Reader accepts (no bare quotes), a quote opens or closes a quoted cell, or is one of the
// pair that stands for a quote within one, which leaves the count's parity unchanged. Line ends
// outside quotes, and line numbers in errors, are untouched.
type crlfKeeper struct {
	r      *bufio.Reader
	quoted bool
	// crs are carriage returns read within quotes and not yet given out: two for one that
	// a newline follows, else one.
	crs int
	err error
}

func (k *crlfKeeper) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if k.crs > 0 {
			p[n] = '\r'
			n++
			k.crs--
			continue
		}
		if k.err != nil {
			break
		}
		c, err := k.r.ReadByte()
		if err != nil {
			k.err = err
			break
		}
		switch {
		case c == '"':
			k.quoted = !k.quoted
		case c == '\r' && k.quoted:
			k.crs = 1
			if next, _ := k.r.Peek(1); len(next) == 1 && next[0] == '\n' {
				k.crs = 2
			}
			continue
		}
		p[n] = c
		n++
	}
	if n > 0 {
		return n, nil
	}
	return 0, k.err
}

// csvError rewrites a CSV syntax error as "line N: what is wrong"; line is used when the
// error does not say.
func csvError(err error, line int) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("line %d: %v", pe.Line, pe.Err)
	}
	return fmt.Errorf("line %d: %w", line, err)
}

// ReadFile streams the rows of an outcomes file: JSON Lines, or CSV when the name ends in .csv
// (either may be gzipped, with a .gz suffix for CSV). Errors name the file and line.
func ReadFile(path string, fn func(Row) error) error {
	return ReadFileLines(path, func(r Row, _ []byte) error { return fn(r) })
}

// ReadFileLines is ReadFile that also gives each JSON Lines row's line as read, for readers of
// the fields other tools write beside the row (eval's graded_by, retries). A CSV row's line is
// the JSON object of what its columns hold beside the row (lineExtras), like {"graded_by":
// "validators"}, or nil when they hold nothing (empty cells, or a CSV written before the
// columns were added). The line is valid only until fn returns.
func ReadFileLines(path string, fn func(Row, []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if IsCSV(path) {
		var r io.Reader = bufio.NewReader(f)
		if strings.HasSuffix(strings.ToLower(path), ".gz") {
			gz, err := gzip.NewReader(r)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			defer gz.Close()
			r = gz
		}
		if err := readCSV(r, fn); errors.Is(err, errEmptyCSV) {
			return fmt.Errorf("%s is empty: an outcomes CSV starts with a header row naming its columns, like %s", path, strings.Join(csvColumns[:5], ","))
		} else if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return nil
	}
	rd := NewReader(f)
	for rd.Next() {
		if err := fn(rd.Row(), rd.Raw()); err != nil {
			return err
		}
	}
	if err := rd.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// FromDecision turns a gateway decision into outcome rows, one per model call (validator
// calls, judges' and agreement checks', left out): the item is the decision id, the prompt
// its fingerprint (and text, when the category records text), and an answer passes when every
// validator passed it. Unvalidated answers are left ungraded: production traffic has no gold
// labels. A model called more than once (a retry) has a row per call, all of the one item, the
// call whose answer counted (delivered or accepted; else its last) first: a table that keeps
// one row per item and model (replay) keeps that call, and the estimator counts every call,
// the failed ones in the model's availability. Rows name models by their spec names, as the
// decision does. Latencies are the simulated ones for a call to a provider simulated at a time
// scale (serve --time-scale): the recorded wall-clock divided by the attempt's scale
// (Attempt.TimeScale), or, in a record from before attempts said theirs, by the decision's;
// the row's TimeScale is then that scale, as such a latency measures no model.
func FromDecision(d *clearbar.Decision) []Row {
	rows := make([]Row, 0, len(d.Attempts))
	var delivered []bool // by row: its answer counted
	perAttempt := slices.ContainsFunc(d.Attempts, func(a clearbar.Attempt) bool { return a.TimeScale > 0 })
	for _, a := range d.Attempts {
		if a.ValidatorCall() {
			continue
		}
		scale := a.TimeScale
		if !perAttempt {
			scale = d.TimeScale
		}
		latency := float64(a.Latency.Microseconds()) / 1000
		if scale > 0 {
			latency /= scale
		}
		row := Row{Item: d.ID, Category: d.Category, PromptHash: d.PromptHash, Prompt: d.Prompt, Model: a.Model,
			Cost: a.Cost, LatencyMS: latency, Source: SourceTrace, Verdicts: a.Verdicts}
		if scale > 0 {
			row.TimeScale = scale
		}
		row.SetUsage(a.Usage)
		row.TokensEstimated = a.UsageEstimated && !a.Usage.IsZero()
		if a.Class != clearbar.OK && a.Class != clearbar.Quality {
			row.Error = a.Class.String()
		}
		row.Pass = verdictsPass(a.Verdicts)
		counts := a.Outcome == "accepted" || strings.HasPrefix(a.Outcome, "delivered")
		if counts {
			row.Response = d.Answer
		}
		rows = append(rows, row)
		delivered = append(delivered, counts)
	}
	return countedFirst(rows, delivered)
}

// DecisionLine returns what to write beside row, one of FromDecision(d)'s rows, as the JSON
// line it came from (Writer.WriteLine): {"simulated": true} when the row's call went to a
// simulated provider (Attempt.Simulated: a provider of type simulated, or serve --simulate,
// at any time scale), as eval's rows of such answers say, so that what refuses to measure
// simulated answers (replay --calibrate, validate calibrate, estimate --measured) knows them;
// nil otherwise. A spec model has one provider, so a model's calls in one decision are all
// simulated or none.
func DecisionLine(d *clearbar.Decision, row Row) []byte {
	if !DecisionSimulated(d, row.Model) {
		return nil
	}
	return []byte(`{"simulated":true}`)
}

// DecisionSimulated reports whether a call of d to model (its spec name; "" for any model)
// went to a simulated provider (Attempt.Simulated). Validator calls are left out.
func DecisionSimulated(d *clearbar.Decision, model string) bool {
	return slices.ContainsFunc(d.Attempts, func(a clearbar.Attempt) bool {
		return a.Simulated && !a.ValidatorCall() && (model == "" || a.Model == model)
	})
}

// verdictsPass is a call's pass by its validators' verdicts: false when one found the answer
// wanting, true when all passed it, and nil when there were none, or when the only ones that
// failed it could not judge it (clearbar.Verdict.Unverified), which says nothing of the answer.
func verdictsPass(vs []clearbar.Verdict) *bool {
	if len(vs) == 0 {
		return nil
	}
	pass, unverified := true, false
	for _, v := range vs {
		switch {
		case v.Pass:
		case v.Unverified:
			unverified = true
		default:
			pass = false
		}
	}
	if pass && unverified {
		return nil
	}
	return &pass
}

// countedFirst reorders the rows of a decision's model calls (delivered[i] says row i's answer
// counted) so that, for a model called more than once, the call that counts comes first, where
// its first call was: the one delivered or accepted, else its last.
func countedFirst(rows []Row, delivered []bool) []Row {
	counted := map[string]int{} // model → index of its call that counts
	for i, r := range rows {
		if j, seen := counted[r.Model]; !seen || !delivered[j] {
			counted[r.Model] = i
		}
	}
	if len(counted) == len(rows) {
		return rows // every model called once
	}
	out := make([]Row, 0, len(rows))
	placed := map[string]bool{}
	for i, r := range rows {
		switch c := counted[r.Model]; {
		case !placed[r.Model]:
			placed[r.Model] = true
			out = append(out, rows[c])
			if i != c {
				out = append(out, r)
			}
		case i != c:
			out = append(out, r)
		}
	}
	return out
}

// cellError says what is wrong with a CSV cell that holds JSON, and what it must hold.
func cellError(err error, want string) string {
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te) && te.Field != "":
		return fmt.Sprintf("%q is %s, but it must be %s", te.Field, JSONKind(te.Value), expected(te.Type))
	case errors.As(err, &te):
		return fmt.Sprintf("the cell is %s, but it must be %s", JSONKind(te.Value), want)
	}
	return fmt.Sprintf("not valid JSON (%s): write %s", strings.TrimPrefix(err.Error(), "json: "), want)
}

// What the graded_by eval runs write beside a row says graded its pass.
const (
	// GradedByChecks: the item's reference or checks.
	GradedByChecks = "checks"
	// GradedByValidators: the category's validators alone; the pass is their verdict.
	GradedByValidators = "validators"
)

// IsCSV reports whether a table at path is read as CSV (ReadFile): its name ends in .csv,
// before any .gz, in any case. Any other name is read as JSON Lines.
func IsCSV(path string) bool {
	return strings.HasSuffix(strings.TrimSuffix(strings.ToLower(path), ".gz"), ".csv")
}

// gradedByValues are the graded_by values a row can carry.
var gradedByValues = []string{GradedByChecks, GradedByValidators}

// lineExtras are the fields eval runs write beside a row (eval.Extras, in its order), which the
// table's writers keep, in either form, so that converting a table loses none of them: how many
// times the row's call was retried, the failed call's message, the verdicts of the item's
// checks (kept as the JSON eval wrote), the fingerprint of what graded it, what graded its pass,
// whether the validators could not judge it and whether a simulated provider answered.
type lineExtras struct {
	Retries      int             `json:"retries,omitempty"`
	ErrorMessage string          `json:"error_message,omitempty"`
	Checks       json.RawMessage `json:"checks,omitempty"`
	Grading      string          `json:"grading,omitempty"`
	GradedBy     string          `json:"graded_by,omitempty"`
	Unverified   bool            `json:"unverified,omitempty"`
	Simulated    bool            `json:"simulated,omitempty"`
}

// isZero reports whether ex holds nothing.
func (ex *lineExtras) isZero() bool {
	return ex.Retries == 0 && ex.ErrorMessage == "" && len(ex.Checks) == 0 && ex.Grading == "" && ex.GradedBy == "" && !ex.Unverified && !ex.Simulated
}

// extrasOf returns the lineExtras of a row's JSON line (none for a nil line).
func extrasOf(line []byte) (lineExtras, error) {
	var ex lineExtras
	if line == nil {
		return ex, nil
	}
	if err := json.Unmarshal(line, &ex); err != nil {
		return lineExtras{}, jsonError(err)
	}
	if len(ex.Checks) > 0 {
		var checks []map[string]json.RawMessage
		if err := json.Unmarshal(ex.Checks, &checks); err != nil {
			return lineExtras{}, fmt.Errorf(`"checks": %s`, cellError(err, "a list of the item's checks' verdicts, as clearbar eval writes them"))
		}
		if checks == nil {
			ex.Checks = nil // null
		}
	}
	return ex, nil
}
