package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/clearbar/clearbar/eval"
)

// evalImportUsage is the usage line of clearbar eval import.
const evalImportUsage = "clearbar eval import --bfcl FILE [--answers FILE] | --banking77 FILE [--categories FILE] [--sample N [--seed S]] [--limit N] [--out set.jsonl]"

// runEvalImport converts a public benchmark's files into an eval set (see eval.ImportBFCL and
// eval.ImportBanking77), written to standard output or, whole or not at all, to --out.
func (m *Main) runEvalImport(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("eval import", flag.ContinueOnError)
	bfcl := fs.String("bfcl", "", "a Berkeley Function Calling Leaderboard question file (../shared/data/function_calling_bfcl/BFCL_v4_*.json)")
	answers := fs.String("answers", "", "BFCL's answers to it (default: possible_answer/ and the same name, beside it; irrelevance files need none)")
	banking := fs.String("banking77", "", "a Banking77 CSV file, test.csv or train.csv (../shared/data/intent_classification/banking77)")
	categories := fs.String("categories", "", "Banking77's labels, a JSON list (default: categories.json beside the CSV file)")
	sampleN := fs.Int("sample", 0, "keep N items drawn at random, in file order (default: every item)")
	seed := fs.Uint64("seed", 1, "the seed of --sample's draw: the same file, --sample and --seed keep the same items")
	limit := fs.Int("limit", 0, "keep the first N items (of the sample, with --sample)")
	out := fs.String("out", "", "write the set to this file instead of standard output (replaced only once the whole set is written)")
	if _, err := parseArgs(fs, args, 0, 0, evalImportUsage); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	lower := strings.ToLower(*out)
	switch {
	case (*bfcl == "") == (*banking == ""):
		return usagef("give one of --bfcl FILE or --banking77 FILE (usage: %s)", evalImportUsage)
	case *answers != "" && *bfcl == "":
		return usagef("--answers is BFCL's possible_answer file: give it with --bfcl")
	case *categories != "" && *banking == "":
		return usagef("--categories is Banking77's list of labels: give it with --banking77")
	case *sampleN < 0:
		return usagef("--sample %d: give a number of items, or leave --sample out to keep every one", *sampleN)
	case *limit < 0:
		return usagef("--limit %d: give a number of items, or leave --limit out to keep every one", *limit)
	case given["seed"] && *sampleN == 0:
		return usagef("--seed seeds --sample's draw: give --sample N too")
	case strings.HasSuffix(lower, ".gz"):
		return usagef("--out %s: clearbar eval reads a set uncompressed: name it like set.jsonl", *out)
	case strings.HasSuffix(lower, ".csv"):
		return usagef("--out %s: an eval set is JSON Lines: name it like set.jsonl", *out)
	}
	var set *eval.ImportedSet
	var err error
	if *bfcl != "" {
		set, err = eval.ImportBFCL(*bfcl, *answers)
	} else {
		set, err = eval.ImportBanking77(*banking, *categories)
	}
	if err != nil {
		return err
	}
	total := set.Select(eval.Selection{Sample: *sampleN, Seed: *seed, Limit: *limit})
	dst, done, err := m.output(*out)
	if err != nil {
		return err
	}
	if err := done(set.Write(dst)); err != nil {
		return err
	}
	for _, n := range set.Notes {
		fmt.Fprintf(m.Stderr, "clearbar eval import: %s\n", n)
	}
	if *sampleN > total {
		fmt.Fprintf(m.Stderr, "clearbar eval import: --sample %d: the file has %d items, all kept\n", *sampleN, total)
	}
	if *out != "" && *out != "-" {
		kept := fmt.Sprintf("%d items", len(set.Items))
		if len(set.Items) < total {
			kept = fmt.Sprintf("%d of %d items", len(set.Items), total)
		}
		fmt.Fprintf(m.Stderr, "wrote %s to %s; measure models on them with: clearbar eval SPEC --category C --set %s\n", kept, *out, *out)
	}
	return nil
}
