package worksheet

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/clearbar/clearbar/spec"
)

// A validation rule cell is the validators' summaries joined with "; ". A summary leaves out
// some settings (a judge's rubric, restricted phrases, an inline schema), so the rule cannot
// always be turned back into validators. rebuildValidators reads back the parts it can: each
// candidate is decoded by the spec package and kept only if its summary is the part's text
// exactly, so a rebuilt validator always exports as the same rule.
//
// A worksheet written by hand words its rules its own way ("max length 2000", "json schema",
// "required fields: id, total"). A part that is no summary is read as one when it is a
// common wording of a validator whose settings it holds in full (see looseRules); such a
// part exports as the summary, not as written.

// rebuiltRule is a validation rule read back: validators as YAML flow mappings, the parts
// that could not be rebuilt (missing lists the schema files among them that were not found),
// the parts read as another wording of a summary, as "part → summary", and whether a
// rebuilt validator names a schema file.
type rebuiltRule struct {
	validators []string
	unknown    []string
	loose      []string
	missing    []string
	schemaFile bool
}

// rebuildValidators reads a validation rule back. schemaFound, if not nil, says whether a
// json_schema file path names a usable schema; a path it rejects is not rebuilt.
func rebuildValidators(rule string, schemaFound func(path string) bool) rebuiltRule {
	var out rebuiltRule
	rule = strings.TrimSpace(rule)
	if rule == "" {
		return out
	}
	var parts []string
	for part := range strings.SplitSeq(rule, "; ") {
		// A hand-written rule may separate its parts with a semicolon alone ("json
		// schema;max length 2000"); a part is split there only when every piece reads back,
		// so that a regex with a semicolon in it is kept whole.
		if _, ok := readPart(strings.TrimSpace(part)); !ok && strings.Contains(part, ";") {
			pieces := strings.Split(part, ";")
			if !slices.ContainsFunc(pieces, func(p string) bool { _, ok := readPart(strings.TrimSpace(p)); return !ok }) {
				parts = append(parts, pieces...)
				continue
			}
		}
		parts = append(parts, part)
	}
	for _, part := range parts {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		y, ok := rebuildPart(part)
		if !ok {
			if summary, found := looseSummary(part); found {
				if y, ok = rebuildPart(summary); ok {
					out.loose = append(out.loose, part+" → "+summary)
					part = summary
				}
			}
		}
		if !ok {
			out.unknown = append(out.unknown, part)
			continue
		}
		if path, ok := strings.CutPrefix(part, "JSON Schema "); ok && part != "JSON Schema from the request" {
			if schemaFound != nil && !schemaFound(path) {
				out.unknown = append(out.unknown, part)
				out.missing = append(out.missing, path)
				continue
			}
			out.schemaFile = true
		}
		out.validators = append(out.validators, y)
	}
	return out
}

// readPart returns the validator a rule part stands for, as its summary or in a common
// wording of it, as YAML.
func readPart(part string) (string, bool) {
	if y, ok := rebuildPart(part); ok || part == "" {
		return y, ok
	}
	if summary, found := looseSummary(part); found {
		return rebuildPart(summary)
	}
	return "", false
}

// rebuildPart returns the validator whose summary is part exactly, as YAML.
func rebuildPart(part string) (string, bool) {
	y, ok := validatorYAML(part)
	return y, ok && summaryOf(y) == part
}

// looseRules are common wordings of validator summaries in hand-written worksheets: each
// pattern (matched against the whole part, case-insensitive) and the summary it stands for,
// with $1 the pattern's first group as written.
var looseRules = []struct {
	re      *regexp.Regexp
	summary string
}{
	{looseRE(`(?:max(?:imum)?(?:[ _]length)?|length ?(?:<=|≤)|<=|≤|at most|up to):? ?(\d+)(?: ?(?:chars?|characters))?`), "at most $1 characters"},
	{looseRE(`(?:max(?:imum)?(?:[ _]length)?|length ?(?:<=|≤)|<=|≤|at most|up to):? ?(\d+) ?tokens?`), "length at most $1 tokens"},
	{looseRE(`(?:min(?:imum)?(?:[ _]length)?|length ?(?:>=|≥)|>=|≥|at least):? ?(\d+)(?: ?(?:chars?|characters))?`), "length at least $1 characters"},
	{looseRE(`(?:min(?:imum)?(?:[ _]length)?|length ?(?:>=|≥)|>=|≥|at least):? ?(\d+) ?tokens?`), "length at least $1 tokens"},
	{looseRE(`(?:json[ _-]?schema|schema)(?: (?:from )?(?:the )?(?:request|response_format))?`), "JSON Schema from the request"},
	{looseRE(`(?:json[ _-]?schema|schema):? (\S+\.json)`), "JSON Schema $1"},
	{looseRE(`(?:citations?(?: required)?|must cite(?: the)?(?: supplied)? sources)`), "citations required, to supplied sources"},
	{looseRE(`(?:tool[ _]calls?:? required|valid tool call|must call a tool)`), "valid tool call required"},
	{looseRE(`(?:tool[ _]calls?:? none|no tool calls?)`), "no tool calls"},
	{looseRE(`no refusals?`), "no refusal"},
	{looseRE(`(?:refusals?|refusal check)`), "no refusal or mismatch"},
	{looseRE(`(?:regex|must match|matches):? /(.+)/`), "regex: matches /$1/"},
}

func looseRE(pattern string) *regexp.Regexp { return regexp.MustCompile(`(?i)^` + pattern + `$`) }

// requiredFieldsRE is the common wording of a required fields validator: "required fields:
// a, b", "required: a,b".
var requiredFieldsRE = looseRE(`(?:required[ _]fields?:?|required:) (.+)`)

// looseSummary reads a hand-written rule part as the summary it stands for (see looseRules),
// or reports false. Spaces are collapsed and a final full stop is ignored.
func looseSummary(part string) (string, bool) {
	part = strings.TrimSuffix(strings.Join(strings.Fields(part), " "), ".")
	for _, r := range looseRules {
		if m := r.re.FindStringSubmatchIndex(part); m != nil {
			return string(r.re.ExpandString(nil, r.summary, part, m)), true
		}
	}
	if m := requiredFieldsRE.FindStringSubmatch(part); m != nil {
		var fields []string
		for f := range strings.SplitSeq(m[1], ",") {
			if f = strings.TrimSpace(f); f != "" {
				fields = append(fields, f)
			}
		}
		return "required fields " + strings.Join(fields, ", "), len(fields) > 0
	}
	return "", false
}

// summaryOf decodes a validator written as YAML and returns its summary, or "" if it does not
// decode.
func summaryOf(y string) (summary string) {
	defer func() {
		if recover() != nil {
			summary = ""
		}
	}()
	var v spec.Validator
	if err := yaml.Unmarshal([]byte(y), &v); err != nil || v.Config == nil {
		return ""
	}
	return v.Summary()
}

var (
	maxLengthRE  = regexp.MustCompile(`^at most (\d+) characters$`)
	lengthPartRE = regexp.MustCompile(`^(?:(\d+)–(\d+)|at least (\d+)|at most (\d+)) (characters|tokens)$`)
)

// validatorYAML guesses the validator whose summary is part.
func validatorYAML(part string) (string, bool) {
	switch part {
	case "JSON Schema from the request":
		return "{json_schema: request}", true
	case "JSON Schema (inline)":
		return "", false
	case "citations required, to supplied sources":
		return "{citations: true}", true
	case "citations, if any, to supplied sources":
		return "{citations: false}", true
	case "no tool calls":
		return "{tool_calls: none}", true
	case "tool calls, if any, valid":
		return "{tool_calls: allowed}", true
	case "valid tool call required":
		return "{tool_calls: required}", true
	case "no refusal or mismatch":
		return "{refusal: true}", true
	case "no refusal":
		return "{refusal: {mismatch: false}}", true
	}
	if m := maxLengthRE.FindStringSubmatch(part); m != nil {
		return "{max_length: " + m[1] + "}", true
	}
	if path, ok := strings.CutPrefix(part, "JSON Schema "); ok {
		return "{json_schema: " + yamlString(path) + "}", true
	}
	if fields, ok := strings.CutPrefix(part, "required fields "); ok {
		return "{required_fields: " + yamlList(strings.Split(fields, ", ")) + "}", true
	}
	if rest, ok := strings.CutPrefix(part, "regex: "); ok {
		return regexYAML(rest)
	}
	if rest, ok := strings.CutPrefix(part, "length "); ok {
		return lengthYAML(rest)
	}
	return "", false
}

// regexYAML reads "matches /a/, does not match /b/" back into must and must_not patterns. A
// pattern may itself contain ", ", so pieces that do not start a new clause are joined back.
func regexYAML(s string) (string, bool) {
	var clauses []string
	for piece := range strings.SplitSeq(s, ", ") {
		if len(clauses) > 0 && !strings.HasPrefix(piece, "matches /") && !strings.HasPrefix(piece, "does not match /") {
			clauses[len(clauses)-1] += ", " + piece
			continue
		}
		clauses = append(clauses, piece)
	}
	var must, mustNot []string
	for _, c := range clauses {
		switch {
		case strings.HasPrefix(c, "matches /") && strings.HasSuffix(c, "/") && len(c) >= len("matches //"):
			must = append(must, strings.TrimSuffix(strings.TrimPrefix(c, "matches /"), "/"))
		case strings.HasPrefix(c, "does not match /") && strings.HasSuffix(c, "/") && len(c) >= len("does not match //"):
			mustNot = append(mustNot, strings.TrimSuffix(strings.TrimPrefix(c, "does not match /"), "/"))
		default:
			return "", false
		}
	}
	for _, p := range append(append([]string{}, must...), mustNot...) {
		if _, err := regexp.Compile(p); err != nil {
			return "", false
		}
	}
	var parts []string
	if len(must) > 0 {
		parts = append(parts, "must: "+yamlList(must))
	}
	if len(mustNot) > 0 {
		parts = append(parts, "must_not: "+yamlList(mustNot))
	}
	return "{regex: {" + strings.Join(parts, ", ") + "}}", true
}

// lengthYAML reads "10–200 characters, at most 50 tokens" back into length bounds.
func lengthYAML(s string) (string, bool) {
	var parts []string
	for piece := range strings.SplitSeq(s, ", ") {
		m := lengthPartRE.FindStringSubmatch(piece)
		if m == nil {
			return "", false
		}
		unit := "chars"
		if m[5] == "tokens" {
			unit = "tokens"
		}
		switch {
		case m[1] != "":
			parts = append(parts, "min_"+unit+": "+m[1], "max_"+unit+": "+m[2])
		case m[3] != "":
			parts = append(parts, "min_"+unit+": "+m[3])
		default:
			parts = append(parts, "max_"+unit+": "+m[4])
		}
	}
	return "{length: {" + strings.Join(parts, ", ") + "}}", true
}

var plainRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_./-]*$`)

// yamlString writes s as a YAML scalar: plain when that is unambiguous, else double-quoted
// (Go's escapes are a subset of YAML's).
func yamlString(s string) string {
	if plainRE.MatchString(s) {
		switch strings.ToLower(s) {
		case "true", "false", "yes", "no", "on", "off", "y", "n", "null":
		default:
			return s
		}
	}
	return strconv.Quote(s)
}

func yamlList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = yamlString(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
