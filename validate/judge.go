package validate

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// judge asks a model to score an answer against a rubric. Its call goes through the same
// provider layer as any other (retries aside) and is recorded as an attempt with its cost and
// latency. A judge that cannot be reached fails the check: an unverified answer escalates.
type judge struct {
	name      string
	model     *spec.Model
	rubric    string
	threshold float64
	maxTokens int
	caller    Caller
}

func newJudge(cfg spec.ValidatorConfig, env Env) (Validator, error) {
	c := cfg.(*spec.Judge)
	if env.Caller == nil {
		return nil, fmt.Errorf("judge %s: no model caller to run it with", c.Model.Name)
	}
	m := env.Spec.Model(c.Model.Name)
	if m == nil {
		return nil, fmt.Errorf("judge model %q is not declared", c.Model.Name)
	}
	_, out := c.ExtraTokens()
	return &judge{name: c.Summary(), model: m, rubric: c.Rubric, threshold: c.ThresholdValue(), maxTokens: int(out) * 4, caller: env.Caller}, nil
}

func (j *judge) Name() string { return j.name }

// Check is unused: the Checker calls judge directly so it can record the call.
func (j *judge) Check(ctx context.Context, in *Input) clearbar.Verdict {
	v, _ := j.judge(ctx, in)
	return v
}

const judgeInstructions = `You grade answers. Read the rubric, the question and the answer, then reply with only a JSON object: {"score": <a number from 0 to 1>, "reason": "<one sentence>"}. 1 means the answer fully meets the rubric, 0 that it does not at all.`

// judgeRequest builds the judge's request: the rubric, the question and the answer.
func (j *judge) judgeRequest(in *Input) *clearbar.Request {
	q := in.Request.LastUserText()
	prompt := fmt.Sprintf("Rubric:\n%s\n\nQuestion:\n%s\n\nAnswer:\n%s", j.rubric, q, in.Response.Text())
	body, _ := json.Marshal(map[string]any{
		"model": j.model.Model,
		"messages": []map[string]string{
			{"role": "system", "content": judgeInstructions},
			{"role": "user", "content": prompt},
		},
		"max_tokens":      max(j.maxTokens, 64),
		"response_format": map[string]string{"type": "json_object"},
	})
	return &clearbar.Request{
		Dialect: clearbar.DialectOpenAI, Model: j.model.Model, N: 1, Body: body, MaxTokens: max(j.maxTokens, 64),
		ResponseFormat: clearbar.ResponseFormat{Type: "json_object"},
		Messages:       []clearbar.Message{{Role: "system", Text: judgeInstructions}, {Role: "user", Text: prompt}},
	}
}

func (j *judge) judge(ctx context.Context, in *Input) (clearbar.Verdict, clearbar.Attempt) {
	resp, att, err := j.caller.Call(context.WithValue(ctx, judgedKey{}, in.Response), j.model, j.judgeRequest(in))
	att.Kind = clearbar.AttemptJudge
	if err != nil {
		e := clearbar.AsError(err)
		return clearbar.Verdict{Validator: j.name, Pass: false, Reason: "the judge could not be reached (" + e.Class.String() + "); the answer is treated as unverified"}, att
	}
	score, reason, ok := parseScore(resp.Text())
	if !ok {
		return clearbar.Verdict{Validator: j.name, Pass: false, Reason: "the judge's reply has no score: " + clip(resp.Text(), 80)}, att
	}
	v := clearbar.Verdict{Validator: j.name, Score: score, Pass: score >= j.threshold}
	if v.Pass {
		v.Reason = fmt.Sprintf("score %.2f ≥ %.2f", score, j.threshold)
	} else {
		v.Reason = fmt.Sprintf("score %.2f < %.2f", score, j.threshold)
	}
	if reason != "" {
		v.Reason += ": " + clip(reason, 160)
	}
	return v, att
}

var scoreRE = regexp.MustCompile(`(?i)"?score"?\s*[:=]\s*([0-9]*\.?[0-9]+)`)

// parseScore reads {"score": x, "reason": "..."}, or a "score: x" anywhere in the text.
// Scores above 1 are read as out of 10 or 100.
func parseScore(text string) (float64, string, bool) {
	var out struct {
		Score  *float64 `json:"score"`
		Reason string   `json:"reason"`
	}
	t := strings.TrimSpace(text)
	t = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(t, "```json"), "```"), "```")
	var score float64
	found := false
	if json.Unmarshal([]byte(strings.TrimSpace(t)), &out) == nil && out.Score != nil {
		score, found = *out.Score, true
	} else if m := scoreRE.FindStringSubmatch(text); m != nil {
		score, _ = strconv.ParseFloat(m[1], 64)
		found = true
	}
	if !found || score < 0 {
		return 0, "", false
	}
	switch {
	case score > 10:
		score /= 100
	case score > 1:
		score /= 10
	}
	return min(score, 1), out.Reason, true
}

// judgedKey carries the answer a judge's call is about, from the judge to ProviderCaller,
// which hands it to the provider as clearbar.Call.Judged (the simulated provider scores it by
// its ground truth; real providers read the answer from the prompt).
type judgedKey struct{}
