import type { AcquireModelOptions, GgufUrlSource, ModelPlan } from '../acquire-types.js';
import { ModelLoaderError, redactUrl } from '../errors.js';
import type { HubPin } from '../hub-ref.js';
import type { ModelManifest, ParsedManifest } from '../manifest.js';
import { absolute } from '../page-url.js';
import { computeResources } from '../resources.js';
import { readHeaders } from './gguf-headers.js';
import { fetchManifest } from './manifest-source.js';

const SHARD = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/;

/** The names of every shard when `name` is the first of a gguf-split set; else undefined. */
function shardNames(name: string): string[] | undefined {
  const m = SHARD.exec(name);
  if (!m || m[2] !== '00001') return undefined;
  return Array.from(
    { length: Number(m[3]) },
    (_, i) => `${m[1]}-${String(i + 1).padStart(5, '0')}-of-${m[3]}.gguf`,
  );
}

/** The URLs of every shard when `url` names the first of a gguf-split set; else `[url]`. */
export function expandShards(url: string): string[] {
  const u = new URL(url);
  const names = shardNames(u.pathname.split('/').pop() ?? '');
  if (!names) return [url];
  return names.map((name) => {
    const next = new URL(u);
    next.pathname = u.pathname.replace(/[^/]*$/, name);
    return next.href;
  });
}

/** The paths of every shard when `path` names the first of a gguf-split set; else `[path]`. */
export function shardPaths(path: string): string[] {
  const names = shardNames(path.split('/').pop() ?? '');
  return names ? names.map((name) => path.replace(/[^/]*$/, name)) : [path];
}

/** The origins a model's files may come from: theirs, and those allowed. */
export function allowedFor(urls: string[], options: AcquireModelOptions): string[] {
  return [
    ...new Set([
      ...urls.map((u) => new URL(u).origin),
      ...(options.allowedOrigins ?? []).map((o) => new URL(o).origin),
    ]),
  ];
}

/** Whether a stored manifest pins exactly these files. */
export function samePins(m: ModelManifest, urls: string[]): boolean {
  return (
    m.chunks.length === urls.length &&
    m.chunks.every((c, i) => c.url === urls[i] && /^[0-9a-f]{64}$/.test(c.sha256))
  );
}

/** The manifest of `urls` that the store pinned under `id`, when it pins exactly them. */
export async function storedPins(
  id: string,
  urls: string[],
  options: AcquireModelOptions,
): Promise<ParsedManifest | undefined> {
  const pinned = (await options.store?.storedManifest(id)) as ModelManifest | null | undefined;
  if (!pinned || !samePins(pinned, urls)) return undefined;
  return fetchManifest(
    { manifest: pinned, baseUrl: urls[0]! },
    { ...options, allowedOrigins: allowedFor(urls, options) },
  );
}

/** What a source adds to the files it names: the pin of an `hf:` reference, known hashes. */
export interface FilePlan {
  hub?: HubPin;
  /** SHA-256 of each file where known beforehand (the Hub's LFS metadata). */
  sha256?: Array<string | undefined>;
}

/**
 * The plan for the files at `urls` as one model `id`: the store's pins of them, else a manifest
 * made of their GGUF headers (read with Range requests: no tensor byte), whose unknown hashes
 * the download computes.
 */
export async function planFiles(
  urls: string[],
  id: string,
  options: AcquireModelOptions,
  files: FilePlan,
): Promise<ModelPlan> {
  const pinned = await storedPins(id, urls, options);
  if (pinned) return { manifest: pinned };
  const allowed = allowedFor(urls, options);
  const { headers, sizes } = await readHeaders(urls, options, new Set(allowed));
  const known = files.sha256 ?? [];
  const manifest = {
    manifestVersion: 1 as const,
    model: { id, version: 'pinned', format: 'gguf', resources: computeResources(headers) },
    layout: 'gguf-split' as const,
    totalBytes: sizes.reduce((a, b) => a + b, 0),
    // '' asks the loader to compute the hash as the file downloads.
    chunks: urls.map((url, i) => ({
      file: redactUrl(url).split('/').pop()!,
      bytes: sizes[i]!,
      sha256: known[i] ?? '',
      url,
    })),
    ...(files.hub ? { hub: files.hub } : {}),
  };
  if (urls.every((_, i) => known[i]))
    // Every hash known beforehand: a manifest like a packed one (checked, resumable).
    return {
      manifest: await fetchManifest(
        { manifest, baseUrl: urls[0]! },
        { ...options, allowedOrigins: allowed },
      ),
    };
  return { manifest: { ...manifest, manifestUrl: urls[0]!, allowedOrigins: allowed } };
}

/** The plan of GGUF URLs (a first shard stands for its set); `hf:` references go to the Hub's. */
export async function planGguf(
  source: GgufUrlSource,
  options: AcquireModelOptions,
): Promise<ModelPlan> {
  if (!source.ggufUrls.length)
    throw new ModelLoaderError('INVALID_ARGUMENT', 'no GGUF URL was given');
  const given = source.ggufUrls.map(absolute);
  const urls = given.length === 1 ? expandShards(given[0]!) : given;
  return planFiles(urls, source.id ?? `gguf:${redactUrl(urls[0]!)}`, options, {});
}
