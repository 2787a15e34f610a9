package gateway

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/route"
)

// failOpenNote says why a plan kept model although every candidate was left out (its skip
// reason is route.FailedOpen): "every candidate's breaker was open; called big anyway" when
// every other candidate was left out for its breaker, else that every candidate was left out,
// some for their breakers. It says "kept" rather than "called" when the model was not called
// (the request ended first).
func failOpenNote(d *clearbar.Decision, model string) string {
	allBreakers := true
	for _, s := range d.Skipped {
		if s.Reason != route.FailedOpen && !breakerSkip(s.Reason) {
			allBreakers = false
		}
	}
	verb := "kept"
	for i := range d.Attempts {
		if d.Attempts[i].Model == model && !d.Attempts[i].ValidatorCall() {
			verb = "called"
			break
		}
	}
	if allBreakers {
		return fmt.Sprintf("every candidate's breaker was open; %s %s anyway", verb, model)
	}
	return fmt.Sprintf("every candidate was left out, some for an open breaker; %s %s anyway", verb, model)
}

// WriteExplanation writes a decision for people: the category and why, every rule, skipped
// candidates, every attempt, and why the final answer was accepted.
func WriteExplanation(w io.Writer, d *clearbar.Decision) error {
	var b strings.Builder
	title := "Decision " + d.ID
	if d.DryRun {
		title += " (dry run: no model was called)"
	}
	fmt.Fprintf(&b, "%s\n%s\n", title, strings.Repeat("─", len([]rune(title))))
	if !d.Time.IsZero() {
		fmt.Fprintf(&b, "time        %s\n", d.Time.UTC().Format(time.RFC3339Nano))
	}
	fmt.Fprintf(&b, "request     %s %s, model %q, stream %v", d.Dialect, d.Path, d.RequestedModel, d.Stream)
	if d.Client != "" {
		fmt.Fprintf(&b, ", client %s (tier %s)", d.Client, orDash(d.Tier))
	}
	b.WriteString("\n")
	f := d.Features
	fmt.Fprintf(&b, "features    tokens_in≈%d messages=%d turns=%d attachments=%d images=%d tools=%v response_format=%s risk=%s\n",
		f.TokensIn, f.Messages, f.Turns, f.Attachments, f.Images, f.Tools, orDash(f.ResponseFormat), orDash(f.Risk))
	fmt.Fprintf(&b, "category    %s — by %s\n", orDash(d.Category), orDash(d.CategoryBy))
	// Simulated providers at a time scale (serve --time-scale) answer in scaled wall-clock
	// time: the latencies below are divided by the scale, the simulated ones the spec's
	// assumptions speak of, as outcomes export and review report them.
	perAttempt := slices.ContainsFunc(d.Attempts, func(a clearbar.Attempt) bool { return a.TimeScale > 0 })
	attemptScale := func(a *clearbar.Attempt) float64 {
		if perAttempt {
			return a.TimeScale
		}
		return d.TimeScale
	}
	if d.TimeScale > 0 || perAttempt {
		scale := d.TimeScale
		if scale <= 0 {
			i := slices.IndexFunc(d.Attempts, func(a clearbar.Attempt) bool { return a.TimeScale > 0 })
			scale = d.Attempts[i].TimeScale
		}
		fmt.Fprintf(&b, "time scale  latencies at --time-scale %s, divided by it: the simulated ones, as outcomes export and review report them (wall-clock total %s, of which gateway overhead %s)\n",
			strconv.FormatFloat(scale, 'g', -1, 64), roundDur(d.Latency), roundDur(d.Overhead))
	}
	if len(d.Rules) > 0 {
		b.WriteString("rules       (highest priority first)\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, r := range d.Rules {
			mark := "  did not fire"
			if r.Fired {
				mark = "✓ fired"
			}
			if r.Error != "" {
				mark = "✗ error: " + r.Error
			}
			fmt.Fprintf(tw, "            %s\tpriority %d\t%s\t%s\n", r.Category, r.Priority, r.Rule, mark)
		}
		tw.Flush()
	}
	fmt.Fprintf(&b, "route       %s\n", orDash(d.Route))
	if d.Arm != "" {
		fmt.Fprintf(&b, "split arm   %s\n", d.Arm)
	}
	if sc := d.Score; sc != nil {
		fmt.Fprintf(&b, "score       %s, %s", sc.Router, sc.Rule)
		if sc.Router == clearbar.HeuristicRouter {
			fmt.Fprintf(&b, ": difficulty %.3f", sc.Difficulty)
		}
		for i, p := range sc.PPass {
			if i == 0 {
				b.WriteString(": P(pass)")
			}
			fmt.Fprintf(&b, " %s %.3f", p.Model, p.P)
		}
		fmt.Fprintf(&b, " → start on %s\n", sc.Start)
		if sc.WillingnessToPay != 0 && len(sc.PPass) > 0 {
			writeUtilities(&b, sc)
		}
		if e := sc.Embedding; e != nil {
			call := ""
			if e.Latency > 0 {
				call = roundDur(e.Latency)
			}
			if e.Tokens > 0 || e.Cost > 0 {
				approx := ""
				if e.TokensEstimated {
					approx = "≈"
				}
				call += fmt.Sprintf(", %s%d tokens, %s", approx, e.Tokens, e.Cost)
			}
			if e.Used {
				fmt.Fprintf(&b, "embedding   %s, used (%s)\n", e.Model, call)
			} else {
				fmt.Fprintf(&b, "embedding   %s, not used: %s", e.Model, e.Error)
				if call != "" {
					fmt.Fprintf(&b, " (%s)", call)
				}
				b.WriteString("; scored without it\n")
			}
		}
	}
	fmt.Fprintf(&b, "plan        %s\n", strings.Join(d.Plan, " → "))
	for _, s := range d.Skipped {
		if s.Reason == route.FailedOpen {
			fmt.Fprintf(&b, "fail-open   %s\n", failOpenNote(d, s.Model))
			continue
		}
		fmt.Fprintf(&b, "skipped     %s: %s\n", s.Model, s.Reason)
	}
	if len(d.Attempts) > 0 {
		b.WriteString("attempts\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  #\tKIND\tSTEP\tMODEL\tPROVIDER\tLATENCY\tTTFT\tTOKENS IN/OUT\tCOST\tRESULT\tNEXT")
		for _, a := range d.Attempts {
			result := a.Class.String()
			if a.Error != "" && a.Class != clearbar.OK {
				result += ": " + a.Error
			}
			if a.Status != 0 {
				result += fmt.Sprintf(" (HTTP %d)", a.Status)
			}
			scale := attemptScale(&a)
			ttft := "-"
			if a.TTFT > 0 {
				ttft = roundDur(unscaled(a.TTFT, scale))
			}
			tokens := fmt.Sprintf("%d/%d", a.Usage.PromptTokens, a.Usage.CompletionTokens)
			if a.UsageEstimated {
				tokens = "≈" + tokens
			}
			fmt.Fprintf(tw, "  %d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.N, a.Kind, a.Step, a.Model, a.Provider,
				roundDur(unscaled(a.Latency, scale)), ttft, tokens, a.Cost, result, orDash(a.Outcome))
			for _, v := range a.Verdicts {
				mark := "pass"
				switch {
				case v.Unverified:
					mark = "UNVERIFIED" // failed for want of a check, not found wanting
				case !v.Pass:
					mark = "FAIL"
				case v.NotApplicable:
					mark = "n/a" // passed without checking: the validator does not apply
				}
				fmt.Fprintf(tw, "\t\t\t\t\t\t\t\t\t  %s %s\t%s\n", mark, v.Validator, v.Reason)
			}
		}
		tw.Flush()
	}
	outcome := d.Outcome.String()
	if d.Status != 0 {
		outcome += fmt.Sprintf(", HTTP %d", d.Status)
	}
	fmt.Fprintf(&b, "outcome     %s\n", outcome)
	if d.Model != "" {
		fmt.Fprintf(&b, "answered by %s on %s\n", d.Model, d.Provider)
	}
	fmt.Fprintf(&b, "why         %s\n", orDash(d.Reason))
	if !d.DryRun {
		searches := ""
		if n := d.Usage.WebSearches; n > 0 {
			searches = fmt.Sprintf("; %d web search%s", n, map[bool]string{true: "es"}[n > 1])
		}
		// The tokens are the delivered answer's (the attempts above list every call's).
		tokens := "no answer delivered"
		if !d.Usage.IsZero() {
			tokens = fmt.Sprintf("the answer delivered %d tokens in, %d out", d.Usage.PromptTokens, d.Usage.CompletionTokens)
		}
		if cut := cutAnswer(d); cut != "" {
			tokens = fmt.Sprintf("the answer was cut: %d tokens streamed before %s (%d tokens in)", d.Usage.CompletionTokens, cut, d.Usage.PromptTokens)
		}
		scale := d.TimeScale
		fmt.Fprintf(&b, "cost        %s (of which %s on discarded attempts, which took %s); %s%s\n", d.Cost, d.EscalationCost, roundDur(unscaled(d.EscalationLatency, scale)), tokens, searches)
		t := simulatedTimes(d, perAttempt)
		fmt.Fprintf(&b, "time        total %s, upstream %s, gateway overhead %s, first byte %s\n", roundDur(t.total), roundDur(t.upstream), roundDur(d.Overhead), roundDur(t.ttfb))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeUtilities writes what a willingness-to-pay rule weighed for each model: its P(pass),
// the cost it reckoned the request has there and the utility it maximised, so that the
// starting model can be checked by hand.
func writeUtilities(b *strings.Builder, sc *clearbar.Score) {
	wtp := clearbar.MoneyFromUSD(sc.WillingnessToPay)
	fmt.Fprintf(b, "            utility = P(pass) − cost ÷ %s (the willingness to pay that decided); the highest starts, ties to the cheaper\n", wtp)
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "            MODEL\tP(PASS)\tCOST (USD)\tUTILITY")
	for _, m := range sc.PPass {
		mark := ""
		if m.Model == sc.Start {
			mark = "\t← start"
		}
		fmt.Fprintf(tw, "            %s\t%.4f\t%s\t%.6f%s\n", m.Model, m.P, significant(m.Cost, 4), m.Utility, mark)
	}
	tw.Flush()
}

// significant formats v in decimal notation with n significant digits: 0.0001788, 0.01234.
func significant(v float64, n int) string {
	if v == 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	decimals := max(n-1-int(math.Floor(math.Log10(math.Abs(v)))), 0)
	return strconv.FormatFloat(v, 'f', decimals, 64)
}

// cutAnswer says why the answer the client got was cut, "the client went away" or "the
// stream failed", when the decision's answer was a stream cut after it began; else "". Such
// an attempt counts among the discarded ones, and its tokens are those streamed.
func cutAnswer(d *clearbar.Decision) string {
	for i := len(d.Attempts) - 1; i >= 0; i-- {
		switch o := d.Attempts[i].Outcome; {
		case o == "client went away":
			return "the client went away"
		case o == "cut mid-stream":
			return "the stream failed"
		case o == "accepted" || strings.HasPrefix(o, "delivered"):
			return ""
		}
	}
	return ""
}

// times are a decision's total, upstream and first-byte times as explain shows them.
type times struct{ total, upstream, ttfb time.Duration }

// simulatedTimes are d's times with the simulated part divided by the time scale (serve
// --time-scale): the upstream calls to simulated providers. The gateway's overhead and the
// backoff between attempts are real time, slept at no scale, and are added as they were. The
// first byte's real part is taken to be the overhead and backoff, which come before it
// (nearly all of them, in a stream; all, in an answer sent whole).
func simulatedTimes(d *clearbar.Decision, perAttempt bool) times {
	if d.TimeScale <= 0 && !perAttempt {
		return times{d.Latency, d.Upstream, d.TTFB}
	}
	upstream := unscaled(d.Upstream, d.TimeScale)
	if perAttempt {
		// Only the attempts at a scale are simulated; any other upstream time (a real
		// provider's, a score route's embeddings call) is as recorded.
		upstream = d.Upstream
		for i := range d.Attempts {
			if a := &d.Attempts[i]; a.TimeScale > 0 {
				upstream += unscaled(a.Latency, a.TimeScale) - a.Latency
			}
		}
		upstream = max(upstream, 0)
	}
	unscaledTime := max(d.Latency-d.Upstream, 0) // overhead and backoff: real time
	ttfb := d.TTFB
	if ttfb > 0 && d.Upstream > 0 {
		// The rest of the first byte's time was upstream time, simulated as the upstream
		// time was as a whole.
		pre := min(ttfb, unscaledTime)
		ttfb = pre + time.Duration(float64(ttfb-pre)*float64(upstream)/float64(d.Upstream))
	}
	return times{total: upstream + unscaledTime, upstream: upstream, ttfb: ttfb}
}

// unscaled is a latency recorded at a time scale (serve --time-scale) divided by it: the
// simulated one. A scale of 0 (none) leaves it as recorded.
func unscaled(d time.Duration, scale float64) time.Duration {
	if scale <= 0 {
		return d
	}
	return time.Duration(float64(d) / scale)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func roundDur(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// DryRun classifies and plans a request without calling any model, as the gateway would with
// its breakers all closed. header may be nil.
func DryRun(g *Gateway, body []byte, header map[string]string, tier string) (*clearbar.Decision, error) {
	return dryRun(g, body, header, tier, g.limits, clearbar.DialectOpenAI, "/v1/chat/completions")
}

// DryRunMessages is DryRun for a /v1/messages request body, translated as the gateway's
// /v1/messages translates it (with the anthropic-version and anthropic-beta of header, a
// version left out read as the oldest) and read with the limits the gateway reads such a
// request with, so that what only Anthropic models take (a server tool, more than 4 stop
// sequences) leaves the other models out of the plan rather than failing the request.
func DryRunMessages(g *Gateway, body []byte, header map[string]string, tier string) (*clearbar.Decision, error) {
	h := http.Header{}
	for k, v := range header {
		h.Add(k, v)
	}
	version := strings.TrimSpace(h.Get("Anthropic-Version"))
	if version != "" && !supportedVersion(version) {
		return nil, unsupportedVersion(version)
	}
	chat, err := messagesToChat(body, version, h, false)
	if err != nil {
		return nil, err
	}
	return dryRun(g, chat, header, tier, g.messagesLimits(), clearbar.DialectAnthropic, "/v1/messages")
}

func dryRun(g *Gateway, body []byte, header map[string]string, tier string, lim Limits, dialect, path string) (*clearbar.Decision, error) {
	d := &clearbar.Decision{ID: "dry-run", Time: g.now(), Dialect: dialect, Path: path, DryRun: true, Attempts: []clearbar.Attempt{}}
	req, err := DecodeChatRequest(body, lim)
	if err != nil {
		return nil, err
	}
	d.RequestedModel, d.Stream = req.Model, req.Stream
	d.PromptHash, d.PromptChars = promptHash(req)
	in := routeInput(req, header, tier)
	cat, err := g.classify(in, d)
	if err != nil {
		refused(d, err)
		return d, err
	}
	if _, err := g.router.Plan(route.Offline(context.Background()), cat, in, nil, d); err != nil {
		g.blameMaxTokens(err, req, d)
		refused(d, err)
		return d, err
	}
	d.Reason = "dry run: the plan above is what the gateway would try, in order"
	return d, nil
}

// refused records on a dry run's decision the error the gateway would answer the request
// with: its class as the outcome, its status and its message as the reason.
func refused(d *clearbar.Decision, err error) {
	e := clearbar.AsError(err)
	d.Outcome, d.Status, d.Reason = e.Class, statusFor(e), e.Message
}
