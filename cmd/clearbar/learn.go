package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/learn"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/spec"
)

const learnTrainUsage = "clearbar learn train --outcomes FILE [--category NAME | --task PREFIX] [--models a,b] [--out router.json] [--seed N] [--folds N] [--embed MODEL --spec SPEC.yaml [--embed-dimensions N]]"

// learnTrainAbout is the help text of clearbar learn train.
const learnTrainAbout = `Trains, for each candidate model in the outcomes table, a logistic regression of
P(pass | request) on the request's features: hashed word unigrams and bigrams, structural
features (length, code and math markers, options, reasoning cues...), and the category (the
task, for rows without one). It reads each item's prompt and, when its row records the
request (clearbar eval records it when there is more than the prompt), the system prompt, as
a score route reads them in the gateway. The gateway passes the category's name: train a category's
router on its rows with --category (outcomes import and convert set the rows' category).
It cross-validates (--folds), prints the held-out log loss and AUC per model, and writes a
versioned router file for a spec's score route: route: {score: {router: FILE, ...}}. Pick
its threshold or willingness to pay with replay --calibrate on outcomes it was not trained
on; the file fingerprints its training prompts, so that replay tells them apart.

With --embed MODEL --spec SPEC.yaml the features also include the prompt's embedding from
MODEL, a model of the spec whose provider serves embeddings (openai, openai-compatible,
azure-openai, gemini). Prompts are embedded in batches (--embed-batch) with at most
--embed-concurrency calls in flight, and the vectors are cached in a file next to the
output (--embed-cache, keyed by a hash of the model, its provider's base URL and the text),
so that a rerun makes no call for prompts it has seen, and replay --router predicts with
the same vectors. The spec may already name the router file being trained.
The gateway then embeds each request through the same model before scoring it, within the
score route's embed_timeout (default 200ms); when that call fails it scores without the
embedding, and the decision record says so. The report shows each model's held-out figures
without the embedding too, which is how the router does when the embeddings call fails.`

// runLearn trains learned score routers.
func (m *Main) runLearn(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "evaluate" {
		return m.runLearnEvaluate(ctx, args[1:])
	}
	if len(args) == 0 || args[0] != "train" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintf(m.Stdout, "Usage: %s\n       %s\n", learnTrainUsage, learnEvaluateUsage)
			return nil
		}
		return usagef("usage: %s\n       %s", learnTrainUsage, learnEvaluateUsage)
	}
	fs := flag.NewFlagSet("learn train", flag.ContinueOnError)
	var (
		table    = fs.String("outcomes", "", "the outcomes table to learn from (JSON Lines or CSV, gzipped or not): eval runs, shadow traffic, imported benchmarks")
		category = fs.String("category", "", "train on this category's rows only, with the category's name as their task feature, as the gateway passes it")
		task     = fs.String("task", "", "train on rows of this task or task prefix only (like mmlu)")
		models   = fs.String("models", "", "comma-separated candidate models, in order (default: every model in the rows)")
		out      = fs.String("out", "router.json", "where to write the router file the spec's score route names")
		seed     = fs.Uint64("seed", 1, "seeds the item order and the cross-validation folds")
		folds    = fs.Int("folds", 5, "cross-validation folds for the held-out metrics (1: none)")
		epochs   = fs.Int("epochs", 0, "passes over the items (default 4)")
		embed    = fs.String("embed", "", "add the prompts' embeddings to the features: a model of --spec whose provider serves embeddings (by its name in the spec, or its model id)")
		specFile = fs.String("spec", "", "with --embed: the spec that declares the embedding model and its provider")
		embDims  = embedDimensionsFlag(fs)
		embBatch = fs.Int("embed-batch", 64, "with --embed: texts per embeddings call")
		embConc  = fs.Int("embed-concurrency", 4, "with --embed: embeddings calls in flight")
		embCache = fs.String("embed-cache", "", "with --embed: the vector cache (default: next to --out, router.embeddings.jsonl for router.json)")
	)
	if _, err := parseArgs(fs, args[1:], 0, 0, learnTrainUsage); err != nil {
		var he *helpError
		if errors.As(err, &he) {
			he.usage = learnTrainUsage + "\n\n" + learnTrainAbout + "\n\nFlags:"
		}
		return err
	}
	if *table == "" {
		return usagef("--outcomes is required (usage: %s)", learnTrainUsage)
	}
	switch {
	case *embed != "" && *specFile == "":
		return usagef("--embed needs --spec: the spec that declares model %s and its provider", *embed)
	case *embed == "" && *specFile != "":
		return usagef("--spec is read only with --embed MODEL")
	case *embDims < 0 || *embBatch < 1 || *embBatch > 2048 || *embConc < 1 || *embConc > 64:
		return usagef(embedFlagsRange)
	}
	// Check where the router goes before training, not after: a missing directory is made, as
	// the router file is the command's product.
	if dir := filepath.Dir(*out); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("--out %s: %w", *out, err)
		}
	}
	opts := learn.TrainOptions{Seed: *seed, Folds: *folds, Epochs: *epochs, Data: *table}
	if *models != "" {
		opts.Models = splitList(*models)
	}
	ds, verdicts, failed, err := readDataset(ctx, *table, *category, *task, opts.Models, false)
	if err != nil {
		return err
	}
	if *embed != "" {
		cache := *embCache
		if cache == "" {
			cache = embedCacheBeside(*out)
		}
		cfg, err := m.embedForTraining(ctx, m.Stdout, ds, *specFile, *out, *embed, learn.EmbedOptions{
			Config: learn.EmbeddingConfig{Dimensions: *embDims}, Batch: *embBatch, Concurrency: *embConc, Cache: cache})
		if err != nil {
			return err
		}
		opts.Features = learn.DefaultFeatures()
		opts.Features.Embedding = cfg
	}
	model, rep, err := learn.TrainDataset(ds, opts)
	if err != nil {
		return err
	}
	if err := model.Save(*out); err != nil {
		return err
	}
	if err := rep.WriteText(m.Stdout); err != nil {
		return err
	}
	if note := failedCallsNote(failed); note != "" {
		fmt.Fprintln(m.Stdout, note)
	}
	if w := rep.FewItems(); w != "" {
		fmt.Fprintf(m.Stderr, "clearbar learn train: warning: %s\n", w)
	}
	if note := verdictOnlyNote(*table, verdicts, "the router learns where the validators accept answers"); note != "" {
		fmt.Fprintf(m.Stderr, "clearbar learn train: warning: %s\n", note)
	}
	if w := uncategorisedWarning(model.Info()); w != "" {
		fmt.Fprintf(m.Stderr, "clearbar learn train: warning: %s, so it will route worse than the held-out figures above say: give the rows the category (clearbar outcomes import or outcomes convert --category NAME) and train with --category NAME\n", w)
	}
	cat := *category
	if cat == "" {
		cat = "NAME"
	}
	// A threshold decides between two models; more take a willingness to pay.
	names, rule, setting := "CHEAP, STRONG", "threshold: 0.5", "threshold"
	if len(model.Models()) > 2 {
		names, rule, setting = "CHEAPEST, …, DEAREST", "willingness_to_pay: 0.01", "willingness to pay"
	}
	// learn evaluate measures the router trained on the rows and features trained on here.
	// With embeddings, it reads the vectors this run cached rather than embedding the prompts
	// again.
	cache, dims := "", ""
	if *embed != "" {
		cache = cmp.Or(*embCache, embedCacheBeside(*out))
		if *embDims > 0 {
			dims = strconv.Itoa(*embDims)
		}
	}
	var selected strings.Builder
	for _, f := range []struct{ flag, value string }{{"category", *category}, {"task", *task}, {"models", *models}, {"embed", *embed}, {"spec", *specFile}, {"embed-dimensions", dims}, {"embed-cache", cache}} {
		if f.value != "" {
			fmt.Fprintf(&selected, " --%s %s", f.flag, f.value)
		}
	}
	fmt.Fprintf(m.Stdout, "\nWrote %s. Route by it in the spec:\n  route: {score: {router: %s, models: [%s], %s}}\n"+
		"and pick the %s on outcomes it was not trained on (items held out of %s, or traffic recorded since): a setting chosen on its training items flatters it:\n"+
		"  clearbar replay SPEC --outcomes HELD-OUT --category %s --router %s --calibrate\n"+
		"or measure it, and calibrate a rule, on a held-out half of these outcomes: clearbar learn evaluate --outcomes %s%s\n",
		*out, *out, names, rule, setting, *table, cat, *out, *table, selected.String())
	if e := model.Embedding(); e != nil {
		fmt.Fprintf(m.Stdout, "The router embeds each request with %s (%d values) before scoring it: the gateway waits up to the score route's embed_timeout (default %s) and scores without the embedding when the call fails.\n",
			e.Model, e.Dims, spec.FormatDuration(spec.DefaultEmbedTimeout))
	}
	return nil
}

// embedDimensionsFlag defines --embed-dimensions, which learn train and learn evaluate share:
// a router is evaluated on vectors of the length it is trained on, which also key the cache.
func embedDimensionsFlag(fs *flag.FlagSet) *int {
	return fs.Int("embed-dimensions", 0, "with --embed: ask the model for vectors of this length (models that support it; default: the model's own)")
}

// embedFlagsRange is the usage error of an --embed-dimensions, --embed-batch or
// --embed-concurrency out of range.
const embedFlagsRange = "--embed-dimensions must be ≥ 0, --embed-batch 1..2048 and --embed-concurrency 1..64"

// uncategorisedWarning says when the items a router is (or would be) trained on, described by
// info (Model.Info, Dataset.TaskInfo), learned a task feature the gateway never passes: items
// without a category take their rows' task (an imported benchmark's, like "mmlu/anatomy"),
// while the gateway passes the name of the category whose score route names the router. ""
// when every item has a category.
func uncategorisedWarning(info learn.TrainingInfo) string {
	if info.Uncategorised == 0 {
		return ""
	}
	return fmt.Sprintf("%d of the %d items have no category, so the router learned their rows' task as a feature (%s); the gateway passes the name of the category whose score route names the router instead, which it never saw",
		info.Uncategorised, info.Items, info.TaskSummary(3))
}

// failedCallsNote says, under learn train's table, that its pass rates leave out the failed
// calls, which have no grade, naming the models that had them; "" when none had. replay counts
// a failed call as a failed item, so its figures for the same rows are lower.
func failedCallsNote(failed map[string]int) string {
	if len(failed) == 0 {
		return ""
	}
	var byModel []string
	for _, model := range slices.Sorted(maps.Keys(failed)) {
		byModel = append(byModel, fmt.Sprintf("%s %d", model, failed[model]))
	}
	return fmt.Sprintf("PASS RATE is over graded answers, leaving out failed calls (%s); replay counts a failed call as a failed item", strings.Join(byModel, ", "))
}

// embedCacheBeside is the default embeddings cache of a router or outcomes file: its path
// without the extension (and without .gz) plus ".embeddings.jsonl", so router.json has
// router.embeddings.jsonl, as learn train writes it and replay --router reads it.
func embedCacheBeside(path string) string {
	path = strings.TrimSuffix(path, ".gz")
	return strings.TrimSuffix(path, filepath.Ext(path)) + ".embeddings.jsonl"
}

// readDataset reads an outcomes table's rows, those of a category or of a task (or task
// prefix) when one is given, into a learn.Dataset of the given models (nil: every model).
// A category and a task together are an error; so are a category or task no row has, and a
// model no kept row has, which list what the table has. failed counts, by model, the kept
// rows of failed calls (outcomes.Row.Error), which have no grade and so are left out of the
// models' pass rates.
func readDataset(ctx context.Context, table, category, task string, models []string, answers bool) (ds *learn.Dataset, verdicts verdictOnly, failed map[string]int, err error) {
	if category != "" && task != "" {
		return nil, 0, nil, usagef("--category %s and --task %s: give one, --category for a spec category's rows (the task feature is then the category's name, as the gateway passes it) or --task for the rows of a task", category, task)
	}
	keep := func(r *outcomes.Row) bool {
		switch {
		case category != "":
			return r.Category == category
		case task != "":
			return r.Task == task || strings.HasPrefix(r.Task, task+"/")
		}
		return true
	}
	var (
		read, kept  int
		cats, tasks = map[string]bool{}, map[string]bool{}
		keptModels  = map[string]bool{}
		readErr     error
		errStop     = errors.New("stop")
	)
	rows := func(yield func(outcomes.Row) bool) {
		readErr = outcomes.ReadFileLines(table, func(r outcomes.Row, raw []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			read++
			cats[r.Category], tasks[r.Task] = true, true
			if !keep(&r) {
				return nil
			}
			kept++
			verdicts.see(r, raw)
			if r.Error != "" && (models == nil || slices.Contains(models, r.Model)) {
				if failed == nil {
					failed = map[string]int{}
				}
				failed[r.Model]++
			}
			keptModels[r.Model] = true
			if !yield(r) {
				return errStop
			}
			return nil
		})
		if errors.Is(readErr, errStop) {
			readErr = nil
		}
	}
	ds = learn.GroupRows(table, rows, models, answers)
	if readErr != nil {
		return nil, 0, nil, readErr
	}
	if read > 0 && kept == 0 {
		switch {
		case category != "":
			return nil, 0, nil, usagef("--category %q: none of the %d rows of %s has that category (categories in the table: %s; tasks: %s): give one of its categories, or a task with --task", category, read, table, nameList(cats), nameList(tasks))
		case task != "":
			return nil, 0, nil, usagef("--task %q: none of the %d rows of %s has that task or a task under it (tasks in the table: %s): give one of them, or a prefix of one like mmlu", task, read, table, nameList(tasks))
		}
	}
	for _, m := range models {
		if !keptModels[m] {
			where := "rows"
			if category != "" || task != "" {
				where = "kept rows"
			}
			return nil, 0, nil, usagef("--models: no row of %s has model %q (the models of its %s: %s); name models as the rows do", table, m, where, nameList(keptModels))
		}
	}
	return ds, verdicts, failed, nil
}

// nameList writes the names of a set, sorted, at most a dozen of them: "a, b, … 3 more", or
// "none". The empty name is left out.
func nameList(set map[string]bool) string {
	var names []string
	for k := range set {
		if k != "" {
			names = append(names, k)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	slices.Sort(names)
	const most = 12
	if len(names) > most {
		names = append(names[:most], fmt.Sprintf("… %d more", len(names)-most))
	}
	return strings.Join(names, ", ")
}

// embedRetryBackoff is the wait before the first retry of a failed embeddings call (then
// twice that, and four times), unless the upstream asks for longer.
var embedRetryBackoff = 250 * time.Millisecond

// embedRetryWait is the wait before retry number try (from 1) after the error last:
// embedRetryBackoff, doubling with each retry, or longer when the upstream asks for it.
func embedRetryWait(try int, last error) time.Duration {
	wait := time.Duration(1<<(try-1)) * embedRetryBackoff
	if e := clearbar.AsError(last); e.RetryAfter > wait {
		wait = e.RetryAfter
	}
	return wait
}

// embedForTraining embeds the dataset's prompts with the spec model named embed (see
// learn.EmbedDataset) and returns the embedding block's configuration. The spec may name the
// router file being trained (out, "" when none is) before it exists. It says what it embedded
// on w.
func (m *Main) embedForTraining(ctx context.Context, w io.Writer, ds *learn.Dataset, specFile, out, embed string, o learn.EmbedOptions) (*learn.EmbeddingConfig, error) {
	outAbs, _ := filepath.Abs(out)
	readFile := func(p string) ([]byte, error) {
		b, err := os.ReadFile(p)
		if abs, _ := filepath.Abs(p); out != "" && err != nil && errors.Is(err, os.ErrNotExist) && abs == outAbs {
			return nil, nil // the router this run writes
		}
		return b, err
	}
	s, err := spec.Load(specFile, spec.Options{Today: m.Now(), ReadFile: readFile})
	if err != nil {
		var se spec.Errors
		if errors.As(err, &se) {
			return nil, se
		}
		return nil, err
	}
	em, err := embeddingSpecModel(s, embed)
	if err != nil {
		return nil, err
	}
	prov, err := registry().New(provider.Config{Provider: em.Resolved.Provider, Spec: s, HTTP: provider.DefaultHTTPClient()})
	if err != nil {
		return nil, err
	}
	emb, ok := prov.(clearbar.Embedder)
	if !ok {
		return nil, usagef("--embed %s: model %s is served by provider %s (type %s), which does not serve embeddings", embed, em.Name, em.Provider.Name, em.Resolved.Provider.Type)
	}
	o.Config.Model, o.Config.Normalize = em.Name, true
	embedCacheKey(em, &o)
	call := func(ctx context.Context, texts []string) ([][]float32, error) {
		var last error
		for try := range 4 {
			if try > 0 {
				select {
				case <-ctx.Done():
					return nil, ctx.Err()
				case <-time.After(embedRetryWait(try, last)):
				}
			}
			cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			resp, err := emb.Embed(cctx, &clearbar.EmbedCall{Model: em.Model, Input: texts, EncodingFormat: clearbar.EncodingBase64, Dimensions: o.Config.Dimensions})
			cancel()
			if err == nil {
				return resp.Vectors()
			}
			last = err
			if clearbar.ClassOf(err).Action() != clearbar.RetrySame && clearbar.ClassOf(err) != clearbar.Timeout {
				break
			}
		}
		return nil, last
	}
	st, err := learn.EmbedDataset(ctx, ds, call, o)
	fmt.Fprintf(w, "embedded %d distinct prompts with %s: %d from the cache %s, %d calls\n", st.Texts, em.Name, st.Cached, o.Cache, st.Calls)
	if err != nil {
		return nil, err
	}
	cfg := o.Config
	if len(ds.Items) > 0 {
		cfg.Dims = len(ds.Items[0].Embedding)
	}
	return &cfg, nil
}

// embedCacheKey sets what, besides the text, keys the vectors of spec model em in the cache:
// its provider's type and model id, and its provider's base URL (two servers of one model id
// do not share vectors). Training and replay key the cache alike.
func embedCacheKey(em *spec.Model, o *learn.EmbedOptions) {
	embedCacheKeyOf(em.Resolved.Provider, em.Model, o)
}

// embedCacheKeyOf is embedCacheKey for the model id model on provider p.
func embedCacheKeyOf(p *spec.Provider, model string, o *learn.EmbedOptions) {
	o.CacheModel = p.Type + ":" + model
	o.Endpoint = p.BaseURL.Value
}

// embeddingSpecModel finds the spec model --embed names: by its name, else by its model id
// when exactly one model has it.
func embeddingSpecModel(s *spec.Spec, name string) (*spec.Model, error) {
	if m := s.Model(name); m != nil {
		return m, nil
	}
	var found []*spec.Model
	var names []string
	for _, m := range s.Models {
		if m.Model == name {
			found = append(found, m)
		}
		names = append(names, m.Name)
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return nil, usagef("--embed %s: the spec %s has no such model (models: %s)", name, s.File, strings.Join(names, ", "))
	}
	return nil, usagef("--embed %s: several models of the spec have that model id; name one", name)
}
