package worksheet

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/catalog"
	"github.com/clearbar/clearbar/internal/textdist"
	"github.com/clearbar/clearbar/spec"
)

// ImportOptions change how a worksheet is imported. The zero value is usable.
type ImportOptions struct {
	// Name is the spec's name; default "imported".
	Name string
	// Provider is the provider type (see spec.ProviderTypes) of models whose type the
	// worksheet's "model provider" column does not give; default "simulated". Settings a type
	// needs (base_url, api_version, outcomes) are written as commented placeholders.
	Provider string
	// File names the worksheet in error messages; default the reader's Name() (as an *os.File
	// has), else "worksheet".
	File string
	// Catalog is the price catalogue model ids are checked against; nil means
	// catalog.Default(), the one spec.Load uses by default.
	Catalog *catalog.Catalog
	// Dir is the directory the imported spec will be saved in; "" means the current
	// directory. A json_schema file named in a validation rule is kept only if it is a JSON
	// object there (spec paths are relative to the spec file), else replaced by a commented
	// placeholder, so that the spec loads wherever it is saved.
	Dir string
	// Warn, when set, is called with each placeholder the spec had to invent for what the
	// worksheet leaves out and the estimate depends on (pass rates, latency, validators), each
	// pass rate taken from another category, and the pass rates the user must write in before
	// the spec loads: the spec's header comment lists them too, but a placeholder pass rate
	// equal to the quality threshold makes its category clear by construction, and a missing
	// one stops the spec from loading, which should not go unnoticed.
	Warn func(msg string)
}

// Error is one problem in a worksheet: where it is and what to write instead.
type Error struct {
	File string
	// Row is 1-based, counting the header as row 1, as a spreadsheet that opens the CSV
	// numbers it (a blank line is a row; a cell with line breaks stays in one); 0 when the
	// problem is not in one row.
	Row int
	// Column is the column's header, or "" when the problem is not in one column.
	Column string
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	switch {
	case e.Row > 0 && e.Column != "":
		fmt.Fprintf(&b, " row %d, %q", e.Row, e.Column)
	case e.Row > 0:
		fmt.Fprintf(&b, " row %d", e.Row)
	case e.Column != "":
		fmt.Fprintf(&b, " column %q", e.Column)
	}
	return b.String() + ": " + e.Msg
}

// Errors is every problem found in a worksheet, in row order. Import returns it when the
// worksheet cannot be imported.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Import reads a worksheet (a header row naming at least the twelve seed columns, in any
// order, case-insensitive; extra known columns optional; unknown columns are an error naming
// them; cells separated by commas, or by semicolons or tabs as spreadsheets export them in
// some locales; a byte order mark ignored) and returns a spec as YAML text that spec.Parse
// accepts, with a comment header saying it was imported and what to check.
//
// What the worksheet does not say is filled with commented placeholders so that the spec
// loads and estimates, except pass rates nobody gave. A model without a pass rate in its row
// takes, if it is the row's primary model, the row's estimated pass rate; else its pass rate
// in another row: one a row states for it (as its primary model first), else the estimated
// pass rate of a static row it is the primary model of (a cascade's includes escalations),
// commented with the row it came from. Failing that, a primary model gets the row's quality
// threshold, and a fallback or escalation model gets nothing: the row's pass rate is not
// that model's, so the spec is written without it, with a comment where it goes, and does
// not load until someone writes one in (the loader names the line); the header and
// opts.Warn list them. A model's latency comes from the "model latency" column, else from
// the estimated latency of the first static row it is the primary model of, else of the
// first other row it is the first model of, else Clearbar's default assumption; an
// estimated latency of one value is read as the median, with a p95 of assumedTailRatio
// times it, and the comment says so. Prices are the catalogue's, or those of the "model
// price" column, which a model the catalogue does not list needs. A validation rule
// of "none", "-", "n/a" or nothing means no validators. Otherwise it is rebuilt into
// validators where its text can be read back exactly (see the package documentation; a
// citations validator's custom pattern is not in its text and comes back as the default) or
// is a common wording of a validator's settings, like "max length 2000" or "json schema"
// (see looseRules), and the rest is kept as a comment, with a {json_schema: request}
// placeholder, and a warning, when the route needs validation to escalate (a cascade, or
// retry_once); a json_schema file is kept only if it is found relative to opts.Dir. Without a
// "route" column, a row with both a validation rule and a fallback model is read as a cascade,
// any other as a static route whose fallback model is tried on provider errors. The estimated
// columns are read only to make placeholders; in a sheet that states the assumptions they
// come from, opts.Warn is told of each estimated cell the imported spec's estimate does not
// give (see checkEstimates), since an edit there changes nothing.
//
// Every problem in the worksheet is reported, as [Errors], each naming the row and column and
// what to write; a bad opts.Provider is a plain error.
func Import(r io.Reader, opts ImportOptions) ([]byte, error) {
	im := &importer{
		file:       opts.File,
		name:       cmpOr(opts.Name, "imported"),
		ptype:      cmpOr(opts.Provider, "simulated"),
		cat:        opts.Catalog,
		dir:        opts.Dir,
		warn:       opts.Warn,
		models:     map[string]*model{},
		categories: map[string]int{},
	}
	if im.file == "" {
		if n, ok := r.(interface{ Name() string }); ok && n.Name() != "" {
			im.file = n.Name()
		} else {
			im.file = "worksheet"
		}
	}
	if im.cat == nil {
		im.cat = catalog.Default()
	}
	if err := im.checkProvider(); err != nil {
		return nil, err
	}
	records, err := im.read(r)
	if err != nil {
		return nil, err
	}
	if !im.header(records[0].cells) {
		return nil, im.errs
	}
	if im.sep != ',' && !im.decimalMark(records[1:]) {
		return nil, im.errs
	}
	for _, rec := range records[1:] {
		im.parseRow(rec.row, rec.cells)
	}
	if len(im.rows) == 0 && len(im.errs) == 0 {
		im.errorf(0, "", "the worksheet has no categories: add one row per task category below the header")
	}
	im.checkCatalog()
	if len(im.errs) == 0 {
		im.reconcile()
		im.settlePassRates()
	}
	if len(im.errs) > 0 {
		slices.SortStableFunc(im.errs, func(a, b *Error) int { return a.Row - b.Row })
		return nil, im.errs
	}
	y := im.yaml()
	im.checkEstimates(y)
	return y, nil
}

func cmpOr(a, b string) string {
	if strings.TrimSpace(a) != "" {
		return strings.TrimSpace(a)
	}
	return b
}

// importer holds an import in progress.
type importer struct {
	file, name, ptype string
	dir               string
	cat               *catalog.Catalog
	errs              Errors
	warn              func(string)

	col        map[string]int // column → index in a record
	unnamed    []int          // indexes of columns with an empty header
	width      int
	present    map[string]bool // columns the header names
	specReview string
	specRetry  string  // the "provider retries" every row shares, if any
	volume     *volume // the spec's volume, from the "volume" column
	volumeRow  int
	rows       []*catRow
	categories map[string]int // category name → row
	models     map[string]*model
	modelOrder []*model
	// sep separates the cells; decimalComma is set when a sheet separated by semicolons or
	// tabs writes the decimals of its number cells with commas, and textCommas when it writes
	// none with a point, so that a comma between digits in a text cell is a decimal comma
	// (see decimalMark).
	sep                      rune
	decimalComma, textCommas bool
}

// cellRef is the cell a value was written in.
type cellRef struct {
	row int
	col string
}

// model is a model named somewhere in the worksheet.
type model struct {
	name  string
	id    string
	idAt  cellRef
	first cellRef

	// Latency: set once the first row describing it is read; nil latency means the spec's
	// default. latNote explains a placeholder.
	latSet      bool
	latency     *spec.Latency
	latNote     string
	tailAssumed bool // the latency's p95 is assumed from a median (assumedTailRatio)

	avail   *float64
	availAt cellRef

	ptype   string // provider type, "" for the import's default
	ptypeAt cellRef

	price    *spec.PriceOverride // the "model price" column's; nil: the catalogue's prices
	priceAt  cellRef
	priceBad bool // a "model price" cell gives it prices that do not read
}

// passRate is one assumed pass rate of a category; note explains a placeholder or a rate
// borrowed from another category (from).
type passRate struct {
	model string
	p     float64
	kind  passKind
	from  string
	note  string
	estOf *catRow // the row whose estimated pass rate a borrowed rate is, if it is one
}

// passKind says where an imported pass rate comes from.
type passKind int

const (
	passStated      passKind = iota // the row's pass-rate columns
	passPlaceholder                 // the row's estimated pass rate or quality threshold
	passBorrowed                    // another row
)

// catRow is one category row, parsed.
type catRow struct {
	row                      int
	name                     string
	share, bar               float64
	primary                  string
	kind                     string // static or cascade
	routeNote                string
	retryOnce, failExhausted bool
	fallback                 []string // later cascade steps, or a static route's fallbacks
	failover                 []string // a cascade's category fallbacks
	in, out, reasoning       [2]float64
	cacheHit                 float64
	retry                    string // normalised "provider retries" cell, "" for the default
	attempts                 int
	backoff                  time.Duration
	ownRetry                 bool
	rule                     string
	// given holds the pass rates the row's pass-rate columns state, by model, in givenOrder,
	// and the column of each; pass, filled by settlePassRates, every pass rate of the
	// category, and missing the models of the row without one.
	given          map[string]float64
	givenCol       map[string]string
	givenOrder     []string
	pass           []passRate
	missing        []string
	estPass        *float64
	estLatency     *[2]time.Duration
	estTailAssumed bool     // the cell gave one value, and estLatency's p95 is assumed
	estCost        *float64 // dollars per request
	// estCells are the estimated columns' cells as read, by column; estRead the columns the
	// import read to make placeholders (see checkEstimates).
	estCells           map[string]string
	estRead            map[string]bool
	review             string
	detect, falseAlarm *float64
	budget             time.Duration
	why                string
	impact             string // failure_impact as YAML flow mapping content, "" for none
	volume             *volume
	// latency is this row's "model latency" cell, by model (nil: the default), in order.
	latency    map[string]*spec.Latency
	latOrder   []string
	overrides  []string // models whose latency this category overrides
	ownReview  bool
	validators rebuiltRule
	score      *scoreCell // a score route's settings from the route cell; nil when it gives none
}

// volume is a "volume" cell: requests per month, or per day.
type volume struct {
	n      int64
	perDay bool
}

func (v volume) String() string {
	if v.perDay {
		return strconv.FormatInt(v.n, 10) + " " + volumePerDay
	}
	return strconv.FormatInt(v.n, 10) + " " + volumePerMonth
}

// scoreCell is what a route cell says of a score route, after "score" in parentheses (see
// scoreSettings): every field is optional.
type scoreCell struct {
	router           string
	threshold, wtp   *float64
	mixWTP, mixShare *float64
	tiers            []float64
	models           []string // the models it starts on, when they are not the row's steps
	shares, pass     []namedValue
}

type namedValue struct {
	name string
	v    float64
}

func (im *importer) errorf(row int, col, format string, args ...any) {
	im.errs = append(im.errs, &Error{File: im.file, Row: row, Column: col, Msg: fmt.Sprintf(format, args...)})
}

func (im *importer) checkProvider() error {
	if _, ok := providerType(im.ptype); !ok {
		return fmt.Errorf("worksheet: unknown provider type %q: use one of %s", im.ptype, strings.Join(providerTypeNames(), ", "))
	}
	return nil
}

// sheetRecord is a record of the worksheet and its row as a spreadsheet numbers it: blank
// lines, which a CSV reader skips, are rows too, and a cell with line breaks stays in one.
type sheetRecord struct {
	row   int
	cells []string
}

// read reads every record, reporting malformed CSV with its row. The cells are separated by
// commas, or, when the header row names the columns only so, by semicolons (a spreadsheet's
// export in a locale that writes decimal commas) or tabs; a leading byte order mark is
// dropped.
func (im *importer) read(r io.Reader) ([]sheetRecord, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	// A spreadsheet's "CSV UTF-8" starts with a byte order mark, which would make a quoted
	// first header cell malformed CSV.
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	im.sep = separator(data)
	cr.Comma = im.sep
	var records []sheetRecord
	row, end := 0, 0 // end is the last line of the record before
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, Errors{{File: im.file, Row: row + 1 + max(pe.StartLine-end-1, 0), Msg: fmt.Sprintf("not valid CSV (line %d, column %d): %v; quote a cell that contains commas, quotes or line breaks, and double the quotes inside it", pe.Line, pe.Column, pe.Err)}}
			}
			return nil, err
		}
		start, _ := cr.FieldPos(0)
		last, _ := cr.FieldPos(len(rec) - 1)
		row += 1 + max(start-end-1, 0)
		end = last + strings.Count(rec[len(rec)-1], "\n")
		records = append(records, sheetRecord{row: row, cells: rec})
	}
	if len(records) == 0 {
		return nil, Errors{{File: im.file, Msg: "the worksheet is empty: its first row names the columns, " + quoteList(Columns[:seedColumns])}}
	}
	return records, nil
}

// separator returns the character that separates the cells of data: a comma, unless the first
// line names more of the worksheet's columns when split at semicolons or tabs.
func separator(data []byte) rune {
	line, _, _ := strings.Cut(string(data), "\n")
	best, known := ',', 0
	for _, sep := range []rune{',', ';', '\t'} {
		n := 0
		for h := range strings.SplitSeq(line, string(sep)) {
			if slices.Contains(Columns, normHeader(strings.Trim(strings.TrimSpace(h), `"`))) {
				n++
			}
		}
		if n > known {
			best, known = sep, n
		}
	}
	return best
}

func normHeader(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(strings.TrimPrefix(s, "\ufeff")), " "))
}

// header maps the header row to columns; it reports false when the sheet cannot be read.
func (im *importer) header(rec []string) bool {
	im.col = map[string]int{}
	im.present = map[string]bool{}
	im.width = len(rec)
	for i, raw := range rec {
		h := normHeader(raw)
		if h == "" {
			im.unnamed = append(im.unnamed, i)
			continue
		}
		if !slices.Contains(Columns, h) {
			im.errorf(1, strings.TrimSpace(raw), "unknown column%s; the known columns are %s", suggestColumn(h), quoteList(Columns))
			continue
		}
		if j, dup := im.col[h]; dup {
			im.errorf(1, h, "the column appears twice (columns %d and %d): keep one", j+1, i+1)
			continue
		}
		im.col[h] = i
		im.present[h] = true
	}
	var missing []string
	for _, c := range Columns[:seedColumns] {
		if _, ok := im.col[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		im.errorf(1, "", "missing column%s %s: a worksheet has the twelve routing-playbook columns (%s); the other columns are optional", plural(len(missing)), quoteList(missing), quoteList(Columns[:seedColumns]))
	}
	return len(im.errs) == 0
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

func suggestColumn(h string) string {
	if best, ok := textdist.Closest(h, Columns); ok {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

// parseRow reads one data row.
func (im *importer) parseRow(n int, rec []string) {
	empty := true
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			empty = false
			break
		}
	}
	if empty {
		return
	}
	for i := im.width; i < len(rec); i++ {
		if strings.TrimSpace(rec[i]) != "" {
			im.errorf(n, "", "the row has more cells than the header (cell %d holds %q): name the column in the header or remove the cell", i+1, rec[i])
			return
		}
	}
	for _, i := range im.unnamed {
		if i < len(rec) && strings.TrimSpace(rec[i]) != "" {
			im.errorf(n, "", "column %d has no header but holds %q: name the column or remove it", i+1, rec[i])
			return
		}
	}
	rec = slices.Clone(rec)
	for i, v := range rec {
		rec[i] = unescapeCell(v) // Export guards cells against formula injection
	}
	cell := func(col string) string {
		i, ok := im.col[col]
		if !ok || i >= len(rec) {
			return ""
		}
		return im.number(col, strings.TrimSpace(rec[i]))
	}
	errf := func(col, format string, args ...any) { im.errorf(n, col, format, args...) }
	before := len(im.errs)
	c := &catRow{row: n, latency: map[string]*spec.Latency{}, estCells: map[string]string{}, estRead: map[string]bool{}}

	c.name = cell(colCategory)
	switch {
	case c.name == "":
		errf(colCategory, "empty: write the category's name, like intent")
	case !spec.ValidName(c.name):
		errf(colCategory, "%q is not a category name: use letters, digits, '.', '_' and '-', starting with a letter or digit, like refund-dispute", c.name)
	default:
		if first, dup := im.categories[c.name]; dup {
			errf(colCategory, "category %q is already in row %d: give each category one row", c.name, first)
		} else {
			im.categories[c.name] = n
		}
	}
	c.share = im.fraction(n, colShare, cell(colShare), true, "share", "0.45 or 45%")
	c.bar = im.fraction(n, colQuality, cell(colQuality), true, "pass rate", "0.95 or 95%")

	// Models and route.
	c.primary = im.modelCell(n, colPrimary, cell(colPrimary))
	if cell(colPrimary) == "" {
		errf(colPrimary, "empty: write the model that answers first, as name or name=model-id, like small=gpt-4o-mini")
	}
	for _, t := range splitModels(cell(colFallback)) {
		if m := im.modelCell(n, colFallback, t); m != "" {
			c.fallback = append(c.fallback, m)
		}
	}
	for _, t := range splitModels(cell(colFailover)) {
		if m := im.modelCell(n, colFailover, t); m != "" {
			c.failover = append(c.failover, m)
		}
	}
	if c.rule = cell(colValidation); noRule(c.rule) {
		c.rule = ""
	}
	im.parseRoute(c, cell(colRoute), im.present[colRoute])
	switch c.kind {
	case "static":
		if len(c.failover) > 0 {
			errf(colFailover, "cascade failover applies to cascade routes; a static route lists its fallbacks under %q", colFallback)
		}
		if seen := dupName(c.fallback); seen != "" {
			errf(colFallback, "%s is listed twice: each fallback is tried once", seen)
		}
		if slices.Contains(c.fallback, c.primary) && c.primary != "" {
			errf(colFallback, "%s is the primary model: a model cannot fall back to itself", c.primary)
		}
	case "cascade", "score":
		if seen := dupName(c.failover); seen != "" {
			errf(colFailover, "%s is listed twice: each fallback is tried once", seen)
		}
	}
	if c.retryOnce && c.rule == "" {
		errf(colRoute, "retry_once retries answers that fail validation, but the row has no validation rule: add one or remove retry_once")
	}

	// Tokens.
	var ok bool
	if c.in, ok = parseTokens(cell(colTokensIn)); !ok {
		errf(colTokensIn, "%q is not a token count: write the average input tokens per request, like 400, or p50/p95, like 1500/6000", cell(colTokensIn))
	}
	if c.out, ok = parseTokens(cell(colTokensOut)); !ok {
		errf(colTokensOut, "%q is not a token count: write the average output tokens per request, like 250, or p50/p95, like 200/900", cell(colTokensOut))
	}
	if s := cell(colReasoning); s != "" {
		if c.reasoning, ok = parseTokens(s); !ok {
			errf(colReasoning, "%q is not a token count: write the average reasoning tokens per request, like 800, or p50/p95, like 500/3000, or leave it empty", s)
		}
	}
	if s := cell(colCacheHit); s != "" {
		c.cacheHit = im.fraction(n, colCacheHit, s, false, "fraction of input tokens", "0.3 or 30%")
	}
	if s := cell(colRetries); s != "" {
		if a, b, ok := parseRetry(s); ok {
			c.attempts, c.backoff, c.retry = a, b, formatRetry(a, b)
		} else {
			errf(colRetries, "%q is not a retry policy: write attempts N, backoff D, like attempts 3, backoff 1s (0 to 10 attempts), or leave it empty for one retry after 250ms", s)
		}
	}

	// Estimated columns: read for placeholders, checked so a typo is not silently ignored.
	for _, col := range []string{colEstPass, colEstLatency, colEstCost} {
		c.estCells[col] = cell(col)
	}
	if s := cell(colEstPass); s != "" {
		before := len(im.errs)
		p := im.fraction(n, colEstPass, s, false, "pass rate", "0.9512 or 95.12%")
		if len(im.errs) == before {
			c.estPass = &p
		}
	}
	if s := cell(colEstLatency); s != "" {
		if l, ok := parseLatencyPair(s); ok {
			c.estLatency = &l
		} else if d, err := parseDuration(s); err == nil && d > 0 && !strings.Contains(s, "/") {
			// One value: the median; the tail is assumed, and the spec says so.
			c.estLatency = &[2]time.Duration{d, time.Duration(float64(d) * assumedTailRatio)}
			c.estTailAssumed = true
		} else {
			errf(colEstLatency, "%q is not a latency: write p50 / p95, like 820ms / 2.4s, or a median alone, like 820ms (its p95 is then assumed), or leave it empty", s)
		}
	}
	if s := cell(colEstCost); s != "" {
		if m, err := clearbar.ParseMoney(s); err != nil || m < 0 {
			errf(colEstCost, "%q is not an amount: write dollars per request, like 0.00129, or leave it empty", s)
		} else {
			usd := m.USD()
			c.estCost = &usd
		}
	}
	if s := cell(colReview); s != "" {
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			errf(colReview, "%q is not a date: write YYYY-MM-DD, like 2026-11-01", s)
		} else {
			c.review = s
		}
	}

	// Assumptions.
	if s := cell(colDetect); s != "" {
		p := im.fraction(n, colDetect, s, false, "probability", "0.8 or 80%")
		c.detect = &p
	}
	if s := cell(colFalseAlarm); s != "" {
		p := im.fraction(n, colFalseAlarm, s, false, "probability", "0.02 or 2%")
		c.falseAlarm = &p
	}
	if (c.detect == nil) != (c.falseAlarm == nil) {
		empty, set := colDetect, colFalseAlarm
		if c.detect != nil {
			empty, set = colFalseAlarm, colDetect
		}
		errf(empty, "empty while %q is set: give the validator's detect and false alarm rates together, or neither", set)
	}
	if s := cell(colBudget); s != "" {
		d, err := parseDuration(s)
		if err != nil {
			errf(colBudget, "%v", err)
		}
		c.budget = d
	}
	if i, ok := im.col[colWhy]; ok && i < len(rec) && strings.TrimSpace(rec[i]) != "" {
		c.why = rec[i] // as written: a spec's why may end in a line break
	}
	if s := cell(colFailureImpact); s != "" {
		if c.impact, ok = parseImpact(s); !ok {
			errf(colFailureImpact, "%q is not a failure impact: write what a bad answer costs in dollars, like bad answer 0.5, and optionally what a failed request costs, like bad answer 25, failed request 5; or leave it empty", s)
		}
	}
	if s := cell(colVolume); s != "" {
		if v, ok := parseVolume(s); ok {
			c.volume = &v
		} else {
			errf(colVolume, "%q is not a volume: write the spec's requests per month or per day, like 3000000 per month or 40000 per day, or leave it empty for a million a month", s)
		}
	}
	im.parsePassRates(c, cell(colPrimaryPass), cell(colFallbackPass), cell(colOtherPass))
	im.parseModelLatency(c, cell(colModelLatency))
	im.parseAvailability(c, cell(colModelAvailability))
	im.parseProviders(c, cell(colModelProvider))
	im.parsePrices(c, cell(colModelPrice))

	if len(im.errs) == before {
		im.rows = append(im.rows, c)
	}
}

func dupName(names []string) string {
	for i, n := range names {
		if slices.Contains(names[:i], n) {
			return n
		}
	}
	return ""
}

// noRule reports whether a validation rule cell says there is none: empty, "none", "-",
// "n/a" and the like.
func noRule(rule string) bool {
	switch strings.ToLower(strings.TrimSuffix(strings.TrimSpace(rule), ".")) {
	case "", "none", "-", "–", "—", "n/a", "na", "no", "no validation":
		return true
	}
	return false
}

// parseImpact reads a "failure impact" cell, "bad answer 25, failed request 5" (a plain
// amount is the bad answer's), into a failure_impact mapping's YAML content.
func parseImpact(s string) (string, bool) {
	var bad, failed string
	for part := range strings.SplitSeq(s, ",") {
		part = strings.ToLower(strings.Join(strings.Fields(strings.ReplaceAll(part, "_", " ")), " "))
		if part == "" {
			continue // a trailing comma
		}
		key, amount := impactBadAnswer, part
		for _, k := range []string{impactBadAnswer, impactFailedRequest} {
			if a, ok := strings.CutPrefix(part, k); ok {
				key, amount = k, strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(a), ":"))
			}
		}
		m, err := clearbar.ParseMoney(amount)
		if err != nil || m < 0 {
			return "", false
		}
		dst := &bad
		if key == impactFailedRequest {
			dst = &failed
		}
		if *dst != "" {
			return "", false
		}
		*dst = m.Decimal()
	}
	out := "bad_answer: " + cmpOr(bad, "0")
	if failed != "" {
		out += ", failed_request: " + failed
	}
	return out, true
}

// parseVolume reads a "volume" cell: a request count (as parseTokens reads numbers) per
// month or per day, like "3000000 per month", "3M/month" or "40000 a day"; a bare count is
// per month.
func parseVolume(s string) (volume, bool) {
	t := strings.ToLower(strings.TrimSpace(s))
	var v volume
	for _, unit := range []struct {
		suffixes []string
		perDay   bool
	}{
		{[]string{volumePerMonth, "a month", "/month", "/mo", "monthly"}, false},
		{[]string{volumePerDay, "a day", "/day", "daily"}, true},
	} {
		for _, suf := range unit.suffixes {
			if rest, ok := strings.CutSuffix(t, suf); ok {
				t, v.perDay = strings.TrimSpace(rest), unit.perDay
				break
			}
		}
	}
	n, ok := parseCount(t)
	if !ok || n != math.Trunc(n) || n > math.MaxInt64/30 {
		return volume{}, false
	}
	v.n = int64(n)
	return v, true
}

// fraction parses a probability written as 0.45 or 45%.
func (im *importer) fraction(row int, col, s string, required bool, what, example string) float64 {
	if s == "" {
		if required {
			im.errorf(row, col, "empty: write a %s, like %s", what, example)
		}
		return 0
	}
	f, err := parseProb(s)
	if err != nil {
		article := "a"
		if strings.ContainsAny(what[:1], "aeiou") {
			article = "an"
		}
		im.errorf(row, col, "%q is not %s %s: write %s", s, article, what, example)
		return 0
	}
	return f
}

// parseProb reads a probability as spec.ParseProb does, and a percentage as the decimal it
// stands for: "96.7%" is 0.967, not 96.7/100 = 0.9670000000000001, so that the spec says
// what the worksheet said.
func parseProb(s string) (float64, error) {
	p, err := spec.ParseProb(s)
	if err != nil {
		return 0, err
	}
	if t, ok := strings.CutSuffix(strings.TrimSpace(s), "%"); ok {
		if exact, err := strconv.ParseFloat(strings.TrimSpace(t)+"e-2", 64); err == nil {
			return exact, nil
		}
	}
	return p, nil
}

// modelCell reads "name" or "name=model-id" and records the model; it returns the name, or ""
// after reporting a problem.
func (im *importer) modelCell(row int, col, text string) string {
	text = strings.TrimSpace(text)
	if text == "" {
		return ""
	}
	name, id, hasID := strings.Cut(text, "=")
	name, id = strings.TrimSpace(name), strings.TrimSpace(id)
	if !spec.ValidName(name) {
		im.errorf(row, col, "%q is not a model name: use letters, digits, '.', '_' and '-', or write name=model-id, like small=gpt-4o-mini", text)
		return ""
	}
	if hasID && (id == "" || strings.ContainsAny(id, " \t,;")) {
		im.errorf(row, col, "%q has no usable model id after '=': write name=model-id, like small=gpt-4o-mini", text)
		return ""
	}
	m, ok := im.models[name]
	if !ok {
		m = &model{name: name, first: cellRef{row, col}}
		im.models[name] = m
		im.modelOrder = append(im.modelOrder, m)
	}
	if hasID {
		switch {
		case m.id == "":
			m.id, m.idAt = id, cellRef{row, col}
		case m.id != id:
			im.errorf(row, col, "%q gives %s the id %s, but row %d (%q) gives it %s: give a model one id, or use two names", text, name, id, m.idAt.row, m.idAt.col, m.id)
			return ""
		}
	}
	return name
}

// splitModels splits a list of model cells written with "→", "->" or ",".
func splitModels(s string) []string {
	s = strings.NewReplacer("→", ",", "->", ",").Replace(s)
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// parseRoute reads the route cell, or infers the route when the sheet has no route column.
func (im *importer) parseRoute(c *catRow, s string, hasColumn bool) {
	settings := ""
	if i := strings.Index(s, "("); i >= 0 {
		j := strings.LastIndex(s, ")")
		if j < i {
			im.errorf(c.row, colRoute, "%q opens a parenthesis it does not close: write score (tiers 0.3; shares a 0.6, b 0.4)", s)
			return
		}
		settings, s = s[i+1:j], s[:i]+s[j+1:]
	}
	words := strings.Fields(strings.ToLower(strings.ReplaceAll(s, ",", " ")))
	if len(words) > 0 && words[0] == routeSplit {
		// A split route's row holds its first arm (Export): read it as that arm's route, the
		// loss said in a warning and in the imported spec.
		words = words[1:]
		defer func() {
			if c.kind == "" {
				return
			}
			note := fmt.Sprintf("a split route: the worksheet row holds only its first arm, imported as the category's %s route; the other arms and the weights are lost: put the split back by hand", c.kind)
			im.warnf("row %d, %q (category %s): %s (the row's estimated columns are the whole split's)", c.row, colRoute, c.name, note)
			c.routeNote = strings.TrimPrefix(c.routeNote+"; "+note, "; ")
		}()
	}
	if len(words) == 0 {
		if c.rule != "" && len(c.fallback) > 0 {
			c.kind = "cascade"
			c.routeNote = "route inferred as a cascade: the row has a validation rule and a fallback model"
		} else {
			c.kind = "static"
			if len(c.fallback) > 0 {
				c.routeNote = "route inferred as static, with the fallback model tried on provider errors: the row has no validation rule to escalate on"
			}
		}
		if hasColumn && c.routeNote != "" {
			c.routeNote = strings.Replace(c.routeNote, "route inferred", "route cell empty; inferred", 1)
		}
		return
	}
	bad := func() {
		im.errorf(c.row, colRoute, "%q is not a route: write static, cascade, score or cascade retry_once (optionally followed by %s)", s, routeFailExhausted)
	}
	switch words[0] {
	case "static", "cascade":
		c.kind = words[0]
	case "score":
		c.kind = words[0]
		if settings != "" {
			c.score = im.parseScoreSettings(c.row, settings)
		} else {
			c.routeNote = "a score route: the worksheet keeps its models, not its router; imported with the built-in difficulty score at evenly spaced tiers: set router: or tiers: here"
		}
	case routeSplit:
		im.errorf(c.row, colRoute, "%q: write split once, followed by the route of the split's first arm, like split static or split cascade retry_once", s)
		return
	default:
		bad()
		return
	}
	if settings != "" && c.kind != "score" {
		im.errorf(c.row, colRoute, "%q: settings in parentheses are a score route's only", s)
	}
	for _, w := range words[1:] {
		switch w {
		case routeRetryOnce:
			c.retryOnce = true
		case routeFailExhausted:
			c.failExhausted = true
		default:
			bad()
			return
		}
	}
}

// parseScoreSettings reads a score route's settings: segments separated by semicolons, each
// a keyword and its value, as scoreSettings writes them.
func (im *importer) parseScoreSettings(row int, settings string) *scoreCell {
	sc := &scoreCell{}
	num := func(seg, v string) (float64, bool) {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			im.errorf(row, colRoute, "score setting %q: %q is not a number", seg, strings.TrimSpace(v))
			return 0, false
		}
		return f, true
	}
	named := func(seg, v string) []namedValue {
		var out []namedValue
		for _, e := range strings.Split(v, ",") {
			f := strings.Fields(e)
			if len(f) != 2 {
				im.errorf(row, colRoute, "score setting %q: write model and value pairs, like nano 0.65, sonnet 0.35", seg)
				return nil
			}
			if x, ok := num(seg, f[1]); ok {
				out = append(out, namedValue{f[0], x})
			}
		}
		return out
	}
	for _, seg := range strings.Split(settings, ";") {
		seg = strings.TrimSpace(seg)
		key, val := seg, ""
		for _, k := range []string{"router", "threshold", "willingness to pay", "mix", "tiers", "models", "shares", "start pass rates"} {
			if strings.HasPrefix(seg, k+" ") {
				key, val = k, strings.TrimSpace(seg[len(k):])
				break
			}
		}
		switch key {
		case "":
		case "router":
			sc.router = val
		case "threshold":
			if x, ok := num(seg, val); ok {
				sc.threshold = &x
			}
		case "willingness to pay":
			if x, ok := num(seg, val); ok {
				sc.wtp = &x
			}
		case "mix":
			v, share, ok := strings.Cut(val, " for ")
			if !ok {
				im.errorf(row, colRoute, "score setting %q: write mix WILLINGNESS for SHARE, like mix 0.08 for 0.2", seg)
				continue
			}
			x, ok1 := num(seg, v)
			y, ok2 := num(seg, share)
			if ok1 && ok2 {
				sc.mixWTP, sc.mixShare = &x, &y
			}
		case "tiers":
			for _, t := range strings.Split(val, ",") {
				if x, ok := num(seg, t); ok {
					sc.tiers = append(sc.tiers, x)
				}
			}
		case "models":
			for _, m := range strings.Split(val, ",") {
				if m = strings.TrimSpace(m); m != "" {
					sc.models = append(sc.models, m)
				}
			}
		case "shares":
			sc.shares = named(seg, val)
		case "start pass rates":
			sc.pass = named(seg, val)
		default:
			im.errorf(row, colRoute, "score setting %q: write router, threshold, willingness to pay, mix, tiers, models, shares or start pass rates", seg)
		}
	}
	return sc
}

// parseTokens reads "400", "1.5k", "1,500" or "1500/6000" (p50/p95).
func parseTokens(s string) ([2]float64, bool) {
	parts := strings.Split(s, "/")
	if len(parts) > 2 {
		return [2]float64{}, false
	}
	var v [2]float64
	for i, p := range parts {
		f, ok := parseCount(p)
		if !ok {
			return [2]float64{}, false
		}
		v[i] = f
	}
	if len(parts) == 1 {
		v[1] = v[0]
	}
	return v, v[1] >= v[0]
}

// parseCount reads a positive count: "400", "1.5k", "1,500" or "3M" ("m" too).
func parseCount(s string) (float64, bool) {
	t := strings.NewReplacer("_", "", ",", "", " ", "").Replace(s)
	// A multiple is read as the decimal it stands for: "4.1M" is 4100000, not 4.1 × 10⁶ =
	// 4099999.9999999995.
	exp := ""
	switch {
	case strings.HasSuffix(t, "k"), strings.HasSuffix(t, "K"):
		t, exp = t[:len(t)-1], "e3"
	case strings.HasSuffix(t, "M"), strings.HasSuffix(t, "m"):
		t, exp = t[:len(t)-1], "e6"
	}
	if strings.ContainsAny(t, "eEpPxX") && exp != "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(t+exp, 64)
	if err != nil || f <= 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// assumedTailRatio is the p95 of an estimated latency given as one value, as a multiple of
// that value, read as the median: the ratio of Clearbar's default latency assumption
// (spec.DefaultLatency, 600ms and 1.8s to the first token), so 3.
var assumedTailRatio = float64(spec.DefaultLatency.TTFT.P95) / float64(spec.DefaultLatency.TTFT.P50)

// parseLatencyPair reads an estimated latency, "820ms / 2.4s".
func parseLatencyPair(s string) ([2]time.Duration, bool) {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return [2]time.Duration{}, false
	}
	p50, err1 := parseDuration(a)
	p95, err2 := parseDuration(b)
	if err1 != nil || err2 != nil || p95 < p50 {
		return [2]time.Duration{}, false
	}
	return [2]time.Duration{p50, p95}, true
}

// unitSpaceRE matches the space a spreadsheet user writes between a number and its unit.
var unitSpaceRE = regexp.MustCompile(`(\d)\s+([a-zµ])`)

// parseDuration reads a duration as spec.ParseDuration does, with or without a space before
// its unit: "1.5 s" is 1.5s.
func parseDuration(s string) (time.Duration, error) {
	return spec.ParseDuration(unitSpaceRE.ReplaceAllString(strings.TrimSpace(s), "$1$2"))
}

// entries splits "a: x; b: y" into name and value pairs; lastColon splits each entry at its
// last colon (for model cells whose id may contain colons).
func entries(s string, lastColon bool) (names, values []string, bad string) {
	for _, e := range strings.Split(s, ";") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		i := strings.Index(e, ":")
		if lastColon {
			i = strings.LastIndex(e, ":")
		}
		if i <= 0 {
			return nil, nil, e
		}
		names = append(names, strings.TrimSpace(e[:i]))
		values = append(values, strings.TrimSpace(e[i+1:]))
	}
	return names, values, ""
}

// parsePassRates gathers the pass rates the row's columns state: the primary's, the first
// fallback's and the other column's. settlePassRates fills in the rest once every row is read.
func (im *importer) parsePassRates(c *catRow, primary, fallback, other string) {
	c.given, c.givenCol = map[string]float64{}, map[string]string{}
	set := func(name string, p float64, col string) {
		if old, ok := c.given[name]; ok {
			if old != p {
				im.errorf(c.row, col, "gives %s the pass rate %s, but another column of the row gives it %s: keep one", name, formatFloat(p), formatFloat(old))
			}
			return
		}
		c.given[name], c.givenCol[name] = p, col
		c.givenOrder = append(c.givenOrder, name)
	}
	if primary != "" && c.primary != "" {
		set(c.primary, im.fraction(c.row, colPrimaryPass, primary, false, "pass rate", "0.93 or 93%"), colPrimaryPass)
	}
	if fallback != "" {
		if len(c.fallback) == 0 {
			im.errorf(c.row, colFallbackPass, "set, but the row has no fallback model: name the fallback model or clear this cell")
		} else {
			set(c.fallback[0], im.fraction(c.row, colFallbackPass, fallback, false, "pass rate", "0.97 or 97%"), colFallbackPass)
		}
	}
	names, values, bad := entries(other, true)
	if bad != "" {
		im.errorf(c.row, colOtherPass, "%q is not a model and pass rate: write name: rate, separated by semicolons, like mini: 0.96; nano: 0.8", bad)
	}
	for i, text := range names {
		name := im.modelCell(c.row, colOtherPass, text)
		if name == "" {
			continue
		}
		p, err := parseProb(values[i])
		if err != nil {
			im.errorf(c.row, colOtherPass, "%s: %q is not a pass rate: write 0.96 or 96%%", name, values[i])
			continue
		}
		set(name, p, colOtherPass)
	}
}

// settlePassRates gives each row's models their pass rates in the category: the one the row
// states; for the primary model, else the row's estimated pass rate; else the model's pass
// rate in another row (borrowedPassRate), commented with where it came from; else, for the
// primary model, the row's quality threshold, commented as a placeholder. A fallback or
// escalation model left without one is recorded as missing and left out of the spec, which
// then does not load until someone writes it in: a rate made up for it would be estimated
// with as if it were measured.
func (im *importer) settlePassRates() {
	for _, c := range im.rows {
		for _, name := range c.models() {
			if p, ok := c.given[name]; ok {
				c.pass = append(c.pass, passRate{model: name, p: p})
				continue
			}
			if name == c.primary && c.estPass != nil {
				c.estRead[colEstPass] = true
				c.pass = append(c.pass, passRate{model: name, p: *c.estPass, kind: passPlaceholder,
					note: fmt.Sprintf("placeholder: the worksheet gives no pass rate for %s in this category; this is its estimated pass rate", name)})
				continue
			}
			if b, ok := im.borrowedPassRate(c, name); ok {
				if b.estOf != nil {
					b.estOf.estRead[colEstPass] = true
				}
				c.pass = append(c.pass, b)
				continue
			}
			if name == c.primary {
				c.pass = append(c.pass, passRate{model: name, p: c.bar, kind: passPlaceholder,
					note: fmt.Sprintf("placeholder: the worksheet gives no pass rate for %s in this category or another; this is its quality threshold, so the category clears its bar by construction until you measure it", name)})
				continue
			}
			c.missing = append(c.missing, name)
		}
		for _, name := range c.givenOrder {
			if !slices.Contains(c.models(), name) {
				c.pass = append(c.pass, passRate{model: name, p: c.given[name]})
			}
		}
	}
}

// borrowedPassRate finds model name's pass rate in a row other than c: one a row states for
// it, as its primary model first; else the estimated pass rate of a static row it is the
// primary model of. The first row in sheet order wins among equals. Neither a cascade's or
// score route's estimated pass rate, which includes escalations to later models, nor a
// row's quality threshold, a requirement, is a model's pass rate, so neither is borrowed.
func (im *importer) borrowedPassRate(c *catRow, name string) (passRate, bool) {
	best, rank := passRate{}, math.MaxInt
	for _, o := range im.rows {
		if o == c {
			continue
		}
		consider := func(r int, p float64, how string) {
			if r < rank {
				rank = r
				var estOf *catRow
				if r == 2 {
					estOf = o
				}
				best = passRate{model: name, p: p, kind: passBorrowed, from: o.name, estOf: estOf,
					note: fmt.Sprintf("from another category: the worksheet gives no pass rate for %s in this category; this is its pass rate in %s (row %d), %s; a pass rate on another task, so measure it here",
						name, o.name, o.row, how)}
			}
		}
		if p, ok := o.given[name]; ok {
			r := 1
			if o.primary == name {
				r = 0
			}
			consider(r, p, fmt.Sprintf("as its %q column states", o.givenCol[name]))
		}
		if o.primary == name && o.estPass != nil && o.kind == "static" {
			consider(2, *o.estPass, "that row's estimated pass rate, where it is the primary model of a static route")
		}
	}
	return best, rank < math.MaxInt
}

func (im *importer) warnf(format string, args ...any) {
	if im.warn != nil {
		im.warn(fmt.Sprintf(format, args...))
	}
}

// scoreYAML writes a score route from the row's steps and the route cell's settings: the
// learned router or the heuristic's tiers (evenly spaced when the cell gives none), and, when
// the cell names the models it starts on, the row's later steps as its escalation.
func scoreYAML(c *catRow) string {
	sc := c.score
	if sc == nil {
		sc = &scoreCell{}
	}
	models := append([]string{c.primary}, c.fallback...)
	var escalate []string
	if len(sc.models) > 0 {
		models, escalate = sc.models, c.fallback
	}
	var parts []string
	if sc.router != "" {
		parts = append(parts, "router: "+yamlString(sc.router))
		switch {
		case sc.threshold != nil:
			parts = append(parts, "threshold: "+formatFloat(*sc.threshold))
		case sc.wtp != nil:
			parts = append(parts, "willingness_to_pay: "+formatFloat(*sc.wtp))
			if sc.mixWTP != nil {
				parts = append(parts, fmt.Sprintf("mix: {willingness_to_pay: %s, share: %s}", formatFloat(*sc.mixWTP), formatFloat(*sc.mixShare)))
			}
		}
	} else {
		tiers := make([]string, len(models)-1)
		for i := range tiers {
			tiers[i] = formatFloat(math.Round(float64(i+1)/float64(len(models))*1000) / 1000)
		}
		if len(sc.tiers) > 0 {
			tiers = tiers[:0]
			for _, t := range sc.tiers {
				tiers = append(tiers, formatFloat(t))
			}
		}
		parts = append(parts, fmt.Sprintf("heuristic: {tiers: [%s]}", strings.Join(tiers, ", ")))
	}
	parts = append(parts, "models: "+yamlList(models))
	if len(escalate) > 0 {
		parts = append(parts, "escalate: "+yamlList(escalate))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func namedYAML(vs []namedValue) string {
	var kv []string
	for _, v := range vs {
		kv = append(kv, yamlString(v.name)+": "+formatFloat(v.v))
	}
	return "{" + strings.Join(kv, ", ") + "}"
}

// models returns the models the row routes to, in order: primary, fallback models, failover.
func (c *catRow) models() []string {
	return dedup(append(append([]string{c.primary}, c.fallback...), c.failover...))
}

// described returns the models the row's "model latency", "model availability", "model
// provider" and "model price" cells may describe: those it routes to, then those of "other
// pass rates".
func (c *catRow) described() []string {
	return dedup(append(c.models(), c.givenOrder...))
}

// describedColumns names the columns that name the models of described, for messages.
var describedColumns = quoteList([]string{colPrimary, colFallback, colFailover, colOtherPass})

// modelEntries reads a cell of column col that states something (what, like "latency") of
// the row's models as "name: value; …". It reports a cell it cannot read, saying how to write
// one (form), and each name the row does not name (listed as listWhat), and calls each for
// the other entries in order, with the model and the names before it in the cell.
func (im *importer) modelEntries(c *catRow, col, s, what, listWhat, form string, each func(name, value string, m *model, earlier []string)) {
	names, values, bad := entries(s, false)
	if bad != "" {
		im.errorf(c.row, col, "%q is not a model and %s: write %s", bad, what, form)
		return
	}
	for i, name := range names {
		m, ok := im.models[name]
		if !ok || !slices.Contains(c.described(), name) {
			im.errorf(c.row, col, "names %q, which this row does not name: list the %s of the models in %s", name, listWhat, describedColumns)
			continue
		}
		each(name, values[i], m, names[:i])
	}
}

func (im *importer) parseModelLatency(c *catRow, s string) {
	im.modelEntries(c, colModelLatency, s, "latency", "latency", "name: latency, separated by semicolons, like mini: 800ms/2s; strong: ttft 900ms/2.5s + 60 tok/s", func(name, value string, _ *model, _ []string) {
		if _, dup := c.latency[name]; dup {
			im.errorf(c.row, colModelLatency, "gives %s's latency twice: keep one", name)
			return
		}
		l, isDefault, err := parseLatency(value)
		if err != nil {
			im.errorf(c.row, colModelLatency, "%s: %v", name, err)
			return
		}
		if isDefault {
			c.latency[name] = nil
		} else {
			c.latency[name] = &l
		}
		c.latOrder = append(c.latOrder, name)
	})
}

// parseLatency reads one latency assumption in the "model latency" column's forms.
func parseLatency(s string) (spec.Latency, bool, error) {
	t := strings.TrimSpace(s)
	if strings.EqualFold(t, "default") {
		return spec.Latency{}, true, nil
	}
	fail := func() (spec.Latency, bool, error) {
		return spec.Latency{}, false, fmt.Errorf("%q is not a latency: write p50/p95 like 800ms/2s, ttft 400ms/1.1s + 90 tok/s, samples 700ms 900ms 1.4s, or default, optionally followed by fail after 5s", s)
	}
	var l spec.Latency
	if i := strings.Index(t, "fail after "); i >= 0 {
		d, err := spec.ParseDuration(t[i+len("fail after "):])
		if err != nil || d <= 0 {
			return fail()
		}
		l.FailAfter = spec.Duration(d)
		t = strings.TrimSpace(t[:i])
	}
	pair := func(s string) (spec.Duration, spec.Duration, bool) {
		p, ok := parseLatencyPair(s)
		if !ok || p[0] <= 0 {
			return 0, 0, false
		}
		return spec.Duration(p[0]), spec.Duration(p[1]), true
	}
	switch {
	case strings.HasPrefix(t, "samples "):
		for f := range strings.FieldsSeq(strings.TrimPrefix(t, "samples ")) {
			d, err := spec.ParseDuration(f)
			if err != nil || d <= 0 {
				return fail()
			}
			l.Samples = append(l.Samples, spec.Duration(d))
		}
		if len(l.Samples) == 0 {
			return fail()
		}
	case strings.HasPrefix(t, "ttft "):
		q, rate, ok := strings.Cut(strings.TrimPrefix(t, "ttft "), "+")
		if !ok {
			return fail()
		}
		p50, p95, ok := pair(q)
		rate = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rate), "tok/s"))
		tps, err := strconv.ParseFloat(rate, 64)
		if !ok || err != nil || tps <= 0 || math.IsInf(tps, 0) {
			return fail()
		}
		l.TTFT = &spec.Quantiles{P50: p50, P95: p95}
		l.TokensPerSecond = tps
	default:
		p50, p95, ok := pair(t)
		if !ok {
			return fail()
		}
		l.P50, l.P95 = p50, p95
	}
	return l, false, nil
}

func (im *importer) parseAvailability(c *catRow, s string) {
	im.modelEntries(c, colModelAvailability, s, "availability", "availability", "name: probability, separated by semicolons, like mini: 0.998; strong: 0.995", func(name, value string, m *model, _ []string) {
		p, err := parseProb(value)
		if err != nil || p == 0 {
			im.errorf(c.row, colModelAvailability, "%s: %q is not an availability: write the fraction of calls without a provider error, like 0.998 or 99.8%%", name, value)
			return
		}
		switch {
		case m.avail == nil:
			m.avail, m.availAt = &p, cellRef{c.row, colModelAvailability}
		case *m.avail != p:
			im.errorf(c.row, colModelAvailability, "gives %s the availability %s, but row %d gives it %s: a model has one availability; use two model names for two providers", name, formatFloat(p), m.availAt.row, formatFloat(*m.avail))
		}
	})
}

// checkCatalog resolves each model's id and checks that the price catalogue lists it, or
// that the "model price" column gives its input and output prices.
func (im *importer) checkCatalog() {
	for _, m := range im.modelOrder {
		if m.id == "" {
			m.id = m.name
		}
		if p := m.price; m.priceBad || p != nil && p.Input != nil && p.Output != nil {
			continue
		}
		if _, ok := im.cat.Lookup(im.providerOf(m), m.id); !ok {
			at := m.first
			if m.idAt.row > 0 {
				at = m.idAt
			}
			hint := ""
			if s := im.cat.Suggest(m.id, 3); len(s) > 0 {
				hint = " (did you mean " + strings.Join(quoteAllStrings(s), " or ") + "?)"
			}
			im.errorf(at.row, at.col, "model id %q is not in the price catalogue (%s)%s: write name=model-id with an id the catalogue lists, like %s=gpt-4o-mini, or give its prices in a %q column, like %s: input 0.1, output 0.4 (dollars per million tokens)", m.id, im.cat.SourceDate(), hint, m.name, colModelPrice, m.name)
		}
	}
}

// parseRetry reads "attempts 3, backoff 1s" (either part may be left out).
func parseRetry(s string) (int, time.Duration, bool) {
	attempts, backoff := spec.DefaultRetryAttempts, spec.DefaultRetryBackoff
	for part := range strings.SplitSeq(s, ",") {
		f := strings.Fields(part)
		if len(f) != 2 {
			return 0, 0, false
		}
		switch strings.ToLower(f[0]) {
		case "attempts":
			n, err := strconv.Atoi(f[1])
			if err != nil || n < 0 || n > 10 {
				return 0, 0, false
			}
			attempts = n
		case "backoff":
			d, err := spec.ParseDuration(f[1])
			if err != nil || d <= 0 {
				return 0, 0, false
			}
			backoff = d
		default:
			return 0, 0, false
		}
	}
	return attempts, backoff, true
}

func (im *importer) parseProviders(c *catRow, s string) {
	im.modelEntries(c, colModelProvider, s, "provider type", "provider types", "name: type, separated by semicolons, like mini: openai; flash: gemini", func(name, value string, m *model, _ []string) {
		t := strings.ToLower(value)
		if _, ok := providerType(t); !ok {
			im.errorf(c.row, colModelProvider, "%s: %q is not a provider type: write one of %s", name, value, strings.Join(providerTypeNames(), ", "))
			return
		}
		switch {
		case m.ptype == "":
			m.ptype, m.ptypeAt = t, cellRef{c.row, colModelProvider}
		case m.ptype != t:
			im.errorf(c.row, colModelProvider, "gives %s the provider type %s, but row %d gives it %s: a model has one provider; use two model names for two providers", name, t, m.ptypeAt.row, m.ptype)
		}
	})
}

// parsePrices reads the "model price" cell: each model's price overrides, as formatPrice
// writes them.
func (im *importer) parsePrices(c *catRow, s string) {
	im.modelEntries(c, colModelPrice, s, "its prices", "prices", "name: input N, output N in dollars per million tokens, separated by semicolons, like mini: input 0.4, output 1.6; nano: input 0.1, output 0.4", func(name, value string, m *model, earlier []string) {
		if slices.Contains(earlier, name) {
			im.errorf(c.row, colModelPrice, "gives %s's prices twice: keep one entry, its prices separated by commas, like %s: input 0.4, output 1.6", name, name)
			m.priceBad = true
			return
		}
		p, err := parsePrice(value)
		if err != nil {
			im.errorf(c.row, colModelPrice, "%s: %v", name, err)
			m.priceBad = true // the catalogue check would only repeat it
			return
		}
		switch {
		case m.price == nil:
			m.price, m.priceAt = &p, cellRef{c.row, colModelPrice}
		case formatPrice(*m.price) != formatPrice(p):
			im.errorf(c.row, colModelPrice, "gives %s the prices %q, but row %d gives it %q: a model has one price; use two model names for two prices", name, formatPrice(p), m.priceAt.row, formatPrice(*m.price))
		}
	})
}

// parsePrice reads one model's prices in the "model price" column's form, like "input 0.05,
// output 0.2, long context above 200000, long context input 0.1".
func parsePrice(s string) (spec.PriceOverride, error) {
	var p spec.PriceOverride
	var lc spec.LongContextPrice
	fail := func(format string, args ...any) (spec.PriceOverride, error) {
		return spec.PriceOverride{}, fmt.Errorf(format+"; write KEY PRICE pairs separated by commas, in dollars per million tokens, like input 0.4, output 1.6 (keys: %s; and %s N, %s)",
			append(args, strings.Join([]string{priceInput, priceOutput, priceCachedInput, priceCacheWrite, priceCacheWrite1h, priceReasoning, priceLongInput, priceLongOutput, priceLongCached}, ", "), priceAbove, priceLongContextNo)...)
	}
	seen := map[string]bool{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.ToLower(strings.Join(strings.Fields(part), " "))
		if part == "" {
			continue
		}
		key, value := part, ""
		if i := strings.LastIndex(part, " "); i >= 0 && part != priceLongContextNo {
			key, value = part[:i], part[i+1:]
		}
		if seen[key] {
			return fail("%q is given twice", key)
		}
		seen[key] = true
		switch key {
		case priceLongContextNo:
			lc.None = true
			continue
		case priceAbove:
			n, ok := parseCount(value)
			if !ok || n != math.Trunc(n) || n > math.MaxInt32 {
				return fail("%s %q is not a whole number of input tokens", priceAbove, value)
			}
			lc.Above = spec.TokenCount(n)
			continue
		}
		var field **spec.PerMillion
		for _, f := range priceFields(&p, &lc) {
			if f.key == key {
				field = f.v
			}
		}
		if field == nil {
			return fail("%q is not a price", part)
		}
		v, err := clearbar.ParsePrice(value)
		if err != nil {
			return spec.PriceOverride{}, fmt.Errorf("%s: %v", key, err)
		}
		pm := spec.PerMillion(v)
		*field = &pm
	}
	long := lc.Input != nil || lc.Output != nil || lc.CachedInput != nil
	switch {
	case lc.None && (long || lc.Above > 0):
		return fail("%q says the model has no long-context tier, yet the cell gives one", priceLongContextNo)
	case long && lc.Above == 0:
		return fail("a long-context price needs %q, the input tokens over which it applies", priceAbove+" N")
	case lc.Above > 0 && !long:
		return fail("%q sets no long-context price: give %s, %s or %s", priceAbove, priceLongInput, priceLongOutput, priceLongCached)
	case len(seen) == 0:
		return fail("no prices")
	}
	if lc.None || lc.Above > 0 {
		p.LongContext = &lc
	}
	return p, nil
}

// priceYAML writes price overrides as the spec's price: mapping.
func priceYAML(p spec.PriceOverride) string {
	var lc spec.LongContextPrice
	if p.LongContext != nil {
		lc = *p.LongContext
	}
	keys := []string{"input", "output", "cached_input", "cache_write", "cache_write_1h", "reasoning", "input", "output", "cached_input"}
	var base, long []string
	for i, f := range priceFields(&p, &lc) {
		if *f.v == nil {
			continue
		}
		kv := keys[i] + ": " + priceDecimal(clearbar.Price(**f.v))
		if i < basePrices {
			base = append(base, kv)
		} else {
			long = append(long, kv)
		}
	}
	switch {
	case lc.None:
		base = append(base, "long_context: none")
	case lc.Above > 0:
		base = append(base, "long_context: {"+strings.Join(append([]string{"above: " + strconv.Itoa(int(lc.Above))}, long...), ", ")+"}")
	}
	return "{" + strings.Join(base, ", ") + "}"
}

func providerType(name string) (spec.ProviderType, bool) {
	for _, t := range spec.ProviderTypes {
		if t.Name == name {
			return t, true
		}
	}
	return spec.ProviderType{}, false
}

func providerTypeNames() []string {
	var names []string
	for _, t := range spec.ProviderTypes {
		names = append(names, t.Name)
	}
	return names
}

// providerOf returns a model's provider type.
func (im *importer) providerOf(m *model) string {
	if m.ptype != "" {
		return m.ptype
	}
	return im.ptype
}

// reconcile settles what spans rows: shares, model ids, latencies and review dates.
func (im *importer) reconcile() {
	var sum float64
	var parts []string
	for _, c := range im.rows {
		sum += c.share
		parts = append(parts, fmt.Sprintf("%s %s", c.name, formatFloat(c.share)))
	}
	if math.Abs(sum-1) > 1e-6 {
		im.errorf(0, colShare, "the shares sum to %.4g, not 1 (%s): adjust them so they add up to 1 (100%%)", sum, strings.Join(parts, ", "))
	}

	// Latency: a model's own is the first row's description of it; rows that describe it
	// differently override it for their category.
	for _, c := range im.rows {
		for _, name := range c.latOrder {
			m, l := im.models[name], c.latency[name]
			if !m.latSet {
				m.latSet, m.latency = true, l
				continue
			}
			if !sameLatency(m.latency, l) {
				c.overrides = append(c.overrides, name)
			}
		}
	}
	// Without a "model latency" cell, a model's latency is the estimated latency of a row it
	// is the primary model of: a static row's first, as it is the model's own apart from
	// retries and failover; else another route's, which also holds escalations.
	for _, m := range im.modelOrder {
		if m.latSet {
			continue
		}
		m.latSet = true
		var from *catRow
		for _, c := range im.rows {
			if c.primary == m.name && c.estLatency != nil && c.estLatency[0] > 0 && (from == nil || c.kind == "static" && from.kind != "static") {
				from = c
			}
		}
		switch {
		case from == nil:
			d := spec.DefaultLatency
			m.latency = &d
			m.latNote = "placeholder latency: the worksheet gives none for " + m.name + " (no model latency cell, and no estimated latency of a row it is the primary model of); this is Clearbar's default assumption; measure it"
		case from.kind == "static":
			m.latency = &spec.Latency{P50: spec.Duration(from.estLatency[0]), P95: spec.Duration(from.estLatency[1])}
			m.latNote = fmt.Sprintf("placeholder latency: the estimated latency of category %s (row %d), where %s is the primary model of a static route; measure it", from.name, from.row, m.name)
		default:
			m.latency = &spec.Latency{P50: spec.Duration(from.estLatency[0]), P95: spec.Duration(from.estLatency[1])}
			m.latNote = fmt.Sprintf("placeholder latency: the estimated latency of category %s (row %d), where %s is the first model of a %s route, so it includes escalations to later models; measure it", from.name, from.row, m.name, from.kind)
		}
		if from != nil {
			from.estRead[colEstLatency] = true
		}
		if from != nil && from.estTailAssumed {
			m.tailAssumed = true
			m.latNote = strings.TrimSuffix(m.latNote, "; measure it") + fmt.Sprintf("; that row gives one latency, %s, read as the median: the p95, %s, is assumed, %s times the median as in Clearbar's default latency; measure it",
				spec.FormatDuration(from.estLatency[0]), spec.FormatDuration(from.estLatency[1]), formatFloat(assumedTailRatio))
		}
	}

	// Review dates: the spec's is the most common one, unless a row has none.
	counts := map[string]int{}
	specReview, anyEmpty := "", false
	for _, c := range im.rows {
		if c.review == "" {
			anyEmpty = true
			continue
		}
		counts[c.review]++
		if specReview == "" || counts[c.review] > counts[specReview] {
			specReview = c.review
		}
	}
	if anyEmpty {
		specReview = ""
	}
	im.specReview = specReview

	// Retries: the spec's when every row has the same, else each category's own.
	im.specRetry = im.rows[0].retry
	for _, c := range im.rows {
		if c.retry != im.specRetry {
			im.specRetry = ""
		}
	}
	for _, c := range im.rows {
		c.ownRetry = c.retry != "" && c.retry != im.specRetry
	}
	for _, c := range im.rows {
		c.ownReview = c.review != "" && c.review != specReview
		c.validators = rebuildValidators(c.rule, im.schemaFound)
	}

	// Volume: the spec's, written in every row or in some; rows may not disagree.
	for _, c := range im.rows {
		switch {
		case c.volume == nil:
		case im.volume == nil:
			im.volume, im.volumeRow = c.volume, c.row
		case *c.volume != *im.volume:
			im.errorf(c.row, colVolume, "gives the volume %s, but row %d gives %s: the volume is the spec's, one for all categories; write the same in every row, or leave all but one empty", c.volume, im.volumeRow, im.volume)
		}
	}
}

// schemaFound reports whether path names a JSON object relative to the spec's directory, as
// the spec loader requires.
func (im *importer) schemaFound(path string) bool {
	if !filepath.IsAbs(path) {
		path = filepath.Join(im.dir, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var doc map[string]any
	return json.Unmarshal(data, &doc) == nil
}

func quoteAllStrings(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

// sameLatency compares two latency assumptions as the worksheet writes them (nil: default).
func sameLatency(a, b *spec.Latency) bool {
	if a == nil || b == nil {
		return a == b
	}
	return formatLatency(*a) == formatLatency(*b)
}

// providerPlaceholders stand in for provider settings a worksheet does not hold.
var providerPlaceholders = map[string]string{
	"base_url":    "https://replace-me.invalid",
	"api_version": "replace-me",
	"outcomes":    "replace-me.jsonl",
}

// importNotes collects what the header comment lists: categories and models with
// placeholders.
type importNotes struct {
	routes, passRates, latency, rules, strength, providers []string
	// borrowed are the categories with pass rates from other rows, with the models and rows;
	// missing those with pass rates the user must write in, with the models.
	borrowed, missing []string
	// tails are the models whose latency p95 is assumed from a median.
	tails []string
	// placeholderRules are the categories whose rule was replaced by a placeholder validator;
	// noImpact those without a failure impact; missingSchemas the categories whose json_schema
	// files were not found, with the paths.
	placeholderRules, noImpact, missingSchemas []string
	schemaFiles                                bool
}

// yaml writes the imported spec: a header comment, then the spec.
func (im *importer) yaml() []byte {
	var body yamlWriter
	var notes importNotes
	body.line(0, "version: %d", spec.Version)
	body.line(0, "name: %s", yamlString(im.name))
	body.line(0, "description: %s", yamlString("Imported from the routing worksheet "+filepath.Base(im.file)+"."))
	if im.specReview != "" {
		body.line(0, "review: {last: %s}", im.specReview)
	}
	if v := im.volume; v != nil && v.perDay {
		body.line(0, "volume: {per_day: %d}", v.n)
	} else if v != nil {
		body.line(0, "volume: {per_month: %d}", v.n)
	}
	if c := im.rows[0]; im.specRetry != "" {
		body.line(0, "retry: {attempts: %d, backoff: %s}", c.attempts, spec.FormatDuration(c.backoff))
	}
	body.line(0, "")
	body.line(0, "providers:")
	var types []string
	for _, m := range im.modelOrder {
		if t := im.providerOf(m); !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	for _, t := range types {
		pt, _ := providerType(t)
		if len(pt.Needs) == 0 {
			body.line(1, "%s: {type: %s}", yamlString(t), t)
			continue
		}
		body.line(1, "%s:", yamlString(t))
		body.line(2, "type: %s", t)
		body.comment(2, "placeholders: a worksheet holds no provider settings; set "+strings.Join(pt.Needs, " and "))
		for _, need := range pt.Needs {
			body.line(2, "%s: %s", need, yamlString(providerPlaceholders[need]))
		}
		notes.providers = append(notes.providers, t)
	}
	body.line(0, "")
	body.line(0, "models:")
	for _, m := range im.modelOrder {
		body.line(1, "%s:", yamlString(m.name))
		body.line(2, "provider: %s", yamlString(im.providerOf(m)))
		body.line(2, "model: %s", yamlString(m.id))
		if m.latNote != "" {
			body.comment(2, m.latNote)
			notes.latency = append(notes.latency, m.name)
		}
		if m.tailAssumed {
			notes.tails = append(notes.tails, m.name)
		}
		if m.latency != nil {
			body.line(2, "latency: %s", latencyYAML(*m.latency))
		}
		if m.avail != nil {
			body.line(2, "availability: %s", formatFloat(*m.avail))
		}
		if m.price != nil {
			body.line(2, "price: %s", priceYAML(*m.price))
		}
	}
	body.line(0, "")
	body.line(0, "categories:")
	for i, c := range im.rows {
		if i > 0 {
			body.line(0, "")
		}
		writeCategory(&body, c, &notes)
	}

	var w yamlWriter
	w.comment(0, "Imported from the routing worksheet "+filepath.Base(im.file)+".")
	w.comment(0, "A worksheet holds less than a spec; check these points before relying on the estimate:")
	bullet := func(s string) {
		for i, l := range wrap(s, 92) {
			if i == 0 {
				w.line(0, "#   - %s", l)
			} else {
				w.line(0, "#     %s", l)
			}
		}
	}
	// warned is a point also said on stderr.
	warned := func(s string) {
		bullet(s)
		im.warnf("%s", s)
	}
	if len(types) == 1 {
		bullet(fmt.Sprintf("Every model is served by one provider, %s; give each vendor its own provider, with its settings and API key, to route real traffic.", types[0]))
	} else {
		bullet("Providers are named after their types (" + strings.Join(types, ", ") + "); add their settings and API keys to route real traffic.")
	}
	if len(notes.providers) > 0 {
		bullet("Provider settings marked placeholder, for " + strings.Join(notes.providers, ", ") + ": set them.")
	}
	switch {
	case len(notes.noImpact) == len(im.rows):
		bullet("failure_impact is not in the worksheet: risk figures are zero until each category states failure_impact: {bad_answer: DOLLARS}.")
	case len(notes.noImpact) > 0:
		bullet("No failure impact in " + strings.Join(notes.noImpact, ", ") + ": the risk figures count a bad answer there as costing nothing; add failure_impact: {bad_answer: DOLLARS} where it costs something.")
	}
	if im.volume == nil {
		bullet("Traffic volume is not in the worksheet: a million requests a month is assumed.")
	}
	if !im.present[colModelPrice] {
		bullet("Prices are the catalogue's: the worksheet has no \"model price\" column; give a model price: {input: N, output: N} (dollars per million tokens) where you pay other prices.")
	}
	bullet("Named policies (policies:), match rules (match:) and the default category, golden tests (tests:), " +
		"descriptions, success criteria, review cadence and owner, provider settings and timeouts are never in a worksheet: " +
		"copy them from the original spec, if there is one. A monthly review is assumed; without match rules a request reaches a category " +
		"other than the first only by naming it; without named policies the estimate compares the built-in policies only.")
	if len(notes.routes) > 0 {
		bullet("Routes inferred from the validation rule and fallback model, in " + strings.Join(notes.routes, ", ") + ": check them.")
	}
	if len(notes.missing) > 0 {
		msg := "Pass rates missing, in " + strings.Join(notes.missing, "; ") +
			": no row of the worksheet gives one for these fallback or escalation models, so the spec does not load until you write each under its category's assume.pass_rate, with your estimate or a measurement."
		warned(msg)
	}
	if len(notes.borrowed) > 0 {
		msg := "Pass rates from other categories, in " + strings.Join(notes.borrowed, "; ") +
			": the worksheet states no pass rate for these models in these categories, so each is the model's pass rate on another task; measure them."
		warned(msg)
	}
	if len(notes.passRates) > 0 {
		msg := "Pass rates marked placeholder, in " + strings.Join(notes.passRates, ", ") + ": replace them with measured pass rates."
		bullet(msg)
		im.warnf("%s (A primary model's placeholder is the row's estimated pass rate; without one, and without a pass rate in another row, it is the row's quality threshold, so the estimate says such a category clears its bar until then.)", msg)
	}
	if len(notes.latency) > 0 {
		msg := "Latency marked placeholder, for " + strings.Join(notes.latency, ", ") + ": replace it with measured latency."
		warned(msg)
	}
	if len(notes.tails) > 0 {
		msg := fmt.Sprintf("Latency p95 assumed, for %s: the estimated latency it comes from is one value, read as the median, and the p95 is taken as %s times it; "+
			"write p50 / p95 in the worksheet, or measure it.", strings.Join(notes.tails, ", "), formatFloat(assumedTailRatio))
		warned(msg)
	}
	if len(notes.rules) > 0 {
		bullet("Validation rules not (fully) rebuilt as validators, in " + strings.Join(notes.rules, ", ") + ": write the validators they describe.")
	}
	if len(notes.placeholderRules) > 0 {
		msg := "Validation rules replaced by a placeholder validator ({json_schema: request}), in " + strings.Join(notes.placeholderRules, ", ") +
			": no validator could be rebuilt from the rule, and the route needs one to escalate on; write the validators it describes."
		warned(msg)
	}
	if len(notes.missingSchemas) > 0 {
		msg := "json_schema files not found relative to where this spec is saved, in " + strings.Join(notes.missingSchemas, ", ") +
			": their validators are left out or replaced by a placeholder, which changes the estimate; save the spec where those paths resolve (next to the spec the worksheet came from), or copy the files there, and import again."
		warned(msg)
	}
	if len(notes.strength) > 0 {
		bullet("Validator strength not given, in " + strings.Join(notes.strength, ", ") + ": the default is assumed until you calibrate it.")
	}
	if notes.schemaFiles {
		bullet("json_schema files are named relative to this spec file: save it where those paths resolve.")
	}
	w.b.WriteString(body.b.String())
	return []byte(w.b.String())
}

// writeCategory writes one category of the imported spec.
func writeCategory(w *yamlWriter, c *catRow, notes *importNotes) {
	w.line(1, "- name: %s", yamlString(c.name))
	w.line(2, "share: %s", formatFloat(c.share))
	tokens := "in: " + bandYAML(c.in) + ", out: " + bandYAML(c.out)
	if c.reasoning[1] > 0 {
		tokens += ", reasoning: " + bandYAML(c.reasoning)
	}
	if c.cacheHit > 0 {
		tokens += ", cache_hit: " + formatFloat(c.cacheHit)
	}
	w.line(2, "tokens: {%s}", tokens)
	w.line(2, "quality_bar: %s", formatFloat(c.bar))
	if c.budget > 0 {
		w.line(2, "latency_budget: %s", spec.FormatDuration(c.budget))
	}
	if c.impact != "" {
		w.line(2, "failure_impact: {%s}", c.impact)
	} else {
		notes.noImpact = append(notes.noImpact, c.name)
	}

	w.line(2, "route:")
	if c.routeNote != "" {
		w.comment(3, c.routeNote)
		notes.routes = append(notes.routes, c.name)
	}
	switch c.kind {
	case "cascade":
		w.line(3, "cascade: %s", yamlList(append([]string{c.primary}, c.fallback...)))
	case "score":
		w.line(3, "score: %s", scoreYAML(c))
	default:
		w.line(3, "model: %s", yamlString(c.primary))
	}
	v := c.validators
	validators := v.validators
	needsValidation := c.kind == "cascade" || c.kind == "score" || c.retryOnce
	if c.rule != "" {
		switch {
		case len(v.unknown) == 0:
			w.comment(3, "validation rule: "+c.rule)
		case len(v.validators) > 0:
			w.comment(3, "validation rule: "+c.rule)
			w.comment(3, "not rebuilt, add back as validators: "+strings.Join(v.unknown, "; "))
			notes.rules = append(notes.rules, c.name)
		case needsValidation:
			w.comment(3, "replace with the validators described: "+c.rule)
			validators = []string{"{json_schema: request}"}
			notes.rules = append(notes.rules, c.name)
			notes.placeholderRules = append(notes.placeholderRules, c.name)
		default:
			w.comment(3, "validation rule, not rebuilt as validators (add them to validate: ...): "+c.rule)
			notes.rules = append(notes.rules, c.name)
		}
		if len(v.loose) > 0 {
			w.comment(3, "read as: "+strings.Join(v.loose, "; "))
		}
		if v.schemaFile {
			w.comment(3, "json_schema file paths are relative to this spec file")
			notes.schemaFiles = true
		}
		if len(v.missing) > 0 {
			w.comment(3, "schema file not found relative to where this spec is saved: "+strings.Join(v.missing, ", "))
			notes.missingSchemas = append(notes.missingSchemas, c.name+" ("+strings.Join(v.missing, ", ")+")")
		}
	}
	if len(validators) > 0 {
		w.line(3, "validate: [%s]", strings.Join(validators, ", "))
	}
	if c.retryOnce {
		w.line(3, "on_fail: %s", spec.OnFailRetryOnce)
	}
	if c.failExhausted {
		w.line(3, "on_exhausted: %s", spec.ExhaustedFail)
	}
	fallback := c.failover
	if c.kind == "static" {
		fallback = c.fallback
	}
	if len(fallback) > 0 {
		w.line(2, "fallback: %s", yamlList(fallback))
	}

	w.line(2, "assume:")
	w.line(3, "pass_rate:")
	placeholders := false
	var borrowed []string
	for _, p := range c.pass {
		if p.note != "" {
			w.comment(4, p.note)
		}
		switch p.kind {
		case passPlaceholder:
			placeholders = true
		case passBorrowed:
			borrowed = append(borrowed, p.model+" from "+p.from)
		}
		w.line(4, "%s: %s", yamlString(p.model), formatFloat(p.p))
	}
	for _, name := range c.missing {
		w.comment(4, fmt.Sprintf("missing: no row of the worksheet gives a pass rate for %s; write it here, like %s: 0.9, with your estimate or a measurement: the spec does not load without it", name, name))
	}
	if placeholders {
		notes.passRates = append(notes.passRates, c.name)
	}
	if len(borrowed) > 0 {
		notes.borrowed = append(notes.borrowed, c.name+" ("+strings.Join(borrowed, ", ")+")")
	}
	if len(c.missing) > 0 {
		notes.missing = append(notes.missing, c.name+" ("+strings.Join(c.missing, ", ")+")")
	}
	switch {
	case c.detect != nil && c.falseAlarm != nil:
		w.line(3, "validator: {detect: %s, false_alarm: %s}", formatFloat(*c.detect), formatFloat(*c.falseAlarm))
	case len(validators) > 0:
		w.comment(3, fmt.Sprintf("validator strength not in the worksheet: the default (detect %s, false_alarm %s) is assumed; calibrate it",
			formatFloat(float64(spec.DefaultStrength.Detect)), formatFloat(float64(spec.DefaultStrength.FalseAlarm))))
		notes.strength = append(notes.strength, c.name)
	}
	if len(c.overrides) > 0 {
		w.line(3, "latency:")
		for _, name := range c.overrides {
			l := c.latency[name]
			if l == nil {
				d := spec.DefaultLatency
				l = &d
			}
			w.line(4, "%s: %s", yamlString(name), latencyYAML(*l))
		}
	}
	if sc := c.score; sc != nil {
		if len(sc.shares) > 0 {
			w.line(3, "score_share: %s", namedYAML(sc.shares))
		}
		if len(sc.pass) > 0 {
			w.line(3, "score_pass_rate: %s", namedYAML(sc.pass))
		}
	}
	if c.ownRetry {
		w.line(2, "retry: {attempts: %d, backoff: %s}", c.attempts, spec.FormatDuration(c.backoff))
	}
	if c.ownReview {
		w.line(2, "review: {last: %s}", c.review)
	}
	if c.why != "" {
		w.line(2, "why: %s", yamlString(c.why))
	}
}

// wrap splits text into lines of at most width bytes, at spaces.
func wrap(text string, width int) []string {
	var lines []string
	var cur string
	for _, word := range strings.Fields(text) {
		if cur != "" && len(cur)+1+len(word) > width {
			lines = append(lines, cur)
			cur = ""
		}
		if cur != "" {
			cur += " "
		}
		cur += word
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

// yamlWriter builds YAML text line by line, two spaces per level.
type yamlWriter struct{ b strings.Builder }

func (w *yamlWriter) line(level int, format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if s != "" {
		w.b.WriteString(strings.Repeat("  ", level))
		w.b.WriteString(s)
	}
	w.b.WriteByte('\n')
}

// comment writes a one-line comment; line breaks in text become spaces.
func (w *yamlWriter) comment(level int, text string) {
	text = strings.Join(strings.Fields(text), " ")
	w.line(level, "# %s", text)
}

func bandYAML(b [2]float64) string {
	if b[0] == b[1] {
		return formatFloat(b[0])
	}
	return fmt.Sprintf("{p50: %s, p95: %s}", formatFloat(b[0]), formatFloat(b[1]))
}

func latencyYAML(l spec.Latency) string {
	var parts []string
	d := func(x spec.Duration) string { return spec.FormatDuration(x.D()) }
	switch {
	case len(l.Samples) > 0:
		s := make([]string, len(l.Samples))
		for i, x := range l.Samples {
			s[i] = d(x)
		}
		parts = append(parts, "samples: ["+strings.Join(s, ", ")+"]")
	case l.TTFT != nil:
		parts = append(parts, fmt.Sprintf("ttft: {p50: %s, p95: %s}", d(l.TTFT.P50), d(l.TTFT.P95)), "tokens_per_second: "+formatFloat(l.TokensPerSecond))
	default:
		parts = append(parts, "p50: "+d(l.P50), "p95: "+d(l.P95))
	}
	if l.FailAfter > 0 {
		parts = append(parts, "fail_after: "+d(l.FailAfter))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
