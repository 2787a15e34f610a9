package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// dashboardRequests sums the requests of the dashboard's last hour (GET /ui/api/series) and
// returns them with the live total since start (GET /ui/api/live).
func dashboardRequests(t *testing.T, addr string) (charted, total int64) {
	t.Helper()
	get := func(path string, v any) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, b)
		}
	}
	var series struct {
		Series []struct {
			Points []struct {
				Requests int64 `json:"requests"`
			} `json:"points"`
		} `json:"series"`
	}
	get("/ui/api/series?range=1h", &series)
	for _, s := range series.Series {
		for _, p := range s.Points {
			charted += p.Requests
		}
	}
	var live struct {
		Summary struct {
			Total struct {
				Requests int64 `json:"requests"`
			} `json:"total"`
		} `json:"summary"`
	}
	get("/ui/api/live", &live)
	return charted, live.Summary.Total.Requests
}

// TestServeRestoresDashboardSeries: after a restart, the dashboard's last hour still charts the
// decisions the decision store holds from the run before; the totals since start are the new
// run's.
func TestServeRestoresDashboardSeries(t *testing.T) {
	dir := t.TempDir()
	specFile := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(specFile, []byte(strings.Replace(shadowSpec, "    shadow: {models: [cand], sample: 1, daily_budget: 5}\n", "", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{specFile, "--time-scale", "0.001", "--trace", filepath.Join(dir, "trace.db")}
	addr, logs, stop := startServe(t, args...)
	for i := range 12 {
		if resp, body := chat(t, addr, fmt.Sprintf(`{"model":"clearbar/qa","messages":[{"role":"user","content":"question %d"}]}`, i)); resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
	}
	if charted, _ := dashboardRequests(t, addr); charted != 12 {
		t.Fatalf("the first run charts %d requests, want 12", charted)
	}
	if code := stop(); code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, logs.String())
	}
	addr, logs, stop = startServe(t, args...)
	defer stop()
	if resp, body := chat(t, addr, `{"model":"clearbar/qa","messages":[{"role":"user","content":"one more"}]}`); resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	// The store is read in the background, while the gateway serves, and the log says when
	// it is done.
	deadline := time.Now().Add(10 * time.Second)
	for {
		said := strings.Contains(logs.String(), "restored the decision store's recent decisions to the time series")
		charted, total := dashboardRequests(t, addr)
		if said && charted == 13 && total == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a restart the last hour charts %d requests and the total since start is %d (want 13 and 1); restoring logged: %v\n%s", charted, total, said, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
