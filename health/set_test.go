package health

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
)

func TestSetGet(t *testing.T) {
	s := NewSet(Settings{}, nil)
	a := s.Get(Key("openai", "gpt-4o"))
	if s.Get("openai/gpt-4o") != a {
		t.Error("Get returned a new breaker for a known key")
	}
	if s.Get("openai/gpt-4o-mini") == a {
		t.Error("two keys share a breaker")
	}
	if n := len(s.Snapshot()); n != 2 {
		t.Errorf("%d breakers, want 2", n)
	}
}

// TestSetGetConcurrent creates breakers from many goroutines at once: every goroutine must get
// the same breaker for the same key.
func TestSetGetConcurrent(t *testing.T) {
	s := NewSet(Settings{}, nil)
	const keys = 20
	got := make([][keys]*Breaker, 16)
	var wg sync.WaitGroup
	for g := range got {
		wg.Go(func() {
			for i := range keys {
				k := fmt.Sprintf("p/m%d", (i+g)%keys)
				got[g][(i+g)%keys] = s.Get(k)
				done, _ := s.Get(k).Allow(time.Now())
				done(clearbar.OK, time.Now())
			}
		})
	}
	wg.Wait()
	for g := range got {
		if got[g] != got[0] {
			t.Fatalf("goroutine %d saw different breakers", g)
		}
	}
	if n := len(s.Snapshot()); n != keys {
		t.Errorf("%d breakers, want %d", n, keys)
	}
}

func TestSnapshot(t *testing.T) {
	now := t0
	s := NewSet(Settings{}, func() time.Time { return now })
	call := func(key string, class clearbar.FailureClass, at time.Time) {
		if done, ok := s.Get(key).Allow(at); ok {
			done(class, at)
		}
	}
	for range 5 {
		call("openai/gpt-4o", clearbar.Timeout, t0)
	}
	for range 3 {
		call("anthropic/claude", clearbar.OK, t0)
	}
	call("anthropic/claude", clearbar.RateLimited, t0.Add(time.Second))
	call("anthropic/claude", clearbar.Canceled, t0.Add(time.Second))
	s.Get("local/llama")

	now = t0.Add(2 * time.Second)
	want := []Status{
		{Key: "anthropic/claude", State: Closed, Requests: 4, Failures: 1, ConsecutiveFailures: 1,
			LastFailureClass: clearbar.RateLimited, LastFailureAt: t0.Add(time.Second)},
		{Key: "local/llama", State: Closed},
		{Key: "openai/gpt-4o", State: Open, Requests: 5, Failures: 5, ConsecutiveFailures: 5,
			OpenedAt: t0, Reason: "5 failures in a row (last: timeout)", ReopensAt: t0.Add(10 * time.Second),
			LastFailureClass: clearbar.Timeout, LastFailureAt: t0},
	}
	got := s.Snapshot()
	if len(got) != len(want) {
		t.Fatalf("Snapshot() = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Snapshot()[%d] =\n%+v, want\n%+v", i, got[i], want[i])
		}
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	const wantJSON = `[` +
		`{"key":"anthropic/claude","state":"closed","requests":4,"failures":1,"consecutive_failures":1,"last_failure_class":"rate_limited","last_failure_at":"2026-03-01T12:00:01Z"},` +
		`{"key":"local/llama","state":"closed","requests":0,"failures":0,"consecutive_failures":0},` +
		`{"key":"openai/gpt-4o","state":"open","requests":5,"failures":5,"consecutive_failures":5,"opened_at":"2026-03-01T12:00:00Z","reason":"5 failures in a row (last: timeout)","reopens_at":"2026-03-01T12:00:10Z","last_failure_class":"timeout","last_failure_at":"2026-03-01T12:00:00Z"}` +
		`]`
	if string(b) != wantJSON {
		t.Errorf("JSON:\n%s\nwant\n%s", b, wantJSON)
	}

	// After the cooldown the open breaker shows as half-open, with no reopening time; after a
	// full window its calls have left the counts.
	now = t0.Add(30 * time.Second)
	st := s.Snapshot()[2]
	if st.State != HalfOpen || !st.ReopensAt.IsZero() || st.OpenedAt != t0 || st.Requests != 0 {
		t.Errorf("after the cooldown: %+v", st)
	}
}

func BenchmarkSetGet(b *testing.B) {
	s := NewSet(Settings{}, nil)
	for i := range 100 {
		s.Get(fmt.Sprintf("provider/model-%d", i))
	}
	b.ReportAllocs()
	for b.Loop() {
		s.Get("provider/model-42")
	}
}
