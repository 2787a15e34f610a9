package spec

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// This file places YAML syntax errors on the line to edit, with what to change. yaml.v3 reports
// where its parser noticed a problem, which is often not where the problem is: a parser error
// (the kind that says "did not find expected ...") names the line before the block it was
// reading, and a string left unquoted or a list item indented wrongly is noticed only lines
// later. The source text is read again here, line by line, to find the line to name.

// yamlParserProblems are the problems yaml.v3's parser (not its scanner) reports. Their line is
// counted from 0, so it is one before the line it stands for.
var yamlParserProblems = []string{
	"did not find expected <stream-start>",
	"did not find expected <document start>",
	"did not find expected node content",
	"did not find expected '-' indicator",
	"did not find expected key",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"found undefined tag handle",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found duplicate %TAG directive",
}

// yamlLine is one line of a spec as the YAML structure reading sees it.
type yamlLine struct {
	n      int    // line number, from 1
	text   string // the line without its comment and trailing space
	indent int    // spaces before the first character
	tab    bool   // a tab is in the indentation
	// skip: the line continues something that started above it (a block of text, a quoted
	// string or a [ ] or { } that spans lines), or is blank or a comment.
	skip bool
	// dashes: the columns of the "- " that start it (a list item, or "- - " an item of an
	// item), from 0; body: the column after them.
	dashes []int
	body   int
	key    bool // the body is a mapping entry (key: value)
	opens  bool // it ends with "key:" or "-", so a deeper block may follow
	// afterQuote: text follows a quoted string that ends on this line, where only ':', ',',
	// a closing bracket or a comment may; the text, and the column where it starts.
	afterQuote    string
	afterQuoteCol int
	colonNoSpace  bool // key:value with no space after the ':', and no "key: " on the line
	valueColon    bool // a plain value holds ": " (key: value: more)
}

// quoteSpan is a quoted string that runs over more than one line.
type quoteSpan struct {
	start, end int  // its first and last line; end is 0 when the text ends inside it
	quote      byte // ' or "
	blockLike  bool // a line inside it reads as a key or a list item of its own
}

// flowSpan is a [ or { left open: a line that reads as a key or list item, indented no deeper
// than the line the bracket opens on, comes before the bracket is closed, or the text ends
// first.
type flowSpan struct {
	start  int  // the line of the bracket
	open   byte // [ or {
	indent int  // the indentation of that line
	marked bool // already among the yamlSource's flows
}

// yamlSource is a spec's text read line by line.
type yamlSource struct {
	lines  []yamlLine
	quotes []quoteSpan
	flows  []flowSpan // brackets left open
}

var (
	blockLikeRE   = regexp.MustCompile(`^\s*(- |-$|[\w.-]+:(\s|$))`)
	blockScalarRE = regexp.MustCompile(`^[|>][-+0-9]*$`)
	plainKeyRE    = regexp.MustCompile(`^[\w.-]+$`)
)

// readYAMLSource splits data into lines and follows what spans lines: blocks of text (| and
// >), quoted strings and brackets.
func readYAMLSource(data []byte) *yamlSource {
	src := &yamlSource{}
	raw := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	var (
		inQuote    byte
		quoteIdx   = -1
		flowStack  []*flowSpan // the brackets open
		blockUnder = -1        // the indentation a block of text's lines are deeper than, or -1
	)
	for i, r := range raw {
		l := yamlLine{n: i + 1}
		for _, c := range r {
			if c == ' ' {
				l.indent++
			} else if c == '\t' {
				l.tab = true
				l.indent++
			} else {
				break
			}
		}
		trimmed := strings.TrimSpace(r)
		blank := trimmed == "" || strings.HasPrefix(trimmed, "#") && inQuote == 0 && len(flowStack) == 0
		if blockUnder >= 0 {
			if trimmed == "" || l.indent > blockUnder {
				l.skip, l.text = true, strings.TrimRight(r, " \t")
				src.lines = append(src.lines, l)
				continue
			}
			blockUnder = -1
		}
		startsInside := inQuote != 0 || len(flowStack) > 0
		if startsInside {
			l.skip = true
			if inQuote != 0 && blockLikeRE.MatchString(r) {
				src.quotes[quoteIdx].blockLike = true
			}
			if len(flowStack) > 0 && blockLikeRE.MatchString(r) && inQuote == 0 {
				for _, f := range flowStack {
					if l.indent <= f.indent && !f.marked {
						f.marked = true
						src.flows = append(src.flows, *f)
					}
				}
			}
		} else if blank {
			l.skip = true
		}
		// Read the line's characters.
		pos := l.indent
		if !startsInside && !blank {
			for pos < len(r) && r[pos] == '-' && (pos+1 == len(r) || r[pos+1] == ' ') {
				l.dashes = append(l.dashes, pos)
				pos++
				for pos < len(r) && r[pos] == ' ' {
					pos++
				}
			}
			l.body = pos
		}
		end := len(r) // where a comment starts
		firstColon := -1
		lastQuoteEnd := -1
		quoteOpenedHere := inQuote == 0
		for j := 0; j < len(r); j++ {
			if j < pos && !startsInside {
				continue
			}
			c := r[j]
			switch inQuote {
			case '"':
				if c == '\\' {
					j++
				} else if c == '"' {
					inQuote, lastQuoteEnd = 0, j
					src.quotes[quoteIdx].end = l.n
				}
				continue
			case '\'':
				if c == '\'' && j+1 < len(r) && r[j+1] == '\'' {
					j++
				} else if c == '\'' {
					inQuote, lastQuoteEnd = 0, j
					src.quotes[quoteIdx].end = l.n
				}
				continue
			}
			if c == '#' && (j == 0 || r[j-1] == ' ' || r[j-1] == '\t') {
				end = j
				break
			}
			if lastQuoteEnd >= 0 && lastQuoteEnd == prevNonSpace(r, j) && c != ' ' && c != '\t' &&
				!strings.ContainsRune(":,]}", rune(c)) && l.afterQuote == "" && quoteOpenedHere {
				l.afterQuote, l.afterQuoteCol = strings.TrimSpace(stripComment(r[j:])), j
			}
			switch {
			case (c == '"' || c == '\'') && tokenStart(r, j, pos):
				inQuote = c
				src.quotes = append(src.quotes, quoteSpan{start: l.n, quote: c})
				quoteIdx = len(src.quotes) - 1
			case (c == '[' || c == '{') && (tokenStart(r, j, pos) || len(flowStack) > 0):
				flowStack = append(flowStack, &flowSpan{start: l.n, open: c, indent: l.indent})
			case (c == ']' || c == '}') && len(flowStack) > 0:
				flowStack = flowStack[:len(flowStack)-1]
			case c == ':' && len(flowStack) == 0 && !startsInside && (j+1 == len(r) || r[j+1] == ' ' || r[j+1] == '\t'):
				if firstColon < 0 {
					firstColon = j
				} else if lastQuoteEnd < firstColon {
					l.valueColon = true
				}
			}
		}
		// Quoted strings closed on the line they open on are not spans.
		src.quotes = slices.DeleteFunc(src.quotes, func(q quoteSpan) bool { return q.end == q.start })
		quoteIdx = len(src.quotes) - 1
		l.text = strings.TrimRight(r[:end], " \t")
		if l.skip {
			src.lines = append(src.lines, l)
			continue
		}
		body := strings.TrimSpace(l.text[min(l.body, len(l.text)):])
		l.key = firstColon >= 0
		value := ""
		if l.key {
			value = strings.TrimSpace(l.text[min(firstColon+1, len(l.text)):])
		} else if len(l.dashes) > 0 {
			value = body
		}
		l.opens = inQuote == 0 && len(flowStack) == 0 && (body == "" || l.key && (value == "" || isAnchorOrTag(value)))
		if inQuote == 0 && len(flowStack) == 0 && blockScalarRE.MatchString(value) {
			blockUnder = l.indent
			if !l.key && len(l.dashes) > 0 {
				blockUnder = l.dashes[len(l.dashes)-1]
			}
		}
		if !l.key && inQuote == 0 && len(flowStack) == 0 {
			if k, v, ok := strings.Cut(body, ":"); ok && plainKeyRE.MatchString(k) && v != "" {
				l.colonNoSpace = true
			}
		}
		src.lines = append(src.lines, l)
	}
	for _, f := range flowStack {
		if !f.marked {
			src.flows = append(src.flows, *f) // the text ends inside it
		}
	}
	return src
}

// isAnchorOrTag reports whether a value is only an anchor (&name) or a tag (!tag), which the
// block below the line completes.
func isAnchorOrTag(v string) bool {
	for _, f := range strings.Fields(v) {
		if f[0] != '&' && f[0] != '!' {
			return false
		}
	}
	return true
}

// tokenStart reports whether r[j] starts a value: the line's body starts there, or a space,
// ':', ',', '[' or '{' comes before it.
func tokenStart(r string, j, body int) bool {
	if j == body {
		return true
	}
	p := prevNonSpace(r, j)
	if p < 0 {
		return true
	}
	switch r[p] {
	case '[', '{', ',':
		return true
	case ':', '-', '?':
		return p < j-1 // "key: 'x'", not "a:'x'"
	}
	return false
}

// prevNonSpace returns the index of the last character before j that is not a space or tab,
// or -1.
func prevNonSpace(r string, j int) int {
	for k := j - 1; k >= 0; k-- {
		if r[k] != ' ' && r[k] != '\t' {
			return k
		}
	}
	return -1
}

func stripComment(s string) string {
	for j := 0; j < len(s); j++ {
		if s[j] == '#' && (j == 0 || s[j-1] == ' ') {
			return s[:j]
		}
	}
	return s
}

// line returns line n (from 1), or nil.
func (s *yamlSource) line(n int) *yamlLine {
	if n < 1 || n > len(s.lines) {
		return nil
	}
	return &s.lines[n-1]
}

// level is an indentation a block is open at: a mapping's keys or a list's items.
type level struct {
	indent    int
	key, item bool // keys are written at it; list items ("- ") are
}

// misindented is a line whose indentation fits no block open above it.
type misindented struct {
	line  *yamlLine
	near  []int // the indentations of the keys or items above it that it is nearest
	items bool  // near are list items' (else keys')
	among bool  // it is at a block's indentation, but a list item among keys or a key among items
}

// firstMisindented finds the first line, at or after from, whose indentation breaks the block
// it is in: deeper than any open block allows, between two, or a key among list items (or an
// item among keys) at one indentation.
func (s *yamlSource) firstMisindented(from int) *misindented {
	var open []level
	prevOpens := true
	for i := range s.lines {
		l := &s.lines[i]
		if l.skip {
			continue
		}
		if strings.TrimSpace(l.text) == "---" || strings.HasPrefix(l.text, "--- ") {
			open, prevOpens = nil, true
			continue
		}
		before := append([]level(nil), open...)
		for len(open) > 0 && open[len(open)-1].indent > l.indent {
			open = open[:len(open)-1]
		}
		isItem := len(l.dashes) > 0
		var bad *misindented
		switch top := len(open) - 1; {
		case top >= 0 && open[top].indent == l.indent:
			lv := &open[top]
			switch {
			case isItem && !lv.item && !(prevOpens && i > 0):
				bad = &misindented{line: l, among: true}
			case !isItem && lv.item && !lv.key:
				bad = &misindented{line: l, among: true}
			}
			if isItem {
				lv.item = true
			} else {
				lv.key = true
			}
		case prevOpens:
			open = append(open, level{indent: l.indent, key: !isItem, item: isItem})
		case !isItem && !l.key && l.afterQuote == "":
			// The rest of a plain value that continues from the line above.
			continue
		default:
			bad = &misindented{line: l}
			bad.near, bad.items = nearestLevels(before, l.indent, isItem)
		}
		if bad != nil && l.n >= from {
			return bad
		}
		if bad != nil {
			// A line above the one yaml.v3 noticed the problem after, which it read: the
			// reading of it here is wrong, so trust yaml.v3 from here on.
			return nil
		}
		for _, d := range l.dashes[min(1, len(l.dashes)):] {
			open = append(open, level{indent: d, item: true})
		}
		if isItem && l.body < len(l.text) {
			open = append(open, level{indent: l.body, key: l.key})
		}
		prevOpens = l.opens
	}
	return nil
}

// nearestLevels returns the indentations of the open levels of the line's kind (list items, or
// keys) nearest indent: one, or two at equal distance. When no level is of that kind, any.
func nearestLevels(open []level, indent int, items bool) ([]int, bool) {
	var near []int
	best := -1
	pick := func(match func(level) bool) {
		for _, lv := range open {
			if !match(lv) {
				continue
			}
			d := lv.indent - indent
			if d < 0 {
				d = -d
			}
			switch {
			case best < 0 || d < best:
				best, near = d, []int{lv.indent}
			case d == best && !containsInt(near, lv.indent):
				near = append(near, lv.indent)
			}
		}
	}
	if items {
		pick(func(lv level) bool { return lv.item })
	} else {
		pick(func(lv level) bool { return lv.key })
	}
	if near == nil {
		pick(func(level) bool { return true })
		return near, false
	}
	return near, items
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func spaces(n int) string {
	if n == 1 {
		return "1 space"
	}
	return strconv.Itoa(n) + " spaces"
}

// hint says what is wrong with a misindented line and how to indent it.
func (m *misindented) hint() string {
	text := "`" + shorten(strings.TrimSpace(m.line.text)) + "`"
	what := "keys"
	if m.items {
		what = "items"
	}
	switch {
	case m.among && len(m.line.dashes) > 0:
		return fmt.Sprintf("%s is a list item written among the keys of a mapping: indent it under the key whose list it is in, or give it a key of its own", text)
	case m.among:
		return fmt.Sprintf("%s is a key written among list items at the same indentation: start it with '- ' if it begins a new item, or indent it as the keys of the item above it", text)
	case len(m.near) == 1:
		return fmt.Sprintf("%s is indented %s where the %s above it have %d: indent it as they are", text, spaces(m.line.indent), what, m.near[0])
	case len(m.near) == 2:
		return fmt.Sprintf("%s is indented %s, between the %s above it at %d and at %d: indent it as those it belongs with", text, spaces(m.line.indent), what, min(m.near[0], m.near[1]), max(m.near[0], m.near[1]))
	}
	return fmt.Sprintf("%s is indented %s, as no block above it is: indent it as the lines it belongs with", text, spaces(m.line.indent))
}

// placeSyntaxError finds the line to edit for a yaml.v3 syntax error, msg, which yaml.v3
// reported at line (0 when it gave none), and says what to change there. ok is false when the
// text shows nothing more than yaml.v3 said.
func placeSyntaxError(msg string, line int, data []byte) (at int, hint string, ok bool) {
	parser := false
	for _, p := range yamlParserProblems {
		if msg == p {
			parser = true
		}
	}
	if parser && line > 0 {
		line++ // counted from 0
	}
	src := readYAMLSource(data)

	// A quoted string left open runs on over the lines below it, which the parser then reads
	// wrongly.
	for _, q := range src.quotes {
		if q.start > line && line > 0 && !parser {
			break
		}
		if q.end == 0 {
			return q.start, fmt.Sprintf("a quoted string opened with %c on this line is never closed: end it with %c", q.quote, q.quote), true
		}
		if q.blockLike {
			return q.start, fmt.Sprintf("a quoted string opened with %c on this line is not closed on it (the next %c is on line %d, so the lines between are read as its text): end it with %c on this line", q.quote, q.quote, q.end, q.quote), true
		}
	}

	l := src.line(line)
	switch msg {
	case "did not find expected ',' or '}'", "did not find expected ',' or ']'":
		open, close, what := byte('{'), "}", "flow mapping"
		if strings.HasSuffix(msg, "']'") {
			open, close, what = '[', "]", "list"
		}
		for _, f := range src.flows {
			if f.start == line && f.open == open {
				return line, fmt.Sprintf("a %s `%c` opened on this line is not closed: end it with `%s`", what, open, close), true
			}
		}
		if l != nil {
			return line, fmt.Sprintf("in `%s`, an entry is not followed by ',' or `%s`: separate entries with ', ', and quote a value that holds ': ' or ', '", strings.TrimSpace(l.text), close), true
		}
	case "could not find expected ':'":
		if l != nil && !l.key && !l.skip {
			if l.colonNoSpace {
				return line, colonNoSpaceHint(l), true
			}
			return line, noColonHint(l), true
		}
	case "mapping values are not allowed in this context":
		// A line above with no "key: " runs on, as text, into this one.
		if p := src.prevContent(line); p != nil && l != nil && p.indent == l.indent && !p.key && len(p.dashes) == 0 {
			if p.colonNoSpace {
				return p.n, colonNoSpaceHint(p), true
			}
			return p.n, noColonHint(p), true
		}
		if m := src.firstMisindented(line); m != nil && m.line.n == line {
			return line, m.hint(), true
		}
		if l != nil && l.valueColon {
			k, v, _ := strings.Cut(strings.TrimSpace(l.text[min(l.body, len(l.text)):]), ": ")
			v = strings.TrimSpace(v)
			return line, fmt.Sprintf("the value of %s holds ': ', which YAML reads as the start of another key: put the value in quotes, `%s: %s`", k, k, quoteYAML(v)), true
		}
	case "block sequence entries are not allowed in this context":
		if l != nil && l.key {
			k, v, _ := strings.Cut(strings.TrimSpace(l.text[min(l.body, len(l.text)):]), ":")
			item := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), "-"))
			return line, fmt.Sprintf("a list item cannot follow `%s:` on its line: write `%s: [%s]`, or put `- %s` on the next line, indented under %s", k, k, item, item, k), true
		}
	case "found character that cannot start any token":
		if l != nil {
			t := strings.TrimSpace(l.text[min(l.body, len(l.text)):])
			if _, v, ok := strings.Cut(t, ": "); ok {
				t = strings.TrimSpace(v)
			}
			if t != "" && (t[0] == '@' || t[0] == '`') {
				c := "@"
				if t[0] == '`' {
					c = "a backquote"
				}
				return line, fmt.Sprintf("a value cannot start with %s: put it in quotes, %s", c, quoteYAML(t)), true
			}
		}
	case "found unknown escape character":
		return line, "in double quotes a backslash starts an escape (\\n, \\t, \\\"): write \\\\ for a backslash, or put the value in single quotes", true
	case "did not find expected alphabetic or numeric character":
		return line, "an & (anchor) or * (alias) needs a name right after it, like &base or *base: add the name, or put the value in quotes", true
	case "did not find expected '-' indicator", "did not find expected key", "did not find expected node content":
		if m := src.firstMisindented(line); m != nil {
			return m.line.n, m.hint(), true
		}
		for n := max(line, 1); n <= len(src.lines); n++ {
			l := src.line(n)
			switch {
			case l.skip:
			case l.afterQuote != "":
				return n, fmt.Sprintf("`%s` follows a closing quote on this line: put it inside the quotes, or remove it", l.afterQuote), true
			case l.colonNoSpace:
				return n, colonNoSpaceHint(l), true
			}
		}
	}
	return line, "", false
}

// prevContent returns the nearest line above n that is not blank, a comment or a continuation.
func (s *yamlSource) prevContent(n int) *yamlLine {
	for k := n - 1; k >= 1; k-- {
		if l := s.line(k); !l.skip {
			return l
		}
	}
	return nil
}

func noColonHint(l *yamlLine) string {
	body := strings.TrimSpace(l.text[min(l.body, len(l.text)):])
	prefix := strings.TrimSpace(l.text[:min(l.body, len(l.text))])
	if prefix != "" {
		prefix += " "
	}
	k, v, _ := strings.Cut(body, " ")
	if v = strings.TrimSpace(v); v == "" {
		v = "VALUE"
	}
	return fmt.Sprintf("`%s` has no ':' after the key: write `%s%s: %s`", strings.TrimSpace(l.text), prefix, k, v)
}

func colonNoSpaceHint(l *yamlLine) string {
	body := strings.TrimSpace(l.text[min(l.body, len(l.text)):])
	k, v, _ := strings.Cut(body, ":")
	return fmt.Sprintf("`%s` has no space after the ':', so YAML reads it as text, not a key: write `%s: %s`", body, k, strings.TrimSpace(v))
}

// quoteYAML writes v as a YAML string in double quotes.
func quoteYAML(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}

// shorten returns s, or its start and "..." when it is long.
func shorten(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:37]) + "..."
	}
	return s
}
