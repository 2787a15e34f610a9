package worksheet

import (
	"regexp"
	"slices"
	"strings"
)

// A spreadsheet exports CSV in its locale's convention: where decimals are written with a
// comma (0,95), cells are separated by semicolons (or tabs) and thousands may be grouped with
// points (1.500). It does so only for the cells it stores as numbers (a share, a pass rate, a
// cost, a token count); a cell it stores as text ("400ms / 1.5s", "mini: 0.96; nano: 0.8",
// "input 0.4, output 1.6") is written as it was typed, whatever the locale. The import tells
// the sheet's decimal mark from its number cells alone, reads them as the sheet means them,
// and refuses a sheet whose number cells write decimals both ways, which no locale does. In
// a sheet separated by semicolons or tabs whose number cells write no decimal point, the
// numbers in text cells are read with either mark: a comma between digits is a decimal
// comma ("1,5s"), a point a decimal point ("1.5s"), and a comma followed by a space separates
// items ("input 0,4, output 1,6").

// singleNumberColumns hold one number each (with a unit, a percent sign or a dollar sign).
var singleNumberColumns = []string{colShare, colQuality, colTokensIn, colTokensOut, colReasoning, colCacheHit,
	colEstPass, colEstLatency, colEstCost, colDetect, colFalseAlarm, colBudget, colPrimaryPass, colFallbackPass,
	colFailureImpact, colVolume}

// listNumberColumns hold numbers beside model names ("mini: 0,96; nano: 0,8"), or several
// numbers in words ("attempts 3, backoff 1,5s", "tiers 0,3, 0,5").
var listNumberColumns = []string{colOtherPass, colModelLatency, colModelAvailability, colModelPrice, colRetries, colRoute}

// countColumns hold counts (of tokens, of requests), where "1.500" and "1,500" can only mean
// 1500.
var countColumns = []string{colTokensIn, colTokensOut, colReasoning, colVolume}

var (
	// numberCellRE matches a cell a spreadsheet stores as a number: digits with decimal and
	// grouping marks, optionally signed, with a percent or currency sign.
	numberCellRE = regexp.MustCompile(`^[-+]?\s*[$€£]?\s*[-+]?\d[\d.,]*\s*[%$€£]?$`)
	// commaDecimalRE and pointDecimalRE match a decimal that can only be read one way: a
	// fraction of a unit ("0,95", "0.95") or a mark followed by other than three digits
	// ("1,8", "1.8"). "1,500" and "1.500" are either a decimal or a thousands group.
	commaDecimalRE = regexp.MustCompile(`(^|[^\d.,])0,\d|\d,(\d{1,2}|\d{4,})(\D|$)`)
	pointDecimalRE = regexp.MustCompile(`(^|[^\d.,])0\.\d|\d\.(\d{1,2}|\d{4,})(\D|$)`)
	// pointGroupRE matches a thousands group after a point: "1.500".
	pointGroupRE = regexp.MustCompile(`(\d)\.(\d{3})(\D|$)`)
	commaMarkRE  = regexp.MustCompile(`(\d),(\d)`)
	// digitRunRE matches a number in text with its marks: "1,5", "0.96", "1.000.000".
	digitRunRE = regexp.MustCompile(`\d+(?:[.,]\d+)*`)
)

// decimalMark tells, for a sheet separated by semicolons or tabs, whether its decimals are
// written with commas, from its number cells (numberCellRE): a sheet that writes 0,95 reads
// 1.500 as 1500. It reports false, with an error, when the number cells write decimals both
// ways, which no locale does.
func (im *importer) decimalMark(records []sheetRecord) bool {
	type seen struct {
		row       int
		col, cell string
	}
	var comma, point *seen
	for _, rec := range records {
		for _, col := range slices.Concat(singleNumberColumns, listNumberColumns) {
			i, ok := im.col[col]
			if !ok || i >= len(rec.cells) {
				continue
			}
			s := strings.TrimSpace(unescapeCell(rec.cells[i]))
			if !numberCellRE.MatchString(s) {
				continue
			}
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
		if point.row < comma.row || point.row == comma.row && im.col[point.col] < im.col[comma.col] {
			first, second = point, comma
		}
		im.errorf(second.row, second.col, "%q writes its decimal with a %s, but row %d, %q, writes %q with a %s: write every decimal in the sheet the same way",
			second.cell, markName(second == comma), first.row, first.col, first.cell, markName(first == comma))
		return false
	}
	im.decimalComma = comma != nil
	im.textCommas = point == nil
	return true
}

func markName(comma bool) string {
	if comma {
		return "comma"
	}
	return "point"
}

// number returns a cell of a number column as Clearbar reads numbers. In a sheet with decimal
// commas, a number cell's points group thousands and its comma is the decimal mark ("1.500"
// → "1500", "0,95" → "0.95"). In a sheet whose number cells write no decimal point, a text
// cell's decimal commas become points (see textDecimals). In any sheet a count's "1.500" is
// 1500 (a count of 1.5 tokens is no average anyone writes), as "1,500" is. Other cells are
// returned as they are.
func (im *importer) number(col, s string) string {
	if !slices.Contains(singleNumberColumns, col) && !slices.Contains(listNumberColumns, col) {
		return s
	}
	count := slices.Contains(countColumns, col)
	switch {
	case numberCellRE.MatchString(s):
		if im.decimalComma {
			s = replaceAll(pointGroupRE, s, "$1$2$3")
			return commaMarkRE.ReplaceAllString(s, "$1.$2")
		}
	case im.textCommas:
		s = textDecimals(s, count)
	}
	if count && !pointDecimalRE.MatchString(s) {
		return replaceAll(pointGroupRE, s, "$1$2$3")
	}
	return s
}

// textDecimals rewrites the numbers in a text cell with decimal points, reading each number
// (digits joined by points or commas, no space) on its own: in a count, marks each followed by
// three digits group thousands ("1.500", "1,500" → "1500"); a single comma is a decimal comma
// ("1,5s" → "1.5s"), after points that group thousands ("1.234,5" → "1234.5"); anything else,
// a point alone included ("1.5s", "gpt-4.1"), is left as it is. A comma followed by a space
// is not in a number: it separates items ("input 0,4, output 1,6").
func textDecimals(s string, count bool) string {
	return digitRunRE.ReplaceAllStringFunc(s, func(n string) string {
		groups := strings.FieldsFunc(n, func(r rune) bool { return r == '.' || r == ',' })
		if count && len(groups) > 1 && len(groups[0]) <= 3 && !slices.ContainsFunc(groups[1:], func(g string) bool { return len(g) != 3 }) {
			return strings.Join(groups, "")
		}
		commas := strings.Count(n, ",")
		if commas != 1 {
			return n
		}
		whole, frac, _ := strings.Cut(n, ",")
		if strings.Contains(whole, ".") {
			parts := strings.Split(whole, ".")
			if len(parts[0]) > 3 || slices.ContainsFunc(parts[1:], func(g string) bool { return len(g) != 3 }) {
				return n
			}
			whole = strings.Join(parts, "")
		}
		return whole + "." + frac
	})
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
