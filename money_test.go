package clearbar

import (
	"encoding/json"
	"math"
	"testing"
)

func TestMoneyString(t *testing.T) {
	for _, tc := range []struct {
		m    Money
		want string
		why  string
	}{
		{0, "$0", "zero"},
		{52_500, "$0.0000525", "sub-cent amounts keep three significant digits"},
		{1_290_000, "$0.00129", "sub-cent"},
		{100_000_000, "$0.10", "cents keep two decimals"},
		{123_400_000, "$0.1234", "up to four decimals below a dollar"},
		{1_234_567_890_000, "$1,234.57", "dollars are grouped and rounded to cents"},
		{-2_500_000_000, "-$2.50", "negative amounts"},
	} {
		if got := tc.m.String(); got != tc.want {
			t.Errorf("%d: got %q, want %q (%s)", tc.m, got, tc.want, tc.why)
		}
	}
}

func TestMoneyJSONIsExact(t *testing.T) {
	for _, m := range []Money{0, 1, 52_500, 1_000_000_000, -7, 123_456_789_012} {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var back Money
		if err := json.Unmarshal(b, &back); err != nil || back != m {
			t.Errorf("%d → %s → %d (%v)", m, b, back, err)
		}
	}
	if b, _ := json.Marshal(Money(52_500)); string(b) != "0.0000525" {
		t.Errorf("52500 nano-dollars marshal as %s", b)
	}
}

func TestParsePriceExact(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Price
	}{
		{"0.15", 150_000}, {"$2.50", 2_500_000}, {"0", 0}, {"1_000", 1_000_000_000}, {"0.000001", 1},
	} {
		got, err := ParsePrice(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParsePrice(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "abc", "-1", "1/2", "$"} {
		if _, err := ParsePrice(bad); err == nil {
			t.Errorf("ParsePrice(%q) accepted", bad)
		}
	}
	p, err := PriceFromPerToken("1.5e-07")
	if err != nil || p != 150_000 {
		t.Errorf("PriceFromPerToken(1.5e-07) = %d, %v", p, err)
	}
}

func TestPriceCost(t *testing.T) {
	// 350 tokens at $0.15/M is $0.0000525 exactly.
	if got := Price(150_000).Cost(350); got != 52_500 {
		t.Errorf("cost = %d", got)
	}
	// Rounds half away from zero at the nano-dollar: 1 token at $0.0005/M is 0.5 nano-dollars.
	if got := Price(500).Cost(1); got != 1 {
		t.Errorf("rounding = %d", got)
	}
	if got := Money(math.MaxInt64 / 2).Times(3); got != math.MaxInt64 {
		t.Errorf("Times saturates, got %d", got)
	}
}
