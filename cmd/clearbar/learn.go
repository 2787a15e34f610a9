package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/clearbar/clearbar/learn"
	"github.com/clearbar/clearbar/outcomes"
)

const learnTrainUsage = "clearbar learn train --outcomes FILE [--category NAME | --task PREFIX] [--models a,b] [--out router.json] [--seed N] [--folds N]"

// runLearn trains learned score routers.
func (m *Main) runLearn(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "train" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintf(m.Stdout, "Usage: %s\n", learnTrainUsage)
			return nil
		}
		return usagef("usage: %s", learnTrainUsage)
	}
	fs := flag.NewFlagSet("learn train", flag.ContinueOnError)
	var (
		table    = fs.String("outcomes", "", "the outcomes table to learn from (JSON Lines or CSV, gzipped or not): eval runs, shadow traffic, imported benchmarks")
		category = fs.String("category", "", "train on this category's rows only")
		task     = fs.String("task", "", "train on rows of this task or task prefix only (like mmlu)")
		models   = fs.String("models", "", "comma-separated candidate models, in order (default: every model in the rows)")
		out      = fs.String("out", "router.json", "where to write the router file the spec's score route names")
		seed     = fs.Uint64("seed", 1, "seeds the item order and the cross-validation folds")
		folds    = fs.Int("folds", 5, "cross-validation folds for the held-out metrics (1: none)")
		epochs   = fs.Int("epochs", 0, "passes over the items (default 4)")
	)
	if _, err := parseArgs(fs, args[1:], 0, 0, learnTrainUsage); err != nil {
		return err
	}
	if *table == "" {
		return usagef("--outcomes is required (usage: %s)", learnTrainUsage)
	}
	opts := learn.TrainOptions{Seed: *seed, Folds: *folds, Epochs: *epochs, Data: *table}
	if *models != "" {
		opts.Models = splitList(*models)
	}
	keep := func(r *outcomes.Row) bool {
		switch {
		case *category != "":
			return r.Category == *category
		case *task != "":
			return r.Task == *task || strings.HasPrefix(r.Task, *task+"/")
		}
		return true
	}
	var readErr error
	errStop := errors.New("stop")
	rows := func(yield func(outcomes.Row) bool) {
		readErr = outcomes.ReadFile(*table, func(r outcomes.Row) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if keep(&r) && !yield(r) {
				return errStop
			}
			return nil
		})
		if errors.Is(readErr, errStop) {
			readErr = nil
		}
	}
	model, rep, err := learn.Train(rows, opts)
	if readErr != nil {
		return readErr
	}
	if err != nil {
		return err
	}
	if err := model.Save(*out); err != nil {
		return err
	}
	if err := rep.WriteText(m.Stdout); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "\nWrote %s. Route by it in the spec:\n  route: {score: {router: %s, models: [CHEAP, STRONG], threshold: 0.5}}\nand pick the threshold with: clearbar replay SPEC --outcomes %s --category NAME --router %s --calibrate\n",
		*out, *out, *table, *out)
	return nil
}
