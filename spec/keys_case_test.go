package spec

import (
	"strings"
	"testing"
)

// TestKeyHashesInUpperCase: a key hash written in upper-case hex (as some tools print
// SHA-256) is the same hash: the spec loads, and keeps it in lower case, which the gateway
// looks keys up by.
func TestKeyHashesInUpperCase(t *testing.T) {
	admin, client := "SHA256:"+strings.Repeat("AB", 32), "sha256:"+strings.Repeat("C1", 32)
	src := `version: 1
name: keys
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
providers: {p: {type: simulated}}
models:
  small: {provider: p, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}}
categories:
  - name: chat
    share: 1
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    failure_impact: {bad_answer: 0.01}
    route: {model: small}
    assume: {pass_rate: {small: 0.9}}
keys:
  admin: ["` + admin + `"]
  clients:
    - {name: alpha, hash: "` + client + `"}
`
	s, err := Parse([]byte(src), "keys.yaml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Keys.Admin[0]; got != strings.ToLower(admin) {
		t.Errorf("admin hash %q, want it in lower case", got)
	}
	if got := s.Keys.Clients[0].Hash; got != strings.ToLower(client) {
		t.Errorf("client hash %q, want it in lower case", got)
	}
}
