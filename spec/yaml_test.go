package spec

import "testing"

// TestParseProbPercentagesExactly: a percentage is read as the decimal it stands for (96.7% is
// 0.967, the float nearest that decimal), as a fraction written out is, not as 96.7/100.
func TestParseProbPercentagesExactly(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
	}{
		{"96.7%", 0.967}, {"39.3%", 0.393}, {"95%", 0.95}, {" 0.5 % ", 0.005}, {"100%", 1}, {"0%", 0}, {"0.967", 0.967}, {"1e1%", 0.1},
	} {
		got, err := ParseProb(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseProb(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"101%", "-1%", "x%", "%"} {
		if got, err := ParseProb(in); err == nil {
			t.Errorf("ParseProb(%q) = %v, want an error", in, got)
		}
	}
}
