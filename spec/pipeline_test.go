package spec

import (
	"math"
	"strings"
	"testing"
)

// pipelineEdits turn checkBase into a spec with one pipeline that calls intent, then draft,
// for 80% of user requests; the other 20% call draft alone. The pipeline is written at lines
// 33–37, before tests:.
var pipelineEdits = []string{
	"share: 0.5", "share: 0",
	"share: 0.5", "share: 0.2",
	"tests:\n", "pipelines:\n  - name: answer\n    share: 0.8\n    steps: [intent, draft]\n    latency_budget: 5s\ntests:\n",
}

// withPipeline returns pipelineEdits followed by more edits.
func withPipeline(more ...string) []string {
	return append(append([]string(nil), pipelineEdits...), more...)
}

// TestPipelineSharesOfCalls: with pipelines, volume counts user requests and a category's
// share is of user requests calling it alone; the loader derives each category's share of
// model calls from the pipelines.
func TestPipelineSharesOfCalls(t *testing.T) {
	s, err := parseEdited(t, Options{}, pipelineEdits...)
	if err != nil || len(s.Warnings) > 0 {
		t.Fatalf("the pipeline spec should load cleanly: %v; warnings %v", err, s.Warnings)
	}
	// 0.8 × 2 steps + 0.2 alone = 1.8 calls per user request.
	if got := s.CallsPerRequest(); math.Abs(got-1.8) > 1e-12 {
		t.Errorf("CallsPerRequest = %v, want 1.8", got)
	}
	want := map[string][2]float64{ // share of calls, direct share
		"intent": {0.8 / 1.8, 0},
		"draft":  {1.0 / 1.8, 0.2},
	}
	for _, c := range s.Categories {
		w := want[c.Name]
		if math.Abs(float64(c.Share)-w[0]) > 1e-12 || float64(c.DirectShare) != w[1] {
			t.Errorf("%s: share of calls %v, direct %v; want %v, %v", c.Name, c.Share, c.DirectShare, w[0], w[1])
		}
	}
	// Volume counts the calls the written volume's user requests make; UserVolume keeps it.
	if s.UserVolume.PerMonth != 1000 || s.Volume.PerMonth != 1800 || s.Volume.Monthly() != 1800 {
		t.Errorf("volume: user requests %+v, calls %+v; want 1000 and 1800 a month", s.UserVolume, s.Volume)
	}
	p := s.Pipelines[0]
	if p.Name != "answer" || p.Line() != 34 || len(p.Steps) != 2 || p.Steps[1].Name != "draft" || p.LatencyBudget.D().Seconds() != 5 {
		t.Errorf("pipeline decoded as %+v", p)
	}

	// A step may leave its share out: it is called only through pipelines.
	s, err = parseEdited(t, Options{}, withPipeline("    share: 0\n", "")...)
	if err != nil || s.Category("intent").DirectShare != 0 || math.Abs(s.CallsPerRequest()-1.8) > 1e-12 {
		t.Fatalf("a step without share: %v", err)
	}

	// A volume per day is converted by its monthly figure (calls per month); none, the
	// default one.
	s, err = parseEdited(t, Options{}, withPipeline("{per_month: 1000}", "{per_day: 50}")...)
	if err != nil || s.Volume.PerDay != 0 || s.Volume.PerMonth != 2700 || s.UserVolume.PerDay != 50 {
		t.Fatalf("per day: calls %+v, user requests %+v, %v", s.Volume, s.UserVolume, err)
	}
	s, _ = parseEdited(t, Options{}, withPipeline("volume: {per_month: 1000}\n", "")...)
	if s == nil || s.Volume.Monthly() != 1_800_000 || s.UserVolume.Monthly() != DefaultMonthlyVolume {
		t.Fatalf("no volume: calls %+v, user requests %+v", s.Volume, s.UserVolume)
	}

	// Without pipelines nothing changes: one call per request, shares as written.
	s, err = parseEdited(t, Options{})
	if err != nil || s.CallsPerRequest() != 1 || s.Categories[0].Share != 0.5 || s.Categories[0].DirectShare != 0.5 || s.UserVolume.Monthly() != s.Volume.Monthly() {
		t.Fatalf("no pipelines: calls %v, share %v, direct %v, err %v", s.CallsPerRequest(), s.Categories[0].Share, s.Categories[0].DirectShare, err)
	}
}

func TestPipelineChecks(t *testing.T) {
	check(t, []finding{
		{name: "a step that is no category", edits: withPipeline("steps: [intent, draft]", "steps: [intent,\n      drafts]"), line: 37,
			want: `pipeline "answer" calls "drafts", which is not a category declared under categories: (did you mean "draft"?)`},
		{name: "categories keep their shares of calls", edits: []string{"tests:\n", "pipelines:\n  - {name: answer, share: 1, steps: [intent, draft]}\ntests:\n"}, line: 33,
			want: "pipeline and category shares sum to 2, not 1 (pipelines: answer 1; categories called alone: intent 0.5, draft 0.5): they are 1 over; adjust them so they add up to 1 exactly"},
		{name: "which the message explains", edits: []string{"tests:\n", "pipelines:\n  - {name: answer, share: 1, steps: [intent, draft]}\ntests:\n"}, line: 33,
			want: "intent, draft are pipeline steps with shares of their own: where every call of a category comes through a pipeline, write share: 0 or leave share out (the categories' shares still sum to 1, as shares of model calls do without pipelines)"},
		{name: "shares short", edits: withPipeline("share: 0.8", "share: 0.7"), line: 33,
			want: "pipeline and category shares sum to 0.9, not 1 (pipelines: answer 0.7; categories called alone: draft 0.2): they are 0.1 short; adjust them so they add up to 1 exactly"},
		{name: "a pipeline without share", edits: withPipeline("    share: 0.8\n", ""), line: 34,
			want: `pipeline "answer" has no share: add share: the fraction of user requests it serves, like 0.8`},
		{name: "a pipeline without steps", edits: withPipeline("steps: [intent, draft]", "steps: []"), line: 36,
			want: `pipeline "answer" has no steps: add steps: [CATEGORY, CATEGORY]`},
		{name: "a zero budget", edits: withPipeline("latency_budget: 5s", "latency_budget: 0s"), line: 37,
			want: `pipeline "answer" latency_budget must be more than 0`},
		{name: "a budget without unit", edits: withPipeline("latency_budget: 5s", "latency_budget: 5"), line: 37,
			want: `duration "5" has no unit`},
		{name: "an unknown key", edits: withPipeline("    steps:", "    step:"), line: 36,
			want: `unknown key "step" in pipeline (did you mean "steps"?)`},
		{name: "a name declared twice", edits: withPipeline("tests:\n", "  - {name: answer, share: 0, steps: [draft]}\ntests:\n"), line: 38,
			want: `pipeline "answer" is declared twice (first at line 34): rename or remove one`},
		{name: "a category outside every pipeline still needs a share", edits: withPipeline("steps: [intent, draft]", "steps: [intent]", "    share: 0.2\n", ""), line: 23,
			want: `category "draft" has no share and is no pipeline's step: add share: the fraction of user requests that call it alone, outside any pipeline (like 0.25), or add it to a pipeline's steps`},
		{name: "a share out of range", edits: withPipeline("share: 0.8", "share: 1.8"), line: 35,
			want: "1.8"},
	})
}

// TestPipelineSharesWithoutPipelines: without pipelines, the categories' shares are checked as
// before, with the message README quotes.
func TestPipelineSharesWithoutPipelines(t *testing.T) {
	check(t, []finding{
		{name: "shares of calls", edits: []string{"share: 0.5", "share: 0.4"}, line: 11,
			want: "category shares sum to 0.9, not 1 (intent 0.4, draft 0.5): they are 0.1 short"},
	})
	s, err := parseEdited(t, Options{}, withPipeline("share: 0.8", "share: 0.7")...)
	if err == nil || strings.Contains(err.Error(), ": category shares sum to") {
		t.Errorf("with pipelines, the shares are summed with the pipelines' only: %v (%v)", err, s)
	}
	// Shares short of 1 are not blamed on a step's own share: setting it to 0 would not help.
	if err == nil || strings.Contains(err.Error(), "pipeline step") {
		t.Errorf("shares short of 1 with the hint for shares over 1: %v", err)
	}
}

// TestPipelineVolumePerDay: a volume per day converts to calls a month once, as any other
// volume of user requests does (CallsPerMonth of its monthly figure), not rounded per day
// first: 5,001 a day are 150,030 user requests a month, 1.8 calls each.
func TestPipelineVolumePerDay(t *testing.T) {
	s, err := parseEdited(t, Options{}, withPipeline("volume: {per_month: 1000}", "volume: {per_day: 5001}")...)
	if err != nil {
		t.Fatal(err)
	}
	want := int64(math.Round(150_030 * 1.8))
	if got := s.Volume.Monthly(); got != want || s.CallsPerMonth(s.UserVolume.Monthly()) != want {
		t.Errorf("calls a month %d (CallsPerMonth %d), want %d; user requests %d", got, s.CallsPerMonth(s.UserVolume.Monthly()), want, s.UserVolume.Monthly())
	}
}

// TestPipelineVolumeCapWarns: user requests whose calls a month overflow are counted at the
// largest volume, and a warning says so rather than capping silently.
func TestPipelineVolumeCapWarns(t *testing.T) {
	s, err := parseEdited(t, Options{}, withPipeline("volume: {per_month: 1000}", "volume: {per_month: 9000000000000000000}")...)
	if err != nil {
		t.Fatal(err)
	}
	var warned bool
	for _, w := range s.Warnings {
		warned = warned || strings.Contains(w.Error(), "make more calls than the estimate can count")
	}
	if s.Volume.Monthly() != math.MaxInt64 || !warned {
		t.Errorf("calls a month %d, warnings %q: want the largest volume, and a warning", s.Volume.Monthly(), s.Warnings)
	}
}
