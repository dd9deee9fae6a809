import { BodyReader } from './body-reader.js';
import { aborted, type ChunkDownload } from './chunk-download.js';
import { ModelLoaderError } from './errors.js';
import type { IdleRequest } from './network-policy.js';
import { sha256OfBytes } from './sha256.js';

const NO_STATE = new Uint8Array(0);

/** Bytes handed to the browser per piece when it builds a segment's Blob. */
const BLOB_PIECE = 256 * 1024;

/**
 * A Blob of `bytes` that the browser builds itself from a stream (`new Response(stream).blob()`),
 * which it writes to disk as it goes. Blobs made in JS (`new Blob([bytes])`) are held in memory
 * until the browser has taken them, and at download speed Chromium failed IndexedDB writes of
 * them (`DataError: Failed to write blobs (InvalidBlob)`) within seconds.
 */
export function blobOf(bytes: Uint8Array<ArrayBuffer>): Promise<Blob> {
  let at = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (at >= bytes.byteLength) return controller.close();
        // A view, not a copy: `bytes` stays untouched until the Blob is built.
        controller.enqueue(bytes.subarray(at, at + BLOB_PIECE));
        at += BLOB_PIECE;
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(stream).blob();
}

/** Ends the segment in `staging`: verifies its block, persists and keeps it; or says why not. */
export async function closeSegment(d: ChunkDownload): Promise<ModelLoaderError | undefined> {
  const { o } = d;
  const offset = d.data.size;
  const view = d.staging.subarray(0, d.pending);
  if (o.blocks) {
    const k = offset / d.seg;
    const actual = await sha256OfBytes(view);
    if (actual !== o.blocks.sha256[k]) {
      o.onBytes(-d.pending);
      d.pending = 0;
      const failures = (d.blockFailures.get(k) ?? 0) + 1;
      d.blockFailures.set(k, failures);
      d.reload = true;
      return new ModelLoaderError(
        'CHUNK_HASH_MISMATCH',
        `chunk ${o.index} (${o.url}) failed verification${failures > 1 ? ' twice' : ''} at block ${k} (bytes ${offset}-${offset + view.byteLength - 1}): expected sha256 ${o.blocks.sha256[k]}, got ${actual}`,
        { chunkIndex: o.index, url: o.url },
      );
    }
  }
  // The Blob holds a copy of the bytes: the staging buffer is free again.
  const blob = await blobOf(view);
  d.pending = 0;
  await o.persist?.({ offset, data: blob, hashState: d.hasher ? d.hasher.save() : NO_STATE });
  d.data.add(blob);
  return undefined;
}

/**
 * Takes a piece of a body into the staging buffer (hashing it as it goes), up to `until` bytes
 * of the chunk, ending each segment as it fills; stops at a block that does not verify.
 */
export async function stagePiece(
  d: ChunkDownload,
  piece: Uint8Array,
  until: number,
): Promise<ModelLoaderError | undefined> {
  while (piece.byteLength > 0 && d.data.size + d.pending < until) {
    const room = Math.min(d.seg - d.pending, until - d.data.size - d.pending);
    const now = piece.byteLength > room ? piece.subarray(0, room) : piece;
    piece = piece.subarray(now.byteLength);
    d.staging.set(now, d.pending);
    d.pending += now.byteLength;
    d.hasher?.update(now);
    d.fetched += now.byteLength;
    d.o.onBytes(now.byteLength);
    if (d.pending === d.seg || d.data.size + d.pending === d.o.bytes) {
      const bad = await closeSegment(d);
      if (bad) return bad;
    }
  }
  return undefined;
}

/** What reading a body gave: where it started, why it was cut short, or a block that failed. */
export interface BodyRead {
  /** Bytes of the chunk there were before this body. */
  before: number;
  /** The error that cut the body short, if one did. */
  cut?: unknown;
  /** A block that failed verification (reading stopped there). */
  bad?: ModelLoaderError;
}

/**
 * Reads a body into the chunk up to `until`, each piece re-arming the request's idle timer. An
 * error of the store (e.g. `QUOTA_EXCEEDED`) ends the chunk at once: no more bytes.
 */
export async function readBody(
  d: ChunkDownload,
  body: ReadableStream<Uint8Array>,
  request: IdleRequest,
  until: number,
): Promise<BodyRead> {
  const reader = new BodyReader(body, d.buffer);
  const read: BodyRead = { before: d.data.size + d.pending };
  try {
    while (d.data.size + d.pending < until) {
      let piece: Uint8Array | null;
      try {
        piece = await reader.read(until - d.data.size - d.pending);
      } catch (cause) {
        read.cut = cause;
        break;
      }
      if (!piece) break;
      request.arm();
      const bad = await stagePiece(d, piece, until);
      if (bad) {
        read.bad = bad;
        break;
      }
    }
  } catch (error) {
    await reader.cancel();
    await d.o.dropPartial?.().catch(() => undefined);
    throw error;
  }
  await reader.cancel();
  if (d.o.signal?.aborted) throw aborted(d.o);
  return read;
}
