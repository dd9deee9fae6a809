import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTea } from './create-tea.js';
import { startJsonServer, type SeenRequest } from '@the-edge-agent/test-fixtures';

// A handle whose model is a remote endpoint (`createTea({ remote })`), chosen or as the fallback
// when the device cannot hold the local model. The client itself (errors, retries, streams) is
// tested in llm-bridge's remote-bridge.test.ts.

let server: Awaited<ReturnType<typeof startJsonServer>>;
let base = '';
let seen: SeenRequest[] = [];

// The only behaviour these tests need of it: a plain answer, whole or streamed.
function handle(_req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>) {
  if (body['stream']) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const send = (o: unknown) => res.write(`data: ${JSON.stringify(o)}\n\n`);
    for (const piece of ['Hel', 'lo'])
      send({ model: 'srv', choices: [{ delta: { content: piece } }] });
    send({ choices: [{ delta: {}, finish_reason: 'stop' }] });
    res.write('data: [DONE]\n\n');
    return res.end();
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      model: 'srv',
      choices: [{ message: { content: 'Hello' }, finish_reason: 'stop' }],
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

describe('a handle on a remote OpenAI-compatible model', () => {
  it('serves a handle: workflows, chat.completions, and info().remote', async () => {
    const tea = await createTea({
      remote: { apiBase: base, model: 'm', headers: { 'x-mode': 'ok' } },
    });
    expect(tea.info().remote).toMatchObject({ endpoint: base, model: 'm', reason: 'chosen' });
    const state = await tea.run(
      'name: r\nnodes:\n  - name: ask\n    uses: llm.call\n    with: { prompt: hi }\n    output: answer\n',
    );
    expect(state['answer']).toMatchObject({ content: 'Hello', model: 'srv' });
    const c = await tea.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }] });
    expect(c.choices[0].message.content).toBe('Hello');
    await tea.dispose();
  });
});

describe('the remote endpoint as the fallback', () => {
  it('serves when the preflight finds the device cannot hold the local model, before any download', async () => {
    const manifest = {
      manifestVersion: 1,
      model: {
        id: 'huge',
        version: '1',
        format: 'gguf',
        resources: {
          weightsBytes: 18_000_000_000,
          cpuBytes: 2_000_000_000,
          offloadableBytes: 16_000_000_000,
          kvBytesPer1kTokens: 41_943_040,
          largestTensorBytes: 1_800_000_000,
        },
      },
      layout: 'gguf-split',
      totalBytes: 3_800_000_000,
      chunks: [1, 2].map((i) => ({
        file: `huge-0000${i}-of-00002.gguf`,
        bytes: 1_900_000_000,
        sha256: String(i).repeat(64),
      })),
    };
    const before = seen.length;
    const tea = await createTea({
      manifest: manifest as never,
      manifestBaseUrl: 'http://127.0.0.1:9/models/',
      webgpu: 'off',
      useCache: false,
      remote: { apiBase: base, model: 'm', headers: { 'x-mode': 'ok' } },
    });
    expect(tea.info().remote).toMatchObject({
      reason: 'fallback',
      detail: expect.stringContaining('GB'),
    });
    expect((await tea.chat('hi')).content).toBe('Hello');
    expect(seen.length).toBe(before + 1);
    await tea.dispose();
  });
});
