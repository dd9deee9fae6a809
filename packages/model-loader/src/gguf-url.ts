import type { AcquireModelOptions, AcquiredModel } from './acquire-model.js';
import { acquireModel } from './acquire-model.js';
import { ggufHeaderOf, type GgufHeader } from './gguf-header-of.js';
import { computeResources } from './cli/resources.js';
import { ModelLoaderError, redactUrl } from './errors.js';
import { loadModel } from './load-model.js';
import { MAX_CHUNK_BYTES, parseManifest, type ModelManifest } from './manifest.js';
import {
  fetchWithRetries,
  isHtmlPage,
  networkPolicy,
  rangeStart,
  type IdleRequest,
} from './network-policy.js';
import { absolute } from './page-url.js';
import { shareAcrossTabs } from './share-across-tabs.js';

/**
 * A GGUF model by URL, without a manifest: one file, or gguf-split shards (a first shard's URL,
 * `name-00001-of-0000N.gguf`, stands for all of them).
 */
export interface GgufUrlSource {
  ggufUrls: Array<string | URL>;
  /** Cache identity (default: `gguf:` + the first URL without its query). */
  id?: string;
}

/** Where `hf:` references resolve (Hugging Face's `resolve` paths). */
export const DEFAULT_HUB_BASE_URL = 'https://huggingface.co';

const SHARD = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/;

/**
 * The file URL of a hub reference `hf:owner/repo/path/file.gguf@revision` (revision: a commit,
 * branch or tag; default `main`), as `{hubBaseUrl}/owner/repo/resolve/{revision}/path/file.gguf`.
 * @throws {ModelLoaderError} `INVALID_ARGUMENT` for a reference of another shape.
 */
export function hubFileUrl(ref: string, hubBaseUrl: string | URL = DEFAULT_HUB_BASE_URL): string {
  const m = /^hf:([^/@\s]+)\/([^/@\s]+)\/([^@\s]+\.gguf)(?:@([^@\s/]+))?$/.exec(ref);
  if (!m)
    throw new ModelLoaderError(
      'INVALID_ARGUMENT',
      `${JSON.stringify(ref)} is not a hub reference: write hf:owner/repo/file.gguf@revision (a commit pins it)`,
    );
  const [, owner, repo, path, revision = 'main'] = m;
  const base = String(hubBaseUrl).replace(/\/+$/, '');
  return `${base}/${owner}/${repo}/resolve/${encodeURIComponent(revision)}/${path}`;
}

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

/**
 * A GGUF model by URL, cached like a packed one. On first use the headers are read with Range
 * requests (so `preflight` runs on the model's resources before any tensor byte), the files are
 * downloaded, their SHA-256 computed as they stream and pinned: the manifest made of them is
 * stored with the model, and later loads read the store (no network) or, when it was evicted,
 * download again and verify against the pins. Two tabs share the first download (the store's
 * lock), but it is not resumable across a reload (pack a manifest with `tea-model pack` for that).
 * @throws {ModelLoaderError} `INVALID_ARGUMENT` (a file of 2 GiB or more), `GGUF_INVALID` (not a
 *   GGUF, or an HTML page), `HTTP_ERROR`, `NETWORK_ERROR`, `ORIGIN_NOT_ALLOWED`,
 *   `CHUNK_HASH_MISMATCH` (a pinned file changed on the server), `ABORTED`.
 */
export async function acquireGguf(
  source: GgufUrlSource,
  options: AcquireModelOptions = {},
): Promise<AcquiredModel> {
  if (!source.ggufUrls.length)
    throw new ModelLoaderError('INVALID_ARGUMENT', 'no GGUF URL was given');
  const given = source.ggufUrls.map(absolute);
  const urls = given.length === 1 ? expandShards(given[0]!) : given;
  const id = source.id ?? `gguf:${redactUrl(urls[0]!)}`;
  const allowed = new Set([
    ...urls.map((u) => new URL(u).origin),
    ...(options.allowedOrigins ?? []).map((o) => new URL(o).origin),
  ]);
  const { store } = options;
  const pinned = (await store?.storedManifest?.(id)) as ModelManifest | null | undefined;
  if (pinned && samePins(pinned, urls))
    return acquireModel(
      { manifest: pinned, baseUrl: urls[0]! },
      { ...options, allowedOrigins: [...allowed] },
    );

  const { headers, sizes } = await readHeaders(urls, options, allowed);
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
      sha256: '',
      url,
    })),
    manifestUrl: urls[0]!,
    allowedOrigins: [...allowed],
  };
  await options.preflight?.(manifest);
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
