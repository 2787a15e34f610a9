// Package translate converts between OpenAI's Chat Completions wire format and Anthropic's
// Messages format, both ways: requests, complete answers and streams. It has no I/O and no
// state beyond one stream's; every function is safe for concurrent use, and each stream
// translator is used by one goroutine.
//
// The provider/anthropic adapter uses it to send OpenAI-dialect requests to Anthropic and to
// hand the gateway OpenAI-format answers (ToAnthropicCall, ToOpenAIAnswer, OpenAIChunks).
// The gateway's Anthropic ingress uses it the other way (ToOpenAIRequest, ToAnthropicResponse,
// AnthropicEvents), so that an Anthropic client can be routed to any upstream; the other
// adapters that read the OpenAI form (provider/openai, and through it Azure, and
// provider/gemini) pass every body through ToOpenAIUpstream.
//
// Values are copied as raw JSON wherever both formats hold the same value (text, tool
// schemas, tool inputs, stop sequences, sampling numbers), so they survive byte for byte.
// What one side cannot express is dropped or refused, never guessed; the tables below are the
// contract, and TestDropped checks them.
//
// # The sidecar: an Anthropic client routed to Anthropic loses nothing
//
// The gateway runs every request in the OpenAI form, which cannot hold much of what an
// Anthropic client sends. So ToOpenAIRequest ends the OpenAI body with a sidecar, the member
// AnthropicKey (its layout is documented there), that carries the rest: the thinking parameter,
// thinking and redacted_thinking blocks with their signatures (which Anthropic needs back on
// tool-use turns), cache_control on system blocks, tools and content blocks, is_error, the
// system prompt's blocks, every other member of a block or tool that the OpenAI form has no
// place for (citations, a document's context, defer_loading, …), text-source documents whole,
// the order of an assistant message's blocks, the top-level parameters without an OpenAI form,
// and the anthropic-beta header. ToAnthropicCall puts all of it back, so an Anthropic upstream
// gets the client's request as it was sent (the model, and stream, set by the adapter), and the
// beta header for its call. TestAnthropicFidelity checks the round trip.
//
// Answers go the same way back: for a request with a sidecar (AnthropicCall.Native) the
// adapter keeps the upstream's own message, or each event of its stream, beside their OpenAI
// form (AnswerOptions.Native, OpenAIChunks.Native), and ToAnthropicResponse and AnthropicEvents
// give the client those: thinking blocks, signature_delta and thinking_delta events, citations,
// stop_sequence and the upstream's block indices as they came (the upstream's pings aside; the
// gateway sends its own). The gateway, its validators and its accounting read the OpenAI form
// as for any answer.
//
// Every other adapter takes the sidecar out (ToOpenAIUpstream), and refuses with a 400 naming
// it the parameter its model cannot honour; the table below says which.
//
// # OpenAI request → Anthropic request (ToAnthropicCall, ToAnthropicRequest)
//
//	model                        model (or AnthropicOptions.Model)
//	system, developer messages   system, hoisted from anywhere: a string for one, text blocks for several
//	consecutive same-role turns  merged into one message (tool messages and the user message after them form one user turn)
//	user text parts              text blocks; a lone string content stays a string
//	image_url (data URL)         image {source: base64, media_type, data}
//	image_url (http/https URL)   image {source: url}
//	file {file_data} (PDF)       document {source: base64 application/pdf}, filename → title
//	assistant content, refusal   text blocks
//	assistant tool_calls         tool_use {id, name, input: the arguments, which must be a JSON object}
//	tool messages                tool_result {tool_use_id, content} blocks, first in the user turn
//	tools[].function             tools[] {name, description, input_schema: parameters or an empty object schema, strict}
//	tool_choice                  auto → auto, required → any, none → none, {function} → {type: tool, name}
//	parallel_tool_calls: false   tool_choice.disable_parallel_tool_use: true
//	functions (deprecated)       tools, as function tools are; the answer calls them in their form (see Answers)
//	function_call (deprecated)   tool_choice: auto → auto, none → none, {name} → {type: tool, name}; with
//	                             disable_parallel_tool_use: true, as the deprecated form makes one call
//	function_call in the history a tool_use with an id made up from the message's index
//	                             (toolu_fn_<i>, Anthropic's form of call_fn_<i>): the deprecated call has none
//	role function message        a tool_result answering the earliest unanswered function_call
//	                             of its name (else the earliest), with that call's made-up id
//	the sidecar (AnthropicKey)   what it carries, put back (see above); the anthropic-beta header for the call
//	max_completion_tokens        max_tokens (else max_tokens, else DefaultMaxTokens, 4096)
//	stop                         stop_sequences
//	temperature                  temperature, clamped to 1 (2023-06-01); dropped for 2026-10-21 and later
//	top_p                        top_p (2023-06-01); dropped for 2026-10-21 and later
//	top_k (from the sidecar)     top_k (2023-06-01); dropped for 2026-10-21 and later
//	response_format json_schema  output_config.format {type: json_schema, schema}
//	response_format json_object  an instruction added to the system prompt (Anthropic has no JSON mode)
//	web_search_options           Anthropic's web search tool (web_search_20250305), after the function
//	                             tools, with the approximate user location (city, region, country,
//	                             timezone); its citations come back as annotations (see Answers)
//	user, else safety_identifier metadata.user_id
//	stream                       stream, as the caller asks (AnthropicOptions.Stream)
//
// Refused (ClientError naming the parameter): n > 1, input_audio parts, file parts by file_id
// or of another type than PDF, image URLs that are neither http(s) nor base64 data URLs,
// custom tools, tool_choice allowed_tools and custom, tool-call arguments that are not a JSON
// object (an assistant's deprecated function_call's too), a function-role message with no
// function_call before it to answer, functions together with tools, function_call without functions, response_format types other
// than text, json_object and json_schema. The gateway's routing leaves a route's Anthropic
// models out for such a request (AnthropicRefusal says why) while another model can take it,
// and answers this 400 only when none can.
//
// Dropped: metadata (Anthropic's metadata takes only user_id), stream_options, logprobs,
// top_logprobs, logit_bias, seed, frequency_penalty, presence_penalty, reasoning_effort,
// verbosity, modalities, audio, prediction, store, service_tier, web_search_options'
// search_context_size,
// prompt_cache_key, prompt_cache_retention, message names, image detail, json_schema name,
// description and strict, and any field Clearbar does not know (Anthropic rejects unknown
// fields, so nothing is passed through blindly). A request asking for logprobs or audio
// output goes to another model of its route while one can take it (route's capability
// checks); only then is it answered here without them.
//
// # Anthropic request → OpenAI request (ToOpenAIRequest)
//
// A member that is not a parameter of the Messages API (anthropic-sdk-go v1.84 and v2.15) is a
// 400, "foo: Extra inputs are not permitted", as Anthropic answers it; so are a message member
// other than role and content, and metadata other than user_id and Clearbar's routing hints.
// Anthropic's other checks are made too, in its words: tool_choice any or tool without tools
// ("tool_choice may only be specified while providing tools."), thinking.budget_tokens under
// 1024 or not under max_tokens, a missing max_tokens (except in count_tokens,
// OpenAIOptions.CountTokens).
//
//	model                        model
//	system (string or blocks)    system messages first, one per block
//	system-role messages         system messages in their place, one per block
//	user text blocks             text parts; a string content stays a string
//	image (base64 / url)         image_url (data URL / URL)
//	document (base64 PDF)        file {file_data: data URL, filename: title}
//	document (text source)       a text part
//	assistant text blocks        content, joined into one string
//	tool_use                     tool_calls {id, type: function, function: {name, arguments: the input as a JSON string}}
//	tool_result                  tool messages, before the rest of their user message
//	tool_result is_error: true   the tool message's content starts with ToolErrorPrefix ("Error: "), the
//	                             first text part's when it has parts
//	tools                        function tools (input_schema → parameters, strict)
//	tool_choice                  auto → auto, any → required, none → none, tool → {function}; without
//	                             tools, auto and none mean nothing and are left out
//	disable_parallel_tool_use    parallel_tool_calls: false
//	max_tokens                   max_completion_tokens
//	stop_sequences               stop
//	temperature, top_p           the same (2023-06-01); a 400 with 2026-10-21, as Anthropic gives
//	output_config.format         response_format json_schema {name: "output", schema, strict: true}
//	output_format (beta)         the same, when there is no output_config.format
//	metadata.user_id             user
//	metadata.clearbar_*          metadata (Clearbar's routing hints, which no adapter forwards)
//	stream                       stream, with stream_options.include_usage
//	tools of Anthropic's types   the sidecar (native_tools), with tool_choice as sent: web search,
//	                             web fetch, code execution, computer use, bash, the text editor, …
//	                             (any type but custom); the OpenAI form keeps the function tools
//	server-tool blocks           in an assistant message (server_tool_use, web_search_tool_result,
//	                             …, any type without an OpenAI form): the sidecar's layout
//	blocks without an OpenAI form in a user message or a tool result (search results, images
//	                             from the Files API, documents by URL, file or custom content,
//	                             images and documents in tool results): a text part stands in
//	                             (a search result's title and text, else "[type]") and the
//	                             sidecar carries the block
//	anything else                the sidecar (see above)
//
// A request with a tool or block that only the sidecar carries can be taken by an Anthropic
// model only: the sidecar names the first (its "only" member), AnthropicOnly reports it, and
// routing leaves OpenAI-format models out for it.
//
// Refused: images or documents in assistant messages, thinking blocks outside assistant
// messages, tool_use and tool_result blocks in the other role, blocks without a type, top_k
// with 2026-10-21.
//
// What an OpenAI-format model gets (ToOpenAIUpstream, which every OpenAI-format adapter and the
// Gemini adapter apply): the OpenAI form above, without the sidecar. Of what only the sidecar
// holds,
//
//	dropped    thinking (reasoning_effort is not guessed from a budget, and models without
//	           reasoning reject it), thinking and redacted_thinking blocks in the history (OpenAI
//	           cannot take them back), cache_control everywhere (OpenAI caches by itself),
//	           citations, a document's context, other block and tool members (defer_loading,
//	           input_examples, …), the system prompt's block form, top_k, service_tier, speed,
//	           diagnostics, context_management (the model sees the whole context), fallbacks,
//	           fallback_credit_token, output_config.effort (its format is translated), and the
//	           anthropic-beta header: none of them changes what the request asks
//	refused    container, mcp_servers, compaction, thread, billing_policy and inference_geo, a
//	           ClientError naming the parameter: each names Anthropic-side state or a promise
//	           (where the model runs, who pays) that another vendor's model cannot keep; and
//	           the tools and blocks only the sidecar carries (the first is named), which run
//	           inside Anthropic's API or hold what an OpenAI-format model cannot read
//
// An Anthropic upstream gets all of it back (see above), the tool_result prefix taken off.
//
// # Answers
//
// Anthropic → OpenAI (ToOpenAIAnswer, OpenAIChunks): text blocks become the content, joined;
// tool_use blocks become tool_calls with their input as the arguments string; stop_reason
// becomes finish_reason (FinishReason); usage becomes prompt_tokens = input_tokens +
// cache_creation_input_tokens + cache_read_input_tokens, completion_tokens = output_tokens,
// cached_tokens = cache_read_input_tokens, cache_write_tokens = cache_creation_input_tokens.
// The message id is kept. A text block's web search citations (web_search_result_location)
// become message.annotations, as OpenAI's search models give them: {type: url_citation,
// url_citation: {url, title, start_index, end_index}}, one per page the block cites, spanning
// the block's text in the joined content. The indices count Unicode code points (OpenAI's
// "characters": its indices slice the content as a Python string does; a JavaScript client
// whose text has characters outside the Basic Multilingual Plane, such as emoji, before a
// citation must convert them), end exclusive. Dropped from the OpenAI form: thinking blocks,
// server-tool blocks (the searches and their results), the other citations (of documents and
// search result blocks, which name no web page) and cited_text and encrypted_index,
// stop_sequence, usage.server_tool_use (counted as web searches) and service_tier; an
// Anthropic client gets them all with the upstream's own message (AnswerOptions.Native, see
// the sidecar above), whose OpenAI form has the annotations too. For a
// request that offered the deprecated functions (AnswerOptions.Functions), the first tool_use
// is message.function_call {name, arguments} and finish_reason tool_calls is function_call.
//
// OpenAI → Anthropic (ToAnthropicResponse, AnthropicEvents): the first choice's content and
// refusal become text blocks, tool_calls become tool_use blocks, finish_reason becomes
// stop_reason (StopReason), usage goes back to Anthropic's accounting. The completion id is
// kept, prefixed msg_ as Anthropic's message ids are (chatcmpl-abc becomes msg_chatcmpl-abc;
// an id that starts with msg_ stays as it is). Dropped: other choices, logprobs, annotations, audio, system_fingerprint,
// service_tier, reasoning_tokens; stop_sequence is always null (OpenAI does not say which
// sequence matched, so stop_sequence also reads as end_turn).
//
// # Streams
//
// OpenAIChunks turns Anthropic events into OpenAI chunks (for a functions request, the first
// tool call as delta.function_call fragments); a text block's web search citations, from
// content_block_start and citations_delta events, are sent when the block stops, in a chunk of
// their own with delta.annotations, the same annotations as in an answer. AnthropicEvents turns OpenAI chunks into
// Anthropic events with contiguous block indices and event lines, or gives the client the
// Anthropic upstream's own events the chunks carry (OpenAIChunks.Native). An OpenAI stream
// reports its usage at the end, so a message_start written from one carries zero input
// tokens unless the caller knows them (AnthropicEvents.InputUsage); message_delta then
// carries every count, which current Anthropic SDKs read.
package translate
