import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { parse } from 'yaml';

// The release steps that need no browser, as the workflow runs them: commands that need no build
// in a fresh unbuilt clone, the pins check, the changesets config, and the GitHub upload against
// a recording `gh` stub (draft -> upload -> verify -> publish; a failed upload resumed).
const root = fileURLToPath(new URL('../../../', import.meta.url));
const release = (args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) =>
  spawnSync(process.execPath, [join(options.cwd ?? root, 'scripts/release/release.mjs'), ...args], {
    cwd: options.cwd ?? root,
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
  });
const version = () =>
  (JSON.parse(readFileSync(join(root, 'packages/sdk/package.json'), 'utf8')) as { version: string })
    .version;

let clone = '';
test.beforeAll(() => {
  // What the workflow has before `setup`: the committed files only (no node_modules, no dist).
  clone = mkdtempSync(join(tmpdir(), 'tea-release-clone-'));
  execFileSync('git', ['clone', '-q', root, clone]);
  // The working tree's release scripts and config (a clone has the last commit).
  cpSync(join(root, 'scripts/release'), join(clone, 'scripts/release'), { recursive: true });
});
test.afterAll(() => rmSync(clone, { recursive: true, force: true }));

test('check-tag runs in a fresh unbuilt clone', () => {
  const ok = release(['check-tag', `v${version()}`], { cwd: clone });
  expect(ok.stderr).toBe('');
  expect(ok.status).toBe(0);
  const wrong = release(['check-tag', 'v9.9.9'], { cwd: clone });
  expect(wrong.status).toBe(1);
  expect(wrong.stderr).toContain('does not match');
});

test('the pins check fails in seconds on a null pin or a branch, naming the command that computes it', () => {
  const t = Date.now();
  const r = release(['check-pins'], { cwd: clone });
  expect(Date.now() - t).toBeLessThan(5_000);
  const config = JSON.parse(
    readFileSync(join(root, 'scripts/release/models.config.json'), 'utf8'),
  ) as {
    profiles: { sha256: string | null; url: string }[];
  };
  const pinned = config.profiles.every(
    (p) => /^[0-9a-f]{64}$/.test(p.sha256 ?? '') && !p.url.includes('/resolve/main/'),
  );
  if (pinned) expect(r.status).toBe(0);
  else {
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/sha256sum|jq -r \.sha/);
  }
  const dir = mkdtempSync(join(tmpdir(), 'tea-pins-'));
  try {
    const good = {
      profiles: [
        {
          id: 'm',
          url: `https://huggingface.co/o/r/resolve/${'a'.repeat(40)}/m.gguf`,
          sha256: 'b'.repeat(64),
        },
      ],
    };
    writeFileSync(join(dir, 'good.json'), JSON.stringify(good));
    expect(release(['check-pins', '--config', join(dir, 'good.json')], { cwd: clone }).status).toBe(
      0,
    );
    const branch = {
      profiles: [{ ...good.profiles[0], url: 'https://huggingface.co/o/r/resolve/main/m.gguf' }],
    };
    writeFileSync(join(dir, 'branch.json'), JSON.stringify(branch));
    const b = release(['check-pins', '--config', join(dir, 'branch.json')], { cwd: clone });
    expect(b.status).toBe(1);
    expect(b.stderr).toContain('moving branch');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a changeset for one package versions all five published packages together, and no private one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tea-changeset-'));
  try {
    execFileSync('git', ['clone', '-q', root, dir]);
    cpSync(join(root, '.changeset/config.json'), join(dir, '.changeset/config.json'));
    cpSync(
      join(root, 'packages/model-loader/package.json'),
      join(dir, 'packages/model-loader/package.json'),
    );
    execFileSync('bash', ['-c', 'rm -f .changeset/*-*.md'], { cwd: dir });
    writeFileSync(
      join(dir, '.changeset/one.md'),
      "---\n'@the-edge-agent/core-wasm': minor\n---\n\nA change.\n",
    );
    execFileSync(join(root, 'node_modules/.bin/changeset'), ['version'], {
      cwd: dir,
      stdio: 'ignore',
    });
    const v = (p: string) =>
      (
        JSON.parse(readFileSync(join(dir, 'packages', p, 'package.json'), 'utf8')) as {
          version: string;
        }
      ).version;
    const published = ['core-wasm', 'llm-bridge', 'model-cache', 'model-loader', 'sdk'].map(v);
    expect(new Set(published).size).toBe(1);
    expect(published[0]).not.toBe(version());
    expect(v('test-fixtures')).toBe('0.0.0');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the GitHub release: draft, upload, verify, publish; a failed upload resumes without deleting anything', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tea-publish-'));
  try {
    const out = join(dir, 'release');
    mkdirSync(join(out, 'assets'), { recursive: true });
    const files = {
      'tea-wasm-llm.tar.gz': 'tarball',
      'model-00001-of-00002.gguf': 'one',
      'model-00002-of-00002.gguf': 'two',
    };
    for (const [name, text] of Object.entries(files))
      writeFileSync(join(out, 'assets', name), text);
    execFileSync(
      process.execPath,
      [join(root, 'scripts/release/release.mjs'), 'checksums', '--out', out],
      { stdio: 'ignore' },
    );
    writeFileSync(join(out, 'RELEASE_NOTES.md'), 'notes');
    const state = join(dir, 'gh.json');
    writeFileSync(
      state,
      JSON.stringify({
        release: null,
        calls: [],
        failUploads: [
          'model-00002-of-00002.gguf',
          'model-00002-of-00002.gguf',
          'model-00002-of-00002.gguf',
        ],
      }),
    );
    const env = {
      GH: join(root, 'scripts/release/e2e/gh-stub.mjs'),
      GH_STUB_STATE: state,
      RELEASE_RETRY_MS: '1',
    };
    const read = () =>
      JSON.parse(readFileSync(state, 'utf8')) as {
        release: { isDraft: boolean; assets: { name: string }[] };
        calls: string[];
      };

    // Run 1: one asset's upload keeps failing: the run fails, and the release stays a draft.
    const first = release(['publish', 'v0.2.0', '--out', out], { env });
    expect(first.status).toBe(1);
    expect(first.stderr).toContain('upload of model-00002-of-00002.gguf failed 3 times');
    let s = read();
    expect(s.release.isDraft).toBe(true);
    expect(s.calls[1]).toMatch(/^release create v0\.2\.0 --draft/);
    const before = s.release.assets.map((a) => a.name);
    expect(before).toEqual(['SHA256SUMS', 'model-00001-of-00002.gguf']);

    // Run 2 resumes the draft: uploads only what is missing, verifies, publishes.
    const second = release(['publish', 'v0.2.0', '--out', out], { env });
    expect(second.stderr).toBe('');
    expect(second.status).toBe(0);
    s = read();
    expect(s.release.isDraft).toBe(false);
    const run2 = s.calls;
    expect(run2.filter((c) => c.startsWith('release delete-asset'))).toEqual([]);
    expect(run2.filter((c) => c.includes('--clobber'))).toEqual([]);
    expect(run2.filter((c) => c.startsWith('release create'))).toHaveLength(1);
    const uploads = run2
      .filter((c) => c.startsWith('release upload'))
      .map((c) => c.split('/').pop());
    // tarball and SHA256SUMS and shard 1 once; shard 2 failed three times, then once more.
    expect(uploads.filter((u) => u === 'tea-wasm-llm.tar.gz')).toHaveLength(1);
    expect(uploads.filter((u) => u === 'model-00002-of-00002.gguf')).toHaveLength(4);
    const order = ['release download', 'release edit v0.2.0 --draft=false'].map((p) =>
      run2.findIndex((c) => c.startsWith(p)),
    );
    expect(order[0]).toBeGreaterThan(run2.findLastIndex((c) => c.startsWith('release upload')));
    expect(order[1]).toBeGreaterThan(order[0]!);
    // Run 3: nothing left to do.
    expect(release(['publish', 'v0.2.0', '--out', out], { env }).status).toBe(0);
    // A manual run on a branch name is refused.
    expect(release(['publish', 'main', '--out', out], { env }).stderr).toContain(
      'needs a version tag',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the pin workflow pins at its revision input and opens a pull request; the release job checks the pins before building', () => {
  const load = (f: string) =>
    parse(readFileSync(join(root, '.github/workflows', f), 'utf8')) as {
      on: { workflow_dispatch: { inputs: Record<string, { default?: string }> } };
      permissions: Record<string, string>;
      jobs: Record<
        string,
        { permissions?: Record<string, string>; steps: { run?: string; uses?: string }[] }
      >;
    };
  const pin = load('pin-models.yml');
  expect(Object.keys(pin.on)).toEqual(['workflow_dispatch']);
  expect(pin.on.workflow_dispatch.inputs['revision']?.default).toBe('main');
  expect(pin.permissions).toEqual({ contents: 'read' });
  expect(pin.jobs['pin']!.permissions).toEqual({ contents: 'write', 'pull-requests': 'write' });
  const runs = pin.jobs['pin']!.steps.map((s) => s.run ?? '').join('\n');
  expect(runs).toContain('node scripts/release/release.mjs pin --revision "$REVISION"');
  expect(runs).toContain('gh pr create');
  expect(runs.indexOf('release.mjs check-pins')).toBeGreaterThan(runs.indexOf('release.mjs pin'));

  const steps = load('release.yml').jobs['github-release']!.steps.map((s) => s.run ?? s.uses ?? '');
  const at = (text: string) => steps.findIndex((s) => s.includes(text));
  expect(at('release.mjs check-pins')).toBeGreaterThan(-1);
  for (const later of ['scripts/setup.sh', 'nx run-many -t build', 'release.mjs models'])
    expect(at('release.mjs check-pins')).toBeLessThan(at(later));
});
