package eval

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/retry"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/validate"
)

// Grader grades answers one way. Implementations must be safe for concurrent use.
type Grader interface {
	// Name describes the check in a few words, for verdicts: `exact "42"`.
	Name() string
	// Grade returns the verdict on one answer. It must not modify in. A grader that cannot
	// decide for now (a judge rate limited, overloaded, timed out or out of reach) fails the
	// answer, says why and marks the verdict Undecided: the runner then leaves the answer
	// ungraded, for the next run to grade again. One whose model fails in a way every further
	// call would share (Auth, an exhausted quota) sets the verdict's Stop, which stops the run;
	// other failures of its model (a client error, a context too long) fail the answer.
	Grade(ctx context.Context, in *Input) Verdict
}

// Costly is implemented by graders that call models (judges, agreement checks). The runner runs
// them after the others, and only when every other check passed: the answer fails anyway, and
// the call costs money.
type Costly interface {
	Costly() bool
}

// Input is what a grader sees: the item and one model's answer to it.
type Input struct {
	Item *Item
	// Model is the spec model that answered.
	Model    string
	Response *clearbar.Response
}

// Verdict is one check's grade of one answer.
type Verdict struct {
	// Check is the grader's Name.
	Check string `json:"check"`
	Pass  bool   `json:"pass"`
	// Score is the grade from 0 to 1: a judge's score, or 1 and 0 for checks that only pass
	// or fail.
	Score  float64 `json:"score"`
	Reason string  `json:"reason,omitempty"`
	// Cost is what grading cost (judge calls); 0 for checks that call no model.
	Cost clearbar.Money `json:"cost_usd,omitempty"`
	// Undecided says the check could not decide: a model it calls (a judge, an agreement
	// check's model) could not be reached for now (see retryLater). Such a verdict says
	// nothing of the answer.
	Undecided bool `json:"undecided,omitempty"`
	// Unverified says the category's validators could not judge the answer (see
	// clearbar.Verdict.Unverified): the only validators that failed it are agreement checks
	// that could not compare it with an independent answer, or one of them can never compare
	// this model's answer to this item (the model is its only checker); or none of them
	// applies to the item (NotApplicable). It is not set on an
	// Undecided verdict, which grading again may decide. Such a verdict says nothing of the
	// answer: the runner leaves an answer the validators grade alone ungraded, and does not
	// grade it again until what grades it changes.
	Unverified bool `json:"unverified,omitempty"`
	// NotApplicable, with Unverified, says why the validators could not judge the answer: none
	// of them applies to the item (clearbar.Verdict.NotApplicable: an agreement check on
	// choice answers to a question without options), so they passed it without checking it,
	// as the gateway does. Pass is then true, and says nothing of the answer either.
	NotApplicable bool `json:"not_applicable,omitempty"`
	// Stop, when set, is the failure of a model the check calls that every further call
	// would share (Auth, an exhausted quota): the runner stops the run with it, as it does
	// for a candidate's. It is not recorded.
	Stop error `json:"-"`
}

// retryLater reports whether a failure of a judge's or an agreement check's model may not
// happen if the same call is made later: the classes the runner retries a candidate's call
// for (rate limited, overloaded, connection), and a call timed out, cut short or canceled.
// Retrying does not fix the others (a client error, a context too long, a misnamed model).
func retryLater(class clearbar.FailureClass) bool {
	switch class {
	case clearbar.RateLimited, clearbar.Overloaded, clearbar.Connection, clearbar.Timeout, clearbar.StreamCut, clearbar.Canceled:
		return true
	}
	return false
}

// stopsRun returns the error that stops a run for a failure of the model a check calls (who
// names it) that every further call would share (Auth, an exhausted quota), and nil for any
// other.
func stopsRun(who string, e *clearbar.Error) error {
	if e.Class != clearbar.Auth && !e.Exhausted() {
		return nil
	}
	return fmt.Errorf("%s: %v: every further call would fail the same way; fix it and run the same command again", who, e)
}

func passFail(name string, pass bool, reason string) Verdict {
	v := Verdict{Check: name, Pass: pass, Reason: reason}
	if pass {
		v.Score = 1
	}
	return v
}

// Exact passes an answer whose text, without surrounding white space, is Want exactly.
type Exact struct{ Want string }

// Name implements Grader.
func (g Exact) Name() string { return "exact " + quote(g.Want) }

// Grade implements Grader.
func (g Exact) Grade(_ context.Context, in *Input) Verdict {
	got := strings.TrimSpace(in.Response.Text())
	if got == strings.TrimSpace(g.Want) {
		return passFail(g.Name(), true, "")
	}
	return passFail(g.Name(), false, toolCallsInstead(in, "the answer is "+quote(got)))
}

// Normalized passes an answer that equals Want once both are normalized (see Normalize): case,
// punctuation and spacing do not matter. It is the default reference match.
type Normalized struct{ Want string }

// Name implements Grader.
func (g Normalized) Name() string { return "normalized " + quote(g.Want) }

// Grade implements Grader.
func (g Normalized) Grade(_ context.Context, in *Input) Verdict {
	got := Normalize(in.Response.Text())
	if got == Normalize(g.Want) {
		return passFail(g.Name(), true, "")
	}
	return passFail(g.Name(), false, toolCallsInstead(in, "the normalized answer is "+quote(got)))
}

// Contains passes an answer that contains Want as a run of whole words, both normalized (see
// Normalize): "Refund approved." contains "refund", "I know" does not contain "no".
type Contains struct{ Want string }

// Name implements Grader.
func (g Contains) Name() string { return "contains " + quote(g.Want) }

// Grade implements Grader.
func (g Contains) Grade(_ context.Context, in *Input) Verdict {
	got := " " + Normalize(in.Response.Text()) + " "
	if strings.Contains(got, " "+Normalize(g.Want)+" ") {
		return passFail(g.Name(), true, "")
	}
	return passFail(g.Name(), false, toolCallsInstead(in, "not in the answer"))
}

// Regex passes an answer whose text, without surrounding white space, the pattern matches
// anywhere (anchor it with ^ and $ to match the whole answer; (?i) ignores case). The syntax
// is Go's (RE2), whose $ does not skip a final newline: the trimming is what lets ^B$ match a
// model's "B\n".
type Regex struct{ Pattern *regexp.Regexp }

// Name implements Grader.
func (g Regex) Name() string { return "regex " + quote(g.Pattern.String()) }

// Grade implements Grader.
func (g Regex) Grade(_ context.Context, in *Input) Verdict {
	if g.Pattern.MatchString(strings.TrimSpace(in.Response.Text())) {
		return passFail(g.Name(), true, "")
	}
	return passFail(g.Name(), false, toolCallsInstead(in, "no match"))
}

// Numeric passes an answer whose last number is within Tolerance of Want (an absolute
// difference; 0 means the same number, so "42.50" matches 42.5). Numbers are read as
// validate.LastNumber reads them, as agree's number answers are: a sign, decimals, an exponent
// and thousands separators ("1,234.5"), and a hyphen after a letter or digit is no minus sign
// ("10-20" ends with 20, "gpt-4" with 4). The last number is taken because answers usually end
// with the result ("... so the answer is 42").
type Numeric struct {
	Want      float64
	Tolerance float64
}

// Name implements Grader.
func (g Numeric) Name() string {
	s := "numeric " + strconv.FormatFloat(g.Want, 'g', -1, 64)
	if g.Tolerance > 0 {
		s += " ± " + strconv.FormatFloat(g.Tolerance, 'g', -1, 64)
	}
	return s
}

// Grade implements Grader.
func (g Numeric) Grade(_ context.Context, in *Input) Verdict {
	got, ok := validate.LastNumber(in.Response.Text())
	if !ok {
		return passFail(g.Name(), false, toolCallsInstead(in, "the answer has no number"))
	}
	// A relative slack of 1e-9 absorbs decimal-to-binary rounding ("0.3" against 0.1+0.2).
	slack := g.Tolerance + 1e-9*max(math.Abs(g.Want), 1)
	if math.Abs(got-g.Want) <= slack {
		return passFail(g.Name(), true, "")
	}
	return passFail(g.Name(), false, "the answer's number is "+strconv.FormatFloat(got, 'g', -1, 64))
}

// Normalize returns text as reference matches compare it: Unicode NFKC (full-width and
// compatibility characters folded), lower case, and words only: punctuation (and the
// backtick of Markdown code) separates words, like white space, and runs of both become one space, trimmed. So `{"intent":"refund"}`
// normalizes to "intent refund", "Answer:B" to "answer b" and "yes/no" to "yes no". Three
// exceptions keep words and numbers whole: an apostrophe inside a word is dropped ("don't" is
// "dont"), so are the full stops of an abbreviation's single letters ("The U.S.A.!" is "the
// usa"), and a decimal point or thousands separator between digits is kept ("3.5" stays "3.5",
// so it does not contain "5").
func Normalize(text string) string {
	text = norm.NFKC.String(text)
	rs := []rune(text)
	var b strings.Builder
	b.Grow(len(text))
	space := false
	for i, r := range rs {
		prev, next := rune(0), rune(0)
		if i > 0 {
			prev = rs[i-1]
		}
		if i+1 < len(rs) {
			next = rs[i+1]
		}
		switch {
		case isApostrophe(r) && unicode.IsLetter(prev) && unicode.IsLetter(next):
			continue
		case r == '.' && unicode.IsLetter(prev) && unicode.IsLetter(next) && (i < 2 || !unicode.IsLetter(rs[i-2])):
			continue // U.S.A.
		case (r == '.' || r == ',') && unicode.IsDigit(prev) && unicode.IsDigit(next):
		case unicode.IsPunct(r) || unicode.IsSpace(r) || r == '`':
			// A backtick (a symbol to Unicode, not punctuation) marks code in Markdown, as
			// models write a label: `card_arrival` is the word card_arrival.
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// isApostrophe reports whether r is an apostrophe as words use it: ' or ’.
func isApostrophe(r rune) bool { return r == '\'' || r == '’' }

// Judge asks a model to score an answer against a rubric, through the same judge the gateway's
// judge validators use; the answer passes with a score at or above the threshold. A judge that
// cannot be reached for now leaves the verdict Undecided; one that fails otherwise, or whose
// reply has no score, fails the answer and says so, and one whose failure every further call
// would share stops the run (see Grader). The judge's cost is reported on the verdict.
type Judge struct {
	spec   *spec.Spec
	v      *spec.Validator
	caller validate.Caller
}

// NewJudge returns a judge grader. model must be a model of s; threshold is in [0, 1] (0 means
// the spec's default, 0.7).
func NewJudge(s *spec.Spec, caller validate.Caller, model, rubric string, threshold float64) (*Judge, error) {
	if s == nil || caller == nil {
		return nil, fmt.Errorf("judge checks need the spec and its providers")
	}
	if s.Model(model) == nil {
		names := make([]string, 0, len(s.Models))
		for _, m := range s.Models {
			names = append(names, m.Name)
		}
		return nil, fmt.Errorf("judge model %q is not a model of the spec (models: %s)", model, strings.Join(names, ", "))
	}
	if strings.TrimSpace(rubric) == "" {
		return nil, fmt.Errorf("judge %s has no rubric: say what a good answer is", model)
	}
	if !(threshold >= 0 && threshold <= 1) {
		return nil, fmt.Errorf("judge threshold %v is outside [0, 1]", threshold)
	}
	cfg := &spec.Judge{Model: spec.Ref{Name: model}, Rubric: rubric}
	if threshold > 0 {
		p := spec.Prob(threshold)
		cfg.Threshold = &p
	}
	j := &Judge{spec: s, v: &spec.Validator{Kind: "judge", Config: cfg}, caller: caller}
	if _, err := validate.Compile(j.v, validate.Env{Spec: s, Caller: caller}); err != nil {
		return nil, err
	}
	return j, nil
}

// Name implements Grader.
func (j *Judge) Name() string { return j.v.Config.Summary() }

// Costly implements Costly: a judge calls a model.
func (j *Judge) Costly() bool { return true }

// Grade implements Grader.
func (j *Judge) Grade(ctx context.Context, in *Input) Verdict {
	// The judge is compiled for each answer with a caller of its own, which adds up what its
	// calls cost; compiling a judge allocates one small struct.
	rc := &costCaller{next: j.caller}
	val, err := validate.Compile(j.v, validate.Env{Spec: j.spec, Caller: rc})
	if err != nil {
		return passFail(j.Name(), false, err.Error())
	}
	vd := val.Check(ctx, &validate.Input{Request: in.Item.Request, Response: judgedAsDrawn(in.Response)})
	v := Verdict{Check: j.Name(), Pass: vd.Pass, Score: vd.Score, Reason: vd.Reason, Cost: rc.cost}
	if rc.err != nil {
		model := j.v.Config.(*spec.Judge).Model.Name
		v.Stop = stopsRun("judge model "+model, rc.err)
		v.Undecided = v.Stop == nil && retryLater(rc.err.Class)
		if v.Stop == nil && !v.Undecided {
			v.Reason = fmt.Sprintf("the judge %s failed (%v), which grading again would not fix", model, rc.err)
		}
	}
	return v
}

// costCaller passes judge calls on, adds up their cost and keeps the failure of the last one
// that failed. It is used by one grading.
type costCaller struct {
	next validate.Caller
	cost clearbar.Money
	err  *clearbar.Error
}

func (c *costCaller) Call(ctx context.Context, m *spec.Model, req *clearbar.Request) (*clearbar.Response, clearbar.Attempt, error) {
	resp, a, err := c.next.Call(ctx, m, req)
	c.cost += a.Cost
	if err != nil {
		c.err = clearbar.AsError(err)
	}
	return resp, a, err
}

// RetryingCaller passes the calls of judges and agreement checks on to Caller and retries
// those that fail with a retryable class (rate limited, overloaded, connection) by Retry, as
// the runner retries the candidates' calls, so that a burst of rate limiting does not leave
// answers ungraded. The attempt it returns is the last one, with the cost of them all. It is
// safe for concurrent use when Caller is.
type RetryingCaller struct {
	Caller validate.Caller
	Retry  retry.Policy
}

// Call implements validate.Caller.
func (c RetryingCaller) Call(ctx context.Context, m *spec.Model, req *clearbar.Request) (*clearbar.Response, clearbar.Attempt, error) {
	budget := retry.NewBudget(c.Retry, time.Time{}, nil)
	var cost clearbar.Money
	for retries := 0; ; retries++ {
		resp, a, err := c.Caller.Call(ctx, m, req)
		cost += a.Cost
		a.Cost = cost
		if err == nil || ctx.Err() != nil {
			return resp, a, err
		}
		wait, ok, _ := budget.Decide(clearbar.AsError(err), retries, time.Now())
		if !ok || retry.Wait(ctx, wait) != nil {
			return resp, a, err
		}
	}
}

// Validators grades an answer with a category's validators, exactly as the gateway validates
// it: the answer passes when every validator passes. The verdict's reason lists the failures.
type Validators struct {
	checker *validate.Checker
	vs      []*spec.Validator
	name    string
	costly  bool
	// settings is the validators' canonical form, for grading fingerprints (see Settings).
	settings json.RawMessage
}

// NewValidators returns the grader of a category's validators (its route's main validators).
// The checker must have been built from the category's spec.
func NewValidators(checker *validate.Checker, cat *spec.Category) (*Validators, error) {
	if cat == nil {
		return nil, fmt.Errorf("there is no category whose validators to run")
	}
	if checker == nil {
		return nil, fmt.Errorf("category %q's validators are not available here", cat.Name)
	}
	vs, _ := cat.Route.MainValidators()
	if len(vs) == 0 {
		return nil, fmt.Errorf("category %q validates nothing", cat.Name)
	}
	names := make([]string, len(vs))
	g := &Validators{checker: checker, vs: vs}
	for i, v := range vs {
		names[i] = v.Config.Summary()
		g.costly = g.costly || v.CallsModel()
	}
	g.name = validatorsPrefix + strings.Join(names, "; ") + ")"
	settings, err := validatorSettings(checker, vs)
	if err != nil {
		return nil, fmt.Errorf("category %q's validators: %w", cat.Name, err)
	}
	g.settings = settings
	return g, nil
}

// validatorSettings returns the canonical form of validators, as the spec compiled them: each
// one's kind and settings, in order, as JSON, with what it read from outside the spec (a
// json_schema file's content, canonical: see validate.Checker.Reads). Settings are a
// validator's exported fields (a model it names is its name), so that where a validator or
// its schema is written, or how, does not count, and what it checks does.
func validatorSettings(checker *validate.Checker, vs []*spec.Validator) (json.RawMessage, error) {
	type setting struct {
		Kind     string               `json:"kind"`
		Settings spec.ValidatorConfig `json:"settings"`
		Reads    json.RawMessage      `json:"reads,omitempty"`
	}
	canon := make([]setting, len(vs))
	for i, v := range vs {
		canon[i] = setting{Kind: v.Kind, Settings: v.Config, Reads: checker.Reads(v)}
	}
	return json.Marshal(canon)
}

// Name implements Grader.
func (g *Validators) Name() string { return g.name }

// validatorsPrefix starts the name of every Validators grader.
const validatorsPrefix = "validators ("

// What Record.GradedBy says an eval row's pass is.
const (
	// GradeChecks: the grade of the item's reference or checks.
	GradeChecks = outcomes.GradedByChecks
	// GradeValidators: the verdict of the category's validators, which grade the item alone.
	GradeValidators = outcomes.GradedByValidators
)

// GradedByValidators reports whether the pass of a row an eval run wrote (its JSON line) says
// what the category's validators said, so that it cannot measure them: the validators graded
// it alone, or, in a row written before rows said how they were graded (Extras.GradedBy),
// among its checks.
func GradedByValidators(line []byte) bool {
	var ex Extras
	if json.Unmarshal(line, &ex) != nil {
		return false
	}
	if ex.GradedBy != "" {
		return ex.GradedBy == GradeValidators
	}
	return slices.ContainsFunc(ex.Checks, func(v Verdict) bool { return strings.HasPrefix(v.Check, validatorsPrefix) })
}

// SimulatedRow reports whether a row an eval run wrote (its JSON line) holds an answer of a
// simulated provider (Extras.Simulated): drawn from the spec's assumptions, it measures no
// model, and no validator either.
func SimulatedRow(line []byte) bool {
	var ex Extras
	return json.Unmarshal(line, &ex) == nil && ex.Simulated
}

// VerdictOnly reports whether the pass of a row an eval run wrote (its JSON line) is the
// category's validators' verdict alone, not a grade: a share of answers that validators which
// miss bad answers and flag good ones accept, which estimate --measured corrects for their
// assumed strength as it corrects decision records' verdicts (see Summary.ByValidators).
func VerdictOnly(line []byte) bool {
	var ex Extras
	return json.Unmarshal(line, &ex) == nil && ex.byValidatorsAlone()
}

// byValidatorsAlone reports whether the row's pass is the category's validators' verdict
// alone: its GradedBy says so, or, in a row written before rows recorded it, its checks are the
// validators' alone.
func (ex *Extras) byValidatorsAlone() bool {
	if ex.Unverified {
		return false // no pass: the validators could not judge the answer
	}
	if ex.GradedBy != "" {
		return ex.GradedBy == GradeValidators
	}
	return len(ex.Checks) == 1 && strings.HasPrefix(ex.Checks[0].Check, validatorsPrefix)
}

// Settings returns the validators' canonical form: each one's kind and settings, in order, as
// JSON, with the content of a schema file a validator reads. It changes when what the
// validators check changes, and only then.
func (g *Validators) Settings() json.RawMessage { return g.settings }

// Costly implements Costly: true when the validators include one that calls a model (a judge,
// an agreement check).
func (g *Validators) Costly() bool { return g.costly }

// Grade implements Grader.
func (g *Validators) Grade(ctx context.Context, in *Input) Verdict {
	verdicts, pass, calls := g.checker.Check(ctx, in.Model, in.Item.Request, in.Response, g.vs)
	v := passFail(g.name, pass, "")
	var failed []string
	for _, vd := range verdicts {
		if vd.Score > 0 {
			v.Score = min(v.Score, vd.Score)
		}
		if !vd.Pass {
			failed = append(failed, vd.Validator+": "+vd.Reason)
		}
	}
	if !pass {
		v.Score = 0
	}
	v.Reason = strings.Join(failed, "; ")
	// A call's attempt records its class, not an exhausted quota's code: a validator's model
	// out of credit leaves the answer ungraded, as a rate-limited one does.
	for _, c := range calls {
		v.Cost += c.Cost
		if c.Outcome != "failed" {
			continue
		}
		if err := stopsRun("validator model "+c.Model, &clearbar.Error{Class: c.Class, Status: c.Status, Message: c.Error}); err != nil && v.Stop == nil {
			v.Stop = err
		}
		v.Undecided = v.Undecided || retryLater(c.Class)
	}
	if v.Stop != nil {
		v.Undecided = false
	}
	if why := notApplicable(verdicts); pass && why != "" {
		v.Unverified, v.NotApplicable, v.Reason = true, true, why
	}
	if !pass && v.Stop == nil && !v.Undecided {
		if validate.OnlyUnverified(verdicts) {
			v.Unverified = true
		} else if why := g.neverVerified(ctx, in); why != "" {
			v.Unverified = true
			v.Reason += "; " + why
		}
	}
	return v
}

// notApplicable says, when every one of verdicts is NotApplicable (no validator applies to
// the item, so they all passed the answer without checking it), why: "no validator applies
// to the item: " and each one's reason; else "".
func notApplicable(verdicts []clearbar.Verdict) string {
	if len(verdicts) == 0 {
		return ""
	}
	why := make([]string, len(verdicts))
	for i, vd := range verdicts {
		if !vd.NotApplicable {
			return ""
		}
		why[i] = vd.Validator + ": " + vd.Reason
	}
	return "no validator applies to the item: " + strings.Join(why, "; ")
}

// NotApplicable says why none of the validators applies to the item, as their verdicts on
// any answer to it would (see notApplicable), or returns "" when one does. It makes no call.
func (g *Validators) NotApplicable(it *Item) string {
	verdicts := make([]clearbar.Verdict, len(g.vs))
	for i, v := range g.vs {
		why := g.checker.NotApplicable(v, it.Request)
		verdicts[i] = clearbar.Verdict{Validator: v.Config.Summary(), Reason: why, NotApplicable: why != ""}
	}
	return notApplicable(verdicts)
}

// neverVerified returns the verdict of an agreement check among the validators that cannot
// compare the answer with an independent one because the answer's model is its only checker,
// when it applies to the item (a multiple-choice question, for choice answers); "" when there
// is none. Such a check leaves every answer of the model unverified, so that an answer another
// validator fails is no grade either: grading only the answers that fail would measure none
// of those that pass. It makes no call.
func (g *Validators) neverVerified(ctx context.Context, in *Input) string {
	for _, v := range g.vs {
		ag, ok := v.Config.(*spec.Agree)
		if !ok {
			continue
		}
		if _, independent := ag.CheckerFor(in.Model); independent {
			continue
		}
		// With no checker but the answer's model the check calls nothing: it returns at once,
		// passing an item it does not apply to.
		verdicts, _, _ := g.checker.Check(ctx, in.Model, in.Item.Request, in.Response, []*spec.Validator{v})
		if validate.OnlyUnverified(verdicts) {
			return verdicts[0].Validator + ": " + verdicts[0].Reason
		}
	}
	return ""
}

// quote quotes s for a verdict, clipped to 60 bytes.
func quote(s string) string { return strconv.Quote(clip(s)) }

// clip clips s to 60 bytes, on a character boundary, marking the cut with "…".
func clip(s string) string {
	const most = 60
	if len(s) > most {
		cut := most
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

var (
	_ Grader          = Exact{}
	_ Grader          = Normalized{}
	_ Grader          = Contains{}
	_ Grader          = Regex{}
	_ Grader          = Numeric{}
	_ Grader          = (*Judge)(nil)
	_ Grader          = (*Validators)(nil)
	_ Costly          = (*Judge)(nil)
	_ Costly          = (*Validators)(nil)
	_ validate.Caller = (*costCaller)(nil)
	_ validate.Caller = RetryingCaller{}
)
