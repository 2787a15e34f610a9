package loadtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Target names.
const (
	TargetDirect   = "direct"
	TargetProxy    = "proxy"
	TargetClearbar = "clearbar"
	// TargetClearbarNoTrace is clearbar serve with --trace none: routing without recording.
	TargetClearbarNoTrace = "clearbar-notrace"
	// TargetBaseline is another clearbar binary (Config.Baseline) served as clearbar is, so
	// that two builds are compared in one run, each against the same proxy.
	TargetBaseline = "clearbar-baseline"
)

// Config configures a harness run. Zero durations and rates take the defaults below.
type Config struct {
	// Self is the clearbar-load binary, run with the mock, proxy and gateway subcommands.
	Self string
	// Clearbar is the clearbar binary; empty builds ./cmd/clearbar from Repo into a
	// temporary directory.
	Clearbar, Repo string
	// InProcessGateway runs the clearbar targets as "clearbar-load gateway" (the same wiring
	// as clearbar serve, in this binary) instead of clearbar serve, and ProfileDir, if set,
	// receives their CPU profiles.
	InProcessGateway bool
	ProfileDir       string
	// PlainProxy runs the proxy target without full duplex (see NewBareProxy), to show the
	// streams it cuts short.
	PlainProxy bool
	// Targets to measure, in order; empty means all four, and clearbar-baseline too when
	// Baseline is set.
	Targets []string
	// Baseline is a second clearbar binary, measured as target clearbar-baseline with the
	// same settings as clearbar (decisions recorded to SQLite): a build to compare with.
	Baseline string
	// Rates are the open-loop rates (requests/s) of non-streaming requests, each run for
	// RateDuration.
	Rates        []float64
	RateDuration time.Duration
	// StreamRate is the open-loop rate of the streaming phase, run for StreamDuration.
	StreamRate     float64
	StreamDuration time.Duration
	// Conns closed-loop connections for ClosedDuration measure maximum throughput; Warmup
	// runs the same before a target's first phase, unmeasured.
	Conns                  int
	ClosedDuration, Warmup time.Duration
	// Rounds splits every phase into this many rounds; in each round every target runs for
	// the phase's duration divided by Rounds, so that the targets take turns and drift in the
	// machine's load reaches them all alike. 0 means DefaultRounds.
	Rounds int
	// Uniform spaces arrivals evenly instead of as a Poisson process.
	Uniform bool
	// The mock upstream: delay before the answer or first chunk, content chunks per stream,
	// delay between chunks.
	MockDelay  time.Duration
	Chunks     int
	ChunkDelay time.Duration
	// Settle is waited after each phase before the CPU time is read, so that work the
	// phase caused (the recorder's last batch) is counted in it.
	Settle time.Duration
	// CommandLine is printed in the report.
	CommandLine string
	// Log receives progress.
	Log io.Writer
}

// Defaults.
const (
	DefaultRateDuration   = 8 * time.Second
	DefaultStreamRate     = 200
	DefaultStreamDuration = 6 * time.Second
	DefaultConns          = 64
	DefaultClosedDuration = 8 * time.Second
	DefaultWarmup         = 2 * time.Second
	DefaultSettle         = 300 * time.Millisecond
	DefaultRounds         = 4
	DefaultChunkDelay     = 2 * time.Millisecond
)

// DefaultRates are the open-loop rates measured by default.
var DefaultRates = []float64{500, 2000}

// AllTargets lists every target.
var AllTargets = []string{TargetDirect, TargetProxy, TargetClearbar, TargetClearbarNoTrace}

func (c *Config) defaults() {
	if len(c.Targets) == 0 {
		c.Targets = AllTargets
		if c.Baseline != "" {
			c.Targets = append(slices.Clone(AllTargets), TargetBaseline)
		}
	}
	if len(c.Rates) == 0 {
		c.Rates = DefaultRates
	}
	if c.RateDuration <= 0 {
		c.RateDuration = DefaultRateDuration
	}
	if c.StreamRate <= 0 {
		c.StreamRate = DefaultStreamRate
	}
	if c.StreamDuration <= 0 {
		c.StreamDuration = DefaultStreamDuration
	}
	if c.Conns <= 0 {
		c.Conns = DefaultConns
	}
	if c.ClosedDuration <= 0 {
		c.ClosedDuration = DefaultClosedDuration
	}
	if c.Warmup < 0 {
		c.Warmup = 0
	}
	if c.Rounds <= 0 {
		c.Rounds = DefaultRounds
	}
	if c.Settle <= 0 {
		c.Settle = DefaultSettle
	}
	if c.Chunks <= 0 {
		c.Chunks = DefaultChunks
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
}

// Phase is one load shape, run against every target.
type Phase struct {
	// Name is the phase's key: "open-500", "stream-200", "closed-64".
	Name string
	// Label describes it in the report.
	Label  string
	Open   *OpenLoop
	Closed *ClosedLoop
	Stream bool
}

// Measurement is one phase against one target.
type Measurement struct {
	*Result
	// CPU is the target process's CPU time over the phase (0 for direct); MockCPU and
	// GenCPU those of the mock upstream and of the harness (the load generator).
	CPU, MockCPU, GenCPU time.Duration
}

// CPUPerRequest returns CPU divided by the requests the phase completed.
func (m *Measurement) CPUPerRequest(cpu time.Duration) time.Duration {
	if m == nil || m.Completed == 0 {
		return 0
	}
	return cpu / time.Duration(m.Completed)
}

// TargetInfo is what the report says about a target besides its measurements.
type TargetInfo struct {
	Name, Command string
	// PeakRSS is VmHWM at the end of the run, 0 for direct.
	PeakRSS int64
	// Notes are the process's log lines worth reporting (decisions recorded, warnings).
	Notes []string
}

// Report is a harness run's outcome.
type Report struct {
	Config  Config
	Start   time.Time
	Elapsed time.Duration
	Phases  []Phase
	Targets []TargetInfo
	// Results[phase][target].
	Results map[string]map[string]*Measurement
	// MockCommand is how the mock was started; MockPeakRSS its VmHWM.
	MockCommand string
	MockPeakRSS int64
	Machine     string
	// OtherCPU is the share of the machine's CPU capacity that processes other than the
	// harness, the mock and the targets used while the phases ran: the noise in the figures.
	OtherCPU float64
	// ClearbarBuild says which clearbar was measured.
	ClearbarBuild string
}

// Body of the non-streaming request: a support question with a system prompt, as a client
// sends it to the gateway's category alias. The mock answers it whatever the model.
const requestBody = `{"model":"clearbar/chat","messages":[{"role":"system","content":"You are a concise support assistant for an online shop. Answer in at most two sentences and never promise a delivery date."},{"role":"user","content":"Where is my order #48213? It was supposed to arrive on Tuesday and the tracking page has not changed since Monday."}],"temperature":0.2,"max_tokens":200}`

// StreamBody is requestBody as a stream that asks for usage.
var streamBody = strings.TrimSuffix(requestBody, "}") + `,"stream":true,"stream_options":{"include_usage":true}}`

// SpecYAML returns the spec clearbar serves in the harness: one openai-compatible provider at
// the mock, one catalogue model, one category with a static route.
func SpecYAML(mockURL string) string {
	return `version: 1
name: loadtest
description: One openai-compatible provider (the harness's mock upstream), one model, one category with a static route.
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000000}
providers:
  mock: {type: openai-compatible, base_url: "` + mockURL + `/v1"}
models:
  mini: {provider: mock, model: gpt-4o-mini, latency: {p50: 400ms, p95: 1s}}
categories:
  - name: chat
    default: true
    share: 1
    tokens: {in: 60, out: 35}
    quality_bar: 0.9
    failure_impact: {bad_answer: 0.01}
    route: {model: mini}
    assume: {pass_rate: {mini: 0.95}}
`
}

type target struct {
	info TargetInfo
	proc *Process
	url  string
	cl   *http.Client
}

func (c *Config) phases() []Phase {
	var ps []Phase
	arrivals := "Poisson"
	if c.Uniform {
		arrivals = "uniform"
	}
	for i, r := range c.Rates {
		ps = append(ps, Phase{Name: fmt.Sprintf("open-%g", r), Label: fmt.Sprintf("open loop, %g req/s (%s), %s", r, arrivals, c.RateDuration),
			Open: &OpenLoop{Rate: r, Duration: c.RateDuration, Uniform: c.Uniform, Seed: uint64(i + 1)}})
	}
	ps = append(ps, Phase{Name: fmt.Sprintf("stream-%g", c.StreamRate), Stream: true,
		Label: fmt.Sprintf("streams, open loop, %g req/s (%s), %s, %d chunks %s apart", c.StreamRate, arrivals, c.StreamDuration, c.Chunks, c.ChunkDelay),
		Open:  &OpenLoop{Rate: c.StreamRate, Duration: c.StreamDuration, Uniform: c.Uniform, Seed: 99}})
	ps = append(ps, Phase{Name: fmt.Sprintf("closed-%d", c.Conns), Label: fmt.Sprintf("closed loop, %d connections, %s", c.Conns, c.ClosedDuration),
		Closed: &ClosedLoop{Conns: c.Conns, Duration: c.ClosedDuration}})
	return ps
}

// Run starts the mock and the targets, runs every phase against every target (targets
// interleaved, their order rotated from phase to phase so that drift in the machine's load
// does not always favour the same one), stops everything and returns the measurements.
func Run(ctx context.Context, c Config) (*Report, error) {
	c.defaults()
	rep := &Report{Config: c, Start: time.Now(), Results: map[string]map[string]*Measurement{}, Machine: machine()}
	dir, err := os.MkdirTemp("", "clearbar-load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	logf := func(format string, a ...any) { fmt.Fprintf(c.Log, format+"\n", a...) }

	needClearbar := false
	for _, t := range c.Targets {
		switch t {
		case TargetDirect, TargetProxy:
		case TargetClearbar, TargetClearbarNoTrace:
			needClearbar = true
		case TargetBaseline:
			if c.Baseline == "" {
				return nil, fmt.Errorf("target %s needs a baseline binary (--baseline PATH)", t)
			}
		default:
			return nil, fmt.Errorf("unknown target %q (use %s)", t, strings.Join(AllTargets, ", "))
		}
	}
	clearbarBin := c.Clearbar
	if needClearbar && clearbarBin == "" && !c.InProcessGateway {
		clearbarBin = filepath.Join(dir, "clearbar")
		logf("building clearbar: go build -o %s ./cmd/clearbar", clearbarBin)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", clearbarBin, "./cmd/clearbar")
		cmd.Dir = c.Repo
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("building clearbar: %v\n%s", err, out)
		}
		rep.ClearbarBuild = "built from " + describe(c.Repo)
	} else if needClearbar && c.InProcessGateway {
		rep.ClearbarBuild = "the gateway in clearbar-load, built from the tree clearbar-load was built from"
	} else if needClearbar {
		rep.ClearbarBuild = clearbarBin
	}

	mockArgs := []string{"mock", "--listen", "{addr}", "--delay", c.MockDelay.String(), "--chunks", strconv.Itoa(c.Chunks), "--chunk-delay", c.ChunkDelay.String()}
	mock, err := StartProcess("mock", filepath.Join(dir, "mock.log"), c.Self, mockArgs...)
	if err != nil {
		return nil, err
	}
	rep.MockCommand = "clearbar-load " + QuoteArgs(mockArgs)
	defer mock.Stop(5 * time.Second)
	logf("mock upstream on %s (pid %d)", mock.URL(), mock.PID())
	specFile := filepath.Join(dir, "loadtest.yaml")
	if err := os.WriteFile(specFile, []byte(SpecYAML(mock.URL())), 0o644); err != nil {
		return nil, err
	}

	var targets []*target
	defer func() {
		for _, t := range targets {
			if t.proc != nil {
				t.proc.Stop(35 * time.Second)
			}
		}
	}()
	for _, name := range c.Targets {
		t := &target{info: TargetInfo{Name: name}, cl: &http.Client{Transport: NewTransport(1024), Timeout: 30 * time.Second}}
		var path string
		var args []string
		switch name {
		case TargetDirect:
			t.url = mock.URL()
			t.info.Command = "(the mock upstream itself)"
		case TargetProxy:
			path, args = c.Self, []string{"proxy", "--listen", "{addr}", "--upstream", mock.URL()}
			if c.PlainProxy {
				args = append(args, "--plain")
			}
		case TargetClearbar, TargetClearbarNoTrace:
			tr := filepath.Join(dir, name+".db")
			if name == TargetClearbarNoTrace {
				tr = "none"
			}
			if c.InProcessGateway {
				path, args = c.Self, []string{"gateway", specFile, "--listen", "{addr}", "--trace", tr}
				if c.ProfileDir != "" {
					args = append(args, "--cpuprofile", filepath.Join(c.ProfileDir, name+".pprof"))
				}
			} else {
				path, args = clearbarBin, []string{"serve", specFile, "--listen", "{addr}", "--trace", tr}
			}
		case TargetBaseline:
			path, args = c.Baseline, []string{"serve", specFile, "--listen", "{addr}", "--trace", filepath.Join(dir, name+".db")}
		}
		if path != "" {
			p, err := StartProcess(name, filepath.Join(dir, name+".log"), path, args...)
			if err != nil {
				return nil, err
			}
			t.proc, t.url = p, p.URL()
			prog := "clearbar-load "
			switch path {
			case clearbarBin:
				prog = "clearbar "
			case c.Baseline:
				prog = c.Baseline + " "
			}
			t.info.Command = prog + QuoteArgs(args)
			logf("%s on %s (pid %d): %s", name, p.URL(), p.PID(), t.info.Command)
		}
		targets = append(targets, t)
		for _, stream := range []bool{false, true} {
			if err := CheckHTTP(ctx, t.cl, c.request(t.url, stream)); err != nil {
				return nil, fmt.Errorf("%s does not answer (stream %v): %w", name, stream, err)
			}
		}
	}

	rep.Phases = c.phases()
	if c.Warmup > 0 {
		for _, t := range targets {
			logf("warm-up: %s, %d connections, %s", t.info.Name, c.Conns, c.Warmup)
			ClosedLoop{Conns: c.Conns, Duration: c.Warmup}.Run(ctx, t.cl, c.request(t.url, false))
			ClosedLoop{Conns: 8, Duration: c.Warmup / 4}.Run(ctx, t.cl, c.request(t.url, true))
		}
		time.Sleep(c.Settle)
	}
	ours := func() time.Duration {
		sum, _ := CPUTime(os.Getpid())
		for _, p := range append([]*Process{mock}, procs(targets)...) {
			d, _ := CPUTime(p.PID())
			sum += d
		}
		return sum
	}
	busy0, _ := MachineBusy()
	ours0, wall0 := ours(), time.Now()
	for pi, ph := range rep.Phases {
		rep.Results[ph.Name] = map[string]*Measurement{}
		for round := range c.Rounds {
			part := ph.round(round, c.Rounds)
			for k := range targets {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				t := targets[(pi+round+k)%len(targets)]
				m, err := c.measure(ctx, part, t, mock)
				if err != nil {
					return nil, err
				}
				if acc := rep.Results[ph.Name][t.info.Name]; acc != nil {
					acc.add(m)
				} else {
					rep.Results[ph.Name][t.info.Name] = m
				}
			}
		}
		for _, t := range targets {
			m := rep.Results[ph.Name][t.info.Name]
			logf("%-10s %-16s %7.0f req/s  p50 %s  p99 %s  ttfb p50 %s  cpu/req %s  errors %d",
				ph.Name, t.info.Name, m.Throughput, ms(m.Latency.Quantile(0.5)), ms(m.Latency.Quantile(0.99)),
				ms(m.TTFB.Quantile(0.5)), us(m.CPUPerRequest(m.CPU)), m.Errors)
		}
	}

	if busy1, err := MachineBusy(); err == nil && busy0 > 0 {
		other := (busy1 - busy0) - (ours() - ours0)
		rep.OtherCPU = max(0, other.Seconds()/(time.Since(wall0).Seconds()*float64(runtime.NumCPU())))
	}
	for _, t := range targets {
		if t.proc != nil {
			_, peak, err := Memory(t.proc.PID())
			if err != nil {
				return nil, err
			}
			t.info.PeakRSS = peak
		}
	}
	if _, peak, err := Memory(mock.PID()); err == nil {
		rep.MockPeakRSS = peak
	}
	for _, t := range targets {
		if t.proc != nil {
			t.proc.Stop(35 * time.Second)
			t.info.Notes = notes(t.proc.LogFile)
			t.proc = nil
		}
		rep.Targets = append(rep.Targets, t.info)
	}
	rep.Elapsed = time.Since(rep.Start)
	return rep, nil
}

func procs(ts []*target) []*Process {
	var out []*Process
	for _, t := range ts {
		if t.proc != nil {
			out = append(out, t.proc)
		}
	}
	return out
}

// round returns round i of n of the phase: the same load for 1/n of the time.
func (ph Phase) round(i, n int) Phase {
	if ph.Open != nil {
		o := *ph.Open
		o.Duration /= time.Duration(n)
		o.Seed = o.Seed*1000 + uint64(i)
		ph.Open = &o
	}
	if ph.Closed != nil {
		c := *ph.Closed
		c.Duration /= time.Duration(n)
		ph.Closed = &c
	}
	return ph
}

func (m *Measurement) add(o *Measurement) {
	m.Result.Merge(o.Result)
	m.CPU += o.CPU
	m.MockCPU += o.MockCPU
	m.GenCPU += o.GenCPU
}

func (c *Config) request(base string, stream bool) *Request {
	if stream {
		return &Request{URL: base + "/v1/chat/completions", Body: []byte(streamBody), Stream: true, WantEvents: StreamEvents(c.Chunks)}
	}
	return &Request{URL: base + "/v1/chat/completions", Body: []byte(requestBody)}
}

// measure runs one phase against one target, reading the processes' CPU time around it.
func (c *Config) measure(ctx context.Context, ph Phase, t *target, mock *Process) (*Measurement, error) {
	cpu := func() (tgt, mk, gen time.Duration, err error) {
		if t.proc != nil {
			if tgt, err = CPUTime(t.proc.PID()); err != nil {
				return
			}
		}
		if mk, err = CPUTime(mock.PID()); err != nil {
			return
		}
		gen, err = CPUTime(os.Getpid())
		return
	}
	t0, m0, g0, err := cpu()
	if err != nil {
		return nil, err
	}
	req := c.request(t.url, ph.Stream)
	var r *Result
	if ph.Open != nil {
		r = ph.Open.Run(ctx, t.cl, req)
	} else {
		r = ph.Closed.Run(ctx, t.cl, req)
	}
	time.Sleep(c.Settle)
	t1, m1, g1, err := cpu()
	if err != nil {
		return nil, err
	}
	return &Measurement{Result: r, CPU: t1 - t0, MockCPU: m1 - m0, GenCPU: g1 - g0}, nil
}

// notes returns the lines of a target's log worth reporting.
func notes(file string) []string {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	var out []string
	var first string
	problems := 0
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.Contains(line, "decisions recorded"):
			out = append(out, line)
		case strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR"):
			if problems == 0 {
				first = line
			}
			problems++
		}
	}
	if problems > 0 {
		if len(first) > 400 {
			first = first[:400] + "…"
		}
		out = append(out, fmt.Sprintf("%d warning or error lines; the first: %s", problems, first))
	}
	return out
}

// describe names the repository's revision, and the files changed since, if any.
func describe(repo string) string {
	rev, err := exec.Command("git", "-C", repo, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return repo
	}
	out := "the working tree at " + strings.TrimSpace(string(rev))
	if st, err := exec.Command("git", "-C", repo, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		var files []string
		for line := range strings.SplitSeq(strings.TrimRight(string(st), "\n"), "\n") {
			files = append(files, strings.TrimSpace(line[min(3, len(line)):]))
		}
		out += " with uncommitted changes to " + strings.Join(files, ", ")
	}
	return out
}

func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	return cpu
}
