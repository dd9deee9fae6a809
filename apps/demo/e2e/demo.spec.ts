import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, type Page, test } from '@playwright/test';
import { gemma3nHeader, llamaHeader, writeSparseGguf } from '@the-edge-agent/test-fixtures';
import { ISOLATED_ORIGIN as ISOLATED, PLAIN_ORIGIN as PLAIN } from '../../../tools/e2e-origins.js';

const DEMO = '/apps/demo/dist/index.html';
const fixtures = fileURLToPath(new URL('./.fixtures/', import.meta.url));

// A second version of the demo's model (same id, version 2, other weights) for the
// invalidation test, packed like the default one.
const teaModel = fileURLToPath(
  new URL('../../../packages/model-loader/dist/cli/main.js', import.meta.url),
);

/**
 * Profiles with real sizes: resource needs computed by `tea-model inspect` from sparse GGUFs in
 * real tensor shapes (no weights): a llama 13B in F16 (26 GB: over any wasm heap), Gemma 3n E4B
 * and E2B. The 13B and E4B manifests do not exist (they must never be fetched); the E2B-sized
 * profile loads the tiny model behind it.
 */
async function gemmaProfiles(): Promise<void> {
  mkdirSync(`${fixtures}profiles`, { recursive: true });
  const llama13b = llamaHeader({
    embd: 5120,
    heads: 40,
    kvHeads: 40,
    layers: 40,
    ffn: 13824,
    vocab: 32000,
    type: 'F16',
  });
  const profile = async (variant: 'E4B' | 'E2B' | 'llama-13B-F16', manifest: string) => {
    const file = await writeSparseGguf(
      `${fixtures}profiles/${variant}.gguf`,
      variant === 'llama-13B-F16' ? llama13b : gemma3nHeader(variant),
    );
    const info = JSON.parse(
      execFileSync(process.execPath, [teaModel, 'inspect', file.path, '--json'], {
        encoding: 'utf8',
      }),
    ) as { resources: object; modes: string[] };
    rmSync(file.path);
    const gemma = variant !== 'llama-13B-F16';
    return {
      id: gemma ? `gemma-3n-${variant}-shaped` : `${variant}-shaped`,
      version: '1',
      manifest,
      totalBytes: file.bytes,
      chunks: Math.ceil(file.bytes / 2 ** 29),
      architecture: gemma ? 'gemma3n' : 'llama',
      quantization: gemma ? 'Q4_K_M' : 'F16',
      modes: info.modes,
      resources: info.resources,
    };
  };
  writeFileSync(
    `${fixtures}profiles/models.json`,
    JSON.stringify({
      modelsVersion: 1,
      profiles: [
        await profile('llama-13B-F16', 'llama-13B-F16-shaped.manifest.json'),
        await profile('E4B', 'gemma-3n-E4B-shaped.manifest.json'),
        await profile('E2B', '../../../dist/models/tiny-test-model/manifest.json'),
      ],
    }),
  );
}

test.beforeAll(async () => {
  await gemmaProfiles();
  if (existsSync(`${fixtures}tiny-test-model/manifest.json`)) return;
  const script = fileURLToPath(new URL('../scripts/make-test-model.mjs', import.meta.url));
  execFileSync(process.execPath, [script, '--out', fixtures, '--version', '2', '--seed', '9']);
});

/** Fails the test on any request that leaves the local test servers. */
function offline(page: Page): string[] {
  const requests: string[] = [];
  page.on('request', (r) => {
    requests.push(r.url());
    const url = new URL(r.url());
    if (url.protocol.startsWith('http') && url.hostname !== '127.0.0.1') {
      throw new Error(`request to another origin: ${r.url()}`);
    }
  });
  return requests;
}

async function loadModel(page: Page, manifest?: string) {
  if (manifest) await page.fill('#manifest-url', manifest);
  await page.click('#load');
  await expect(page.locator('#progress-text')).toHaveAttribute('data-state', 'ready', {
    timeout: 60_000,
  });
}

async function run(page: Page, example: string, state?: string) {
  await page.selectOption('#example', { label: example });
  if (state) await page.fill('#state', state);
  await page.click('#run');
  await expect(page.locator('#final')).toHaveAttribute('data-state', /done|error/, {
    timeout: 60_000,
  });
  await expect(page.locator('#error')).toBeHidden();
  return JSON.parse((await page.textContent('#final')) ?? '{}') as Record<string, unknown>;
}

test('loads the packed multi-chunk model, runs simple chat with streamed tokens, and stays offline', async ({
  page,
}) => {
  const requests = offline(page);
  await page.goto(`${ISOLATED}${DEMO}`);
  await loadModel(page);
  await expect(page.locator('[data-field="source"]')).toHaveText('downloaded and verified');
  expect(requests.filter((u) => u.endsWith('.gguf'))).toHaveLength(3);
  const state = await run(page, 'simple chat');
  const answer = state['answer'] as { content: string; usage: { completion_tokens: number } };
  expect(answer.content.length).toBeGreaterThan(0);
  expect(answer.usage.completion_tokens).toBeGreaterThan(0);
  await expect(page.locator('#tokens')).toHaveText(answer.content);
  await expect(page.locator('#timeline li')).toHaveText([
    'node_start chat (step 1)',
    'node_end chat (step 1)',
  ]);
  await page.screenshot({ path: 'test-results/demo-after-run.png', fullPage: true });
});

test('conditional and parallel workflows run on the model', async ({ page }) => {
  offline(page);
  await page.goto(`${ISOLATED}${DEMO}`);
  await loadModel(page);
  const routed = await run(page, 'conditional routing', '{"message":"hi"}');
  expect(routed['length']).toBe(2);
  expect(typeof (routed['reply'] as { content: string }).content).toBe('string');
  const fanned = await run(page, 'parallel fan-out');
  const views = fanned['views'] as Record<string, { content: string }>;
  expect(Object.keys(views).sort()).toEqual(['cons', 'pros']);
  expect(fanned['summary']).toBe(`${views['pros']!.content} / ${views['cons']!.content}`);
});

test('a reload loads the model from IndexedDB with zero chunk requests; stats match the manifest', async ({
  page,
}) => {
  await page.goto(`${ISOLATED}${DEMO}`);
  await page.click('#clear-cache');
  await loadModel(page);
  const manifest = (await (
    await page.request.get(`${ISOLATED}/apps/demo/dist/models/tiny-test-model/manifest.json`)
  ).json()) as { totalBytes: number };
  await page.reload();
  const requests = offline(page);
  await loadModel(page);
  expect(requests.filter((u) => u.endsWith('.gguf'))).toEqual([]);
  await expect(page.locator('[data-field="source"]')).toHaveText('IndexedDB cache');
  await expect(page.locator('#cache')).toHaveAttribute('data-bytes', String(manifest.totalBytes));
  await expect(page.locator('#cache')).toContainText('tiny-test-model v1');
});

test('bumping the manifest version re-downloads and drops the old chunks', async ({ page }) => {
  await page.goto(`${ISOLATED}${DEMO}`);
  await page.click('#clear-cache');
  await loadModel(page);
  const v2 = (await (
    await page.request.get(`${ISOLATED}/apps/demo/e2e/.fixtures/tiny-test-model/manifest.json`)
  ).json()) as { totalBytes: number };
  const requests = offline(page);
  await loadModel(page, '/apps/demo/e2e/.fixtures/tiny-test-model/manifest.json');
  expect(requests.filter((u) => u.endsWith('.gguf'))).toHaveLength(3);
  await expect(page.locator('[data-field="model"]')).toContainText('v2');
  await expect(page.locator('#cache')).toHaveAttribute('data-models', '1');
  await expect(page.locator('#cache')).toHaveAttribute('data-bytes', String(v2.totalBytes));
});

test('without COOP/COEP the same workflow runs single-thread; with them, multi-thread', async ({
  page,
}) => {
  offline(page);
  await page.goto(`${PLAIN}${DEMO}`);
  await expect(page.locator('[data-field="isolation"]')).toHaveText('no');
  await loadModel(page);
  await expect(page.locator('[data-field="model-threads"]')).toHaveText('1 (single-thread)');
  expect(
    ((await run(page, 'simple chat'))['answer'] as { content: string }).content.length,
  ).toBeGreaterThan(0);
  await page.goto(`${ISOLATED}${DEMO}`);
  await expect(page.locator('[data-field="isolation"]')).toHaveText('yes');
  await loadModel(page);
  await expect(page.locator('[data-field="model-threads"]')).toHaveText(/^2 \(multi-thread\)$/);
});

test('a workflow error is shown in plain words with its YAML line', async ({ page }) => {
  await page.goto(`${ISOLATED}${DEMO}`);
  await loadModel(page);
  await page.fill('#yaml', 'name: broken\nnodes:\n  - name: a\n    uses: llm.cal\n');
  await page.click('#run');
  await expect(page.locator('#error')).toHaveText(
    /^UNKNOWN_ACTION: line 4, column 11: node 'a': unknown action 'llm.cal' \(did you mean 'llm.call'\?\)/,
  );
});

test('loads local GGUF shards picked with the file input (no download, not cached)', async ({
  page,
}) => {
  const requests = offline(page);
  await page.goto(`${ISOLATED}${DEMO}`);
  const dir = fileURLToPath(new URL('../dist/models/tiny-test-model/', import.meta.url));
  await page.setInputFiles(
    '#model-files',
    [3, 1, 2].map((i) => `${dir}tiny-test-model-0000${i}-of-00003.gguf`),
  );
  await expect(page.locator('#progress-text')).toHaveAttribute('data-state', 'ready', {
    timeout: 60_000,
  });
  await expect(page.locator('[data-field="source"]')).toHaveText('local file(s), not cached');
  expect(requests.filter((u) => u.endsWith('.gguf'))).toEqual([]);
  expect(
    ((await run(page, 'simple chat'))['answer'] as { content: string }).content.length,
  ).toBeGreaterThan(0);
});

test('profiles: in a CPU-only browser E4B and E2B fit the 16 GiB heap, a 26 GB model is refused before any byte', async ({
  page,
}) => {
  const requests = offline(page);
  await page.goto(`${ISOLATED}${DEMO}`);
  await page.fill('#manifest-url', '/apps/demo/e2e/.fixtures/profiles/models.json');
  await page.dispatchEvent('#manifest-url', 'change');
  const big = page.locator('#profiles li[data-profile="llama-13B-F16-shaped"]');
  await expect(big).toHaveAttribute('data-fits', 'false');
  // Headless Chromium here has no WebGPU adapter with shader-f16.
  await expect(big).toContainText('cannot run here: ');
  await expect(big).toContainText('over the 17.18 GB wasm heap this browser can reserve');
  for (const fits of ['gemma-3n-E4B-shaped', 'gemma-3n-E2B-shaped'])
    await expect(page.locator(`#profiles li[data-profile="${fits}"]`)).toHaveAttribute(
      'data-fits',
      'true',
    );
  await page.selectOption('#profile', 'llama-13B-F16-shaped');
  await page.click('#load');
  await expect(page.locator('#progress-text')).toHaveAttribute('data-state', 'error');
  const error = page.locator('#progress-text');
  await expect(error).toContainText('MODEL_TOO_LARGE');
  await expect(error).toContainText('llama-13B-F16-shaped (26.03 GB) cannot run in this browser');
  await expect(error).toContainText('the limit is 17.18 GB');
  expect(requests.filter((u) => u.includes('13B'))).toEqual([]);
  expect(requests.filter((u) => u.endsWith('.gguf'))).toEqual([]);
  await page.selectOption('#profile', 'gemma-3n-E2B-shaped');
  await loadModel(page);
  await expect(page.locator('[data-field="profile"]')).toHaveText('gemma-3n-E2B-shaped (cpu)');
  await expect(page.locator('[data-field="profile-reasons"]')).toContainText('cpu: ');
  expect(requests.filter((u) => u.endsWith('.gguf'))).toHaveLength(3);
});

test('JSON extraction gives schema-valid JSON, and the tool agent shows its tool rounds', async ({
  page,
}) => {
  offline(page);
  await page.goto(`${ISOLATED}${DEMO}`);
  await loadModel(page);
  const extracted = await run(page, 'JSON extraction');
  const trip = (extracted['trip'] as { json: { city: string; days: number; mode: string } }).json;
  expect(typeof trip.city).toBe('string');
  expect(Number.isInteger(trip.days)).toBe(true);
  expect(['train', 'plane', 'car']).toContain(trip.mode);
  expect(extracted['summary']).toBe(`${trip.city} by ${trip.mode}`);
  // The random-weight model's free text never ends, so its answer after the tool round would run
  // into max_tokens: force one tool round, as an app can, and stop there.
  await page.selectOption('#example', { label: 'tool agent' });
  const yaml = await page.inputValue('#yaml');
  await page.fill(
    '#yaml',
    yaml.replace('max_tool_rounds: 2', 'max_tool_rounds: 1\n      tool_choice: calc'),
  );
  await page.click('#run');
  await expect(page.locator('#final')).toHaveAttribute('data-state', /done|error/, {
    timeout: 60_000,
  });
  await expect(page.locator('#error')).toBeHidden();
  const agent = JSON.parse((await page.textContent('#final')) ?? '{}') as Record<string, unknown>;
  const answer = agent['answer'] as { tool_calls: unknown[]; rounds: number };
  expect(answer.rounds).toBe(1);
  expect(answer.tool_calls).toHaveLength(1);
  const timeline = await page.locator('#timeline li').allTextContents();
  expect(timeline.filter((t) => t.startsWith('tool call in agent')).length).toBe(
    answer.tool_calls.length,
  );
  expect(timeline.filter((t) => t.startsWith('tool result in agent')).length).toBe(
    answer.tool_calls.length,
  );
});
