package learn

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
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
}

// TrainingInfo is the training metadata a model file carries: what the model was trained
// on and how, and how well it predicted held-out items.
type TrainingInfo struct {
	// Data names the training data (a file name, or a dataset and split).
	Data string `json:"data,omitempty"`
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
}

// Models returns the candidate model names, in the order Predict reports them. The caller
// must not modify the slice.
func (m *Model) Models() []string { return m.names }

// Features returns the feature configuration the model was trained with.
func (m *Model) Features() FeatureConfig { return m.features }

// Info returns the training metadata.
func (m *Model) Info() TrainingInfo { return m.info }

// Index returns the position of a candidate in Models, or -1.
func (m *Model) Index(name string) int { return slices.Index(m.names, name) }

// newModel builds a Model from trained parts; w is feature-major, Dim()×len(names).
func newModel(cfg FeatureConfig, names []string, bias, w []float32, info TrainingInfo) (*Model, error) {
	cfg = cfg.withDefaults()
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
func (m *Model) Predict(text, system, task string, out []float64) {
	f := m.pool.Get().(*Featurizer)
	v := f.Extract(text, system, task)
	m.PredictVector(v, out)
	m.pool.Put(f)
}

// PredictVector is Predict for a vector the caller extracted (with a Featurizer built from
// Features()). Indices outside the model's dimension are ignored.
func (m *Model) PredictVector(v Vector, out []float64) {
	k := len(m.names)
	out = out[:k]
	for j := range out {
		out[j] = float64(m.bias[j])
	}
	dim := int32(len(m.w) / k)
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
	for j, z := range out {
		out[j] = sigmoid(z)
	}
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
	Weights  string       `json:"weights"`
	Training TrainingInfo `json:"training"`
}

// MarshalJSON encodes the model in its file format: a JSON object with "version" (1), "kind",
// "features" (the FeatureConfig), "models" (the candidate names), "bias" (one per
// candidate), "weights" (base64 of the feature-major float32 matrix, little-endian) and
// "training" (TrainingInfo).
func (m *Model) MarshalJSON() ([]byte, error) {
	raw := make([]byte, 4*len(m.w))
	for i, x := range m.w {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	return json.Marshal(modelFile{
		Version: FileVersion, Kind: fileKind, Features: m.features, Models: m.names, Bias: m.bias,
		Weights: base64.StdEncoding.EncodeToString(raw), Training: m.info,
	})
}

// Save writes the model file to path, through a temporary file in the same directory that
// is renamed into place, so that a gateway reloading the file never reads half of it.
func (m *Model) Save(path string) error {
	b, err := m.MarshalJSON()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".learn-*.json")
	if err != nil {
		return fmt.Errorf("saving model: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("saving model to %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("saving model to %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
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
	raw, err := base64.StdEncoding.DecodeString(f.Weights)
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	if len(raw)%4 != 0 {
		return nil, fmt.Errorf("weights: %d bytes is not a whole number of float32s", len(raw))
	}
	w := make([]float32, len(raw)/4)
	for i := range w {
		w[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return newModel(f.Features, f.Models, f.Bias, w, f.Training)
}
