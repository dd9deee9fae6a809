import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, type Page, test } from '@playwright/test';
import {
  freePort,
  packTarballs,
  recordRequests,
  runShellBlock,
  sectionBlocks,
  sh,
  startServer,
  watchText,
} from './fresh-app.js';

// The new user's path, from the packed npm packages (pnpm pack: what npm publish uploads) and
// the sdk README's own text, read at test time: a README edit that breaks the quick start fails
// here. Each project is made in a new temporary folder with npm from the registry (vite,
// typescript and the packages' dependencies) plus the five tarballs; nothing is kept between runs.
//   1. The quick start: its shell commands run as written (the GGUF they pack is a tiny
//      random-weight model), its vite.config.ts, index.html and src/main.ts written verbatim;
//      compiled under tsc --strict, built by `vite build` and served by `vite preview`, and served
//      by the Vite dev server (the latest Vite, then Vite 7, whose dev server pre-bundles
//      dependencies): tokens stream into the page and the workflow finishes.
//   2. The plain-HTML page as the sdk tarball ships it, beside a fresh node_modules, served with
//      the COOP/COEP headers by a static server.

const here = dirname(fileURLToPath(import.meta.url));
const readme = readFileSync(join(here, '../README.md'), 'utf8');
const QUICK_START = '## Quick start: Vite + TypeScript';
const PLAIN_HTML = '### A plain HTML page (no bundler)';

let root = '';
let tarballs: string[] = [];
const app = () => join(root, 'vite-app');

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  test.setTimeout(240_000);
  root = mkdtempSync(join(tmpdir(), 'tea-fresh-app-'));
  mkdirSync(join(root, 'tgz'));
  tarballs = packTarballs(join(here, '../..'), join(root, 'tgz'));
  mkdirSync(app());
  const [commands] = sectionBlocks(readme, QUICK_START, 'sh');
  expect(commands, 'the quick start has its shell commands').toBeDefined();
  await runShellBlock(commands!, app(), tarballs);
  // The files the quick start names, each from its block.
  const ts = sectionBlocks(readme, QUICK_START, 'ts');
  const config = ts.find((code) => code.startsWith('// vite.config.ts\n'));
  const main = ts.find((code) => code.startsWith('import '));
  const [html] = sectionBlocks(readme, QUICK_START, 'html');
  expect(config && main && html, 'vite.config.ts, index.html and src/main.ts').toBeTruthy();
  expect(html).toContain('src="/src/main.ts"');
  writeFileSync(join(app(), 'vite.config.ts'), config!);
  writeFileSync(join(app(), 'index.html'), html!);
  mkdirSync(join(app(), 'src'));
  writeFileSync(join(app(), 'src/main.ts'), main!);
});
test.afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Opens the quick start and waits for its streamed output and its final console.log. */
async function expectQuickStartStreams(page: Page, origin: string) {
  const problems: string[] = [];
  const logs: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => void logs.push(m.text()));
  const growth = await watchText(page, '#output');
  const requests = recordRequests(page, origin);
  // The quick start's top-level await holds the load event: do not wait for it.
  await page.goto(`${origin}/`, { waitUntil: 'commit' });
  const output = page.locator('#output');
  // The workflow finished: main.ts logs state.chat.content after the run.
  await expect
    .poll(
      async () => {
        if (problems.length) throw new Error(problems.join('; '));
        const text = (await output.textContent()) ?? '';
        return text !== '' && logs.includes(text);
      },
      { timeout: 60_000 },
    )
    .toBe(true)
    .catch((e: Error) => {
      throw new Error(`the quick start did not finish: ${e.message}\nconsole: ${logs.join(' | ')}`);
    });
  // Tokens arrived one after another, not as one reply at the end.
  expect((await growth()).length).toBeGreaterThanOrEqual(3);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  expect(requests.urls.filter((u) => u.endsWith('.gguf')).length).toBeGreaterThan(0);
  expect(requests.foreign()).toEqual([]);
}

test('the quick start compiles under tsc --strict against the packed packages', () => {
  // src/main.ts and the README's other complete examples (those starting with `import`).
  const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((m) => m[1]!)
    .filter((code) => code.startsWith('import '));
  mkdirSync(join(app(), 'examples'), { recursive: true });
  const files = examples.map((code, i) => {
    writeFileSync(join(app(), `examples/example-${i}.ts`), code);
    return `examples/example-${i}.ts`;
  });
  const flags = '--noEmit --strict --target es2022 --module esnext --moduleResolution bundler';
  sh(
    `npx tsc ${flags} --lib es2022,dom,dom.iterable,dom.asynciterable src/main.ts ${files.join(' ')}`,
    app(),
  );
  // The config runs in Node: checked without Node's types, as Vite's own templates do.
  sh(`npx tsc ${flags} --skipLibCheck vite.config.ts`, app());
  rmSync(join(app(), 'examples'), { recursive: true });
});

test('the quick start built with vite build streams tokens under vite preview', async ({
  page,
}) => {
  test.setTimeout(120_000);
  expect(readme).toContain('`npx vite build`');
  expect(readme).toContain('`npx vite preview`');
  sh('npx vite build', app());
  await expectViteStreams(page, ['preview']);
});

/**
 * Serves the quick start with `npx vite [subcommand]` (the dev server, or `preview` of a build)
 * and expects it to stream.
 */
async function expectViteStreams(page: Page, subcommand: string[] = []) {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const server = await startServer(
    ['npx', 'vite', ...subcommand, '--host', '127.0.0.1', '--port', String(port), '--strictPort'],
    app(),
    `${origin}/`,
  );
  try {
    await expectQuickStartStreams(page, origin);
  } finally {
    server.stop();
  }
}

test('the quick start streams tokens under the Vite dev server', async ({ page }) => {
  test.setTimeout(120_000);
  expect(readme).toContain('`npx vite` serves the app');
  await expectViteStreams(page);
});

test('the quick start streams tokens under the dev server of Vite 7 (an existing app)', async ({
  page,
}) => {
  // Vite 7 and earlier pre-bundle dependencies in the dev server, which moves modules away from
  // the .wasm files they load by relative URL: the README's optimizeDeps.exclude is what works.
  test.setTimeout(180_000);
  sh('npm install -D vite@7', app());
  expect(sh('npx vite --version', app())).toMatch(/^vite\/7\./);
  await expectViteStreams(page);
});

test('the plain-HTML page from the sdk tarball streams tokens beside a fresh node_modules', async ({
  page,
}) => {
  test.setTimeout(180_000);
  const site = join(root, 'plain-html');
  mkdirSync(site);
  const [commands] = sectionBlocks(readme, PLAIN_HTML, 'sh');
  expect(commands, 'the plain-HTML section has its shell commands').toBeDefined();
  await runShellBlock(commands!, site, tarballs);
  // The page the user now has is the one the README shows.
  const page_ = readFileSync(join(site, 'index.html'), 'utf8');
  expect(page_).toBe(sectionBlocks(readme, PLAIN_HTML, 'html')[0]);
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const serveStatic = join(here, '../../../tools/serve-static.mjs');
  const server = await startServer(
    ['node', serveStatic, '--root', site, '--port', String(port)],
    site,
    `${origin}/`,
  );
  try {
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    const growth = await watchText(page, '#answer');
    const requests = recordRequests(page, origin);
    await page.goto(`${origin}/`);
    const status = page.locator('#status');
    await expect(status).toHaveAttribute('data-state', /done|error/, { timeout: 60_000 });
    expect(problems).toEqual([]);
    await expect(status).toHaveText(/^Done: \d+ tokens$/);
    await expect(page.locator('#answer')).not.toBeEmpty();
    expect((await growth()).length).toBeGreaterThanOrEqual(3);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(requests.foreign()).toEqual([]);
  } finally {
    server.stop();
  }
});
