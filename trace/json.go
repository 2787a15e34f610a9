package trace

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonstr"
)

// This file writes a decision's JSON form by hand. It produces exactly the bytes json.Marshal
// produces for a *clearbar.Decision (TestAppendDecisionMatchesMarshal checks it, and fails
// when a field is added to one of the types below without being added here), for a fifth of
// the time and no allocation: with encoding/json, encoding was the largest single cost of
// recording a decision. Reading back still goes through encoding/json.

// appendDecision appends d's JSON form to b. It fails, like json.Marshal, for a time whose
// year is outside [0, 9999] or a zone offset outside ±24h, and for a NaN or infinite verdict
// score. On failure it returns b unchanged.
//
// The helpers below take b and return it extended, rather than appending to a field of a
// writer struct: a slice in a local variable costs no GC write barrier on every append.
// Their key arguments are the literal text before a value, such as `,"path":`. Those that
// can fail record the first error in *err and keep appending; the caller discards b.
func appendDecision(b []byte, d *clearbar.Decision) ([]byte, error) {
	var err error
	out := appendDecisionObject(b, d, &err)
	if err != nil {
		return b, fmt.Errorf("trace: encode decision %s: %w", d.ID, err)
	}
	return out, nil
}

// appendDecisionObject, appendAttempt and appendUsage write the JSON objects of the types
// they are named after, field by field in declaration order, as encoding/json does.
func appendDecisionObject(b []byte, d *clearbar.Decision, err *error) []byte {
	b = appendStringField(b, `{"id":`, d.ID)
	b = appendTimeField(b, `,"time":`, d.Time, err)
	b = appendStringField(b, `,"dialect":`, d.Dialect)
	b = appendStringField(b, `,"path":`, d.Path)
	b = appendStringField(b, `,"requested_model":`, d.RequestedModel)
	b = appendBoolField(b, `,"stream":`, d.Stream)
	b = appendStringOmitEmpty(b, `,"client":`, d.Client)
	b = appendStringOmitEmpty(b, `,"tier":`, d.Tier)
	b = appendStringField(b, `,"category":`, d.Category)
	b = appendStringField(b, `,"category_by":`, d.CategoryBy)
	if len(d.Rules) > 0 {
		b = append(b, `,"rules":[`...)
		for i := range d.Rules {
			r := &d.Rules[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = appendStringField(b, `{"category":`, r.Category)
			b = appendStringField(b, `,"rule":`, r.Rule)
			b = appendIntField(b, `,"priority":`, int64(r.Priority))
			b = appendBoolField(b, `,"fired":`, r.Fired)
			b = appendStringOmitEmpty(b, `,"error":`, r.Error)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	f := &d.Features
	b = appendIntField(b, `,"features":{"tokens_in":`, int64(f.TokensIn))
	b = appendIntField(b, `,"messages":`, int64(f.Messages))
	b = appendIntField(b, `,"turns":`, int64(f.Turns))
	b = appendIntField(b, `,"attachments":`, int64(f.Attachments))
	b = appendIntField(b, `,"images":`, int64(f.Images))
	b = appendBoolField(b, `,"tools":`, f.Tools)
	b = appendStringOmitEmpty(b, `,"response_format":`, f.ResponseFormat)
	b = appendStringOmitEmpty(b, `,"tier":`, f.Tier)
	b = appendStringOmitEmpty(b, `,"risk":`, f.Risk)
	b = appendStringField(b, `,"model":`, f.Model)
	b = appendBoolField(b, `,"stream":`, f.Stream)
	b = append(b, '}')
	b = appendStringField(b, `,"route":`, d.Route)
	b = appendStringOmitEmpty(b, `,"arm":`, d.Arm)
	b = append(b, `,"plan":`...)
	if d.Plan == nil {
		b = append(b, `null`...)
	} else {
		b = append(b, '[')
		for i, m := range d.Plan {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonstr.AppendHTMLSafe(b, m)
		}
		b = append(b, ']')
	}
	if len(d.Skipped) > 0 {
		b = append(b, `,"skipped":[`...)
		for i := range d.Skipped {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendStringField(b, `{"model":`, d.Skipped[i].Model)
			b = appendStringField(b, `,"reason":`, d.Skipped[i].Reason)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if sc := d.Score; sc != nil {
		b = appendStringField(b, `,"score":{"router":`, sc.Router)
		b = appendStringField(b, `,"rule":`, sc.Rule)
		if sc.Difficulty != 0 || sc.Router == clearbar.HeuristicRouter { // as Score.MarshalJSON
			b = appendFloatField(b, `,"difficulty":`, sc.Difficulty, err)
		}
		// A willingness-to-pay score has every model's cost and utility, also when 0; any
		// other has them when they are not 0 (as Score.MarshalJSON).
		wtp := sc.WillingnessToPay != 0
		if wtp {
			b = appendFloatField(b, `,"willingness_to_pay":`, sc.WillingnessToPay, err)
		}
		if len(sc.PPass) > 0 {
			b = append(b, `,"p_pass":[`...)
			for i := range sc.PPass {
				m := &sc.PPass[i]
				if i > 0 {
					b = append(b, ',')
				}
				b = appendStringField(b, `{"model":`, m.Model)
				b = appendFloatField(b, `,"p":`, m.P, err)
				if wtp || m.Cost != 0 {
					b = appendFloatField(b, `,"cost_usd":`, m.Cost, err)
				}
				if wtp || m.Utility != 0 {
					b = appendFloatField(b, `,"utility":`, m.Utility, err)
				}
				b = append(b, '}')
			}
			b = append(b, ']')
		}
		b = appendStringField(b, `,"start":`, sc.Start)
		if e := sc.Embedding; e != nil {
			b = appendStringField(b, `,"embedding":{"model":`, e.Model)
			b = appendBoolField(b, `,"used":`, e.Used)
			b = appendStringOmitEmpty(b, `,"error":`, e.Error)
			b = appendIntField(b, `,"latency_ns":`, int64(e.Latency))
			b = appendIntField(b, `,"tokens":`, int64(e.Tokens))
			if e.TokensEstimated {
				b = appendBoolField(b, `,"tokens_estimated":`, true)
			}
			b = appendMoneyField(b, `,"cost_usd":`, e.Cost)
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	b = append(b, `,"attempts":`...)
	if d.Attempts == nil {
		b = append(b, `null`...)
	} else {
		b = append(b, '[')
		for i := range d.Attempts {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendAttempt(b, &d.Attempts[i], err)
		}
		b = append(b, ']')
	}
	b = appendStringField(b, `,"outcome":`, d.Outcome.String())
	b = appendStringField(b, `,"reason":`, d.Reason)
	b = appendStringOmitEmpty(b, `,"model":`, d.Model)
	b = appendStringOmitEmpty(b, `,"provider":`, d.Provider)
	b = appendIntField(b, `,"status":`, int64(d.Status))
	if d.Shutdown {
		b = appendBoolField(b, `,"shutdown":`, true)
	}
	b = appendUsage(b, `,"usage":`, &d.Usage)
	b = appendMoneyField(b, `,"cost_usd":`, d.Cost)
	b = appendMoneyField(b, `,"escalation_cost_usd":`, d.EscalationCost)
	b = appendIntField(b, `,"escalation_latency_ns":`, int64(d.EscalationLatency))
	b = appendIntField(b, `,"latency_ns":`, int64(d.Latency))
	b = appendIntField(b, `,"upstream_ns":`, int64(d.Upstream))
	b = appendIntField(b, `,"overhead_ns":`, int64(d.Overhead))
	b = appendIntField(b, `,"ttfb_ns":`, int64(d.TTFB))
	if d.TimeScale != 0 {
		b = appendFloatField(b, `,"time_scale":`, d.TimeScale, err)
	}
	b = appendStringField(b, `,"prompt_hash":`, d.PromptHash)
	b = appendIntField(b, `,"prompt_chars":`, int64(d.PromptChars))
	b = appendIntField(b, `,"answer_chars":`, int64(d.AnswerChars))
	b = appendStringOmitEmpty(b, `,"prompt":`, d.Prompt)
	b = appendStringOmitEmpty(b, `,"answer":`, d.Answer)
	b = appendStringOmitEmpty(b, `,"template_hash":`, d.TemplateHash)
	if d.DryRun {
		b = append(b, `,"dry_run":true`...)
	}
	if d.Flagged {
		b = append(b, `,"flagged":true`...)
	}
	b = appendStringOmitEmpty(b, `,"flag_reason":`, d.FlagReason)
	b = append(b, '}')
	return b
}

func appendAttempt(b []byte, a *clearbar.Attempt, err *error) []byte {
	b = appendIntField(b, `{"n":`, int64(a.N))
	b = appendStringField(b, `,"kind":`, a.Kind)
	b = appendIntField(b, `,"step":`, int64(a.Step))
	b = appendStringField(b, `,"model":`, a.Model)
	b = appendStringField(b, `,"provider":`, a.Provider)
	b = appendStringField(b, `,"upstream_model":`, a.UpstreamModel)
	b = appendTimeField(b, `,"start":`, a.Start, err)
	b = appendIntField(b, `,"latency_ns":`, int64(a.Latency))
	if a.TimeScale != 0 {
		b = appendFloatField(b, `,"time_scale":`, a.TimeScale, err)
	}
	if a.Simulated {
		b = appendBoolField(b, `,"simulated":`, true)
	}
	b = appendIntOmitEmpty(b, `,"ttft_ns":`, int64(a.TTFT))
	b = appendIntOmitEmpty(b, `,"waited_ns":`, int64(a.Waited))
	b = appendUsage(b, `,"usage":`, &a.Usage)
	if a.UsageEstimated {
		b = appendBoolField(b, `,"usage_estimated":`, true)
	}
	b = appendMoneyField(b, `,"cost_usd":`, a.Cost)
	b = appendStringField(b, `,"class":`, a.Class.String())
	b = appendIntOmitEmpty(b, `,"status":`, int64(a.Status))
	b = appendStringOmitEmpty(b, `,"error":`, a.Error)
	if len(a.Verdicts) > 0 {
		b = append(b, `,"verdicts":[`...)
		for i := range a.Verdicts {
			v := &a.Verdicts[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = appendStringField(b, `{"validator":`, v.Validator)
			b = appendBoolField(b, `,"pass":`, v.Pass)
			b = appendStringOmitEmpty(b, `,"reason":`, v.Reason)
			if v.Score != 0 {
				b = appendFloatField(b, `,"score":`, v.Score, err)
			}
			if v.Unverified {
				b = appendBoolField(b, `,"unverified":`, true)
			}
			if v.NotApplicable {
				b = appendBoolField(b, `,"not_applicable":`, true)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = appendStringField(b, `,"outcome":`, a.Outcome)
	b = appendStringOmitEmpty(b, `,"upstream_request_id":`, a.UpstreamRequestID)
	b = append(b, '}')
	return b
}

func appendUsage(b []byte, key string, u *clearbar.Usage) []byte {
	b = append(b, key...)
	b = appendIntField(b, `{"prompt_tokens":`, int64(u.PromptTokens))
	b = appendIntField(b, `,"completion_tokens":`, int64(u.CompletionTokens))
	b = appendIntOmitEmpty(b, `,"cached_tokens":`, int64(u.CachedTokens))
	b = appendIntOmitEmpty(b, `,"cache_write_tokens":`, int64(u.CacheWriteTokens))
	b = appendIntOmitEmpty(b, `,"cache_write_1h_tokens":`, int64(u.CacheWrite1hTokens))
	b = appendIntOmitEmpty(b, `,"reasoning_tokens":`, int64(u.ReasoningTokens))
	b = appendIntOmitEmpty(b, `,"web_searches":`, int64(u.WebSearches))
	b = appendIntOmitEmpty(b, `,"grounded_prompts":`, int64(u.GroundedPrompts))
	b = appendStringOmitEmpty(b, `,"web_search_context":`, u.WebSearchContext)
	b = append(b, '}')
	return b
}

func appendStringField(b []byte, key, v string) []byte {
	b = append(b, key...)
	return jsonstr.AppendHTMLSafe(b, v)
}

func appendStringOmitEmpty(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	return appendStringField(b, key, v)
}

func appendIntField(b []byte, key string, v int64) []byte {
	b = append(b, key...)
	return strconv.AppendInt(b, v, 10)
}

func appendIntOmitEmpty(b []byte, key string, v int64) []byte {
	if v == 0 {
		return b
	}
	return appendIntField(b, key, v)
}

func appendBoolField(b []byte, key string, v bool) []byte {
	b = append(b, key...)
	return strconv.AppendBool(b, v)
}

// appendTimeField writes t as time.Time's MarshalJSON does: RFC 3339 with nanoseconds,
// quoted.
func appendTimeField(b []byte, key string, t time.Time, err *error) []byte {
	b = append(b, key...)
	b = append(b, '"')
	out, e := t.AppendText(b)
	if e != nil {
		if *err == nil {
			*err = e
		}
		return b
	}
	return append(out, '"')
}

// appendMoneyField writes m as Money's MarshalJSON does (Money.Decimal): an exact number of
// dollars.
func appendMoneyField(b []byte, key string, m clearbar.Money) []byte {
	b = append(b, key...)
	return appendMoney(b, m)
}

// appendFloatField writes f as encoding/json writes a float64: like ES6's number to string
// conversion.
func appendFloatField(b []byte, key string, f float64, err *error) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		if *err == nil {
			*err = fmt.Errorf("unsupported value: %s", strconv.FormatFloat(f, 'g', -1, 64))
		}
		return b
	}
	b = append(b, key...)
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 becomes e-9.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
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
