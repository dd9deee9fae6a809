import { ModelLoaderError, redactText, type ModelLoaderErrorDetails } from './errors.js';
import { fetchWithRetries, networkPolicy, type NetworkPolicy } from './network-policy.js';

/** Where `hf:` references resolve (Hugging Face's `resolve` paths and API). */
export const DEFAULT_HUB_BASE_URL = 'https://huggingface.co';

/** A hub reference `hf:owner/repo/path/file.gguf@revision`, taken apart. */
export interface HubReference {
  /** The reference as given. */
  reference: string;
  owner: string;
  repo: string;
  /** The file's path in the repository, e.g. `q4/model-Q4_K_M.gguf`. */
  path: string;
  /** The revision as written (`main` when none is): a commit, branch or tag. */
  revision: string;
  /** Whether `revision` is a full 40-hex commit: the reference then names exactly one file. */
  pinned: boolean;
}

/**
 * What a reference to a branch or tag was pinned to, recorded with the cached model (the
 * manifest's `hub` field): later loads of the same reference load this commit's bytes.
 */
export interface HubPin {
  /** `owner/repo`. */
  repo: string;
  /** The revision as the reference wrote it (`main` when it wrote none). */
  revision: string;
  /** The commit the revision pointed at when it was resolved (40 hex digits). */
  commit: string;
  /** When the revision was resolved (ISO 8601). */
  resolvedAt: string;
}

/** A warning of the loader (`onWarning`; without it, `console.warn` of the message). */
export interface ModelLoaderWarning {
  /**
   * `HUB_REVISION_PINNED`: an `hf:` reference names a branch or tag, which can move; the load
   * used the commit `commit` (resolved now, or pinned by an earlier load).
   * `HUB_REVISION_MOVED`: the branch or tag has moved to `latestCommit` since `commit` was
   * pinned; the load still used the pinned `commit`.
   */
  code: 'HUB_REVISION_PINNED' | 'HUB_REVISION_MOVED';
  message: string;
  /** The `hf:` reference as given. */
  reference: string;
  /** The branch or tag it names. */
  revision: string;
  /** The commit whose files this load used. */
  commit: string;
  /** Where the branch or tag points now (`HUB_REVISION_MOVED`). */
  latestCommit?: string;
}

/** The options the hub functions read. */
export interface HubOptions extends Partial<Omit<NetworkPolicy, 'allowedOrigins'>> {
  /** Where `hf:` references resolve (default `https://huggingface.co`; a mirror or a test server). */
  hubBaseUrl?: string | URL;
  /**
   * A Hugging Face access token for private and gated repositories, sent as
   * `Authorization: Bearer` to the hub's origin only (never to the CDN it redirects to), and never
   * written into an error or a warning. A token in a public page is everyone's token: use one
   * only where the page's users may hold it.
   */
  hubToken?: string;
  signal?: AbortSignal;
}

const REFERENCE = /^hf:([^/@\s]+)\/([^/@\s]+)\/([^@\s]+\.gguf)(?:@([^@\s/]+))?$/;
const COMMIT = /^[0-9a-f]{40}$/;

/** Whether `text` is meant as a hub reference (starts with `hf:`). */
export const isHubReference = (text: string): boolean => text.startsWith('hf:');

/**
 * Takes a hub reference apart: `hf:owner/repo/path/file.gguf@revision` (revision: a 40-hex
 * commit, or a branch or tag; default `main`).
 * @throws {ModelLoaderError} `INVALID_ARGUMENT` for a reference of another shape.
 */
export function parseHubReference(ref: string): HubReference {
  const m = REFERENCE.exec(ref);
  if (!m)
    throw new ModelLoaderError(
      'INVALID_ARGUMENT',
      `${JSON.stringify(ref)} is not a hub reference: write hf:owner/repo/file.gguf@revision (a commit pins it)`,
    );
  const [, owner, repo, path, revision = 'main'] = m;
  return {
    reference: ref,
    owner: owner!,
    repo: repo!,
    path: path!,
    revision,
    pinned: COMMIT.test(revision),
  };
}

/** The hub's base URL without a trailing slash. */
export const hubBase = (hubBaseUrl: string | URL = DEFAULT_HUB_BASE_URL): string =>
  String(hubBaseUrl).replace(/\/+$/, '');

/** `{hub}/owner/repo/resolve/{revision}/{path}`: a file at a revision. */
export function hubResolveUrl(
  ref: Pick<HubReference, 'owner' | 'repo'>,
  revision: string,
  path: string,
  hubBaseUrl?: string | URL,
): string {
  return `${hubBase(hubBaseUrl)}/${ref.owner}/${ref.repo}/resolve/${encodeURIComponent(revision)}/${path}`;
}

/**
 * The file URL of a hub reference `hf:owner/repo/path/file.gguf@revision` (revision: a commit,
 * branch or tag; default `main`), as `{hubBaseUrl}/owner/repo/resolve/{revision}/path/file.gguf`.
 * This is the revision as written: `acquireModel` resolves a branch or tag to its commit first.
 * @throws {ModelLoaderError} `INVALID_ARGUMENT` for a reference of another shape.
 */
export function hubFileUrl(ref: string, hubBaseUrl: string | URL = DEFAULT_HUB_BASE_URL): string {
  const r = parseHubReference(ref);
  return hubResolveUrl(r, r.revision, r.path, hubBaseUrl);
}

/** A fetch that adds `Authorization: Bearer <token>` to requests for `origin` only. */
export function withHubToken(
  fetchFn: typeof fetch,
  origin: string,
  token: string | undefined,
): typeof fetch {
  if (!token) return fetchFn;
  return ((input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.origin !== origin) return fetchFn(input, init);
    const headers = new Headers(init?.headers);
    headers.set('Authorization', `Bearer ${token}`);
    return fetchFn(input, { ...init, headers });
  }) as typeof fetch;
}

/** A revision resolved by the Hub: its commit, and what the Hub says of each file there. */
export interface HubRevision {
  commit: string;
  /** Files at the commit by path, with the LFS size and SHA-256 where the Hub gives them. */
  files?: Map<string, { bytes?: number; sha256?: string }>;
}

/** `{hub}/api/models/owner/repo/revision/{revision}?blobs=true`. */
export function hubRevisionUrl(ref: HubReference, hubBaseUrl?: string | URL): string {
  return `${hubBase(hubBaseUrl)}/api/models/${ref.owner}/${ref.repo}/revision/${encodeURIComponent(ref.revision)}?blobs=true`;
}

/**
 * Resolves a reference's branch or tag to its commit with one request to the Hub API (`GET
 * /api/models/{repo}/revision/{revision}?blobs=true`, the call huggingface_hub's
 * `model_info(files_metadata=True)` makes), under the loader's network rules; the answer's
 * `siblings` give each file's LFS SHA-256.
 * @throws {ModelLoaderError} `HTTP_ERROR` (401/403: private or gated, with how to pass a token;
 *   404: the repository, revision or file is not there), `NETWORK_ERROR`, `ABORTED`,
 *   `MANIFEST_INVALID` (an answer without a commit: `hubBaseUrl` is not a hub).
 */
export async function fetchHubRevision(
  ref: HubReference,
  options: HubOptions = {},
): Promise<HubRevision> {
  const url = hubRevisionUrl(ref, options.hubBaseUrl);
  const origin = new URL(url).origin;
  let hubError: string | null = null;
  const base = options.fetch ?? globalThis.fetch.bind(globalThis);
  // The Hub says which thing it did not find in `X-Error-Code` (exposed to pages by its CORS).
  const recording = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const response = await base(input, init);
    hubError = response.ok ? null : response.headers.get('X-Error-Code');
    return response;
  }) as typeof fetch;
  const policy = networkPolicy({
    ...options,
    fetch: withHubToken(recording, origin, options.hubToken),
    allowedOrigins: new Set([origin]),
  });
  try {
    return await fetchWithRetries(
      { what: `revision "${ref.revision}" of ${ref.owner}/${ref.repo} from the Hub`, url },
      policy,
      options.signal,
      async (response) => readRevision(await response.text(), ref, url),
      { headers: { Accept: 'application/json' } },
    );
  } catch (error) {
    throw hubAccessError(error, ref, options, hubError);
  }
}

function readRevision(text: string, ref: HubReference, url: string): HubRevision {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const info = body as
    | {
        sha?: unknown;
        siblings?: Array<{
          rfilename?: unknown;
          size?: unknown;
          lfs?: { sha256?: unknown; size?: unknown };
        }>;
      }
    | undefined;
  const commit = typeof info?.sha === 'string' ? info.sha : '';
  if (!COMMIT.test(commit))
    throw new ModelLoaderError(
      'MANIFEST_INVALID',
      `the Hub's answer for revision "${ref.revision}" of ${ref.owner}/${ref.repo} (${url}) has no commit \`sha\`: is hubBaseUrl a Hugging Face Hub?`,
      { url, field: 'sha' },
    );
  if (!Array.isArray(info?.siblings)) return { commit };
  const files = new Map<string, { bytes?: number; sha256?: string }>();
  for (const s of info.siblings) {
    if (typeof s?.rfilename !== 'string') continue;
    const sha256 = typeof s.lfs?.sha256 === 'string' && /^[0-9a-f]{64}$/.test(s.lfs.sha256);
    const bytes = s.lfs?.size ?? s.size;
    files.set(s.rfilename, {
      ...(sha256 ? { sha256: s.lfs!.sha256 as string } : {}),
      ...(typeof bytes === 'number' ? { bytes } : {}),
    });
  }
  return { commit, files };
}

/**
 * A hub's refusal, said for what it is: 401/403 (private or gated: how to pass a token), 404 (the
 * repository or revision is not there). Other errors come back unchanged. No token is ever part
 * of the message (and every URL in it loses its query string).
 */
export function hubAccessError(
  error: unknown,
  ref: HubReference,
  options: Pick<HubOptions, 'hubBaseUrl' | 'hubToken'>,
  hubErrorCode?: string | null,
): unknown {
  if (
    !(error instanceof ModelLoaderError) ||
    error.code !== 'HTTP_ERROR' ||
    !error.url ||
    said.has(error)
  )
    return error;
  const base = hubBase(options.hubBaseUrl);
  if (new URL(error.url).origin !== new URL(base).origin) return error;
  const status = error.status ?? 0;
  const repo = `${ref.owner}/${ref.repo}`;
  const page = `${base}/${repo}`;
  let why: string;
  if (status === 401 || status === 403) {
    const how = `create a read token at ${base}/settings/tokens and pass it as \`hubToken\` (acquireModel's options, or createTea({ model, hubToken })); it is sent to ${new URL(base).origin} only, and a token in a public page is everyone's token`;
    if (!options.hubToken)
      why = `the Hub refuses access without a token, so ${repo} is private or gated (or does not exist: the Hub answers 401 for a repository it will not show). Check the name; for a gated model, accept its terms on ${page} with your account; then ${how}`;
    else if (status === 401)
      why = `the Hub refused the token (expired, revoked or mistyped), or ${repo} does not exist: check the name, and ${how}`;
    else
      why = `the token's account has no access to ${repo}: for a gated model, accept its terms on ${page} with that account (approval may take a while); for a private one, ask its owner for access`;
  } else if (status === 404) {
    why =
      hubErrorCode === 'RevisionNotFound'
        ? `${repo} has no branch, tag or commit "${ref.revision}": check the revision (the repository's branches and tags are listed on ${page}/tree/main)`
        : hubErrorCode === 'RepoNotFound'
          ? `there is no repository ${repo} on the Hub: check the owner and name (${page})`
          : hubErrorCode === 'EntryNotFound'
            ? `${ref.path} is not in ${repo} at "${ref.revision}": check the file's path (${page}/tree/main)`
            : `the Hub has no repository ${repo} with a revision "${ref.revision}" holding ${ref.path}: check the reference (${page})`;
  } else return error;
  return hubSaid(`${ref.reference}: HTTP ${status} from ${error.url}: ${why}`, {
    url: error.url,
    status,
    ...(error.chunkIndex !== undefined ? { chunkIndex: error.chunkIndex } : {}),
    cause: error,
  });
}

/** Errors already said in the Hub's terms (not rephrased again). */
const said = new WeakSet<Error>();

function hubSaid(message: string, details: ModelLoaderErrorDetails): ModelLoaderError {
  const error = new ModelLoaderError('HTTP_ERROR', redactText(message), details);
  said.add(error);
  return error;
}

/**
 * `HTTP_ERROR` 404 for files the Hub's answer does not list at the resolved commit, naming the
 * GGUF files that are there (a mistyped quantization is the usual cause).
 */
export function hubFileMissing(
  ref: HubReference,
  missing: string[],
  revision: HubRevision,
  urls: string[],
): ModelLoaderError {
  const there = [...(revision.files?.keys() ?? [])].filter((f) => /\.gguf$/i.test(f));
  const list = there.length
    ? `the GGUF files there: ${there.slice(0, 20).join(', ')}${there.length > 20 ? `, and ${there.length - 20} more` : ''}`
    : 'it holds no GGUF file';
  return hubSaid(
    `${ref.reference}: ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not in ${ref.owner}/${ref.repo} at "${ref.revision}" (commit ${revision.commit}): check the path; ${list}`,
    { url: urls[0]!, status: 404 },
  );
}
