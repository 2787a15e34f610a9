// Package textdist measures how far apart two strings are, for "did you mean" messages.
package textdist

// Levenshtein returns the edit distance between a and b in bytes. buf, if not nil, is scratch
// space reused between calls to avoid allocating; it is not safe to share between goroutines.
func Levenshtein(a, b string, buf *[2][]int) int {
	if buf == nil {
		buf = new([2][]int)
	}
	if len(buf[0]) < len(b)+1 {
		buf[0] = make([]int, len(b)+1)
		buf[1] = make([]int, len(b)+1)
	}
	prev, cur := buf[0][:len(b)+1], buf[1][:len(b)+1]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Closest returns the candidate nearest to got, and whether it is near enough to suggest: at
// most two edits away, or a third of got's length for longer strings. Ties go to the earlier
// candidate.
func Closest(got string, candidates []string) (string, bool) {
	var buf [2][]int
	best, bestD := "", -1
	for _, c := range candidates {
		if d := Levenshtein(got, c, &buf); bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	return best, bestD >= 0 && bestD <= max(2, len(got)/3)
}
