package health

import (
	"cmp"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Key returns the key of a provider's model in a Set: "provider/model".
func Key(provider, model string) string { return provider + "/" + model }

// Set holds the breakers of every upstream, keyed by "provider/model" (see Key), each created
// on first use with the Set's settings. It is safe for concurrent use. Breakers are never
// removed: a Set lives as long as the gateway's configuration.
type Set struct {
	settings Settings
	now      func() time.Time

	// breakers is replaced, never modified, so Get reads it without a lock; mu serialises
	// the replacements.
	breakers atomic.Pointer[map[string]*Breaker]
	mu       sync.Mutex
	// observer is told of every change of state of the Set's breakers (Observe).
	observer atomic.Pointer[func(Transition)]
}

// Observe makes f the function told of every change of state of the Set's breakers, those
// created since included: a breaker opening (with why, and for how long), turning half-open
// and closing. f replaces any earlier observer; nil removes it. f is called after the change,
// outside the breaker's lock, by the goroutine whose call made it (the one reporting the
// failure that opened the breaker, the probe's, or the one whose Allow found the cooldown
// over), so it must be quick and safe for concurrent use. A breaker whose state does not change
// costs nothing more.
func (s *Set) Observe(f func(Transition)) {
	if f == nil {
		s.observer.Store(nil)
		return
	}
	s.observer.Store(&f)
}

// NewSet returns an empty Set whose breakers use settings (zero fields take their defaults).
// now is the clock Snapshot reads; nil means time.Now. Callers should pass the same clock to
// the breakers' Allow and done.
func NewSet(settings Settings, now func() time.Time) *Set {
	if now == nil {
		now = time.Now
	}
	s := &Set{settings: settings.withDefaults(), now: now}
	s.breakers.Store(&map[string]*Breaker{})
	return s
}

// Get returns the breaker for key, creating it closed on first use. Finding an existing
// breaker takes no lock and does not allocate; creating one copies the Set's index, which
// costs time proportional to the number of breakers.
func (s *Set) Get(key string) *Breaker {
	if b, ok := (*s.breakers.Load())[key]; ok {
		return b
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := *s.breakers.Load()
	if b, ok := old[key]; ok {
		return b
	}
	b := NewBreaker(s.settings)
	b.key, b.observer = key, &s.observer
	m := make(map[string]*Breaker, len(old)+1)
	maps.Copy(m, old)
	m[key] = b
	s.breakers.Store(&m)
	return b
}

// Snapshot returns the status of every breaker at the Set's current time, sorted by key.
// Each breaker's status is consistent in itself; different breakers are read one after the
// other, not at one instant.
func (s *Set) Snapshot() []Status {
	now := s.now()
	m := *s.breakers.Load()
	out := make([]Status, 0, len(m))
	for key, b := range m {
		st := b.status(now)
		st.Key = key
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b Status) int { return cmp.Compare(a.Key, b.Key) })
	return out
}
