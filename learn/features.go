package learn

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
)

// FeatureConfig says how a request becomes a feature vector. It is saved in every model file,
// so that the gateway extracts exactly the features the model was trained on.
//
// The vector has Dim() coordinates: first 2^HashBits buckets of hashed text and task
// features, then the NumStructural structural features (see StructuralNames) in that order,
// then, when Embedding is set, its dense block of Embedding.Dims coordinates. A model file
// records the layout it was trained with, and Load refuses a layout this version of the
// package does not know.
type FeatureConfig struct {
	// Version is the extraction algorithm's version; 0 means FeatureVersion.
	Version int `json:"version"`
	// HashBits is the log2 of the number of hash buckets, 10..22; 0 means 16.
	HashBits int `json:"hash_bits"`
	// Bigrams adds hashed word bigrams of the user text to the unigrams.
	Bigrams bool `json:"bigrams"`
	// System adds the system prompt's words (unigrams, in their own hash namespace).
	System bool `json:"system"`
	// Task adds a one-hot hashed feature for the task or category string and one for its
	// family (the part before the first '/', like "mmlu" in "mmlu/anatomy").
	Task bool `json:"task"`
	// Shapes adds bucketed one-hot features of the request's shape, which let a linear model
	// learn effects that are not monotone: the user text's length (log2 buckets of 64
	// bytes), its stem's length (of 32 bytes), the number of options, their text's length
	// (of 16 bytes) and how many have digits, the number of digits, lines, question marks, and
	// the code and math marker counts.
	Shapes bool `json:"shapes"`
	// MaxTextBytes caps how much of the user text and of the system prompt is scanned for
	// words and cues, which bounds extraction time on long contexts; the length features
	// still see the full lengths. 0 means 16384 (DefaultFeatures sets 1536).
	MaxTextBytes int `json:"max_text_bytes"`
	// TailBytes (version 2) takes the last TailBytes of the MaxTextBytes scanned from the
	// end of a longer text, and the rest from its start: the question of a long prompt is
	// usually at its end, after the context or the examples, and the instructions at its
	// start. Both cuts move to the nearest word boundary within 32 bytes, so that no word is
	// split; no bigram spans the gap. 0 scans a prefix only (the only choice of version 1);
	// it must be less than MaxTextBytes.
	TailBytes int `json:"tail_bytes,omitempty"`
	// Structural lists the structural feature names in vector order; empty means
	// StructuralNames. It is recorded so that a file from a version with other features is
	// refused rather than misread.
	Structural []string `json:"structural,omitempty"`
	// Embedding, when set, adds a dense block after the structural features: the request's
	// embedding from an embeddings endpoint (see EmbeddingConfig). Models without it read and
	// predict as before.
	Embedding *EmbeddingConfig `json:"embedding,omitempty"`
}

// FeatureVersion is the feature extraction algorithm this package writes into new models.
// Version 2 adds TailBytes; this package still extracts version 1 (a prefix of
// MaxTextBytes), so that models trained before it keep working.
const FeatureVersion = 2

// DefaultFeatures is the configuration Train uses when TrainOptions.Features is the zero
// value: 2^16 buckets, unigrams and bigrams, system prompt words, the task and shape
// features, and a scan of the first 512 and the last 1024 bytes of a long text.
func DefaultFeatures() FeatureConfig {
	return FeatureConfig{Version: FeatureVersion, HashBits: 16, Bigrams: true, System: true, Task: true, Shapes: true,
		MaxTextBytes: defaultTextBytes, TailBytes: defaultTailBytes, Structural: slices.Clone(StructuralNames[:])}
}

// defaultTextBytes and defaultTailBytes are the window DefaultFeatures reads of a long text
// (its first 512 and last 1,024 bytes), which RequestShare hashes too.
const defaultTextBytes, defaultTailBytes = 1536, 1024

// withDefaults fills zero fields.
func (c FeatureConfig) withDefaults() FeatureConfig {
	if c.Version == 0 {
		c.Version = FeatureVersion
	}
	if c.HashBits == 0 {
		c.HashBits = 16
	}
	if c.MaxTextBytes == 0 {
		c.MaxTextBytes = 16384
	}
	if len(c.Structural) == 0 {
		c.Structural = slices.Clone(StructuralNames[:])
	}
	return c
}

// Validate reports a configuration this package cannot extract.
func (c FeatureConfig) Validate() error {
	if c.Version < 1 || c.Version > FeatureVersion {
		return fmt.Errorf("features: version %d is not supported (this build extracts versions 1 to %d); retrain the model with this build", c.Version, FeatureVersion)
	}
	if c.TailBytes != 0 && c.Version < 2 {
		return fmt.Errorf("features: tail_bytes needs version 2, not %d", c.Version)
	}
	if c.TailBytes < 0 || (c.TailBytes > 0 && c.TailBytes >= c.MaxTextBytes) {
		return fmt.Errorf("features: tail_bytes %d must be ≥ 0 and less than max_text_bytes %d", c.TailBytes, c.MaxTextBytes)
	}
	if c.HashBits < 10 || c.HashBits > 22 {
		return fmt.Errorf("features: hash_bits %d is outside 10..22", c.HashBits)
	}
	if c.MaxTextBytes < 0 {
		return fmt.Errorf("features: max_text_bytes %d is negative", c.MaxTextBytes)
	}
	if !slices.Equal(c.Structural, StructuralNames[:]) {
		return fmt.Errorf("features: structural features %v differ from this build's %v; retrain the model with this build", c.Structural, StructuralNames)
	}
	if c.Embedding != nil {
		if err := c.Embedding.Validate(); err != nil {
			return fmt.Errorf("features: %w", err)
		}
	}
	return nil
}

// Dim is the length of the feature vector: the hash buckets, the structural features and the
// embedding block, if any.
func (c FeatureConfig) Dim() int { return c.EmbeddingBase() + c.Embedding.dims() }

// EmbeddingBase is the index of the embedding block's first coordinate: the hash buckets plus
// the structural features.
func (c FeatureConfig) EmbeddingBase() int { return 1<<c.HashBits + NumStructural }

// clone returns c with its own copies of the slices and the embedding configuration.
func (c FeatureConfig) clone() FeatureConfig {
	c.Structural = slices.Clone(c.Structural)
	if c.Embedding != nil {
		e := *c.Embedding
		c.Embedding = &e
	}
	return c
}

// Vector is a sparse feature vector: Value[i] is the coordinate at Index[i]. An index may
// appear more than once, in which case its values add up (extraction does not merge
// collisions, to stay cheap; Compact merges them).
type Vector struct {
	Index []int32
	Value []float32
}

// Compact sorts v by index and merges repeated indices, dropping zeros, in place.
func (v *Vector) Compact() {
	type pair struct {
		i int32
		v float32
	}
	ps := make([]pair, len(v.Index))
	for k := range v.Index {
		ps[k] = pair{v.Index[k], v.Value[k]}
	}
	slices.SortStableFunc(ps, func(a, b pair) int { return int(a.i) - int(b.i) })
	v.Index, v.Value = v.Index[:0], v.Value[:0]
	for _, p := range ps {
		if n := len(v.Index); n > 0 && v.Index[n-1] == p.i {
			v.Value[n-1] += p.v
			continue
		}
		v.Index = append(v.Index, p.i)
		v.Value = append(v.Value, p.v)
	}
	k := 0
	for j := range v.Index {
		if v.Value[j] != 0 {
			v.Index[k], v.Value[k] = v.Index[j], v.Value[j]
			k++
		}
	}
	v.Index, v.Value = v.Index[:k], v.Value[:k]
}

// Featurizer extracts feature vectors, reusing its buffers: after the first few requests,
// Extract does not allocate. A Featurizer is used by one goroutine at a time; Model keeps a
// pool of them so that Predict is safe for concurrent use.
type Featurizer struct {
	cfg  FeatureConfig
	mask uint64
	vec  Vector
}

// NewFeaturizer returns a Featurizer for cfg (zero fields take their defaults). It does not
// validate cfg; Model does that when it is built or loaded.
func NewFeaturizer(cfg FeatureConfig) *Featurizer {
	cfg = cfg.withDefaults()
	return &Featurizer{cfg: cfg, mask: 1<<cfg.HashBits - 1,
		vec: Vector{Index: make([]int32, 0, 512), Value: make([]float32, 0, 512)}}
}

// Hash namespaces keep user words, system words and task strings apart.
const (
	nsWord   = 0x9e3779b97f4a7c15
	nsBigram = 0xc2b2ae3d27d4eb4f
	nsSystem = 0x165667b19e3779f9
	nsTask   = 0x27d4eb2f165667c5
	nsShape  = 0x94d049bb133111eb
)

// Extract returns the feature vector of a request: text is the last user message, system the
// system prompt ("" for none), task the task or category name ("" when unknown). The result
// aliases the Featurizer's buffers and is valid until its next call.
//
// Only part of a long text is read: its first MaxTextBytes, or in version 2 its first
// MaxTextBytes−TailBytes and last TailBytes bytes (see FeatureConfig.TailBytes); the counts
// behind the shape and structural features come from the same part, while the length
// features (and the stem's length when no option is read) see the whole text. With the
// defaults, extraction costs the same for every text above 1.5 KB.
//
// Hashed text features: the user text is split into words (runs of ASCII letters and digits
// and of non-ASCII bytes; ASCII is lower-cased; an all-digit word becomes its digit count,
// capped at 4, so that "1998" and "2024" are one feature). Each word and, with Bigrams, each
// pair of neighbouring words is hashed (FNV-1a 64 with a namespace, then a 64-bit finaliser)
// into 2^HashBits buckets with a sign taken from the hash's top bit (signed hashing keeps
// collisions unbiased). Values are ±1 per occurrence, scaled by 1/√n for n hashed terms, so
// that long and short prompts have vectors of comparable size. System words are hashed the
// same way in their own namespace with weight 1/√n of their own. The task feature is 1 in
// the bucket of the lower-cased task name, hashed in its own namespace, and 1 in that of its
// family. With Shapes, the shape features follow, then the non-zero structural features at
// their fixed indices after the buckets.
func (f *Featurizer) Extract(text, system, task string) Vector {
	f.vec.Index, f.vec.Value = f.vec.Index[:0], f.vec.Value[:0]
	var s scanState
	limit, tail := f.cfg.MaxTextBytes, f.cfg.TailBytes
	s.scan(text, limit, tail, f, nsWord, f.cfg.Bigrams, true)
	if f.cfg.System && system != "" {
		s.scan(system, limit, tail, f, nsSystem, false, false)
	} else if system != "" {
		s.scan(system, limit, tail, nil, 0, false, false)
	}
	if f.cfg.Task && task != "" {
		f.add(taskHash(task, len(task)), 1)
		for i := 0; i < len(task); i++ {
			if task[i] == '/' {
				f.add(taskHash(task, i), 1)
				break
			}
		}
	}
	if f.cfg.Shapes {
		f.shapes(&s, len(text))
	}
	var st Structure
	st.fill(&s, len(text), len(system))
	base := int32(1 << f.cfg.HashBits)
	for j, x := range st {
		if x != 0 {
			f.vec.Index = append(f.vec.Index, base+int32(j))
			f.vec.Value = append(f.vec.Value, float32(x))
		}
	}
	return f.vec
}

// add appends a hashed feature with its sign.
func (f *Featurizer) add(h uint64, v float32) {
	if h>>63 != 0 {
		v = -v
	}
	f.vec.Index = append(f.vec.Index, int32(h&f.mask))
	f.vec.Value = append(f.vec.Value, v)
}

// shapes adds the bucketed shape features.
func (f *Featurizer) shapes(s *scanState, userLen int) {
	b := [...]int{
		bits.Len(uint(userLen / 64)),
		bits.Len(uint(s.stem / 32)),
		min(s.options, 6),
		bits.Len(uint(s.optionBytes / 16)),
		min(s.numericOptions, 5),
		bits.Len(uint(s.digits)),
		bits.Len(uint(s.newlines)),
		min(s.questions, 4),
		bits.Len(uint(3*s.fences + s.indented + s.codeWords + s.braces/2)),
		bits.Len(uint(s.mathChars/2 + s.mathWords)),
	}
	for name, bucket := range b {
		f.add(fmix(nsShape^uint64(name)<<8^uint64(bucket)), 1)
	}
}

func taskHash(task string, n int) uint64 {
	h := uint64(fnvOffset ^ nsTask)
	for i := 0; i < n; i++ {
		h = (h ^ uint64(lower(task[i]))) * fnvPrime
	}
	return fmix(h ^ uint64(n))
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// fmix is MurmurHash3's 64-bit finaliser: it spreads FNV's weak low bits over the word.
func fmix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// StructuralNames are the structural features, in vector order. Each is scaled into [0, 1]:
//
//	length       log(1+bytes of the user text) / log(1+16384), capped at 1
//	context      log(1+bytes of user text and system prompt) / log(1+131072), capped at 1
//	system       log(1+bytes of the system prompt) / log(1+16384), capped at 1
//	lines        log(1+newlines) / log(1+256), capped at 1
//	digits       4 × the share of ASCII digits among the scanned bytes, capped at 1
//	code         code markers / 8: ``` fences (3 each), lines indented by a tab or 4 spaces,
//	             braces and semicolons (½ each), and words like def, func, class, return,
//	             import, python, sql, function, implement, compile
//	math         math markers / 8: = + ^ \ $ % (½ each) and words like solve, calculate,
//	             equation, integral, probability, derivative, "how many", "how much"
//	questions    question marks / 4
//	options      multiple-choice options ("A)", "A.", "(A)", "A:" starting a line, A–H) / 4
//	list         list items ("- ", "* ", "1.", "1)" starting a line) / 6
//	reasoning    reasoning cues / 3: explain, why, prove, derive, justify, analyze, reason,
//	             "step by step"
//	compare      comparison cues / 2: compare, contrast, versus, vs, difference, tradeoffs, pros
//	multistep    multi-step cues / 4: first, then, next, finally, steps, afterwards
//	constraints  output constraints / 4: json, format, exactly, must, only, bullet, table, words
//	stem         log(1+bytes of the user text before its first option) / log(1+16384), capped
//	             at 1 (the whole text when it has no options)
//	numeric_options  options whose text has a digit / 4
//
// Cues are counted in the user text and the system prompt alike.
var StructuralNames = [NumStructural]string{
	"length", "context", "system", "lines", "digits", "code", "math", "questions", "options",
	"list", "reasoning", "compare", "multistep", "constraints", "stem", "numeric_options",
}

// NumStructural is the number of structural features.
const NumStructural = 16

// Indices into Structure.
const (
	fLength = iota
	fContext
	fSystem
	fLines
	fDigits
	fCode
	fMath
	fQuestions
	fOptions
	fList
	fReasoning
	fCompare
	fMultistep
	fConstraints
	fStem
	fNumericOptions
)

// Structure holds the structural features of a request, in StructuralNames order.
type Structure [NumStructural]float64

// Structural returns the structural features of a request (text is the last user message,
// system the system prompt). It allocates nothing and scans at most 16 KiB of each text.
func Structural(text, system string) Structure {
	var s scanState
	s.scan(text, 16384, 0, nil, 0, false, true)
	s.scan(system, 16384, 0, nil, 0, false, false)
	var st Structure
	st.fill(&s, len(text), len(system))
	return st
}

// StructuralWindow is Structural over the part of each text the learned routers' default
// features read (DefaultFeatures: the first 512 and the last 1,024 bytes of a long text), so
// that the question at the end of a long prompt counts and the cost is bounded whatever the
// length; the length features still measure the whole texts. It allocates nothing.
func StructuralWindow(text, system string) Structure {
	var s scanState
	s.scan(text, defaultTextBytes, defaultTailBytes, nil, 0, false, true)
	s.scan(system, defaultTextBytes, defaultTailBytes, nil, 0, false, false)
	var st Structure
	st.fill(&s, len(text), len(system))
	return st
}

func (st *Structure) fill(s *scanState, userLen, sysLen int) {
	st[fLength] = logScale(userLen, 16384)
	st[fContext] = logScale(userLen+sysLen, 131072)
	st[fSystem] = logScale(sysLen, 16384)
	st[fLines] = logScale(s.newlines, 256)
	if s.bytes > 0 {
		st[fDigits] = capped(4 * float64(s.digits) / float64(s.bytes))
	}
	st[fCode] = capped((3*float64(s.fences) + float64(s.indented) + float64(s.codeWords) + 0.5*float64(s.braces)) / 8)
	st[fMath] = capped((0.5*float64(s.mathChars) + float64(s.mathWords)) / 8)
	st[fQuestions] = capped(float64(s.questions) / 4)
	st[fOptions] = capped(float64(s.options) / 4)
	st[fList] = capped(float64(s.listItems) / 6)
	st[fReasoning] = capped(float64(s.reasoning) / 3)
	st[fCompare] = capped(float64(s.compare) / 2)
	st[fMultistep] = capped(float64(s.multistep) / 4)
	st[fConstraints] = capped(float64(s.constraints) / 4)
	st[fStem] = logScale(s.stem, 16384)
	st[fNumericOptions] = capped(float64(s.numericOptions) / 4)
}

func logScale(n, full int) float64 {
	return capped(math.Log1p(float64(n)) / math.Log1p(float64(full)))
}

func capped(x float64) float64 { return min(x, 1) }

// scanState counts what one pass over the text finds.
type scanState struct {
	bytes, digits, newlines             int
	fences, indented, braces, codeWords int
	mathChars, mathWords                int
	questions, options, listItems       int
	reasoning, compare, multistep       int
	constraints                         int
	stem, optionBytes, numericOptions   int
	prevCue, prevPrevCue                cue
	hashedTerms                         int
	firstHashed                         int
}

type cue uint8

const (
	cueNone cue = iota
	cueStep
	cueBy
	cueHow
	cueOther
	cueReasoning
	cueCompare
	cueMultistep
	cueManyMuch
	cueMath
	cueCode
	cueConstraint
)

// scan reads the part of text a configuration covers — its first maxBytes, or with tail > 0
// its first maxBytes−tail and last tail bytes (see FeatureConfig.TailBytes) — counting
// structure and, when f is not nil, adding the hashed word features in namespace ns, scaled
// together by 1/√n. user says text is the user message (whose multiple-choice options are
// counted), not the system prompt.
func (s *scanState) scan(text string, maxBytes, tail int, f *Featurizer, ns uint64, bigrams, user bool) {
	if f != nil {
		s.firstHashed = len(f.vec.Index)
		s.hashedTerms = 0
	}
	if tail <= 0 || len(text) <= maxBytes {
		if len(text) > maxBytes {
			text = text[:maxBytes]
		}
		s.segment(text, 0, f, ns, bigrams, user)
		if user && s.options == 0 {
			s.stem = len(text)
		}
	} else {
		tail = min(tail, maxBytes)
		head := wordCut(text, maxBytes-tail, -1)
		from := wordCut(text, len(text)-tail, 1)
		s.segment(text[:head], 0, f, ns, bigrams, user)
		s.segment(text[from:], from, f, ns, bigrams, user)
		if user && s.options == 0 {
			s.stem = len(text)
		}
	}
	if f != nil && s.hashedTerms > 0 {
		scale := float32(1 / math.Sqrt(float64(s.hashedTerms)))
		for k := s.firstHashed; k < len(f.vec.Value); k++ {
			f.vec.Value[k] *= scale
		}
	}
}

// wordCut moves a cut at i of text to a word boundary, up to 32 bytes away: backwards (dir
// < 0) or forwards.
func wordCut(text string, i, dir int) int {
	for n := 0; n < 32 && i > 0 && i < len(text) && wordByte(text[i-1]) && wordByte(text[i]); n++ {
		i += dir
	}
	return i
}

func wordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c >= 0x80
}

// segment scans one contiguous piece of text that starts at byte offset off of the whole.
func (s *scanState) segment(text string, off int, f *Featurizer, ns uint64, bigrams, user bool) {
	s.bytes += len(text)
	s.prevCue, s.prevPrevCue = cueNone, cueNone
	var (
		prev    uint64 // hash of the previous word, 0 at the start
		lineBeg = true
		indent  int
	)
	for i := 0; i < len(text); {
		c := text[i]
		if wordFold[c] != 0 {
			// A word: a run of letters (ASCII, any case, and every non-ASCII byte) and
			// digits, hashed with FNV-1a over its lower-cased bytes in a loop of its own.
			if lineBeg && c >= '0' && c <= '9' && i+1 < len(text) && (text[i+1] == '.' || text[i+1] == ')') && (i+2 >= len(text) || text[i+2] == ' ') {
				s.listItems++
			}
			lineBeg = false
			start, h, digits := i, uint64(fnvOffset^ns), 0
			for ; i < len(text); i++ {
				lc := wordFold[text[i]]
				if lc == 0 {
					break
				}
				h = (h ^ uint64(lc)) * fnvPrime
				digits += int(wordDigit[lc])
			}
			s.digits += digits
			prev = s.word(f, ns, bigrams, h, digits == i-start, text[start:i], prev)
			continue
		}
		i++
		switch c {
		case '\n':
			s.newlines++
			lineBeg, indent = true, 0
			continue
		case ' ':
			if lineBeg {
				indent++
				if indent == 4 {
					s.indented++
				}
			}
			continue
		case '\t':
			if lineBeg && indent == 0 {
				s.indented++
			}
			indent += 4
			continue
		case '\r':
			continue
		case '?':
			s.questions++
		case '{', '}', ';':
			s.braces++
		case '`':
			if i+1 < len(text) && text[i] == '`' && text[i+1] == '`' {
				s.fences++
				i += 2
			}
		case '=', '+', '^', '\\', '$', '%':
			s.mathChars++
		case '-', '*':
			if lineBeg && i < len(text) && text[i] == ' ' {
				s.listItems++
			}
		}
		lineBeg = false
	}
	if user {
		s.countOptions(text, off)
	}
}

// word adds a finished word — h its FNV-1a hash, w its text — and its bigram with the
// previous word (prev, 0 for none), counts its cues, and returns what prev is for the next
// word. A word of digits only (allDig) is hashed as its number of digits, up to 4.
func (s *scanState) word(f *Featurizer, ns uint64, bigrams bool, h uint64, allDig bool, w string, prev uint64) uint64 {
	if allDig {
		n := min(len(w), 4)
		h = uint64(fnvOffset^ns) ^ 0xd1b54a32d192ed03
		h = (h ^ uint64('0'+n)) * fnvPrime
	}
	wh := fmix(h)
	if f != nil {
		f.add(wh, 1)
		s.hashedTerms++
		if bigrams && prev != 0 {
			f.add(fmix(prev*31^wh^nsBigram), 1)
			s.hashedTerms++
		}
	}
	k := cueOther
	if !allDig && len(w) <= maxCueWord {
		k = lookupCue(wh, w)
	}
	s.cue(k)
	return wh | 1
}

// wordFold maps a byte of a word to what its hash reads (letters lower-cased, digits and
// non-ASCII bytes as they are) and every other byte to 0; wordDigit[c] is 1 for a digit.
var wordFold, wordDigit = func() (fold, digit [256]uint8) {
	for c := range 256 {
		switch {
		case 'A' <= c && c <= 'Z':
			fold[c] = uint8(c + 'a' - 'A')
		case 'a' <= c && c <= 'z', c >= 0x80:
			fold[c] = uint8(c)
		case '0' <= c && c <= '9':
			fold[c], digit[c] = uint8(c), 1
		}
	}
	return fold, digit
}()

// countOptions finds multiple-choice options: lines that start (after spaces) with a capital
// A–H followed by ')', '.' or ':' and a space, or with "(A) ". It counts them, the bytes of
// their text, those whose text has a digit, and where the first one starts (the length of the
// question's stem), text being the part of the whole from byte offset off.
func (s *scanState) countOptions(text string, off int) {
	for i := 0; i < len(text); {
		end := len(text)
		if n := strings.IndexByte(text[i:], '\n'); n >= 0 {
			end = i + n
		}
		line := text[i:end]
		j := 0
		for j < len(line) && line[j] == ' ' {
			j++
		}
		rest, ok := "", false
		switch {
		case j+2 < len(line) && 'A' <= line[j] && line[j] <= 'H' && (line[j+1] == ')' || line[j+1] == '.' || line[j+1] == ':') && line[j+2] == ' ':
			rest, ok = line[j+3:], true
		case j+3 < len(line) && line[j] == '(' && 'A' <= line[j+1] && line[j+1] <= 'H' && line[j+2] == ')' && line[j+3] == ' ':
			rest, ok = line[j+4:], true
		}
		if ok {
			if s.options == 0 {
				s.stem = off + i
			}
			s.options++
			s.optionBytes += len(rest)
			if strings.ContainsAny(rest, "0123456789") {
				s.numericOptions++
			}
		}
		i = end + 1
	}
}

// cue counts what the word just read, of cue c, completes.
func (s *scanState) cue(c cue) {
	k := cueOther
	switch c {
	case cueReasoning:
		s.reasoning++
	case cueCompare:
		s.compare++
	case cueMultistep:
		s.multistep++
	case cueStep:
		k = cueStep
		if s.prevCue == cueBy && s.prevPrevCue == cueStep {
			s.reasoning++
		}
	case cueBy, cueHow:
		k = c
	case cueManyMuch:
		if s.prevCue == cueHow {
			s.mathWords++
		}
	case cueMath:
		s.mathWords++
	case cueCode:
		s.codeWords++
	case cueConstraint:
		s.constraints++
	}
	s.prevPrevCue, s.prevCue = s.prevCue, k
}

// cueWords are the words the structural features count, by what they count.
var cueWords = map[cue][]string{
	cueReasoning:  {"explain", "why", "prove", "derive", "justify", "analyze", "analyse", "reason", "reasoning"},
	cueCompare:    {"compare", "contrast", "versus", "vs", "difference", "differences", "tradeoffs", "pros"},
	cueMultistep:  {"first", "then", "next", "finally", "steps", "afterwards"},
	cueStep:       {"step"},
	cueBy:         {"by"},
	cueHow:        {"how"},
	cueManyMuch:   {"many", "much"},
	cueMath:       {"solve", "calculate", "compute", "equation", "equations", "integral", "derivative", "probability", "sqrt", "frac", "theorem", "polynomial", "matrix"},
	cueCode:       {"def", "func", "function", "class", "return", "import", "python", "sql", "javascript", "implement", "compile", "code", "regex", "struct"},
	cueConstraint: {"json", "format", "exactly", "must", "only", "bullet", "table", "words"},
}

// maxCueWord is the length of the longest cue word.
const maxCueWord = 11

// cueSlot is an entry of cueTable: a cue word's hash in one namespace, the word, and its cue.
type cueSlot struct {
	key  uint64
	word string
	cue  cue
}

// cueTable holds every cue word under its hash as a feature in each namespace the scan
// uses (nsWord, nsSystem, and 0 for the structure-only scans), open-addressed with linear
// probing.
var cueTable = func() (t [512]cueSlot) {
	for c, words := range cueWords {
		for _, w := range words {
			if len(w) > maxCueWord {
				panic("learn: cue word longer than maxCueWord: " + w)
			}
			for _, ns := range []uint64{nsWord, nsSystem, 0} {
				h := uint64(fnvOffset ^ ns)
				for i := range len(w) {
					h = (h ^ uint64(w[i])) * fnvPrime
				}
				key := fmix(h)
				j := key % uint64(len(t))
				for t[j].word != "" {
					j = (j + 1) % uint64(len(t))
				}
				t[j] = cueSlot{key: key, word: w, cue: c}
			}
		}
	}
	return t
}()

// lookupCue returns the cue of the word w (any case), whose hash as a feature (fmix of its
// FNV-1a hash in its namespace) is key, or cueOther. The cue words are found by that hash
// and confirmed by their text, so a word costs one probe or two.
func lookupCue(key uint64, w string) cue {
	for j := key % uint64(len(cueTable)); cueTable[j].word != ""; j = (j + 1) % uint64(len(cueTable)) {
		if e := &cueTable[j]; e.key == key && equalLower(w, e.word) {
			return e.cue
		}
	}
	return cueOther
}

// equalLower reports whether w, with its ASCII letters lower-cased, is lc.
func equalLower(w, lc string) bool {
	if len(w) != len(lc) {
		return false
	}
	for i := range len(w) {
		if lower(w[i]) != lc[i] {
			return false
		}
	}
	return true
}
