package spec

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// CallsPerRequest returns the number of model calls one user request makes on average: 1
// without pipelines; with them, Σ pipeline share × its number of steps + Σ category direct
// share (see [Pipeline]). UserVolume times it is the model calls a month, Volume.
func (s *Spec) CallsPerRequest() float64 {
	if s.callsPerRequest > 0 {
		return s.callsPerRequest
	}
	return 1
}

// pipelineStep reports whether a category is a step of some pipeline.
func (s *Spec) pipelineStep(category string) bool {
	for _, p := range s.Pipelines {
		if slices.ContainsFunc(p.Steps, func(r Ref) bool { return r.Name == category }) {
			return true
		}
	}
	return false
}

// checkPipelines checks the pipelines against the categories and, when they fit, derives each
// category's share of model calls (Category.Share) from the pipelines and its direct share
// (the share: written, Category.DirectShare, which checkCategories set).
func (c *checker) checkPipelines() {
	s := c.spec
	s.UserVolume = s.Volume
	if len(s.Pipelines) == 0 {
		return
	}
	before := len(c.errs)
	first := map[string]int{}
	var sum float64
	for i, p := range s.Pipelines {
		label := fmt.Sprintf("pipelines[%d]", i)
		if strings.TrimSpace(p.Name) == "" {
			c.errorf(p.pos.Line, "%s has no name: add name:", label)
		} else {
			c.checkName(p.Name, "pipeline", p.pos.Of("name"))
			if line, dup := first[p.Name]; dup {
				c.errorf(p.pos.Of("name"), "pipeline %q is declared twice (first at line %d): rename or remove one", p.Name, line)
			} else {
				first[p.Name] = p.pos.Of("name")
			}
			label = fmt.Sprintf("pipeline %q", p.Name)
		}
		if !p.pos.Has("share") {
			c.errorf(p.pos.Line, "%s has no share: add share: the fraction of user requests it serves, like 0.8", label)
		}
		sum += float64(p.Share)
		if len(p.Steps) == 0 {
			c.errorf(p.pos.Of("steps"), "%s has no steps: add steps: [CATEGORY, CATEGORY], the categories called in order for one user request", label)
		}
		for _, st := range p.Steps {
			if _, ok := c.cats[st.Name]; !ok {
				c.errorf(st.Line, "%s calls %q, which is not a category declared under categories:%s", label, st.Name, suggestFrom(st.Name, c.categoryNames(), "categories"))
			}
		}
		if p.pos.Has("latency_budget") && p.LatencyBudget == 0 {
			c.errorf(p.pos.Of("latency_budget"), "%s latency_budget must be more than 0, like 10s (the p95 of the steps' times added up); leave latency_budget out for no budget", label)
		}
	}
	var direct float64
	var pipeParts, catParts, stepsWithShare []string
	for _, p := range s.Pipelines {
		pipeParts = append(pipeParts, fmt.Sprintf("%s %s", p.Name, fraction(float64(p.Share))))
	}
	for _, cat := range s.Categories {
		direct += float64(cat.DirectShare)
		if cat.DirectShare == 0 {
			continue
		}
		catParts = append(catParts, fmt.Sprintf("%s %s", cat.Name, fraction(float64(cat.DirectShare))))
		if s.pipelineStep(cat.Name) {
			stepsWithShare = append(stepsWithShare, cat.Name)
		}
	}
	if total := sum + direct; math.Abs(total-1) > 1e-6 {
		alone := "none"
		if len(catParts) > 0 {
			alone = strings.Join(catParts, ", ")
		}
		msg := fmt.Sprintf("pipeline and category shares sum to %s, not 1 (pipelines: %s; categories called alone: %s): %s",
			fraction(total), strings.Join(pipeParts, ", "), alone, sumFix(total))
		if len(stepsWithShare) > 0 && total > 1 {
			what := "is a pipeline step with a share of its own"
			if len(stepsWithShare) > 1 {
				what = "are pipeline steps with shares of their own"
			}
			msg += fmt.Sprintf(". With pipelines, volume counts user requests, and a category's share is the fraction of user requests that call it alone, outside any pipeline; %s %s: where every call of a category comes through a pipeline, write share: 0 or leave share out",
				strings.Join(stepsWithShare, ", "), what)
			if math.Abs(direct-1) <= 1e-6 {
				msg += " (the categories' shares still sum to 1, as shares of model calls do without pipelines)"
			}
		}
		c.errorf(s.pos.Of("pipelines"), "%s", msg)
	}
	if len(c.errs) > before {
		return
	}
	calls := map[string]float64{}
	var k float64
	for _, p := range s.Pipelines {
		for _, st := range p.Steps {
			calls[st.Name] += float64(p.Share)
			k += float64(p.Share)
		}
	}
	for _, cat := range s.Categories {
		calls[cat.Name] += float64(cat.DirectShare)
		k += float64(cat.DirectShare)
	}
	s.callsPerRequest = k
	for _, cat := range s.Categories {
		cat.Share = Prob(calls[cat.Name] / k)
	}
	// Volume counts the calls a month the user requests make (CallsPerMonth), per_month
	// whatever the spec writes; UserVolume keeps what it writes, or that it writes none.
	perMonth, capped := s.callsPerMonth(s.UserVolume.Monthly())
	if capped {
		c.warnf(s.pos.Of("volume"), "volume: %s user requests a month, at %s model calls each, make more calls than the estimate can count: it counts %s calls a month; write the real volume",
			groupDigits(s.UserVolume.Monthly()), strconv.FormatFloat(k, 'g', 4, 64), groupDigits(perMonth))
	}
	s.Volume = Volume{PerMonth: perMonth, pos: s.Volume.pos}
}

// CallsPerMonth returns the model calls a month that userPerMonth user requests make:
// userPerMonth × CallsPerRequest, rounded, at most math.MaxInt64; as many without pipelines.
// Volume is CallsPerMonth(UserVolume.Monthly()); an estimate for another volume of user
// requests converts it so.
func (s *Spec) CallsPerMonth(userPerMonth int64) int64 {
	n, _ := s.callsPerMonth(userPerMonth)
	return n
}

func (s *Spec) callsPerMonth(userPerMonth int64) (n int64, capped bool) {
	k := s.CallsPerRequest()
	if k == 1 {
		return userPerMonth, false
	}
	if x := math.Round(float64(userPerMonth) * k); x < math.MaxInt64 {
		return int64(x), false
	}
	return math.MaxInt64, true
}

// pipelinesText describes a spec's traffic with pipelines, for the routing document: "20,000
// user requests a month, 2 model calls each (40,000 calls; category shares are of calls), in
// pipelines qa (80%: rewrite → answer), …".
func pipelinesText(s *Spec) string {
	var parts []string
	for _, p := range s.Pipelines {
		var steps []string
		for _, st := range p.Steps {
			steps = append(steps, st.Name)
		}
		budget := ""
		if p.LatencyBudget > 0 {
			budget = ", p95 budget " + FormatDuration(p.LatencyBudget.D())
		}
		parts = append(parts, fmt.Sprintf("%s (%s: %s%s)", p.Name, pctText(float64(p.Share)), strings.Join(steps, " → "), budget))
	}
	direct := 0.0
	for _, c := range s.Categories {
		direct += float64(c.DirectShare)
	}
	alone := ""
	if direct > 0 {
		alone = fmt.Sprintf("; %s call one category alone", pctText(direct))
	}
	return fmt.Sprintf("%s user requests a month, %s model calls each (%s calls; category shares are of calls), in pipelines %s%s",
		groupDigits(s.UserVolume.Monthly()), strconv.FormatFloat(math.Round(s.CallsPerRequest()*100)/100, 'f', -1, 64),
		groupDigits(s.Volume.Monthly()), strings.Join(parts, ", "), alone)
}

// checkNoTraffic warns about a category that receives no traffic: share 0 (or none) and no
// pipeline with a share calling it. The gateway still routes its requests, but the estimate
// weighs it by nothing, so its bar and budget decide no policy.
func (c *checker) checkNoTraffic() {
	s := c.spec
	if len(s.Pipelines) > 0 && s.callsPerRequest == 0 {
		return // the shares did not fit; checkPipelines said why
	}
	for _, cat := range s.Categories {
		if cat.Share > 0 || cat.Name == "" {
			continue
		}
		line := cat.pos.Of("share")
		if !cat.pos.Has("share") {
			line = cat.pos.Line
		}
		var callers []string
		for _, p := range s.Pipelines {
			if slices.ContainsFunc(p.Steps, func(r Ref) bool { return r.Name == cat.Name }) {
				callers = append(callers, p.Name)
			}
		}
		if len(callers) == 0 {
			c.warnf(line, "category %q has share 0 and no pipeline calls it, so it receives no traffic: the estimate shows its row, but its quality bar and latency budget decide no policy; write the share of traffic it carries, or remove the category", cat.Name)
			continue
		}
		c.warnf(line, "category %q receives no traffic: its share is 0 and the pipelines calling it (%s) have share 0, so the estimate shows its row, but its quality bar and latency budget decide no policy; write the shares they carry, or remove them", cat.Name, strings.Join(callers, ", "))
	}
}
