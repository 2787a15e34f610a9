// Package provider builds clearbar.Provider values from a routing spec: a registry maps each
// provider type to its adapter's constructor. The registry is filled in cmd/clearbar, so
// adding an adapter adds a package and one Register call, not a switch.
//
// Adapters live in sub-packages (provider/openai, provider/simulated, provider/replay); every
// adapter that talks HTTP passes the shared conformance suite in provider/providertest.
package provider

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// Config is what an adapter's constructor gets: the provider's settings, the spec it belongs
// to (for its models' assumptions and files relative to it), and a shared HTTP client.
type Config struct {
	Provider *spec.Provider
	Spec     *spec.Spec
	// HTTP is the client adapters send requests with; nil means DefaultHTTPClient().
	HTTP *http.Client
	// ReadFile reads files the spec names (schemas, outcome tables), by path resolved against
	// the spec's directory; nil means os.ReadFile.
	ReadFile func(string) ([]byte, error)
}

// Read reads a file the spec names, relative to the spec's directory.
func (c Config) Read(name string) ([]byte, error) {
	if !filepath.IsAbs(name) && c.Spec != nil && c.Spec.File != "" {
		name = filepath.Join(filepath.Dir(c.Spec.File), name)
	}
	if c.ReadFile != nil {
		return c.ReadFile(name)
	}
	return os.ReadFile(name)
}

// Constructor builds a provider. It must not start goroutines or do network I/O: a provider
// is created at start-up and whenever the spec is reloaded.
type Constructor func(cfg Config) (clearbar.Provider, error)

// Registry maps provider types to constructors. It is safe for concurrent use.
type Registry struct {
	mu    sync.RWMutex
	types map[string]Constructor
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{types: map[string]Constructor{}} }

// Register adds the constructor for a provider type, replacing any earlier one.
func (r *Registry) Register(typ string, c Constructor) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.types[typ] = c
}

// Types lists the registered types, sorted.
func (r *Registry) Types() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.types))
	for t := range r.types {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// New builds the provider described by cfg.
func (r *Registry) New(cfg Config) (clearbar.Provider, error) {
	r.mu.RLock()
	c, ok := r.types[cfg.Provider.Type]
	r.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("provider %q: type %q has no adapter in this build (available: %s)", cfg.Provider.Name, cfg.Provider.Type, strings.Join(r.Types(), ", "))
	}
	if cfg.HTTP == nil {
		cfg.HTTP = DefaultHTTPClient()
	}
	p, err := c(cfg)
	if err != nil {
		return nil, fmt.Errorf("provider %q: %w", cfg.Provider.Name, err)
	}
	return p, nil
}

// NewAll builds every provider of a spec, by name. base supplies the HTTP client and file
// reader; its Provider and Spec are set for each provider.
func (r *Registry) NewAll(s *spec.Spec, base Config) (map[string]clearbar.Provider, error) {
	out := make(map[string]clearbar.Provider, len(s.Providers))
	for _, p := range s.Providers {
		cfg := base
		cfg.Provider, cfg.Spec = p, s
		prov, err := r.New(cfg)
		if err != nil {
			return nil, err
		}
		out[p.Name] = prov
	}
	return out, nil
}

// DefaultHTTPClient returns a client tuned for a gateway: many idle connections per upstream
// host (Go's default of 2 churns connections under load), HTTP/2 where offered, no overall
// timeout (calls are bounded by their contexts) and no automatic decompression surprises.
func DefaultHTTPClient() *http.Client {
	return &http.Client{Transport: NewTransport()}
}

// NewTransport returns the transport DefaultHTTPClient uses.
func NewTransport() *http.Transport {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: 0,
	}
}
