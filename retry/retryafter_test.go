package retry

import (
	"math"
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		ms, seconds string // header values; "" leaves the header out
		want        time.Duration
		explanation string
	}{
		{"", "", 0, "no header"},
		{"1500", "", 1500 * time.Millisecond, "milliseconds"},
		{"0.5", "", 500 * time.Microsecond, "fractional milliseconds"},
		{" 20 ", "", 20 * time.Millisecond, "surrounding spaces are trimmed"},
		{"", "3", 3 * time.Second, "seconds"},
		{"", "1.25", 1250 * time.Millisecond, "fractional seconds"},
		{"", ".5", 500 * time.Millisecond, "no leading digit"},
		{"", "0", 0, "zero means retry now"},
		{"250", "10", 250 * time.Millisecond, "retry-after-ms wins over retry-after"},
		{"soon", "2", 2 * time.Second, "an invalid retry-after-ms falls back to retry-after"},
		{"-5", "2", 2 * time.Second, "a negative retry-after-ms falls back to retry-after"},
		{"", "Sun, 01 Mar 2026 12:00:30 GMT", 30 * time.Second, "an HTTP date, relative to now"},
		{"", "Sunday, 01-Mar-26 12:01:00 GMT", time.Minute, "an RFC 850 date"},
		{"", "Sun Mar  1 12:00:05 2026", 5 * time.Second, "an ANSI C asctime date"},
		{"", "Sun, 01 Mar 2026 11:59:00 GMT", 0, "a date in the past"},
		{"", "-1", 0, "negative seconds"},
		{"", "soon", 0, "garbage"},
		{"", "1e3", 0, "exponents are not HTTP delay-seconds"},
		{"", "0x10", 0, "hex is not HTTP delay-seconds"},
		{"", "NaN", 0, "NaN"},
		{"", "Inf", 0, "infinity spelled out"},
		{"", "1.2.3", 0, "two decimal points"},
		{"", "+3", 0, "a sign"},
		{"", "1 2", 0, "a space inside"},
		{"", ".", 0, "a lone point"},
		{"", "99999999999999999999", time.Duration(math.MaxInt64), "too long for a Duration saturates"},
	} {
		h := http.Header{}
		if tc.ms != "" {
			h.Set("retry-after-ms", tc.ms)
		}
		if tc.seconds != "" {
			h.Set("retry-after", tc.seconds)
		}
		if got := ParseRetryAfter(h, now); got != tc.want {
			t.Errorf("retry-after-ms %q, retry-after %q: got %v, want %v (%s)", tc.ms, tc.seconds, got, tc.want, tc.explanation)
		}
	}
}

func TestClientRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		in, want    time.Duration
		explanation string
	}{
		{0, 0, "nothing to say"},
		{-time.Second, 0, "negative is nothing"},
		{time.Nanosecond, time.Millisecond, "at least 1ms when positive"},
		{1500 * time.Microsecond, 2 * time.Millisecond, "rounded up to a whole millisecond"},
		{2 * time.Second, 2 * time.Second, "whole milliseconds pass through"},
		{MaxClientRetryAfter, MaxClientRetryAfter, "the cap itself"},
		{time.Hour, MaxClientRetryAfter, "capped at 60s: openai-go gives up above 2 minutes"},
		{time.Duration(math.MaxInt64), MaxClientRetryAfter, "no overflow"},
	} {
		if got := ClientRetryAfter(tc.in); got != tc.want {
			t.Errorf("ClientRetryAfter(%v) = %v, want %v (%s)", tc.in, got, tc.want, tc.explanation)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"1", "1.5", "-1", "Sun, 01 Mar 2026 12:00:30 GMT", "1e400", "99999999999999999999999"} {
		f.Add(s, s)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, ms, seconds string) {
		h := http.Header{"Retry-After-Ms": {ms}, "Retry-After": {seconds}}
		if d := ParseRetryAfter(h, now); d < 0 {
			t.Errorf("retry-after-ms %q, retry-after %q: negative %v", ms, seconds, d)
		}
	})
}
