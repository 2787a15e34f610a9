package main

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
)

// TestExplainURLKeepsItsSecretsAndItsShape: explain asks CLEARBAR_URL's path prefix and keeps
// its query (not "/?token=…/v1/decisions/ID"), and nothing it prints shows the URL's password
// or query.
func TestExplainURLKeepsItsSecretsAndItsShape(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.Path+"?"+r.URL.RawQuery)
		mu.Unlock()
		d := clearbar.Decision{ID: strings.TrimPrefix(r.URL.Path[strings.LastIndex(r.URL.Path, "/"):], "/"), Time: time.Unix(0, 0).UTC(), Category: "c"}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(d)
	}))
	defer srv.Close()
	t.Setenv("CLEARBAR_ADMIN_KEY", "")
	for base, want := range map[string]string{
		srv.URL + "/?token=tok-SECRET":    "/v1/decisions/dec_1?token=tok-SECRET",
		srv.URL + "/gw/?token=tok-SECRET": "/gw/v1/decisions/dec_1?token=tok-SECRET",
		srv.URL + "/gw":                   "/gw/v1/decisions/dec_1?",
		srv.URL:                           "/v1/decisions/dec_1?",
		strings.Replace(srv.URL, "://", "://user:pw-SECRET@", 1): "/v1/decisions/dec_1?",
	} {
		mu.Lock()
		got = nil
		mu.Unlock()
		t.Setenv("CLEARBAR_URL", base)
		code, out, errOut := run(t, "explain", "dec_1")
		mu.Lock()
		asked := strings.Join(got, ", ")
		mu.Unlock()
		if code != 0 || asked != want || !strings.Contains(out, "dec_1") {
			t.Errorf("CLEARBAR_URL %s: exit %d, asked %q, want %q\n%s%s", base, code, asked, want, out, errOut)
		}
	}

	// A gateway that is not there: the error names where explain asked, without the password
	// or the query.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	t.Setenv("CLEARBAR_URL", "http://user:pw-SECRET@"+dead+"/?token=tok-SECRET")
	code, out, errOut := run(t, "explain", "dec_1")
	if code == 0 || !strings.Contains(errOut, "asking http://user:xxxxx@"+dead+"/v1/decisions/dec_1 ") ||
		strings.Contains(out+errOut, "SECRET") {
		t.Errorf("unreachable gateway: exit %d\n%s%s", code, out, errOut)
	}
	// --help shows where explain asks without the URL itself, which may hold a password or a
	// token.
	t.Setenv("CLEARBAR_URL", "http://user:pw-SECRET@127.0.0.1:1/?token=tok-SECRET")
	code, out, errOut = run(t, "explain", "--help")
	if code != 0 || strings.Contains(out+errOut, "SECRET") || !strings.Contains(out, "$CLEARBAR_URL, else http://127.0.0.1:8080") {
		t.Errorf("explain --help: exit %d\n%s%s", code, out, errOut)
	}
	// A URL explain cannot use is refused without quoting it.
	for _, bad := range []string{"http://user:pw-SECRET@[::1", "ftp://user:pw-SECRET@host/", "user:pw-SECRET@host"} {
		t.Setenv("CLEARBAR_URL", bad)
		code, out, errOut := run(t, "explain", "dec_1")
		if code == 0 || strings.Contains(out+errOut, "SECRET") || !strings.Contains(errOut, "not an http:// or https:// URL") {
			t.Errorf("CLEARBAR_URL %q: exit %d\n%s%s", bad, code, out, errOut)
		}
	}
}
