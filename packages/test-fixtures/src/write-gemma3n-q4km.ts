import { GGUFValueType } from '@huggingface/gguf';
import { type GgufKv, type TensorSource, writeGgufStream } from './gguf-stream.js';
import { GEMMA3N, gemma3nHeader, type HeaderTensor, quantizedOrder } from './model-headers.js';
import { f16Source, f32Source, kQuantSource, type SourceSeed } from './tensor-sources.js';
import { buildGemmaVocab, type Vocab } from './vocab.js';
import { tokenizerKeys } from './write-tiny-llama.js';

/** Options of `writeGemma3nQ4KM`. */
export interface Gemma3nQ4KMOptions {
  /** Which published shape. Default E4B. */
  variant?: keyof typeof GEMMA3N;
  /** PRNG seed: the same seed and options give byte-identical files. Default 1. */
  seed?: number;
  /** Layers to write (default: the variant's 35 or 30). Fewer give a smaller model of the same widths. */
  layers?: number;
  /** Vocabulary size (default 262144, Gemma's). Smaller only for quick tests. */
  vocab?: number;
}

/** What `writeGemma3nQ4KM` wrote. */
export interface Gemma3nQ4KMResult {
  path: string;
  /** File size in bytes. */
  bytes: number;
  variant: keyof typeof GEMMA3N;
  layers: number;
  vocabSize: number;
  tensorCount: number;
  /** Wall time of the write, in seconds. */
  seconds: number;
}

/** A Gemma-style chat template (turns between `<start_of_turn>` and `<end_of_turn>`). */
export const GEMMA_CHAT_TEMPLATE =
  '{{ bos_token }}{% for message in messages %}' +
  "{% if message['role'] == 'assistant' %}{% set role = 'model' %}" +
  "{% else %}{% set role = message['role'] %}{% endif %}" +
  "<start_of_turn>{{ role }}\n{{ message['content'] | trim }}<end_of_turn>\n" +
  '{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}';

// With tied embeddings a random model tends to repeat its last token: the input embedding rides
// the residual stream to the output, where it meets its own row. So token_embd is EMBED_SCALE
// times the usual 1/sqrt(2048) (the layers' outputs then dominate the residual stream), and
// output_norm's weight OUTPUT_GAIN brings logits back to about N(0, 5²) before Gemma's
// soft-capping at 30, so greedy decoding has a clear winner.
const EMBED_SCALE = 1 / 8;
const OUTPUT_GAIN = 5 / EMBED_SCALE;
// token_embd rows of special and byte tokens are this much smaller again: with tied embeddings
// they are output rows too, so they never win, and generated text stays valid UTF-8. Not zero:
// BOS needs an embedding, and AltUp's magnitude normalisation turns a zero one into NaN.
const QUIET = 1 / 16;

function source(t: HeaderTensor, vocab: Vocab, from: SourceSeed): TensorSource {
  const embd = t.name === 'token_embd.weight';
  const std = (embd ? EMBED_SCALE : 1) / Math.sqrt(t.dims[0]!);
  switch (t.type) {
    case 'Q4_K':
    case 'Q6_K':
      return kQuantSource(
        t.name,
        t.dims,
        t.type,
        std,
        from,
        embd ? { rows: vocab.firstTextToken, factor: QUIET } : undefined,
      );
    case 'F16':
      return f16Source(t.name, t.dims, std, from);
    case 'F32':
      if (t.dims.length > 1) return f32Source(t.name, t.dims, { std }, from);
      return f32Source(
        t.name,
        t.dims,
        { value: t.name === 'output_norm.weight' ? OUTPUT_GAIN : 1 },
        from,
      );
    default:
      throw new TypeError(`${t.name}: no generator for ${t.type}`);
  }
}

/**
 * Writes a random-weight Gemma 3n GGUF in the shape of the published Q4_K_M files: llama.cpp's
 * `gemma3n` tensors in the real widths, all layers, Gemma's 262144-token vocabulary size, tied
 * embeddings, and each tensor in the type and order `llama-quantize … Q4_K_M` gives them
 * (E4B 4.84 GB, E2B 3.31 GB). The quantized blocks are written directly (random quants under
 * fixed scales chosen so weights have std 1/sqrt(fan-in)), streamed in 8 MiB chunks. Output is
 * gibberish by design; load and decode speed follow the real model's.
 */
export async function writeGemma3nQ4KM(
  path: string,
  options: Gemma3nQ4KMOptions = {},
): Promise<Gemma3nQ4KMResult> {
  const started = performance.now();
  const variant = options.variant ?? 'E4B';
  const seed = options.seed ?? 1;
  const layers = options.layers ?? GEMMA3N[variant].layers;
  const vocab = buildGemmaVocab(options.vocab);
  const header = gemma3nHeader(variant, { layers, vocab: vocab.tokens.length });
  const tensors = quantizedOrder(header.tensors).map((t, i) =>
    source(t, vocab, { seed, stream: i }),
  );
  const u32 = (value: number) => ({ value, type: GGUFValueType.UINT32 });
  const kv: GgufKv = {
    ...header.metadata,
    'general.quantization_version': u32(2),
    'gemma3n.rope.freq_base': { value: 1_000_000, type: GGUFValueType.FLOAT32 },
    'gemma3n.final_logit_softcapping': { value: 30, type: GGUFValueType.FLOAT32 },
    'gemma3n.altup.active_idx': u32(0),
    ...tokenizerKeys(vocab, false),
    'tokenizer.ggml.padding_token_id': u32(vocab.pad),
    'tokenizer.ggml.add_bos_token': { value: true, type: GGUFValueType.BOOL },
    'tokenizer.ggml.add_eos_token': { value: false, type: GGUFValueType.BOOL },
    'tokenizer.chat_template': { value: GEMMA_CHAT_TEMPLATE, type: GGUFValueType.STRING },
  };
  const bytes = await writeGgufStream(path, kv, tensors);
  return {
    path,
    bytes,
    variant,
    layers,
    vocabSize: vocab.tokens.length,
    tensorCount: tensors.length,
    seconds: (performance.now() - started) / 1000,
  };
}
