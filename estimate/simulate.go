package estimate

import (
	"math/rand/v2"
)

// simulation is the Monte Carlo evaluation of a plan: the same process as the closed form,
// drawn request by request. Its latency histogram gives the tail quantiles; its other sums
// check the closed form (they agree within sampling error, which the tests verify).
type simulation struct {
	hist *hist
	// ttfb is the time to the first byte a streaming client gets: the answering call's first
	// token, or, on a validated step, the whole answer (it is buffered until it passes).
	ttfb *hist
	n    float64

	cost, judgeCost, delivered   float64
	costSq, latSq                float64 // sums of squares, for standard errors
	costFailed, costFailedSq     float64 // cost paid by requests that failed (outcome.costFailed)
	good, bad, failed, flagged   float64
	escalated, fellBack, retries float64
	cuts                         float64 // calls cut by their timeout
	mix                          map[string]float64
	// draws are the requests' latencies in order, when kept (simulateKeeping): pipelines add
	// up their steps' draws (see pipeline.go).
	draws []float64
}

// simulate draws n requests through the plan using r.
func (p routePlan) simulate(n int, r *rand.Rand) *simulation { return p.simulateKeeping(n, r, false) }

// simulateKeeping is simulate, keeping each request's latency in sim.draws when keep is set.
// Keeping them draws nothing more: the figures are the same either way.
func (p routePlan) simulateKeeping(n int, r *rand.Rand, keep bool) *simulation {
	return p.simulateUntil(nil, n, r, keep)
}

// cancelEvery is how many requests a simulation draws between looks at its done channel.
const cancelEvery = 4096

// simulateUntil is simulateKeeping, stopping early when done is closed (a run cancelled with
// Ctrl-C): its figures are then those of the requests drawn so far, which the caller must
// not report. A nil done never closes.
func (p routePlan) simulateUntil(done <-chan struct{}, n int, r *rand.Rand, keep bool) *simulation {
	sim := &simulation{hist: newHist(), ttfb: newHist(), mix: map[string]float64{}}
	if keep {
		sim.draws = make([]float64, 0, n)
	}
	cum := make([]float64, len(p.arms))
	var total float64
	for i, a := range p.arms {
		total += a.weight
		cum[i] = total
	}
	for i := range n {
		if done != nil && i%cancelEvery == cancelEvery-1 && closed(done) {
			n = i
			break
		}
		a := &p.arms[0]
		if len(p.arms) > 1 {
			u := r.Float64() * total
			for i := range p.arms {
				if u < cum[i] || i == len(p.arms)-1 {
					a = &p.arms[i]
					break
				}
			}
		}
		before, failedBefore := sim.cost, sim.failed
		t, first := a.simulateOne(r, sim)
		sim.hist.add(t)
		sim.ttfb.add(first)
		if keep {
			sim.draws = append(sim.draws, t)
		}
		c := sim.cost - before
		sim.costSq += c * c
		if sim.failed > failedBefore {
			sim.costFailed += c
			sim.costFailedSq += c * c
		}
		sim.latSq += t * t
	}
	sim.n = float64(n)
	return sim
}

// try calls a step's chain once: the model, its retries, its failover. It returns the index
// of the candidate that answered (-1 if none), the time spent and, for an answer, the time
// its first token took from the start of the answering call's wait. abort reports that the
// request's timeout cut candidate j's call, which fails the request.
func (s *step) try(r *rand.Rand, sim *simulation) (j int, t, first float64, abort bool) {
	for j := range s.chain {
		c := &s.chain[j]
		wait := s.backoff
	tries:
		for k := 0; k <= s.retries; k++ {
			if k > 0 {
				t += r.Float64() * wait // full jitter
				wait *= 2
				sim.retries++
			}
			if r.Float64() < c.avail {
				total, ttft := c.lat.sampleTTFT(r)
				if total > c.timeout {
					t += c.timeout
					sim.cuts++
					if c.abort {
						return j, t, t, true
					}
					break tries // a timeout is not retried: fail over
				}
				first := t + ttft
				t += total
				sim.cost += float64(c.cost)
				return j, t, first, false
			}
			if c.lat.failAfter >= c.timeout { // the error comes after the timeout: a cut
				t += c.timeout
				sim.cuts++
				if c.abort {
					return j, t, t, true
				}
				break tries
			}
			t += c.lat.failAfter
		}
	}
	return -1, t, t, false
}

// simulateOne runs one request and returns its latency and time to first byte in seconds.
func (a *arm) simulateOne(r *rand.Rand, sim *simulation) (float64, float64) {
	var t float64
	fellBack := false
	escalated := false // an earlier step's validation flagged the request's answer
	n := len(a.steps)
	if n == 0 {
		sim.failed++ // no model on the route can take the request: it fails at once
		return 0, 0
	}
	for i := 0; i < n; i++ {
		s := &a.steps[i]
		last := i == n-1
		if i == 1 {
			sim.escalated++
		}
		retried := false
	again:
		start := t
		j, dt, first, abort := s.try(r, sim)
		t += dt
		if abort {
			sim.failed++
			if fellBack || j > 0 {
				sim.fellBack++
			}
			return t, t
		}
		if j < 0 {
			if last {
				sim.failed++
				if fellBack || len(s.chain) > 1 {
					sim.fellBack++
				}
				return t, t
			}
			fellBack = true
			continue
		}
		if j > 0 {
			fellBack = true
		}
		c := &s.chain[j]
		pass := c.pass
		if escalated {
			pass = c.passEsc
		}
		good := r.Float64() < pass
		if s.validated {
			for k := range s.judges {
				jd := &s.judges[k]
				t += jd.lat.sample(r)
				sim.cost += float64(jd.cost)
				sim.judgeCost += float64(jd.cost)
			}
			var flag bool
			if good {
				flag = r.Float64() < s.falseAlarm
			} else {
				flag = r.Float64() < s.detect
			}
			if flag {
				switch {
				case s.retryOnce && !retried:
					retried = true
					goto again
				case !last:
					escalated = true
					continue
				case a.failExhausted:
					sim.failed++
					sim.flagged++
					if fellBack {
						sim.fellBack++
					}
					return t, t
				}
				sim.flagged++
			}
		}
		if good {
			sim.good++
		} else {
			sim.bad++
		}
		sim.delivered += float64(c.cost)
		sim.mix[c.name]++
		if fellBack {
			sim.fellBack++
		}
		if s.validated {
			return t, t // buffered until it passed
		}
		return t, start + first
	}
	return t, t
}

// closed reports whether ch is closed, without waiting.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
