package validate

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.mau.fi/util/confusable"
	"golang.org/x/text/unicode/norm"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// restrictedPhrases fails answers containing any phrase as whole words, both compared in the
// form Normalize gives. A phrase starts and ends at a word boundary of the answer, so "legal
// advice" matches "LEGAL  advice." but not "paralegal advice" nor "legal advices"; in scripts
// written without spaces between words (Han, kana, Hangul, Thai and the like) a phrase's edge
// in those scripts needs no boundary.
type restrictedPhrases struct {
	name    string
	phrases []phrase
}

// phrase is one restricted phrase, normalised, with whether each of its ends must sit on a
// word boundary.
type phrase struct {
	norm, raw    string
	bStart, bEnd bool
}

func newRestrictedPhrases(cfg spec.ValidatorConfig, _ Env) (Validator, error) {
	c := cfg.(*spec.RestrictedPhrases)
	v := &restrictedPhrases{name: c.Summary()}
	for _, raw := range c.Phrases {
		p := phrase{norm: Normalize(raw), raw: raw}
		if p.norm == "" {
			continue
		}
		first, _ := utf8.DecodeRuneInString(p.norm)
		last, _ := utf8.DecodeLastRuneInString(p.norm)
		p.bStart, p.bEnd = spacedWord(first), spacedWord(last)
		v.phrases = append(v.phrases, p)
	}
	return v, nil
}

func (v *restrictedPhrases) Name() string { return v.name }

func (v *restrictedPhrases) Check(_ context.Context, in *Input) clearbar.Verdict {
	text := Normalize(in.Response.Text())
	for _, p := range v.phrases {
		if p.in(text) {
			return clearbar.Verdict{Validator: v.name, Pass: false, Reason: fmt.Sprintf("contains the restricted phrase %q", p.raw)}
		}
	}
	return clearbar.Verdict{Validator: v.name, Pass: true}
}

// in reports whether the phrase occurs in the normalised text with its ends on word
// boundaries.
func (p *phrase) in(text string) bool {
	for off := 0; off < len(text); {
		i := strings.Index(text[off:], p.norm)
		if i < 0 {
			return false
		}
		i += off
		j := i + len(p.norm)
		before, _ := utf8.DecodeLastRuneInString(text[:i])
		after, _ := utf8.DecodeRuneInString(text[j:])
		if (!p.bStart || i == 0 || !spacedWord(before)) && (!p.bEnd || j == len(text) || !spacedWord(after)) {
			return true
		}
		_, size := utf8.DecodeRuneInString(text[i:])
		off = i + size
	}
	return false
}

// spacedWord reports whether r is part of a word in a script that separates words with
// spaces: a letter, digit, combining mark or underscore, outside the scripts written without
// spaces (and Hangul, where particles attach to the word before them).
func spacedWord(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_'
	}
	if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) {
		return false
	}
	return !unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Thai,
		unicode.Lao, unicode.Khmer, unicode.Myanmar, unicode.Tibetan, unicode.Yi, unicode.Javanese, unicode.Balinese)
}

// Normalize is the text form restricted phrases are compared in, built so that texts that
// look the same compare the same:
//
//   - compatibility forms folded (NFKD: fullwidth letters, ligatures, mathematical
//     alphabets), then combining marks (accents) removed;
//   - every default-ignorable or format (Cf) code point removed: zero-width spaces and
//     joiners, invisible separators (U+2063), soft hyphens, bidirectional controls,
//     variation selectors, Hangul fillers;
//   - simple case folding;
//   - each code point replaced by its Unicode TR39 confusable prototype (the skeleton
//     mapping of confusables.txt, Unicode 17.0, from go.mau.fi/util/confusable): Cyrillic
//     and Greek look-alikes, U+0261 script g, dotless i, and ASCII look-alikes too, so "m"
//     compares as "rn", "1" and "|" as "l", "0" as "o";
//   - runs of white space collapsed to one space, and trimmed.
//
// It does not undo substitutions that are not look-alikes ("gu4rantee"), and because case is
// folded before the skeleton, a capital I written for an l ("Iegal") stays an i. The result
// is for comparison only, not for display. Normalize costs one allocation for the result,
// and one more when s is not already in NFKD.
func Normalize(s string) string {
	s = norm.NFKD.String(s)
	var w normWriter
	w.b.Grow(len(s) + len(s)/8)
	for _, r := range s {
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			if m := asciiSkeleton[r]; m != "" {
				w.emitString(m)
				continue
			}
			w.emit(r)
			continue
		}
		skeleton(r, &w, 0)
	}
	return w.b.String()
}

// normWriter writes Normalize's result, collapsing white space.
type normWriter struct {
	b     strings.Builder
	space bool // white space is pending
}

func (w *normWriter) emit(r rune) {
	if r == ' ' || '\t' <= r && r <= '\r' {
		w.space = true
		return
	}
	if w.space && w.b.Len() > 0 {
		w.b.WriteByte(' ')
	}
	w.space = false
	w.b.WriteRune(r)
}

// emitString writes s, which holds no white space.
func (w *normWriter) emitString(s string) {
	if w.space && w.b.Len() > 0 {
		w.b.WriteByte(' ')
	}
	w.space = false
	w.b.WriteString(s)
}

// skeleton writes one decomposed code point in Normalize's form: ignorables dropped, case
// folded, then replaced by its TR39 prototype, itself decomposed and folded the same way.
// Prototypes map to themselves, so depth only guards against a data error.
func skeleton(r rune, w *normWriter, depth int) {
	switch {
	case ignorable(r):
		return
	case unicode.IsSpace(r):
		w.emit(' ')
		return
	}
	r = unicode.ToLower(unicode.ToUpper(r))
	proto := confusable.GetReplacement(r)
	if proto == "" || depth > 2 {
		w.emit(r)
		return
	}
	var buf [32]byte
	for _, q := range string(norm.NFKD.AppendString(buf[:0], proto)) {
		skeleton(q, w, depth+1)
	}
}

// ignorable reports whether Normalize drops r: a non-spacing or enclosing mark, or a
// default-ignorable code point (Unicode's Default_Ignorable_Code_Point is drawn from Cf,
// Variation_Selector and Other_Default_Ignorable_Code_Point; Normalize drops all of Cf).
func ignorable(r rune) bool {
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}

// asciiSkeleton is, for each lower-case ASCII code point that has a TR39 prototype, the
// prototype in Normalize's form ("m" is "rn", "0" is "o", "%" is "o/o"): Normalize's fast
// path. It is never modified.
var asciiSkeleton = func() (t [utf8.RuneSelf]string) {
	for r := rune(0); r < utf8.RuneSelf; r++ {
		if 'A' <= r && r <= 'Z' || confusable.GetReplacement(r) == "" {
			continue
		}
		var w normWriter
		skeleton(r, &w, 0)
		t[r] = w.b.String()
	}
	return t
}()
