package validate

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonkind"
	"github.com/clearbar/clearbar/spec"
)

type requiredFields struct {
	name  string
	paths [][]pathSeg
	raw   []string
}

// pathSeg is one segment of a field path: a key, and whether it is an array whose every item
// continues the path ("items[]").
type pathSeg struct {
	key   string
	array bool
}

func parsePath(p string) []pathSeg {
	var out []pathSeg
	for _, part := range strings.Split(p, ".") {
		seg := pathSeg{key: strings.TrimSuffix(part, "[]")}
		seg.array = strings.HasSuffix(part, "[]")
		out = append(out, seg)
	}
	return out
}

func newRequiredFields(cfg spec.ValidatorConfig, _ Env) (Validator, error) {
	c := cfg.(*spec.RequiredFields)
	v := &requiredFields{name: c.Summary(), raw: c.Fields}
	for _, f := range c.Fields {
		v.paths = append(v.paths, parsePath(f))
	}
	return v, nil
}

func (v *requiredFields) Name() string { return v.name }

func (v *requiredFields) Check(_ context.Context, in *Input) clearbar.Verdict {
	var doc any
	text := in.Response.Text()
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		return clearbar.Verdict{Validator: v.name, Pass: false, Reason: notJSON(text, err)}
	}
	if _, ok := doc.(map[string]any); !ok {
		return clearbar.Verdict{Validator: v.name, Pass: false, Reason: "the answer is " + jsonkind.Of(doc) + ", not a JSON object with the fields"}
	}
	var missing []string
	for i, p := range v.paths {
		if where := findMissing(doc, p, ""); where != "" {
			missing = append(missing, fmt.Sprintf("%s (at %s)", v.raw[i], where))
		}
	}
	if len(missing) > 0 {
		return clearbar.Verdict{Validator: v.name, Pass: false, Reason: "missing or null: " + strings.Join(missing, ", ")}
	}
	return clearbar.Verdict{Validator: v.name, Pass: true}
}

// findMissing returns where the path first fails to resolve to a non-null value, or "".
func findMissing(doc any, path []pathSeg, at string) string {
	if len(path) == 0 {
		return ""
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return at + " (not an object)"
	}
	seg := path[0]
	here := at + "/" + seg.key
	val, ok := obj[seg.key]
	if !ok || val == nil {
		return here
	}
	if !seg.array {
		return findMissing(val, path[1:], here)
	}
	items, ok := val.([]any)
	if !ok {
		return here + " (not an array)"
	}
	if len(items) == 0 && len(path) > 1 {
		return here + " (empty)"
	}
	for i, item := range items {
		if w := findMissing(item, path[1:], fmt.Sprintf("%s/%d", here, i)); w != "" {
			return w
		}
	}
	return ""
}
