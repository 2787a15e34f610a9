package simulated_test

import (
	"encoding/json"
	"testing"

	"github.com/clearbar/clearbar"
)

// fieldsSpec has categories validated by required_fields: after a request's schema (as
// examples/batch-extraction.yaml's delivery-note), and before a schema of the spec's own that
// does not name the fields, with nested and array paths.
const fieldsSpec = `version: 1
name: fields
review: {last: 2026-11-01, cadence: monthly}
providers: {sim: {type: simulated, simulate: {time_scale: 0.00001, error_rate: 0, seed: 5}}}
models:
  m: {provider: sim, model: gpt-4.1-mini}
categories:
  - name: note
    share: 0.5
    tokens: {in: 100, out: 50}
    quality_bar: 0.5
    route:
      cascade: [m]
      validate: [{json_schema: request}, {required_fields: [note_number, lines]}]
    assume:
      pass_rate: {m: 0.7}
      validator: {detect: 0.9, false_alarm: 0.1}
  - name: invoice
    share: 0.5
    tokens: {in: 100, out: 50}
    quality_bar: 0.5
    route:
      cascade: [m]
      validate:
        - {required_fields: [supplier.vat_id, "lines[].amount", total, "tags[]"]}
        - {json_schema: {inline: {type: object, required: [total], properties: {total: {type: number}, lines: {type: array, items: {type: object, properties: {sku: {type: string}}}}}}}}
    assume:
      pass_rate: {m: 0.7}
      validator: {detect: 0.9, false_alarm: 0.1}
`

// TestRequiredFieldsAnswers: in a category validated by required_fields, a simulated answer
// drawn to pass carries the fields (in a JSON object, whether the request asked for text, any
// JSON object or a schema of its own) and passes the category's validators, and one drawn to
// be flagged fails them; so a route on the simulator passes validation at the rates the
// estimate assumes.
func TestRequiredFieldsAnswers(t *testing.T) {
	s, p := loadSpec(t, fieldsSpec)
	formats := map[string]clearbar.ResponseFormat{
		"text":        {},
		"json_object": {Type: "json_object"},
		"json_schema": {Type: "json_schema", Name: "note", Schema: json.RawMessage(`{"type":"object","properties":{"note_number":{"type":"string"},"lines":{"type":"array","items":{"type":"string"}}},"required":["note_number"]}`)},
	}
	for _, category := range []string{"note", "invoice"} {
		for name, rf := range formats {
			if category == "invoice" && name == "json_schema" {
				continue // the request's schema and the spec's own: the answer follows the request's
			}
			const n = 200
			flagged, _, _ := draws(t, s, p, category, n, func() *clearbar.Request {
				req := userRequest("Read this delivery note.")
				req.ResponseFormat = rf
				return req
			})
			// Flagged: 0.3·0.9 + 0.7·0.1 = 0.34.
			if flagged < n*25/100 || flagged > n*43/100 {
				t.Errorf("%s, %s: %d of %d answers flagged; want about 34%%", category, name, flagged, n)
			}
		}
	}
}
