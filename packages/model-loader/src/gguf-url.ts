import type { AcquireModelOptions, AcquiredModel } from './acquire-model.js';
import { acquireModel } from './acquire-model.js';
import { ggufHeaderOf, type GgufHeader } from './gguf-header-of.js';
import { computeResources } from './cli/resources.js';
import { ModelLoaderError, redactText, redactUrl } from './errors.js';
import { loadModel } from './load-model.js';
import { MAX_CHUNK_BYTES, parseManifest, type ModelManifest } from './manifest.js';
import {
  fetchWithRetries,
  isHtmlPage,
  networkPolicy,
  rangeStart,
  type IdleRequest,
} from './network-policy.js';
import {
  fetchHubRevision,
  hubAccessError,
  hubBase,
  hubFileMissing,
  hubResolveUrl,
  isHubReference,
  parseHubReference,
  withHubToken,
  type HubPin,
  type HubReference,
  type ModelLoaderWarning,
} from './hub-ref.js';
import { absolute } from './page-url.js';
import { shareAcrossTabs } from './share-across-tabs.js';

/**
 * A GGUF model by URL, without a manifest: one file, or gguf-split shards (a first shard's URL,
 * `name-00001-of-0000N.gguf`, stands for all of them).
 */
export interface GgufUrlSource {
  /** GGUF URLs, or `hf:owner/repo/file.gguf@revision` references (one repository and revision). */
  ggufUrls: Array<string | URL>;
  /**
   * Cache identity (default: `gguf:` + the first URL without its query; for an `hf:` reference,
   * its `/resolve/<revision as written>/` URL, so a branch keeps one identity as it moves).
   */
  id?: string;
}

const SHARD = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/;

/** The URLs of every shard when `url` names the first of a gguf-split set; else `[url]`. */
export function expandShards(url: string): string[] {
  const u = new URL(url);
  const name = u.pathname.split('/').pop() ?? '';
  const m = SHARD.exec(name);
  if (!m || m[2] !== '00001') return [url];
  const count = Number(m[3]);
  return Array.from({ length: count }, (_, i) => {
    const next = new URL(u);
    next.pathname = u.pathname.replace(
      /[^/]*$/,
      `${m[1]}-${String(i + 1).padStart(5, '0')}-of-${m[3]}.gguf`,
    );
    return next.href;
  });
}

/** The size of a file from a Range answer (`Content-Range: bytes 0-0/TOTAL`) or its length. */
function sizeOf(response: Response): number | undefined {
  const range = /\/(\d+)$/.exec(response.headers.get('Content-Range') ?? '');
  if (range) return Number(range[1]);
  const length = response.headers.get('Content-Length');
  return response.status === 200 && length ? Number(length) : undefined;
}

/**
 * `want` bytes of a body after skipping `skip` (a server that ignored Range sends the file from
 * byte 0), reading no further: the rest of a multi-GB file is cancelled, not downloaded.
 */
async function readSpan(
  response: Response,
  skip: number,
  want: number,
  request: IdleRequest,
): Promise<Uint8Array<ArrayBuffer>> {
  const parts: Uint8Array[] = [];
  let kept = 0;
  let skipped = 0;
  const reader = response.body?.getReader();
  try {
    while (reader && kept < want) {
      const { done, value } = await reader.read();
      if (done) break;
      request.arm();
      let piece = value;
      if (skipped < skip) {
        const drop = Math.min(skip - skipped, piece.byteLength);
        skipped += drop;
        piece = piece.subarray(drop);
      }
      if (piece.byteLength === 0) continue;
      piece = piece.subarray(0, Math.min(piece.byteLength, want - kept));
      parts.push(piece);
      kept += piece.byteLength;
    }
  } finally {
    await reader?.cancel().catch(() => undefined);
  }
  const out = new Uint8Array(kept);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/**
 * Reads the GGUF headers of the shards with Range requests (through the loader's origin policy):
 * the resources the fit check needs, and each file's size. No tensor data is fetched.
 */
async function readHeaders(
  urls: string[],
  options: AcquireModelOptions,
  allowed: Set<string>,
): Promise<{ headers: GgufHeader[]; sizes: number[] }> {
  // Loaded on use: pages that only load packed manifests never fetch the GGUF reader.
  const { gguf } = await import('@huggingface/gguf');
  const policy = networkPolicy({ ...options, allowedOrigins: allowed });
  const headers: GgufHeader[] = [];
  const sizes: number[] = [];
  for (const [i, url] of urls.entries()) {
    let size: number | undefined;
    const label = { what: `GGUF file ${i}`, url, chunkIndex: i };
    // Each of the reader's Range requests under the loader's network rules (retries,
    // Retry-After, idle timeout, origins), read in full here and handed over as a 206.
    const policed = (async (_input: RequestInfo | URL, init?: RequestInit) => {
      const asked = /^bytes=(\d+)-(\d*)$/.exec(new Headers(init?.headers).get('Range') ?? '');
      const start = asked ? Number(asked[1]) : 0;
      const want = asked?.[2] ? Number(asked[2]) - start + 1 : Infinity;
      const got = await fetchWithRetries(
        label,
        policy,
        options.signal,
        async (response, request) => {
          if (isHtmlPage(response))
            throw new ModelLoaderError(
              'GGUF_INVALID',
              `${url} answered an HTML page, not a GGUF file (check the path; dev servers answer unknown paths with index.html)`,
              { chunkIndex: i, url },
            );
          const from = response.status === 206 ? rangeStart(response) : 0;
          if (from !== undefined && from > start)
            throw new Error(`the server answered bytes ${from}- to a request for bytes=${start}-`);
          const bytes = await readSpan(response, start - (from ?? start), want, request);
          return { bytes, total: sizeOf(response) };
        },
        init?.headers ? { headers: init.headers } : {},
      );
      size ??= got.total;
      const last = start + got.bytes.byteLength - 1;
      return new Response(got.bytes, {
        status: 206,
        headers: { 'Content-Range': `bytes ${start}-${last}/${got.total ?? '*'}` },
      });
    }) as typeof fetch;
    let parsed;
    try {
      parsed = await gguf(url, { fetch: policed, typedMetadata: true });
    } catch (cause) {
      if (cause instanceof ModelLoaderError) throw cause;
      if (options.signal?.aborted)
        throw new ModelLoaderError('ABORTED', 'the model download was aborted', { cause });
      throw new ModelLoaderError(
        'GGUF_INVALID',
        `${url} is not a readable GGUF file: ${(cause as Error).message}`,
        { chunkIndex: i, url, cause },
      );
    }
    if (size === undefined)
      throw new ModelLoaderError(
        'NETWORK_ERROR',
        `${url}: the server did not say the file's size (no Content-Range or Content-Length)`,
        { chunkIndex: i, url },
      );
    if (size >= MAX_CHUNK_BYTES)
      throw new ModelLoaderError(
        'INVALID_ARGUMENT',
        `${url} is ${size} bytes: a browser loads files under 2 GiB; split it (\`tea-model pack\` or llama.cpp's llama-gguf-split) and give the first shard`,
        { chunkIndex: i, url },
      );
    headers.push(ggufHeaderOf(parsed, size, url));
    sizes.push(size);
  }
  return { headers, sizes };
}

/** Options of `acquireGguf`: `acquireModel`'s, and those of `hf:` references. */
export interface AcquireGgufOptions extends AcquireModelOptions {
  /** Where `hf:` references resolve (default `https://huggingface.co`). */
  hubBaseUrl?: string | URL;
  /**
   * A Hugging Face access token for private and gated repositories: sent as `Authorization:
   * Bearer` to the hub's origin only (not to the CDN it redirects to), never part of an error or a
   * warning. A token in a public page is everyone's token.
   */
  hubToken?: string;
  /**
   * How long a load of an `hf:` reference to a branch or tag that is pinned in the store waits
   * for the Hub to say where the branch points now (one request beside the cache read; default
   * 5000 ms; 0: no check). Offline, or when the time runs out, the pinned model loads all the same.
   */
  hubCheckTimeoutMs?: number;
  /** Warnings (`HUB_REVISION_PINNED`, `HUB_REVISION_MOVED`); default: `console.warn` of the message. */
  onWarning?: (warning: ModelLoaderWarning) => void;
}

/** What a source adds to the files it names: the pin of an `hf:` reference, known hashes. */
interface FilePlan {
  hub?: HubPin;
  /** SHA-256 of each file where known beforehand (the Hub's LFS metadata). */
  sha256?: Array<string | undefined>;
}

/**
 * A GGUF model by URL or `hf:` reference, cached like a packed one. On first use the headers are
 * read with Range requests (so `preflight` runs on the model's resources before any tensor
 * byte), the files are downloaded, their SHA-256 computed as they stream and pinned: the manifest
 * made of them is stored with the model, and later loads read the store (no network) or, when it
 * was evicted, download again and verify against the pins. Two tabs share the first download
 * (the store's lock), but it is not resumable across a reload (pack a manifest with `tea-model
 * pack` for that).
 *
 * `hf:owner/repo/file.gguf@revision` (every entry of `ggufUrls` one repository and revision): a
 * 40-hex commit is used as given. A branch or tag (none: `main`) is resolved to its commit with
 * one Hub API request before any model byte, the files come from `/resolve/<commit>/`, verified
 * against the Hub's LFS SHA-256 (a manifest like a packed one: resumable after a reload), and
 * the commit is recorded with the cached model (`manifest.hub`). A later load of the same
 * reference loads that commit from the store, offline too; if the branch has moved meanwhile,
 * it still loads the pinned commit and warns (`HUB_REVISION_MOVED`) with the new one. Each load
 * of a branch or tag warns once (`onWarning`).
 * @throws {ModelLoaderError} `INVALID_ARGUMENT` (a file of 2 GiB or more, a malformed `hf:`
 *   reference), `GGUF_INVALID` (not a GGUF, or an HTML page), `HTTP_ERROR` (for the Hub: 401/403
 *   private or gated, with how to pass `hubToken`; 404 repository, revision or file not there),
 *   `NETWORK_ERROR` (for an unpinned `hf:` reference with nothing cached: the Hub could not be
 *   reached), `ORIGIN_NOT_ALLOWED`, `CHUNK_HASH_MISMATCH` (a pinned file changed on the server),
 *   `ABORTED`.
 */
export async function acquireGguf(
  source: GgufUrlSource,
  options: AcquireGgufOptions = {},
): Promise<AcquiredModel> {
  if (!source.ggufUrls.length)
    throw new ModelLoaderError('INVALID_ARGUMENT', 'no GGUF URL was given');
  const entries = source.ggufUrls.map(String);
  if (entries.some(isHubReference)) return acquireHub(entries, source.id, options);
  const given = source.ggufUrls.map(absolute);
  const urls = given.length === 1 ? expandShards(given[0]!) : given;
  return acquireFiles(urls, source.id ?? `gguf:${redactUrl(urls[0]!)}`, options, {});
}

/** The origins a model's files may come from: theirs, and those allowed. */
function allowedFor(urls: string[], options: AcquireModelOptions): Set<string> {
  return new Set([
    ...urls.map((u) => new URL(u).origin),
    ...(options.allowedOrigins ?? []).map((o) => new URL(o).origin),
  ]);
}

/** The files at `urls` as one model `id`: from the store's pins, or read, checked, downloaded. */
async function acquireFiles(
  urls: string[],
  id: string,
  options: AcquireModelOptions,
  plan: FilePlan,
): Promise<AcquiredModel> {
  const allowed = allowedFor(urls, options);
  const { store } = options;
  const pinned = (await store?.storedManifest?.(id)) as ModelManifest | null | undefined;
  if (pinned && samePins(pinned, urls))
    return acquireModel(
      { manifest: pinned, baseUrl: urls[0]! },
      { ...options, allowedOrigins: [...allowed] },
    );

  const { headers, sizes } = await readHeaders(urls, options, allowed);
  const known = plan.sha256 ?? [];
  const manifest = {
    manifestVersion: 1 as const,
    model: {
      id,
      version: 'pinned',
      format: 'gguf',
      resources: computeResources(headers),
    },
    layout: 'gguf-split' as const,
    totalBytes: sizes.reduce((a, b) => a + b, 0),
    // Hashes unknown until the download computes them ('' asks the loader to compute).
    chunks: urls.map((url, i) => ({
      file: redactUrl(url).split('/').pop()!,
      bytes: sizes[i]!,
      sha256: known[i] ?? '',
      url,
    })),
    ...(plan.hub ? { hub: plan.hub } : {}),
    manifestUrl: urls[0]!,
    allowedOrigins: [...allowed],
  };
  await options.preflight?.(manifest);
  if (urls.every((_, i) => known[i])) {
    // Every hash is known beforehand: a manifest like a packed one, registered with the store
    // before the download (so the pin is recorded at once) and resumable after a reload.
    const { preflight: _checked, ...rest } = options;
    return acquireModel({ manifest, baseUrl: urls[0]! }, { ...rest, allowedOrigins: [...allowed] });
  }
  // Two tabs share the first download as they share a manifest's: the one that waits finds the
  // pins the other stored, and loads from the store.
  let meanwhile: ModelManifest | null | undefined;
  const first = await shareAcrossTabs(manifest, options, async (onProgress) => {
    meanwhile = (await store?.storedManifest?.(id)) as ModelManifest | null | undefined;
    if (meanwhile && samePins(meanwhile, urls)) return null;
    const hashes: string[] = [];
    const { store: _store, ...download } = options;
    const blobs = await loadModel(manifest, {
      ...download,
      onProgress,
      onChunkVerified: (i, sha256) => (hashes[i] = sha256),
    });
    const pins = parseManifest(
      { ...manifest, chunks: manifest.chunks.map((c, i) => ({ ...c, sha256: hashes[i]! })) },
      { url: urls[0]!, allowedOrigins: [...allowed] },
    );
    if (store) {
      await store.open?.(pins);
      for (const [i, blob] of blobs.entries()) await store.putChunk(pins, i, blob);
      await store.complete?.(pins);
    }
    const acquired: AcquiredModel = { blobs, manifest: pins, fromCache: false };
    return acquired;
  });
  if (first) return first;
  return acquireModel(
    { manifest: meanwhile!, baseUrl: urls[0]! },
    { ...options, allowedOrigins: [...allowed] },
  );
}

/** Whether a stored manifest pins exactly these files. */
function samePins(m: ModelManifest, urls: string[]): boolean {
  return (
    m.chunks.length === urls.length &&
    m.chunks.every((c, i) => c.url === urls[i] && /^[0-9a-f]{64}$/.test(c.sha256))
  );
}

/** The paths of every shard when `path` names the first of a gguf-split set; else `[path]`. */
function shardPaths(path: string): string[] {
  const m = SHARD.exec(path);
  if (!m || m[2] !== '00001') return [path];
  return Array.from(
    { length: Number(m[3]) },
    (_, i) => `${m[1]}-${String(i + 1).padStart(5, '0')}-of-${m[3]}.gguf`,
  );
}

/** A model named by `hf:` references: pinned, resolved, or loaded from the pin in the store. */
async function acquireHub(
  entries: string[],
  id: string | undefined,
  options: AcquireGgufOptions,
): Promise<AcquiredModel> {
  const refs = entries.map(parseHubReference);
  const ref = refs[0]!;
  if (refs.some((r) => r.owner !== ref.owner || r.repo !== ref.repo || r.revision !== ref.revision))
    throw new ModelLoaderError(
      'INVALID_ARGUMENT',
      `the hf: references of one model must name one repository and revision (${entries.join(', ')})`,
    );
  const base = hubBase(options.hubBaseUrl);
  const origin = new URL(absolute(base)).origin;
  const paths = refs.length === 1 ? shardPaths(ref.path) : refs.map((r) => r.path);
  const urlsAt = (revision: string) => paths.map((p) => hubResolveUrl(ref, revision, p, base));
  const modelId = id ?? `gguf:${redactUrl(urlsAt(ref.revision)[0]!)}`;
  const opts: AcquireGgufOptions = {
    ...options,
    fetch: withHubToken(
      options.fetch ?? globalThis.fetch.bind(globalThis),
      origin,
      options.hubToken,
    ),
  };
  const warn = (w: ModelLoaderWarning) =>
    options.onWarning ? options.onWarning(w) : console.warn(w.message);
  const pinOf = (commit: string): HubPin => ({
    repo: `${ref.owner}/${ref.repo}`,
    revision: ref.revision,
    commit,
    resolvedAt: new Date().toISOString(),
  });
  const pinned = (commit: string) => `${entries[0]!.replace(/@[^@]*$/, '')}@${commit}`;
  const moving = `${ref.reference} names "${ref.revision}", ${
    /^[0-9a-f]+$/.test(ref.revision) ? 'not a full 40-hex commit' : 'a branch or tag'
  }, which can move`;
  try {
    if (ref.pinned)
      return await acquireFiles(urlsAt(ref.revision), modelId, opts, { hub: pinOf(ref.revision) });

    const stored = (await options.store?.storedManifest?.(modelId)) as
      ModelManifest | null | undefined;
    const pin = storedPin(stored, ref, urlsAt);
    if (stored && pin) {
      const latest = latestCommit(ref, opts);
      const urls = urlsAt(pin.commit);
      const acquired = await acquireModel(
        { manifest: stored, baseUrl: urls[0]! },
        { ...opts, allowedOrigins: [...allowedFor(urls, options)] },
      );
      const now = await latest;
      const when = pin.resolvedAt.slice(0, 10);
      const fields = { reference: ref.reference, revision: ref.revision, commit: pin.commit };
      if (now.commit && now.commit !== pin.commit)
        warn({
          code: 'HUB_REVISION_MOVED',
          ...fields,
          latestCommit: now.commit,
          message: redactText(
            `${ref.reference}: "${ref.revision}" has moved to commit ${now.commit} since commit ${pin.commit} was pinned (${when}); this load used the pinned commit, as every load of this reference will. To take the new one, write ${pinned(now.commit)}, or delete the cached model "${modelId}" (deleteCachedModel(id) in the sdk, cache.delete(id) in model-cache) and load the reference again`,
          ),
        });
      else
        warn({
          code: 'HUB_REVISION_PINNED',
          ...fields,
          message: redactText(
            `${moving}: loaded commit ${pin.commit}, pinned ${when} (${
              now.commit
                ? `"${ref.revision}" still points there`
                : `whether "${ref.revision}" has moved is unknown: ${now.why}`
            }). Write ${pinned(pin.commit)} to pin it in code`,
          ),
        });
      return acquired;
    }

    const revision = await fetchHubRevision(ref, opts);
    const missing = revision.files ? paths.filter((p) => !revision.files!.has(p)) : [];
    if (missing.length) throw hubFileMissing(ref, missing, revision, urlsAt(revision.commit));
    warn({
      code: 'HUB_REVISION_PINNED',
      reference: ref.reference,
      revision: ref.revision,
      commit: revision.commit,
      message: redactText(
        `${moving}: pinned to commit ${revision.commit}${
          options.store
            ? ', recorded with the cached model (later loads of this reference use it)'
            : ' (no store: the next load resolves it again)'
        }. Write ${pinned(revision.commit)} to pin it in code`,
      ),
    });
    return await acquireFiles(urlsAt(revision.commit), modelId, opts, {
      hub: pinOf(revision.commit),
      sha256: paths.map((p) => revision.files?.get(p)?.sha256),
    });
  } catch (error) {
    if (
      !ref.pinned &&
      error instanceof ModelLoaderError &&
      error.code === 'NETWORK_ERROR' &&
      error.url?.startsWith(redactUrl(`${base}/api/`))
    )
      throw new ModelLoaderError(
        'NETWORK_ERROR',
        `${ref.reference}: could not reach the Hub to resolve "${ref.revision}" to a commit, and no pinned copy of this reference is cached: connect to the network and load again (the first load of a reference needs the Hub; later ones load the pinned commit from the cache, offline too). ${error.message}`,
        { url: error.url, cause: error },
      );
    throw hubAccessError(error, ref, options);
  }
}

/** The pin a stored manifest holds for this reference (same repository, revision and files). */
function storedPin(
  stored: ModelManifest | null | undefined,
  ref: HubReference,
  urlsAt: (revision: string) => string[],
): HubPin | undefined {
  const pin = stored?.['hub'] as HubPin | undefined;
  if (!stored || !pin || typeof pin.commit !== 'string' || !/^[0-9a-f]{40}$/.test(pin.commit))
    return undefined;
  if (pin.repo !== `${ref.owner}/${ref.repo}` || pin.revision !== ref.revision) return undefined;
  return samePins(stored, urlsAt(pin.commit)) ? pin : undefined;
}

/**
 * Where the reference's branch points now, asked once with no retry and a time limit (the
 * pinned model loads regardless); the reason when it cannot be known.
 */
async function latestCommit(
  ref: HubReference,
  options: AcquireGgufOptions,
): Promise<{ commit?: string; why?: string }> {
  const limit = options.hubCheckTimeoutMs ?? 5000;
  if (limit <= 0) return { why: 'not checked (hubCheckTimeoutMs: 0)' };
  if ((globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine === false)
    return { why: 'this device is offline' };
  const controller = new AbortController();
  const stop = () => controller.abort();
  options.signal?.addEventListener('abort', stop, { once: true });
  const timer = setTimeout(stop, limit);
  try {
    const { commit } = await fetchHubRevision(ref, {
      ...options,
      retries: 0,
      idleTimeoutMs: Math.min(options.idleTimeoutMs ?? limit, limit),
      signal: controller.signal,
    });
    return { commit };
  } catch (error) {
    const code = (error as ModelLoaderError).code;
    return {
      why:
        code === 'ABORTED'
          ? `the Hub did not answer within ${limit} ms`
          : code === 'HTTP_ERROR'
            ? `the Hub answered HTTP ${(error as ModelLoaderError).status}`
            : 'the Hub could not be reached (offline?)',
    };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', stop);
  }
}
