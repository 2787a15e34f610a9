package inflight

import (
	"fmt"
	"net/url"
	"strings"
)

// BaseURL returns a provider's base URL: the spec's base_url trimmed of spaces and trailing
// slashes, else def; it must be an http or https URL with a host. An empty result with no
// error means neither was given (def is "" for providers that need base_url).
func BaseURL(raw, def string) (string, error) {
	base := strings.TrimSpace(raw)
	if base == "" {
		base = def
	}
	if base == "" {
		return "", nil
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("base_url %q is not an http or https URL", base)
	}
	return strings.TrimRight(base, "/"), nil
}
