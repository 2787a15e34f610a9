// The SDKs' tool-runner helpers against the gateway: the openai SDK's ResponsesToolRunner
// over /v1/responses, and @anthropic-ai/sdk 1.x's client.beta.messages.toolRunner over
// /v1/messages on a route that keeps no conversation. Each runs the loop as the SDK does:
// the model calls the tools, the runner runs them and sends their results, the model answers.
// See support.js for the world it runs in.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { ResponsesToolRunner } from 'openai/helpers/responses-tool-runner';

import { anthropicTools, apiKey, baseURL, fixtures, upstreamFacts } from './support.js';

/**
 * bodyFetch returns a fetch that records every request the SDK sends: its path, its JSON
 * body, and the status and body of the answer.
 */
function bodyFetch() {
  const sent = [];
  const f = async (input, init) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    const call = { path: url.pathname, body: init?.body ? JSON.parse(init.body) : undefined };
    sent.push(call);
    const response = await fetch(input, init);
    call.status = response.status;
    call.answer = await response.clone().text();
    return response;
  };
  f.sent = sent;
  return f;
}

const question = 'What is the weather in Paris, and the time there?';

describe('openai SDK ResponsesToolRunner and Responses parameters over /v1/responses', () => {
  test('runs the tools and ends with the answer; include reasoning.encrypted_content is accepted', async () => {
    const f = bodyFetch();
    const client = new OpenAI({ apiKey, baseURL: `${baseURL}/v1`, fetch: f, maxRetries: 0 });
    const ran = [];
    const fn = (name, properties) => ({
      tool: { type: 'function', name, parameters: { type: 'object', properties }, strict: false },
      execute: (args) => {
        ran.push([name, args]);
        return `result of ${name}`;
      },
    });
    const runner = new ResponsesToolRunner({
      functions: [fn('get_weather', { location: { type: 'string' } }), fn('get_time', { timezone: { type: 'string' } })],
    });
    const response = await runner.run(client, { model: 'clearbar/oa', input: question, store: false });

    assert.equal(response.status, 'completed');
    assert.equal(response.output_text, fixtures.text);
    // The OpenAI-format upstream's recorded tool calls, run by the runner.
    assert.deepEqual(
      ran,
      upstreamFacts.oa.tools.map(([, name, args]) => [name, args]),
    );
    assert.equal(f.sent.length, 2, JSON.stringify(f.sent.map((c) => [c.status, c.answer])));
    for (const call of f.sent) {
      assert.equal(call.path, '/v1/responses');
      assert.equal(call.status, 200, call.answer);
      assert.deepEqual(call.body.include, ['reasoning.encrypted_content']);
    }
    // The second request sends the calls back with their outputs.
    const second = f.sent[1].body.input;
    assert.deepEqual(
      second.filter((i) => i.type === 'function_call_output').map((i) => i.output),
      ['result of get_weather', 'result of get_time'],
    );
  });

  test('a response refusal sent back as input is accepted', async () => {
    const client = new OpenAI({ apiKey, baseURL: `${baseURL}/v1`, maxRetries: 0 });
    const response = await client.responses.create({
      model: 'clearbar/oa',
      input: [
        { role: 'user', content: 'Tell me a secret.' },
        { type: 'message', role: 'assistant', content: [{ type: 'refusal', refusal: 'no' }] },
        { role: 'user', content: 'Then say hello.' },
      ],
      include: ['reasoning.encrypted_content'],
      truncation: 'disabled',
      text: { verbosity: 'low' },
      safety_identifier: 'user-1',
      prompt_cache_key: 'k1',
    });
    assert.equal(response.output_text, fixtures.text);
    assert.equal(response.safety_identifier, 'user-1');
    assert.equal(response.prompt_cache_key, 'k1');
  });

  test('tool_choice allowed_tools, service_tier, max_tool_calls and prompt_cache_retention are accepted', async () => {
    const client = new OpenAI({ apiKey, baseURL: `${baseURL}/v1`, maxRetries: 0 });
    const tools = [
      { type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { location: { type: 'string' } } }, strict: false },
      { type: 'function', name: 'get_time', parameters: { type: 'object', properties: { tz: { type: 'string' } } }, strict: false },
    ];
    const choice = { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function', name: 'get_weather' }, { type: 'function', name: 'get_time' }] };
    const response = await client.responses.create({
      model: 'clearbar/oa',
      input: question,
      tools,
      tool_choice: choice,
      service_tier: 'auto',
      max_tool_calls: 4,
      prompt_cache_retention: '24h',
    });
    assert.deepEqual(
      response.output.filter((i) => i.type === 'function_call').map((i) => i.name),
      upstreamFacts.oa.tools.map(([, name]) => name),
    );
    assert.deepEqual(response.tool_choice, choice);
    assert.equal(response.max_tool_calls, 4);
    assert.equal(response.prompt_cache_retention, '24h');
  });

  test('include values asking for data the gateway does not return are a 400 naming them', async () => {
    const client = new OpenAI({ apiKey, baseURL: `${baseURL}/v1`, maxRetries: 0 });
    const err = await client.responses
      .create({ model: 'clearbar/oa', input: 'hi', include: ['message.output_text.logprobs'] })
      .then(() => assert.fail('the request succeeded'), (e) => e);
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    assert.equal(err.param, 'include');
    assert.match(err.message, /message\.output_text\.logprobs/);
  });
});

describe('@anthropic-ai/sdk 1.x toolRunner on a route that keeps no conversation', () => {
  test('thread is refused with thread_unsupported_request; the runner goes on without it', async () => {
    const f = bodyFetch();
    const client = new Anthropic({ apiKey, baseURL, fetch: f, maxRetries: 0 });
    const ran = [];
    const tools = anthropicTools.map((t) => ({
      ...t,
      run: (input) => {
        ran.push([t.name, input]);
        return `result of ${t.name}`;
      },
    }));
    const runner = client.beta.messages.toolRunner({
      model: 'clearbar/oa',
      max_tokens: 256,
      messages: [{ role: 'user', content: question }],
      tools,
    });
    const final = await runner.runUntilDone();

    assert.equal(final.stop_reason, 'end_turn');
    assert.equal(
      final.content.filter((b) => b.type === 'text').map((b) => b.text).join(''),
      fixtures.text,
    );
    assert.deepEqual(
      ran,
      upstreamFacts.oa.tools.map(([, name, args]) => [name, args]),
    );
    // The first request asks for a thread and is refused as Anthropic refuses a request Threads
    // cannot serve; the runner sends it again without thread, and every later turn too.
    const [first, ...rest] = f.sent;
    assert.deepEqual(first.body.thread, { type: 'create' });
    assert.equal(first.status, 400);
    const refusal = JSON.parse(first.answer);
    assert.equal(refusal.type, 'error');
    assert.equal(refusal.error.type, 'invalid_request_error');
    assert.equal(refusal.error.details.error_code, 'thread_unsupported_request');
    assert.match(refusal.error.message, /thread/);
    assert.equal(rest.length, 2, JSON.stringify(f.sent.map((c) => [c.status, c.answer])));
    for (const call of rest) {
      assert.equal(call.body.thread, undefined);
      assert.equal(call.status, 200, call.answer);
    }
    assert.equal(rest[1].body.messages.length, 3, 'the whole conversation, as a request without thread needs');
  });

  test("messages.create with thread is a ThreadUnsupportedRequestError", async () => {
    const client = new Anthropic({ apiKey, baseURL, maxRetries: 0 });
    const err = await client.beta.messages
      .create({ model: 'clearbar/oa', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], thread: { type: 'create' } })
      .then(() => assert.fail('the request succeeded'), (e) => e);
    assert.ok(err instanceof Anthropic.ThreadUnsupportedRequestError, `${err?.constructor?.name}: ${err}`);
    assert.equal(err.status, 400);
    assert.equal(err.errorCode, 'thread_unsupported_request');
  });
});
