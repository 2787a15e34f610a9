package loadtest

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"
)

// Targets from the issue, for the clearbar targets against the bare proxy.
const (
	MaxCPURatio       = 1.5
	MaxAddedP50Ratio  = 1.3
	MinThroughputRate = 0.75
	MaxPeakRSS        = 60 << 20
)

// Check is one target of the issue, evaluated for one clearbar target.
type Check struct {
	Target string
	// What is checked; Proxy and Value the proxy's and the target's figures, Ratio their
	// ratio (0 for an absolute limit), Limit the limit as text.
	What, Proxy, Value, Limit string
	Ratio                     float64
	Pass, Missing             bool
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()*1e3) }
func us(d time.Duration) string { return fmt.Sprintf("%.0f", d.Seconds()*1e6) }
func mb(n int64) string         { return fmt.Sprintf("%.1f", float64(n)/(1<<20)) }
func rps(f float64) string      { return fmt.Sprintf("%.0f", f) }
func signedMS(d time.Duration) string {
	if d < 0 {
		return "−" + ms(-d)
	}
	return "+" + ms(d)
}

func (r *Report) get(phase, target string) *Measurement {
	if r.Results[phase] == nil {
		return nil
	}
	return r.Results[phase][target]
}

// Added returns the target's latency quantile q (TTFB when ttfb) minus the direct target's, in
// the same phase; ok is false when either is missing.
func (r *Report) Added(phase, target string, q float64, ttfb bool) (time.Duration, bool) {
	m, d := r.get(phase, target), r.get(phase, TargetDirect)
	if m == nil || d == nil || m.Completed == 0 || d.Completed == 0 {
		return 0, false
	}
	if ttfb {
		return m.TTFB.Quantile(q) - d.TTFB.Quantile(q), true
	}
	return m.Latency.Quantile(q) - d.Latency.Quantile(q), true
}

func (r *Report) info(target string) *TargetInfo {
	for i := range r.Targets {
		if r.Targets[i].Name == target {
			return &r.Targets[i]
		}
	}
	return nil
}

// Checks evaluates the targets for every clearbar target measured with the proxy.
func (r *Report) Checks() []Check {
	var out []Check
	if r.info(TargetProxy) == nil {
		return nil
	}
	for _, t := range r.Config.Targets {
		if t != TargetClearbar && t != TargetClearbarNoTrace && t != TargetBaseline {
			continue
		}
		for _, ph := range r.Phases {
			if ph.Stream {
				continue
			}
			p, m := r.get(ph.Name, TargetProxy), r.get(ph.Name, t)
			c := Check{Target: t, What: "CPU per request, " + ph.Name + " (µs)", Limit: fmt.Sprintf("≤ %.2g× proxy", MaxCPURatio)}
			if p == nil || m == nil || p.CPUPerRequest(p.CPU) == 0 {
				c.Missing = true
			} else {
				pc, mc := p.CPUPerRequest(p.CPU), m.CPUPerRequest(m.CPU)
				c.Proxy, c.Value, c.Ratio = us(pc), us(mc), float64(mc)/float64(pc)
				c.Pass = c.Ratio <= MaxCPURatio
			}
			out = append(out, c)
		}
		for _, ph := range r.Phases {
			if ph.Open == nil || ph.Stream {
				continue
			}
			c := Check{Target: t, What: "added p50 over direct, " + ph.Name + " (ms)", Limit: fmt.Sprintf("≤ %.2g× proxy", MaxAddedP50Ratio)}
			pa, ok1 := r.Added(ph.Name, TargetProxy, 0.5, false)
			ma, ok2 := r.Added(ph.Name, t, 0.5, false)
			if !ok1 || !ok2 || pa <= 0 {
				c.Missing = !ok1 || !ok2
				c.Proxy, c.Value = signedMS(pa), signedMS(ma)
				c.Pass = ok1 && ok2 && ma <= pa
			} else {
				c.Proxy, c.Value, c.Ratio = signedMS(pa), signedMS(ma), float64(ma)/float64(pa)
				c.Pass = c.Ratio <= MaxAddedP50Ratio
			}
			out = append(out, c)
		}
		for _, ph := range r.Phases {
			if ph.Closed == nil {
				continue
			}
			p, m := r.get(ph.Name, TargetProxy), r.get(ph.Name, t)
			c := Check{Target: t, What: "throughput, " + ph.Name + " (req/s)", Limit: fmt.Sprintf("≥ %.2g× proxy", MinThroughputRate)}
			if p == nil || m == nil || p.Throughput == 0 {
				c.Missing = true
			} else {
				c.Proxy, c.Value, c.Ratio = rps(p.Throughput), rps(m.Throughput), m.Throughput/p.Throughput
				c.Pass = c.Ratio >= MinThroughputRate
			}
			out = append(out, c)
		}
		c := Check{Target: t, What: "peak RSS (MB)", Limit: "≤ " + mb(MaxPeakRSS)}
		if pi, ti := r.info(TargetProxy), r.info(t); pi != nil && ti != nil && ti.PeakRSS > 0 {
			c.Proxy, c.Value, c.Pass = mb(pi.PeakRSS), mb(ti.PeakRSS), ti.PeakRSS <= MaxPeakRSS
		} else {
			c.Missing = true
		}
		out = append(out, c)
	}
	return out
}

// WriteMarkdown writes the report.
func (r *Report) WriteMarkdown(w io.Writer) {
	c := r.Config
	fmt.Fprintf(w, "## clearbar-load run, %s\n\n", r.Start.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "```\n%s\n```\n\n", c.CommandLine)
	fmt.Fprintf(w, "Machine: %s, %d cores, %s/%s, harness built with %s. Whole run: %.0f s.\n\n", r.Machine, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), r.Elapsed.Seconds())
	fmt.Fprintf(w, "Other processes used %.0f%% of the machine's CPU capacity while the phases ran (the noise in these figures).\n\n", r.OtherCPU*100)
	if r.ClearbarBuild != "" {
		fmt.Fprintf(w, "Clearbar: %s.\n\n", r.ClearbarBuild)
	}
	fmt.Fprintf(w, "Every phase runs in %d rounds; in each round every target gets an equal share of the phase's time, in rotating order.\n\n", c.Rounds)
	fmt.Fprintf(w, "Mock upstream: `%s` (answer delay %s; streams: %d content chunks, %s apart, with a usage chunk).\n\n", r.MockCommand, c.MockDelay, c.Chunks, c.ChunkDelay)
	fmt.Fprintf(w, "| target | command | peak RSS (MB) |\n|---|---|---:|\n")
	for _, t := range r.Targets {
		rss := "–"
		if t.PeakRSS > 0 {
			rss = mb(t.PeakRSS)
		}
		fmt.Fprintf(w, "| %s | `%s` | %s |\n", t.Name, t.Command, rss)
	}
	fmt.Fprintf(w, "\n")

	names := make([]string, len(r.Targets))
	for i, t := range r.Targets {
		names[i] = t.Name
	}
	fmt.Fprintf(w, "| measurement | %s |\n|---|%s\n", strings.Join(names, " | "), strings.Repeat("---:|", len(names)))
	cur := ""
	row := func(label string, f func(t string, m *Measurement) string) {
		cells := make([]string, len(names))
		for i, n := range names {
			cells[i] = "–"
			if m := r.get(cur, n); m != nil {
				if s := f(n, m); s != "" {
					cells[i] = s
				}
			}
		}
		fmt.Fprintf(w, "| %s | %s |\n", label, strings.Join(cells, " | "))
	}
	for _, ph := range r.Phases {
		cur = ph.Name
		fmt.Fprintf(w, "| **%s** |%s\n", ph.Label, strings.Repeat(" |", len(names)))
		added := func(q float64, ttfb bool) func(string, *Measurement) string {
			return func(t string, m *Measurement) string {
				if t == TargetDirect {
					return ""
				}
				if d, ok := r.Added(ph.Name, t, q, ttfb); ok {
					return signedMS(d)
				}
				return ""
			}
		}
		if ph.Closed != nil {
			row("throughput (req/s)", func(_ string, m *Measurement) string { return rps(m.Throughput) })
		}
		if ph.Stream {
			row("time to first byte p50 (ms)", func(_ string, m *Measurement) string { return ms(m.TTFB.Quantile(0.5)) })
			row("time to first byte p99 (ms)", func(_ string, m *Measurement) string { return ms(m.TTFB.Quantile(0.99)) })
			row("added TTFB p50 over direct (ms)", added(0.5, true))
			row("added TTFB p99 over direct (ms)", added(0.99, true))
			row("whole stream p50 (ms)", func(_ string, m *Measurement) string { return ms(m.Latency.Quantile(0.5)) })
		} else {
			row("latency p50 (ms)", func(_ string, m *Measurement) string { return ms(m.Latency.Quantile(0.5)) })
			row("latency p99 (ms)", func(_ string, m *Measurement) string { return ms(m.Latency.Quantile(0.99)) })
			if ph.Open != nil {
				// A closed loop runs each target at its own rate: no common load to subtract.
				row("added p50 over direct (ms)", added(0.5, false))
				row("added p99 over direct (ms)", added(0.99, false))
			}
		}
		if ph.Open != nil {
			row("p99 from scheduled send (ms)", func(_ string, m *Measurement) string { return ms(m.Scheduled.Quantile(0.99)) })
		}
		row("CPU per request (µs)", func(t string, m *Measurement) string {
			if t == TargetDirect {
				return ""
			}
			return us(m.CPUPerRequest(m.CPU))
		})
		row("completed / errors", func(_ string, m *Measurement) string { return fmt.Sprintf("%d / %d", m.Completed, m.Errors) })
	}
	fmt.Fprintf(w, "\n")

	if checks := r.Checks(); len(checks) > 0 {
		fmt.Fprintf(w, "| target | check | proxy | value | ratio | limit | met |\n|---|---|---:|---:|---:|---|---|\n")
		for _, k := range checks {
			ratio := "–"
			if k.Ratio != 0 {
				ratio = fmt.Sprintf("%.2f×", k.Ratio)
			}
			verdict := "**no**"
			switch {
			case k.Missing:
				verdict = "not measured"
			case k.Pass:
				verdict = "yes"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", k.Target, k.What, k.Proxy, k.Value, ratio, k.Limit, verdict)
		}
		fmt.Fprintf(w, "\n")
	}

	fmt.Fprintf(w, "Load generator and mock, per phase and target: how late requests left against their schedule (open loop), and the CPU time per request of the generator (this process) and of the mock.\n\n")
	fmt.Fprintf(w, "| phase | target | send lag p50 / p99 (ms) | generator CPU/req (µs) | mock CPU/req (µs) |\n|---|---|---:|---:|---:|\n")
	for _, ph := range r.Phases {
		for _, n := range names {
			m := r.get(ph.Name, n)
			if m == nil {
				continue
			}
			lag := "–"
			if ph.Open != nil {
				lag = ms(m.Lag.Quantile(0.5)) + " / " + ms(m.Lag.Quantile(0.99))
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", ph.Name, n, lag, us(m.CPUPerRequest(m.GenCPU)), us(m.CPUPerRequest(m.MockCPU)))
		}
	}
	fmt.Fprintf(w, "\n")
	for _, ph := range r.Phases {
		for _, n := range names {
			if m := r.get(ph.Name, n); m != nil && len(m.FirstErrors) > 0 {
				fmt.Fprintf(w, "- errors, %s, %s: %s\n", ph.Name, n, strings.Join(m.FirstErrors, "; "))
			}
		}
	}
	for _, t := range r.Targets {
		for _, n := range t.Notes {
			fmt.Fprintf(w, "- %s log: `%s`\n", t.Name, n)
		}
	}
}
