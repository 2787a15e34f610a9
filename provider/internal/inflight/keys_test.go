package inflight

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
)

// vendorKeys are keys in other vendors' shapes than OpenAI's sk-: none is caught by a vendor's
// key pattern, so Redact must know them as the provider's keys.
var vendorKeys = []string{
	"tk_live_9f8e7d6c5b4a3210",
	"gsk_8Hq2vX9mLp4Rt7Wz1Yb6Nc3Df5Gh0Jk2",
	"xai-Q7m2Kp9Zr4Tt8Wv3Xy6Ab1Cd5Ef0Gh2Ij4",
	"0123456789abcdef0123456789abcdef01234567",
}

// TestRedactFindsPartsOfTheProvidersKeys: a provider key appears in an upstream's message
// whole, masked the way vendors mask keys (first characters, stars, last characters), cut to
// its first or last characters, or inside a longer word: each time the word holding it is
// redacted, and the text around it kept.
func TestRedactFindsPartsOfTheProvidersKeys(t *testing.T) {
	// A key holding characters that end a word (an id, a secret and a region): it goes whole,
	// not only the words holding its first and last characters. (Each of its parts is a key's
	// part: the URL must not hold "xample", the end of "AKIDexample".)
	for _, key := range append(slices.Clone(vendorKeys), "AKIDexample:wJalrXUtnFEMI/K7MDENG:region1") {
		keys := NewKeys([]clearbar.Secret{clearbar.NewSecret("other-key-that-is-fine"), clearbar.NewSecret(key)})
		for _, shown := range []string{
			key,
			key[:6] + "****" + key[len(key)-4:], // tk_liv****3210
			key[:8] + "..." + key[len(key)-6:],  // cut in the middle
			key[:10],                            // the start only
			"****" + key[len(key)-6:],           // the end only
			"Bearer-" + key + "-x",              // inside a longer word
			key[:7] + "•••••••" + key[len(key)-2:], // masked with bullets
		} {
			in := "Incorrect API key provided: " + shown + ". You can find your API key at https://vendor.test/keys."
			got := keys.Redact(in, nil)
			if want := "Incorrect API key provided: [redacted]. You can find your API key at https://vendor.test/keys."; got != want {
				t.Errorf("key %s shown as %q:\n got %q\nwant %q", key, shown, got, want)
			}
		}
	}
}

// TestRedactFindsEachPartOfACompoundKey: a key made of parts joined by characters that end a
// word (an id, a secret and a region) is found by any of its parts alone, the secret in the
// middle included, and by a cut form of its first part.
func TestRedactFindsEachPartOfACompoundKey(t *testing.T) {
	keys := NewKeys([]clearbar.Secret{clearbar.NewSecret("AKIDexample:wJalrXUtnFEMI/K7MDENG:region1")})
	for in, want := range map[string]string{
		"bad secret wJalrXUtnFEMI/K7MDENG for id":     "bad secret [redacted] for id",
		"xDexample:wJalrXUtnFEMI/K7MDENG:region1":     "[redacted]:[redacted]:[redacted]",
		"id AKIDexample rejected":                     "id [redacted] rejected",
		"key ends wJalrX****7MDENG.":                  "key ends [redacted].",
		"rate limit reached: retry in 20s, id AKIDxx": "rate limit reached: retry in 20s, id AKIDxx",
	} {
		if got := keys.Redact(in, nil); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRedactMaskedKeysOfAnyShape: a masked key the gateway does not hold (an upstream's other
// key) is redacted by its shape; prose with stars or short words is not.
func TestRedactMaskedKeysOfAnyShape(t *testing.T) {
	keys := NewKeys(nil)
	for in, want := range map[string]string{
		"key tk_liv****3210 is wrong":      "key [redacted] is wrong",
		"key ************3210 is wrong":    "key [redacted] is wrong",
		"key gsk_8H************ is wrong":  "key [redacted] is wrong",
		"key sk-proj-****abcd is wrong":    "key [redacted] is wrong",
		"key xai-Q7••••••Ij4 is wrong":     "key [redacted] is wrong",
		"a **bold** word and 2*3*4 stays":  "a **bold** word and 2*3*4 stays",
		"rate limit reached: retry in 20s": "rate limit reached: retry in 20s",
	} {
		if got := keys.Redact(in, nil); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRedactLeavesShortKeysParts: a part of a key is a key's part only from minFragment
// characters: a 4-character key is redacted whole only, and a key's short piece is kept.
func TestRedactLeavesShortKeysParts(t *testing.T) {
	keys := NewKeys([]clearbar.Secret{clearbar.NewSecret("abcd"), clearbar.NewSecret("tk_live_9f8e7d6c5b4a3210")})
	in := "abcd abc tk_li 3210 a3210 done"
	if got, want := keys.Redact(in, nil), "[redacted] abc tk_li 3210 a3210 done"; got != want {
		t.Errorf("Redact(%q) = %q, want %q", in, got, want)
	}
}

// TestFieldPassesOnlyNames: an upstream's type, code or param is passed on when it is shaped
// like one and holds no key or part of one.
func TestFieldPassesOnlyNames(t *testing.T) {
	keys := NewKeys([]clearbar.Secret{clearbar.NewSecret(vendorKeys[0])})
	like := regexp.MustCompile(`sk-[A-Za-z0-9_*\-]{4,}`)
	for v, want := range map[string]bool{
		"invalid_request_error": true, "context_length_exceeded": true, "messages[3].content": true,
		"RESOURCE_EXHAUSTED": true, "ResponsibleAIPolicyViolation": true,
		vendorKeys[0]: false, "key_" + vendorKeys[0]: false, vendorKeys[0][:8]: false, "sk-proj-abcd1234": false,
		"tk_liv****3210": false, "a b": false, `x"}`: false, strings.Repeat("a", 65): false,
	} {
		if got := keys.Field(v, like); (got == v) != want || (got != "" && got != v) {
			t.Errorf("Field(%q) = %q", v, got)
		}
	}
}
