// Step 5: the GitHub release, draft first. Users never see a partial release, and a re-run
// resumes instead of deleting what is there:
//   1. create the release of <tag> as a draft (or reuse the draft a failed run left);
//   2. upload every asset the draft lacks, with retries (an asset whose size differs, a broken
//      upload, is the only one ever replaced);
//   3. verify: every asset is there with its size, and the uploaded SHA256SUMS (downloaded back)
//      is byte-identical to ours; GitHub's own sha256 digests, when it reports them, match it;
//   4. publish the draft.
// `gh` is GitHub's CLI (`$GH` overrides it: the tests use a recording stub).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { step } from './lib.mjs';

const gh = (args, options = {}) =>
  execFileSync(process.env.GH ?? 'gh', args, { encoding: 'utf8', ...options });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The release of `tag`, or null when there is none. */
function view(tag) {
  try {
    return JSON.parse(
      gh(['release', 'view', tag, '--json', 'isDraft,assets'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    );
  } catch {
    return null;
  }
}

/** Runs `work` up to `attempts` times, waiting longer each time. */
async function retry(
  what,
  work,
  attempts = 3,
  delayMs = Number(process.env.RELEASE_RETRY_MS ?? 5000),
) {
  for (let i = 1; ; i++) {
    try {
      return work();
    } catch (error) {
      if (i >= attempts)
        throw new Error(`${what} failed ${attempts} times: ${error.message}`, { cause: error });
      console.log(`    ${what} failed (${error.message.split('\n')[0]}); retrying`);
      await sleep(delayMs * i);
    }
  }
}

export async function publishRelease({ tag, out }) {
  if (!/^v\d+\.\d+\.\d+/.test(tag ?? ''))
    throw new Error(`publish needs a version tag such as v0.2.0, got ${JSON.stringify(tag)}`);
  const assets = join(out, 'assets');
  const local = readdirSync(assets)
    .sort()
    .map((name) => ({ name, size: statSync(join(assets, name)).size }));
  if (!local.some((a) => a.name === 'SHA256SUMS'))
    throw new Error(`${assets} has no SHA256SUMS: run the checksums step first`);

  step(`GitHub release ${tag}: draft`);
  let release = view(tag);
  if (release && !release.isDraft) {
    const missing = local.filter(
      (a) => !release.assets.some((r) => r.name === a.name && r.size === a.size),
    );
    if (missing.length === 0) {
      console.log('    already published with every asset: nothing to do');
      return;
    }
    throw new Error(
      `release ${tag} is already published without ${missing.map((a) => a.name).join(', ')}: published releases are not changed; release a new version`,
    );
  }
  if (!release) {
    gh([
      'release',
      'create',
      tag,
      '--draft',
      '--title',
      `tea-wasm-llm ${tag}`,
      '--notes-file',
      join(out, 'RELEASE_NOTES.md'),
    ]);
    release = { isDraft: true, assets: [] };
    console.log('    created the draft');
  } else console.log(`    resuming the draft (${release.assets.length} assets there)`);

  step('upload what the draft lacks');
  for (const a of local) {
    const there = release.assets.find((r) => r.name === a.name);
    if (there?.size === a.size) {
      console.log(`    ${a.name}: already uploaded`);
      continue;
    }
    if (there) {
      console.log(
        `    ${a.name}: ${there.size} bytes there, ${a.size} here: replacing the broken upload`,
      );
      gh(['release', 'delete-asset', tag, a.name, '--yes']);
    }
    await retry(`upload of ${a.name}`, () => gh(['release', 'upload', tag, join(assets, a.name)]));
    console.log(`    ${a.name}: uploaded (${a.size} bytes)`);
  }

  step('verify the uploaded assets');
  release = view(tag);
  const wrong = local.filter(
    (a) => !release?.assets.some((r) => r.name === a.name && r.size === a.size),
  );
  if (wrong.length)
    throw new Error(`after the upload, the draft lacks ${wrong.map((a) => a.name).join(', ')}`);
  const sums = readFileSync(join(assets, 'SHA256SUMS'), 'utf8');
  const dir = mkdtempSync(join(tmpdir(), 'tea-release-'));
  try {
    gh(['release', 'download', tag, '--pattern', 'SHA256SUMS', '--dir', dir]);
    if (readFileSync(join(dir, 'SHA256SUMS'), 'utf8') !== sums)
      throw new Error('the uploaded SHA256SUMS differs from the one built here');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const expected = new Map(
    sums
      .trim()
      .split('\n')
      .map((line) => line.split(/\s+\*?/))
      .map(([hash, name]) => [name, hash]),
  );
  for (const r of release.assets) {
    const digest = /^sha256:([0-9a-f]{64})$/.exec(r.digest ?? '')?.[1];
    if (digest && expected.has(r.name) && expected.get(r.name) !== digest)
      throw new Error(`${r.name}: GitHub's sha256 ${digest} is not the one in SHA256SUMS`);
  }
  console.log(`    ${local.length} assets, sizes and SHA256SUMS match`);

  step('publish');
  gh(['release', 'edit', tag, '--draft=false']);
  console.log(`    ${tag} is published`);
}
