// The `openai` npm SDK against the gateway's OpenAI API, in front of every adapter (§8 of the
// API conformance brief: items 1, 3, 6, 7, 9, 13–17, 19, 23, 24, 36, 37, 38, 39). See support.js
// for the world it runs in.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import OpenAI from 'openai';

import {
  apiKey,
  assertCalls,
  baseURL,
  checkDecisionHeaders,
  fixtures,
  kindNames,
  openaiTools,
  recordingFetch,
  rejects,
  retryCounts,
  upstreamsWith,
} from './support.js';

function client(options = {}) {
  return new OpenAI({ apiKey, baseURL: `${baseURL}/v1`, ...options });
}

const ask = (model, extra = {}) => ({
  model,
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'What is the weather in Paris, and the time there?' },
  ],
  ...extra,
});

// Per upstream kind: the fixtures' ids and usage, as OpenAI reports it (prompt, completion,
// cached); an Anthropic upstream's cache reads and writes are inside prompt_tokens, Gemini's
// thoughts inside completion_tokens. Gemini sends no tool call ids: the adapter makes them.
const upstreams = upstreamsWith({
  oa: [[19, 10, 6], [12, 3, 2]],
  an: [[2112, 12, 2000], [68, 15, 40]],
  ge: [[8, 29, 4], [8, 27, 0]],
  az: [[19, 10, 0], [12, 3, 0]],
});

function usageOf(u) {
  return [u.prompt_tokens, u.completion_tokens, u.prompt_tokens_details?.cached_tokens ?? 0];
}

// Reads a chat stream as a client must: one id throughout, text and tool-call deltas
// reassembled by index, and exactly one usage chunk, the last, with no choices.
async function readStream(stream) {
  const ids = new Set();
  const models = new Set();
  let text = '';
  let finish = null;
  let usage = null;
  let usageChunks = 0;
  let afterUsage = 0;
  const calls = [];
  for await (const chunk of stream) {
    ids.add(chunk.id);
    models.add(chunk.model);
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (usage) afterUsage++;
    if (chunk.usage) {
      usageChunks++;
      usage = chunk.usage;
      assert.deepEqual(chunk.choices, [], 'the usage chunk has no choices');
    }
    for (const choice of chunk.choices) {
      text += choice.delta?.content ?? '';
      for (const tc of choice.delta?.tool_calls ?? []) {
        const call = (calls[tc.index] ??= { id: '', name: '', arguments: '' });
        if (tc.id) call.id = tc.id;
        if (tc.function?.name) call.name = tc.function.name;
        call.arguments += tc.function?.arguments ?? '';
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  return { ids: [...ids], models: [...models], text, finish, usage, usageChunks, afterUsage, calls };
}

for (const [kind, up] of Object.entries(upstreams)) {
  describe(`openai SDK, ${kindNames[kind]} upstream`, () => {
    test('chat completion parses, with usage details and decision headers (items 1, 39)', async () => {
      const { data, response } = await client().chat.completions.create(ask(`clearbar/${kind}`)).withResponse();
      assert.equal(data.id, up.complete.id);
      assert.equal(data.object, 'chat.completion');
      assert.equal(data.choices.length, 1);
      assert.equal(data.choices[0].message.content, fixtures.text);
      assert.equal(data.choices[0].finish_reason, 'stop');
      assert.deepEqual(usageOf(data.usage), up.complete.usage);
      assert.equal(data.usage.total_tokens, up.complete.usage[0] + up.complete.usage[1]);
      const id = checkDecisionHeaders(response.headers, { category: kind, model: up.model, attempts: 1 });
      assert.equal(data._request_id, id, 'the SDK exposes x-request-id as _request_id');
    });

    test('stream with include_usage: one id and model, one final usage chunk (items 3, 38)', async () => {
      const { data: stream, response } = await client()
        .chat.completions.create(ask(`clearbar/${kind}`, { stream: true, stream_options: { include_usage: true } }))
        .withResponse();
      assert.match(response.headers.get('content-type'), /^text\/event-stream/);
      checkDecisionHeaders(response.headers, { category: kind, model: up.model });
      const got = await readStream(stream);
      assert.deepEqual(got.ids, [up.stream.id]);
      assert.equal(got.models.length, 1, `one model: ${got.models}`);
      assert.equal(got.text, up.streamText);
      assert.equal(got.finish, 'stop');
      assert.equal(got.usageChunks, 1);
      assert.equal(got.afterUsage, 0, 'the usage chunk is the last');
      assert.deepEqual(usageOf(got.usage), up.stream.usage);
    });

    test('stream helper: finalChatCompletion', async () => {
      const runner = client().chat.completions.stream(ask(`clearbar/${kind}`, { stream_options: { include_usage: true } }));
      const done = await runner.finalChatCompletion();
      assert.equal(done.choices[0].message.content, up.streamText);
      assert.equal(done.choices[0].finish_reason, 'stop');
      assert.deepEqual(usageOf(done.usage), up.stream.usage);
    });

    test('tool calls and the tool round trip (items 6, 7)', async () => {
      const c = client();
      const first = await c.chat.completions.create(ask(`clearbar/${kind}`, { tools: openaiTools }));
      const msg = first.choices[0].message;
      assert.equal(first.choices[0].finish_reason, 'tool_calls');
      assertCalls(
        msg.tool_calls.map((tc) => [tc.id, tc.function.name, JSON.parse(tc.function.arguments)]),
        up.tools,
      );
      for (const tc of msg.tool_calls) assert.equal(tc.type, 'function');

      // The message goes back as the SDK returned it (for Gemini, with the calls' thought
      // signatures in extra_content; the fake Gemini refuses calls without them).
      const history = ask(`clearbar/${kind}`, { tools: openaiTools });
      history.messages.push(msg, ...msg.tool_calls.map((tc) => ({ role: 'tool', tool_call_id: tc.id, content: `result of ${tc.function.name}` })));
      const second = await c.chat.completions.create(history);
      assert.equal(second.choices[0].message.content, up.secondText);
      assert.equal(second.choices[0].finish_reason, 'stop');
    });

    test('streamed tool calls reassemble by index', async () => {
      const stream = await client().chat.completions.create(ask(`clearbar/${kind}`, { tools: openaiTools, stream: true }));
      const got = await readStream(stream);
      assert.equal(got.finish, 'tool_calls');
      assert.equal(got.text, up.streamToolText);
      assert.equal(got.ids.length, 1);
      assertCalls(
        got.calls.map((c) => [c.id, c.name, JSON.parse(c.arguments)]),
        up.streamTools,
      );
    });
  });
}

describe('openai SDK, structured output and routing', () => {
  test('json_schema response_format reaches the upstream; the answer matches the schema (item 9)', async () => {
    const res = await client().chat.completions.create(
      ask('clearbar/oa', {
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'weather',
            strict: true,
            schema: {
              type: 'object',
              properties: { city: { type: 'string' }, temp_c: { type: 'number' } },
              required: ['city', 'temp_c'],
            },
          },
        },
      }),
    );
    const parsed = JSON.parse(res.choices[0].message.content);
    assert.equal(parsed.city, fixtures.json.city);
    assert.equal(typeof parsed.temp_c, 'number');
  });

  test('a cascade escalates from the OpenAI-format model to the Anthropic one (item 36)', async () => {
    const { data, response } = await client().chat.completions.create(ask('clearbar/extract')).withResponse();
    assert.deepEqual(JSON.parse(data.choices[0].message.content), fixtures.json);
    assert.equal(data.choices[0].finish_reason, 'stop');
    assert.deepEqual(usageOf(data.usage), [2112, 12, 2000]);
    checkDecisionHeaders(response.headers, { category: 'extract', model: 'claude-json', attempts: 2 });
  });

  test('models list and retrieve (item 24)', async () => {
    const ids = [];
    for await (const m of client().models.list()) {
      assert.equal(m.object, 'model');
      ids.push(m.id);
    }
    for (const want of ['clearbar/oa', 'clearbar/an', 'clearbar/ge', 'clearbar/az', 'clearbar/extract', 'gpt', 'claude', 'gemini', 'azure']) {
      assert.ok(ids.includes(want), `the list lacks ${want}: ${ids}`);
    }
    assert.equal((await client().models.retrieve('clearbar/an')).id, 'clearbar/an');
    // A name outside the clearbar/ namespace is classified like clearbar/auto, as a chat request
    // naming it is; one inside it that names nothing is the 404 the chat request gets too.
    assert.match((await client().models.retrieve('no-such-model')).description, /classified like clearbar\/auto/);
    const err = await rejects(client().models.retrieve('clearbar/no-such-model'), OpenAI.NotFoundError);
    assert.equal(err.status, 404);
    assert.equal(err.code, 'model_not_found');
  });

  for (const [category, want] of Object.entries({
    'az-async': { id: 'chatcmpl-async', model: 'gpt-4o-2024-11-20', text: 'Once upon a time' },
    'az-noid': { id: /^chatcmpl-[0-9a-f]{24}$/, model: 'az-noid', text: 'Hi there' },
  })) {
    test(`Azure's stream quirks are normalised: ${category} (items 23, 38)`, async () => {
      const stream = await client().chat.completions.create(ask(`clearbar/${category}`, { stream: true }));
      const got = await readStream(stream);
      assert.equal(got.ids.length, 1, `one id: ${got.ids}`);
      if (want.id instanceof RegExp) assert.match(got.ids[0], want.id);
      else assert.equal(got.ids[0], want.id);
      assert.deepEqual(got.models, [want.model]);
      assert.equal(got.text, want.text);
      assert.equal(got.finish, 'stop', 'an annotation chunk must not erase the finish reason');
    });
  }
});

describe('openai SDK, errors', () => {
  test('a plan the gateway exhausted (fallbacks all failed) is not retried: x-should-retry: false, retry-after-ms', async () => {
    const f = recordingFetch();
    const err = await rejects(client({ fetch: f }).chat.completions.create(ask('clearbar/oa-exhausted')), OpenAI.InternalServerError);
    assert.equal(err.status, 503);
    assert.equal(err.headers.get('x-should-retry'), 'false');
    assert.ok(Number(err.headers.get('retry-after-ms')) > 0, `retry-after-ms ${err.headers.get('retry-after-ms')}`);
    assert.equal(err.headers.get('x-clearbar-attempts'), '2', 'the gateway tried both models');
    assert.deepEqual(retryCounts(f), ['0']);
  });

  test('a bad key is an AuthenticationError, not retried (item 13)', async () => {
    const f = recordingFetch();
    const err = await rejects(client({ apiKey: 'sk-not-a-client', fetch: f }).chat.completions.create(ask('clearbar/oa')), OpenAI.AuthenticationError);
    assert.ok(err instanceof OpenAI.APIError);
    assert.equal(err.status, 401);
    assert.equal(err.code, 'invalid_api_key');
    assert.match(err.requestID, /^dec_/);
    assert.deepEqual(retryCounts(f), ['0']);
  });

  // Per upstream kind: what its rejection and rate limit look like to the SDK, whether it has a
  // spent-quota category (Azure has none), and the text its cut and reset streams send first
  // (null: the stream resets before any of its answer, which the gateway reports as a failure
  // before the stream).
  const failures = {
    oa: { reject: { code: 'decimal_above_max_value', param: 'temperature' }, limited: 'rate_limit_exceeded', broke: true, cut: 'Partial', reset: 'Once upon' },
    an: { reject: { code: null, param: null }, limited: 'rate_limited', broke: true, cut: 'Partial', reset: null },
    ge: { reject: { code: 'invalid_argument', param: null }, limited: 'resource_exhausted', broke: true, cut: 'Part', reset: 'Once upon' },
    az: { reject: { code: 'content_filter', param: 'prompt' }, limited: '429', broke: false, cut: 'Sure,', reset: 'Once' },
  };
  for (const [kind, fail] of Object.entries(failures)) {
    test(`${kind}: an upstream's 400 is a BadRequestError with its code and parameter, not retried (items 13, 14)`, async () => {
      const f = recordingFetch();
      const err = await rejects(client({ fetch: f }).chat.completions.create(ask(`clearbar/${kind}-reject`)), OpenAI.BadRequestError);
      assert.equal(err.status, 400);
      assert.equal(err.type, 'invalid_request_error');
      assert.equal(err.code, fail.reject.code);
      assert.equal(err.param, fail.reject.param);
      assert.equal(err.requestID, err.headers.get('x-clearbar-decision-id'));
      assert.deepEqual(retryCounts(f), ['0']);
    });

    test(`${kind}: 429 with retry-after-ms is retried twice, quickly, then a RateLimitError (items 15, 18)`, async () => {
      const f = recordingFetch();
      const start = Date.now();
      const err = await rejects(client({ fetch: f }).chat.completions.create(ask(`clearbar/${kind}-limited`)), OpenAI.RateLimitError);
      const elapsed = Date.now() - start;
      assert.equal(err.status, 429);
      assert.equal(err.type, 'rate_limit_error');
      assert.equal(err.code, fail.limited);
      assert.deepEqual(retryCounts(f), ['0', '1', '2']);
      assert.deepEqual(f.attempts.map((a) => a.status), [429, 429, 429]);
      const ms = Number(err.headers.get('retry-after-ms'));
      assert.ok(ms > 0 && ms <= 100, `retry-after-ms ${err.headers.get('retry-after-ms')}`);
      assert.ok(Number(err.headers.get('retry-after')) <= 60, 'retry-after is capped');
      assert.ok(elapsed < 1000, `three attempts took ${elapsed} ms: the SDK did not honour retry-after-ms`);
    });

    if (fail.broke) {
      test(`${kind}: an upstream out of quota is a RateLimitError that is not retried (x-should-retry: false, item 16)`, async () => {
        const f = recordingFetch();
        const err = await rejects(client({ fetch: f }).chat.completions.create(ask(`clearbar/${kind}-broke`)), OpenAI.RateLimitError);
        assert.equal(err.status, 429);
        assert.equal(err.code, 'insufficient_quota');
        assert.equal(err.headers.get('x-should-retry'), 'false');
        assert.deepEqual(retryCounts(f), ['0']);
      });
    }

    test(`${kind}: an upstream overload is an InternalServerError after three attempts (item 17)`, async () => {
      const f = recordingFetch();
      const err = await rejects(client({ fetch: f }).chat.completions.create(ask(`clearbar/${kind}-down`)), OpenAI.InternalServerError);
      assert.equal(err.status, 503);
      assert.equal(err.type, 'server_error');
      assert.deepEqual(retryCounts(f), ['0', '1', '2']);
      assert.match(err.requestID, /^dec_/);
    });

    for (const cut of ['cut', 'reset']) {
      if (fail[cut] === null) {
        test(`${kind}: a stream that fails (${cut}) before any of its answer is an error before the stream (item 21)`, async () => {
          const f = recordingFetch();
          const err = await rejects(
            client({ fetch: f, maxRetries: 0 }).chat.completions.create(ask(`clearbar/${kind}-${cut}`, { stream: true })),
            OpenAI.InternalServerError,
          );
          assert.equal(err.status, 502);
          assert.equal(err.code, 'stream_cut');
          assert.deepEqual(retryCounts(f), ['0']);
        });
        continue;
      }
      test(`${kind}: a mid-stream upstream failure (${cut}) throws an APIError, not a clean end (item 19)`, async () => {
        const f = recordingFetch();
        const stream = await client({ fetch: f }).chat.completions.create(ask(`clearbar/${kind}-${cut}`, { stream: true }));
        let text = '';
        let finish = null;
        const err = await rejects(async () => {
          for await (const chunk of stream) {
            text += chunk.choices[0]?.delta?.content ?? '';
            finish = chunk.choices[0]?.finish_reason ?? finish;
          }
        }, OpenAI.APIError);
        assert.equal(err.status, undefined, 'an error after the 200 has no status');
        assert.equal(text, fail[cut], 'the text before the failure');
        assert.equal(finish, null);
        assert.deepEqual(retryCounts(f), ['0']);
      });
    }
  }
});
