package main

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/estimate"
	"github.com/clearbar/clearbar/eval"
	"github.com/clearbar/clearbar/learn"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/replay"
	"github.com/clearbar/clearbar/spec"
)

const replayUsage = "clearbar replay [SPEC] --outcomes FILE | --routerbench FILE | --routellm FILE [--category NAME] [--task PREFIX] [--router FILE [--embed-cache FILE]] [--calibrate [--target bar|strong-share=F|budget=USD] [--allow-in-sample]] [--format text|json|html] [--out FILE]"

// runReplay evaluates routing policies over recorded outcomes, and with --calibrate writes the
// chosen setting into the spec.
func (m *Main) runReplay(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	var (
		table       = fs.String("outcomes", "", "an outcomes table (JSON Lines or CSV, gzipped or not): eval runs, shadow traffic, trace exports")
		routerbench = fs.String("routerbench", "", "import a RouterBench outcomes file (../shared/data/routerbench_subset) instead")
		routellm    = fs.String("routellm", "", "import a RouteLLM outcomes file (../shared/data/routellm_evals) instead")
		category    = fs.String("category", "", "replay this spec category: its route, its validators and quality bar, on its rows (or, with --task, on that task's rows)")
		task        = fs.String("task", "", "replay rows of this task or task prefix (like mmlu) instead of the category's rows; with --category, the category's route is replayed on them")
		router      = fs.String("router", "", "a learned router (clearbar learn train) whose P(pass) drives the threshold and willingness-to-pay routers (default: the router the category's score route names)")
		embedCache  = fs.String("embed-cache", "", "with a --router trained with embeddings: the vectors learn train cached (default: next to the router, router.embeddings.jsonl for router.json)")
		grade       = fs.String("grade", "pass", "how rows become quality: pass (pass/fail, else score ≥ 0.5) or score (the score itself)")
		weak        = fs.String("weak", "", "the weak model of the reference pair (default: the cheapest other model; of two models of the best quality, the cheaper)")
		strong      = fs.String("strong", "", "the strong model of the reference pair (default: the best single model)")
		models      = fs.String("models", "", "comma-separated models to keep (default: every model in the rows)")
		include     = fs.String("include", "", "comma-separated policy kinds: oracle, spec, mix, cascade, threshold, wtp, single (default: all; single models are always replayed; --calibrate replaces a score route with a mix only when mix is named, and a route that validates its answers with a policy that validates none, a single model, a mix or a score router, only when its kind is named)")
		thresholds  = fs.Int("thresholds", 0, "how many thresholds and willingness-to-pay settings to sweep (default 100)")
		reprice     = fs.Bool("reprice", false, "price rows of spec models at the spec's prices (default: only rows without a cost)")
		calibrate   = fs.Bool("calibrate", false, "choose the setting that meets --target at least cost and write it into the spec")
		target      = fs.String("target", "bar", "what --calibrate aims at: bar (the category's quality bar), strong-share=F, or budget=USD per request")
		inSampleOK  = fs.Bool("allow-in-sample", false, "let --calibrate choose on outcomes the router was mostly trained on, whose predictions flatter it (by default it refuses)")
		format      = fs.String("format", "", "text, json or html (a page with the cost/quality frontier chart); default html or json when --out ends in .html or .json, else text")
		out         = fs.String("out", "", "write the report to this file instead of standard output")
	)
	pos, err := parseArgs(fs, args, 0, 1, replayUsage)
	if err != nil {
		return err
	}
	var sources []string
	for _, s := range []string{*table, *routerbench, *routellm} {
		if s != "" {
			sources = append(sources, s)
		}
	}
	if len(sources) != 1 {
		return usagef("give exactly one of --outcomes, --routerbench or --routellm (usage: %s)", replayUsage)
	}
	if *format == "" {
		*format = replayFormatOf(*out)
	} else if named := replayFormatOf(*out); *out != "" && named != "text" && named != *format {
		return usagef("--format %s contradicts --out %s, which names a %s report by its extension: drop --format to write %s", *format, *out, named, named)
	}
	if !slices.Contains([]string{"text", "json", "html"}, *format) {
		return usagef("--format %q: write text, json or html", *format)
	}
	if *thresholds < 0 {
		return usagef("--thresholds %d: give how many thresholds to sweep, like 100 (0 is the default, %d)", *thresholds, replay.DefaultThresholds)
	}
	if !*calibrate {
		// What only a calibration reads is refused rather than ignored.
		var err error
		fs.Visit(func(f *flag.Flag) {
			if err == nil && (f.Name == "target" || f.Name == "allow-in-sample") {
				err = usagef("--%s is read only with --calibrate: add --calibrate (and SPEC and --category) to write the setting into the spec", f.Name)
			}
		})
		if err != nil {
			return err
		}
	}
	var s *spec.Spec
	specFile := ""
	if len(pos) == 1 {
		specFile = pos[0]
		if s, err = m.loadSpec(specFile, m.Now()); err != nil {
			return err
		}
	}
	if *calibrate && (s == nil || *category == "") {
		return usagef("--calibrate writes into a spec's category: give SPEC and --category")
	}
	if *calibrate && s.Category(*category) == nil {
		var names []string
		for _, c := range s.Categories {
			names = append(names, c.Name)
		}
		return usagef("--category %q: the spec has no such category (its categories: %s)", *category, strings.Join(names, ", "))
	}
	opts := replay.Options{Table: sources[0], Category: *category, Task: *task, Weak: *weak, Strong: *strong, Thresholds: *thresholds, Reprice: *reprice}
	switch *grade {
	case "pass":
		opts.Grade = replay.GradePass
	case "score":
		opts.Grade = replay.GradeScore
	default:
		return usagef("--grade %q: write pass or score", *grade)
	}
	if *models != "" {
		opts.Models = splitList(*models)
	} else if *calibrate {
		// A calibration is written into the category's route, so it chooses among the
		// models the category names, not every model the outcomes happen to have.
		opts.Models, opts.ModelsOfCategory = categoryModels(s.Category(*category)), true
	}
	if *include != "" {
		opts.Include = splitList(*include)
	}
	var scored *embedCount // items scored by a router with embeddings, and those without a vector
	var scorer *routerScorer
	var fromSpec string // set when the router is the one the category's score route names
	if *router == "" {
		*router, fromSpec = specRouter(s, *category)
		if *router != "" && opts.Models == nil {
			// The route's router predicts the route's models: the outcomes' other models
			// (a shadow candidate, one just evaluated) are left out rather than refused.
			opts.Models = categoryModels(s.Category(*category))
		}
	}
	var cache *learn.EmbedCache // the vectors of a router trained with embeddings
	var loaded *learn.Model     // the router *router names, as loaded
	if *router != "" {
		rm, err := learn.Load(*router)
		if err != nil {
			if fromSpec != "" {
				return fmt.Errorf("the router of category %q's score route: %w", *category, err)
			}
			return fmt.Errorf("--router: %w", err)
		}
		loaded = rm
		var vectors func(prompt string) []float32
		switch e := rm.Embedding(); {
		case e != nil:
			cacheFile := *embedCache
			if cacheFile == "" {
				cacheFile = embedCacheBeside(*router)
			}
			if cache, vectors, err = m.replayVectors(s, *router, cacheFile, e); err != nil {
				if fromSpec == "" || *calibrate {
					return err
				}
				// The route's router, not asked for: replay without its curves.
				fromSpec = fmt.Sprintf("the learned router %s of %q's score route was not replayed: %v", *router, *category, err)
				rm = nil
				break
			}
			scored = &embedCount{cache: cacheFile}
		case *embedCache != "":
			return usagef("--embed-cache is read only with a router trained with embeddings (learn train --embed)")
		}
		if rm != nil {
			scorer = newRouterScorer(rm, *router, s, *category, vectors, scored)
			opts.Scorer = scorer
		}
	} else if *embedCache != "" {
		return usagef("--embed-cache is read only with --router, or for a category whose score route names a learned router")
	}
	opts.Providers = specRouteEmbeddings(s, *category, *router, loaded, cache)
	if *calibrate {
		t, err := parseTarget(*target, s.Category(*category))
		if err != nil {
			return err
		}
		opts.Target = t
	}
	var verdicts verdictOnly    // rows graded by the validators alone, counted as they are read
	var judged int              // rows of traffic (trace, shadow), whose pass is a verdict
	var simulatedRows, rows int // rows of simulated answers, of all rows read (for --calibrate)
	src := func(emit func(outcomes.Row) error) error {
		switch {
		case *routerbench != "":
			return importFile(*routerbench, outcomes.ImportRouterBench, emit)
		case *routellm != "":
			return importFile(*routellm, outcomes.ImportRouteLLM, emit)
		}
		return outcomes.ReadFileLines(*table, func(r outcomes.Row, raw []byte) error {
			verdicts.see(r, raw)
			if trafficRow(r) {
				judged++ // its pass is the validators' verdict on live traffic
			}
			if raw != nil && eval.SimulatedRow(raw) {
				simulatedRows++
			}
			rows++
			return emit(r)
		})
	}
	rep, err := replay.Run(ctx, s, src, opts)
	if err != nil {
		return err
	}
	if fromSpec != "" {
		rep.Notes = append(rep.Notes, fromSpec)
	}
	const replayedWhat = "the quality replayed is the share the validators accept, and the spec's own validators replayed on them pass what they accepted"
	if note := verdictOnlyNote(*table, verdicts, replayedWhat); note != "" {
		rep.Notes = append(rep.Notes, note)
	}
	if note := trafficVerdictNote(*table, judged, replayedWhat); note != "" {
		rep.Notes = append(rep.Notes, note)
	}
	if scored != nil {
		if err := m.checkVectors(scored, *calibrate); err != nil {
			return err
		}
	}
	// refused says why --calibrate writes nothing: returned after the report is written.
	var refused error
	if scorer != nil && scorer.index != nil { // the router scored the items
		// The spec's own router is warned about by the route, at its line in the spec.
		if specPath, _ := specRouter(s, *category); specPath == "" || !samePath(specPath, *router) {
			if note := scorer.taskNote(); note != "" {
				rep.Notes = append(rep.Notes, note)
			}
		}
		note, mostly := scorer.inSample(sources[0])
		if *calibrate && mostly {
			if !*inSampleOK {
				// Refused after the report is written, so that the user sees what was measured.
				refused = fmt.Errorf("%s: a setting calibrated on them is chosen on predictions better than the router makes on new traffic, and would not deliver the quality it reports; "+
					"calibrate on outcomes it was not trained on (train with learn train on one part of your outcomes and replay --calibrate on the rest, or on traffic recorded since), "+
					"or let clearbar learn evaluate --outcomes %s calibrate a rule on a held-out half; --allow-in-sample calibrates on them anyway",
					scorer.trainedOn(), sources[0])
			} else {
				fmt.Fprintf(m.Stderr, "clearbar replay: warning: %s: calibrating on them anyway (--allow-in-sample); the setting written flatters the router\n", scorer.trainedOn())
			}
		}
		if note != "" {
			rep.Notes = append(rep.Notes, note)
		}
	}
	if *calibrate {
		// Without a calibrated choice, writeCalibration writes nothing and says why; the
		// report says simulated rows are simulated all the same.
		thin := calibrationTooThin(sources[0], rep.Compared, simulatedRows, rows)
		if thin != nil && refused == nil && (rep.Calibration != nil || simulatedRows > 0) {
			rep.Notes = append(rep.Notes, "--calibrate: "+thin.Error())
		}
		if refused == nil && rep.Calibration != nil {
			refused = thin
		}
	}
	w, done, err := m.output(*out)
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		err = rep.WriteJSON(w)
	case "html":
		err = rep.WriteHTML(w)
	default:
		err = rep.WriteText(w)
	}
	err = done(err)
	if err != nil || !*calibrate {
		return err
	}
	if refused != nil {
		return refused
	}
	// What was written is said on standard output, unless a JSON or HTML report is there.
	say := m.Stdout
	if *format != "text" && *out == "" {
		say = m.Stderr
	}
	return m.writeCalibration(say, specFile, s, *category, *router, *table, rep, int(verdicts)+judged)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// importFile runs a benchmark importer on a (possibly gzipped) file.
func importFile(path string, imp func(r io.Reader, emit func(outcomes.Row) error) error, emit func(outcomes.Row) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	if err := imp(r, emit); err != nil {
		if errors.Is(err, outcomes.ErrNotJSONLines) {
			// A raw file of the dataset: its normalised file sits beside raw/.
			for _, dir := range []string{filepath.Dir(filepath.Dir(path)), filepath.Dir(path)} {
				if p := filepath.Join(dir, "outcomes.jsonl.gz"); p != path && isRegularFile(p) {
					return fmt.Errorf("%s: %w: give %s", path, err, p)
				}
			}
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// isRegularFile reports whether path names a regular file.
func isRegularFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// specRouter returns the learned router the score route of the spec's category names,
// resolved relative to the spec file as the gateway resolves it, and a note saying that the
// threshold and willingness-to-pay routers score with it; "" when the category has no score
// route with a learned router.
func specRouter(s *spec.Spec, category string) (path, note string) {
	if s == nil || category == "" {
		return "", ""
	}
	c := s.Category(category)
	if c == nil || c.Route == nil || c.Route.Score == nil || c.Route.Score.Router == "" {
		return "", ""
	}
	path = c.Route.Score.RouterPath(s)
	return path, fmt.Sprintf("the threshold and willingness-to-pay routers score with %s, the learned router of %q's score route (give --router to replay another)", path, category)
}

// embedCount counts the items a router with embeddings scored, and those it scored without a
// vector (none in the cache, or one it cannot use).
type embedCount struct {
	items, missing int
	cache          string
}

// replayVectors reads the vectors learn train cached for a router trained with embeddings
// (e) from the cache file (--embed-cache, by default next to the router, where learn train
// writes it), and returns the cache and the lookup of a prompt's vector, keyed as training
// keyed it, by the spec model that embeds and its provider.
func (m *Main) replayVectors(s *spec.Spec, router, cache string, e *learn.EmbeddingConfig) (*learn.EmbedCache, func(string) []float32, error) {
	if s == nil {
		return nil, nil, usagef("--router %s was trained with embeddings of %s: give the SPEC that declares that model, so that replay finds the vectors learn train cached", router, e.Model)
	}
	em, err := embeddingSpecModel(s, e.Model)
	if err != nil {
		return nil, nil, fmt.Errorf("--router %s was trained with embeddings of %s: %w", router, e.Model, err)
	}
	c, err := learn.ReadEmbedCache(cache)
	if err != nil {
		return nil, nil, fmt.Errorf("--router %s predicts with embeddings of %s, which replay reads from the cache learn train wrote: %w (name it with --embed-cache)", router, e.Model, err)
	}
	o := learn.EmbedOptions{Config: *e}
	embedCacheKey(em, &o)
	return c, func(prompt string) []float32 { return c.Vector(o, prompt) }, nil
}

// specRouteEmbeddings returns, when the score route of the spec's category names a learned
// router trained with embeddings, providers that serve the route the vectors learn train
// cached for it, so that replay scores the spec's own route with them, as it scores --router
// and as the gateway, which embeds each request, decides. When the route's router is the
// replayed router (loaded, read from the file router, with its vectors in cache), it is not
// read again: its vectors are cache's, and nil cache (no embeddings, or a cache that could not
// be read) means none. Another route router is loaded with the cache beside it. nil when
// there is no such router or its cache cannot be read: the route then decides without the
// embeddings, and the report counts those decisions.
func specRouteEmbeddings(s *spec.Spec, category, router string, loaded *learn.Model, cache *learn.EmbedCache) map[string]clearbar.Provider {
	path, _ := specRouter(s, category)
	if path == "" {
		return nil
	}
	if loaded != nil && samePath(path, router) {
		if loaded.Embedding() == nil || cache == nil {
			return nil
		}
	} else {
		rm, err := learn.Load(path)
		if err != nil || rm.Embedding() == nil {
			return nil
		}
		if cache, err = learn.ReadEmbedCache(embedCacheBeside(path)); err != nil {
			return nil
		}
	}
	providers := map[string]clearbar.Provider{}
	for _, mod := range s.Models {
		if p := mod.Resolved.Provider; p != nil && providers[p.Name] == nil {
			providers[p.Name] = &cachedEmbeddings{provider: p, cache: cache}
		}
	}
	return providers
}

// samePath reports whether two paths name the same file location.
func samePath(a, b string) bool {
	absA, err1 := filepath.Abs(a)
	absB, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && absA == absB
}

// cachedEmbeddings is a provider that serves embeddings from learn train's vector cache, for
// replaying a score route whose learned router was trained with embeddings: the route embeds
// each request through its embedding model's provider, and replay gives it this one instead,
// which looks the vectors up as training keyed them (by the provider's type and endpoint, the
// model id, the dimensions asked for and the text). It makes no call: a text without a cached
// vector fails the call, and the route decides without the embedding, as when the gateway's
// embeddings call fails.
type cachedEmbeddings struct {
	provider *spec.Provider
	cache    *learn.EmbedCache
}

// Name implements clearbar.Provider.
func (c *cachedEmbeddings) Name() string { return c.provider.Name }

// Complete implements clearbar.Provider: replay calls no model.
func (c *cachedEmbeddings) Complete(context.Context, *clearbar.Call) (*clearbar.Response, error) {
	return nil, &clearbar.Error{Class: clearbar.Internal, Message: "replay serves cached embeddings only"}
}

// Stream implements clearbar.Provider: replay calls no model.
func (c *cachedEmbeddings) Stream(context.Context, *clearbar.Call) (clearbar.Stream, error) {
	return nil, &clearbar.Error{Class: clearbar.Internal, Message: "replay serves cached embeddings only"}
}

// Embed implements clearbar.Embedder from the cache.
func (c *cachedEmbeddings) Embed(_ context.Context, call *clearbar.EmbedCall) (*clearbar.EmbedResponse, error) {
	o := learn.EmbedOptions{Config: learn.EmbeddingConfig{Dimensions: call.Dimensions}}
	embedCacheKeyOf(c.provider, call.Model, &o)
	type vector struct {
		Object    string `json:"object"`
		Index     int    `json:"index"`
		Embedding string `json:"embedding"`
	}
	data := make([]vector, len(call.Input))
	for i, text := range call.Input {
		v := c.cache.InputVector(o, text)
		if v == nil {
			return nil, &clearbar.Error{Class: clearbar.ClientError, Message: "the embeddings cache has no vector of the prompt"}
		}
		data[i] = vector{Object: "embedding", Index: i, Embedding: clearbar.Float32sBase64(v)}
	}
	body, err := json.Marshal(map[string]any{"object": "list", "data": data, "model": call.Model})
	if err != nil {
		return nil, err
	}
	return &clearbar.EmbedResponse{Body: body, Model: call.Model}, nil
}

// checkVectors reports the items a router with embeddings scored without a vector. The
// gateway predicts with the request's embedding, so a calibration must too: --calibrate
// refuses such items rather than mix predictions made without embeddings into the setting
// it writes; a plain replay warns and scores them as the gateway does when the embeddings
// call fails.
func (m *Main) checkVectors(c *embedCount, calibrate bool) error {
	if c.missing == 0 {
		fmt.Fprintf(m.Stderr, "clearbar replay: the router scored %d of %d items with their embeddings from %s\n", c.items, c.items, c.cache)
		return nil
	}
	msg := fmt.Sprintf("%d of %d items have no vector in the embeddings cache %s (or one the router cannot use)", c.missing, c.items, c.cache)
	if calibrate {
		return fmt.Errorf("%s: --calibrate calibrates on predictions made with embeddings only, as the gateway makes them; embed those prompts with clearbar learn train --embed on these outcomes (which adds them to the cache), or replay only outcomes whose prompts were embedded", msg)
	}
	fmt.Fprintf(m.Stderr, "clearbar replay: warning: %s: the router scored them without their embedding, as the gateway does when the embeddings call fails\n", msg)
	return nil
}

// routerScorer adapts a learned router to replay: each table column gets the router's P(pass)
// of the model of that name, or of the spec model's provider id (the gateway's lookup), and
// a table with a model the router does not predict is an error. With a category, it predicts
// with the category's name as the task, as the gateway does; otherwise with each item's task.
// A router trained with embeddings predicts with the vector vectors returns for the item's
// prompt (nil vectors: without one), counted in vec. It counts the items' prompts against the
// fingerprint of the router's training prompts, to tell an in-sample replay.
type routerScorer struct {
	rm       *learn.Model
	path     string
	s        *spec.Spec
	category string
	vectors  func(string) []float32
	vec      *embedCount
	// index[i] is the router's index of the table's i-th model.
	index []int
	buf   []float64
	// trained fingerprints the router's training prompts (nil in older files); overlap
	// counts the items' prompts against it.
	trained *learn.PromptSet
	overlap learn.Overlap
}

func newRouterScorer(rm *learn.Model, path string, s *spec.Spec, category string, vectors func(string) []float32, vec *embedCount) *routerScorer {
	return &routerScorer{rm: rm, path: path, s: s, category: category, vectors: vectors, vec: vec,
		buf: make([]float64, len(rm.Models())), trained: rm.Info().Prompts}
}

// CheckModels implements replay.ModelChecker: the router must predict every model of the
// table, looked up as the gateway looks up a score route's models.
func (r *routerScorer) CheckModels(models []string) error {
	r.index = make([]int, len(models))
	var missing, known []string
	for i, name := range models {
		id := ""
		if r.s != nil {
			if m := r.s.Model(name); m != nil {
				id = m.Model
			}
		}
		r.index[i] = r.rm.IndexOf(name, id)
		if r.index[i] < 0 {
			missing = append(missing, name)
		} else {
			known = append(known, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	msg := r.rm.NoPrediction(r.path, missing)
	if len(known) >= 2 {
		msg += ", or replay only the models it predicts with --models " + strings.Join(known, ",")
	}
	return errors.New(msg)
}

// Score implements replay.Scorer. Called once per item, never concurrently.
func (r *routerScorer) Score(item *replay.Item, out []float64) {
	task := item.Task
	if r.category != "" {
		task = r.category
	}
	if r.trained != nil {
		r.overlap.Add(r.trained, item.PromptHash, item.Prompt)
	}
	if r.vectors == nil {
		r.rm.Predict(item.Prompt, item.System, task, r.buf)
	} else {
		r.vec.items++
		if !r.rm.PredictWith(item.Prompt, item.System, task, r.vectors(item.Prompt), r.buf) {
			r.vec.missing++
		}
	}
	for i, k := range r.index {
		out[i] = r.buf[k]
	}
}

// inSample says how much of the replayed outcomes (the file table) the router was trained
// on, whose curves then flatter it: a learned router predicts its training items better than
// new traffic. mostly is set when they are at least half of the items. A router file without
// a fingerprint of its training prompts (written before it recorded one, and before it
// recorded the training file's absolute path) is compared by the training file's name, and
// the note says so; "" when that names another file. "" when the router was trained on none
// of them.
func (r *routerScorer) inSample(table string) (note string, mostly bool) {
	if r.trained == nil {
		trained, err1 := filepath.Abs(r.rm.Info().Data)
		replayed, err2 := filepath.Abs(table)
		if r.rm.Info().Data == "" || err1 != nil || err2 != nil || trained != replayed {
			return "", false
		}
		return fmt.Sprintf("%s: its curves are in-sample and flatter it; clearbar learn evaluate --outcomes %s measures it on items it has not seen; "+
			"its file records no fingerprint of its training prompts, so only the training file's path was compared (retrain it with this build to tell in-sample outcomes in any file)", r.trainedOn(), table), true
	}
	share, ok := r.overlap.Share()
	if !ok || share < inSampleNoted {
		return "", false
	}
	return fmt.Sprintf("%s: its curves are in-sample to that extent and flatter it; clearbar learn evaluate --outcomes %s measures it on items it has not seen", r.trainedOn(), table), share >= inSampleMostly
}

// The shares of replayed items a router was trained on from which a replay says so, and from
// which --calibrate refuses them (without --allow-in-sample). Benchmarks repeat a few
// questions under several items, so a held-out split shares a few prompts with training.
const (
	inSampleNoted  = 0.05
	inSampleMostly = 0.5
)

// trainedOn says how much of the replayed items the router was trained on.
func (r *routerScorer) trainedOn() string {
	info := r.rm.Info()
	if r.trained == nil {
		return fmt.Sprintf("the router %s was trained on these outcomes (%s, %d items)", r.path, info.Data, info.Items)
	}
	share, _ := r.overlap.Share()
	o := r.overlap
	of := fmt.Sprintf("%d of the %d items", o.Trained, o.Prompts)
	if o.Covered < o.Prompts {
		// The fingerprint keeps a sample of the training prompts: the count is an estimate.
		of = fmt.Sprintf("%d of the %d items its fingerprint of %d training prompts can tell", o.Trained, o.Covered, r.trained.Count)
	}
	return fmt.Sprintf("the router %s was trained on %.0f%% of these outcomes' items (%s)", r.path, 100*share, of)
}

// taskNote warns when the router is replayed for a category whose name it was not trained
// with as the task feature: the gateway passes the category's name, so that neither the
// gateway nor this replay gets what the router learned from the tasks it was trained with.
// "" when it was, or when its file does not say.
func (r *routerScorer) taskNote() string {
	if r.category == "" {
		return ""
	}
	info := r.rm.Info()
	trained, known := info.TrainedOn(r.category)
	if trained || !known {
		return ""
	}
	features := "features"
	if info.TaskCount == 1 {
		features = "feature"
	}
	return fmt.Sprintf("the router %s was trained with the task %s %s, not %q: the gateway passes the category's name, which the router never saw, so it routes (and this replay scores) without what it learned from the tasks, "+
		"and its held-out figures from training overstate it here; retrain it with clearbar learn train --category %s on rows recorded with that category (outcomes import and outcomes convert set it with --category)",
		r.path, features, info.TaskSummary(3), r.category, r.category)
}

// parseTarget reads --target.
func parseTarget(v string, c *spec.Category) (*replay.Target, error) {
	name, val, _ := strings.Cut(v, "=")
	switch name {
	case "bar":
		if c == nil || c.QualityBar == nil {
			return nil, usagef("--target bar needs a category with a quality_bar")
		}
		return &replay.Target{Objective: replay.ClearBar, Quality: c.Bar()}, nil
	case "strong-share":
		// A share is a fraction from 0 to 1 or a percentage with its sign: 1.5 is neither.
		f, err := parseFraction(val)
		if plain, perr := strconv.ParseFloat(strings.TrimSpace(val), 64); perr == nil && plain > 1 || err != nil || f > 1 {
			return nil, usagef("--target strong-share=%s: write a fraction from 0 to 1 like 0.3, or a percentage like 30%%", val)
		}
		return &replay.Target{Objective: replay.StrongShare, StrongShare: f}, nil
	case "budget":
		b, err := clearbar.ParseMoney(val)
		if err != nil || b <= 0 {
			return nil, usagef("--target budget=%s: write dollars per request, like 0.002", val)
		}
		return &replay.Target{Objective: replay.Budget, Budget: b}, nil
	}
	return nil, usagef("--target %q: write bar, strong-share=F or budget=USD", v)
}

// calibrationTooThin says why a calibration must write nothing into the spec; nil when it may.
// Rows of simulated answers (an eval --simulate, or a spec's simulated providers: their rows
// say "simulated": true) are drawn from the spec's own assumptions, so calibrating on them
// writes those assumptions back; and fewer than estimate.MinGraded items (items, those the
// calibration compares policies on) measure pass rates too loosely to write, as estimate
// --measured keeps an assumption measured on fewer answers.
func calibrationTooThin(table string, items, simulated, rows int) error {
	if simulated > 0 {
		return fmt.Errorf("nothing was written into the spec: %d of the %d rows of %s come from simulated providers (their rows say \"simulated\": true), whose answers are drawn from the spec's assumed pass rates and latencies: a calibration on them measures those assumptions, not the models; calibrate on rows of real providers (traffic they answered, or an eval run against the real models)",
			simulated, rows, table)
	}
	if items < estimate.MinGraded {
		return fmt.Errorf("nothing was written into the spec: the replay has %d item(s), fewer than the %d a measured pass rate needs (as estimate --measured keeps an assumption measured on fewer answers): the pass rates and route chosen on them are too uncertain to write; record outcomes of at least %d items and calibrate again",
			items, estimate.MinGraded, estimate.MinGraded)
	}
	return nil
}

// writeCalibration writes the calibrated setting into the spec's category: a router threshold
// or willingness to pay as a score route (with the measured share of requests each model
// starts on and its pass rate there), a single model or a split (with the models' measured
// pass rates, from which the estimate prices them), or a cascade, saying what it wrote on say.
// When the spec's own route is the choice, the route is kept and its assumptions are written:
// its models' measured pass rates and, where its validators were replayed on the recorded
// answers of enough failing and passing ones, their measured strength. The spec is rewritten only
// when the edited document still loads. Tokens are not written: when the replayed calls'
// differ from the category's, a note says so (see tokensNote). table is the --outcomes file.
func (m *Main) writeCalibration(say io.Writer, file string, s *spec.Spec, category, router, table string, rep *replay.Report, verdictRows int) error {
	cal := rep.Calibration
	if cal == nil {
		// The calibration's note says why: no policy meets the target, or none may be
		// compared (every candidate is measured on too few of the items).
		why := "no policy meets the target (see the notes)"
		for _, n := range rep.Notes {
			if r, ok := strings.CutPrefix(n, "calibration: "); ok {
				why = r
			}
		}
		fmt.Fprintf(m.Stderr, "clearbar replay: nothing to write into %s: %s\n", file, why)
		return errFailed
	}
	ch := cal.Chosen
	tokens := func() {
		if note := tokensNote(s, category, rep, ch, file, table); note != "" {
			fmt.Fprintf(say, "  %s\n", note)
		}
	}
	var (
		form              string
		value             any
		shares, startPass map[string]float64
		passRates         map[string]float64 // measured pass rates to write, for a split or a model
		// For the spec's own route: its models measured on too few items (unmeasured), and the
		// validators' measured strength to write (nil: not written, strengthNote says why).
		unmeasured   []string
		strength     *replay.MeasuredStrength
		strengthNote string
		// For a cascade: its later models' pass rates on the items escalated to them, to
		// write, and what was left unwritten (escNote).
		escRates map[string]float64
		escNote  string
	)
	switch ch.Kind {
	case replay.KindSpec:
		// The route stays; its assumptions become the measured ones, so that the estimate of
		// the route is what the replay measured.
		passRates, unmeasured = routePassRates(rep, ch)
		strength, strengthNote = measuredStrength(ch)
		if strength != nil && verdictRows > 0 {
			// Rows whose pass is the validators' own verdict grade the validators against
			// themselves: they always agree. validate calibrate refuses such rows too.
			strength, strengthNote = nil, fmt.Sprintf("assume.validator was left as it is: %d row(s) of %s have as their pass the validators' own verdict (traffic, or eval answers graded by the validators alone), against which the validators always agree; measure their strength on answers graded by a reference or checks (clearbar validate calibrate)", verdictRows, table)
		}
		escRates, escNote = escalatedPassRates(rep, ch)
	case replay.KindThreshold, replay.KindWTP:
		if router == "" {
			return fmt.Errorf("the chosen %s router needs --router to be written into the spec", ch.Kind)
		}
		rel := router // the spec names the router relative to itself
		absSpec, err1 := filepath.Abs(file)
		absRouter, err2 := filepath.Abs(router)
		if err1 == nil && err2 == nil {
			if r, err := filepath.Rel(filepath.Dir(absSpec), absRouter); err == nil {
				rel = filepath.ToSlash(r)
			}
		}
		score := map[string]any{"router": rel, "models": ch.Models}
		switch {
		case ch.Params.Threshold != nil:
			// As the sweep placed it: the shortest decimal that decides every item as replayed.
			score["threshold"] = *ch.Params.Threshold
		case ch.Params.Lambda != nil && *ch.Params.Lambda > 0:
			score["willingness_to_pay"] = sig6(1 / *ch.Params.Lambda)
		default:
			return fmt.Errorf("the calibrated router %s has neither a threshold nor a willingness to pay", ch.Name)
		}
		score["models"] = cheapestFirst(rep, ch.Models)
		form, value = "score", score
		// The routers replay unvalidated: each item goes to one model, so the calls per item
		// are the shares of requests each model starts on.
		shares = startShares(ch)
		for name, p := range ch.StartPass {
			if startPass == nil {
				startPass = map[string]float64{}
			}
			startPass[name] = sig6(p)
		}
	case replay.KindCascade:
		form, value = "cascade", ch.Models
		passRates, unmeasured = routePassRates(rep, ch)
		escRates, escNote = escalatedPassRates(rep, ch)
	case replay.KindMix:
		var arms []map[string]any
		for _, name := range ch.Models {
			arms = append(arms, map[string]any{"weight": round4(ch.Share(name)), "model": name})
		}
		form, value = "split", arms
		passRates = measuredPassRates(rep, ch.StartPass)
	default:
		if len(ch.Models) != 1 {
			return fmt.Errorf("the calibrated choice %s (%s) cannot be written as a route", ch.Name, ch.Kind)
		}
		form, value = "model", ch.Models[0]
		// The pass rate of its answers: the estimate applies the model's availability
		// separately, so failed calls must not count as failed answers too.
		if q, ok := ch.AnsweredQuality(); ok {
			passRates = measuredPassRates(rep, map[string]float64{ch.Models[0]: q})
		}
	}
	// Rows whose pass is the validators' verdict measure the share the validators accept,
	// not a pass rate: validators that miss bad answers and flag good ones move it off the
	// pass rate. No pass rate is written from them (as no validator strength is); estimate
	// --measured and review correct that share for the validators' assumed strength.
	var verdictNote string
	if verdictRows > 0 && len(passRates)+len(escRates)+len(startPass) > 0 {
		var keys []string
		for _, k := range []struct {
			key string
			n   int
		}{{"assume.pass_rate", len(passRates)}, {"assume.escalated_pass_rate", len(escRates)}, {"assume.score_pass_rate", len(startPass)}} {
			if k.n > 0 {
				keys = append(keys, k.key)
			}
		}
		left := "was left as it is"
		if len(keys) > 1 {
			left = "were left as they are"
		}
		verdictNote = fmt.Sprintf("%s %s: %d row(s) of %s have as their pass the validators' own verdict (traffic, or eval answers graded by the validators alone), the share of answers the validators accept, which their misses and false alarms move off the pass rate; clearbar estimate %s --measured %s (or clearbar review, on the trace store) measures the pass rate corrected for the validators' assumed strength, and eval answers graded by a reference or checks measure it directly",
			strings.Join(keys, " and "), left, verdictRows, table, file, table)
		passRates, escRates, escNote, startPass, unmeasured = nil, nil, "", nil, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	orig := data
	if form != "" {
		data, err = spec.SetRouteForm(data, category, form, value)
	}
	if err == nil && shares != nil {
		data, err = spec.SetInCategory(data, category, []string{"assume", "score_share"}, shares)
	}
	if err == nil && startPass != nil {
		// The router sends each model the requests it does well on: the estimate needs its pass
		// rate there, not over all requests.
		data, err = spec.SetInCategory(data, category, []string{"assume", "score_pass_rate"}, startPass)
	}
	// A split or a single model is estimated from the models' pass rates: the measured ones,
	// so that the estimate of the written route is the quality the replay measured.
	for _, name := range slices.Sorted(maps.Keys(passRates)) {
		if err == nil {
			data, err = spec.SetInCategory(data, category, []string{"assume", "pass_rate", name}, passRates[name])
		}
	}
	for _, name := range slices.Sorted(maps.Keys(escRates)) {
		if err == nil {
			data, err = spec.SetInCategory(data, category, []string{"assume", "escalated_pass_rate", name}, escRates[name])
		}
	}
	if strength != nil {
		// Each setting on its own, as validate calibrate writes them, so that a strength
		// written as a block keeps its layout and comments.
		for _, kv := range []struct {
			key   string
			value any
		}{{"detect", sig6(strength.Detect)}, {"false_alarm", sig6(strength.FalseAlarm)}, {"calibrated", spec.Date{Time: m.Now()}}} {
			if err == nil {
				data, err = spec.SetInCategory(data, category, []string{"assume", "validator", kv.key}, kv.value)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("writing the calibration into %s: %w", file, err)
	}
	if _, err := spec.Parse(data, file, spec.Options{Today: m.Now()}); err != nil {
		return fmt.Errorf("the calibrated spec would not load, so %s is unchanged: %w", file, err)
	}
	switch {
	case form == "" && bytes.Equal(orig, data) && verdictNote != "":
		fmt.Fprintf(say, "\nThe spec's own route is the calibrated choice: %s (quality %.2f%%, %s per request). Nothing was written into %s.\n",
			ch.Name, ch.Quality*100, ch.CostPerItem, file)
	case form == "" && bytes.Equal(orig, data):
		fmt.Fprintf(say, "\nThe spec's own route is the calibrated choice: %s (quality %.2f%%, %s per request). Its assumptions in %s already are the measured ones.\n",
			ch.Name, ch.Quality*100, ch.CostPerItem, file)
	case bytes.Equal(orig, data):
		fmt.Fprintf(say, "\n%s already has the calibrated route.\n", file)
	}
	if bytes.Equal(orig, data) {
		specRouteNotes(say, unmeasured, verdictNote, strengthNote, escNote)
		tokens()
		return nil
	}
	if err := replaceFile(file, data); err != nil {
		return err
	}
	if form == "" {
		fmt.Fprintf(say, "\nThe spec's own route is the calibrated choice: %s (quality %.2f%%, %s per request). Kept it, and wrote into %s the assumptions measured on these outcomes, from which the estimate prices it.\n",
			ch.Name, ch.Quality*100, ch.CostPerItem, file)
	} else {
		fmt.Fprintf(say, "\nWrote the calibrated route of %q into %s: %s (quality %.2f%%, %s per request).\n",
			category, file, ch.Name, ch.Quality*100, ch.CostPerItem)
	}
	if len(passRates) > 0 {
		var parts []string
		for _, name := range slices.Sorted(maps.Keys(passRates)) {
			parts = append(parts, fmt.Sprintf("%s %v", name, passRates[name]))
		}
		fmt.Fprintf(say, "  assume.pass_rate set to the rates measured on these outcomes (%s), from which the estimate prices the route\n", strings.Join(parts, ", "))
	}
	if len(escRates) > 0 {
		var parts []string
		for _, name := range slices.Sorted(maps.Keys(escRates)) {
			parts = append(parts, fmt.Sprintf("%s %v (%.0f answers)", name, escRates[name], ch.EscalatedPass[name].Answers))
		}
		fmt.Fprintf(say, "  assume.escalated_pass_rate set to the rates measured on the items the route escalated (%s): they are harder than the others, and the estimate answers escalated requests at these rates\n", strings.Join(parts, ", "))
	}
	if strength != nil {
		fmt.Fprintf(say, "  assume.validator set to the strength the spec's validators showed on the recorded answers: detect %v (flagged %.0f of %.0f failing answers), false_alarm %v (flagged %.0f of %.0f passing answers)\n",
			sig6(strength.Detect), strength.Detect*strength.Failing, strength.Failing,
			sig6(strength.FalseAlarm), strength.FalseAlarm*strength.Passing, strength.Passing)
	}
	specRouteNotes(say, unmeasured, verdictNote, strengthNote, escNote)
	if sc, ok := value.(map[string]any); ok {
		if wtp, ok := sc["willingness_to_pay"]; ok {
			fmt.Fprintf(say, "  score route over %s with willingness_to_pay %v (1/λ, in %s)\n", strings.Join(sc["models"].([]string), ", "), wtp, learn.WTPUnit)
		} else if th, ok := sc["threshold"]; ok {
			fmt.Fprintf(say, "  score route over %s with threshold %v\n", strings.Join(sc["models"].([]string), ", "), th)
		}
	}
	tokens()
	return nil
}

// routePassRates returns the pass rates to write for the spec's own route ch, when it is the
// calibrated choice: each of its models' measured pass rate on the items, over the calls
// that answered (as for a single model chosen), from the model's single-model result. A model
// whose result covers too few items (Result.Narrow) or none is left out, and named in
// unmeasured: in a trace export a later step's model has rows only where the route escalated,
// and its pass rate there is not its rate over the category's requests.
func routePassRates(rep *replay.Report, ch *replay.Result) (rates map[string]float64, unmeasured []string) {
	singles := map[string]*replay.Result{}
	for _, r := range rep.Results {
		if r.Kind == replay.KindSingle {
			singles[r.Name] = r
		}
	}
	measured := map[string]float64{}
	for _, name := range ch.Models {
		r := singles[name]
		q, ok := 0.0, false
		if r != nil && !r.Narrow {
			q, ok = r.AnsweredQuality()
		}
		if !ok {
			unmeasured = append(unmeasured, name)
			continue
		}
		measured[name] = q
	}
	return measuredPassRates(rep, measured), unmeasured
}

// measuredStrength returns the validator strength to write for the spec's own route ch: the
// strength its validators showed on the recorded answers, when both rates were measured on
// enough answers (replay.MinStrengthAnswers); else nil, and why not ("" when the route was
// not replayed with its validators).
func measuredStrength(ch *replay.Result) (*replay.MeasuredStrength, string) {
	v := ch.Validator
	switch {
	case !ch.Params.Validators || v == nil:
		return nil, ""
	case !v.Enough():
		return nil, fmt.Sprintf("assume.validator was left as it is: the spec's validators judged %.0f failing and %.0f passing answers, and a measured strength needs at least %d of each (detect %.3f, false_alarm %.3f as measured)",
			v.Failing, v.Passing, replay.MinStrengthAnswers, v.Detect, v.FalseAlarm)
	}
	return v, ""
}

// specRouteNotes says, after a calibration that kept the spec's own route or wrote a
// cascade, what of its assumptions was not measured; notes are said as they are, each on a
// line.
func specRouteNotes(say io.Writer, unmeasured []string, notes ...string) {
	if len(unmeasured) > 0 {
		fmt.Fprintf(say, "  assume.pass_rate of %s left as it is: measured on too few of the items (record their answers to every item to measure it)\n", strings.Join(unmeasured, ", "))
	}
	for _, n := range notes {
		if n != "" {
			fmt.Fprintf(say, "  %s\n", n)
		}
	}
}

// minEscalatedAnswers is the fewest (expected) answers to escalated items a model's escalated
// pass rate is written from: as many as estimate --measured needs graded answers for a pass
// rate.
const minEscalatedAnswers = estimate.MinGraded

// escalatedPassRates returns the escalated pass rates to write for the cascade ch (the spec's
// own route or a calibrated cascade): each later model's pass rate on the items an earlier
// step's validation escalated to it (replay.Result.EscalatedPass), when measured on at least
// minEscalatedAnswers answers and graded pass or fail; note names the models left out.
func escalatedPassRates(rep *replay.Report, ch *replay.Result) (rates map[string]float64, note string) {
	if rep.Grade != replay.GradePass.String() {
		return nil, ""
	}
	var few []string
	for _, name := range slices.Sorted(maps.Keys(ch.EscalatedPass)) {
		ep := ch.EscalatedPass[name]
		if ep.Answers < minEscalatedAnswers {
			few = append(few, fmt.Sprintf("%s (%.0f answers)", name, ep.Answers))
			continue
		}
		if rates == nil {
			rates = map[string]float64{}
		}
		rates[name] = sig6(ep.Rate)
	}
	if len(few) > 0 {
		note = fmt.Sprintf("assume.escalated_pass_rate of %s not written: measured on fewer than %d answers to escalated items", strings.Join(few, ", "), minEscalatedAnswers)
	}
	return rates, note
}

// tokensOff is how far, as a share of the category's tokens, the replayed calls' mean tokens
// may be before tokensNote speaks.
const tokensOff = 0.2

// costNote compares, for rows that record a cost but no tokens (imported benchmarks), each
// model's mean recorded cost per call with what the spec's prices make a call at category c's
// tokens, which clearbar estimate prices every call at: when a model ch calls is more than
// tokensOff apart, the estimate's cost per request will differ from the replay's, and the note
// says so. "" when they agree, or no cost is recorded.
func costNote(s *spec.Spec, c *spec.Category, stats map[string]replay.ModelStats, ch *replay.Result) string {
	var apart []string
	for _, name := range slices.Sorted(maps.Keys(ch.Calls)) {
		st, m := stats[name], s.Model(name)
		if m == nil || st.Cost <= 0 || ch.Calls[name] <= 0 {
			continue
		}
		priced := c.CallCost(m)
		if d := float64(st.Cost) - float64(priced); priced > 0 && math.Abs(d) > tokensOff*float64(priced) {
			apart = append(apart, fmt.Sprintf("%s %s against %s", name, st.Cost, priced))
		}
	}
	if len(apart) == 0 {
		return ""
	}
	return fmt.Sprintf("note: the rows record costs but no tokens, and the recorded cost per call differs from what the spec's prices make at category %q's tokens, at which clearbar estimate prices every call (%s): its cost per request will differ from the replay's %s; set the category's tokens, or the models' prices, to match",
		c.Name, strings.Join(apart, "; "), ch.CostPerItem)
}

// tokensNote compares the mean tokens in and out of the calls the calibrated policy ch made in
// the replay (each model's recorded mean, weighted by its calls) with the category's tokens,
// which the estimate prices every call at: when either is more than tokensOff apart, the
// estimate's cost differs from the replay's, and the note says what to change. Reasoning
// tokens, which providers count among the output tokens, are added to the category's output
// for models that bill them. "" when they agree, or the rows record no tokens.
func tokensNote(s *spec.Spec, category string, rep *replay.Report, ch *replay.Result, file, table string) string {
	c := s.Category(category)
	stats := map[string]replay.ModelStats{}
	for _, st := range rep.Models {
		stats[st.Name] = st
	}
	assumedIn, assumedOut := c.Tokens.In.Mean(), c.Tokens.Out.Mean()
	var in, out, reasoning, wIn, wOut float64
	for _, name := range slices.Sorted(maps.Keys(ch.Calls)) {
		calls, st := ch.Calls[name], stats[name]
		if st.TokensIn > 0 {
			in, wIn = in+calls*st.TokensIn, wIn+calls
		}
		if st.TokensOut > 0 {
			out, wOut = out+calls*st.TokensOut, wOut+calls
			if md := s.Model(name); md != nil && md.Resolved.Reasoning {
				reasoning += calls * c.Tokens.Reasoning.Mean()
			}
		}
	}
	if wIn > 0 {
		in /= wIn
	}
	if wOut > 0 {
		out, reasoning = out/wOut, reasoning/wOut
	}
	off := func(measured, assumed float64) bool {
		return measured > 0 && math.Abs(measured-assumed) > tokensOff*assumed
	}
	if in == 0 && out == 0 {
		return costNote(s, c, stats, ch)
	}
	if !off(in, assumedIn) && !off(out, assumedOut+reasoning) {
		return ""
	}
	// What to write: the measured figure where it is off, the spec's elsewhere; output tokens
	// without the reasoning the category states apart.
	setIn, setOut := assumedIn, assumedOut
	var got, want []string
	if in > 0 {
		got, want = append(got, fmt.Sprintf("%.0f tokens in", in)), append(want, fmt.Sprintf("%.0f in", assumedIn))
		if off(in, assumedIn) {
			setIn = in
		}
	}
	if out > 0 {
		got, want = append(got, fmt.Sprintf("%.0f out", out)), append(want, fmt.Sprintf("%.0f out", assumedOut+reasoning))
		if off(out, assumedOut+reasoning) {
			setOut = max(out-reasoning, 0)
		}
	}
	measured := "clearbar estimate " + file + " --measured OUTCOMES"
	if table != "" {
		measured = "clearbar estimate " + file + " --measured " + table
	}
	band := ""
	if c.Tokens.In.Dist || c.Tokens.Out.Dist {
		band = " (or bands {p50, p95} with those means)"
	}
	return fmt.Sprintf("note: the calls of %s average %s in the replay, but category %q assumes %s, at which clearbar estimate prices every call: "+
		"its cost per request will differ from the replay's %s; set tokens: {in: %.0f, out: %.0f} in category %q%s, or run %s, which prices each model at the tokens measured",
		ch.Name, strings.Join(got, " and "), category, strings.Join(want, " and "), ch.CostPerItem, setIn, setOut, category, band, measured)
}

func round4(f float64) float64 { return math.Round(f*1e4) / 1e4 }

// round6 rounds to six decimal places. The shares a calibration writes (like the pass rates,
// written with six significant digits) must estimate to the quality the replay measured within
// about a millionth, so that a route that clears its bar in the replay does not miss it in the
// estimate by a rounding.
func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }

// measuredPassRates returns the pass rates to write for a calibrated split or model: the
// measured ones, to six significant digits, so that the estimate of the route is the quality
// the replay measured. A replay graded by score measured scores, not pass rates: nil then.
func measuredPassRates(rep *replay.Report, measured map[string]float64) map[string]float64 {
	if rep.Grade != replay.GradePass.String() || len(measured) == 0 {
		return nil
	}
	out := make(map[string]float64, len(measured))
	for name, p := range measured {
		out[name] = sig6(p)
	}
	return out
}

// sig6 rounds to six significant digits: a calibrated threshold or willingness to pay written
// into a spec must select the same point replay measured, which two digits do not.
func sig6(f float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 6, 64), 64)
	return v
}

// categoryModels returns the models a category names: its route's steps, fallbacks, agreement
// checkers and assumed pass rates, in that order, each once.
func categoryModels(c *spec.Category) []string {
	var out []string
	add := func(name string) {
		if name != "" && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	if c.Route != nil {
		for _, m := range c.Route.Models() {
			add(m.Name)
		}
		validators, _ := c.Route.MainValidators()
		for _, v := range validators {
			if ag, ok := v.Config.(*spec.Agree); ok {
				for _, m := range ag.Checkers() {
					add(m.Name)
				}
			}
		}
	}
	for _, m := range c.Fallback {
		add(m.Name)
	}
	for _, name := range slices.Sorted(maps.Keys(c.Assume.PassRate)) {
		add(name)
	}
	return out
}

// cheapestFirst orders a score route's models by their mean cost per item in the replay, the
// order a score route needs (it escalates failed answers to later, dearer models).
func cheapestFirst(rep *replay.Report, models []string) []string {
	cost := map[string]float64{}
	for _, r := range rep.Results {
		if r.Kind == replay.KindSingle {
			cost[r.Name] = r.CostUSD()
		}
	}
	costOf := func(m string) float64 {
		if c, ok := cost[m]; ok {
			return c
		}
		return math.Inf(1) // no single-model result: after those with one
	}
	out := slices.Clone(models)
	slices.SortStableFunc(out, func(a, b string) int { return cmp.Compare(costOf(a), costOf(b)) })
	return out
}

// startShares returns the share of items each of a router's models starts on, rounded to six
// places so that they still sum to 1 (the largest takes the rounding).
func startShares(ch *replay.Result) map[string]float64 {
	shares := map[string]float64{}
	var total float64
	for _, name := range ch.Models {
		total += ch.Share(name)
	}
	if total <= 0 {
		return shares
	}
	largest, rest := "", 0.0
	for _, name := range ch.Models {
		shares[name] = round6(ch.Share(name) / total)
		if largest == "" || shares[name] > shares[largest] {
			largest = name
		}
	}
	for name, v := range shares {
		if name != largest {
			rest += v
		}
	}
	shares[largest] = round6(1 - rest)
	return shares
}

// replayFormatOf is the replay report format the extension of path names: html for .html or
// .htm, json for .json, in any case; text otherwise.
func replayFormatOf(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".html", ".htm":
		return "html"
	case ".json":
		return "json"
	}
	return "text"
}
