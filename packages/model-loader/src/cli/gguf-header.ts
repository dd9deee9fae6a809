import {
  gguf,
  type GGUFTypedMetadata,
  GGUFValueType,
  serializeGgufMetadata,
} from '@huggingface/gguf';
import { ModelLoaderError } from '../errors.js';
import { ggufHeaderOf, type GgufHeader, type SourceTensor } from '../gguf-header-of.js';

export type { GgufHeader, SourceTensor } from '../gguf-header-of.js';

/** Reads a local GGUF's header with @huggingface/gguf (no tensor data is read). */
export async function readGgufHeader(path: string, fileBytes: number): Promise<GgufHeader> {
  let parsed;
  try {
    parsed = await gguf(path, { allowLocalFile: true, typedMetadata: true });
  } catch (cause) {
    throw new ModelLoaderError(
      'GGUF_INVALID',
      `${path} is not a readable GGUF file: ${(cause as Error).message}`,
      { cause },
    );
  }
  return ggufHeaderOf(parsed, fileBytes, path);
}

const pad = (n: number, alignment: number) => (alignment - (n % alignment)) % alignment;

/** Serialises one tensor-info record (name, dims, type, offset), little endian. */
function tensorInfo(t: SourceTensor, offset: number): Buffer {
  const name = Buffer.from(t.name, 'utf8');
  const info = Buffer.alloc(8 + name.length + 4 + 8 * t.shape.length + 4 + 8);
  let o = info.writeBigUInt64LE(BigInt(name.length), 0);
  o += name.copy(info, o);
  o = info.writeUInt32LE(t.shape.length, o);
  for (const d of t.shape) o = info.writeBigUInt64LE(d, o);
  o = info.writeUInt32LE(t.dtype, o);
  info.writeBigUInt64LE(BigInt(offset), o);
  return info;
}

/**
 * The header of one gguf-split shard (llama.cpp's format): the first shard carries every key of
 * the source, all shards carry `split.no`, `split.count` and `split.tensors.count`, and each
 * lists only its own tensors with offsets into its own data section. Padded to the alignment.
 */
export function shardHeader(
  source: GgufHeader,
  tensors: SourceTensor[],
  shard: number,
  shards: number,
): Buffer {
  const meta = source.metadata as Record<
    string,
    { value: unknown; type: GGUFValueType; subType?: GGUFValueType }
  >;
  const kv: Record<string, { value: unknown; type: GGUFValueType; subType?: GGUFValueType }> = {
    version: { value: 3, type: GGUFValueType.UINT32 },
    tensor_count: { value: BigInt(tensors.length), type: GGUFValueType.UINT64 },
    kv_count: { value: 0n, type: GGUFValueType.UINT64 },
  };
  if (shard === 0) {
    for (const [k, v] of Object.entries(meta)) {
      if (k !== 'version' && k !== 'tensor_count' && k !== 'kv_count' && !k.startsWith('split.'))
        kv[k] = v;
    }
  } else if (meta['general.alignment']) {
    kv['general.alignment'] = meta['general.alignment'];
  }
  kv['split.no'] = { value: shard, type: GGUFValueType.UINT16 };
  kv['split.count'] = { value: shards, type: GGUFValueType.UINT16 };
  kv['split.tensors.count'] = { value: source.tensors.length, type: GGUFValueType.INT32 };
  const head = Buffer.from(
    serializeGgufMetadata(kv as unknown as GGUFTypedMetadata, { alignment: 1 }),
  );
  let offset = 0;
  const infos = tensors.map((t) => {
    const info = tensorInfo(t, offset);
    offset += t.span + pad(t.span, source.alignment);
    return info;
  });
  const body = Buffer.concat([head, ...infos]);
  return Buffer.concat([body, Buffer.alloc(pad(body.length, source.alignment))]);
}

/** Bytes a tensor takes in a shard (its span, padded to the alignment). */
export function paddedSpan(t: SourceTensor, alignment: number): number {
  return t.span + pad(t.span, alignment);
}
