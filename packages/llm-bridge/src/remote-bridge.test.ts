import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJsonServer, type SeenRequest } from '@the-edge-agent/test-fixtures';
import { RemoteBridge } from './remote-bridge.js';
import type { RemoteModelError } from './remote-model-error.js';

// A real HTTP server speaking OpenAI's chat completions, and misbehaving on purpose: each test
// picks the behaviour with the `x-mode` request header.

let server: Awaited<ReturnType<typeof startJsonServer>>;
let base = '';
let seen: SeenRequest[] = [];
let rateLimited = 0;

function handle(req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>) {
  const mode = String(req.headers['x-mode'] ?? 'ok');
  if (mode === 'unauthorized') {
    res.writeHead(401, { 'content-type': 'application/json' });
    return res.end(
      JSON.stringify({ error: { message: `bad key ${String(req.headers.authorization)}` } }),
    );
  }
  if (mode === 'rate-limited' && rateLimited++ < 1) {
    res.writeHead(429, { 'retry-after': '0' });
    return res.end('slow down');
  }
  if (mode === 'always-429') {
    res.writeHead(429, { 'retry-after': '0' });
    return res.end('slow down');
  }
  const tools = Array.isArray(body['tools']) && body['tools'].length > 0;
  if (body['stream']) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    const send = (o: unknown) => res.write(`data: ${JSON.stringify(o)}\n\n`);
    send({ model: 'srv', choices: [{ delta: { role: 'assistant', content: '' } }] });
    if (tools) {
      send({
        choices: [
          {
            delta: {
              tool_calls: [
                { index: 0, id: 't1', function: { name: 'clock', arguments: '{"tz":' } },
              ],
            },
          },
        ],
      });
      send({
        choices: [
          {
            delta: { tool_calls: [{ index: 0, function: { arguments: '"utc"}' } }] },
            finish_reason: 'tool_calls',
          },
        ],
      });
    } else {
      for (const piece of ['Hel', 'lo']) send({ choices: [{ delta: { content: piece } }] });
      // Cut after the first pieces reached the client.
      if (mode === 'cut') return void setTimeout(() => res.destroy(), 50);
      send({ choices: [{ delta: {}, finish_reason: 'stop' }] });
    }
    send({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } });
    res.write('data: [DONE]\n\n');
    return res.end();
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  const message = tools
    ? {
        content: null,
        tool_calls: [{ id: 't1', type: 'function', function: { name: 'clock', arguments: '{}' } }],
      }
    : { content: body['response_format'] ? '{"ok":true}' : 'Hello' };
  res.end(
    JSON.stringify({
      model: 'srv',
      choices: [{ message, finish_reason: tools ? 'tool_calls' : 'stop' }],
      usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
    }),
  );
}

beforeAll(async () => {
  server = await startJsonServer(handle);
  seen = server.seen;
  base = `${server.origin}/v1`;
});
afterAll(() => server.close());

const remote = (mode: string, extra = {}) =>
  new RemoteBridge({
    apiBase: base,
    model: 'm',
    apiKey: 'sk-secret-123',
    headers: { 'x-mode': mode },
    ...extra,
  });

describe('a remote OpenAI-compatible model', () => {
  it('answers chats, streams them, passes response_format and tools through', async () => {
    const plain = await remote('ok').chat({
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 5,
    });
    expect(plain).toMatchObject({
      content: 'Hello',
      model: 'srv',
      finish_reason: 'stop',
      usage: { total_tokens: 4 },
    });
    expect(seen.at(-1)).toMatchObject({
      path: '/v1/chat/completions',
      auth: 'Bearer sk-secret-123',
      body: { model: 'm', max_tokens: 5 },
    });
    const pieces: string[] = [];
    const streamed = await remote('ok').chat({
      messages: [{ role: 'user', content: 'hi' }],
      onToken: (t) => pieces.push(t),
    });
    expect(pieces).toEqual(['Hel', 'lo']);
    expect(streamed).toMatchObject({ content: 'Hello', usage: { total_tokens: 5 } });
    const format = {
      type: 'json_schema' as const,
      json_schema: { name: 'x', schema: { type: 'object' } },
    };
    await remote('ok').chat({
      messages: [{ role: 'user', content: 'hi' }],
      response_format: format,
    });
    expect(seen.at(-1)!.body['response_format']).toEqual(format);
    const tools = [{ type: 'function' as const, function: { name: 'clock' } }];
    const called = await remote('ok').chat({
      messages: [{ role: 'user', content: 'time?' }],
      tools,
      onToken: () => undefined,
    });
    expect(called).toMatchObject({
      finish_reason: 'tool_calls',
      tool_calls: [
        { id: 't1', type: 'function', function: { name: 'clock', arguments: '{"tz":"utc"}' } },
      ],
    });
  });

  it('fails with a code naming the endpoint, never the key', async () => {
    const ask = { messages: [{ role: 'user' as const, content: 'hi' }] };
    const fail = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => e as RemoteModelError,
      );
    const unauthorized = await fail(remote('unauthorized').chat(ask));
    expect(unauthorized).toMatchObject({
      code: 'REMOTE_UNAUTHORIZED',
      status: 401,
      endpoint: `${base}/chat/completions`,
    });
    expect(unauthorized!.message).not.toContain('sk-secret-123');
    expect(unauthorized!.message).toMatch(/\[(key|redacted)\]/);
    rateLimited = 0;
    await expect(remote('rate-limited').chat(ask)).resolves.toMatchObject({ content: 'Hello' });
    expect(await fail(remote('always-429', { maxRetries: 1 }).chat(ask))).toMatchObject({
      code: 'REMOTE_RATE_LIMITED',
      status: 429,
    });
    expect(await fail(remote('cut').chat({ ...ask, onToken: () => undefined }))).toMatchObject({
      code: 'REMOTE_STREAM_CUT',
    });
    const refused = new RemoteBridge({
      apiBase: 'http://127.0.0.1:9/v1',
      model: 'm',
      apiKey: 'sk-secret-123',
    });
    const down = await fail(refused.chat(ask));
    expect(down).toMatchObject({ code: 'REMOTE_UNREACHABLE' });
    expect(down!.message).not.toContain('sk-secret-123');
    // Credentials in the endpoint's URL (userinfo, a signed query) show in no message or field.
    for (const apiBase of [
      'http://admin:pa55word@127.0.0.1:9/v1',
      'http://127.0.0.1:9/v1?sig=sEcReT&X-Amz-Signature=sEcReT',
    ]) {
      const signed = await fail(new RemoteBridge({ apiBase, model: 'm' }).chat(ask));
      expect(signed).toMatchObject({ code: 'REMOTE_UNREACHABLE' });
      expect(`${signed!.message} ${signed!.endpoint}`).not.toMatch(/pa55word|sEcReT/);
      expect(signed!.endpoint).toContain('127.0.0.1:9/v1');
    }
    const controller = new AbortController();
    controller.abort();
    expect(await fail(remote('ok').chat({ ...ask, signal: controller.signal }))).toMatchObject({
      code: 'ABORTED',
    });
  });
});
