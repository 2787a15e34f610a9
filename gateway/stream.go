package gateway

import (
	"context"
	"net/http"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/sse"
)

// stream runs a streaming request. Attempts are made until one stream delivers its first
// chunk: until then nothing has reached the client, so failures fall back transparently.
// From the first byte on the answer is committed; a failure after it ends the stream with an
// explicit error event, never with a clean end of a truncated answer.
func (r *run) stream(ctx context.Context, w http.ResponseWriter, start time.Time) (status int, err error) {
	for si, st := range r.plan.Steps {
		for ci := 0; ci < len(st.Candidates); ci++ {
			m := st.Candidates[ci]
			prov := r.g.providers[m.Provider.Name]
			retries := 0
			for {
				a, done := r.begin(m, si, ci, retries > 0, 0)
				cctx, cancel := callContext(ctx, m)
				s, err := prov.Stream(cctx, r.call(m, true))
				if err == nil {
					if s.Next() {
						a.TTFT = r.g.now().Sub(a.Start)
						status, err := r.relay(ctx, w, s, a, m, done, start)
						cancel()
						return status, err
					}
					err = s.Err()
					if err == nil {
						err = &clearbar.Error{Class: clearbar.BadResponse, Message: "the upstream stream ended without a chunk"}
					}
					s.Close()
				}
				cancel()
				if ctx.Err() != nil {
					err = ctxError(ctx, err)
				}
				r.finish(a, m, clearbar.Usage{}, err, done)
				switch r.afterFailure(ctx, err, retries) {
				case nextRetry:
					a.Outcome = "retried"
					retries++
					continue
				case nextFail:
					a.Outcome = "failed"
					return 0, r.failure(err)
				}
				a.Outcome = "fell back"
				break
			}
		}
	}
	_, err = r.exhausted()
	return 0, err
}

// relay sends a stream whose first chunk has arrived to the client: headers, then every
// chunk as it comes, then [DONE], or an error event if the upstream fails mid-way.
func (r *run) relay(ctx context.Context, w http.ResponseWriter, s clearbar.Stream, a *clearbar.Attempt, m *spec.Model, done func(clearbar.FailureClass, time.Time), start time.Time) (int, error) {
	defer s.Close()
	r.d.Model, r.d.Provider = m.Name, m.Provider.Name
	h := w.Header()
	r.g.decisionHeaders(h, r.d)
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	h.Set("Trailer", headerCost)
	w.WriteHeader(http.StatusOK)
	sw := sse.NewWriter(w)
	var usage clearbar.Usage
	var text int
	var werr error
	for {
		c := s.Chunk()
		if c.Usage != nil {
			usage = *c.Usage
		}
		text += len(c.Text)
		if data, ok := r.clientChunk(c); ok {
			if werr = sw.WriteData(data); werr != nil {
				break
			}
			if r.d.TTFB == 0 {
				r.d.TTFB = r.g.now().Sub(start)
			}
		}
		if !s.Next() {
			break
		}
	}
	r.d.AnswerChars = text
	var err error
	switch {
	case werr != nil || ctx.Err() != nil:
		// The client went away: not the upstream's fault.
		err = &clearbar.Error{Class: clearbar.Canceled, Message: "the client closed the stream", Err: werr}
	case s.Err() != nil:
		err = s.Err()
		e := clearbar.AsError(err)
		if e.Class == clearbar.OK || e.Class == clearbar.Internal {
			e = &clearbar.Error{Class: clearbar.StreamCut, Message: "the upstream stream failed", Err: err}
			err = e
		}
		// The answer is committed: tell the client explicitly that it is incomplete.
		sw.WriteData(errorJSON(&clearbar.Error{Class: e.Class, Message: "the upstream stream failed after the answer began: " + e.Message, Code: "stream_cut"}, http.StatusBadGateway))
	default:
		werr = sw.WriteDone()
	}
	r.finish(a, m, usage, err, done)
	if err != nil {
		a.Outcome = "cut mid-stream"
		r.d.Reason = "the stream failed after the first byte reached the client; it ended with an error event"
		if clearbar.ClassOf(err) == clearbar.Canceled {
			a.Outcome = "client went away"
			r.d.Reason = "the client closed the stream"
		}
	} else {
		a.Outcome = "accepted"
		r.accept(a, m, nil)
		r.d.AnswerChars = text
	}
	if cost := r.totalCost(); cost > 0 || !usage.IsZero() {
		h.Set(headerCost, cost.Decimal())
	}
	return http.StatusOK, err
}

// clientChunk returns the chunk as the client should see it. The gateway always asks the
// upstream for usage so it can price the answer; a client that did not ask for usage gets no
// usage chunk and no usage fields.
func (r *run) clientChunk(c *clearbar.Chunk) ([]byte, bool) {
	if c.Usage == nil || r.req.IncludeUsage {
		return c.Data, true
	}
	if gjson.GetBytes(c.Data, "choices.#").Int() == 0 {
		return nil, false
	}
	out, err := sjson.DeleteBytes(c.Data, "usage")
	if err != nil {
		return c.Data, true
	}
	return out, true
}

func (r *run) totalCost() clearbar.Money {
	var c clearbar.Money
	for i := range r.d.Attempts {
		c += r.d.Attempts[i].Cost
	}
	return c
}
