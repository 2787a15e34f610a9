package learn

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// EvalOptions configure Evaluate.
type EvalOptions struct {
	// Seed seeds the train/test split (see SplitTest), the cross-validation folds and
	// training.
	Seed uint64
	// Train configures the learned router; its Seed and Folds are taken from here (Folds 0
	// means 5).
	Train TrainOptions
	// Target is the operating point both calibrated routers (the learned one and the
	// category lookup) aim for on the train half; the zero value means 95% of the best
	// model's quality with a one-standard-error margin.
	Target Target
	// KnownCosts says the router may decide on each item's own cost, as a gateway can when
	// costs follow from the prompt's length and list prices (the RouteLLM evaluation).
	// Otherwise the router decides on each candidate's mean cost within the item's task on the
	// train half (RouterBench, whose costs include output tokens unknown before the call).
	KnownCosts bool
	// Strong and Weak name the two models of the threshold rule and of APGR; empty means the
	// best and the cheapest single model on the train half. APGR and the threshold rule are
	// reported only when the dataset has exactly two candidates.
	Strong, Weak string
	// Budget is the second operating point's budget, a fraction of the best model's cost: the
	// learned router calibrated on the train half for the most quality within it (one
	// standard error of the per-item cost to spare). 0 means 0.35.
	Budget float64
	// Agree also evaluates the learned router combined with an agreement cascade (see
	// Agreement): its two checker models and its operating point are chosen on the train
	// half, on the recorded answers in Item.Answers, which the dataset must carry
	// (GroupRows with answers; RouterBenchDataset keeps them).
	Agree bool
	// Dev runs the whole evaluation inside the train half, split again in two by the
	// seeded hash of "<DevSeed>:dev:<item id>": a development aid for choosing features and
	// settings without reading the test half's labels. The test half is left out entirely.
	Dev     bool
	DevSeed uint64
}

// Evaluation is the outcome of Evaluate on one dataset's test half.
type Evaluation struct {
	Name   string
	Split  string
	Models []string
	// TrainItems and TestItems count the two halves.
	TrainItems, TestItems int
	// Best is the single model with the highest test pass rate, the reference for every
	// percentage; BestQuality and BestCost are its pass rate and mean cost per request.
	Best                  string
	BestQuality, BestCost float64
	// Rows are the table's lines, in the order Markdown writes them.
	Rows []EvalRow
	// Learned and Lookup are the operating points calibrated on the train half.
	Learned, Lookup *Calibration
	// LearnedThreshold is the calibrated two-model threshold rule (two candidates only).
	LearnedThreshold *Calibration
	// Frontier is the learned router's cost–quality hull on the test half (its vertices).
	Frontier []Point
	// Operating is the learned router's deployable operating point on the test half; Oracle
	// the oracle's.
	Operating, Oracle Point
	// Target is the target the operating points were calibrated for.
	Target Target
	// Budgeted is the learned router calibrated on the train half for the most quality within
	// Budget of the best model's cost; BudgetOperating its operating point on the test half.
	Budgeted        *Calibration
	Budget          float64
	BudgetOperating Point
	// LookupOperating is the category lookup's operating point on the test half.
	LookupOperating Point
	// RandomAtCost, ZeroAtCost and LookupAtCost are the qualities of random mixing, the zero
	// router and the lookup's hull at the learned router's operating cost.
	RandomAtCost, ZeroAtCost, LookupAtCost float64
	// AIQLearned, AIQLookup and AIQZero are the three hulls' AIQ.
	AIQLearned, AIQLookup, AIQZero float64
	// Agreement is the learned router with an agreement cascade (EvalOptions.Agree), and
	// AgreeLookupAtCost the quality of the lookup with the same cascade (its hull on the test
	// half) at that router's operating cost.
	Agreement         *Agreement
	AgreeLookupAtCost float64
}

// Check is one pass/fail statement about an evaluation.
type Check struct {
	What string
	Pass bool
	// Detail gives the numbers behind the verdict.
	Detail string
}

// Checks compares the learned router with the baselines on the test half: at its deployable
// operating point against random mixing, the zero router and the lookup's hull at the same
// cost, on AIQ against the lookup, and, when targets apply, against the targets
// (at least 95% of the best model's quality for at most 35% of its cost).
func (ev *Evaluation) Checks(targets bool) []Check {
	op := ev.Operating
	pct := func(q float64) float64 { return 100 * q / ev.BestQuality }
	out := []Check{
		{"beats random mixing at its cost", op.Quality > ev.RandomAtCost,
			fmt.Sprintf("%.1f%% vs %.1f%% of the best model's quality", pct(op.Quality), pct(ev.RandomAtCost))},
		{"beats the zero router at its cost", op.Quality > ev.ZeroAtCost,
			fmt.Sprintf("%.1f%% vs %.1f%%", pct(op.Quality), pct(ev.ZeroAtCost))},
		{"beats the category lookup's hull at its cost", op.Quality > ev.LookupAtCost,
			fmt.Sprintf("%.1f%% vs %.1f%% (the lookup's best mix at that cost, drawn on the test half)", pct(op.Quality), pct(ev.LookupAtCost))},
		{"beats the category lookup on AIQ", ev.AIQLearned > ev.AIQLookup,
			fmt.Sprintf("%.4f vs %.4f (zero router %.4f)", ev.AIQLearned, ev.AIQLookup, ev.AIQZero)},
	}
	if targets {
		out = append(out,
			Check{"reaches ≥ 95% of the best model's quality", pct(op.Quality) >= 95, fmt.Sprintf("%.1f%%", pct(op.Quality))},
			Check{"costs ≤ 35% of the best model's cost", op.Cost <= 0.35*ev.BestCost, fmt.Sprintf("%.1f%%", 100*op.Cost/ev.BestCost)},
		)
		if ev.Budgeted != nil && ev.Budget == 0.35 {
			bp := ev.BudgetOperating
			both := pct(bp.Quality) >= 95 && bp.Cost <= 0.35*ev.BestCost
			out = append(out, Check{"the budget point (calibrated on the train half for the most quality within 35% of the best model's cost) reaches ≥ 95% at ≤ 35%", both,
				fmt.Sprintf("%.1f%% of the quality at %.1f%% of the cost", pct(bp.Quality), 100*bp.Cost/ev.BestCost)})
		}
	}
	if ag := ev.Agreement; ag != nil {
		ap := ag.Operating
		out = append(out, Check{"with the agreement cascade, beats the category lookup with the same cascade at its cost", ap.Quality > ev.AgreeLookupAtCost,
			fmt.Sprintf("%.1f%% vs %.1f%% (the lookup's best mix with the cascade at that cost, drawn on the test half)", pct(ap.Quality), pct(ev.AgreeLookupAtCost))},
			Check{"with the agreement cascade, beats the category lookup with the same cascade on AIQ", ag.AIQ > ag.LookupAIQ,
				fmt.Sprintf("%.4f vs %.4f", ag.AIQ, ag.LookupAIQ)})
		if targets {
			both := pct(ap.Quality) >= 95 && ap.Cost <= 0.35*ev.BestCost
			out = append(out, Check{"with the agreement cascade, reaches ≥ 95% at ≤ 35%", both,
				fmt.Sprintf("%.1f%% of the quality at %.1f%% of the cost", pct(ap.Quality), 100*ap.Cost/ev.BestCost)})
		}
	}
	return out
}

// EvalRow is one router's line in an Evaluation.
type EvalRow struct {
	Router string
	// Quality is the mean pass rate on the test half; Cost the mean USD per request; the
	// percentages are of the best single model's.
	Quality, Cost       float64
	QualityPct, CostPct float64
	// StrongShare is the share of requests sent to the best model.
	StrongShare float64
	// AIQ is the area under the router's cost–quality hull (see AIQ); NaN for a single
	// operating point.
	AIQ float64
	// CostAt95 is the least cost, in % of the best model's, at which the router's hull reaches
	// 95% of the best model's quality: an after-the-fact figure (the hull is drawn on the test
	// half). NaN where it does not apply, +Inf when the hull never gets there.
	CostAt95 float64
	// APGR is the average performance gap recovered (see APGR); NaN where it does not apply.
	APGR float64
	Note string
}

// SplitTest says whether an item belongs to the test half of the documented split: the
// FNV-1a 64-bit hash of "<seed>:split:<item id>" (seed in decimal), finalised with
// MurmurHash3's fmix64, is odd. The split ignores any split the source data carries
// (RouterBench's RouterDC split is not in the outcomes table).
func SplitTest(seed uint64, item string) bool { return splitHash(seed, "split", item)&1 == 1 }

// Evaluate trains the learned router on the train half of ds and compares it on the test half
// with each single model, the oracle, random mixing, the zero router (the convex hull of the
// single models) and the category-aware lookup (each model's train pass rate within the
// item's task), as in RouterBench and RouteLLM. Every parameter — the learned weights, the
// lookup's rates, the cost estimates, the operating points' λ and T — comes from the train
// half only; the operating points are calibrated on cross-validated (out-of-fold) predictions
// of the train half, for opts.Target.
func Evaluate(ds *Dataset, opts EvalOptions) (*Evaluation, error) {
	if len(ds.Items) < 20 {
		return nil, fmt.Errorf("%s: %d items are too few to evaluate", ds.Name, len(ds.Items))
	}
	if opts.Target == (Target{}) {
		opts.Target = Target{Quality: 0.95, Confidence: 1, Mix: true}
	}
	if opts.Target.Strong != "" || opts.Target.StrongShare != 0 {
		return nil, errors.New("evaluate: the target is a quality target; set Strong and Weak in EvalOptions")
	}
	topts := opts.Train
	topts.Seed = opts.Seed
	topts = topts.withDefaults()
	if topts.Folds < 2 {
		topts.Folds = 5
	}
	if err := topts.bindEmbeddings(ds); err != nil {
		return nil, err
	}
	if err := topts.validate(); err != nil {
		return nil, err
	}
	k := len(ds.Models)
	var trainIdx, testIdx []int
	for i := range ds.Items {
		test := SplitTest(opts.Seed, ds.Items[i].ID)
		if opts.Dev {
			// Within the train half only: an inner split, by the seed of the dev run.
			if test {
				continue
			}
			test = splitHash(opts.DevSeed, "dev", ds.Items[i].ID)&1 == 1
		}
		if test {
			testIdx = append(testIdx, i)
		} else {
			trainIdx = append(trainIdx, i)
		}
	}
	ev := &Evaluation{
		Target: opts.Target, Name: ds.Name, Models: ds.Models, TrainItems: len(trainIdx), TestItems: len(testIdx),
		Split: fmt.Sprintf("test half: fnv1a64(\"%d:split:<item>\") odd; %d train / %d test items", opts.Seed, len(trainIdx), len(testIdx)),
	}

	// Decision costs: known per item, or the train half's mean per (task, model).
	est := func(i int) []float64 { return ds.Items[i].Cost }
	if !opts.KnownCosts {
		taskCost := meanCostByTask(ds, trainIdx)
		est = func(i int) []float64 { return taskCost(ds.Items[i].Task) }
	}

	// The learned router, exactly as TrainDataset trains it on the train half, and its
	// calibrated out-of-fold predictions there.
	p := prepare(ds, topts.Features)
	ws, oofLearned, _ := trainCore(p, trainIdx, topts)
	testLearned := make([][]float64, len(testIdx))
	for n, i := range testIdx {
		testLearned[n] = ws.predict(p, i)
	}
	oofLookup := crossLookup(ds, trainIdx, topts.Folds, opts.Seed)
	testLookup := lookupPredict(ds, trainIdx, testIdx)
	calLearned := makeSamplesEst(ds, trainIdx, oofLearned, est)
	calLookup := makeSamplesEst(ds, trainIdx, oofLookup, est)
	tLearned := makeSamplesEst(ds, testIdx, testLearned, est)
	tLookup := makeSamplesEst(ds, testIdx, testLookup, est)
	if opts.Dev {
		ev.Split = fmt.Sprintf("DEV: the train half split again in two (%d / %d items); the test half is not read", len(trainIdx), len(testIdx))
	}

	var err error
	if ev.Learned, err = Calibrate(ds.Models, calLearned, opts.Target); err != nil {
		return nil, err
	}
	if ev.Lookup, err = Calibrate(ds.Models, calLookup, opts.Target); err != nil {
		return nil, err
	}
	ev.Budget = cmpOr(opts.Budget, 0.35)
	if ev.Budgeted, err = Calibrate(ds.Models, calLearned, Target{Budget: ev.Budget, Confidence: 1, Mix: true}); err != nil {
		return nil, err
	}

	q, c := singles(tLearned, k)
	best := bestSingle(q, c)
	ev.Best, ev.BestQuality, ev.BestCost = ds.Models[best], q[best], c[best]
	qTrain, cTrain := singles(calLearned, k)
	strong, weak := bestSingle(qTrain, cTrain), slices.Index(cTrain, slices.Min(cTrain))
	if opts.Strong != "" {
		strong = slices.Index(ds.Models, opts.Strong)
	}
	if opts.Weak != "" {
		weak = slices.Index(ds.Models, opts.Weak)
	}
	if opts.Strong == "" && strong == weak {
		return nil, fmt.Errorf("evaluate: %s is both the best model on the train half (quality %.4f) and the cheapest ($%.3g a request), so no router can do better than sending it everything: check that every model's calls are priced (a model without costs counts as free)",
			ds.Models[strong], qTrain[strong], cTrain[strong])
	}
	if strong < 0 || weak < 0 || strong == weak {
		return nil, fmt.Errorf("evaluate: strong %q and weak %q must be two different candidates of %q", opts.Strong, opts.Weak, ds.Models)
	}
	row := func(name string, pt Point, note string) EvalRow {
		return EvalRow{Router: name, Quality: pt.Quality, Cost: pt.Cost,
			QualityPct: 100 * pt.Quality / ev.BestQuality, CostPct: 100 * pt.Cost / ev.BestCost,
			StrongShare: pt.Share[best], AIQ: math.NaN(), CostAt95: math.NaN(), APGR: math.NaN(), Note: note}
	}
	cheapest := slices.Index(c, slices.Min(c))

	// Single models and the zero router.
	var singlePts []Point
	for j, m := range ds.Models {
		share := make([]float64, k)
		share[j] = 1
		pt := Point{Quality: q[j], Cost: c[j], Share: share}
		singlePts = append(singlePts, pt)
		ev.Rows = append(ev.Rows, row("single: "+m, pt, ""))
	}
	cLo, cHi := slices.Min(c), slices.Max(c)
	zero := Hull(singlePts)

	// Oracle: the cheapest candidate that passes; the cheapest of all when none does.
	ev.Oracle = oracle(tLearned, k)
	ev.Rows = append(ev.Rows, row("oracle (cheapest model that passes)", ev.Oracle, "not deployable: knows the answers"))

	// The learned router and the lookup at their train-calibrated operating points.
	ev.Operating = operate(ds, testIdx, tLearned, ev.Learned, k)
	lookOp := operate(ds, testIdx, tLookup, ev.Lookup, k)
	grid := LambdaGrid(calLearned, k)
	learnedHull := Hull(append(SweepWTP(tLearned, k, grid), singlePts[cheapest]))
	lookupHull := Hull(append(SweepWTP(tLookup, k, grid), singlePts[cheapest]))
	ev.Frontier = learnedHull
	opCost := ev.Operating.Cost
	at := func(h []Point, cost float64) Point {
		share := make([]float64, k)
		share[best] = math.NaN()
		return Point{Quality: QualityAt(h, cost), Cost: cost, Share: share}
	}
	randomLine := Hull([]Point{singlePts[cheapest], singlePts[best]})
	ev.Rows = append(ev.Rows,
		row("random mix of cheapest and best, at the learned router's cost", at(randomLine, opCost), "expected value of routing a random share to the best model"),
		row("zero router (hull of single models), at the learned router's cost", at(zero, opCost), "best mix of single models at that cost"),
		row("category lookup frontier, at the learned router's cost", at(lookupHull, opCost), "hull of the lookup's λ sweep on the test half"),
	)
	ev.LookupOperating = lookOp
	ev.RandomAtCost, ev.ZeroAtCost, ev.LookupAtCost = QualityAt(randomLine, opCost), QualityAt(zero, opCost), QualityAt(lookupHull, opCost)
	ev.AIQLearned, ev.AIQLookup, ev.AIQZero = AIQ(learnedHull, cLo, cHi), AIQ(lookupHull, cLo, cHi), AIQ(zero, cLo, cHi)
	lk := row(fmt.Sprintf("category lookup, %s from train", ruleLabel(ev.Lookup)), lookOp, "train pass rate per (task, model)")
	lk.AIQ, lk.CostAt95 = AIQ(lookupHull, cLo, cHi), 100*CostAt(lookupHull, 0.95*ev.BestQuality)/ev.BestCost
	ln := row(fmt.Sprintf("learned, %s from train", ruleLabel(ev.Learned)), ev.Operating, "deployable operating point")
	ln.AIQ, ln.CostAt95 = AIQ(learnedHull, cLo, cHi), 100*CostAt(learnedHull, 0.95*ev.BestQuality)/ev.BestCost
	zr := row("zero router: AIQ and cost at 95%", singlePts[best], "")
	zr.AIQ, zr.CostAt95 = AIQ(zero, cLo, cHi), 100*CostAt(zero, 0.95*ev.BestQuality)/ev.BestCost
	zr.Quality, zr.Cost, zr.QualityPct, zr.CostPct, zr.StrongShare = math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()
	ev.BudgetOperating = operate(ds, testIdx, tLearned, ev.Budgeted, k)
	bn := row(fmt.Sprintf("learned within %s of the best model's cost, %s from train", strings.TrimSuffix(fmt.Sprintf("%.1f", 100*ev.Budget), ".0")+"%", ruleLabel(ev.Budgeted)),
		ev.BudgetOperating, "budget operating point: the most quality the train half shows within the budget")
	lkIdx, lnIdx := len(ev.Rows)+1, len(ev.Rows)+2
	ev.Rows = append(ev.Rows, zr, lk, ln, bn)

	if opts.Agree {
		if err := ev.evaluateAgreement(ds, trainIdx, testIdx, calLearned, calLookup, tLearned, tLookup, opts.Target, grid, singlePts[cheapest], row, cLo, cHi); err != nil {
			return nil, err
		}
	}

	if k == 2 {
		// RouteLLM's view: the share of calls to the strong model on the x axis.
		gain := func(s []Sample) []float64 {
			out := make([]float64, len(s))
			for i := range s {
				out[i] = s[i].P[strong] - s[i].P[weak]
			}
			return out
		}
		pWeak := make([]float64, len(tLearned))
		for i := range tLearned {
			pWeak[i] = -tLearned[i].P[weak]
		}
		ev.Rows[lkIdx].APGR = APGR(tLookup, gain(tLookup), strong, weak)
		ev.Rows[lnIdx].APGR = APGR(tLearned, gain(tLearned), strong, weak)
		th, err := Calibrate(ds.Models, calLearned, Target{Quality: opts.Target.Quality, Confidence: opts.Target.Confidence,
			Strong: ds.Models[strong], Weak: ds.Models[weak]})
		if err != nil {
			return nil, err
		}
		ev.LearnedThreshold = th
		tpt := evaluate(tLearned, thresholdChooser{strong: strong, weak: weak, t: th.Threshold.T}, k, th.Threshold.T)
		tr := row(fmt.Sprintf("learned threshold, P(weak) ≥ %.4f from train", th.Threshold.T), tpt, "two-model rule on P(pass) of the weak model")
		tr.APGR = APGR(tLearned, pWeak, strong, weak)
		thHull := Hull(append(sweepThreshold(tLearned, strong, weak, k), singlePts[cheapest]))
		tr.AIQ, tr.CostAt95 = AIQ(thHull, cLo, cHi), 100*CostAt(thHull, 0.95*ev.BestQuality)/ev.BestCost
		ev.Rows = append(ev.Rows, tr)
		rnd := make([]float64, len(tLearned)) // all ties: the expected curve of random routing
		rr := row("random (APGR reference)", singlePts[best], "")
		rr.Quality, rr.Cost, rr.QualityPct, rr.CostPct, rr.StrongShare = math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()
		rr.APGR = APGR(tLearned, rnd, strong, weak)
		ev.Rows = append(ev.Rows, rr)
	}
	return ev, nil
}

// evaluateAgreement adds the learned router and the category lookup with an agreement
// cascade to the evaluation: checkers and operating points from the train half's
// out-of-fold samples, figures from the test half's.
func (ev *Evaluation) evaluateAgreement(ds *Dataset, trainIdx, testIdx []int, calLearned, calLookup, tLearned, tLookup []Sample,
	target Target, grid []float64, cheapest Point, row func(string, Point, string) EvalRow, cLo, cHi float64) error {
	k := len(ds.Models)
	if k < 3 {
		return fmt.Errorf("evaluate: an agreement cascade needs three candidates (a start, a checker and the best model); %s has %d", ds.Name, k)
	}
	trainKeys, nTrain := answerKeys(ds, trainIdx)
	testKeys, _ := answerKeys(ds, testIdx)
	if nTrain == 0 {
		return fmt.Errorf("evaluate: no train item of %s is a multiple-choice question with recorded answers: an agreement cascade replays the models' recorded responses", ds.Name)
	}
	q, c := singles(calLearned, k)
	best := bestSingle(q, c)
	cal, chk, pairs, err := calibrateAgreement(ds, calLearned, trainKeys, best, target)
	if err != nil {
		return err
	}
	target.Reference = ds.Models[best]
	lookCal, err := Calibrate(ds.Models, withAgreement(calLookup, trainKeys, best, chk), target)
	if err != nil {
		return err
	}
	lookCal.BestCost = c[best]
	tA, tLA := withAgreement(tLearned, testKeys, best, chk), withAgreement(tLookup, testKeys, best, chk)
	ag := &Agreement{Checkers: [2]string{ds.Models[chk[0]], ds.Models[chk[1]]}, Learned: cal, Lookup: lookCal, Pairs: pairs,
		Operating: operate(ds, testIdx, tA, cal, k), LookupOperating: operate(ds, testIdx, tLA, lookCal, k),
		Frontier: Hull(append(SweepWTP(tA, k, grid), cheapest))}
	ag.Checked, ag.Escalated = agreementOutcome(ds, testIdx, tLearned, testKeys, cal, best, chk)
	lookHull := Hull(append(SweepWTP(tLA, k, grid), cheapest))
	ev.Agreement, ev.AgreeLookupAtCost = ag, QualityAt(lookHull, ag.Operating.Cost)
	cascade := fmt.Sprintf("agreement cascade (%s checks, %s checks its answers)", ag.Checkers[0], ag.Checkers[1])
	ln := row(fmt.Sprintf("learned + %s, %s from train", cascade, ruleLabel(cal)), ag.Operating,
		fmt.Sprintf("deployable: route by score, check multiple-choice answers against the checker's, escalate disagreements to %s; %.1f%% checked, %.1f%% escalated", ds.Models[best], 100*ag.Checked, 100*ag.Escalated))
	ag.AIQ, ag.LookupAIQ = AIQ(ag.Frontier, cLo, cHi), AIQ(lookHull, cLo, cHi)
	ln.AIQ, ln.CostAt95 = ag.AIQ, 100*CostAt(ag.Frontier, 0.95*ev.BestQuality)/ev.BestCost
	lk := row(fmt.Sprintf("category lookup + the same cascade, %s from train", ruleLabel(lookCal)), ag.LookupOperating, "train pass rate per (task, model), then the same checks")
	lk.AIQ, lk.CostAt95 = ag.LookupAIQ, 100*CostAt(lookHull, 0.95*ev.BestQuality)/ev.BestCost
	ev.Rows = append(ev.Rows, lk, ln)
	return nil
}

// operate is a calibrated willingness-to-pay rule's operating point on the samples of the
// items at idx: a mixed rule decides each item with the λ its prompt's RequestShare selects,
// as a gateway would.
func operate(ds *Dataset, idx []int, samples []Sample, c *Calibration, k int) Point {
	if c.Mixed == nil {
		return evaluate(samples, samplesWTP{lambda: c.WTP.Lambda}, k, c.WTP.Lambda)
	}
	p := Point{Param: c.Mixed.Share, Share: make([]float64, k)}
	for n, i := range idx {
		s := &samples[n]
		j := ChooseWTP(s.P, s.est(), c.lambdaFor(ds.Items[i].Prompt))
		p.Quality += passOf(s.Pass[j])
		p.Cost += s.Cost[j]
		p.Share[j]++
	}
	n := float64(len(samples))
	p.Quality /= n
	p.Cost /= n
	for j := range p.Share {
		p.Share[j] /= n
	}
	return p
}

// lambdaFor is the λ a calibrated willingness-to-pay rule decides a prompt with: a mixed rule's
// by the prompt's RequestShare, as a gateway decides.
func (c *Calibration) lambdaFor(prompt string) float64 {
	if c.Mixed != nil {
		return c.Mixed.Lambda(RequestShare(prompt))
	}
	return c.WTP.Lambda
}

// ruleLabel describes a calibrated willingness-to-pay rule briefly.
func ruleLabel(c *Calibration) string {
	if m := c.Mixed; m != nil && m.Share > 0 && m.Lambda1 != m.Lambda2 {
		return fmt.Sprintf("λ=%.4g, %.4g for %.1f%% of requests,", m.Lambda1, m.Lambda2, 100*m.Share)
	}
	return fmt.Sprintf("λ=%.4g", c.Mixed.lambda1Or(c.WTP.Lambda))
}

// lambda1Or is Lambda1, or def for a nil rule.
func (m *MixedWTP) lambda1Or(def float64) float64 {
	if m == nil {
		return def
	}
	return m.Lambda1
}

// makeSamplesEst builds samples for the items at idx with predictions pred (in idx order) and
// the decision costs est gives.
func makeSamplesEst(ds *Dataset, idx []int, pred [][]float64, est func(i int) []float64) []Sample {
	out := make([]Sample, len(idx))
	for n, i := range idx {
		it := &ds.Items[i]
		out[n] = Sample{P: pred[n], Pass: it.Pass, Cost: it.Cost}
		if est != nil {
			out[n].Est = est(i)
		}
	}
	return out
}

// makeSamples builds samples deciding on the items' own costs, or on est when it is given.
func makeSamples(ds *Dataset, idx []int, pred [][]float64, est func(i int) []float64) []Sample {
	if est == nil {
		// Decide on each candidate's mean cost over the items: what a gateway knows ahead.
		mean := make([]float64, len(ds.Models))
		for _, i := range idx {
			for j, c := range ds.Items[i].Cost {
				mean[j] += c / float64(len(idx))
			}
		}
		est = func(int) []float64 { return mean }
	}
	return makeSamplesEst(ds, idx, pred, est)
}

// meanCostByTask returns each candidate's mean cost within a task over the items at idx,
// falling back to its mean over all of them for a task not among them.
func meanCostByTask(ds *Dataset, idx []int) func(task string) []float64 {
	k := len(ds.Models)
	sum, n := map[string][]float64{}, map[string]float64{}
	all := make([]float64, k)
	for _, i := range idx {
		it := &ds.Items[i]
		s := sum[it.Task]
		if s == nil {
			s = make([]float64, k)
			sum[it.Task] = s
		}
		for j, c := range it.Cost {
			s[j] += c
			all[j] += c / float64(len(idx))
		}
		n[it.Task]++
	}
	for t, s := range sum {
		for j := range s {
			s[j] /= n[t]
		}
	}
	return func(task string) []float64 {
		if s, ok := sum[task]; ok {
			return s
		}
		return all
	}
}

// lookupPrior is the weight, in items, of a model's overall pass rate in its per-task rate.
const lookupPrior = 2

// lookupPredict is the category-aware lookup: for each item at target, each candidate's pass
// rate on the train items of the same task, shrunk towards its overall train rate by
// lookupPrior items: (passes + 2×overall) / (items + 2).
func lookupPredict(ds *Dataset, train, target []int) [][]float64 {
	k := len(ds.Models)
	type acc struct{ s, n []float64 }
	by := map[string]*acc{}
	all := acc{make([]float64, k), make([]float64, k)}
	for _, i := range train {
		it := &ds.Items[i]
		a := by[it.Task]
		if a == nil {
			a = &acc{make([]float64, k), make([]float64, k)}
			by[it.Task] = a
		}
		for j, y := range it.Pass {
			if math.IsNaN(y) {
				continue
			}
			a.s[j] += y
			a.n[j]++
			all.s[j] += y
			all.n[j]++
		}
	}
	out := make([][]float64, len(target))
	for n, i := range target {
		p := make([]float64, k)
		a := by[ds.Items[i].Task]
		for j := range k {
			prior := (all.s[j] + 1) / (all.n[j] + 2)
			if a == nil {
				p[j] = prior
				continue
			}
			p[j] = (a.s[j] + lookupPrior*prior) / (a.n[j] + lookupPrior)
		}
		out[n] = p
	}
	return out
}

// crossLookup is lookupPredict out of fold on the items at idx, with Train's folds.
func crossLookup(ds *Dataset, idx []int, folds int, seed uint64) [][]float64 {
	fold := make([]int, len(idx))
	for n, i := range idx {
		fold[n] = int(splitHash(seed, "cv", ds.Items[i].ID) % uint64(folds))
	}
	out := make([][]float64, len(idx))
	for f := range folds {
		var tr, te []int
		var pos []int
		for n, i := range idx {
			if fold[n] == f {
				te = append(te, i)
				pos = append(pos, n)
			} else {
				tr = append(tr, i)
			}
		}
		for m, p := range lookupPredict(ds, tr, te) {
			out[pos[m]] = p
		}
	}
	return out
}

// oracle routes each item to the cheapest candidate that passes it (the cheapest candidate
// when none does).
func oracle(samples []Sample, k int) Point {
	pt := Point{Share: make([]float64, k)}
	for i := range samples {
		s := &samples[i]
		pick := -1
		for j := range k {
			if passOf(s.Pass[j]) >= 0.5 && (pick < 0 || s.Cost[j] < s.Cost[pick]) {
				pick = j
			}
		}
		if pick < 0 {
			pick = slices.Index(s.Cost, slices.Min(s.Cost))
		}
		pt.Quality += passOf(s.Pass[pick])
		pt.Cost += s.Cost[pick]
		pt.Share[pick]++
	}
	n := float64(len(samples))
	pt.Quality, pt.Cost = pt.Quality/n, pt.Cost/n
	for j := range pt.Share {
		pt.Share[j] /= n
	}
	return pt
}

// Hull returns the vertices of the cost–quality frontier of a set of operating points, as
// RouterBench draws it: the upper concave envelope of the points that no other point beats on
// both cost and quality, in increasing cost. Any point on a segment between two vertices is
// reachable by routing a random share of requests with one vertex's rule and the rest with the
// other's; beyond the last vertex, spending more buys nothing.
func Hull(points []Point) []Point {
	ps := slices.Clone(points)
	slices.SortStableFunc(ps, func(a, b Point) int {
		if c := cmpFloat(a.Cost, b.Cost); c != 0 {
			return c
		}
		return cmpFloat(b.Quality, a.Quality)
	})
	var front []Point
	for _, p := range ps {
		if len(front) > 0 && p.Quality <= front[len(front)-1].Quality {
			continue
		}
		front = append(front, p)
	}
	var h []Point
	for _, p := range front {
		for len(h) >= 2 {
			a, b := h[len(h)-2], h[len(h)-1]
			// Drop b when it lies on or under the segment a→p.
			if (b.Quality-a.Quality)*(p.Cost-a.Cost) <= (p.Quality-a.Quality)*(b.Cost-a.Cost) {
				h = h[:len(h)-1]
				continue
			}
			break
		}
		h = append(h, p)
	}
	return h
}

// QualityAt is the hull's quality at a cost: linear between vertices, the last vertex's
// quality beyond it, NaN below the first vertex's cost.
func QualityAt(h []Point, cost float64) float64 {
	if len(h) == 0 || cost < h[0].Cost {
		return math.NaN()
	}
	for i := 1; i < len(h); i++ {
		if cost <= h[i].Cost {
			a, b := h[i-1], h[i]
			if b.Cost == a.Cost {
				return b.Quality
			}
			return a.Quality + (b.Quality-a.Quality)*(cost-a.Cost)/(b.Cost-a.Cost)
		}
	}
	return h[len(h)-1].Quality
}

// CostAt is the least cost at which the hull reaches a quality (+Inf when it never does).
func CostAt(h []Point, quality float64) float64 {
	for i, b := range h {
		if b.Quality >= quality {
			if i == 0 {
				return b.Cost
			}
			a := h[i-1]
			return a.Cost + (b.Cost-a.Cost)*(quality-a.Quality)/(b.Quality-a.Quality)
		}
	}
	return math.Inf(1)
}

// AIQ is RouterBench's average improvement in quality: the mean of the hull's quality over
// costs from lo to hi, (1/(hi−lo)) ∫ QualityAt(c) dc, computed exactly on the piecewise-linear
// hull. Evaluate takes lo and hi from the cheapest and the dearest single model, and every
// router's hull includes the cheapest single model (a willingness-to-pay rule with a large λ
// is that model), so the areas compare over the same range.
func AIQ(h []Point, lo, hi float64) float64 {
	if len(h) == 0 || hi <= lo {
		return math.NaN()
	}
	// Integrate the piecewise-linear function through the breakpoints within [lo, hi].
	xs := []float64{lo}
	for _, p := range h {
		if p.Cost > lo && p.Cost < hi {
			xs = append(xs, p.Cost)
		}
	}
	xs = append(xs, hi)
	var area float64
	for i := 1; i < len(xs); i++ {
		a, b := QualityAt(h, xs[i-1]), QualityAt(h, xs[i])
		if math.IsNaN(a) || math.IsNaN(b) {
			return math.NaN()
		}
		area += (a + b) / 2 * (xs[i] - xs[i-1])
	}
	return area / (hi - lo)
}

// APGR is RouteLLM's average performance gap recovered for a two-model router. Items are
// sent to the strong model in decreasing order of priority (ties as a random order within
// the tie, i.e. the straight line between the tie's end points); for each share x of calls to
// the strong model the router's quality q(x) gives PGR(x) = (q(x) − q_weak)/(q_strong − q_weak),
// and APGR = ∫₀¹ PGR(x) dx, computed exactly (trapezoids over every item). Random routing
// scores 0.5; a router that sends the items the weak model fails first scores more.
func APGR(samples []Sample, priority []float64, strong, weak int) float64 {
	n := len(samples)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmpFloat(priority[b], priority[a]) })
	var qw, qs float64
	for i := range samples {
		qw += passOf(samples[i].Pass[weak])
		qs += passOf(samples[i].Pass[strong])
	}
	if qs == qw {
		return math.NaN()
	}
	q := qw
	var area float64
	for r := 0; r < n; {
		e := r
		for e < n && priority[order[e]] == priority[order[r]] {
			e++
		}
		q0 := q
		for _, i := range order[r:e] {
			q += passOf(samples[i].Pass[strong]) - passOf(samples[i].Pass[weak])
		}
		area += (q0 + q) / 2 * float64(e-r)
		r = e
	}
	// area/n is the mean of q over x; PGR is affine in q.
	return (area/float64(n) - qw) / (qs - qw)
}

// Markdown writes the evaluation as a Markdown section: the table and the operating point.
func (ev *Evaluation) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n", ev.Name)
	fmt.Fprintf(&b, "Split: %s. Best model: %s, quality %.4f at $%.3g per request. Percentages are of the best model's.\n\n",
		ev.Split, ev.Best, ev.BestQuality, ev.BestCost)
	b.WriteString("| router | quality | % of best | cost/request | % of best cost | best-model share | AIQ | cost at 95% quality | APGR |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range ev.Rows {
		name := r.Router
		if r.Note != "" {
			name += " <br><sub>" + r.Note + "</sub>"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name,
			num(r.Quality, "%.4f"), num(r.QualityPct, "%.1f%%"), usd(r.Cost), num(r.CostPct, "%.1f%%"),
			num(100*r.StrongShare, "%.1f%%"), num(r.AIQ, "%.4f"), pct(r.CostAt95), num(r.APGR, "%.3f"))
	}
	op, or := ev.Operating, ev.Oracle
	cal := ev.Learned
	fmt.Fprintf(&b, "\nDeployable operating point (%s chosen on the train half for %.0f%% of the best model's quality with a %.3g-standard-error margin; "+
		"on the train half's out-of-fold predictions it reached %.1f%% of %s's quality at %.1f%% of its cost): "+
		"quality %.1f%% of %s at %.1f%% of its cost. The oracle reaches %.1f%% at %.1f%%: the router is %.1f quality points and %.1f cost points from it.\n",
		ruleLabel(cal), 100*ev.Target.Quality, ev.Target.Confidence, 100*cal.Point.Quality/cal.BestQuality, cal.Best, 100*cal.Point.Cost/cal.BestCost,
		100*op.Quality/ev.BestQuality, ev.Best, 100*op.Cost/ev.BestCost,
		100*or.Quality/ev.BestQuality, 100*or.Cost/ev.BestCost, 100*(or.Quality-op.Quality)/ev.BestQuality, 100*(op.Cost-or.Cost)/ev.BestCost)
	if cal.WTP != nil {
		b.WriteString("\nAs a spec route, with the router trained on these outcomes (clearbar learn train); models are named as in the outcomes (write the spec's names for them), " +
			"and willingness_to_pay is 1/λ, in " + WTPUnit + ", which decides as here when the spec's prices give each call the cost the outcomes record:\n\n```yaml\n" + ScoreRoute(cal, "") + "```\n")
	}
	if bc := ev.Budgeted; bc != nil {
		bp := ev.BudgetOperating
		fmt.Fprintf(&b, "\nBudget operating point (%s chosen on the train half for the most quality within %.0f%% of the best model's cost, with a one-standard-error margin on the cost; "+
			"on the train half's out-of-fold predictions it reached %.1f%% of the quality at %.1f%% of the cost): quality %.1f%% of %s at %.1f%% of its cost.\n",
			ruleLabel(bc), 100*ev.Budget, 100*bc.Point.Quality/bc.BestQuality, 100*bc.Point.Cost/bc.BestCost,
			100*bp.Quality/ev.BestQuality, ev.Best, 100*bp.Cost/ev.BestCost)
	}
	if ag := ev.Agreement; ag != nil {
		ap, ac := ag.Operating, ag.Learned
		fmt.Fprintf(&b, "\nWith an agreement cascade (%s chosen on the train half, with the checkers %s and %s, the cheapest of %d checker pairs to meet the target on the train half's out-of-fold predictions, where it reached %.1f%% of the quality at %.1f%% of the cost): "+
			"quality %.1f%% of %s at %.1f%% of its cost; %.1f%% of requests were checked and %.1f%% escalated (a disagreement, or an answer naming no option).\n",
			ruleLabel(ac), ag.Checkers[0], ag.Checkers[1], ag.Pairs, 100*ac.Point.Quality/ac.BestQuality, 100*ac.Point.Cost/ac.BestCost,
			100*ap.Quality/ev.BestQuality, ev.Best, 100*ap.Cost/ev.BestCost, 100*ag.Checked, 100*ag.Escalated)
		b.WriteString("\nAs a spec route:\n\n```yaml\n" + ag.Route() + "```\n")
	}
	b.WriteString("\nLearned frontier on the test half (hull vertices: λ, quality % of best, cost % of best): ")
	for i, p := range ev.Frontier {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%.3g, %.1f%%, %.1f%%)", p.Param, 100*p.Quality/ev.BestQuality, 100*p.Cost/ev.BestCost)
	}
	b.WriteString("\n")
	return b.String()
}

func num(x float64, f string) string {
	if math.IsNaN(x) {
		return "–"
	}
	return fmt.Sprintf(f, x)
}

func pct(x float64) string {
	switch {
	case math.IsNaN(x):
		return "–"
	case math.IsInf(x, 1):
		return "not reached"
	}
	return fmt.Sprintf("%.1f%%", x)
}

func usd(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	return fmt.Sprintf("$%.3g", x)
}

func cmpOr(x, def float64) float64 {
	if x == 0 {
		return def
	}
	return x
}
