package review

import (
	_ "embed"
	"html/template"
	"io"
	"strings"
	"time"
)

//go:embed report.html.tmpl
var reportHTML string

var htmlTemplate = template.Must(template.New("review").Funcs(template.FuncMap{
	"pct":      pct,
	"pct0":     pct0,
	"secs":     secs,
	"group":    groupInt,
	"formatp":  func(p any) string { return formatP(toFloat(p)) },
	"value":    func(unit string, v Num) string { return formatValue(unit, float64(v)) },
	"interval": formatInterval,
	"signed":   func(unit string, v Num) string { return signed(unit, float64(v)) },
	"scope":    triggerScope,
	"mixline":  mixLine,
	"pcell":    pCell,
	"verdict":  verdict,
	"short":    shortHash,
	"datetime": func(t time.Time) string { return t.Format(time.DateTime) },
	"reviewline": func(rv ReviewDue) template.HTML {
		return template.HTML(boldToHTML(template.HTMLEscapeString(reviewLine(rv))))
	},
	"yesno": yesNo,
	"more":  moreTraffic,
	"rest":  func(cs []*Comparison) []*Comparison { return cs[1:] },
	"diff":  diffHTML,
}).Parse(reportHTML))

func toFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case Num:
		return float64(x)
	}
	return 0
}

// boldToHTML turns the Markdown bold of escaped text into <strong>.
func boldToHTML(s string) string {
	for i := 0; strings.Contains(s, "**"); i++ {
		tag := "<strong>"
		if i%2 == 1 {
			tag = "</strong>"
		}
		s = strings.Replace(s, "**", tag, 1)
	}
	return s
}

// diffHTML colours a unified diff, line by line.
func diffHTML(d string) template.HTML {
	var b strings.Builder
	for _, line := range strings.SplitAfter(d, "\n") {
		if line == "" {
			continue
		}
		esc := template.HTMLEscapeString(line)
		switch {
		case strings.HasPrefix(line, "+++") || strings.HasPrefix(line, "---") || strings.HasPrefix(line, "@@"):
			b.WriteString(`<span class="hunk">` + esc + `</span>`)
		case strings.HasPrefix(line, "+"):
			b.WriteString(`<span class="add">` + esc + `</span>`)
		case strings.HasPrefix(line, "-"):
			b.WriteString(`<span class="del">` + esc + `</span>`)
		default:
			b.WriteString(esc)
		}
	}
	return template.HTML(b.String())
}

type htmlView struct {
	*Report
	Window, Headline, Method string
}

// WriteHTML writes the report as one self-contained HTML page (inline CSS, no scripts and no
// external requests).
func WriteHTML(w io.Writer, r *Report) error {
	return htmlTemplate.Execute(w, htmlView{Report: r, Window: r.window(), Headline: r.headline(), Method: r.method()})
}
