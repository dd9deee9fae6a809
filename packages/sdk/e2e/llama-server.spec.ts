import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { sidRoot } from '@the-edge-agent/test-fixtures';
import { openReadyPage, sdkPage } from '../../../tools/sdk-page.js';

// Workflows that name a remote provider (`provider: openai` + `api_base`), in Chromium, against
// a real llama.cpp server: Debian's `llama-server` (llama.cpp-tools, from the setup's Debian
// userland, or on PATH) serving the demo's random-weight model. In front of it, a small proxy
// misbehaves on request: `/r429/` answers 429 with `Retry-After` once, `/always429/` always,
// `/cut/` breaks a stream after its first event. The page's handle is the same tiny model loaded
// locally; only the nodes that name the endpoint go to it.

const here = dirname(fileURLToPath(import.meta.url));
const site = join(here, '.site-llama-server');
const KEY = 'sk-llama-test-4242';
const SERVER_PORT = 18431;
const DEAD_PORT = 18432;
const models = join(here, '../../../apps/demo/public/models/tiny-test-model');

/** How to start llama-server here: on PATH, or inside the setup's Debian userland. */
function llamaServer():
  { command: string; args: string[]; modelDir: string; modelArg: string } | undefined {
  const shard = 'tiny-test-model-00001-of-00003.gguf';
  if (spawnSync('llama-server', ['--version']).status === 0)
    return { command: 'llama-server', args: [], modelDir: models, modelArg: join(models, shard) };
  const sid = sidRoot();
  if (!existsSync(join(sid, 'usr/bin/llama-server')) || process.getuid?.() !== 0) return undefined;
  const inside = '/tmp/tea-llama-server';
  return {
    command: 'chroot',
    args: [sid, 'llama-server'],
    modelDir: join(sid, inside),
    modelArg: `${inside}/${shard}`,
  };
}

const server = llamaServer();
let child: ChildProcess | undefined;
let proxy: Server | undefined;
let proxyOrigin = '';

test.skip(!server, 'llama-server is not installed (scripts/setup.sh installs llama.cpp-tools)');

/** Forwards to llama-server, misbehaving by path prefix; answers CORS as llama-server does. */
function startProxy(): Promise<void> {
  let r429 = 0;
  proxy = createServer((req, res) => {
    const cors = {
      'Access-Control-Allow-Origin': String(req.headers.origin ?? '*'),
      // A wildcard does not cover `Authorization`: name what the preflight asks for.
      'Access-Control-Allow-Headers': String(req.headers['access-control-request-headers'] ?? '*'),
      'Access-Control-Allow-Methods': 'POST, OPTIONS',
      // Without this a page cannot read Retry-After (the sdk then backs off exponentially).
      'Access-Control-Expose-Headers': 'Retry-After',
    };
    if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
    const [, mode, ...rest] = (req.url ?? '/').split('/');
    if (mode === 'always429' || (mode === 'r429' && r429++ % 2 === 0))
      return void res.writeHead(429, { ...cors, 'Retry-After': '1' }).end('slow down');
    const upstream = request(
      {
        host: '127.0.0.1',
        port: SERVER_PORT,
        path: `/${rest.join('/')}`,
        method: req.method,
        headers: req.headers,
      },
      (up) => {
        const headers = Object.entries(up.headers).filter(
          ([k]) => !k.startsWith('access-control-'),
        );
        res.writeHead(up.statusCode ?? 502, { ...Object.fromEntries(headers), ...cors });
        if (mode === 'cut') {
          up.once('data', (first: Buffer) => {
            res.write(first);
            setTimeout(() => res.destroy(), 50);
          });
        } else up.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  return new Promise((r) =>
    proxy!.listen(0, '127.0.0.1', () => {
      proxyOrigin = `http://127.0.0.1:${(proxy!.address() as AddressInfo).port}`;
      r();
    }),
  );
}

test.beforeAll(async () => {
  test.setTimeout(120_000);
  mkdirSync(server!.modelDir, { recursive: true });
  if (server!.modelDir !== models)
    for (const f of readdirSync(models).filter((f) => f.endsWith('.gguf')))
      copyFileSync(join(models, f), join(server!.modelDir, f));
  child = spawn(
    server!.command,
    [
      ...server!.args,
      ...['-m', server!.modelArg, '--host', '127.0.0.1', '--port', String(SERVER_PORT)],
      // One slot with the model's whole context; a chat template that llama.cpp knows (the
      // fixture's GGUF has none); the key the page must send.
      ...['-np', '1', '-c', '2048', '--chat-template', 'chatml', '--api-key', KEY, '-t', '1'],
    ],
    { stdio: 'ignore', detached: true },
  );
  for (let i = 0; ; i++) {
    const ok = await fetch(`http://127.0.0.1:${SERVER_PORT}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 100) throw new Error('llama-server did not become healthy in 30 s');
    await new Promise((r) => setTimeout(r, 300));
  }
  await startProxy();
  mkdirSync(site, { recursive: true });
  writeFileSync(
    join(site, 'index.html'),
    sdkPage(`
      import { createTea, registerAction } from '@the-edge-agent/sdk';
      const llama = 'http://127.0.0.1:${SERVER_PORT}';
      const proxy = '${proxyOrigin}';
      let tea;
      const describe = (e) => ({ code: e.code, node: e.node, cause: e.cause?.code, endpoint: e.cause?.endpoint, status: e.cause?.status, message: e.message });
      window.run = async (yaml, state = {}, secrets = { OPENAI_API_KEY: '${KEY}' }) => {
        tea ??= await createTea({
          manifestUrl: '/apps/demo/public/models/tiny-test-model/manifest.json',
          webgpu: 'off',
          useCache: false,
          allowedEndpoints: [{ origin: llama, toolCalls: 'json' }, proxy, 'http://127.0.0.1:${DEAD_PORT}'],
        });
        registerAction('math.calc', (params) => { window.calls.push(params); return { value: 42 }; });
        const tokens = [];
        try {
          const out = await tea.run(yaml, state, { secrets, onEvent: (e) => e.type === 'token' && tokens.push(e.text) });
          return { state: out, tokens };
        } catch (e) {
          return { error: describe(e), tokens };
        }
      };
      window.calls = [];
      window.ready = true;
    `),
  );
});

test.afterAll(async () => {
  if (child?.pid) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
  await new Promise<void>((r) => (proxy ? proxy.close(() => r()) : r()));
  rmSync(site, { recursive: true, force: true });
  if (server && server.modelDir !== models)
    rmSync(server.modelDir, { recursive: true, force: true });
});

const call = (base: string, extra: string) => `name: remote
nodes:
  - name: ask
    uses: llm.call
    with:
      provider: openai
      api_base: ${base}/v1
      model: tiny
      prompt: "Describe a trip: {{ state.text }}"
      temperature: 0
${extra}    output: answer
`;

type Outcome = {
  state?: Record<
    string,
    { content: string; json: object; model?: string; tool_results: unknown[] }
  >;
  tokens: string[];
  error?: {
    code: string;
    node?: string;
    cause?: string;
    endpoint?: string;
    status?: number;
    message: string;
  };
};

async function open(page: Page) {
  await openReadyPage(page, '/packages/sdk/e2e/.site-llama-server/index.html');
  return (yaml: string, state: object = {}, secrets?: object) =>
    page.evaluate(
      ([y, s, k]) =>
        (window as unknown as { run: (...a: unknown[]) => Promise<Outcome> }).run(
          y,
          s,
          k ?? undefined,
        ) as Promise<Outcome>,
      [yaml, state, secrets ?? null] as const,
    );
}

const llama = `http://127.0.0.1:${SERVER_PORT}`;

test('structured output from llama-server validates against the schema, for several schemas and seeds', async ({
  page,
}) => {
  const run = await open(page);
  const schemas = [
    {
      type: 'object',
      properties: {
        city: { type: 'string', maxLength: 12 },
        days: { type: 'integer' },
        mode: { enum: ['train', 'plane', 'bike'] },
      },
      required: ['city', 'days', 'mode'],
      additionalProperties: false,
    },
    {
      type: 'object',
      properties: {
        stops: { type: 'array', items: { type: 'string', maxLength: 8 }, minItems: 1, maxItems: 3 },
        budget: { type: 'object', properties: { eur: { type: 'integer' } }, required: ['eur'] },
        ok: { type: 'boolean' },
      },
      required: ['stops', 'budget', 'ok'],
      additionalProperties: false,
    },
  ];
  for (const schema of schemas)
    for (const seed of [1, 2, 3]) {
      const format = `      max_tokens: 200\n      seed: ${seed}\n      response_format:\n        type: json_schema\n        json_schema:\n          name: trip\n          schema: ${JSON.stringify(schema)}\n`;
      const r = await run(call(llama, format), { text: 'Lisbon by train' });
      expect(r.error, JSON.stringify(r.error)).toBeUndefined();
      const answer = r.state!['answer']!;
      // The engine validated `json` against the schema (LLM_OUTPUT_INVALID otherwise).
      expect(JSON.parse(answer.content)).toEqual(answer.json);
      expect(Object.keys(answer.json).sort()).toEqual([...schema.required].sort());
      expect(answer.model).toBeTruthy();
    }
});

test('a forced tool call through llama-server runs the registered action with valid arguments', async ({
  page,
}) => {
  const run = await open(page);
  const yaml = `name: agent
nodes:
  - name: agent
    uses: llm.tools
    with:
      provider: openai
      api_base: ${llama}/v1
      model: tiny
      prompt: "6*7?"
      max_tokens: 600
      temperature: 0
      tool_choice: calc
      max_tool_rounds: 1
      tools:
        - name: calc
          description: arithmetic
          parameters:
            type: object
            properties: { op: { enum: [add, mul] }, exact: { type: boolean } }
            required: [op, exact]
            additionalProperties: false
          action: math.calc
    output: result
`;
  const r = await run(yaml);
  expect(r.error, JSON.stringify(r.error)).toBeUndefined();
  const calls = (await page.evaluate(
    () => (window as unknown as { calls: unknown[] }).calls,
  )) as Record<string, unknown>[];
  expect(calls).toHaveLength(1);
  expect(['add', 'mul']).toContain(calls[0]!['op']);
  expect(typeof calls[0]!['exact']).toBe('boolean');
  expect(r.state!['result']!.tool_results[0]).toMatchObject({
    name: 'calc',
    result: '{"value":42}',
  });
});

test('streamed tokens from llama-server add up to the non-streamed answer at temperature 0', async ({
  page,
}) => {
  const run = await open(page);
  const whole = await run(call(llama, '      max_tokens: 24\n      seed: 7\n'));
  const streamed = await run(
    call(llama, '      max_tokens: 24\n      seed: 7\n      stream: true\n'),
  );
  expect(whole.error ?? streamed.error).toBeUndefined();
  expect(streamed.tokens.length).toBeGreaterThan(1);
  expect(streamed.tokens.join('')).toBe(whole.state!['answer']!.content);
  expect(streamed.state!['answer']!.content).toBe(whole.state!['answer']!.content);
});

test('endpoint failures are typed errors that name the endpoint and never the key', async ({
  page,
}) => {
  const run = await open(page);
  const ask = (base: string) => call(base, '      max_tokens: 8\n');
  const refused = await run(ask(`http://127.0.0.1:${DEAD_PORT}`));
  const unauthorized = await run(ask(llama), {}, { OPENAI_API_KEY: 'sk-wrong-key-77' });
  const retried = await run(ask(`${proxyOrigin}/r429`));
  const limited = await run(ask(`${proxyOrigin}/always429`));
  const cut = await run(call(`${proxyOrigin}/cut`, '      max_tokens: 24\n      stream: true\n'));
  const notAllowed = await run(ask('http://127.0.0.1:9'));
  expect(refused.error).toMatchObject({
    code: 'ACTION_FAILED',
    node: 'ask',
    cause: 'REMOTE_UNREACHABLE',
  });
  expect(refused.error!.message).toContain(`127.0.0.1:${DEAD_PORT}/v1/chat/completions`);
  expect(unauthorized.error).toMatchObject({ cause: 'REMOTE_UNAUTHORIZED', status: 401 });
  expect(unauthorized.error!.message).toContain(`${llama}/v1/chat/completions answered HTTP 401`);
  expect(retried.error, 'one 429 with Retry-After: 1 is waited out').toBeUndefined();
  expect(limited.error).toMatchObject({ cause: 'REMOTE_RATE_LIMITED', status: 429 });
  expect(cut.error).toMatchObject({ cause: 'REMOTE_STREAM_CUT' });
  expect(cut.error!.message).toContain(`${proxyOrigin}/cut/v1/chat/completions`);
  expect(notAllowed.error).toMatchObject({
    cause: 'REMOTE_NOT_ALLOWED',
    endpoint: 'http://127.0.0.1:9/v1',
  });
  for (const o of [refused, unauthorized, limited, cut, notAllowed])
    expect(JSON.stringify(o)).not.toMatch(/sk-llama-test-4242|sk-wrong-key-77/);
  // The handle still works after all of that.
  const after = await run(ask(llama));
  expect(after.error).toBeUndefined();
});
