package learn

import (
	"fmt"
	"io"
	"strings"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
)

// TokenPrice is a model's list price in USD per million tokens.
type TokenPrice struct {
	In, Out float64
}

// RouteLLMPrices are the prices the evaluation charges RouteLLM's two models, which the data
// gives no costs for: gpt-4-1106-preview at OpenAI's list price ($10 in, $30 out per million
// tokens) and Mixtral-8x7B-Instruct at Together AI's list price ($0.60 in and out).
var RouteLLMPrices = map[string]TokenPrice{
	"gpt-4-1106-preview":         {In: 10, Out: 30},
	"mixtral-8x7b-instruct-v0.1": {In: 0.6, Out: 0.6},
}

// PriceByTokens sets every item's cost from list prices: input tokens estimated as the
// prompt's length in bytes / 4, rounded up, and a fixed number of output tokens. A model
// without a price keeps its cost.
func PriceByTokens(ds *Dataset, prices map[string]TokenPrice, outTokens int) {
	for i := range ds.Items {
		it := &ds.Items[i]
		in := float64(clearbar.TokensOfBytes(len(it.Prompt)))
		for j, m := range ds.Models {
			if p, ok := prices[m]; ok {
				it.Cost[j] = (in*p.In + float64(outTokens)*p.Out) / 1e6
			}
		}
	}
}

// RouteLLMDataset reads RouteLLM's evaluation data (shared/data/routellm_evals/outcomes.jsonl.gz,
// see outcomes.ImportRouteLLM) and keeps the items whose task starts with taskPrefix ("mmlu/",
// "gsm8k/"). Costs are left at zero: set them with PriceByTokens.
func RouteLLMDataset(r io.Reader, name, taskPrefix string) (*Dataset, error) {
	var rows []outcomes.Row
	err := outcomes.ImportRouteLLM(r, func(row outcomes.Row) error {
		if strings.HasPrefix(row.Task, taskPrefix) {
			row.Response = ""
			rows = append(rows, row)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("no RouteLLM item has a task starting with %q", taskPrefix)
	}
	return NewDataset(name, sliceSeq(rows), nil), nil
}

// RouterBenchDataset reads the RouterBench subset (shared/data/routerbench_subset/outcomes.jsonl.gz,
// see outcomes.ImportRouterBench), with each call's cost from the data. Ungraded cells (154 in
// the subset) stay NaN: training skips them and evaluation counts them as failures. Each
// model's answer is kept in Item.Answers, for the agreement cascade.
func RouterBenchDataset(r io.Reader, name string) (*Dataset, error) {
	var rows []outcomes.Row
	err := outcomes.ImportRouterBench(r, func(row outcomes.Row) error {
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return GroupRows(name, sliceSeq(rows), nil, true), nil
}

func sliceSeq(rows []outcomes.Row) func(func(outcomes.Row) bool) {
	return func(yield func(outcomes.Row) bool) {
		for _, r := range rows {
			if !yield(r) {
				return
			}
		}
	}
}
