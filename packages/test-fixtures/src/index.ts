export { writeTinyLlama, TINY_CHAT_TEMPLATE } from './write-tiny-llama.js';
export type { TinyLlamaOptions, TinyLlamaResult } from './write-tiny-llama.js';
export { llamaTensors, shapeForSize, tensorDataBytes, TINY_SHAPE } from './llama-shape.js';
export type { LlamaShape, TensorSpec } from './llama-shape.js';
export { buildVocab, TokenType } from './vocab.js';
export type { Vocab } from './vocab.js';
export { createNormal, createRng } from './prng.js';
export {
  GEMMA3N,
  gemma3nHeader,
  headerTensorBytes,
  llamaHeader,
  writeSparseGguf,
} from './model-headers.js';
export type { HeaderTensor, ModelHeader } from './model-headers.js';
export { GGML_TYPE, f16Bits, writeGguf } from './gguf-writer.js';
export type { DataTensor, GgmlTypeName, TensorFill } from './gguf-writer.js';
export { writeGemma3n } from './write-gemma3n.js';
export type { Gemma3nOptions } from './write-gemma3n.js';
