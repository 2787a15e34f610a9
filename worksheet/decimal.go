package worksheet

import (
	"regexp"
	"slices"
	"strings"
)

// A spreadsheet exports CSV in its locale's convention: where decimals are written with a
// comma (0,95), cells are separated by semicolons (or tabs) and thousands may be grouped with
// points (1.500). The import reads such a sheet as it was meant, and refuses one that writes
// decimals both ways.

// singleNumberColumns hold one number each (with a unit, a percent sign or a dollar sign): the
// sheet's decimal mark is told from them.
var singleNumberColumns = []string{colShare, colQuality, colTokensIn, colTokensOut, colReasoning, colCacheHit,
	colEstPass, colEstLatency, colEstCost, colDetect, colFalseAlarm, colBudget, colPrimaryPass, colFallbackPass,
	colFailureImpact, colVolume}

// listNumberColumns hold numbers beside model names ("mini: 0,96; nano: 0,8"): in a sheet with
// decimal commas their numbers are read so too, but, since a model's name may hold a point
// ("gpt-4.1"), they do not tell the decimal mark.
var listNumberColumns = []string{colOtherPass, colModelLatency, colModelAvailability, colModelPrice}

// countColumns hold counts of tokens, where "1.500" and "1,500" can only mean 1500.
var countColumns = []string{colTokensIn, colTokensOut, colReasoning}

var (
	// commaDecimalRE and pointDecimalRE match a decimal that can only be read one way: a
	// fraction of a unit ("0,95", "0.95") or a mark followed by other than three digits
	// ("1,8s", "1.8s"). "1,500" and "1.500" are either a decimal or a thousands group.
	commaDecimalRE = regexp.MustCompile(`(^|[^\d.,])0,\d|\d,(\d{1,2}|\d{4,})(\D|$)`)
	pointDecimalRE = regexp.MustCompile(`(^|[^\d.,])0\.\d|\d\.(\d{1,2}|\d{4,})(\D|$)`)
	// pointGroupRE matches a thousands group after a point: "1.500".
	pointGroupRE = regexp.MustCompile(`(\d)\.(\d{3})(\D|$)`)
	commaMarkRE  = regexp.MustCompile(`(\d),(\d)`)
)

// decimalMark tells, for a sheet separated by semicolons or tabs, whether its decimals are
// written with commas, from the cells that hold one number each: a sheet that writes 0,95 or
// 1,8s reads 1.500 as 1500. It reports false, with an error, when the sheet writes decimals
// both ways, which no locale does.
func (im *importer) decimalMark(records []sheetRecord) bool {
	type seen struct {
		row       int
		col, cell string
	}
	var comma, point *seen
	for _, rec := range records {
		for _, col := range singleNumberColumns {
			i, ok := im.col[col]
			if !ok || i >= len(rec.cells) {
				continue
			}
			s := strings.TrimSpace(rec.cells[i])
			if comma == nil && commaDecimalRE.MatchString(s) {
				comma = &seen{rec.row, col, s}
			}
			if point == nil && pointDecimalRE.MatchString(s) {
				point = &seen{rec.row, col, s}
			}
		}
	}
	if comma != nil && point != nil {
		first, second := comma, point
		if point.row < comma.row {
			first, second = point, comma
		}
		im.errorf(second.row, second.col, "%q writes its decimal with a %s, but row %d, %q, writes %q with a %s: write every decimal in the sheet the same way",
			second.cell, markName(second == comma), first.row, first.col, first.cell, markName(first == comma))
		return false
	}
	im.decimalComma = comma != nil
	return true
}

func markName(comma bool) string {
	if comma {
		return "comma"
	}
	return "point"
}

// number returns a cell of a number column as Clearbar reads numbers: in a sheet with decimal
// commas, points that group thousands are dropped and decimal commas become points
// ("1.500" → "1500", "0,95" → "0.95", "input 0,4, output 1,6" → "input 0.4, output 1.6").
// In any sheet a token count's "1.500" is 1500 (a count of 1.5 tokens is no average anyone
// writes), as "1,500" is. Other cells are returned as they are.
func (im *importer) number(col, s string) string {
	switch {
	case im.decimalComma && (slices.Contains(singleNumberColumns, col) || slices.Contains(listNumberColumns, col)):
		s = replaceAll(pointGroupRE, s, "$1$2$3")
		return commaMarkRE.ReplaceAllString(s, "$1.$2")
	case slices.Contains(countColumns, col) && !pointDecimalRE.MatchString(s):
		return replaceAll(pointGroupRE, s, "$1$2$3")
	}
	return s
}

// replaceAll replaces until nothing matches: a match takes the character after a group, so
// "1.500.000" needs two passes.
func replaceAll(re *regexp.Regexp, s, repl string) string {
	for {
		t := re.ReplaceAllString(s, repl)
		if t == s {
			return s
		}
		s = t
	}
}
