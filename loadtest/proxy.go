package loadtest

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
)

// NewBareProxy returns the floor the gateway is compared with: a net/http/httputil.ReverseProxy
// to upstream that parses nothing. Its transport keeps up to 256 idle connections to the
// upstream (Go's default of 2 per host churns connections under load, which would make the
// floor slower than it is), and it flushes every write at once (FlushInterval -1), as a
// streaming proxy must.
//
// The handler enables full duplex on each request before proxying it. Go's HTTP/1 server
// otherwise closes a request body that is not fully read when the response starts; the
// reverse proxy's transport may still be reading it then (it has sent every byte but not yet
// seen EOF), fails, drops the upstream connection and cuts the answer short: about 1 % of
// streams through a plain ReverseProxy (golang/go#40747). With full duplex the floor streams
// the body through, unbuffered, without that failure; fullDuplex false gives the plain
// ReverseProxy, to show it.
func NewBareProxy(upstream *url.URL, fullDuplex bool) http.Handler {
	rp := newReverseProxy(upstream)
	if !fullDuplex {
		return rp
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.NewResponseController(w).EnableFullDuplex()
		rp.ServeHTTP(w, r)
	})
}

func newReverseProxy(upstream *url.URL) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(upstream)
			pr.Out.Host = pr.In.Host
		},
		Transport:     NewTransport(256),
		FlushInterval: -1,
	}
}

// NewTransport returns an HTTP/1.1 transport for loopback load: idle connections per host
// sized for the given concurrency, no compression, no proxy from the environment.
func NewTransport(conns int) *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		DialContext:         d.DialContext,
		MaxIdleConns:        max(conns, 100),
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}
