import { readdirSync, readFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { startFaultServer, type FaultServer } from '@the-edge-agent/test-fixtures';
import { PLAIN_PORT } from '../../../tools/e2e-origins.js';
import { sdkPage } from '../../../tools/sdk-page.js';

// The mistakes a new developer makes, in Chromium: each is a coded error whose message names the
// URL or the fix. The demo's tiny model is served by test-fixtures' fault server, which counts
// requests and can answer like a dev server's HTML fallback.

const here = dirname(fileURLToPath(import.meta.url));
const site = join(here, '.site-errors');
const tiny = join(here, '../../../apps/demo/public/models/tiny-test-model');
let server: FaultServer;

test.beforeAll(async () => {
  const files: Record<string, Uint8Array | string> = {};
  for (const f of readdirSync(tiny))
    files[`tiny/${f}`] = new Uint8Array(readFileSync(join(tiny, f)));
  server = await startFaultServer(files);
  mkdirSync(site, { recursive: true });
  writeFileSync(
    join(site, 'index.html'),
    sdkPage(`
      import * as sdk from '@the-edge-agent/sdk';
      window.sdk = sdk;
      const error = (e) => ({ name: e?.name, code: e?.code, message: String(e?.message ?? e), url: e?.url, hint: e?.hint });
      window.attempt = (work) => work().then((value) => ({ ok: true, value }), error);
      window.warnings = [];
      const warn = console.warn.bind(console);
      console.warn = (...a) => { window.warnings.push(a.join(' ')); warn(...a); };
      window.ready = true;
    `),
  );
});

test.afterAll(async () => {
  await server?.close();
  rmSync(site, { recursive: true, force: true });
});

type Outcome = {
  ok?: boolean;
  name?: string;
  code?: string;
  message: string;
  url?: string;
  hint?: string;
};

async function open(page: Page, port?: number) {
  const url = '/packages/sdk/e2e/.site-errors/index.html';
  await page.goto(port ? `http://127.0.0.1:${port}${url}` : url);
  await page.waitForFunction(() => (window as { ready?: boolean }).ready === true);
}

/** Runs `body` (the text of an async function over `sdk` and `url`) in the page. */
const attempt = (page: Page, body: string, url = server.url('tiny/manifest.json')) =>
  page.evaluate(
    ([b, u]) => {
      const w = window as unknown as {
        sdk: unknown;
        attempt(f: () => Promise<unknown>): Promise<Outcome>;
      };
      const fn = new Function('sdk', 'url', `return (async () => { ${b} })()`) as (
        s: unknown,
        u: string,
      ) => Promise<unknown>;
      return w.attempt(() => fn(w.sdk, u));
    },
    [body, url] as const,
  );

test('a manifest URL that a dev server answers with its HTML page: MANIFEST_INVALID naming the URL', async ({
  page,
}) => {
  await open(page);
  server.inject('tiny/manifest.json', 'html');
  const r = await attempt(
    page,
    `await sdk.createTea({ manifestUrl: url, useCache: false, webgpu: 'off' });`,
  );
  expect(r).toMatchObject({ code: 'MANIFEST_INVALID', url: server.url('tiny/manifest.json') });
  expect(r.message).toContain(`${server.url('tiny/manifest.json')} is an HTML page`);
  expect(r.message).toContain('index.html');
});

test('a missing shard: HTTP_ERROR 404 with the shard URL in the message', async ({ page }) => {
  await open(page);
  const shard = 'tiny/tiny-test-model-00002-of-00003.gguf';
  server.inject(shard, '404');
  const r = await attempt(
    page,
    `await sdk.createTea({ manifestUrl: url, useCache: false, webgpu: 'off' });`,
  );
  expect(r).toMatchObject({ code: 'HTTP_ERROR' });
  expect(r.message).toContain(server.url(shard));
  expect(r.message).toContain('404');
});

test('no model given and none bundled: the error says where it looked and what to pass', async ({
  page,
}) => {
  await open(page);
  const r = await attempt(page, `await sdk.initTeaLlm();`);
  expect(r.code).toBe('HTTP_ERROR');
  expect(r.message).toContain('models/models.json');
  expect(r.message).toContain('The npm package ships no model');
});

test('before init and after dispose: TeaError NOT_INITIALIZED / DISPOSED with a hint', async ({
  page,
}) => {
  await open(page);
  const before = await attempt(page, `await sdk.executeLlmYaml('name: x\\nnodes: []\\n', {});`);
  expect(before).toMatchObject({ name: 'TeaError', code: 'NOT_INITIALIZED' });
  expect(before.hint).toContain('initTeaLlm');
  const after = await attempt(
    page,
    `const tea = await sdk.createTea({ manifestUrl: url, useCache: false, webgpu: 'off' });
     await tea.dispose();
     await tea.chat('hi');`,
  );
  expect(after).toMatchObject({ name: 'TeaError', code: 'DISPOSED' });
  expect(after.hint).toContain('createTea');
});

test('two initTeaLlm calls at once (React StrictMode) share one load and one live handle', async ({
  page,
}) => {
  await open(page);
  const manifestRequests = () => server.log.filter((e) => e.path === 'tiny/manifest.json').length;
  const before = manifestRequests();
  const r = await attempt(
    page,
    `const config = { manifestUrl: url, useCache: false, webgpu: 'off' };
     const [a, b] = await Promise.all([sdk.initTeaLlm(config), sdk.initTeaLlm({ ...config })]);
     const again = await sdk.initTeaLlm(config);
     const reply = await a.chat('hi', { max_tokens: 4 });
     return { same: a === b && b === again, disposed: a.isDisposed, ready: sdk.isLlmReady(), text: typeof reply.content };`,
  );
  expect(r).toMatchObject({
    ok: true,
    value: { same: true, disposed: false, ready: true, text: 'string' },
  });
  expect(manifestRequests() - before).toBe(1);
});

test('without cross-origin isolation: one console warning with the fix, and the reason in info()', async ({
  page,
}) => {
  await open(page, PLAIN_PORT);
  const r = await attempt(
    page,
    `const a = await sdk.createTea({ manifestUrl: url, useCache: false, webgpu: 'off' });
     const b = await sdk.createTea({ manifestUrl: url, useCache: false, webgpu: 'off' });
     const reason = a.info().model.threadingReason;
     await a.dispose(); await b.dispose();
     return { reason, warnings: window.warnings.filter((w) => w.startsWith('[tea]')) };`,
  );
  const value = r as unknown as { value: { reason: string; warnings: string[] } };
  expect(value.value.reason).toContain('not cross-origin isolated');
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  expect(value.value.warnings).toHaveLength(cores > 1 ? 1 : 0);
  if (cores > 1) expect(value.value.warnings[0]).toContain('COOP');
});

test('createTea({ threads: 8 }) on a 2-core page runs 2 threads and warns once with both numbers', async ({
  page,
}) => {
  // The page sees 2 cores whatever machine runs the test (CI runners have 4).
  await page.addInitScript(() =>
    Object.defineProperty(Navigator.prototype, 'hardwareConcurrency', { get: () => 2 }),
  );
  await open(page);
  const r = await attempt(
    page,
    `const tea = await sdk.createTea({ manifestUrl: url, useCache: false, webgpu: 'off', threads: 8 });
     const m = tea.info().model;
     const answer = await tea.complete('the cat', { max_tokens: 4 });
     await tea.dispose();
     return { threads: m.threads, requested: m.threadsRequested, multi: m.multiThread, reason: m.threadingReason,
       tokens: answer.usage.completion_tokens, warnings: window.warnings.filter((w) => w.startsWith('[tea]')) };`,
  );
  const v = (r as unknown as { value: Record<string, unknown> }).value;
  expect(v).toMatchObject({ threads: 2, requested: 8, multi: true });
  expect(v['reason']).toContain('clamped from 8');
  expect(v['tokens']).toBeGreaterThan(0);
  expect(v['warnings']).toEqual([
    expect.stringMatching(/threads: 8 was asked for.*2 cores.*so 2 are used/),
  ]);
});

test('one progress stream: every event has a fraction that never goes back and ends at 1', async ({
  page,
}) => {
  await open(page);
  const r = await attempt(
    page,
    `const events = [];
     const tea = await sdk.createTea({ manifestUrl: url, useCache: false, webgpu: 'off', onProgress: (p) => events.push(p) });
     await tea.dispose();
     return events.map((p) => ({ phase: p.phase, fraction: p.fraction, eta: 'etaSeconds' in p }));`,
  );
  const events = (r as unknown as { value: { phase: string; fraction: number; eta: boolean }[] })
    .value;
  const fractions = events.map((e) => e.fraction);
  expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1]!)).toBe(true);
  expect(fractions.at(-1)).toBe(1);
  expect(events.filter((e) => e.phase === 'download').every((e) => e.eta)).toBe(true);
  expect(new Set(events.map((e) => e.phase))).toEqual(new Set(['download', 'load', 'ready']));
});
