import { GGUFValueType } from '@huggingface/gguf';
import { type DataTensor, writeGguf } from './gguf-writer.js';
import { GEMMA3N, gemma3nHeader } from './model-headers.js';
import { buildVocab } from './vocab.js';
import { tokenizerKeys } from './write-tiny-llama.js';

/** Options of `writeGemma3n`. */
export interface Gemma3nOptions {
  /** Which published shape (embedding, heads, FFN width, per-layer inputs). Default E2B. */
  variant?: keyof typeof GEMMA3N;
  /** Layers to write (default: the variant's). Fewer layers give a smaller model of the same shape. */
  layers?: number;
  /** PRNG seed. Default 1. */
  seed?: number;
  /** Weight type of the matrices (norms stay F32). Default F16. */
  type?: 'F16' | 'F32';
}

const f32 = (value: number) => ({ value, type: GGUFValueType.FLOAT32 });
const u32 = (value: number) => ({ value, type: GGUFValueType.UINT32 });

/**
 * Writes a random-weight Gemma 3n GGUF that llama.cpp's `gemma3n` loader accepts: the variant's
 * real tensor shapes and hyperparameters (AltUp, LAuReL, per-layer embeddings), with the small
 * generated vocabulary instead of Gemma's 262k tokens, and optionally fewer layers. Output is
 * gibberish by design; load and decode speed follow the real architecture.
 */
export async function writeGemma3n(path: string, options: Gemma3nOptions = {}) {
  const variant = options.variant ?? 'E2B';
  const vocab = buildVocab(60);
  const header = gemma3nHeader(variant, {
    ...(options.layers ? { layers: options.layers } : {}),
    vocab: vocab.tokens.length,
  });
  const type = options.type ?? 'F16';
  const tensors: DataTensor[] = header.tensors.flatMap((t): DataTensor[] => {
    const fanIn = 1 / Math.sqrt(t.dims[0]!);
    if (t.dims.length === 1) return [{ ...t, type: 'F32', fill: { kind: 'ones' } }];
    const weight: DataTensor = {
      ...t,
      type: t.type === 'F32' ? 'F32' : type,
      fill: { kind: 'normal', scale: fanIn },
    };
    if (t.name !== 'token_embd.weight') return [weight];
    // An untied output layer (real Gemma ties it to token_embd): its rows for special and byte
    // tokens are zero, so text stays valid UTF-8, and logits are about N(0, 5²) before Gemma's
    // soft-capping at 30. Zeroing token_embd itself would give BOS a zero embedding, which
    // AltUp's magnitude normalisation turns into NaN.
    return [
      weight,
      { name: 'output.weight', dims: t.dims, type, fill: { kind: 'output', scale: 5 * fanIn } },
    ];
  });
  const kv = {
    ...header.metadata,
    'general.file_type': u32(type === 'F16' ? 1 : 0),
    'gemma3n.rope.freq_base': f32(1_000_000),
    'gemma3n.final_logit_softcapping': f32(30),
    'gemma3n.altup.active_idx': u32(0),
    ...tokenizerKeys(vocab, true),
  };
  const bytes = await writeGguf(path, kv, tensors, {
    seed: options.seed ?? 1,
    outputZeroRows: vocab.firstTextToken,
  });
  return {
    path,
    bytes,
    layers: options.layers ?? GEMMA3N[variant].layers,
    vocabSize: vocab.tokens.length,
  };
}
