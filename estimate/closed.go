package estimate

import "math"

// outcome is the evaluation of a route plan in one category: expectations per request.
// Costs are in nano-dollars as float64 while they accumulate and are rounded once, into
// clearbar.Money, when results are built.
type outcome struct {
	cost float64 // everything paid: answers, discarded attempts, validator calls
	// costFailed is the part of cost paid by requests that end failed: the answers and
	// validator calls they paid for before they were cut, ran out of providers, or were
	// flagged on the last step with on_exhausted: fail (see world.servedCost).
	costFailed float64
	judgeCost  float64 // the validator calls' part of cost (judges, agreement checks)
	delivered  float64 // the call whose answer was delivered
	latency    float64 // mean, seconds

	good, bad, failed float64 // P(good answer delivered), P(bad delivered), P(request failed)
	flagged           float64 // P(a flagged answer was delivered, or the request failed on flags)
	escalated         float64 // P(the request went past its first step)
	fellBack          float64 // P(a provider error moved the request to another model)
	retries           float64 // expected provider retries per request
	cuts              float64 // expected calls per request cut by their timeout
	quality           float64 // = good

	mix map[string]float64 // P(the delivered answer came from model)
}

// stepStats are the expectations of one call of a step (its model, retries and failover).
type stepStats struct {
	succ      []float64 // P(answered by candidate j)
	abort     []float64 // P(candidate j's call was cut by the request's timeout: the request fails)
	fail      float64   // P(every candidate failed)
	cost      float64   // expected cost of the call
	latency   float64   // expected time of the call, including failed tries and backoff
	retries   float64   // expected retries
	cuts      float64   // expected calls cut by their timeout
	judgeCost float64   // per validation
	judgeLat  float64
}

func (s *step) stats() stepStats {
	st := stepStats{succ: make([]float64, len(s.chain)), abort: make([]float64, len(s.chain))}
	reach := 1.0
	for j, c := range s.chain {
		// One try answers in time, is cut by the timeout (no retry: the gateway fails over), or
		// fails with a provider error, which is retried; an error slower than the timeout is cut.
		q := 1 - c.avail
		inTime, cut, errP, failAfter := c.avail*(1-c.cut), c.avail*c.cut, q, c.lat.failAfter
		if failAfter >= c.timeout {
			cut, errP, failAfter = cut+q, 0, c.timeout
		}
		var S, X, tRet, tLat float64
		exhaust := math.Pow(errP, float64(s.retries+1)) // P(every try failed with an error)
		if cut == 0 {
			S = 1 - exhaust
		} else { // errP < 1
			S, X = inTime*(1-exhaust)/(1-errP), cut*(1-exhaust)/(1-errP)
		}
		qk := 1.0 // P(reaching try k | reached the candidate)
		for k := 0; k <= s.retries; k++ {
			if k > 0 {
				tRet += qk
				tLat += qk * s.backoff * math.Pow(2, float64(k-1)) / 2
			}
			tLat += qk * (c.avail*c.meanCut + q*failAfter)
			qk *= errP
		}
		st.succ[j] = reach * S
		st.cost += reach * S * float64(c.cost)
		st.latency += reach * tLat
		st.retries += reach * tRet
		st.cuts += reach * X
		if c.abort {
			st.abort[j] = reach * X
			reach *= 1 - S - X
		} else {
			reach *= 1 - S
		}
	}
	st.fail = reach
	for _, j := range s.judges {
		st.judgeCost += float64(j.cost)
		st.judgeLat += j.lat.mean()
	}
	return st
}

// closed evaluates a plan exactly, by propagating probability mass through the steps.
func (p routePlan) closed() outcome {
	o := outcome{mix: map[string]float64{}}
	for _, a := range p.arms {
		ao := a.closed()
		o.cost += a.weight * ao.cost
		o.costFailed += a.weight * ao.costFailed
		o.judgeCost += a.weight * ao.judgeCost
		o.delivered += a.weight * ao.delivered
		o.latency += a.weight * ao.latency
		o.good += a.weight * ao.good
		o.bad += a.weight * ao.bad
		o.failed += a.weight * ao.failed
		o.flagged += a.weight * ao.flagged
		o.escalated += a.weight * ao.escalated
		o.fellBack += a.weight * ao.fellBack
		o.retries += a.weight * ao.retries
		o.cuts += a.weight * ao.cuts
		for k, v := range ao.mix {
			o.mix[k] += a.weight * v
		}
	}
	o.quality = o.good
	return o
}

func (a *arm) closed() outcome {
	o := outcome{mix: map[string]float64{}}
	n := len(a.steps)
	if n == 0 {
		// No model on the route can take these requests (see fits): each fails at once.
		o.failed = 1
		return o
	}
	// mass[i][retried][fellBack][escalated], and paid[i][retried][fellBack][escalated] what
	// that mass has paid so far (probability × cost), which goes with it wherever it ends:
	// failed requests' share of it is costFailed. escalated is 1 for requests an earlier
	// step's validation flagged, whose answers are good at the models' escalated pass rates.
	mass := make([][2][2][2]float64, n+1)
	paid := make([][2][2][2]float64, n+1)
	mass[0][0][0][0] = 1
	deliver := func(c call, p, good float64, fb int, flagged bool) {
		o.good += p * good
		o.bad += p * (1 - good)
		o.delivered += p * float64(c.cost)
		o.mix[c.name] += p
		if fb == 1 {
			o.fellBack += p
		}
		if flagged {
			o.flagged += p
		}
	}
	for i := 0; i < n; i++ {
		s := &a.steps[i]
		ss := s.stats()
		last := i == n-1
		for r := 0; r < 2; r++ {
			for f := 0; f < 2; f++ {
				for e := 0; e < 2; e++ {
					m := mass[i][r][f][e]
					if m == 0 {
						continue
					}
					before := paid[i][r][f][e] / m // paid per request arriving here
					if i == 1 && r == 0 {
						o.escalated += m // arrivals at the second step: each escalated request once
					}
					o.cost += m * ss.cost
					o.latency += m * ss.latency
					o.retries += m * ss.retries
					o.cuts += m * ss.cuts
					for j := range s.chain {
						// The request's timeout cut the call: the request fails at once.
						if pa := m * ss.abort[j]; pa > 0 {
							o.failed += pa
							o.costFailed += pa * before // a cut call costs nothing
							if f == 1 || j > 0 {
								o.fellBack += pa
							}
						}
					}
					for j, c := range s.chain {
						p := m * ss.succ[j]
						if p == 0 {
							continue
						}
						fb := f
						if j > 0 {
							fb = 1
						}
						pass := c.pass
						if e == 1 {
							pass = c.passEsc
						}
						spent := before + float64(c.cost) // per request answered by c
						if s.validated {
							spent += ss.judgeCost
						}
						if !s.validated {
							deliver(c, p, pass, fb, false)
							continue
						}
						o.cost += p * ss.judgeCost
						o.judgeCost += p * ss.judgeCost
						o.latency += p * ss.judgeLat
						goodOK := p * pass * (1 - s.falseAlarm)
						badOK := p * (1 - pass) * (1 - s.detect)
						if okP := goodOK + badOK; okP > 0 {
							deliver(c, okP, goodOK/okP, fb, false)
						}
						goodFlag := p * pass * s.falseAlarm
						badFlag := p * (1 - pass) * s.detect
						pf := goodFlag + badFlag
						if pf == 0 {
							continue
						}
						switch {
						case s.retryOnce && r == 0:
							mass[i][1][fb][e] += pf
							paid[i][1][fb][e] += pf * spent
						case !last:
							mass[i+1][0][fb][1] += pf
							paid[i+1][0][fb][1] += pf * spent
						case a.failExhausted:
							o.failed += pf
							o.costFailed += pf * spent
							o.flagged += pf
							if fb == 1 {
								o.fellBack += pf
							}
						default:
							deliver(c, pf, goodFlag/pf, fb, true)
						}
					}
					pfail := m * ss.fail
					if pfail == 0 {
						continue
					}
					if last {
						o.failed += pfail
						o.costFailed += pfail * before // failed calls cost nothing
						if f == 1 || len(s.chain) > 1 {
							o.fellBack += pfail
						}
					} else {
						mass[i+1][0][1][e] += pfail
						paid[i+1][0][1][e] += pfail * before
					}
				}
			}
		}
	}
	o.quality = o.good
	return o
}
