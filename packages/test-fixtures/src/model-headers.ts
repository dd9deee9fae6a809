import { open } from 'node:fs/promises';
import { GGUFValueType } from '@huggingface/gguf';
import { type GgmlTypeName, ggufHeader, padTo, tensorInfo } from './gguf-writer.js';

/** One tensor of a header fixture: GGUF name, dims in ggml order (row length first), type. */
export interface HeaderTensor {
  name: string;
  dims: number[];
  type: GgmlTypeName;
}

/** A model described by its header only: metadata and tensors, no weights. */
export interface ModelHeader {
  metadata: Record<string, { value: unknown; type: GGUFValueType; subType?: GGUFValueType }>;
  tensors: HeaderTensor[];
}

/** Bytes of a tensor's data in its type: ggml stores quantized rows in fixed-size blocks. */
export function headerTensorBytes(t: HeaderTensor): number {
  const n = t.dims.reduce((a, b) => a * b, 1);
  switch (t.type) {
    case 'F32':
      return n * 4;
    case 'F16':
      return n * 2;
    case 'Q8_0': // 32 weights: an f16 scale + 32 int8
      return (n / 32) * (2 + 32);
    case 'Q4_K': // 256 weights: f16 d + f16 dmin + 12 bytes of scales + 128 bytes of nibbles
      return (n / 256) * (2 + 2 + 12 + 128);
    case 'Q6_K': // 256 weights: 128 low nibbles + 64 high bits + 16 int8 scales + f16 d
      return (n / 256) * (128 + 64 + 16 + 2);
  }
}

const u32 = (value: number) => ({ value, type: GGUFValueType.UINT32 });
const f32 = (value: number) => ({ value, type: GGUFValueType.FLOAT32 });
const str = (value: string) => ({ value, type: GGUFValueType.STRING });

/**
 * llama-quantize's Q4_K_M choice for the quantized matrices (learned from llama.cpp 0.7.0's
 * `llama-quantize` on F16 Gemma 3n files, see model-headers.test.ts): Q6_K for `attn_v` and
 * `ffn_down` in layers i < n/8, i >= 7n/8 (integer division) and every third layer between
 * ((i - n/8) % 3 == 2), Q4_K elsewhere. E4B (35 layers): 0-3, 6, 9, ..., 27, 30-34.
 */
export function q4kmMoreBits(layer: number, layers: number): boolean {
  const eighth = Math.floor(layers / 8);
  return layer < eighth || layer >= Math.floor((7 * layers) / 8) || (layer - eighth) % 3 === 2;
}

function q4km(kind: 'v_or_down' | 'other', layer: number, layers: number): GgmlTypeName {
  return kind === 'v_or_down' && q4kmMoreBits(layer, layers) ? 'Q6_K' : 'Q4_K';
}

/** Published hyperparameters of Gemma 3n (Hugging Face configs of google/gemma-3n-E2B/E4B-it). */
export const GEMMA3N = {
  E2B: { layers: 30, ffn: 8192, sharedKvLayers: 10 },
  E4B: { layers: 35, ffn: 16384, sharedKvLayers: 15 },
} as const;

/**
 * The header of a Gemma 3n Q4_K_M GGUF in its real tensor shapes (embedding 2048, 8 heads of
 * 256, 2 KV heads, vocab 262144, 256-wide per-layer embeddings, 4 AltUp streams, LAuReL rank 64).
 * `layers` and `vocab` reduce the layer count and vocabulary for smaller fixtures.
 *
 * Types are what `llama-quantize … Q4_K_M` makes of llama.cpp's F16 conversion: the tied
 * `token_embd` and `per_layer_token_embd` become Q6_K (tied embeddings are quantized as the
 * output layer), the matrices Q4_K or Q6_K (`q4kmMoreBits`), `inp_gate` and `proj` Q4_K; it
 * never quantizes `altup*`, `laurel*` or `per_layer_model_proj`, so those keep the converter's
 * F16 (and F32 for the AltUp coefficients and every norm).
 */
export function gemma3nHeader(
  variant: keyof typeof GEMMA3N,
  options: { layers?: number; vocab?: number } = {},
): ModelHeader {
  const base = GEMMA3N[variant];
  const layers = options.layers ?? base.layers;
  const embd = 2048;
  const heads = 8;
  const kvHeads = 2;
  const headDim = 256;
  const vocab = options.vocab ?? 262144;
  const perLayer = 256;
  const altup = 4;
  const laurel = 64;
  const tensors: HeaderTensor[] = [
    { name: 'token_embd.weight', dims: [embd, vocab], type: 'Q6_K' },
    { name: 'per_layer_token_embd.weight', dims: [perLayer * layers, vocab], type: 'Q6_K' },
    { name: 'per_layer_model_proj.weight', dims: [embd, perLayer * layers], type: 'F16' },
    { name: 'per_layer_proj_norm.weight', dims: [perLayer], type: 'F32' },
    { name: 'altup_proj.weight', dims: [embd, embd, altup - 1], type: 'F16' },
    { name: 'altup_unembd_proj.weight', dims: [embd, embd, altup - 1], type: 'F16' },
    { name: 'output_norm.weight', dims: [embd], type: 'F32' },
  ];
  for (let i = 0; i < layers; i++) {
    const p = `blk.${i}.`;
    const big = (name: string, dims: number[], kind: 'v_or_down' | 'other' = 'other') =>
      tensors.push({ name: `${p}${name}.weight`, dims, type: q4km(kind, i, layers) });
    const small = (name: string, dims: number[], type: GgmlTypeName = 'F32') =>
      tensors.push({ name: `${p}${name}.weight`, dims, type });
    small('attn_norm', [embd]);
    big('attn_q', [embd, heads * headDim]);
    big('attn_k', [embd, kvHeads * headDim]);
    big('attn_v', [embd, kvHeads * headDim], 'v_or_down');
    big('attn_output', [heads * headDim, embd]);
    small('attn_q_norm', [headDim]);
    small('attn_k_norm', [headDim]);
    small('post_attention_norm', [embd]);
    small('ffn_norm', [embd]);
    big('ffn_gate', [embd, base.ffn]);
    big('ffn_up', [embd, base.ffn]);
    big('ffn_down', [base.ffn, embd], 'v_or_down');
    small('post_ffw_norm', [embd]);
    small('altup_correct_coef', [altup, altup]);
    small('altup_correct_scale', [embd]);
    small('altup_predict_coef', [altup, altup * altup]);
    small('altup_router', [embd, altup], 'F16');
    small('altup_router_norm', [embd]);
    small('laurel_l', [embd, laurel], 'F16');
    small('laurel_r', [laurel, embd], 'F16');
    small('laurel_post_norm', [embd]);
    big('inp_gate', [embd, perLayer]);
    big('proj', [perLayer, embd]);
    small('post_norm', [embd]);
  }
  return {
    metadata: {
      'general.architecture': str('gemma3n'),
      'general.name': str(`gemma-3n-${variant}-it shape fixture`),
      'general.file_type': u32(15), // MOSTLY_Q4_K_M
      'gemma3n.block_count': u32(layers),
      'gemma3n.context_length': u32(32768),
      'gemma3n.embedding_length': u32(embd),
      'gemma3n.feed_forward_length': u32(base.ffn),
      'gemma3n.attention.head_count': u32(heads),
      'gemma3n.attention.head_count_kv': u32(kvHeads),
      'gemma3n.attention.key_length': u32(headDim),
      'gemma3n.attention.value_length': u32(headDim),
      'gemma3n.attention.shared_kv_layers': u32(
        Math.round((base.sharedKvLayers * layers) / base.layers),
      ),
      'gemma3n.attention.sliding_window': u32(512),
      'gemma3n.attention.layer_norm_rms_epsilon': f32(1e-6),
      'gemma3n.embedding_length_per_layer_input': u32(perLayer),
      'gemma3n.altup.num_inputs': u32(altup),
    },
    tensors,
  };
}

/**
 * Tensors in the order `llama-quantize` writes them: llama.cpp's loader keys its tensors by
 * (layer, name), so the non-layer tensors come first by name, then each `blk.N` by name.
 */
export function quantizedOrder<T extends { name: string }>(tensors: T[]): T[] {
  const layer = (name: string) => Number(/^blk\.(\d+)\./.exec(name)?.[1] ?? -1);
  return [...tensors].sort((a, b) => {
    const byLayer = layer(a.name) - layer(b.name);
    return byLayer || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  });
}

/** A llama-architecture header of any size (e.g. 7B: embd 4096, 32 layers, ffn 11008). */
export function llamaHeader(shape: {
  embd: number;
  heads: number;
  kvHeads: number;
  layers: number;
  ffn: number;
  vocab: number;
  type: GgmlTypeName;
}): ModelHeader {
  const { embd, heads, kvHeads, layers, ffn, vocab, type } = shape;
  const headDim = embd / heads;
  const tensors: HeaderTensor[] = [
    { name: 'token_embd.weight', dims: [embd, vocab], type },
    { name: 'output_norm.weight', dims: [embd], type: 'F32' },
    { name: 'output.weight', dims: [embd, vocab], type },
  ];
  for (let i = 0; i < layers; i++) {
    const p = `blk.${i}.`;
    tensors.push(
      { name: `${p}attn_norm.weight`, dims: [embd], type: 'F32' },
      { name: `${p}attn_q.weight`, dims: [embd, embd], type },
      { name: `${p}attn_k.weight`, dims: [embd, kvHeads * headDim], type },
      { name: `${p}attn_v.weight`, dims: [embd, kvHeads * headDim], type },
      { name: `${p}attn_output.weight`, dims: [embd, embd], type },
      { name: `${p}ffn_norm.weight`, dims: [embd], type: 'F32' },
      { name: `${p}ffn_gate.weight`, dims: [embd, ffn], type },
      { name: `${p}ffn_up.weight`, dims: [embd, ffn], type },
      { name: `${p}ffn_down.weight`, dims: [ffn, embd], type },
    );
  }
  return {
    metadata: {
      'general.architecture': str('llama'),
      'general.name': str('llama shape fixture'),
      'llama.block_count': u32(layers),
      'llama.context_length': u32(4096),
      'llama.embedding_length': u32(embd),
      'llama.feed_forward_length': u32(ffn),
      'llama.attention.head_count': u32(heads),
      'llama.attention.head_count_kv': u32(kvHeads),
      'llama.attention.layer_norm_rms_epsilon': f32(1e-5),
    },
    tensors,
  };
}

/**
 * Writes a GGUF whose header describes `header` and whose data section is a hole: the file has
 * the full size the header claims (4.6 GB for E4B) but, sparse, takes almost no disk. Readers of
 * the header (and of sizes) see the real model; nothing can run it.
 */
export async function writeSparseGguf(
  path: string,
  header: ModelHeader,
): Promise<{ path: string; bytes: number; headerBytes: number; dataBytes: number }> {
  let offset = 0;
  const infos = header.tensors.map((t) => {
    const info = tensorInfo(t.name, t.dims, t.type, offset);
    const bytes = headerTensorBytes(t);
    offset += bytes + padTo(bytes);
    return info;
  });
  const head = ggufHeader(header.metadata, infos);
  const headerBytes = head.length + padTo(head.length);
  const file = await open(path, 'w');
  try {
    await file.write(head, 0, head.length, 0);
    await file.truncate(headerBytes + offset);
  } finally {
    await file.close();
  }
  return { path, bytes: headerBytes + offset, headerBytes, dataBytes: offset };
}
