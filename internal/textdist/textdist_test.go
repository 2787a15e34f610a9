package textdist

import "testing"

func TestLevenshtein(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "abc", 3}, {"kitten", "sitting", 3},
		{"quality_bar", "qualty_bar", 1}, {"json_schema", "json_shema", 1},
	} {
		var buf [2][]int
		if got := Levenshtein(tc.a, tc.b, &buf); got != tc.want {
			t.Errorf("Levenshtein(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := Levenshtein(tc.a, tc.b, nil); got != tc.want {
			t.Errorf("Levenshtein(%q, %q, nil) = %d", tc.a, tc.b, got)
		}
	}
}

func TestClosest(t *testing.T) {
	for _, tc := range []struct {
		got   string
		cands []string
		want  string
		ok    bool
		why   string
	}{
		{"qualty_bar", []string{"share", "quality_bar"}, "quality_bar", true, "one edit"},
		{"xyz", []string{"share", "quality_bar"}, "share", false, "nothing is close"},
		{"strnog", []string{"small", "strong"}, "strong", true, "a transposition is two edits"},
		{"a", nil, "", false, "no candidates"},
	} {
		got, ok := Closest(tc.got, tc.cands)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: Closest(%q) = %q, %v; want %q, %v", tc.why, tc.got, got, ok, tc.want, tc.ok)
		}
	}
}
