// Package health keeps a circuit breaker per upstream (provider and model), so that the
// gateway stops sending calls to an upstream that is failing and tries it again after a
// cooldown.
//
// A [Breaker] counts outcomes by [clearbar.FailureClass]: only classes for which
// IsProviderFailure is true count as failures, so a client's cancel or its malformed request
// is never charged to the upstream. Breakers read no clock: every method takes the current
// time, and a [Set] takes its clock as a function, so tests drive time by hand.
package health

import (
	"errors"
	"fmt"
	"time"

	"github.com/clearbar/clearbar"
)

// State is a breaker's state.
type State uint8

// States.
const (
	// Closed lets every call through and counts outcomes.
	Closed State = iota
	// Open refuses every call until its cooldown has passed.
	Open
	// HalfOpen lets a few probe calls through; their outcome closes or reopens the breaker.
	HalfOpen
)

var stateNames = [...]string{Closed: "closed", Open: "open", HalfOpen: "half_open"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", s)
}

// MarshalText implements encoding.TextMarshaler, so JSON shows "half_open", not 2.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Settings configure a breaker.
//
// A closed breaker opens when, within the last Window, at least MinRequests calls were
// counted and the share of failures among them is at least FailureRatio; or when
// ConsecutiveFailures calls failed in a row. It stays open for Cooldown, then lets
// HalfOpenProbes calls through: once that many have succeeded it closes, and the first that
// fails reopens it with the cooldown doubled, up to MaxCooldown. Closing resets the cooldown
// and forgets the window.
//
// A zero field takes its value from DefaultSettings, so Settings{Cooldown: time.Minute}
// changes the cooldown only. A negative FailureRatio or ConsecutiveFailures disables that way
// of opening.
type Settings struct {
	// Window is how far back the failure ratio looks. It is kept as 10 buckets of Window/10,
	// so calls leave it a bucket at a time.
	Window time.Duration
	// MinRequests is the fewest counted calls in the window for the ratio to open the breaker.
	MinRequests int
	// FailureRatio is the share of failed calls, in (0, 1], that opens the breaker.
	FailureRatio float64
	// ConsecutiveFailures is the number of failures in a row that opens the breaker.
	ConsecutiveFailures int
	// Cooldown is how long the breaker stays open the first time; MaxCooldown caps its
	// doubling after failed probes (a MaxCooldown below Cooldown is read as Cooldown).
	Cooldown, MaxCooldown time.Duration
	// HalfOpenProbes is the number of calls let through at once when half-open, and the
	// number of successes that close the breaker.
	HalfOpenProbes int
}

// DefaultSettings returns the default settings: a 30s window, at least 20 calls with half of
// them failed, or 5 failures in a row; a 10s cooldown doubling up to 5 minutes; one probe.
func DefaultSettings() Settings {
	return Settings{
		Window:              30 * time.Second,
		MinRequests:         20,
		FailureRatio:        0.5,
		ConsecutiveFailures: 5,
		Cooldown:            10 * time.Second,
		MaxCooldown:         5 * time.Minute,
		HalfOpenProbes:      1,
	}
}

// withDefaults returns s with its zero fields set from DefaultSettings and its nonsense made
// harmless: a MaxCooldown below Cooldown is raised to it, negative counts are read as zero.
func (s Settings) withDefaults() Settings {
	d := DefaultSettings()
	if s.Window <= 0 {
		s.Window = d.Window
	}
	if s.MinRequests <= 0 {
		s.MinRequests = d.MinRequests
	}
	if s.FailureRatio == 0 {
		s.FailureRatio = d.FailureRatio
	}
	if s.ConsecutiveFailures == 0 {
		s.ConsecutiveFailures = d.ConsecutiveFailures
	}
	if s.Cooldown <= 0 {
		s.Cooldown = d.Cooldown
	}
	if s.MaxCooldown <= 0 {
		s.MaxCooldown = d.MaxCooldown
	}
	s.MaxCooldown = max(s.MaxCooldown, s.Cooldown)
	if s.HalfOpenProbes <= 0 {
		s.HalfOpenProbes = d.HalfOpenProbes
	}
	return s
}

// Validate reports settings that cannot mean what their writer intended: negative durations
// or counts (other than the documented "disable" values), a FailureRatio above 1, a Window
// too short to split into buckets, or a MaxCooldown below Cooldown. Zero fields are valid:
// they take their defaults.
func (s Settings) Validate() error {
	var errs []error
	if s.Window < 0 || s.Window > 0 && s.Window < buckets*time.Millisecond {
		errs = append(errs, fmt.Errorf("window %v: must be at least %v", s.Window, buckets*time.Millisecond))
	}
	if s.MinRequests < 0 {
		errs = append(errs, fmt.Errorf("min requests %d: must not be negative", s.MinRequests))
	}
	if s.FailureRatio > 1 {
		errs = append(errs, fmt.Errorf("failure ratio %v: must be at most 1 (or negative to disable)", s.FailureRatio))
	}
	if s.Cooldown < 0 || s.MaxCooldown < 0 {
		errs = append(errs, fmt.Errorf("cooldown %v, max cooldown %v: must not be negative", s.Cooldown, s.MaxCooldown))
	}
	if s.MaxCooldown > 0 && s.MaxCooldown < s.withDefaults().Cooldown {
		errs = append(errs, fmt.Errorf("max cooldown %v is below the cooldown %v", s.MaxCooldown, s.withDefaults().Cooldown))
	}
	if s.HalfOpenProbes < 0 {
		errs = append(errs, fmt.Errorf("half-open probes %d: must not be negative", s.HalfOpenProbes))
	}
	return errors.Join(errs...)
}

// outcome is what a call's class means for its upstream's health.
type outcome uint8

const (
	// neutral outcomes say nothing about the upstream: they are not counted at all.
	neutral outcome = iota
	// success: the upstream answered.
	success
	// failure: the upstream did not deliver.
	failure
)

// outcomeOf classifies a finished call for the breaker:
//   - classes with IsProviderFailure (rate limited, overloaded, timeout, connection, bad
//     response, cut stream, auth) are failures;
//   - OK and Quality are successes: a Quality failure is an answer that arrived well-formed
//     and failed the gateway's validators, which proves the upstream is up;
//   - everything else is neutral: Canceled (the client left), ClientError, ContextTooLong and
//     ContentPolicy (the request's fault, which may not even have reached the upstream) and
//     Internal (Clearbar's fault). Neutral calls are neither successes nor failures: they do
//     not enter the window, do not reset the run of consecutive failures, and do not close a
//     half-open breaker (a neutral probe just frees its slot for another probe).
func outcomeOf(c clearbar.FailureClass) outcome {
	switch {
	case c.IsProviderFailure():
		return failure
	case c == clearbar.OK, c == clearbar.Quality:
		return success
	}
	return neutral
}
