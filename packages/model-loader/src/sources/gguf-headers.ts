import type { AcquireModelOptions } from '../acquire-types.js';
import { ModelLoaderError } from '../errors.js';
import { ggufHeaderOf, type GgufHeader } from '../gguf-header-of.js';
import { MAX_CHUNK_BYTES } from '../manifest.js';
import {
  fetchWithRetries,
  isHtmlPage,
  networkPolicy,
  rangeStart,
  type IdleRequest,
  type NetworkPolicy,
  type RequestLabel,
} from '../network-policy.js';

/** The size of a file from a Range answer (`Content-Range: bytes 0-0/TOTAL`) or its length. */
function sizeOf(response: Response): number | undefined {
  const range = /\/(\d+)$/.exec(response.headers.get('Content-Range') ?? '');
  if (range) return Number(range[1]);
  const length = response.headers.get('Content-Length');
  return response.status === 200 && length ? Number(length) : undefined;
}

/**
 * The size of a file whose Range answers did not say it, from a HEAD's `Content-Length`: a
 * server on another origin that does not list `Content-Range` in `Access-Control-Expose-Headers`
 * (nginx with the usual one-line `add_header Access-Control-Allow-Origin *`) hides it from the
 * page, while `Content-Length` is always readable. Undefined when that fails too.
 */
async function headSize(
  label: RequestLabel,
  policy: NetworkPolicy,
  signal: AbortSignal | undefined,
): Promise<number | undefined> {
  try {
    return await fetchWithRetries(
      label,
      policy,
      signal,
      async (response) => {
        await response.body?.cancel().catch(() => undefined);
        const size = response.headers.get('Content-Encoding') ? undefined : sizeOf(response);
        // A HEAD that says 0 for a file whose header was just read says nothing.
        return size ? size : undefined;
      },
      { method: 'HEAD' },
    );
  } catch (error) {
    if ((error as ModelLoaderError).code === 'ABORTED') throw error;
    return undefined;
  }
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
export async function readHeaders(
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
    size ??= await headSize(label, policy, options.signal);
    if (size === undefined)
      throw new ModelLoaderError(
        'NETWORK_ERROR',
        `${url}: the server did not say the file's size (no Content-Range or Content-Length); a server on another origin must list Content-Range in Access-Control-Expose-Headers`,
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
