package validate

import (
	"context"
	"fmt"
	"regexp"
	"unicode/utf8"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

type regexValidator struct {
	name          string
	must, mustNot []*regexp.Regexp
}

func newRegex(cfg spec.ValidatorConfig, _ Env) (Validator, error) {
	c := cfg.(*spec.Regex)
	v := &regexValidator{name: c.Summary()}
	for _, p := range c.Must {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("regex %q: %w", p, err)
		}
		v.must = append(v.must, re)
	}
	for _, p := range c.MustNot {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("regex %q: %w", p, err)
		}
		v.mustNot = append(v.mustNot, re)
	}
	return v, nil
}

func (v *regexValidator) Name() string { return v.name }

func (v *regexValidator) Check(_ context.Context, in *Input) clearbar.Verdict {
	// The reason follows the validator's name, which states the rule ("regex: matches /a/"):
	// it names the pattern again only when the validator has more than one.
	text := in.Response.Text()
	which := func(re *regexp.Regexp) string {
		if len(v.must)+len(v.mustNot) == 1 {
			return ""
		}
		return fmt.Sprintf(" /%s/", re)
	}
	for _, re := range v.must {
		if !re.MatchString(text) {
			return clearbar.Verdict{Validator: v.name, Pass: false, Reason: "the answer does not match" + which(re)}
		}
	}
	for _, re := range v.mustNot {
		if m := re.FindString(text); m != "" {
			return clearbar.Verdict{Validator: v.name, Pass: false, Reason: fmt.Sprintf("the answer matches%s at %q", which(re), clip(m, 60))}
		}
	}
	return clearbar.Verdict{Validator: v.name, Pass: true}
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// lengthValidator bounds an answer's length. Characters are Unicode code points; tokens are
// estimated as a quarter of the bytes, the same estimate routing uses.
type lengthValidator struct {
	name                                     string
	minChars, maxChars, minTokens, maxTokens int
}

func newMaxLength(cfg spec.ValidatorConfig, _ Env) (Validator, error) {
	c := cfg.(*spec.MaxLength)
	return &lengthValidator{name: c.Summary(), maxChars: c.Chars}, nil
}

func newLength(cfg spec.ValidatorConfig, _ Env) (Validator, error) {
	c := cfg.(*spec.Length)
	return &lengthValidator{name: c.Summary(), minChars: c.MinChars, maxChars: c.MaxChars, minTokens: c.MinTokens, maxTokens: c.MaxTokens}, nil
}

func (v *lengthValidator) Name() string { return v.name }

func (v *lengthValidator) Check(_ context.Context, in *Input) clearbar.Verdict {
	text := in.Response.Text()
	chars := utf8.RuneCountInString(text)
	tokens := clearbar.TokensOfBytes(len(text))
	fail := func(format string, args ...any) clearbar.Verdict {
		return clearbar.Verdict{Validator: v.name, Pass: false, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case v.maxChars > 0 && chars > v.maxChars:
		return fail("%d characters, more than %d", chars, v.maxChars)
	case v.minChars > 0 && chars < v.minChars:
		return fail("%d characters, fewer than %d", chars, v.minChars)
	case v.maxTokens > 0 && tokens > v.maxTokens:
		return fail("about %d tokens, more than %d", tokens, v.maxTokens)
	case v.minTokens > 0 && tokens < v.minTokens:
		return fail("about %d tokens, fewer than %d", tokens, v.minTokens)
	}
	return clearbar.Verdict{Validator: v.name, Pass: true}
}
