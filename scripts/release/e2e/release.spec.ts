import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, type Page, test } from '@playwright/test';
import { ISOLATED_ORIGIN } from '../../../tools/e2e-origins.js';
import { serveRegistry } from '../local-registry.mjs';
import { integrityOf } from '../npm-tarballs.mjs';

// The release dry run (every step of the tag-triggered workflow, with a generated test model),
// then the extracted tarball with the model assets beside it, served with COOP/COEP: the demo
// and the example page must work from it with no request leaving its folder.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const version = (
  JSON.parse(readFileSync(`${root}packages/sdk/package.json`, 'utf8')) as { version: string }
).version;
const SITE = `/.tmp/release/site/tea-wasm-llm-${version}/`;

test.beforeAll(() => {
  test.setTimeout(180_000);
  execFileSync(process.execPath, [`${root}scripts/release/release.mjs`, 'dry-run'], {
    cwd: root,
    stdio: 'inherit',
  });
});

function requestsOf(page: Page): string[] {
  const urls: string[] = [];
  page.on('request', (r) => void urls.push(r.url()));
  return urls;
}

const outside = (urls: string[]) =>
  urls.filter((u) => !u.startsWith('blob:') && !u.startsWith(`${ISOLATED_ORIGIN}${SITE}`));

test('the extracted release demo loads the bundled test model and runs simple chat, offline', async ({
  page,
}) => {
  const urls = requestsOf(page);
  await page.goto(`${SITE}index.html`);
  await expect(page.locator('#profiles li[data-profile="tea-test-model"]')).toHaveAttribute(
    'data-fits',
    'true',
  );
  await page.click('#load');
  await expect(page.locator('#progress-text')).toHaveAttribute('data-state', 'ready', {
    timeout: 60_000,
  });
  await expect(page.locator('[data-field="profile"]')).toHaveText(/^tea-test-model \(cpu\)$/);
  await page.selectOption('#example', { label: 'Answer a question' });
  await page.click('#run');
  await expect(page.locator('#final')).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  const state = JSON.parse((await page.textContent('#final')) ?? '{}') as {
    answer?: { content: string };
  };
  expect(state.answer?.content.length).toBeGreaterThan(0);
  expect(urls.filter((u) => u.endsWith('.gguf'))).toHaveLength(4);
  expect(outside(urls)).toEqual([]);
});

test('the extracted example.html runs a workflow with the packages in lib/, offline', async ({
  page,
}) => {
  const urls = requestsOf(page);
  await page.goto(`${SITE}example.html`);
  await expect(page.locator('#status')).toHaveAttribute('data-state', /done|error/, {
    timeout: 60_000,
  });
  await expect(page.locator('#status')).toHaveText(/^Done: \d+ tokens$/);
  expect(urls.some((u) => u.includes('/lib/@the-edge-agent/sdk/dist/index.js'))).toBe(true);
  expect(outside(urls)).toEqual([]);
});

test('the release notes and sizes describe the artefacts of this run', () => {
  const notes = readFileSync(`${root}.tmp/release/RELEASE_NOTES.md`, 'utf8');
  const sizes = JSON.parse(readFileSync(`${root}.tmp/release/sizes.json`, 'utf8')) as {
    tarball: { file: string };
    packages: Record<string, unknown>;
  };
  expect(notes).toContain(`# tea-wasm-llm ${version}`);
  expect(notes).toContain('| Test model (random weights) |');
  expect(notes).toContain(sizes.tarball.file);
  expect(Object.keys(sizes.packages)).toHaveLength(5);
});

test("the tarball's lib/ is the published npm tarballs, byte for byte (by sha512)", () => {
  const manifest = JSON.parse(
    execFileSync(
      'tar',
      [
        'xzf',
        `${root}.tmp/release/assets/tea-wasm-llm-${version}.tar.gz`,
        '-O',
        `tea-wasm-llm-${version}/NPM-PACKAGES.json`,
      ],
      { encoding: 'utf8' },
    ),
  ) as Array<{ name: string; file: string; integrity: string }>;
  expect(manifest.map((p) => p.name)).toEqual(
    ['core-wasm', 'model-loader', 'model-cache', 'llm-bridge', 'sdk'].map(
      (p) => `@the-edge-agent/${p}`,
    ),
  );
  const notes = readFileSync(`${root}.tmp/release/RELEASE_NOTES.md`, 'utf8');
  for (const p of manifest) {
    // What `pnpm pack` made (what `changeset publish` uploads) is what lib/ was made from.
    expect(p.integrity).toBe(integrityOf(readFileSync(`${root}.tmp/release/packed/${p.file}`)));
    expect(notes).toContain(`| ${p.name}@${version} | ${p.file} | \`${p.integrity}\` |`);
  }
});

test('assemble refuses a tarball whose bytes differ from the registry integrity, and an unpublished package', async () => {
  const assemble = (registry: string, out: string) =>
    new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [`${root}scripts/release/release.mjs`, 'assemble', '--registry', registry, '--out', out],
        { cwd: root, encoding: 'utf8' },
        (error, _stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stderr }),
      ),
    );
  const dir = `${root}.tmp/registry-tampered`;
  rmSync(dir, { recursive: true, force: true });
  cpSync(`${root}.tmp/release/registry`, dir, { recursive: true });
  // One byte more than what was published: the registry's integrity no longer matches.
  appendFileSync(`${dir}/tarballs/the-edge-agent-llm-bridge-${version}.tgz`, Buffer.from([0]));
  let registry = await serveRegistry(dir);
  try {
    const tampered = await assemble(registry.url, `${root}.tmp/release-tampered`);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toMatch(
      new RegExp(
        `@the-edge-agent/llm-bridge@${version.replaceAll('.', '\\.')}: the downloaded tarball's integrity sha512-\\S+ is not the registry's sha512-`,
      ),
    );
  } finally {
    await registry.close();
  }
  rmSync(`${dir}/@the-edge-agent%2fmodel-cache.json`);
  registry = await serveRegistry(dir);
  try {
    const unpublished = await assemble(registry.url, `${root}.tmp/release-tampered`);
    expect(unpublished.code).toBe(1);
    expect(unpublished.stderr).toContain(
      `@the-edge-agent/model-cache@${version} is not published on ${registry.url}: publish to npm first`,
    );
  } finally {
    await registry.close();
  }
});

test('a tag must match the packages, and an unpinned model profile is refused before any download', () => {
  const cli = (...args: string[]) => {
    try {
      execFileSync(process.execPath, [`${root}scripts/release/release.mjs`, ...args], {
        cwd: root,
        encoding: 'utf8',
        stdio: 'pipe',
      });
      return { code: 0, stderr: '' };
    } catch (e) {
      const err = e as { status: number; stderr: string };
      return { code: err.status, stderr: err.stderr };
    }
  };
  expect(cli('check-tag', `v${version}`).code).toBe(0);
  const wrong = cli('check-tag', 'v99.0.0');
  expect(wrong.code).toBe(1);
  expect(wrong.stderr).toContain(`does not match the packages' version v${version}`);
  // The real profiles with their pins removed: the release stops before downloading anything.
  const real = JSON.parse(readFileSync(`${root}scripts/release/models.config.json`, 'utf8')) as {
    profiles: Array<{ sha256: string | null }>;
  };
  mkdirSync(`${root}.tmp`, { recursive: true });
  const config = `${root}.tmp/models.unpinned.json`;
  writeFileSync(
    config,
    JSON.stringify({ ...real, profiles: real.profiles.map((p) => ({ ...p, sha256: null })) }),
  );
  const unpinned = cli('models', '--config', config, '--out', `${root}.tmp/release-unpinned`);
  expect(unpinned.code).toBe(1);
  expect(unpinned.stderr).toContain('profile gemma-3n-E4B-it-Q4_K_M: no pinned sha256');
});

test("the README's size table matches this run's artefacts within 10 %", () => {
  const bytes = (text: string) => {
    const [, n, unit] = /([\d.]+) (KiB|MiB|GB)/.exec(text) ?? [];
    return Number(n) * ({ KiB: 1024, MiB: 2 ** 20, GB: 1e9 }[unit as 'KiB'] ?? NaN);
  };
  const rows = (text: string) =>
    new Map(
      text
        .split('\n')
        .filter((l) => /^\| .* \| [\d.]+ (KiB|MiB|GB) +\|$/.test(l))
        .map((l) => {
          const [, name, size] = l.split('|').map((c) => c.trim());
          return [name!, bytes(size!)] as const;
        }),
    );
  const measured = rows(
    execFileSync(process.execPath, [`${root}scripts/release/release.mjs`, 'size-table'], {
      cwd: root,
      encoding: 'utf8',
    }),
  );
  // The rows of the real profiles are computed from the pins (size-plan.spec.ts checks them).
  const readme = rows(
    readFileSync(`${root}README.md`, 'utf8').replace(
      /<!-- size-table:pins -->[\s\S]*<!-- \/size-table:pins -->/,
      '',
    ),
  );
  expect([...readme.keys()].sort()).toEqual([...measured.keys()].sort());
  for (const [name, size] of measured) {
    const written = readme.get(name)!;
    expect(
      Math.abs(written - size) / size,
      `${name}: README ${written}, measured ${size}`,
    ).toBeLessThan(0.1);
  }
});
