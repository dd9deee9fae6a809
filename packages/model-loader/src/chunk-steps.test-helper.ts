import { createHash } from 'node:crypto';
import { planDownload, type ChunkDownload, type FetchChunkOptions } from './chunk-download.js';
import { networkPolicy } from './network-policy.js';

export const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
export const bytes = (n: number, seed = 0) =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

/** A chunk download of `data` with a log of what it reports, before its first request. */
export async function download(
  data: Uint8Array,
  options: Partial<FetchChunkOptions> = {},
): Promise<{ d: ChunkDownload; log: string[]; progress: number[] }> {
  const log: string[] = [];
  const progress: number[] = [];
  const d = await planDownload({
    ...networkPolicy({ retries: 2, retryDelayMs: 1, fetch: () => Promise.reject(new Error('no')) }),
    index: 0,
    url: 'https://example.test/m.gguf',
    bytes: data.byteLength,
    sha256: sha(data),
    segmentBytes: 4,
    onBytes: (n) => progress.push(n),
    onResumed: (n) => log.push(`resumed:${n}`),
    persist: async (s) => void log.push(`persist:${s.offset}+${s.data.size}`),
    dropPartial: async () => void log.push('drop'),
    ...options,
  });
  return { d, log, progress };
}
