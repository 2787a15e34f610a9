package worksheet

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/estimate"
	"github.com/clearbar/clearbar/spec"
)

// playbookSheet is a worksheet as the routing playbook describes it: its twelve columns only,
// percentages, dollar signs, a validation rule of "none" and one in the team's own words.
const playbookSheet = `task category,traffic share,quality threshold,primary model,fallback model,average tokens in,average tokens out,validation rule,estimated pass rate,estimated latency,estimated per-request cost,last review date
classification,50%,90%,gpt-4.1-nano,gpt-4.1-mini,500,20,none,93%,600ms / 1.5s,$0.00006,2026-10-15
summarization,30%,92%,gpt-4.1-mini,claude-sonnet-4-5,3000,300,max length 2000,95%,3s / 6s,$0.0017,2026-10-15
complex-reasoning,20%,95%,claude-sonnet-4-5,gpt-4.1-mini,4000,600,none,97%,8s / 15s,$0.021,2026-10-15
`

// importPlaybook imports sheet and loads the result, collecting the import's warnings.
func importPlaybook(t *testing.T, sheet string) ([]byte, *spec.Spec, []string) {
	t.Helper()
	var warnings []string
	y, err := Import(strings.NewReader(sheet), ImportOptions{File: "playbook.csv", Warn: func(msg string) { warnings = append(warnings, msg) }})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	s, err := spec.Parse(y, "playbook.yaml", spec.Options{})
	if err != nil {
		t.Fatalf("imported spec does not load: %v\n%s", err, y)
	}
	return y, s, warnings
}

// TestImportPlaybookSheet: a playbook worksheet imports into the routes it describes. "none"
// is no validation rule, so a row with a fallback model is a static route whose fallback is
// tried on provider errors, not a cascade from the strong model to the weak one; "max length
// 2000" is the max-length validator, not a placeholder; the row's pass rate is the primary
// model's, never the fallback model's, so the estimate does not recommend a model nobody
// measured; and the estimated latency of a cascade row gives its first model a latency.
func TestImportPlaybookSheet(t *testing.T) {
	y, s, warnings := importPlaybook(t, playbookSheet)

	cr := s.Category("complex-reasoning")
	if r := cr.Route; r.Kind() != "static" || r.Model.Name != "claude-sonnet-4-5" || len(r.Validate) != 0 ||
		len(cr.Fallback) != 1 || cr.Fallback[0].Name != "gpt-4.1-mini" {
		t.Errorf("complex-reasoning: route %s, validators %d, fallback %v; want claude-sonnet-4-5, no validators, fallback gpt-4.1-mini:\n%s",
			r.Kind(), len(r.Validate), refNames(cr.Fallback), y)
	}
	if cl := s.Category("classification"); cl.Route.Kind() != "static" {
		t.Errorf("classification: route %s, want static (its rule is none)", cl.Route.Kind())
	}
	sum := s.Category("summarization")
	if r := sum.Route; r.Kind() != "cascade" || len(r.Validate) != 1 || r.Validate[0].Summary() != "at most 2000 characters" {
		t.Errorf("summarization: route %s with %d validators; want a cascade validated by max_length 2000:\n%s", r.Kind(), len(r.Validate), y)
	}
	if bytes.Contains(y, []byte("json_schema")) {
		t.Errorf("no rule needs a placeholder validator, yet the spec has one:\n%s", y)
	}

	for _, c := range s.Categories {
		primary := c.Route.Models()[0].Name
		for name, p := range c.Assume.PassRate {
			if name != primary && p != 0 {
				t.Errorf("%s: %s, not the primary model, has pass rate %v; want 0, unknown: the row's pass rate is %s's", c.Name, name, p, primary)
			}
		}
	}
	if want := "# placeholder: the worksheet gives no pass rate for gpt-4.1-mini in this category (the row's is its primary model's); 0 stands for unknown"; !bytes.Contains(y, []byte(want)) {
		t.Errorf("imported spec lacks %q:\n%s", want, y)
	}
	if !strings.Contains(strings.Join(warnings, "\n"), "Pass rates marked placeholder, in classification, summarization, complex-reasoning") {
		t.Errorf("warnings %q do not name the placeholder pass rates", warnings)
	}

	mini := s.Model("gpt-4.1-mini")
	if l := mini.Latency; l == nil || l.P50.D().String() != "3s" || l.P95.D().String() != "6s" {
		t.Errorf("gpt-4.1-mini's latency %+v, want summarization's estimated 3s / 6s", l)
	}
	if want := "# placeholder latency: the estimated latency of category summarization (row 3), where gpt-4.1-mini is the first model of a cascade route"; !bytes.Contains(y, []byte(want)) {
		t.Errorf("imported spec lacks %q:\n%s", want, y)
	}
	if bytes.Contains(y, []byte("the worksheet gives none")) {
		t.Errorf("every model has an estimated latency in the sheet, yet the spec says the worksheet gives none:\n%s", y)
	}

	est, err := estimate.Run(context.Background(), s, estimateOpts)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range est.Policies {
		if p.Name != est.Recommended {
			continue
		}
		for _, c := range p.Categories {
			if c.Category == "complex-reasoning" && strings.Contains(c.Route, "gpt-4.1-mini") && !strings.Contains(c.Route, "claude-sonnet-4-5") {
				t.Errorf("the recommended policy %s routes complex-reasoning to %s, a model the sheet gives no pass rate for", p.Name, c.Route)
			}
		}
	}
}

// TestImportNoRule: every way of writing "no validation rule" gives a static route.
func TestImportNoRule(t *testing.T) {
	for _, rule := range []string{"none", "None", "-", "n/a", "N/A", ""} {
		sheet := strings.Replace(playbookSheet, "4000,600,none,", "4000,600,"+rule+",", 1)
		y, s, _ := importPlaybook(t, sheet)
		if r := s.Category("complex-reasoning").Route; r.Kind() != "static" || len(r.Validate) != 0 {
			t.Errorf("rule %q: route %s with %d validators, want static without:\n%s", rule, r.Kind(), len(r.Validate), y)
		}
	}
}

// TestImportRulePlaceholderWarns: a rule no validator can be read from keeps its placeholder
// validator on a cascade, and the import warns of it.
func TestImportRulePlaceholderWarns(t *testing.T) {
	sheet := strings.Replace(playbookSheet, "max length 2000", "a human checks it", 1)
	y, s, warnings := importPlaybook(t, sheet)
	if r := s.Category("summarization").Route; r.Kind() != "cascade" || len(r.Validate) != 1 || r.Validate[0].Summary() != "JSON Schema from the request" {
		t.Errorf("summarization: want a cascade with the placeholder validator:\n%s", y)
	}
	if !strings.Contains(strings.Join(warnings, "\n"), "Validation rules replaced by a placeholder validator ({json_schema: request}), in summarization") {
		t.Errorf("no warning of the placeholder validator: %q", warnings)
	}
}

// TestLooseRules checks the hand-written wordings of validation rules the import reads, each
// into the validator whose settings it states, and wordings it must leave alone.
func TestLooseRules(t *testing.T) {
	tests := []struct {
		rule, summary, why string
	}{
		{"max length 2000", "at most 2000 characters", "the playbook's example"},
		{"Max length: 2000 chars.", "at most 2000 characters", "case, colon, unit and full stop"},
		{"max_length 80", "at most 80 characters", "the spec's key"},
		{"≤ 500 characters", "at most 500 characters", "a symbol"},
		{"max 300 tokens", "length at most 300 tokens", "tokens are the length validator's"},
		{"min length 20", "length at least 20 characters", "a lower bound"},
		{"json schema", "JSON Schema from the request", "the request's schema"},
		{"json schema from the request", "JSON Schema from the request", "the summary in lower case"},
		{"schema: schemas/intent.json", "JSON Schema schemas/intent.json", "a schema file, its path as written"},
		{"required fields: order_id, Total", "required fields order_id, Total", "field names as written"},
		{"citations required", "citations required, to supplied sources", "citations"},
		{"tool call required", "valid tool call required", "tool calls"},
		{"no refusals", "no refusal", "refusals only"},
		{"regex /^[A-Z]+$/", "regex: matches /^[A-Z]+$/", "a pattern, as written"},
		{"max length two thousand", "", "not a number"},
		{"JSON Schema (inline)", "", "an inline schema is not in its summary"},
		{"none of 12 restricted phrases", "", "the phrases are not in the summary"},
		{"judge strong scores ≥ 0.80", "", "the rubric is not in the summary"},
		{"a human checks it", "", "no validator"},
		{"required: a,b", "required fields a, b", "a bare required takes a colon"},
		{"required citations", "", "not a list of fields"},
		{"length < 100", "", "under 100 is not at most 100"},
	}
	for _, tt := range tests {
		got := rebuildValidators(tt.rule, nil)
		if tt.summary == "" {
			if len(got.validators) > 0 {
				t.Errorf("%q rebuilt as %q, want nothing (%s)", tt.rule, got.validators, tt.why)
			}
			continue
		}
		if len(got.validators) != 1 || summaryOf(got.validators[0]) != tt.summary {
			t.Errorf("%q rebuilt as %q (unknown %q), want the validator summarised %q (%s)", tt.rule, got.validators, got.unknown, tt.summary, tt.why)
		}
		if len(got.loose) != 1 || got.loose[0] != tt.rule+" → "+tt.summary {
			t.Errorf("%q: loose %q, want it noted as read as %q", tt.rule, got.loose, tt.summary)
		}
	}
}
