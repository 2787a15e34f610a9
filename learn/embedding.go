package learn

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"github.com/clearbar/clearbar"
)

// EmbeddingConfig describes a model's optional embedding block: the request's embedding from
// an embeddings endpoint, a dense block of Dims coordinates after the structural features.
//
// The block a vector e becomes is (n(e) − Mean)·Scale, where n(e) is e scaled to unit length
// when Normalize is set (e itself otherwise) and Mean is the mean of n(e) over the training
// items (saved in the model file). When the embeddings call fails the block contributes zero
// (the average embedding): Train drops the block for a share of the items
// (TrainOptions.EmbedDropout) so that the other features keep weights of their own, and fits
// a calibration of the predictions made without it on out-of-fold predictions (see the
// package documentation).
type EmbeddingConfig struct {
	// Model is the spec model whose embeddings endpoint embeds requests: its name in the spec,
	// or its provider model id (unique among the spec's models on providers that serve
	// embeddings).
	Model string `json:"model"`
	// Dims is the vectors' length.
	Dims int `json:"dims"`
	// Dimensions is the dimensions parameter sent with every call (for models that shorten
	// their vectors on request); 0 sends none.
	Dimensions int `json:"dimensions,omitempty"`
	// Normalize scales each vector to unit length before it is centred.
	Normalize bool `json:"normalize"`
	// MaxTextBytes caps the text sent to the endpoint (see Input); 0 means
	// DefaultEmbedTextBytes.
	MaxTextBytes int `json:"max_text_bytes,omitempty"`
	// Scale multiplies the centred vector. Train sets it so that the block's mean squared
	// length over the training items is 1, like the hashed text features'.
	Scale float32 `json:"scale"`
}

// DefaultEmbedTextBytes is how much of a request's text is embedded by default: about 2,000
// tokens, well inside the input limit of common embedding models.
const DefaultEmbedTextBytes = 8192

// maxEmbedDims bounds an embedding block's length.
const maxEmbedDims = 16384

// maxEmbedBatchBytes bounds the texts of one embeddings call: OpenAI takes at most 300,000
// tokens of input per call, and a token covers at least one byte.
const maxEmbedBatchBytes = 300_000

func (e *EmbeddingConfig) dims() int {
	if e == nil {
		return 0
	}
	return e.Dims
}

// Validate reports an embedding configuration this package cannot use.
func (e *EmbeddingConfig) Validate() error {
	switch {
	case e.Model == "":
		return errors.New("embedding: model is missing (the spec model that embeds requests)")
	case e.Dims < 1 || e.Dims > maxEmbedDims:
		return fmt.Errorf("embedding: dims %d is outside 1..%d", e.Dims, maxEmbedDims)
	case e.Dimensions < 0 || e.Dimensions > maxEmbedDims:
		return fmt.Errorf("embedding: dimensions %d is outside 0..%d", e.Dimensions, maxEmbedDims)
	case e.MaxTextBytes < 0:
		return fmt.Errorf("embedding: max_text_bytes %d is negative", e.MaxTextBytes)
	case !(e.Scale > 0) || math.IsInf(float64(e.Scale), 0):
		return fmt.Errorf("embedding: scale %v is not a positive number", e.Scale)
	}
	return nil
}

// Input returns the text sent to the embeddings endpoint for a request whose last user message
// is text: text itself when it is at most MaxTextBytes long, else its first third and last two
// thirds of MaxTextBytes (cut on UTF-8 character boundaries) joined by a line with "…", since
// the question of a long prompt is usually at its end.
func (e *EmbeddingConfig) Input(text string) string {
	limit := e.MaxTextBytes
	if limit <= 0 {
		limit = DefaultEmbedTextBytes
	}
	if len(text) <= limit {
		return text
	}
	head := limit / 3
	for head > 0 && !utf8.RuneStart(text[head]) {
		head--
	}
	from := len(text) - (limit - head)
	for from < len(text) && !utf8.RuneStart(text[from]) {
		from++
	}
	return text[:head] + "\n…\n" + text[from:]
}

// embedNorm returns the factor a vector is multiplied by before centring: 1/‖e‖ with
// Normalize, else 1; ok is false for a vector that cannot be used (wrong length, a value that
// is not finite, or zero length when it must be normalised).
func (e *EmbeddingConfig) embedNorm(v []float32) (inv float32, ok bool) {
	if len(v) != e.Dims {
		return 0, false
	}
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	if math.IsNaN(ss) || math.IsInf(ss, 0) {
		return 0, false
	}
	if !e.Normalize {
		return 1, true
	}
	if ss == 0 {
		return 0, false
	}
	return float32(1 / math.Sqrt(ss)), true
}

// CheckVector says why a vector cannot be a model's embedding block, or nil when it can.
func (e *EmbeddingConfig) CheckVector(v []float32) error {
	if len(v) != e.Dims {
		return fmt.Errorf("the vector has %d values; the router was trained on %d (embeddings of %s)", len(v), e.Dims, e.Model)
	}
	if _, ok := e.embedNorm(v); !ok {
		return errors.New("the vector has a value that is not a finite number, or is all zeros")
	}
	return nil
}

// EmbedFunc embeds a batch of texts: one vector per text, in order.
type EmbedFunc func(ctx context.Context, texts []string) ([][]float32, error)

// EmbedOptions configure EmbedDataset.
type EmbedOptions struct {
	// Config says which model embeds and how the text is cut (Model, Dimensions,
	// MaxTextBytes); its Dims, when set, is checked against every vector.
	Config EmbeddingConfig
	// CacheModel identifies the vectors in the cache key: the provider's model id, so that a
	// model renamed in the spec keeps its cache; "" means Config.Model.
	CacheModel string
	// Endpoint is the provider's base URL, also in the cache key, so that two servers of one
	// model id (two OpenAI-compatible servers, two Azure OpenAI resources with the same
	// deployment name) do not share vectors. It is compared normalised (spaces and trailing
	// slashes trimmed, scheme and host lower-cased); "" (a provider's default endpoint) keys
	// vectors as caches written before the endpoint was part of the key did, so those still
	// serve such providers, while their entries for a provider with a base URL miss and are
	// embedded again.
	Endpoint string
	// Batch is the number of texts per call; 0 means 64. A call also carries at most 300,000
	// bytes of text (OpenAI's limit of 300,000 tokens per call).
	Batch int
	// Concurrency is the number of calls in flight; 0 means 4.
	Concurrency int
	// Cache is the cache file ("" for none): JSON Lines of {"key", "vector"}, the key a
	// SHA-256 of the model, the endpoint, the dimensions asked for and the text, the vector
	// base64 of little-endian float32. Vectors are appended as each batch arrives, so that an
	// interrupted run keeps what it paid for.
	Cache string
}

// EmbedStats says what EmbedDataset did.
type EmbedStats struct {
	// Texts counts the distinct texts; Cached those found in the cache; Calls the embeddings
	// calls made for the rest (after a failure, the batches not yet sent are not called).
	Texts, Cached, Calls int
}

// EmbedDataset sets every item's Embedding: it embeds the items' distinct prompts (as
// Config.Input cuts them) in batches, with at most Concurrency calls in flight, taking
// vectors from the cache file when it has them and adding the others to it. Every vector
// must have the same length (Config.Dims when set, else that of the first vector cached or
// received); a vector of another length fails the run and is not cached. On failure the
// vectors already received stay in the cache.
func EmbedDataset(ctx context.Context, ds *Dataset, embed EmbedFunc, o EmbedOptions) (EmbedStats, error) {
	var st EmbedStats
	if o.Batch <= 0 {
		o.Batch = 64
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	cache, err := openEmbedCache(o.Cache)
	if err != nil {
		return st, err
	}
	defer cache.close()

	// Distinct texts, in item order.
	keyOf := make([]string, len(ds.Items))
	var todo []string // keys still to embed
	text := map[string]string{}
	for i := range ds.Items {
		in := o.Config.Input(ds.Items[i].Prompt)
		k := o.key(in)
		keyOf[i] = k
		if _, seen := text[k]; seen {
			continue
		}
		text[k] = in
		st.Texts++
		if cache.has(k) {
			st.Cached++
			continue
		}
		todo = append(todo, k)
	}

	dims := o.Config.Dims // every vector's length; 0 until the first is seen
	for _, k := range keyOf {
		if v, ok := cache.vecs[k]; ok && dims == 0 {
			dims = len(v)
		}
	}

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Concurrency)
	var mu sync.Mutex // guards cache, dims and st.Calls
	for start, end := 0, 0; start < len(todo); start = end {
		// At most Batch texts, and at most maxEmbedBatchBytes of them (one text at least).
		size := len(text[todo[start]])
		for end = start + 1; end < len(todo) && end-start < o.Batch && size+len(text[todo[end]]) <= maxEmbedBatchBytes; end++ {
			size += len(text[todo[end]])
		}
		keys := todo[start:end]
		texts := make([]string, len(keys))
		for i, k := range keys {
			texts[i] = text[k]
		}
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			mu.Lock()
			st.Calls++
			mu.Unlock()
			vs, err := embed(gctx, texts)
			if err != nil {
				return fmt.Errorf("embedding texts %d to %d of %d with %s: %w", start+1, start+len(texts), len(todo), o.Config.Model, err)
			}
			if len(vs) != len(texts) {
				return fmt.Errorf("embedding %d texts with %s returned %d vectors", len(texts), o.Config.Model, len(vs))
			}
			mu.Lock()
			defer mu.Unlock()
			for i, v := range vs {
				if dims == 0 {
					dims = len(v)
				}
				if len(v) != dims {
					return fmt.Errorf("embedding text %d of %d with %s returned a vector of %d values; the others have %d", start+i+1, len(todo), o.Config.Model, len(v), dims)
				}
				if err := cache.put(keys[i], v); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return st, err
	}
	for i := range ds.Items {
		v := cache.vecs[keyOf[i]]
		if dims == 0 {
			dims = len(v)
		}
		if len(v) != dims {
			return st, fmt.Errorf("item %q: its embedding has %d values and others %d: the cache %s may mix models; delete it and run again", ds.Items[i].ID, len(v), dims, o.Cache)
		}
		ds.Items[i].Embedding = v
	}
	return st, cache.close()
}

// key is the cache key of text (as Config.Input cut it).
func (o *EmbedOptions) key(text string) string {
	model := o.CacheModel
	if model == "" {
		model = o.Config.Model
	}
	if ep := normalizeEndpoint(o.Endpoint); ep != "" {
		model += "\x00" + ep
	}
	return embedKey(model, o.Config.Dimensions, text)
}

// normalizeEndpoint trims a base URL's spaces and trailing slashes and lower-cases its scheme
// and host, so that spellings of one endpoint share a cache key.
func normalizeEndpoint(s string) string {
	s = strings.TrimRight(strings.TrimSpace(s), "/")
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
		s = u.String()
	}
	return s
}

// embedKey is the cache key of a text embedded by a model (with its endpoint, when it has one)
// with a dimensions parameter.
func embedKey(model string, dimensions int, text string) string {
	h := sha256.New()
	h.Write([]byte(model))
	h.Write([]byte{0})
	h.Write([]byte(strconv.Itoa(dimensions)))
	h.Write([]byte{0})
	h.Write([]byte(text))
	return hex.EncodeToString(h.Sum(nil))
}

// embedCache is the vectors of a cache file, and the file open for appending.
type embedCache struct {
	path string
	vecs map[string][]float32
	f    *os.File
	w    *bufio.Writer
}

type embedCacheLine struct {
	Key    string `json:"key"`
	Vector string `json:"vector"`
}

// openEmbedCache reads a cache file ("" for an in-memory cache). A last line cut short (an
// interrupted run) is ignored; any other unreadable line is an error.
func openEmbedCache(path string) (*embedCache, error) {
	c := &embedCache{path: path, vecs: map[string][]float32{}}
	if path == "" {
		return c, nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("embeddings cache: %w", err)
	}
	good, bad, err := readEmbedLines(f, path, c.vecs)
	if err != nil {
		f.Close()
		return nil, err
	}
	if bad {
		// The last line was cut short (an interrupted run): drop it, so that appends start on
		// a line of their own.
		if err := f.Truncate(good); err != nil {
			f.Close()
			return nil, fmt.Errorf("embeddings cache %s: %w", path, err)
		}
	} else if fi, err := f.Stat(); err != nil {
		f.Close()
		return nil, fmt.Errorf("embeddings cache %s: %w", path, err)
	} else if good > fi.Size() {
		// The last line is whole but lost its newline (a run stopped between the two): end
		// it, so that the next line is not appended to it.
		if _, err := f.WriteAt([]byte{'\n'}, fi.Size()); err != nil {
			f.Close()
			return nil, fmt.Errorf("embeddings cache %s: %w", path, err)
		}
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return nil, fmt.Errorf("embeddings cache %s: %w", path, err)
	}
	c.f, c.w = f, bufio.NewWriter(f)
	return c, nil
}

// readEmbedLines reads a cache file's lines into vecs. It returns the length of the good
// lines and whether a last line was cut short (ignored); any other unreadable line is an
// error.
func readEmbedLines(f *os.File, path string, vecs map[string][]float32) (good int64, cut bool, err error) {
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<26)
	line, bad := 0, 0
	for sc.Scan() {
		line++
		if bad > 0 {
			return 0, false, fmt.Errorf("embeddings cache %s:%d: not a cache line; delete the file to start again", path, bad)
		}
		var l embedCacheLine
		var v []float32
		derr := json.Unmarshal(sc.Bytes(), &l)
		if derr == nil {
			v, derr = clearbar.Float32sFromBase64(l.Vector)
		}
		if derr != nil || l.Key == "" || len(v) == 0 {
			bad = line
			continue
		}
		good += int64(len(sc.Bytes())) + 1
		vecs[l.Key] = v
	}
	if err := sc.Err(); err != nil {
		return 0, false, fmt.Errorf("embeddings cache %s: %w", path, err)
	}
	return good, bad > 0, nil
}

// EmbedCache is a cache file of EmbedDataset, read to look vectors up without calling the
// endpoint: replay predicts with the vectors training used.
type EmbedCache struct {
	vecs map[string][]float32
}

// ReadEmbedCache reads a cache file written by EmbedDataset, without changing it. A last
// line cut short is ignored.
func ReadEmbedCache(path string) (*EmbedCache, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("embeddings cache: %w", err)
	}
	defer f.Close()
	c := &EmbedCache{vecs: map[string][]float32{}}
	if _, _, err := readEmbedLines(f, path, c.vecs); err != nil {
		return nil, err
	}
	return c, nil
}

// Len returns the number of vectors in the cache.
func (c *EmbedCache) Len() int { return len(c.vecs) }

// Vector returns the cached vector of a prompt embedded with options o (the model, endpoint,
// dimensions and text cut EmbedDataset keyed it by), or nil.
func (c *EmbedCache) Vector(o EmbedOptions, prompt string) []float32 {
	return c.InputVector(o, o.Config.Input(prompt))
}

// InputVector returns the cached vector of a text already cut as the embedding block cuts a
// prompt (EmbeddingConfig.Input: what the gateway sends the embeddings endpoint), embedded
// with options o, or nil.
func (c *EmbedCache) InputVector(o EmbedOptions, input string) []float32 {
	return c.vecs[o.key(input)]
}

func (c *embedCache) has(key string) bool { _, ok := c.vecs[key]; return ok }

// put adds a vector and appends it to the file.
func (c *embedCache) put(key string, v []float32) error {
	c.vecs[key] = v
	if c.w == nil {
		return nil
	}
	b, _ := json.Marshal(embedCacheLine{Key: key, Vector: clearbar.Float32sBase64(v)})
	// The line and its newline in one write: a line longer than the buffer would otherwise go
	// to the file on its own, and its newline after it.
	c.w.Write(append(b, '\n'))
	if err := c.w.Flush(); err != nil {
		return fmt.Errorf("embeddings cache %s: %w", c.path, err)
	}
	return nil
}

// close closes the file; it may be called more than once.
func (c *embedCache) close() error {
	if c.f == nil {
		return nil
	}
	err := c.w.Flush()
	if cerr := c.f.Close(); err == nil {
		err = cerr
	}
	c.f, c.w = nil, nil
	if err != nil {
		return fmt.Errorf("embeddings cache %s: %w", c.path, err)
	}
	return nil
}
