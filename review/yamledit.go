package review

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/clearbar/clearbar/spec"
)

// edit is one recommended change to a category of the spec: the value at path (keys below the
// category, like ["assume", "pass_rate", "small"]) set to Text, a YAML value written on one
// line (a scalar or a flow collection).
type edit struct {
	category string
	path     []string
	text     string
}

// applyEdits applies edits to a spec document. It changes only the text of the values it
// sets, so the diff shows the change and nothing else: comments, blank lines, folded text and
// alignment stay as they are. When an edit cannot be made that way (a value written in a form
// it does not handle, or a missing mapping on the path), every edit is made with
// spec.SetInCategory instead, which keeps comments but re-encodes the document; the returned
// note says so.
func applyEdits(src []byte, edits []edit) (out []byte, note string, err error) {
	out = src
	for _, e := range edits {
		next, err := spec.SetInCategoryText(out, e.category, e.path, e.text)
		if err != nil {
			return reencode(src, edits)
		}
		out = next
	}
	return out, "", nil
}

func reencode(src []byte, edits []edit) ([]byte, string, error) {
	out := src
	for _, e := range edits {
		var v yaml.Node
		if err := yaml.Unmarshal([]byte(e.text), &v); err != nil || len(v.Content) == 0 {
			return nil, "", fmt.Errorf("review: edit %s: value %q is not YAML", strings.Join(e.path, "."), e.text)
		}
		next, err := spec.SetInCategory(out, e.category, e.path, v.Content[0])
		if err != nil {
			return nil, "", fmt.Errorf("review: editing category %q: %w", e.category, err)
		}
		out = next
	}
	return out, "the spec could not be edited in place, so it was re-encoded: the diff also shows formatting changes", nil
}
