package review

import (
	"fmt"
	"strings"
)

// diffContext is the number of unchanged lines a unified diff shows around each change.
const diffContext = 3

// unifiedDiff returns the unified diff that turns text a into text b, both named name, or ""
// when they are equal. Lines are compared whole; the common head and tail are set aside
// before the longest common subsequence of the rest is computed, so the quadratic part only
// sees the region that changed.
func unifiedDiff(name string, a, b string) string {
	if a == b {
		return ""
	}
	x, y := splitLines(a), splitLines(b)
	pre := 0
	for pre < len(x) && pre < len(y) && x[pre] == y[pre] {
		pre++
	}
	suf := 0
	for suf < len(x)-pre && suf < len(y)-pre && x[len(x)-1-suf] == y[len(y)-1-suf] {
		suf++
	}
	ops := make([]diffOp, 0, len(x)+len(y))
	for i := range pre {
		ops = append(ops, diffOp{' ', x[i]})
	}
	ops = append(ops, lcsDiff(x[pre:len(x)-suf], y[pre:len(y)-suf])...)
	for i := len(x) - suf; i < len(x); i++ {
		ops = append(ops, diffOp{' ', x[i]})
	}
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s (recommended)\n", name, name)
	writeHunks(&out, ops)
	return out.String()
}

// diffOp is one line of a diff: ' ' kept, '-' removed, '+' added.
type diffOp struct {
	kind byte
	line string
}

// splitLines splits text into lines without their newlines; a missing final newline is
// marked the way diff(1) marks it.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		if strings.HasSuffix(l, "\n") {
			lines[i] = l[:len(l)-1]
		} else {
			lines[i] = l + "\n\\ No newline at end of file"
		}
	}
	return lines
}

// lcsDiff diffs two line slices by their longest common subsequence.
func lcsDiff(x, y []string) []diffOp {
	n, m := len(x), len(y)
	// l[i][j] is the length of the LCS of x[i:] and y[j:].
	l := make([][]int32, n+1)
	for i := range l {
		l[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				l[i][j] = l[i+1][j+1] + 1
			} else {
				l[i][j] = max(l[i+1][j], l[i][j+1])
			}
		}
	}
	var ops []diffOp
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case x[i] == y[j]:
			ops = append(ops, diffOp{' ', x[i]})
			i++
			j++
		case l[i+1][j] >= l[i][j+1]:
			ops = append(ops, diffOp{'-', x[i]})
			i++
		default:
			ops = append(ops, diffOp{'+', y[j]})
			j++
		}
	}
	for ; i < n; i++ {
		ops = append(ops, diffOp{'-', x[i]})
	}
	for ; j < m; j++ {
		ops = append(ops, diffOp{'+', y[j]})
	}
	return ops
}

// writeHunks writes the changes in ops as unified-diff hunks with diffContext lines of
// context, merging hunks whose context would overlap.
func writeHunks(out *strings.Builder, ops []diffOp) {
	for start := 0; start < len(ops); {
		// Find the next change.
		first := start
		for first < len(ops) && ops[first].kind == ' ' {
			first++
		}
		if first == len(ops) {
			return
		}
		// Extend the hunk while the next change is within 2×context lines.
		end := first
		for {
			for end < len(ops) && ops[end].kind != ' ' {
				end++
			}
			next := end
			for next < len(ops) && ops[next].kind == ' ' {
				next++
			}
			if next == len(ops) || next-end > 2*diffContext {
				break
			}
			end = next
		}
		lo, hi := max(0, first-diffContext), min(len(ops), end+diffContext)
		// Line numbers: count the lines of each side before lo.
		aLine, bLine := 1, 1
		for _, op := range ops[:lo] {
			if op.kind != '+' {
				aLine++
			}
			if op.kind != '-' {
				bLine++
			}
		}
		aLen, bLen := 0, 0
		for _, op := range ops[lo:hi] {
			if op.kind != '+' {
				aLen++
			}
			if op.kind != '-' {
				bLen++
			}
		}
		fmt.Fprintf(out, "@@ -%s +%s @@\n", hunkRange(aLine, aLen), hunkRange(bLine, bLen))
		for _, op := range ops[lo:hi] {
			out.WriteByte(op.kind)
			out.WriteString(op.line)
			out.WriteByte('\n')
		}
		start = hi
	}
}

// hunkRange writes a hunk's start and length as unified diffs do: an empty range starts at
// the line before it.
func hunkRange(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start-1)
	case 1:
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}
