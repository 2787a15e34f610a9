package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// syntaxBase is a small spec in block style, as specs are usually written; the cases below
// break its YAML with one edit each. Its line numbers are those the cases name.
const syntaxBase = `version: 1
name: syntax
volume: {per_month: 1000}
providers:
  sim: {type: simulated}
models:
  mini:
    provider: sim
    model: gpt-4.1-mini
    latency: {p50: 1s, p95: 2s}
  strong:
    provider: sim
    model: gpt-4.1
    latency: {p50: 1s, p95: 2s}
categories:
  - name: intent
    description: Classify the ticket.
    share: 0.5
    tokens: {in: 400, out: 20}
    quality_bar: 0.9
    failure_impact: {bad_answer: 1}
    route: {model: mini}
    fallback: [strong]
    assume:
      pass_rate: {mini: 0.9, strong: 0.95}

  - name: draft
    description: Draft a reply.
    share: 0.5
    tokens: {in: 1000, out: 200}
    quality_bar: 0.9
    failure_impact: {bad_answer: 1}
    route: {model: strong}
    fallback: [mini]
    assume:
      pass_rate: {mini: 0.9, strong: 0.95}
    why: The customer's reply matters.
`

// TestYAMLSyntaxErrorsNameTheLineToEdit: a YAML syntax error is reported at the line to edit,
// which yaml.v3 often does not name (it reports where it noticed, counting some lines from 0),
// with what to change there, and yaml.v3's own message after it.
func TestYAMLSyntaxErrorsNameTheLineToEdit(t *testing.T) {
	for _, tc := range []struct {
		name     string
		old, new string // one edit of syntaxBase
		line     int
		want     string
		yaml     string // yaml.v3's message, kept at the end
	}{
		{name: "a list item indented more than the items above it", old: "  - name: draft", new: "   - name: draft", line: 27,
			want: "`- name: draft` is indented 3 spaces where the items above it have 2: indent it as they are",
			yaml: "(yaml: line 15: did not find expected '-' indicator)"},
		{name: "a list item indented less than the items above it", old: "  - name: draft", new: " - name: draft", line: 27,
			want: "`- name: draft` is indented 1 space where the items above it have 2: indent it as they are",
			yaml: "did not find expected key)"},
		{name: "a key indented less than the keys above it", old: "    share: 0.5\n    tokens: {in: 1000", new: "   share: 0.5\n    tokens: {in: 1000", line: 29,
			want: "`share: 0.5` is indented 3 spaces where the keys above it have 4: indent it as they are",
			yaml: "did not find expected '-' indicator)"},
		{name: "a key indented more than the keys above it", old: "    model: gpt-4.1-mini", new: "      model: gpt-4.1-mini", line: 9,
			want: "`model: gpt-4.1-mini` is indented 6 spaces where the keys above it have 4: indent it as they are",
			yaml: "(yaml: line 9: mapping values are not allowed in this context)"},
		{name: "a flow mapping left open", old: "tokens: {in: 1000, out: 200}", new: "tokens: {in: 1000, out: 200", line: 30,
			want: "a flow mapping `{` opened on this line is not closed: end it with `}`",
			yaml: "(yaml: line 29: did not find expected ',' or '}')"},
		{name: "a flow list left open", old: "fallback: [mini]", new: "fallback: [mini", line: 34,
			want: "a list `[` opened on this line is not closed: end it with `]`",
			yaml: "did not find expected ',' or ']')"},
		{name: "two entries of a flow mapping without a comma", old: "{in: 400, out: 20}", new: "{in: 400 out: 20}", line: 19,
			want: "in `tokens: {in: 400 out: 20}`, an entry is not followed by ',' or `}`: separate entries with ', '",
			yaml: "did not find expected ',' or '}')"},
		{name: "a key without its colon", old: "quality_bar: 0.9\n    failure_impact: {bad_answer: 1}\n    route: {model: strong}", new: "quality_bar 0.9\n    failure_impact: {bad_answer: 1}\n    route: {model: strong}", line: 31,
			want: "`quality_bar 0.9` has no ':' after the key: write `quality_bar: 0.9`",
			yaml: "(yaml: line 31: could not find expected ':')"},
		{name: "a key without its colon, at the top", old: "name: syntax", new: "name syntax", line: 2,
			want: "`name syntax` has no ':' after the key: write `name: syntax`",
			yaml: "(yaml: line 2: could not find expected ':')"},
		{name: "a key without a space after its colon", old: "    share: 0.5\n    tokens: {in: 400", new: "    share:0.5\n    tokens: {in: 400", line: 18,
			want: "`share:0.5` has no space after the ':', so YAML reads it as text, not a key: write `share: 0.5`",
			yaml: "(yaml: line 18: could not find expected ':')"},
		{name: "a key without its colon, running on into the key below it", old: "    provider: sim\n    model: gpt-4.1\n", new: "    provider sim\n    model: gpt-4.1\n", line: 12,
			want: "`provider sim` has no ':' after the key: write `provider: sim`",
			yaml: "(yaml: line 13: mapping values are not allowed in this context)"},
		{name: "a first key without a space after its colon, running on into the key below it", old: "    provider: sim\n    model: gpt-4.1\n", new: "    provider:sim\n    model: gpt-4.1\n", line: 12,
			want: "`provider:sim` has no space after the ':', so YAML reads it as text, not a key: write `provider: sim`",
			yaml: "(yaml: line 13: mapping values are not allowed in this context)"},
		{name: "a key without a space after its colon, before plain keys", old: "description: Draft a reply.", new: "description:Draft a reply.", line: 28,
			want: "`description:Draft a reply.` has no space after the ':', so YAML reads it as text, not a key: write `description: Draft a reply.`",
			yaml: "(yaml: line 28: could not find expected ':')"},
		{name: "a key without a space after its colon, before a list", old: "fallback: [strong]", new: "fallback:[strong]", line: 23,
			want: "`fallback:[strong]` has no space after the ':', so YAML reads it as text, not a key: write `fallback: [strong]`",
			yaml: "(yaml: line 23: could not find expected ':')"},
		{name: "a key indented between two levels", old: "  strong:\n", new: " strong:\n", line: 11,
			want: "`strong:` is indented 1 space, between the keys above it at 0 and at 2: indent it as those it belongs with",
			yaml: ")"},
		{name: "a value holding ': '", old: "description: Draft a reply.", new: "description: Draft a reply: short.", line: 28,
			want: "the value of description holds ': ', which YAML reads as the start of another key: put the value in quotes, `description: \"Draft a reply: short.\"`",
			yaml: "mapping values are not allowed in this context)"},
		{name: "a double-quoted string left open, closed lines later", old: "description: Classify the ticket.", new: "description: \"Classify the ticket.\n    note: \"x\"", line: 17,
			want: "a quoted string opened with \" on this line is not closed on it (the next \" is on line 18, so the lines between are read as its text): end it with \" on this line",
			yaml: "(yaml: line 15: did not find expected key)"},
		{name: "a single-quoted string left open, closed by an apostrophe lines later", old: "description: Draft a reply.", new: "description: 'Draft a reply.", line: 28,
			want: "a quoted string opened with ' on this line is not closed on it (the next ' is on line 37, so the lines between are read as its text): end it with ' on this line",
			yaml: "(yaml: line 26: did not find expected key)"},
		{name: "a quoted string never closed", old: "why: The customer's reply matters.", new: "why: \"The customer's reply matters.", line: 37,
			want: "a quoted string opened with \" on this line is never closed: end it with \"",
			yaml: "found unexpected end of stream)"},
		{name: "text after a closing quote", old: "description: Draft a reply.", new: "description: \"Draft\" a reply.", line: 28,
			want: "`a reply.` follows a closing quote on this line: put it inside the quotes, or remove it",
			yaml: "did not find expected key)"},
		{name: "a list item on its key's line", old: "fallback: [mini]", new: "fallback: - mini", line: 34,
			want: "a list item cannot follow `fallback:` on its line: write `fallback: [mini]`, or put `- mini` on the next line, indented under fallback",
			yaml: "block sequence entries are not allowed in this context)"},
		{name: "a list item among keys", old: "    share: 0.5\n    tokens: {in: 1000", new: "    share: 0.5\n    - extra\n    tokens: {in: 1000", line: 30,
			want: "`- extra` is a list item written among the keys of a mapping",
			yaml: "did not find expected key)"},
		{name: "a value starting with @", old: "Draft a reply.", new: "@draft", line: 28,
			want: "a value cannot start with @: put it in quotes, \"@draft\"",
			yaml: "found character that cannot start any token)"},
		{name: "an unknown escape in double quotes", old: "Draft a reply.", new: `"C:\drafts"`, line: 28,
			want: `in double quotes a backslash starts an escape (\n, \t, \"): write \\ for a backslash, or put the value in single quotes`,
			yaml: "found unknown escape character)"},
		{name: "an anchor without a name", old: "assume:\n      pass_rate: {mini: 0.9, strong: 0.95}\n    why", new: "assume: &\n      pass_rate: {mini: 0.9, strong: 0.95}\n    why", line: 35,
			want: "an & (anchor) or * (alias) needs a name right after it",
			yaml: "did not find expected alphabetic or numeric character)"},
		{name: "a tab in a line's indentation", old: "    model: gpt-4.1-mini", new: "\tmodel: gpt-4.1-mini", line: 9,
			want: "a tab indents this line: indent with spaces",
			yaml: "(yaml: line 8: found a tab character that violates indentation)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Count(syntaxBase, tc.old) != 1 {
				t.Fatalf("syntaxBase has %d of %q, want one", strings.Count(syntaxBase, tc.old), tc.old)
			}
			_, err := Parse([]byte(strings.Replace(syntaxBase, tc.old, tc.new, 1)), "syntax.yaml", Options{Today: fixtureDay})
			var errs Errors
			if !errors.As(err, &errs) || len(errs) != 1 {
				t.Fatalf("want one spec error, got %T:\n%v", err, err)
			}
			e := errs[0]
			if e.Line != tc.line || !strings.HasPrefix(e.Msg, tc.want) || !strings.HasSuffix(e.Msg, ")") || !strings.Contains(e.Msg, tc.yaml) {
				t.Errorf("got\n  %v\nwant syntax.yaml:%d: %s ... %s", e, tc.line, tc.want, tc.yaml)
			}
		})
	}
}

// TestSyntaxBaseIsClean: the spec the syntax cases break loads as it is.
func TestSyntaxBaseIsClean(t *testing.T) {
	if _, err := Parse([]byte(syntaxBase), "syntax.yaml", Options{Today: fixtureDay}); err != nil {
		t.Fatal(err)
	}
}

// TestYAMLReadingFindsNothingInValidYAML: in YAML that parses, the line-by-line reading that
// places syntax errors finds no misindented line, no quoted string left open and no bracket
// left open, whatever it holds: blocks of text, multi-line plain and quoted values, brackets
// over several lines, lists at their key's indentation, comments and apostrophes.
func TestYAMLReadingFindsNothingInValidYAML(t *testing.T) {
	sources := map[string]string{"syntaxBase": syntaxBase, "checkBase": checkBase, "mixed": `# a comment: with a colon
top:
  text: |
    a block: of text
      indented more
   - not an item
  folded: >-
    more text
  plain: a value
    that runs on
  quoted: "a value
    over lines"
  single: 'it''s fine'
  flow: {a: 1,
    b: [x, y,
        z]}
  list:
  - one
  - two: 2
    three: 3
  - - nested
    - items
  anchored: &base
    k: v
  merged:
    <<: *base
  url: http://example.com/a#b
  empty:
other: the customer's "view"
`}
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc yaml.Node
		if yaml.Unmarshal(data, &doc) == nil {
			sources[f] = string(data)
		}
	}
	if len(sources) < 10 {
		t.Fatalf("only %d sources", len(sources))
	}
	for name, text := range sources {
		src := readYAMLSource([]byte(text))
		if m := src.firstMisindented(1); m != nil {
			t.Errorf("%s: line %d read as misindented: %s", name, m.line.n, m.hint())
		}
		for _, q := range src.quotes {
			if q.end == 0 || q.blockLike {
				t.Errorf("%s: quoted string at line %d read as left open", name, q.start)
			}
		}
		for _, f := range src.flows {
			t.Errorf("%s: %c at line %d read as left open", name, f.open, f.start)
		}
	}
}
