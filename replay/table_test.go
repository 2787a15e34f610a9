package replay_test

import (
	"slices"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/replay"
)

func row(item, model string, pass bool, cost float64) outcomes.Row {
	return outcomes.Row{Item: item, Prompt: "prompt " + item, Model: model, Pass: &pass, Cost: clearbar.MoneyFromUSD(cost)}
}

// TestBuilderColumns: a provider model id several spec models share fills each of their
// columns; a model mapped to no column is dropped; rows without an item id group by prompt.
func TestBuilderColumns(t *testing.T) {
	rows := []outcomes.Row{
		row("a", "gpt-4o", true, 0.01),
		row("a", "gpt-4o-mini", false, 0.001),
		row("a", "dropped", true, 0.5),
		{Prompt: "no id", Model: "gpt-4o", Pass: new(bool)},
		{Prompt: "no id", Model: "gpt-4o-mini", Pass: new(bool)},
	}
	tb, err := replay.NewTable(rows, replay.BuildOptions{Columns: func(m string) []string {
		switch m {
		case "gpt-4o":
			return []string{"strong-openai", "strong-azure"}
		case "dropped":
			return nil
		}
		return []string{m}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"strong-openai", "strong-azure", "gpt-4o-mini"}; !slices.Equal(tb.Models(), want) {
		t.Errorf("columns %v, want %v", tb.Models(), want)
	}
	if tb.Len() != 2 || tb.Item(1).ID != outcomes.HashPrompt("no id") {
		t.Errorf("%d items, second %q; want 2, the second keyed by its prompt's hash", tb.Len(), tb.Item(1).ID)
	}
	for _, m := range []int{0, 1} {
		if c := tb.Cell(0, m); c.State != replay.Graded || c.Quality != 1 || c.Cost != clearbar.MoneyFromUSD(0.01) {
			t.Errorf("column %s on item a: %+v, want the gpt-4o row", tb.Models()[m], c)
		}
	}
	if st := tb.Stats()[1]; !slices.Equal(st.Sources, []string{"gpt-4o"}) || st.Rows != 2 {
		t.Errorf("strong-azure stats %+v: want rows from gpt-4o on both items", st)
	}
	if _, err := replay.NewTable([]outcomes.Row{{Item: "x"}}, replay.BuildOptions{}); err == nil {
		t.Error("a row without a model should be an error")
	}
}

// TestCascadeVerdicts: with the real validators' verdicts, escalation is deterministic; a
// retry replays the same answer, so a flagged answer is paid for twice and escalates anyway;
// judge costs are added.
func TestCascadeVerdicts(t *testing.T) {
	rows := []outcomes.Row{
		row("ok", "small", true, 0.001), row("ok", "big", true, 0.01),
		row("flagged", "small", false, 0.002), row("flagged", "big", true, 0.02),
		row("missed", "small", false, 0.003), row("missed", "big", true, 0.03),
	}
	tb, err := replay.NewTable(rows, replay.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v := replay.NewVerdicts(2)
	v.Set(0, 0, true, 100) // ok: passes, a judge call of 100 nano-dollars
	v.Set(1, 0, false, 0)  // flagged: caught
	v.Set(2, 0, true, 0)   // missed: a bad answer the validator let through
	v.Set(1, 1, true, 0)   // the big model's answers pass
	tests := []struct {
		name        string
		explanation string
		retry       bool
		quality     float64
		cost        clearbar.Money
		escalation  float64
	}{
		{"escalate", "ok and missed stop at small (missed delivers a failure); flagged escalates", false, 2.0 / 3,
			clearbar.MoneyFromUSD(0.001+0.002+0.003+0.02) + 100, 1.0 / 3},
		{"retry once", "flagged is retried on small (same answer, same verdict) before escalating", true, 2.0 / 3,
			clearbar.MoneyFromUSD(0.001+0.002*2+0.003+0.02) + 100, 1.0 / 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &replay.Cascade{Verdicts: v, Steps: []replay.Step{{Model: "small", Validated: true, RetryOnce: tt.retry}, {Model: "big", Validated: true}}}
			got := mustEval(t, c, tb)
			if !near(got.Quality, tt.quality) || got.Cost != tt.cost || !near(got.Escalation, tt.escalation) || !got.Params.Validators {
				t.Errorf("quality %v cost %v escalation %v; want %v %v %v (%s)", got.Quality, got.Cost, got.Escalation, tt.quality, tt.cost, tt.escalation, tt.explanation)
			}
		})
	}
	if _, err := (&replay.Cascade{Verdicts: replay.NewVerdicts(3), Steps: []replay.Step{{Model: "small", Validated: true}}}).Evaluate(tb); err == nil {
		t.Error("verdicts for 3 steps on a 1-step cascade should be an error")
	}
}

// TestCanceledRowIsNoFailure: a call the client or a shutdown cut (error "canceled") neither
// answered nor failed: the cell is left ungraded, like a missing row, instead of counting as
// a failure of the model at quality 0.
func TestCanceledRowIsNoFailure(t *testing.T) {
	rows := []outcomes.Row{
		row("a", "m", true, 0.01),
		{Item: "b", Prompt: "prompt b", Model: "m", Error: "canceled"},
		{Item: "c", Prompt: "prompt c", Model: "m", Error: "overloaded"},
	}
	tb, err := replay.NewTable(rows, replay.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := tb.Cell(1, 0); c.State != replay.Ungraded {
		t.Errorf("canceled call: %v, want ungraded", c.State)
	}
	if c := tb.Cell(2, 0); c.State != replay.Failed {
		t.Errorf("overloaded call: %v, want failed", c.State)
	}
	if st := tb.Stats()[0]; st.Failed != 1 || st.Ungraded != 1 || st.Quality != 0.5 {
		t.Errorf("stats %+v: want 1 failed, 1 ungraded and quality 0.5 (the canceled call left out)", st)
	}
}
