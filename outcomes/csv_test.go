package outcomes

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
)

func TestCSVRoundTrip(t *testing.T) {
	score, pass, cached, none := 0.8, true, 6, 0
	rows := []Row{
		{Item: "a", Category: "c", Task: "t", Prompt: "What is 2+2?\nAnswer, please.", Model: "m1", Response: "4, \"four\"", TokensIn: 10, TokensOut: 2,
			TokensCached: &cached, TokensReasoning: 1,
			Cost: 52_500, LatencyMS: 812.5, Score: &score, Pass: &pass, Source: SourceEval,
			Verdicts: []clearbar.Verdict{{Validator: "regex", Pass: true}}},
		{Item: "b", PromptHash: "0123456789abcdef", Model: "m2", Error: "rate_limited", Source: SourceTrace},
		// A latency at a time scale says so.
		{Item: "e", PromptHash: "0123456789abcdef", Model: "m2", LatencyMS: 700, TimeScale: 0.05, Source: SourceTrace},
		// No cached tokens recorded is not the same as none cached: both survive the trip.
		{Item: "d", Prompt: "q", Model: "m1", TokensIn: 5, TokensCached: &none, Source: SourceEval},
		{Item: "c", Prompt: "Where is order 7?", Model: "m1", Source: SourceEval, Pass: &pass,
			Request:   json.RawMessage(`{"messages":[{"role":"user","content":"Where is order 7?"}],"tools":[{"type":"function","function":{"name":"get_order"}}]}`),
			ToolCalls: []ToolCall{{ID: "call_1", Name: "get_order", Arguments: `{"id": 7}`}}},
	}
	var buf bytes.Buffer
	w := NewCSVWriter(&buf)
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "o.csv")
	os.WriteFile(path, buf.Bytes(), 0o644)
	var got []Row
	if err := ReadFile(path, func(r Row) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		rows[i].fillHash()
	}
	if !reflect.DeepEqual(got, rows) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, rows)
	}
}

func TestReadFileErrorsNameTheLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(path, []byte("item,model,pass\na,m,maybe\n"), 0o644)
	err := ReadFile(path, func(Row) error { return nil })
	if err == nil || err.Error() != `bad.csv: line 2, pass: "maybe" is not true or false` && !bytes.Contains([]byte(err.Error()), []byte("line 2, pass")) {
		t.Errorf("error %v", err)
	}
}

func TestReadCSVErrors(t *testing.T) {
	tests := []struct {
		name, data, want, explanation string
	}{
		{"empty", "", "o.csv is empty: an outcomes CSV starts with a header row naming its columns, like item,category,task,prompt_hash,model", "not the reader's EOF"},
		{"blank lines only", "\n\n", "o.csv is empty", ""},
		{"field count", "item,model,prompt\na,m,p\nb,m\n", "o.csv: line 3: the row has 2 cells, the header 3", "the counts, said once"},
		{"field count after a long cell", "item,model,prompt\na,m,\"two\nlines\"\nb,m,p,x\n", "o.csv: line 4: the row has 4 cells, the header 3", "lines of the file, not records"},
		{"bad quote", "item,model,prompt\na,m,p\"q\n", `o.csv: line 2: bare " in non-quoted-field`, "the syntax error without the reader's wrapping"},
		{"misspelt column", "itm,model,prompt\na,m,p\n", `o.csv: line 1: unknown column "itm": did you mean "item"?`, "a typo would lose every row's item"},
		{"no model column", "item,prompt\na,p\n", `o.csv: line 1: the header has no "model" column`, ""},
		{"negative latency", "item,model,prompt,latency_ms\na,m,p,-4\n", "o.csv: line 2: row for model \"m\": latency_ms cannot be negative", "the row checks apply to CSV too"},
		{"fractional tokens", "item,model,prompt,tokens_in\na,m,p,1.5\n", `o.csv: line 2, tokens_in: "1.5" is not a whole number`, ""},
		{"not a number", "item,model,prompt,latency_ms\na,m,p,NaN\n", `o.csv: line 2, latency_ms: "NaN" is not a number`, ""},
		{"verdicts type", "item,model,prompt,verdicts\na,m,p,\"[{\"\"pass\"\":\"\"y\"\"}]\"\n", `o.csv: line 2, verdicts: "pass" is a string, but it must be true or false`, "in the table's words"},
		{"verdicts not a list", "item,model,prompt,verdicts\na,m,p,{}\n", `o.csv: line 2, verdicts: the cell is an object, but it must be a JSON list of verdicts`, "the cell, not the line"},
		{"verdicts not JSON", "item,model,prompt,verdicts\na,m,p,[oops\n", `o.csv: line 2, verdicts: not valid JSON`, "what to write in the cell"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "o.csv")
			if err := os.WriteFile(path, []byte(tt.data), 0o644); err != nil {
				t.Fatal(err)
			}
			err := ReadFile(path, func(Row) error { return nil })
			if err == nil || !strings.HasPrefix(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one naming the file and containing %q (%s)", err, tt.want, tt.explanation)
			}
		})
	}
}

func TestReadCSVColumns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.csv")
	data := "\ufeffitem,Model,prompt,notes\na,m,p,checked by hand\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	var got []Row
	if err := ReadFile(path, func(r Row) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Item != "a" || got[0].Model != "m" {
		t.Errorf("rows %+v: a byte order mark, capitals and a column far from any known one are fine", got)
	}
}

// TestCSVLineEnds: a carriage return inside a cell survives the CSV form, before a newline
// (Windows line ends in a prompt or answer, which encoding/csv alone reads back as a newline),
// alone, doubled and at a cell's end, whether the file's own line ends are LF or CR LF (as
// spreadsheets write them), and the cells read back as written.
func TestCSVLineEnds(t *testing.T) {
	rows := []Row{
		{Item: "a", Prompt: "line 1\r\nline 2", Model: "m", Response: "x\r\ny\r\n"},
		{Item: "b", Prompt: "cr\ralone, \"quoted\"\r\n", Model: "m", Response: "\r\r\n\n\r"},
		{Item: "c", Prompt: "plain", Model: "m", Response: "a \"b\"\r\nc"},
	}
	for _, crlf := range []bool{false, true} {
		var buf bytes.Buffer
		w := NewCSVWriter(&buf)
		w.w.UseCRLF = crlf
		for _, r := range rows {
			if err := w.Write(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if crlf {
			// The writer's CR LF form writes every newline in a cell as CR LF, as a
			// spreadsheet does: the file's line ends are CR LF too.
			if !bytes.Contains(buf.Bytes(), []byte("\r\nb,")) {
				t.Fatalf("the file's line ends are not CR LF: %q", buf.String())
			}
		}
		var got []Row
		if err := readCSV(&buf, func(r Row, _ []byte) error { got = append(got, r); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(rows) {
			t.Fatalf("crlf %v: %d rows, want %d", crlf, len(got), len(rows))
		}
		for i, r := range rows {
			want := r
			if crlf {
				// encoding/csv's CR LF form drops a cell's carriage returns and writes each
				// newline as CR LF: what is read back is what it wrote.
				want.Prompt = strings.ReplaceAll(strings.ReplaceAll(r.Prompt, "\r", ""), "\n", "\r\n")
				want.Response = strings.ReplaceAll(strings.ReplaceAll(r.Response, "\r", ""), "\n", "\r\n")
			}
			if got[i].Prompt != want.Prompt || got[i].Response != want.Response {
				t.Errorf("crlf %v, row %s: prompt %q, response %q; want %q, %q", crlf, r.Item, got[i].Prompt, got[i].Response, want.Prompt, want.Response)
			}
			if !crlf && got[i].PromptHash != HashPrompt(got[i].Prompt) {
				t.Errorf("row %s: prompt hash %s, want the hash of the prompt read", r.Item, got[i].PromptHash)
			}
		}
	}
}

// TestCRLFKeeperReadsInAnyPieces: the reader that keeps carriage returns gives the same text
// whatever the size of its reader's buffer, a CR LF split across two reads included.
func TestCRLFKeeperReadsInAnyPieces(t *testing.T) {
	in := "a,\"x\r\ny\",\"\r\"\r\nb,\"\"\"\r\n\"\"\",c\r\n"
	want := "a,\"x\r\r\ny\",\"\r\"\r\nb,\"\"\"\r\r\n\"\"\",c\r\n"
	for _, size := range []int{1, 2, 3, 4096} {
		k := &crlfKeeper{r: bufio.NewReader(strings.NewReader(in))}
		var out []byte
		p := make([]byte, size)
		for {
			n, err := k.Read(p)
			out = append(out, p[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if string(out) != want {
			t.Errorf("reads of %d bytes: %q, want %q", size, out, want)
		}
	}
}

func TestFromDecision(t *testing.T) {
	d := &clearbar.Decision{ID: "dec_1", Category: "extract", PromptHash: "0123456789abcdef", Answer: "{}",
		Attempts: []clearbar.Attempt{
			{N: 1, Kind: clearbar.AttemptPrimary, Model: "small", Class: clearbar.Quality, Latency: 1500 * time.Millisecond,
				Usage: clearbar.Usage{PromptTokens: 10, CompletionTokens: 3, CachedTokens: 4, ReasoningTokens: 2}, Cost: 10,
				Verdicts: []clearbar.Verdict{{Validator: "json", Pass: false, Reason: "not JSON"}}, Outcome: "escalated after failed validation"},
			{N: 2, Kind: clearbar.AttemptJudge, Model: "judge"},
			{N: 2, Kind: clearbar.AttemptCheck, Model: "checker"},
			{N: 3, Kind: clearbar.AttemptEscalation, Model: "big", Class: clearbar.OK, Verdicts: []clearbar.Verdict{{Validator: "json", Pass: true}}, Outcome: "accepted"},
			{N: 4, Kind: clearbar.AttemptRetry, Model: "big", Class: clearbar.Overloaded, Outcome: "fell back"},
		}}
	rows := FromDecision(d)
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3 (judge and agreement check calls left out): %+v", len(rows), rows)
	}
	if rows[0].Pass == nil || *rows[0].Pass || rows[0].Error != "" || rows[0].LatencyMS != 1500 || rows[0].Response != "" {
		t.Errorf("failed validation row %+v", rows[0])
	}
	if u := rows[0].Usage(); u != (clearbar.Usage{PromptTokens: 10, CompletionTokens: 3, CachedTokens: 4, ReasoningTokens: 2}) {
		t.Errorf("first call's usage %+v, want the attempt's, cached and reasoning tokens too", u)
	}
	if rows[1].TokensCached != nil {
		t.Errorf("a call with no recorded usage has cached tokens %d, want none recorded", *rows[1].TokensCached)
	}
	if rows[1].Pass == nil || !*rows[1].Pass || rows[1].Response != "{}" {
		t.Errorf("accepted row %+v", rows[1])
	}
	if rows[2].Item != "dec_1" || rows[2].Error != "overloaded" || rows[2].Pass != nil {
		t.Errorf("second call of the same model %+v: want it under the decision's item, after the call that counted", rows[2])
	}
	// A retry that succeeded after a failed call: both calls are the one item, the one that
	// counted first, as replay keeps the first row of an item and model.
	d = &clearbar.Decision{ID: "dec_2", Category: "extract", PromptHash: "0123456789abcdef", Answer: "ok", Attempts: []clearbar.Attempt{
		{N: 1, Kind: clearbar.AttemptPrimary, Model: "big", Class: clearbar.Overloaded, Outcome: "retried"},
		{N: 2, Kind: clearbar.AttemptRetry, Model: "big", Class: clearbar.OK, Outcome: "delivered"},
		{N: 3, Kind: clearbar.AttemptPrimary, Model: "other", Class: clearbar.OK},
	}}
	rows = FromDecision(d)
	if len(rows) != 3 || rows[0].Item != "dec_2" || rows[0].Error != "" || rows[0].Response != "ok" ||
		rows[1].Item != "dec_2" || rows[1].Error != "overloaded" || rows[2].Model != "other" {
		t.Errorf("rows of a retried call %+v: want the delivered call first, the failed one after it, both of item dec_2", rows)
	}
	for _, r := range rows {
		if err := r.check(); err != nil {
			t.Errorf("row does not check: %v", err)
		}
	}
}

// TestFromDecisionTimeScales: a call to a provider simulated at a time scale has its latency
// divided by that scale, a call to an unscaled provider in the same decision (a fallback to a
// real provider) keeps its own; a record from before attempts said their scale divides every
// call by the decision's.
func TestFromDecisionTimeScales(t *testing.T) {
	d := &clearbar.Decision{ID: "dec_1", Category: "extract", TimeScale: 0.01, Attempts: []clearbar.Attempt{
		{N: 1, Kind: clearbar.AttemptPrimary, Model: "sim", Class: clearbar.Overloaded, Latency: 8 * time.Millisecond, TimeScale: 0.01, Outcome: "fell back"},
		{N: 2, Kind: clearbar.AttemptFallback, Model: "real", Class: clearbar.OK, Latency: 800 * time.Millisecond, Outcome: "delivered"},
	}}
	latency, scale := map[string]float64{}, map[string]float64{}
	for _, r := range FromDecision(d) {
		latency[r.Model], scale[r.Model] = r.LatencyMS, r.TimeScale
	}
	if math.Abs(latency["sim"]-800) > 1e-9 || latency["real"] != 800 {
		t.Errorf("latencies %v, want sim's 8ms at scale 0.01 as 800ms and real's 800ms as recorded", latency)
	}
	// The row says its latency was divided by a scale, so that readers do not take it for a
	// measurement.
	if scale["sim"] != 0.01 || scale["real"] != 0 {
		t.Errorf("time scales %v, want sim's 0.01 and none for real", scale)
	}
	old := &clearbar.Decision{ID: "dec_2", Category: "extract", TimeScale: 0.5, Attempts: []clearbar.Attempt{
		{N: 1, Kind: clearbar.AttemptPrimary, Model: "sim", Class: clearbar.OK, Latency: 100 * time.Millisecond, Outcome: "delivered"},
	}}
	if rows := FromDecision(old); len(rows) != 1 || math.Abs(rows[0].LatencyMS-200) > 1e-9 || rows[0].TimeScale != 0.5 {
		t.Errorf("a record without attempt scales: rows %+v, want 200ms (100ms at the decision's scale 0.5), at time scale 0.5", rows)
	}
}

// TestCSVKeepsGradedBy: the graded_by and retries that eval writes beside a row survive JSON
// Lines → CSV → JSON Lines, so that readers of either form still tell the rows the category's
// validators alone graded, and count the failed calls before a row's; empty cells, or a CSV
// without the columns, say nothing, as a JSON row without the keys.
func TestCSVKeepsGradedBy(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "eval.jsonl")
	os.WriteFile(src, []byte(`{"item":"a","prompt":"p","model":"m","pass":true,"source":"eval","checks":[{"check":"validators (max length 10)","pass":true}],"graded_by":"validators"}
{"item":"b","prompt":"q","model":"m","pass":false,"source":"eval","graded_by":"checks","retries":2}
{"item":"c","prompt":"r","model":"m","pass":true,"source":"eval"}
`), 0o644)
	want := []lineExtras{{GradedBy: "validators", Checks: json.RawMessage(`[{"check":"validators (max length 10)","pass":true}]`)}, {GradedBy: "checks", Retries: 2}, {}}
	// convert writes each row with its line, in either form, and reads back what it wrote.
	convert := func(from, to string, w interface {
		WriteLine(Row, []byte) error
		Flush() error
	}, buf *bytes.Buffer) {
		t.Helper()
		if err := ReadFileLines(from, func(r Row, line []byte) error { return w.WriteLine(r, line) }); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(to, buf.Bytes(), 0o644)
		var got []lineExtras
		if err := ReadFileLines(to, func(_ Row, line []byte) error {
			ex, err := extrasOf(line)
			got = append(got, ex)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: graded_by and retries %+v; want %+v", filepath.Base(to), got, want)
		}
	}
	var csvBuf, jsonBuf bytes.Buffer
	csvPath, back := filepath.Join(dir, "eval.csv"), filepath.Join(dir, "back.jsonl")
	convert(src, csvPath, NewCSVWriter(&csvBuf), &csvBuf)
	if header, _, _ := strings.Cut(csvBuf.String(), "\n"); !strings.Contains(header, ",graded_by,") || !strings.Contains(header, ",retries,") {
		t.Errorf("CSV header %q has no graded_by or retries column", header)
	}
	convert(csvPath, back, NewWriter(&jsonBuf), &jsonBuf)
	if !strings.Contains(jsonBuf.String(), `"source":"eval","checks":[{"check":"validators (max length 10)","pass":true}],"graded_by":"validators"}`) || !strings.Contains(jsonBuf.String(), `"source":"eval","retries":2,"graded_by":"checks"}`) {
		t.Errorf("JSON Lines written from the CSV:\n%s", jsonBuf.String())
	}

	// A CSV written before the column was added reads, its rows saying nothing.
	old := filepath.Join(dir, "old.csv")
	os.WriteFile(old, []byte("item,prompt,model,pass,source\na,p,m,true,eval\n"), 0o644)
	n := 0
	if err := ReadFileLines(old, func(r Row, line []byte) error {
		n++
		if line != nil || r.Pass == nil || !*r.Pass {
			t.Errorf("old CSV row %+v, line %q; want a passing row and no line", r, line)
		}
		return nil
	}); err != nil || n != 1 {
		t.Errorf("old CSV: %d rows, error %v", n, err)
	}
	// A value eval does not write is a mistake, named.
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("item,prompt,model,pass,graded_by\na,p,m,true,validator\n"), 0o644)
	err := ReadFile(bad, func(Row) error { return nil })
	if err == nil || !strings.Contains(err.Error(), `line 2, graded_by: "validator" is not one of checks, validators`) {
		t.Errorf("a misspelt graded_by: error %v", err)
	}
}

// TestTokensEstimatedRoundTrip: a row whose token counts are estimates says so in JSON Lines
// and in CSV, and reads back so; a row of measured counts stays one.
func TestTokensEstimatedRoundTrip(t *testing.T) {
	rows := []Row{
		{Item: "a", Prompt: "Which planet is largest?", Model: "m", Response: "Jupiter", TokensIn: 10, TokensOut: 2, TokensEstimated: true, Cost: 120_000, Source: SourceEval},
		{Item: "b", Prompt: "Which planet is smallest?", Model: "m", Response: "Mercury", TokensIn: 12, TokensOut: 3, Source: SourceEval},
	}
	for i := range rows {
		rows[i].fillHash()
	}
	dir := t.TempDir()
	var jsonl, csvBuf bytes.Buffer
	w, cw := NewWriter(&jsonl), NewCSVWriter(&csvBuf)
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
		if err := cw.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := cw.Flush(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(jsonl.String(), `"tokens_estimated":true`) || strings.Count(jsonl.String(), "tokens_estimated") != 1 {
		t.Errorf("JSON Lines %s: want tokens_estimated on the estimated row alone", jsonl.String())
	}
	for name, data := range map[string][]byte{"o.jsonl": jsonl.Bytes(), "o.csv": csvBuf.Bytes()} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var got []Row
		if err := ReadFile(path, func(r Row) error { got = append(got, r); return nil }); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, rows) {
			t.Errorf("%s round trip:\n got %+v\nwant %+v", name, got, rows)
		}
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("item,model,prompt,tokens_estimated\na,m,p,maybe\n"), 0o644)
	if err := ReadFile(bad, func(Row) error { return nil }); err == nil || !strings.Contains(err.Error(), `line 2, tokens_estimated: "maybe" is not true or false`) {
		t.Errorf("a bad tokens_estimated cell: %v", err)
	}
}

// TestFromDecisionEstimatesAndUnverified: a call whose usage the gateway estimated (the
// upstream reported none) is a row whose tokens are estimates; a call failed only by
// verdicts that could not judge it (an agreement check without an independent checker) has
// no pass, one that a verdict found wanting fails however others could not judge it.
func TestFromDecisionEstimatesAndUnverified(t *testing.T) {
	unverified := clearbar.Verdict{Validator: "agree", Reason: "no independent checker", Unverified: true}
	d := &clearbar.Decision{ID: "dec_3", Category: "qa", Attempts: []clearbar.Attempt{
		{N: 1, Kind: clearbar.AttemptPrimary, Model: "small", Class: clearbar.Quality, Usage: clearbar.Usage{PromptTokens: 12, CompletionTokens: 40},
			UsageEstimated: true, Verdicts: []clearbar.Verdict{{Validator: "max_length", Pass: true}, unverified}, Outcome: "escalated after failed validation"},
		{N: 2, Kind: clearbar.AttemptEscalation, Model: "mid", Class: clearbar.Quality, Usage: clearbar.Usage{PromptTokens: 12, CompletionTokens: 9},
			Verdicts: []clearbar.Verdict{unverified, {Validator: "max_length", Reason: "too long"}}, Outcome: "escalated after failed validation"},
		{N: 3, Kind: clearbar.AttemptEscalation, Model: "big", Class: clearbar.OK, Verdicts: []clearbar.Verdict{{Validator: "agree", Pass: true}}, Outcome: "accepted"},
	}}
	rows := FromDecision(d)
	if len(rows) != 3 {
		t.Fatalf("%d rows: %+v", len(rows), rows)
	}
	if !rows[0].TokensEstimated || rows[0].Pass != nil {
		t.Errorf("estimated, unverified call: row %+v; want tokens estimated and no pass", rows[0])
	}
	if rows[1].TokensEstimated || rows[1].Pass == nil || *rows[1].Pass {
		t.Errorf("counted call a verdict failed: row %+v; want counted tokens and pass false", rows[1])
	}
	if rows[2].TokensEstimated || rows[2].Pass == nil || !*rows[2].Pass {
		t.Errorf("accepted call: row %+v", rows[2])
	}
}
