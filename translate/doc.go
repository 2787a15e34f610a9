// Package translate converts between OpenAI's Chat Completions wire format and Anthropic's
// Messages format, both ways: requests, complete answers and streams. It has no I/O and no
// state beyond one stream's; every function is safe for concurrent use, and each stream
// translator is used by one goroutine.
//
// The provider/anthropic adapter uses it to send OpenAI-dialect requests to Anthropic and to
// hand the gateway OpenAI-format answers (ToAnthropicRequest, ToOpenAIResponse, OpenAIChunks).
// The gateway's Anthropic ingress uses it the other way (ToOpenAIRequest, ToAnthropicResponse,
// AnthropicEvents), so that an Anthropic client can be routed to any upstream.
//
// Values are copied as raw JSON wherever both formats hold the same value (text, tool
// schemas, tool inputs, stop sequences, sampling numbers), so they survive byte for byte.
// What one side cannot express is dropped or refused, never guessed; the tables below are the
// contract, and TestDropped checks them.
//
// # OpenAI request → Anthropic request (ToAnthropicRequest)
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
//	max_completion_tokens        max_tokens (else max_tokens, else DefaultMaxTokens, 4096)
//	stop                         stop_sequences
//	temperature                  temperature, clamped to 1 (2023-06-01); dropped for 2026-10-21 and later
//	top_p                        top_p (2023-06-01); dropped for 2026-10-21 and later
//	response_format json_schema  output_config.format {type: json_schema, schema}
//	response_format json_object  an instruction added to the system prompt (Anthropic has no JSON mode)
//	user, else safety_identifier metadata.user_id
//	stream                       stream, as the caller asks (AnthropicOptions.Stream)
//
// Refused (ClientError naming the parameter): n > 1, input_audio parts, file parts by file_id
// or of another type than PDF, image URLs that are neither http(s) nor base64 data URLs,
// custom tools, tool_choice allowed_tools and custom, tool-call arguments that are not a JSON
// object, function-role messages, response_format types other than text, json_object and
// json_schema.
//
// Dropped: metadata (Anthropic's metadata takes only user_id), stream_options, logprobs,
// top_logprobs, logit_bias, seed, frequency_penalty, presence_penalty, reasoning_effort,
// verbosity, modalities, audio, prediction, store, service_tier, web_search_options,
// prompt_cache_key, prompt_cache_retention, message names, image detail, json_schema name,
// description and strict, and any field Clearbar does not know (Anthropic rejects unknown
// fields, so nothing is passed through blindly).
//
// # Anthropic request → OpenAI request (ToOpenAIRequest)
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
//	tools                        function tools (input_schema → parameters, strict)
//	tool_choice                  auto → auto, any → required, none → none, tool → {function}
//	disable_parallel_tool_use    parallel_tool_calls: false
//	max_tokens                   max_completion_tokens
//	stop_sequences               stop
//	temperature, top_p           the same (2023-06-01); a 400 with 2026-10-21, as Anthropic gives
//	output_config.format         response_format json_schema {name: "output", schema, strict: true}
//	metadata.user_id             user
//	metadata.clearbar_*          metadata (Clearbar's routing hints, which no adapter forwards)
//	stream                       stream, with stream_options.include_usage
//
// Refused: server tools (any tool with a type other than custom), images or documents in
// assistant messages, images inside tool results, documents by URL or file, other block types
// (search results, server tool results), a missing max_tokens, temperature, top_p or top_k
// with 2026-10-21.
//
// Dropped: top_k, thinking (and thinking and redacted_thinking blocks in the history),
// cache_control everywhere, citations, tool_result is_error, output_config.effort,
// service_tier, container, mcp_servers, context_management, metadata other than user_id and
// routing hints.
//
// # Answers
//
// Anthropic → OpenAI (ToOpenAIResponse, OpenAIChunks): text blocks become the content, joined;
// tool_use blocks become tool_calls with their input as the arguments string; stop_reason
// becomes finish_reason (FinishReason); usage becomes prompt_tokens = input_tokens +
// cache_creation_input_tokens + cache_read_input_tokens, completion_tokens = output_tokens,
// cached_tokens = cache_read_input_tokens, cache_write_tokens = cache_creation_input_tokens.
// The message id is kept. Dropped: thinking blocks, server-tool blocks, citations,
// stop_sequence, usage.server_tool_use and service_tier.
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
// OpenAIChunks turns Anthropic events into OpenAI chunks; AnthropicEvents turns OpenAI chunks
// into Anthropic events with contiguous block indices and event lines. An OpenAI stream
// reports its usage at the end, so a message_start written from one carries zero input
// tokens unless the caller knows them (AnthropicEvents.InputUsage); message_delta then
// carries every count, which current Anthropic SDKs read.
package translate
