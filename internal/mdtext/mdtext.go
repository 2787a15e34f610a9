// Package mdtext escapes text for Clearbar's Markdown reports (spec doc, estimate, review), so
// that what a spec's author or a model wrote is shown as written and never read as markup.
package mdtext

import "strings"

// Text escapes what a Markdown renderer would read as HTML, for prose: a spec's descriptions,
// reasons and success criteria keep their own Markdown, but never run as HTML.
var Text = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

// Cell makes text safe inside a table cell or a heading: it keeps it on one line and escapes
// what a renderer would read as a cell's end, emphasis, a link, code, an escape or HTML.
var Cell = strings.NewReplacer(
	"\r\n", " ", "\n", " ", "\r", " ", `\`, `\\`, "|", `\|`, "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "`", "\\`",
	"&", "&amp;", "<", "&lt;", ">", "&gt;",
).Replace
