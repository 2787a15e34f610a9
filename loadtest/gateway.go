package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/clearbar/clearbar/gateway"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/openai"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/trace"
)

// GatewayOptions configure RunGateway.
type GatewayOptions struct {
	// Spec is the spec file; Listen the address; Trace a SQLite file or "none".
	Spec, Listen, Trace string
	// CPUProfile, if set, is written with a CPU profile of the whole run.
	CPUProfile string
	// Log receives the gateway's log (warnings and above) and the summary.
	Log io.Writer
}

// RunGateway serves a spec the way "clearbar serve SPEC --listen ADDR --trace FILE" does (the
// same provider adapters and HTTP client, the same SQLite store and recorder, the same server
// settings), in this process, until ctx ends; then it drains like serve and writes the CPU
// profile. It exists to profile the gateway under the harness's load: clearbar serve does not
// expose pprof. Only the openai and openai-compatible adapters are registered, and no answer
// checker: the harness's spec has no validators, so serve's checker is never called.
func RunGateway(ctx context.Context, o GatewayOptions) error {
	s, err := spec.Load(o.Spec, spec.Options{Today: time.Now()})
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(o.Log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	adapters := provider.NewRegistry()
	adapters.Register(openai.TypeOpenAI, openai.New)
	adapters.Register(openai.TypeCompatible, openai.New)
	providers, err := adapters.NewAll(s, provider.Config{HTTP: provider.DefaultHTTPClient()})
	if err != nil {
		return err
	}
	// The same metrics registry as serve: the gateway's metrics plus the Go and process
	// collectors (read only when /metrics is scraped).
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	opts := gateway.Options{Spec: s, Providers: providers, Logger: log, Registerer: reg, Gatherer: reg}
	var recorder *trace.Recorder
	var db *trace.SQLite
	if o.Trace != "none" {
		if db, err = trace.OpenSQLite(o.Trace); err != nil {
			return err
		}
		defer db.Close()
		recorder = trace.NewRecorder(db, trace.RecorderOptions{Logger: log})
		opts.Recorder, opts.Decisions = recorder, db
	}
	gw, err := gateway.New(opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return err
	}
	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	srv := &http.Server{Handler: gw, BaseContext: gw.BaseContext, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	gw.SetReady(false)
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if recorder != nil {
		if cerr := recorder.Close(sctx); cerr != nil && err == nil {
			err = cerr
		}
		st := recorder.Stats()
		fmt.Fprintf(o.Log, "decisions recorded written=%d dropped=%d failed=%d\n", st.Written, st.Dropped, st.Failed)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
