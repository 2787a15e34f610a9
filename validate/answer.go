package validate

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Answer kinds: how AnswerKey reduces an answer for comparison.
const (
	// AnswerChoice is the option a multiple-choice answer picks, by letter ("B", "(b)",
	// "Answer: C.") or, failing that, by the text of exactly one option.
	AnswerChoice = "choice"
	// AnswerNumber is the last number in the answer ("#### 1,250" and "1250.0" are 1250).
	AnswerNumber = "number"
	// AnswerText is the whole answer, lower case, with spaces collapsed and trailing
	// punctuation trimmed.
	AnswerText = "text"
)

// AnswerKinds lists the answer kinds AnswerKey knows.
var AnswerKinds = []string{AnswerChoice, AnswerNumber, AnswerText}

// AnswerKey reduces an answer to the key two answers are compared by: for AnswerChoice the
// label of the option the answer picks among the options of question (the last user message),
// for AnswerNumber its last number, for AnswerText its normalised text. ok is false, with the
// reason in key, when the answer has no key: a choice answer that names no option or names
// two, an answer without a number, an empty answer, or a question with no options. Two
// answers agree only when both have a key and the keys are equal.
func AnswerKey(kind, question, answer string) (key string, ok bool) {
	var opts []option
	if kind == AnswerChoice {
		opts = multipleChoice(question)
	}
	return answerKey(kind, opts, answer)
}

// answerKey is AnswerKey with the question's options, for AnswerChoice, already found.
func answerKey(kind string, opts []option, answer string) (key string, ok bool) {
	switch kind {
	case AnswerChoice:
		if len(opts) == 0 {
			return "the question lists no options", false
		}
		return chosenOption(answer, opts)
	case AnswerNumber:
		return lastNumber(answer)
	case AnswerText:
		t := strings.TrimRight(strings.ToLower(strings.Join(strings.Fields(answer), " ")), ".;:,!?")
		if t == "" {
			return "the answer is empty", false
		}
		return t, true
	}
	return fmt.Sprintf("unknown answer kind %q (known: %s)", kind, strings.Join(AnswerKinds, ", ")), false
}

// chosenOption returns the label of the option an answer picks: the one option letter that
// stands alone in it (upper case, or lower case marked as a label: "b)"), or else the one
// option whose text it contains.
func chosenOption(answer string, opts []option) (string, bool) {
	var picked rune
	for i, r := range answer {
		var opt *option
		for k := range opts {
			if unicode.ToUpper(r) == unicode.ToUpper(opts[k].label) {
				opt = &opts[k]
				break
			}
		}
		if opt == nil {
			continue
		}
		before, _ := utf8.DecodeLastRuneInString(answer[:i])
		after, _ := utf8.DecodeRuneInString(answer[i+utf8.RuneLen(r):])
		if isWordRune(before) || isWordRune(after) || (unicode.IsLower(r) && after != ')') {
			continue
		}
		switch {
		case picked == 0:
			picked = opt.label
		case picked != opt.label:
			return fmt.Sprintf("the answer names options %c and %c", picked, opt.label), false
		}
	}
	if picked != 0 {
		return string(unicode.ToUpper(picked)), true
	}
	lower := strings.ToLower(strings.Join(strings.Fields(answer), " "))
	for _, o := range opts {
		if o.text == "" || !strings.Contains(lower, o.text) {
			continue
		}
		if picked != 0 {
			return fmt.Sprintf("the answer quotes options %c and %c", picked, o.label), false
		}
		picked = o.label
	}
	if picked == 0 {
		return fmt.Sprintf("the answer names none of options %c–%c", opts[0].label, opts[len(opts)-1].label), false
	}
	return string(unicode.ToUpper(picked)), true
}

// numberRE finds numbers: an optional sign (a hyphen-minus, a plus or the minus sign U+2212),
// digits with optional thousands separators, decimals, an exponent.
var numberRE = regexp.MustCompile(`[-+\x{2212}]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)(?:[eE][-+\x{2212}]?\d+)?`)

// LastNumber returns the last number in text, and false when it has none. Numbers may have a
// sign (the minus sign U+2212 too, as typeset answers write it), decimals, an exponent and
// thousands separators ("1,234.5"); a comma only groups thousands, so "3,4" is 3 and 4. A
// sign is one only at the start of the text or after white space, "(", "[", "=" or ":" ("-3",
// "is -3", "x=-3"); after a letter or a digit it joins words or numbers: the last numbers of
// "the range 10-20", "see gpt-4", "2024-05-01" and "5−3" are 20, 4, 1 and 3. The eval set's
// numeric checks and agree's number answers both read numbers with it.
func LastNumber(text string) (float64, bool) {
	all := numberRE.FindAllStringIndex(text, -1)
	for i := len(all) - 1; i >= 0; i-- {
		start, end := all[i][0], all[i][1]
		if r, size := utf8.DecodeRuneInString(text[start:]); (r == '-' || r == '+' || r == '−') && !signMayFollow(text[:start]) {
			start += size // a hyphen, not a sign
		}
		if f, err := strconv.ParseFloat(numberReplacer.Replace(text[start:end]), 64); err == nil && !math.IsInf(f, 0) {
			return f, true
		}
	}
	return 0, false
}

// numberReplacer drops thousands separators and writes the minus sign U+2212 as ParseFloat
// reads it.
var numberReplacer = strings.NewReplacer(",", "", "−", "-")

// signMayFollow reports whether a number's sign may come right after before: anywhere but
// right after a letter or a digit, where a hyphen joins a name (gpt-4), a range (10-20) or a
// date (2024-05-01). Marks around a number (**-3**, `-3`, "-3", $-3) leave its sign.
func signMayFollow(before string) bool {
	r, size := utf8.DecodeLastRuneInString(before)
	return size == 0 || !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

// lastNumber returns the answer's last number (see LastNumber) as a key: without thousands
// separators and in its shortest form.
func lastNumber(answer string) (string, bool) {
	f, ok := LastNumber(answer)
	if !ok {
		return "the answer has no number", false
	}
	return strconv.FormatFloat(f, 'f', -1, 64), true
}

// ChoiceLabels returns the option labels of a multiple-choice question, upper case and in
// order ("A", "B", …), or nil when question is not one.
func ChoiceLabels(question string) []string {
	opts := multipleChoice(question)
	if len(opts) == 0 {
		return nil
	}
	out := make([]string, len(opts))
	for i, o := range opts {
		out[i] = string(unicode.ToUpper(o.label))
	}
	return out
}

// ChoiceQuestion reports whether question (the last user message) is a multiple-choice
// question, whose answers AnswerChoice can reduce to an option.
func ChoiceQuestion(question string) bool { return len(multipleChoice(question)) > 0 }
