import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ModelLoaderError } from '../errors.js';
import {
  MAX_BLOCK_BYTES,
  MAX_CHUNK_BYTES,
  MIN_BLOCK_BYTES,
  type ModelManifest,
} from '../manifest.js';
import { DEFAULT_BLOCK_BYTES, FileHashes } from './file-hashes.js';
import {
  type GgufHeader,
  paddedSpan,
  readGgufHeader,
  shardHeader,
  type SourceTensor,
} from './gguf-header.js';
import { computeResources } from './resources.js';

/** Options of `pack`. */
export interface PackOptions {
  /** Output folder (created). */
  out: string;
  /** Largest file to write, in bytes (default 1.9 GiB; must be under 2 GiB). */
  maxChunkBytes?: number;
  /** `gguf-split` (default: valid GGUF shards) or `byte-chunks` (plain byte ranges). */
  layout?: 'gguf-split' | 'byte-chunks';
  /** `model.id` (default: the file name without `.gguf`). */
  id?: string;
  /** `model.version` (default `1`). */
  version?: string;
  /** Bytes per block of each chunk's block hashes (default 4 MiB: the loader's segment). */
  blockBytes?: number;
  /** Receives one line per file written. */
  log?: (line: string) => void;
  /** Where warnings go (default: `log`): a `maxChunkBytes` below what a tensor needs. */
  warn?: (line: string) => void;
}

const pad = (n: number, alignment: number) => (alignment - (n % alignment)) % alignment;
/**
 * A file name as the manifest writes it: a URL relative to the manifest (the loader resolves it
 * so), so `#`, `%`, `?` and spaces are percent-encoded (`verify` decodes them back).
 */
const asUrl = (name: string) => encodeURIComponent(name);

const shardName = (prefix: string, i: number, n: number) =>
  `${prefix}-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.gguf`;

/** Reads `[start, start + length)` of a file into the given sinks, streaming. */
async function copyRange(
  path: string,
  start: number,
  length: number,
  sinks: Array<(b: Buffer) => Promise<void> | void>,
): Promise<void> {
  if (length <= 0) return;
  for await (const piece of createReadStream(path, {
    start,
    end: start + length - 1,
    highWaterMark: 1 << 20,
  })) {
    for (const sink of sinks) await sink(piece as Buffer);
  }
}

/** An output file that hashes what it writes (whole, and block by block). */
function output(path: string, blockBytes: number) {
  const stream = createWriteStream(path);
  const hashes = new FileHashes(blockBytes);
  return {
    write: async (b: Buffer) => {
      hashes.update(b);
      if (!stream.write(b)) await once(stream, 'drain');
    },
    close: async () => {
      stream.end();
      await once(stream, 'close');
      return { bytes: hashes.bytes, ...hashes.digest() };
    },
  };
}

/** Groups tensors into shards that stay within `max` bytes, headers included. */
const infoBytes = (t: SourceTensor) =>
  8 + Buffer.byteLength(t.name) + 4 + 8 * t.shape.length + 4 + 8;

/** The largest shard one tensor alone makes (a tensor is never split), and that tensor. */
function smallestShardLimit(h: GgufHeader): { bytes: number; tensor: string } {
  let best = { bytes: 0, tensor: '' };
  // The header (metadata, a tokenizer's vocabulary: megabytes) is built once, not per tensor.
  const base = shardHeader(h, [], 0, 99).length + h.alignment;
  for (const t of h.tensors) {
    const bytes = base + infoBytes(t) + paddedSpan(t, h.alignment);
    if (bytes > best.bytes) best = { bytes, tensor: t.name };
  }
  return best;
}

function planShards(h: GgufHeader, max: number): SourceTensor[][] {
  const shards: SourceTensor[][] = [];
  let current: SourceTensor[] = [];
  let size = 0;
  const base = (i: number) => shardHeader(h, [], i, 99).length + h.alignment;
  for (const t of h.tensors) {
    const add = infoBytes(t) + paddedSpan(t, h.alignment);
    // A tensor is never split (llama.cpp's gguf-split does the same): one larger than the target
    // size gets a shard of its own, which must still be under the hard chunk limit. Gemma 3n's
    // per_layer_token_embd is 1.93 GB in E4B Q4_K_M.
    if (base(shards.length) + add >= MAX_CHUNK_BYTES) {
      throw new ModelLoaderError(
        'INVALID_ARGUMENT',
        `tensor ${t.name} alone needs ${add} bytes: a shard must stay under ${MAX_CHUNK_BYTES} bytes, and a tensor cannot be split`,
      );
    }
    if (current.length > 0 && base(shards.length) + size + add > max) {
      shards.push(current);
      current = [];
      size = 0;
    }
    current.push(t);
    size += add;
  }
  if (current.length > 0) shards.push(current);
  return shards;
}

/** The quantization name of `general.file_type`. */
export function quantization(h: GgufHeader): string | undefined {
  const fileType = (h.metadata as Record<string, { value: unknown }>)['general.file_type']?.value;
  const names: Record<number, string> = {
    0: 'F32',
    1: 'F16',
    2: 'Q4_0',
    3: 'Q4_1',
    7: 'Q8_0',
    8: 'Q5_0',
    9: 'Q5_1',
    10: 'Q2_K',
    11: 'Q3_K_S',
    12: 'Q3_K_M',
    13: 'Q3_K_L',
    14: 'Q4_K_S',
    15: 'Q4_K_M',
    16: 'Q5_K_S',
    17: 'Q5_K_M',
    18: 'Q6_K',
    32: 'BF16',
  };
  return typeof fileType === 'number' ? names[fileType] : undefined;
}

/**
 * Packs a GGUF into chunks under the size limit and writes `manifest.json` beside them.
 * `gguf-split` writes llama.cpp split shards (`NAME-0000i-of-0000N.gguf`, whole aligned tensors);
 * `byte-chunks` writes plain byte ranges. Streams: memory use does not grow with the model.
 */
export async function pack(source: string, options: PackOptions): Promise<ModelManifest> {
  const { max, blockBytes } = checkSizes(options);
  const layout = options.layout ?? 'gguf-split';
  const fileBytes = (await stat(source)).size;
  const header = await readGgufHeader(source, fileBytes);
  const prefix = basename(source).replace(/\.gguf$/i, '');
  await mkdir(options.out, { recursive: true });
  const job: PackJob = {
    source,
    fileBytes,
    header,
    max,
    blockBytes,
    out: options.out,
    sourceHash: createHash('sha256'),
    chunks: [],
    log: options.log ?? (() => undefined),
  };
  if (layout === 'byte-chunks') await writeByteChunks(job);
  else await writeShards(job, prefix, options.warn ?? job.log);
  const quant = quantization(header);
  const arch = (header.metadata as Record<string, { value: unknown }>)['general.architecture']
    ?.value;
  const manifest: ModelManifest = {
    manifestVersion: 1,
    model: {
      id: options.id ?? prefix,
      version: options.version ?? '1',
      format: 'gguf',
      ...(quant ? { quantization: quant } : {}),
      ...(typeof arch === 'string' ? { architecture: arch } : {}),
      resources: computeResources([header]),
    },
    layout,
    totalBytes: job.chunks.reduce((s, c) => s + c.bytes, 0),
    chunks: job.chunks,
    source: { file: basename(source), bytes: fileBytes, sha256: job.sourceHash.digest('hex') },
  };
  await writeFile(join(options.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  job.log(`wrote manifest.json (${job.chunks.length} chunks, ${manifest.totalBytes} bytes)`);
  return manifest;
}

/** The chunk and block limits, checked. */
function checkSizes(options: PackOptions): { max: number; blockBytes: number } {
  const max = options.maxChunkBytes ?? Math.floor(1.9 * 1024 ** 3);
  if (!(max > 0) || max >= MAX_CHUNK_BYTES) {
    throw new ModelLoaderError(
      'INVALID_ARGUMENT',
      `--max-chunk-size must be positive and under 2 GiB, got ${max}`,
    );
  }
  const blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
  if (!(blockBytes >= MIN_BLOCK_BYTES && blockBytes <= MAX_BLOCK_BYTES))
    throw new ModelLoaderError(
      'INVALID_ARGUMENT',
      `--block-size must be from ${MIN_BLOCK_BYTES} to ${MAX_BLOCK_BYTES} bytes, got ${blockBytes}`,
    );
  return { max, blockBytes };
}

/** One packing run: the source, its header, the limits, and what has been written. */
interface PackJob {
  source: string;
  fileBytes: number;
  header: GgufHeader;
  max: number;
  blockBytes: number;
  out: string;
  /** SHA-256 of the whole source, fed as its bytes are copied. */
  sourceHash: Hash;
  chunks: ModelManifest['chunks'];
  log: (line: string) => void;
}

/** `byte-chunks`: plain byte ranges of the file, in order. */
async function writeByteChunks(job: PackJob): Promise<void> {
  const { source, fileBytes, max } = job;
  const n = Math.ceil(fileBytes / max);
  for (let i = 0; i < n; i++) {
    const file = `${basename(source)}.part${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}`;
    const out = output(join(job.out, file), job.blockBytes);
    await copyRange(source, i * max, Math.min(max, fileBytes - i * max), [
      out.write,
      (b) => void job.sourceHash.update(b),
    ]);
    const { bytes, sha256, blocks } = await out.close();
    job.chunks.push({ file: asUrl(file), bytes, sha256, blocks });
    job.log(`wrote ${file} (${bytes} bytes)`);
  }
}

/** `gguf-split`: llama.cpp split shards of whole, aligned tensors, each with its own header. */
async function writeShards(job: PackJob, prefix: string, warn: (line: string) => void) {
  const { source, header, max } = job;
  const plan = planShards(header, max);
  const need = smallestShardLimit(header);
  if (need.bytes > max)
    warn(
      `warning: --max-chunk-size ${max} is below what tensor ${need.tensor} needs alone (${need.bytes} bytes with its shard header): tensors are never split, so some shards will be larger; ${need.bytes} is the smallest size every shard fits`,
    );
  await copyRange(source, 0, header.tensors[0]?.start ?? job.fileBytes, [
    (b) => void job.sourceHash.update(b),
  ]);
  for (const [i, tensors] of plan.entries()) {
    const file = shardName(prefix, i, plan.length);
    const out = output(join(job.out, file), job.blockBytes);
    await out.write(shardHeader(header, tensors, i, plan.length));
    for (const t of tensors) {
      await copyRange(source, t.start, t.span, [out.write, (b) => void job.sourceHash.update(b)]);
      const zeros = pad(t.span, header.alignment);
      if (zeros) await out.write(Buffer.alloc(zeros));
    }
    const { bytes, sha256, blocks } = await out.close();
    job.chunks.push({ file: asUrl(file), bytes, sha256, blocks });
    job.log(`wrote ${file} (${bytes} bytes, ${tensors.length} tensors)`);
  }
}
