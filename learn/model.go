package learn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/atomicfile"
)

// FileVersion is the model file format this package writes and reads.
const FileVersion = 1

// fileKind names the model family in a model file.
const fileKind = "clearbar/learn.logistic"

// Model predicts, for each of its candidate models, the probability that the candidate's
// answer to a request passes: one logistic regression per candidate over the same features.
//
// A Model is immutable once built (by Train or Load) and safe for concurrent use: Predict
// borrows a Featurizer from an internal pool, so it does not allocate in steady state.
type Model struct {
	features FeatureConfig
	names    []string
	bias     []float32
	// w holds the weights feature-major: w[i*K+k] is feature i's weight for candidate k, so
	// that one feature's weights for every candidate share a cache line.
	w    []float32
	info TrainingInfo
	pool sync.Pool // of *Featurizer
	// emb is the embedding block's configuration (nil: none), blk its centre and fallback
	// calibration, and embBase the index of its first coordinate.
	emb     *EmbeddingConfig
	blk     embBlock
	embBase int
	// embConst[j] is Scale·Σᵢ mean[i]·w[i][j]: the centre's part of candidate j's logit.
	embConst []float64
}

// embBlock is what a model with an embedding block keeps besides its weights: the block's
// centre (Dims values) and, per candidate, the calibration of predictions made without a
// vector: P = σ(fbScale·z + fbBias) for the logit z of the other features.
type embBlock struct {
	mean, fbScale, fbBias []float32
}

// TrainingInfo is the training metadata a model file carries: what the model was trained
// on and how, and how well it predicted held-out items.
type TrainingInfo struct {
	// Data names the training data (a file name, or a dataset and split).
	Data string `json:"data,omitempty"`
	// DataPath is the absolute path of the file Data names, when it names one: Data may be
	// relative to a working directory that later commands do not share.
	DataPath string `json:"data_path,omitempty"`
	// Prompts fingerprints the training prompts (see PromptSet), so that replay can tell
	// when the outcomes it scores are ones the model learned from, whatever file they are
	// in; nil in model files written before it was recorded.
	Prompts *PromptSet `json:"prompts,omitempty"`
	// Tasks are the distinct task features of the training items (each item's category,
	// else its task: see Item.Task), sorted, at most MaxInfoTasks of them, and TaskCount
	// their number. The gateway passes the name of the category whose score route names the
	// model: a model trained with other tasks never saw that feature. Both are empty in
	// model files written before they were recorded.
	Tasks     []string `json:"tasks,omitempty"`
	TaskCount int      `json:"task_count,omitempty"`
	// Uncategorised counts the training items whose rows had no category, whose task
	// feature is the rows' task (an imported benchmark's, like "mmlu/anatomy"): a name the
	// gateway, which passes category names, never passes.
	Uncategorised int `json:"uncategorised,omitempty"`
	// Split says which items trained the model, like "all" or "train half: fnv1a(seed:item) even".
	Split string `json:"split,omitempty"`
	// Seed seeded the shuffles and the cross-validation folds.
	Seed uint64 `json:"seed"`
	// Items and Rows count the training items (prompts) and rows (item × model).
	Items int `json:"items"`
	Rows  int `json:"rows"`
	// Epochs, LearningRate, L2 and SharedL2 are the optimiser's settings (see TrainOptions).
	Epochs       int     `json:"epochs"`
	LearningRate float64 `json:"learning_rate"`
	L2           float64 `json:"l2"`
	SharedL2     float64 `json:"shared_l2"`
	// Folds is the number of cross-validation folds behind Metrics (0: none).
	Folds int `json:"folds,omitempty"`
	// FoldMean says the weights are the mean of the Folds fold models (what Train does since
	// feature version 2) rather than one more fit on every item.
	FoldMean bool `json:"fold_mean,omitempty"`
	// Metrics has one entry per candidate, in model order.
	Metrics []ModelMetrics `json:"metrics,omitempty"`
	// EmbedDropout is TrainOptions.EmbedDropout, for a model with an embedding block.
	EmbedDropout float64 `json:"embed_dropout,omitempty"`
}

// describeData records what identifies the training data whatever the working directory:
// the absolute path of the file Data names, the fingerprint of the items' prompts (by their
// rows' prompt_hash, as replay looks them up, else their text), and their task features.
func (i *TrainingInfo) describeData(ds *Dataset) {
	if abs, err := filepath.Abs(i.Data); err == nil && i.Data != "" {
		if st, err := os.Stat(abs); err == nil && st.Mode().IsRegular() {
			i.DataPath = abs
		}
	}
	hs := make([]uint64, 0, len(ds.Items))
	for _, it := range ds.Items {
		if h, ok := itemHash(it.PromptHash, it.Prompt); ok {
			hs = append(hs, h)
		}
	}
	i.Prompts = newPromptSet(hs)
	t := ds.TaskInfo()
	i.Tasks, i.TaskCount, i.Uncategorised = t.Tasks, t.TaskCount, t.Uncategorised
}

// TaskInfo describes the items' task features as a model trained on them records them: Items,
// Tasks, TaskCount and Uncategorised are set, the rest is zero.
func (ds *Dataset) TaskInfo() TrainingInfo {
	tasks := map[string]bool{}
	for _, it := range ds.Items {
		tasks[it.Task] = true
	}
	i := TrainingInfo{Items: len(ds.Items), TaskCount: len(tasks), Tasks: slices.Sorted(maps.Keys(tasks)), Uncategorised: ds.Uncategorised}
	if len(i.Tasks) > MaxInfoTasks {
		i.Tasks = i.Tasks[:MaxInfoTasks]
	}
	return i
}

// TaskSummary writes the task features the model was trained with, the first most of them
// quoted: `"qa"`, or `"mmlu/anatomy", "mmlu/astronomy", … (57 tasks)`. "" when the file does
// not record them.
func (i TrainingInfo) TaskSummary(most int) string {
	q := make([]string, 0, most)
	for _, t := range i.Tasks[:min(len(i.Tasks), most)] {
		q = append(q, strconv.Quote(t))
	}
	if i.TaskCount <= len(q) {
		return strings.Join(q, ", ")
	}
	return fmt.Sprintf("%s, … (%d tasks)", strings.Join(q, ", "), i.TaskCount)
}

// MaxInfoTasks is the most task names TrainingInfo.Tasks lists.
const MaxInfoTasks = 100

// TrainedOn reports whether the model was trained with task as an item's task feature, the
// names compared as the features compare them (ASCII letters case-insensitively); known is
// false for a model file that does not record its tasks, or lists only some of them and not
// this one.
func (i TrainingInfo) TrainedOn(task string) (trained, known bool) {
	if i.TaskCount == 0 {
		return false, false
	}
	for _, t := range i.Tasks {
		if sameTask(t, task) {
			return true, true
		}
	}
	return false, len(i.Tasks) == i.TaskCount
}

// sameTask reports whether two task names make the same task feature.
func sameTask(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

// ModelMetrics describes one candidate's training labels and, with cross-validation, how well
// its P(pass) predicted items it was not trained on.
type ModelMetrics struct {
	Model string `json:"model"`
	// Items counts the items with a label for this candidate; PassRate is their mean label.
	Items    int     `json:"items"`
	PassRate float64 `json:"pass_rate"`
	// LogLoss, Brier and AUC are out-of-fold (cross-validated) figures; zero without folds.
	// BaseLogLoss is the log loss of predicting PassRate for every item, for comparison.
	LogLoss     float64 `json:"log_loss,omitempty"`
	BaseLogLoss float64 `json:"base_log_loss,omitempty"`
	Brier       float64 `json:"brier,omitempty"`
	AUC         float64 `json:"auc,omitempty"`
	// FallbackLogLoss and FallbackAUC, for a model with an embedding block, are the held-out
	// figures of predicting without the embedding (as the gateway does when the embeddings
	// call fails).
	FallbackLogLoss float64 `json:"fallback_log_loss,omitempty"`
	FallbackAUC     float64 `json:"fallback_auc,omitempty"`
}

// Models returns the candidate model names, in the order Predict reports them. The caller
// must not modify the slice.
func (m *Model) Models() []string { return m.names }

// Features returns the feature configuration the model was trained with.
func (m *Model) Features() FeatureConfig { return m.features.clone() }

// Embedding returns the model's embedding block configuration, or nil when it has none.
func (m *Model) Embedding() *EmbeddingConfig {
	if m.emb == nil {
		return nil
	}
	e := *m.emb
	return &e
}

// Info returns the training metadata.
func (m *Model) Info() TrainingInfo { return m.info }

// Index returns the position of a candidate in Models, or -1.
func (m *Model) Index(name string) int { return slices.Index(m.names, name) }

// IndexOf returns the index of a spec model in the model's predictions, looked up as the
// gateway looks it up: by the spec model's name, else by its provider model id (outcomes
// from benchmarks name models by their upstream id; "" skips that lookup). -1 when the model
// predicts neither.
func (m *Model) IndexOf(name, id string) int {
	k := m.Index(name)
	if k < 0 && id != "" {
		k = m.Index(id)
	}
	return k
}

// NoPrediction says that the router in the file router has no prediction for the models
// missing (at least one) and what to do: name them as it does (IndexOf), or retrain it on
// outcomes that include them.
func (m *Model) NoPrediction(router string, missing []string) string {
	q := make([]string, len(missing))
	for n, name := range missing {
		q[n] = strconv.Quote(name)
	}
	what, them := "model "+q[0], q[0]
	if len(q) > 1 {
		what, them = "models "+strings.Join(q, ", "), "them"
	}
	return fmt.Sprintf("score router %s has no prediction for %s (it predicts %s, and finds a spec model by its name, then by its provider model id): name the models so, or retrain it on outcomes that include %s",
		router, what, strings.Join(m.names, ", "), them)
}

// newModel builds a Model without an embedding block from trained parts; w is feature-major,
// Dim()×len(names).
func newModel(cfg FeatureConfig, names []string, bias, w []float32, info TrainingInfo) (*Model, error) {
	return newModelBlock(cfg, names, bias, w, embBlock{}, info)
}

// newModelBlock is newModel with the embedding block's centre and fallback calibration, for
// a cfg with an embedding.
func newModelBlock(cfg FeatureConfig, names []string, bias, w []float32, blk embBlock, info TrainingInfo) (*Model, error) {
	cfg = cfg.withDefaults().clone()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	k := len(names)
	if k == 0 {
		return nil, errors.New("model has no candidate models")
	}
	seen := map[string]bool{}
	for _, n := range names {
		if n == "" || seen[n] {
			return nil, fmt.Errorf("model names must be distinct and non-empty: %q", names)
		}
		seen[n] = true
	}
	if len(bias) != k || len(w) != cfg.Dim()*k {
		return nil, fmt.Errorf("model has %d biases and %d weights; %d candidates over %d features need %d and %d", len(bias), len(w), k, cfg.Dim(), k, cfg.Dim()*k)
	}
	for _, x := range w {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, errors.New("model has a weight that is not a finite number")
		}
	}
	m := &Model{features: cfg, names: names, bias: bias, w: w, info: info}
	if e := cfg.Embedding; e != nil {
		switch {
		case blk.mean == nil:
			return nil, errors.New("the features have an embedding block but the file has no embedding_block (its centre and fallback calibration): retrain the model")
		case len(blk.mean) != e.Dims:
			return nil, fmt.Errorf("model has an embedding block of %d values and an embedding mean of %d", e.Dims, len(blk.mean))
		case len(blk.fbScale) != k || len(blk.fbBias) != k:
			return nil, fmt.Errorf("model has %d candidates and a fallback calibration for %d and %d", k, len(blk.fbScale), len(blk.fbBias))
		}
		for _, xs := range [][]float32{blk.mean, blk.fbScale, blk.fbBias} {
			for _, x := range xs {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					return nil, errors.New("model has an embedding block setting that is not a finite number")
				}
			}
		}
		m.emb, m.blk, m.embBase = e, blk, cfg.EmbeddingBase()
		m.embConst = make([]float64, k)
		for i, mu := range blk.mean {
			row := w[(m.embBase+i)*k : (m.embBase+i+1)*k]
			for j, wj := range row {
				m.embConst[j] += float64(e.Scale) * float64(mu) * float64(wj)
			}
		}
	} else if blk.mean != nil || blk.fbScale != nil || blk.fbBias != nil {
		return nil, errors.New("model has an embedding block's settings but no embedding block in its features")
	}
	m.pool.New = func() any { return NewFeaturizer(cfg) }
	return m, nil
}

// Predict writes P(pass) of each candidate, in Models order, into out[:len(Models())] for a
// request: text is the last user message, system the system prompt ("" for none) and task the
// request's category or task ("" when unknown; it must be spelt as in training to count).
// It panics if out is shorter than Models. Safe for concurrent use; no allocation in steady
// state. It costs a few microseconds for a prompt of a few hundred characters (see
// BenchmarkPredict), growing linearly with the text up to FeatureConfig.MaxTextBytes (1.5 KB
// by default: about 10 µs; see BenchmarkPredict5KB).
//
// For a model with an embedding block, Predict is PredictWith without a vector: the block
// contributes nothing.
func (m *Model) Predict(text, system, task string, out []float64) {
	m.PredictWith(text, system, task, nil, out)
}

// PredictWith is Predict with the request's embedding emb, for a model with an embedding block
// (see EmbeddingConfig): emb is the vector the embeddings endpoint returned for
// Embedding().Input(text), unnormalised. It reports whether the prediction used emb: it does
// not when the model has no embedding block, or when emb is nil (the embeddings call failed),
// of the wrong length, or holds a value that is not finite (see EmbeddingConfig.CheckVector).
// A model with a block then predicts from its other features alone, through the fallback
// calibration Train fitted on out-of-fold predictions made without the block (see
// EmbeddingConfig). It does not allocate in steady state and is safe for concurrent use. The
// block costs about 1–3 µs for 1536 values (BenchmarkPredictWith).
func (m *Model) PredictWith(text, system, task string, emb []float32, out []float64) (used bool) {
	f := m.pool.Get().(*Featurizer)
	v := f.Extract(text, system, task)
	m.logits(v, out)
	m.pool.Put(f)
	used = m.addEmbedding(emb, out)
	m.probabilities(out, used)
	return used
}

// PredictVector is Predict for a vector the caller extracted (with a Featurizer built from
// Features()). Indices outside the hashed and structural features are ignored; a model with
// an embedding block predicts without a vector, as Predict does.
func (m *Model) PredictVector(v Vector, out []float64) {
	m.logits(v, out)
	m.probabilities(out, false)
}

// probabilities turns the logits in out into P(pass), through the fallback calibration when
// the model has an embedding block that did not contribute (used is false).
func (m *Model) probabilities(out []float64, used bool) {
	if m.emb != nil && !used {
		for j, z := range out[:len(m.names)] {
			out[j] = float64(m.blk.fbScale[j])*z + float64(m.blk.fbBias[j])
		}
	}
	for j, z := range out[:len(m.names)] {
		out[j] = sigmoid(z)
	}
}

// logits writes each candidate's logit for the sparse features v into out.
func (m *Model) logits(v Vector, out []float64) {
	k := len(m.names)
	out = out[:k]
	for j := range out {
		out[j] = float64(m.bias[j])
	}
	dim := int32(m.features.EmbeddingBase())
	for n, i := range v.Index {
		if i < 0 || i >= dim {
			continue
		}
		x := float64(v.Value[n])
		row := m.w[int(i)*k : int(i)*k+k]
		for j, w := range row {
			out[j] += x * float64(w)
		}
	}
}

// addEmbedding adds the embedding block's contribution to the logits in out, and reports
// whether there was one.
func (m *Model) addEmbedding(emb []float32, out []float64) bool {
	e := m.emb
	if e == nil || len(emb) != e.Dims {
		return false
	}
	// The block is Σᵢ (xᵢ·inv − μᵢ)·s·wᵢⱼ = inv·s·Σᵢ xᵢwᵢⱼ − s·Σᵢ μᵢwᵢⱼ: one pass over the
	// vector computes its squared length and the dot products, and the second term is
	// precomputed (embConst).
	k := len(m.names)
	out = out[:k]
	w := m.w[m.embBase*k : (m.embBase+len(emb))*k]
	var accBuf [32]float64
	var acc []float64
	if k <= len(accBuf) {
		acc = accBuf[:k]
	} else {
		acc = make([]float64, k)
	}
	var ss float64
	if k == 2 {
		// The common case of a cheap and a strong model, without the inner loop.
		var z0, z1 float64
		w = w[:2*len(emb)]
		for i, x := range emb {
			xf := float64(x)
			ss += xf * xf
			z0 += xf * float64(w[2*i])
			z1 += xf * float64(w[2*i+1])
		}
		acc[0], acc[1] = z0, z1
	} else {
		for i, x := range emb {
			xf := float64(x)
			ss += xf * xf
			row := w[i*k : i*k+k]
			for j, wj := range row {
				acc[j] += xf * float64(wj)
			}
		}
	}
	if math.IsNaN(ss) || math.IsInf(ss, 0) || e.Normalize && ss == 0 {
		return false
	}
	f := float64(e.Scale)
	if e.Normalize {
		f /= math.Sqrt(ss)
	}
	for j := range out {
		out[j] += f*acc[j] - m.embConst[j]
	}
	return true
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// modelFile is the JSON form of a Model.
type modelFile struct {
	Version  int           `json:"version"`
	Kind     string        `json:"kind"`
	Features FeatureConfig `json:"features"`
	Models   []string      `json:"models"`
	Bias     []float32     `json:"bias"`
	// Weights is the feature-major weight matrix (Features.Dim() rows × len(Models)
	// columns) as little-endian float32, base64-encoded (standard alphabet).
	Weights string `json:"weights"`
	// EmbeddingBlock holds, for a model with an embedding block, its centre and its fallback
	// calibration.
	EmbeddingBlock *embeddingBlockFile `json:"embedding_block,omitempty"`
	Training       TrainingInfo        `json:"training"`
}

// embeddingBlockFile is the JSON form of an embBlock.
type embeddingBlockFile struct {
	// Mean is the block's centre (Features.Embedding.Dims values), encoded like Weights.
	Mean string `json:"mean"`
	// FallbackScale and FallbackBias calibrate, per candidate, the logit of a prediction
	// made without a vector.
	FallbackScale []float32 `json:"fallback_scale"`
	FallbackBias  []float32 `json:"fallback_bias"`
}

// MarshalJSON encodes the model in its file format: a JSON object with "version" (1), "kind",
// "features" (the FeatureConfig), "models" (the candidate names), "bias" (one per
// candidate), "weights" (base64 of the feature-major float32 matrix, little-endian), for a
// model with an embedding block "embedding_block" (its centre, base64 like the weights, and
// its fallback calibration per candidate), and "training" (TrainingInfo).
func (m *Model) MarshalJSON() ([]byte, error) {
	f := modelFile{
		Version: FileVersion, Kind: fileKind, Features: m.features, Models: m.names, Bias: m.bias,
		Weights: clearbar.Float32sBase64(m.w), Training: m.info,
	}
	if m.emb != nil {
		f.EmbeddingBlock = &embeddingBlockFile{Mean: clearbar.Float32sBase64(m.blk.mean), FallbackScale: m.blk.fbScale, FallbackBias: m.blk.fbBias}
	}
	return json.Marshal(f)
}

// Save writes the model file to path, through a temporary file in the same directory that
// is renamed into place (atomicfile), so that a gateway reloading the file never reads half of
// it. The file keeps the permissions of the file it replaces; a new file is readable by every
// user (0644), as a gateway may run as another user than the one who trains.
func (m *Model) Save(path string) error {
	b, err := m.MarshalJSON()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, append(b, '\n')); err != nil {
		return fmt.Errorf("saving model to %s: %w", path, err)
	}
	return nil
}

// Load reads a model file written by Save. Errors name the file and say what to change.
func Load(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading model: %w", err)
	}
	m, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Decode parses a model file's contents.
func Decode(b []byte) (*Model, error) {
	var f modelFile
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("not a model file: %w", err)
	}
	if f.Kind != fileKind {
		return nil, fmt.Errorf("kind %q is not %q: this is not a file written by clearbar learn train", f.Kind, fileKind)
	}
	if f.Version != FileVersion {
		return nil, fmt.Errorf("model file version %d is not supported (this build reads version %d); retrain the model with this build", f.Version, FileVersion)
	}
	if f.Features.Version == 0 {
		return nil, errors.New("features: version is missing")
	}
	w, err := clearbar.Float32sFromBase64(f.Weights)
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	var blk embBlock
	if b := f.EmbeddingBlock; b != nil {
		if blk.mean, err = clearbar.Float32sFromBase64(b.Mean); err != nil {
			return nil, fmt.Errorf("embedding_block.mean: %w", err)
		}
		if blk.mean == nil {
			blk.mean = []float32{}
		}
		blk.fbScale, blk.fbBias = b.FallbackScale, b.FallbackBias
	}
	return newModelBlock(f.Features, f.Models, f.Bias, w, blk, f.Training)
}
