package spec

import (
	"errors"
	"fmt"
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
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, convertYAMLError(err, file)
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
		return nil, tooLarge(convertYAMLError(err, file), root)
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

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// convertYAMLError turns yaml.v3 errors ("line N: msg", possibly several) into Errors.
func convertYAMLError(err error, file string) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	var out Errors
	seen := map[Error]bool{} // a mapping merged into several others reports its errors once
	for _, m := range msgs {
		e := &Error{File: file, Msg: strings.TrimPrefix(m, "yaml: ")}
		if sub := lineRE.FindStringSubmatch(m); sub != nil {
			e.Line, _ = strconv.Atoi(sub[1])
			e.Msg = sub[2]
		}
		e.Msg = friendlyYAML(e.Msg)
		if !seen[*e] {
			seen[*e] = true
			out = append(out, e)
		}
	}
	sortErrors(out)
	return out
}

// integerRE matches a whole number as written in YAML.
var integerRE = regexp.MustCompile(`^[-+]?[0-9][0-9_]*$`)

// tooLarge rewrites the errors of whole numbers too large for the setting they are written
// for: YAML reads such a number as a float, and the decode error would ask for a whole number.
func tooLarge(err error, root *yaml.Node) error {
	es, ok := err.(Errors)
	if !ok {
		return err
	}
	big := map[int]string{} // line → "key value"
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if n == nil || depth > 100 || n.Kind == yaml.AliasNode {
			return
		}
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if v.Kind != yaml.ScalarNode || !integerRE.MatchString(v.Value) {
					continue
				}
				if _, err := strconv.ParseInt(strings.ReplaceAll(v.Value, "_", ""), 10, 64); err != nil {
					big[v.Line] = k.Value + " " + v.Value
				}
			}
		}
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	walk(root, 0)
	for _, e := range es {
		if what, ok := big[e.Line]; ok && strings.Contains(e.Msg, "got the number") && strings.Contains(e.Msg, "(a whole number is needed)") {
			e.Msg = fmt.Sprintf("%s is too large: write a whole number up to %s", what, groupDigits(math.MaxInt64))
		}
	}
	return es
}

// friendlyYAML rewrites yaml.v3's Go-flavoured type errors in the spec's terms.
func friendlyYAML(msg string) string {
	r := strings.NewReplacer(
		"cannot unmarshal !!str", "expected a different kind of value, got the text",
		"cannot unmarshal !!seq", "expected a single value or mapping, got a list",
		"cannot unmarshal !!map", "expected a single value or list, got a mapping",
		"cannot unmarshal !!float", "expected a different kind of value, got the number",
		"cannot unmarshal !!int", "expected a different kind of value, got the number",
		"into int64", "(a whole number is needed)",
		"into int", "(a whole number is needed)",
		"into float64", "(a number is needed)",
		"into bool", "(true or false is needed)",
		"into string", "(text is needed)",
	)
	msg = r.Replace(msg)
	if i := strings.Index(msg, " into "); i > 0 && strings.Contains(msg[i:], "spec.") {
		msg = msg[:i]
	}
	return msg
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
