import { GGUFValueType } from '@huggingface/gguf';
import { type DataTensor, writeGguf } from './gguf-writer.js';
import { type LlamaShape, llamaTensors, TINY_SHAPE } from './llama-shape.js';
import { buildVocab, type Vocab } from './vocab.js';

/** A minimal chat template (Jinja, as llama.cpp's minja renders it): "user: hi\nassistant:". */
export const TINY_CHAT_TEMPLATE =
  "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}" +
  '{% if add_generation_prompt %}assistant:{% endif %}';

/** Options of `writeTinyLlama`. */
export interface TinyLlamaOptions {
  /** PRNG seed: the same seed and shape give byte-identical files. Default 1. */
  seed?: number;
  /** Model shape; default `TINY_SHAPE` (a few hundred KB). */
  shape?: LlamaShape;
  /** `general.name`. Default `tea-tiny-llama`. */
  name?: string;
  /** Words in the vocabulary besides letters and bytes. Default 60. */
  words?: number;
  /** Write a chat template (default true). */
  chatTemplate?: boolean;
}

/** What was written. */
export interface TinyLlamaResult {
  path: string;
  bytes: number;
  shape: LlamaShape;
  vocabSize: number;
  tensorCount: number;
}

/** The tokenizer keys of a generated vocabulary (SPM, as llama.cpp's `llama` tokenizer reads it). */
export function tokenizerKeys(vocab: Vocab, template: boolean) {
  const u32 = (value: number) => ({ value, type: GGUFValueType.UINT32 });
  return {
    'tokenizer.ggml.model': { value: 'llama', type: GGUFValueType.STRING },
    'tokenizer.ggml.tokens': {
      value: vocab.tokens,
      type: GGUFValueType.ARRAY,
      subType: GGUFValueType.STRING,
    },
    'tokenizer.ggml.scores': {
      value: vocab.scores,
      type: GGUFValueType.ARRAY,
      subType: GGUFValueType.FLOAT32,
    },
    'tokenizer.ggml.token_type': {
      value: vocab.types,
      type: GGUFValueType.ARRAY,
      subType: GGUFValueType.INT32,
    },
    'tokenizer.ggml.bos_token_id': u32(vocab.bos),
    'tokenizer.ggml.eos_token_id': u32(vocab.eos),
    'tokenizer.ggml.unknown_token_id': u32(vocab.unk),
    ...(template
      ? { 'tokenizer.chat_template': { value: TINY_CHAT_TEMPLATE, type: GGUFValueType.STRING } }
      : {}),
  };
}

function metadata(shape: LlamaShape, vocab: Vocab, name: string, template: boolean) {
  const u32 = (value: number) => ({ value, type: GGUFValueType.UINT32 });
  return {
    'general.architecture': { value: 'llama', type: GGUFValueType.STRING },
    'general.name': { value: name, type: GGUFValueType.STRING },
    'general.file_type': u32(0),
    'llama.context_length': u32(shape.ctx),
    'llama.embedding_length': u32(shape.embd),
    'llama.block_count': u32(shape.layers),
    'llama.feed_forward_length': u32(shape.ffn),
    'llama.attention.head_count': u32(shape.heads),
    'llama.attention.head_count_kv': u32(shape.heads),
    'llama.rope.dimension_count': u32(shape.embd / shape.heads),
    'llama.attention.layer_norm_rms_epsilon': { value: 1e-5, type: GGUFValueType.FLOAT32 },
    ...tokenizerKeys(vocab, template),
  };
}

/**
 * Writes a random-weight llama GGUF (v3, F32) that llama.cpp / wllama load and generate with.
 * Streams tensor data in 1 MiB blocks, so multi-GB models need little memory. The output layer
 * is scaled up (so greedy decoding has a well separated top token) and zero for special and
 * byte tokens (so generated text is always valid UTF-8).
 */
export async function writeTinyLlama(
  path: string,
  options: TinyLlamaOptions = {},
): Promise<TinyLlamaResult> {
  const shape = options.shape ?? TINY_SHAPE;
  if (shape.embd % shape.heads !== 0)
    throw new RangeError(`embd ${shape.embd} must be a multiple of heads ${shape.heads}`);
  const vocab = buildVocab(options.words ?? 60);
  const specs = llamaTensors(shape, vocab.tokens.length);
  const fills = {
    normal: { kind: 'normal', scale: 0.2 },
    ones: { kind: 'ones' },
    output: { kind: 'output', scale: 1.6 },
  } as const;
  const tensors: DataTensor[] = specs.map((t) => ({
    name: t.name,
    dims: t.dims,
    type: 'F32',
    fill: fills[t.fill],
  }));
  const written = await writeGguf(
    path,
    metadata(shape, vocab, options.name ?? 'tea-tiny-llama', options.chatTemplate ?? true),
    tensors,
    { seed: options.seed ?? 1, outputZeroRows: vocab.firstTextToken },
  );
  return { path, bytes: written, shape, vocabSize: vocab.tokens.length, tensorCount: specs.length };
}
