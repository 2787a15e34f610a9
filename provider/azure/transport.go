package azure

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// transport turns the requests of provider/openai into Azure requests: it adds the api-version
// query parameter and sends the key as api-key instead of Authorization: Bearer. It also copies
// apim-request-id into x-request-id on answers that have none, and names the filtered
// categories in the message of a content-filter refusal (see nameFilteredCategories). It is
// safe for concurrent use.
type transport struct {
	base       http.RoundTripper
	apiVersion string
}

// RoundTrip implements http.RoundTripper. It does not modify req: it sends a clone.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	q := r.URL.Query()
	q.Set("api-version", t.apiVersion)
	r.URL.RawQuery = q.Encode()
	if auth := r.Header.Get("Authorization"); auth != "" {
		r.Header.Del("Authorization")
		if key, ok := strings.CutPrefix(auth, "Bearer "); ok {
			r.Header.Set("Api-Key", key)
		}
	}
	resp, err := t.base.RoundTrip(r)
	if err == nil && resp.Header.Get("X-Request-Id") == "" {
		if id := resp.Header.Get("Apim-Request-Id"); id != "" {
			resp.Header.Set("X-Request-Id", id)
		}
	}
	if err == nil && resp.StatusCode == http.StatusBadRequest {
		nameFilteredCategories(resp)
	}
	return resp, err
}

// maxFilterBody bounds the error body read for its content-filter categories.
const maxFilterBody = 64 << 10

// nameFilteredCategories appends to the message of a content-filter refusal (a JSON error with
// code content_filter) the categories its innererror.content_filter_result says were filtered
// ("hate", "jailbreak", "custom_blocklists", …), as " (filtered categories: jailbreak)": Azure's
// message says only that the prompt triggered the policy. Other answers, and bodies larger than
// maxFilterBody, pass unchanged.
func nameFilteredCategories(resp *http.Response) {
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" || resp.Body == nil {
		return
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxFilterBody+1))
	rest := resp.Body
	body := io.MultiReader(bytes.NewReader(data), rest)
	resp.Body = readCloser{body, rest}
	if err != nil || len(data) > maxFilterBody {
		return
	}
	e := gjson.GetBytes(data, "error")
	if !strings.EqualFold(e.Get("code").String(), "content_filter") {
		return
	}
	var cats []string
	e.Get("innererror.content_filter_result").ForEach(func(k, v gjson.Result) bool {
		if v.Get("filtered").Type == gjson.True {
			cats = append(cats, k.String())
		}
		return true
	})
	if len(cats) == 0 {
		return
	}
	msg := strings.TrimSpace(e.Get("message").String()) + " (filtered categories: " + strings.Join(cats, ", ") + ")"
	out, err := sjson.SetBytes(data, "error.message", msg)
	if err != nil {
		return
	}
	resp.Body = readCloser{bytes.NewReader(out), rest}
	resp.ContentLength = int64(len(out))
	if resp.Header.Get("Content-Length") != "" {
		resp.Header.Set("Content-Length", strconv.Itoa(len(out)))
	}
}

// readCloser reads from r and closes c.
type readCloser struct {
	io.Reader
	c io.Closer
}

func (rc readCloser) Close() error { return rc.c.Close() }

var _ http.RoundTripper = (*transport)(nil)
