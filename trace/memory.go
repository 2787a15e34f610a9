package trace

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/clearbar/clearbar"
)

// Memory is a Store that keeps decisions in the process, for tests of other packages and for
// running without a trace file. It keeps each decision in the same JSON form as [SQLite], so
// what it reads back follows the same rules, and no caller can modify what it holds.
//
// Memory is safe for concurrent use. Write and Get cost O(batch) and O(1); List costs
// O(n log n) in the number of decisions held. Create it with NewMemory.
type Memory struct {
	capacity int

	mu     sync.RWMutex
	byID   map[string]*memEntry
	order  []string // IDs in first-write order, oldest first, for eviction
	closed bool
}

type memEntry struct {
	id       string
	timeNs   int64
	category string
	model    string
	outcome  string
	flagged  bool
	body     []byte
}

// NewMemory returns an empty Memory that holds at most capacity decisions: writing more
// evicts the oldest written (replacing a decision keeps its place). capacity <= 0 means no
// limit, which suits tests; a long-running gateway should set one.
func NewMemory(capacity int) *Memory {
	return &Memory{capacity: capacity, byID: make(map[string]*memEntry)}
}

// Len returns the number of decisions held.
func (m *Memory) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.byID)
}

// Write implements Store.
func (m *Memory) Write(ctx context.Context, ds []*clearbar.Decision) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries := make([]*memEntry, len(ds))
	for i, d := range ds {
		if err := validate(d); err != nil {
			return err
		}
		b, err := encode(d)
		if err != nil {
			return err
		}
		entries[i] = &memEntry{
			id: d.ID, timeNs: unixNanos(d.Time), category: d.Category, model: d.Model,
			outcome: d.Outcome.String(), flagged: d.Flagged, body: b,
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return fmt.Errorf("trace: memory store: %w", ErrClosed)
	}
	for _, e := range entries {
		if _, ok := m.byID[e.id]; !ok {
			m.order = append(m.order, e.id)
		}
		m.byID[e.id] = e
	}
	if m.capacity > 0 && len(m.order) > m.capacity {
		evict := m.order[:len(m.order)-m.capacity]
		for _, id := range evict {
			delete(m.byID, id)
		}
		clear(evict)
		// Reslicing is amortised O(1): append copies only the live IDs when it grows.
		m.order = m.order[len(evict):]
	}
	return nil
}

// Get implements Store.
func (m *Memory) Get(ctx context.Context, id string) (*clearbar.Decision, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	e, ok := m.byID[id]
	closed := m.closed
	m.mu.RUnlock()
	switch {
	case closed:
		return nil, fmt.Errorf("trace: memory store: %w", ErrClosed)
	case !ok:
		return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	return decode(e.body)
}

// List implements Store.
func (m *Memory) List(ctx context.Context, f Filter) ([]*clearbar.Decision, error) {
	f, err := f.normalize()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var since, until int64
	if !f.Since.IsZero() {
		since = unixNanos(f.Since)
	}
	if !f.Until.IsZero() {
		until = unixNanos(f.Until)
	}
	m.mu.RLock()
	if m.closed {
		m.mu.RUnlock()
		return nil, fmt.Errorf("trace: memory store: %w", ErrClosed)
	}
	var hits []*memEntry
	for _, e := range m.byID {
		if (!f.Since.IsZero() && e.timeNs < since) || (!f.Until.IsZero() && e.timeNs >= until) ||
			(f.Category != "" && e.category != f.Category) || (f.Model != "" && e.model != f.Model) ||
			(f.Outcome != "" && e.outcome != f.Outcome) || (f.Flagged && !e.flagged) {
			continue
		}
		hits = append(hits, e)
	}
	m.mu.RUnlock()
	slices.SortFunc(hits, func(a, b *memEntry) int {
		if c := cmp.Compare(b.timeNs, a.timeNs); c != 0 {
			return c
		}
		return cmp.Compare(b.id, a.id)
	})
	hits = hits[:min(len(hits), f.Limit)]
	out := make([]*clearbar.Decision, len(hits))
	for i, e := range hits {
		if out[i], err = decode(e.body); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Close implements Store: it drops every decision held.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.byID, m.order = nil, nil
	return nil
}
