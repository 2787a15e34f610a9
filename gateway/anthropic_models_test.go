package gateway_test

// GET /v1/models and /v1/models/{id} for Anthropic's SDKs: a request carrying anthropic-version
// (which those SDKs always send) is answered in Anthropic's shape, paged as Anthropic pages
// it; any other request keeps OpenAI's shape.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	anthropic "github.com/anthropics/anthropic-sdk-go"
	anthropicopt "github.com/anthropics/anthropic-sdk-go/option"
	anthropicv2 "github.com/anthropics/anthropic-sdk-go/v2"
	anthropicv2opt "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/tidwall/gjson"
)

// getWorld sends GET path to the world's gateway with the client key (as x-api-key when
// anthropicVersion is set, as Anthropic's older SDKs send it) and anthropicVersion, if any.
func getWorld(t *testing.T, w *world, path, anthropicVersion string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", w.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if anthropicVersion != "" {
		req.Header.Set("Anthropic-Version", anthropicVersion)
		req.Header.Set("X-Api-Key", worldClientKey)
	} else {
		req.Header.Set("Authorization", "Bearer "+worldClientKey)
	}
	resp, err := w.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// openAIModelIDs is the world's model list, in order, as OpenAI clients get it.
func openAIModelIDs(t *testing.T, w *world) []string {
	t.Helper()
	status, _, body := getWorld(t, w, "/v1/models", "")
	if status != 200 || gjson.GetBytes(body, "object").Str != "list" {
		t.Fatalf("OpenAI model list: %d %s", status, body)
	}
	var ids []string
	for _, m := range gjson.GetBytes(body, "data").Array() {
		ids = append(ids, m.Get("id").Str)
	}
	return ids
}

// TestAnthropicModelsShape: with anthropic-version the list is Anthropic's page ({data: [{type,
// id, display_name, created_at}], has_more, first_id, last_id}) with its limit, after_id and
// before_id; retrieve is the model object, an unknown model Anthropic's 404; without the
// header both stay OpenAI's. Before the fix every answer was OpenAI's.
func TestAnthropicModelsShape(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	all := openAIModelIDs(t, w)
	if len(all) <= 20 {
		t.Fatalf("the world lists %d models; the default page test needs more than 20", len(all))
	}
	n := len(all)
	tests := []struct {
		explanation string
		query       string
		want        []string // the page's ids
		hasMore     bool
	}{
		{"no parameters: the first 20, Anthropic's default limit", "", all[:20], true},
		{"limit 3", "?limit=3", all[:3], true},
		{"a limit beyond the list gives all of it", "?limit=1000", all, false},
		{"after_id: the models after it", "?limit=2&after_id=" + all[2], all[3:5], true},
		{"after_id of the second last model: the last one, and no more", "?limit=5&after_id=" + all[n-2], all[n-1:], false},
		{"after_id of the last model: an empty page", "?after_id=" + all[n-1], []string{}, false},
		{"before_id: the models just before it, in list order", "?limit=2&before_id=" + all[5], all[3:5], true},
		{"before_id near the start: the ones before it, and no more", "?limit=5&before_id=" + all[2], all[:2], false},
		{"before_id of the first model: an empty page", "?before_id=" + all[0], []string{}, false},
	}
	for _, tt := range tests {
		status, h, body := getWorld(t, w, "/v1/models"+tt.query, "2023-06-01")
		if status != 200 {
			t.Errorf("%s: %d %s", tt.explanation, status, body)
			continue
		}
		if h.Get("Request-Id") == "" {
			t.Errorf("%s: no request-id header", tt.explanation)
		}
		page := gjson.ParseBytes(body)
		if page.Get("object").Exists() || !page.Get("data").IsArray() {
			t.Errorf("%s: not Anthropic's page: %s", tt.explanation, body)
			continue
		}
		got := []string{}
		for _, m := range page.Get("data").Array() {
			got = append(got, m.Get("id").Str)
			if _, err := time.Parse(time.RFC3339, m.Get("created_at").Str); err != nil || m.Get("type").Str != "model" ||
				m.Get("display_name").Str == "" || m.Get("created").Exists() || m.Get("owned_by").Exists() {
				t.Errorf("%s: model %s is not Anthropic's model object", tt.explanation, m.Raw)
			}
		}
		if !slices.Equal(got, tt.want) || page.Get("has_more").Type == gjson.Null || page.Get("has_more").Bool() != tt.hasMore {
			t.Errorf("%s: ids %v has_more %s, want %v %v", tt.explanation, got, page.Get("has_more").Raw, tt.want, tt.hasMore)
		}
		first, last := page.Get("first_id"), page.Get("last_id")
		if len(tt.want) == 0 {
			if first.Type != gjson.Null || last.Type != gjson.Null {
				t.Errorf("%s: an empty page has first_id %s last_id %s, want null", tt.explanation, first.Raw, last.Raw)
			}
		} else if first.Str != tt.want[0] || last.Str != tt.want[len(tt.want)-1] {
			t.Errorf("%s: first_id %s last_id %s, want %s %s", tt.explanation, first.Raw, last.Raw, tt.want[0], tt.want[len(tt.want)-1])
		}
	}

	// Refusals, in Anthropic's envelope.
	for _, tt := range []struct {
		explanation, path string
		status            int
		errType, message  string
	}{
		{"limit 0", "/v1/models?limit=0", 400, "invalid_request_error", "limit"},
		{"limit above 1000", "/v1/models?limit=1001", 400, "invalid_request_error", "limit"},
		{"limit not a number", "/v1/models?limit=many", 400, "invalid_request_error", "limit"},
		{"an after_id that is not listed", "/v1/models?after_id=clearbar/nope", 400, "invalid_request_error", "after_id"},
		{"after_id and before_id together", "/v1/models?after_id=" + all[1] + "&before_id=" + all[3], 400, "invalid_request_error", "before_id"},
		{"retrieve a name in Clearbar's namespace that names nothing", "/v1/models/clearbar/nope", 404, "not_found_error", "clearbar/nope"},
	} {
		status, h, body := getWorld(t, w, tt.path, "2026-10-21")
		e := gjson.ParseBytes(body)
		if status != tt.status || e.Get("type").Str != "error" || e.Get("error.type").Str != tt.errType ||
			!strings.Contains(e.Get("error.message").Str, tt.message) || h.Get("Request-Id") == "" {
			t.Errorf("%s: %d %s, want %d %s naming %s", tt.explanation, status, body, tt.status, tt.errType, tt.message)
		}
	}

	// Retrieve: the listed model, and a name outside the namespace (classified, so served).
	for _, id := range []string{"clearbar/an", "claude", "some-model"} {
		status, _, body := getWorld(t, w, "/v1/models/"+id, "2023-06-01")
		m := gjson.ParseBytes(body)
		if _, err := time.Parse(time.RFC3339, m.Get("created_at").Str); status != 200 || err != nil || m.Get("type").Str != "model" ||
			m.Get("id").Str != id || m.Get("display_name").Str == "" || m.Get("object").Exists() {
			t.Errorf("retrieve %s: %d %s", id, status, body)
		}
	}

	// Without anthropic-version, OpenAI's shapes are unchanged.
	status, _, body := getWorld(t, w, "/v1/models/clearbar/an", "")
	if status != 200 || gjson.GetBytes(body, "object").Str != "model" || gjson.GetBytes(body, "owned_by").Str == "" {
		t.Errorf("OpenAI retrieve: %d %s", status, body)
	}
	status, _, body = getWorld(t, w, "/v1/models/clearbar/nope", "")
	if status != 404 || gjson.GetBytes(body, "error.code").Str != "model_not_found" {
		t.Errorf("OpenAI unknown model: %d %s", status, body)
	}

	// Without a key, an Anthropic client gets Anthropic's 401.
	req, _ := http.NewRequest("GET", w.srv.URL+"/v1/models", nil)
	req.Header.Set("Anthropic-Version", "2023-06-01")
	resp, err := w.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 || gjson.GetBytes(b, "error.type").Str != "authentication_error" || !strings.Contains(gjson.GetBytes(b, "error.message").Str, "x-api-key") {
		t.Errorf("Anthropic client without a key: %d %s", resp.StatusCode, b)
	}
}

// TestAnthropicSDKModels: anthropic-sdk-go v1 and v2 list the models page by page with their
// auto-pagers (after_id = last_id while has_more), page backwards with before_id, retrieve one
// and get *anthropic.Error not_found_error for an unknown one. Before the fix the SDKs decoded
// OpenAI's list into empty pages and models without created_at or display_name.
func TestAnthropicSDKModels(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	all := openAIModelIDs(t, w)
	ctx := context.Background()

	t.Run("v1", func(t *testing.T) {
		client := anthropic.NewClient(anthropicopt.WithoutEnvironmentDefaults(), anthropicopt.WithBaseURL(w.srv.URL),
			anthropicopt.WithAPIKey(worldClientKey), anthropicopt.WithHTTPClient(&http.Client{Transport: newTransport(t, 0)}))
		var ids []string
		iter := client.Models.ListAutoPaging(ctx, anthropic.ModelListParams{Limit: anthropic.Int(7)})
		for iter.Next() {
			m := iter.Current()
			if m.Type != "model" || m.DisplayName == "" || m.CreatedAt.IsZero() {
				t.Errorf("model %s", m.RawJSON())
			}
			ids = append(ids, m.ID)
		}
		if err := iter.Err(); err != nil || !slices.Equal(ids, all) {
			t.Errorf("auto-paged list %v (%v), want %v", ids, err, all)
		}
		page, err := client.Models.List(ctx, anthropic.ModelListParams{BeforeID: anthropic.String(all[4]), Limit: anthropic.Int(2)})
		if err != nil || len(page.Data) != 2 || page.Data[0].ID != all[2] || page.FirstID != all[2] || !page.HasMore {
			t.Errorf("before_id page %+v %v", page, err)
		}
		m, err := client.Models.Get(ctx, "clearbar/an", anthropic.ModelGetParams{})
		if err != nil || m.ID != "clearbar/an" || m.DisplayName == "" || m.CreatedAt.IsZero() {
			t.Errorf("get clearbar/an: %+v %v", m, err)
		}
		_, err = client.Models.Get(ctx, "clearbar/nope", anthropic.ModelGetParams{})
		var ae *anthropic.Error
		if !errors.As(err, &ae) || ae.StatusCode != 404 || ae.Type() != "not_found_error" || ae.RequestID == "" {
			t.Errorf("get clearbar/nope: %v", err)
		}
	})

	t.Run("v2", func(t *testing.T) {
		client := anthropicv2.NewClient(anthropicv2opt.WithoutEnvironmentDefaults(), anthropicv2opt.WithBaseURL(w.srv.URL),
			anthropicv2opt.WithAPIKey(worldClientKey), anthropicv2opt.WithHTTPClient(&http.Client{Transport: newTransport(t, 0)}))
		var ids []string
		iter := client.Models.ListAutoPaging(ctx, anthropicv2.ModelListParams{})
		for iter.Next() {
			m := iter.Current()
			if m.DisplayName == "" || m.CreatedAt.IsZero() {
				t.Errorf("model %s", m.RawJSON())
			}
			ids = append(ids, m.ID)
		}
		if err := iter.Err(); err != nil || !slices.Equal(ids, all) {
			t.Errorf("auto-paged list %v (%v), want %v", ids, err, all)
		}
		// Backwards from the end, as the auto-pager pages when the first request had before_id.
		var back []string
		iter = client.Models.ListAutoPaging(ctx, anthropicv2.ModelListParams{BeforeID: anthropicv2.String(all[len(all)-1]), Limit: anthropicv2.Int(4)})
		for iter.Next() {
			back = append(back, iter.Current().ID)
		}
		if err := iter.Err(); err != nil || len(back) != len(all)-1 || !slices.Equal(back[:4], all[len(all)-5:len(all)-1]) {
			t.Errorf("backward pages %v (%v)", back, err)
		}
		m, err := client.Models.Get(ctx, "clearbar/an", anthropicv2.ModelGetParams{})
		if err != nil || m.ID != "clearbar/an" || m.DisplayName == "" || m.CreatedAt.IsZero() {
			t.Errorf("get clearbar/an: %+v %v", m, err)
		}
		_, err = client.Models.Get(ctx, "clearbar/nope", anthropicv2.ModelGetParams{})
		var ae *anthropicv2.Error
		if !errors.As(err, &ae) || ae.StatusCode != 404 || ae.Type() != "not_found_error" || ae.RequestID == "" {
			t.Errorf("get clearbar/nope: %v", err)
		}
	})
}
