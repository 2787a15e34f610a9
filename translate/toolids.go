package translate

import (
	"strings"

	"github.com/tidwall/gjson"
)

// Tool-call ids carry each format's own prefix: the call OpenAI's format names call_X is
// toolu_X in Anthropic's, and the other way round. A client of either sees ids of the form its
// vendor's API gives, and a conversation that crosses formats gets its ids back as they were:
// an Anthropic client sends back the toolu_X it was given, and the OpenAI-format route sees
// call_X again. Other ids pass unchanged (an Anthropic upstream's toolu_… ids, which an OpenAI
// client sees as they are, are already Anthropic's).
const (
	openAIToolIDPrefix    = "call_"
	anthropicToolIDPrefix = "toolu_"
)

// toolID writes the tool-call id v, a JSON string, with the prefix from replaced by to when it
// has it (and more after it); escapes after the prefix are kept as sent.
func (w *jw) toolID(v gjson.Result, from, to string) {
	if v.Type == gjson.String && len(v.Raw) > len(from)+2 && v.Raw[0] == '"' && strings.HasPrefix(v.Raw[1:], from) {
		w.b = append(w.b, '"')
		w.b = append(w.b, to...)
		w.b = append(w.b, v.Raw[1+len(from):]...)
		return
	}
	w.strOf(v)
}

// anthropicToolID returns an OpenAI tool-call id as Anthropic's format names it, in memory of
// its own (id may alias a buffer the caller reuses).
func anthropicToolID(id string) string {
	if rest, ok := strings.CutPrefix(id, openAIToolIDPrefix); ok && rest != "" {
		return anthropicToolIDPrefix + rest
	}
	return strings.Clone(id)
}
