// The `@anthropic-ai/sdk` npm SDK against the gateway's Anthropic Messages API, in both majors:
// 1.x (anthropic-version 2026-10-21, Authorization: Bearer) and the last 0.x, installed as
// `anthropic-sdk-0` (2023-06-01, X-Api-Key), in front of every adapter. §8 of the API
// conformance brief: items 7, 16, 30–35. See support.js for the world it runs in.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import Anthropic1 from '@anthropic-ai/sdk';
import Anthropic0 from 'anthropic-sdk-0';

import {
  anthropicTools,
  apiKey,
  assertCalls,
  baseURL,
  checkDecisionHeaders,
  fixtures,
  kindNames,
  recordingFetch,
  rejects,
  retryCounts,
  upstreamsWith,
} from './support.js';

const majors = [
  { name: '@anthropic-ai/sdk 1.x', Anthropic: Anthropic1, version: '2026-10-21', keyHeader: 'authorization', key: `Bearer ${apiKey}` },
  { name: '@anthropic-ai/sdk 0.x', Anthropic: Anthropic0, version: '2023-06-01', keyHeader: 'x-api-key', key: apiKey },
];

const ask = (model, extra = {}) => ({
  model,
  max_tokens: 256,
  system: 'Be brief.',
  messages: [{ role: 'user', content: 'What is the weather in Paris, and the time there?' }],
  ...extra,
});

// Per upstream kind: the fixtures' ids, usage in Anthropic's accounting (input, cache
// creation, cache read, output: cached tokens outside input_tokens), and tool calls. Gemini
// sends no tool call ids: the adapter makes them.
const upstreams = upstreamsWith({
  oa: [[9, 4, 6, 10], [10, 0, 2, 3]],
  an: [[12, 100, 2000, 12], [25, 3, 40, 15]],
  ge: [[4, 0, 4, 29], [8, 0, 0, 27]],
  az: [[19, 0, 0, 10], [12, 0, 0, 3]],
});

// Anthropic's message ids start with msg_: an upstream's id that does not (an OpenAI-format
// chatcmpl-…, Gemini's response id) comes prefixed.
const messageID = (id) => (id.startsWith('msg_') ? id : `msg_${id}`);
const usageOf = (u) => [u.input_tokens, u.cache_creation_input_tokens ?? 0, u.cache_read_input_tokens ?? 0, u.output_tokens];
const textOf = (m) => m.content.filter((b) => b.type === 'text').map((b) => b.text).join('');
const toolsOf = (m) => m.content.filter((b) => b.type === 'tool_use').map((b) => [b.id, b.name, b.input]);
// Tool call ids as an Anthropic client sees them: an OpenAI-format upstream's call_X is
// toolu_X (the Gemini adapter's made ids too); an Anthropic upstream's are left as they are.
const anthropicID = (id) => (id instanceof RegExp ? new RegExp(id.source.replace('^call_', '^toolu_')) : id.replace(/^call_/, 'toolu_'));
const anthropicCalls = (calls) => calls.map(([id, ...rest]) => [anthropicID(id), ...rest]);

for (const major of majors) {
  const { Anthropic } = major;
  const client = (options = {}) => new Anthropic({ apiKey, baseURL, ...options });

  // Every attempt the SDK made presents itself as this major does (item 30).
  const checkSent = (f) => {
    assert.ok(f.attempts.length > 0);
    for (const a of f.attempts) {
      assert.equal(a.headers.get('anthropic-version'), major.version);
      assert.equal(a.headers.get(major.keyHeader), major.key);
      assert.equal(a.headers.get(major.keyHeader === 'x-api-key' ? 'authorization' : 'x-api-key'), null);
    }
  };

  for (const [kind, up] of Object.entries(upstreams)) {
    describe(`${major.name}, ${kindNames[kind]} upstream`, () => {
      test('messages.create parses; the request id is the decision id (items 30, 31)', async () => {
        const f = recordingFetch();
        const { data, response } = await client({ fetch: f }).messages.create(ask(`clearbar/${kind}`)).withResponse();
        assert.equal(data.type, 'message');
        assert.equal(data.role, 'assistant');
        assert.equal(data.id, messageID(up.complete.id));
        assert.equal(textOf(data), fixtures.text);
        assert.equal(data.stop_reason, 'end_turn');
        assert.deepEqual(usageOf(data.usage), up.complete.usage);
        const id = checkDecisionHeaders(response.headers, { category: kind, model: up.model, attempts: 1 });
        assert.equal(response.headers.get('request-id'), id);
        assert.equal(data._request_id, id, 'the SDK exposes request-id as _request_id');
        checkSent(f);
      });

      test('messages.stream: finalMessage has the text, end_turn and the final usage (item 32)', async () => {
        const f = recordingFetch();
        const stream = client({ fetch: f }).messages.stream(ask(`clearbar/${kind}`));
        const types = [];
        stream.on('streamEvent', (ev) => types.push(ev.type));
        const msg = await stream.finalMessage();
        assert.equal(msg.id, messageID(up.stream.id));
        assert.equal(textOf(msg), up.streamText);
        assert.equal(msg.stop_reason, 'end_turn');
        assert.deepEqual(usageOf(msg.usage), up.stream.usage);
        assert.equal(types[0], 'message_start');
        assert.deepEqual(types.slice(-2), ['message_delta', 'message_stop']);
        checkSent(f);
      });

      test('create with stream: true yields named events, contiguous blocks, request id in the headers', async () => {
        const { data: stream, response } = await client().messages.create(ask(`clearbar/${kind}`, { stream: true })).withResponse();
        assert.match(response.headers.get('content-type'), /^text\/event-stream/);
        assert.equal(response.headers.get('request-id'), checkDecisionHeaders(response.headers, { category: kind }));
        const started = [];
        let text = '';
        let stop = null;
        for await (const ev of stream) {
          if (ev.type === 'content_block_start') started.push(ev.index);
          if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') text += ev.delta.text;
          if (ev.type === 'message_delta') stop = ev.delta.stop_reason;
        }
        assert.deepEqual(started, started.map((_, i) => i), 'block indices are contiguous from 0');
        assert.equal(text, up.streamText);
        assert.equal(stop, 'end_turn');
      });

      test('a system message inside the conversation is accepted, as Anthropic accepts it', async () => {
        const params = ask(`clearbar/${kind}`);
        params.messages = [
          { role: 'user', content: 'Hello' },
          { role: 'assistant', content: 'Hi! How can I help?' },
          { role: 'system', content: 'From now on, answer in French.' },
          ...params.messages,
        ];
        const msg = await client().messages.create(params);
        assert.equal(msg.stop_reason, 'end_turn');
        assert.equal(textOf(msg), fixtures.text);
      });

      test('tool use and the tool_result round trip (items 7, 33)', async () => {
        const c = client();
        const first = await c.messages.create(ask(`clearbar/${kind}`, { tools: anthropicTools, tool_choice: { type: 'auto' } }));
        assert.equal(first.stop_reason, 'tool_use');
        assertCalls(toolsOf(first), anthropicCalls(up.tools));
        const history = ask(`clearbar/${kind}`, { tools: anthropicTools });
        history.messages.push(
          { role: 'assistant', content: first.content },
          {
            role: 'user',
            content: toolsOf(first).map(([id, name]) => ({ type: 'tool_result', tool_use_id: id, content: `result of ${name}` })),
          },
        );
        const second = await c.messages.create(history);
        assert.equal(second.stop_reason, 'end_turn');
        assert.equal(textOf(second), up.secondText);
      });

      test('streamed tool use: inputs accumulate to objects (item 33)', async () => {
        const msg = await client().messages.stream(ask(`clearbar/${kind}`, { tools: anthropicTools })).finalMessage();
        assert.equal(msg.stop_reason, 'tool_use');
        assert.equal(textOf(msg), up.streamToolText);
        assertCalls(toolsOf(msg), anthropicCalls(up.streamTools));
      });
    });
  }

  describe(`${major.name}, errors`, () => {
    test('a bad key is an AuthenticationError, not retried', async () => {
      const f = recordingFetch();
      const err = await rejects(client({ apiKey: 'sk-not-a-client', fetch: f }).messages.create(ask('clearbar/an')), Anthropic.AuthenticationError);
      assert.ok(err instanceof Anthropic.APIError);
      assert.equal(err.status, 401);
      assert.equal(err.type, 'authentication_error');
      assert.match(err.requestID, /^dec_/);
      assert.deepEqual(retryCounts(f), ['0']);
    });

    // Per upstream kind: the message of its rejection, whether its overload says how long to
    // wait, whether it has a spent-quota category (Azure has none), and its mid-stream failure:
    // the error type and the text sent before it.
    const failures = {
      oa: { reject: /Invalid value for 'temperature'/, downWait: false, broke: true, cut: ['api_error', 'Partial'] },
      an: { reject: /roles must alternate/, downWait: true, broke: true, cut: ['overloaded_error', 'Partial'] },
      ge: { reject: /Invalid value at 'generation_config.temperature'/, downWait: false, broke: true, cut: ['api_error', 'Part'] },
      az: { reject: /content management policy/, downWait: false, broke: false, cut: ['api_error', 'Sure,'] },
    };
    for (const [kind, fail] of Object.entries(failures)) {
      test(`${kind}: an upstream's 400 is a BadRequestError, not retried`, async () => {
        const f = recordingFetch();
        const err = await rejects(client({ fetch: f }).messages.create(ask(`clearbar/${kind}-reject`)), Anthropic.BadRequestError);
        assert.equal(err.status, 400);
        assert.equal(err.type, 'invalid_request_error');
        assert.match(err.error.error.message, fail.reject);
        assert.equal(err.requestID, err.headers.get('x-clearbar-decision-id'));
        assert.deepEqual(retryCounts(f), ['0']);
      });

      test(`${kind}: 429 is retried twice, quickly, then a RateLimitError (item 34)`, async () => {
        const f = recordingFetch();
        const start = Date.now();
        const err = await rejects(client({ fetch: f }).messages.create(ask(`clearbar/${kind}-limited`)), Anthropic.RateLimitError);
        const elapsed = Date.now() - start;
        assert.equal(err.status, 429);
        assert.equal(err.type, 'rate_limit_error');
        assert.deepEqual(retryCounts(f), ['0', '1', '2']);
        checkSent(f);
        const ms = Number(err.headers.get('retry-after-ms'));
        assert.ok(ms > 0 && ms <= 100, `retry-after-ms ${err.headers.get('retry-after-ms')}`);
        assert.ok(Number(err.headers.get('retry-after')) <= 60, 'retry-after is capped: these SDKs wait as long as told');
        assert.ok(elapsed < 1000, `three attempts took ${elapsed} ms: the SDK did not honour retry-after-ms`);
      });

      if (fail.broke) {
        test(`${kind}: an upstream out of credit is a billing_error, not retried (x-should-retry: false)`, async () => {
          const f = recordingFetch();
          const err = await rejects(client({ fetch: f }).messages.create(ask(`clearbar/${kind}-broke`)), Anthropic.APIError);
          assert.equal(err.status, 429);
          assert.equal(err.type, 'billing_error');
          assert.equal(err.headers.get('x-should-retry'), 'false');
          assert.deepEqual(retryCounts(f), ['0']);
        });
      }

      test(`${kind}: an overloaded upstream is retried, then an InternalServerError with overloaded_error (item 34)`, async () => {
        const f = recordingFetch();
        const err = await rejects(client({ fetch: f }).messages.create(ask(`clearbar/${kind}-down`)), Anthropic.InternalServerError);
        // Every upstream's overload is Anthropic's 529, which the SDK raises as OverloadedError.
        assert.equal(err.status, 529);
        assert.ok(!Anthropic.OverloadedError || err instanceof Anthropic.OverloadedError, 'a 529 is an OverloadedError');
        assert.equal(err.type, 'overloaded_error');
        assert.deepEqual(retryCounts(f), ['0', '1', '2']);
        assert.equal(err.headers.get('retry-after-ms') !== null, fail.downWait, `retry-after-ms ${err.headers.get('retry-after-ms')}`);
      });

      test(`${kind}: a mid-stream failure rejects finalMessage with an APIError, not a clean end (item 34)`, async () => {
        const f = recordingFetch();
        const stream = client({ fetch: f }).messages.stream(ask(`clearbar/${kind}-cut`));
        let text = '';
        stream.on('text', (t) => {
          text += t;
        });
        const err = await rejects(stream.finalMessage(), Anthropic.APIError);
        assert.equal(err.status, undefined, 'an error after the 200 has no status');
        assert.equal(err.error?.error?.type, fail.cut[0]);
        assert.equal(text, fail.cut[1]);
        assert.deepEqual(retryCounts(f), ['0']);
      });
    }

    test(`temperature under anthropic-version ${major.version} (item 35)`, async () => {
      const call = client().messages.create(ask('clearbar/an', { temperature: 0.5 }));
      if (major.version === '2023-06-01') {
        assert.equal((await call).stop_reason, 'end_turn');
        return;
      }
      const err = await rejects(call, Anthropic.BadRequestError);
      assert.equal(err.type, 'invalid_request_error');
      assert.match(err.error.error.message, /temperature/);
    });

    test('an unknown clearbar/ alias is a NotFoundError with not_found_error, not retried', async () => {
      const f = recordingFetch();
      const err = await rejects(client({ fetch: f }).messages.create(ask('clearbar/nosuch')), Anthropic.NotFoundError);
      assert.equal(err.status, 404);
      assert.equal(err.type, 'not_found_error');
      assert.match(err.error.error.message, /clearbar\/an/);
      assert.deepEqual(retryCounts(f), ['0']);
    });

    test('wrong types are a BadRequestError naming the parameter (temperature above 1, stop_sequences not a list)', async () => {
      const extra = major.version === '2023-06-01' ? { temperature: 1.5 } : { stop_sequences: 'x' };
      const err = await rejects(client().messages.create(ask('clearbar/an', extra)), Anthropic.BadRequestError);
      assert.equal(err.type, 'invalid_request_error');
      assert.match(err.error.error.message, major.version === '2023-06-01' ? /^temperature: / : /^stop_sequences: /);
    });
  });

  test(`${major.name}: messages.countTokens answers with the gateway's estimate`, async () => {
    const { input_tokens: n } = await client().messages.countTokens({
      model: 'clearbar/an',
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'word '.repeat(400) }],
    });
    // 2,000 bytes of text and 9 of system prompt, a quarter each, and 4 per message.
    assert.equal(n, 500 + 3 + 8);
  });
}
