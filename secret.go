package clearbar

import (
	"encoding/json"
	"log/slog"
)

// Secret holds a credential such as an API key. It cannot be printed, logged or marshalled by
// accident: String, GoString, MarshalJSON, MarshalText and LogValue all give the redacted form,
// which is the environment reference it came from ("${OPENAI_API_KEY}") or "[redacted]".
// Only Reveal returns the value, and only code that sends it upstream should call it.
//
// The value lives behind a pointer so that even a raw print of a struct that embeds a Secret in
// an unexported field shows an address, never the text. The zero value is an empty secret.
// Secrets are immutable and safe for concurrent use.
type Secret struct {
	v *secretValue
}

type secretValue struct {
	value string
	ref   string // name of the environment variable it was read from, if any
}

// NewSecret wraps a literal value.
func NewSecret(value string) Secret {
	return Secret{v: &secretValue{value: value}}
}

// SecretFromEnv wraps a value read from the environment variable name; the redacted form names
// the variable, which is safe to show and tells the reader where the value comes from.
func SecretFromEnv(name, value string) Secret {
	return Secret{v: &secretValue{value: value, ref: name}}
}

// Reveal returns the secret value. Call it only where the value leaves the process for the
// service it authenticates to.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return s.v.value
}

// IsSet reports whether the secret has a non-empty value.
func (s Secret) IsSet() bool { return s.Reveal() != "" }

// EnvName returns the environment variable the secret was read from, or "".
func (s Secret) EnvName() string {
	if s.v == nil {
		return ""
	}
	return s.v.ref
}

// String returns the redacted form.
func (s Secret) String() string {
	switch {
	case s.v == nil:
		return ""
	case s.v.ref != "":
		return "${" + s.v.ref + "}"
	case s.v.value == "":
		return ""
	default:
		return "[redacted]"
	}
}

// GoString returns the redacted form, so that %#v does not leak either.
func (s Secret) GoString() string { return "clearbar.Secret(" + s.String() + ")" }

// MarshalJSON writes the redacted form.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText writes the redacted form; YAML and other text encoders use it.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue makes slog print the redacted form.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

var (
	_ json.Marshaler = Secret{}
	_ slog.LogValuer = Secret{}
)
