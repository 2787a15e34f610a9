package outcomes

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/clearbar/clearbar"
)

// ImportRouterBench reads the RouterBench subset in its normalised form
// (shared/data/routerbench_subset/outcomes.jsonl.gz: one JSON object per prompt, with
// models.<name>.{score, cost_usd, response}), gzip-compressed or not, and calls emit with one
// row per (prompt, model), models in file order.
//
// Each row has Source "routerbench", Item the sample_id, Task the eval_name (arc-challenge,
// mbpp, winogrande), the prompt and its hash, the response, Cost from cost_usd, Score from
// score (nil where the dataset has none) and Pass = score >= 0.5 when there is a score.
// RouterBench has no token counts or latencies, so those stay zero; RouterDC's train/test
// split is dropped.
//
// RouterBench reuses a few sample ids for different prompts (14 in the subset). The second and
// later prompts with an id get Item "<id>#2", "<id>#3", ..., so that (Item, Model) stays unique.
//
// Reading stops at the first malformed line, with an error naming it, or at the first error
// emit returns, which is returned wrapped (errors.Is finds it).
func ImportRouterBench(r io.Reader, emit func(Row) error) error {
	type modelOutcome struct {
		Score    *float64 `json:"score"`
		CostUSD  *float64 `json:"cost_usd"`
		Response *string  `json:"response"`
	}
	type line struct {
		SampleID string          `json:"sample_id"`
		EvalName string          `json:"eval_name"`
		Prompt   string          `json:"prompt"`
		Models   json.RawMessage `json:"models"`
	}
	items := itemNamer{}
	return importLines(r, "routerbench", "routerbench_subset/outcomes.jsonl.gz", func(b []byte) error {
		var in line
		if err := json.Unmarshal(b, &in); err != nil {
			return err
		}
		if in.SampleID == "" {
			return errors.New("no sample_id (is this the RouterBench outcomes.jsonl.gz?)")
		}
		base := Row{
			Item:       items.name(in.SampleID),
			Task:       in.EvalName,
			Prompt:     in.Prompt,
			PromptHash: HashPrompt(in.Prompt),
			Source:     SourceRouterBench,
		}
		return eachMember(in.Models, func(model string, v json.RawMessage) error {
			var mo modelOutcome
			if err := json.Unmarshal(v, &mo); err != nil {
				return fmt.Errorf("model %q: %w", model, err)
			}
			row := base
			row.Model = model
			if mo.Response != nil {
				row.Response = *mo.Response
			}
			if mo.CostUSD != nil {
				row.Cost = clearbar.MoneyFromUSD(*mo.CostUSD)
			}
			if err := row.setScore(mo.Score); err != nil {
				return fmt.Errorf("model %q: %w", model, err)
			}
			return emit(row)
		})
	})
}

// ImportRouteLLM reads RouteLLM's evaluation data in its normalised form
// (shared/data/routellm_evals/outcomes.jsonl.gz: one object per prompt with task, subtask, id,
// prompt and models.<name>.{score, score_0_1, response}), gzip-compressed or not, and calls
// emit with one row per (prompt, model), models in file order.
//
// Each row has Source "routellm", Item the id, Task "<task>/<subtask>" (like
// "mmlu/abstract_algebra", "gsm8k/test", "mt_bench/writing"), the prompt and its hash, the
// response where the dataset has one (GSM8K), Score on the 0..1 scale (score_0_1 where given —
// MT-Bench's 1-10 judge scores — otherwise score) and Pass = Score >= 0.5. RouteLLM has no
// costs, tokens or latencies.
//
// MT-Bench second turns are stored with both turns' text joined in the prompt, so they replay
// only for a request whose last user message is that joined text.
//
// Errors are reported as for ImportRouterBench.
func ImportRouteLLM(r io.Reader, emit func(Row) error) error {
	type modelOutcome struct {
		Score    *float64 `json:"score"`
		Score01  *float64 `json:"score_0_1"`
		Response *string  `json:"response"`
	}
	type line struct {
		Task    string          `json:"task"`
		Subtask string          `json:"subtask"`
		ID      string          `json:"id"`
		Prompt  string          `json:"prompt"`
		Models  json.RawMessage `json:"models"`
	}
	items := itemNamer{}
	return importLines(r, "routellm", "routellm_evals/outcomes.jsonl.gz", func(b []byte) error {
		var in line
		if err := json.Unmarshal(b, &in); err != nil {
			return err
		}
		if in.ID == "" {
			return errors.New("no id (is this the RouteLLM outcomes.jsonl.gz?)")
		}
		task := in.Task
		if in.Subtask != "" {
			task += "/" + in.Subtask
		}
		base := Row{
			Item:       items.name(in.ID),
			Task:       task,
			Prompt:     in.Prompt,
			PromptHash: HashPrompt(in.Prompt),
			Source:     SourceRouteLLM,
		}
		return eachMember(in.Models, func(model string, v json.RawMessage) error {
			var mo modelOutcome
			if err := json.Unmarshal(v, &mo); err != nil {
				return fmt.Errorf("model %q: %w", model, err)
			}
			row := base
			row.Model = model
			if mo.Response != nil {
				row.Response = *mo.Response
			}
			score := mo.Score
			if mo.Score01 != nil {
				score = mo.Score01
			}
			if err := row.setScore(score); err != nil {
				return fmt.Errorf("model %q: %w", model, err)
			}
			return emit(row)
		})
	})
}

// ErrNotJSONLines is wrapped by the importers' error for input whose first line is not a JSON
// object: one of a dataset's raw files (a CSV, an archive) rather than its normalised
// outcomes.jsonl.gz.
var ErrNotJSONLines = errors.New("not JSON Lines")

// importLines calls fn for every non-blank line of r, wrapping its errors with the line number.
// A first line that is not a JSON object is an error wrapping ErrNotJSONLines that names the
// dataset's normalised file, file (like "routerbench_subset/outcomes.jsonl.gz").
func importLines(r io.Reader, what, file string, fn func([]byte) error) error {
	lines := lineReader{src: r}
	first := true
	for {
		b, ok := lines.next()
		if !ok {
			break
		}
		if first && b[0] != '{' {
			return fmt.Errorf("%s: line %d is %s, not a JSON object: %w; the %s importer reads the dataset's normalised file, %s (one JSON object per prompt), not its raw files",
				what, lines.n, describeLine(b), ErrNotJSONLines, what, file)
		}
		first = false
		if err := fn(b); err != nil {
			return fmt.Errorf("%s: line %d: %w", what, lines.n, err)
		}
	}
	if lines.err != nil {
		return fmt.Errorf("%s: %w", what, lines.err)
	}
	return nil
}

// describeLine says what a line that is not JSON looks like: a CSV header, or other data.
func describeLine(b []byte) string {
	n := min(len(b), 40)
	for n < len(b) && n > 0 && !utf8.RuneStart(b[n]) {
		n-- // cut on a character boundary
	}
	head := b[:n]
	switch {
	case !utf8.Valid(head) || bytes.ContainsFunc(head, func(r rune) bool { return r < ' ' && r != '\t' }):
		return "binary data (an archive?)"
	case bytes.Count(b, []byte{','}) >= 2:
		return fmt.Sprintf("a CSV header (%q…)", head)
	}
	return fmt.Sprintf("%q…", head)
}

// setScore sets Score and Pass from a 0..1 score; nil leaves both unset.
func (r *Row) setScore(score *float64) error {
	if score == nil {
		return nil
	}
	s := *score
	if !(s >= 0 && s <= 1) {
		return fmt.Errorf("score %v is outside 0..1", s)
	}
	pass := s >= 0.5
	r.Score, r.Pass = &s, &pass
	return nil
}

// eachMember calls fn for every member of a JSON object, in document order.
func eachMember(obj json.RawMessage, fn func(key string, v json.RawMessage) error) error {
	if len(obj) == 0 {
		return errors.New("no models")
	}
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errors.New("models is not an object")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("model %q: %w", key, err)
		}
		if err := fn(key, v); err != nil {
			return err
		}
	}
	return nil
}

// itemNamer makes item ids unique: the n-th use of an id (n ≥ 2) becomes "<id>#n".
type itemNamer map[string]int

func (m itemNamer) name(id string) string {
	m[id]++
	if n := m[id]; n > 1 {
		return id + "#" + strconv.Itoa(n)
	}
	return id
}
