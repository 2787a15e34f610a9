package validate

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// citations checks that an answer cites sources and cites only sources the request supplied.
// The request supplies a source by carrying its id in its context (system, user or tool
// messages) in the same citation form ("[3] The refund policy says…") or as an id attribute
// (<document id="3">). A match that ends in "]" and is followed at once by "(" is a Markdown
// link or image ([here](https://…), ![chart](1.png)), not a citation, in the answer and in the
// request alike.
type citations struct {
	name     string
	required bool
	re       *regexp.Regexp
}

var idAttr = regexp.MustCompile(`\bid\s*=\s*["']([\w.-]+)["']`)

func newCitations(cfg spec.ValidatorConfig, _ Env) (Validator, error) {
	c := cfg.(*spec.Citations)
	pattern := c.Pattern
	if pattern == "" {
		pattern = spec.DefaultCitationPattern
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("citations pattern %q: %w", pattern, err)
	}
	return &citations{name: c.Summary(), required: c.IsRequired(), re: re}, nil
}

func (v *citations) Name() string { return v.name }

func (v *citations) supplied(req *clearbar.Request) map[string]bool {
	ids := map[string]bool{}
	for _, m := range req.Messages {
		if m.Role == "assistant" {
			continue
		}
		for _, id := range v.find(m.Text) {
			ids[id] = true
		}
		for _, sub := range idAttr.FindAllStringSubmatch(m.Text, -1) {
			ids[sub[1]] = true
		}
	}
	return ids
}

func (v *citations) Check(_ context.Context, in *Input) clearbar.Verdict {
	cited := v.find(in.Response.Text())
	if len(cited) == 0 {
		if v.required {
			return clearbar.Verdict{Validator: v.name, Pass: false, Reason: "the answer cites no source"}
		}
		return clearbar.Verdict{Validator: v.name, Pass: true}
	}
	supplied := v.supplied(in.Request)
	var unknown []string
	seen := map[string]bool{}
	for _, id := range cited {
		if !supplied[id] && !seen[id] {
			seen[id] = true
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		have := make([]string, 0, len(supplied))
		for id := range supplied {
			have = append(have, id)
		}
		sort.Strings(have)
		return clearbar.Verdict{Validator: v.name, Pass: false, Reason: fmt.Sprintf("cites %s, not among the supplied sources (%s)",
			strings.Join(unknown, ", "), orNone(strings.Join(have, ", ")))}
	}
	return clearbar.Verdict{Validator: v.name, Pass: true}
}

// find returns the source ids cited in text, in order, leaving out Markdown links and images.
func (v *citations) find(text string) []string {
	var ids []string
	for _, m := range v.re.FindAllStringSubmatchIndex(text, -1) {
		end := m[1]
		if end > 0 && text[end-1] == ']' && end < len(text) && text[end] == '(' {
			continue
		}
		if m[2] >= 0 {
			ids = append(ids, text[m[2]:m[3]])
		}
	}
	return ids
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
