package learn

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// PromptSetSize is the most prompts a PromptSet keeps: a model file carries about 5.5 KB of
// base64 per thousand of them, at most about 22 KB.
const PromptSetSize = 4096

// PromptSet is a fingerprint of the prompts a model was trained on, small whatever their
// number, from which replay tells whether the outcomes it scores are ones the model learned
// from (whose predictions flatter it), whatever file they are in and whatever their item ids.
//
// Each prompt is hashed to 64 bits: the first 8 bytes, big-endian, of the SHA-256 of its text
// as given, which is outcomes.HashPrompt's digest. The set keeps the PromptSetSize smallest
// distinct hashes (every prompt's when there are fewer; a bottom-k sketch): those at most
// Bound. A prompt whose hash is at most Bound is covered, and a covered prompt is a training
// prompt exactly when its hash is kept (up to a false match of one in a million, as the set
// stores each hash's low 32 bits). Covered prompts are a uniform sample of any set of
// prompts, so the share of covered prompts that are training prompts estimates the share of
// all of them that are; with every training prompt kept, every prompt is covered and the
// count is exact.
type PromptSet struct {
	// Count is the number of distinct training prompts.
	Count int
	// Bound is the largest hash the set covers: the largest kept, or math.MaxUint64 when the
	// set keeps every training prompt.
	Bound uint64
	// low holds the kept hashes' low 32 bits, sorted.
	low []uint32
}

// NewPromptSet fingerprints prompts (duplicates count once).
func NewPromptSet(prompts []string) *PromptSet {
	hs := make([]uint64, len(prompts))
	for i, p := range prompts {
		hs[i] = promptHash(p)
	}
	return newPromptSet(hs)
}

// newPromptSet fingerprints prompts by their 64-bit hashes (see promptHash), which it sorts.
func newPromptSet(hs []uint64) *PromptSet {
	slices.Sort(hs)
	hs = slices.Compact(hs)
	s := &PromptSet{Count: len(hs), Bound: math.MaxUint64}
	if len(hs) > PromptSetSize {
		hs = hs[:PromptSetSize]
		s.Bound = hs[len(hs)-1]
	}
	s.low = make([]uint32, len(hs))
	for i, h := range hs {
		s.low[i] = uint32(h)
	}
	slices.Sort(s.low)
	return s
}

// promptHash is a prompt's 64-bit hash: the first 8 bytes of its SHA-256, big-endian.
func promptHash(prompt string) uint64 {
	sum := sha256.Sum256([]byte(prompt))
	return binary.BigEndian.Uint64(sum[:8])
}

// digestHash is promptHash of the prompt whose SHA-256 is digest, in hexadecimal (an outcomes
// row's prompt_hash, outcomes.HashPrompt of the text as recorded); ok is false when digest is
// not 64 hex digits (a gateway fingerprint, or none), which says nothing of the SHA-256.
func digestHash(digest string) (h uint64, ok bool) {
	if len(digest) != 2*sha256.Size {
		return 0, false
	}
	h, err := strconv.ParseUint(digest[:16], 16, 64)
	if err != nil {
		return 0, false
	}
	for i := 16; i < len(digest); i++ {
		if c := digest[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return 0, false
		}
	}
	return h, true
}

// itemHash is the 64-bit hash of an outcomes item's prompt: that of its digest (the row's
// prompt_hash) when it is a SHA-256, which keeps the text as first recorded (a CSV copy of
// the outcomes normalises line ends in the prompt, not in its digest), else that of its text;
// ok is false when it has neither.
func itemHash(digest, prompt string) (h uint64, ok bool) {
	if h, ok := digestHash(digest); ok {
		return h, true
	}
	if prompt == "" {
		return 0, false
	}
	return promptHash(prompt), true
}

// Contains reports whether the set covers prompt and, when it does, whether prompt is one of
// the training prompts.
func (s *PromptSet) Contains(prompt string) (covered, trained bool) {
	return s.containsHash(promptHash(prompt))
}

// ContainsHash is Contains for the prompt whose SHA-256 is digest, in hexadecimal (an
// outcomes row's prompt_hash); ok is false when digest is not 64 hex digits.
func (s *PromptSet) ContainsHash(digest string) (covered, trained, ok bool) {
	h, ok := digestHash(digest)
	if !ok {
		return false, false, false
	}
	covered, trained = s.containsHash(h)
	return covered, trained, true
}

func (s *PromptSet) containsHash(h uint64) (covered, trained bool) {
	if h > s.Bound {
		return false, false
	}
	_, found := slices.BinarySearch(s.low, uint32(h))
	return true, found
}

// Overlap counts, of a set of prompts, those a PromptSet covers and those of them it was
// trained on: Share estimates the share of the prompts that are training prompts.
type Overlap struct {
	Prompts, Covered, Trained int
}

// Add counts one outcomes item by its prompt's digest (its rows' prompt_hash, the hex
// SHA-256 of the text), or by its text when the digest is not a SHA-256; an item with
// neither is not counted.
func (o *Overlap) Add(s *PromptSet, digest, prompt string) {
	h, ok := itemHash(digest, prompt)
	if !ok {
		return
	}
	o.Prompts++
	if covered, trained := s.containsHash(h); covered {
		o.Covered++
		if trained {
			o.Trained++
		}
	}
}

// Share is the estimated share of the counted prompts that are training prompts; ok is false
// when the set covers none of them, so that there is no estimate.
func (o Overlap) Share() (share float64, ok bool) {
	if o.Covered == 0 {
		return 0, false
	}
	return float64(o.Trained) / float64(o.Covered), true
}

// promptSetFile is the JSON form of a PromptSet.
type promptSetFile struct {
	Count int `json:"count"`
	// Bound is hexadecimal, as a JSON number cannot hold every uint64 exactly.
	Bound string `json:"bound"`
	// Hashes are the kept hashes' low 32 bits, sorted, little-endian, base64.
	Hashes string `json:"hashes"`
}

// MarshalJSON writes {"count", "bound" (hexadecimal), "hashes" (base64 of the sorted low 32
// bits of the kept hashes, little-endian)}.
func (s *PromptSet) MarshalJSON() ([]byte, error) {
	raw := make([]byte, 4*len(s.low))
	for i, v := range s.low {
		binary.LittleEndian.PutUint32(raw[4*i:], v)
	}
	return json.Marshal(promptSetFile{Count: s.Count, Bound: strconv.FormatUint(s.Bound, 16), Hashes: base64.StdEncoding.EncodeToString(raw)})
}

// UnmarshalJSON reads what MarshalJSON writes, and checks it.
func (s *PromptSet) UnmarshalJSON(b []byte) error {
	var f promptSetFile
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("training.prompts: %w", err)
	}
	bound, err := strconv.ParseUint(f.Bound, 16, 64)
	if err != nil {
		return fmt.Errorf("training.prompts.bound %q is not a hexadecimal 64-bit number: retrain the model", f.Bound)
	}
	raw, err := base64.StdEncoding.DecodeString(f.Hashes)
	if err != nil || len(raw)%4 != 0 {
		return errors.New("training.prompts.hashes is not base64 of 32-bit values: retrain the model")
	}
	low := make([]uint32, len(raw)/4)
	for i := range low {
		low[i] = binary.LittleEndian.Uint32(raw[4*i:])
	}
	if !slices.IsSorted(low) || len(low) > f.Count {
		return errors.New("training.prompts.hashes are not sorted, or more than its count: retrain the model")
	}
	*s = PromptSet{Count: f.Count, Bound: bound, low: low}
	return nil
}
