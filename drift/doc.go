// Package drift watches live routing decisions for drift: it notices, within a few hundred
// requests, when a model's pass rate drops, structured answers stop validating, latency
// rises, fallbacks become frequent or a category's route mix moves, and says so as Prometheus
// metrics, a list of recent alerts and an optional webhook. It also keeps the per-minute time
// series the dashboard draws.
//
// # What is watched
//
// A [Monitor] sees every decision the gateway records (it is a [Recorder]; [Tee] puts it
// beside the trace recorder, so the gateway needs no change). Per category and per
// (category, model) it keeps streams of observations:
//
//   - pass rate: per category, whether a request delivered an answer that was not flagged;
//     per model, whether each of its validated answers passed validation;
//   - structured-output validity: whether an answer passed the validators that check
//     structure (JSON Schema, required fields, tool calls); an answer the provider sent
//     malformed (bad_response) counts as invalid;
//   - latency: of successful requests per category, of answered calls per model;
//   - fallback rate: whether a request fell back to another model, after a provider failure
//     or past models their circuit breakers left out without a call (a request diverted
//     around an open breaker counts: that is the traffic that moved); per model, of the
//     requests whose first call was to it, whether the request fell back from that call to
//     another candidate of its step, so that the model a diverted request went to is not
//     charged with the fallback;
//   - route mix: which model answered each request of a category.
//
// Requests that the client cancelled or got wrong are left out: they say nothing about the
// models. Validator calls (judges' and agreement checks') are left out of the detectors too.
//
// # The tests
//
// Each stream keeps its last W observations (the window, drift.window, default 200) and the R
// before them (the reference, drift.reference, default 2000) in a ring of one byte per
// observation, with running counts, so that an observation costs O(1) and no allocation.
// Every W/4 observations each detector tests the window; each test is one-sided, in the
// harmful direction:
//
//   - a rate against the reference: Fisher's exact test. Given the events (failures, invalid
//     answers, fallbacks) in window and reference together, the window's count is
//     hypergeometric if nothing changed; the p-value is its upper tail.
//   - a model's pass rate against the spec: an exact binomial test of the window's failures
//     against the rate the assumptions imply. A validator passes a good answer unless it
//     false-alarms and a bad one unless it misses it, so with assume.pass_rate q and the
//     validator's detect d and false_alarm f the expected pass rate is q(1−f) + (1−q)(1−d).
//   - latency against the reference: a one-sided Mann–Whitney rank test on latencies binned
//     four bins per doubling (ties corrected), which assumes nothing about the shape of the
//     distribution and reacts to any shift up.
//   - latency against a p95 (a model's assumed p95, a category's latency_budget): an exact
//     binomial test of how many window latencies exceed it, against the 5% a p95 allows. A
//     latency written as ttft and tokens_per_second implies a p95 of ttft's p95 plus the time
//     to generate the category's tokens.out (and tokens.reasoning, for a model that bills
//     reasoning) at their p95, which is exact for plain token counts and a little high for
//     spread ones. A model with no latency assumption (the loader's default) or with latency
//     samples has no such detector.
//   - route mix against the reference: a chi-square test of homogeneity on the models'
//     counts, with models too rare for the approximation pooled. When pooling leaves one
//     column (one model answers nearly every request, or every one), the share of the model
//     that answers most is compared instead, by Fisher's exact test, two-sided: a window all
//     on the reference's only model is no change, and a rare arm is tested too.
//
// drift.false_alarm (default 0.001) is the chance that a detector fires on unchanged traffic
// during one window. A detector is tested four times per window, so each test uses a quarter
// of it (a Bonferroni bound, which holds however much the overlapping tests depend on each
// other); the exact tests are conservative besides, so unchanged traffic raises fewer alarms
// than that. The tests against the spec run once the window is full; those against the
// reference once the reference is full too. The Monitor sees each request when it finishes,
// so when it starts on traffic already flowing, its first observations are the requests that
// finished first, the fast and the unescalated ones: a reference of those alone would look
// better than the same traffic a moment later. A full reference dilutes them.
//
// # Alerts
//
// A detector fires when a test's p-value falls below its level, and stops once two checks in
// a row (half a window) find the window no worse than its baseline (a p-value above one
// half). Every test gives a p-value once its window (and reference) is full, so a firing
// detector whose stream gets observations is always tested again. The resolved alert says
// why (Alert.ResolvedWhy): the figures of the last test, and for a test against the
// reference, what it fired at, since that reference was rebuilt after the alert (below) and
// "no worse" then means the change stopped, not that it was undone. When a test against the reference fires, it starts over: the rate and latency tests
// drop the old reference and build a new one from the observations that follow the alert
// only. The window that fired stays for the tests against the spec, but it holds
// observations from before the change too, so they leave it without joining the new
// reference, which would otherwise look better than the changed traffic for as long as they
// stayed in it. The route-mix test, which is two-sided, drops its window as well. Either way
// the new reference holds a window, and is tested again, two windows after the alert. A
// lasting change therefore raises one alert, not one each time its p-values wander across
// the level: after the alert, the detector compares the changed traffic with more of the
// same, and stops firing once two checks in a row find the window no worse than it. At the
// defaults that is two to five windows after the alert, within one reference length (the
// package's seeded simulations require it). Even when the traffic comes back at once, an alert
// against the reference lasts at least two and a quarter windows. A lasting gap with the
// spec's assumptions keeps its detector firing until the spec is revised or the traffic comes
// back.
//
// A detector is tested only when its stream gets an observation, and some streams are fed by
// part of a category's traffic: a model's by its calls, validity by structured answers,
// latency by successful requests (answered calls per model), the route mix by answered
// requests. When such a stream has had no observation over as many of its category's requests
// as it holds (window plus reference) while the category still had traffic (requests stopped
// asking for JSON, every request failed, traffic moved to another model), its firing detectors
// stop and their alerts are resolved with the reason ("no structured answers in the last 2200
// requests of extract: the alert is cleared, not confirmed"; for a model no longer called, "no
// calls of backup in extract ..."), and the stream is emptied, so that when its observations
// come back its detectors warm up on them rather than fire again on the old ones. A stream
// that is not firing keeps its observations.
//
// At the defaults (window 200, reference 2000, false alarm 0.001) the package's seeded
// simulations, where the model that changes answers about 70% of the requests, catch in at
// least 18 runs of 20: a doubled latency within 300 requests; a route mix shifted by sending
// 50% of the requests straight to the strong model instead of 30%, within 400; structured-output validity falling 10 points, or a fallback rate rising
// from 2% to 12%, within 600; a 10-point drop of a 90% pass rate, which a window of 200 only
// just tells apart at this false-alarm rate, within 1000.
//
// Each alert sets the detector's gauge (clearbar_drift_firing), counts in
// clearbar_drift_alerts_total, is logged, kept in a bounded list of recent alerts
// ([Monitor.Alerts]) and, when the spec names drift.webhook, POSTed there as JSON by a
// goroutine the Monitor owns: from a bounded queue (a full queue drops the alert, counted in
// clearbar_drift_webhook_total{result="dropped"}), with a timeout per POST and up to four
// tries with exponential backoff. Observing never waits for the webhook. The URL is never
// logged, since webhook URLs often carry a token.
//
// # Series
//
// Per category and per model the Monitor keeps one bucket per minute (24 hours by default) of
// requests, cost, latencies (in the same bins, for p50 and p95), pass, escalation, fallback
// and error counts. [Monitor.Series] and [Monitor.Summary] read them for the dashboard.
// [Monitor.Restore] adds the decisions an earlier run recorded within that history (read back
// from the decision store at start) to the buckets, so that the series survive a restart; the
// totals since start and the detectors are the running Monitor's alone.
package drift
