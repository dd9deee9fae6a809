import { open } from 'node:fs/promises';
import type { GGUFValueType } from '@huggingface/gguf';
import { type GgmlTypeName, ggufHeader, padTo, tensorInfo } from './gguf-writer.js';

/** A tensor whose data is generated on the fly, in units (quant blocks or elements). */
export interface TensorSource {
  name: string;
  /** Dims in ggml order (row length first). */
  dims: number[];
  type: GgmlTypeName;
  /** Bytes of the data. */
  bytes: number;
  /** Bytes of one generation unit: every `fill` covers whole units (a quant block, an element). */
  unit: number;
  /**
   * Writes bytes [start, start + length) of the tensor's data to `buf[0, length)`. `buf` is
   * 4-byte aligned and has at least 4 bytes of slack after `length` (free to scribble on).
   */
  fill(buf: Uint8Array, length: number, start: number): void;
}

/** GGUF metadata as `@huggingface/gguf`'s serializer takes it. */
export type GgufKv = Record<
  string,
  { value: unknown; type: GGUFValueType; subType?: GGUFValueType }
>;

const CHUNK = 8 << 20;

/**
 * Writes a GGUF v3 file whose tensor data is generated chunk by chunk: memory stays at two
 * 8 MiB buffers whatever the model size, and the next chunk is generated while the previous
 * one is being written (the write runs on libuv's thread pool). Returns the bytes written.
 */
export async function writeGgufStream(
  path: string,
  kv: GgufKv,
  tensors: TensorSource[],
): Promise<number> {
  let offset = 0;
  const infos = tensors.map((t) => {
    const info = tensorInfo(t.name, t.dims, t.type, offset);
    offset += t.bytes + padTo(t.bytes);
    return info;
  });
  const header = ggufHeader(kv, infos);
  const file = await open(path, 'w');
  let position = 0;
  let pending: Promise<unknown> = Promise.resolve();
  const buffers = [new Uint8Array(CHUNK + 64), new Uint8Array(CHUNK + 64)];
  let turn = 0;
  try {
    const write = async (data: Uint8Array) => {
      await pending; // at most one write in flight; the other buffer is free to fill
      pending = file.write(data, 0, data.length, position);
      position += data.length;
    };
    await write(Buffer.concat([header, new Uint8Array(padTo(header.length))]));
    for (const t of tensors) {
      const step = Math.max(1, Math.floor(CHUNK / t.unit)) * t.unit;
      for (let start = 0; start < t.bytes; start += step) {
        const length = Math.min(step, t.bytes - start);
        const buf = buffers[turn]!;
        turn ^= 1;
        // `buf` was last handed to the write before the pending one, which has finished.
        t.fill(buf, length, start);
        await write(buf.subarray(0, length));
      }
      const pad = padTo(t.bytes);
      if (pad) await write(new Uint8Array(pad));
    }
    await pending;
  } finally {
    await file.close();
  }
  return position;
}
