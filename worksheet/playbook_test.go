package worksheet

import (
	"bytes"
	"context"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

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

// importPlaybook imports sheet and loads the result, collecting the import's warnings. Pass
// rates the import leaves for the user to write in are written in first, as 0.8 (see
// fillMissing); y is the spec as imported.
func importPlaybook(t *testing.T, sheet string) ([]byte, *spec.Spec, []string) {
	t.Helper()
	var warnings []string
	y, err := Import(strings.NewReader(sheet), ImportOptions{File: "playbook.csv", Warn: func(msg string) { warnings = append(warnings, msg) }})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	s, err := spec.Parse(fillMissing(y, "0.8"), "playbook.yaml", spec.Options{})
	if err != nil {
		t.Fatalf("imported spec does not load: %v\n%s", err, y)
	}
	return y, s, warnings
}

// missingRate matches the comment the import writes where a pass rate nobody gave goes.
var missingRate = regexp.MustCompile(`(?m)^( *)# missing: no row of the worksheet gives a pass rate for (\S+);.*$`)

// fillMissing does what the imported spec asks of its reader: it writes a pass rate under
// each "missing" comment.
func fillMissing(y []byte, rate string) []byte {
	return missingRate.ReplaceAll(y, []byte("$0\n${1}${2}: "+rate))
}

// TestImportPlaybookSheet: a playbook worksheet imports into the routes it describes. "none"
// is no validation rule, so a row with a fallback model is a static route whose fallback is
// tried on provider errors, not a cascade from the strong model to the weak one; "max length
// 2000" is the max-length validator, not a placeholder; the estimated latency of a cascade
// row gives its first model a latency. The row's pass rate is the primary model's, never the
// fallback model's: a fallback model gets its pass rate as the primary model of another,
// static row, commented with where it came from, or none, so that the spec does not load, with
// the loader's file:line message, until someone writes one in; never a made-up value such as
// 0, which the estimate would use as if measured.
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

	// gpt-4.1-mini is the primary model of summarization only, a cascade, whose estimated pass
	// rate includes escalations to claude-sonnet-4-5: it is not mini's, so the fallbacks to
	// mini get none. claude-sonnet-4-5 is the primary model of complex-reasoning, static.
	_, err := spec.Parse(y, "playbook.yaml", spec.Options{})
	for _, c := range []string{"classification", "complex-reasoning"} {
		want := regexp.MustCompile(`playbook\.yaml:\d+: category "` + c + `" routes to "gpt-4\.1-mini" but assume\.pass_rate has no value for it`)
		if err == nil || !want.MatchString(err.Error()) {
			t.Errorf("loading the imported spec: %v; want %s", err, want)
		}
	}
	if want := "Pass rates missing, in classification (gpt-4.1-mini); complex-reasoning (gpt-4.1-mini): no row of the worksheet gives one"; !strings.Contains(strings.Join(warnings, "\n"), want) {
		t.Errorf("warnings %q lack %q", warnings, want)
	}
	if got := len(missingRate.FindAll(y, -1)); got != 2 {
		t.Errorf("%d comments say where a missing pass rate goes, want 2:\n%s", got, y)
	}
	if p := sum.Assume.PassRate["claude-sonnet-4-5"]; p != 0.97 {
		t.Errorf("summarization: claude-sonnet-4-5's pass rate %v, want 0.97, complex-reasoning's estimated pass rate", p)
	}
	for _, want := range []string{
		"# from another category: the worksheet gives no pass rate for claude-sonnet-4-5 in this category; this is its pass rate in complex-reasoning (row 4), that row's estimated pass rate, where it is the primary model of a static route; a pass rate on another task, so measure it here\n        claude-sonnet-4-5: 0.97\n",
		"# missing: no row of the worksheet gives a pass rate for gpt-4.1-mini; write it here",
	} {
		if !bytes.Contains(y, []byte(want)) {
			t.Errorf("imported spec lacks %q:\n%s", want, y)
		}
	}
	if bytes.Contains(y, []byte(": 0\n")) || bytes.Contains(y, []byte("stands for unknown")) {
		t.Errorf("the imported spec gives a model a pass rate of 0:\n%s", y)
	}
	if !strings.Contains(strings.Join(warnings, "\n"), "Pass rates from other categories, in summarization (claude-sonnet-4-5 from complex-reasoning)") {
		t.Errorf("warnings %q do not name the borrowed pass rate", warnings)
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

// reviewSheet is the routing playbook's worksheet as a team fills it in: two cascades escalate
// from gpt-4.1-nano to gpt-4.1-mini, the primary model of a static row, and two static rows
// fall back to each other's primary model.
const reviewSheet = `task category,traffic share,quality threshold,primary model,fallback model,average tokens in,average tokens out,validation rule,estimated pass rate,estimated latency,estimated per-request cost,last review date
intent,40%,95%,gpt-4.1-nano,gpt-4.1-mini,500,20,json schema,90%,300ms / 800ms,,2026-11-01
extract,20%,96%,gpt-4.1-nano,gpt-4.1-mini,1000,100,"required fields: order_id, items, total",92%,400ms / 1s,,2026-11-01
draft,30%,90%,gpt-4.1-mini,claude-sonnet-4-5,1500,250,none,92%,2s / 5s,,2026-11-01
refund,10%,95%,claude-sonnet-4-5,gpt-4.1-mini,3000,400,none,97%,6s / 12s,,2026-11-01
`

// TestImportedCascadeEstimatesWithRealRates: the estimate of an imported playbook sheet
// relies on no pass rate the sheet does not give. An escalation or fallback model takes its
// pass rate as the primary model of a static row, so a cascade scores at least what its first
// model does alone and the single-model policy on gpt-4.1-mini shows mini's quality; with a
// pass rate of 0 for "unknown", the cascade nano → mini scored below nano alone and all-mini
// scored 0%.
func TestImportedCascadeEstimatesWithRealRates(t *testing.T) {
	y, s, _ := importPlaybook(t, reviewSheet)
	if missingRate.Match(y) {
		t.Fatalf("every model of the sheet is the primary model of a static row, yet a pass rate is missing:\n%s", y)
	}
	for _, c := range s.Categories {
		for name, p := range c.Assume.PassRate {
			if p == 0 {
				t.Errorf("%s: %s has the pass rate 0, which no row gives", c.Name, name)
			}
		}
	}
	if p := s.Category("intent").Assume.PassRate["gpt-4.1-mini"]; p != 0.92 {
		t.Errorf("intent: gpt-4.1-mini's pass rate %v, want 0.92, draft's estimated pass rate:\n%s", p, y)
	}
	want := "# from another category: the worksheet gives no pass rate for gpt-4.1-mini in this category; this is its pass rate in draft (row 4), that row's estimated pass rate, where it is the primary model of a static route; a pass rate on another task, so measure it here\n        gpt-4.1-mini: 0.92\n"
	if !bytes.Contains(y, []byte(want)) {
		t.Errorf("imported spec lacks %q:\n%s", want, y)
	}
	est, err := estimate.Run(context.Background(), s, estimateOpts)
	if err != nil {
		t.Fatal(err)
	}
	quality := func(policy, category string) float64 {
		for _, p := range est.Policies {
			if p.Name != policy {
				continue
			}
			for _, c := range p.Categories {
				if c.Category == category {
					return c.Quality
				}
			}
		}
		t.Fatalf("no %s row for %s", policy, category)
		return 0
	}
	for _, c := range []string{"intent", "extract"} {
		alone := float64(s.Category(c).Assume.PassRate["gpt-4.1-nano"])
		if q := quality("spec", c); q < alone {
			t.Errorf("%s: the cascade gpt-4.1-nano → gpt-4.1-mini delivers %.4f, less than gpt-4.1-nano alone (%.2f)", c, q, alone)
		}
		// 0.92 less the requests that fail twice at the default availability, one in a million.
		if q := quality("all-gpt-4.1-mini", c); math.Abs(q-0.92) > 1e-4 {
			t.Errorf("%s: all-gpt-4.1-mini delivers %.4f, want 0.92, mini's pass rate", c, q)
		}
	}
}

// TestImportPassRateSources: where a model's pass rate in a category comes from when its row
// gives none, in order: a pass rate another row states for it, as its primary model first;
// the estimated pass rate of a static row it is the primary model of; for the row's primary
// model only, the row's quality threshold; never a cascade's estimated pass rate (which
// includes escalations) nor another row's quality threshold.
func TestImportPassRateSources(t *testing.T) {
	const head = "task category,traffic share,quality threshold,primary model,fallback model,average tokens in,average tokens out,validation rule,estimated pass rate,estimated latency,estimated per-request cost,last review date,primary pass rate,other pass rates\n"
	tests := []struct {
		name, rows string
		want       string // b's pass rate in category a, "" when it must be missing
		note       string // in the imported spec
	}{
		{"stated as primary", "a,0.5,0.9,m=gpt-4o-mini,b=gpt-4o,100,10,none,0.95,,,,,\nc,0.3,0.9,b,,100,10,none,0.9,,,,0.85,\nd,0.2,0.9,m,,100,10,none,0.9,,,,,b: 0.8\n", "0.85",
			`this is its pass rate in c (row 3), as its "primary pass rate" column states`},
		{"stated elsewhere before an estimate", "a,0.5,0.9,m=gpt-4o-mini,b=gpt-4o,100,10,none,0.95,,,,,\nc,0.3,0.9,b,,100,10,none,0.9,,,,,\nd,0.2,0.9,m,,100,10,none,0.9,,,,,b: 0.8\n", "0.8",
			`this is its pass rate in d (row 4), as its "other pass rates" column states`},
		{"static estimate", "a,0.5,0.9,m=gpt-4o-mini,b=gpt-4o,100,10,none,0.95,,,,,\nc,0.5,0.9,b,,100,10,none,0.9,,,,,\n", "0.9",
			"this is its pass rate in c (row 3), that row's estimated pass rate, where it is the primary model of a static route"},
		{"not a cascade's estimate", "a,0.5,0.9,m=gpt-4o-mini,b=gpt-4o,100,10,none,0.95,,,,,\nc,0.5,0.9,b,m,100,10,max length 20,0.99,,,,,\n", "",
			"# missing: no row of the worksheet gives a pass rate for b"},
		{"not a quality threshold", "a,0.5,0.9,m=gpt-4o-mini,b=gpt-4o,100,10,none,0.95,,,,,\nc,0.5,0.99,b,,100,10,none,,,,,,\n", "",
			"# missing: no row of the worksheet gives a pass rate for b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var warnings []string
			y, err := Import(strings.NewReader(head+tt.rows), ImportOptions{File: "s.csv", Warn: func(m string) { warnings = append(warnings, m) }})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(y, []byte(tt.note)) {
				t.Errorf("imported spec lacks %q:\n%s", tt.note, y)
			}
			s, err := spec.Parse(y, "s.yaml", spec.Options{})
			if tt.want == "" {
				if err == nil || !strings.Contains(err.Error(), `s.yaml:`) || !strings.Contains(err.Error(), `category "a" routes to "b" but assume.pass_rate has no value for it`) {
					t.Errorf("loading the imported spec: %v; want the loader's file:line error for b in a", err)
				}
				if !strings.Contains(strings.Join(warnings, "\n"), "Pass rates missing, in a (b)") {
					t.Errorf("warnings %q do not ask for b's pass rate in a", warnings)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, y)
			}
			if got := formatFloat(float64(s.Category("a").Assume.PassRate["b"])); got != tt.want {
				t.Errorf("b's pass rate in a = %s, want %s:\n%s", got, tt.want, y)
			}
			if !strings.Contains(strings.Join(warnings, "\n"), "Pass rates from other categories, in a (b from ") {
				t.Errorf("warnings %q do not say b's pass rate in a comes from another category", warnings)
			}
		})
	}
}

// TestImportSingleEstimatedLatency: an estimated latency of one value is read as the median,
// with a p95 of three times it, the ratio of Clearbar's default latency; the model's latency
// comment and a warning say that the p95 is assumed.
func TestImportSingleEstimatedLatency(t *testing.T) {
	sheet := strings.Replace(reviewSheet, "92%,2s / 5s,", "92%,300ms,", 1)
	var warnings []string
	y, err := Import(strings.NewReader(sheet), ImportOptions{File: "s.csv", Warn: func(m string) { warnings = append(warnings, m) }})
	if err != nil {
		t.Fatalf("import of an estimated latency of 300ms: %v", err)
	}
	s, err := spec.Parse(y, "s.yaml", spec.Options{})
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	if l := s.Model("gpt-4.1-mini").Latency; l == nil || l.P50.D() != 300*time.Millisecond || l.P95.D() != 900*time.Millisecond {
		t.Errorf("gpt-4.1-mini's latency %+v, want p50 300ms and an assumed p95 of 900ms", l)
	}
	if want := "; that row gives one latency, 300ms, read as the median: the p95, 900ms, is assumed, 3 times the median as in Clearbar's default latency; measure it\n    latency: {p50: 300ms, p95: 900ms}\n"; !bytes.Contains(y, []byte(want)) {
		t.Errorf("imported spec lacks %q:\n%s", want, y)
	}
	if want := "Latency p95 assumed, for gpt-4.1-mini: the estimated latency it comes from is one value, read as the median, and the p95 is taken as 3 times it"; !strings.Contains(strings.Join(warnings, "\n"), want) {
		t.Errorf("warnings %q lack %q", warnings, want)
	}
	for _, bad := range []string{"300ms /", "0s", "/ 300ms"} {
		if _, err := Import(strings.NewReader(strings.Replace(reviewSheet, "92%,2s / 5s,", "92%,"+bad+",", 1)), ImportOptions{File: "s.csv"}); err == nil ||
			!strings.Contains(err.Error(), `"estimated latency": "`+bad+`" is not a latency: write p50 / p95, like 820ms / 2.4s, or a median alone, like 820ms`) {
			t.Errorf("estimated latency %q: %v; want it refused", bad, err)
		}
	}
}
