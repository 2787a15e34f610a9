// Package loadtest is Clearbar's load harness: a mock OpenAI-compatible upstream, an
// open-loop and a closed-loop load generator, a bare reverse proxy to compare against, and the
// measurement of processes through /proc (CPU time and peak resident memory).
//
// The harness measures three targets in front of the same mock upstream: the mock directly,
// a bare net/http/httputil.ReverseProxy (the floor: one more Go hop that parses nothing), and
// "clearbar serve" on a static route with decision recording on. The gateway and the proxy
// run as processes of their own, so that their CPU time and memory can be read per process;
// cmd/clearbar-load runs the whole comparison and prints a markdown report.
//
// Everything listens on and connects to loopback addresses only, and every phase is bounded
// in time. The process measurements read /proc and so need Linux.
package loadtest
