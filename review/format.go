package review

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/clearbar/clearbar"
)

// pct formats a probability as a percentage with two decimals.
func pct(p float64) string {
	if math.IsNaN(p) {
		return "–"
	}
	return strconv.FormatFloat(p*100, 'f', 2, 64) + "%"
}

// pct0 formats a confidence level: "99%", "99.9%".
func pct0(p float64) string { return strconv.FormatFloat(p*100, 'f', -1, 64) + "%" }

// secs formats seconds compactly: "850ms", "1.42s", "12.3s".
func secs(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1fs", s)
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", s)
	case d > 0 && d < time.Millisecond:
		// An answer from a replay provider or a local model: shown to the microsecond, not
		// as 0ms.
		return fmt.Sprintf("%dµs", max(d.Microseconds(), 1))
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}

// formatValue formats a value in its unit.
func formatValue(unit string, v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case math.IsInf(v, 1):
		return "∞"
	case math.IsInf(v, -1):
		return "−∞"
	}
	switch unit {
	case UnitRate:
		return pct(v)
	case UnitSeconds:
		return secs(v)
	case UnitUSD:
		return clearbar.MoneyFromUSD(v).String()
	case UnitTokens:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case UnitCount:
		return strconv.FormatFloat(v, 'f', 4, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// formatInterval formats an interval in its unit: "91.20%–93.05%", or "−3.50% to 8.01%" when
// a dash could be read as a minus sign.
func formatInterval(unit string, lo, hi Num) string {
	if math.IsNaN(float64(lo)) && math.IsNaN(float64(hi)) {
		return "–"
	}
	if lo < 0 || hi < 0 {
		return signed(unit, float64(lo)) + " to " + signed(unit, float64(hi))
	}
	return formatValue(unit, float64(lo)) + "–" + formatValue(unit, float64(hi))
}

// formatP formats a p-value: "0.034", "2.1e-07", "< 1e-300".
func formatP(p float64) string {
	switch {
	case p < 1e-300:
		return "< 1e-300"
	case p < 0.001:
		return strconv.FormatFloat(p, 'e', 1, 64)
	case p >= 0.9995:
		return "1"
	}
	return strconv.FormatFloat(p, 'f', 3, 64)
}

// groupInt writes an integer with thousands separators.
func groupInt(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
