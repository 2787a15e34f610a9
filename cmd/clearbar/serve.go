package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/drift"
	"github.com/clearbar/clearbar/examples"
	"github.com/clearbar/clearbar/gateway"
	"github.com/clearbar/clearbar/health"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/anthropic"
	"github.com/clearbar/clearbar/provider/azure"
	"github.com/clearbar/clearbar/provider/gemini"
	"github.com/clearbar/clearbar/provider/openai"
	"github.com/clearbar/clearbar/provider/replay"
	"github.com/clearbar/clearbar/provider/simulated"
	"github.com/clearbar/clearbar/shadow"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/trace"
	"github.com/clearbar/clearbar/validate"
	"github.com/clearbar/clearbar/web"
)

// registry returns the provider adapters this build has.
func registry() *provider.Registry {
	r := provider.NewRegistry()
	r.Register("openai", openai.New)
	r.Register("openai-compatible", openai.New)
	r.Register("simulated", simulated.New)
	r.Register("replay", replay.New)
	r.Register("anthropic", anthropic.New)
	r.Register(gemini.Type, gemini.New)
	r.Register(azure.Type, azure.New)
	return r
}

// loadServeSpec loads the spec to serve: the file given, or the embedded quick start. It also
// returns how to read the files the spec refers to (schemas).
func (m *Main) loadServeSpec(file string) (*spec.Spec, func(string) ([]byte, error), error) {
	if file != "" {
		s, err := m.loadSpec(file, m.Now())
		return s, nil, err
	}
	data, err := fs.ReadFile(examples.FS, examples.Quickstart)
	if err != nil {
		return nil, nil, err
	}
	readEmbedded := func(p string) ([]byte, error) { return fs.ReadFile(examples.FS, path.Clean(p)) }
	s, err := spec.Parse(data, examples.Quickstart, spec.Options{Today: m.Now(), ReadFile: readEmbedded})
	if err != nil {
		return nil, nil, err
	}
	return s, readEmbedded, nil
}

// newGateway builds the gateway for a spec: providers from the registry, validators compiled
// (judges call models through the same providers).
func newGateway(s *spec.Spec, readFile func(string) ([]byte, error), opts gateway.Options) (*gateway.Gateway, error) {
	g, _, err := newGatewayShadow(s, readFile, opts, nil)
	return g, err
}

// newGatewayShadow builds the gateway and, when the spec has shadowing categories and
// shadowOut is not nil, the shadow traffic that writes its outcome rows to shadowOut.
func newGatewayShadow(s *spec.Spec, readFile func(string) ([]byte, error), opts gateway.Options, shadowOut io.Writer) (*gateway.Gateway, *shadow.Shadower, error) {
	if opts.Providers == nil {
		providers, err := registry().NewAll(s, provider.Config{HTTP: provider.DefaultHTTPClient(), ReadFile: readFile})
		if err != nil {
			return nil, nil, err
		}
		opts.Providers = providers
	}
	checker, err := validate.NewChecker(s, validate.Env{ReadFile: readFile, Caller: validate.ProviderCaller{Providers: opts.Providers}})
	if err != nil {
		return nil, nil, err
	}
	opts.Spec, opts.Checker = s, checker
	if shadowOut != nil {
		opts.Shadow, err = shadow.New(shadow.Options{Spec: s, Providers: opts.Providers, Checker: checker, Out: shadowOut,
			Registerer: opts.Registerer, Logger: opts.Logger})
		if err != nil {
			return nil, nil, err
		}
	}
	g, err := gateway.New(opts)
	return g, opts.Shadow, err
}

func (m *Main) runServe(ctx context.Context, args []string) error {
	const usage = "clearbar serve [SPEC.yaml] [--listen ADDR] [--trace FILE|none] [--simulate] [--time-scale FACTOR] [--log-level LEVEL] [--shadow-out FILE] [--drain-grace DURATION] [--drain-timeout DURATION] [--body-timeout DURATION] [--idle-timeout DURATION] [--cors-origin ORIGIN]..."
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	listen := fs.String("listen", "", "address to listen on (default: the spec's server.listen, else 127.0.0.1:8080)")
	tracePath := fs.String("trace", "", "decision store: a SQLite file, or none (default: the spec's server.trace, else clearbar.db in the working directory)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	timeScale := fs.Float64("time-scale", 0, "with simulated providers, multiply every simulated duration by this (0.01 makes a 2s answer take 20ms)")
	shadowPath := fs.String("shadow-out", "", "where shadow traffic appends its outcome rows (categories with shadow: settings; default: "+defaultShadowOut+" in the spec file's directory, as the spec's server.trace is resolved, or in the working directory for the built-in quick start)")
	simulate := fs.Bool("simulate", false, "answer from the built-in simulator instead of the spec's providers: each model with its assumed latency, availability, pass rate and validator strength (no API keys)")
	drainGrace := fs.Duration("drain-grace", defaultDrainGrace, "on SIGINT or SIGTERM, how long /readyz answers 503 while requests are still served, so that load balancers stop sending before the listener closes (0: close at once; default: the spec's server.drain_grace, else "+defaultDrainGrace.String()+")")
	drainTimeout := fs.Duration("drain-timeout", 0, "how long requests in flight may take to finish once the listener is closed; those still running then are cut, each stream ending with an error event and each decision recorded (default: the spec's server.drain_timeout, else its server.request_timeout, 120s without one, plus "+drainSlack.String()+")")
	bodyTimeout := fs.Duration("body-timeout", defaultBodyTimeout, "how long a client may take to send a request's body, from its arrival (0: no limit); a client still sending then has its connection closed")
	idleTimeout := fs.Duration("idle-timeout", defaultIdleTimeout, "how long a keep-alive connection may wait for its next request before it is closed (0: no limit)")
	var corsOrigins []string
	fs.Func("cors-origin", "an origin whose browser pages may call the API (https://app.example.com, or * for any), for CORS; repeat it for several (default: none, and no CORS headers)", func(v string) error {
		corsOrigins = append(corsOrigins, v)
		return nil
	})
	pos, err := parseArgs(fs, args, 0, 1, usage)
	if err != nil {
		return err
	}
	if *drainGrace < 0 || *drainTimeout < 0 {
		return usagef("--drain-grace and --drain-timeout cannot be negative")
	}
	if *bodyTimeout < 0 || *idleTimeout < 0 {
		return usagef("--body-timeout and --idle-timeout cannot be negative")
	}
	set := map[string]bool{} // the flags given, which win over the spec's server settings
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["drain-timeout"] && *drainTimeout == 0 {
		return usagef("--drain-timeout must be more than 0: leave it out for the spec's server.drain_timeout, else request_timeout plus %s", drainSlack)
	}
	var file string
	if len(pos) == 1 {
		file = pos[0]
	}
	s, readFile, err := m.loadServeSpec(file)
	if err != nil {
		return err
	}
	if *simulate {
		simulateProviders(s)
	}
	if *timeScale < 0 {
		return usagef("--time-scale cannot be negative")
	}
	if *timeScale > 0 {
		for _, p := range s.Providers {
			if p.Type == "simulated" || p.Type == "replay" {
				if p.Simulate == nil {
					p.Simulate = &spec.Simulate{}
				}
				p.Simulate.TimeScale = *timeScale
			}
		}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usagef("--log-level %q: use debug, info, warn or error", *logLevel)
	}
	log := slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: level}))
	if *timeScale > 0 && *timeScale != 1 {
		// The gateway times what it sees: at another time scale its records, metrics and drift
		// detectors hold scaled latencies, which clearbar review and the detectors compare
		// with the spec's unscaled ones.
		log.Warn("simulated durations run at a time scale: decision records, metrics and drift detectors measure scaled wall-clock latency, not the spec's; review their latencies with that in mind",
			"time_scale", *timeScale)
	}
	for _, w := range s.Warnings {
		log.Warn("spec", "warning", w.Error())
	}
	if !*simulate {
		warnMissingKeys(log, s)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	breakerSettings := health.DefaultSettings()
	breakers := health.NewSet(breakerSettings, nil)
	opts := gateway.Options{Logger: log, Registerer: reg, Gatherer: reg, Breakers: breakers, CORSOrigins: corsOrigins}
	// The drift monitor sees every decision beside the trace recorder, and feeds the dashboard.
	monitor, err := drift.New(drift.Options{Spec: s, Registerer: reg, Logger: log})
	if err != nil {
		return err
	}
	defer monitor.Close(context.Background()) // on early returns; after the drain's Close it returns at once
	opts.Recorder = monitor
	where := firstNonEmpty(*tracePath, s.TracePath(), "clearbar.db")
	var recorder *trace.Recorder
	var store trace.Store
	var decisions web.Decisions
	if where != "none" {
		db, err := trace.OpenSQLite(where)
		if err != nil {
			return fmt.Errorf("opening the decision store %s: %w", where, err)
		}
		store = db
		// In the background, so that a large store does not delay serving; it stops when
		// shutdown begins.
		go restoreSeries(ctx, log, monitor, db)
		recorder = trace.NewRecorder(db, trace.RecorderOptions{Logger: log})
		found := flushingStore{recorder, db}
		opts.Recorder, opts.Decisions, decisions = drift.Tee(recorder, monitor), found, found
		registerRecorderMetrics(reg, recorder)
		opts.RecorderLosses = func() (int64, int64) {
			st := recorder.Stats()
			return st.Dropped, st.Failed
		}
	}
	var shadowFile *os.File
	if *shadowPath == "" {
		*shadowPath = shadowOutPath(file)
	}
	if s.Shadowing() {
		// Opened for reading too: the shadow traffic reads back what today's rows spent.
		if shadowFile, err = os.OpenFile(*shadowPath, os.O_CREATE|os.O_APPEND|os.O_RDWR, 0o644); err != nil {
			return fmt.Errorf("shadow traffic output: %w", err)
		}
		defer shadowFile.Close()
		// A gateway killed while writing a row leaves part of it: rows appended after it
		// would fuse with it into a line no reader takes.
		if cut, err := outcomes.RepairTail(shadowFile); err != nil {
			return fmt.Errorf("shadow traffic output %s: %w", *shadowPath, err)
		} else if cut > 0 {
			log.Warn("removed a partial last row that an interrupted gateway left in the shadow output", "file", *shadowPath, "bytes", cut)
		}
	}
	var shadowOut io.Writer
	if shadowFile != nil {
		shadowOut = shadowFile
	}
	gw, shadower, err := newGatewayShadow(s, readFile, opts, shadowOut)
	if err != nil {
		return err
	}
	dash, err := web.New(web.Options{Spec: s, Monitor: monitor, Breakers: breakers, BreakerWindow: breakerSettings.Window,
		Decisions: decisions, Auth: gw.RequireAdmin, Logger: log})
	if err != nil {
		return err
	}
	root := http.NewServeMux()
	root.Handle(web.Prefix, dash)
	root.Handle("/", gw)
	addr := firstNonEmpty(*listen, s.Server.Listen, "127.0.0.1:8080")
	if err := checkListen(addr, *listen != ""); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%w: another process listens on %s; stop it, or listen elsewhere with --listen 127.0.0.1:PORT (or the spec's server.listen)", err, addr)
	}
	if err != nil {
		return err
	}
	// No ReadTimeout or WriteTimeout: either would cut a long stream. Reading a request is
	// bounded by ReadHeaderTimeout and bodyDeadline instead, waiting between requests by
	// IdleTimeout.
	handler, bodies := bodyDeadline(root, *bodyTimeout)
	srv := &http.Server{Handler: handler, BaseContext: gw.BaseContext,
		ReadHeaderTimeout: readHeaderTimeout, IdleTimeout: *idleTimeout, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	srv.RegisterOnShutdown(bodies.Hurry)
	// SIGHUP, which service managers send to reload and a closing terminal sends too, would
	// end the process at once, dropping requests in flight and their decisions: the gateway
	// keeps serving and says how to load a new spec. It is caught before the gateway says it
	// serves.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	name := file
	if name == "" {
		name = "the built-in quick start (simulated providers, no API keys)"
	} else if *simulate {
		name += " on simulated providers"
	}
	fmt.Fprintf(m.Stderr, "clearbar: serving %s on http://%s (%d categories, %d models; decisions: %s)\n", name, ln.Addr(), len(s.Categories), len(s.Models), where)
	fmt.Fprintf(m.Stderr, "dashboard: http://%s%s\n", ln.Addr(), web.Prefix)
	if shadowFile != nil {
		where := *shadowPath
		if abs, err := filepath.Abs(where); err == nil {
			where = abs
		}
		fmt.Fprintf(m.Stderr, "shadow traffic: outcome rows appended to %s\n", where)
	}
	// The hints work as printed: with keys configured, the request needs a key (a client's, or
	// an admin's when the spec has no client keys) and explain the admin key; without a
	// decision store there is nothing to explain.
	auth, admin := "", ""
	if k := s.Keys; k != nil && len(k.Clients) > 0 {
		auth, admin = " -H 'Authorization: Bearer YOUR_CLIENT_KEY'", "CLEARBAR_ADMIN_KEY=YOUR_ADMIN_KEY "
	} else if k != nil && len(k.Admin) > 0 {
		auth, admin = " -H 'Authorization: Bearer YOUR_ADMIN_KEY'", "CLEARBAR_ADMIN_KEY=YOUR_ADMIN_KEY "
	}
	fmt.Fprintf(m.Stderr, "try: curl -si http://%s/v1/chat/completions -H 'Content-Type: application/json'%s -d '{\"model\":\"clearbar/%s\",\"messages\":[{\"role\":\"user\",\"content\":\"Where is my order?\"}]}'\n", ln.Addr(), auth, s.Categories[0].Name)
	if store != nil {
		fmt.Fprintf(m.Stderr, "then: %sCLEARBAR_URL=http://%s clearbar explain DECISION_ID   (the id is in the X-Clearbar-Decision-Id header)\n", admin, ln.Addr())
	}
	if m.OnListen != nil {
		m.OnListen(ln.Addr())
	}

wait:
	for {
		select {
		case err := <-served:
			return err
		case <-ctx.Done():
			break wait
		case <-hup:
			log.Warn("SIGHUP received: clearbar serve does not reload its spec, and keeps serving the one it loaded; to load a new spec, restart it (SIGTERM drains the requests in flight first)")
		}
	}
	// Drain: stop taking requests, finish those in flight, then write every queued decision.
	// The flags win over the spec's server settings, which win over the defaults.
	grace, window := *drainGrace, cmp.Or(*drainTimeout, gw.RequestTimeout()+drainSlack)
	if sv := s.Server; !set["drain-grace"] && sv.DrainGrace != nil {
		grace = sv.DrainGrace.D()
	}
	if sv := s.Server; !set["drain-timeout"] && sv.DrainTimeout != nil && sv.DrainTimeout.D() > 0 {
		window = sv.DrainTimeout.D()
	}
	return drain(log, srv, served, gw, grace, window, shadower, recorder, monitor, store)
}

// How long a client may take to send a request: its headers (readHeaderTimeout), then its
// body (--body-timeout); and how long a keep-alive connection may wait for its next request
// (--idle-timeout).
const (
	readHeaderTimeout  = 10 * time.Second
	defaultBodyTimeout = 60 * time.Second
	defaultIdleTimeout = 120 * time.Second
)

// bodyDeadline bounds how long a client may take to send a request's body, d from the request's
// arrival (0: no bound), so that a client trickling a body cannot hold a connection and a
// goroutine for ever. It sets the connection's read deadline for a request that has a body, and
// clears it once the body is read to its end, so that it cannot cut the answer (net/http clears
// it there too, as it starts watching the connection for a client that goes away). A body
// still arriving at the deadline fails the request's read: the gateway answers a 408
// (request_timeout) and the connection is closed, with the body's unread bytes in it, so a
// client still sending may see the connection reset rather than the 408.
//
// The bodies still arriving are tracked (the returned bodyWatch): when the gateway shuts down,
// Hurry gives each at most drainBodyWait more, so that a client trickling a body cannot hold the
// drain for the whole body timeout. With d 0, the watch does nothing.
func bodyDeadline(h http.Handler, d time.Duration) (http.Handler, *bodyWatch) {
	bw := &bodyWatch{bodies: map[*deadlineBody]struct{}{}}
	if d <= 0 {
		return h, bw
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
			rc := http.NewResponseController(w)
			deadline := time.Now().Add(d)
			if rc.SetReadDeadline(deadline) == nil {
				b := &deadlineBody{ReadCloser: r.Body, rc: rc, deadline: deadline, watch: bw}
				bw.add(b)
				defer bw.done(b)
				r.Body = b
			}
		}
		h.ServeHTTP(w, r)
	}), bw
}

// drainBodyWait is how long, once the gateway shuts down, a request still receiving its body
// may go on receiving it, at most (bodyWatch.Hurry): the drain's grace period, while /readyz
// answers 503, has let a client that was sending finish already.
const drainBodyWait = 5 * time.Second

// bodyWatch keeps the request bodies still arriving, to shorten their deadline at shutdown.
type bodyWatch struct {
	mu      sync.Mutex
	bodies  map[*deadlineBody]struct{}
	hurried bool
}

func (bw *bodyWatch) add(b *deadlineBody) {
	bw.mu.Lock()
	defer bw.mu.Unlock()
	bw.bodies[b] = struct{}{}
	if bw.hurried {
		b.hurry(time.Now().Add(drainBodyWait))
	}
}

func (bw *bodyWatch) done(b *deadlineBody) {
	bw.mu.Lock()
	defer bw.mu.Unlock()
	delete(bw.bodies, b)
}

// Hurry gives every body still arriving, and any that starts to, at most drainBodyWait more
// to arrive. http.Server.RegisterOnShutdown calls it as the listener closes.
func (bw *bodyWatch) Hurry() {
	bw.mu.Lock()
	defer bw.mu.Unlock()
	bw.hurried = true
	until := time.Now().Add(drainBodyWait)
	for b := range bw.bodies {
		b.hurry(until)
	}
}

// deadlineBody is a request body whose connection has a read deadline, cleared (once) when
// the body has been read to its end. A body that fails or is left unread keeps the deadline:
// the server, discarding what is left of it after the answer, must not wait for a trickle.
type deadlineBody struct {
	io.ReadCloser
	rc       *http.ResponseController
	watch    *bodyWatch
	mu       sync.Mutex // guards deadline and cleared against hurry
	deadline time.Time
	cleared  bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.mu.Lock()
		if !b.cleared {
			b.cleared = true
			b.rc.SetReadDeadline(time.Time{})
		}
		b.mu.Unlock()
	}
	return n, err
}

// hurry moves the body's deadline to until when that is sooner, unless the body has arrived.
func (b *deadlineBody) hurry(until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cleared || !until.Before(b.deadline) {
		return
	}
	b.deadline = until
	b.rc.SetReadDeadline(until)
}

// The drain's defaults. defaultDrainGrace is how long /readyz answers 503 before the listener
// closes: a load balancer polling it every few seconds stops sending in that time. drainSlack
// is added to the request timeout for the drain window: a request reads its body and is routed
// before its timeout starts.
const (
	defaultDrainGrace = 5 * time.Second
	drainSlack        = 10 * time.Second
	// cutWait bounds the wait for cut requests to write their error and record their decision,
	// closeWait the writing of queued decisions and of drift alerts, each, and shadowWait the
	// shadow calls still running: they are optional, so shutdown does not wait long for them.
	cutWait    = 10 * time.Second
	closeWait  = 30 * time.Second
	shadowWait = 5 * time.Second
)

// drain shuts serve down without losing anything: /readyz answers 503 for the grace period
// while requests are still served; then the listener closes and the requests in flight have
// the drain window to finish (by default longer than any request may take). Requests still
// running when it ends are cut (Gateway.Cut): each gets an error (a stream, an error event) and
// records its decision. Only then do shadow calls finish, the decision queue drain and the
// store close.
func drain(log *slog.Logger, srv *http.Server, served <-chan error, gw *gateway.Gateway, grace, window time.Duration,
	shadower *shadow.Shadower, recorder *trace.Recorder, monitor *drift.Monitor, store trace.Store) error {
	gw.SetReady(false)
	// A second Ctrl-C or SIGTERM during the drain cuts the requests in flight at once, each
	// recorded with its decision as a cut at the end of the window would be; a third exits
	// at once, losing what is not yet written.
	hurried, stopHurry := hurryOnSignal(log)
	defer stopHurry()
	var serveErr error
	if grace > 0 {
		log.Info("draining: /readyz answers 503; requests are still served until the grace period ends (a second signal cuts them now)", "grace", grace)
		select {
		case <-time.After(grace):
		case <-hurried.Done():
		case serveErr = <-served: // the listener failed: drain what is in flight all the same
		}
	}
	log.Info("shutting down: the listener is closed; draining requests and queued decisions", "window", window)
	shutdownCtx, cancel := context.WithTimeout(hurried, window)
	err := srv.Shutdown(shutdownCtx)
	cancel()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		cutCtx, cancel := context.WithTimeout(context.Background(), cutWait)
		n, cerr := gw.Cut(cutCtx)
		cancel()
		if cerr != nil {
			// A request stuck writing to a client that reads nothing: closing the connections
			// unblocks it, and it records its decision as it returns.
			srv.Close()
			cutCtx, cancel := context.WithTimeout(context.Background(), cutWait)
			_, cerr = gw.Cut(cutCtx)
			cancel()
		}
		why := "the drain window ended with requests in flight"
		if hurried.Err() != nil {
			why = "a second signal ended the drain with requests in flight"
		}
		log.Warn(why+": they were cut, each with an error (a stream, an error event) and a recorded decision",
			"window", window, "cut", n)
		err = cerr
	}
	// Shadow calls still running have a short while to finish and write their rows; those
	// that do not are abandoned with a warning, as a shadow call never fails a request.
	shadowCtx, cancel := context.WithTimeout(context.Background(), shadowWait)
	switch cerr := shadower.Close(shadowCtx); {
	case errors.Is(cerr, context.DeadlineExceeded):
		log.Warn("shutting down: shadow calls still running were abandoned", "wait", shadowWait, "err", cerr)
	case cerr != nil && err == nil:
		err = cerr // the rows could not be written
	}
	cancel()
	if recorder != nil {
		closeCtx, cancel := context.WithTimeout(context.Background(), closeWait)
		if cerr := recorder.Close(closeCtx); cerr != nil && err == nil {
			err = cerr
		}
		cancel()
		st := recorder.Stats()
		log.Info("decisions recorded", "written", st.Written, "dropped", st.Dropped, "failed", st.Failed)
	}
	closeCtx, cancel := context.WithTimeout(context.Background(), closeWait)
	defer cancel()
	if cerr := monitor.Close(closeCtx); cerr != nil && err == nil {
		err = cerr
	}
	if store != nil {
		store.Close()
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// hurryOnSignal returns a context cancelled by the next Ctrl-C or SIGTERM, which shortens the
// drain; the one after that exits the process at once.
// stop ends the watch.
func hurryOnSignal(log *slog.Logger) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 2)
	done := make(chan struct{})
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case <-sig:
		case <-done:
			return
		}
		log.Warn("second signal: cutting the requests in flight now and writing their decisions; a third exits at once")
		cancel()
		select {
		case <-sig:
		case <-done:
			return
		}
		log.Error("third signal: exiting at once; decisions not yet written are lost")
		os.Exit(2)
	}()
	return ctx, func() {
		signal.Stop(sig)
		close(done)
		cancel()
	}
}

// flushingStore reads decisions after flushing the recorder, so that a decision can be looked
// up right after its response.
type flushingStore struct {
	r *trace.Recorder
	s trace.Store
}

func (f flushingStore) Get(ctx context.Context, id string) (*clearbar.Decision, error) {
	d, err := f.s.Get(ctx, id)
	if errors.Is(err, trace.ErrNotFound) {
		fctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if f.r.Flush(fctx) == nil {
			d, err = f.s.Get(ctx, id)
		}
	}
	if errors.Is(err, trace.ErrNotFound) {
		return nil, notFound{}
	}
	return d, err
}

// List lists stored decisions for the dashboard's explorer.
func (f flushingStore) List(ctx context.Context, filter trace.Filter) ([]*clearbar.Decision, error) {
	return f.s.List(ctx, filter)
}

type notFound struct{}

func (notFound) Error() string  { return "decision not found" }
func (notFound) NotFound() bool { return true }

// checkListen refuses a listen address that is not HOST:PORT before net.Listen does, with
// what to write instead: a bare port (--listen 18317) would otherwise fail with Go's "missing
// port in address". flag says whether the address came from --listen rather than the spec's
// server.listen.
func checkListen(addr string, flag bool) error {
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return nil
	}
	from := "server.listen " + strconv.Quote(addr)
	if flag {
		from = "--listen " + addr
	}
	var msg string
	switch _, err := strconv.ParseUint(addr, 10, 16); {
	case err == nil:
		msg = fmt.Sprintf("%s: an address is HOST:PORT, not a port alone: write 127.0.0.1:%s (this machine only) or :%s (every interface)", from, addr, addr)
	case strings.Count(addr, ":") > 1 && !strings.HasPrefix(addr, "["):
		msg = fmt.Sprintf("%s: an address is HOST:PORT, with an IPv6 host in brackets: write [%s]:8080", from, addr)
	default:
		msg = fmt.Sprintf("%s: an address is HOST:PORT: write %s:8080, 127.0.0.1:PORT or :PORT (every interface)", from, strings.TrimSuffix(addr, ":"))
	}
	if flag {
		return usagef("%s", msg)
	}
	return errors.New(msg)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// registerRecorderMetrics exports the decision recorder's counters: a growing dropped or
// failed count means decisions are being lost, which an alert should catch.
func registerRecorderMetrics(reg prometheus.Registerer, r *trace.Recorder) {
	stat := func(f func(trace.RecorderStats) int64) func() float64 {
		return func() float64 { return float64(f(r.Stats())) }
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "clearbar_trace_queue_depth", Help: "Decisions waiting to be written."},
			stat(func(s trace.RecorderStats) int64 { return s.Queued })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "clearbar_trace_written_total", Help: "Decisions written to the store."},
			stat(func(s trace.RecorderStats) int64 { return s.Written })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "clearbar_trace_dropped_total", Help: "Decisions dropped because the queue was full or the gateway was closing."},
			stat(func(s trace.RecorderStats) int64 { return s.Dropped })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "clearbar_trace_failed_total", Help: "Decisions lost because the store refused their batch."},
			stat(func(s trace.RecorderStats) int64 { return s.Failed })),
	)
}

// maxRestored caps the decisions of earlier runs restoreSeries reads at start: the most recent
// ones, as the store lists them newest first.
const maxRestored = 100_000

// errRestored stops restoreSeries's listing at maxRestored.
var errRestored = errors.New("enough decisions restored")

// restoreSeries fills the drift monitor's time series, which the dashboard charts, with the
// decisions the store holds from before the monitor started, within its history: read once,
// newest first, at most maxRestored of them, while the gateway serves (the series are sums,
// and decisions of this run, which started after the monitor, are not listed). A restart then
// keeps the charts of the last hours; the totals since start and the detectors start afresh
// (see drift.Monitor.Restore). A store that cannot be read costs the charts their history,
// not the start; ctx ending (shutdown) stops the reading.
func restoreSeries(ctx context.Context, log *slog.Logger, monitor *drift.Monitor, store trace.Store) {
	since, until := monitor.RestoreWindow()
	n := 0
	err := trace.Each(ctx, store, trace.Filter{Since: since, Until: until}, func(d *clearbar.Decision) error {
		if monitor.Restore(d) {
			n++
		}
		if n >= maxRestored {
			return errRestored
		}
		return nil
	})
	switch {
	case errors.Is(err, errRestored):
		log.Info("dashboard: restored the most recent decisions of the decision store to the time series; older ones are not charted", "decisions", n, "since", since.UTC().Format(time.RFC3339))
	case err != nil && ctx.Err() != nil:
		// Shutdown began first.
	case err != nil:
		log.Warn("dashboard: could not read the decision store's recent decisions: the time series start empty", "restored", n, "err", err)
	case n > 0:
		log.Info("dashboard: restored the decision store's recent decisions to the time series", "decisions", n, "since", since.UTC().Format(time.RFC3339))
	}
}

// defaultShadowOut is the name of the file shadow traffic appends its rows to by default.
const defaultShadowOut = "shadow.outcomes.jsonl"

// shadowOutPath is where shadow traffic writes without --shadow-out: beside the spec file, as
// its server.trace is resolved, so that serving a spec from another directory keeps its files
// together; in the working directory for the built-in quick start (no spec file).
func shadowOutPath(specFile string) string {
	if specFile == "" {
		return defaultShadowOut
	}
	return filepath.Join(filepath.Dir(specFile), defaultShadowOut)
}

// simulateProviders turns every provider of a spec into the built-in simulator, keeping
// names, models and assumptions, so that any spec can be tried without API keys. Each records
// its type (spec.Provider.SimulatedType): a learned router that embeds requests through one
// of them then scores without the embedding, which the simulator does not serve, and says so.
func simulateProviders(s *spec.Spec) {
	for _, p := range s.Providers {
		if p.Type == "simulated" {
			continue
		}
		p.SimulatedType, p.Type = p.Type, "simulated"
		p.BaseURL, p.APIKey, p.APIKeys, p.APIVersion, p.Outcomes = spec.EnvString{}, spec.SecretRef{}, nil, "", ""
	}
}

// warnMissingKeys warns, at start, of each provider a model uses whose key comes from an
// environment variable that is not set: its requests would go without that key and come back
// as the upstream's authentication error, which would not name the variable.
func warnMissingKeys(log *slog.Logger, s *spec.Spec) {
	used := map[string]bool{}
	for _, m := range s.Models {
		used[m.Provider.Name] = true
	}
	for _, p := range s.Providers {
		if missing := p.MissingKeys(); used[p.Name] && len(missing) > 0 {
			what := "its requests go without an API key"
			if len(p.Keys()) > 0 {
				what = "its requests use only the keys that are set"
			}
			log.Warn("provider key not set: "+what+"; set the variables, or serve --simulate", "provider", p.Name, "unset", strings.Join(missing, ", "))
		}
	}
}
