// Package clearbar holds Clearbar's domain: the small, dependency-free types that every other
// package shares. Money and prices are integers (see [Money] and [Price]) so that costs add up
// exactly; secrets are a type that cannot be printed by accident (see [Secret]).
//
// The package imports only the standard library and does no I/O. Sub-packages depend inward on
// it: spec loads routing specs, catalog knows list prices, estimate turns a spec into expected
// cost, latency, quality and risk per routing policy.
package clearbar
