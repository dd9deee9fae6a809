// Resolving the model pins from the Hugging Face Hub's API, without downloading a model:
//   GET  {endpoint}/api/models/{repo}/revision/{rev}        -> { id, sha, gated, private, ... }
//   POST {endpoint}/api/models/{repo}/paths-info/{commit}   { paths: [file], expand: false }
//        -> [{ type: 'file', path, size, oid, lfs: { oid, size, pointerSize } }]   (absent: no file)
// `lfs.oid` is the SHA-256 of the file's bytes (Git LFS pointers name their object by it), so the
// pin is exactly what the release job's download is checked against. The endpoint is
// `HF_ENDPOINT` (tests run a fake Hub); `HF_TOKEN` is sent as a Bearer token when set.

export const DEFAULT_ENDPOINT = 'https://huggingface.co';
const HF_URL = /^(https:\/\/huggingface\.co)\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/;

/** A refusal of the pin command: a message for the maintainer, naming what to do. */
export class PinError extends Error {}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Seconds to wait from a Retry-After header (seconds or an HTTP date), or null. */
export function retryAfterMs(value, now = Date.now()) {
  if (value == null || value === '') return null;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * A Hub API request: redirects followed (a renamed repository answers 307 to its new name),
 * 429 and 503 retried after their Retry-After (at most `attempts` tries, each wait capped at
 * `maxWaitMs`), every other non-2xx a PinError that says what it means.
 */
export async function hubRequest(url, init, { what, token, attempts = 4, maxWaitMs = 60_000 }) {
  const headers = { accept: 'application/json', ...init?.headers };
  if (token) headers.authorization = `Bearer ${token}`;
  for (let attempt = 1; ; attempt++) {
    let response;
    try {
      response = await fetch(url, {
        ...init,
        headers,
        redirect: 'follow',
        signal: AbortSignal.timeout(60_000),
      });
    } catch (error) {
      throw new PinError(
        `${what}: ${url} could not be fetched (${error.cause?.code ?? error.message})`,
        { cause: error },
      );
    }
    if (response.status === 429 || response.status === 503) {
      const wait = retryAfterMs(response.headers.get('retry-after')) ?? 2000 * attempt;
      await response.body?.cancel();
      if (attempt >= attempts)
        throw new PinError(
          `${what}: the Hub answered ${response.status} (rate limited) ${attempts} times; try again later`,
        );
      if (wait > maxWaitMs)
        throw new PinError(
          `${what}: the Hub answered ${response.status} with Retry-After of ${Math.round(wait / 1000)} s (more than ${maxWaitMs / 1000} s); try again later`,
        );
      console.log(
        `    ${what}: HTTP ${response.status}, retrying in ${(wait / 1000).toFixed(1)} s (attempt ${attempt + 1} of ${attempts})`,
      );
      await sleep(wait);
      continue;
    }
    if (response.ok) return response;
    const code = response.headers.get('x-error-code') ?? '';
    let message = '';
    try {
      message = (await response.json()).error ?? '';
    } catch {
      // not JSON
    }
    const said = `HTTP ${response.status}${code ? ` ${code}` : ''}${message ? `: "${message}"` : ''}`;
    if (response.status === 401 || response.status === 403)
      throw new PinError(
        code === 'RepoNotFound'
          ? `${what}: no such repository, or a private or gated one (${said}). Check the URL; for a gated repository set HF_TOKEN to a token of an account that accepted its terms (the release itself downloads without a token, so a gated file cannot be released)`
          : `${what}: the repository is gated or private (${said}): set HF_TOKEN to a token with access, or choose a public repository (the release downloads without a token, so a gated file cannot be released)`,
      );
    if (response.status === 404)
      throw new PinError(
        code === 'RevisionNotFound'
          ? `${what}: no such revision (${said}): use a branch, tag or commit of the repository`
          : code === 'EntryNotFound'
            ? `${what}: no such file at that revision (${said})`
            : `${what}: not found (${said})`,
      );
    throw new PinError(`${what}: the Hub answered ${said}`);
  }
}

/** `{ origin, repo, revision, file }` of a Hugging Face `resolve` URL, or throws. */
export function parseResolveUrl(url, id) {
  const m = HF_URL.exec(url ?? '');
  if (!m)
    throw new PinError(
      `${id}: url must be https://huggingface.co/<owner>/<repo>/resolve/<revision>/<file>, got ${url}`,
    );
  return { origin: m[1], repo: m[2], revision: decodeURIComponent(m[3]), file: m[4] };
}

/**
 * Resolves one profile at `revision`: the commit, and the file's LFS SHA-256 and size there.
 * Returns `{ repo, renamedFrom?, commit, url, sha256, bytes }`.
 */
export async function resolvePin(
  profile,
  { revision, endpoint = DEFAULT_ENDPOINT, token, ...opts },
) {
  const id = profile.id;
  const { origin, repo, file, revision: inUrl } = parseResolveUrl(profile.url, id);
  // The revision to follow: the command's, the profile's, a branch or tag in the url, or main.
  const rev = revision ?? profile.revision ?? (/^[0-9a-f]{40}$/.test(inUrl) ? 'main' : inUrl);
  const what = `${id} (${repo}@${rev})`;
  const revUrl = `${endpoint}/api/models/${repo}/revision/${encodeURIComponent(rev)}`;
  const info = await hubRequest(revUrl, {}, { what, token, ...opts });
  const body = await info.json();
  // A renamed repository redirects to its new name: pin that (the old name's redirect may go).
  const moved = /\/api\/models\/([^/]+\/[^/]+)\/revision\//.exec(new URL(info.url).pathname)?.[1];
  const current = typeof body.id === 'string' && body.id.includes('/') ? body.id : (moved ?? repo);
  if (body.gated && body.gated !== false)
    throw new PinError(
      `${what}: the repository is gated ("${body.gated}"): the release job downloads without a token (HF_TOKEN is for reading the API only), so the file cannot be released from there; choose an ungated repository`,
    );
  if (body.private === true)
    throw new PinError(
      `${what}: the repository is private: the release job downloads without a token; choose a public repository`,
    );
  const commit = body.sha;
  if (!/^[0-9a-f]{40}$/.test(commit ?? ''))
    throw new PinError(
      `${what}: the Hub gave no commit (sha) for the revision, got ${JSON.stringify(commit)}`,
    );
  const paths = await hubRequest(
    `${endpoint}/api/models/${current}/paths-info/${commit}`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ paths: [file], expand: false }),
    },
    { what: `${id} (${current}@${commit.slice(0, 12)})`, token, ...opts },
  );
  const entries = await paths.json();
  if (!Array.isArray(entries))
    throw new PinError(
      `${what}: paths-info answered ${JSON.stringify(entries).slice(0, 200)}, not a list`,
    );
  const entry = entries.find((e) => e?.path === file);
  if (!entry)
    throw new PinError(
      `${what}: ${file} is not in ${current} at commit ${commit} (a missing file: check the file name in the url)`,
    );
  if (entry.type !== 'file')
    throw new PinError(`${what}: ${file} is a ${entry.type} at commit ${commit}, not a file`);
  if (!entry.lfs)
    throw new PinError(
      `${what}: ${file} is not an LFS file at commit ${commit} (a plain Git blob of ${entry.size} bytes; a model file is always in LFS): the Hub gives no SHA-256 for it, refusing to pin`,
    );
  const { oid, size } = entry.lfs;
  if (!/^[0-9a-f]{64}$/.test(oid ?? '') || !Number.isSafeInteger(size) || size <= 0)
    throw new PinError(
      `${what}: ${file}'s LFS metadata is not a SHA-256 and a size: ${JSON.stringify(entry.lfs)}`,
    );
  return {
    repo: current,
    ...(current !== repo ? { renamedFrom: repo } : {}),
    commit,
    url: `${origin}/${current}/resolve/${commit}/${file}`,
    sha256: oid,
    bytes: size,
  };
}

const gb = (n) => `${(n / 1e9).toFixed(2)} GB`;

/**
 * The release's size limits: each model is downloaded and packed on the runner's disk, its
 * source and its shards side by side, next to the shards of the profiles before it. The peak,
 * the sum of every file plus the largest again, must stay within `limits.diskBytes`.
 */
export function sizeProblems(profiles, limits = {}) {
  const budget = limits.diskBytes;
  if (!budget) return [];
  const sizes = profiles.map((p) => p.bytes).filter((b) => Number.isSafeInteger(b));
  const problems = [];
  for (const p of profiles)
    if (2 * p.bytes > budget)
      problems.push(
        `${p.id}: ${gb(p.bytes)} is over the release's limit: its download and its shards (${gb(2 * p.bytes)}) exceed limits.diskBytes ${gb(budget)}`,
      );
  const peak = sizes.reduce((a, b) => a + b, 0) + Math.max(0, ...sizes);
  if (!problems.length && peak > budget)
    problems.push(
      `all profiles: ${gb(peak)} at the peak of the models step (every file, plus the largest again while it is packed) is over limits.diskBytes ${gb(budget)}`,
    );
  return problems;
}
