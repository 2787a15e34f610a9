package spec

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// SetInCategoryText returns the spec document data with the value at path (keys below the
// named category, like ["assume", "pass_rate", "small"]) set to text, a YAML value written on
// one line (a scalar or a flow collection). It changes only the text of that value (or, for a
// key the mapping lacks, adds one line or one flow entry; when mappings on the path are
// missing too, the entry holds them in flow style, like latency: {small: {p50: 1s, p95: 2s}}),
// so the diff shows the change and nothing else: comments, blank lines, folded text and
// alignment stay as they are. It fails when the value is written in a form it cannot replace
// in place (a plain scalar over several lines, an alias, an empty mapping); SetInCategory then
// re-encodes.
func SetInCategoryText(data []byte, category string, path []string, text string) ([]byte, error) {
	return keepLineEnds(data, func(data []byte) ([]byte, error) { return setInCategoryText(data, category, path, text) })
}

func setInCategoryText(data []byte, category string, path []string, text string) ([]byte, error) {
	if len(path) == 0 {
		return nil, errors.New("empty path")
	}
	node, err := categoryNode(data, category)
	if err != nil {
		return nil, err
	}
	t := &textDoc{src: data}
	for i, key := range path {
		if node.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%s is not a mapping", strings.Join(path[:i], "."))
		}
		k, v := MapEntry(node, key)
		if v == nil && i < len(path)-1 {
			if err := mergedOnPath(node, key); err != nil {
				return nil, err
			}
		}
		if v == nil {
			// The mappings below the missing key go into its value, innermost first.
			for j := len(path) - 1; j > i; j-- {
				text = "{" + keyText(path[j]) + ": " + text + "}"
			}
			return t.insert(node, keyText(key), text)
		}
		if i == len(path)-1 {
			return t.replace(k, v, text)
		}
		node = v
	}
	return nil, errors.New("empty path")
}

// entryAt finds the entry at path in the named category: the mapping that holds it, its key
// and value nodes, and the end of its value's text.
func entryAt(data []byte, category string, path []string) (m, k, v *yaml.Node, end int, err error) {
	if len(path) == 0 {
		return nil, nil, nil, 0, errors.New("empty path")
	}
	m, err = categoryNode(data, category)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	for i, key := range path {
		k, v = MapEntry(m, key)
		if v == nil {
			return nil, nil, nil, 0, fmt.Errorf("no %s", strings.Join(path[:i+1], "."))
		}
		if i < len(path)-1 {
			m = v
		}
	}
	_, end, _, err = (&textDoc{src: data}).valueSpan(k, v)
	return m, k, v, end, err
}

// deleteInCategoryText returns data without the entry at path in the named category, removing
// only its text: its lines in a block mapping, or the entry and a comma in a flow mapping.
func deleteInCategoryText(data []byte, category string, path []string) ([]byte, error) {
	m, k, _, end, err := entryAt(data, category, path)
	if err != nil {
		return nil, err
	}
	if len(m.Content) == 2 {
		return nil, errors.New("the mapping's only entry")
	}
	t := &textDoc{src: data}
	var start int
	if m.Style&yaml.FlowStyle != 0 {
		start = t.offset(k.Line, k.Column)
		// Take the comma after the entry, or the one before it for the last entry.
		rest := bytes.TrimLeft(data[end:], " \t")
		if len(rest) > 0 && rest[0] == ',' {
			end = len(data) - len(rest) + 1
			end += len(data[end:]) - len(bytes.TrimLeft(data[end:], " \t"))
		} else if j := bytes.LastIndexByte(data[:start], ','); j >= 0 {
			start = j
		}
	} else {
		start = t.lineStart(k.Line)
		if end = t.lineEnd(end); end < len(data) {
			end++
		}
	}
	return slices.Concat(data[:start], data[end:]), nil
}

// replaceEntryText returns data with the entry at path (key and value) replaced by text, a
// "key: value" written on one line.
func replaceEntryText(data []byte, category string, path []string, text string) ([]byte, error) {
	_, k, _, end, err := entryAt(data, category, path)
	if err != nil {
		return nil, err
	}
	start := (&textDoc{src: data}).offset(k.Line, k.Column)
	return slices.Concat(data[:start], []byte(text), data[end:]), nil
}

// categoryNode parses data and returns the named category's mapping.
func categoryNode(data []byte, category string) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 {
		return nil, errors.New("the spec is empty")
	}
	_, cats := MapEntry(doc.Content[0], "categories")
	if cats == nil || cats.Kind != yaml.SequenceNode {
		return nil, errors.New("the spec has no categories list")
	}
	for _, c := range cats.Content {
		if _, n := MapEntry(c, "name"); n != nil && n.Value == category {
			return c, nil
		}
	}
	return nil, fmt.Errorf("the spec has no category %q", category)
}

// MapEntry returns the key and value nodes of key in mapping m (following an alias), or nils.
func MapEntry(m *yaml.Node, key string) (k, v *yaml.Node) {
	if m == nil {
		return nil, nil
	}
	m = resolveAlias(m)
	if m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// textDoc is a YAML document as bytes, addressed by the 1-based lines and columns (in
// characters) the YAML parser reports.
type textDoc struct {
	src []byte
}

// lineStart returns the byte offset where line (1-based) starts.
func (t *textDoc) lineStart(line int) int {
	off := 0
	for l := 1; l < line && off < len(t.src); l++ {
		i := bytes.IndexByte(t.src[off:], '\n')
		if i < 0 {
			return len(t.src)
		}
		off += i + 1
	}
	return off
}

// lineEnd returns the offset of the newline that ends the line starting at off (or the end).
func (t *textDoc) lineEnd(off int) int {
	if i := bytes.IndexByte(t.src[off:], '\n'); i >= 0 {
		return off + i
	}
	return len(t.src)
}

// offset converts a line and a column to a byte offset.
func (t *textDoc) offset(line, col int) int {
	off := t.lineStart(line)
	for c := 1; c < col && off < len(t.src); c++ {
		_, size := utf8.DecodeRune(t.src[off:])
		off += size
	}
	return off
}

// replace returns the document with the value v of key k replaced by s.
func (t *textDoc) replace(k, v *yaml.Node, s string) ([]byte, error) {
	start, end, block, err := t.valueSpan(k, v)
	if err != nil {
		return nil, err
	}
	if block {
		s = " " + s // after the key's colon
	}
	var out bytes.Buffer
	out.Write(t.src[:start])
	out.WriteString(s)
	out.Write(t.src[end:])
	return out.Bytes(), nil
}

// valueSpan returns the bytes [start, end) that hold value v of key k. A block value (a
// mapping or list on the following lines, or a literal or folded scalar) spans from just after
// the key's colon to the end of its last line; block says so.
func (t *textDoc) valueSpan(k, v *yaml.Node) (start, end int, block bool, err error) {
	block = v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 ||
		(v.Kind == yaml.MappingNode || v.Kind == yaml.SequenceNode) && v.Style&yaml.FlowStyle == 0
	if block {
		colon := t.colonAfter(k)
		if colon < 0 {
			return 0, 0, true, errors.New("no colon after the key")
		}
		return colon + 1, t.blockEnd(k, v), true, nil
	}
	start = t.offset(v.Line, v.Column)
	switch {
	case v.Kind == yaml.ScalarNode && v.Style == 0:
		end = start + len(v.Value)
		if end > len(t.src) || string(t.src[start:end]) != v.Value {
			return 0, 0, false, errors.New("a plain scalar written over several lines")
		}
		return start, end, false, nil
	case v.Kind == yaml.ScalarNode && v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0:
		end, err = t.quotedEnd(start)
		return start, end, false, err
	case v.Kind == yaml.MappingNode || v.Kind == yaml.SequenceNode:
		end, err = t.flowEnd(start)
		return start, end, false, err
	}
	return 0, 0, false, errors.New("an alias or tagged value")
}

// colonAfter returns the offset of the ':' that follows key k on its line, or -1.
func (t *textDoc) colonAfter(k *yaml.Node) int {
	off := t.offset(k.Line, k.Column)
	lineEnd := t.lineEnd(off)
	if k.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		e, err := t.quotedEnd(off)
		if err != nil {
			return -1
		}
		off = e
	} else {
		off += len(k.Value)
	}
	for ; off < lineEnd; off++ {
		switch t.src[off] {
		case ':':
			return off
		case ' ', '\t':
		default:
			return -1
		}
	}
	return -1
}

// blockEnd returns the end of the block value v of key k: the end of the last line indented
// deeper than the key (or, for a list, a "- " item at the key's own indentation), not counting
// blank and comment lines after it.
func (t *textDoc) blockEnd(k, v *yaml.Node) int {
	indent := k.Column - 1
	end := t.lineEnd(t.lineStart(k.Line))
	for off := end + 1; off < len(t.src); {
		le := t.lineEnd(off)
		line := string(t.src[off:le])
		trimmed := strings.TrimLeft(line, " ")
		ind := len(line) - len(trimmed)
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
			// belongs to whatever follows
		case ind > indent || v.Kind == yaml.SequenceNode && ind == indent && (trimmed == "-" || strings.HasPrefix(trimmed, "- ")):
			end = le
		default:
			return end
		}
		off = le + 1
	}
	return end
}

// quotedEnd returns the offset after the quoted scalar that starts at start.
func (t *textDoc) quotedEnd(start int) (int, error) {
	q := t.src[start]
	for i := start + 1; i < len(t.src); i++ {
		switch {
		case q == '"' && t.src[i] == '\\':
			i++
		case t.src[i] == q && q == '\'' && i+1 < len(t.src) && t.src[i+1] == '\'':
			i++
		case t.src[i] == q:
			return i + 1, nil
		}
	}
	return 0, errors.New("unterminated quoted scalar")
}

// flowEnd returns the offset after the flow collection that starts at start.
func (t *textDoc) flowEnd(start int) (int, error) {
	depth := 0
	for i := start; i < len(t.src); i++ {
		switch t.src[i] {
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return i + 1, nil
			}
		case '"', '\'':
			e, err := t.quotedEnd(i)
			if err != nil {
				return 0, err
			}
			i = e - 1
		case '#':
			if i > 0 && (t.src[i-1] == ' ' || t.src[i-1] == '\t') {
				i = t.lineEnd(i) - 1 // a comment inside a flow collection written over lines
			}
		}
	}
	return 0, errors.New("unterminated flow collection")
}

// insert returns the document with key: s added to mapping m: before the closing brace of a
// flow mapping, or on a new line after the last entry of a block mapping.
func (t *textDoc) insert(m *yaml.Node, key, s string) ([]byte, error) {
	if len(m.Content) < 2 {
		return nil, errors.New("an empty mapping")
	}
	if m.Style&yaml.FlowStyle != 0 {
		start := t.offset(m.Line, m.Column)
		end, err := t.flowEnd(start)
		if err != nil {
			return nil, err
		}
		var out bytes.Buffer
		out.Write(t.src[:end-1])
		out.WriteString(", " + key + ": " + s)
		out.Write(t.src[end-1:])
		return out.Bytes(), nil
	}
	lk, lv := m.Content[len(m.Content)-2], m.Content[len(m.Content)-1]
	_, end, _, err := t.valueSpan(lk, lv)
	if err != nil {
		return nil, err
	}
	end = t.lineEnd(end)
	var out bytes.Buffer
	out.Write(t.src[:end])
	out.WriteString("\n" + strings.Repeat(" ", m.Content[0].Column-1) + key + ": " + s)
	out.Write(t.src[end:])
	return out.Bytes(), nil
}

// keyText writes a mapping key as YAML would: plain when it can be, else quoted.
func keyText(key string) string {
	s, err := FlowText(&yaml.Node{Kind: yaml.ScalarNode, Value: key})
	if err != nil {
		return strconv.Quote(key)
	}
	return s
}

// FlowText writes a node as YAML on one line, in flow style.
func FlowText(n *yaml.Node) (string, error) {
	c := *n
	setFlow(&c)
	b, err := yaml.Marshal(&c)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

// setFlow gives n and its descendants the flow style, copying the nodes it changes.
func setFlow(n *yaml.Node) {
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		n.Style |= yaml.FlowStyle
		n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	}
	kids := make([]*yaml.Node, len(n.Content))
	for i, k := range n.Content {
		c := *k
		c.HeadComment, c.LineComment, c.FootComment = "", "", ""
		setFlow(&c)
		kids[i] = &c
	}
	n.Content = kids
}
