package plot

import (
	"math"
	"slices"
	"unicode/utf8"
)

// Mark is a point's mark on the canvas: its centre and the radius of a circle around it.
type Mark struct{ X, Y, R float64 }

// Box is a rectangle on the canvas, from (X0, Y0) to (X1, Y1).
type Box struct{ X0, Y0, X1, Y1 float64 }

// Overlap returns the area a and b share.
func (a Box) Overlap(b Box) float64 {
	w := math.Min(a.X1, b.X1) - math.Max(a.X0, b.X0)
	h := math.Min(a.Y1, b.Y1) - math.Max(a.Y0, b.Y0)
	if w <= 0 || h <= 0 {
		return 0
	}
	return w * h
}

// Outside returns the area of a outside b.
func (a Box) Outside(b Box) float64 { return (a.X1-a.X0)*(a.Y1-a.Y0) - a.Overlap(b) }

// Box returns the square the mark covers.
func (m Mark) Box() Box { return Box{m.X - m.R, m.Y - m.R, m.X + m.R, m.Y + m.R} }

// Label is where a label is written: its baseline's anchor point, its SVG text-anchor
// ("start", "middle" or "end") and, from PlaceLabels, the text drawn there.
type Label struct {
	X, Y   float64
	Anchor string
	// Text is the label's text as drawn: shortened with "…" when the whole text is wider
	// than the area it must stay in (the caller then gives the whole text as a tooltip), and
	// empty when the label is not drawn.
	Text string
}

// Label metrics, generously: an 11px label's characters are at most LabelCharWidth wide on
// average, its glyphs rise LabelAscent above the baseline and fall LabelDescent below.
const (
	LabelCharWidth            = 6.5
	LabelAscent, LabelDescent = 9.0, 3.0
)

// Extent returns the box a label of text covers at l.
func (l Label) Extent(text string) Box {
	w := LabelCharWidth * float64(utf8.RuneCountInString(text))
	x0 := l.X
	switch l.Anchor {
	case "end":
		x0 -= w
	case "middle":
		x0 -= w / 2
	}
	return Box{x0, l.Y - LabelAscent, x0 + w, l.Y + LabelDescent}
}

// PlaceLabels chooses where the labels of some marks go: texts[i] labels marks[i], and an
// empty text is no label (the mark is still kept clear). Labels are placed in the given order
// (nil: the marks' order), each in the first of a few places around its mark (above and to
// the right first, or to the left for a mark in the right part of area) whose label overlaps
// no label already placed, no mark and nothing taken; when every place overlaps something,
// the one that overlaps least, or, when optional[i] is set (optional may be nil), nowhere:
// the label is left out.
//
// A label never leaves area: a place that would cross its edge is moved inside, and a text
// wider than area is shortened to fit, ending in "…" (Label.Text).
func PlaceLabels(marks []Mark, texts []string, order []int, optional []bool, taken []Box, area Box) []Label {
	out := make([]Label, len(marks))
	placed := slices.Clone(taken)
	if order == nil {
		order = make([]int, len(marks))
		for i := range order {
			order[i] = i
		}
	}
	for _, i := range order {
		m, text := marks[i], fit(texts[i], area.X1-area.X0)
		if text == "" {
			continue
		}
		right := []Label{{m.X + 8, m.Y - 10, "start", text}, {m.X + 8, m.Y + 18, "start", text}, {m.X + m.R + 4, m.Y + 4, "start", text}}
		left := []Label{{m.X - 8, m.Y - 10, "end", text}, {m.X - 8, m.Y + 18, "end", text}, {m.X - m.R - 4, m.Y + 4, "end", text}}
		centred := []Label{{m.X, m.Y - m.R - 6, "middle", text}, {m.X, m.Y + m.R + 14, "middle", text}}
		candidates := append(append(right, left...), centred...)
		if m.X > area.X0+(area.X1-area.X0)*0.7 {
			candidates = append(append(left, right...), centred...)
		}
		best, least := 0, math.Inf(1)
		for k := range candidates {
			candidates[k] = candidates[k].inside(area)
			e := candidates[k].Extent(text)
			cost := 0.0
			for _, p := range placed {
				cost += e.Overlap(p)
			}
			for _, o := range marks {
				cost += e.Overlap(o.Box())
			}
			if cost < least {
				best, least = k, cost
			}
			if cost == 0 {
				break
			}
		}
		if least > 0 && optional != nil && optional[i] {
			continue
		}
		out[i] = candidates[best]
		placed = append(placed, out[i].Extent(text))
	}
	return out
}

// inside returns l moved the least that puts its text inside area (as far as it fits).
func (l Label) inside(area Box) Label {
	e := l.Extent(l.Text)
	switch {
	case e.X0 < area.X0:
		l.X += area.X0 - e.X0
	case e.X1 > area.X1:
		l.X -= e.X1 - area.X1
	}
	switch {
	case e.Y0 < area.Y0:
		l.Y += area.Y0 - e.Y0
	case e.Y1 > area.Y1:
		l.Y -= e.Y1 - area.Y1
	}
	return l
}

// fit returns text shortened, ending in "…", to at most width pixels of label.
func fit(text string, width float64) string {
	n := int(width / LabelCharWidth)
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	if n < 1 {
		return ""
	}
	return string([]rune(text)[:n-1]) + "…"
}
