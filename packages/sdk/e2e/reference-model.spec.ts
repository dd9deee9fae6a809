import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { sdkPage } from '../../../tools/sdk-page.js';
import type { LlmCallResult, TeaInfo } from '@the-edge-agent/sdk';
import { writeGemma3nQ4KM } from '@the-edge-agent/test-fixtures';
import { persistentContext } from '../../../tools/chromium.js';

// The reference model without a GPU: shape-faithful Gemma 3n E4B and E2B Q4_K_M (real tensor
// shapes and 262,144-token vocabulary, random weights, written as quantized blocks), packed by
// `tea-model pack`, then downloaded, verified, cached in IndexedDB and loaded CPU-only through
// `createTea` in headless Chromium, and asked a question by a workflow with `llm.call`: first
// at 1 thread (download), then from the cache at 2 threads (multi-thread, COOP/COEP). E4B needs
// the 16 GiB wllama build: the stock 4 GiB build fails on it (see llm-bridge's README).
const here = dirname(fileURLToPath(import.meta.url));
const dir = join(here, '.large', 'reference');
const teaModel = fileURLToPath(new URL('../../model-loader/dist/cli/main.js', import.meta.url));
const VARIANTS = ['E4B', 'E2B'] as const;

const WORKFLOW = `
name: reference-model
nodes:
  - name: answer
    uses: llm.call
    with:
      prompt: "{{ state.question }}"
      max_tokens: 6
      temperature: 0
      stream: true
    output: answer
edges:
  - from: __start__
    to: answer
  - from: answer
    to: __end__
`;

/** What the page's `run` returns. */
interface RunResult {
  info: TeaInfo;
  answer: LlmCallResult;
  tokens: string[];
  phases: string[];
  loadSeconds: number;
}

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  test.setTimeout(900_000);
  const free = statfsSync(here).bavail * statfsSync(here).bsize;
  // Each variant: the GGUF (removed after packing), its shards, then IndexedDB's copy.
  if (free < 20e9)
    throw new Error(
      `the reference-model test needs ~20 GB of free disk, ${(free / 1e9).toFixed(1)} GB here`,
    );
  mkdirSync(dir, { recursive: true });
  for (const variant of VARIANTS) {
    const out = join(dir, variant);
    if (existsSync(join(out, 'manifest.json'))) continue;
    const source = join(dir, `gemma-3n-${variant}-shaped-Q4_K_M.gguf`);
    await writeGemma3nQ4KM(source, { variant, seed: 7 });
    execFileSync(
      process.execPath,
      // 512 MiB shards as the release packs them (E4B's 1.93 GB tensor gets a shard of its own).
      [
        teaModel,
        'pack',
        source,
        '--out',
        out,
        '--id',
        `gemma-3n-${variant}-shaped`,
        '--max-chunk-size',
        '512M',
      ],
      { stdio: 'ignore' },
    );
    rmSync(source);
  }
  // The sdk through an import map, as the plain-HTML example uses it.
  writeFileSync(
    join(dir, 'index.html'),
    sdkPage(`
      import { createTea } from '@the-edge-agent/sdk';
      window.run = async (variant, threads, yaml) => {
        const phases = new Set();
        const started = performance.now();
        const tea = await createTea({
          manifestUrl: new URL(variant + '/manifest.json', location.href).href,
          threads,
          nCtx: 512,
          onProgress: (p) => phases.add(p.phase),
        });
        const loadSeconds = (performance.now() - started) / 1000;
        try {
          const tokens = [];
          const state = await tea.run(yaml, { question: 'Name a river.' }, {
            onEvent: (e) => e.type === 'token' && tokens.push(e.text),
          });
          return { info: tea.info(), answer: state.answer, tokens, phases: [...phases], loadSeconds };
        } finally {
          await tea.dispose();
        }
      };
      window.ready = true;
    `),
  );
});

test.afterAll(() => {
  if (!process.env['TEA_KEEP_LARGE']) rmSync(dir, { recursive: true, force: true });
});

for (const variant of VARIANTS) {
  test(`Gemma 3n ${variant} Q4_K_M (shape-faithful): download, verify, cache, load CPU-only and answer at 1 then 2 threads`, async ({
    baseURL,
  }) => {
    test.setTimeout(900_000);
    const { context, close } = await persistentContext(baseURL);
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto('/packages/sdk/e2e/.large/reference/index.html');
      await page.waitForFunction(() => (window as { ready?: boolean }).ready === true);
      const run = (threads: number) =>
        page.evaluate(
          ([v, t, yaml]) =>
            (window as unknown as { run(...a: unknown[]): Promise<RunResult> }).run(v, t, yaml),
          [variant, threads, WORKFLOW] as const,
        );
      const first = await run(1);
      const second = await run(2);
      const bytes = variant === 'E4B' ? 4.5e9 : 3.0e9;
      for (const [result, threads] of [
        [first, 1],
        [second, 2],
      ] as const) {
        expect(result.info.model).toMatchObject({
          architecture: 'gemma3n',
          webgpu: false,
          threads,
        });
        expect(result.info.model.modelBytes).toBeGreaterThan(bytes);
        expect(result.info.model.heapLimitBytes).toBe(16 * 2 ** 30);
        expect(result.answer.usage.completion_tokens).toBeGreaterThan(0);
        expect(result.tokens.join('')).toBe(result.answer.content);
        process.stdout.write(
          `${variant} at ${threads} thread(s): ready in ${result.loadSeconds.toFixed(1)} s, ` +
            `"${result.answer.content}" (${result.answer.usage.completion_tokens} tokens)\n`,
        );
      }
      expect(first.info.fromCache).toBe(false);
      expect(first.phases).toContain('download');
      expect(second.info.fromCache).toBe(true);
      expect(second.phases).not.toContain('download');
      expect(second.info.model.multiThread).toBe(true);
      // Same weights, same greedy decoding: the same answer at 1 and 2 threads is likely but
      // not guaranteed (random weights give near-tied logits), so only the shape is compared.
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
}
