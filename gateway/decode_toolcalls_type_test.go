package gateway

import (
	"errors"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
)

// TestDecodeToolCallsOfTheWrongTypeNamed: an assistant message whose tool_calls is not an
// array (and that has no content) is refused for its tool_calls, the parameter that is wrong,
// not for the content that tool_calls would have excused.
func TestDecodeToolCallsOfTheWrongTypeNamed(t *testing.T) {
	for _, tt := range []struct {
		explanation, tcs, got string
	}{
		{"an object", `{"id":"c1"}`, "an object"},
		{"a string", `"c1"`, "a string"},
		{"a number", `1`, "an integer"},
		{"true", `true`, "a boolean"},
	} {
		for _, content := range []string{``, `"content":null,`} {
			body := `{"model":"m","messages":[` + drAsk + `,{"role":"assistant",` + content + `"tool_calls":` + tt.tcs + `}]}`
			r, err := DecodeChatRequest([]byte(body), DefaultLimits)
			var e *clearbar.Error
			if !errors.As(err, &e) || r != nil {
				t.Errorf("tool_calls %s (%s): %v; want a 400", tt.explanation, content, err)
				continue
			}
			if e.Status != 400 || e.Param != "messages[1].tool_calls" || e.Code != "invalid_type" ||
				!strings.Contains(e.Message, "expected an array, but got "+tt.got) {
				t.Errorf("tool_calls %s (%s): %d param %q code %q: %s; want messages[1].tool_calls, invalid_type, expected an array",
					tt.explanation, content, e.Status, e.Param, e.Code, e.Message)
			}
		}
	}
	// Without tool_calls, the missing content is still the error.
	_, err := DecodeChatRequest([]byte(`{"model":"m","messages":[`+drAsk+`,{"role":"assistant"}]}`), DefaultLimits)
	if e := clearbar.AsError(err); e.Param != "messages[1].content" || e.Code != "missing_required_parameter" {
		t.Errorf("an assistant message with neither: param %q code %q; want messages[1].content", e.Param, e.Code)
	}
}
