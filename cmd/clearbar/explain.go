package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/gateway"
)

// headerFlags collects repeated --header "Name: value" flags.
type headerFlags map[string]string

func (h headerFlags) String() string { return "" }

func (h headerFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, ":")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("write a header as \"Name: value\"")
	}
	h[strings.TrimSpace(k)] = strings.TrimSpace(val)
	return nil
}

func (m *Main) runExplain(ctx context.Context, args []string) error {
	const usage = "clearbar explain DECISION_ID [--url URL (default $CLEARBAR_URL)] [--format text|json] | clearbar explain --dry-run --spec SPEC.yaml REQUEST.json [--header 'Name: value'] [--tier TIER] [--dialect auto|openai|anthropic]"
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	dry := fs.Bool("dry-run", false, "decide for a request without calling any model")
	specFile := fs.String("spec", "", "the spec to decide with (with --dry-run)")
	// The default is read after parsing, not shown as the flag's default: --help would print
	// CLEARBAR_URL, password and query included.
	gatewayURL := fs.String("url", "", "the gateway to ask for a decision record ($CLEARBAR_URL, else "+defaultGatewayURL+")")
	format := fs.String("format", "text", "text or json")
	tier := fs.String("tier", "", "the client key's tier (with --dry-run)")
	dialect := fs.String("dialect", "auto", "the request body's API (with --dry-run): openai (/v1/chat/completions), anthropic (/v1/messages), or auto: anthropic when the body has what only a Messages request has")
	headers := headerFlags{}
	fs.Var(headers, "header", "a request header, \"Name: value\" (with --dry-run; repeatable)")
	pos, err := parseArgs(fs, args, 1, 1, usage)
	if err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return usagef("--format %q: use text or json", *format)
	}
	if *dialect != "auto" && *dialect != clearbar.DialectOpenAI && *dialect != clearbar.DialectAnthropic {
		return usagef("--dialect %q: use auto, openai or anthropic", *dialect)
	}
	var d *clearbar.Decision
	if *dry {
		if *specFile == "" {
			return usagef("--dry-run needs --spec SPEC.yaml (usage: %s)", usage)
		}
		s, err := m.loadSpec(*specFile, m.Now())
		if err != nil {
			return err
		}
		// No model is called: every provider is simulated, so specs whose providers need
		// keys or adapters this build lacks can still be explained.
		simulateProviders(s)
		g, err := newGateway(s, nil, gateway.Options{})
		if err != nil {
			return err
		}
		body, err := readInput(m, pos[0])
		if err != nil {
			return err
		}
		if *dialect == clearbar.DialectAnthropic || *dialect == "auto" && isMessagesBody(body) {
			d, err = gateway.DryRunMessages(g, body, headers, *tier)
		} else {
			d, err = gateway.DryRun(g, body, headers, *tier)
		}
		if d != nil && d.Arm != "" {
			if c := s.Category(d.Category); c != nil {
				fmt.Fprintf(m.Stderr, "note: category %q splits its traffic %d ways, drawing an arm at random for each request: this dry run drew %s; the same request sent to the gateway may take another arm\n", c.Name, len(c.Route.Split), d.Arm)
			}
		}
		if err != nil {
			// The request fails as the gateway would fail it. A decision that got as far as a
			// category (a plan no model can take) is still worth showing.
			if d != nil && d.Category != "" {
				if werr := writeDecision(m, d, *format); werr != nil {
					return werr
				}
			}
			return fmt.Errorf("the gateway would answer %s", gateway.DescribeError(err))
		}
	} else {
		base := firstNonEmpty(*gatewayURL, os.Getenv("CLEARBAR_URL"), defaultGatewayURL)
		if d, err = fetchDecision(ctx, base, pos[0]); err != nil {
			return err
		}
	}
	return writeDecision(m, d, *format)
}

// isMessagesBody says whether a request body is an Anthropic Messages request: it has a
// member, a tool definition or a content block that only the Messages API has. A body both
// APIs read alike (a model, max_tokens and text messages) is taken as OpenAI's, which routes
// it the same.
func isMessagesBody(body []byte) bool {
	root := gjson.ParseBytes(body)
	for _, k := range []string{"system", "stop_sequences", "top_k", "thinking", "container", "mcp_servers"} {
		if root.Get(k).Exists() {
			return true
		}
	}
	for _, t := range root.Get("tools").Array() {
		if t.Get("input_schema").Exists() || t.Get("type").Exists() && t.Get("type").String() != "function" && t.Get("type").String() != "custom" {
			return true
		}
	}
	for _, m := range root.Get("messages").Array() {
		for _, b := range m.Get("content").Array() {
			switch b.Get("type").String() {
			case "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking", "search_result", "server_tool_use", "web_search_tool_result":
				return true
			}
		}
	}
	return false
}

// defaultGatewayURL is where explain looks for a gateway without --url or CLEARBAR_URL: serve's
// default address.
const defaultGatewayURL = "http://127.0.0.1:8080"

func writeDecision(m *Main, d *clearbar.Decision, format string) error {
	if format == "json" {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	return gateway.WriteExplanation(m.Stdout, d)
}

func readInput(m *Main, path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(bufio.NewReader(m.Stdin))
	}
	return os.ReadFile(path)
}

// fetchDecision asks a running gateway for a decision record. The admin key, if the gateway
// has keys, comes from CLEARBAR_ADMIN_KEY; a 401 (no key, or none of the gateway's) or a 403
// (a client's key) says so. base is the gateway's URL: a
// path in it is kept (a gateway behind a prefix) and so is a query; what explain prints of it
// never shows its password or its query.
func fetchDecision(ctx context.Context, base, id string) (*clearbar.Decision, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// url.Parse's error quotes the whole URL, password included.
		return nil, usagef("--url or CLEARBAR_URL is not an http:// or https:// URL")
	}
	if id == "" || id == "." || id == ".." {
		return nil, usagef("%q is not a decision id", id)
	}
	endpoint := u.JoinPath("v1", "decisions", url.PathEscape(id))
	shown := *endpoint
	shown.RawQuery, shown.ForceQuery = "", false
	where := shown.Redacted()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("asking %s: %w", where, err)
	}
	if k := os.Getenv("CLEARBAR_ADMIN_KEY"); k != "" {
		req.Header.Set("Authorization", "Bearer "+k)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		// The client's error quotes the URL it asked, query included: keep only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("asking %s for decision %s: %w (is clearbar serve running? --url or CLEARBAR_URL sets where)", where, id, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Message string } `json:"error"`
		}
		json.Unmarshal(body, &e)
		hint := ""
		switch {
		case resp.StatusCode == http.StatusUnauthorized && os.Getenv("CLEARBAR_ADMIN_KEY") == "":
			hint = "; the gateway has keys: set CLEARBAR_ADMIN_KEY to one of its admin keys"
		case resp.StatusCode == http.StatusUnauthorized:
			hint = "; CLEARBAR_ADMIN_KEY is not one of the gateway's admin keys"
		case resp.StatusCode == http.StatusForbidden:
			hint = "; CLEARBAR_ADMIN_KEY is a client key, not one of the gateway's admin keys"
		}
		return nil, fmt.Errorf("decision %s: %s (HTTP %d)%s", id, e.Error.Message, resp.StatusCode, hint)
	}
	var d clearbar.Decision
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, fmt.Errorf("decision %s: unreadable answer: %w", id, err)
	}
	return &d, nil
}
