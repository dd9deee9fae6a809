import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { startFakeHub } from './fake-hub.mjs';

// `release.mjs pin` against a fake Hub that answers like huggingface.co: the commit of a branch,
// the LFS SHA-256 and size from paths-info, a renamed repository's redirect, a rate limit with
// Retry-After; and each refusal (gated, missing repository, revision or file, a non-LFS file, a
// size over the release's limits, a rate limit that does not end) with nothing written.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const C = (n: number) => n.toString(16).padStart(2, '0').repeat(20);
const S = (n: number) => n.toString(16).padStart(2, '0').repeat(32);
const GB = 1e9;

interface Profile {
  id: string;
  url: string;
  sha256?: string | null;
  bytes?: number;
  revision?: string;
}

type Repo = Parameters<typeof startFakeHub>[0][string];

function hubRepos(): Record<string, Repo> {
  return {
    'org/big-GGUF': {
      refs: { main: C(1), v2: C(2) },
      files: {
        'big-Q4_K_M.gguf': { size: 4_539_054_528, lfs: { oid: S(1), size: 4_539_054_528 } },
      },
    },
    // Renamed: the old name redirects (307) to the new one.
    'old/small-GGUF': { renamedTo: 'org/small-GGUF', refs: {}, files: {} },
    'org/small-GGUF': {
      refs: { main: C(3) },
      files: {
        'small-Q4_K_M.gguf': { size: 3_031_000_000, lfs: { oid: S(3), size: 3_031_000_000 } },
        'README.md': { size: 1234 },
        models: { type: 'directory', size: 0 },
      },
      rateLimit: 1,
    },
    'org/gated-GGUF': {
      gated: 'manual',
      token: 'hf_secret',
      refs: { main: C(4) },
      files: { 'm.gguf': { size: 10, lfs: { oid: S(4), size: 10 } } },
    },
    'org/huge-GGUF': {
      refs: { main: C(5) },
      files: { 'huge.gguf': { size: 9 * GB, lfs: { oid: S(5), size: 9 * GB } } },
    },
    'org/busy-GGUF': {
      refs: { main: C(6) },
      files: { 'm.gguf': { size: 10, lfs: { oid: S(6), size: 10 } } },
      rateLimit: 1000,
    },
  };
}

const hf = (repo: string, file: string, rev = 'main') =>
  `https://huggingface.co/${repo}/resolve/${rev}/${file}`;
const BIG = { id: 'big', version: '1', url: hf('org/big-GGUF', 'big-Q4_K_M.gguf'), sha256: null };
const SMALL = {
  id: 'small',
  version: '1',
  url: hf('old/small-GGUF', 'small-Q4_K_M.gguf'),
  sha256: null,
};

let dir = '';
let hub: Awaited<ReturnType<typeof startFakeHub>>;
let repos: Record<string, Repo>;
test.beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tea-pin-'));
  repos = hubRepos();
  hub = await startFakeHub(repos);
});
test.afterEach(async () => {
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

const requests = () =>
  hub.requests as { method: string; path: string; authorization: string | null }[];

const README = `# x\n\n<!-- size-table:pins -->\n\n| old |\n\n<!-- /size-table:pins -->\n\nend\n`;

function writeConfig(profiles: Profile[], extra: object = {}) {
  const config = join(dir, 'models.config.json');
  writeFileSync(
    config,
    `${JSON.stringify({ maxChunkSize: '512M', limits: { diskBytes: 15 * GB }, ...extra, profiles }, null, 2)}\n`,
  );
  writeFileSync(join(dir, 'README.md'), README);
  return config;
}

/** Runs the command (asynchronously: the fake Hub answers from this process). */
function release(args: string[], env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(
      process.execPath,
      [join(root, 'scripts/release/release.mjs'), ...args],
      {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, HF_TOKEN: '', HF_ENDPOINT: hub.url, ...env },
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    ),
  );
}
const pin = (config: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) =>
  release(['pin', '--config', config, '--readme', join(dir, 'README.md'), ...args], env);
const read = (config: string) =>
  JSON.parse(readFileSync(config, 'utf8')) as { profiles: Profile[] };

test('pin writes the exact commit, SHA-256 and size of each file, following a rename and a rate limit', async () => {
  const config = writeConfig([BIG, SMALL]);
  const r = await pin(config);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const [big, small] = read(config).profiles;
  expect(big).toEqual({
    ...BIG,
    url: `https://huggingface.co/org/big-GGUF/resolve/${C(1)}/big-Q4_K_M.gguf`,
    sha256: S(1),
    bytes: 4_539_054_528,
  });
  expect(small).toEqual({
    ...SMALL,
    url: `https://huggingface.co/org/small-GGUF/resolve/${C(3)}/small-Q4_K_M.gguf`,
    sha256: S(3),
    bytes: 3_031_000_000,
  });
  // The diff of what changed, the rename, the retry after the 429's Retry-After.
  expect(r.stdout).toContain(`  - sha256: null\n  + sha256: "${S(1)}"`);
  expect(r.stdout).toContain(
    `  + url: "https://huggingface.co/org/big-GGUF/resolve/${C(1)}/big-Q4_K_M.gguf"`,
  );
  expect(r.stdout).toContain('old/small-GGUF was renamed org/small-GGUF');
  expect(r.stdout).toMatch(/HTTP 429, retrying in 1\.0 s/);
  expect(requests().filter((q) => q.path.includes('paths-info'))).toHaveLength(2);
  expect(requests().every((q) => q.authorization === null)).toBe(true);
  // The README's table of pinned sizes, computed from the pins.
  const readme = readFileSync(join(dir, 'README.md'), 'utf8');
  expect(readme).toMatch(/\| big +\| 4\.54 GB +\| at least 9 +\|/);
  expect(readme).toMatch(/\| small +\| 3\.03 GB +\| at least 6 +\|/);
  expect(readme).toContain('end\n');
  // The result passes the release job's pins check; a second run changes nothing.
  expect((await release(['check-pins', '--config', config])).code).toBe(0);
  const again = await pin(config, ['--check']);
  expect(again.code).toBe(0);
  expect(again.stdout).toContain('The pins are up to date');
});

test('--revision pins a tag; --dry-run writes nothing; --check fails when the branch moved', async () => {
  const config = writeConfig([BIG]);
  const before = readFileSync(config, 'utf8');
  const dry = await pin(config, ['--revision', 'v2', '--dry-run']);
  expect(dry.code).toBe(0);
  expect(dry.stdout).toContain(`resolve/${C(2)}/big-Q4_K_M.gguf`);
  expect(dry.stdout).toContain('dry run: nothing written');
  expect(readFileSync(config, 'utf8')).toBe(before);
  expect((await pin(config, ['--revision', 'v2'])).code).toBe(0);
  expect(read(config).profiles[0]!.url).toContain(`/resolve/${C(2)}/`);
  const check = await pin(config, ['--check']); // main is at another commit
  expect(check.code).toBe(1);
  expect(check.stderr).toContain('are not those of the Hub');
  expect(read(config).profiles[0]!.url).toContain(`/resolve/${C(2)}/`);
});

const refusals: Array<[string, Profile, RegExp, NodeJS.ProcessEnv?]> = [
  [
    'a gated repository (401) names HF_TOKEN',
    { id: 'g', url: hf('org/gated-GGUF', 'm.gguf') },
    /g \(org\/gated-GGUF@main\): the repository is gated or private \(HTTP 401 GatedRepo: .*\): set HF_TOKEN/,
  ],
  [
    'a gated repository, even with a token (the release downloads without one)',
    { id: 'g', url: hf('org/gated-GGUF', 'm.gguf') },
    /the repository is gated \("manual"\): the release job downloads without a token/,
    { HF_TOKEN: 'hf_secret' },
  ],
  [
    'a repository that does not exist (401 RepoNotFound)',
    { id: 'n', url: hf('org/nothing', 'm.gguf') },
    /n \(org\/nothing@main\): no such repository, or a private or gated one \(HTTP 401 RepoNotFound/,
  ],
  [
    'a revision that does not exist (404)',
    { id: 'r', url: hf('org/big-GGUF', 'big-Q4_K_M.gguf', 'nope') },
    /r \(org\/big-GGUF@nope\): no such revision \(HTTP 404 RevisionNotFound: "Invalid rev id: nope"\)/,
  ],
  [
    'a missing file (absent from paths-info)',
    { id: 'f', url: hf('org/big-GGUF', 'typo.gguf') },
    /f \(org\/big-GGUF@main\): typo\.gguf is not in org\/big-GGUF at commit [0-9a-f]{40} \(a missing file/,
  ],
  [
    'a file that is not in LFS',
    { id: 'p', url: hf('org/small-GGUF', 'README.md') },
    /p \(org\/small-GGUF@main\): README\.md is not an LFS file at commit [0-9a-f]{40} \(a plain Git blob of 1234 bytes/,
  ],
  [
    'a folder',
    { id: 'd', url: hf('org/small-GGUF', 'models') },
    /d \(org\/small-GGUF@main\): models is a directory at commit/,
  ],
  [
    "a size over the release's limits",
    { id: 'h', url: hf('org/huge-GGUF', 'huge.gguf') },
    /h: 9\.00 GB is over the release's limit: its download and its shards \(18\.00 GB\) exceed limits\.diskBytes 15\.00 GB/,
  ],
  [
    'a rate limit that does not end (bounded retries)',
    { id: 'b', url: hf('org/busy-GGUF', 'm.gguf') },
    /b \(org\/busy-GGUF@main\): the Hub answered 429 \(rate limited\) 4 times; try again later/,
  ],
  [
    'a url that is not a Hugging Face resolve URL',
    { id: 'u', url: 'https://example.com/m.gguf' },
    /u: url must be https:\/\/huggingface\.co\/<owner>\/<repo>\/resolve\/<revision>\/<file>/,
  ],
];

for (const [name, profile, message, env] of refusals)
  test(`pin refuses ${name}, writing nothing`, async () => {
    if (name.startsWith('a rate limit')) repos['org/busy-GGUF']!.retryAfter = 0;
    const config = writeConfig([BIG, profile]);
    const before = readFileSync(config, 'utf8');
    const r = await pin(config, [], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('release pin: refusing to pin (nothing written):');
    expect(r.stderr).toMatch(message);
    expect(readFileSync(config, 'utf8')).toBe(before);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toBe(README);
  });

test('HF_TOKEN is sent as a Bearer token', async () => {
  const config = writeConfig([BIG]);
  expect((await pin(config, [], { HF_TOKEN: 'hf_abc' })).code).toBe(0);
  expect(requests().length).toBeGreaterThan(0);
  expect(requests().every((q) => q.authorization === 'Bearer hf_abc')).toBe(true);
});

test('the sum of all files plus the largest again must fit the disk of the models step', async () => {
  const config = writeConfig([BIG, SMALL], { limits: { diskBytes: 10 * GB } });
  const r = await pin(config);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(
    /all profiles: 12\.11 GB at the peak of the models step .* is over limits\.diskBytes 10\.00 GB/,
  );
});
