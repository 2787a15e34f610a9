// Package web is Clearbar's dashboard, served by `clearbar serve` at /ui/: live request
// counts, cost, latency, pass, escalation and fallback rates per category and per model,
// circuit breakers, drift alerts, the spec as a routing document, and a decision explorer.
//
// The page is plain HTML, CSS and JavaScript embedded in the binary; its charts are SVG drawn
// by its own script. It fetches nothing from outside the gateway, so it works offline and
// behind a strict firewall. It reads JSON from the endpoints under /ui/api/:
//
//	GET /ui/api/live                 summary figures, breakers, drift alerts and detectors
//	GET /ui/api/series?by=&range=    series by category, model or total, in clock-aligned steps
//	GET /ui/api/spec                 the spec as a routing document (HTML)
//	GET /ui/api/decisions?...        recent decisions, filtered (category, model, outcome, flagged, limit)
//	GET /ui/api/decisions/{id}       one decision record
//
// The page and its assets hold no data and are served to anyone; the API runs behind
// Options.Auth, which `clearbar serve` sets to the gateway's admin-key check. The page asks
// for a key when the API answers 401 or 403, and keeps it for the browser tab's session.
package web

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/drift"
	"github.com/clearbar/clearbar/health"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/trace"
)

// Prefix is the path the dashboard is served under.
const Prefix = "/ui/"

//go:embed assets
var assets embed.FS

// Decisions finds decision records for the explorer. A trace.Store satisfies it; `clearbar
// serve` passes one whose Get first flushes decisions still queued for the store.
type Decisions interface {
	Get(ctx context.Context, id string) (*clearbar.Decision, error)
	List(ctx context.Context, f trace.Filter) ([]*clearbar.Decision, error)
}

// Options configure the dashboard. Spec is required; every other source is optional, and the
// page leaves out what is missing.
type Options struct {
	Spec *spec.Spec
	// Monitor provides the series, figures and drift alerts.
	Monitor *drift.Monitor
	// Breakers are the gateway's circuit breakers.
	Breakers *health.Set
	// BreakerWindow is the breakers' Window, the span their call counts cover; zero means
	// health.DefaultSettings's, which `clearbar serve` uses.
	BreakerWindow time.Duration
	// Decisions serves the decision explorer; nil turns it off (no trace store).
	Decisions Decisions
	// Auth wraps the API handlers, to require an admin key; nil leaves them open.
	Auth func(http.Handler) http.Handler
	// Logger receives errors reading decisions; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Dashboard serves the dashboard under Prefix. It is safe for concurrent use.
type Dashboard struct {
	o   Options
	mux *http.ServeMux
}

// New builds the dashboard.
func New(o Options) (*Dashboard, error) {
	if o.Spec == nil {
		return nil, errors.New("web: no spec")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.BreakerWindow <= 0 {
		o.BreakerWindow = health.DefaultSettings().Window
	}
	auth := o.Auth
	if auth == nil {
		auth = func(h http.Handler) http.Handler { return h }
	}
	static, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, err
	}
	d := &Dashboard{o: o, mux: http.NewServeMux()}
	// Each path is registered for GET, and for every other method as a 405 with Allow (the
	// catch-all 404 below would otherwise answer them).
	get := func(path string, h http.Handler) {
		d.mux.Handle("GET "+path, h)
		d.mux.HandleFunc(path, methodNotAllowed)
	}
	get("/ui/{$}", http.HandlerFunc(d.index))
	get("/ui/assets/", http.StripPrefix("/ui/assets/", http.FileServerFS(static)))
	api := func(path string, h http.HandlerFunc) { get(path, auth(h)) }
	api("/ui/api/live", d.live)
	api("/ui/api/series", d.series)
	api("/ui/api/spec", d.specDocument)
	api("/ui/api/decisions", d.listDecisions)
	api("/ui/api/decisions/{id}", d.getDecision)
	d.mux.Handle("/ui/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no dashboard page "+r.Method+" "+r.URL.Path)
	}))
	return d, nil
}

// methodNotAllowed answers a dashboard path called with another method than GET (or HEAD).
func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "GET, HEAD")
	writeError(w, http.StatusMethodNotAllowed, r.Method+" "+r.URL.Path+" is not served: use GET "+r.URL.Path)
}

// ServeHTTP implements http.Handler for paths under Prefix.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// The page loads only its own script and styles and talks only to this server. Inline
	// styles are allowed for the routing document, which is shown in a sandboxed frame.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	d.mux.ServeHTTP(w, r)
}

func (d *Dashboard) index(w http.ResponseWriter, r *http.Request) {
	page, err := assets.ReadFile("assets/index.html")
	if err != nil {
		writeError(w, http.StatusInternalServerError, "the dashboard page is missing from this build")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(page)
}

var _ http.Handler = (*Dashboard)(nil)
