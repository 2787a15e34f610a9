//go:build !race

package route

// raceEnabled leaves out allocation counts under the race detector, whose sync.Pool drops
// some of what is put back, so that pooled work allocates now and then.
const raceEnabled = false
