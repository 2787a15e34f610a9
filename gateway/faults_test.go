package gateway_test

// Fault injection through the real provider/openai adapter: the fake upstream of sdk_test.go
// times out, rate-limits, fails, resets connections, cuts and garbles streams, while clients read
// slowly or go away. The tests check what the client gets, how many calls reach the upstream, the
// decision record and the circuit breakers.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/health"
)

// chatBody is a raw chat request for a category.
func chatBody(category string, stream bool) string {
	return fmt.Sprintf(`{"model":"clearbar/%s","stream":%t,"messages":[{"role":"user","content":"hi"}]}`, category, stream)
}

// readAllBody reads and closes a response body.
func readAllBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	return string(b)
}

// attemptClasses lists a decision's attempts as model:class.
func attemptClasses(d *clearbar.Decision) []string {
	var out []string
	for _, a := range d.Attempts {
		out = append(out, a.Model+":"+a.Class.String())
	}
	return out
}

// waitFor polls cond for up to five seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// hangUntilCanceled blocks until the gateway gives up on the call.
func hangUntilCanceled(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
	}
}

// A model that does not answer within its timeout (300ms for "slow" in the spec) is abandoned:
// its call is canceled, it is not retried, and the fallback answers or the client gets a 504.
func TestFaultUpstreamTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, explanation string
		category          string
		stream            bool
		wantStatus        int
		wantModel         string
	}{
		{"non-stream with fallback", "the slow model times out; secondary answers", "slowpath", false, 200, "secondary"},
		{"stream with fallback", "no first byte in time: the fallback streams instead", "slowpath", true, 200, "secondary"},
		{"non-stream without fallback", "nothing to fall back to: a 504", "slowsolo", false, 504, ""},
		{"stream without fallback", "nothing was sent yet: a 504 rather than a stream", "slowsolo", true, 504, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, setup{script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
				if c.Model == "up-slow" {
					hangUntilCanceled(r)
					return
				}
				answerNormally(w, r, c)
			}})
			start := time.Now()
			resp := e.post(t, context.Background(), chatBody(tc.category, tc.stream))
			body := readAllBody(t, resp)
			if elapsed := time.Since(start); elapsed > 3*time.Second {
				t.Errorf("%s: took %v with a 300ms model timeout", tc.explanation, elapsed)
			}
			if resp.StatusCode != tc.wantStatus || resp.Header.Get("X-Clearbar-Model") != tc.wantModel {
				t.Fatalf("%s: status %d model %q: %s", tc.explanation, resp.StatusCode, resp.Header.Get("X-Clearbar-Model"), body)
			}
			if tc.wantStatus == 504 && gjson.Get(body, "error.type").Str != "server_error" {
				t.Errorf("%s: error body %s", tc.explanation, body)
			}
			if tc.stream && tc.wantStatus == 200 && !strings.HasSuffix(body, "data: [DONE]\n\n") {
				t.Errorf("%s: stream %q", tc.explanation, tail(body))
			}
			if n := e.up.count("up-slow"); n != 1 {
				t.Errorf("%s: the slow model was called %d times; a timeout falls back at once", tc.explanation, n)
			}
			waitFor(t, "the upstream to see its call canceled", func() bool { return e.up.canceled.Load() >= 1 })
			d := e.decisions.waitCount(t, 1)[0]
			if d.Attempts[0].Class != clearbar.Timeout {
				t.Errorf("%s: attempts %v", tc.explanation, attemptClasses(d))
			}
			// The record names the bound that fired: the model's 300ms, not the request's 120s.
			if msg := d.Attempts[0].Error; msg != "no complete answer within 300ms" && msg != "no first chunk within 300ms" {
				t.Errorf("%s: the timed-out attempt's error is %q; it should name the model's 300ms timeout", tc.explanation, msg)
			}
		})
	}
}

// When the request runs out of time during a call, the plan stops there: no later candidate is
// begun (it could not be called), recorded as an attempt, or charged a timeout by its breaker.
func TestFaultRequestTimeoutStopsThePlan(t *testing.T) {
	t.Parallel()
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%t", stream), func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, setup{
				edit: func(src string) string { return src + "server: {request_timeout: 400ms}\n" },
				script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
					if c.Model == "up-primary" {
						hangUntilCanceled(r)
						return
					}
					answerNormally(w, r, c)
				},
			})
			resp := e.post(t, context.Background(), chatBody("chat", stream))
			body := readAllBody(t, resp)
			if resp.StatusCode != http.StatusGatewayTimeout || gjson.Get(body, "error.code").Str != "timeout" {
				t.Fatalf("status %d: %s; want a 504 timeout", resp.StatusCode, body)
			}
			d := e.decisions.waitCount(t, 1)[0]
			if len(d.Attempts) != 1 || d.Attempts[0].Model != "primary" || d.Attempts[0].Class != clearbar.Timeout {
				t.Errorf("attempts %v; want the primary's timeout alone: the request had no time left for its fallback", attemptClasses(d))
			}
			if n := e.up.count("up-secondary"); n != 0 {
				t.Errorf("the fallback was called %d times after the request ran out of time", n)
			}
			if st, _ := e.breaker(t, "up/secondary"); st.Failures != 0 || st.ConsecutiveFailures != 0 {
				t.Errorf("breaker up/secondary %+v: charged with a failure of a call never made", st)
			}
		})
	}
}

// A failure that opens its model's breaker is not retried on that model: the request falls back
// at once instead of sleeping the upstream's Retry-After for a call the breaker then refuses.
func TestFaultOpenedBreakerSkipsTheRetryWait(t *testing.T) {
	t.Parallel()
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%t", stream), func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, setup{
				breakers: health.NewSet(health.Settings{ConsecutiveFailures: 1, Cooldown: time.Minute}, nil),
				script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
					if c.Model == "up-primary" {
						writeBody(w, 429, "application/json", `{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`, "Retry-After", "3")
						return
					}
					answerNormally(w, r, c)
				},
			})
			start := time.Now()
			resp := e.post(t, context.Background(), chatBody("chat", stream))
			body := readAllBody(t, resp)
			if resp.StatusCode != 200 || resp.Header.Get("X-Clearbar-Model") != "secondary" {
				t.Fatalf("status %d model %q: %s", resp.StatusCode, resp.Header.Get("X-Clearbar-Model"), body)
			}
			if elapsed := time.Since(start); elapsed > 2*time.Second {
				t.Errorf("took %v: the gateway slept the 3s Retry-After of a model whose breaker had opened", elapsed)
			}
			if n := e.up.count("up-primary"); n != 1 {
				t.Errorf("the rate-limited model was called %d times, want 1", n)
			}
			d := e.decisions.waitCount(t, 1)[0]
			if len(d.Attempts) != 2 || d.Attempts[0].Outcome != "fell back" || d.Attempts[1].Model != "secondary" {
				t.Errorf("attempts %v, first outcome %q; want the primary's 429 to fall back to secondary", attemptClasses(d), d.Attempts[0].Outcome)
			}
		})
	}
}

// A storm of 429s: many concurrent requests, every call rate-limited. The gateway must not
// amplify it (per model at most one call and one retry per request), must tell clients to back
// off, and the breakers open.
func TestFault429Storm(t *testing.T) {
	t.Parallel()
	const requests = 40
	e := newE2E(t, setup{script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		writeBody(w, 429, "application/json", `{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`, "Retry-After-Ms", "5")
	}})
	var wg sync.WaitGroup
	statuses := make(chan int, requests)
	retryAfter := make(chan string, requests)
	for range requests {
		wg.Go(func() {
			var httpResp *http.Response
			_, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "clearbar/chat", Messages: userMessage("hi")},
				option.WithMaxRetries(0), option.WithResponseInto(&httpResp))
			if err == nil {
				statuses <- 200
				return
			}
			statuses <- httpResp.StatusCode
			retryAfter <- httpResp.Header.Get("Retry-After-Ms")
		})
	}
	wg.Wait()
	close(statuses)
	close(retryAfter)
	for s := range statuses {
		if s != 429 {
			t.Errorf("status %d, want 429", s)
		}
	}
	for v := range retryAfter {
		if ms, err := strconv.Atoi(v); err != nil || ms < 1 || ms > 60000 {
			t.Errorf("retry-after-ms %q", v)
		}
	}
	// The chat route is primary with one retry, then secondary with one retry.
	for _, model := range []string{"up-primary", "up-secondary"} {
		if n := e.up.count(model); n > requests*2 {
			t.Errorf("%s called %d times for %d requests: more than one call and one retry each", model, n, requests)
		}
	}
	if n := e.up.count(""); n > requests*4 {
		t.Errorf("%d upstream calls for %d requests", n, requests)
	}
	for _, key := range []string{"up/primary", "up/secondary"} {
		if st, ok := e.breaker(t, key); !ok || st.State != health.Open {
			t.Errorf("breaker %s: %+v, want open after a storm of 429s", key, st)
		}
	}
	if len(e.inbound.retryCounts()) != requests {
		t.Errorf("%d client requests", len(e.inbound.retryCounts()))
	}
}

// A burst of 5xx from one model opens its breaker; from then on its traffic goes to the fallback
// and the broken model is not called at all.
func TestFault5xxBurstOpensBreaker(t *testing.T) {
	t.Parallel()
	const requests, trip = 10, 3
	e := newE2E(t, setup{
		breakers: health.NewSet(health.Settings{ConsecutiveFailures: trip, Cooldown: time.Minute}, nil),
		script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
			if c.Model == "up-primary" {
				writeBody(w, 500, "application/json", `{"error":{"message":"internal error","type":"server_error","param":null,"code":null}}`)
				return
			}
			answerNormally(w, r, c)
		},
	})
	var openedAt int
	for i := range requests {
		resp := e.post(t, context.Background(), chatBody("chat", i%2 == 1))
		body := readAllBody(t, resp)
		if resp.StatusCode != 200 || resp.Header.Get("X-Clearbar-Model") != "secondary" {
			t.Fatalf("request %d: status %d model %q: %s", i, resp.StatusCode, resp.Header.Get("X-Clearbar-Model"), body)
		}
		if st, _ := e.breaker(t, "up/primary"); st.State == health.Open && openedAt == 0 {
			openedAt = e.up.count("up-primary")
		}
	}
	st, _ := e.breaker(t, "up/primary")
	if st.State != health.Open {
		t.Fatalf("breaker up/primary %+v, want open after %d failures in a row", st, trip)
	}
	if n := e.up.count("up-primary"); n != trip {
		t.Errorf("the broken model was called %d times; it should get exactly the %d calls that open its breaker (it had %d when the breaker was first seen open)", n, trip, openedAt)
	}
	ds := e.decisions.waitCount(t, requests)
	last := ds[len(ds)-1]
	if len(last.Attempts) != 1 || last.Attempts[0].Model != "secondary" || len(last.Skipped) == 0 || !strings.Contains(last.Skipped[0].Reason, "breaker") {
		t.Errorf("a request after the breaker opened: attempts %v skipped %+v", attemptClasses(last), last.Skipped)
	}
	// Every request fell back once, before the breaker opened after failed calls, after it
	// without calling the primary: both are fallbacks, the first caused by an overloaded call,
	// the others by the open breaker.
	if k := last.Attempts[0].Kind; k != clearbar.AttemptFallback {
		t.Errorf("a request served by the fallback while the primary's breaker is open records a %s attempt", k)
	}
	var diverted float64
	for _, d := range ds {
		if d.Attempts[0].Model == "secondary" {
			diverted++
		}
	}
	overloaded, open := e.metric(t, `clearbar_fallbacks_total{category="chat",class="overloaded"}`), e.metric(t, `clearbar_fallbacks_total{category="chat",class="breaker_open"}`)
	if overloaded+open != requests || open != diverted || diverted == 0 {
		t.Errorf("clearbar_fallbacks_total overloaded %v, breaker_open %v, want one fallback per request, breaker_open for the %v that did not call the primary", overloaded, open, diverted)
	}
}

// Connections that fail before an answer is read are retried once and then fall back; a stream
// whose connection breaks before its first event falls back at once.
func TestFaultConnectionReset(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, explanation string
		stream            bool
		fail              func(w http.ResponseWriter)
		wantPrimaryCalls  int
		wantClass         clearbar.FailureClass
	}{
		{"reset before the status line", "the connection is reset (RST) with the request unanswered", false,
			func(w http.ResponseWriter) { resetConn(w, true) }, 2, clearbar.Connection},
		{"reset before the status line, stream", "as above, for a stream request", true,
			func(w http.ResponseWriter) { resetConn(w, true) }, 2, clearbar.Connection},
		{"closed inside the body", "a Content-Length body cut short", false, func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "2000")
			w.WriteHeader(200)
			io.WriteString(w, `{"id":"chatcmpl-cut","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hel`)
			resetConn(w, false)
		}, 2, clearbar.Connection},
		{"closed after stream headers", "200 event-stream, then the connection closes before any event", true, func(w http.ResponseWriter) {
			openSSE(w)
			resetConn(w, false)
		}, 1, clearbar.StreamCut},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, setup{script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
				if c.Model == "up-primary" {
					tc.fail(w)
					return
				}
				answerNormally(w, r, c)
			}})
			resp := e.post(t, context.Background(), chatBody("chat", tc.stream))
			body := readAllBody(t, resp)
			if resp.StatusCode != 200 || resp.Header.Get("X-Clearbar-Model") != "secondary" {
				t.Fatalf("%s: status %d model %q: %s", tc.explanation, resp.StatusCode, resp.Header.Get("X-Clearbar-Model"), body)
			}
			if tc.stream && !strings.HasSuffix(body, "data: [DONE]\n\n") {
				t.Errorf("%s: stream %q", tc.explanation, tail(body))
			}
			if n := e.up.count("up-primary"); n != tc.wantPrimaryCalls {
				t.Errorf("%s: primary called %d times, want %d", tc.explanation, n, tc.wantPrimaryCalls)
			}
			d := e.decisions.wait(t, resp.Header.Get("X-Clearbar-Decision-Id"))
			if d.Attempts[0].Class != tc.wantClass || d.Outcome != clearbar.OK {
				t.Errorf("%s: attempts %v outcome %s", tc.explanation, attemptClasses(d), d.Outcome)
			}
			if st, _ := e.breaker(t, "up/primary"); st.Failures != int64(tc.wantPrimaryCalls) {
				t.Errorf("%s: breaker counted %d failures, want %d", tc.explanation, st.Failures, tc.wantPrimaryCalls)
			}
		})
	}
}

// A stream that breaks after its first chunk reached the client cannot fall back: the client
// gets what arrived, then an error event, never [DONE]; the upstream is charged with a failure.
func TestFaultMidStreamCut(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, explanation string
		model             string // upstream model that misbehaves: up-primary (chat) or up-slow (slowsolo)
		end               func(w http.ResponseWriter, r *http.Request, s *sseOut)
		wantClass         clearbar.FailureClass
	}{
		{"connection closed", "the upstream's connection closes mid-body", "up-primary",
			func(w http.ResponseWriter, r *http.Request, s *sseOut) { resetConn(w, false) }, clearbar.StreamCut},
		{"end without [DONE]", "the body ends cleanly but early", "up-primary",
			func(w http.ResponseWriter, r *http.Request, s *sseOut) {}, clearbar.StreamCut},
		{"unterminated event", "the last event has no blank line", "up-primary",
			func(w http.ResponseWriter, r *http.Request, s *sseOut) { s.raw(`data: {"id":"x"`) }, clearbar.StreamCut},
		{"error event", "the upstream reports an error in the stream", "up-primary",
			func(w http.ResponseWriter, r *http.Request, s *sseOut) {
				s.data(`{"error":{"message":"upstream failure","type":"server_error","param":null,"code":null}}`)
			}, clearbar.StreamCut},
		{"malformed chunk", "a chunk that is not JSON", "up-primary",
			func(w http.ResponseWriter, r *http.Request, s *sseOut) { s.data(`{"choices":[{"delta":`) }, clearbar.BadResponse},
		{"stalls past the model timeout", "the stream stops; the 300ms model timeout ends it", "up-slow",
			func(w http.ResponseWriter, r *http.Request, s *sseOut) { hangUntilCanceled(r) }, clearbar.Timeout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, setup{script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
				if c.Model != tc.model {
					answerNormally(w, r, c)
					return
				}
				s := openSSE(w)
				s.data(chunk(callID(c), c.Model, `{"role":"assistant","content":"Hel"}`, "", ""))
				s.data(chunk(callID(c), c.Model, `{"content":"lo"}`, "", ""))
				tc.end(w, r, s)
			}})
			category := "chat"
			if tc.model == "up-slow" {
				category = "slowpath"
			}
			resp := e.post(t, context.Background(), chatBody(category, true))
			events := rawEvents(t, readAllBody(t, resp))
			if resp.StatusCode != 200 || len(events) != 3 {
				t.Fatalf("%s: status %d, events %v; want two chunks and an error event", tc.explanation, resp.StatusCode, events)
			}
			if gjson.Get(events[0], "choices.0.delta.content").Str != "Hel" || gjson.Get(events[1], "choices.0.delta.content").Str != "lo" {
				t.Errorf("%s: chunks %v", tc.explanation, events[:2])
			}
			if !gjson.Get(events[2], "error.message").Exists() || slices.Contains(events, "[DONE]") {
				t.Errorf("%s: last event %s", tc.explanation, events[2])
			}
			if n := e.up.count("up-secondary"); n != 0 {
				t.Errorf("%s: the fallback was called %d times after the first byte", tc.explanation, n)
			}
			d := e.decisions.wait(t, resp.Header.Get("X-Clearbar-Decision-Id"))
			if d.Outcome != tc.wantClass || len(d.Attempts) != 1 {
				t.Errorf("%s: outcome %s attempts %v, want %s", tc.explanation, d.Outcome, attemptClasses(d), tc.wantClass)
			}
			key := "up/primary"
			if tc.model == "up-slow" {
				key = "up/slow"
			}
			if st, _ := e.breaker(t, key); st.Failures != 1 {
				t.Errorf("%s: breaker %+v, want the cut counted as one failure", tc.explanation, st)
			}
		})
	}
}

// Malformed answers from the upstream (JSON or SSE) are not passed on: the call fails as a bad
// response, which is not retried, and the fallback answers.
func TestFaultMalformedUpstream(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, explanation string
		stream            bool
		answer            func(w http.ResponseWriter, c upstreamCall)
	}{
		{"truncated JSON", "200 with JSON cut short", false, func(w http.ResponseWriter, c upstreamCall) {
			writeBody(w, 200, "application/json", `{"id":"chatcmpl-x","choices":[`)
		}},
		{"JSON array", "200 with a JSON value that is not an object", false, func(w http.ResponseWriter, c upstreamCall) {
			writeBody(w, 200, "application/json", `[]`)
		}},
		{"error object with 200", "a server that answers errors with status 200", false, func(w http.ResponseWriter, c upstreamCall) {
			writeBody(w, 200, "application/json", `{"error":{"message":"internal","type":"server_error"}}`)
		}},
		{"HTML with 200", "a captive portal page", false, func(w http.ResponseWriter, c upstreamCall) {
			writeBody(w, 200, "text/html", `<html><body>Sign in</body></html>`)
		}},
		{"first event not JSON", "the first data event is garbage", true, func(w http.ResponseWriter, c upstreamCall) {
			s := openSSE(w)
			s.data(`not json at all`)
			s.done()
		}},
		{"JSON answer to a stream", "a server that ignored stream: true", true, func(w http.ResponseWriter, c upstreamCall) {
			writeBody(w, 200, "application/json", completion("chatcmpl-x", c.Model, "not a stream"))
		}},
		{"HTML answer to a stream", "a proxy page with status 200", true, func(w http.ResponseWriter, c upstreamCall) {
			writeBody(w, 200, "text/html", `<html><body>502</body></html>`)
		}},
		{"[DONE] only", "a stream with no chunk at all", true, func(w http.ResponseWriter, c upstreamCall) {
			openSSE(w).done()
		}},
		{"comments then EOF", "keep-alive comments, then the body ends", true, func(w http.ResponseWriter, c upstreamCall) {
			s := openSSE(w)
			s.raw(": keepalive\n\n: keepalive\n\n")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, setup{script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
				if c.Model == "up-primary" {
					tc.answer(w, c)
					return
				}
				answerNormally(w, r, c)
			}})
			resp := e.post(t, context.Background(), chatBody("chat", tc.stream))
			body := readAllBody(t, resp)
			if resp.StatusCode != 200 || resp.Header.Get("X-Clearbar-Model") != "secondary" {
				t.Fatalf("%s: status %d model %q: %s", tc.explanation, resp.StatusCode, resp.Header.Get("X-Clearbar-Model"), body)
			}
			if tc.stream {
				events := rawEvents(t, body)
				if len(events) == 0 || events[len(events)-1] != "[DONE]" || strings.Contains(body, "not json") {
					t.Errorf("%s: events %v", tc.explanation, events)
				}
			} else if gjson.Get(body, "choices.0.message.content").Str != "answer from up-secondary" {
				t.Errorf("%s: body %s", tc.explanation, body)
			}
			if n := e.up.count("up-primary"); n > 2 {
				t.Errorf("%s: the garbling model was called %d times", tc.explanation, n)
			}
			d := e.decisions.wait(t, resp.Header.Get("X-Clearbar-Decision-Id"))
			if c := d.Attempts[0].Class; c != clearbar.BadResponse && c != clearbar.StreamCut {
				t.Errorf("%s: attempts %v, want the first a bad response", tc.explanation, attemptClasses(d))
			}
		})
	}
}

// A client that reads slowly holds the stream back all the way to the upstream (the gateway
// does not buffer what the client has not read), and still gets every byte, in order.
func TestFaultSlowClient(t *testing.T) {
	t.Parallel()
	const chunks, size = 1536, 4096 // 6 MiB of content
	var written atomic.Int64
	e := newE2E(t, setup{sockBuf: 64 << 10, script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		id, s := callID(c), openSSE(w)
		pad := strings.Repeat("x", size)
		for i := range chunks {
			d := chunk(id, c.Model, `{"content":`+js(fmt.Sprintf("%05d%s", i, pad))+`}`, "", "")
			if !s.data(d) {
				return
			}
			written.Add(int64(len(d)))
		}
		s.data(chunk(id, c.Model, `{}`, "stop", ""))
		s.done()
	}})
	resp := e.post(t, context.Background(), chatBody("chat", true))
	defer resp.Body.Close()
	br := bufio.NewReaderSize(resp.Body, 1024)
	readEvent := func() (string, error) {
		var ev strings.Builder
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return "", err
			}
			if line == "\n" {
				return ev.String(), nil
			}
			ev.WriteString(strings.TrimSuffix(line, "\n"))
		}
	}
	if _, err := readEvent(); err != nil {
		t.Fatal(err)
	}
	// The client stops reading. The upstream's writes must stall: what is in flight is bounded
	// by the socket buffers (64 KiB each, doubled by the kernel, four of them) and a few chunks,
	// not by the stream's length. Stalled means no progress over three samples 100ms apart.
	total := int64(chunks * (size + 200))
	var last int64
	still := 0
	for deadline := time.Now().Add(10 * time.Second); still < 3; {
		time.Sleep(100 * time.Millisecond)
		w := written.Load()
		if w > 3<<19 {
			t.Fatalf("with the client not reading, the upstream wrote %d of about %d bytes: the gateway buffers the stream", w, total)
		}
		if w == last {
			still++
		} else {
			still, last = 0, w
		}
		if time.Now().After(deadline) {
			t.Fatalf("the upstream's writes never stalled (%d bytes written)", w)
		}
	}
	t.Logf("the upstream stalled after %d of about %d bytes", last, total)
	// The client reads the rest, slowly.
	got := 1
	for {
		ev, err := readEvent()
		if err != nil {
			t.Fatalf("after %d events: %v", got, err)
		}
		data := strings.TrimPrefix(ev, "data: ")
		if data == "[DONE]" {
			break
		}
		if got < chunks {
			want := fmt.Sprintf("%05d", got)
			if c := gjson.Get(data, "choices.0.delta.content").Str; !strings.HasPrefix(c, want) || len(c) != size+5 {
				t.Fatalf("event %d: content %.20q…, want %s…", got, c, want)
			}
		}
		got++
		if got%64 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	if got != chunks+1 {
		t.Errorf("%d events before [DONE], want %d", got, chunks+1)
	}
	d := e.decisions.wait(t, resp.Header.Get("X-Clearbar-Decision-Id"))
	if d.Outcome != clearbar.OK {
		t.Errorf("decision outcome %s: %s", d.Outcome, d.Reason)
	}
}

// A client that goes away cancels the upstream call, before or after the first chunk: the
// decision's outcome is canceled, nothing falls back, and the breaker counts no failure.
func TestFaultClientCancel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, explanation string
		stream            bool
		firstChunk        bool
	}{
		{"stream after the first chunk", "the client read one chunk, then left", true, true},
		{"stream before the first chunk", "the client left while the gateway waited for the upstream", true, false},
		{"non-stream", "the client left while the gateway waited for the answer", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			upstreamCanceled := make(chan struct{})
			e := newE2E(t, setup{script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
				if tc.firstChunk {
					openSSE(w).data(chunk(callID(c), c.Model, `{"role":"assistant","content":"first"}`, "", ""))
				}
				select {
				case <-r.Context().Done():
					close(upstreamCanceled)
				case <-time.After(10 * time.Second):
				}
			}})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done, gotFirst := make(chan struct{}), make(chan struct{})
			go func() {
				defer close(done)
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+"/v1/chat/completions", strings.NewReader(chatBody("chat", tc.stream)))
				req.Header.Set("Content-Type", "application/json")
				resp, err := e.http.Do(req)
				if err != nil {
					return
				}
				defer resp.Body.Close()
				br := bufio.NewReader(resp.Body)
				if line, err := br.ReadString('\n'); err == nil && strings.HasPrefix(line, "data: ") {
					close(gotFirst)
				}
				io.Copy(io.Discard, br)
			}()
			if tc.firstChunk {
				select {
				case <-gotFirst:
				case <-time.After(5 * time.Second):
					t.Fatal("the first chunk did not arrive")
				}
			} else {
				waitFor(t, "the upstream call", func() bool { return e.up.count("up-primary") == 1 })
			}
			cancel()
			<-done
			select {
			case <-upstreamCanceled:
			case <-time.After(5 * time.Second):
				t.Fatalf("%s: the upstream call was not canceled", tc.explanation)
			}
			d := e.decisions.waitCount(t, 1)[0]
			if d.Outcome != clearbar.Canceled || d.Attempts[0].Class != clearbar.Canceled || len(d.Attempts) != 1 {
				t.Errorf("%s: outcome %s attempts %v", tc.explanation, d.Outcome, attemptClasses(d))
			}
			if n := e.up.count("up-secondary"); n != 0 {
				t.Errorf("%s: a canceled request fell back (%d calls)", tc.explanation, n)
			}
			if st, ok := e.breaker(t, "up/primary"); ok && (st.Failures != 0 || st.ConsecutiveFailures != 0 || st.Requests != 0) {
				t.Errorf("%s: the breaker counted the cancellation: %+v", tc.explanation, st)
			}
			if b, _ := json.Marshal(d); strings.Contains(string(b), upstreamKey) {
				t.Errorf("the decision record has the provider's key")
			}
		})
	}
}
