import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { GGUFValueType, type GGUFTypedMetadata, serializeGgufMetadata } from '@huggingface/gguf';
import { type LlamaShape, llamaTensors, TINY_SHAPE, type TensorSpec } from './llama-shape.js';
import { createNormal } from './prng.js';
import { buildVocab, type Vocab } from './vocab.js';

const ALIGNMENT = 32;
const GGML_TYPE_F32 = 0;
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

function metadata(
  shape: LlamaShape,
  vocab: Vocab,
  name: string,
  tensorCount: number,
  template: boolean,
) {
  const u32 = (value: number) => ({ value, type: GGUFValueType.UINT32 });
  const kv: GGUFTypedMetadata = {
    version: { value: 3, type: GGUFValueType.UINT32 },
    tensor_count: { value: BigInt(tensorCount), type: GGUFValueType.UINT64 },
    kv_count: { value: 0n, type: GGUFValueType.UINT64 },
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
  };
  if (template)
    kv['tokenizer.chat_template'] = { value: TINY_CHAT_TEMPLATE, type: GGUFValueType.STRING };
  return kv;
}

const pad = (n: number) => (ALIGNMENT - (n % ALIGNMENT)) % ALIGNMENT;
const elements = (t: TensorSpec) => t.dims.reduce((a, b) => a * b, 1);

/** The tensor-info section: name, dims, type and data offset of every tensor. */
function tensorInfos(specs: TensorSpec[]): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (const t of specs) {
    const name = Buffer.from(t.name, 'utf8');
    const info = Buffer.alloc(8 + name.length + 4 + 8 * t.dims.length + 4 + 8);
    let o = info.writeBigUInt64LE(BigInt(name.length), 0);
    o += name.copy(info, o);
    o = info.writeUInt32LE(t.dims.length, o);
    for (const d of t.dims) o = info.writeBigUInt64LE(BigInt(d), o);
    o = info.writeUInt32LE(GGML_TYPE_F32, o);
    info.writeBigUInt64LE(BigInt(offset), o);
    parts.push(info);
    const bytes = 4 * elements(t);
    offset += bytes + pad(bytes);
  }
  return Buffer.concat(parts);
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
  const header = serializeGgufMetadata(
    metadata(
      shape,
      vocab,
      options.name ?? 'tea-tiny-llama',
      specs.length,
      options.chatTemplate ?? true,
    ),
    { alignment: 1 },
  );
  const infos = tensorInfos(specs);
  const out = createWriteStream(path);
  let written = 0;
  const write = async (chunk: Uint8Array) => {
    written += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  };
  await write(header);
  await write(infos);
  await write(new Uint8Array(pad(header.length + infos.length)));
  const normal = createNormal(options.seed ?? 1);
  const block = new Float32Array(1 << 18);
  for (const t of specs) {
    const rowLength = t.dims[0] ?? 1;
    const total = elements(t);
    for (let done = 0; done < total; done += block.length) {
      const n = Math.min(block.length, total - done);
      for (let i = 0; i < n; i++) {
        if (t.fill === 'ones') block[i] = 1;
        else if (t.fill === 'output' && Math.floor((done + i) / rowLength) < vocab.firstTextToken)
          block[i] = 0;
        else block[i] = normal() * (t.fill === 'output' ? 1.6 : 0.2);
      }
      await write(new Uint8Array(block.buffer, 0, n * 4).slice());
    }
    await write(new Uint8Array(pad(4 * total)));
  }
  out.end();
  await once(out, 'close');
  return { path, bytes: written, shape, vocabSize: vocab.tokens.length, tensorCount: specs.length };
}
