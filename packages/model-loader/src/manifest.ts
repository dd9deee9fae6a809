import { ModelLoaderError } from './errors.js';
import { readVersionedJson } from './json-document.js';

/** The largest chunk a manifest may list: GitHub release assets must stay under 2 GiB. */
export const MAX_CHUNK_BYTES = 2 * 1024 ** 3;

/** One file of a model as the manifest lists it. */
export interface ManifestChunk {
  /** File name, resolved against the manifest's URL. */
  file: string;
  bytes: number;
  /** Lowercase hex SHA-256 of the file. */
  sha256: string;
  /** Absolute URL that overrides `file` (subject to the origin policy). */
  url?: string;
  /**
   * SHA-256 of each `bytes`-sized block of the file, in order (the last may be shorter). With
   * them a download verifies and keeps each block on its own (natively hashed, off the main
   * thread) instead of hashing the whole file in one stream; `tea-model pack` writes them.
   */
  blocks?: ChunkBlocks;
}

/** A chunk's block hashes: `sha256[k]` covers bytes `[k * bytes, (k + 1) * bytes)`. */
export interface ChunkBlocks {
  bytes: number;
  sha256: string[];
}

/** Smallest and largest block a manifest may use. */
export const MIN_BLOCK_BYTES = 64 * 1024;
export const MAX_BLOCK_BYTES = 256 * 2 ** 20;

/** Model manifest, version 1 (see the design notes). */
export interface ModelManifest {
  manifestVersion: 1;
  model: {
    id: string;
    version: string;
    format?: string;
    quantization?: string;
    [key: string]: unknown;
  };
  layout: 'gguf-split' | 'byte-chunks';
  totalBytes: number;
  chunks: ManifestChunk[];
  source?: { file: string; bytes: number; sha256: string };
  [key: string]: unknown;
}

/** A validated manifest whose chunks carry resolved absolute URLs. */
export interface ParsedManifest extends ModelManifest {
  chunks: Array<ManifestChunk & { url: string }>;
  /** Where the manifest came from (chunk URLs were resolved against it). */
  manifestUrl: string;
  /** Origins its chunks may come from, after redirects too: the manifest's and those allowed. */
  allowedOrigins: string[];
}

/** Options of `parseManifest`. */
export interface ParseManifestOptions {
  /** The manifest's own URL; chunk files resolve against it. Default: the page's location. */
  url?: string | URL;
  /** Other origins chunks may come from. By default only the manifest's origin is allowed. */
  allowedOrigins?: string[];
}

const SHA256 = /^[0-9a-f]{64}$/;

function invalid(field: string, why: string): ModelLoaderError {
  return new ModelLoaderError('MANIFEST_INVALID', `manifest field \`${field}\` ${why}`, { field });
}

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

function baseUrl(url: string | URL | undefined): string {
  if (url !== undefined)
    return new URL(String(url), (globalThis as { location?: { href: string } }).location?.href)
      .href;
  const here = (globalThis as { location?: { href: string } }).location?.href;
  if (!here)
    throw new ModelLoaderError(
      'INVALID_ARGUMENT',
      'parseManifest needs options.url outside a browser page',
    );
  return here;
}

function checkBlocks(raw: unknown, chunkBytes: number, field: string): void {
  const b = raw as Record<string, unknown> | null;
  if (!b || typeof b !== 'object' || Array.isArray(b))
    throw invalid(field, 'must be an object with `bytes` and `sha256`');
  const size = b['bytes'];
  if (!isPositiveInt(size) || size < MIN_BLOCK_BYTES || size > MAX_BLOCK_BYTES)
    throw invalid(
      `${field}.bytes`,
      `must be an integer from ${MIN_BLOCK_BYTES} to ${MAX_BLOCK_BYTES}, got ${JSON.stringify(size)}`,
    );
  const hashes = b['sha256'];
  const count = Math.ceil(chunkBytes / size);
  if (!Array.isArray(hashes) || hashes.length !== count)
    throw invalid(
      `${field}.sha256`,
      `must list ${count} hashes (one per ${size}-byte block of the chunk's ${chunkBytes} bytes), got ${Array.isArray(hashes) ? hashes.length : JSON.stringify(hashes)}`,
    );
  hashes.forEach((h: unknown, k) => {
    if (typeof h !== 'string' || !SHA256.test(h))
      throw invalid(`${field}.sha256[${k}]`, 'must be 64 lowercase hex digits');
  });
}

/**
 * Validates a manifest (object or JSON text) and resolves its chunk URLs.
 * @throws {ModelLoaderError} `MANIFEST_INVALID` naming the field and why;
 *   `ORIGIN_NOT_ALLOWED` for a chunk on another origin that is not allowed.
 */
export function parseManifest(json: unknown, options: ParseManifestOptions = {}): ParsedManifest {
  const m = readVersionedJson(json, 'manifest', 'MANIFEST_INVALID', 'manifestVersion');
  checkHead(m);
  const chunks = m['chunks'];
  if (!Array.isArray(chunks) || chunks.length === 0)
    throw invalid('chunks', 'must be a non-empty list');
  const base = baseUrl(options.url);
  const allowed = new Set([
    new URL(base).origin,
    ...(options.allowedOrigins ?? []).map((o) => new URL(o).origin),
  ]);
  const seen: SeenChunks = { files: new Set(), urlAt: new Map(), hashAt: new Map() };
  const resolved = chunks.map((raw: unknown, i: number) => checkChunk(raw, i, base, allowed, seen));
  const sum = resolved.reduce((total, c) => total + c.bytes, 0);
  if (sum !== m['totalBytes'])
    throw invalid('totalBytes', `is ${m['totalBytes']} but the chunks add up to ${sum}`);
  checkSource(m);
  return {
    ...(m as unknown as ModelManifest),
    chunks: resolved,
    manifestUrl: base,
    allowedOrigins: [...allowed],
  };
}

/** The manifest's `model`, `layout` and `totalBytes`. */
function checkHead(m: Record<string, unknown>): void {
  const model = m['model'] as Record<string, unknown> | undefined;
  if (!model || typeof model !== 'object')
    throw invalid('model', 'must be an object with `id` and `version`');
  if (typeof model['id'] !== 'string' || !model['id'])
    throw invalid('model.id', 'must be a non-empty string');
  if (typeof model['version'] !== 'string' || !model['version'])
    throw invalid('model.version', 'must be a non-empty string');
  if (m['layout'] !== 'gguf-split' && m['layout'] !== 'byte-chunks')
    throw invalid(
      'layout',
      `must be "gguf-split" or "byte-chunks", got ${JSON.stringify(m['layout'])}`,
    );
  if (!isPositiveInt(m['totalBytes'])) throw invalid('totalBytes', 'must be a positive integer');
}

/**
 * Where each file, URL and hash first appears: a chunk listed twice would "resume" from its
 * twin's stored bytes.
 */
interface SeenChunks {
  files: Set<string>;
  urlAt: Map<string, number>;
  hashAt: Map<string, number>;
}

/** Chunk `i`, checked field by field, with its URL resolved and its origin allowed. */
function checkChunk(
  raw: unknown,
  i: number,
  base: string,
  allowed: Set<string>,
  seen: SeenChunks,
): ManifestChunk & { url: string } {
  const c = raw as Record<string, unknown>;
  const at = (k: string) => `chunks[${i}].${k}`;
  if (!c || typeof c !== 'object') throw invalid(`chunks[${i}]`, 'must be an object');
  if (typeof c['file'] !== 'string' || !c['file'])
    throw invalid(at('file'), 'must be a non-empty string');
  if (seen.files.has(c['file']))
    throw invalid(at('file'), `repeats "${c['file']}" (each chunk is a different file)`);
  seen.files.add(c['file']);
  if (!isPositiveInt(c['bytes'])) throw invalid(at('bytes'), 'must be a positive integer');
  if (c['bytes'] >= MAX_CHUNK_BYTES)
    throw invalid(
      at('bytes'),
      `is ${c['bytes']}: chunks must be under 2 GiB (${MAX_CHUNK_BYTES} bytes)`,
    );
  if (typeof c['sha256'] !== 'string' || !SHA256.test(c['sha256']))
    throw invalid(at('sha256'), 'must be 64 lowercase hex digits');
  if (c['url'] !== undefined && typeof c['url'] !== 'string')
    throw invalid(at('url'), 'must be a string');
  if (c['blocks'] !== undefined) checkBlocks(c['blocks'], c['bytes'], at('blocks'));
  const url = new URL((c['url'] as string | undefined) ?? c['file'], base);
  if (!allowed.has(url.origin)) {
    throw new ModelLoaderError(
      'ORIGIN_NOT_ALLOWED',
      `chunk ${i} would be fetched from ${url.origin}, not the manifest's origin; pass it in allowedOrigins to allow it`,
      { chunkIndex: i, url: url.href, field: at('url') },
    );
  }
  const twinUrl = seen.urlAt.get(url.href);
  if (twinUrl !== undefined)
    throw invalid(
      at('url'),
      `resolves to ${url.href}, as chunks[${twinUrl}] does (each chunk is a different file)`,
    );
  seen.urlAt.set(url.href, i);
  const twinHash = seen.hashAt.get(c['sha256']);
  if (twinHash !== undefined)
    throw invalid(
      at('sha256'),
      `equals chunks[${twinHash}].sha256 (the same bytes listed twice; each chunk is a different part of the model)`,
    );
  seen.hashAt.set(c['sha256'], i);
  return { ...(c as unknown as ManifestChunk), url: url.href };
}

/** The optional `source` (the file the chunks were made from). */
function checkSource(m: Record<string, unknown>): void {
  const source = m['source'] as Record<string, unknown> | undefined;
  if (source === undefined) return;
  if (typeof source !== 'object' || source === null) throw invalid('source', 'must be an object');
  if (
    source['sha256'] !== undefined &&
    (typeof source['sha256'] !== 'string' || !SHA256.test(source['sha256']))
  )
    throw invalid('source.sha256', 'must be 64 lowercase hex digits');
  if (
    m['layout'] === 'byte-chunks' &&
    source['bytes'] !== undefined &&
    source['bytes'] !== m['totalBytes']
  ) {
    throw invalid(
      'source.bytes',
      `is ${String(source['bytes'])} but byte-chunks must add up to the source (${m['totalBytes']})`,
    );
  }
}
