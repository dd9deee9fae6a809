import type { GGUFParseOutput, GGUFTypedMetadata } from '@huggingface/gguf';
import { ModelLoaderError } from './errors.js';

// Browser-safe: types only from @huggingface/gguf, so that the library entry does not load the
// GGUF reader (sources/gguf-headers.ts imports it on use; the CLI imports it directly).

/** A tensor of the source file and where its bytes (with trailing alignment padding) lie. */
export interface SourceTensor {
  name: string;
  shape: bigint[];
  dtype: number;
  /** Absolute file offset of the tensor's data. */
  start: number;
  /** Bytes from `start` to the next tensor (or the end of the file), padding included. */
  span: number;
}

/** A parsed GGUF header: typed metadata, tensors in file order, data offset, alignment. */
export interface GgufHeader {
  metadata: GGUFTypedMetadata;
  tensors: SourceTensor[];
  dataOffset: number;
  alignment: number;
  fileBytes: number;
}

/** The header of a parsed GGUF (`gguf(…, { typedMetadata: true })`) of `fileBytes` bytes. */
export function ggufHeaderOf(
  parsed: GGUFParseOutput & { typedMetadata: GGUFTypedMetadata },
  fileBytes: number,
  name: string,
): GgufHeader {
  const dataOffset = Number(parsed.tensorDataOffset);
  const alignment = Number((parsed.metadata as Record<string, unknown>)['general.alignment'] ?? 32);
  const sorted = [...parsed.tensorInfos].sort((a, b) => (a.offset < b.offset ? -1 : 1));
  const tensors = sorted.map((t, i) => {
    const start = dataOffset + Number(t.offset);
    const next = sorted[i + 1];
    const end = next ? dataOffset + Number(next.offset) : fileBytes;
    return { name: t.name, shape: t.shape, dtype: t.dtype, start, span: end - start };
  });
  const last = tensors.at(-1);
  if (last && last.span <= 0) {
    throw new ModelLoaderError(
      'GGUF_INVALID',
      `${name} is truncated: tensor ${last.name} has no data`,
    );
  }
  return { metadata: parsed.typedMetadata, tensors, dataOffset, alignment, fileBytes };
}
