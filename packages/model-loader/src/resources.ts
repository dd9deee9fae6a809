import type { ModelResources } from './model-index.js';
import type { GgufHeader } from './gguf-header-of.js';

// Input embeddings stay in the wasm heap under offload: llama.cpp keeps the input layer on the
// CPU (gemma3n's per-layer embeddings included).
const CPU_SIDE = /^(token_embd|per_layer_token_embd)\.weight$/;

type Meta = Record<string, { value: unknown } | undefined>;

function num(meta: Meta, key: string): number | undefined {
  const v = meta[key]?.value;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

/** Per-layer KV heads (the key may hold one number or one per layer). */
function kvHeads(meta: Meta, arch: string, layers: number): number[] {
  const v =
    meta[`${arch}.attention.head_count_kv`]?.value ?? meta[`${arch}.attention.head_count`]?.value;
  if (Array.isArray(v)) return v.map(Number);
  return Array.from({ length: layers }, () => Number(v ?? 0));
}

/** A width only when it is a positive integer (a per-layer array gives its largest entry). */
function width(meta: Meta, key: string): number | undefined {
  const v = meta[key]?.value;
  const n = Array.isArray(v) ? Math.max(...v.map(Number)) : num(meta, key);
  return n !== undefined && Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * Resource needs from GGUF headers: `headers[0]` is the model (or its first gguf-split shard,
 * which carries every key); the others are the remaining shards (tensor lists only).
 */
export function computeResources(headers: GgufHeader[]): ModelResources {
  let weightsBytes = 0;
  let cpuBytes = 0;
  let largestTensorBytes = 0;
  for (const h of headers)
    for (const t of h.tensors) {
      weightsBytes += t.span;
      if (CPU_SIDE.test(t.name)) cpuBytes += t.span;
      largestTensorBytes = Math.max(largestTensorBytes, t.span);
    }
  const meta = headers[0]!.metadata as Meta;
  const arch = String(meta['general.architecture']?.value ?? '');
  const layers = num(meta, `${arch}.block_count`) ?? 0;
  // gemma3n: the last `shared_kv_layers` layers reuse earlier layers' KV and store none.
  const shared = num(meta, `${arch}.attention.shared_kv_layers`) ?? 0;
  const embd = num(meta, `${arch}.embedding_length`) ?? 0;
  const heads = num(meta, `${arch}.attention.head_count`) ?? 0;
  const headDim = heads ? embd / heads : 0;
  const keyLen = num(meta, `${arch}.attention.key_length`) ?? headDim;
  const valueLen = num(meta, `${arch}.attention.value_length`) ?? headDim;
  const perLayer = kvHeads(meta, arch, layers).slice(0, Math.max(0, layers - shared));
  const kvHeadsTotal = perLayer.reduce((a, b) => a + b, 0);
  const kvBytesPer1kTokens = Math.round(1024 * kvHeadsTotal * (keyLen + valueLen) * 2);
  const tokens = meta['tokenizer.ggml.tokens']?.value;
  const vocabSize = Array.isArray(tokens) ? tokens.length : width(meta, `${arch}.vocab_size`);
  const embeddingLength = width(meta, `${arch}.embedding_length`);
  const feedForwardLength = width(meta, `${arch}.feed_forward_length`);
  const headCount = width(meta, `${arch}.attention.head_count`);
  return {
    weightsBytes,
    cpuBytes,
    offloadableBytes: weightsBytes - cpuBytes,
    kvBytesPer1kTokens,
    largestTensorBytes,
    ...(vocabSize && vocabSize > 0 ? { vocabSize } : {}),
    ...(embeddingLength ? { embeddingLength } : {}),
    ...(feedForwardLength ? { feedForwardLength } : {}),
    ...(headCount ? { headCount } : {}),
  };
}
