package learn

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/clearbar/clearbar/outcomes"
)

// TrainOptions configure Train. The zero value trains with the defaults below.
type TrainOptions struct {
	// Features is the feature configuration; the zero value means DefaultFeatures().
	Features FeatureConfig
	// Models fixes the candidates and their order; nil means every model in the rows.
	Models []string
	// Epochs is the number of passes over the items; 0 means 4.
	Epochs int
	// LearningRate is AdaGrad's step size η; 0 means 0.03.
	LearningRate float64
	// L2 is the L2 penalty on each candidate's own weights, applied per example to the
	// weights the example touches; 0 means 1e-4 (negative means none).
	L2 float64
	// SharedL2 is the L2 penalty on the shared weights (see Independent); 0 means 1e-5
	// (negative means none).
	SharedL2 float64
	// Independent trains each candidate on its own. By default every candidate's logit is
	// its own weights plus a shared set trained on every candidate's labels, which learns
	// what makes an item hard for all models from K times the data; the shared weights are
	// folded into each candidate's when the model is built, so inference is unchanged.
	Independent bool
	// Seed seeds the item order of every epoch and the cross-validation folds; training is
	// deterministic given the rows (in any order of items within an item's rows), the options
	// and the seed.
	Seed uint64
	// Folds is the number of cross-validation folds behind the report's held-out metrics and
	// the calibration of Target; the model is the mean of the fold models. 0 means 5; 1 means
	// no cross-validation: one fit on every item, without Platt scaling (the report then has
	// no held-out metrics and Target cannot be calibrated).
	Folds int
	// Target, when set, asks Train to calibrate a choice rule on the out-of-fold
	// predictions; the result is in Report.Rule.
	Target *Target
	// Data names the training data in the model's metadata; Split says which part of it
	// trained the model ("" means "all").
	Data, Split string
	// EmbedDropout, for features with an embedding block, is the share of items whose block
	// each epoch trains without (as when the gateway's embeddings call fails), so that the
	// other features keep weights of their own; 0 means 0.1 (negative means none).
	EmbedDropout float64
}

func (o TrainOptions) withDefaults() TrainOptions {
	if o.Features.Version == 0 && o.Features.HashBits == 0 {
		o.Features = DefaultFeatures()
	}
	o.Features = o.Features.withDefaults()
	if o.Epochs == 0 {
		o.Epochs = 4
	}
	if o.LearningRate == 0 {
		o.LearningRate = 0.03
	}
	if o.L2 == 0 {
		o.L2 = 1e-4
	}
	o.L2 = max(o.L2, 0)
	if o.SharedL2 == 0 {
		o.SharedL2 = 1e-5
	}
	o.SharedL2 = max(o.SharedL2, 0)
	if o.Folds == 0 {
		o.Folds = 5
	}
	if o.Split == "" {
		o.Split = "all"
	}
	if o.EmbedDropout == 0 {
		o.EmbedDropout = 0.1
	}
	o.EmbedDropout = max(o.EmbedDropout, 0)
	return o
}

// bindEmbeddings checks, for features with an embedding block, that every item has a vector
// of the same length, and sets the block's Dims from them when it is 0. The block's Scale is
// set by prepare, from the vectors.
func (o *TrainOptions) bindEmbeddings(ds *Dataset) error {
	e := o.Features.Embedding
	if e == nil {
		return nil
	}
	c := *e
	if c.Scale == 0 {
		c.Scale = 1 // computed from the vectors in prepare
	}
	for i := range ds.Items {
		it := &ds.Items[i]
		if it.Embedding == nil {
			return fmt.Errorf("item %q has no embedding: features with an embedding block (%s) need one for every item (see EmbedDataset)", it.ID, c.Model)
		}
		if c.Dims == 0 {
			c.Dims = len(it.Embedding)
		}
		if err := c.CheckVector(it.Embedding); err != nil {
			return fmt.Errorf("item %q: %w", it.ID, err)
		}
	}
	o.Features.Embedding = &c
	return nil
}

func (o TrainOptions) validate() error {
	if err := o.Features.Validate(); err != nil {
		return err
	}
	switch {
	case o.Epochs < 0 || o.Epochs > 1000:
		return fmt.Errorf("epochs %d is outside 1..1000", o.Epochs)
	case !(o.LearningRate > 0 && o.LearningRate <= 10):
		return fmt.Errorf("learning rate %v is outside (0, 10]", o.LearningRate)
	case o.Folds < 1 || o.Folds > 100:
		return fmt.Errorf("folds %d is outside 1..100", o.Folds)
	case o.Target != nil && o.Folds < 2:
		return errors.New("calibrating a target needs cross-validation: set folds to 2 or more")
	case math.IsNaN(o.EmbedDropout):
		return errors.New("embedding dropout NaN is not a number: set a share of items in [0, 1)")
	case o.EmbedDropout >= 1:
		return fmt.Errorf("embedding dropout %v must be less than 1", o.EmbedDropout)
	}
	if o.Target != nil {
		return o.Target.validate()
	}
	return nil
}

// Report says what Train did and how well the model predicts items it did not see.
type Report struct {
	// Data names the training data; Items, Rows and Skipped count what was read.
	Data                 string
	Items, Rows, Skipped int
	// SkipReason says why rows were skipped (see Dataset.SkipReason).
	SkipReason string
	// Metrics has one entry per candidate (also saved in the model file).
	Metrics []ModelMetrics
	// Rule is the calibrated choice rule when TrainOptions.Target was set.
	Rule *Calibration
}

// MinItemsPerModel is the fewest graded items per candidate from which a learned router's
// P(pass) is worth routing by. A pass rate measured on n items is uncertain by about ±1/√n
// (the 95% interval of a rate near one half): ±0.07 at 200 items, already the width of the
// gap between a typical threshold and the next, and ±0.22 at 20, the fewest a measured pass
// rate replaces an assumption with (estimate.MinGraded) and learn evaluate measures on. A
// router's P(pass) for a kind of request rests on the items like it, a fraction of them, so
// it is noisier still: its threshold or willingness to pay then decides by the noise. The
// benchmark routers of learn/testdata/evaluation.md learned from 3,200 and 14,000 items.
const MinItemsPerModel = 200

// FewItems returns a warning when a candidate has fewer than MinItemsPerModel graded items,
// naming those candidates and how many more items would help, or "" when none has.
func (r *Report) FewItems() string {
	var few []string
	least := MinItemsPerModel
	for _, m := range r.Metrics {
		if m.Items < MinItemsPerModel {
			few = append(few, fmt.Sprintf("%s %d", m.Model, m.Items))
			least = min(least, m.Items)
		}
	}
	if len(few) == 0 {
		return ""
	}
	return fmt.Sprintf("few graded items per model (%s), fewer than %d: a router learned from so few is noisy, its P(pass) off by about ±%.2f (1/√n) or more, so its threshold or willingness to pay will route by the noise; grade at least %d more items per model (%d or more each; thousands route better)",
		strings.Join(few, ", "), MinItemsPerModel, 1/math.Sqrt(float64(max(least, 1))), MinItemsPerModel-least, MinItemsPerModel)
}

// WriteText writes the report as a short table.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "trained on %s: %d items, %d rows", r.Data, r.Items, r.Rows)
	if r.Skipped > 0 {
		fmt.Fprintf(tw, ", %d rows skipped (%s)", r.Skipped, r.SkipReason)
	}
	fmt.Fprintln(tw)
	fallback := len(r.Metrics) > 0 && r.Metrics[0].FallbackLogLoss != 0
	if fallback {
		fmt.Fprintln(tw, "MODEL\tITEMS\tPASS RATE\tHELD-OUT LOG LOSS\tBASELINE\tAUC\tWITHOUT EMBEDDING: LOG LOSS\tAUC")
	} else {
		fmt.Fprintln(tw, "MODEL\tITEMS\tPASS RATE\tHELD-OUT LOG LOSS\tBASELINE\tAUC")
	}
	for _, m := range r.Metrics {
		if m.LogLoss == 0 {
			fmt.Fprintf(tw, "%s\t%d\t%.3f\t-\t-\t-\n", m.Model, m.Items, m.PassRate)
			continue
		}
		// A candidate that always passes (or always fails) has no AUC: there is nothing to rank.
		auc, fallbackAUC := fmt.Sprintf("%.3f", m.AUC), fmt.Sprintf("%.3f", m.FallbackAUC)
		if m.PassRate == 0 || m.PassRate == 1 {
			auc, fallbackAUC = "-", "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.4f\t%.4f\t%s", m.Model, m.Items, m.PassRate, m.LogLoss, m.BaseLogLoss, auc)
		if fallback {
			fmt.Fprintf(tw, "\t%.4f\t%s", m.FallbackLogLoss, fallbackAUC)
		}
		fmt.Fprintln(tw)
	}
	if c := r.Rule; c != nil {
		fmt.Fprintf(tw, "\nrule: %s\n", c)
	}
	return tw.Flush()
}

// Train trains a model of P(pass | request) for every candidate model in the rows: rows are
// grouped by item (see NewDataset), each item's features are extracted from its prompt and
// task (Category, else Task), and one L2-regularised logistic regression per candidate is
// fitted by AdaGrad. With Folds ≥ 2 (the default) it cross-validates: the out-of-fold
// predictions give the report's held-out metrics, fit a Platt scaling per candidate that
// the model applies, and calibrate Target when it is set; the model is the mean of the fold
// models' weights (see trainCore for why).
//
// It is deterministic given the same rows and options. With the default five folds it takes
// about 1 s for 14,000 items and 2 candidates and 3 s for 3,200 items and 11 candidates
// (time grows with items × candidates × the prompts' length up to 1.5 KB). Memory is about
// 16 bytes per weight (2^16 features × (candidates + 1)) for each of the two folds in
// training at once and 8 bytes per weight for each fold trained, plus the items' feature
// vectors.
func Train(rows iter.Seq[outcomes.Row], opts TrainOptions) (*Model, *Report, error) {
	return TrainDataset(NewDataset(opts.Data, rows, opts.Models), opts)
}

// TrainDataset is Train for rows already grouped.
func TrainDataset(ds *Dataset, opts TrainOptions) (*Model, *Report, error) {
	opts = opts.withDefaults()
	if err := opts.bindEmbeddings(ds); err != nil {
		return nil, nil, err
	}
	if err := opts.validate(); err != nil {
		return nil, nil, err
	}
	if len(ds.Items) == 0 {
		if ds.Skipped > 0 {
			return nil, nil, fmt.Errorf("no item to train on: %d rows skipped (%s)", ds.Skipped, ds.SkipReason)
		}
		if opts.Data != "" {
			return nil, nil, fmt.Errorf("no item to train on: the outcomes table %s is empty (it has no rows)", opts.Data)
		}
		return nil, nil, errors.New("no item to train on: the outcomes table is empty (it has no rows)")
	}
	// A candidate without a single label would get P(pass) from the other candidates' labels
	// alone (the weights they share): a router that makes it up.
	for j, name := range ds.Models {
		if !slices.ContainsFunc(ds.Items, func(it Item) bool { return !math.IsNaN(it.Pass[j]) }) {
			return nil, nil, fmt.Errorf("model %q has no graded row among the %d items (its calls failed, or none of its answers was graded), so its P(pass) cannot be learned: grade its answers, or leave it out of the candidates (learn train --models)", name, len(ds.Items))
		}
	}
	if opts.Data == "" {
		opts.Data = ds.Name
	}
	p := prepare(ds, opts.Features)
	if e := opts.Features.Embedding; e != nil {
		e.Scale = p.embScale
	}
	all := make([]int, len(ds.Items))
	for i := range all {
		all[i] = i
	}
	rep := &Report{Data: opts.Data, Items: len(ds.Items), Rows: ds.Rows, Skipped: ds.Skipped, SkipReason: ds.SkipReason}
	ws, oof, fallback := trainCore(p, all, opts)
	rep.Metrics = metrics(ds, all, oof)
	var blk embBlock
	if p.emb != nil {
		blk.mean = p.embMean
		blk.fbScale, blk.fbBias = make([]float32, len(ds.Models)), make([]float32, len(ds.Models))
		for j := range ds.Models {
			blk.fbScale[j] = 1
		}
	}
	if fallback != nil {
		fitFallback(ds, all, fallback, ws, &blk)
		for j, fm := range metrics(ds, all, fallback) {
			rep.Metrics[j].FallbackLogLoss, rep.Metrics[j].FallbackAUC = fm.LogLoss, fm.AUC
		}
	}
	if opts.Target != nil {
		samples := makeSamples(ds, all, oof, nil)
		c, err := Calibrate(ds.Models, samples, *opts.Target)
		if err != nil {
			return nil, nil, err
		}
		rep.Rule = c
	}
	folds := 0
	if opts.Folds >= 2 {
		folds = opts.Folds
	}
	info := TrainingInfo{
		Data: opts.Data, Split: opts.Split, Seed: opts.Seed, Items: len(ds.Items), Rows: ds.Rows,
		Epochs: opts.Epochs, LearningRate: opts.LearningRate, L2: opts.L2, SharedL2: opts.SharedL2,
		Folds: folds, FoldMean: folds > 0, Metrics: rep.Metrics, EmbedDropout: embedDropout(opts),
	}
	info.describeData(ds)
	m, err := ws.model(opts.Features, ds.Models, blk, info, opts.Independent)
	if err != nil {
		return nil, nil, err
	}
	return m, rep, nil
}

// trainCore trains on the items at idx. With two or more folds it cross-validates: the
// out-of-fold predictions fit a Platt scaling per candidate (P = σ(a·z + b) for the raw logit
// z) and are returned scaled by it, and the returned weights are the mean of the fold
// models' weights, with the same scaling. Averaging the fold models (bagging them) rather
// than fitting one more model on every item keeps the model the calibration describes: its
// predictions are distributed like the out-of-fold ones the Platt scaling and the operating
// points are fitted on, while one final fit on more data predicts on a scale of its own,
// which moves a calibrated λ (see the evaluation notes in doc.go). Without folds the weights
// are one fit on every item, unscaled, and oof is nil. With an embedding block, fallback holds
// the out-of-fold logits without it (as when the embeddings call fails), unscaled; it is nil
// otherwise.
func trainCore(p *prepared, idx []int, opts TrainOptions) (ws *weights, oof, fallback [][]float64) {
	if opts.Folds < 2 {
		return fit(p, idx, opts), nil, nil
	}
	oof, fallback, folds := crossPredictAll(p, idx, opts, "cv")
	a, b := plattAll(p.ds, idx, oof)
	applyPlatt(oof, a, b)
	ws = averageWeights(folds)
	ws.pa, ws.pb = a, b
	return ws, oof, fallback
}

// fitFallback calibrates, per candidate, the predictions a model with an embedding block
// makes without a vector: a Platt scaling σ(α·z + β) of the out-of-fold logits z made without
// the block (as the gateway makes them when the embeddings call fails), expressed on the
// model's logit, which already carries the main Platt scaling (a·z + c): the fallback logit is
// (α/a)·ℓ + β − α·c/a for the model's logit ℓ. fallback is replaced by the calibrated
// probabilities.
func fitFallback(ds *Dataset, idx []int, fallback [][]float64, ws *weights, blk *embBlock) {
	z, y := make([]float64, len(idx)), make([]float64, len(idx))
	for j := range ds.Models {
		for n, i := range idx {
			z[n], y[n] = fallback[n][j], ds.Items[i].Pass[j]
		}
		alpha, beta := plattLogits(z, y)
		a, c := 1.0, 0.0
		if ws.pa != nil && math.Abs(ws.pa[j]) > 1e-9 {
			a, c = ws.pa[j], ws.pb[j]
		}
		blk.fbScale[j], blk.fbBias[j] = float32(alpha/a), float32(beta-alpha*c/a)
		for n := range idx {
			fallback[n][j] = sigmoid(alpha*z[n] + beta)
		}
	}
}

// embedDropout is the dropout a model's metadata records: the option's, with a block.
func embedDropout(o TrainOptions) float64 {
	if o.Features.Embedding == nil {
		return 0
	}
	return o.EmbedDropout
}

// prepared holds every item's compacted feature vector and labels.
type prepared struct {
	ds  *Dataset
	dim int
	off []int // item i's features are idx[off[i]:off[i+1]]
	idx []int32
	val []float32
	// With an embedding block: item i's block is emb[i*embDim:(i+1)*embDim], centred on
	// embMean and scaled by embScale (see EmbeddingConfig), starting at feature embBase.
	emb      []float32
	embDim   int
	embBase  int
	embMean  []float32
	embScale float32
}

func prepare(ds *Dataset, cfg FeatureConfig) *prepared {
	p := &prepared{ds: ds, dim: cfg.Dim(), off: make([]int, 1, len(ds.Items)+1)}
	f := NewFeaturizer(cfg)
	for i := range ds.Items {
		it := &ds.Items[i]
		v := f.Extract(it.Prompt, it.System, it.Task)
		v.Compact()
		p.idx = append(p.idx, v.Index...)
		p.val = append(p.val, v.Value...)
		p.off = append(p.off, len(p.idx))
	}
	if e := cfg.Embedding; e != nil {
		p.prepareEmbeddings(e, cfg.EmbeddingBase())
	}
	return p
}

// prepareEmbeddings fills the embedding blocks: each item's vector normalised as e says,
// centred on the items' mean and scaled so that the blocks' mean squared length is 1. An item
// without a usable vector (bindEmbeddings lets none through) gets a zero block.
func (p *prepared) prepareEmbeddings(e *EmbeddingConfig, base int) {
	d, n := e.Dims, len(p.ds.Items)
	p.embDim, p.embBase = d, base
	p.emb = make([]float32, n*d)
	mean := make([]float64, d)
	ok := make([]bool, n)
	count := 0
	for i := range p.ds.Items {
		v := p.ds.Items[i].Embedding
		inv, good := e.embedNorm(v)
		if !good {
			continue
		}
		ok[i] = true
		count++
		row := p.emb[i*d : (i+1)*d]
		for t, x := range v {
			row[t] = x * inv
			mean[t] += float64(row[t])
		}
	}
	p.embMean = make([]float32, d)
	if count > 0 {
		for t := range mean {
			p.embMean[t] = float32(mean[t] / float64(count))
		}
	}
	var ss float64
	for i := range p.ds.Items {
		if !ok[i] {
			continue
		}
		row := p.emb[i*d : (i+1)*d]
		for t := range row {
			row[t] -= p.embMean[t]
			ss += float64(row[t]) * float64(row[t])
		}
	}
	p.embScale = 1
	if count > 0 && ss > 0 {
		p.embScale = float32(1 / math.Sqrt(ss/float64(count)))
	}
	for t := range p.emb {
		p.emb[t] *= p.embScale
	}
}

// weights are a model being trained: own weights per candidate plus a shared column.
type weights struct {
	k    int       // candidates
	w    []float64 // dim × (k+1), feature-major; column k is shared
	g    []float64 // AdaGrad accumulators, same layout
	b    []float64 // biases
	gb   []float64
	dim  int
	opts TrainOptions
	// pa and pb are the Platt scaling per candidate (nil: none).
	pa, pb []float64
}

// fit trains on the items at idx.
func fit(p *prepared, idx []int, opts TrainOptions) *weights {
	k := len(p.ds.Models)
	ws := &weights{k: k, dim: p.dim, opts: opts,
		w: make([]float64, p.dim*(k+1)), g: make([]float64, p.dim*(k+1)),
		b: make([]float64, k), gb: make([]float64, k)}
	// Start the biases at each candidate's log-odds of passing, so that early steps do not
	// spend themselves on the base rate.
	for j := range k {
		var s, n float64
		for _, i := range idx {
			if y := p.ds.Items[i].Pass[j]; !math.IsNaN(y) {
				s += y
				n++
			}
		}
		rate := (s + 1) / (n + 2)
		ws.b[j] = math.Log(rate / (1 - rate))
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x6c6561726e))
	// Embedding dropout draws from a stream of its own, so that models without a block
	// train exactly as before.
	drop := rand.New(rand.NewPCG(opts.Seed, 0x64726f70))
	order := slices.Clone(idx)
	z := make([]float64, k)
	gr := make([]float64, k)
	const eps = 1e-8
	eta := opts.LearningRate
	for range opts.Epochs {
		rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		for _, i := range order {
			useEmb := p.emb != nil && !(opts.EmbedDropout > 0 && drop.Float64() < opts.EmbedDropout)
			ws.logits(p, i, z, opts.Independent, useEmb)
			y := p.ds.Items[i].Pass
			var gs float64
			for j := range k {
				if math.IsNaN(y[j]) {
					gr[j] = 0
					continue
				}
				gr[j] = sigmoid(z[j]) - y[j]
				gs += gr[j]
				ws.gb[j] += gr[j] * gr[j]
				ws.b[j] -= eta * gr[j] / (math.Sqrt(ws.gb[j]) + eps)
			}
			for n := p.off[i]; n < p.off[i+1]; n++ {
				x := float64(p.val[n])
				row := int(p.idx[n]) * (k + 1)
				for j := range k {
					if math.IsNaN(y[j]) {
						continue
					}
					d := gr[j]*x + opts.L2*ws.w[row+j]
					ws.g[row+j] += d * d
					ws.w[row+j] -= eta * d / (math.Sqrt(ws.g[row+j]) + eps)
				}
				if !opts.Independent {
					d := gs*x + opts.SharedL2*ws.w[row+k]
					ws.g[row+k] += d * d
					ws.w[row+k] -= eta * d / (math.Sqrt(ws.g[row+k]) + eps)
				}
			}
			if !useEmb {
				continue
			}
			for t, xv := range p.emb[i*p.embDim : (i+1)*p.embDim] {
				x := float64(xv)
				row := (p.embBase + t) * (k + 1)
				for j := range k {
					if math.IsNaN(y[j]) {
						continue
					}
					d := gr[j]*x + opts.L2*ws.w[row+j]
					ws.g[row+j] += d * d
					ws.w[row+j] -= eta * d / (math.Sqrt(ws.g[row+j]) + eps)
				}
				if !opts.Independent {
					d := gs*x + opts.SharedL2*ws.w[row+k]
					ws.g[row+k] += d * d
					ws.w[row+k] -= eta * d / (math.Sqrt(ws.g[row+k]) + eps)
				}
			}
		}
	}
	return ws
}

// logits computes item i's logit per candidate into z, with its embedding block when emb is
// set and the items have one.
func (ws *weights) logits(p *prepared, i int, z []float64, independent, emb bool) {
	k := ws.k
	copy(z, ws.b)
	for n := p.off[i]; n < p.off[i+1]; n++ {
		x := float64(p.val[n])
		row := int(p.idx[n]) * (k + 1)
		shared := 0.0
		if !independent {
			shared = ws.w[row+k]
		}
		for j := range k {
			z[j] += x * (ws.w[row+j] + shared)
		}
	}
	if !emb || p.emb == nil {
		return
	}
	for t, xv := range p.emb[i*p.embDim : (i+1)*p.embDim] {
		x := float64(xv)
		row := (p.embBase + t) * (k + 1)
		shared := 0.0
		if !independent {
			shared = ws.w[row+k]
		}
		for j := range k {
			z[j] += x * (ws.w[row+j] + shared)
		}
	}
}

// predict returns P(pass) per candidate for item i.
func (ws *weights) predict(p *prepared, i int) []float64 {
	return ws.predictWith(p, i, true)
}

// predictWith is predict, without the item's embedding block unless emb is set.
func (ws *weights) predictWith(p *prepared, i int, emb bool) []float64 {
	z := make([]float64, ws.k)
	ws.logits(p, i, z, ws.opts.Independent, emb)
	for j := range z {
		if ws.pa != nil {
			z[j] = ws.pa[j]*z[j] + ws.pb[j]
		}
		z[j] = sigmoid(z[j])
	}
	return z
}

// model folds the shared column and the Platt scaling into each candidate's weights and
// builds a Model.
func (ws *weights) model(cfg FeatureConfig, names []string, blk embBlock, info TrainingInfo, independent bool) (*Model, error) {
	k := ws.k
	a, c := make([]float64, k), make([]float64, k)
	for j := range k {
		a[j] = 1
		if ws.pa != nil {
			a[j], c[j] = ws.pa[j], ws.pb[j]
		}
	}
	w := make([]float32, ws.dim*k)
	for i := range ws.dim {
		shared := 0.0
		if !independent {
			shared = ws.w[i*(k+1)+k]
		}
		for j := range k {
			w[i*k+j] = float32(a[j] * (ws.w[i*(k+1)+j] + shared))
		}
	}
	b := make([]float32, k)
	for j := range b {
		b[j] = float32(a[j]*ws.b[j] + c[j])
	}
	return newModelBlock(cfg, slices.Clone(names), b, w, blk, info)
}

// crossPredict returns out-of-fold predictions for the items at idx (in idx order) and the
// fold models (without their AdaGrad state): the items are split into folds by a seeded hash
// of their id, and each fold is predicted by a model trained on the others. Folds are trained
// concurrently; the result does not depend on scheduling.
func crossPredict(p *prepared, idx []int, opts TrainOptions, salt string) ([][]float64, []*weights) {
	oof, _, folds := crossPredictAll(p, idx, opts, salt)
	return oof, folds
}

// crossPredictAll is crossPredict that also returns, for items with an embedding block, the
// out-of-fold logits without it (nil otherwise).
func crossPredictAll(p *prepared, idx []int, opts TrainOptions, salt string) (oof, fallback [][]float64, fws []*weights) {
	k := opts.Folds
	fold := make([]int, len(idx))
	for n, i := range idx {
		fold[n] = int(splitHash(opts.Seed, salt, p.ds.Items[i].ID) % uint64(k))
	}
	out := make([][]float64, len(idx))
	if p.emb != nil {
		fallback = make([][]float64, len(idx))
	}
	fws = make([]*weights, k)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for f := range k {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			var tr []int
			for n, i := range idx {
				if fold[n] != f {
					tr = append(tr, i)
				}
			}
			o := opts
			o.Seed = opts.Seed + uint64(f) + 1
			ws := fit(p, tr, o)
			ws.g, ws.gb = nil, nil
			fws[f] = ws
			for n, i := range idx {
				if fold[n] == f {
					out[n] = ws.predict(p, i)
					if fallback != nil {
						fallback[n] = make([]float64, ws.k)
						ws.logits(p, i, fallback[n], ws.opts.Independent, false)
					}
				}
			}
		})
	}
	wg.Wait()
	return out, fallback, fws
}

// averageWeights averages models' weights and biases, in order (so that the sum is
// deterministic).
func averageWeights(ms []*weights) *weights {
	ws := &weights{k: ms[0].k, dim: ms[0].dim, opts: ms[0].opts, w: make([]float64, len(ms[0].w)), b: make([]float64, len(ms[0].b))}
	f := 1 / float64(len(ms))
	for _, m := range ms {
		for i, x := range m.w {
			ws.w[i] += f * x
		}
		for i, x := range m.b {
			ws.b[i] += f * x
		}
	}
	return ws
}

// splitHash is the seeded hash behind every split: FNV-1a 64 of "<seed>:<salt>:<id>",
// finalised with fmix. It is stable across platforms and versions.
func splitHash(seed uint64, salt, id string) uint64 {
	h := uint64(fnvOffset)
	for s := seed; ; s /= 10 {
		h = (h ^ uint64('0'+s%10)) * fnvPrime
		if s < 10 {
			break
		}
	}
	h = (h ^ ':') * fnvPrime
	for i := 0; i < len(salt); i++ {
		h = (h ^ uint64(salt[i])) * fnvPrime
	}
	h = (h ^ ':') * fnvPrime
	for i := 0; i < len(id); i++ {
		h = (h ^ uint64(id[i])) * fnvPrime
	}
	return fmix(h)
}

// metrics computes per-candidate label statistics and, when oof is given, held-out log loss,
// Brier score and AUC.
func metrics(ds *Dataset, idx []int, oof [][]float64) []ModelMetrics {
	out := make([]ModelMetrics, len(ds.Models))
	for j, name := range ds.Models {
		m := ModelMetrics{Model: name}
		var ys, ps []float64
		for n, i := range idx {
			y := ds.Items[i].Pass[j]
			if math.IsNaN(y) {
				continue
			}
			ys = append(ys, y)
			if oof != nil {
				ps = append(ps, oof[n][j])
			}
		}
		m.Items = len(ys)
		for _, y := range ys {
			m.PassRate += y
		}
		if m.Items > 0 {
			m.PassRate /= float64(m.Items)
		}
		if oof != nil && m.Items > 0 {
			base := min(max(m.PassRate, 1e-6), 1-1e-6)
			for n, y := range ys {
				p := min(max(ps[n], 1e-6), 1-1e-6)
				m.LogLoss -= y*math.Log(p) + (1-y)*math.Log(1-p)
				m.BaseLogLoss -= y*math.Log(base) + (1-y)*math.Log(1-base)
				m.Brier += (p - y) * (p - y)
			}
			nf := float64(m.Items)
			m.LogLoss, m.BaseLogLoss, m.Brier = m.LogLoss/nf, m.BaseLogLoss/nf, m.Brier/nf
			m.AUC = auc(ps, ys)
		}
		out[j] = m
	}
	return out
}

// auc is the area under the ROC curve of scores against labels ≥ 0.5 (ties count half).
func auc(score, y []float64) float64 {
	idx := make([]int, len(score))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmpFloat(score[a], score[b]) })
	var pos, neg, rankSum float64
	for r := 0; r < len(idx); {
		e := r
		for e < len(idx) && score[idx[e]] == score[idx[r]] {
			e++
		}
		mid := float64(r+e+1) / 2 // average 1-based rank of the tie group
		for _, i := range idx[r:e] {
			if y[i] >= 0.5 {
				pos++
				rankSum += mid
			} else {
				neg++
			}
		}
		r = e
	}
	if pos == 0 || neg == 0 {
		return 0.5
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// platt fits P(y) = σ(a·logit(p) + b) to labels by Newton's method (Platt scaling), with a
// tiny ridge towards the identity (a = 1, b = 0) that keeps it defined on separable data.
// NaN labels are skipped.
func platt(p, y []float64) (a, b float64) {
	z := make([]float64, len(p))
	for i := range p {
		pc := min(max(p[i], 1e-12), 1-1e-12)
		z[i] = math.Log(pc / (1 - pc))
	}
	return plattLogits(z, y)
}

// plattLogits is platt for logits rather than probabilities.
func plattLogits(zs, y []float64) (a, b float64) {
	a, b = 1, 0
	const ridge = 1e-3
	for range 50 {
		var ga, gb, haa, hab, hbb float64
		for i, z := range zs {
			if math.IsNaN(y[i]) {
				continue
			}
			q := sigmoid(a*z + b)
			r := q - y[i]
			w := q * (1 - q)
			ga += r * z
			gb += r
			haa += w * z * z
			hab += w * z
			hbb += w
		}
		ga += ridge * (a - 1)
		gb += ridge * b
		haa += ridge
		hbb += ridge
		det := haa*hbb - hab*hab
		if det <= 0 {
			break
		}
		da := (hbb*ga - hab*gb) / det
		db := (haa*gb - hab*ga) / det
		a -= da
		b -= db
		if math.Abs(da)+math.Abs(db) < 1e-10 {
			break
		}
	}
	return a, b
}

// plattAll fits Platt scaling per candidate on out-of-fold predictions of the items at idx.
func plattAll(ds *Dataset, idx []int, oof [][]float64) (a, b []float64) {
	k := len(ds.Models)
	a, b = make([]float64, k), make([]float64, k)
	p, y := make([]float64, len(idx)), make([]float64, len(idx))
	for j := range k {
		for n, i := range idx {
			p[n], y[n] = oof[n][j], ds.Items[i].Pass[j]
		}
		a[j], b[j] = platt(p, y)
	}
	return a, b
}

// applyPlatt rescales predictions in place.
func applyPlatt(pred [][]float64, a, b []float64) {
	for _, row := range pred {
		for j, p := range row {
			pc := min(max(p, 1e-12), 1-1e-12)
			row[j] = sigmoid(a[j]*math.Log(pc/(1-pc)) + b[j])
		}
	}
}
