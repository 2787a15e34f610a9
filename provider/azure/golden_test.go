package azure

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider/providertest"
)

// update rewrites the golden files: go test ./provider/azure -run Golden -update
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// volatileHeaders are left out of the recorded requests: Go's transport sets them.
var volatileHeaders = []string{"Accept-Encoding", "Content-Length", "User-Agent"}

// TestGoldenWire replays recorded Azure answers (the shared fixtures) and records, for each, the
// request the adapter sent (method, URL, headers, body) and what the client gets (the answer's
// body, or every chunk), so that a change in either shows up as a diff.
func TestGoldenWire(t *testing.T) {
	for _, name := range []string{"complete_basic", "stream_empty_first_chunk", "stream_async_filter_annotations", "stream_async_filter_blocked"} {
		t.Run(name, func(t *testing.T) {
			f := fixture(t, name)
			var sent bytes.Buffer
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				sent.WriteString(r.Method + " " + r.URL.RequestURI() + "\n")
				var names []string
				for k := range r.Header {
					if !slices.Contains(volatileHeaders, k) {
						names = append(names, k)
					}
				}
				slices.Sort(names)
				for _, k := range names {
					v := strings.Join(r.Header[k], ", ")
					v = strings.ReplaceAll(v, providertest.APIKey, "$KEY")
					sent.WriteString(k + ": " + v + "\n")
				}
				sent.WriteString("\n")
				sent.Write(body)
				sent.WriteString("\n")
				for k, v := range f.Header {
					w.Header()[k] = v
				}
				w.WriteHeader(f.Status)
				w.Write(f.Body)
			}))
			defer srv.Close()
			p := newTestProvider(t, srv, providertest.APIKey)
			p.newID = func() string { return "chatcmpl-made" }
			call := &clearbar.Call{Request: &clearbar.Request{Dialect: clearbar.DialectOpenAI, Body: f.Call.Body}, Model: f.Call.Model, Stream: f.Call.Stream}
			var got bytes.Buffer
			if f.Call.Stream {
				s, err := p.Stream(context.Background(), call)
				if err != nil {
					t.Fatal(err)
				}
				for s.Next() {
					got.Write(s.Chunk().Data)
					got.WriteByte('\n')
				}
				if err := s.Err(); err != nil {
					t.Fatal(err)
				}
				s.Close()
			} else {
				r, err := p.Complete(context.Background(), call)
				if err != nil {
					t.Fatal(err)
				}
				got.Write(r.Body)
				got.WriteByte('\n')
			}
			out := "# the request the adapter sent\n" + sent.String() + "\n# what the client gets\n" + got.String()
			file := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if out != string(want) {
				t.Errorf("%s differs (run with -update after checking the change):\n got %s\nwant %s", file, out, want)
			}
		})
	}
}

func fixture(t *testing.T, name string) providertest.Fixture {
	t.Helper()
	for _, f := range providertest.Fixtures(t, "azure") {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no fixture %s", name)
	return providertest.Fixture{}
}
