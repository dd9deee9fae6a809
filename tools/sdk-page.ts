import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';

/** A package's folder as the test server serves it (from the repository root). */
function served(from: string, name: string): string {
  return `/${relative(root, packageRoot(from, name))}`;
}

/** The folder of package `name` as Node resolves it from `from` (exports maps included). */
export function packageRoot(from: string, name: string): string {
  let dir = dirname(realpathSync(createRequire(join(from, 'package.json')).resolve(name)));
  while (
    !existsSync(join(dir, 'package.json')) ||
    !readFileSync(join(dir, 'package.json'), 'utf8').includes(`"name": "${name}"`)
  )
    dir = dirname(dir);
  return dir;
}

const root = fileURLToPath(new URL('../', import.meta.url));
const gguf = served(join(root, 'packages/model-loader'), '@huggingface/gguf');
const tasks = served(join(root, gguf), '@huggingface/tasks');

/**
 * A test page that loads the built sdk and its layers through an import map, as the plain-HTML
 * example does (paths from the served repository root), then runs `script` as a module.
 */
export function sdkPage(script: string): string {
  return `<!doctype html><script type="importmap">{"imports":{
      "@huggingface/gguf":"${gguf}/dist/browser/index.mjs",
      "@huggingface/tasks":"${tasks}/dist/esm/index.js",
      "@the-edge-agent/sdk":"/packages/sdk/dist/index.js",
      "@the-edge-agent/core-wasm":"/packages/core-wasm/dist/index.js",
      "@the-edge-agent/model-loader":"/packages/model-loader/dist/index.js",
      "@the-edge-agent/model-cache":"/packages/model-cache/dist/index.js",
      "@the-edge-agent/llm-bridge":"/packages/llm-bridge/dist/index.js",
      "idb":"/packages/model-cache/node_modules/idb/build/index.js",
      "hash-wasm":"/packages/model-loader/node_modules/hash-wasm/dist/index.esm.js"}}</script>
    <script type="module">${script}</script>`;
}

/**
 * Opens a test page made with `sdkPage` and waits for its script to set `window.ready`; if it
 * does not, fails with the page's own errors (a module that did not load, a syntax error).
 */
export async function openReadyPage(page: Page, url: string, timeout = 20_000): Promise<void> {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => void (m.type() === 'error' && problems.push(m.text())));
  await page.goto(url);
  await page
    .waitForFunction(() => (window as { ready?: boolean }).ready === true, undefined, { timeout })
    .catch((e: Error) => {
      throw new Error(`the test page did not start: ${problems.join('; ') || e.message}`);
    });
}
