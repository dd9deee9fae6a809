import type { IncomingMessage } from 'node:http';
import { init, registerAction, unregisterAction, validateYaml } from '@the-edge-agent/core-wasm';
import type { CompletionResult, LlmBridge } from '@the-edge-agent/llm-bridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tea } from './create-tea.js';
import { startJsonServer, type SeenRequest } from '@the-edge-agent/test-fixtures';

// Upstream's `provider` / `api_base` in workflows: a real HTTP server stands for the endpoint;
// the handle's own model is a fake that says so. Keys come from the run's secrets only, and only
// allowed origins are called.

let server: Awaited<ReturnType<typeof startJsonServer>>;
let origin = '';
let seen: SeenRequest[] = [];

function answer(req: IncomingMessage, body: Record<string, unknown>) {
  if (req.headers.authorization === 'Bearer sk-wrong')
    return { status: 401, json: { error: { message: `bad key ${req.headers.authorization}` } } };
  const tools = Array.isArray(body['tools']);
  const format = body['response_format'] as { json_schema?: { name?: string } } | undefined;
  const message =
    format?.json_schema?.name === 'tool_answer'
      ? { content: '{"name":"add","arguments":{"a":2,"b":3}}' }
      : tools
        ? {
            content: null,
            tool_calls: [
              { id: 'c1', type: 'function', function: { name: 'add', arguments: '{"a":2,"b":3}' } },
            ],
          }
        : { content: `remote ${String(body['model'])}` };
  return {
    status: 200,
    json: {
      model: body['model'],
      choices: [{ message, finish_reason: tools ? 'tool_calls' : 'stop' }],
      usage: { prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 },
    },
  };
}

beforeAll(async () => {
  await init();
  server = await startJsonServer((req, res, body) => {
    const { status, json } = answer(req, body);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(json));
  });
  seen = server.seen;
  origin = server.origin;
});
afterAll(() => server.close());

const local = {
  chat: async (): Promise<CompletionResult> => ({
    content: 'local',
    model: 'local',
    finish_reason: 'stop',
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  }),
  hasChatTemplate: () => true,
  unload: async () => undefined,
} as unknown as LlmBridge;

const handle = (allowed: string[]) => new Tea(local, undefined, { fromCache: false }, allowed);

const node = (withLines: string) =>
  `name: w\nnodes:\n  - name: ask\n    uses: llm.call\n    with:\n      prompt: hi\n${withLines}    output: out\n`;

describe('provider / api_base in workflows', () => {
  it('calls the allowed endpoint with the key from secrets, and the local model otherwise', async () => {
    const yaml = node(
      `      provider: openai\n      api_base: ${origin}/v1\n      model: served\n      api_key: sk-from-yaml\n`,
    );
    expect(validateYaml(yaml).map((w) => `${w.severity}: ${w.message}`)).toEqual([
      expect.stringMatching(/^warning: parameter 'api_key' is not read from YAML/),
    ]);
    const state = await handle([origin]).run(yaml, {}, { secrets: { OPENAI_API_KEY: 'sk-run' } });
    expect((state['out'] as { content: string }).content).toBe('remote served');
    expect(seen.at(-1)).toMatchObject({
      path: '/v1/chat/completions',
      auth: 'Bearer sk-run',
      body: { model: 'served', messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(JSON.stringify(seen.at(-1)!.body)).not.toContain('sk-');
    // No provider (and upstream's `provider: local`): the handle's model serves.
    for (const extra of ['', '      provider: local\n      model: whatever\n']) {
      const s = await handle([origin]).run(node(extra));
      expect((s['out'] as { content: string }).content).toBe('local');
    }
  });

  it('refuses an origin the app did not allow, before any request', async () => {
    const before = seen.length;
    const yaml = node(`      provider: openai\n      api_base: ${origin}/v1\n      model: m\n`);
    const error = await handle(['http://elsewhere.test'])
      .run(yaml)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ACTION_FAILED', node: 'ask' });
    expect((error as Error).message).toContain(`allowedEndpoints: ['${origin}']`);
    expect((error as { cause?: { code?: string } }).cause?.code).toBe('REMOTE_NOT_ALLOWED');
    expect(seen.length).toBe(before);
    // `provider: openai` without api_base means api.openai.com: not allowed either.
    const hosted = await handle([origin])
      .run(node('      provider: openai\n      model: gpt-4o-mini\n'))
      .catch((e: unknown) => e);
    expect((hosted as Error).message).toContain('https://api.openai.com');
  });

  it('names the endpoint and never the key when it refuses the key', async () => {
    const yaml = node(`      provider: openai\n      api_base: ${origin}/v1\n      model: m\n`);
    const error = await handle([origin])
      .run(yaml, {}, { secrets: { OPENAI_API_KEY: 'sk-wrong' } })
      .catch((e: unknown) => e);
    expect((error as { cause?: { code?: string } }).cause?.code).toBe('REMOTE_UNAUTHORIZED');
    expect((error as Error).message).toContain(`${origin}/v1/chat/completions answered HTTP 401`);
    expect(JSON.stringify([(error as Error).message, String(error)])).not.toContain('sk-wrong');
  });

  it('needs a model, and says what to do about azure', async () => {
    const noModel = await handle([origin])
      .run(node(`      provider: ollama\n      api_base: ${origin}/v1\n`))
      .catch((e: unknown) => e);
    expect((noModel as { cause?: { code?: string } }).cause?.code).toBe('REMOTE_NOT_CONFIGURED');
    expect((noModel as Error).message).toContain('needs `model`');
    const azure = await handle([origin])
      .run(node('      provider: azure\n      model: m\n'))
      .catch((e: unknown) => e);
    expect((azure as Error).message).toContain('provider: openai');
  });

  it('runs llm.tools against the endpoint: the call reaches the registered action', async () => {
    const calls: unknown[] = [];
    registerAction('math.add', (p) => {
      calls.push(p);
      return { sum: 5 };
    });
    try {
      const yaml = `name: t\nnodes:\n  - name: agent\n    uses: llm.tools\n    with:\n      prompt: "2+3?"\n      provider: ollama\n      api_base: ${origin}/v1\n      model: qwen\n      max_tool_rounds: 1\n      tools:\n        - name: add\n          parameters: { type: object, properties: { a: { type: integer }, b: { type: integer } }, required: [a, b] }\n          action: math.add\n    output: result\n`;
      const state = await handle([origin]).run(yaml);
      expect(calls).toEqual([{ a: 2, b: 3 }]);
      expect(state['result']).toMatchObject({ tool_calls: [{ name: 'add' }] });
      expect(seen.at(-1)!.body['tools']).toBeDefined();
      // A server whose model has no tool calling: the sdk's JSON protocol, constrained by schema.
      const json = await new Tea(local, undefined, { fromCache: false }, [
        { origin, toolCalls: 'json' },
      ]).run(yaml);
      expect(calls).toHaveLength(2);
      expect(json['result']).toMatchObject({ tool_calls: [{ name: 'add' }] });
      const sent = seen.at(-1)!.body;
      expect(sent['tools']).toBeUndefined();
      expect(sent['response_format']).toMatchObject({ type: 'json_schema' });
      expect(JSON.stringify(sent['messages'])).toContain('add(');
    } finally {
      unregisterAction('math.add');
    }
  });
});
