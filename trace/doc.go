// Package trace stores decision records: one [clearbar.Decision] per gateway request, with its
// attempts, kept so that `GET /v1/decisions/{id}`, `clearbar explain`, replay and review can
// read them back.
//
// Two pieces keep recording off the request path:
//
//   - a [Store] persists batches of decisions in one transaction and reads them back. [SQLite]
//     is the embedded default (a pure-Go driver, no cgo); [Memory] keeps decisions in the
//     process, for tests and for running without a trace file.
//   - a [Recorder] sits in front of a Store. [Recorder.Record] never blocks: it puts the
//     decision on a bounded queue, or drops and counts it when the queue is full. One writer
//     goroutine, owned by the Recorder, writes the queue to the Store in batches; a slow or
//     failing store costs recorded decisions (counted in [RecorderStats] and reported through
//     [RecorderOptions.OnDrop]) and never the answers.
//
// Shut down in this order: stop serving requests, [Recorder.Close] (which drains the queue),
// then the Store's Close.
package trace
