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
  const script = fileURLToPath(new URL('../scripts/make-test-model.mjs', import.meta.url));
  if (!existsSync(`${fixtures}tiny-test-model/manifest.json`))
    execFileSync(process.execPath, [script, '--out', fixtures, '--version', '2', '--seed', '9']);
  // Another model (another id) for the per-model delete, in a folder of its own.
  if (!existsSync(`${fixtures}other/other-test-model/manifest.json`))
    execFileSync(process.execPath, [
      script,
      ...['--out', `${fixtures}other`, '--id', 'other-test-model', '--seed', '5'],
    ]);
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

/** Opens a collapsed panel (`<details>`), so that its fields can be filled. */
async function open(page: Page, id: string) {
  await page.locator(`#${id}`).evaluate((d) => ((d as HTMLDetailsElement).open = true));
}

/** Opens the demo with its model cache emptied (the Delete all button). */
async function openWithEmptyCache(page: Page) {
  await page.goto(`${ISOLATED}${DEMO}`);
  await page.click('#clear-cache');
  await expect(page.locator('#cache')).toHaveAttribute('data-models', '0');
}

async function loadModel(page: Page, manifest?: string) {
  if (manifest) {
    await open(page, 'model-source');
    await page.fill('#manifest-url', manifest);
  }
  await page.click('#load');
  await expect(page.locator('#progress-text')).toHaveAttribute('data-state', 'ready', {
    timeout: 60_000,
  });
}

/**
 * The page fits the window: no horizontal scrolling, no control reaching past either edge, and no
 * value squeezed into a column so narrow that it wraps letter by letter. Every panel is opened
 * first, so that what is collapsed is checked too.
 */
async function fitsWidth(page: Page) {
  for (const id of ['model-source', 'yaml-box', 'final-json', 'diagnostics']) await open(page, id);
  const layout = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const visible = (el: Element) => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0;
    };
    const cut = [...document.querySelectorAll('button, select, input, textarea, svg')]
      .filter(visible)
      .filter((el) => {
        const r = el.getBoundingClientRect();
        return r.left < -0.5 || r.right > width + 0.5;
      })
      .map((el) => el.id || el.outerHTML.slice(0, 60));
    const narrow = [...document.querySelectorAll('dd, .timeline .what, .cache-list .facts')]
      .filter(visible)
      .filter((el) => {
        // Text that wraps must have room: a value that wraps in a sliver of a column is the bug.
        const r = el.getBoundingClientRect();
        const line = parseFloat(getComputedStyle(el).lineHeight) || 20;
        return r.height > line * 1.6 && r.width < 120;
      })
      .map((el) => el.textContent);
    return { scroll: document.documentElement.scrollWidth, width, cut, narrow };
  });
  expect(layout.scroll).toBeLessThanOrEqual(layout.width);
  expect(layout.cut).toEqual([]);
  expect(layout.narrow).toEqual([]);
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

const EXAMPLES = {
  chat: 'Answer a question',
  routing: 'Short or long reply, by message length',
  loop: 'Rewrite a draft three times',
  parallel: 'Pros and cons, side by side',
  json: 'Extract trip details as JSON',
  tools: 'Calculator agent with tools',
};

const manifestBytes = async (page: Page, path: string) =>
  ((await (await page.request.get(`${ISOLATED}${path}`)).json()) as { totalBytes: number })
    .totalBytes;

// Every test runs at phone width and on a desktop.
for (const width of [390, 1280]) {
  test.describe(`at ${width} px`, () => {
    test.use({ viewport: { width, height: 900 } });

    test('loads the packed multi-chunk model with one monotonic progress bar, runs a workflow with streamed tokens, stays offline, and fits the width', async ({
      page,
    }) => {
      const requests = offline(page);
      await page.goto(`${ISOLATED}${DEMO}`);
      await page.evaluate(() => {
        // Every value the one progress bar shows, in order.
        const bar = document.getElementById('progress')!;
        const seen: number[] = ((window as unknown as { progressSeen: number[] }).progressSeen =
          []);
        new MutationObserver(() => seen.push((bar as HTMLProgressElement).value)).observe(bar, {
          attributes: true,
          attributeFilter: ['value'],
        });
      });
      await loadModel(page);
      const seen = await page.evaluate(
        () => (window as unknown as { progressSeen: number[] }).progressSeen,
      );
      expect(seen.at(-1)).toBe(1);
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
      await expect(page.locator('[data-field="source"]')).toHaveText(
        'downloaded, checked and stored',
      );
      await expect(page.locator('#test-model-note')).toBeVisible();
      await expect(page.locator('#test-model-note')).toContainText('random weights');
      expect(requests.filter((u) => u.endsWith('.gguf'))).toHaveLength(3);
      const state = await run(page, EXAMPLES.chat);
      const answer = state['answer'] as { content: string; usage: { completion_tokens: number } };
      expect(answer.content.length).toBeGreaterThan(0);
      expect(answer.usage.completion_tokens).toBeGreaterThan(0);
      await expect(page.locator('#tokens')).toHaveText(answer.content);
      await expect(page.locator('#timeline li')).toHaveCount(3);
      expect(
        await page.locator('#timeline li').evaluateAll((l) => l.map((li) => li.dataset['type'])),
      ).toEqual(['node_start', 'prompt_progress', 'node_end']);
      await expect(page.locator('#timeline li .what')).toHaveText([
        'chat started',
        /^chat read its prompt: \d+ tokens( \(\d+ from the cache\))?$/,
        /^chat finished \(\d+ streamed pieces? of text\)$/,
      ]);
      // The final state as a tree: the answer's fields, its text as a value.
      const tree = page.locator('#final-tree');
      await expect(tree.locator('details[data-key="answer"] > summary')).toContainText('answer');
      await expect(
        tree.locator('details[data-key="answer"] .leaf[data-key="content"] .value'),
      ).toHaveText(JSON.stringify(answer.content));
      await fitsWidth(page);
      await page.screenshot({ path: `test-results/demo-after-run-${width}.png`, fullPage: true });
    });

    test('chats with the loaded model, the reply streaming in', async ({ page }) => {
      offline(page);
      await page.goto(`${ISOLATED}${DEMO}`);
      await expect(page.locator('#chat-send')).toBeDisabled();
      await loadModel(page);
      await page.fill('#chat-input', 'Hello there');
      await page.press('#chat-input', 'Enter');
      await expect(page.locator('#chat-log li.user')).toHaveText('Hello there');
      const reply = page.locator('#chat-log li.assistant');
      await expect(reply).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
      expect(((await reply.textContent()) ?? '').length).toBeGreaterThan(0);
      await expect(page.locator('#chat-section .test-only')).toBeVisible();
      await fitsWidth(page);
    });

    test('every example in the picker runs to the end with the built-in model; a long chat keeps going', async ({
      page,
    }) => {
      // Eight workflows and sixteen chat turns: about a minute on a loaded 2-core machine.
      test.setTimeout(240_000);
      offline(page);
      await page.goto(`${ISOLATED}${DEMO}`);
      await loadModel(page);
      const labels = await page.locator('#example option').allTextContents();
      expect(labels).toHaveLength(7);
      for (const label of labels) {
        await run(page, label);
        await expect(page.locator('#final'), label).toHaveAttribute('data-state', 'done');
      }
      // The tool agent's reply, cut off by max_tokens, is its answer (with a warning), not an error.
      await run(page, EXAMPLES.tools);
      await expect(page.locator('#timeline li[data-type="warning"] .what')).toContainText(
        /cut off at max_tokens|max_tool_rounds/,
      );
      // Sixteen turns of 128 tokens overflow the 2048-token context: the oldest turns go.
      for (let turn = 0; turn < 16; turn++) {
        await page.fill('#chat-input', `turn ${turn}: tell me more about tea`);
        await page.press('#chat-input', 'Enter');
        await expect(page.locator('#chat-log li.assistant').last()).toHaveAttribute(
          'data-state',
          'done',
          { timeout: 60_000 },
        );
      }
      await expect(page.locator('#chat-log li.error')).toHaveCount(0);
      await expect(page.locator('#chat-log li.note').first()).toContainText(
        "no longer fit the model's context",
      );
      if (width >= 960) {
        // Beside the tall workflow card the chat uses the height it has, its box in view.
        const r = await page.evaluate(() => {
          const box = (id: string) => document.getElementById(id)!.getBoundingClientRect();
          return {
            chat: box('chat-section').height,
            workflow: box('workflow-section').height,
            input: box('chat-input').bottom,
            view: window.innerHeight,
          };
        });
        expect(r.chat).toBeGreaterThan(0.9 * Math.min(r.view - 32, r.workflow));
        expect(r.input).toBeLessThanOrEqual(r.view);
      }
      await fitsWidth(page);
    });

    test('the graph lights up each node as it runs, one at a time, round by round', async ({
      page,
    }) => {
      offline(page);
      await page.goto(`${ISOLATED}${DEMO}`);
      await loadModel(page);
      await page.selectOption('#example', { label: EXAMPLES.loop });
      const graph = page.locator('#graph');
      await expect(graph.locator('g[data-node]')).toHaveCount(4);
      // The loop back from count to draft is drawn as such.
      await expect(graph.locator('g.edge.back[data-from="count"][data-to="draft"]')).toHaveCount(1);
      await page.evaluate(() => {
        const box = document.getElementById('graph')!;
        const log: Array<{ node: string; status: string; active: string[] }> = [];
        // A node's status just before change `i` of a batch: the oldValue of its first change
        // after `i`, else its attribute now.
        const statusBefore = (el: Element, changes: MutationRecord[], i: number) =>
          changes.slice(i + 1).find((n) => n.target === el)?.oldValue ??
          el.getAttribute('data-status');
        (window as unknown as { graphLog: typeof log }).graphLog = log;
        // Each record's oldValue is the status before that change; the status after it is the
        // next record's oldValue for that node, or its attribute once the batch is done.
        new MutationObserver((records) => {
          const changes = records.filter((r) => r.attributeName === 'data-status');
          const now = new Map<Element, string>();
          changes.forEach((r, i) => {
            const g = r.target as Element;
            const next = changes.slice(i + 1).find((n) => n.target === g);
            const status = next ? next.oldValue! : g.getAttribute('data-status')!;
            now.set(g, status);
            const active = [...box.querySelectorAll('g[data-node]')]
              .filter((a) => (now.get(a) ?? statusBefore(a, changes, i)) === 'active')
              .map((a) => a.getAttribute('data-node')!);
            log.push({ node: g.getAttribute('data-node')!, status, active });
          });
        }).observe(box, {
          attributes: true,
          attributeOldValue: true,
          subtree: true,
          childList: true,
        });
      });
      await page.click('#run');
      await expect(page.locator('#final')).toHaveAttribute('data-state', 'done', {
        timeout: 60_000,
      });
      const log = await page.evaluate(
        () =>
          (
            window as unknown as {
              graphLog: Array<{ node: string; status: string; active: string[] }>;
            }
          ).graphLog,
      );
      // The highlight follows the run: draft, count, three rounds, never two nodes at once.
      expect(log.filter((e) => e.status === 'active').map((e) => e.node)).toEqual([
        'draft',
        'count',
        'draft',
        'count',
        'draft',
        'count',
      ]);
      for (const e of log) expect(e.active.length).toBeLessThanOrEqual(1);
      for (const e of log.filter((l) => l.status === 'active')) expect(e.active).toEqual([e.node]);
      // Each node is marked done after it ran, and the run reached the end.
      await expect(graph.locator('g[data-status="active"]')).toHaveCount(0);
      for (const node of ['__start__', 'draft', 'count', '__end__'])
        await expect(graph.locator(`g[data-node="${node}"]`)).toHaveAttribute(
          'data-status',
          'done',
        );
      await expect(graph.locator('g[data-node="draft"]')).toHaveAttribute('data-visits', '3');
      const final = JSON.parse((await page.textContent('#final')) ?? '{}') as { rounds: number };
      expect(final.rounds).toBe(3);
    });

    test('conditional and parallel workflows run on the model', async ({ page }) => {
      offline(page);
      await page.goto(`${ISOLATED}${DEMO}`);
      await loadModel(page);
      const routed = await run(page, EXAMPLES.routing, '{"message":"hi"}');
      expect(routed['length']).toBe(2);
      expect(typeof (routed['reply'] as { content: string }).content).toBe('string');
      // Only the branch taken ran.
      await expect(page.locator('#graph g[data-node="short_reply"]')).toHaveAttribute(
        'data-status',
        'done',
      );
      await expect(page.locator('#graph g[data-node="long_reply"]')).toHaveAttribute(
        'data-status',
        'idle',
      );
      const fanned = await run(page, EXAMPLES.parallel);
      const views = fanned['views'] as Record<string, { content: string }>;
      expect(Object.keys(views).sort()).toEqual(['cons', 'pros']);
      expect(fanned['summary']).toBe(`${views['pros']!.content} / ${views['cons']!.content}`);
    });

    test('a reload loads the model from IndexedDB with zero chunk requests; the cache lists it with its size', async ({
      page,
    }) => {
      await openWithEmptyCache(page);
      await loadModel(page);
      const total = await manifestBytes(
        page,
        '/apps/demo/dist/models/tiny-test-model/manifest.json',
      );
      await page.reload();
      const requests = offline(page);
      await loadModel(page);
      expect(requests.filter((u) => u.endsWith('.gguf'))).toEqual([]);
      await expect(page.locator('[data-field="source"]')).toHaveText(
        'this browser’s storage (no download)',
      );
      await expect(page.locator('#cache')).toHaveAttribute('data-bytes', String(total));
      const entry = page.locator('#cache li[data-model-id="tiny-test-model"]');
      await expect(entry).toHaveAttribute('data-version', '1');
      await expect(entry.locator('.facts')).toHaveText(
        `version 1 · ${(total / 1e6).toFixed(2)} MB · last used just now`,
      );
    });

    test('deleting one cached model keeps the other: it loads again with no download', async ({
      page,
    }) => {
      await openWithEmptyCache(page);
      await loadModel(page);
      const other = '/apps/demo/e2e/.fixtures/other/other-test-model/manifest.json';
      await loadModel(page, other);
      await expect(page.locator('#cache')).toHaveAttribute('data-models', '2');
      const items = page.locator('#cache li[data-model-id]');
      await expect(items).toHaveCount(2);
      await fitsWidth(page);
      await page
        .locator('#cache li[data-model-id="other-test-model"]')
        .getByRole('button', { name: 'Delete other-test-model from this browser' })
        .click();
      await expect(page.locator('#cache')).toHaveAttribute('data-models', '1');
      await expect(items).toHaveCount(1);
      await expect(items.first()).toHaveAttribute('data-model-id', 'tiny-test-model');
      const kept = await manifestBytes(
        page,
        '/apps/demo/dist/models/tiny-test-model/manifest.json',
      );
      await expect(page.locator('#cache')).toHaveAttribute('data-bytes', String(kept));
      // The kept model is whole (loads with no chunk request), the deleted one downloads again.
      await page.reload();
      const requests = offline(page);
      await loadModel(page);
      expect(requests.filter((u) => u.endsWith('.gguf'))).toEqual([]);
      await loadModel(page, other);
      expect(requests.filter((u) => u.endsWith('.gguf'))).toHaveLength(3);
      await expect(page.locator('[data-field="source"]')).toHaveText(
        'downloaded, checked and stored',
      );
    });

    test('bumping the manifest version re-downloads and drops the old chunks', async ({ page }) => {
      await openWithEmptyCache(page);
      await loadModel(page);
      const v2 = await manifestBytes(
        page,
        '/apps/demo/e2e/.fixtures/tiny-test-model/manifest.json',
      );
      const requests = offline(page);
      await loadModel(page, '/apps/demo/e2e/.fixtures/tiny-test-model/manifest.json');
      expect(requests.filter((u) => u.endsWith('.gguf'))).toHaveLength(3);
      await expect(page.locator('[data-field="model"]')).toContainText('version 2');
      await expect(page.locator('#cache')).toHaveAttribute('data-models', '1');
      await expect(page.locator('#cache')).toHaveAttribute('data-bytes', String(v2));
      await expect(page.locator('#cache li[data-model-id="tiny-test-model"]')).toHaveAttribute(
        'data-version',
        '2',
      );
    });

    test('without COOP/COEP the same workflow runs single-thread; with them, multi-thread', async ({
      page,
    }) => {
      offline(page);
      await page.goto(`${PLAIN}${DEMO}`);
      await expect(page.locator('[data-field="isolation"]')).toHaveText(/^No: /);
      await loadModel(page);
      await expect(page.locator('[data-field="model-threads"]')).toHaveText('1 thread');
      expect(
        ((await run(page, EXAMPLES.chat))['answer'] as { content: string }).content.length,
      ).toBeGreaterThan(0);
      await page.goto(`${ISOLATED}${DEMO}`);
      await expect(page.locator('[data-field="isolation"]')).toHaveText(/^Yes: /);
      await loadModel(page);
      await expect(page.locator('[data-field="model-threads"]')).toHaveText(
        /^2 threads, in parallel$/,
      );
      // The diagnostics are one collapsed panel, in plain words.
      await expect(page.locator('#diagnostics')).not.toHaveAttribute('open', '');
      await expect(page.locator('[data-field="memory"]')).toHaveText(/^up to \d+\.\d\d GB/);
    });

    test('a workflow error is shown in plain words with its YAML line', async ({ page }) => {
      await page.goto(`${ISOLATED}${DEMO}`);
      await loadModel(page);
      await open(page, 'yaml-box');
      await page.fill('#yaml', 'name: broken\nnodes:\n  - name: a\n    uses: llm.cal\n');
      await page.click('#run');
      await expect(page.locator('#error')).toHaveText(
        /^UNKNOWN_ACTION: line 4, column 11: node 'a': unknown action 'llm.cal' \(did you mean 'llm.call'\?\)/,
      );
      await expect(page.locator('#graph g[data-node="a"]')).toHaveCount(1);
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
        ((await run(page, EXAMPLES.chat))['answer'] as { content: string }).content.length,
      ).toBeGreaterThan(0);
    });

    test('profiles: in a CPU-only browser E4B and E2B fit the 16 GiB heap, a 26 GB model is refused before any byte', async ({
      page,
    }) => {
      const requests = offline(page);
      await page.goto(`${ISOLATED}${DEMO}`);
      await open(page, 'model-source');
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
      await expect(page.locator('#profile option[value="llama-13B-F16-shaped"]')).toHaveText(
        /too large for this browser$/,
      );
      await fitsWidth(page);
      await page.selectOption('#profile', 'llama-13B-F16-shaped');
      await page.click('#load');
      await expect(page.locator('#progress-text')).toHaveAttribute('data-state', 'error');
      const error = page.locator('#progress-text');
      await expect(error).toContainText('MODEL_TOO_LARGE');
      await expect(error).toContainText(
        'llama-13B-F16-shaped (26.03 GB) cannot run in this browser',
      );
      await expect(error).toContainText('the limit is 17.18 GB');
      expect(requests.filter((u) => u.includes('13B'))).toEqual([]);
      expect(requests.filter((u) => u.endsWith('.gguf'))).toEqual([]);
      await page.selectOption('#profile', 'gemma-3n-E2B-shaped');
      await loadModel(page);
      await expect(page.locator('[data-field="profile"]')).toHaveText('gemma-3n-E2B-shaped (cpu)');
      await expect(page.locator('[data-field="profile-reasons"]')).toHaveText(
        /^it needs about \d+\.\d+ (GB|MB) of the 17\.18 GB this browser can give it$/,
      );
      await expect(page.locator('[data-field="runs-on"]')).toHaveText(/^the processor, /);
      expect(requests.filter((u) => u.endsWith('.gguf'))).toHaveLength(3);
    });

    test('JSON extraction gives schema-valid JSON, and the tool agent shows its tool rounds', async ({
      page,
    }) => {
      offline(page);
      await page.goto(`${ISOLATED}${DEMO}`);
      await loadModel(page);
      const extracted = await run(page, EXAMPLES.json);
      const trip = (extracted['trip'] as { json: { city: string; days: number; mode: string } })
        .json;
      expect(typeof trip.city).toBe('string');
      expect(Number.isInteger(trip.days)).toBe(true);
      expect(['train', 'plane', 'car']).toContain(trip.mode);
      expect(extracted['summary']).toBe(`${trip.city} by ${trip.mode}`);
      // The random-weight model's free text never ends, so its answer after the tool round would
      // run into max_tokens: force one tool round, as an app can, and stop there.
      await page.selectOption('#example', { label: EXAMPLES.tools });
      await open(page, 'yaml-box');
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
      const agent = JSON.parse((await page.textContent('#final')) ?? '{}') as Record<
        string,
        unknown
      >;
      const answer = agent['answer'] as { tool_calls: unknown[]; rounds: number };
      expect(answer.rounds).toBe(1);
      expect(answer.tool_calls).toHaveLength(1);
      const calls = page.locator('#timeline li[data-type="tool_call"][data-node="agent"]');
      const results = page.locator('#timeline li[data-type="tool_result"][data-node="agent"]');
      await expect(calls).toHaveCount(answer.tool_calls.length);
      await expect(results).toHaveCount(answer.tool_calls.length);
      await expect(calls.first().locator('.what')).toHaveText(
        /^agent calls tool calc \{.*\} \(round 1\)$/,
      );
      await expect(results.first().locator('.what')).toHaveText(/^tool calc answers: /);
      await fitsWidth(page);
    });
  });
}
