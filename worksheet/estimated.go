package worksheet

import (
	"context"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/clearbar/clearbar/estimate"
	"github.com/clearbar/clearbar/spec"
)

// A worksheet's estimated columns ("estimated pass rate", "estimated latency", "estimated
// per-request cost") are the estimate's results. A sheet that states the assumptions they
// come from (assumptionColumns) imports from those assumptions, so an edit to an estimated
// column changes nothing: the import says so, row by row, where an estimated cell disagrees
// with the estimate of the imported spec. A sheet without them imports its estimated
// columns as placeholders (a primary model's pass rate, a model's latency), and is not
// checked.

// assumptionColumns are the columns beyond the playbook's twelve that the estimate of a row
// reads. A sheet with all of them states every assumption of its estimated columns (see the
// package documentation); a sheet without one of them imports with defaults in its place,
// whose estimate is not the one the sheet was exported with.
var assumptionColumns = []string{colRoute, colPrimaryPass, colFallbackPass, colDetect, colFalseAlarm, colFailover,
	colOtherPass, colReasoning, colCacheHit, colRetries, colModelLatency, colModelAvailability, colModelProvider, colModelPrice}

// latencyNoise is how far, relative to its value, a simulated p50 and p95 may move with the
// seed and the number of samples of the estimate that exported the sheet. At the fewest
// samples an export takes (estimate.MinCategorySamples a category), the examples' medians
// move by up to 4% from seed to seed, but a p95 in a tail with two modes (batch-extraction's
// extract row: escalations to a slow model) moves from 5.5s to 7.9s around 7.6s. So a
// latency is checked coarsely: an edit of more than that is told, a smaller one is not.
var latencyNoise = [2]float64{0.1, 0.35}

// checkEstimates warns, for each row of a sheet with every assumption column, of each
// estimated cell that the estimate of the imported spec y (its own routes, with the default
// samples and seed, which the export uses by default) does not give, within the precision the
// cell is written with: a pass rate or cost to the last digit written (the estimate computes
// both in closed form, so they do not depend on the samples), a latency to the two
// significant digits Export writes, with latencyNoise besides. A cell the import read for a
// placeholder (a primary model's pass rate, a model's latency) is not checked, nor a row
// whose validation rule was not rebuilt as written; nor anything when the imported spec does
// not load, which the import has warned of. It costs one estimate of the spec: about as long
// as the export's.
func (im *importer) checkEstimates(y []byte) {
	if im.warn == nil {
		return
	}
	for _, col := range assumptionColumns {
		if !im.present[col] {
			im.checkPlaceholders(y)
			return
		}
	}
	results := im.estimateRows(y)
	for _, c := range im.rows {
		res, ok := results[c.name]
		if !ok || len(c.validators.unknown) > 0 || len(c.validators.missing) > 0 {
			continue
		}
		disagree := func(col, got, edit string) {
			im.warnf("row %d, %q: %s is not what this row's assumptions give (%s): the estimated columns are the estimate's results and are not read when the sheet states its assumptions; to change the assumption, edit %s",
				c.row, col, c.estCells[col], got, edit)
		}
		if c.estPass != nil && !c.estRead[colEstPass] && math.Abs(*c.estPass-res.Quality) > halfLastDigit(c.estCells[colEstPass])+1e-9 {
			edit := quoteList([]string{colPrimaryPass})
			if c.kind != "static" {
				edit = quoteList([]string{colPrimaryPass, colFallbackPass, colOtherPass, colDetect}) + " or " + strconv.Quote(colFalseAlarm)
			}
			disagree(colEstPass, formatPassLike(res.Quality, c.estCells[colEstPass]), edit)
		}
		if l := c.estLatency; l != nil && !c.estRead[colEstLatency] {
			got := []float64{res.Latency.P50, res.Latency.P95}
			n := 2
			if c.estTailAssumed {
				n = 1 // the p95 was not written
			}
			for i := range n {
				if w := l[i].Seconds(); math.Abs(w-got[i]) > halfSecondDigit(w)+latencyNoise[i]*got[i] {
					disagree(colEstLatency, formatLatencyPair(got[0], got[1]), strconv.Quote(colModelLatency))
					break
				}
			}
		}
		if c.estCost != nil && math.Abs(*c.estCost-res.Cost.USD()) > halfLastDigit(c.estCells[colEstCost])+1e-9 {
			disagree(colEstCost, res.Cost.Decimal(), quoteList([]string{colTokensIn, colTokensOut})+" or "+strconv.Quote(colModelPrice))
		}
	}
}

// estimateRows estimates the imported spec y under its own routes and returns each
// category's result, or nil when y does not load (which the import has warned of) or the
// estimate fails.
func (im *importer) estimateRows(y []byte) map[string]estimate.CategoryResult {
	s, err := spec.Parse(y, filepath.Join(cmpOr(im.dir, "."), "imported.yaml"), spec.Options{Catalog: im.cat})
	if err != nil {
		return nil
	}
	rep, err := estimate.Run(context.Background(), s, estimate.Options{})
	if err != nil || len(rep.Policies) == 0 || rep.Policies[0].Kind != estimate.KindSpec {
		return nil
	}
	results := map[string]estimate.CategoryResult{}
	for _, r := range rep.Policies[0].Categories {
		results[r.Category] = r
	}
	return results
}

// placeholderCostFactor is how far, as a ratio either way, a hand-written estimated cost may
// be from the estimate of its row before the import says so: a sheet planned by hand rounds
// its token counts and prices, but a cost 3× off is another price or token count.
const placeholderCostFactor = 3

// checkPlaceholders warns, for a sheet without every assumption column (whose estimated
// columns are placeholders), of what the estimate of the imported spec y makes of them:
// a validated route's primary model given the row's estimated pass rate as its own, which the
// route's validation and escalation then raise (a figure written for the whole route is
// counted twice); and an estimated cost far from the estimate's, at the catalogue's prices
// and the row's tokens.
func (im *importer) checkPlaceholders(y []byte) {
	check := false
	for _, c := range im.rows {
		check = check || c.estCost != nil || c.estPass != nil && c.estRead[colEstPass] && c.kind != "static"
	}
	if !check {
		return
	}
	results := im.estimateRows(y)
	for _, c := range im.rows {
		res, ok := results[c.name]
		if !ok {
			continue
		}
		if c.estPass != nil && c.estRead[colEstPass] && c.kind != "static" && res.Quality > *c.estPass+halfLastDigit(c.estCells[colEstPass])+1e-9 {
			im.warnf("row %d, %q: %s was read as the pass rate of %s alone, the route's first step; with the route's validation and later steps the row estimates %s. If %s is the whole route's, write %s's own, lower, pass rate in a %q column",
				c.row, colEstPass, c.estCells[colEstPass], c.primary, formatPassLike(res.Quality, c.estCells[colEstPass]), c.estCells[colEstPass], c.primary, colPrimaryPass)
		}
		if c.estCost != nil && *c.estCost > 0 && res.Cost > 0 {
			if r := *c.estCost / res.Cost.USD(); r > placeholderCostFactor || r < 1.0/placeholderCostFactor {
				im.warnf("row %d, %q: %s is %s the estimate's %s at the row's tokens and the models' prices; the estimate uses its own: check the tokens in and out, or the prices (give a model's price in a %q column)",
					c.row, colEstCost, c.estCells[colEstCost], timesOff(r), res.Cost.Decimal(), colModelPrice)
			}
		}
	}
}

// timesOff says how far ratio r is from 1: "4.1× above" or "12× below".
func timesOff(r float64) string {
	if r >= 1 {
		return strconv.FormatFloat(roundTo2(r), 'g', -1, 64) + "× above"
	}
	return strconv.FormatFloat(roundTo2(1/r), 'g', -1, 64) + "× below"
}

// roundTo2 rounds x to two significant digits.
func roundTo2(x float64) float64 {
	if x <= 0 {
		return x
	}
	p := math.Pow(10, math.Floor(math.Log10(x))-1)
	return math.Round(x/p) * p
}

// halfLastDigit is half a unit of the last decimal digit a number cell is written with (of a
// percentage, as a fraction): 0.00005 for "0.9200", 0.005 for "92%", 0.5 for "3".
func halfLastDigit(cell string) float64 {
	t := strings.TrimSpace(cell)
	digits := 0
	if p, ok := strings.CutSuffix(t, "%"); ok {
		t, digits = strings.TrimSpace(p), 2
	}
	if _, frac, ok := strings.Cut(t, "."); ok {
		digits += len(strings.TrimRightFunc(frac, func(r rune) bool { return r < '0' || r > '9' }))
	}
	return 0.5 * math.Pow(10, -float64(digits))
}

// halfSecondDigit is half a unit of the second significant digit of secs, the precision
// Export writes an estimated latency with (roundSignificant): 0.05 for 1.5, 0.005 for 0.4.
func halfSecondDigit(secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return 0.5 * math.Pow(10, math.Floor(math.Log10(secs))-1)
}

// formatPassLike writes pass rate p as the cell like writes one: a percentage with up to two
// decimals for a percentage ("92%", "98.49%"), else a fraction with four decimals, as Export
// writes it.
func formatPassLike(p float64, like string) string {
	if strings.HasSuffix(strings.TrimSpace(like), "%") {
		return strconv.FormatFloat(math.Round(p*10000)/100, 'f', -1, 64) + "%"
	}
	return strconv.FormatFloat(p, 'f', 4, 64)
}
