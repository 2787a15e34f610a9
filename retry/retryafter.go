package retry

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxClientRetryAfter is the longest Retry-After the gateway tells its own clients. openai-go
// stops retrying altogether when told to wait more than two minutes, and the Anthropic SDKs
// wait as long as they are told, so an upstream's hour-long wait must not be passed through.
const MaxClientRetryAfter = 60 * time.Second

// ParseRetryAfter reads how long an upstream asked us to wait. It reads retry-after-ms
// (milliseconds, possibly fractional) first, as OpenAI sends it, and falls back to
// Retry-After: seconds (possibly fractional) or an HTTP date, taken relative to now.
//
// It returns 0 when neither header is present or valid, or when the wait is negative (a date
// in the past). A value too large for a time.Duration saturates at math.MaxInt64, so callers
// see "very long" rather than "not said".
func ParseRetryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if d, ok := parseNumber(v, float64(time.Millisecond)); ok {
			return d
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if d, ok := parseNumber(v, float64(time.Second)); ok {
		return d
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// parseNumber parses a non-negative decimal number of units. It rejects anything that is not
// plain digits with at most one decimal point (signs, exponents, hex, NaN, Inf, spaces inside).
func parseNumber(s string, unit float64) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	if s == "" || s == "." || strings.Count(s, ".") > 1 || strings.Trim(s, "0123456789.") != "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && f != math.Inf(1) {
		return 0, false
	}
	ns := f * unit
	if ns >= math.MaxInt64 {
		return time.Duration(math.MaxInt64), true
	}
	return time.Duration(ns), true
}

// ClientRetryAfter returns the wait to advertise to the gateway's own clients for an upstream
// wait d: 0 when d is not positive, otherwise d rounded up to a whole millisecond (so at least
// 1 ms, and retry-after-ms is an integer) and capped at MaxClientRetryAfter.
func ClientRetryAfter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	if d >= MaxClientRetryAfter {
		return MaxClientRetryAfter
	}
	return (d + time.Millisecond - 1).Truncate(time.Millisecond)
}
