package trace

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
)

// realisticDecision is a decision as the gateway records it by default: two attempts (an
// escalation), rule results and verdicts, prompt and answer text not recorded.
func realisticDecision() *clearbar.Decision {
	d := fullDecision("template", testTime)
	d.Prompt, d.Answer = "", ""
	return d
}

// BenchmarkRecordThroughput measures decisions per second through a Recorder with default
// options into a SQLite file: one op is one decision recorded and, by the end of the
// benchmark, committed. When the queue is full the producer backs off and tries again, so
// the figure is the writer's sustained rate.
func BenchmarkRecordThroughput(b *testing.B) {
	db := openSQLite(b)
	r := NewRecorder(db, RecorderOptions{Logger: quietLogger})
	defer r.Close(context.Background())
	tmpl := realisticDecision()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		d := *tmpl
		d.ID = "d-" + strconv.Itoa(i)
		d.Time = tmpl.Time.Add(time.Duration(i))
		for !r.Record(&d) {
			time.Sleep(50 * time.Microsecond)
		}
	}
	if err := r.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if st := r.Stats(); st.Written != int64(b.N) {
		b.Fatalf("stats %+v, want %d written", st, b.N)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e3, "µs/decision")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

// BenchmarkWriteBatch256 measures one SQLite.Write of 256 realistic decisions (one
// transaction) into a growing database.
func BenchmarkWriteBatch256(b *testing.B) {
	const size = 256
	db := openSQLite(b)
	tmpl := realisticDecision()
	batch := make([]*clearbar.Decision, size)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		for j := range batch {
			d := *tmpl
			d.ID = "d-" + strconv.Itoa(i*size+j)
			d.Time = tmpl.Time.Add(time.Duration(i*size + j))
			batch[j] = &d
		}
		b.StartTimer()
		if err := db.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size)/1e3, "µs/decision")
}

// BenchmarkRecordCall measures what recording costs the request path: one Record call, from
// many goroutines at once, in front of a store that discards.
func BenchmarkRecordCall(b *testing.B) {
	discard := &funcStore{write: func(context.Context, []*clearbar.Decision) error { return nil }}
	r := NewRecorder(discard, RecorderOptions{Logger: quietLogger})
	defer r.Close(context.Background())
	d := realisticDecision()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.Record(d)
		}
	})
}
