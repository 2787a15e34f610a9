package validate

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// refusal fails answers that refuse, do not answer, or answer a different question than the
// request asked. In order, it fails:
//
//   - a refusal field, a content filter stop, an answer cut off at max tokens;
//   - a tool-choice mismatch: the request requires a tool call (tool_choice "required" or a
//     named function) and the answer makes none, or calls another function; or the request
//     forbids calls (tool_choice "none") and the answer makes one (the deprecated
//     function_call is read the same way: clearbar.Request.Functions);
//   - an empty answer with no tool call;
//   - a refusal opening: an answer whose first sentence (after at most two short
//     pleasantries such as "Thanks for asking!") refuses, like "Unfortunately, I can't help
//     with that", "I apologize, but I cannot assist", "As an AI, I…", "I won't be able to
//     answer that"; apostrophes and case are normalised, and an answer that opens with a
//     quotation mark is quoting, not refusing;
//   - a JSON mismatch: the request's response_format asks for JSON and the answer is prose
//     (it does not start with { or [, inside a code fence or not; whether the JSON is valid
//     is the json_schema validator's question);
//   - a multiple-choice mismatch: the last user message asks a question and lists two or more
//     options labelled with consecutive letters ("A. …", "B) …", "(C) …"), on lines of their
//     own or on one line, and the answer names none of them, by letter or by the option's
//     text.
//
// The checks are deterministic and err towards passing: a refusal needs an opening that
// says the model will not or cannot do the task (not just "sorry"), and any stand-alone
// option letter counts as naming that option.
//
// With mismatch: false in the spec (spec.Refusal.NoMismatch) the three mismatch checks are
// left out.
type refusal struct {
	name     string
	mismatch bool
}

func newRefusal(cfg spec.ValidatorConfig, _ Env) (Validator, error) {
	r, _ := cfg.(*spec.Refusal)
	return &refusal{name: cfg.Summary(), mismatch: r == nil || !r.NoMismatch}, nil
}

func (v *refusal) Name() string { return v.name }

func (v *refusal) Check(_ context.Context, in *Input) clearbar.Verdict {
	r := in.Response
	fail := func(format string, args ...any) clearbar.Verdict {
		return clearbar.Verdict{Validator: v.name, Pass: false, Reason: fmt.Sprintf(format, args...)}
	}
	if len(r.Choices) == 0 {
		return fail("the answer has no choices")
	}
	c := r.Choices[0]
	switch {
	case c.Refusal != "":
		return fail("the model refused: %s", clip(c.Refusal, 80))
	case c.FinishReason == "content_filter":
		return fail("the provider's content filter stopped the answer")
	case c.FinishReason == "length":
		return fail("the answer was cut off at the token limit")
	}
	req := in.Request
	if req == nil {
		req = &clearbar.Request{}
	}
	if reason := toolChoiceMismatch(req, c.ToolCalls); reason != "" && v.mismatch {
		return fail("mismatch: %s", reason)
	}
	if strings.TrimSpace(c.Text) == "" {
		if len(c.ToolCalls) == 0 {
			return fail("the answer is empty")
		}
		return clearbar.Verdict{Validator: v.name, Pass: true}
	}
	if m := refusalOpening(c.Text); m != "" {
		return fail("the answer opens with a refusal: %q", clip(m, 60))
	}
	if !v.mismatch {
		return clearbar.Verdict{Validator: v.name, Pass: true}
	}
	if rf := req.ResponseFormat.Type; (rf == "json_object" || rf == "json_schema") && isProse(c.Text) {
		return fail("mismatch: the request asks for JSON (response_format %s) but the answer is prose: %q", rf, clip(strings.TrimSpace(c.Text), 40))
	}
	if opts := multipleChoice(req.LastUserText()); len(opts) > 0 && !namesOption(c.Text, opts) {
		return fail("mismatch: the question offers options %c–%c but the answer names none of them", opts[0].label, opts[len(opts)-1].label)
	}
	return clearbar.Verdict{Validator: v.name, Pass: true}
}

// toolChoiceMismatch says how the answer's tool calls contradict the request's tool_choice (or
// the deprecated function_call, for a request's functions), or returns "".
func toolChoiceMismatch(req *clearbar.Request, calls []clearbar.ToolCall) string {
	param := "tool_choice"
	if req.Functions {
		param = "function_call"
	}
	switch tc := req.ToolChoice; tc {
	case "", "auto":
		return ""
	case "none":
		if len(calls) > 0 {
			return fmt.Sprintf("the request forbids tool calls (%s none) but the answer calls %s", param, calls[0].Name)
		}
	case "required":
		if len(calls) == 0 && len(req.Tools) > 0 {
			return fmt.Sprintf("the request requires a tool call (%s required) but the answer makes none", param)
		}
	default:
		if len(calls) == 0 {
			return fmt.Sprintf("the request requires a call to %s (%s) but the answer makes none", tc, param)
		}
		for _, c := range calls {
			if c.Name != tc {
				return fmt.Sprintf("the request requires a call to %s (%s) but the answer calls %s", tc, param, c.Name)
			}
		}
	}
	return ""
}

// The refusal openings, matched against the opening in the form opening gives: lower case,
// straight apostrophes, single spaces.
var (
	refusalVerbs = `(?:help(?: you| with| on| here|[.,!]|$)|assist|comply|provide|answer|respond|fulfill?|engage|create|generate|write|share|discuss|do (?:that|this|so))`
	cannot       = `(?:can't|cannot|can not|won't|will not|(?:'m|am) unable to|(?:'m|am) not able to|won't be able to|will not be able to|(?:'m|am) not (?:allowed|permitted) to|don't|do not)`
	apology      = `(?:(?:i'm|i am) (?:so |very |really |truly )?sorry|i (?:sincerely )?apologi[sz]e|(?:i'm|i am) afraid|unfortunately|regrettably|sorry)`
	refusalRE    = regexp.MustCompile(`^(?:` +
		apology + `[,.!]? (?:but )?i ` + cannot + `(?: ` + refusalVerbs + `| [^ ]*[.!]|[.!]|$)` + // "Unfortunately, I can't help", "I'm afraid I can't."
		`|i(?: really| simply)? ` + cannot + ` ` + refusalVerbs + // "I cannot assist with that"
		`|as an ai\b` + // "As an AI language model, I…"
		`|i (?:must|have to) (?:respectfully |politely )?decline` +
		`|i(?:'m| am) not comfortable|i (?:don't|do not) feel comfortable` +
		`)`)
	pleasantryRE = regexp.MustCompile(`^(?:thanks|thank you|hi|hello|hey|dear|great question|good question|i understand|i see)\b[^.!?]{0,80}[.!?]+ `)
)

// refusalOpening returns the refusal the answer opens with, or "".
func refusalOpening(text string) string {
	o := opening(text)
	for range 2 {
		m := pleasantryRE.FindString(o)
		if m == "" {
			break
		}
		o = o[len(m):]
	}
	return refusalRE.FindString(o)
}

// opening returns the answer's first 300 bytes lower-cased, with curly apostrophes made
// straight, white space collapsed, and leading Markdown emphasis and headings removed. An
// answer that opens with a quotation mark or a block quote gives "": it quotes.
func opening(text string) string {
	text = strings.TrimLeft(text, " \t\r\n*_#")
	if r, _ := utf8.DecodeRuneInString(text); strings.ContainsRune("\"'“‘«„>`", r) {
		return ""
	}
	if len(text) > 300 {
		text = text[:300]
	}
	var b strings.Builder
	space := false
	for _, r := range text {
		switch {
		case r == utf8.RuneError:
			continue
		case unicode.IsSpace(r):
			space = true
			continue
		case r == '’' || r == '‘' || r == 'ʼ' || r == '′' || r == '＇':
			r = '\''
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// isProse reports whether an answer is prose rather than an attempt at JSON: after any code
// fence, it does not start with { or [.
func isProse(text string) bool {
	t := strings.TrimSpace(text)
	if rest, ok := strings.CutPrefix(t, "```"); ok {
		if i := strings.IndexByte(rest, '\n'); i >= 0 {
			t = strings.TrimSpace(rest[i+1:])
		}
	}
	return !strings.HasPrefix(t, "{") && !strings.HasPrefix(t, "[")
}

// option is one labelled option of a multiple-choice question.
type option struct {
	label rune
	text  string // lower case, single spaces, without trailing punctuation
}

var (
	questionCue  = regexp.MustCompile(`(?i)\?|\b(?:which|choose|choice|select|pick|correct answer|best answer)\b`)
	noneOfThemRE = regexp.MustCompile(`(?i)\b(?:none|all|neither|both) of (?:the|them|these|those)\b|\bneither\b`)
)

// multipleChoice returns the options of a multiple-choice question: two or more lines labelled
// with consecutive letters from A (or a), in a message that asks something. Otherwise nil. In
// a few-shot prompt, where worked questions come before the one asked, each run of options
// starting again at A (in the same case as the run before) replaces the one before: the
// options are the last question's. (So does a list in the same style after the options, such
// as an answer format "A) the letter B) a reason": its lines are taken for the options.) A
// message without such lines may list its options on one line (see inlineChoice).
func multipleChoice(msg string) []option {
	var opts []option
	var texts []string // the options' raw texts, normalised once the last run is known
	asks := false
	for line := range strings.Lines(msg) {
		label, text, ok := optionLine(line)
		if !ok {
			asks = asks || questionCue.MatchString(line)
			continue
		}
		want := 'A'
		if len(opts) > 0 {
			want = opts[len(opts)-1].label + 1
		} else if unicode.IsLower(label) {
			want = 'a'
		}
		if label != want && len(opts) > 0 && (label == 'A' && opts[0].label == 'A' || label == 'a' && opts[0].label == 'a') {
			opts, texts, want = opts[:0], texts[:0], label // a new question's options
		}
		if label != want {
			return inlineChoice(msg) // not a run of options from A on lines of their own
		}
		opts = append(opts, option{label: label})
		texts = append(texts, text)
	}
	if len(opts) < 2 || !asks {
		return inlineChoice(msg)
	}
	for i, t := range texts {
		opts[i].text = strings.TrimRight(strings.ToLower(strings.Join(strings.Fields(t), " ")), ".;:,!?")
	}
	return opts
}

// inlineChoice returns the options of a multiple-choice question that lists them on one line,
// "Which? A) one B) two C) three", "(A) x (B) y" or "A. x B. y", or nil. An option marker is a
// letter from A to H (or a to h) written "X)", "(X)" or "X.", at the start of the text or after
// white space or punctuation, with white space after it. The options are a run of two or more
// markers of one style and case lettered A, B, C… in order on one line (options on lines of
// their own are multipleChoice's), each followed by some text, after a question cue (a
// question mark, "which", "choose"…) in the text before the run, so that prose that only
// mentions a plan A) and a plan B) is not taken for a question. A marker of the run's style
// that breaks the sequence ends the run; one starting again at A starts a new run, and the
// last run is the options. The last option's text ends at the end of its line or sentence
// ("D) four. Answer with the letter." gives "four").
func inlineChoice(msg string) []option {
	type marker struct {
		label      rune
		start, end int // the marker's bytes in msg; end is past the white space after it
	}
	type style struct {
		mark  byte // ')', '(' or '.'
		lower bool
	}
	runs := map[style][]marker{} // the run in progress of each style
	var best []marker
	done := func(run []marker) {
		if len(run) >= 2 && (best == nil || run[0].start > best[0].start) {
			best = run
		}
	}
	for i := 0; i < len(msg); i++ {
		mk, ok := markerAt(msg, i)
		if !ok {
			continue
		}
		m, st := marker{label: mk.label, start: i, end: mk.end}, style{mk.style, unicode.IsLower(mk.label)}
		switch run := runs[st]; {
		case len(run) > 0 && m.label == run[len(run)-1].label+1 && inlineText(msg[run[len(run)-1].end:m.start]):
			runs[st] = append(run, m)
		case m.label == 'A' || m.label == 'a':
			done(run)
			runs[st] = []marker{m}
		default:
			done(run)
			runs[st] = nil // out of sequence: not a run of options
		}
		i = m.end - 1
	}
	for _, run := range runs {
		done(run)
	}
	if best == nil || !questionCue.MatchString(msg[:best[0].start]) {
		return nil
	}
	opts := make([]option, len(best))
	for k, m := range best {
		var text string
		if k+1 < len(best) {
			text = msg[m.end:best[k+1].start]
		} else {
			text = msg[m.end:]
			text = text[:sentenceEnd(text)]
		}
		if strings.TrimSpace(text) == "" {
			return nil
		}
		opts[k] = option{label: m.label, text: strings.TrimRight(strings.ToLower(strings.Join(strings.Fields(text), " ")), ".;:,!?")}
	}
	return opts
}

// inlineText reports whether the text between two markers is an option's: some text, on the
// markers' line.
func inlineText(text string) bool {
	return strings.TrimSpace(text) != "" && !strings.ContainsAny(text, "\r\n")
}

// markerAt parses an inline option marker starting at byte i of msg (see inlineChoice): its
// label and style, and the end of the white space after it.
func markerAt(msg string, i int) (m struct {
	label rune
	style byte
	end   int
}, ok bool) {
	if i > 0 {
		r, _ := utf8.DecodeLastRuneInString(msg[:i])
		if !unicode.IsSpace(r) && !unicode.IsPunct(r) {
			return m, false
		}
	}
	s := msg[i:]
	switch {
	case len(s) >= 4 && s[0] == '(' && isOptionLetter(s[1]) && s[2] == ')':
		m.label, m.style, m.end = rune(s[1]), '(', i+3
	case len(s) >= 3 && isOptionLetter(s[0]) && (s[1] == '.' || s[1] == ')'):
		m.label, m.style, m.end = rune(s[0]), s[1], i+2
	default:
		return m, false
	}
	if m.end >= len(msg) || (msg[m.end] != ' ' && msg[m.end] != '\t') {
		return m, false
	}
	for m.end < len(msg) && (msg[m.end] == ' ' || msg[m.end] == '\t') {
		m.end++
	}
	return m, true
}

// sentenceEnd returns the length of the first line or sentence of text: up to a line break,
// or to a full stop, question or exclamation mark followed by white space.
func sentenceEnd(text string) int {
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '\n', '\r':
			return i
		case '.', '?', '!':
			if i+1 < len(text) && (text[i+1] == ' ' || text[i+1] == '\t' || text[i+1] == '\n' || text[i+1] == '\r') {
				return i
			}
		}
	}
	return len(text)
}

// optionLine parses a line labelled as an option: "A. text", "b) text" or "(C) text" (letters
// A to H, either case; spaces before the label, and at least one after it).
func optionLine(line string) (label rune, text string, ok bool) {
	s := strings.TrimLeft(line, " \t\r\v\f")
	var rest string
	switch {
	case len(s) >= 4 && s[0] == '(' && isOptionLetter(s[1]) && s[2] == ')':
		label, rest = rune(s[1]), s[3:]
	case len(s) >= 3 && isOptionLetter(s[0]) && (s[1] == '.' || s[1] == ')'):
		label, rest = rune(s[0]), s[2:]
	default:
		return 0, "", false
	}
	if rest[0] != ' ' && rest[0] != '\t' {
		return 0, "", false
	}
	if text = strings.TrimSpace(rest); text == "" {
		return 0, "", false
	}
	return label, text, true
}

func isOptionLetter(c byte) bool { return c >= 'A' && c <= 'H' || c >= 'a' && c <= 'h' }

// namesOption reports whether an answer names an option: its letter standing alone ("B",
// "(b)", "b)", "Answer: C."), the option's text, or "none of the above" and the like.
func namesOption(answer string, opts []option) bool {
	lower := strings.ToLower(strings.Join(strings.Fields(answer), " "))
	if noneOfThemRE.MatchString(lower) {
		return true
	}
	for _, o := range opts {
		if o.text != "" && strings.Contains(lower, o.text) {
			return true
		}
	}
	for i, r := range answer {
		o := -1
		for k, opt := range opts {
			if r == opt.label || r == unicode.ToUpper(opt.label) {
				o = k
				break
			}
		}
		if o < 0 {
			continue
		}
		before, _ := utf8.DecodeLastRuneInString(answer[:i])
		after, _ := utf8.DecodeRuneInString(answer[i+utf8.RuneLen(r):])
		if isWordRune(before) || isWordRune(after) {
			continue
		}
		// A lower-case letter standing alone is the article "a" or a stray letter unless it is
		// marked as a label: "(a)", "a)".
		if unicode.IsLower(r) && after != ')' {
			continue
		}
		return true
	}
	return false
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\''
}
