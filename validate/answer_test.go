package validate

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestAnswerKey(t *testing.T) {
	const q = "Which gas do plants take in?\nA) oxygen\nB) carbon dioxide\nC) nitrogen\nD) helium\nAnswer:"
	// A few-shot prompt: the worked question's options come first, then the question asked.
	const fewShot = "Which is a mammal?\nA) shark\nB) whale\nAnswer:\nB\n\nWhich is a planet?\nA) Moon\nB) Sun\nC) Mars\nAnswer:"
	tests := []struct {
		kind, question, answer string
		key                    string
		ok                     bool
	}{
		{AnswerChoice, q, "B", "B", true},
		{AnswerChoice, q, "b)\n", "B", true},
		{AnswerChoice, q, "The answer is (C).", "C", true},
		{AnswerChoice, q, "Answer: D. Helium is inert, and D is final.", "D", true},
		{AnswerChoice, q, "Plants take in carbon dioxide.", "B", true},
		{AnswerChoice, q, "a plant needs light", "the answer names none of options A–D", false},
		{AnswerChoice, q, "A good guess is B", "the answer names options A and B", false},
		{AnswerChoice, q, "either oxygen or nitrogen", "the answer quotes options A and C", false},
		{AnswerChoice, q, "I do", "the answer names none of options A–D", false},
		{AnswerChoice, "What is 2+2?", "4", "the question lists no options", false},
		{AnswerChoice, fewShot, "C", "C", true},
		{AnswerChoice, fewShot, "Mars", "C", true},
		// A lower-case list after the options is not a new question's options.
		{AnswerChoice, "Which gas?\nA) oxygen\nB) carbon dioxide\n\nReply as:\na) the letter\nb) a reason", "B", "the question lists no options", false},
		// Winogrande's five-shot prompts: the cue is the instruction to print a single choice.
		{AnswerChoice, "The drink was low in _.\nA) caffeine\nB) sugar\nPrint only a single choice from \"A\" or \"B\". Answer:", "B", "B", true},
		{AnswerNumber, "", "So she has 3 + 4 = 7 apples.\n#### 1,250", "1250", true},
		{AnswerNumber, "", "The total is 12.50 dollars", "12.5", true},
		{AnswerNumber, "", "-3", "-3", true},
		{AnswerNumber, "", "It is -3.", "-3", true},
		{AnswerNumber, "", "between 10-15", "15", true},
		{AnswerNumber, "", "on 2024-05-01", "1", true},
		{AnswerNumber, "", "3,4", "4", true},
		{AnswerNumber, "", "gpt-4.1-mini", "4.1", true},
		{AnswerNumber, "", "no idea", "the answer has no number", false},
		{AnswerText, "", "  Paris. ", "paris", true},
		{AnswerText, "", " \n", "the answer is empty", false},
		{"vote", "", "x", `unknown answer kind "vote" (known: choice, number, text)`, false},
	}
	for _, tt := range tests {
		key, ok := AnswerKey(tt.kind, tt.question, tt.answer)
		if key != tt.key || ok != tt.ok {
			t.Errorf("AnswerKey(%s, …, %q) = %q, %v; want %q, %v", tt.kind, tt.answer, key, ok, tt.key, tt.ok)
		}
	}
}

func TestLastNumber(t *testing.T) {
	tests := []struct {
		in          string
		want        float64
		ok          bool
		explanation string
	}{
		{"1,2", 2, true, "a comma that is not a thousands separator splits numbers"},
		{"12,345,678", 12345678, true, "thousands groups"},
		{"total: 42.", 42, true, "a sentence's full stop is not a decimal point"},
		{".5 of it", 0.5, true, "a leading decimal point"},
		{"about 1.5e3 tokens", 1500, true, "an exponent"},
		{"none", 0, false, "no number"},
		{"The range is 10-20", 20, true, "a hyphen between numbers is a range, not a minus sign"},
		{"Answer: 42 (see gpt-4)", 4, true, "a hyphen after a letter joins a name"},
		{"2024-05-01", 1, true, "a date's hyphens"},
		{"-3", -3, true, "a sign at the start"},
		{"it is -3", -3, true, "a sign after white space"},
		{"(-3)", -3, true, "a sign after a parenthesis"},
		{"x=-3", -3, true, "a sign after an equals sign"},
		{"answer:-3", -3, true, "a sign after a colon"},
		{"+5", 5, true, "a plus sign"},
		{"x/-3", -3, true, "a sign after a mark"},
		{"The answer is **-3**", -3, true, "a negative number in bold"},
		{"`-3`", -3, true, "a negative number as code"},
		{"The answer is −5", -5, true, "the minus sign U+2212"},
		{"x = −2.5e−3", -0.0025, true, "the minus sign in an exponent"},
		{"5−3", 3, true, "the minus sign after a digit is subtraction"},
	}
	for _, tt := range tests {
		got, ok := LastNumber(tt.in)
		if ok != tt.ok || math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("LastNumber(%q) = %v, %v; want %v, %v: %s", tt.in, got, ok, tt.want, tt.ok, tt.explanation)
		}
	}
}

// BenchmarkAnswerKey reduces an answer to its option on a five-shot ARC-style prompt (five
// worked questions before the one asked, about 1.25 KB).
func BenchmarkAnswerKey(b *testing.B) {
	var q strings.Builder
	for i := range 6 {
		fmt.Fprintf(&q, "Which of these is a property of metal number %d?\nA) brittle\nB) conducts electricity\nC) transparent\nD) dissolves in water\n"+
			"Print only a single choice from \"A\" or \"B\" or \"C\" or \"D\" without explanation.\nAnswer:\n", i)
		if i < 5 {
			q.WriteString("B\n\n")
		}
	}
	question := q.String()
	b.SetBytes(int64(len(question)))
	b.ReportAllocs()
	for b.Loop() {
		if key, ok := AnswerKey(AnswerChoice, question, "B\n"); !ok || key != "B" {
			b.Fatal(key)
		}
	}
}

// TestChoiceLabelsInline: options written on one line are read when they are a run of two or
// more markers lettered from A in order, in one style, after the question; prose that only
// mentions lettered plans or grades is not a question.
func TestChoiceLabelsInline(t *testing.T) {
	tests := []struct {
		question string
		labels   string // "" for not a multiple-choice question
		why      string
	}{
		{"Question 0: which option? A) one B) two C) three D) four. Answer with the letter.", "ABCD", "X) markers on one line"},
		{"Which is right? (A) x (B) y", "AB", "(X) markers"},
		{"Choose one: A. red B. green C. blue", "ABC", "X. markers"},
		{"Which? a) left b) right", "AB", "lower-case markers"},
		{"Which one?\n(A) cat (B) dog (C) cow", "ABC", "inline options on a line of their own"},
		{"Which is a mammal? A) shark B) whale\nWhich is a planet? A) Moon B) Sun C) Mars", "ABC", "the last question's options"},
		{"Which vitamin? A) vitamin C. B) iron C) zinc", "ABC", "a marker of another style inside an option is text"},
		{"Which is best?\nA) one\nB) two", "AB", "options on lines of their own still work"},
		{"Plan A) is better than plan B)", "", "prose: B) has no text, and nothing is asked"},
		{"Plan A) is better than plan B) for us. Which do you prefer?", "", "the question comes after the lettered words"},
		{"I got an A. Then a B. Which is better?", "", "grades in prose, asked after"},
		{"Which? A) one C) three", "", "C does not follow A"},
		{"Which? A) one", "", "one option is no choice"},
		{"Which? A) one B. two", "", "two styles are not one run"},
		{"Which? A) one b) two", "", "two cases are not one run"},
		{"Which is it? vitamin A) x B) y", "AB", "a marker after a word and a space counts"},
		{"Which is it? xA) x xB) y", "", "a marker inside a word does not"},
		{"Which is it? A)x B)y", "", "a marker needs white space after it"},
		{"Which is it? A. B. C.", "", "markers without text are not options"},
		{"What is 2+2?", "", "no options"},
	}
	for _, tt := range tests {
		got := strings.Join(ChoiceLabels(tt.question), "")
		if got != tt.labels {
			t.Errorf("%s: ChoiceLabels(%q) = %q, want %q", tt.why, tt.question, got, tt.labels)
		}
	}
	// The last option's text ends with its sentence: an answer that names it is read.
	const q = "Question 0: which option? A) one B) two C) three D) four. Answer with the letter."
	for answer, want := range map[string]string{"D": "D", "The answer is (b).": "B", "four": "D", "three": "C"} {
		if key, ok := AnswerKey(AnswerChoice, q, answer); !ok || key != want {
			t.Errorf("AnswerKey(choice, inline question, %q) = %q, %v; want %q", answer, key, ok, want)
		}
	}
}
