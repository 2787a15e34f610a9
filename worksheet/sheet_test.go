package worksheet

import (
	"bytes"
	"encoding/csv"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/spec"
)

// importSpec imports sheet and loads the spec it gives.
func importSpec(t *testing.T, sheet string) (*spec.Spec, string) {
	t.Helper()
	y, err := Import(strings.NewReader(sheet), ImportOptions{File: "sheet.csv"})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	s, err := spec.Parse(y, "sheet.yaml", spec.Options{})
	if err != nil {
		t.Fatalf("the imported spec does not load: %v\n%s", err, y)
	}
	return s, string(y)
}

// TestImportPercentagesExactly: a percentage is the decimal it stands for, in every column
// that takes one: "39.3%" is 0.393, not 39.3/100 = 0.39299999999999996, which the spec would
// then show and the worksheet it exports would carry.
func TestImportPercentagesExactly(t *testing.T) {
	sheet := `task category,traffic share,quality threshold,primary model,fallback model,average tokens in,average tokens out,validation rule,estimated pass rate,estimated latency,estimated per-request cost,last review date,primary pass rate,fallback pass rate,validator detect,validator false alarm,cache hit,other pass rates,model availability
intent,60.7%,95.3%,small=gpt-4o-mini,large=gpt-4o,400,20,JSON Schema from the request,97.3%,600ms / 1.8s,0.0001,2026-10-01,96.7%,99.1%,80.7%,2.3%,28.7%,mid=gpt-4.1-mini: 96.7%,small: 99.7%; large: 99.1%; mid: 99.9%
draft,39.3%,90.7%,large=gpt-4o,,1500,250,,93.1%,,,2026-10-01,,,,,,,
`
	s, y := importSpec(t, sheet)
	in, dr := s.Category("intent"), s.Category("draft")
	for _, c := range []struct {
		what      string
		got, want float64
	}{
		{"intent's share", float64(in.Share), 0.607}, {"draft's share", float64(dr.Share), 0.393},
		{"intent's quality bar", float64(*in.QualityBar), 0.953}, {"draft's quality bar", float64(*dr.QualityBar), 0.907},
		{"small's pass rate", float64(in.Assume.PassRate["small"]), 0.967}, {"large's pass rate", float64(in.Assume.PassRate["large"]), 0.991},
		{"mid's pass rate", float64(in.Assume.PassRate["mid"]), 0.967}, {"draft's pass rate", float64(dr.Assume.PassRate["large"]), 0.931},
		{"the validator's detect", float64(in.Assume.Validator.Detect), 0.807}, {"the validator's false alarm", float64(in.Assume.Validator.FalseAlarm), 0.023},
		{"the cache hit", float64(in.Tokens.CacheHit), 0.287},
		{"small's availability", float64(*s.Model("small").Availability), 0.997}, {"mid's availability", float64(*s.Model("mid").Availability), 0.999},
	} {
		if c.got != c.want {
			t.Errorf("%s is %v, want %v", c.what, c.got, c.want)
		}
	}
	for _, artefact := range []string{"0000000", "9999999"} {
		if strings.Contains(y, artefact) {
			t.Errorf("the imported spec has a number with %q in it:\n%s", artefact, y)
		}
	}
}

// TestImportMultiplesExactly: "4.1M per month" is a whole number of requests (4100000, not
// 4.1 × 10⁶ = 4099999.9999999995, which is no volume) and "1.1k" tokens are 1100.
func TestImportMultiplesExactly(t *testing.T) {
	sheet := strings.Replace(baseSheet, "last review date\n", "last review date,volume\n", 1)
	sheet = strings.Replace(sheet, "2026-10-01\n", "2026-10-01,4.1M per month\n", 1)
	sheet = strings.Replace(sheet, ",1500,250,", ",1.1k,0.3k,", 1)
	s, _ := importSpec(t, sheet)
	if s.Volume.PerMonth != 4_100_000 {
		t.Errorf("volume %v a month, want 4100000", s.Volume.PerMonth)
	}
	if tok := s.Category("draft").Tokens; tok.In.P50 != 1100 || tok.Out.P50 != 300 {
		t.Errorf("draft's tokens %v in, %v out; want 1100 and 300", tok.In.P50, tok.Out.P50)
	}
}

// TestImportRowsAsTheSpreadsheetNumbersThem: a blank line is a row of the spreadsheet that
// opens the CSV, and a cell with a line break stays in its row, so an error names the row the
// user sees the cell in.
func TestImportRowsAsTheSpreadsheetNumbersThem(t *testing.T) {
	lines := strings.Split(baseSheet, "\n")
	for _, tc := range []struct {
		name, sheet, want string
	}{
		{"blank line", lines[0] + "\n" + lines[1] + "\n\n" + strings.Replace(lines[2], "draft,0.4,0.9,", "draft,0.4,0.9x,", 1) + "\n",
			`sheet.csv row 4, "quality threshold": "0.9x" is not a pass rate`},
		{"blank lines, CRLF", strings.ReplaceAll(lines[0]+"\n\n"+lines[1]+"\n\n\n"+strings.Replace(lines[2], "draft,0.4,0.9,", "draft,0.4,0.9x,", 1)+"\n", "\n", "\r\n"),
			`sheet.csv row 6, "quality threshold": "0.9x" is not a pass rate`},
		{"a cell with line breaks", strings.Replace(lines[0], "last review date", "last review date,why", 1) + "\n" + lines[1] + ",\"two\nlines\n\"\n" + strings.Replace(lines[2], "draft,0.4,0.9,", "draft,0.4,0.9x,", 1) + ",\n",
			`sheet.csv row 3, "quality threshold": "0.9x" is not a pass rate`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Import(strings.NewReader(tc.sheet), ImportOptions{File: "sheet.csv"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestImportSpreadsheetExports: a spreadsheet's export imports as the CSV it stands for: with
// a byte order mark before a quoted header ("CSV UTF-8" quoting every cell), with semicolons
// between cells (a locale that writes decimal commas) or tabs, and CRLF line ends.
func TestImportSpreadsheetExports(t *testing.T) {
	want, err := Import(strings.NewReader(baseSheet), ImportOptions{File: "sheet.csv"})
	if err != nil {
		t.Fatal(err)
	}
	quoteAll := func(sep string) string {
		var b strings.Builder
		for _, line := range strings.Split(strings.TrimSpace(baseSheet), "\n") {
			cells := splitCSVLine(line)
			for i, c := range cells {
				cells[i] = `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
			}
			b.WriteString(strings.Join(cells, sep) + "\r\n")
		}
		return b.String()
	}
	plain := func(sep string) string {
		var b strings.Builder
		for _, line := range strings.Split(strings.TrimSpace(baseSheet), "\n") {
			b.WriteString(strings.Join(splitCSVLine(line), sep) + "\r\n")
		}
		return b.String()
	}
	for _, tc := range []struct{ name, sheet string }{
		{"byte order mark, quoted cells", "\ufeff" + quoteAll(",")},
		{"byte order mark, plain cells", "\ufeff" + plain(",")},
		{"semicolons, quoted cells", "\ufeff" + quoteAll(";")},
		{"semicolons", plain(";")},
		{"tabs", plain("\t")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Import(strings.NewReader(tc.sheet), ImportOptions{File: "sheet.csv"})
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			if string(got) != string(want) {
				t.Errorf("imported:\n%s\nwant what the comma-separated sheet gives:\n%s", got, want)
			}
		})
	}
}

// splitCSVLine splits a line of baseSheet, whose cells have no quotes, at its commas.
func splitCSVLine(line string) []string { return strings.Split(line, ",") }

// TestImportNegativeCost: an estimated per-request cost below zero is no cost.
func TestImportNegativeCost(t *testing.T) {
	_, err := Import(strings.NewReader(strings.Replace(baseSheet, ",0.0001,", ",-$0.0001,", 1)), ImportOptions{File: "sheet.csv"})
	if want := `sheet.csv row 2, "estimated per-request cost": "-$0.0001" is not an amount`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want %q", err, want)
	}
}

// TestRuleWithBareSemicolons: a hand-written rule whose parts a semicolon alone separates is
// read part by part; a regex with a semicolon in it stays whole.
func TestRuleWithBareSemicolons(t *testing.T) {
	got := rebuildValidators("json schema;max length 2000;required: id, total", nil)
	if want := []string{"{json_schema: request}", "{max_length: 2000}", "{required_fields: [id, total]}"}; strings.Join(got.validators, " ") != strings.Join(want, " ") || len(got.unknown) > 0 {
		t.Errorf("validators %q, unknown %q; want %q", got.validators, got.unknown, want)
	}
	got = rebuildValidators("regex: matches /a;b/", nil)
	if len(got.validators) != 1 || got.validators[0] != `{regex: {must: ["a;b"]}}` {
		t.Errorf("validators %q, unknown %q; want the regex a;b", got.validators, got.unknown)
	}
}

// TestImportDurationsWithSpaces: a latency written with a space before its unit, as
// spreadsheets and people write it ("600 ms / 1.5 s"), is the latency without the space.
func TestImportDurationsWithSpaces(t *testing.T) {
	sheet := strings.Replace(baseSheet, ",600ms / 1.8s,", ",600 ms / 1.8 s,", 1)
	sheet = strings.Replace(sheet, "last review date\n", "last review date,latency budget\n", 1)
	sheet = strings.Replace(sheet, "2026-10-01\ndraft", "2026-10-01,2.5 s\ndraft", 1)
	sheet = strings.Replace(sheet, ",0.93,,,2026-10-01\n", ",0.93,3 s,,2026-10-01,\n", 1)
	unspaced := strings.NewReplacer(",600 ms / 1.8 s,", ",600ms / 1.8s,", ",2.5 s\n", ",2.5s\n", ",3 s,", ",3s,").Replace(sheet)
	want, err := Import(strings.NewReader(unspaced), ImportOptions{File: "sheet.csv"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Import(strings.NewReader(sheet), ImportOptions{File: "sheet.csv"})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if string(got) != string(want) {
		t.Errorf("imported:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(string(got), "latency_budget: 2.5s") {
		t.Errorf("no latency budget of 2.5s:\n%s", got)
	}
}

// TestImportDecimalCommas: a sheet exported where decimals are written with commas (cells
// separated by semicolons, thousands grouped with points) imports as the sheet it stands for,
// whichever mark its text cells' decimals are typed with; one whose number cells write
// decimals both ways is refused at the cell that differs; a token count of "1.500" is 1500
// whatever the sheet's decimal mark.
func TestImportDecimalCommas(t *testing.T) {
	want, err := Import(strings.NewReader(baseSheet), ImportOptions{File: "sheet.csv"})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(baseSheet), "\n") {
		cells := splitCSVLine(line)
		for i, c := range cells {
			cells[i] = strings.ReplaceAll(c, ".", ",")
			if c == "1500" {
				cells[i] = "1.500"
			}
		}
		b.WriteString(strings.Join(cells, ";") + "\r\n")
	}
	sheet := b.String()
	for _, s := range []string{"0,6", "1,8s", "0,0001", "1.500"} {
		if !strings.Contains(sheet, s) {
			t.Fatalf("the decimal-comma sheet lacks %q:\n%s", s, sheet)
		}
	}
	got, err := Import(strings.NewReader(sheet), ImportOptions{File: "sheet.csv"})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if string(got) != string(want) {
		t.Errorf("imported:\n%s\nwant what the sheet with decimal points gives:\n%s", got, want)
	}

	// A text cell is written as typed, whatever the locale: its decimal point is no mixing.
	typed := strings.Replace(sheet, "1,8s", "1.8s", 1)
	got, err = Import(strings.NewReader(typed), ImportOptions{File: "sheet.csv"})
	if err != nil {
		t.Fatalf("import with a typed 1.8s: %v", err)
	}
	if string(got) != string(want) {
		t.Errorf("with a typed 1.8s, imported:\n%s\nwant what the sheet with decimal points gives:\n%s", got, want)
	}

	mixed := strings.Replace(sheet, "0,0001", "0.0001", 1)
	_, err = Import(strings.NewReader(mixed), ImportOptions{File: "sheet.csv"})
	if want := `sheet.csv row 2, "estimated per-request cost": "0.0001" writes its decimal with a point, but row 2, "traffic share", writes "0,6" with a comma: write every decimal in the sheet the same way`; err == nil || err.Error() != want {
		t.Errorf("mixed decimal marks: error %v, want %q", err, want)
	}

	// Decimal points with semicolons, and in a comma-separated sheet: "1.500" tokens are 1500.
	for _, sep := range []string{";", ","} {
		var b strings.Builder
		for _, line := range strings.Split(strings.TrimSpace(baseSheet), "\n") {
			cells := splitCSVLine(line)
			for i, c := range cells {
				if c == "1500" {
					cells[i] = "1.500"
				}
			}
			b.WriteString(strings.Join(cells, sep) + "\n")
		}
		got, err := Import(strings.NewReader(b.String()), ImportOptions{File: "sheet.csv"})
		if err != nil {
			t.Fatalf("separator %q: %v", sep, err)
		}
		if string(got) != string(want) {
			t.Errorf("separator %q, tokens 1.500: imported\n%s\nwant\n%s", sep, got, want)
		}
	}
}

// TestImportResavedWithDecimalCommas: an exported worksheet re-saved by a spreadsheet in a
// locale that writes decimal commas (cells separated by semicolons; every number cell written
// with a decimal comma and points grouping thousands; text cells, like latencies with units
// and lists of models' figures, left as typed) imports to the same spec as the export itself.
func TestImportResavedWithDecimalCommas(t *testing.T) {
	for _, file := range []string{"../examples/quickstart.yaml", "../examples/support-triage.yaml", "testdata/fixture.yaml"} {
		t.Run(filepath.Base(file), func(t *testing.T) {
			sheet := export(t, load(t, file))
			opts := ImportOptions{File: "sheet.csv", Dir: filepath.Dir(file)}
			want, err := Import(bytes.NewReader(sheet), opts)
			if err != nil {
				t.Fatalf("import the export: %v", err)
			}
			resaved, converted := withDecimalCommas(t, sheet)
			if converted == 0 {
				t.Fatalf("no number cell has a decimal to write with a comma:\n%s", resaved)
			}
			got, err := Import(bytes.NewReader(resaved), opts)
			if err != nil {
				t.Fatalf("import the re-saved sheet: %v\n%s", err, resaved)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("the re-saved sheet imported as\n%s\nwant what the export gives:\n%s\nre-saved sheet:\n%s", got, want, resaved)
			}
		})
	}
}

// withDecimalCommas re-saves a comma-separated sheet as a spreadsheet does in a locale that
// writes decimal commas: semicolons between cells, and each cell that is a number written
// with a decimal comma and points grouping thousands ("0.6" → "0,6", "3000" → "3.000");
// other cells as they are. It returns the sheet and how many cells got a decimal comma.
func withDecimalCommas(t *testing.T, sheet []byte) ([]byte, int) {
	t.Helper()
	number := regexp.MustCompile(`^(-?)(\d+)(?:\.(\d+))?$`)
	converted := 0
	recs := readCSV(t, sheet)
	for _, rec := range recs[1:] {
		for i, c := range rec {
			m := number.FindStringSubmatch(c)
			if m == nil {
				continue
			}
			whole := m[2]
			for j := len(whole) - 3; j > 0; j -= 3 {
				whole = whole[:j] + "." + whole[j:]
			}
			rec[i] = m[1] + whole
			if m[3] != "" {
				rec[i] += "," + m[3]
				converted++
			}
		}
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Comma, w.UseCRLF = ';', true
	if err := w.WriteAll(recs); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), converted
}

// TestNumbersInADecimalCommaSheet: in a sheet whose number cells write decimal commas, a
// number cell's points group thousands, and a text cell's numbers are read with either mark,
// each on its own.
func TestNumbersInADecimalCommaSheet(t *testing.T) {
	im := &importer{decimalComma: true, textCommas: true}
	for _, tc := range []struct {
		col, cell, want, why string
	}{
		{colShare, "0,6", "0.6", "a number cell's decimal comma"},
		{colEstCost, "1.234,5", "1234.5", "a number cell's points group thousands"},
		{colTokensIn, "3.000", "3000", "a count's thousands group"},
		{colEstPass, "95%", "95%", "a percentage"},
		{colModelAvailability, "nano: 0.998; strong: 0,995", "nano: 0.998; strong: 0.995", "a text cell as typed: a point is a decimal point, not a thousands group"},
		{colBudget, "1,5s", "1.5s", "a decimal comma in a latency"},
		{colBudget, "1.5s", "1.5s", "a decimal point in a latency"},
		{colEstLatency, "400ms / 1,5s", "400ms / 1.5s", "a decimal comma in a pair of latencies"},
		{colModelPrice, "input 0,4, output 1,6", "input 0.4, output 1.6", "a comma and a space separate prices"},
		{colModelPrice, "input 0.4, output 1.6", "input 0.4, output 1.6", "prices typed with points"},
		{colRoute, "score (tiers 0,3, 0,5)", "score (tiers 0.3, 0.5)", "tiers with decimal commas"},
		{colRoute, "score (tiers 0.3,0.5)", "score (tiers 0.3,0.5)", "a comma between decimals with points is no decimal comma"},
		{colOtherPass, "mini=gpt-4.1-mini: 0,96", "mini=gpt-4.1-mini: 0.96", "a model id's point"},
		{colTokensIn, "1.500/6.000", "1500/6000", "token counts with thousands groups"},
		{colTokensIn, "1,500/6,000", "1500/6000", "token counts grouped with commas"},
		{colTokensIn, "1,5k", "1.5k", "a multiple with a decimal comma"},
		{colVolume, "1.000.000 per month", "1000000 per month", "a volume grouped with points"},
		{colVolume, "4,1M per month", "4.1M per month", "a volume with a decimal comma"},
		{colRetries, "attempts 3, backoff 1,5s", "attempts 3, backoff 1.5s", "a retry policy"},
		{colWhy, "0,5", "0,5", "a column of prose is left alone"},
	} {
		if got := im.number(tc.col, tc.cell); got != tc.want {
			t.Errorf("%s: %q in %q reads as %q, want %q", tc.why, tc.cell, tc.col, got, tc.want)
		}
	}
}
