package clearbar

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Money is an amount of US dollars counted in nano-dollars (1e-9 USD).
//
// Integer money keeps sums exact and reproducible: a cost estimate that adds a million requests
// gives the same figure whatever the order of addition. The range of an int64 (±9.2e9 USD) covers
// any monthly bill; per-request costs of the cheapest models (a few tens of micro-dollars) keep at
// least four significant digits. The zero value is zero dollars.
type Money int64

// Nanodollars per dollar.
const usdNanos = 1_000_000_000

// USD returns the amount in dollars as a float64, for display and charts only.
func (m Money) USD() float64 { return float64(m) / usdNanos }

// MoneyFromUSD converts a dollar amount to Money, rounding to the nearest nano-dollar.
func MoneyFromUSD(usd float64) Money { return Money(math.Round(usd * usdNanos)) }

// Scale returns m×f rounded to the nearest nano-dollar. It is how expected values are taken:
// a cost paid with probability p contributes m.Scale(p).
func (m Money) Scale(f float64) Money { return Money(math.Round(float64(m) * f)) }

// Times returns m×n. It saturates at the int64 range instead of wrapping.
func (m Money) Times(n int64) Money {
	if m == 0 || n == 0 {
		return 0
	}
	r := m * Money(n)
	if r/Money(n) != m {
		if (m > 0) == (n > 0) {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return r
}

// String formats m as dollars with enough digits to be useful: cents from a dollar up
// ("$1,234.56"), up to four decimals below a dollar ("$0.50", "$0.0123"), and three
// significant digits below a cent ("$0.0000525").
func (m Money) String() string {
	neg := m < 0
	if neg {
		m = -m
	}
	usd := m.USD()
	var s string
	switch {
	case m == 0:
		s = "$0"
	case usd >= 1:
		s = "$" + groupThousands(strconv.FormatFloat(usd, 'f', 2, 64))
	case usd >= 0.01:
		s = strconv.FormatFloat(usd, 'f', 4, 64)
		for strings.HasSuffix(s, "0") && len(s) > len("0.00") {
			s = strings.TrimSuffix(s, "0")
		}
		s = "$" + s
	default:
		// Three significant digits for sub-cent amounts.
		digits := 2 - int(math.Floor(math.Log10(usd)))
		s = "$" + strconv.FormatFloat(usd, 'f', digits, 64)
	}
	if neg {
		return "-" + s
	}
	return s
}

func groupThousands(s string) string {
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// ParseMoney parses a dollar amount such as "0.50", "$0.50", "$1,200" or "12". The value must
// be finite and have at most nine decimal places that matter.
func ParseMoney(s string) (Money, error) {
	r, err := parseDecimal(s)
	if err != nil {
		return 0, fmt.Errorf("invalid amount %q: %w (write dollars, like 0.50 or $0.50)", s, err)
	}
	r.Mul(r, big.NewRat(usdNanos, 1))
	n, ok := ratToInt64(r)
	if !ok {
		return 0, fmt.Errorf("invalid amount %q: out of range", s)
	}
	return Money(n), nil
}

// Price is a per-token list price, counted in pico-dollars per token (1e-12 USD), which is the
// same number as micro-dollars per million tokens: $0.15 per million tokens is Price(150_000).
// The zero value means "free" where a price is known, and "not listed" where it is optional;
// the field's documentation says which.
type Price int64

// picoPerMillion is the number of pico-dollars per token in "one dollar per million tokens".
const picoPerMillion = 1_000_000

// ParsePrice parses a price in US dollars per million tokens, such as "0.15" or "$2.50".
func ParsePrice(s string) (Price, error) {
	r, err := parseDecimal(s)
	if err != nil {
		return 0, fmt.Errorf("invalid price %q: %w (write dollars per million tokens, like 0.15)", s, err)
	}
	if r.Sign() < 0 {
		return 0, fmt.Errorf("invalid price %q: prices cannot be negative", s)
	}
	r.Mul(r, big.NewRat(picoPerMillion, 1))
	n, ok := ratToInt64(r)
	if !ok {
		return 0, fmt.Errorf("invalid price %q: out of range", s)
	}
	return Price(n), nil
}

// PriceFromPerToken converts a per-token dollar price written as a decimal string, as price
// catalogues publish them ("1.5e-07"), to a Price, exactly.
func PriceFromPerToken(s string) (Price, error) {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok {
		return 0, fmt.Errorf("invalid per-token price %q", s)
	}
	if r.Sign() < 0 {
		return 0, fmt.Errorf("invalid per-token price %q: negative", s)
	}
	r.Mul(r, big.NewRat(1_000_000_000_000, 1))
	n, ok := ratToInt64(r)
	if !ok {
		return 0, fmt.Errorf("invalid per-token price %q: out of range", s)
	}
	return Price(n), nil
}

// PerMillion returns the price in dollars per million tokens, for display.
func (p Price) PerMillion() float64 { return float64(p) / picoPerMillion }

// String formats p in dollars per million tokens, like "$0.15/M".
func (p Price) String() string {
	return "$" + strconv.FormatFloat(p.PerMillion(), 'f', -1, 64) + "/M"
}

// Cost returns the cost of n tokens at price p, rounded to the nearest nano-dollar.
func (p Price) Cost(tokens int64) Money {
	// pico-dollars → nano-dollars, rounding half away from zero.
	pico := int64(p) * tokens
	if pico >= 0 {
		return Money((pico + 500) / 1000)
	}
	return Money((pico - 500) / 1000)
}

// CostF returns the expected cost of a fractional (mean) token count, rounded to the nearest
// nano-dollar.
func (p Price) CostF(tokens float64) Money {
	return Money(math.Round(float64(p) * tokens / 1000))
}

var errNotNumber = errors.New("not a number")

// parseDecimal reads a plain decimal with an optional leading "$" and "," thousands separators.
func parseDecimal(s string) (*big.Rat, error) {
	t := strings.TrimSpace(s)
	neg := strings.HasPrefix(t, "-")
	t = strings.TrimPrefix(t, "-")
	t = strings.TrimPrefix(t, "$")
	t = strings.ReplaceAll(t, ",", "")
	t = strings.ReplaceAll(t, "_", "")
	if t == "" || strings.ContainsAny(t, "/ ") {
		return nil, errNotNumber
	}
	r, ok := new(big.Rat).SetString(t)
	if !ok {
		return nil, errNotNumber
	}
	if neg {
		r.Neg(r)
	}
	return r, nil
}

// ratToInt64 rounds r to the nearest integer, reporting false if it does not fit in an int64.
func ratToInt64(r *big.Rat) (int64, bool) {
	num := new(big.Int).Set(r.Num())
	den := r.Denom()
	// round half away from zero: (2·num + sign·den) / (2·den)
	num.Mul(num, big.NewInt(2))
	if num.Sign() >= 0 {
		num.Add(num, den)
	} else {
		num.Sub(num, den)
	}
	q := new(big.Int).Quo(num, new(big.Int).Mul(den, big.NewInt(2)))
	if !q.IsInt64() {
		return 0, false
	}
	return q.Int64(), true
}

// MarshalJSON writes m as an exact JSON number of dollars: 52500 nano-dollars is 0.0000525.
func (m Money) MarshalJSON() ([]byte, error) { return []byte(m.Decimal()), nil }

// UnmarshalJSON reads a JSON number (or string) of dollars.
func (m *Money) UnmarshalJSON(b []byte) error {
	v, err := ParseMoney(strings.Trim(string(b), `"`))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Decimal returns m as an exact decimal number of dollars without a currency sign or
// grouping, such as "0.0000525" or "-12.5".
func (m Money) Decimal() string {
	n := int64(m)
	neg := n < 0
	u := uint64(n)
	if neg {
		u = uint64(-n)
	}
	s := strconv.FormatUint(u/usdNanos, 10)
	if frac := u % usdNanos; frac != 0 {
		fs := strings.TrimRight(fmt.Sprintf("%09d", frac), "0")
		s += "." + fs
	}
	if neg {
		s = "-" + s
	}
	return s
}
