package catalog

import (
	"cmp"
	"slices"
	"strings"

	"github.com/clearbar/clearbar/internal/textdist"
)

// keyPrefix maps a routing spec's provider type to the prefix the catalogue puts on that
// provider's keys. Provider types whose models the catalogue keys without a prefix (openai,
// anthropic), and those it does not know (openai-compatible, simulated, replay, ""), have none.
func keyPrefix(providerType string) string {
	switch providerType {
	case "gemini":
		return "gemini/"
	case "azure-openai":
		return "azure/"
	}
	return ""
}

// Lookup finds the entry for a model as a routing spec names it: providerType is the spec's
// provider type ("openai", "anthropic", "gemini", "azure-openai", "openai-compatible",
// "simulated", "replay", or ""), model is the provider's model id, matched case-sensitively.
//
// Resolution order, first hit wins:
//
//  1. for provider types whose catalogue keys carry a prefix, the provider's own key
//     "<prefix><model>" (gemini → "gemini/", azure-openai → "azure/");
//  2. the exact key model (which is how the catalogue keys OpenAI and Anthropic models, and how
//     a spec can name any entry, such as "deepseek/deepseek-chat", directly).
//
// The provider's own key comes first because the same model id is often listed by several
// resellers at different prices: "gemini-2.0-flash-001" is Vertex AI's $0.15/M input, while
// "gemini/gemini-2.0-flash-001" is the Gemini API's $0.10/M; "azure/gpt-4o-mini" is not
// "gpt-4o-mini"'s price. Nothing else is tried — no dated-suffix stripping, no case folding, no
// fuzzy matching: a wrong price is worse than none. Use [Catalog.Suggest] to help a user fix a
// miss. The returned Entry's Provider says which listing matched.
//
// Lookup does not look at the entry's mode: an embedding model's id ("text-embedding-3-small")
// finds its embedding entry, and a caller that needs a chat model checks [Entry.IsEmbedding].
// Since matching is exact, a chat model's id finds an embedding entry only if the catalogue
// lists that id (or the provider's prefixed form of it) as an embedding model; the generator
// leaves out the source's chat models filed as embedding models.
//
// Lookup does not allocate for keys up to 128 bytes.
func (c *Catalog) Lookup(providerType, model string) (Entry, bool) {
	if c == nil || model == "" {
		return Entry{}, false
	}
	if prefix := keyPrefix(providerType); prefix != "" {
		var buf [128]byte
		k := append(append(buf[:0], prefix...), model...)
		if i, ok := c.index[string(k)]; ok {
			return c.entries[i], true
		}
	}
	return c.Get(model)
}

// Suggest returns up to n catalogue keys close to model, best first, for "did you mean" errors.
//
// Closeness is edit distance, compared case-insensitively, where a key that extends model at a
// separator ("claude-sonnet-4" → "claude-sonnet-4-20250514"), or that model extends, counts as one
// edit. A key with a provider prefix is also compared without it, at one extra edit, so that
// resellers' listings of the same model id rank just behind the first-party key. Keys further
// than max(2, len(model)/4) edits are left out. Ties go to the key closer as a whole, then to the
// longer shared prefix, then to alphabetical order, so the result is deterministic. Suggest
// returns nil when n <= 0 or nothing is close.
//
// Suggest compares model with every key (a few milliseconds on the default catalogue); it is
// meant for error paths, not for routing.
func (c *Catalog) Suggest(model string, n int) []string {
	if c == nil || n <= 0 || model == "" {
		return nil
	}
	type candidate struct {
		key          string
		dist, whole  int
		sharedPrefix int
	}
	m := strings.ToLower(model)
	limit := max(2, len(m)/4)
	var cands []candidate
	var rows [2][]int
	for _, e := range c.entries {
		k := strings.ToLower(e.Key)
		whole := closeness(m, k, &rows)
		dist := whole
		base := k[strings.LastIndexByte(k, '/')+1:]
		if base != k {
			dist = min(dist, closeness(m, base, &rows)+1)
		}
		if dist > limit {
			continue
		}
		cands = append(cands, candidate{e.Key, dist, whole, sharedPrefixLen(m, base)})
	}
	slices.SortFunc(cands, func(a, b candidate) int {
		return cmp.Or(
			cmp.Compare(a.dist, b.dist),
			cmp.Compare(a.whole, b.whole),
			cmp.Compare(b.sharedPrefix, a.sharedPrefix),
			strings.Compare(a.key, b.key),
		)
	})
	if len(cands) == 0 {
		return nil
	}
	out := make([]string, 0, min(n, len(cands)))
	for _, cd := range cands[:min(n, len(cands))] {
		out = append(out, cd.key)
	}
	return out
}

// closeness is the edit distance between a and b, except that it is 1 when one extends the other
// at a separator and the shorter has at least four bytes: an alias and its dated snapshot are
// one step apart however long the date.
func closeness(a, b string, rows *[2][]int) int {
	short, long := a, b
	if len(short) > len(long) {
		short, long = long, short
	}
	if len(short) >= 4 && len(long) > len(short) && strings.HasPrefix(long, short) && strings.IndexByte("-:@._", long[len(short)]) >= 0 {
		return 1
	}
	return textdist.Levenshtein(a, b, rows)
}

func sharedPrefixLen(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
