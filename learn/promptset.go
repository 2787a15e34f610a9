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

// Contains reports whether the set covers prompt and, when it does, whether prompt is one of
// the training prompts.
func (s *PromptSet) Contains(prompt string) (covered, trained bool) {
	h := promptHash(prompt)
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

// Add counts one prompt.
func (o *Overlap) Add(s *PromptSet, prompt string) {
	o.Prompts++
	if covered, trained := s.Contains(prompt); covered {
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
