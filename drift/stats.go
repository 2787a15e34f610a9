package drift

import "math"

// This file holds the tests the detectors run. Each returns a one-sided p-value: the chance,
// if nothing had changed, of a result at least as far in the harmful direction as the one
// seen. The exact tests (hypergeometric, binomial) never understate that chance, so a
// detector that fires below a level α fires on unchanged traffic with probability at most α.

// lchoose returns log(n choose k).
func lchoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}

// tailEps stops a tail sum once the terms no longer change it.
const tailEps = 1e-15

// hypergeomUpper is Fisher's exact test, one-sided: x of the n window observations are events
// and k of all N window and reference observations are, and it returns P(X ≥ x) for X, the
// events that n draws without replacement from the N would hold. Conditioned on the total,
// this is the exact chance of a window at least this bad when window and reference come from
// the same rate, whatever that rate is.
func hypergeomUpper(x, n, k, N int) float64 {
	lo, hi := max(0, n-(N-k)), min(n, k)
	if x <= lo {
		return 1
	}
	if x > hi {
		return 0
	}
	term := math.Exp(lchoose(k, x) + lchoose(N-k, n-x) - lchoose(N, n))
	sum := 0.0
	for i := x; i <= hi && term > 0; i++ {
		sum += term
		if term < sum*tailEps {
			break
		}
		term *= float64(k-i) * float64(n-i) / (float64(i+1) * float64(N-k-n+i+1))
	}
	return min(sum, 1)
}

// binomUpper returns P(X ≥ x) for X ~ Binomial(n, p): the exact chance of at least x events
// in n observations that each have probability p.
func binomUpper(x, n int, p float64) float64 {
	switch {
	case x <= 0:
		return 1
	case x > n || p <= 0:
		return 0
	case p >= 1:
		return 1
	}
	term := math.Exp(lchoose(n, x) + float64(x)*math.Log(p) + float64(n-x)*math.Log1p(-p))
	odds := p / (1 - p)
	sum := 0.0
	for i := x; i <= n && term > 0; i++ {
		sum += term
		if term < sum*tailEps {
			break
		}
		term *= float64(n-i) / float64(i+1) * odds
	}
	return min(sum, 1)
}

// normalUpper returns P(Z ≥ z) for a standard normal Z.
func normalUpper(z float64) float64 { return 0.5 * math.Erfc(z/math.Sqrt2) }

// mannWhitneyUpper is the Mann–Whitney U (Wilcoxon rank-sum) test, one-sided, on two
// histograms with the same bins: it returns the chance that observations drawn from one
// population would put the window at least this far above the reference. Observations in the
// same bin are ties; the variance is corrected for them, and the statistic carries a
// continuity correction. With a window of 200 and a reference of 2000 the normal
// approximation is close even far in the tail.
func mannWhitneyUpper(win, ref *hist) float64 {
	var nw, nr, u, ties float64
	for i := range win {
		w, r := float64(win[i]), float64(ref[i])
		u += w * (nr + r/2) // window observations above every earlier reference one, ties half
		nw += w
		nr += r
		t := w + r
		ties += t*t*t - t
	}
	n := nw + nr
	if nw == 0 || nr == 0 {
		return 1
	}
	mean := nw * nr / 2
	v := nw * nr / 12 * ((n + 1) - ties/(n*(n-1)))
	if v <= 0 {
		return 1 // every observation in one bin: nothing to rank
	}
	return normalUpper((u - mean - 0.5) / math.Sqrt(v))
}

// minExpected is the smallest expected count a chi-square cell may have; rarer columns are
// pooled, which keeps the chi-square approximation honest.
const minExpected = 5

// chiSquareMix is the chi-square test of homogeneity of two count vectors (window and
// reference shares of each model). Columns whose expected window count is below minExpected
// are pooled into one. When fewer than two columns remain (one model answers nearly every
// request, in the window and the reference alike), it tests instead the share of the model
// that answered the most requests against all the others, by Fisher's exact test, two-sided
// (dominantShare): the approximation needs no expected counts then, and a window all of the
// reference's only model is found no worse (p = 1). It returns false, untested, only when the
// window or the reference is empty. pooled is scratch space of the vectors' length plus one.
func chiSquareMix(win, ref []int32, pooled [][2]float64) (float64, bool) {
	var nw, nr float64
	for i := range win {
		nw += float64(win[i])
		nr += float64(ref[i])
	}
	n := nw + nr
	if nw == 0 || nr == 0 {
		return 1, false
	}
	cols := pooled[:0]
	var rest [2]float64
	for i := range win {
		t := float64(win[i]) + float64(ref[i])
		if t == 0 {
			continue
		}
		if nw*t/n < minExpected || nr*t/n < minExpected {
			rest[0] += float64(win[i])
			rest[1] += float64(ref[i])
			continue
		}
		cols = append(cols, [2]float64{float64(win[i]), float64(ref[i])})
	}
	if t := rest[0] + rest[1]; t > 0 {
		if nw*t/n >= minExpected && nr*t/n >= minExpected || len(cols) == 0 {
			cols = append(cols, rest)
		} else {
			// Too small even pooled: fold it into the smallest column.
			small := 0
			for i := range cols {
				if cols[i][0]+cols[i][1] < cols[small][0]+cols[small][1] {
					small = i
				}
			}
			cols[small][0] += rest[0]
			cols[small][1] += rest[1]
		}
	}
	if len(cols) < 2 {
		return dominantShare(win, ref), true
	}
	chi := 0.0
	for _, c := range cols {
		t := c[0] + c[1]
		ew, er := nw*t/n, nr*t/n
		chi += (c[0]-ew)*(c[0]-ew)/ew + (c[1]-er)*(c[1]-er)/er
	}
	return gammaQ(float64(len(cols)-1)/2, chi/2), true
}

// dominantShare is Fisher's exact test, two-sided, of the share of requests that the model
// with the most of them (window and reference together) answered, in the window against the
// reference. It returns twice the smaller tail, at most 1: an exact test never understates
// the chance of a result so far from the reference's share, in either direction. Every
// request of both on one model leaves both tails at 1.
func dominantShare(win, ref []int32) float64 {
	top, nw, nr := 0, 0, 0
	for i := range win {
		nw += int(win[i])
		nr += int(ref[i])
		if win[i]+ref[i] > win[top]+ref[top] {
			top = i
		}
	}
	x, n, k, total := int(win[top]), nw, int(win[top]+ref[top]), nw+nr
	upper := hypergeomUpper(x, n, k, total)
	lower := hypergeomUpper(n-x, n, total-k, total) // P(X ≤ x): the window's other requests, at least n−x
	return min(1, 2*min(upper, lower))
}

// gammaQ is the regularised upper incomplete gamma function Q(a, x) = Γ(a, x)/Γ(a); the
// chi-square survival function with k degrees of freedom is gammaQ(k/2, χ²/2). A series serves
// x < a+1 and a continued fraction (modified Lentz) the rest, as in Numerical Recipes.
func gammaQ(a, x float64) float64 {
	if x <= 0 {
		return 1
	}
	lg, _ := math.Lgamma(a)
	front := math.Exp(-x + a*math.Log(x) - lg)
	if x < a+1 {
		sum, del := 1/a, 1/a
		for i := 1; i < 1000 && math.Abs(del) > math.Abs(sum)*1e-15; i++ {
			del *= x / (a + float64(i))
			sum += del
		}
		return max(0, 1-sum*front)
	}
	const tiny = 1e-300
	b := x + 1 - a
	c, d := 1/tiny, 1/b
	h := d
	for i := 1; i < 1000; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-15 {
			break
		}
	}
	return min(1, front*h)
}
