package openai

import (
	"testing"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
)

// TestParseUsageNeverNegative: a broken upstream's negative counts count as none, so that
// records and costs never hold negative tokens.
func TestParseUsageNeverNegative(t *testing.T) {
	got := parseUsage(gjson.Parse(`{"prompt_tokens":-5,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":-1,"cache_write_tokens":-2},"completion_tokens_details":{"reasoning_tokens":-4}}`))
	if want := (clearbar.Usage{CompletionTokens: 3}); got != want {
		t.Errorf("usage %+v, want %+v", got, want)
	}
}
