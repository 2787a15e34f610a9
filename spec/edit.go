package spec

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"

	"go.yaml.in/yaml/v3"
)

// SetInCategory returns the spec document data with the value at path (keys below the
// category, like ["assume", "validator"]) in the named category set to value, creating
// mappings on the way. It edits the text in place when it can (SetInCategoryText), so that
// the diff shows only the change. Otherwise it re-encodes the document: comments and the
// order of keys are kept, but blank lines and folded text are not, and the rest is
// re-indented by the YAML encoder (two spaces), so review the diff.
func SetInCategory(data []byte, category string, path []string, value any) ([]byte, error) {
	return keepLineEnds(data, func(data []byte) ([]byte, error) { return setInCategory(data, category, path, value) })
}

func setInCategory(data []byte, category string, path []string, value any) ([]byte, error) {
	if v, err := flowNode(value); err == nil {
		if text, err := FlowText(v); err == nil {
			if out, err := SetInCategoryText(data, category, path, text); err == nil {
				return out, nil
			}
		}
	}
	return editCategory(data, category, func(cat *yaml.Node) error {
		v, err := flowNode(value)
		if err != nil {
			return err
		}
		node := cat
		for i, key := range path {
			if node.Kind == yaml.AliasNode && node.Alias != nil {
				// Editing the anchored value would edit every place that refers to it.
				return fmt.Errorf("category %q: %s is *%s, the value anchored at line %d, which other places may share: write it out in the category to edit it there", category, path[i-1], node.Value, node.Alias.Line)
			}
			if node.Kind != yaml.MappingNode {
				return fmt.Errorf("category %q: %s is not a mapping", category, key)
			}
			next := mapValue(node, key)
			if i == len(path)-1 {
				if next != nil {
					*next = *v
				} else {
					node.Content = append(node.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, v)
				}
				break
			}
			if next == nil {
				if err := mergedOnPath(node, key); err != nil {
					return fmt.Errorf("category %q: %w", category, err)
				}
				next = &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
				node.Content = append(node.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, next)
			}
			node = next
		}
		return nil
	})
}

// SetRouteForm returns the spec document data with the named category's route changed to
// another form: the route's model, cascade, split or score key is replaced by form (one of
// those keys) set to value, and its other settings (validate, on_fail, on_exhausted,
// max_steps) are kept. A route written in flow style stays in flow style.
func SetRouteForm(data []byte, category, form string, value any) ([]byte, error) {
	return keepLineEnds(data, func(data []byte) ([]byte, error) { return setRouteForm(data, category, form, value) })
}

func setRouteForm(data []byte, category, form string, value any) ([]byte, error) {
	if !slices.Contains(routeForms, form) {
		return nil, fmt.Errorf("route form %q: write one of %v", form, routeForms)
	}
	if out, err := setRouteFormText(data, category, form, value); err == nil {
		return out, nil
	}
	return editCategory(data, category, func(cat *yaml.Node) error {
		v, err := flowNode(value)
		if err != nil {
			return err
		}
		route := mapValue(cat, "route")
		if route == nil || route.Kind != yaml.MappingNode {
			route = &yaml.Node{Kind: yaml.MappingNode}
			cat.Content = append(cat.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "route"}, route)
		}
		kept := []*yaml.Node{{Kind: yaml.ScalarNode, Value: form}, v}
		for i := 0; i+1 < len(route.Content); i += 2 {
			if !slices.Contains(routeForms, route.Content[i].Value) {
				kept = append(kept, route.Content[i], route.Content[i+1])
			}
		}
		route.Content = kept
		return nil
	})
}

var routeForms = []string{"model", "cascade", "split", "score"}

// setRouteFormText is SetRouteForm editing the text in place. A route of the same form whose
// value is a mapping (a score route) has each of its settings set, and those value leaves out
// removed, so that its layout and comments stay; otherwise the form's entry is replaced by one
// line.
func setRouteFormText(data []byte, category, form string, value any) ([]byte, error) {
	cat, err := categoryNode(data, category)
	if err != nil {
		return nil, err
	}
	_, route := MapEntry(cat, "route")
	old := ""
	for _, f := range routeForms {
		if _, v := MapEntry(route, f); v != nil {
			old = f
		}
	}
	if old == "" {
		return nil, errors.New("the route has no form to replace")
	}
	_, oldValue := MapEntry(route, old)
	if fields, ok := value.(map[string]any); ok && old == form && oldValue.Kind == yaml.MappingNode {
		// One setting that takes another's place (a threshold that becomes a willingness to
		// pay) is written on the old one's line, which keeps its comment.
		var removed, added []string
		for i := 0; i+1 < len(oldValue.Content); i += 2 {
			if key := oldValue.Content[i].Value; fields[key] == nil {
				removed = append(removed, key)
			}
		}
		for key := range fields {
			if k, _ := MapEntry(oldValue, key); k == nil {
				added = append(added, key)
			}
		}
		renamed := ""
		out := data
		if len(removed) == 1 && len(added) == 1 && successor[removed[0]] == added[0] {
			renamed = added[0]
			text, err := valueText(fields[renamed])
			if err != nil {
				return nil, err
			}
			if out, err = replaceEntryText(out, category, []string{"route", form, removed[0]}, keyText(renamed)+": "+text); err != nil {
				return nil, err
			}
			removed = nil
		}
		for _, key := range slices.Sorted(maps.Keys(fields)) {
			if key == renamed {
				continue
			}
			text, err := valueText(fields[key])
			if err != nil {
				return nil, err
			}
			if out, err = SetInCategoryText(out, category, []string{"route", form, key}, text); err != nil {
				return nil, err
			}
		}
		for _, key := range removed {
			if out, err = deleteInCategoryText(out, category, []string{"route", form, key}); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	text, err := valueText(value)
	if err != nil {
		return nil, err
	}
	return replaceEntryText(data, category, []string{"route", old}, form+": "+text)
}

// successor pairs the route settings that take each other's place, as calibration writes
// them: the written one goes on the old one's line and keeps its comment.
var successor = map[string]string{"threshold": "willingness_to_pay", "willingness_to_pay": "threshold"}

// valueText writes value as YAML on one line, in flow style.
func valueText(value any) (string, error) {
	v, err := flowNode(value)
	if err != nil {
		return "", err
	}
	return FlowText(v)
}

// flowNode encodes value as a YAML node written in flow style ({a: 1}, [x, y]).
func flowNode(value any) (*yaml.Node, error) {
	var v yaml.Node
	if err := v.Encode(value); err != nil {
		return nil, err
	}
	v.Style = yaml.FlowStyle
	return &v, nil
}

// editCategory applies fn to the named category's mapping node and re-encodes the document.
func editCategory(data []byte, category string, fn func(cat *yaml.Node) error) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("the spec is empty")
	}
	cats := mapValue(doc.Content[0], "categories")
	if cats == nil || cats.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("the spec has no categories list")
	}
	var cat *yaml.Node
	for _, c := range cats.Content {
		if n := mapValue(c, "name"); n != nil && n.Value == category {
			cat = c
		}
	}
	if cat == nil {
		return nil, fmt.Errorf("the spec has no category %q", category)
	}
	if err := fn(cat); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	enc.Close()
	return out.Bytes(), nil
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	_, v := MapEntry(n, key)
	return v
}

// keepLineEnds applies edit to a document written with CRLF line ends (every line break a
// CRLF) as to one with LF, and writes the result with CRLF again, so that an edit does not
// leave a file with mixed line ends; other documents it edits as they are.
func keepLineEnds(data []byte, edit func([]byte) ([]byte, error)) ([]byte, error) {
	crlf := bytes.Count(data, []byte("\r\n"))
	if crlf == 0 || crlf != bytes.Count(data, []byte("\n")) {
		return edit(data)
	}
	out, err := edit(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")))
	if err != nil {
		return nil, err
	}
	return bytes.ReplaceAll(out, []byte("\n"), []byte("\r\n")), nil
}
