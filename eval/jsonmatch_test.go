package eval

import (
	"context"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
)

func textAnswer(s string) *Input {
	return &Input{Item: &Item{ID: "x"}, Response: &clearbar.Response{Choices: []clearbar.Choice{{Text: s}}}}
}

// TestJSONChecks: {"json": true} compares the answer with the reference as JSON values, and
// json_path one value of it, where a normalized text match would pass other case, another
// type, or no JSON at all; a JSON reference left to the default text match is warned about,
// once for the set.
func TestJSONChecks(t *testing.T) {
	set, err := LoadSet("testdata/intent_set.jsonl", Env{})
	if err != nil {
		t.Fatal(err)
	}
	whole, path := set.Items[0].Graders[0], set.Items[1].Graders[0]
	for _, tt := range []struct {
		g      Grader
		answer string
		pass   bool
		reason string
	}{
		{whole, `{ "intent" : "activate_my_card" }`, true, ""},
		{whole, "\n{\"intent\":\"activate_my_card\"}\n", true, ""},
		{whole, `{"intent": "ACTIVATE_MY_CARD"}`, false, `"intent" is "ACTIVATE_MY_CARD"`},
		{whole, `{"intent": ["activate_my_card"]}`, false, `"intent" is ["activate_my_card"]`},
		{whole, `intent: activate_my_card`, false, "not JSON"},
		{whole, `{"intent": "activate_my_card", "confidence": 0.9}`, false, `key "confidence"`},
		{path, `{"confidence": 0.9, "intent": "beneficiary_not_allowed"}`, true, ""},
		{path, `{"intent": "Beneficiary_not_allowed"}`, false, `"intent" is "Beneficiary_not_allowed"`},
		{path, `{"label": "beneficiary_not_allowed"}`, false, `no "intent"`},
	} {
		v := tt.g.Grade(context.Background(), textAnswer(tt.answer))
		if v.Pass != tt.pass || !strings.Contains(v.Reason, tt.reason) {
			t.Errorf("%s on %s: pass %v (%s); want %v, a reason with %q", tt.g.Name(), tt.answer, v.Pass, v.Reason, tt.pass, tt.reason)
		}
	}
	// The default match of a JSON reference is still text, and the set says so once.
	if _, ok := set.Items[2].Graders[0].(Normalized); !ok {
		t.Errorf("item b3 is graded by %T: a JSON reference without checks keeps the normalized match", set.Items[2].Graders[0])
	}
	if len(set.Warnings) != 1 || !strings.Contains(set.Warnings[0], `item "b3": a JSON reference`) || !strings.Contains(set.Warnings[0], `{"json": true}`) {
		t.Errorf("warnings %q: want one, naming b3 and the json check", set.Warnings)
	}
	for _, tt := range []struct{ line, want string }{
		{`{"id": "a", "prompt": "p", "checks": [{"json": true}]}`, "the item has none"},
		{`{"id": "a", "prompt": "p", "reference": "refund", "checks": [{"json": true}]}`, "the reference is not JSON"},
		{`{"id": "a", "prompt": "p", "checks": [{"json": "refund"}]}`, `"json" must be true`},
		{`{"id": "a", "prompt": "p", "checks": [{"json_path": "intent"}]}`, `needs "equals"`},
		{`{"id": "a", "prompt": "p", "checks": [{"json_path": "a..b", "equals": 1}]}`, "keys separated by dots"},
	} {
		_, err := ReadSet(strings.NewReader(tt.line), "set.jsonl", Env{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want it to contain %q", tt.line, err, tt.want)
		}
	}
}

// TestSimulatedJSONChecks: simulated answers to items graded by json and json_path checks
// pass them when drawn good and fail them when drawn bad.
func TestSimulatedJSONChecks(t *testing.T) {
	set, err := LoadSet("testdata/intent_set.jsonl", Env{})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range set.Items[:2] {
		for _, good := range []bool{true, false} {
			body := `{"x_clearbar_simulation":{"category":"c","good":false,"flagged":false}}`
			if good {
				body = strings.Replace(body, `"good":false`, `"good":true`, 1)
			}
			resp := &clearbar.Response{Body: []byte(body), Choices: []clearbar.Choice{{Text: `{"intent": "x", "note": "simulated"}`}}}
			got := simulatedAnswer(it, resp)
			if v := it.Graders[0].Grade(context.Background(), &Input{Item: it, Response: got}); v.Pass != good {
				t.Errorf("%s drawn good=%v: %q graded %v (%s)", it.ID, good, got.Text(), v.Pass, v.Reason)
			}
		}
	}
}
