package gateway_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the test binary when any goroutine outlives the tests: every server, upstream
// call, stream relay and retry timer the tests start must end with them. The end-to-end tests
// give each client and each gateway-to-upstream client a transport of its own and close its
// idle connections when the test ends, so no ignore list is needed.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
