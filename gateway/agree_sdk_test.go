package gateway_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/clearbar/clearbar"
)

// agreedCategory adds a checker model and a cascade checked by agreement with it to the
// end-to-end spec.
func agreedCategory(src string) string {
	src = strings.Replace(src, "models:\n", `models:
  checker:   {provider: up, model: up-checker, catalog: gpt-4o-mini, latency: {p50: 10ms, p95: 20ms}}
`, 1)
	return strings.Replace(src, "categories:\n", `categories:
  - name: agreed
    share: 0
    tokens: {in: 100, out: 10}
    quality_bar: 0.9
    route:
      cascade: [primary, secondary]
      validate: [{agree: {model: checker, answer: choice}}]
    assume: {pass_rate: {primary: 0.9, secondary: 0.97}, validator: {detect: 0.9, false_alarm: 0.1}}
`, 1)
}

const plantsQuestion = "Which gas do plants take in?\nA) oxygen\nB) carbon dioxide\nC) nitrogen\nD) helium\nAnswer with the letter."

// choices answers each upstream model with a fixed text, streamed when asked; a model mapped to
// "" fails its first call with a 500 and then answers "B".
func choices(answers map[string]string) script {
	return func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		text := answers[c.Model]
		if text == "" {
			if c.N == 1 {
				writeBody(w, http.StatusInternalServerError, "application/json", `{"error":{"message":"upstream exploded","type":"server_error","param":null,"code":null}}`)
				return
			}
			text = "B"
		}
		if c.Stream {
			streamText(w, c, text)
			return
		}
		writeBody(w, http.StatusOK, "application/json", completion(callID(c), c.Model, text))
	}
}

// TestSDKAgreeRoute: a cascade [primary, secondary] checked by agreement with a third model,
// over real HTTP: when the checker picks the same option the cheap answer is delivered, when it
// picks another the request escalates with the disagreement as the reason, and when the
// checker's call fails the answer is unverified and escalates. Every check call is in the
// decision with its cost and latency, and reaches the checker with the client's question.
func TestSDKAgreeRoute(t *testing.T) {
	tests := []struct {
		name     string
		answers  map[string]string
		content  string
		kinds    string
		reason   string
		checkers int
	}{
		{"agreement", map[string]string{"up-primary": "B", "up-checker": "The answer is (B).", "up-secondary": "B"},
			"B", "primary/primary,check/checker", "agrees with checker: B", 1},
		{"disagreement", map[string]string{"up-primary": "C", "up-checker": "B) carbon dioxide", "up-secondary": "B"},
			"B", "primary/primary,check/checker,escalation/secondary,check/checker", "disagrees with checker: C vs B", 2},
		{"checker failure", map[string]string{"up-primary": "B", "up-checker": "", "up-secondary": "B"},
			"B", "primary/primary,check/checker,escalation/secondary,check/checker", "checker could not be reached (", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newE2E(t, setup{script: choices(tt.answers), edit: agreedCategory, validate: true})
			var raw *http.Response
			resp, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
				Model:    "clearbar/agreed",
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(plantsQuestion)},
			}, option.WithResponseInto(&raw))
			if err != nil {
				t.Fatal(err)
			}
			d := e.decisions.wait(t, raw.Header.Get("X-Clearbar-Decision-Id"))
			var kinds []string
			for _, a := range d.Attempts {
				kinds = append(kinds, a.Kind+"/"+a.Model)
			}
			if got := strings.Join(kinds, ","); got != tt.kinds {
				t.Fatalf("attempts %s, want %s", got, tt.kinds)
			}
			first := d.Attempts[0]
			if len(first.Verdicts) != 1 || !strings.Contains(first.Verdicts[0].Reason, tt.reason) || first.Verdicts[0].Validator != "agrees with checker on the choice" {
				t.Errorf("the first answer's verdict %+v, want a reason with %q", first.Verdicts, tt.reason)
			}
			if got := resp.Choices[0].Message.Content; got != tt.content {
				t.Errorf("content %q, want %q", got, tt.content)
			}
			wantModel, wantPass := "primary", true
			if tt.checkers == 2 {
				wantModel, wantPass = "secondary", false
				if first.Class != clearbar.Quality || first.Outcome != "escalated after failed validation" || d.EscalationCost != first.Cost {
					t.Errorf("the first answer must fail validation and escalate, its cost alone the escalation cost: %+v, escalation cost %v", first, d.EscalationCost)
				}
				if v := d.Attempts[2].Verdicts; len(v) != 1 || !v[0].Pass {
					t.Errorf("the secondary's answer agrees with the checker's: %+v", v)
				}
			} else if first.Outcome != "accepted" || d.EscalationCost != 0 {
				t.Errorf("the agreed answer must be accepted without escalation: %+v", first)
			}
			if d.Model != wantModel || raw.Header.Get("X-Clearbar-Model") != wantModel || first.Verdicts[0].Pass != wantPass {
				t.Errorf("answered by %s (header %s), first verdict pass %v; want %s, %v", d.Model, raw.Header.Get("X-Clearbar-Model"), first.Verdicts[0].Pass, wantModel, wantPass)
			}
			var sum clearbar.Money
			for _, a := range d.Attempts {
				sum += a.Cost
				if a.Kind != clearbar.AttemptCheck {
					continue
				}
				if a.Provider != "up" || a.UpstreamModel != "up-checker" || a.Latency <= 0 {
					t.Errorf("a check call must be recorded with its provider and latency: %+v", a)
				}
				if a.Class == clearbar.OK && (a.Cost == 0 || a.Usage.IsZero() || a.Outcome != "compared") {
					t.Errorf("a check call that answered must be recorded with its usage and cost: %+v", a)
				}
			}
			if d.Cost != sum || d.Attempts[1].Class == clearbar.OK && d.Attempts[1].Cost == 0 {
				t.Errorf("the decision's cost %v must include the check calls' (attempts sum to %v): %+v", d.Cost, sum, d.Attempts)
			}
			checks := 0
			for _, c := range e.up.received() {
				if c.Model != "up-checker" {
					continue
				}
				checks++
				if !strings.Contains(string(c.Body), "carbon dioxide") || strings.Contains(string(c.Body), "You grade answers") {
					t.Errorf("the checker must get the client's request, unchanged: %s", c.Body)
				}
			}
			if checks != tt.checkers {
				t.Errorf("%d calls reached the checker, want %d", checks, tt.checkers)
			}
		})
	}
}

// TestSDKAgreeRouteStreamed: on a streamed request the answer is held until the checker, asked
// the same request without streaming, agrees; the rejected answer's bytes never reach the
// client.
func TestSDKAgreeRouteStreamed(t *testing.T) {
	e := newE2E(t, setup{script: choices(map[string]string{"up-primary": "C", "up-checker": "B", "up-secondary": "B"}), edit: agreedCategory, validate: true})
	stream := e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model:    "clearbar/agreed",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(plantsQuestion)},
	})
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if got := acc.Choices[0].Message.Content; got != "B" {
		t.Errorf("content %q, want the secondary's B alone", got)
	}
	for _, c := range e.up.received() {
		if c.Model == "up-checker" && c.Stream {
			t.Errorf("the checker's call must not stream: %s", c.Body)
		}
	}
	ds := e.decisions.waitCount(t, 1)
	var kinds []string
	for _, a := range ds[0].Attempts {
		kinds = append(kinds, a.Kind+"/"+a.Model)
	}
	if got := strings.Join(kinds, ","); got != "primary/primary,check/checker,escalation/secondary,check/checker" || !strings.Contains(ds[0].Attempts[0].Error, "disagrees with checker: C vs B") {
		t.Errorf("attempts %s, first %+v", got, ds[0].Attempts[0])
	}
}
