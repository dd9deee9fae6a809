import { type ChildProcess, execFileSync, execSync, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { expect, type Page } from '@playwright/test';
import { writeTinyLlama } from '@the-edge-agent/test-fixtures';

// Helpers for fresh-app.spec.ts: a new user's project, made from the packed npm packages and the
// sdk README's own text.

const PACKAGES = ['core-wasm', 'model-loader', 'model-cache', 'llm-bridge', 'sdk'];

/** The code blocks of one language in the README section under `heading` (up to the next `## `). */
export function sectionBlocks(readme: string, heading: string, lang: string): string[] {
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`the sdk README has no "${heading}" section`);
  const end = readme.indexOf('\n## ', start + heading.length + 2);
  const text = readme.slice(start, end < 0 ? undefined : end);
  return [...text.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
}

/** Packs every published package with `pnpm pack` (what npm publish uploads) into `dir`. */
export function packTarballs(packagesDir: string, dir: string): string[] {
  for (const name of PACKAGES)
    execFileSync('pnpm', ['pack', '--pack-destination', dir], {
      cwd: join(packagesDir, name),
      stdio: 'pipe',
    });
  const files = readdirSync(dir).filter((f) => f.endsWith('.tgz'));
  expect(files).toHaveLength(PACKAGES.length);
  return files.map((f) => join(dir, f));
}

/** npm settings a machine's environment may need for the registry (a mirror, a proxy, a CA). */
const KEEP =
  /^npm_config_(registry|https?_proxy|proxy|noproxy|cafile|ca|strict_ssl|cache|userconfig)$/i;

/**
 * The environment of a user's shell: none of the npm/pnpm settings of the test runner's own
 * package manager (but how to reach the registry), no Node options of the test runner; no audit
 * or funding requests.
 */
export function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (KEEP.test(key) || !/^(npm_|pnpm|NODE_OPTIONS$|INIT_CWD$)/i.test(key)) env[key] = value;
  return { ...env, npm_config_audit: 'false', npm_config_fund: 'false' };
}

/** Runs one shell command in `cwd` as the user would type it; fails with its output. */
export function sh(command: string, cwd: string, timeout = 180_000): string {
  try {
    return execSync(command, {
      cwd,
      env: userEnv(),
      encoding: 'utf8',
      shell: '/bin/bash',
      stdio: 'pipe',
      timeout,
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `\`${command}\` failed in ${cwd}:\n${e.stdout ?? ''}\n${e.stderr ?? e.message}`,
      { cause: error },
    );
  }
}

/**
 * Runs a README shell block line by line in `cwd`, as a user would: `npm install
 * @the-edge-agent/sdk` installs the packed tarballs instead (all five, since they are not on the
 * registry), and the GGUF a `tea-model pack` line names is the developer's model: a tiny
 * random-weight llama written there first.
 */
export async function runShellBlock(block: string, cwd: string, tarballs: string[]) {
  const lines = block
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  expect(lines, 'the block installs the sdk').toContain('npm install @the-edge-agent/sdk');
  for (const line of lines) {
    const gguf = /\btea-model pack (\S+\.gguf)\b/.exec(line)?.[1];
    if (gguf) await writeTinyLlama(join(cwd, gguf), { seed: 1, name: 'tiny random-weight test' });
    sh(
      line.replace(/^npm install @the-edge-agent\/sdk$/, `npm install ${tarballs.join(' ')}`),
      cwd,
    );
  }
}

/** A port nothing listens on now (the servers below are told to fail rather than move). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts a server command in its own process group and waits until `url` answers 200. */
export async function startServer(command: string[], cwd: string, url: string) {
  const child: ChildProcess = spawn(command[0]!, command.slice(1), {
    cwd,
    env: userEnv(),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d) => (log += String(d)));
  child.stderr!.on('data', (d) => (log += String(d)));
  const stop = () => {
    if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGTERM');
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${command.join(' ')} exited:\n${log}`);
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { stop };
    if (Date.now() > deadline) {
      stop();
      throw new Error(`${command.join(' ')} did not answer ${url} in 30 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Records, in the page, each time the text of `selector` grows (one entry per task that appended
 * to it): streamed tokens arrive over many tasks, a reply written at the end in one.
 */
export async function watchText(page: Page, selector: string) {
  await page.addInitScript((sel) => {
    const w = window as unknown as { textGrowth: number[] };
    w.textGrowth = [];
    new MutationObserver(() => {
      const length = document.querySelector(sel)?.textContent?.length ?? 0;
      if (length > (w.textGrowth.at(-1) ?? 0)) w.textGrowth.push(length);
    }).observe(document, { subtree: true, childList: true, characterData: true });
  }, selector);
  return () => page.evaluate(() => (window as unknown as { textGrowth: number[] }).textGrowth);
}

/** Every request the page makes; `foreign()` lists those not on `origin` (blob: and data: aside). */
export function recordRequests(page: Page, origin: string) {
  const urls: string[] = [];
  page.on('request', (r) => void urls.push(r.url()));
  return {
    urls,
    foreign: () => urls.filter((u) => !/^(blob|data):/.test(u) && !u.startsWith(`${origin}/`)),
  };
}
