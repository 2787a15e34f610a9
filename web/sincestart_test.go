package web

import (
	"net/http"
	"strings"
	"testing"
)

// TestTotalsSayTheyAreThisProcesss: the request and cost totals count this gateway process's
// requests only, while the charts cover earlier runs restored from the decision store: the
// page says so, and the script writes when the process started.
func TestTotalsSayTheyAreThisProcesss(t *testing.T) {
	st := newStack(t, nil)
	r := st.get(t, "/ui/", nil)
	page := body(t, r)
	if r.StatusCode != http.StatusOK || strings.Count(page, `class="sub since-start"`) != 2 || strings.Contains(page, ">since start<") ||
		!strings.Contains(page, "since this gateway started") || !strings.Contains(page, "The charts also show earlier runs") {
		t.Errorf("the totals do not say they are this process's:\n%.2000s", page)
	}
	if js := body(t, st.get(t, "/ui/assets/app.js", nil)); !strings.Contains(js, `'since this gateway started, ' + fmtTime(Date.parse(sum.start))`) {
		t.Error("the script does not write when the gateway started")
	}
}
