package spec

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/clearbar/clearbar"
)

var update = flag.Bool("update", false, "rewrite golden files")

var fixtureDay = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

func loadFixture(t *testing.T, name string) *Spec {
	t.Helper()
	s, err := Load(filepath.Join("testdata", name), Options{Today: fixtureDay})
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return s
}

func TestLoadGood(t *testing.T) {
	t.Setenv("CLEARBAR_TEST_KEY", "sk-test-123")
	s := loadFixture(t, "good.yaml")
	if len(s.Warnings) != 0 {
		t.Errorf("unexpected warnings: %v", s.Warnings)
	}
	small := s.Model("small")
	if small == nil || !small.Resolved.InCatalog {
		t.Fatalf("small not resolved from the catalogue: %+v", small)
	}
	if got := small.Resolved.Prices.Input; got != 150_000 {
		t.Errorf("small input price = %d, want 150000 ($0.15/M from the catalogue)", got)
	}
	if got := small.Resolved.ContextWindow; got != 128_000 {
		t.Errorf("small context window = %d, want 128000", got)
	}
	if got := small.Resolved.Availability; got != DefaultAvailability {
		t.Errorf("small availability = %v, want the default %v", got, DefaultAvailability)
	}
	if got := s.Model("strong").Resolved.Availability; got != 0.995 {
		t.Errorf("strong availability = %v, want 0.995", got)
	}
	if got := s.Provider("oa").APIKey.Reveal(); got != "sk-test-123" {
		t.Errorf("api key from ${CLEARBAR_TEST_KEY} = %q", got)
	}
	chat := s.Category("chat")
	if chat.Bar() != 0.9 {
		t.Errorf("quality_bar 90%% decoded as %v", chat.Bar())
	}
	if !chat.Tokens.In.Dist || chat.Tokens.In.P95 != 4000 {
		t.Errorf("token band {p50, p95} decoded as %+v", chat.Tokens.In)
	}
	attempts, backoff := s.RetryPolicy(chat)
	if attempts != DefaultRetryAttempts || backoff != DefaultRetryBackoff {
		t.Errorf("retry defaults = %d, %v", attempts, backoff)
	}
	if s.Review.Cadence.Months != 1 {
		t.Errorf("cadence = %+v, want monthly", s.Review.Cadence)
	}
	steps := s.Category("intent").Route.Steps(s)
	if len(steps) != 2 || steps[0].Model.Name != "small" || len(steps[0].Validate) != 1 || steps[1].Model.Name != "strong" {
		t.Errorf("cascade steps = %+v", steps)
	}
}

// TestBadFixtures loads every testdata/*.bad.yaml and checks that each "# want: LINE: text"
// comment in it is matched by an error reported at that line containing that text.
func TestBadFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.bad.yaml")
	if len(files) < 10 {
		t.Fatalf("found %d bad fixtures", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			wants := readWants(t, f)
			if len(wants) == 0 {
				t.Fatal("fixture has no # want: lines")
			}
			_, err := Load(f, Options{Today: fixtureDay})
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("want spec.Errors, got %T %v", err, err)
			}
			for _, w := range wants {
				prefix := fmt.Sprintf("%s:%d: ", f, w.line)
				found := false
				for _, e := range errs {
					if s := e.Error(); strings.HasPrefix(s, prefix) && strings.Contains(s, w.text) {
						found = true
					}
				}
				if !found {
					t.Errorf("no error %s…%s…\ngot:\n%v", prefix, w.text, err)
				}
			}
			if len(errs) > len(wants)+1 {
				t.Errorf("%d errors for %d expected; extra errors confuse users:\n%v", len(errs), len(wants), err)
			}
		})
	}
}

type want struct {
	line int
	text string
}

func readWants(t *testing.T, file string) []want {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []want
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "# want: ")
		if !ok {
			continue
		}
		var w want
		lineStr, text, _ := strings.Cut(rest, ": ")
		if _, err := fmt.Sscanf(lineStr, "%d", &w.line); err != nil {
			t.Fatalf("bad want line %q", sc.Text())
		}
		w.text = text
		out = append(out, w)
	}
	return out
}

func TestErrorsNameFileAndLine(t *testing.T) {
	_, err := Parse([]byte("version: 1\nname: x\nmodels: {}\ncategories: []\n"), "inline.yaml", Options{})
	if err == nil {
		t.Fatal("empty models and categories accepted")
	}
	for _, e := range err.(Errors) {
		if e.File != "inline.yaml" || e.Line == 0 {
			t.Errorf("error without file:line: %q", e.Error())
		}
	}
}

// TestSecretsNeverPrinted checks that an API key read from the environment or written into
// the spec appears in no marshalled or printed form of the loaded spec.
func TestSecretsNeverPrinted(t *testing.T) {
	const envKey = "sk-env-5ecret-value"
	const literalKey = "sk-literal-5ecret-value"
	t.Setenv("CLEARBAR_TEST_KEY", envKey)
	data, err := os.ReadFile("testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(data), "  sim: {type: simulated}", "  sim: {type: simulated}\n  lit: {type: openai, api_key: "+literalKey+"}", 1)
	s, err := Parse([]byte(src), "secret.yaml", Options{Today: fixtureDay})
	if err != nil {
		t.Fatal(err)
	}
	if s.Provider("lit").APIKey.Reveal() != literalKey || s.Provider("oa").APIKey.Reveal() != envKey {
		t.Fatal("keys not loaded; the test would prove nothing")
	}
	if len(s.Warnings) == 0 || !strings.Contains(s.Warnings[0].Error(), "API key is written into the spec") {
		t.Errorf("a literal key should be warned about, got %v", s.Warnings)
	}
	var outputs []string
	js, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(js))
	ys, err := yaml.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(ys))
	var logBuf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logBuf, nil))
	for _, p := range s.Providers {
		outputs = append(outputs, fmt.Sprintf("%v %+v %#v %s", p, p, p, p.APIKey))
		pj, _ := json.Marshal(p)
		outputs = append(outputs, string(pj))
		logger.Info("provider", "key", p.APIKey, "secret", p.APIKey.Secret, "provider", p)
	}
	outputs = append(outputs, logBuf.String(), fmt.Sprintf("%+v", *s))
	for _, e := range append(s.Warnings, nil...) {
		outputs = append(outputs, e.Error())
	}
	for i, o := range outputs {
		if strings.Contains(o, envKey) || strings.Contains(o, literalKey) {
			t.Errorf("output %d leaks a key: %s", i, o)
		}
	}
	if !strings.Contains(string(js), "${CLEARBAR_TEST_KEY}") {
		t.Errorf("the redacted form should name the variable; JSON: %s", js)
	}
	if got := fmt.Sprint(clearbar.NewSecret("x")); got != "[redacted]" {
		t.Errorf("literal secret prints %q", got)
	}
}

// TestEnvBaseURLNotPrinted: a base_url from the environment may carry a token, so an error
// about it names the variable and not the value.
func TestEnvBaseURLNotPrinted(t *testing.T) {
	const value = "sk-shared-5ecret-value"
	t.Setenv("CLEARBAR_TEST_URL", value)
	src := `version: 1
name: url
providers: {oa: {type: openai-compatible, base_url: "${CLEARBAR_TEST_URL}"}}
models:
  a: {provider: oa, model: gpt-4o-mini}
categories:
  - {name: x, share: 1, tokens: {in: 10, out: 10}, quality_bar: 0.5, route: {model: a}, assume: {pass_rate: {a: 0.9}}}
`
	_, err := Parse([]byte(src), "url.yaml", Options{})
	if err == nil {
		t.Fatal("a base_url without a scheme was accepted")
	}
	if msg := err.Error(); strings.Contains(msg, value) || !strings.Contains(msg, "url.yaml:3:") || !strings.Contains(msg, "${CLEARBAR_TEST_URL}") {
		t.Errorf("error = %q; want url.yaml:3, the variable's name and not its value", msg)
	}
}

// TestUncalibratedJudgeWarned: a category that trusts an LLM judge is warned about until its
// validator strength carries a calibration date.
func TestUncalibratedJudgeWarned(t *testing.T) {
	const base = `version: 1
name: judged
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
providers: {sim: {type: simulated}}
models:
  small: {provider: sim, model: gpt-4.1-nano, latency: {p50: 1s, p95: 2s}}
  judge: {provider: sim, model: gpt-4.1-mini, latency: {p50: 1s, p95: 2s}}
categories:
  - name: answer
    share: 1
    tokens: {in: 100, out: 50}
    quality_bar: 0.5
    route: {cascade: [small, judge], validate: [{judge: {model: judge, rubric: "Correct.", threshold: 0.7}}]}
    assume:
      pass_rate: {small: 0.6, judge: 0.9}
`
	for _, tt := range []struct {
		validator string
		warned    bool
		why       string
	}{
		{"", true, "no strength at all: the default is assumed"},
		{"      validator: {detect: 0.8, false_alarm: 0.1}\n", true, "a stated strength is still an assumption"},
		{"      validator: {detect: 0.8, false_alarm: 0.1, calibrated: 2026-11-20}\n", false, "measured by validate calibrate"},
	} {
		s, err := Parse([]byte(base+tt.validator), "judged.yaml", Options{Today: fixtureDay})
		if err != nil {
			t.Fatalf("%s: %v", tt.why, err)
		}
		warned := slices.ContainsFunc(s.Warnings, func(e *Error) bool {
			return strings.Contains(e.Error(), "trusts an LLM judge whose strength is assumed, not measured")
		})
		if warned != tt.warned {
			t.Errorf("%s: warned %v, want %v; warnings %v", tt.why, warned, tt.warned, s.Warnings)
		}
	}
}

// TestAgree: an agreement check loads with its model and answer kind, calls a model, and is
// warned about when its step can fail over to the checker, whose answer would then be checked
// against a second answer of its own.
func TestAgree(t *testing.T) {
	const src = `version: 1
name: agreed
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
providers: {sim: {type: simulated}}
models:
  mixtral: {provider: sim, model: gpt-4.1-nano, latency: {p50: 1s, p95: 2s}FALLBACK}
  yi: {provider: sim, model: gpt-4.1-mini, latency: {p50: 1s, p95: 2s}}
  gpt4: {provider: sim, model: gpt-4.1, latency: {p50: 1s, p95: 2s}}
categories:
  - name: arc
    share: 1
    tokens: {in: 100, out: 5}
    quality_bar: 0.9
    failure_impact: {bad_answer: 1}
    route:
      cascade: [{model: mixtral, validate: [{agree: {model: yi, answer: choice}}]}, gpt4]
    assume:
      pass_rate: {mixtral: 0.7, gpt4: 0.95}
      validator: {detect: 0.9, false_alarm: 0.1}
`
	warned := func(s *Spec) bool {
		return slices.ContainsFunc(s.Warnings, func(e *Error) bool {
			return strings.Contains(e.Error(), "agreed.yaml:17: ") && strings.Contains(e.Error(), "when mixtral fails over to yi, agree compares yi's answer with a second answer of yi")
		})
	}
	s, err := Parse([]byte(strings.Replace(src, "FALLBACK", "", 1)), "agreed.yaml", Options{Today: fixtureDay})
	if err != nil {
		t.Fatal(err)
	}
	v := s.Category("arc").Route.Cascade[0].Validate[0]
	ag, ok := v.Config.(*Agree)
	if !ok || v.Kind != "agree" || ag.Model.Name != "yi" || ag.Answer != AnswerChoice || !v.CallsModel() {
		t.Fatalf("agree decoded as %s %+v", v.Kind, v.Config)
	}
	if got := v.Summary(); got != "agrees with yi on the choice" {
		t.Errorf("summary %q", got)
	}
	if warned(s) || len(s.Warnings) != 0 {
		t.Errorf("no fallback to the checker, yet warnings %v", s.Warnings)
	}
	s, err = Parse([]byte(strings.Replace(src, "FALLBACK", ", fallback: [yi]", 1)), "agreed.yaml", Options{Today: fixtureDay})
	if err != nil {
		t.Fatal(err)
	}
	if !warned(s) {
		t.Errorf("mixtral falls back to its checker yi: want a warning; got %v", s.Warnings)
	}
	if (&Validator{Config: &MaxLength{Chars: 10}}).CallsModel() || !(&Validator{Config: &Judge{}}).CallsModel() {
		t.Error("CallsModel: true for judges and agreement checks only")
	}
}

func TestEnvExpansion(t *testing.T) {
	t.Setenv("CB_BASE", "http://127.0.0.1:9999/v1")
	src := `version: 1
name: env
providers:
  local: {type: openai-compatible, base_url: "${CB_BASE}"}
  other: {type: openai-compatible, base_url: "${CB_UNSET_VAR:-http://127.0.0.1:1/v1}"}
models:
  a: {provider: local, model: my-model, price: {input: 0.1, output: 0.2}}
categories:
  - {name: x, share: 1, tokens: {in: 10, out: 10}, quality_bar: 0.5, route: {model: a}, assume: {pass_rate: {a: 0.9}}}
`
	s, err := Parse([]byte(src), "env.yaml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Provider("local").BaseURL.Value; got != "http://127.0.0.1:9999/v1" {
		t.Errorf("expanded base_url = %q", got)
	}
	if got := s.Provider("other").BaseURL.Value; got != "http://127.0.0.1:1/v1" {
		t.Errorf("default in ${VAR:-default} = %q", got)
	}
	m := s.Model("a")
	if m.Resolved.InCatalog || m.Resolved.Prices.Input != 100_000 || m.Resolved.Prices.Output != 200_000 {
		t.Errorf("spec-only prices = %+v", m.Resolved)
	}
}

func TestPriceOverride(t *testing.T) {
	src := `version: 1
name: override
providers: {oa: {type: openai}}
models:
  a: {provider: oa, model: gpt-4o-mini, price: {input: "$0.10"}}
categories:
  - {name: x, share: 1, tokens: {in: 10, out: 10}, quality_bar: 0.5, route: {model: a}, assume: {pass_rate: {a: 0.9}}}
`
	s, err := Parse([]byte(src), "override.yaml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	lines := ModelPrices(s.Model("a"))
	if !lines[0].Differs || lines[0].Effective != 100_000 || lines[0].Catalog != 150_000 {
		t.Errorf("input line = %+v", lines[0])
	}
	if got := lines[0].Change(); got != "-33% vs catalogue $0.15/M" {
		t.Errorf("change = %q", got)
	}
	if lines[1].Differs || lines[1].Effective != 600_000 {
		t.Errorf("output kept from the catalogue: %+v", lines[1])
	}
}

func TestLimitChanges(t *testing.T) {
	src := `version: 1
name: limits
providers: {oa: {type: openai}}
models:
  a: {provider: oa, model: gpt-4o-mini, context_window: 32000}
  b: {provider: oa, model: gpt-4o-mini, context_window: 128000, max_output: 4096}
  c: {provider: oa, model: in-house-7b, context_window: 8192, price: {input: "$0.10", output: "$0.20"}}
categories:
  - {name: x, share: 1, tokens: {in: 10, out: 10}, quality_bar: 0.5, route: {model: a}, assume: {pass_rate: {a: 0.9}}}
`
	s, err := Parse([]byte(src), "limits.yaml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		model string
		want  string
		why   string
	}{
		{"a", "context window 32k vs catalogue 128k", "a smaller window than the catalogue's is shown beside it"},
		{"b", "max output 4k vs catalogue 16k", "a window equal to the catalogue's is not a difference; max output is compared too"},
		{"c", "context window 8k, not in catalogue", "a model the catalogue lacks has nothing to compare with"},
	} {
		if got := strings.Join(LimitChanges(s.Model(tc.model)), "; "); got != tc.want {
			t.Errorf("%s: LimitChanges = %q, want %q (%s)", tc.model, got, tc.want, tc.why)
		}
	}
	if got := TokensK(1_047_576); got != "1,047k" {
		t.Errorf("TokensK(1047576) = %q", got)
	}
}

func TestWarnings(t *testing.T) {
	src := `version: 1
name: warn
providers: {oa: {type: openai}}
models:
  a: {provider: oa, model: claude-sonnet-4-20250514, catalog: claude-sonnet-4-20250514}
  b: {provider: oa, model: gpt-4o, latency: {p50: 1s, p95: 3s}}
categories:
  - name: x
    share: 1
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {cascade: [a, b], validate: [{max_length: 10}]}
    assume: {pass_rate: {a: 0.9, b: 0.95}}
`
	s, err := Parse([]byte(src), "warn.yaml", Options{Today: fixtureDay})
	if err != nil {
		t.Fatal(err)
	}
	all := Errors(s.Warnings).Error()
	for _, w := range []string{
		"warn.yaml:1: no review date",
		"warn.yaml:1: no traffic volume",
		`warn.yaml:5: model "a" has no latency assumption`,
		`warn.yaml:5: model "a": the catalogue lists claude-sonnet-4-20250514 as deprecated since 2026-05-14`,
		`warn.yaml:12: category "x" validates answers but states no validator strength`,
	} {
		if !strings.Contains(all, w) {
			t.Errorf("missing warning %q in:\n%s", w, all)
		}
	}
}

func TestDocumentGolden(t *testing.T) {
	t.Setenv("CLEARBAR_TEST_KEY", "sk-test")
	s := loadFixture(t, "good.yaml")
	// A day past the monthly review: the document must flag it.
	d := NewDocument(s, time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC))
	for _, tc := range []struct {
		golden string
		write  func(*bytes.Buffer) error
	}{
		{"testdata/good.doc.md", func(b *bytes.Buffer) error { return d.WriteMarkdown(b) }},
		{"testdata/good.doc.html", func(b *bytes.Buffer) error { return d.WriteHTML(b) }},
	} {
		var buf bytes.Buffer
		if err := tc.write(&buf); err != nil {
			t.Fatal(err)
		}
		checkGolden(t, tc.golden, buf.Bytes())
		if !bytes.Contains(buf.Bytes(), []byte("OVERDUE by 4 day(s)")) {
			t.Errorf("%s does not flag the overdue review", tc.golden)
		}
	}
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test ./spec -update and review the diff):\n%s", path, got)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("version: 1\ncategories: [{name: a, route: {split: [{weight: 1}]}}]"))
	f.Add([]byte("- a\n- b"))
	f.Add([]byte("&a [*a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, "fuzz.yaml", Options{Today: fixtureDay})
		if err == nil {
			if s == nil || len(s.Categories) == 0 {
				t.Fatal("a valid spec has categories")
			}
			return
		}
		var errs Errors
		if !errors.As(err, &errs) || len(errs) == 0 {
			t.Fatalf("error is not a non-empty spec.Errors: %T %v", err, err)
		}
		for _, e := range errs {
			if e.Msg == "" || e.File != "fuzz.yaml" {
				t.Fatalf("error without message or file: %+v", e)
			}
		}
	})
}

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{1777 * time.Millisecond, "1.777s"},
		{300 * time.Millisecond, "300ms"},
		{1500 * time.Microsecond, "1.5ms"},
		{2 * time.Second, "2s"},
		{time.Second + 1, "1.000000001s"},
		{90 * time.Second, "1m30s"},
		{time.Minute, "1m"},
		{2 * time.Hour, "2h"},
		{time.Hour + 30*time.Minute, "1h30m"},
		{time.Hour + 5*time.Second, "1h0m5s"},
		{750 * time.Microsecond, "750µs"},
	} {
		if got := FormatDuration(tc.d); got != tc.want {
			t.Errorf("FormatDuration(%d) = %q, want %q", tc.d, got, tc.want)
		}
		if back, err := ParseDuration(FormatDuration(tc.d)); err != nil || back != tc.d {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", FormatDuration(tc.d), back, err, tc.d)
		}
	}
}

func TestKeyFromConventionalEnv(t *testing.T) {
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-from-env")
	s, err := Parse([]byte(`version: 1
name: keys
providers:
  a: {type: anthropic}
  b: {type: anthropic, api_key: "${CB_UNSET_KEY_VAR}"}
  c: {type: simulated}
models:
  m: {provider: a, model: claude-sonnet-4-5}
  n: {provider: b, model: claude-sonnet-4-5}
  o: {provider: c, model: gpt-4o}
categories:
  - {name: x, share: 1, tokens: {in: 10, out: 10}, quality_bar: 0.5, route: {model: m}, assume: {pass_rate: {m: 0.9}}}
`), "keys.yaml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ks := s.Provider("a").Keys(); len(ks) != 1 || ks[0].Reveal() != "sk-ant-from-env" || strings.Contains(fmt.Sprint(ks[0]), "sk-ant") {
		t.Errorf("a provider without api_key should use ANTHROPIC_API_KEY, redacted when printed: %v", ks)
	}
	if ks := s.Provider("b").Keys(); len(ks) != 0 {
		t.Errorf("a provider naming its own (unset) variable must not fall back to the conventional one: %v", ks)
	}
	if ks := s.Provider("c").Keys(); len(ks) != 0 {
		t.Errorf("simulated providers have no key: %v", ks)
	}
}

// TestEscalateAndShadowChecks: a score route's escalate list and a shadow of the agreement
// check's only checker are checked: errors for a repeated or empty list, warnings for a model
// that is cheaper than the dearest start and for a shadow whose answers its own model would
// check.
func TestEscalateAndShadowChecks(t *testing.T) {
	const base = `version: 1
name: escalating
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
providers: {sim: {type: simulated}}
models:
  a: {provider: sim, model: gpt-4.1-nano, latency: {p50: 1s, p95: 2s}}
  b: {provider: sim, model: gpt-4.1-mini, latency: {p50: 1s, p95: 2s}}
  c: {provider: sim, model: gpt-4.1, latency: {p50: 1s, p95: 2s}}
  d: {provider: sim, model: gpt-4o, latency: {p50: 1s, p95: 2s}}
categories:
  - name: quiz
    share: 1
    tokens: {in: 100, out: 5}
    quality_bar: 0.5
    route:
      score: {heuristic: {tiers: [0.5]}, models: [a, c], ESCALATE}
      validate: [{agree: {model: b, answer: choice}}]
    assume:
      pass_rate: {a: 0.6, c: 0.9}
SHADOW`
	for _, tt := range []struct {
		escalate, shadow, want string
		isError                bool
	}{
		{"escalate: [c, c]", "", "score escalate lists c twice", true},
		{"escalate: []", "", "score escalate lists no models", true},
		{"escalate: [a]", "", "score escalate names a, cheaper than c (models are cheapest first)", false},
		{"escalate: [c]", "    shadow: {models: [b], sample: 0.1, daily_budget: 1}\n", `shadows "b", the only checker of its agreement check`, false},
	} {
		src := strings.Replace(strings.Replace(base, "ESCALATE", tt.escalate, 1), "SHADOW", tt.shadow, 1)
		s, err := Parse([]byte(src), "escalating.yaml", Options{Today: fixtureDay})
		if tt.isError {
			if err == nil || !strings.Contains(err.Error(), "escalating.yaml:17: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: %v; want an error at line 17 saying %q", tt.escalate, err, tt.want)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.escalate, err)
		}
		if !slices.ContainsFunc(s.Warnings, func(e *Error) bool { return strings.Contains(e.Error(), tt.want) }) {
			t.Errorf("%s %s: no warning %q in %v", tt.escalate, tt.shadow, tt.want, s.Warnings)
		}
	}
}

// TestDocumentEscapesAuthorsText: what a spec's author writes is shown, never run: a why
// with HTML in it reaches the Markdown and HTML documents escaped.
func TestDocumentEscapesAuthorsText(t *testing.T) {
	t.Setenv("CLEARBAR_TEST_KEY", "sk-test")
	s := loadFixture(t, "good.yaml")
	s.Categories[0].Why = `<script>alert(1)</script> & more`
	s.Name = "fixture <script>x</script>"
	d := NewDocument(s, time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC))
	for name, write := range map[string]func(*bytes.Buffer) error{
		"markdown": func(b *bytes.Buffer) error { return d.WriteMarkdown(b) },
		"html":     func(b *bytes.Buffer) error { return d.WriteHTML(b) },
	} {
		var buf bytes.Buffer
		if err := write(&buf); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(buf.Bytes(), []byte("<script>")) || !bytes.Contains(buf.Bytes(), []byte("&lt;script&gt;")) {
			t.Errorf("%s: the why or the spec's name is not escaped", name)
		}
	}
}

// TestMergeKeys: a category may merge another's settings with YAML's merge key, overriding
// some of them; a misspelt key inside the merged mapping is still an error on its own line.
func TestMergeKeys(t *testing.T) {
	const doc = `version: 1
name: merge
providers: {sim: {type: simulated}}
models:
  nano: {provider: sim, model: gpt-4.1-nano}
categories:
  - &base
    name: a
    share: 0.5
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {model: nano}
    assume: {pass_rate: {nano: 0.9}}
  - <<: *base
    name: b
    quality_bar: 0.8
`
	s, err := Parse([]byte(doc), "merge.yaml", Options{Today: fixtureDay})
	if err != nil {
		t.Fatal(err)
	}
	b := s.Category("b")
	if b == nil || *b.QualityBar != 0.8 || b.Share != 0.5 || b.Route.Model.Name != "nano" || *s.Category("a").QualityBar != 0.5 {
		t.Fatalf("merged category %+v", b)
	}
	// An edit below a key the category has only through the merge would hide the merged
	// mapping whole: refused, in place and re-encoded alike; a merged key itself is overridden.
	for _, edit := range []func() ([]byte, error){
		func() ([]byte, error) {
			return SetInCategoryText([]byte(doc), "b", []string{"assume", "pass_rate", "nano"}, "0.7")
		},
		func() ([]byte, error) {
			return SetInCategory([]byte(doc), "b", []string{"assume", "pass_rate", "nano"}, 0.7)
		},
	} {
		if _, err := edit(); err == nil || !strings.Contains(err.Error(), "assume comes from the mapping merged at line 13: write assume out in the category to edit it") {
			t.Errorf("an edit through a merged mapping: %v", err)
		}
	}
	out, err := SetInCategoryText([]byte(doc), "b", []string{"tokens"}, "{in: 20, out: 10}")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := Parse(out, "merge.yaml", Options{Today: fixtureDay}); err != nil || s.Category("b").Tokens.In.P50 != 20 || s.Category("a").Tokens.In.P50 != 10 {
		t.Errorf("overriding a merged key: %v\n%s", err, out)
	}
	bad := strings.Replace(doc, "    quality_bar: 0.5\n", "    quality_bar: 0.5\n    qualty: 1\n", 1)
	_, err = Parse([]byte(bad), "merge.yaml", Options{Today: fixtureDay})
	if err == nil || !strings.Contains(err.Error(), `merge.yaml:12: unknown key "qualty" in category`) || strings.Count(err.Error(), "qualty") != 1 {
		t.Errorf("a misspelt key in the merged mapping, reported once on its own line: %v", err)
	}
}

// TestLongContextOverride: a spec price drops the catalogue's long-context tier with a warning
// that says how to keep one; price.long_context sets a tier of the spec's own, or none.
func TestLongContextOverride(t *testing.T) {
	const doc = `version: 1
name: lc
providers: {sim: {type: simulated}}
models:
  dropped: {provider: sim, model: gemini/gemini-2.5-pro, price: {input: 0.5, output: 4}, latency: {p50: 1s, p95: 2s}}
  own: {provider: sim, model: gemini/gemini-2.5-pro, price: {input: 0.5, output: 4, long_context: {above: 128k, input: 1, output: 8}}, latency: {p50: 1s, p95: 2s}}
  none: {provider: sim, model: gemini/gemini-2.5-pro, price: {input: 0.5, output: 4, long_context: none}, latency: {p50: 1s, p95: 2s}}
  catalogue: {provider: sim, model: gemini/gemini-2.5-pro, latency: {p50: 1s, p95: 2s}}
categories:
  - {name: a, share: 1, tokens: {in: 1000, out: 100}, quality_bar: 0.5, route: {model: dropped}, fallback: [own, none, catalogue], assume: {pass_rate: {dropped: 0.9, own: 0.9, none: 0.9, catalogue: 0.9}}}
`
	s, err := Parse([]byte(doc), "lc.yaml", Options{Today: fixtureDay})
	if err != nil {
		t.Fatal(err)
	}
	if s.Model("catalogue").Resolved.Prices.TierThreshold != 200_000 {
		t.Fatal("gemini-2.5-pro has no 200k tier in the catalogue: pick another model")
	}
	var warned []string
	for _, w := range s.Warnings {
		if strings.Contains(w.Msg, "long-context tier") {
			warned = append(warned, w.Error())
		}
	}
	if len(warned) != 1 || !strings.Contains(warned[0], `lc.yaml:5: model "dropped": the spec's price replaces the catalogue's, and with it the catalogue's long-context tier (above 200k input tokens`) ||
		!strings.Contains(warned[0], "price.long_context: {above: 200000, input: N, output: N}") {
		t.Errorf("warnings %q, want one for dropped", warned)
	}
	own := s.Model("own").Resolved.Prices
	if own.TierThreshold != 128_000 || own.InputAbove.PerMillion() != 1 || own.OutputAbove.PerMillion() != 8 {
		t.Errorf("own tier %+v", own)
	}
	if got := own.RequestCost(200_000, 0, 1000, 0); got != clearbar.Price(own.InputAbove).Cost(200_000)+clearbar.Price(own.OutputAbove).Cost(1000) {
		t.Errorf("a request above the spec's tier costs %v", got)
	}
	for _, name := range []string{"dropped", "none"} {
		if s.Model(name).Resolved.Prices.TierThreshold != 0 {
			t.Errorf("%s keeps a tier", name)
		}
	}
	if got := TierChange(s.Model("dropped")); got != "no long-context tier (catalogue: above 200k)" {
		t.Errorf("TierChange(dropped) = %q", got)
	}
	if got := TierChange(s.Model("own")); got != "long-context tier above 128k: $1/M in, $8/M out vs catalogue's above 200k: $2.5/M in, $15/M out" {
		t.Errorf("TierChange(own) = %q", got)
	}
	if got := TierChange(s.Model("catalogue")); got != "" {
		t.Errorf("TierChange(catalogue) = %q, want none", got)
	}

	for _, bad := range []struct{ lc, want string }{
		{"{input: 1}", "price.long_context needs above"},
		{"{above: 128k}", "price.long_context sets no price"},
		{"{above: 1.5}", `"1.5" is not a whole number of tokens`},
		{"{above: 128k, inptu: 1}", `unknown key "inptu" in long_context`},
		{"{above: 0, input: 1}", "price.long_context above must be more than 0 tokens"},
	} {
		d := strings.Replace(doc, "long_context: {above: 128k, input: 1, output: 8}", "long_context: "+bad.lc, 1)
		if _, err := Parse([]byte(d), "lc.yaml", Options{Today: fixtureDay}); err == nil || !strings.Contains(err.Error(), "lc.yaml:6: ") || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("long_context: %s: %v, want lc.yaml:6: … %s", bad.lc, err, bad.want)
		}
	}
}

// manyErrors is a spec of n categories, each with two wrong values (a generated file gone
// wrong).
func manyErrors(n int) []byte {
	var b strings.Builder
	b.WriteString("version: 1\nname: many\nproviders: {sim: {type: simulated}}\nmodels:\n  a: {provider: sim, model: gpt-4o-mini}\ncategories:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {name: c%d, share: 2, tokens: {in: 10, out: 10}, quality_bar: 0.5, route: {model: a}, default: maybe}\n", i)
	}
	return []byte(b.String())
}

// TestManyErrorsAreFoundQuickly: a spec with thousands of wrong values reports each, named by
// its key, in time that grows with the file, not with its square: the keys are found from one
// index of the document, not by walking it again for every error. Measured as a ratio in one
// run (the fastest of three parses of each size), so that a busy machine does not fail it: 4×
// the categories take about 4× the time; a walk per error would take about 16×.
func TestManyErrorsAreFoundQuickly(t *testing.T) {
	parse := func(n int) time.Duration {
		src := manyErrors(n)
		best := time.Duration(math.MaxInt64)
		for range 3 {
			start := time.Now()
			_, err := Parse(src, "many.yaml", Options{})
			best = min(best, time.Since(start))
			var errs Errors
			if !errors.As(err, &errs) || len(errs) != 2*n || !strings.Contains(errs[0].Msg, "share: 2 is outside [0, 1]") || !strings.Contains(errs[1].Msg, "default takes true or false") {
				t.Fatalf("want %d errors naming share and default, got %d: %.300v", 2*n, len(errs), err)
			}
		}
		return best
	}
	small, large := parse(800), parse(3200)
	if r := float64(large) / float64(small); r > 9 {
		t.Errorf("4× the categories took %.1f× the time (%v against %v): finding an error's key grows with the file", r, large, small)
	}
}

// BenchmarkManyErrors parses a spec of 5,000 categories with two wrong values each.
func BenchmarkManyErrors(b *testing.B) {
	src := manyErrors(5000)
	for b.Loop() {
		Parse(src, "many.yaml", Options{})
	}
}

// TestCostBeyondTokens: a call's cost adds its 1-hour cache writes at the 1-hour price (they
// are part of the cache writes, which are not billed twice) and its web searches at the
// catalogue's price for the request's search context size, or per grounded prompt.
func TestCostBeyondTokens(t *testing.T) {
	const doc = `version: 1
name: beyond
providers: {sim: {type: simulated}}
models:
  claude: {provider: sim, model: claude-sonnet-4-5, latency: {p50: 1s, p95: 2s}}
  search: {provider: sim, model: gpt-4o-search-preview, latency: {p50: 1s, p95: 2s}}
  flash: {provider: sim, model: gemini/gemini-2.5-flash, latency: {p50: 1s, p95: 2s}}
  pro3: {provider: sim, model: gemini/gemini-3-pro-preview, latency: {p50: 1s, p95: 2s}}
categories:
  - {name: a, share: 1, tokens: {in: 1000, out: 100}, quality_bar: 0.5, route: {model: claude}, fallback: [search, flash, pro3], assume: {pass_rate: {claude: 0.9, search: 0.9, flash: 0.9, pro3: 0.9}}}
`
	s, err := Parse([]byte(doc), "beyond.yaml", Options{Today: fixtureDay})
	if err != nil {
		t.Fatal(err)
	}
	tokens := clearbar.Usage{PromptTokens: 10_000, CompletionTokens: 100, CacheWriteTokens: 4_000}
	with1h := tokens
	with1h.CacheWrite1hTokens = 3_000
	claude := s.Model("claude")
	// claude-sonnet-4-5: input $3/M, 5-minute write $3.75/M, 1-hour write $6/M; the 1,000
	// 5-minute writes add $0.75/M, the 3,000 1-hour ones $3/M.
	if got, want := claude.Cost(with1h)-claude.Cost(tokens), clearbar.Price(3_000_000).Cost(3_000)-clearbar.Price(750_000).Cost(3_000); got != want {
		t.Errorf("3,000 of the writes kept for an hour add %v, want %v", got, want)
	}
	over := with1h
	over.CacheWrite1hTokens = 9_000 // more than the writes: counted as all of them
	all1h := tokens
	all1h.CacheWrite1hTokens = 4_000
	if claude.Cost(over) != claude.Cost(all1h) {
		t.Errorf("1-hour writes above the cache writes cost %v, want %v", claude.Cost(over), claude.Cost(all1h))
	}
	// A spec's own 1-hour price ($9/M here) replaces the catalogue's.
	own, err := Parse([]byte(strings.Replace(doc, "model: claude-sonnet-4-5,", "model: claude-sonnet-4-5, price: {cache_write_1h: 9},", 1)), "beyond.yaml", Options{Today: fixtureDay})
	if err != nil {
		t.Fatal(err)
	}
	if m := own.Model("claude"); m.Cost(with1h)-m.Cost(tokens) != clearbar.Price(6_000_000).Cost(3_000)-clearbar.Price(750_000).Cost(3_000) {
		t.Errorf("with price.cache_write_1h 9, 3,000 1-hour writes add %v, want $6/M over input on each", m.Cost(with1h)-m.Cost(tokens))
	}

	base := clearbar.Usage{PromptTokens: 1_000, CompletionTokens: 100}
	for _, tt := range []struct {
		model             string
		searches, prompts int
		size              string
		want              clearbar.Money
	}{
		{"search", 1, 0, "", 35_000_000}, // gpt-4o-search-preview: $0.035 at medium
		{"search", 1, 0, "low", 30_000_000},
		{"search", 1, 0, "high", 50_000_000},
		{"flash", 3, 1, "", 35_000_000}, // Gemini 2.5: a grounded prompt, however many queries
		{"pro3", 3, 1, "", 42_000_000},  // Gemini 3: each query, $0.014
	} {
		m := s.Model(tt.model)
		u := base
		u.WebSearches, u.GroundedPrompts, u.WebSearchContext = tt.searches, tt.prompts, tt.size
		if got := m.Cost(u) - m.Cost(base); got != tt.want {
			t.Errorf("%s: %d searches in %d grounded prompts at size %q cost %v, want %v", tt.model, tt.searches, tt.prompts, tt.size, got, tt.want)
		}
	}
}
