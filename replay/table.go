package replay

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/learn"
	"github.com/clearbar/clearbar/outcomes"
)

// Table is the compact in-memory form of an outcomes table that replay evaluates policies
// on: one row per item, one column per model, and in each cell what that model did on that
// item — its grade, cost and latency. It is built by a [Builder] and not modified afterwards,
// so it is safe for concurrent reads.
//
// Cells are stored row-major in parallel slices (about 26 bytes a cell), so 20,000 items × 11
// models take about 5.7 MB plus the items' prompts.
type Table struct {
	models []string
	index  map[string]int
	items  []Item
	stats  []ModelStats

	// Cell (i, m) is at i*len(models)+m.
	quality []float64
	pass    []bool    // the row's pass verdict: what a validator judges (see Cell.Pass)
	cost    []float64 // nano-dollars, whole numbers
	latency []float64 // milliseconds; 0 means not recorded
	state   []CellState

	duplicates int
}

// Item is one prompt of the table: an eval item, benchmark sample or recorded request.
// Items are read-only.
type Item struct {
	// ID is the outcomes rows' Item, or their PromptHash when they have no Item.
	ID       string
	Category string
	Task     string
	// Prompt is the prompt text of the first row seen for the item ("" when the table
	// holds hashes only); PromptHash its hash.
	Prompt     string
	PromptHash string
	// System is the system prompt of the request the first row records (learn.RequestSystem),
	// which a score route reads beside the prompt, as the gateway does; "" for none.
	System string
	// Models names the table's models, in column order: the meaning of the indexes of a
	// Scorer's out slice. It is shared by every item and must not be modified.
	Models []string
}

// CellState says what the table knows about one (item, model) cell.
type CellState uint8

// Cell states.
const (
	// Missing: the model has no row for the item. A policy that needs the model skips the
	// item (the oracle chooses among the other models).
	Missing CellState = iota
	// Ungraded: the model has a row, but with neither pass nor score, or a call canceled
	// (outcomes.Row.Canceled); treated as Missing.
	Ungraded
	// Graded: the model answered and the answer is graded.
	Graded
	// Failed: the call failed (the row has an Error); the item gets no answer from the
	// model, which counts as quality 0 at the row's cost and latency.
	Failed
)

// String names the state.
func (s CellState) String() string {
	switch s {
	case Missing:
		return "missing"
	case Ungraded:
		return "ungraded"
	case Graded:
		return "graded"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("CellState(%d)", uint8(s))
}

// Usable reports whether a policy can use the cell: it is graded or a recorded failure.
func (s CellState) Usable() bool { return s == Graded || s == Failed }

// Cell is what one model did on one item.
type Cell struct {
	State CellState
	// Quality is the grade: 0 or 1 under GradePass, the score in [0, 1] under GradeScore,
	// and 0 for a failed call.
	Quality float64
	// Pass is the row's pass verdict (its Pass, else Score ≥ 0.5), whatever the grade: what
	// a cascade's validator judges before the answer delivers its Quality. It is Quality > 0
	// under GradePass, and false for a failed call.
	Pass bool
	Cost clearbar.Money
	// LatencyMS is the recorded response time; 0 means not recorded.
	LatencyMS float64
}

// ModelStats says how much of the table a model covers.
type ModelStats struct {
	// Name is the model's column name (a spec model name when a spec maps it).
	Name string `json:"name"`
	// Sources are the outcomes model names whose rows fill the column.
	Sources []string `json:"sources"`
	// Rows is the number of items with a row; Missing the number without one; Ungraded the
	// rows with neither pass nor score; Failed the rows recording a failed call.
	Rows     int `json:"rows"`
	Missing  int `json:"missing"`
	Ungraded int `json:"ungraded"`
	Failed   int `json:"failed"`
	// Quality is the mean grade and Cost the mean cost over the usable cells (graded or
	// failed), null in JSON when there are none (Usable); Latency the mean recorded latency in
	// milliseconds, 0 when none is recorded.
	Quality   float64        `json:"quality"`
	Cost      clearbar.Money `json:"cost_per_item_usd"`
	LatencyMS float64        `json:"latency_mean_ms"`
	// TokensIn and TokensOut are the mean input and output tokens of the rows that record
	// them, failed calls included, estimated counts (Row.TokensEstimated) not; 0 when none does.
	TokensIn  float64 `json:"tokens_in_mean,omitempty"`
	TokensOut float64 `json:"tokens_out_mean,omitempty"`
}

// Usable returns the number of the model's cells a policy can use: its rows, graded or
// recording a failed call.
func (s ModelStats) Usable() int { return s.Rows - s.Ungraded }

// MarshalJSON writes the stats as their fields say, with null for the quality and cost of a
// model without a usable cell, which measured neither.
func (s ModelStats) MarshalJSON() ([]byte, error) {
	type plain ModelStats
	if s.Usable() > 0 {
		return json.Marshal(plain(s))
	}
	return json.Marshal(struct {
		plain
		Quality *float64        `json:"quality"`
		Cost    *clearbar.Money `json:"cost_per_item_usd"`
	}{plain: plain(s)})
}

// Len returns the number of items.
func (t *Table) Len() int { return len(t.items) }

// Models returns the model names in column order. The slice is shared: do not modify it.
func (t *Table) Models() []string { return t.models }

// Index returns the column of a model, or -1 when the table has no such model.
func (t *Table) Index(model string) int {
	if i, ok := t.index[model]; ok {
		return i
	}
	return -1
}

// Item returns item i (0 ≤ i < Len).
func (t *Table) Item(i int) *Item { return &t.items[i] }

// Cell returns what model m did on item i.
func (t *Table) Cell(i, m int) Cell {
	k := i*len(t.models) + m
	return Cell{State: t.state[k], Quality: t.quality[k], Pass: t.pass[k], Cost: clearbar.Money(t.cost[k]), LatencyMS: t.latency[k]}
}

// Stats returns each model's coverage, in column order.
func (t *Table) Stats() []ModelStats { return t.stats }

// Duplicates returns the number of rows dropped because their (item, model) had a row
// already: the first row wins, as in the replay provider.
func (t *Table) Duplicates() int { return t.duplicates }

// columns resolves model names to columns, with an error naming the table's models.
func (t *Table) columns(models []string) ([]int, error) {
	if len(models) == 0 {
		return nil, fmt.Errorf("no models given")
	}
	out := make([]int, len(models))
	for i, name := range models {
		m := t.Index(name)
		if m < 0 {
			return nil, fmt.Errorf("model %q is not in the outcomes table (its models: %s)", name, strings.Join(t.models, ", "))
		}
		out[i] = m
	}
	return out, nil
}

// usable reports whether every listed column is usable on item i.
func (t *Table) usable(i int, cols []int) bool {
	base := i * len(t.models)
	for _, m := range cols {
		if !t.state[base+m].Usable() {
			return false
		}
	}
	return true
}

// Grade says how a row's grade becomes a cell's quality.
type Grade int

// Grades.
const (
	// GradePass counts a pass as 1 and a fail as 0: Pass when the row has it, else
	// Score ≥ 0.5 (the importers' rule). It is the default.
	GradePass Grade = iota
	// GradeScore uses the score in [0, 1] as the quality, and Pass (as 0 or 1) for rows
	// without a score.
	GradeScore
)

// ParseGrade reads "pass" or "score".
func ParseGrade(s string) (Grade, error) {
	switch s {
	case "", "pass":
		return GradePass, nil
	case "score":
		return GradeScore, nil
	}
	return 0, fmt.Errorf("grade %q: use pass (pass/fail as 1/0) or score (the 0..1 score)", s)
}

// String names the grade.
func (g Grade) String() string {
	if g == GradeScore {
		return "score"
	}
	return "pass"
}

// quality returns a row's quality under g and its pass verdict (Pass, else Score ≥ 0.5),
// and false when the row is not graded.
func (g Grade) quality(r *outcomes.Row) (q float64, pass, graded bool) {
	if pass, graded = r.Passed(); !graded {
		return 0, false, false
	}
	if g == GradeScore && r.Score != nil {
		return *r.Score, pass, true
	}
	return b2f(pass), pass, true
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// BuildOptions configure a Builder. The zero value keeps every row, names columns by the
// rows' model names and grades with GradePass.
type BuildOptions struct {
	Grade Grade
	// Keep, when set, says which rows to use; others are ignored.
	Keep func(row *outcomes.Row) bool
	// Columns, when set, maps a row's model name to the table columns it fills (several
	// spec models may share one provider model id); an empty result drops the row. It is
	// called once per distinct model name. Nil means one column per model name.
	Columns func(model string) []string
	// Price, when set, is asked for the cost of each row that is kept, with the column it
	// fills; it returns the cost to use. Nil means the row's recorded cost.
	Price func(column string, row *outcomes.Row) clearbar.Money
	// Observe, when set, is called for every row that fills a cell (not for duplicates),
	// with the item's index and the column's name, before the next row is added. Replay uses
	// it to run the spec's validators on recorded answers while the table streams in, so
	// answers need not be kept. An error stops the build.
	Observe func(item int, column string, row *outcomes.Row) error
}

// Builder builds a Table from outcomes rows, streaming: it keeps the cells and one prompt per
// item, not the rows. A Builder is used by one goroutine.
type Builder struct {
	opts    BuildOptions
	models  []string
	mindex  map[string]int
	srcs    [][]string
	columns map[string][]int // outcomes model name → columns
	items   []Item
	iindex  map[string]int
	lastID  string
	lastI   int
	// cols[m] holds column m's cells by item; shorter columns are missing the rest.
	cols [][]cell
	// tokens[m] sums column m's recorded tokens (see ModelStats.TokensIn).
	tokens []tokenSums
	dups   int
	row    outcomes.Row
}

// tokenSums sums the input and output tokens of the rows that record them, and counts those.
type tokenSums struct {
	in, out   float64
	nIn, nOut int
}

type cell struct {
	quality, cost, latency float64
	pass                   bool
	state                  CellState
}

// NewBuilder returns an empty Builder.
func NewBuilder(opts BuildOptions) *Builder {
	return &Builder{opts: opts, mindex: map[string]int{}, iindex: map[string]int{}, columns: map[string][]int{}, lastI: -1}
}

// Add adds a row. Rows of one item may come in any order (consecutive rows of one item are
// cheapest); the first row for an (item, model) wins. A row whose Model is empty is an error
// (outcomes.Reader never yields one). Cost: a map lookup per new item and per row, and
// BuildOptions.Columns once per distinct model name.
func (b *Builder) Add(r outcomes.Row) error {
	if r.Model == "" {
		return fmt.Errorf("item %q: row has no model", r.Item)
	}
	// The callbacks get a pointer to the Builder's copy, so the caller's row does not escape.
	b.row = r
	row := &b.row
	if b.opts.Keep != nil && !b.opts.Keep(row) {
		return nil
	}
	cols, ok := b.columns[row.Model]
	if !ok {
		cols = b.addModel(row.Model)
	}
	if len(cols) == 0 {
		return nil
	}
	id := row.Item
	if id == "" {
		id = row.PromptHash
		if id == "" && row.Prompt != "" {
			id = outcomes.HashPrompt(row.Prompt)
		}
	}
	if id == "" {
		return fmt.Errorf("row for model %q has no item, prompt or prompt hash to group it by", row.Model)
	}
	i := b.lastI
	if id != b.lastID || i < 0 {
		if i, ok = b.iindex[id]; !ok {
			i = len(b.items)
			b.iindex[id] = i
			hash := row.PromptHash
			if hash == "" && row.Prompt != "" {
				hash = outcomes.HashPrompt(row.Prompt)
			}
			b.items = append(b.items, Item{ID: id, Category: row.Category, Task: row.Task, Prompt: row.Prompt, PromptHash: hash, System: learn.RequestSystem(row.Request)})
		}
		b.lastID, b.lastI = id, i
	}
	c := cell{latency: row.LatencyMS}
	if !(c.latency > 0) || math.IsInf(c.latency, 0) {
		c.latency = 0
	}
	switch q, pass, graded := b.opts.Grade.quality(row); {
	case row.Canceled():
		c.state = Ungraded // cut before the answer was whole: no answer, and no failure
	case row.Error != "":
		c.state = Failed
	case graded:
		c.state, c.quality, c.pass = Graded, q, pass
	default:
		c.state = Ungraded
	}
	for _, m := range cols {
		col := b.cols[m]
		if i < len(col) && col[i].state != Missing {
			b.dups++
			continue
		}
		cost := row.Cost
		if b.opts.Price != nil {
			cost = b.opts.Price(b.models[m], row)
		}
		c.cost = float64(cost)
		if i >= len(col) {
			col = append(col, make([]cell, i+1-len(col))...)
			b.cols[m] = col
		}
		col[i] = c
		// Estimated counts (a replayed benchmark row's, whose recording had none) say nothing
		// of the model's tokens.
		if tk := &b.tokens[m]; row.TokensIn > 0 && !row.TokensEstimated {
			tk.in += float64(row.TokensIn)
			tk.nIn++
		}
		if tk := &b.tokens[m]; row.TokensOut > 0 && !row.TokensEstimated {
			tk.out += float64(row.TokensOut)
			tk.nOut++
		}
		if b.opts.Observe != nil {
			if err := b.opts.Observe(i, b.models[m], row); err != nil {
				return err
			}
		}
	}
	return nil
}

// addModel resolves an outcomes model name to its columns, adding new ones.
func (b *Builder) addModel(model string) []int {
	names := []string{model}
	if b.opts.Columns != nil {
		names = b.opts.Columns(model)
	}
	cols := make([]int, 0, len(names))
	for _, name := range names {
		m, ok := b.mindex[name]
		if !ok {
			m = len(b.models)
			b.mindex[name] = m
			b.models = append(b.models, name)
			b.srcs = append(b.srcs, nil)
			b.cols = append(b.cols, nil)
			b.tokens = append(b.tokens, tokenSums{})
		}
		b.srcs[m] = append(b.srcs[m], model)
		cols = append(cols, m)
	}
	b.columns[model] = cols
	return cols
}

// Table returns the table of the rows added so far. The Builder may be used again
// afterwards; later tables include the earlier rows.
func (b *Builder) Table() *Table {
	nm, ni := len(b.models), len(b.items)
	t := &Table{
		models:     slices.Clone(b.models),
		index:      map[string]int{},
		items:      slices.Clone(b.items),
		stats:      make([]ModelStats, nm),
		quality:    make([]float64, ni*nm),
		pass:       make([]bool, ni*nm),
		cost:       make([]float64, ni*nm),
		latency:    make([]float64, ni*nm),
		state:      make([]CellState, ni*nm),
		duplicates: b.dups,
	}
	for m, name := range t.models {
		t.index[name] = m
		srcs := slices.Clone(b.srcs[m])
		slices.Sort(srcs)
		t.stats[m] = ModelStats{Name: name, Sources: slices.Compact(srcs)}
		for i, c := range b.cols[m] {
			k := i*nm + m
			t.state[k], t.quality[k], t.pass[k], t.cost[k], t.latency[k] = c.state, c.quality, c.pass, c.cost, c.latency
		}
	}
	for i := range t.items {
		t.items[i].Models = t.models
	}
	for m := range t.stats {
		st := &t.stats[m]
		var q, cost, lat float64
		usable, timed := 0, 0
		for i := 0; i < ni; i++ {
			k := i*nm + m
			switch t.state[k] {
			case Missing:
				st.Missing++
				continue
			case Ungraded:
				st.Ungraded++
			case Failed:
				st.Failed++
			}
			st.Rows++
			if t.state[k].Usable() {
				usable++
				q += t.quality[k]
				cost += t.cost[k]
				if t.latency[k] > 0 {
					timed++
					lat += t.latency[k]
				}
			}
		}
		if usable > 0 {
			st.Quality = q / float64(usable)
			st.Cost = clearbar.Money(math.Round(cost / float64(usable)))
		}
		if timed > 0 {
			st.LatencyMS = lat / float64(timed)
		}
		if tk := b.tokens[m]; tk.nIn > 0 {
			st.TokensIn = tk.in / float64(tk.nIn)
		}
		if tk := b.tokens[m]; tk.nOut > 0 {
			st.TokensOut = tk.out / float64(tk.nOut)
		}
	}
	return t
}

// NewTable builds a table directly from rows, for tests and small tables.
func NewTable(rows []outcomes.Row, opts BuildOptions) (*Table, error) {
	b := NewBuilder(opts)
	for _, r := range rows {
		if err := b.Add(r); err != nil {
			return nil, err
		}
	}
	return b.Table(), nil
}
