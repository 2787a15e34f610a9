//go:build race

package review

// raceEnabled scales the statistical simulations down under the race detector, which makes
// them about twenty times slower and checks nothing statistical.
const raceEnabled = true
