export { writeTinyLlama, TINY_CHAT_TEMPLATE } from './write-tiny-llama.js';
export type { TinyLlamaOptions, TinyLlamaResult } from './write-tiny-llama.js';
export { llamaTensors, shapeForSize, tensorDataBytes, TINY_SHAPE } from './llama-shape.js';
export type { LlamaShape, TensorSpec } from './llama-shape.js';
export { buildGemmaVocab, buildVocab, GEMMA_SPECIAL, TokenType } from './vocab.js';
export type { Vocab } from './vocab.js';
export { createNormal, createRng, createWordStream } from './prng.js';
export type { WordStream } from './prng.js';
export {
  GEMMA3N,
  gemma3nHeader,
  headerTensorBytes,
  llamaHeader,
  q4kmMoreBits,
  quantizedOrder,
  writeSparseGguf,
} from './model-headers.js';
export type { HeaderTensor, ModelHeader } from './model-headers.js';
export { GGML_TYPE, f16Bits, writeGguf } from './gguf-writer.js';
export type { DataTensor, GgmlTypeName, TensorFill } from './gguf-writer.js';
export { writeGemma3n } from './write-gemma3n.js';
export type { Gemma3nOptions } from './write-gemma3n.js';
export { writeGemma3nQ4KM, GEMMA_CHAT_TEMPLATE } from './write-gemma3n-q4km.js';
export type { Gemma3nQ4KMOptions, Gemma3nQ4KMResult } from './write-gemma3n-q4km.js';
export { writeGgufStream } from './gguf-stream.js';
export type { GgufKv, TensorSource } from './gguf-stream.js';
export {
  dequantizeQ4K,
  dequantizeQ6K,
  halfToFloat,
  Q4_K_BYTES,
  Q6_K_BYTES,
  QK_K,
  q4kHead,
  q6kTail,
} from './quant-blocks.js';
export { sidRoot } from './sid-root.js';
export { drained, startFaultServer } from './fault-server.js';
export type {
  CacheControl,
  Fault,
  FaultLogEntry,
  FaultServer,
  FaultServerOptions,
  FileHttpOptions,
} from './fault-server.js';
export { startJsonServer } from './json-server.js';
export type { JsonServer, SeenRequest } from './json-server.js';
