package eval

import (
	"fmt"
	"strings"
)

// ToolCallStrings is how a tool-call grader compares the strings of an answer's arguments with
// the values the reference gives: an item's "tool_call_strings". The zero value compares them
// exactly.
type ToolCallStrings string

const (
	// StringsExact compares strings exactly, as every other JSON value is compared: written
	// "exact", or no "tool_call_strings" at all.
	StringsExact ToolCallStrings = ""
	// StringsBFCL compares strings as the Berkeley Function Calling Leaderboard's AST checker
	// does, both standardized first (see bfclStandardize): written "bfcl". eval import --bfcl
	// sets it on every item it writes, so that pass rates on an imported set read as BFCL's.
	StringsBFCL ToolCallStrings = "bfcl"
)

// toolCallStringsForm says what "tool_call_strings" may be, for messages.
const toolCallStringsForm = `"tool_call_strings" must be "exact" (the default: strings compared exactly) or "bfcl" (strings compared as the Berkeley Function Calling Leaderboard compares them: case, spaces and the punctuation ,./-_*^ ignored, ' read as ")`

// parseToolCallStrings reads an item's "tool_call_strings"; "exact" is StringsExact.
func parseToolCallStrings(s string) (ToolCallStrings, error) {
	switch s {
	case "exact":
		return StringsExact, nil
	case string(StringsBFCL):
		return StringsBFCL, nil
	}
	if strings.EqualFold(strings.TrimSpace(s), string(StringsBFCL)) {
		return "", fmt.Errorf(`%s, not %q: write "bfcl"`, toolCallStringsForm, s)
	}
	return "", fmt.Errorf("%s, not %q", toolCallStringsForm, s)
}

// bfclStrip removes what the Berkeley Function Calling Leaderboard's standardize_string
// removes: the characters of the class [ \,\.\/\-\_\*\^] (the space only, not other white
// space).
var bfclStrip = strings.NewReplacer(" ", "", ",", "", ".", "", "/", "", "-", "", "_", "", "*", "", "^", "")

// bfclStandardize standardizes a string as the Berkeley Function Calling Leaderboard's AST
// checker does before it compares an answer's string with the strings it accepts: spaces and
// the punctuation ,./-_*^ removed, the rest lower-cased and single quotes made double, so that
// "April 1, 2024", "april 1,2024" and "April 1 2024" are the same.
func bfclStandardize(s string) string {
	return strings.ReplaceAll(strings.ToLower(bfclStrip.Replace(s)), "'", `"`)
}

// standardize returns v with its strings standardized as the comparison s makes them, for
// comparing an argument's value with the values a reference gives (see jsonEqual); v itself is
// not modified. StringsExact returns v. StringsBFCL standardizes the strings BFCL's checker
// does: the argument itself when it is a string, a list argument's string elements, the string
// values of an object argument and of the objects in a list argument; deeper strings (a list
// within a list, or within an object) are compared exactly, as BFCL compares them.
func (s ToolCallStrings) standardize(v any) any {
	if s != StringsBFCL {
		return v
	}
	return bfclStandardized(v, bfclArgument)
}

// bfclPlace is where a value is within an argument, which decides what of it BFCL's checker
// standardizes.
type bfclPlace int

const (
	bfclArgument bfclPlace = iota // the argument itself
	bfclElement                   // an element of a list argument
	bfclValue                     // a value of an object argument, or of an object in a list argument
)

func bfclStandardized(v any, at bfclPlace) any {
	switch t := v.(type) {
	case string:
		return bfclStandardize(t)
	case []any:
		if at != bfclArgument {
			return v
		}
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = bfclStandardized(e, bfclElement)
		}
		return out
	case map[string]any:
		if at == bfclValue {
			return v
		}
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = bfclStandardized(e, bfclValue)
		}
		return out
	}
	return v
}
