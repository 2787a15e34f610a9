package simulated

import (
	"context"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/validate"
)

// textCheck is one of a category's validators that reads the answer's text (regex, length,
// max_length, restricted_phrases, refusal), compiled with package validate: the simulator
// checks its stand-in text with the very code the gateway runs, so that the answer it shapes
// gets the verdict it was drawn to get.
type textCheck struct {
	spec *spec.Validator
	v    validate.Validator
}

// isTextKind reports whether the simulator shapes the answer's text for a validator kind.
func isTextKind(c spec.ValidatorConfig) bool {
	switch c.(type) {
	case *spec.Regex, *spec.MaxLength, *spec.Length, *spec.RestrictedPhrases, *spec.Refusal:
		return true
	}
	return false
}

// compileTextChecks compiles the text validators among vs; one that does not compile is left
// out (the spec loader has already reported it).
func compileTextChecks(vs []*spec.Validator) []textCheck {
	var out []textCheck
	for _, v := range vs {
		if !isTextKind(v.Config) {
			continue
		}
		if c, err := validate.Compile(v, validate.Env{}); err == nil {
			out = append(out, textCheck{spec: v, v: c})
		}
	}
	return out
}

// textPasses reports whether the category's text validators (only, when only is not nil, that
// one) pass the choice with text in place of its own.
func (q *quality) textPasses(text string, c clearbar.Choice, req *clearbar.Request, only *spec.Validator) bool {
	c.Text = text
	in := &validate.Input{Request: req, Response: &clearbar.Response{Choices: []clearbar.Choice{c}}}
	for _, tc := range q.text {
		if only != nil && tc.spec != only {
			continue
		}
		if !tc.v.Check(context.Background(), in).Pass {
			return false
		}
	}
	return true
}

// padWords are the fillers that lengthen a stand-in answer to a category's minimum length: two,
// so that a spec that restricts a word of one can still be met with the other.
var padWords = []string{
	"Further detail follows on each point the request raised, in the order it raised them.",
	"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt.",
}

// bounds are the length limits of a category's text validators, in characters (code points)
// and bytes (tokens are estimated from bytes: clearbar.TokensOfBytes); zero means none.
type bounds struct{ minChars, maxChars, minBytes, maxBytes int }

func (q *quality) bounds() bounds {
	var b bounds
	lower := func(cur, n int) int {
		if n > 0 && (cur == 0 || n < cur) {
			return n
		}
		return cur
	}
	for _, tc := range q.text {
		switch c := tc.spec.Config.(type) {
		case *spec.MaxLength:
			b.maxChars = lower(b.maxChars, c.Chars)
		case *spec.Length:
			b.minChars = max(b.minChars, c.MinChars)
			b.maxChars = lower(b.maxChars, c.MaxChars)
			if c.MinTokens > 0 {
				b.minBytes = max(b.minBytes, 4*c.MinTokens-3)
			}
			b.maxBytes = lower(b.maxBytes, 4*c.MaxTokens)
		}
	}
	return b
}

func (b bounds) short(s string) bool {
	return utf8.RuneCountInString(s) < b.minChars || len(s) < b.minBytes
}

func (b bounds) long(s string) bool {
	return b.maxChars > 0 && utf8.RuneCountInString(s) > b.maxChars || b.maxBytes > 0 && len(s) > b.maxBytes
}

// shapeText returns the choice's text made to pass every text validator of the category, and
// whether it found one: the text itself when it passes already; otherwise a text that holds
// a sample of every regex must pattern (at the start for a pattern anchored there, at the end
// for one anchored at the end, the whole answer for one anchored at both), the stand-in
// answer (with every must_not match taken out) or not, and filler words up to the minimum
// length, cut to the maximum. A JSON answer gets the samples of unanchored must patterns in
// its first string value, and is padded with trailing white space, which keeps it valid JSON.
//
// Patterns that cannot be met together (two patterns anchored at both ends with different
// samples, a whole-answer pattern and a minimum length it cannot reach, a must pattern whose
// sample a must_not pattern matches, a sample the generator cannot write, such as one with a
// lookaround RE2 lacks or a class it picks badly) leave the text as it was: today's
// behaviour, where such an answer fails validation whatever the draw.
func (q *quality) shapeText(c clearbar.Choice, json bool, req *clearbar.Request) (string, bool) {
	text := c.Text
	if q.textPasses(text, c, req, nil) {
		return text, true
	}
	b := q.bounds()
	if json {
		// A must pattern free at both ends is met inside the answer's first string value,
		// which keeps it JSON; one anchored at an end cannot be, as JSON starts with "{".
		for _, tc := range q.text {
			if r, ok := tc.spec.Config.(*spec.Regex); ok {
				for _, p := range r.Must {
					re, err := regexp.Compile(p)
					if err != nil || re.MatchString(text) {
						continue
					}
					if s := regexSample(p); re.MatchString(s) && re.MatchString("x "+s+" x") {
						text = withCitation(text, true, s)
					}
				}
			}
		}
		if b.short(text) {
			text += strings.Repeat(" ", max(b.minChars-utf8.RuneCountInString(text), b.minBytes-len(text), 0))
		}
		return text, q.textPasses(text, c, req, nil)
	}
	var must, mustNot []*regexp.Regexp
	for _, tc := range q.text {
		if r, ok := tc.spec.Config.(*spec.RestrictedPhrases); ok {
			// Restricted phrases come out of the stand-in as they are written (the validator's
			// look-alike folding aside: a stand-in that still holds one is dropped below).
			for _, p := range r.Phrases {
				if re, err := regexp.Compile(`(?i)\b` + regexp.QuoteMeta(strings.TrimSpace(p)) + `\b`); err == nil {
					mustNot = append(mustNot, re)
				}
			}
		}
		if r, ok := tc.spec.Config.(*spec.Regex); ok {
			for _, p := range r.Must {
				if re, err := regexp.Compile(p); err == nil {
					must = append(must, re)
				}
			}
			for _, p := range r.MustNot {
				if re, err := regexp.Compile(p); err == nil {
					mustNot = append(mustNot, re)
				}
			}
		}
	}
	var whole, head, tail string
	var mid []string
	for _, re := range must {
		s := regexSample(re.String())
		if !re.MatchString(s) {
			continue // not satisfiable by the generator: the final check fails the candidates
		}
		startFree, endFree := re.MatchString("x "+s), re.MatchString(s+" x")
		switch {
		case !startFree && !endFree:
			if whole == "" {
				whole = s
			}
		case !startFree:
			if head == "" {
				head = s
			}
		case !endFree:
			if tail == "" {
				tail = s
			}
		default:
			mid = append(mid, s)
		}
	}
	base := text
	for _, re := range mustNot { // must_not patterns and restricted phrases
		for range 4 {
			if !re.MatchString(base) {
				break
			}
			base = re.ReplaceAllString(base, "")
		}
	}
	base = strings.Join(strings.Fields(base), " ")
	var candidates []string
	if whole != "" {
		candidates = append(candidates, whole)
	}
	for _, withBase := range []bool{true, false} {
		for _, pad := range padWords {
			candidates = append(candidates, b.assemble(head, base, withBase, mid, pad, tail))
		}
	}
	for _, cand := range candidates {
		if q.textPasses(cand, c, req, nil) {
			return cand, true
		}
	}
	return c.Text, false
}

// assemble joins head, the stand-in (when withBase, cut to leave room for the rest under the
// maximum length), the middle samples, filler words up to the minimum length, and tail.
func (b bounds) assemble(head, base string, withBase bool, mid []string, pad, tail string) string {
	join := func(parts ...string) string {
		var out []string
		for _, p := range parts {
			if p != "" {
				out = append(out, p)
			}
		}
		return strings.Join(out, " ")
	}
	core := join(head, join(mid...), tail)
	if !withBase {
		base = ""
	} else if b.long(join(core, base)) {
		// Cut the stand-in at a word so that the whole fits.
		room := b.maxChars - utf8.RuneCountInString(core) - 1
		if b.maxBytes > 0 && (b.maxChars == 0 || b.maxBytes-len(core)-1 < room) {
			room = b.maxBytes - len(core) - 1
		}
		if room <= 0 {
			base = ""
		} else {
			base = truncateRunes(base, room)
			if i := strings.LastIndexByte(base, ' '); i > 0 {
				base = base[:i]
			}
		}
	}
	body := join(head, base, join(mid...))
	words := strings.Fields(pad)
	for i := 0; b.short(join(body, tail)) && i < 100000; i++ {
		body = join(body, words[i%len(words)])
	}
	return join(body, tail)
}

// violateText changes a text answer so that the validator v (a text validator of the
// category) fails it, checking each way with the validator itself; when no way fails v, the
// first way that fails any text validator of the category. It reports whether it found one;
// when it did not, the answer is left as it was.
func (q *quality) violateText(c *clearbar.Choice, req *clearbar.Request, v *spec.Validator) bool {
	ways := violations(c.Text, v.Config)
	for _, only := range []*spec.Validator{v, nil} {
		for _, w := range ways {
			if !q.textPasses(w, *c, req, only) {
				c.Text = w
				return true
			}
		}
		// The other text validators' ways.
		if only == nil {
			break
		}
		for _, tc := range q.text {
			if tc.spec != v {
				ways = append(ways, violations(c.Text, tc.spec.Config)...)
			}
		}
	}
	return false
}

// violations are ways to make text fail a text validator, the way real models fail such
// checks, most natural first.
func violations(text string, cfg spec.ValidatorConfig) []string {
	longer := func(n int) string {
		return strings.Repeat(text+" ", n/max(len(text), 1)+2)
	}
	switch v := cfg.(type) {
	case *spec.MaxLength:
		return []string{longer(v.Chars)}
	case *spec.Length:
		var out []string
		if v.MaxChars > 0 {
			out = append(out, longer(v.MaxChars))
		}
		if v.MaxTokens > 0 {
			out = append(out, longer(4*v.MaxTokens))
		}
		return append(out, "ok", "")
	case *spec.RestrictedPhrases:
		var out []string
		for _, p := range v.Phrases {
			out = append(out, text+" "+p, p+" "+text)
		}
		return out
	case *spec.Refusal:
		return []string{"I'm sorry, but I can't help with that.", ""}
	case *spec.Regex:
		var out []string
		if len(v.Must) > 0 {
			out = append(out, "N/A", "", "-")
		}
		for _, p := range v.MustNot {
			s := regexSample(p)
			out = append(out, text+" "+s, s+" "+text, s, text+s)
		}
		return out
	}
	return nil
}
