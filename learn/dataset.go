package learn

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"maps"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/clearbar/clearbar/outcomes"
)

// Dataset is an outcomes table grouped by item: for every prompt, what each candidate model
// did on it. Train and Evaluate work on one.
type Dataset struct {
	// Name describes the data, for reports.
	Name string
	// Models are the candidates, in the order of Item.Pass and Item.Cost.
	Models []string
	Items  []Item
	// Rows counts the rows grouped; Skipped those left out (no prompt text, or a model
	// outside Models), with SkipReason saying why: the first row without prompt text, and the
	// models that are not candidates, with their rows.
	Rows, Skipped int
	SkipReason    string
	// Uncategorised counts the items whose first row has no category, so that their Task is
	// the row's task (an imported benchmark's, like "mmlu/anatomy"): not a name the gateway,
	// which passes the name of the request's category, ever passes.
	Uncategorised int
}

// Item is one prompt and what each candidate did on it.
type Item struct {
	// ID is the row's Item (or its PromptHash when it has none).
	ID string
	// Task is the row's Category, or its Task when it has no category: what a gateway
	// would pass to Predict as the task.
	Task   string
	Prompt string
	// System is the system prompt of the row's recorded request (outcomes.Row.Request, which
	// eval runs record when the prompt alone does not say what was asked), read as the
	// gateway reads it for a score route (RequestSystem); "" when the row records no request
	// or the request has no system prompt. Features read it as the gateway's do.
	System string
	// PromptHash is the row's prompt_hash: outcomes.HashPrompt of the prompt as first
	// recorded (or a gateway fingerprint), which the model's PromptSet fingerprints.
	PromptHash string
	// Pass is the label per candidate: 1 passed, 0 failed, a fraction when several rows
	// disagree, NaN when the candidate has no graded row. A row's label is its Pass, or
	// Score ≥ 0.5 when Pass is not set.
	Pass []float64
	// Cost is what the candidate's call cost in USD (the mean of its rows; 0 when unknown).
	Cost []float64
	// Embedding is the prompt's embedding, for a model with an embedding block (see
	// EmbedDataset); nil otherwise.
	Embedding []float32
	// Answers are the recorded answer texts per candidate ("" when none), kept only by
	// GroupRows with answers set (an agreement cascade's evaluation reads them); nil otherwise.
	Answers []string
}

// NewDataset groups rows by item. models fixes the candidates and their order; nil means
// every model in the rows, in order of first appearance. Rows without prompt text cannot be
// featurised and are skipped (counted in Skipped), as are rows of models outside models.
func NewDataset(name string, rows iter.Seq[outcomes.Row], models []string) *Dataset {
	return GroupRows(name, rows, models, false)
}

// GroupRows is NewDataset, keeping each candidate's recorded answer in Item.Answers when
// answers is set (the first row's, for a candidate with several rows of an item).
func GroupRows(name string, rows iter.Seq[outcomes.Row], models []string, answers bool) *Dataset {
	ds := &Dataset{Name: name}
	fixed := models != nil
	idx := map[string]int{}
	for i, m := range models {
		idx[m] = i
	}
	ds.Models = append([]string(nil), models...)
	type acc struct {
		pass, graded, cost, rows []float64
		answers                  []string
	}
	byItem := map[string]int{}
	var accs []acc
	var noPrompt string
	notCandidate := map[string]int{} // rows by model
	skip := func(why string) {
		ds.Skipped++
		if noPrompt == "" {
			noPrompt = why
		}
	}
	for r := range rows {
		ds.Rows++
		if r.Prompt == "" {
			skip(fmt.Sprintf("item %q model %q has no prompt text (a table written without prompts cannot train a model)", r.Item, r.Model))
			continue
		}
		k, ok := idx[r.Model]
		if !ok {
			if fixed {
				ds.Skipped++
				notCandidate[r.Model]++
				continue
			}
			k = len(ds.Models)
			idx[r.Model] = k
			ds.Models = append(ds.Models, r.Model)
		}
		id := r.Item
		if id == "" {
			id = r.PromptHash
		}
		n, ok := byItem[id]
		if !ok {
			n = len(ds.Items)
			byItem[id] = n
			task := r.Category
			if task == "" {
				task = r.Task
				ds.Uncategorised++
			}
			ds.Items = append(ds.Items, Item{ID: id, Task: task, Prompt: r.Prompt, PromptHash: r.PromptHash, System: RequestSystem(r.Request)})
			accs = append(accs, acc{})
		}
		a := &accs[n]
		for len(a.pass) <= k {
			a.pass, a.graded = append(a.pass, 0), append(a.graded, 0)
			a.cost, a.rows = append(a.cost, 0), append(a.rows, 0)
		}
		a.cost[k] += r.Cost.USD()
		a.rows[k]++
		if answers && r.Response != "" {
			for len(a.answers) <= k {
				a.answers = append(a.answers, "")
			}
			if a.answers[k] == "" {
				a.answers[k] = r.Response // the first, as replay and calibration take it
			}
		}
		if pass, graded := r.Passed(); graded {
			a.graded[k]++
			if pass {
				a.pass[k]++
			}
		}
	}
	k := len(ds.Models)
	for n := range ds.Items {
		a := &accs[n]
		it := &ds.Items[n]
		it.Pass, it.Cost = make([]float64, k), make([]float64, k)
		if answers {
			it.Answers = make([]string, k)
			copy(it.Answers, a.answers)
		}
		for j := range k {
			it.Pass[j] = math.NaN()
			if j < len(a.pass) && a.graded[j] > 0 {
				it.Pass[j] = a.pass[j] / a.graded[j]
			}
			if j < len(a.cost) && a.rows[j] > 0 {
				it.Cost[j] = a.cost[j] / a.rows[j]
			}
		}
	}
	var why []string
	if noPrompt != "" {
		why = append(why, noPrompt)
	}
	if len(notCandidate) > 0 {
		names := slices.SortedFunc(maps.Keys(notCandidate), func(a, b string) int {
			return cmp.Or(notCandidate[b]-notCandidate[a], strings.Compare(a, b))
		})
		var list []string
		for _, m := range names[:min(len(names), 3)] {
			list = append(list, fmt.Sprintf("%q %d", m, notCandidate[m]))
		}
		if len(names) > 3 {
			list = append(list, fmt.Sprintf("and %d more", len(names)-3))
		}
		model := "model that is not a candidate"
		if len(names) > 1 {
			model = fmt.Sprintf("%d models that are not candidates", len(names))
		}
		why = append(why, fmt.Sprintf("rows of %s: %s", model, strings.Join(list, ", ")))
	}
	ds.SkipReason = strings.Join(why, "; ")
	return ds
}

// RequestSystem returns the system prompt of an OpenAI chat completions request body, as a
// score route reads it in the gateway: the text of the first system or developer message,
// its text parts joined by newlines as the gateway decodes them. It returns "" for a body
// that is empty, unreadable or without such a message.
func RequestSystem(request []byte) string {
	if len(request) == 0 {
		return ""
	}
	var body struct {
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if json.Unmarshal(request, &body) != nil {
		return ""
	}
	for _, m := range body.Messages {
		if m.Role != "system" && m.Role != "developer" {
			continue
		}
		var text string
		if json.Unmarshal(m.Content, &text) == nil {
			return text
		}
		var parts []struct {
			Type    string `json:"type"`
			Text    string `json:"text"`
			Refusal string `json:"refusal"`
		}
		if json.Unmarshal(m.Content, &parts) != nil {
			return ""
		}
		var b strings.Builder
		for _, p := range parts {
			switch p.Type {
			case "text", "input_text", "refusal":
				if b.Len() > 0 {
					b.WriteByte('\n')
				}
				b.WriteString(p.Text)
				if p.Type == "refusal" {
					b.WriteString(p.Refusal)
				}
			}
		}
		return b.String()
	}
	return ""
}

// ReadTable returns the rows of an outcomes table (JSON Lines, gzip-compressed or not) as an
// iterator, and a function reporting the error that ended it early, if any.
func ReadTable(r io.Reader) (iter.Seq[outcomes.Row], func() error) {
	var err error
	seq := func(yield func(outcomes.Row) bool) {
		rd := outcomes.NewReader(r)
		for rd.Next() {
			if !yield(rd.Row()) {
				return
			}
		}
		err = rd.Err()
	}
	return seq, func() error { return err }
}

// TrainFile trains on the outcomes table at path (see Train) and records the path as the
// training data. It is what "clearbar learn train --outcomes FILE" runs; save the model with
// Model.Save and print the report with Report.WriteText.
func TrainFile(path string, opts TrainOptions) (*Model, *Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading outcomes: %w", err)
	}
	defer f.Close()
	rows, rerr := ReadTable(f)
	if opts.Data == "" {
		opts.Data = path
	}
	ds := NewDataset(path, rows, opts.Models)
	if err := rerr(); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return TrainDataset(ds, opts)
}
