package spec

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// UnmarshalYAML methods for the spec's structured types. Each follows the same pattern: set
// defaults, decode strictly through a "plain" alias (which has no methods, so decoding does
// not recurse), and keep key positions for the validation pass.

// UnmarshalYAML implements yaml.Unmarshaler.
func (s *Spec) UnmarshalYAML(node *yaml.Node) error {
	type plain Spec
	return decodeStrict(node, (*plain)(s), &s.pos, "the spec")
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (r *Review) UnmarshalYAML(node *yaml.Node) error {
	type plain Review
	return decodeStrict(node, (*plain)(r), &r.pos, "review")
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (v *Volume) UnmarshalYAML(node *yaml.Node) error {
	type plain Volume
	return decodeStrict(node, (*plain)(v), &v.pos, "volume")
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (r *Retry) UnmarshalYAML(node *yaml.Node) error {
	type plain Retry
	return decodeStrict(node, (*plain)(r), &r.pos, "retry")
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (p *Provider) UnmarshalYAML(node *yaml.Node) error {
	type plain Provider
	return decodeStrict(node, (*plain)(p), &p.pos, "provider")
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (t *Test) UnmarshalYAML(node *yaml.Node) error {
	type plain Test
	return decodeStrict(node, (*plain)(t), &t.pos, "test")
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (t *TestExpect) UnmarshalYAML(node *yaml.Node) error {
	type plain TestExpect
	return decodeStrict(node, (*plain)(t), &t.pos, "expect")
}

// UnmarshalYAML implements yaml.Unmarshaler: the YAML value is converted to JSON.
func (j *JSONValue) UnmarshalYAML(node *yaml.Node) error {
	j.Line = resolveAlias(node).Line
	var v any
	if err := node.Decode(&v); err != nil {
		return err
	}
	b, err := json.Marshal(normalizeYAML(v))
	if err != nil {
		return typeError(j.Line, "this value cannot be written as JSON: %v", err)
	}
	j.JSON = b
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (r *ScoreRoute) UnmarshalYAML(node *yaml.Node) error {
	type plain ScoreRoute
	return decodeStrict(node, (*plain)(r), &r.pos, "score")
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (h *Heuristic) UnmarshalYAML(node *yaml.Node) error {
	type plain Heuristic
	return decodeStrict(node, (*plain)(h), &h.pos, "heuristic")
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (m *ScoreMix) UnmarshalYAML(node *yaml.Node) error {
	type plain ScoreMix
	return decodeStrict(node, (*plain)(m), &m.pos, "score mix")
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (sh *Shadow) UnmarshalYAML(node *yaml.Node) error {
	type plain Shadow
	return decodeStrict(node, (*plain)(sh), &sh.pos, "shadow")
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Drift) UnmarshalYAML(node *yaml.Node) error {
	type plain Drift
	return decodeStrict(node, (*plain)(d), &d.pos, "drift")
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (m *Match) UnmarshalYAML(node *yaml.Node) error {
	type plain Match
	return decodeStrict(node, (*plain)(m), &m.pos, "match")
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (k *Keys) UnmarshalYAML(node *yaml.Node) error {
	type plain Keys
	if err := decodeStrict(node, (*plain)(k), &k.pos, "keys"); err != nil {
		return err
	}
	node = resolveAlias(node)
	for i := 0; i+1 < len(node.Content); i += 2 {
		if v := resolveAlias(node.Content[i+1]); node.Content[i].Value == "admin" && v.Kind == yaml.SequenceNode {
			k.adminLines = k.adminLines[:0]
			for _, item := range v.Content {
				k.adminLines = append(k.adminLines, item.Line)
			}
		}
	}
	return nil
}

// adminLine returns the line of the i-th admin key hash, or that of admin: when unknown.
func (k *Keys) adminLine(i int) int {
	if i < len(k.adminLines) {
		return k.adminLines[i]
	}
	return k.pos.Of("admin")
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (k *ClientKey) UnmarshalYAML(node *yaml.Node) error {
	type plain ClientKey
	return decodeStrict(node, (*plain)(k), &k.pos, "client key")
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (s *Server) UnmarshalYAML(node *yaml.Node) error {
	type plain Server
	return decodeStrict(node, (*plain)(s), &s.pos, "server")
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (s *Simulate) UnmarshalYAML(node *yaml.Node) error {
	type plain Simulate
	return decodeStrict(node, (*plain)(s), &s.pos, "simulate")
}

// UnmarshalYAML implements yaml.Unmarshaler. Its token limits are token counts, written like
// the category's tokens: 128000, 128_000 or 128k.
func (m *Model) UnmarshalYAML(node *yaml.Node) error {
	type plain Model
	node, errs := tokenLimits(node, "context_window", "max_output")
	if err := decodeStrict(node, (*plain)(m), &m.pos, "model"); err != nil {
		errs = append(errs, typeErrors(err)...)
	}
	if len(errs) > 0 {
		return &yaml.TypeError{Errors: errs}
	}
	return nil
}

// tokenLimits returns a copy of a mapping node whose values under keys, token counts like 128k,
// are rewritten as the whole numbers they stand for, with an error for each that is not one.
func tokenLimits(node *yaml.Node, keys ...string) (*yaml.Node, []string) {
	node = resolveAlias(node)
	if node.Kind != yaml.MappingNode {
		return node, nil
	}
	cp := *node
	cp.Content = slices.Clone(node.Content)
	var errs []string
	for i := 0; i+1 < len(cp.Content); i += 2 {
		k, v := cp.Content[i], resolveAlias(cp.Content[i+1])
		if !slices.Contains(keys, k.Value) || v.Kind != yaml.ScalarNode {
			continue
		}
		n, err := parseWholeTokens(v.Value)
		if err != nil {
			errs = append(errs, lineError(v.Line, "%s: %v", k.Value, err))
			cp.Content = slices.Delete(cp.Content, i, i+2)
			i -= 2
			continue
		}
		nv := *v
		nv.Tag, nv.Value, nv.Style = "!!int", strconv.Itoa(int(n)), 0
		cp.Content[i+1] = &nv
	}
	return &cp, errs
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (p *PriceOverride) UnmarshalYAML(node *yaml.Node) error {
	type plain PriceOverride
	if err := decodeStrict(node, (*plain)(p), &p.pos, "price"); err != nil {
		return err
	}
	p.written = scalarValues(node)
	return nil
}

// scalarValues returns the text of each scalar value of a mapping node, by key.
func scalarValues(node *yaml.Node) map[string]string {
	node = resolveAlias(node)
	out := map[string]string{}
	for i := 0; i+1 < len(node.Content); i += 2 {
		if v := resolveAlias(node.Content[i+1]); v.Kind == yaml.ScalarNode {
			out[node.Content[i].Value] = v.Value
		}
	}
	return out
}

// UnmarshalYAML implements yaml.Unmarshaler: "none" or a mapping.
func (l *LongContextPrice) UnmarshalYAML(node *yaml.Node) error {
	if n := resolveAlias(node); n.Kind == yaml.ScalarNode && n.Value == "none" {
		*l = LongContextPrice{None: true, pos: Pos{Line: n.Line}}
		return nil
	}
	type plain LongContextPrice
	if err := decodeStrict(node, (*plain)(l), &l.pos, "long_context"); err != nil {
		return err
	}
	l.written = scalarValues(node)
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (t *TokenCount) UnmarshalYAML(node *yaml.Node) error {
	v, err := scalar(node, "a number of tokens")
	if err != nil {
		return err
	}
	if *t, err = parseWholeTokens(v); err != nil {
		return valueError(node, "%v", err)
	}
	return nil
}

// parseWholeTokens reads a whole token count, like 200000, 200_000 or 200k, up to MaxTokens.
func parseWholeTokens(s string) (TokenCount, error) {
	f, err := parseTokenCount(s)
	switch {
	case f > MaxTokens:
		return 0, err
	case err != nil || f != math.Trunc(f):
		return 0, fmt.Errorf("%q is not a whole number of tokens: write one like 200000 or 200k", s)
	}
	return TokenCount(f), nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (l *Latency) UnmarshalYAML(node *yaml.Node) error {
	type plain Latency
	return decodeStrict(node, (*plain)(l), &l.pos, "latency")
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (q *Quantiles) UnmarshalYAML(node *yaml.Node) error {
	type plain Quantiles
	return decodeStrict(node, (*plain)(q), &q.pos, "ttft")
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *Category) UnmarshalYAML(node *yaml.Node) error {
	type plain Category
	return decodeStrict(node, (*plain)(c), &c.pos, "category")
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (p *Pipeline) UnmarshalYAML(node *yaml.Node) error {
	type plain Pipeline
	return decodeStrict(node, (*plain)(p), &p.pos, "pipeline")
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (t *Tokens) UnmarshalYAML(node *yaml.Node) error {
	type plain Tokens
	return decodeStrict(node, (*plain)(t), &t.pos, "tokens")
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (i *Impact) UnmarshalYAML(node *yaml.Node) error {
	type plain Impact
	return decodeStrict(node, (*plain)(i), &i.pos, "failure_impact")
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (r *Route) UnmarshalYAML(node *yaml.Node) error {
	type plain Route
	if n := resolveAlias(node); n.Kind == yaml.ScalarNode && n.Tag != "!!null" && strings.TrimSpace(n.Value) != "" {
		return typeError(n.Line, "route must be a mapping, not the value %q: write route: {model: %s} to send every request to %s (or route: {cascade: [%s, STRONGER], validate: [...]} to escalate)", n.Value, n.Value, n.Value, n.Value)
	} else if n.Kind == yaml.SequenceNode {
		var names []string
		for _, it := range n.Content {
			if it = resolveAlias(it); it.Kind != yaml.ScalarNode {
				names = nil
				break
			}
			names = append(names, it.Value)
		}
		switch len(names) {
		case 0:
		case 1:
			return typeError(n.Line, "route must be a mapping, not a list: write route: {model: %s} to send every request to %s", names[0], names[0])
		default:
			return typeError(n.Line, "route must be a mapping, not a list: write route: {cascade: [%s], validate: [...]} to try the models in order, escalating answers that fail validation, or route: {model: %s} with fallback: [%s] to fail over on provider errors", strings.Join(names, ", "), names[0], strings.Join(names[1:], ", "))
		}
	}
	return decodeValidated(node, (*plain)(r), &r.pos, "route")
}

// decodeValidated is decodeStrict for a mapping with a validate: list (a route, a cascade
// step), whose error, when validate is not a list, says what a validator looks like.
func decodeValidated(node *yaml.Node, out any, pos *Pos, what string) error {
	rest, v := splitKey(node, "validate")
	if v == nil {
		return decodeStrict(node, out, pos, what)
	}
	v = resolveAlias(v)
	if v.Kind == yaml.SequenceNode || v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return decodeStrict(node, out, pos, what)
	}
	var errs []string
	if err := decodeStrict(rest, out, pos, what); err != nil {
		errs = append(errs, typeErrors(err)...)
	}
	if pos != nil && pos.keys != nil {
		if lines := keyLinesOf(resolveAlias(node)); lines != nil {
			pos.keys["validate"] = lines["validate"]
		}
	}
	const shape = "validate is a list, and each validator in it is a mapping like {json_schema: FILE} or {max_length: 200}"
	switch _, kind := validatorKinds[v.Value]; {
	case v.Kind == yaml.ScalarNode && kind:
		settings := "SETTINGS"
		if v.Value == "json_schema" {
			settings = "FILE"
		}
		errs = append(errs, lineError(v.Line, "validate: %s names a validator kind without its settings: %s; write validate: [{%s: %s}]", v.Value, shape, v.Value, settings))
	case v.Kind == yaml.ScalarNode:
		errs = append(errs, lineError(v.Line, "validate: %q is not a list of validators: %s; write validate: [{json_schema: FILE}]", v.Value, shape))
	default:
		errs = append(errs, lineError(v.Line, "validate is a list, not %s: write validate: [{KIND: SETTINGS}], each validator a mapping like {json_schema: FILE} or {max_length: 200}", describeNode(v)))
	}
	return &yaml.TypeError{Errors: errs}
}

// keyLinesOf returns the line of every key of a mapping node.
func keyLinesOf(node *yaml.Node) map[string]int {
	if node.Kind != yaml.MappingNode {
		return nil
	}
	lines := make(map[string]int, len(node.Content)/2)
	for i := 0; i+1 < len(node.Content); i += 2 {
		lines[node.Content[i].Value] = node.Content[i].Line
	}
	return lines
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (s *Strength) UnmarshalYAML(node *yaml.Node) error {
	type plain Strength
	return decodeStrict(node, (*plain)(s), &s.pos, "validator strength")
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (a *Assumptions) UnmarshalYAML(node *yaml.Node) error {
	type plain Assumptions
	if err := decodeStrict(node, (*plain)(a), &a.pos, "assume"); err != nil {
		return err
	}
	a.entryLines = map[string]map[string]int{}
	for _, key := range []string{"pass_rate", "score_share", "score_pass_rate", "escalated_pass_rate", "latency"} {
		a.entryLines[key] = keyLines(node, key)
	}
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (p *Policy) UnmarshalYAML(node *yaml.Node) error {
	type plain Policy
	if err := decodeStrict(node, (*plain)(p), &p.pos, "policy"); err != nil {
		return err
	}
	p.routeLines = keyLines(node, "routes")
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler: a policy route is a route plus an optional
// fallback list.
func (p *PolicyRoute) UnmarshalYAML(node *yaml.Node) error {
	rest, extra := splitKey(node, "fallback")
	var errs []string
	if extra != nil {
		p.HasFallback = true
		if err := extra.Decode(&p.Fallback); err != nil {
			errs = append(errs, typeErrors(err)...)
		}
	}
	if err := p.Route.UnmarshalYAML(rest); err != nil {
		errs = append(errs, typeErrors(err)...)
	}
	if len(errs) > 0 {
		return &yaml.TypeError{Errors: errs}
	}
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler: an arm is a route plus its weight.
func (a *Arm) UnmarshalYAML(node *yaml.Node) error {
	rest, w := splitKey(node, "weight")
	var errs []string
	if w == nil {
		errs = append(errs, lineError(resolveAlias(node).Line, "split arm has no weight: add weight: 0.5 (arms' weights sum to 1)"))
	} else if w = resolveAlias(w); w.Kind != yaml.ScalarNode {
		errs = append(errs, lineError(w.Line, "split weight must be a number in (0, 1], like 0.5 or 50%%"))
	} else if f, err := ParseProb(w.Value); err != nil || f <= 0 {
		errs = append(errs, lineError(w.Line, "split weight %q must be a number in (0, 1], like 0.5 or 50%%", w.Value))
	} else {
		a.Weight = f
	}
	if err := a.Route.UnmarshalYAML(rest); err != nil {
		errs = append(errs, typeErrors(err)...)
	}
	if len(errs) > 0 {
		return &yaml.TypeError{Errors: errs}
	}
	return nil
}

// splitKey returns a copy of a mapping node without key, and key's value node (nil if absent).
func splitKey(node *yaml.Node, key string) (rest, value *yaml.Node) {
	node = resolveAlias(node)
	if node.Kind != yaml.MappingNode {
		return node, nil
	}
	cp := *node
	cp.Content = nil
	for i := 0; i+1 < len(node.Content); i += 2 {
		if node.Content[i].Value == key {
			value = node.Content[i+1]
			continue
		}
		cp.Content = append(cp.Content, node.Content[i], node.Content[i+1])
	}
	return &cp, value
}

// UnmarshalYAML implements yaml.Unmarshaler. A step is a model name or a mapping.
func (s *Step) UnmarshalYAML(node *yaml.Node) error {
	node = resolveAlias(node)
	if node.Kind == yaml.ScalarNode {
		s.pos = Pos{Line: node.Line}
		return s.Model.UnmarshalYAML(node)
	}
	type plain Step
	return decodeValidated(node, (*plain)(s), &s.pos, "cascade step")
}

// UnmarshalYAML implements yaml.Unmarshaler. A band is a number or {p50, p95}.
func (b *Band) UnmarshalYAML(node *yaml.Node) error {
	node = resolveAlias(node)
	b.Line = node.Line
	switch node.Kind {
	case yaml.ScalarNode:
		f, err := parseTokenCount(node.Value)
		if err != nil {
			return valueError(node, "%v", err)
		}
		b.P50, b.P95, b.Dist = f, f, false
		return nil
	case yaml.MappingNode:
		var q struct {
			P50 string `yaml:"p50"`
			P95 string `yaml:"p95"`
		}
		if err := decodeStrict(node, &q, nil, "token band"); err != nil {
			return err
		}
		p50, err := parseTokenCount(q.P50)
		if err != nil {
			return typeError(node.Line, "p50: %v", err)
		}
		p95, err := parseTokenCount(q.P95)
		if err != nil {
			return typeError(node.Line, "p95: %v", err)
		}
		if p95 < p50 {
			return typeError(node.Line, "token band p95 (%g) is below p50 (%g): p95 must be at least p50", p95, p50)
		}
		b.P50, b.P95, b.Dist = p50, p95, p95 > p50
		return nil
	}
	return typeError(node.Line, "a token band is a number (an average) or {p50: N, p95: N}, not %s", describeNode(node))
}

// MaxTokens is the largest token count a spec may write, anywhere it writes one: the range of
// a TokenCount (an int32), far above any model's context window, and small enough that no sum
// or cost of token counts overflows.
const MaxTokens = math.MaxInt32

// parseTokenCount reads a token count: a number, with _ between digits and a k or M suffix
// allowed. A count above MaxTokens is an error, returned with the count read.
func parseTokenCount(s string) (float64, error) {
	t := strings.ReplaceAll(strings.TrimSpace(s), "_", "")
	mult := 1.0
	switch {
	case strings.HasSuffix(t, "k"):
		t, mult = strings.TrimSuffix(t, "k"), 1000
	case strings.HasSuffix(t, "M"):
		t, mult = strings.TrimSuffix(t, "M"), 1_000_000
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 || f != f {
		return 0, fmt.Errorf("%q is not a token count: write a number of tokens, like 350 or 8k", s)
	}
	if n := f * mult; n > MaxTokens {
		return n, fmt.Errorf("%s tokens is more than a spec can count: write a number of tokens up to %s (2,147M)", strings.TrimSpace(s), groupDigits(MaxTokens))
	}
	return f * mult, nil
}

// MarshalYAML writes a band back as a number or {p50, p95}.
func (b Band) MarshalYAML() (any, error) {
	if !b.Dist {
		return b.P50, nil
	}
	return map[string]float64{"p50": b.P50, "p95": b.P95}, nil
}

// IsZero reports whether the band was not set.
func (b Band) IsZero() bool { return b.Line == 0 && b.P50 == 0 && b.P95 == 0 }

// UnmarshalYAML implements yaml.Unmarshaler for the providers mapping.
func (ps *Providers) UnmarshalYAML(node *yaml.Node) error {
	return decodeNamed(node, "providers", "provider", func(name string, line int, v *yaml.Node) error {
		p := &Provider{}
		err := v.Decode(p)
		p.Name = name
		if p.pos.Line == 0 {
			p.pos.Line = line
		}
		*ps = append(*ps, p)
		return err
	})
}

// UnmarshalYAML implements yaml.Unmarshaler for the models mapping.
func (ms *Models) UnmarshalYAML(node *yaml.Node) error {
	return decodeNamed(node, "models", "model", func(name string, line int, v *yaml.Node) error {
		m := &Model{}
		err := v.Decode(m)
		m.Name = name
		if m.pos.Line == 0 {
			m.pos.Line = line
		}
		*ms = append(*ms, m)
		return err
	})
}

// UnmarshalYAML implements yaml.Unmarshaler for the policies mapping.
func (ps *Policies) UnmarshalYAML(node *yaml.Node) error {
	return decodeNamed(node, "policies", "policy", func(name string, line int, v *yaml.Node) error {
		p := &Policy{}
		err := v.Decode(p)
		p.Name, p.nameLine = name, line
		if p.pos.Line == 0 {
			p.pos.Line = line
		}
		*ps = append(*ps, p)
		return err
	})
}

// decodeNamed walks a mapping of name → settings (what: "models", one of them a "model") in
// file order, collecting errors. A name declared twice is an error at the second declaration,
// which is not decoded: YAML would silently let the last one win.
func decodeNamed(node *yaml.Node, what, one string, each func(name string, line int, v *yaml.Node) error) error {
	node = resolveAlias(node)
	if node.Kind != yaml.MappingNode {
		return typeError(node.Line, "%s must be a mapping from name to settings, not %s", what, describeNode(node))
	}
	var errs []string
	first := map[string]int{}
	for i := 0; i+1 < len(node.Content); i += 2 {
		k, v := node.Content[i], node.Content[i+1]
		if strings.TrimSpace(k.Value) == "" {
			errs = append(errs, lineError(k.Line, "%s: empty name", what))
			continue
		}
		if line, dup := first[k.Value]; dup {
			errs = append(errs, lineError(k.Line, "%s %q is declared twice (first at line %d): rename or remove one", one, k.Value, line))
			continue
		}
		first[k.Value] = k.Line
		if err := each(k.Value, k.Line, v); err != nil {
			errs = append(errs, typeErrors(err)...)
		}
	}
	if len(errs) > 0 {
		return &yaml.TypeError{Errors: errs}
	}
	return nil
}

// keyLines returns the line of every key of the mapping found under key in node.
func keyLines(node *yaml.Node, key string) map[string]int {
	node = resolveAlias(node)
	for i := 0; i+1 < len(node.Content); i += 2 {
		if node.Content[i].Value != key {
			continue
		}
		v := resolveAlias(node.Content[i+1])
		lines := make(map[string]int, len(v.Content)/2)
		for j := 0; j+1 < len(v.Content); j += 2 {
			lines[v.Content[j].Value] = v.Content[j].Line
		}
		return lines
	}
	return nil
}
