package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/retry"
	"github.com/clearbar/clearbar/spec"
)

// keyring checks client and admin keys. Keys are known only by their SHA-256, so the
// gateway never holds a client's key beyond the request that carries it.
type keyring struct {
	clients map[string]*clientKey // by hash
	admins  map[string]bool
}

type clientKey struct {
	name, tier, rateText string
	limiter              *rate.Limiter
}

func newKeyring(k *spec.Keys) (*keyring, error) {
	kr := &keyring{clients: map[string]*clientKey{}, admins: map[string]bool{}}
	if k == nil {
		return kr, nil
	}
	for _, h := range k.Admin {
		kr.admins[hashHex(h)] = true
	}
	for _, c := range k.Clients {
		ck := &clientKey{name: c.Name, tier: c.Tier, rateText: c.RateLimit}
		if c.RateLimit != "" {
			rt, err := spec.ParseRate(c.RateLimit)
			if err != nil {
				return nil, err
			}
			// N requests per period, refilled evenly, with a burst of N: a client that was
			// idle may spend its whole period's budget at once ("3/s" admits three requests
			// in the same instant, then one every third of a second).
			per := rt.Per / time.Duration(rt.N)
			ck.limiter = rate.NewLimiter(rate.Every(per), max(1, rt.N))
		}
		kr.clients[hashHex(c.Hash)] = ck
	}
	return kr, nil
}

// hashHex returns the hex digest of a spec key hash ("sha256:" and 64 hex digits), in lower
// case as digest writes it, so that a hash written in upper-case hex matches too.
func hashHex(h string) string {
	return strings.ToLower(strings.TrimPrefix(h, "sha256:"))
}

// HashKey returns the spec form of a key's hash: "sha256:" and the hex digest.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// presented returns the key a request carries: Authorization: Bearer, or x-api-key (as
// Anthropic clients send it).
func presented(r *http.Request) string {
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return r.Header.Get("X-Api-Key")
}

func digest(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// unauthorized is the answer to a request without a key, or with a key that is none of the
// gateway's: a 401 invalid_api_key, as OpenAI answers a wrong key (its type too).
func unauthorized(msg string) *clearbar.Error {
	return &clearbar.Error{Class: clearbar.ClientError, Status: 401, Type: "invalid_request_error", Code: "invalid_api_key", Message: msg}
}

// keyed reports whether the spec configures any key, client or admin: then every API request
// needs one (not /healthz, /readyz or the dashboard's page).
func (k *keyring) keyed() bool { return len(k.clients) > 0 || len(k.admins) > 0 }

// client returns the request's client, or a 401. Without any keys configured the gateway is
// open and client returns nil. With keys configured (client keys, admin keys, or both), a
// request needs one: a client key, or an admin key, which may do whatever a client may (as
// client "admin", with no tier and no rate limit).
func (k *keyring) client(r *http.Request) (*clientKey, error) {
	if !k.keyed() {
		return nil, nil
	}
	key := presented(r)
	if key == "" {
		return nil, unauthorized("this gateway needs an API key: send Authorization: Bearer KEY")
	}
	if c, ok := k.clients[digest(key)]; ok {
		return c, nil
	}
	if k.admins[digest(key)] {
		return &clientKey{name: "admin"}, nil
	}
	return nil, unauthorized("the API key is not valid for this gateway")
}

// admin checks for an admin key; without any keys configured the gateway is open. A request
// without a key, or with a key that is none of the gateway's, gets the 401 a client endpoint
// gives it; only a valid client key gets the 403 that says the endpoint needs an admin's.
func (k *keyring) admin(r *http.Request) error {
	if !k.keyed() {
		return nil
	}
	key := presented(r)
	if key == "" {
		return unauthorized("this endpoint needs an admin key: send Authorization: Bearer KEY")
	}
	h := digest(key)
	if k.admins[h] {
		return nil
	}
	if _, ok := k.clients[h]; ok {
		return &clearbar.Error{Class: clearbar.ClientError, Status: 403, Type: "permission_error", Code: "admin_key_required",
			Message: "this endpoint needs an admin key; the key sent is a client's"}
	}
	return unauthorized("the API key is not valid for this gateway")
}

func (c *clientKey) allow(now time.Time) bool {
	return c.limiter == nil || c.limiter.AllowN(now, 1)
}

// overLimit is the error of a request the client's rate limit refuses at now. Its message
// gives the real wait for the client's next request, which may be longer than the
// Retry-After the gateway sends (capped at retry.MaxClientRetryAfter): with "3/h", the next
// request may come 20 minutes later, and the message says so.
func (c *clientKey) overLimit(now time.Time) *clearbar.Error {
	wait := c.retryAfter(now)
	msg := fmt.Sprintf("client %q is over its rate limit of %s", c.name, c.rateText)
	if wait > 0 {
		msg += "; next request allowed in " + roundUp(wait).String()
		if wait > retry.MaxClientRetryAfter {
			msg += fmt.Sprintf("; Retry-After is capped at %ds", retry.MaxClientRetryAfter/time.Second)
		}
	}
	// The client's own matter, not an upstream's rate limit: a client error, with the 429 and
	// Retry-After the SDKs wait on (retryHeaders).
	return &clearbar.Error{Class: clearbar.ClientError, Status: http.StatusTooManyRequests, Type: "rate_limit_error", Code: codeClientRateLimited,
		RetryAfter: wait, Message: msg}
}

// roundUp rounds a wait up to a whole second, or to a millisecond below a second, for people.
func roundUp(d time.Duration) time.Duration {
	unit := time.Second
	if d < time.Second {
		unit = time.Millisecond
	}
	return (d + unit - 1).Truncate(unit)
}

func (c *clientKey) retryAfter(now time.Time) time.Duration {
	if c.limiter == nil {
		return 0
	}
	r := c.limiter.ReserveN(now, 1)
	d := r.DelayFrom(now)
	r.CancelAt(now)
	return d
}

// refusalLogInterval is the least time between two log lines about requests refused for their
// key.
const refusalLogInterval = 10 * time.Second

// refusalLog logs the requests refused before authentication (no key, or a key that is none of
// the gateway's) at most once per refusalLogInterval, with how many there were since the last
// line: a flood of bad keys costs one line every ten seconds, not one per request. The first
// refusal is logged at once. It is safe for concurrent use; its zero value is ready.
type refusalLog struct {
	mu       sync.Mutex
	last     time.Time // of the last line; zero before the first
	pending  int64     // refusals since the last line
	total    int64
	noKey    int64 // of pending, those without any key
	lastPath string
}

// refused counts the refusal of d at now and logs when a line is due.
func (l *refusalLog) refused(log *slog.Logger, now time.Time, d *clearbar.Decision) {
	l.mu.Lock()
	l.pending++
	l.total++
	if strings.Contains(d.Reason, "needs an API key") { // the message of a request without one (client, anthropicClient)
		l.noKey++
	}
	l.lastPath = d.Path
	if !l.last.IsZero() && now.Sub(l.last) < refusalLogInterval {
		l.mu.Unlock()
		return
	}
	n, noKey, total, path, since := l.pending, l.noKey, l.total, l.lastPath, l.last
	l.last, l.pending, l.noKey = now, 0, 0
	l.mu.Unlock()
	args := []any{"refused", n, "without_key", noKey, "with_unknown_key", n - noKey, "total", total, "last_path", path}
	if !since.IsZero() {
		args = append(args, "since", since.UTC().Format(time.RFC3339))
	}
	log.Warn("requests refused for want of a valid API key (401; counted in clearbar_refused_total, not recorded)", args...)
}
