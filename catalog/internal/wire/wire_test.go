package wire

import (
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
)

func TestFormatPrice(t *testing.T) {
	tests := []struct {
		p    clearbar.Price
		want string
	}{
		{0, "0"},
		{1, "0.000001"},
		{75_000, "0.075"},
		{150_000, "0.15"},
		{2_500_000, "2.5"},
		{15_000_000, "15"},
		{15_000_020, "15.00002"},
		{600_000_000, "600"},
	}
	for _, tt := range tests {
		if got := FormatPrice(tt.p); got != tt.want {
			t.Errorf("FormatPrice(%d) = %q, want %q", tt.p, got, tt.want)
		}
		back, err := ParsePrice(tt.want)
		if err != nil || back != tt.p {
			t.Errorf("ParsePrice(%q) = %d, %v, want %d", tt.want, back, err, tt.p)
		}
		ref, err := clearbar.ParsePrice(tt.want)
		if err != nil || ref != tt.p {
			t.Errorf("clearbar.ParsePrice(%q) = %d, %v, want %d: the formats disagree", tt.want, ref, err, tt.p)
		}
	}
}

func TestParsePriceRejects(t *testing.T) {
	for _, s := range []string{"", ".5", "5.", "-1", "+1", "$1", "1,000", "1e-7", "0.1234567", " 1", "1 ", "0x10", "1.2.3", "99999999999999999999"} {
		if p, err := ParsePrice(s); err == nil {
			t.Errorf("ParsePrice(%q) = %d, want an error", s, p)
		} else if !strings.Contains(err.Error(), "price") {
			t.Errorf("ParsePrice(%q) error %q does not say what it parsed", s, err)
		}
	}
}

func TestFormatMoney(t *testing.T) {
	for _, tt := range []struct {
		m    clearbar.Money
		want string
	}{{0, "0"}, {1, "0.000000001"}, {10_000_000, "0.01"}, {35_000_000, "0.035"}, {2_500_000_000, "2.5"}, {12_000_000_000, "12"}} {
		if got := FormatMoney(tt.m); got != tt.want {
			t.Errorf("FormatMoney(%d) = %q, want %q", tt.m, got, tt.want)
		}
		if back, err := ParseMoney(tt.want); err != nil || back != tt.m {
			t.Errorf("ParseMoney(%q) = %d, %v, want %d", tt.want, back, err, tt.m)
		}
		if ref, err := clearbar.ParseMoney(tt.want); err != nil || ref != tt.m {
			t.Errorf("clearbar.ParseMoney(%q) = %d, %v, want %d: the formats disagree", tt.want, ref, err, tt.m)
		}
	}
	for _, s := range []string{"", ".5", "5.", "-1", "$1", "1e-3", "0.0000000001", "99999999999999999999"} {
		if m, err := ParseMoney(s); err == nil || !strings.Contains(err.Error(), "amount") {
			t.Errorf("ParseMoney(%q) = %d, %v, want an error about the amount", s, m, err)
		}
	}
}
