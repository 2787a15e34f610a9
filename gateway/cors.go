package gateway

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// cors lets browser pages on the origins it lists call the gateway (clearbar serve
// --cors-origin). Without origins the gateway sends no CORS header at all, and browsers keep
// other origins' pages from reading its answers.
//
// A request from a listed origin gets Access-Control-Allow-Origin and the response headers it
// may read (the decision headers, request-id, the retry headers). A preflight (OPTIONS with
// Access-Control-Request-Method) from a listed origin is answered at once, before keys are
// checked, as browsers send it without credentials: 204 with the methods the gateway serves and
// the request headers the SDKs send (the keys' headers, Anthropic's, OpenAI's, the SDKs'
// X-Stainless-* and Clearbar's X-Clearbar-*). Other origins get nothing: their preflight is
// answered as any other OPTIONS request.
type cors struct {
	any     bool // "*": every origin
	origins map[string]bool
}

// newCORS reads the allowed origins: "*" or scheme://host[:port], without a path.
func newCORS(origins []string) (*cors, error) {
	if len(origins) == 0 {
		return nil, nil
	}
	c := &cors{origins: map[string]bool{}}
	for _, o := range origins {
		if o == "*" {
			c.any = true
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("gateway: CORS origin %q is not an origin: write it as scheme://host[:port], as browsers send it in Origin (https://app.example.com), or * for any", o)
		}
		c.origins[strings.ToLower(strings.TrimSuffix(o, "/"))] = true
	}
	return c, nil
}

// corsExposed are the response headers a page may read: the decision headers, Anthropic's
// request-id, and the retry headers the SDKs honour.
var corsExposed = []string{exposed + ", Request-Id, Retry-After, Retry-After-Ms, X-Should-Retry"}

// corsMethods are the methods the gateway serves.
const corsMethods = "GET, POST"

// corsHeaders are the request headers a page may send besides Clearbar's and the SDKs' own
// (corsHeaderPrefixes), lower-case.
var corsHeaders = map[string]bool{
	"authorization": true, "content-type": true, "x-api-key": true,
	"anthropic-version": true, "anthropic-beta": true, "anthropic-dangerous-direct-browser-access": true,
	"openai-organization": true, "openai-project": true, "idempotency-key": true,
}

var corsHeaderPrefixes = []string{"x-clearbar-", "x-stainless-"}

func corsHeaderAllowed(name string) bool {
	if corsHeaders[name] {
		return true
	}
	for _, p := range corsHeaderPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// corsDefaultHeaders is the preflight's list when the browser asks for no header.
const corsDefaultHeaders = "Authorization, Content-Type, X-Api-Key, Anthropic-Version, Anthropic-Beta, Anthropic-Dangerous-Direct-Browser-Access, X-Clearbar-Category"

// serve sets the CORS headers of a request from an allowed origin, and answers its preflight;
// it reports whether it answered.
func (c *cors) serve(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" || !c.any && !c.origins[strings.ToLower(origin)] {
		return false
	}
	if c.any {
		h["Access-Control-Allow-Origin"] = []string{"*"}
	} else {
		h["Access-Control-Allow-Origin"] = []string{origin}
	}
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		h["Access-Control-Expose-Headers"] = corsExposed
		return false
	}
	h.Add("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers")
	h.Set("Access-Control-Allow-Methods", corsMethods)
	allowed := corsDefaultHeaders
	if asked := r.Header.Values("Access-Control-Request-Headers"); len(asked) > 0 {
		var names []string
		for _, v := range asked {
			for _, name := range strings.Split(v, ",") {
				if name = strings.ToLower(strings.TrimSpace(name)); name != "" && corsHeaderAllowed(name) {
					names = append(names, name)
				}
			}
		}
		allowed = strings.Join(names, ", ")
	}
	if allowed != "" {
		h.Set("Access-Control-Allow-Headers", allowed)
	}
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}
