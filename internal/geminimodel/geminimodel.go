// Package geminimodel reads what a Gemini model id says of the model: its version, on which
// the Gemini API's behaviour turns (thinking levels, thought signatures, which tools combine).
// Both the Gemini adapter and routing read it, so that a request is routed past a model the
// adapter would refuse it for.
package geminimodel

import (
	"strconv"
	"strings"
)

// Version reads the version of a Gemini model id: "gemini-2.5-flash" is 2, 5;
// "models/gemini-3-pro-preview" is 3, 0. ok is false for ids without one (aliases such as
// "gemini-flash-latest", tuned models).
func Version(model string) (major, minor int, ok bool) {
	model = model[strings.LastIndexByte(model, '/')+1:]
	rest, found := strings.CutPrefix(model, "gemini-")
	if !found {
		return 0, 0, false
	}
	num := 0
	for num < len(rest) && (rest[num] >= '0' && rest[num] <= '9' || rest[num] == '.') {
		num++
	}
	majorS, minorS, _ := strings.Cut(rest[:num], ".")
	major, err := strconv.Atoi(majorS)
	if err != nil {
		return 0, 0, false
	}
	if minorS != "" {
		if minor, err = strconv.Atoi(minorS); err != nil {
			return 0, 0, false
		}
	}
	return major, minor, true
}

// SearchesWithFunctions reports whether the model can search with Google and call the
// request's functions in one generateContent request: Gemini 3 and later can (with
// toolConfig.includeServerSideToolInvocations), earlier models refuse the combination. A model
// whose id says no version (an alias) is taken to be a current one, which can.
func SearchesWithFunctions(model string) bool {
	major, _, ok := Version(model)
	return !ok || major >= 3
}
