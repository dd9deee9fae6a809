/** Hyperparameters of a generated llama model. */
export interface LlamaShape {
  /** Embedding width (`llama.embedding_length`). */
  embd: number;
  /** Attention heads (KV heads are the same). `embd` must be a multiple of it. */
  heads: number;
  /** Transformer blocks. */
  layers: number;
  /** Feed-forward width. */
  ffn: number;
  /** Training context length written to the header. */
  ctx: number;
}

/** One tensor: GGUF name and dims in ggml order (`ne0` first: the row length). */
export interface TensorSpec {
  name: string;
  dims: number[];
  /** How the generator fills it. */
  fill: 'normal' | 'ones' | 'output';
}

/** The default tiny shape: a few hundred KB with the small vocabulary. */
export const TINY_SHAPE: LlamaShape = { embd: 64, heads: 4, layers: 2, ffn: 128, ctx: 256 };

/** The tensors llama.cpp's llama loader expects, in file order. */
export function llamaTensors(shape: LlamaShape, vocabSize: number): TensorSpec[] {
  const { embd: e, ffn: f } = shape;
  const specs: TensorSpec[] = [
    { name: 'token_embd.weight', dims: [e, vocabSize], fill: 'normal' },
    { name: 'output_norm.weight', dims: [e], fill: 'ones' },
    { name: 'output.weight', dims: [e, vocabSize], fill: 'output' },
  ];
  for (let i = 0; i < shape.layers; i++) {
    const p = `blk.${i}.`;
    specs.push(
      { name: `${p}attn_norm.weight`, dims: [e], fill: 'ones' },
      { name: `${p}attn_q.weight`, dims: [e, e], fill: 'normal' },
      { name: `${p}attn_k.weight`, dims: [e, e], fill: 'normal' },
      { name: `${p}attn_v.weight`, dims: [e, e], fill: 'normal' },
      { name: `${p}attn_output.weight`, dims: [e, e], fill: 'normal' },
      { name: `${p}ffn_norm.weight`, dims: [e], fill: 'ones' },
      { name: `${p}ffn_gate.weight`, dims: [e, f], fill: 'normal' },
      { name: `${p}ffn_up.weight`, dims: [e, f], fill: 'normal' },
      { name: `${p}ffn_down.weight`, dims: [f, e], fill: 'normal' },
    );
  }
  return specs;
}

/** Bytes of F32 tensor data (without header or alignment padding). */
export function tensorDataBytes(shape: LlamaShape, vocabSize: number): number {
  return llamaTensors(shape, vocabSize).reduce(
    (sum, t) => sum + 4 * t.dims.reduce((a, b) => a * b, 1),
    0,
  );
}

/**
 * A shape whose F32 weights come to about `targetBytes`: the width grows with the size (a
 * multiple of 64, so heads stay whole) and layers make up the rest.
 */
export function shapeForSize(targetBytes: number, vocabSize: number): LlamaShape {
  if (!(targetBytes > 0)) throw new RangeError(`target size must be positive, got ${targetBytes}`);
  let embd = 64;
  // Per layer: 4 e^2 (attention) + 3 e*f with f = 2e, i.e. 10 e^2 floats; grow e while a layer
  // stays under an eighth of the target.
  while (embd < 4096 && 40 * (embd * 2) ** 2 <= targetBytes / 8) embd *= 2;
  const base = { embd, heads: Math.min(32, Math.max(4, embd / 64)), ffn: 2 * embd, ctx: 512 };
  const perLayer =
    tensorDataBytes({ ...base, layers: 1 }, vocabSize) -
    tensorDataBytes({ ...base, layers: 0 }, vocabSize);
  const fixed = tensorDataBytes({ ...base, layers: 0 }, vocabSize);
  const layers = Math.max(1, Math.round((targetBytes - fixed) / perLayer));
  return { ...base, layers };
}
