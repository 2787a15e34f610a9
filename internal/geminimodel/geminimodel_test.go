package geminimodel

import "testing"

func TestVersion(t *testing.T) {
	for model, want := range map[string][3]int{
		"gemini-2.5-flash":            {2, 5, 1},
		"models/gemini-3-pro-preview": {3, 0, 1},
		"gemini-3.1-flash-lite":       {3, 1, 1},
		"gemini-1.5-pro-002":          {1, 5, 1},
		"gemini-flash-latest":         {0, 0, 0},
		"tunedModels/x":               {0, 0, 0},
		"learnlm-2.0-flash":           {0, 0, 0},
	} {
		major, minor, ok := Version(model)
		okN := 0
		if ok {
			okN = 1
		}
		if [3]int{major, minor, okN} != want {
			t.Errorf("Version(%q) = %d, %d, %v; want %v", model, major, minor, ok, want)
		}
	}
}

// TestSearchesWithFunctions: Gemini 3 and later, and aliases without a version, can search and
// call functions in one request; Gemini 2.x cannot.
func TestSearchesWithFunctions(t *testing.T) {
	for model, want := range map[string]bool{
		"gemini-2.5-flash": false, "models/gemini-2.0-flash": false, "gemini-2.5-pro": false,
		"gemini-3-pro-preview": true, "gemini-3.1-flash-lite": true, "gemini-flash-latest": true,
	} {
		if got := SearchesWithFunctions(model); got != want {
			t.Errorf("SearchesWithFunctions(%q) = %v, want %v", model, got, want)
		}
	}
}
