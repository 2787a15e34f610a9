package trace

import (
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/clearbar/clearbar"
)

// This file writes a decision's JSON form by hand. It produces exactly the bytes json.Marshal
// produces for a *clearbar.Decision (TestAppendDecisionMatchesMarshal checks it field by
// field, and fails when a field is added to one of the types below without being added
// here), at about a tenth of the cost: encoding was the largest single cost of recording a
// decision. Reading back still goes through encoding/json.

// appendDecision appends d's JSON form to b. It fails, like json.Marshal, for a time whose
// year is outside [0, 9999] or a zone offset outside ±24h, and for a NaN or infinite verdict
// score. On failure it returns b unchanged.
func appendDecision(b []byte, d *clearbar.Decision) ([]byte, error) {
	w := jsonWriter{b: b}
	w.decision(d)
	if w.err != nil {
		return b, fmt.Errorf("trace: encode decision %s: %w", d.ID, w.err)
	}
	return w.b, nil
}

// jsonWriter appends JSON to b. The key arguments are the literal text before a value, such
// as `,"path":`. After the first error the writer keeps appending; the caller discards b.
type jsonWriter struct {
	b   []byte
	err error
}

func (w *jsonWriter) decision(d *clearbar.Decision) {
	w.str(`{"id":`, d.ID)
	w.time(`,"time":`, d.Time)
	w.str(`,"dialect":`, d.Dialect)
	w.str(`,"path":`, d.Path)
	w.str(`,"requested_model":`, d.RequestedModel)
	w.bool(`,"stream":`, d.Stream)
	w.strOmitEmpty(`,"client":`, d.Client)
	w.strOmitEmpty(`,"tier":`, d.Tier)
	w.str(`,"category":`, d.Category)
	w.str(`,"category_by":`, d.CategoryBy)
	if len(d.Rules) > 0 {
		w.raw(`,"rules":[`)
		for i := range d.Rules {
			r := &d.Rules[i]
			if i > 0 {
				w.raw(`,`)
			}
			w.str(`{"category":`, r.Category)
			w.str(`,"rule":`, r.Rule)
			w.int(`,"priority":`, int64(r.Priority))
			w.bool(`,"fired":`, r.Fired)
			w.strOmitEmpty(`,"error":`, r.Error)
			w.raw(`}`)
		}
		w.raw(`]`)
	}
	f := &d.Features
	w.int(`,"features":{"tokens_in":`, int64(f.TokensIn))
	w.int(`,"messages":`, int64(f.Messages))
	w.int(`,"turns":`, int64(f.Turns))
	w.int(`,"attachments":`, int64(f.Attachments))
	w.int(`,"images":`, int64(f.Images))
	w.bool(`,"tools":`, f.Tools)
	w.strOmitEmpty(`,"response_format":`, f.ResponseFormat)
	w.strOmitEmpty(`,"tier":`, f.Tier)
	w.strOmitEmpty(`,"risk":`, f.Risk)
	w.str(`,"model":`, f.Model)
	w.bool(`,"stream":`, f.Stream)
	w.raw(`}`)
	w.str(`,"route":`, d.Route)
	w.strOmitEmpty(`,"arm":`, d.Arm)
	w.raw(`,"plan":`)
	if d.Plan == nil {
		w.raw(`null`)
	} else {
		w.raw(`[`)
		for i, m := range d.Plan {
			if i > 0 {
				w.raw(`,`)
			}
			w.b = appendJSONString(w.b, m)
		}
		w.raw(`]`)
	}
	if len(d.Skipped) > 0 {
		w.raw(`,"skipped":[`)
		for i := range d.Skipped {
			if i > 0 {
				w.raw(`,`)
			}
			w.str(`{"model":`, d.Skipped[i].Model)
			w.str(`,"reason":`, d.Skipped[i].Reason)
			w.raw(`}`)
		}
		w.raw(`]`)
	}
	w.raw(`,"attempts":`)
	if d.Attempts == nil {
		w.raw(`null`)
	} else {
		w.raw(`[`)
		for i := range d.Attempts {
			if i > 0 {
				w.raw(`,`)
			}
			w.attempt(&d.Attempts[i])
		}
		w.raw(`]`)
	}
	w.str(`,"outcome":`, d.Outcome.String())
	w.str(`,"reason":`, d.Reason)
	w.strOmitEmpty(`,"model":`, d.Model)
	w.strOmitEmpty(`,"provider":`, d.Provider)
	w.int(`,"status":`, int64(d.Status))
	w.usage(`,"usage":`, &d.Usage)
	w.money(`,"cost_usd":`, d.Cost)
	w.money(`,"escalation_cost_usd":`, d.EscalationCost)
	w.int(`,"latency_ns":`, int64(d.Latency))
	w.int(`,"upstream_ns":`, int64(d.Upstream))
	w.int(`,"overhead_ns":`, int64(d.Overhead))
	w.int(`,"ttfb_ns":`, int64(d.TTFB))
	w.str(`,"prompt_hash":`, d.PromptHash)
	w.int(`,"prompt_chars":`, int64(d.PromptChars))
	w.int(`,"answer_chars":`, int64(d.AnswerChars))
	w.strOmitEmpty(`,"prompt":`, d.Prompt)
	w.strOmitEmpty(`,"answer":`, d.Answer)
	w.strOmitEmpty(`,"template_hash":`, d.TemplateHash)
	if d.DryRun {
		w.raw(`,"dry_run":true`)
	}
	w.raw(`}`)
}

func (w *jsonWriter) attempt(a *clearbar.Attempt) {
	w.int(`{"n":`, int64(a.N))
	w.str(`,"kind":`, a.Kind)
	w.int(`,"step":`, int64(a.Step))
	w.str(`,"model":`, a.Model)
	w.str(`,"provider":`, a.Provider)
	w.str(`,"upstream_model":`, a.UpstreamModel)
	w.time(`,"start":`, a.Start)
	w.int(`,"latency_ns":`, int64(a.Latency))
	w.intOmitEmpty(`,"ttft_ns":`, int64(a.TTFT))
	w.intOmitEmpty(`,"waited_ns":`, int64(a.Waited))
	w.usage(`,"usage":`, &a.Usage)
	w.money(`,"cost_usd":`, a.Cost)
	w.str(`,"class":`, a.Class.String())
	w.intOmitEmpty(`,"status":`, int64(a.Status))
	w.strOmitEmpty(`,"error":`, a.Error)
	if len(a.Verdicts) > 0 {
		w.raw(`,"verdicts":[`)
		for i := range a.Verdicts {
			v := &a.Verdicts[i]
			if i > 0 {
				w.raw(`,`)
			}
			w.str(`{"validator":`, v.Validator)
			w.bool(`,"pass":`, v.Pass)
			w.strOmitEmpty(`,"reason":`, v.Reason)
			if v.Score != 0 {
				w.float(`,"score":`, v.Score)
			}
			w.raw(`}`)
		}
		w.raw(`]`)
	}
	w.str(`,"outcome":`, a.Outcome)
	w.strOmitEmpty(`,"upstream_request_id":`, a.UpstreamRequestID)
	w.raw(`}`)
}

func (w *jsonWriter) usage(key string, u *clearbar.Usage) {
	w.raw(key)
	w.int(`{"prompt_tokens":`, int64(u.PromptTokens))
	w.int(`,"completion_tokens":`, int64(u.CompletionTokens))
	w.intOmitEmpty(`,"cached_tokens":`, int64(u.CachedTokens))
	w.intOmitEmpty(`,"cache_write_tokens":`, int64(u.CacheWriteTokens))
	w.intOmitEmpty(`,"reasoning_tokens":`, int64(u.ReasoningTokens))
	w.raw(`}`)
}

func (w *jsonWriter) raw(s string) { w.b = append(w.b, s...) }

func (w *jsonWriter) str(key, v string) {
	w.b = append(w.b, key...)
	w.b = appendJSONString(w.b, v)
}

func (w *jsonWriter) strOmitEmpty(key, v string) {
	if v != "" {
		w.str(key, v)
	}
}

func (w *jsonWriter) int(key string, v int64) {
	w.b = append(w.b, key...)
	w.b = strconv.AppendInt(w.b, v, 10)
}

func (w *jsonWriter) intOmitEmpty(key string, v int64) {
	if v != 0 {
		w.int(key, v)
	}
}

func (w *jsonWriter) bool(key string, v bool) {
	w.b = append(w.b, key...)
	w.b = strconv.AppendBool(w.b, v)
}

// time writes t as time.Time's MarshalJSON does: RFC 3339 with nanoseconds, quoted.
func (w *jsonWriter) time(key string, t time.Time) {
	w.b = append(w.b, key...)
	w.b = append(w.b, '"')
	b, err := t.AppendText(w.b)
	if err != nil {
		w.fail(err)
		return
	}
	w.b = append(b, '"')
}

// money writes m as Money's MarshalJSON does (Money.Decimal): an exact number of dollars.
func (w *jsonWriter) money(key string, m clearbar.Money) {
	w.b = append(w.b, key...)
	w.b = appendMoney(w.b, m)
}

// float writes f as encoding/json writes a float64: like ES6's number to string conversion.
func (w *jsonWriter) float(key string, f float64) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		w.fail(fmt.Errorf("unsupported value: %s", strconv.FormatFloat(f, 'g', -1, 64)))
		return
	}
	w.b = append(w.b, key...)
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	w.b = strconv.AppendFloat(w.b, f, format, -1, 64)
	if format == 'e' {
		// e-09 becomes e-9.
		if n := len(w.b); n >= 4 && w.b[n-4] == 'e' && w.b[n-3] == '-' && w.b[n-2] == '0' {
			w.b[n-2] = w.b[n-1]
			w.b = w.b[:n-1]
		}
	}
}

func (w *jsonWriter) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// appendMoney appends m.Decimal() without allocating.
func appendMoney(b []byte, m clearbar.Money) []byte {
	const nanos = 1_000_000_000
	n := int64(m)
	u := uint64(n)
	if n < 0 {
		b = append(b, '-')
		u = -u
	}
	b = strconv.AppendUint(b, u/nanos, 10)
	frac := u % nanos
	if frac == 0 {
		return b
	}
	var digits [9]byte
	for i := len(digits) - 1; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	end := len(digits)
	for digits[end-1] == '0' {
		end--
	}
	b = append(b, '.')
	return append(b, digits[:end]...)
}

// appendJSONString appends s as a JSON string, escaped as json.Marshal escapes it: the
// control characters, '"' and '\\', the HTML characters '<', '>' and '&', U+2028 and U+2029;
// invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// jsonSafe holds true for the ASCII bytes that appendJSONString copies as they are.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := byte(' '); c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()
