package route

import (
	"cmp"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/catalog"
	"github.com/clearbar/clearbar/internal/geminimodel"
	"github.com/clearbar/clearbar/spec"
)

// A modality is a kind of non-text input (a content part type) that some models cannot take,
// and the catalogue flag that says whether a model can.
type modality struct {
	// part is the content part type ("image_url"); name names the input in skip reasons and
	// errors ("image input"); flag is the catalogue's field, for the reason.
	part, name, flag string
	takes            func(e *catalog.Entry) bool
}

// modalities are the inputs routing checks, each against the catalogue's explicit statement
// that a model does not take it (LiteLLM's supports_vision, supports_audio_input and
// supports_pdf_input set to false; most entries leave the flags out, which says nothing).
// The spec has no capability override of its own; a model's catalog: key chooses which
// entry is read.
var modalities = [...]modality{
	{part: "image_url", name: "image input", flag: "supports_vision",
		takes: func(e *catalog.Entry) bool { return !e.NoImageInput }},
	{part: "input_audio", name: "audio input", flag: "supports_audio_input",
		takes: func(e *catalog.Entry) bool { return !e.NoAudioInput }},
	{part: "file", name: "file (PDF) input", flag: "supports_pdf_input",
		takes: func(e *catalog.Entry) bool { return !e.NoPDFInput }},
}

// modalitySet is a set of modalities, one bit per entry of modalities.
type modalitySet uint8

// modalitiesOf returns the modalities that r's messages carry. Every message counts: earlier
// turns are sent to the model too. A text-only request costs one pass over its messages.
func modalitiesOf(r *clearbar.Request) modalitySet {
	var n modalitySet
	for i := range r.Messages {
		for _, a := range r.Messages[i].Attachments {
			for j := range modalities {
				if a.Type == modalities[j].part {
					n |= 1 << j
				}
			}
		}
	}
	return n
}

// lacking returns the first modality in n that m's catalogue entry says m cannot take, or nil.
// Only a catalogue entry can say so: a model without one (a custom or self-hosted model priced
// in the spec) is taken to accept every input.
func lacking(m *spec.Model, n modalitySet) *modality {
	if n == 0 || !m.Resolved.InCatalog {
		return nil
	}
	for j := range modalities {
		if n&(1<<j) != 0 && !modalities[j].takes(&m.Resolved.Catalog) {
			return &modalities[j]
		}
	}
	return nil
}

// refusedParam returns the parameter of r that m's adapter refuses, with the reason for a
// skip, or "" (see refusal).
func refusedParam(m *spec.Model, r *clearbar.Request) (param, reason string) {
	param, reason, _ = refusal(m, r)
	return param, reason
}

// refusal returns the parameter of r that m's adapter refuses, with the reason for a skip and,
// when the adapter's own check refused it, the adapter's error, which a plan with no other
// model left answers, as the adapter would; or "" and nil. What the adapters refuse: a
// parameter only Anthropic models take (r.AnthropicOnly), which the adapters that speak the
// OpenAI form (openai, openai-compatible, azure-openai, gemini) refuse, or what the
// translation into Anthropic's form refuses (r.AnthropicRefusal: n over 1, audio input, a
// custom tool, …), which the anthropic adapter refuses, or the deprecated functions
// (r.Functions), which the Gemini adapter refuses, since their answers would have to come in
// the deprecated form too, or what the Gemini adapter refuses for every Gemini model
// (r.GeminiRefusal: a custom tool, a file by an id that is not a Gemini file, a content part
// its message's role cannot hold, …), or a web search with tools (r.WebSearch), which Gemini
// models before Gemini 3 refuse (geminimodel.SearchesWithFunctions). For a Gemini model the
// order is the adapter's: the deprecated functions come first, and a web search is checked
// after the rest of the request.
//
// A provider that serve --simulate turned into the simulator counts as the type the spec gave
// it (spec.Provider.SimulatedType), so that a simulated run routes as the real one would.
// It allocates only for a model it leaves out (the reason).
func refusal(m *spec.Model, r *clearbar.Request) (param, reason string, err *clearbar.Error) {
	if m.Resolved.Provider == nil {
		return "", "", nil
	}
	typ := cmp.Or(m.Resolved.Provider.SimulatedType, m.Resolved.Provider.Type)
	switch typ {
	case "openai", "openai-compatible", "azure-openai", "gemini":
		if r.AnthropicOnly != "" {
			return r.AnthropicOnly, "an OpenAI-format model (provider type " + typ + ") cannot take " + cmp.Or(r.AnthropicOnlyWhat, r.AnthropicOnly) + ", which only Anthropic models take", nil
		}
	}
	if typ == "anthropic" && r.AnthropicRefusal != nil {
		return r.AnthropicRefusal.Param, "an Anthropic model cannot take the request: " + r.AnthropicRefusal.Message, r.AnthropicRefusal
	}
	if typ == "simulated" && r.AnthropicOnly == "thread" {
		// A thread continues a conversation Anthropic's API keeps; the simulator keeps none, so
		// it would answer the continuation without the turns before it.
		return "thread", "the simulated provider keeps no conversation, which thread continues (only Anthropic's API keeps one)", nil
	}
	if typ != "gemini" {
		return "", "", nil
	}
	if r.Functions {
		return "functions", "a Gemini model takes no deprecated functions (only tools)", nil
	}
	if r.GeminiRefusal != nil {
		return r.GeminiRefusal.Param, "a Gemini model cannot take the request: " + r.GeminiRefusal.Message, r.GeminiRefusal
	}
	if r.WebSearch && len(r.Tools) > 0 && !geminimodel.SearchesWithFunctions(m.Model) {
		return "web_search_options", "a Gemini model before Gemini 3 cannot search the web and call the request's tools in one request", nil
	}
	return "", "", nil
}

// drops returns, when m's adapter drops a parameter r asks for in the answer (r.OpenAIAnswer:
// logprobs, or modalities with audio), m's kind for a skip's reason ("an Anthropic model"),
// else "": the anthropic and gemini adapters send neither (see translate's and provider/gemini's
// documentation) and answer without them. Unlike refusedParam's, such a model still answers:
// routing leaves it out only while the route has a model that does not drop the parameter
// (see avoidsDropping).
func drops(m *spec.Model, r *clearbar.Request) string {
	if r.OpenAIAnswer == "" || m.Resolved.Provider == nil {
		return ""
	}
	switch cmp.Or(m.Resolved.Provider.SimulatedType, m.Resolved.Provider.Type) {
	case "anthropic":
		return "an Anthropic model"
	case "gemini":
		return "a Gemini model"
	}
	return ""
}

// dropReason is the reason a decision records for a model of kind (see drops) left out for
// dropping what r asks for in the answer.
func dropReason(kind string, r *clearbar.Request) string {
	if r.OpenAIAnswer == "modalities" {
		return kind + " answers in text only, not the audio the request asks for (modalities), which another model of the route can give"
	}
	return kind + " gives no " + r.OpenAIAnswer + ", which the request asks for and another model of the route can give"
}

// avoidsDropping reports whether planning ap should leave out the models that drop a
// parameter r asks for (see drops): only when one of its models does not drop it and can
// take the request (its context window, max tokens, inputs, parameters and breaker), so that
// a route whose other models cannot answer keeps today's answer without the parameter.
func avoidsDropping(ap *armPlan, h Health, need int, carries modalitySet, r *clearbar.Request) bool {
	if r.OpenAIAnswer == "" {
		return false
	}
	for _, st := range ap.steps {
		for _, m := range st.Candidates {
			if drops(m, r) != "" {
				continue
			}
			if fit, _ := sizeFit(m, need, carries, r); fit != fitOK {
				continue
			}
			if p, _ := refusedParam(m, r); p != "" {
				continue
			}
			if h != nil {
				if open, _ := h.Open(Key(m)); open {
					continue
				}
			}
			return true
		}
	}
	return false
}
