package spec

import (
	"fmt"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/textdist"
)

// This file holds the strict YAML machinery: unknown-key checks with line numbers (yaml.v3's
// KnownFields does not reach into custom unmarshalers), key positions for later semantic
// errors, and the scalar types of the spec (durations, probabilities, dates, money, prices,
// references, environment-expanded strings and secrets).

// Pos records where a mapping and each of its keys appear in the source file.
type Pos struct {
	Line int
	keys map[string]int
}

// Of returns the line of key in the mapping, or the mapping's own line if the key is absent.
func (p Pos) Of(key string) int {
	if l, ok := p.keys[key]; ok {
		return l
	}
	return p.Line
}

// Has reports whether the mapping set key explicitly.
func (p Pos) Has(key string) bool {
	_, ok := p.keys[key]
	return ok
}

// lineError formats one decode error the way yaml.v3 formats its own type errors, so that
// both kinds can be collected in a yaml.TypeError and turned into *Error values by the loader.
func lineError(line int, format string, args ...any) string {
	return fmt.Sprintf("line %d: %s", line, fmt.Sprintf(format, args...))
}

func typeError(line int, format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{lineError(line, format, args...)}}
}

// valueError is typeError for a value that does not read as its key needs, with the value's
// column, which the loader uses to name the key it is written for (see convertYAMLError): on
// a line like {detect: 1.5, false_alarm: 0.03}, the column tells the keys apart.
func valueError(node *yaml.Node, format string, args ...any) error {
	node = resolveAlias(node)
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d col %d: %s", node.Line, node.Column, fmt.Sprintf(format, args...))}}
}

// decodeStrict decodes a mapping node into out (a pointer to a struct), rejecting keys that the
// struct does not declare and recording key positions in pos. Errors are collected, not
// returned at the first, so a user sees every problem in one run.
func decodeStrict(node *yaml.Node, out any, pos *Pos, what string) error {
	node = resolveAlias(node)
	if node.Kind != yaml.MappingNode {
		return typeError(node.Line, "%s must be a mapping (key: value lines), not %s", what, describeNode(node))
	}
	if pos != nil {
		pos.Line = node.Line
		pos.keys = make(map[string]int, len(node.Content)/2)
	}
	known := yamlKeys(reflect.TypeOf(out).Elem())
	var errs []string
	for _, k := range mappingKeys(node) {
		if pos != nil {
			pos.keys[k.Value] = k.Line
		}
		if !slices.Contains(known, k.Value) {
			errs = append(errs, lineError(k.Line, "unknown key %q in %s%s", k.Value, what, suggest(k.Value, known)))
		}
	}
	if err := node.Decode(out); err != nil {
		errs = append(errs, typeErrors(err)...)
	}
	if len(errs) > 0 {
		return &yaml.TypeError{Errors: errs}
	}
	return nil
}

// mappingKeys returns the key nodes of a mapping, with those of the mappings it merges (a
// "<<: *anchor" or "<<: [*a, *b]" entry) in place of the merge key, as YAML reads them: an
// explicit key overrides a merged one, and an earlier merged mapping overrides a later one.
// A merged key's node is the anchor's, so an error in it names the line where it is written.
func mappingKeys(node *yaml.Node) []*yaml.Node {
	var keys, merged []*yaml.Node
	for i := 0; i+1 < len(node.Content); i += 2 {
		k, v := node.Content[i], resolveAlias(node.Content[i+1])
		if k.Kind != yaml.ScalarNode || k.Tag != "!!merge" {
			keys = append(keys, k)
			continue
		}
		sources := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			sources = v.Content
		}
		for _, src := range sources {
			if src = resolveAlias(src); src.Kind == yaml.MappingNode {
				merged = append(merged, mappingKeys(src)...)
			}
		}
	}
	for _, k := range merged {
		if !slices.ContainsFunc(keys, func(e *yaml.Node) bool { return e.Value == k.Value }) {
			keys = append(keys, k)
		}
	}
	return keys
}

// mergedOnPath returns an error when mapping m has key only through a mapping it merges: an
// edit below that key would add a mapping of its own to m, which would hide the merged one
// whole (a merge is shallow), so it is refused, saying where the key comes from.
func mergedOnPath(m *yaml.Node, key string) error {
	for _, k := range mappingKeys(m) {
		if k.Value == key {
			return fmt.Errorf("%s comes from the mapping merged at line %d: write %s out in the category to edit it", key, k.Line, key)
		}
	}
	return nil
}

func typeErrors(err error) []string {
	if te, ok := err.(*yaml.TypeError); ok {
		return te.Errors
	}
	return []string{err.Error()}
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func describeNode(n *yaml.Node) string {
	switch {
	case isNull(n):
		return "an empty value"
	case n.Kind == yaml.ScalarNode:
		return fmt.Sprintf("the value %q", n.Value)
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	}
	return "this"
}

// isNull reports whether n is an empty value: nothing after "key:", or null or ~.
func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// yamlKeys lists the keys a struct type accepts, following ",inline" fields.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			keys = append(keys, yamlKeys(ft)...)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		keys = append(keys, name)
	}
	return keys
}

// suggest returns ` (did you mean "x"?)` for the closest known key, or a list of the allowed
// keys when nothing is close.
func suggest(got string, known []string) string { return suggestFrom(got, known, "allowed keys") }

// suggestFrom is suggest with the noun for the list of known values.
func suggestFrom(got string, known []string, noun string) string {
	if best, ok := textdist.Closest(got, known); ok {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	if len(known) == 0 {
		return ""
	}
	return fmt.Sprintf("; %s: %s", noun, strings.Join(known, ", "))
}

func scalar(node *yaml.Node, what string) (string, error) {
	node = resolveAlias(node)
	if node.Kind != yaml.ScalarNode {
		return "", valueError(node, "%s must be a single value, not %s", what, describeNode(node))
	}
	return node.Value, nil
}

// Ref is a reference by name to a model or provider declared elsewhere in the spec. It keeps
// its line so that a dangling reference is reported where it is written.
type Ref struct {
	Name string
	Line int
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (r *Ref) UnmarshalYAML(node *yaml.Node) error {
	v, err := scalar(node, "a model or provider name")
	if err != nil {
		return err
	}
	if strings.TrimSpace(v) == "" {
		return valueError(node, "empty name: write the name of a model declared under models:")
	}
	r.Name, r.Line = v, node.Line
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (r Ref) MarshalText() ([]byte, error) { return []byte(r.Name), nil }

func (r Ref) String() string { return r.Name }

// Duration is a time span written with a unit: "800ms", "1.5s", "2m".
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(node *yaml.Node) error {
	v, err := scalar(node, "a duration")
	if err != nil {
		return err
	}
	parsed, err := ParseDuration(v)
	if err != nil {
		return valueError(node, "%v", err)
	}
	*d = Duration(parsed)
	return nil
}

// ParseDuration parses a non-negative duration with a unit, with an error that says how to fix
// a missing unit.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return 0, fmt.Errorf("duration %q has no unit: write %ss or %sms", s, s, s)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: write a number with a unit, like 800ms, 1.5s or 2m", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("invalid duration %q: durations cannot be negative", s)
	}
	return d, nil
}

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(FormatDuration(time.Duration(d))), nil }

// FormatDuration writes a duration compactly: "800ms", "1.5s", "2m30s", "1m", "2h".
func FormatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d < time.Millisecond:
		return d.String()
	case d < time.Second:
		return decimal(int64(d), int64(time.Millisecond), 6) + "ms"
	case d < time.Minute:
		return decimal(int64(d), int64(time.Second), 9) + "s"
	}
	// Whole minutes and hours without the zero units Duration.String writes: "1m", not "1m0s".
	s := d.String()
	if t, ok := strings.CutSuffix(s, "m0s"); ok {
		s = t + "m"
		if t, ok := strings.CutSuffix(s, "h0m"); ok {
			s = t + "h"
		}
	}
	return s
}

// decimal writes n/unit exactly in decimal, unit being 10^digits: 1_777_000_000 ns in
// seconds is "1.777", where float division would print 1.7770000000000001.
func decimal(n, unit int64, digits int) string {
	whole, frac := strconv.FormatInt(n/unit, 10), n%unit
	if frac == 0 {
		return whole
	}
	f := strconv.FormatInt(frac, 10)
	f = strings.Repeat("0", digits-len(f)) + f
	return whole + "." + strings.TrimRight(f, "0")
}

// Prob is a probability or rate in [0, 1]. It may be written as a fraction (0.96) or a
// percentage ("96%").
type Prob float64

// UnmarshalYAML implements yaml.Unmarshaler.
func (p *Prob) UnmarshalYAML(node *yaml.Node) error {
	v, err := scalar(node, "a probability")
	if err != nil {
		return err
	}
	f, err := ParseProb(v)
	if err != nil {
		return valueError(node, "%v", err)
	}
	*p = Prob(f)
	return nil
}

// ParseProb parses "0.96" or "96%" and checks the range [0, 1].
func ParseProb(s string) (float64, error) {
	t := strings.TrimSpace(s)
	scale := 1.0
	if strings.HasSuffix(t, "%") {
		t, scale = strings.TrimSpace(strings.TrimSuffix(t, "%")), 100
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%q is not a probability: write a number between 0 and 1, like 0.95, or a percentage, like 95%%", s)
	}
	if scale != 1 {
		// 96.7% is the decimal 0.967: read as written (96.7e-2), not 96.7/100, which is
		// 0.9670000000000001.
		if g, err := strconv.ParseFloat(t+"e-2", 64); err == nil {
			f = g
		} else {
			f /= scale
		}
	}
	if f < 0 || f > 1 {
		return 0, fmt.Errorf("%s is outside [0, 1]: write a probability between 0 and 1 (0.95 means 95%%)", s)
	}
	return f, nil
}

// Date is a calendar date written as YYYY-MM-DD.
type Date struct{ time.Time }

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Date) UnmarshalYAML(node *yaml.Node) error {
	v, err := scalar(node, "a date")
	if err != nil {
		return err
	}
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(v))
	if err != nil {
		return valueError(node, "invalid date %q: write YYYY-MM-DD, like 2026-11-01", v)
	}
	d.Time = t
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// MarshalYAML implements yaml.Marshaler: a date is written bare, 2026-11-27, as people write
// it in a spec, not quoted as a string.
func (d Date) MarshalYAML() (any, error) {
	if d.IsZero() {
		return "", nil
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!timestamp", Value: d.String()}, nil
}

func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Format(time.DateOnly)
}

// Cadence is how often a routing policy is reviewed: weekly, monthly, quarterly, yearly, or a
// number of days or weeks ("45d", "6w").
type Cadence struct {
	Days, Months int
	text         string
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *Cadence) UnmarshalYAML(node *yaml.Node) error {
	v, err := scalar(node, "a review cadence")
	if err != nil {
		return err
	}
	parsed, err := ParseCadence(v)
	if err != nil {
		return valueError(node, "%v", err)
	}
	*c = parsed
	return nil
}

var cadenceRE = regexp.MustCompile(`^(\d+)\s*([dw])$`)

// ParseCadence parses a review cadence.
func ParseCadence(s string) (Cadence, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	switch t {
	case "weekly":
		return Cadence{Days: 7, text: t}, nil
	case "monthly":
		return Cadence{Months: 1, text: t}, nil
	case "quarterly":
		return Cadence{Months: 3, text: t}, nil
	case "yearly":
		return Cadence{Months: 12, text: t}, nil
	}
	if m := cadenceRE.FindStringSubmatch(t); m != nil {
		n, _ := strconv.Atoi(m[1])
		if n > 0 {
			if m[2] == "w" {
				n *= 7
			}
			return Cadence{Days: n, text: t}, nil
		}
	}
	return Cadence{}, fmt.Errorf("invalid review cadence %q: write weekly, monthly, quarterly, yearly, or a number of days or weeks like 45d or 6w", s)
}

// IsZero reports whether no cadence was set.
func (c Cadence) IsZero() bool { return c.Days == 0 && c.Months == 0 }

// Next returns the date a review is due after one done on last.
func (c Cadence) Next(last time.Time) time.Time { return last.AddDate(0, c.Months, c.Days) }

func (c Cadence) String() string { return c.text }

// MarshalText implements encoding.TextMarshaler.
func (c Cadence) MarshalText() ([]byte, error) { return []byte(c.text), nil }

// USD is a dollar amount in the spec ("0.50", "$0.50").
type USD clearbar.Money

// UnmarshalYAML implements yaml.Unmarshaler.
func (m *USD) UnmarshalYAML(node *yaml.Node) error {
	v, err := scalar(node, "an amount in dollars")
	if err != nil {
		return err
	}
	parsed, err := clearbar.ParseMoney(v)
	if err != nil {
		return valueError(node, "%v", err)
	}
	if parsed < 0 {
		return valueError(node, "amount %s is negative: write a cost of zero or more", v)
	}
	*m = USD(parsed)
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (m USD) MarshalText() ([]byte, error) { return []byte(clearbar.Money(m).String()), nil }

// PerMillion is a token price in the spec, in dollars per million tokens ("0.15", "$2.50").
type PerMillion clearbar.Price

// UnmarshalYAML implements yaml.Unmarshaler.
func (p *PerMillion) UnmarshalYAML(node *yaml.Node) error {
	v, err := scalar(node, "a price in dollars per million tokens")
	if err != nil {
		return err
	}
	parsed, err := clearbar.ParsePrice(v)
	if err != nil {
		return valueError(node, "%v", err)
	}
	*p = PerMillion(parsed)
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (p PerMillion) MarshalText() ([]byte, error) {
	return []byte(strconv.FormatFloat(clearbar.Price(p).PerMillion(), 'f', -1, 64)), nil
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// expandEnv replaces ${NAME} and ${NAME:-default} with values from lookup and reports the
// names that were unset and had no default.
func expandEnv(s string, lookup func(string) (string, bool)) (string, []string) {
	var unset []string
	out := envRef.ReplaceAllStringFunc(s, func(m string) string {
		sub := envRef.FindStringSubmatch(m)
		if v, ok := lookup(sub[1]); ok && v != "" {
			return v
		}
		if sub[2] != "" {
			return sub[3]
		}
		unset = append(unset, sub[1])
		return ""
	})
	return out, unset
}

// EnvString is a string that may reference environment variables as ${NAME} or
// ${NAME:-default}; they are expanded when the spec is loaded. Raw keeps what was written.
type EnvString struct {
	Value string
	Raw   string
	Unset []string // variables that were referenced but not set
	Line  int
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (e *EnvString) UnmarshalYAML(node *yaml.Node) error {
	v, err := scalar(node, "a string")
	if err != nil {
		return err
	}
	e.Raw, e.Line = v, node.Line
	e.Value, e.Unset = expandEnv(v, os.LookupEnv)
	return nil
}

// MarshalText implements encoding.TextMarshaler; it writes what the spec says, not the
// expanded value.
func (e EnvString) MarshalText() ([]byte, error) { return []byte(e.Raw), nil }

// SecretRef is a credential in the spec, normally "${OPENAI_API_KEY}". A literal value is
// accepted but warned about.
type SecretRef struct {
	clearbar.Secret
	Literal bool // the value was written into the file rather than referenced
	Unset   []string
	Line    int
}

var wholeEnvRef = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$`)

// UnmarshalYAML implements yaml.Unmarshaler.
func (s *SecretRef) UnmarshalYAML(node *yaml.Node) error {
	v, err := scalar(node, "a secret")
	if err != nil {
		return err
	}
	s.Line = node.Line
	v = strings.TrimSpace(v)
	if m := wholeEnvRef.FindStringSubmatch(v); m != nil {
		val, _ := os.LookupEnv(m[1])
		s.Secret = clearbar.SecretFromEnv(m[1], val)
		if val == "" {
			s.Unset = []string{m[1]}
		}
		return nil
	}
	expanded, unset := expandEnv(v, os.LookupEnv)
	s.Secret, s.Unset = clearbar.NewSecret(expanded), unset
	s.Literal = !envRef.MatchString(v)
	return nil
}

// MarshalText implements encoding.TextMarshaler with the redacted form.
func (s SecretRef) MarshalText() ([]byte, error) { return s.Secret.MarshalText() }
