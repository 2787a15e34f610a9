package gateway

import (
	"net/http"
	"strings"
	"testing"
)

// TestUnrecordedRefusalLookupSaysWhy: a 401 for want of a valid key is not recorded, though
// its answer names its decision id; looking the id up says that such refusals are not
// recorded, not only that the decision may not be written yet.
func TestUnrecordedRefusalLookupSaysWhy(t *testing.T) {
	const key, admin = "client-lookup-key", "admin-lookup-key"
	f, _, _ := newLoggingFixture(t, func(src string) string {
		return src + "keys:\n  admin: [\"" + HashKey(admin) + "\"]\n  clients:\n    - {name: app, hash: \"" + HashKey(key) + "\"}\n"
	})
	resp := f.post(t, hello, "Authorization", "Bearer wrong-key")
	readAll(t, resp)
	id := resp.Header.Get(headerDecision)
	if resp.StatusCode != http.StatusUnauthorized || id == "" {
		t.Fatalf("status %d, decision id %q", resp.StatusCode, id)
	}
	status, body := f.get(t, "/v1/decisions/"+id, admin)
	if status != http.StatusNotFound || !strings.Contains(string(body), "a request refused for want of a valid key, a 401, is not recorded") {
		t.Errorf("lookup of a 401's decision: %d %s", status, body)
	}
}
