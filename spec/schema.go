package spec

import (
	"bytes"
	_ "embed"
)

//go:embed schema.json
var schemaJSON []byte

// Schema returns the JSON Schema (draft 2020-12) of the routing spec file format, version 1
// (see [Version]), whose $id is https://clearbar.dev/schema/spec-v1.json. Each call returns a
// new copy, which the caller may modify.
//
// The schema is for editors: YAML language servers use it for completion, hover documentation
// and checks as a spec is typed. It describes the shape of the file (its keys, which are all
// closed, the forms each value may take, ranges and required keys), and every key carries a
// description.
//
// The schema is not how a spec is validated: [Load] and [Parse] do not use it, and their checks
// are stricter. A file the schema accepts may still be rejected, for example because category
// shares do not sum to 1, a name refers to no declared model, provider or category, a model is
// not in the price catalogue, or a routed model has no assumed pass rate. Conversely, where
// YAML lets the loader accept an unusual spelling (a number where text is expected, a quoted
// probability like "0.95", a capitalised cadence), the schema asks for the usual one.
func Schema() []byte { return bytes.Clone(schemaJSON) }
