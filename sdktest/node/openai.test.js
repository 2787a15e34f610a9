// The `openai` npm SDK against the gateway's OpenAI API (§8 of the API conformance brief:
// items 1, 3, 6, 7, 9, 13, 15, 19, 24, 36, 39). See support.js for the world it runs in.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import OpenAI from 'openai';

import {
  apiKey,
  baseURL,
  checkDecisionHeaders,
  fixtures,
  openaiTools,
  recordingFetch,
  rejects,
  retryCounts,
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
// cached); an Anthropic upstream's cache reads and writes are inside prompt_tokens.
const upstreams = {
  oa: {
    model: 'gpt',
    complete: { id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT', usage: [19, 10, 6] },
    stream: { id: 'chatcmpl-stream1', usage: [12, 3, 2] },
    tools: [
      ['call_DdmO9pD3xa9XTPNJ32zg2hcA', 'get_weather', { location: 'Paris, France' }],
      ['call_ABCDEFGH12345678abcdefgh', 'get_time', { timezone: 'Europe/Paris' }],
    ],
    streamTools: [
      ['call_abc', 'get_weather', { location: 'Paris' }],
      ['call_def', 'get_time', { tz: 'CET' }],
    ],
    streamToolText: '',
  },
  an: {
    model: 'claude',
    complete: { id: 'msg_01XFDUDYJgAACzvnptvVoYEL', usage: [2112, 12, 2000] },
    stream: { id: 'msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY', usage: [68, 15, 40] },
    tools: [
      ['toolu_01A09q90qw90lq917835lq9', 'get_weather', { location: 'Rome' }],
      ['toolu_01B', 'get_time', { tz: 'Europe/Rome' }],
    ],
    streamTools: [
      ['toolu_01T1x1fJ34qAmk2tNTrN7Up6', 'get_weather', { location: 'San Francisco, CA' }],
      ['toolu_02', 'get_time', {}],
    ],
    streamToolText: 'Okay, checking:',
  },
};

function usageOf(u) {
  return [u.prompt_tokens, u.completion_tokens, u.prompt_tokens_details?.cached_tokens ?? 0];
}

// Reads a chat stream as a client must: one id throughout, text and tool-call deltas
// reassembled by index, and exactly one usage chunk, the last, with no choices.
async function readStream(stream) {
  const ids = new Set();
  let text = '';
  let finish = null;
  let usage = null;
  let usageChunks = 0;
  let afterUsage = 0;
  const calls = [];
  for await (const chunk of stream) {
    ids.add(chunk.id);
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
  return { ids: [...ids], text, finish, usage, usageChunks, afterUsage, calls };
}

for (const [kind, up] of Object.entries(upstreams)) {
  describe(`openai SDK, ${kind === 'oa' ? 'OpenAI-format' : 'Anthropic'} upstream`, () => {
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

    test('stream with include_usage: one id, one final usage chunk (items 3, 38)', async () => {
      const { data: stream, response } = await client()
        .chat.completions.create(ask(`clearbar/${kind}`, { stream: true, stream_options: { include_usage: true } }))
        .withResponse();
      assert.match(response.headers.get('content-type'), /^text\/event-stream/);
      checkDecisionHeaders(response.headers, { category: kind, model: up.model });
      const got = await readStream(stream);
      assert.deepEqual(got.ids, [up.stream.id]);
      assert.equal(got.text, fixtures.streamText);
      assert.equal(got.finish, 'stop');
      assert.equal(got.usageChunks, 1);
      assert.equal(got.afterUsage, 0, 'the usage chunk is the last');
      assert.deepEqual(usageOf(got.usage), up.stream.usage);
    });

    test('stream helper: finalChatCompletion', async () => {
      const runner = client().chat.completions.stream(ask(`clearbar/${kind}`, { stream_options: { include_usage: true } }));
      const done = await runner.finalChatCompletion();
      assert.equal(done.choices[0].message.content, fixtures.streamText);
      assert.equal(done.choices[0].finish_reason, 'stop');
      assert.deepEqual(usageOf(done.usage), up.stream.usage);
    });

    test('tool calls and the tool round trip (items 6, 7)', async () => {
      const c = client();
      const first = await c.chat.completions.create(ask(`clearbar/${kind}`, { tools: openaiTools }));
      const msg = first.choices[0].message;
      assert.equal(first.choices[0].finish_reason, 'tool_calls');
      assert.deepEqual(
        msg.tool_calls.map((tc) => [tc.id, tc.function.name, JSON.parse(tc.function.arguments)]),
        up.tools,
      );
      for (const tc of msg.tool_calls) assert.equal(tc.type, 'function');

      const history = ask(`clearbar/${kind}`, { tools: openaiTools });
      history.messages.push(msg, ...msg.tool_calls.map((tc) => ({ role: 'tool', tool_call_id: tc.id, content: `result of ${tc.function.name}` })));
      const second = await c.chat.completions.create(history);
      assert.equal(second.choices[0].message.content, fixtures.text);
      assert.equal(second.choices[0].finish_reason, 'stop');
    });

    test('streamed tool calls reassemble by index', async () => {
      const stream = await client().chat.completions.create(ask(`clearbar/${kind}`, { tools: openaiTools, stream: true }));
      const got = await readStream(stream);
      assert.equal(got.finish, 'tool_calls');
      assert.equal(got.text, up.streamToolText);
      assert.deepEqual(
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
    for (const want of ['clearbar/oa', 'clearbar/an', 'clearbar/extract', 'gpt', 'claude']) {
      assert.ok(ids.includes(want), `the list lacks ${want}: ${ids}`);
    }
    assert.equal((await client().models.retrieve('clearbar/an')).id, 'clearbar/an');
    const err = await rejects(client().models.retrieve('no-such-model'), OpenAI.NotFoundError);
    assert.equal(err.status, 404);
    assert.equal(err.code, 'model_not_found');
  });
});

describe('openai SDK, errors', () => {
  test('a bad key is an AuthenticationError, not retried (item 13)', async () => {
    const f = recordingFetch();
    const err = await rejects(client({ apiKey: 'sk-not-a-client', fetch: f }).chat.completions.create(ask('clearbar/oa')), OpenAI.AuthenticationError);
    assert.ok(err instanceof OpenAI.APIError);
    assert.equal(err.status, 401);
    assert.equal(err.code, 'invalid_api_key');
    assert.match(err.requestID, /^dec_/);
    assert.deepEqual(retryCounts(f), ['0']);
  });

  test("an upstream's 400 is a BadRequestError naming the parameter, not retried (items 13, 14)", async () => {
    const f = recordingFetch();
    const err = await rejects(client({ fetch: f }).chat.completions.create(ask('clearbar/oa-reject')), OpenAI.BadRequestError);
    assert.equal(err.status, 400);
    assert.equal(err.type, 'invalid_request_error');
    assert.equal(err.param, 'temperature');
    assert.equal(err.requestID, err.headers.get('x-clearbar-decision-id'));
    assert.deepEqual(retryCounts(f), ['0']);
  });

  test('429 with retry-after-ms is retried twice, quickly, then a RateLimitError (items 15, 18)', async () => {
    const f = recordingFetch();
    const start = Date.now();
    const err = await rejects(client({ fetch: f }).chat.completions.create(ask('clearbar/oa-limited')), OpenAI.RateLimitError);
    const elapsed = Date.now() - start;
    assert.equal(err.status, 429);
    assert.equal(err.type, 'rate_limit_error');
    assert.deepEqual(retryCounts(f), ['0', '1', '2']);
    assert.deepEqual(f.attempts.map((a) => a.status), [429, 429, 429]);
    const ms = Number(err.headers.get('retry-after-ms'));
    assert.ok(ms > 0 && ms <= 60000, `retry-after-ms ${err.headers.get('retry-after-ms')}`);
    assert.ok(elapsed < 1000, `three attempts took ${elapsed} ms: the SDK did not honour retry-after-ms`);
  });

  test('an upstream out of quota is a RateLimitError that is not retried (x-should-retry: false, item 16)', async () => {
    const f = recordingFetch();
    const err = await rejects(client({ fetch: f }).chat.completions.create(ask('clearbar/oa-broke')), OpenAI.RateLimitError);
    assert.equal(err.status, 429);
    assert.equal(err.code, 'insufficient_quota');
    assert.equal(err.headers.get('x-should-retry'), 'false');
    assert.deepEqual(retryCounts(f), ['0']);
  });

  test('an upstream overload is an InternalServerError after three attempts (item 17)', async () => {
    const f = recordingFetch();
    const err = await rejects(client({ fetch: f }).chat.completions.create(ask('clearbar/an-down')), OpenAI.InternalServerError);
    assert.equal(err.status, 503);
    assert.deepEqual(retryCounts(f), ['0', '1', '2']);
    assert.match(err.requestID, /^dec_/);
  });

  test('a mid-stream upstream failure throws an APIError, not a clean end (item 19)', async () => {
    const f = recordingFetch();
    const stream = await client({ fetch: f }).chat.completions.create(ask('clearbar/oa-cut', { stream: true }));
    let text = '';
    const err = await rejects(async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    }, OpenAI.APIError);
    assert.equal(err.status, undefined, 'an error after the 200 has no status');
    assert.equal(text, 'Partial');
    assert.deepEqual(retryCounts(f), ['0']);
  });
});
