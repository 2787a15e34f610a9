package main

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/clearbar/clearbar/learn"
)

const learnEvaluateUsage = "clearbar learn evaluate --outcomes FILE [--category NAME | --task PREFIX] [--models a,b] [--seed N] [--known-costs] [--price MODEL=IN/OUT ... --output-tokens N] [--strong MODEL --weak MODEL] [--agree] [--embed MODEL --spec SPEC.yaml [--embed-dimensions N]] [--out FILE.md]"

// learnEvaluateAbout is the help text of clearbar learn evaluate.
const learnEvaluateAbout = `Says how well a learned router would route this traffic before it routes any: it splits the
outcomes table's items in two by a seeded hash of their ids (--seed), trains the router, the
per-task lookup's pass rates and the decision costs on the train half only, picks each
router's operating point on the train half's cross-validated predictions (95% of the best
model's quality with a one-standard-error margin), and measures on the test half, against
every single model, the oracle, random mixing, the zero router (the best mix of single
models) and the per-task lookup: quality and cost as percentages of the best model's, AIQ,
the cost at 95% of its quality, and APGR for two models. The report is Markdown; the
evaluation of the RouteLLM and RouterBench data in learn/testdata/evaluation.md is this
command's protocol.

Each item's cost is the recorded one, or, for the models given --price (USD per million input
and output tokens, as MODEL=IN/OUT, repeated), a quarter of the prompt's bytes in input tokens
and --output-tokens output tokens at those prices (for tables without costs, such as
RouteLLM's). The router decides on each model's mean cost within the item's task on the train
half, unless --known-costs says the cost follows from the prompt (as with --price), when it
decides on the item's own.

The report prints each calibrated rule as a spec route (a score route, with a mix of two
willingness-to-pay values where the calibration chose one); the route names models as the
outcomes do, so write the spec's names for them, and its willingness to pay decides as here
when the spec's prices give each call the cost the outcomes record.

With --agree it also evaluates the router combined with an agreement cascade, the route
score: {..., escalate: [BEST]} with validate: [{agree: {models: [CHECKER1, CHECKER2], answer:
choice}}]: on a multiple-choice question the answer of a model other than the best is
delivered only when a checker model's recorded answer names the same option, and escalated to
the best model otherwise. Every call is paid for as the gateway makes it, the checks of the
best model's answers included. The router decides on each model's P(pass) and price, as a
score route does; the two checkers (the first checks every model but itself, the second
checks the first) and the rule are chosen on the train half. The table needs each model's
recorded response.

With --embed MODEL --spec SPEC.yaml the router's features include each prompt's embedding,
as learn train --embed makes them (give the --embed-dimensions the router is trained with;
the vectors are cached next to the outcomes table, FILE.embeddings.jsonl, or in
--embed-cache); tools/embed-local serves an offline embeddings endpoint for this.`

// runLearnEvaluate runs learn.Evaluate on an outcomes table.
func (m *Main) runLearnEvaluate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("learn evaluate", flag.ContinueOnError)
	var (
		table    = fs.String("outcomes", "", "the outcomes table (JSON Lines or CSV, gzipped or not)")
		category = fs.String("category", "", "evaluate on this category's rows only, with the category's name as their task feature, as the gateway passes it")
		task     = fs.String("task", "", "evaluate on rows of this task or task prefix only (like mmlu)")
		models   = fs.String("models", "", "comma-separated candidate models, in order (default: every model in the rows)")
		seed     = fs.Uint64("seed", 1, "seeds the train/test split, the folds and training")
		known    = fs.Bool("known-costs", false, "the router may decide on each item's own cost (costs that follow from the prompt)")
		strong   = fs.String("strong", "", "the strong model of the two-model threshold rule and of APGR (default: the best on the train half)")
		weak     = fs.String("weak", "", "the weak model (default: the cheapest on the train half)")
		out      = fs.String("out", "", "write the report to this file instead of standard output")
		budget   = fs.Float64("budget", 0.35, "the budget operating point's budget, a fraction of the best model's cost")
		agree    = fs.Bool("agree", false, "also evaluate the router with an agreement cascade on multiple-choice questions, replaying the recorded answers (needs three or more models with responses)")
		outToks  = fs.Int("output-tokens", 0, "with --price: the output tokens each call is priced with")
		prices   = map[string]learn.TokenPrice{}
		embed    = fs.String("embed", "", "add the prompts' embeddings to the features: a model of --spec whose provider serves embeddings")
		specFile = fs.String("spec", "", "with --embed: the spec that declares the embedding model and its provider")
		embCache = fs.String("embed-cache", "", "with --embed: the vector cache (default: next to --outcomes, FILE.embeddings.jsonl)")
		embBatch = fs.Int("embed-batch", 64, "with --embed: texts per embeddings call")
		embConc  = fs.Int("embed-concurrency", 4, "with --embed: embeddings calls in flight")
		embDims  = embedDimensionsFlag(fs)
	)
	fs.Func("price", "price MODEL's calls from the prompt's length: MODEL=IN/OUT in USD per million tokens (repeat for each model)", func(v string) error {
		model, p, ok := strings.Cut(v, "=")
		in, out, ok2 := strings.Cut(p, "/")
		tp := learn.TokenPrice{}
		var err1, err2 error
		tp.In, err1 = strconv.ParseFloat(in, 64)
		tp.Out, err2 = strconv.ParseFloat(out, 64)
		if !ok || !ok2 || model == "" || err1 != nil || err2 != nil || tp.In < 0 || tp.Out < 0 {
			return fmt.Errorf("%q: write MODEL=IN/OUT, USD per million input and output tokens, like gpt-4o=2.5/10", v)
		}
		prices[model] = tp
		return nil
	})
	if _, err := parseArgs(fs, args, 0, 0, learnEvaluateUsage); err != nil {
		if he, ok := err.(*helpError); ok {
			he.usage = learnEvaluateUsage + "\n\n" + learnEvaluateAbout + "\n\nFlags:"
		}
		return err
	}
	switch {
	case *table == "":
		return usagef("--outcomes is required (usage: %s)", learnEvaluateUsage)
	case (*strong == "") != (*weak == ""):
		return usagef("--strong and --weak go together")
	case (*embed == "") != (*specFile == ""):
		return usagef("--embed MODEL and --spec SPEC.yaml go together")
	case *outToks < 0 || (*outToks > 0 && len(prices) == 0):
		return usagef("--output-tokens goes with --price, and is ≥ 0")
	case *embDims < 0 || *embBatch < 1 || *embBatch > 2048 || *embConc < 1 || *embConc > 64:
		return usagef(embedFlagsRange)
	}
	var ms []string
	if *models != "" {
		ms = splitList(*models)
	}
	ds, verdicts, _, err := readDataset(ctx, *table, *category, *task, ms, *agree)
	if err != nil {
		return err
	}
	for model := range prices {
		if !slices.Contains(ds.Models, model) {
			return usagef("--price %s: the outcomes have no model %s (they have %s)", model, model, strings.Join(ds.Models, ", "))
		}
	}
	if *outToks == 0 {
		for _, model := range slices.Sorted(maps.Keys(prices)) {
			if p := prices[model]; p.Out > 0 {
				return usagef("--price %s=%g/%g prices output tokens, but --output-tokens is 0, which would leave them out of every call's cost: give the output tokens each call is priced with, like --output-tokens 200", model, p.In, p.Out)
			}
		}
	}
	learn.PriceByTokens(ds, prices, *outToks)
	if len(prices) > 0 {
		// A model neither priced nor with recorded costs would be free beside the priced ones.
		var free []string
		for j, model := range ds.Models {
			if _, ok := prices[model]; !ok && !slices.ContainsFunc(ds.Items, func(it learn.Item) bool { return it.Cost[j] > 0 }) {
				free = append(free, model)
			}
		}
		if len(free) > 0 {
			names := strings.Join(free, ", ")
			return usagef("--price prices some models, but %s records no cost for %s and --price gives none, so beside the priced models %s would cost nothing: give --price for every model whose calls the table does not price", *table, names, names)
		}
	}
	if !(*budget > 0 && *budget <= 1) {
		return usagef("--budget %v: give a fraction of the best model's cost in (0, 1], like 0.35", *budget)
	}
	opts := learn.EvalOptions{Seed: *seed, KnownCosts: *known, Strong: *strong, Weak: *weak, Budget: *budget, Agree: *agree}
	if *embed != "" {
		cache := *embCache
		if cache == "" {
			cache = embedCacheBeside(*table)
		}
		cfg, err := m.embedForTraining(ctx, m.Stderr, ds, *specFile, "", *embed, learn.EmbedOptions{
			Config: learn.EmbeddingConfig{Dimensions: *embDims}, Batch: *embBatch, Concurrency: *embConc, Cache: cache})
		if err != nil {
			return err
		}
		opts.Train.Features = learn.DefaultFeatures()
		opts.Train.Features.Embedding = cfg
	}
	ev, err := learn.Evaluate(ds, opts)
	if err != nil {
		return err
	}
	if note := verdictOnlyNote(*table, verdicts, "these figures measure where the validators accept answers"); note != "" {
		fmt.Fprintf(m.Stderr, "clearbar learn evaluate: warning: %s\n", note)
	}
	if w := uncategorisedWarning(ds.TaskInfo()); w != "" {
		fmt.Fprintf(m.Stderr, "clearbar learn evaluate: warning: %s, so these figures overstate how a router trained on these rows routes in a category: give the rows the category (clearbar outcomes import or outcomes convert --category NAME) and evaluate with --category NAME\n", w)
	}
	report := ev.Markdown()
	if *out == "" {
		_, err = fmt.Fprint(m.Stdout, report)
		return err
	}
	if err := os.WriteFile(*out, []byte(report), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(m.Stderr, "wrote %s\n", *out)
	return nil
}
