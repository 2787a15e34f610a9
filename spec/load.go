package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/clearbar/clearbar/catalog"
)

// Error is one problem in a spec, with where it is and what to change.
type Error struct {
	File string
	Line int
	Msg  string

	kind string // what a warning is about, when a reader needs to tell (see warnAt)
}

func (e *Error) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	case e.File != "":
		return e.File + ": " + e.Msg
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// Errors is every problem found in a spec, in line order. It is the error type Load and Parse
// return when a spec is invalid.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Options change how a spec is loaded. The zero value uses the embedded catalogue and today's
// date.
type Options struct {
	// Catalog resolves model prices; nil means catalog.Default().
	Catalog *catalog.Catalog
	// Today is the date overdue reviews and deprecated models are judged against; zero means
	// the current date.
	Today time.Time
	// ReadFile reads files the spec refers to (JSON schemas), by the path as resolved against
	// the spec's directory; nil means os.ReadFile. Specs embedded in the binary read from
	// their embedded file system.
	ReadFile func(path string) ([]byte, error)
}

func (o Options) readFile(path string) ([]byte, error) {
	if o.ReadFile != nil {
		return o.ReadFile(path)
	}
	return os.ReadFile(path)
}

func (o Options) catalog() *catalog.Catalog {
	if o.Catalog != nil {
		return o.Catalog
	}
	return catalog.Default()
}

func (o Options) today() time.Time {
	if !o.Today.IsZero() {
		return o.Today
	}
	return time.Now()
}

// Load reads, decodes, validates and resolves the spec in file. When the spec is invalid, the
// error is an [Errors] listing every problem as file:line: message.
func Load(file string, opts Options) (*Spec, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return Parse(data, file, opts)
}

// Parse is Load for a spec already in memory; file is used in messages and to find files the
// spec refers to (schemas), relative to its directory.
func Parse(data []byte, file string, opts Options) (*Spec, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && err != io.EOF {
		return nil, syntaxError(err, data, file)
	}
	if line := nextDocument(dec, data); line > 0 {
		return nil, Errors{{File: file, Line: line, Msg: "a second YAML document starts here, which the spec would leave unread: a spec is one document; remove this line to join the two, or move what follows into a file of its own"}}
	}
	if len(doc.Content) == 0 {
		return nil, Errors{{File: file, Msg: "the spec is empty: start with version: 1, name:, models: and categories:"}}
	}
	root := doc.Content[0]
	if errs := nullItems(root, file); len(errs) > 0 {
		return nil, errs
	}
	s := &Spec{}
	if err := root.Decode(s); err != nil {
		return nil, convertYAMLError(err, file, root)
	}
	s.File = file
	s.Catalog = opts.catalog()
	c := newChecker(s, opts)
	c.run()
	s.Warnings = c.warns
	if len(c.errs) > 0 {
		return s, c.errs
	}
	return s, nil
}

// nextDocument returns the line of the separator (--- or ...) that starts a YAML document after
// the one dec has read, when one follows with something in it; 0 when none does.
func nextDocument(dec *yaml.Decoder, data []byte) int {
	var next yaml.Node
	err := dec.Decode(&next)
	if err == io.EOF || err == nil && (len(next.Content) == 0 || isNull(next.Content[0])) {
		return 0
	}
	// The separator is the last one before what follows it (or before the error in it).
	end := math.MaxInt
	if err == nil {
		end = next.Content[0].Line
	} else if m := lineRE.FindStringSubmatch(err.Error()); m != nil {
		end, _ = strconv.Atoi(m[1])
	}
	sep := 0
	for i, l := range strings.Split(string(data), "\n") {
		if i+1 > end {
			break
		}
		if l = strings.TrimRight(l, " \t\r"); l == "---" || l == "..." || strings.HasPrefix(l, "--- ") {
			sep = i + 1
		}
	}
	if sep == 0 && end < math.MaxInt {
		sep = end // no separator on a line of its own: where the document is
	} else if sep == 0 {
		sep = 1
	}
	return sep
}

// lineRE matches a decode error's position: "line N: msg", or "line N col C: msg" for a value
// that does not read as its key needs (valueError).
var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+)(?: col (\d+))?: (.*)$`)

// convertYAMLError turns yaml.v3 errors ("line N: msg", possibly several) into Errors. Type
// errors are explained in the spec's terms, naming the key their value is written for when
// root, the decoded document, has one at the error's line (root may be nil).
func convertYAMLError(err error, file string, root *yaml.Node) Errors {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	var out Errors
	type at struct {
		Error
		col int
	}
	seen := map[at]bool{} // a mapping merged into several others reports its errors once
	doc := &docIndex{root: root}
	for _, m := range msgs {
		e := &Error{File: file, Msg: strings.TrimPrefix(m, "yaml: ")}
		col := 0
		if sub := lineRE.FindStringSubmatch(m); sub != nil {
			e.Line, _ = strconv.Atoi(sub[1])
			col, _ = strconv.Atoi(sub[2])
			e.Msg = sub[3]
		}
		if col > 0 {
			e.Msg = nameKey(e.Msg, doc, e.Line, col)
		} else {
			e.Msg = explainYAML(e.Msg, e.Line, doc)
		}
		if !seen[at{*e, col}] {
			seen[at{*e, col}] = true
			out = append(out, e)
		}
	}
	sortErrors(out)
	return out
}

// nameKey prefixes msg, an error about the value at line and col, with the key that value is
// written for, like "score.threshold: 1.5 is outside [0, 1]": the key, after the key of the
// mapping that holds it (not when that is a name the spec gives a model, provider or policy,
// which the line shows). msg is returned as it is when it names the key already, or when no
// key's value is there (an item of a list).
func nameKey(msg string, doc *docIndex, line, col int) string {
	var path []string
	for _, e := range doc.at(line) {
		if e.value.Column == col {
			path = e.keys
			break
		}
	}
	if len(path) == 0 {
		return msg
	}
	key := path[len(path)-1]
	if rest, ok := strings.CutPrefix(msg, key); ok && (strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, ":")) {
		return msg
	}
	if len(path) >= 2 && path[len(path)-2] != "" && path[len(path)-2] != "<<" {
		if len(path) < 3 || !slices.Contains([]string{"models", "providers", "policies"}, path[len(path)-3]) {
			key = path[len(path)-2] + "." + key
		}
	}
	return key + ": " + msg
}

// docIndex finds the entries of a document's mappings by the line of their values. It is built
// on first use, once for all of a spec's errors, however many.
type docIndex struct {
	root   *yaml.Node
	byLine map[int][]indexEntry
}

// indexEntry is one entry of a mapping: its key node, its value and the keys that lead to it
// from the root (a list item's as "").
type indexEntry struct {
	key, value *yaml.Node
	keys       []string
}

// at returns the entries whose value starts on line, each mapping's before those below it.
func (d *docIndex) at(line int) []indexEntry {
	if d == nil || d.root == nil {
		return nil
	}
	if d.byLine == nil {
		d.byLine = map[int][]indexEntry{}
		var walk func(n *yaml.Node, keys []string, depth int)
		walk = func(n *yaml.Node, keys []string, depth int) {
			if n == nil || depth > 100 || n.Kind == yaml.AliasNode {
				return
			}
			child := func(i int) []string {
				if n.Kind != yaml.MappingNode {
					return append(keys[:len(keys):len(keys)], "")
				}
				return append(keys[:len(keys):len(keys)], n.Content[i-1].Value)
			}
			if n.Kind == yaml.MappingNode {
				for i := 1; i < len(n.Content); i += 2 {
					k, v := n.Content[i-1], n.Content[i]
					d.byLine[v.Line] = append(d.byLine[v.Line], indexEntry{key: k, value: v, keys: child(i)})
				}
			}
			for i, c := range n.Content {
				if n.Kind == yaml.MappingNode && i%2 == 0 {
					continue
				}
				walk(c, child(i), depth+1)
			}
		}
		walk(d.root, nil, 0)
	}
	return d.byLine[line]
}

var (
	tabIndentRE     = regexp.MustCompile(`^[ \t]*\t`)
	unknownAnchorRE = regexp.MustCompile(`unknown anchor '([^']*)' referenced`)
)

// syntaxError converts a YAML syntax error, placing it on the line to change with what to
// change there, and yaml.v3's message after it: a tab in a line's indentation, which YAML
// does not allow (every such line at or after the error's is reported), an alias (*name) of an
// anchor (&name) that is not defined before it, and the others placeSyntaxError finds.
func syntaxError(err error, data []byte, file string) Errors {
	msg := err.Error()
	lines := strings.Split(string(data), "\n")
	if m := unknownAnchorRE.FindStringSubmatch(msg); m != nil {
		alias := regexp.MustCompile(`\*` + regexp.QuoteMeta(m[1]) + `([\s,\]}]|$)`)
		for i, l := range lines {
			if alias.MatchString(l) {
				return Errors{{File: file, Line: i + 1, Msg: fmt.Sprintf("*%s refers to no anchor: mark the value it stands for with &%s before this line, or write the value out here", m[1], m[1])}}
			}
		}
	}
	es := convertYAMLError(err, file, nil)
	original := " (" + msg + ")" // yaml.v3's own words, kept for whoever knows them
	var tabs Errors
	if strings.Contains(msg, "tab character") || strings.Contains(msg, "cannot start any token") {
		for i, l := range lines {
			if i+1 >= es[0].Line && tabIndentRE.MatchString(l) {
				tabs = append(tabs, &Error{File: file, Line: i + 1, Msg: "a tab indents this line: indent with spaces" + original})
			}
		}
	}
	if len(tabs) > 0 {
		return tabs
	}
	if len(es) != 1 {
		return es
	}
	line, hint, ok := placeSyntaxError(es[0].Msg, es[0].Line, data)
	if !ok {
		hint = "this does not read as YAML: check this line and the lines after it for indentation that differs from their neighbours', a key without ': ' after it, and a quote or bracket left open"
	}
	return Errors{{File: file, Line: line, Msg: hint + original}}
}

// unmarshalRE matches yaml.v3's type errors: "cannot unmarshal !!str `mini` into []spec.Ref".
var unmarshalRE = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (\\S+)$")

// duplicateKeyRE matches yaml.v3's error for a key written twice in one mapping.
var duplicateKeyRE = regexp.MustCompile(`^mapping key "(.*)" already defined at line (\d+)$`)

// explainYAML rewrites yaml.v3's Go-flavoured decode errors in the spec's terms. A type error
// says what kind of value is needed and, when the value is written for a key of root at line,
// how to write that key: fallback: mini becomes "fallback is a list: write fallback: [mini]".
func explainYAML(msg string, line int, doc *docIndex) string {
	if m := duplicateKeyRE.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("key %q is written twice in one mapping (first at line %s): remove one", m[1], m[2])
	}
	m := unmarshalRE.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	got, value, into := m[1], m[2], m[3]
	want, example := goKind(into)
	key, node := keyAt(doc, line, got, value)
	if node != nil && node.Kind == yaml.ScalarNode {
		value = node.Value // in full
	}
	gotText := map[string]string{"seq": "a list", "map": "a mapping", "str": "the text `" + value + "`",
		"int": "the number " + value, "float": "the number " + value}[got]
	if gotText == "" {
		gotText = "`" + value + "`"
	}
	if key == "" {
		return fmt.Sprintf("%s is written where %s is needed", gotText, want)
	}
	switch {
	case want == "a list" && got != "map":
		return fmt.Sprintf("%s is a list: write %s: [%s]", key, key, node.Value)
	case want == "a list" || want == "a mapping":
		return fmt.Sprintf("%s is %s, not %s: write %s: %s", key, want, gotText, key, example)
	case got == "seq":
		if len(node.Content) == 1 && node.Content[0].Kind == yaml.ScalarNode {
			example = node.Content[0].Value
		}
		return fmt.Sprintf("%s takes a single value (%s), not a list: write %s: %s", key, want, key, example)
	case got == "map":
		return fmt.Sprintf("%s takes a single value (%s), not a mapping: write %s: %s", key, want, key, example)
	case want == "a whole number" && got != "str" && integerRE.MatchString(value):
		// YAML reads a whole number too large for an int64 as a float.
		return fmt.Sprintf("%s %s is too large: write a whole number up to %s", key, value, groupDigits(math.MaxInt64))
	}
	return fmt.Sprintf("%s takes %s, not %s: write %s: %s", key, want, gotText, key, example)
}

// goKind describes the Go type a YAML value is decoded into, with an example of it.
func goKind(typ string) (want, example string) {
	switch {
	case strings.HasPrefix(typ, "[]"):
		return "a list", "[...]"
	case strings.HasPrefix(typ, "map["):
		return "a mapping", "{NAME: VALUE}"
	case typ == "string":
		return "text", "TEXT"
	case typ == "bool":
		return "true or false", "true"
	case typ == "float64" || typ == "float32":
		return "a number", "N"
	case strings.Contains(typ, "int"):
		return "a whole number", "N"
	}
	return "another kind of value", "VALUE"
}

// integerRE matches a whole number as written in YAML.
var integerRE = regexp.MustCompile(`^[-+]?[0-9][0-9_]*$`)

// keyAt finds the mapping key whose value is at line and of the kind yaml.v3 names (str, seq,
// map...), with that value (value may end in "...": yaml.v3 shortens long values), and returns
// the key and its value; "" when there is none.
func keyAt(doc *docIndex, line int, kind, value string) (string, *yaml.Node) {
	fits := func(v *yaml.Node) bool {
		switch {
		case kind == "seq":
			return v.Kind == yaml.SequenceNode
		case kind == "map":
			return v.Kind == yaml.MappingNode
		}
		prefix, cut := strings.CutSuffix(value, "...")
		return v.Kind == yaml.ScalarNode && (v.Value == value || cut && strings.HasPrefix(v.Value, prefix))
	}
	for _, e := range doc.at(line) {
		if e.key.Tag != "!!merge" && fits(e.value) {
			return e.key.Value, e.value
		}
	}
	return "", nil
}

func sortErrors(es Errors) { es.Sort() }

// Sort orders errors by line, keeping the order of those on one line.
func (es Errors) Sort() {
	slices.SortStableFunc(es, func(a, b *Error) int { return a.Line - b.Line })
}

// nullItems reports list items that are empty ("- " with nothing after it): they would decode
// as missing categories, steps or validators.
func nullItems(n *yaml.Node, file string) Errors {
	var out Errors
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if n == nil || depth > 100 {
			return
		}
		if n.Kind == yaml.SequenceNode {
			for _, item := range n.Content {
				if item.Kind == yaml.ScalarNode && item.Tag == "!!null" {
					out = append(out, &Error{File: file, Line: item.Line, Msg: "empty list item: fill it in or remove the dash"})
				}
			}
		}
		if n.Kind != yaml.AliasNode {
			for _, c := range n.Content {
				walk(c, depth+1)
			}
		}
	}
	walk(n, 0)
	return out
}
