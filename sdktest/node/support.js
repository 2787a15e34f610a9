// Shared by the Node SDK conformance tests (*.test.js beside this file).
//
// The tests drive the official Node SDKs against a running Clearbar gateway whose base URL is
// in CLEARBAR_BASE_URL (no /v1). They are meant to be run by the Go test TestNodeSDKs
// (gateway/node_sdk_test.go), which starts the gateway on loopback in front of four fake
// upstreams, one per adapter: an OpenAI-compatible one, an Anthropic one, a Gemini one and an
// Azure OpenAI one, replaying recorded wire fixtures (provider/providertest/testdata). That
// world's spec (worldSpec in gateway/sdkworld_test.go) gives every upstream behaviour a category
// of its own; the tests pick one with the model name, and the expected values below are those
// of the fixtures.
//
//   clearbar/oa, clearbar/an, clearbar/ge, clearbar/az
//                                           healthy OpenAI-format / Anthropic / Gemini / Azure
//                                           upstream
//   clearbar/extract                        cascade gpt → claude-json with a JSON Schema check
//   clearbar/{oa,an,ge,az}-limited          429 with a short retry-after(-ms)
//   clearbar/{oa,an,ge,az}-down             500 without a body / 529 overloaded_error /
//                                           503 UNAVAILABLE / 500 server_error
//   clearbar/{oa,an,ge,az}-reject           400: invalid_request_error / INVALID_ARGUMENT /
//                                           Azure's content filter
//   clearbar/{oa,an,ge}-broke               out of credit: 429 insufficient_quota /
//                                           402 billing_error / a spent per-day quota
//   clearbar/{oa,an,ge,az}-cut              streams fail after their first content
//   clearbar/{oa,an,ge,az}-reset            streams are cut by a connection reset
//   clearbar/az-async, clearbar/az-noid     Azure's asynchronous content filter chunks; a stream
//                                           whose first chunk has no id

import assert from 'node:assert/strict';

/** The gateway's base URL, without /v1. */
export const baseURL = (() => {
  const url = process.env.CLEARBAR_BASE_URL;
  if (!url) {
    throw new Error(
      'CLEARBAR_BASE_URL is not set: these tests need a running gateway; run them with `go test ./gateway -run TestNodeSDKs`',
    );
  }
  return url.replace(/\/+$/, '');
})();

/** The client key the gateway accepts. */
export const apiKey = process.env.CLEARBAR_API_KEY || 'sk-clearbar-world-client';

/** The answers of the recorded fixtures the world replays. */
export const fixtures = {
  text: 'Hello! How can I help you today?',
  streamText: 'Hello there!',
  json: { id: 'A-1', city: 'Paris', temp_c: 18 },
};

/** The upstream kinds, as the describe blocks name them. */
export const kindNames = { oa: 'OpenAI-format', an: 'Anthropic', ge: 'Gemini', az: 'Azure OpenAI' };

/** The form of the tool call ids the Gemini adapter makes (Gemini sends none). */
export const madeCallID = /^call_[0-9a-f]{24}$/;

/**
 * What each upstream kind's fixtures say, by kind: the spec model that reaches it, the ids of
 * the recorded answer and stream, the texts, and the tool calls as [id, name, arguments]
 * (an id may be a RegExp: Gemini sends no tool call ids, the adapter makes them). Usage is
 * each dialect's own accounting: see upstreamsWith.
 */
export const upstreamFacts = {
  oa: {
    model: 'gpt',
    completeID: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT',
    streamID: 'chatcmpl-stream1',
    streamText: fixtures.streamText,
    tools: [
      ['call_DdmO9pD3xa9XTPNJ32zg2hcA', 'get_weather', { location: 'Paris, France' }],
      ['call_ABCDEFGH12345678abcdefgh', 'get_time', { timezone: 'Europe/Paris' }],
    ],
    streamTools: [
      ['call_abc', 'get_weather', { location: 'Paris' }],
      ['call_def', 'get_time', { tz: 'CET' }],
    ],
    streamToolText: '',
    secondText: fixtures.text,
  },
  an: {
    model: 'claude',
    completeID: 'msg_01XFDUDYJgAACzvnptvVoYEL',
    streamID: 'msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY',
    streamText: fixtures.streamText,
    tools: [
      ['toolu_01A09q90qw90lq917835lq9', 'get_weather', { location: 'Rome' }],
      ['toolu_01B', 'get_time', { tz: 'Europe/Rome' }],
    ],
    streamTools: [
      ['toolu_01T1x1fJ34qAmk2tNTrN7Up6', 'get_weather', { location: 'San Francisco, CA' }],
      ['toolu_02', 'get_time', {}],
    ],
    streamToolText: 'Okay, checking:',
    secondText: fixtures.text,
  },
  ge: {
    model: 'gemini',
    completeID: 'Zk8xaL-3BaGJ1dkP0Jq5iAQ',
    streamID: 'sse-1',
    streamText: 'Hello there! How can I help?',
    tools: [
      [madeCallID, 'get_weather', { location: 'Paris' }],
      [madeCallID, 'get_time', { timezone: 'Europe/Paris' }],
    ],
    streamTools: [[madeCallID, 'get_weather', { location: 'Paris' }]],
    streamToolText: 'Let me check.',
    // Gemini's recorded second turn of a function-calling conversation.
    secondText: '21°C now; sunny tomorrow, then rain.',
  },
  az: {
    model: 'azure',
    completeID: 'chatcmpl-AZ1b2c3d4e5f',
    streamID: 'chatcmpl-Azs1',
    streamText: 'Hello there',
    tools: [
      ['call_Az8Lk2mQ4rT7vX1bN3pW5yZ0', 'get_weather', { location: 'Paris' }],
      ['call_Az9Mn3pR5sU8wY2cO4qX6zA1', 'get_time', { tz: 'Europe/Paris' }],
    ],
    streamTools: [
      ['call_Az8Lk2mQ4rT7vX1bN3pW5yZ0', 'get_weather', { location: 'Paris' }],
      ['call_Az9Mn3pR5sU8wY2cO4qX6zA1', 'get_time', { tz: 'Europe/Paris' }],
    ],
    streamToolText: '',
    secondText: fixtures.text,
  },
};

/**
 * upstreamsWith returns upstreamFacts with usage, by kind, in a dialect's accounting:
 * usage[kind] = [complete, stream]. Each kind's complete and stream become {id, usage}.
 */
export function upstreamsWith(usage) {
  return Object.fromEntries(
    Object.entries(upstreamFacts).map(([kind, { completeID, streamID, ...facts }]) => [
      kind,
      { ...facts, complete: { id: completeID, usage: usage[kind][0] }, stream: { id: streamID, usage: usage[kind][1] } },
    ]),
  );
}

/**
 * assertCalls checks tool calls, as [id, name, arguments] triples, against expected ones whose
 * id may be a RegExp (an id of the adapter's making); ids must be distinct.
 */
export function assertCalls(got, want) {
  assert.equal(got.length, want.length, `tool calls ${JSON.stringify(got)}`);
  assert.equal(new Set(got.map(([id]) => id)).size, got.length, 'tool call ids are distinct');
  got.forEach(([id, name, args], i) => {
    const [wantID, wantName, wantArgs] = want[i];
    if (wantID instanceof RegExp) assert.match(id, wantID);
    else assert.equal(id, wantID);
    assert.equal(name, wantName);
    assert.deepEqual(args, wantArgs);
  });
}

/**
 * recordingFetch returns a fetch for an SDK client that records every attempt the SDK makes
 * (retries included): the request's headers and the response's status. Its `attempts` array
 * is the record.
 */
export function recordingFetch() {
  const attempts = [];
  const recording = async (input, init) => {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    const attempt = { url: String(input instanceof Request ? input.url : input), headers, status: undefined };
    attempts.push(attempt);
    const response = await fetch(input, init);
    attempt.status = response.status;
    return response;
  };
  recording.attempts = attempts;
  return recording;
}

/** retryCounts returns the x-stainless-retry-count of every recorded attempt. */
export function retryCounts(f) {
  return f.attempts.map((a) => a.headers.get('x-stainless-retry-count'));
}

/**
 * checkDecisionHeaders checks the gateway's explanation headers: x-request-id is the decision
 * id, and the category and model are the expected ones. It returns the decision id.
 */
export function checkDecisionHeaders(headers, { category, model, attempts } = {}) {
  const id = headers.get('x-clearbar-decision-id');
  assert.match(id ?? '', /^dec_/, 'x-clearbar-decision-id');
  assert.equal(headers.get('x-request-id'), id, 'x-request-id is the decision id');
  if (category !== undefined) assert.equal(headers.get('x-clearbar-category'), category, 'x-clearbar-category');
  if (model !== undefined) assert.equal(headers.get('x-clearbar-model'), model, 'x-clearbar-model');
  if (attempts !== undefined) assert.equal(headers.get('x-clearbar-attempts'), String(attempts), 'x-clearbar-attempts');
  return id;
}

/**
 * rejects awaits promise (or runs an async function) and returns the error it fails with,
 * failing the test when it succeeds or fails with something that is not an instance of
 * errorClass.
 */
export async function rejects(promise, errorClass) {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (err) {
    assert.ok(err instanceof errorClass, `expected ${errorClass.name}, got ${err?.constructor?.name}: ${err?.message}`);
    return err;
  }
  assert.fail(`expected ${errorClass.name}, but the call succeeded`);
}

/** A request's tools, in OpenAI's format: get_weather(location) and get_time(tz). */
export const openaiTools = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather',
      parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
    },
  },
  {
    type: 'function',
    function: { name: 'get_time', parameters: { type: 'object', properties: { tz: { type: 'string' } } } },
  },
];

/** The same tools in Anthropic's format. */
export const anthropicTools = openaiTools.map(({ function: f }) => ({
  name: f.name,
  ...(f.description ? { description: f.description } : {}),
  input_schema: f.parameters,
}));
