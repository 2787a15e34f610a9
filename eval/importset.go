package eval

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/clearbar/clearbar/internal/toolschema"
	"github.com/clearbar/clearbar/outcomes"
)

// ImportedSet is an eval set converted from a public benchmark's files (see ImportBFCL and
// ImportBanking77), ready to be written as a set file that ReadSet reads.
type ImportedSet struct {
	// Header names the data set, its licence and the file it was converted from; Write puts it
	// on the first line, as a comment.
	Header string
	// Items are the set's items, in the order of the benchmark's file.
	Items []ImportedItem
	// Notes say what the conversion changed that a reader of the set should know (names
	// rewritten), for the command to print.
	Notes []string
}

// ImportedItem is one item of an ImportedSet, with the fields of the set format (see ReadSet)
// that conversions write.
type ImportedItem struct {
	ID       string          `json:"id"`
	Messages json.RawMessage `json:"messages"`
	// Tools are OpenAI function tools, sent to the models as written.
	Tools []ImportedTool `json:"tools,omitempty"`
	// Reference is the expected text; nil for none.
	Reference *string `json:"reference,omitempty"`
	// ReferenceToolCalls are the calls expected. nil writes none; an empty, non-nil list
	// writes [], which expects the answer to call no tool.
	ReferenceToolCalls []AcceptedCall `json:"reference_tool_calls,omitzero"`
	// ToolCallStrings is how the calls' strings are compared (see ToolCallStrings): "bfcl"
	// for BFCL's items, "" writes none (exact).
	ToolCallStrings ToolCallStrings `json:"tool_call_strings,omitempty"`
}

// ImportedTool is an OpenAI function tool: {"type": "function", "function": {...}}.
type ImportedTool struct {
	Type     string           `json:"type"`
	Function ImportedFunction `json:"function"`
}

// ImportedFunction is a tool's function: its name, description and JSON Schema parameters.
type ImportedFunction struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Parameters  any    `json:"parameters"`
}

// AcceptedCall is an expected tool call written with the values each argument may take, ""
// among them when the argument may be left out (see ExpectedCall.Accept).
type AcceptedCall struct {
	Name   string           `json:"name"`
	Accept map[string][]any `json:"accept"`
}

// Selection chooses which items of an ImportedSet are kept. The zero Selection keeps every item.
type Selection struct {
	// Sample keeps this many items drawn at random without replacement, in their file order;
	// 0 keeps every item. The draw depends on Seed alone, not on the Go version: the same file,
	// Sample and Seed keep the same items.
	Sample int
	Seed   uint64
	// Limit then keeps the first Limit items of those; 0 keeps them all.
	Limit int
}

// Select keeps the items sel chooses. It returns how many items there were before.
func (s *ImportedSet) Select(sel Selection) int {
	n := len(s.Items)
	if sel.Sample > 0 && sel.Sample < n {
		s.Items = sample(s.Items, sel.Sample, sel.Seed)
	}
	if sel.Limit > 0 && sel.Limit < len(s.Items) {
		s.Items = s.Items[:sel.Limit]
	}
	return n
}

// sample returns k of items drawn by a partial Fisher–Yates shuffle of their indices, driven by
// PCG seeded with seed and an unbiased bounded draw written here, so that the choice does not
// change with the standard library's algorithms; the items keep their order.
func sample(items []ImportedItem, k int, seed uint64) []ImportedItem {
	rng := rand.NewPCG(seed, 0x636c656172626172) // "clearbar"
	below := func(n uint64) uint64 {
		limit := -n % n // 2^64 mod n: draws below it would favour small results
		for {
			if v := rng.Uint64(); v >= limit {
				return v % n
			}
		}
	}
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	for i := range k {
		j := i + int(below(uint64(len(idx)-i)))
		idx[i], idx[j] = idx[j], idx[i]
	}
	chosen := idx[:k]
	slices.Sort(chosen)
	out := make([]ImportedItem, k)
	for i, j := range chosen {
		out[i] = items[j]
	}
	return out
}

// Write writes the set as JSON Lines: the header as a # comment, then one item a line.
// Non-ASCII text and <, > and & are written as they are, not escaped.
func (s *ImportedSet) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	if s.Header != "" {
		fmt.Fprintf(bw, "# %s\n", strings.ReplaceAll(s.Header, "\n", " "))
	}
	for _, it := range s.Items {
		b, err := encodeItem(it)
		if err != nil {
			return err
		}
		bw.Write(b)
	}
	return bw.Flush()
}

// encodeItem returns an item's line, with its newline.
func encodeItem(it ImportedItem) ([]byte, error) {
	b, err := marshalText(it)
	if err != nil {
		return nil, fmt.Errorf("item %q: %w", it.ID, err)
	}
	return append(b, '\n'), nil
}

// marshalText is json.Marshal without escaping <, > and &, which set files keep readable.
func marshalText(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// checkItem reads a converted item as ReadSet will, so that a conversion never writes a set
// that clearbar eval refuses. Errors say what is wrong without a position.
func checkItem(it ImportedItem) error {
	b, err := encodeItem(it)
	if err != nil {
		return err
	}
	if _, err := parseItem(b, 0, Env{}); err != nil {
		return fmt.Errorf("%v (the converted item does not read as an eval set item)", err)
	}
	return nil
}

// toolName is the pattern OpenAI holds function names to.
var toolName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// maxAlternatives is the most values an argument of a BFCL answer may take once its nested
// alternatives are spelled out (the shared data needs 128 at most).
const maxAlternatives = 4096

// ImportBFCL converts a Berkeley Function Calling Leaderboard question file into an eval set;
// see ReadBFCL. answers is BFCL's possible_answer file for it; "" looks for
// possible_answer/<the same name> beside the question file, as BFCL lays its data out, and
// goes without answers when there is none there.
func ImportBFCL(questions, answers string) (*ImportedSet, error) {
	q, err := os.Open(questions)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	missing := ""
	if answers == "" {
		beside := filepath.Join(filepath.Dir(questions), "possible_answer", filepath.Base(questions))
		if _, err := os.Stat(beside); err == nil {
			answers = beside
		} else {
			missing = beside
		}
	}
	var a io.Reader
	if answers != "" {
		f, err := os.Open(answers)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		a = f
	}
	set, err := ReadBFCL(q, questions, a, answers)
	if err != nil && missing != "" && errors.Is(err, errNoAnswer) {
		err = fmt.Errorf("%w; no answer file was found at %s: give BFCL's possible_answer file of this category with --answers", err, missing)
	}
	return set, err
}

// errNoAnswer marks a question without an answer.
var errNoAnswer = errors.New("no answer")

// ReadBFCL converts a Berkeley Function Calling Leaderboard question file (JSON Lines, though
// named .json: {"id", "question": [[{role, content}...]...], "function": [specs]}) and its
// possible_answer file ({"id", "ground_truth": [{function: {argument: [values]}}]}; nil for
// none) into an eval set, named questionsName and answersName in messages.
//
// Each question is an item of the same id: its first turn as "messages"; its functions as
// OpenAI function tools, their parameters' BFCL types made JSON Schema ("dict" is "object",
// "float" "number", "tuple" "array", the other Python names as toolschema has them, and "any"
// no type), at every depth (properties, items, additionalProperties), everything else of the
// schema (descriptions, enums, defaults) as written; and its answer as reference_tool_calls,
// each call {"name", "accept": {argument: [values]}}, "" among the values when the argument
// may be left out. BFCL writes the values a dict argument may take as one dict of lists of
// alternatives; they are spelled out as whole values, since the grader compares each argument
// with each value it accepts. Every item says "tool_call_strings": "bfcl", so that the
// arguments' strings are compared as BFCL's checker compares them (case, spaces and some
// punctuation ignored; see ToolCallStrings) and the pass rates read as BFCL's. Items of the
// irrelevance categories, whose ids say "irrelevance", have no answer: they expect no call,
// reference_tool_calls []. Every other question needs an answer, and every answer a question.
//
// Function names with dots (math.factorial), which OpenAI's tool names do not allow
// (^[a-zA-Z0-9_-]{1,64}$), have each dot replaced by an underscore, in the tool and in the
// calls expected, as BFCL's own OpenAI handler does. Errors name the file and line, and say
// what to change.
func ReadBFCL(questions io.Reader, questionsName string, answers io.Reader, answersName string) (*ImportedSet, error) {
	want := map[string][]AcceptedCall{}
	answerLine := map[string]int{}
	if answers != nil {
		err := eachLine(answers, func(line int, b []byte) error {
			id, calls, err := bfclAnswer(b)
			if err != nil {
				return fmt.Errorf("%s:%d: %w", answersName, line, err)
			}
			if first, dup := answerLine[id]; dup {
				return fmt.Errorf("%s:%d: answer %q: the id is already answered on line %d", answersName, line, id, first)
			}
			want[id], answerLine[id] = calls, line
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	set := &ImportedSet{Header: fmt.Sprintf("Berkeley Function Calling Leaderboard (ShishirPatil/gorilla, Apache-2.0): %s, converted by clearbar eval import", filepath.Base(questionsName))}
	seen := map[string]int{}
	renamed := map[string]string{}
	emptyLists := 0 // arguments given no value, read as the empty list
	err := eachLine(questions, func(line int, b []byte) error {
		at := func(err error) error { return fmt.Errorf("%s:%d: %w", questionsName, line, err) }
		it, err := bfclQuestion(b, renamed)
		if err != nil {
			return at(err)
		}
		if first, dup := seen[it.ID]; dup {
			return at(fmt.Errorf("question %q: the id is already used on line %d", it.ID, first))
		}
		seen[it.ID] = line
		calls, answered := want[it.ID]
		switch {
		case strings.Contains(it.ID, "irrelevance"):
			// None of the functions fits the question: the right answer calls none.
			if answered {
				return at(fmt.Errorf("question %q is an irrelevance item, which expects no call, but %s:%d answers it: give the answer file of this category", it.ID, answersName, answerLine[it.ID]))
			}
			calls = []AcceptedCall{}
		case !answered && answers == nil:
			return at(fmt.Errorf("question %q: %w: BFCL's answers are in possible_answer/%s", it.ID, errNoAnswer, filepath.Base(questionsName)))
		case !answered:
			return at(fmt.Errorf("question %q: %w in %s: give the possible_answer file of the same name as the questions", it.ID, errNoAnswer, answersName))
		}
		for _, c := range calls {
			i := slices.IndexFunc(it.Tools, func(t ImportedTool) bool { return t.Function.Name == c.Name })
			if i < 0 {
				return at(fmt.Errorf("question %q: %s:%d expects a call of %s, which is not among its functions (%s): give the possible_answer file of the same name as the questions", it.ID, answersName, answerLine[it.ID], c.Name, toolList(it.Tools)))
			}
			for _, arg := range slices.Sorted(maps.Keys(c.Accept)) {
				if len(c.Accept[arg]) > 0 {
					continue
				}
				// BFCL lists no value for a few list arguments (live_simple's "record"): no answer
				// could pass as written, and the evident meaning is an empty list.
				if argumentType(it.Tools[i], arg) != "array" {
					return at(fmt.Errorf("question %q: %s:%d: call %s: argument %q accepts no value, so no answer could pass: list the values it may take", it.ID, answersName, answerLine[it.ID], c.Name, arg))
				}
				c.Accept[arg] = []any{[]any{}}
				emptyLists++
			}
		}
		it.ReferenceToolCalls = calls
		it.ToolCallStrings = StringsBFCL
		if err := checkItem(it); err != nil {
			return at(err)
		}
		set.Items = append(set.Items, it)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, id := range slices.Sorted(maps.Keys(answerLine)) {
		if _, ok := seen[id]; !ok {
			return nil, fmt.Errorf("%s:%d: answer %q answers no question of %s: give the possible_answer file of the same name as the questions", answersName, answerLine[id], id, questionsName)
		}
	}
	if len(set.Items) == 0 {
		return nil, fmt.Errorf("%s: no questions: give a BFCL question file, one JSON object a line", questionsName)
	}
	if len(renamed) > 0 {
		examples := slices.Sorted(maps.Keys(renamed))
		more := ""
		if len(examples) > 3 {
			examples, more = examples[:3], ", …"
		}
		for i, old := range examples {
			examples[i] = old + " as " + renamed[old]
		}
		set.Notes = append(set.Notes, fmt.Sprintf("%d function name(s) of the file with dots were written with underscores (%s%s), in the tools and in the calls expected, as OpenAI's tool names allow no dots (BFCL's OpenAI handler does the same)", len(renamed), strings.Join(examples, ", "), more))
	}
	if emptyLists > 0 {
		set.Notes = append(set.Notes, fmt.Sprintf("%d list argument(s) of the answers accept no value ([]), which no answer could give: they are written to accept the empty list", emptyLists))
	}
	return set, nil
}

// argumentType returns the JSON Schema type of a tool's argument, "" when it has no single one.
func argumentType(t ImportedTool, arg string) string {
	params, _ := t.Function.Parameters.(map[string]any)
	props, _ := params["properties"].(map[string]any)
	schema, _ := props[arg].(map[string]any)
	typ, _ := schema["type"].(string)
	return typ
}

// eachLine calls fn with each non-blank line of a JSON Lines file and its number.
func eachLine(r io.Reader, fn func(line int, b []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), outcomes.MaxLineSize)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if line == 1 {
			b = bytes.TrimPrefix(b, []byte("\ufeff"))
		}
		if len(b) == 0 {
			continue
		}
		if err := fn(line, b); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", line+1, err)
	}
	return nil
}

// decodeNumbers decodes JSON keeping numbers as json.Number, so that they are written back
// as they were.
func decodeNumbers(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// bfclName is a BFCL function name as an OpenAI tool name; renamed records the names changed.
func bfclName(name string, renamed map[string]string) (string, error) {
	n := strings.ReplaceAll(name, ".", "_")
	if !toolName.MatchString(n) {
		return "", fmt.Errorf("function %q: the name is not an OpenAI tool name even with its dots replaced (^[a-zA-Z0-9_-]{1,64}$)", name)
	}
	if n != name && renamed != nil {
		renamed[name] = n
	}
	return n, nil
}

// bfclQuestion converts one question line, without its answer.
func bfclQuestion(b []byte, renamed map[string]string) (ImportedItem, error) {
	var q struct {
		ID       string            `json:"id"`
		Question []json.RawMessage `json:"question"`
		Function json.RawMessage   `json:"function"`
	}
	if err := json.Unmarshal(b, &q); err != nil {
		return ImportedItem{}, fmt.Errorf("not a BFCL question (%v): give a question file, one {\"id\", \"question\", \"function\"} object a line", strings.TrimPrefix(err.Error(), "json: "))
	}
	if q.ID == "" {
		return ImportedItem{}, errors.New(`no "id": is this a BFCL question file?`)
	}
	what := fmt.Sprintf("question %q", q.ID)
	if len(q.Question) == 0 {
		return ImportedItem{}, fmt.Errorf(`%s: no "question" turns: give a BFCL question file`, what)
	}
	var fns []struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	}
	if err := json.Unmarshal(q.Function, &fns); err != nil || len(fns) == 0 {
		return ImportedItem{}, fmt.Errorf(`%s: "function" must be a list of function specs, {"name", "description", "parameters"}`, what)
	}
	it := ImportedItem{ID: q.ID, Messages: q.Question[0]}
	names := map[string]string{}
	for _, fn := range fns {
		name, err := bfclName(fn.Name, renamed)
		if err != nil {
			return ImportedItem{}, fmt.Errorf("%s: %w", what, err)
		}
		if other, dup := names[name]; dup {
			return ImportedItem{}, fmt.Errorf("%s: functions %q and %q both become tool %s", what, other, fn.Name, name)
		}
		names[name] = fn.Name
		params := map[string]any{}
		if len(fn.Parameters) > 0 && string(fn.Parameters) != "null" {
			if err := decodeNumbers(fn.Parameters, &params); err != nil {
				return ImportedItem{}, fmt.Errorf("%s: function %s: \"parameters\" must be a schema object", what, fn.Name)
			}
		}
		if err := bfclSchema(params, "parameters"); err != nil {
			return ImportedItem{}, fmt.Errorf("%s: function %s: %w", what, fn.Name, err)
		}
		switch params["type"] {
		case nil:
			params["type"] = "object" // as BFCL's OpenAI handler sets it
		case "object":
		default:
			return ImportedItem{}, fmt.Errorf("%s: function %s: the parameters are of type %v, but a function's parameters are an object", what, fn.Name, params["type"])
		}
		it.Tools = append(it.Tools, ImportedTool{Type: "function", Function: ImportedFunction{Name: name, Description: fn.Description, Parameters: params}})
	}
	return it, nil
}

// jsonSchemaTypes are the types of JSON Schema.
var jsonSchemaTypes = []string{"object", "array", "string", "number", "integer", "boolean", "null"}

// bfclType returns the JSON Schema type of a BFCL type name, "" for "any" (no type).
func bfclType(t string) (string, error) {
	switch {
	case slices.Contains(jsonSchemaTypes, t):
		return t, nil
	case t == "any":
		return "", nil
	}
	if js, ok := toolschema.JSONType(t); ok {
		return js, nil
	}
	return "", fmt.Errorf("type %q is neither a JSON Schema type nor one of BFCL's Python type names (dict, float, tuple, any, …): this conversion reads BFCL's Python categories", t)
}

// bfclSchema makes the BFCL types of a schema JSON Schema types, in place, at every depth;
// path names the schema in errors.
func bfclSchema(v any, path string) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s is %s, but a schema is an object", path, outcomes.JSONKind(kindOf(v)))
	}
	switch t := m["type"].(type) {
	case nil:
	case string:
		js, err := bfclType(t)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if js == "" {
			delete(m, "type")
		} else {
			m["type"] = js
		}
	case []any:
		types := make([]any, 0, len(t))
		for _, e := range t {
			s, _ := e.(string)
			js, err := bfclType(s)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if js == "" { // any of them: no constraint
				types = nil
				break
			}
			types = append(types, js)
		}
		if types == nil {
			delete(m, "type")
		} else {
			m["type"] = types
		}
	default:
		return fmt.Errorf("%s: \"type\" is %s, but it must be a type name", path, outcomes.JSONKind(kindOf(t)))
	}
	if p, ok := m["properties"]; ok {
		props, ok := p.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: \"properties\" must map each argument to its schema", path)
		}
		for _, k := range slices.Sorted(maps.Keys(props)) {
			if err := bfclSchema(props[k], path+"."+k); err != nil {
				return err
			}
		}
	}
	switch items := m["items"].(type) {
	case map[string]any:
		if err := bfclSchema(items, path+"[]"); err != nil {
			return err
		}
	case []any:
		for i, s := range items {
			if err := bfclSchema(s, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	if ap, ok := m["additionalProperties"].(map[string]any); ok {
		if err := bfclSchema(ap, path+".additionalProperties"); err != nil {
			return err
		}
	}
	return nil
}

// kindOf returns a value as outcomes.JSONKind names kinds of decoded JSON.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case json.Number, float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	}
	return "object"
}

// bfclAnswer reads one line of a possible_answer file.
func bfclAnswer(b []byte) (string, []AcceptedCall, error) {
	var a struct {
		ID          string            `json:"id"`
		GroundTruth []json.RawMessage `json:"ground_truth"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return "", nil, fmt.Errorf("not a BFCL answer (%v): give BFCL's possible_answer file, one {\"id\", \"ground_truth\"} object a line", strings.TrimPrefix(err.Error(), "json: "))
	}
	if a.ID == "" {
		return "", nil, errors.New(`no "id": is this BFCL's possible_answer file?`)
	}
	form := `each call must be {"function_name": {"argument": [the values it may take]}} (BFCL's multi-turn answers, lists of Python calls, are not read)`
	calls := make([]AcceptedCall, 0, len(a.GroundTruth))
	for i, raw := range a.GroundTruth {
		var call map[string]map[string]any
		if err := decodeNumbers(raw, &call); err != nil || len(call) != 1 {
			return "", nil, fmt.Errorf("answer %q: call %d: %s", a.ID, i+1, form)
		}
		for fn, args := range call {
			name, err := bfclName(fn, nil)
			if err != nil {
				return "", nil, fmt.Errorf("answer %q: %w", a.ID, err)
			}
			c := AcceptedCall{Name: name, Accept: map[string][]any{}}
			for _, arg := range slices.Sorted(maps.Keys(args)) {
				vals, ok := args[arg].([]any)
				if !ok {
					return "", nil, fmt.Errorf("answer %q: call %s: argument %q: %s", a.ID, fn, arg, form)
				}
				accept, err := alternatives(vals, true)
				if err != nil {
					return "", nil, fmt.Errorf("answer %q: call %s: argument %q: %w", a.ID, fn, arg, err)
				}
				c.Accept[arg] = accept
			}
			calls = append(calls, c)
		}
	}
	return a.ID, calls, nil
}

// alternatives spells out BFCL's values: each value as itself, except a dict, which BFCL
// writes with the values each of its keys may take ({"unit": ["cm", ""]}, "" when the key may
// be left out), and which becomes every dict those choices make; and a list, which becomes
// every list its elements' choices make. top keeps "" as it is, as the top-level mark of an
// argument that may be left out. Equal values are given once.
func alternatives(vals []any, top bool) ([]any, error) {
	var out []any
	seen := map[string]bool{}
	add := func(v any) error {
		b, _ := json.Marshal(v)
		if !seen[string(b)] {
			seen[string(b)] = true
			out = append(out, v)
		}
		if len(out) > maxAlternatives {
			return fmt.Errorf("more than %d values once the alternatives of its nested values are spelled out: too many to list", maxAlternatives)
		}
		return nil
	}
	for _, v := range vals {
		if s, ok := v.(string); ok && s == "" && top {
			if err := add(v); err != nil {
				return nil, err
			}
			continue
		}
		alts, err := spellOut(v)
		if err != nil {
			return nil, err
		}
		for _, a := range alts {
			if err := add(a); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// spellOut returns the values one BFCL value stands for (see alternatives).
func spellOut(v any) ([]any, error) {
	switch t := v.(type) {
	case map[string]any:
		out := []any{map[string]any{}}
		for _, k := range slices.Sorted(maps.Keys(t)) {
			opts, ok := t[k].([]any)
			if !ok {
				opts = []any{t[k]} // a plain value, not a list of choices
			}
			var next []any
			for _, o := range opts {
				if s, ok := o.(string); ok && s == "" {
					next = append(next, out...) // the key left out
					continue
				}
				alts, err := spellOut(o)
				if err != nil {
					return nil, err
				}
				for _, partial := range out {
					for _, a := range alts {
						m := maps.Clone(partial.(map[string]any))
						m[k] = a
						next = append(next, m)
					}
				}
			}
			if len(next) > maxAlternatives {
				return nil, fmt.Errorf("more than %d values once the alternatives of its nested values are spelled out: too many to list", maxAlternatives)
			}
			out = next
		}
		return out, nil
	case []any:
		out := []any{[]any{}}
		for _, e := range t {
			alts, err := spellOut(e)
			if err != nil {
				return nil, err
			}
			var next []any
			for _, partial := range out {
				for _, a := range alts {
					next = append(next, append(slices.Clone(partial.([]any)), a))
				}
			}
			if len(next) > maxAlternatives {
				return nil, fmt.Errorf("more than %d values once the alternatives of its nested values are spelled out: too many to list", maxAlternatives)
			}
			out = next
		}
		return out, nil
	}
	return []any{v}, nil
}

// toolList names tools, for messages.
func toolList(tools []ImportedTool) string {
	names := make([]string, len(tools))
	for i, t := range tools {
		names[i] = t.Function.Name
	}
	return strings.Join(names, ", ")
}

// ImportBanking77 converts a Banking77 CSV file (train.csv or test.csv) into an eval set; see
// ReadBanking77. categories is the JSON list of its labels; "" reads categories.json beside the
// CSV file.
func ImportBanking77(rows, categories string) (*ImportedSet, error) {
	if categories == "" {
		categories = filepath.Join(filepath.Dir(rows), "categories.json")
		if _, err := os.Stat(categories); err != nil {
			return nil, fmt.Errorf("no categories.json beside %s: give the list of the 77 labels (a JSON list of strings) with --categories", rows)
		}
	}
	b, err := os.ReadFile(categories)
	if err != nil {
		return nil, err
	}
	labels, err := ReadLabels(b, categories)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(rows)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadBanking77(f, rows, labels)
}

// ReadLabels reads a JSON list of distinct, non-empty labels (Banking77's categories.json),
// named name in errors.
func ReadLabels(b []byte, name string) ([]string, error) {
	var labels []string
	if err := json.Unmarshal(b, &labels); err != nil || len(labels) == 0 {
		return nil, fmt.Errorf("%s: the categories must be a JSON list of the labels, like [\"card_arrival\", \"card_linking\"]", name)
	}
	seen := map[string]bool{}
	for i, l := range labels {
		switch {
		case strings.TrimSpace(l) == "":
			return nil, fmt.Errorf("%s: label %d is empty: give every label a name", name, i+1)
		case seen[Normalize(l)]:
			return nil, fmt.Errorf("%s: label %q is given twice (or as another label normalized: case, punctuation and spacing ignored), so an answer naming it could not be told from the other", name, l)
		}
		seen[Normalize(l)] = true
	}
	return labels, nil
}

// Banking77Instruction is the system message of a Banking77 item: the labels, one a line,
// and the answer expected.
func Banking77Instruction(labels []string) string {
	return "Classify the intent of a bank customer's message. The intents are:\n" +
		strings.Join(labels, "\n") +
		"\nAnswer with the one intent that fits the message, written exactly as in the list, and nothing else."
}

// ReadBanking77 converts Banking77 rows (CSV with a header naming the columns text and
// category, in any order) into an eval set, named name in messages; labels are the data set's
// categories.
//
// The row with index i (from 0, the header not counted) of a file named test.csv is item
// banking77-test-<i>: a system message listing the labels (see Banking77Instruction) and the
// text as the user's, with the row's category as the reference, compared as eval compares
// references by default, normalized: case, punctuation and spacing do not matter, so that
// card_arrival, "Card arrival" and "card_arrival." pass and any other text fails (ReadLabels
// refuses labels that normalize alike). A category not among the labels is an error.
func ReadBanking77(r io.Reader, name string, labels []string) (*ImportedSet, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil {
		if err == io.EOF {
			return nil, fmt.Errorf("%s: empty: give a Banking77 CSV file with a header text,category", name)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	text, category := slices.Index(header, "text"), slices.Index(header, "category")
	if text < 0 || category < 0 {
		return nil, fmt.Errorf("%s:1: the header is %q, but Banking77's names the columns text and category: give train.csv or test.csv", name, strings.Join(header, ","))
	}
	known := map[string]bool{}
	for _, l := range labels {
		known[l] = true
	}
	system := Banking77Instruction(labels)
	split := strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
	set := &ImportedSet{Header: fmt.Sprintf("Banking77 (PolyAI-LDN/task-specific-datasets, CC BY 4.0): %s, converted by clearbar eval import", filepath.Base(name))}
	for i := 0; ; i++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%s:%d: %v", name, pe.Line, pe.Err)
			}
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		at := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %s", name, line, fmt.Sprintf(format, args...))
		}
		t, c := strings.TrimSpace(rec[text]), strings.TrimSpace(rec[category])
		switch {
		case t == "":
			return nil, at("the text is empty: give every row the customer's message")
		case !known[c]:
			return nil, at("category %q is not one of the %d labels: give the categories file of this data set with --categories", c, len(labels))
		}
		msgs, err := marshalText([]promptMessage{{Role: "system", Content: system}, {Role: "user", Content: t}})
		if err != nil {
			return nil, at("%v", err)
		}
		it := ImportedItem{ID: fmt.Sprintf("banking77-%s-%d", split, i), Messages: msgs, Reference: &c}
		if err := checkItem(it); err != nil {
			return nil, at("%v", err)
		}
		set.Items = append(set.Items, it)
	}
	if len(set.Items) == 0 {
		return nil, fmt.Errorf("%s: no rows below the header", name)
	}
	return set, nil
}
