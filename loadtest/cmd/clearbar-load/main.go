// Command clearbar-load measures what Clearbar's gateway adds in front of an upstream: the
// latency over a direct call, streaming time to first byte, CPU time per request, maximum
// throughput and peak memory, against a bare reverse proxy as the floor.
//
// Usage:
//
//	clearbar-load [run] [flags]          run the comparison and print a markdown report
//	clearbar-load mock --listen ADDR     serve the mock OpenAI-compatible upstream
//	clearbar-load proxy --listen ADDR --upstream URL
//	                                     serve a bare httputil.ReverseProxy
//	clearbar-load gateway SPEC --listen ADDR --trace FILE|none [--cpuprofile FILE]
//	                                     serve SPEC as clearbar serve does, in this process,
//	                                     with an optional CPU profile
//
// Run it from the repository's root (it builds ./cmd/clearbar unless --clearbar names a
// binary). Every address is a loopback address; "clearbar-load run -h" lists the flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/clearbar/clearbar/loadtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	args := os.Args[1:]
	cmd := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "run":
		err = run(ctx, args)
	case "mock":
		err = mock(ctx, args)
	case "proxy":
		err = proxy(ctx, args)
	case "gateway":
		err = gatewayCmd(ctx, args)
	default:
		err = fmt.Errorf("unknown subcommand %q: use run, mock, proxy or gateway", cmd)
	}
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "clearbar-load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	targets := fs.String("targets", strings.Join(loadtest.AllTargets, ","), "targets to measure, comma-separated")
	rates := fs.String("rates", "500,2000", "open-loop rates of non-streaming requests (req/s), comma-separated")
	duration := fs.Duration("duration", loadtest.DefaultRateDuration, "length of each open-loop phase")
	streamRate := fs.Float64("stream-rate", loadtest.DefaultStreamRate, "open-loop rate of the streaming phase (req/s)")
	streamDuration := fs.Duration("stream-duration", loadtest.DefaultStreamDuration, "length of the streaming phase")
	conns := fs.Int("conns", loadtest.DefaultConns, "connections of the closed-loop (maximum throughput) phase")
	closedDuration := fs.Duration("closed-duration", loadtest.DefaultClosedDuration, "length of the closed-loop phase")
	warmup := fs.Duration("warmup", loadtest.DefaultWarmup, "unmeasured closed-loop warm-up per target (0 for none)")
	rounds := fs.Int("rounds", loadtest.DefaultRounds, "rounds per phase: the targets take turns this many times")
	settle := fs.Duration("settle", loadtest.DefaultSettle, "pause after each phase before CPU time is read")
	uniform := fs.Bool("uniform", false, "space open-loop arrivals evenly instead of as a Poisson process")
	delay := fs.Duration("delay", 0, "mock upstream: delay before an answer or a stream's first chunk")
	chunks := fs.Int("chunks", loadtest.DefaultChunks, "mock upstream: content chunks per stream")
	chunkDelay := fs.Duration("chunk-delay", loadtest.DefaultChunkDelay, "mock upstream: delay between stream chunks")
	clearbarBin := fs.String("clearbar", "", "clearbar binary (default: build ./cmd/clearbar from --repo)")
	baseline := fs.String("baseline", "", "a second clearbar binary to measure as target clearbar-baseline, served as clearbar is: two builds compared in one run")
	repo := fs.String("repo", ".", "repository root to build clearbar from")
	inProcess := fs.Bool("in-process", false, "run the clearbar targets as 'clearbar-load gateway' (clearbar serve's wiring in this binary) instead of clearbar serve")
	profileDir := fs.String("cpuprofile", "", "with --in-process: directory for the clearbar targets' CPU profiles")
	out := fs.String("out", "", "also write the report to this file")
	plainProxy := fs.Bool("plain-proxy", false, "run the proxy target without full duplex, to show the streams a plain ReverseProxy cuts short (golang/go#40747)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("run takes no arguments, got %q", fs.Args())
	}
	if *profileDir != "" && !*inProcess {
		return errors.New("--cpuprofile needs --in-process (clearbar serve has no profiler)")
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var rs []float64
	for _, s := range strings.Split(*rates, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		r, err := strconv.ParseFloat(s, 64)
		if err != nil || r <= 0 {
			return fmt.Errorf("--rates: %q is not a positive number", s)
		}
		rs = append(rs, r)
	}
	ts := strings.Split(*targets, ",")
	if *baseline != "" && !flagSet(fs, "targets") {
		ts = append(ts, loadtest.TargetBaseline)
	}
	cfg := loadtest.Config{
		Self: self, Clearbar: *clearbarBin, Baseline: *baseline, Repo: *repo, InProcessGateway: *inProcess, ProfileDir: *profileDir, PlainProxy: *plainProxy,
		Targets: ts, Rates: rs, RateDuration: *duration,
		StreamRate: *streamRate, StreamDuration: *streamDuration,
		Conns: *conns, ClosedDuration: *closedDuration, Warmup: *warmup, Rounds: *rounds, Settle: *settle, Uniform: *uniform,
		MockDelay: *delay, Chunks: *chunks, ChunkDelay: *chunkDelay,
		CommandLine: "clearbar-load " + loadtest.QuoteArgs(os.Args[1:]),
		Log:         os.Stderr,
	}
	rep, err := loadtest.Run(ctx, cfg)
	if err != nil {
		return err
	}
	rep.WriteMarkdown(os.Stdout)
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		rep.WriteMarkdown(f)
		return f.Close()
	}
	return nil
}

// loopback refuses an address that is not a loopback address.
func loopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%s is not a loopback address: the harness listens and connects on loopback only", addr)
}

// serve serves h on addr until ctx ends.
func serve(ctx context.Context, addr string, h http.Handler) error {
	if err := loopback(addr); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func mock(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("mock", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8090", "loopback address to listen on")
	delay := fs.Duration("delay", 0, "delay before an answer or a stream's first chunk")
	chunks := fs.Int("chunks", loadtest.DefaultChunks, "content chunks per stream")
	chunkDelay := fs.Duration("chunk-delay", 0, "delay between stream chunks")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return serve(ctx, *listen, &loadtest.MockUpstream{Delay: *delay, Chunks: *chunks, ChunkDelay: *chunkDelay})
}

func proxy(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8091", "loopback address to listen on")
	upstream := fs.String("upstream", "http://127.0.0.1:8090", "upstream base URL (loopback)")
	plain := fs.Bool("plain", false, "do not enable full duplex: the plain ReverseProxy, which cuts about 1% of streams short (golang/go#40747)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	u, err := url.Parse(*upstream)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("--upstream %q: want http://HOST:PORT", *upstream)
	}
	if err := loopback(u.Host); err != nil {
		return err
	}
	return serve(ctx, *listen, loadtest.NewBareProxy(u, !*plain))
}

func gatewayCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8092", "loopback address to listen on")
	tracePath := fs.String("trace", "none", "decision store: a SQLite file, or none")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	// The spec comes first, as in clearbar serve; flags follow it.
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return errors.New("usage: clearbar-load gateway SPEC --listen ADDR --trace FILE|none [--cpuprofile FILE]")
	}
	file := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if err := loopback(*listen); err != nil {
		return err
	}
	return loadtest.RunGateway(ctx, loadtest.GatewayOptions{Spec: file, Listen: *listen, Trace: *tracePath, CPUProfile: *profile, Log: os.Stderr})
}

// flagSet says whether the command line set the named flag.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
