package outcomes

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
)

func TestCSVRoundTrip(t *testing.T) {
	score, pass := 0.8, true
	rows := []Row{
		{Item: "a", Category: "c", Task: "t", Prompt: "What is 2+2?\nAnswer, please.", Model: "m1", Response: "4, \"four\"", TokensIn: 10, TokensOut: 2,
			Cost: 52_500, LatencyMS: 812.5, Score: &score, Pass: &pass, Source: SourceEval,
			Verdicts: []clearbar.Verdict{{Validator: "regex", Pass: true}}},
		{Item: "b", PromptHash: "0123456789abcdef", Model: "m2", Error: "rate_limited", Source: SourceTrace},
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
	rows[0].PromptHash = HashPrompt(rows[0].Prompt)
	rows[2].PromptHash = HashPrompt(rows[2].Prompt)
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

func TestFromDecision(t *testing.T) {
	d := &clearbar.Decision{ID: "dec_1", Category: "extract", PromptHash: "0123456789abcdef", Answer: "{}",
		Attempts: []clearbar.Attempt{
			{N: 1, Kind: clearbar.AttemptPrimary, Model: "small", Class: clearbar.Quality, Latency: 1500 * time.Millisecond, Usage: clearbar.Usage{PromptTokens: 10, CompletionTokens: 3}, Cost: 10,
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
	if rows[1].Pass == nil || !*rows[1].Pass || rows[1].Response != "{}" {
		t.Errorf("accepted row %+v", rows[1])
	}
	if rows[2].Item != "dec_1#2" || rows[2].Error != "overloaded" || rows[2].Pass != nil {
		t.Errorf("second call of the same model %+v", rows[2])
	}
	for _, r := range rows {
		if err := r.check(); err != nil {
			t.Errorf("row does not check: %v", err)
		}
	}
}
