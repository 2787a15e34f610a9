package validate

import (
	"context"
	"encoding/json"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// compile builds one validator from its YAML, the way it is written in a spec.
func compile(t *testing.T, yamlValidator string, env Env) Validator {
	t.Helper()
	s := mustParse(t, yamlValidator)
	env.Spec = s
	v, err := Compile(s.Categories[0].Route.Validate[0], env)
	if err != nil {
		t.Fatalf("compile %s: %v", yamlValidator, err)
	}
	return v
}

// mustParse parses a one-category spec whose route has one validator, written in YAML.
func mustParse(t *testing.T, yamlValidator string) *spec.Spec {
	t.Helper()
	src := `version: 1
name: v
providers: {sim: {type: simulated}}
models:
  a: {provider: sim, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}}
  judge: {provider: sim, model: gpt-4o, latency: {p50: 1s, p95: 2s}}
categories:
  - name: c
    share: 1
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {model: a, validate: [` + yamlValidator + `]}
    assume: {pass_rate: {a: 0.9}, validator: {detect: 0.9, false_alarm: 0.1}}
`
	s, err := spec.Parse([]byte(src), "testdata/v.yaml", spec.Options{})
	if err != nil {
		t.Fatalf("spec: %v", err)
	}
	return s
}

func answer(text string) *clearbar.Response {
	return &clearbar.Response{Choices: []clearbar.Choice{{Text: text, FinishReason: "stop"}}}
}

func userRequest(texts ...string) *clearbar.Request {
	r := &clearbar.Request{}
	for _, t := range texts {
		r.Messages = append(r.Messages, clearbar.Message{Role: "user", Text: t})
	}
	return r
}

type vcase struct {
	answer      string
	pass        bool
	reason      string // a text the reason must contain (for failures)
	explanation string
}

func runCases(t *testing.T, v Validator, req *clearbar.Request, cases []vcase) {
	t.Helper()
	for _, tc := range cases {
		got := v.Check(context.Background(), &Input{Request: req, Response: answer(tc.answer)})
		if got.Pass != tc.pass {
			t.Errorf("%s: %s on %q: pass=%v (%s), want %v", tc.explanation, v.Name(), clip(tc.answer, 50), got.Pass, got.Reason, tc.pass)
			continue
		}
		if !tc.pass && !strings.Contains(got.Reason, tc.reason) {
			t.Errorf("%s: reason %q does not say %q", tc.explanation, got.Reason, tc.reason)
		}
		if !tc.pass && got.Reason == "" {
			t.Errorf("%s: a failure without a reason", tc.explanation)
		}
	}
}

func TestJSONSchema(t *testing.T) {
	v := compile(t, `{json_schema: {inline: {type: object, required: [intent, confidence], additionalProperties: false, properties: {intent: {enum: [refund, shipping]}, confidence: {type: number, minimum: 0, maximum: 1}}}}}`, Env{})
	runCases(t, v, userRequest("x"), []vcase{
		{`{"intent":"refund","confidence":0.9}`, true, "", "a valid answer"},
		{`{"intent":"refund","confidence":1.2}`, false, "/confidence", "a value out of range names its path"},
		{`{"intent":"refunds","confidence":0.9}`, false, "/intent", "near-miss enum value"},
		{`{"intent":"refund"}`, false, "confidence", "missing required property"},
		{`{"intent":"refund","confidence":0.9,"note":"x"}`, false, "note", "additional property"},
		{"```json\n{\"intent\":\"refund\",\"confidence\":0.9}\n```", false, "code fence", "valid JSON inside a Markdown fence is not JSON"},
		{`Sure! {"intent":"refund","confidence":0.9}`, false, "text around the JSON", "chatter around the JSON"},
		{`{"intent":"refund","confidence":0.9,}`, false, "not valid JSON", "a trailing comma"},
		{`{'intent':'refund','confidence':0.9}`, false, "not valid JSON", "single quotes"},
		{`{"intent":"refund","confidence":0.9} Hope this helps!`, false, `text after the JSON: "Hope this helps!"`, "a note after the JSON"},
		{`{"intent":"refund","confidence":0.9}` + "\n" + `{"intent":"shipping","confidence":0.5}`, false, "text after the JSON", "two JSON values"},
		{``, false, "empty", "an empty answer"},
	})
}

func TestJSONSchemaFromRequest(t *testing.T) {
	v := compile(t, `{json_schema: request}`, Env{})
	req := userRequest("x")
	req.ResponseFormat = clearbar.ResponseFormat{Type: "json_schema", Schema: json.RawMessage(`{"type":"object","required":["id"],"properties":{"id":{"type":"integer"}}}`)}
	runCases(t, v, req, []vcase{
		{`{"id": 3}`, true, "", "matches the request's own schema"},
		{`{"id": "3"}`, false, "/id", "wrong type against the request's schema"},
	})
	plain := userRequest("x")
	runCases(t, v, plain, []vcase{{`anything`, true, "", "a request without a schema has nothing to check"}})
	obj := userRequest("x")
	obj.ResponseFormat.Type = "json_object"
	runCases(t, v, obj, []vcase{{`[1,2]`, false, "not valid JSON", "json_object wants an object"}, {`{"a":1}`, true, "", "any object"}})
}

// TestSchemaExternalRefsAreNotLoaded: a schema from a request or a tool definition must not
// make the gateway read its own files or call out over the network. Every external reference
// fails closed with the same clear reason, and nothing is read: the file:// case points at a
// real, valid schema file that would compile (and let "x" pass) if it were loaded.
func TestSchemaExternalRefsAreNotLoaded(t *testing.T) {
	dir := t.TempDir()
	sibling := filepath.Join(dir, "string.json")
	if err := os.WriteFile(sibling, []byte(`{"type":"string"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	fromRequest := compile(t, `{json_schema: request}`, Env{})
	tools := compile(t, `{tool_calls: required}`, Env{})
	for _, tc := range []struct {
		schema      string
		explanation string
	}{
		{`{"$ref":"file:///etc/passwd"}`, "a local file the gateway can read"},
		{`{"$ref":"` + (&url.URL{Scheme: "file", Path: filepath.ToSlash(sibling)}).String() + `"}`, "a file that holds a valid schema is not read either"},
		{`{"type":"object","properties":{"id":{"$ref":"http://169.254.169.254/latest/meta-data"}}}`, "an http reference, nested (a metadata endpoint)"},
		{`{"$ref":"https://example.com/schema.json#/defs/x"}`, "an https reference with a fragment"},
		{`{"$schema":"file:///etc/passwd","type":"object"}`, "a meta-schema URL is loaded the same way"},
		{`{"$ref":"other.json"}`, "a relative reference resolves outside the document"},
	} {
		req := userRequest("x")
		req.ResponseFormat = clearbar.ResponseFormat{Type: "json_schema", Schema: json.RawMessage(tc.schema)}
		got := fromRequest.Check(context.Background(), &Input{Request: req, Response: answer(`"x"`)})
		if got.Pass || !strings.Contains(got.Reason, "is not loaded: Clearbar resolves only references inside the schema") {
			t.Errorf("%s: response_format: %+v", tc.explanation, got)
		}
		req.Tools = []clearbar.Tool{{Name: "f", Parameters: json.RawMessage(tc.schema)}}
		resp := &clearbar.Response{Choices: []clearbar.Choice{{ToolCalls: []clearbar.ToolCall{{ID: "c", Name: "f", Arguments: `{}`}}}}}
		got = tools.Check(context.Background(), &Input{Request: req, Response: resp})
		if got.Pass || !strings.Contains(got.Reason, "is not loaded") {
			t.Errorf("%s: tool parameters: %+v", tc.explanation, got)
		}
	}
	// References inside the document and the standard meta-schemas still work.
	req := userRequest("x")
	req.ResponseFormat = clearbar.ResponseFormat{Type: "json_schema", Schema: json.RawMessage(
		`{"$schema":"https://json-schema.org/draft/2020-12/schema","$defs":{"id":{"type":"integer"}},"type":"object","properties":{"id":{"$ref":"#/$defs/id"}}}`)}
	runCases(t, fromRequest, req, []vcase{
		{`{"id": 3}`, true, "", "an internal $ref to $defs, with the embedded 2020-12 meta-schema"},
		{`{"id": "3"}`, false, "/id", "the internal $ref is applied"},
	})
	// Spec-file schemas are compiled by the same rule: the operator sees the error at load.
	_, err := NewChecker(mustParse(t, `{json_schema: {inline: {$ref: "file:///etc/passwd"}}}`), Env{})
	if err == nil || !strings.Contains(err.Error(), "is not loaded") {
		t.Errorf("an inline spec schema with a file reference: %v", err)
	}
	// A schema file's reference to a file beside it is named as written, with what to do.
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "order.json"), []byte(`{"$ref": "item.json"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = NewChecker(mustParse(t, `{json_schema: `+filepath.Join(dir, "order.json")+`}`), Env{})
	want := `does not compile: external $ref ` + filepath.Join(dir, "item.json") + ` is not loaded: Clearbar resolves only references inside the schema: copy what it refers to into the schema, under "$defs", and refer to it as "#/$defs/NAME"`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a schema file referring to another:\n%v\nwant it to say %q", err, want)
	}
}

func TestRequiredFields(t *testing.T) {
	v := compile(t, `{required_fields: [order.id, "items[].sku", total]}`, Env{})
	runCases(t, v, userRequest("x"), []vcase{
		{`{"order":{"id":"A1"},"items":[{"sku":"x"},{"sku":"y"}],"total":3}`, true, "", "every field present"},
		{`{"order":{"id":null},"items":[{"sku":"x"}],"total":3}`, false, "order.id (at /order/id)", "null counts as missing"},
		{`{"order":{"id":"A1"},"items":[{"sku":"x"},{"name":"y"}],"total":3}`, false, "/items/1/sku", "every array item is checked"},
		{`{"order":{"id":"A1"},"items":[],"total":3}`, false, "empty", "an empty array has no skus"},
		{`{"order":"A1","items":[{"sku":"x"}],"total":0}`, false, "not an object", "a string where an object is expected"},
		{`not json`, false, "not valid JSON", "not JSON at all"},
		{`{"order":{"id":"A1"},"items":[{"sku":"x"}],"total":3} Done.`, false, "text after the JSON", "a note after the JSON"},
		{`[{"order":{"id":"A1"},"items":[{"sku":"x"}],"total":3}]`, false, "the answer is a JSON array, not a JSON object", "an array of the object"},
	})
}

func TestRegexAndLength(t *testing.T) {
	re := compile(t, `{regex: {must: ["^ORDER-[0-9]+"], must_not: ["(?i)password"]}}`, Env{})
	runCases(t, re, userRequest("x"), []vcase{
		{"ORDER-12 shipped", true, "", "matches must, not must_not"},
		{"Your ORDER-12", false, "the answer does not match /^ORDER-[0-9]+/", "must is anchored"},
		{"ORDER-12, your Password is x", false, `the answer matches /(?i)password/ at "Password"`, "must_not hit, case-insensitive"},
	})
	// With one pattern, the reason does not repeat the rule the validator's name states: the
	// two read "regex: matches /…/: the answer does not match" in explain and flagged.
	one := compile(t, `{regex: {must: ["^(vegan|vegetarian|omnivore)$"]}}`, Env{})
	if got := one.Check(context.Background(), &Input{Request: userRequest("x"), Response: answer("steak")}); one.Name()+": "+got.Reason != "regex: matches /^(vegan|vegetarian|omnivore)$/: the answer does not match" {
		t.Errorf("one must pattern: %q: %q", one.Name(), got.Reason)
	}
	ln := compile(t, `{length: {min_chars: 3, max_chars: 10}}`, Env{})
	runCases(t, ln, userRequest("x"), []vcase{
		{"héllo", true, "", "5 characters, though 6 bytes"},
		{"日本語の文", true, "", "characters are code points, not bytes"},
		{"hi", false, "fewer than 3", "too short"},
		{"hello world!", false, "more than 10", "too long"},
	})
}

func TestLengthBounds(t *testing.T) {
	// Tokens are estimated as bytes / 4, rounded up (clearbar.TokensOfBytes), as routing does.
	tokens := compile(t, `{length: {min_tokens: 3, max_tokens: 5}}`, Env{})
	runCases(t, tokens, userRequest("x"), []vcase{
		{"abcdefghi", true, "", "9 bytes round up to 3 tokens: the lower bound is inclusive"},
		{"abcdefgh", false, "about 2 tokens, fewer than 3", "8 bytes are 2 tokens"},
		{strings.Repeat("a", 20), true, "", "20 bytes are 5 tokens: the upper bound is inclusive"},
		{strings.Repeat("a", 21), false, "about 6 tokens, more than 5", "21 bytes round up to 6 tokens"},
		{"日本語", true, "", "3 characters of 3 bytes each are 3 tokens"},
		{"日本語の文字を", false, "about 6 tokens, more than 5", "7 characters, but 21 bytes: tokens count bytes"},
		{"", false, "about 0 tokens, fewer than 3", "an empty answer has no tokens"},
	})
	chars := compile(t, `{max_length: 5}`, Env{})
	runCases(t, chars, userRequest("x"), []vcase{
		{"hello", true, "", "exactly at the limit"},
		{"hello!", false, "6 characters, more than 5", "one over"},
		{"héllo", true, "", "5 code points in 6 bytes"},
		{"he\u0301llo", false, "6 characters, more than 5", "a decomposed é is two code points"},
		{"👍👍👍👍👍", true, "", "emoji are one code point each, though 4 bytes"},
		{"", true, "", "max_length sets no minimum"},
	})
	both := compile(t, `{length: {min_chars: 2, max_chars: 12, min_tokens: 2}}`, Env{})
	runCases(t, both, userRequest("x"), []vcase{
		{"abcde", true, "", "5 characters and 2 tokens: every bound holds"},
		{"abc", false, "about 1 tokens, fewer than 2", "the characters pass, the tokens do not"},
		{"abcdefghijklm", false, "13 characters, more than 12", "the characters are checked first"},
		{"x", false, "1 characters, fewer than 2", "under both minimums: the characters are reported"},
	})
}

func TestRestrictedPhrases(t *testing.T) {
	v := compile(t, `{restricted_phrases: ["guaranteed returns", "legal advice"]}`, Env{})
	runCases(t, v, userRequest("x"), []vcase{
		{"We expect returns but cannot promise them.", true, "", "a clean answer"},
		{"These are GUARANTEED RETURNS.", false, "guaranteed returns", "case folded"},
		{"These are guaranteed\n  returns.", false, "guaranteed returns", "whitespace collapsed"},
		{"These are guаranteed returns.", false, "guaranteed returns", "Cyrillic а look-alike"},
		{"These are ｇｕａｒａｎｔｅｅｄ returns.", false, "guaranteed returns", "fullwidth letters"},
		{"These are guar\u200banteed returns.", false, "guaranteed returns", "a zero-width space inside the word"},
		{"This is légal advice.", false, "legal advice", "an accent added"},
		{"These are 𝐠𝐮𝐚𝐫𝐚𝐧𝐭𝐞𝐞𝐝 returns.", false, "guaranteed returns", "mathematical bold letters"},
		{"Returns are not guaranteed.", true, "", "the words apart are not the phrase"},
		{"These are guar\u2063anteed returns.", false, "guaranteed returns", "U+2063 invisible separator (format, default-ignorable)"},
		{"These are gua\ufe0franteed returns.", false, "guaranteed returns", "a variation selector inside the word"},
		{"These are guar\u00adanteed\u202e returns.", false, "guaranteed returns", "a soft hyphen and a bidi override"},
		{"These are ɡuaranteed returns.", false, "guaranteed returns", "U+0261 script g (TR39 confusable)"},
		{"This is leɡal advice.", false, "legal advice", "U+0261 script g in the second phrase"},
		{"This is 1egal advice.", false, "legal advice", "digit one for l (TR39 maps 1 to l)"},
		{"This is ӏegal advice.", false, "legal advice", "Cyrillic palochka for l"},
		{"These are guaranteed\u00a0returns.", false, "guaranteed returns", "a no-break space between the words"},
		{"Ask for paralegal advice.", true, "", "the phrase inside a longer word is not the phrase"},
		{"Illegal advice abounds.", true, "", "a prefix glued to the first word"},
		{"We give legal advices.", true, "", "whole words only: list inflected forms as phrases of their own"},
		{"This is legal advice.", false, "legal advice", "followed by punctuation"},
		{"This is LEGAL  advice", false, "legal advice", "upper case, doubled space, at the end of the text"},
		{"legal advice's limits", false, "legal advice", "at the start, followed by an apostrophe"},
		{"(legal advice)", false, "legal advice", "inside parentheses"},
	})
	ja := compile(t, `{restricted_phrases: ["元本保証", "legal advice"]}`, Env{})
	runCases(t, ja, userRequest("x"), []vcase{
		{"この商品は元本保証です。", false, "元本保証", "a phrase in a script written without spaces matches inside a sentence"},
		{"これはlegal adviceです。", false, "legal advice", "a Latin phrase written against kana, with no space"},
		{"元本は保証されません。", true, "", "the words apart"},
	})
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		in, want    string
		explanation string
	}{
		{"  Hello\tWORLD \n", "hello world", "case folded, white space collapsed and trimmed"},
		{"ｆｉｎｅ", "fine", "fullwidth letters"},
		{"ﬁne", "fine", "a ligature"},
		{"café", "cafe", "an accent removed"},
		{"gu\u200bar\u2060d", "guard", "zero-width space and word joiner"},
		{"ɡ ı ɑ", "g i a", "TR39 Latin look-alikes"},
		{"ΑΒΓ", "aßy", "Greek capitals fold to lower case, then take the prototypes of α β γ"},
		{"memo 10%", "rnerno loo/o", "ASCII look-alikes too: m as rn, 1 as l, 0 as o"},
		{"a \u200b b", "a b", "an ignorable between spaces leaves one space"},
	} {
		if got := Normalize(tc.in); got != tc.want {
			t.Errorf("%s: Normalize(%q) = %q, want %q", tc.explanation, tc.in, got, tc.want)
		}
	}
}

func TestCitations(t *testing.T) {
	v := compile(t, `{citations: true}`, Env{})
	req := &clearbar.Request{Messages: []clearbar.Message{
		{Role: "system", Text: "Sources:\n[1] Refunds take 14 days.\n[2] Shipping is free over $50.\n<document id=\"policy-7\">...</document>"},
		{Role: "user", Text: "How long do refunds take?"},
	}}
	runCases(t, v, req, []vcase{
		{"Refunds take 14 days [1].", true, "", "cites a supplied source"},
		{"See the policy [policy-7].", true, "", "an id attribute supplies a source"},
		{"Refunds take 14 days.", false, "cites no source", "a required citation is missing"},
		{"Refunds take 14 days [1][3].", false, "cites 3", "a citation to a source that was not supplied"},
		{"As stated in [4], refunds are instant.", false, "not among the supplied sources (1, 2, policy-7)", "the reason lists what was supplied"},
		{"Refunds take 14 days [1]; details [here](http://x).", true, "", "a Markdown link is not a citation"},
		{"Refunds take 14 days [1]. ![chart](chart.png)", true, "", "a Markdown image is not a citation"},
		{"Read [policy](https://example.com/p) and [docs](/d) [2].", true, "", "several links around a real citation"},
		{"Refunds take 14 days, see [here](http://x).", false, "cites no source", "a link alone does not satisfy a required citation"},
		{"Refunds take 14 days [1] (per the policy).", true, "", "a space before the parenthesis keeps the citation"},
		{"Refunds take 14 days [here] (http://x).", false, "cites here", "not a link when a space separates ] and ("},
	})
	assistant := &clearbar.Request{Messages: []clearbar.Message{{Role: "assistant", Text: "[9] I made this up"}, {Role: "user", Text: "?"}}}
	runCases(t, v, assistant, []vcase{{"It is so [9].", false, "cites 9", "ids in earlier assistant turns do not count as supplied"}})
	linked := userRequest("Summarise [guide](https://example.com/guide).")
	runCases(t, v, linked, []vcase{{"It says so [guide].", false, "cites guide, not among the supplied sources (none)", "a Markdown link in the request supplies no source"}})
}

func TestToolCalls(t *testing.T) {
	v := compile(t, `{tool_calls: required}`, Env{})
	req := userRequest("weather in Paris?")
	req.Tools = []clearbar.Tool{{Name: "get_weather", Parameters: json.RawMessage(`{"type":"object","required":["city"],"properties":{"city":{"type":"string"},"unit":{"enum":["c","f"]}}}`)}}
	call := func(name, args string) *clearbar.Response {
		return &clearbar.Response{Choices: []clearbar.Choice{{ToolCalls: []clearbar.ToolCall{{ID: "c1", Name: name, Arguments: args}}, FinishReason: "tool_calls"}}}
	}
	for _, tc := range []struct {
		resp        *clearbar.Response
		pass        bool
		reason      string
		explanation string
	}{
		{call("get_weather", `{"city":"Paris"}`), true, "", "a valid call"},
		{call("get_weather", `{"city":"Paris","unit":"k"}`), false, "/unit", "an argument outside its enum"},
		{call("get_weather", `{"town":"Paris"}`), false, "city", "a missing required argument"},
		{call("get_weather", `{"city":"Paris"`), false, "not valid JSON", "truncated arguments"},
		{call("get_wether", `{"city":"Paris"}`), false, "does not offer", "a function the request does not offer"},
		{answer("It is sunny."), false, "no tool call", "a required call is missing"},
	} {
		got := v.Check(context.Background(), &Input{Request: req, Response: tc.resp})
		if got.Pass != tc.pass || !tc.pass && !strings.Contains(got.Reason, tc.reason) {
			t.Errorf("%s: pass=%v reason %q", tc.explanation, got.Pass, got.Reason)
		}
	}
	none := compile(t, `{tool_calls: none}`, Env{})
	if got := none.Check(context.Background(), &Input{Request: req, Response: call("get_weather", `{}`)}); got.Pass {
		t.Error("tool_calls: none passed a call")
	}
}

func TestRefusal(t *testing.T) {
	v := compile(t, `{refusal: true}`, Env{})
	runCases(t, v, userRequest("x"), []vcase{
		{"Your parcel ships tomorrow.", true, "", "an answer"},
		{"I'm sorry, but I can't help with that.", false, "refusal", "a refusal"},
		{"As an AI language model, I cannot give opinions.", false, "refusal", "the classic disclaimer"},
		{"I can't wait to help: your parcel ships tomorrow.", true, "", "'I can't' that is not a refusal"},
		{"   ", false, "empty", "an empty answer"},
		{"Unfortunately I cannot help with that.", false, "refusal", "'Unfortunately' and an inability to help"},
		{"I apologize, but I cannot assist.", false, "refusal", "an apology, then 'I cannot assist'"},
		{"Unfortunately, I can’t provide legal advice.", false, "refusal", "a curly apostrophe is read as a straight one"},
		{"I’m sorry, but I won’t be able to help with that.", false, "refusal", "'won't be able to' after a curly 'I’m sorry'"},
		{"I'M SORRY, BUT I CANNOT HELP.", false, "refusal", "upper case"},
		{"**I'm sorry, but I can't comply.**", false, "refusal", "Markdown bold around the refusal"},
		{"I'm afraid I can't.", false, "refusal", "an apology and a bare 'I can't' ending the sentence"},
		{"As an AI, I don't have personal opinions.", false, "refusal", "'As an AI' without 'language model'"},
		{"I am unable to assist with this request.", false, "refusal", "'I am unable to' assist"},
		{"I won't be able to answer that.", false, "refusal", "'I won't be able to' answer"},
		{"I must respectfully decline.", false, "refusal", "a polite decline"},
		{"Thanks for your question! Unfortunately, I can't help with that.", false, "refusal", "a refusal after a short pleasantry is still at the start"},
		{"I'm sorry to hear about the delay. Your parcel ships tomorrow.", true, "", "'sorry to hear' is sympathy, not a refusal"},
		{"Sorry for the wait! Your parcel ships tomorrow.", true, "", "'sorry' without an inability"},
		{"Unfortunately, the parcel is delayed until Monday.", true, "", "'unfortunately' with news, not a refusal"},
		{"Unfortunately, I can't find order 123; please check the number.", true, "", "not finding an order is an answer"},
		{"Your parcel ships tomorrow. I'm sorry, but I can't change the carrier.", true, "", "an apology after the answer: only the opening is read"},
		{"I can't help but notice your parcel already shipped.", true, "", "'can't help but' is an idiom"},
		{"\"I'm sorry, but I can't help with that\" is what the old bot said; your parcel ships tomorrow.", true, "", "a quoted refusal at the start"},
		{"The phrase 'As an AI' starts many refusals.", true, "", "the phrase named mid-sentence"},
		{"> I cannot assist with that.\n\nThat reply was wrong: your parcel ships tomorrow.", true, "", "a block quote of a refusal"},
	})
	refused := &clearbar.Response{Choices: []clearbar.Choice{{Refusal: "I can't help with that.", FinishReason: "stop"}}}
	if got := v.Check(context.Background(), &Input{Request: userRequest("x"), Response: refused}); got.Pass || !strings.Contains(got.Reason, "the model refused") {
		t.Errorf("a refusal field: %+v", got)
	}
	cut := &clearbar.Response{Choices: []clearbar.Choice{{Text: "The first step is", FinishReason: "length"}}}
	if got := v.Check(context.Background(), &Input{Request: userRequest("x"), Response: cut}); got.Pass || !strings.Contains(got.Reason, "cut off") {
		t.Errorf("a truncated answer: %+v", got)
	}
}

// TestRefusalMismatch: answers that answer a different question than the request asked, as
// far as the request's structure shows it.
// TestRefusalWithoutMismatch: refusal: {mismatch: false} checks refusals only.
func TestRefusalWithoutMismatch(t *testing.T) {
	v := compile(t, `{refusal: {mismatch: false}}`, Env{})
	if v.Name() != "no refusal" {
		t.Errorf("name %q", v.Name())
	}
	req := userRequest("Classify: where is my refund?")
	req.ResponseFormat = clearbar.ResponseFormat{Type: "json_object"}
	runCases(t, v, req, []vcase{
		{"The intent is refund.", true, "", "prose where JSON was asked for is not checked"},
		{"I'm sorry, but I can't help with that.", false, "opens with a refusal", "a refusal still fails"},
	})
	runCases(t, v, userRequest("Which city is the capital of France?\nA. Berlin\nB. Paris"), []vcase{
		{"France's capital is lovely.", true, "", "naming no option is not checked"},
	})
}

func TestRefusalMismatch(t *testing.T) {
	v := compile(t, `{refusal: true}`, Env{})

	for _, rf := range []string{"json_object", "json_schema"} {
		req := userRequest("Classify: where is my refund?")
		req.ResponseFormat = clearbar.ResponseFormat{Type: rf, Schema: json.RawMessage(`{"type":"object"}`)}
		runCases(t, v, req, []vcase{
			{`{"intent":"refund"}`, true, "", rf + ": a JSON object"},
			{" [1, 2]", true, "", rf + ": a JSON array (its shape is the json_schema validator's question)"},
			{"```json\n{\"intent\":\"refund\"}\n```", true, "", rf + ": fenced JSON is an attempt at JSON, not prose"},
			{"{\"intent\": \"ref", true, "", rf + ": truncated JSON is not prose"},
			{"The intent is refund.", false, "asks for JSON (response_format " + rf + ") but the answer is prose", rf + ": prose"},
			{"Sure! {\"intent\":\"refund\"}", false, "is prose", rf + ": chatter before the JSON"},
		})
	}
	runCases(t, v, userRequest("Classify: where is my refund?"), []vcase{
		{"The intent is refund.", true, "", "no response_format: prose is fine"},
	})

	mc := userRequest("Which city is the capital of France?\nA. Berlin\nB. Paris\nC) Rome\n(D) Madrid")
	runCases(t, v, mc, []vcase{
		{"B", true, "", "the letter alone"},
		{"The answer is (B).", true, "", "the letter in parentheses"},
		{"**B.** Paris is the capital.", true, "", "the letter in bold"},
		{"Paris.", true, "", "the option's text, not its letter"},
		{"It is paris, of course.", true, "", "the option's text in another case"},
		{"D) Madrid is wrong; it is B.", true, "", "letters in the C) and (D) forms"},
		{"None of the above is quite right.", true, "", "'none of the above' answers the question"},
		{"France's capital is home to the Eiffel Tower.", false, "offers options A–D but the answer names none of them", "a fact about the subject, no option"},
		{"That's a tricky one with many considerations.", false, "names none", "no option at all"},
		{"Bordeaux is lovely.", false, "names none", "an option letter inside a word does not count"},
	})
	lower := userRequest("Pick one:\na) tea\nb) coffee")
	runCases(t, v, lower, []vcase{
		{"b) coffee, please", true, "", "lower-case labels"},
		{"I would have a cup of something hot.", false, "a–b", "the article 'a' is not option a"},
	})
	for _, tc := range []struct {
		msg, answer string
		explanation string
	}{
		{"Summarise my notes:\nA. Budget\nB. Timeline", "The plan is on budget and on time.", "labelled lines without a question are not a multiple-choice question"},
		{"Which of these matter?\nA. Budget", "Timing matters most.", "a single option is not a choice"},
		{"Which steps did I miss?\nB. Budget\nC. Timeline", "You missed the review.", "options that do not start at A"},
		{"Which is it?\nA. one\nC. three", "It is two.", "letters that skip are some other list"},
	} {
		runCases(t, v, userRequest(tc.msg), []vcase{{tc.answer, true, "", tc.explanation}})
	}

	tools := []clearbar.Tool{{Name: "get_weather"}, {Name: "get_time"}}
	call := func(name string) *clearbar.Response {
		return &clearbar.Response{Choices: []clearbar.Choice{{ToolCalls: []clearbar.ToolCall{{ID: "c1", Name: name, Arguments: `{}`}}, FinishReason: "tool_calls"}}}
	}
	for _, tc := range []struct {
		choice      string
		resp        *clearbar.Response
		pass        bool
		reason      string
		explanation string
	}{
		{"required", call("get_weather"), true, "", "a required call made"},
		{"required", answer("It is sunny."), false, "requires a tool call (tool_choice required) but the answer makes none", "a required call answered in prose"},
		{"get_weather", call("get_weather"), true, "", "the named function called"},
		{"get_weather", call("get_time"), false, "requires a call to get_weather (tool_choice) but the answer calls get_time", "another function called"},
		{"get_weather", answer("It is sunny."), false, "requires a call to get_weather", "a named call answered in prose"},
		{"none", call("get_weather"), false, "forbids tool calls (tool_choice none) but the answer calls get_weather", "a call the request forbids"},
		{"none", answer("It is sunny."), true, "", "prose where calls are forbidden"},
		{"auto", answer("It is sunny."), true, "", "auto leaves the choice to the model"},
		{"auto", call("get_time"), true, "", "auto: a call with no text is an answer"},
	} {
		req := userRequest("Weather in Paris?")
		req.Tools, req.ToolChoice = tools, tc.choice
		got := v.Check(context.Background(), &Input{Request: req, Response: tc.resp})
		if got.Pass != tc.pass || !tc.pass && !strings.Contains(got.Reason, tc.reason) {
			t.Errorf("%s: pass=%v reason %q", tc.explanation, got.Pass, got.Reason)
		}
	}
}

// scriptedCaller answers judge calls with a fixed reply.
type scriptedCaller struct {
	reply string
	err   error
	calls int
	last  *clearbar.Request
}

func (s *scriptedCaller) Call(_ context.Context, m *spec.Model, req *clearbar.Request) (*clearbar.Response, clearbar.Attempt, error) {
	s.calls++
	s.last = req
	a := clearbar.Attempt{Model: m.Name, Cost: 7}
	if s.err != nil {
		return nil, a, s.err
	}
	return answer(s.reply), a, nil
}

func TestJudge(t *testing.T) {
	for _, tc := range []struct {
		reply       string
		err         error
		pass        bool
		reason      string
		explanation string
	}{
		{`{"score": 0.9, "reason": "cites the policy"}`, nil, true, "score 0.90 ≥ 0.70: cites the policy", "a passing score"},
		{`{"score": 0.4, "reason": "vague"}`, nil, false, "score 0.40 < 0.70", "a failing score"},
		{"Score: 8/10. Good answer.", nil, true, "score 0.80", "a score out of 10 in prose"},
		{"no idea", nil, false, "no score", "a reply without a score"},
		{"", &clearbar.Error{Class: clearbar.Overloaded}, false, "could not be reached (overloaded)", "a judge that is down leaves the answer unverified"},
	} {
		caller := &scriptedCaller{reply: tc.reply, err: tc.err}
		v := compile(t, `{judge: {model: judge, rubric: "Answers the question with the policy's words.", threshold: 0.7}}`, Env{Caller: caller})
		j := v.(*judge)
		got, att := j.judge(context.Background(), &Input{Request: userRequest("How long do refunds take?"), Response: answer("14 days.")})
		if got.Pass != tc.pass || !strings.Contains(got.Reason, tc.reason) {
			t.Errorf("%s: %+v", tc.explanation, got)
		}
		if att.Kind != clearbar.AttemptJudge || att.Cost != 7 {
			t.Errorf("%s: the judge call must come back as an attempt with its cost: %+v", tc.explanation, att)
		}
		if caller.last == nil || !strings.Contains(caller.last.Messages[1].Text, "Answers the question with the policy's words.") || !strings.Contains(caller.last.Messages[1].Text, "14 days.") {
			t.Errorf("%s: the judge did not see the rubric and the answer", tc.explanation)
		}
	}
}

func TestCheckerRunsJudgeLast(t *testing.T) {
	src := `version: 1
name: v
providers: {sim: {type: simulated}}
models:
  a: {provider: sim, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}}
  judge: {provider: sim, model: gpt-4o, latency: {p50: 1s, p95: 2s}}
categories:
  - name: c
    share: 1
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {model: a, validate: [{judge: {model: judge, rubric: r}}, {max_length: 5}]}
    assume: {pass_rate: {a: 0.9}, validator: {detect: 0.9, false_alarm: 0.1}}
`
	s, err := spec.Parse([]byte(src), "v.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	caller := &scriptedCaller{reply: `{"score":1}`}
	c, err := NewChecker(s, Env{Caller: caller})
	if err != nil {
		t.Fatal(err)
	}
	vs := s.Categories[0].Route.Validate
	verdicts, pass, calls := c.Check(context.Background(), "", userRequest("x"), answer("too long an answer"), vs)
	if pass || caller.calls != 0 || len(calls) != 0 || len(verdicts) != 2 || !strings.Contains(verdicts[1].Reason, "not run") {
		t.Errorf("a cheap failure must skip the judge: pass %v calls %d verdicts %+v", pass, caller.calls, verdicts)
	}
	verdicts, pass, calls = c.Check(context.Background(), "", userRequest("x"), answer("ok"), vs)
	if !pass || caller.calls != 1 || len(calls) != 1 || len(verdicts) != 2 {
		t.Errorf("both pass: pass %v calls %d verdicts %+v", pass, caller.calls, verdicts)
	}
}

func TestNewCheckerCompileErrorsNameTheLine(t *testing.T) {
	src := `version: 1
name: v
providers: {sim: {type: simulated}}
models:
  a: {provider: sim, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}}
categories:
  - name: c
    share: 1
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {model: a, validate: [{json_schema: {inline: {type: objekt}}}]}
    assume: {pass_rate: {a: 0.9}, validator: {detect: 0.9, false_alarm: 0.1}}
`
	s, err := spec.Parse([]byte(src), "v.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewChecker(s, Env{})
	if err == nil || !strings.HasPrefix(err.Error(), "v.yaml:11:") || !strings.Contains(err.Error(), "does not compile") {
		t.Errorf("error %v", err)
	}
	// A schema that breaks JSON Schema's rules says which, on the one line of its file:line.
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "not valid JSON Schema: at '/type': value must be one of 'array'") {
		t.Errorf("error %q: want one line naming the rule /type breaks", err)
	}
}

// BenchmarkValidators measures the per-answer cost of the validators that run on every
// validated answer.
func BenchmarkValidators(b *testing.B) {
	t := &testing.T{}
	cases := []struct {
		name, yaml, answer string
	}{
		{"json_schema", `{json_schema: {inline: {type: object, required: [intent, confidence], properties: {intent: {enum: [refund, shipping, billing]}, confidence: {type: number}}}}}`, `{"intent":"refund","confidence":0.93}`},
		{"regex", `{regex: {must: ["^[A-Z]"], must_not: ["(?i)password|ssn"]}}`, strings.Repeat("Your order ships tomorrow. ", 20)},
		{"restricted_phrases", `{restricted_phrases: ["guaranteed returns", "legal advice", "medical advice", "cannot lose"]}`, strings.Repeat("Your order ships tomorrow. ", 20)},
		{"restricted_phrases_accented", `{restricted_phrases: ["guaranteed returns", "legal advice", "medical advice", "cannot lose"]}`, strings.Repeat("Votre commande part demain, déjà payée. ", 14)},
	}
	for _, c := range cases {
		v := compile(t, c.yaml, Env{})
		in := &Input{Request: userRequest("x"), Response: answer(c.answer)}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !v.Check(context.Background(), in).Pass {
					b.Fatal("failed")
				}
			}
		})
	}
}

// TestCalibrate measures three validators on a hand-labelled set of 4 bad and 6 good answers.
//
//	answer                                            good  max_length 20   "guaranteed"
//	b1 "Returns are guaranteed." (23 chars)           no    flags           flags
//	b2 "guaranteed" (10)                              no    -               flags
//	b3 "This answer rambles on and on." (30)          no    flags           -
//	b4 "Wrong but short." (16)                        no    -               -
//	g1 "Ships tomorrow." (15)                         yes   -               -
//	g2 "Refund in 14 days." (18)                      yes   -               -
//	g3 "Your refund was sent today, by bank transfer." yes  flags (45)      -
//	g4 "No guaranteed date." (19)                     yes   -               flags
//	g5 "Yes." (4)                                     yes   -               -
//	g6 "It ships Monday." (16)                        yes   -               -
//
// The judge always scores 1, so it flags nothing and costs 7 per call, 10 calls.
//
// Rates with 95% Wilson intervals, z = 1.96, z² = 3.8415:
//
//	max_length:  detect 2/4,      false alarm 1/6
//	phrases:     detect 2/4,      false alarm 1/6
//	judge:       detect 0/4,      false alarm 0/6
//	together:    detect 3/4 (b1, b2, b3), false alarm 2/6 (g3, g4)
//
//	2/4: p = 0.5,  d = 1 + z²/4 = 1.9604, centre = (0.5 + z²/8)/d = 0.9802/1.9604 = 0.5,
//	     half = z·√(0.5·0.5/4 + z²/64)/d = 1.96·√0.12252/1.9604 = 0.3500  → [0.1500, 0.8500]
//	1/6: p = 1/6,  d = 1 + z²/6 = 1.6403, centre = (0.1667 + 0.3201)/d = 0.2968,
//	     half = 1.96·√(0.02315 + 0.02668)/d = 0.2667                       → [0.0301, 0.5635]
//	3/4: p = 0.75, centre = (0.75 + 0.4802)/1.9604 = 0.6275,
//	     half = 1.96·√(0.046875 + 0.06002)/1.9604 = 0.3269                 → [0.3006, 0.9544]
//	2/6: p = 1/3,  centre = (0.3333 + 0.3201)/1.6403 = 0.3984,
//	     half = 1.96·√(0.03704 + 0.02668)/1.6403 = 0.3016                  → [0.0968, 0.7000]
//	0/4: centre = 0.4802/1.9604 = 0.2449 = half                             → [0, 0.4899]
//	0/6: centre = 0.3201/1.6403 = 0.1952 = half                             → [0, 0.3903]
func TestCalibrate(t *testing.T) {
	s := mustParse(t, `{max_length: 20}, {restricted_phrases: [guaranteed]}, {judge: {model: judge, rubric: r}}`)
	caller := &scriptedCaller{reply: `{"score": 1}`}
	c, err := NewChecker(s, Env{Caller: caller})
	if err != nil {
		t.Fatal(err)
	}
	var items []Labeled
	for _, it := range []struct {
		text string
		good bool
	}{
		{"Returns are guaranteed.", false},
		{"guaranteed", false},
		{"This answer rambles on and on.", false},
		{"Wrong but short.", false},
		{"Ships tomorrow.", true},
		{"Refund in 14 days.", true},
		{"Your refund was sent today, by bank transfer.", true},
		{"No guaranteed date.", true},
		{"Yes.", true},
		{"It ships Monday.", true},
	} {
		items = append(items, Labeled{Request: userRequest("x"), Response: answer(it.text), Good: it.good})
	}
	got := Calibrate(context.Background(), c, s.Categories[0].Route.Validate, items)
	if len(got) != 4 {
		t.Fatalf("%d strengths, want one per validator and one for all together", len(got))
	}
	type ci = [2]float64
	for i, want := range []struct {
		validator              string
		detected, falseAlarms  int
		detect, falseAlarm     float64
		detectCI, falseAlarmCI ci
		judgeCalls             int
		judgeCost              clearbar.Money
		explanation            string
	}{
		{"max_length: at most 20 characters", 2, 1, 0.5, 1.0 / 6, ci{0.1500, 0.8500}, ci{0.0301, 0.5635}, 0, 0, "length catches the long bad answers and one long good one"},
		{"restricted_phrases: none of 1 restricted phrases", 2, 1, 0.5, 1.0 / 6, ci{0.1500, 0.8500}, ci{0.0301, 0.5635}, 0, 0, "the phrase flags a good answer that denies it (g4)"},
		{"judge: judge judge scores ≥ 0.70", 0, 0, 0, 0, ci{0, 0.4899}, ci{0, 0.3903}, 10, 70, "a judge that passes everything, with its calls and cost counted"},
		{"all validators together", 3, 2, 0.75, 1.0 / 3, ci{0.3006, 0.9544}, ci{0.0968, 0.7000}, 0, 0, "an answer is flagged when any validator fails it"},
	} {
		g := got[i]
		if g.Validator != want.validator || g.Bad != 4 || g.Good != 6 || g.Detected != want.detected || g.FalseAlarms != want.falseAlarms ||
			g.JudgeCalls != want.judgeCalls || g.JudgeCost != want.judgeCost {
			t.Errorf("%s: got %+v", want.explanation, g)
			continue
		}
		near := func(a, b float64) bool { return math.Abs(a-b) < 5e-4 }
		if !near(g.Detect, want.detect) || !near(g.FalseAlarm, want.falseAlarm) ||
			!near(g.DetectCI[0], want.detectCI[0]) || !near(g.DetectCI[1], want.detectCI[1]) ||
			!near(g.FalseAlarmCI[0], want.falseAlarmCI[0]) || !near(g.FalseAlarmCI[1], want.falseAlarmCI[1]) {
			t.Errorf("%s: detect %.4f %v, false alarm %.4f %v; want %.4f %v, %.4f %v", want.explanation,
				g.Detect, g.DetectCI, g.FalseAlarm, g.FalseAlarmCI, want.detect, want.detectCI, want.falseAlarm, want.falseAlarmCI)
		}
	}
}

// TestCalibrateNamesEachValidatorOnce: a validator is named by its kind and its summary,
// and a summary that starts with "kind: " does not repeat it.
func TestCalibrateNamesEachValidatorOnce(t *testing.T) {
	s := mustParse(t, `{regex: {must_not: ['(?i)sorry']}}, {max_length: 20}, {judge: {model: judge, rubric: r}}`)
	c, err := NewChecker(s, Env{Caller: &scriptedCaller{reply: `{"score": 1}`}})
	if err != nil {
		t.Fatal(err)
	}
	items := []Labeled{{Request: userRequest("x"), Response: answer("Sorry."), Good: false}}
	got := Calibrate(context.Background(), c, s.Categories[0].Route.Validate, items)
	for i, want := range []string{"regex: does not match /(?i)sorry/", "max_length: at most 20 characters", "judge: judge judge scores ≥ 0.70", "all validators together"} {
		if got[i].Validator != want {
			t.Errorf("validator %d is named %q, want %q", i, got[i].Validator, want)
		}
	}
}

func TestWilsonInterval(t *testing.T) {
	for _, tc := range []struct {
		k, n   int
		p      float64
		lo, hi float64
	}{
		{0, 0, 0, 0, 1},
		{5, 10, 0.5, 0.2366, 0.7634},
		{0, 20, 0, 0, 0.1611},
		{20, 20, 1, 0.8389, 1},
	} {
		p, ci := rate(tc.k, tc.n)
		if math.Abs(p-tc.p) > 1e-9 || math.Abs(ci[0]-tc.lo) > 1e-3 || math.Abs(ci[1]-tc.hi) > 1e-3 {
			t.Errorf("rate(%d, %d) = %v %v, want %v [%v, %v]", tc.k, tc.n, p, ci, tc.p, tc.lo, tc.hi)
		}
	}
}
