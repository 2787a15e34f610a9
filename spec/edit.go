package spec

import (
	"bytes"
	"fmt"
	"slices"

	"go.yaml.in/yaml/v3"
)

// SetInCategory returns the spec document data with the value at path (keys below the
// category, like ["assume", "validator"]) in the named category set to value, creating
// mappings on the way. Comments and the order of keys are kept; the rest of the document is
// re-indented by the YAML encoder (two spaces), so review the diff.
func SetInCategory(data []byte, category string, path []string, value any) ([]byte, error) {
	return editCategory(data, category, func(cat *yaml.Node) error {
		v, err := flowNode(value)
		if err != nil {
			return err
		}
		node := cat
		for i, key := range path {
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
	if !slices.Contains(routeForms, form) {
		return nil, fmt.Errorf("route form %q: write one of %v", form, routeForms)
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
	n = resolveAlias(n)
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
