import { ModelLoaderError } from './errors.js';
import { readVersionedJson } from './json-document.js';

/** Where a profile can run: CPU-only in wllama's wasm heap, or with WebGPU offload. */
export type RunMode = 'cpu' | 'webgpu';

/** Resource needs of a model, computed from its GGUF header (`tea-model inspect --json`). */
export interface ModelResources {
  /** Bytes of all tensor data. */
  weightsBytes: number;
  /** Weight bytes that stay in the wasm heap even with WebGPU offload (token embeddings, ...). */
  cpuBytes: number;
  /** Weight bytes llama.cpp can offload to the GPU. */
  offloadableBytes: number;
  /** KV-cache bytes per 1,024 tokens of context (f16 K and V). */
  kvBytesPer1kTokens: number;
  /** The largest single tensor (a GPU buffer must hold it). */
  largestTensorBytes: number;
  /** Vocabulary size, embedding and FFN widths, attention heads: they size the compute buffers. */
  vocabSize?: number;
  embeddingLength?: number;
  feedForwardLength?: number;
  headCount?: number;
}

/** One model profile of a `models.json`. */
export interface ModelProfile {
  id: string;
  version: string;
  /** Human-readable name. */
  label?: string;
  /** The profile's manifest, resolved against the `models.json` URL. */
  manifest: string;
  totalBytes: number;
  chunks: number;
  architecture?: string;
  quantization?: string;
  /** Where it can run, best first (e.g. `["webgpu"]` for a model over the CPU heap ceiling). */
  modes: RunMode[];
  resources?: ModelResources;
}

/** `models.json`, version 1: the model profiles a release or a site offers, best first. */
export interface ModelIndex {
  modelsVersion: 1;
  profiles: ModelProfile[];
}

/** A validated index whose profile manifests carry absolute URLs. */
export interface ParsedModelIndex extends ModelIndex {
  profiles: Array<ModelProfile & { manifestUrl: string }>;
  indexUrl: string;
}

function invalid(field: string, why: string): ModelLoaderError {
  return new ModelLoaderError('MODELS_INDEX_INVALID', `models.json field \`${field}\` ${why}`, {
    field,
  });
}

const isPositiveInt = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
const isCount = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const RESOURCE_FIELDS = [
  'weightsBytes',
  'cpuBytes',
  'offloadableBytes',
  'kvBytesPer1kTokens',
  'largestTensorBytes',
] as const;
const OPTIONAL_RESOURCE_FIELDS = [
  'vocabSize',
  'embeddingLength',
  'feedForwardLength',
  'headCount',
] as const;

function checkProfile(p: unknown, i: number, base: string): ModelProfile & { manifestUrl: string } {
  const at = (k: string) => `profiles[${i}].${k}`;
  if (!p || typeof p !== 'object' || Array.isArray(p))
    throw invalid(`profiles[${i}]`, 'must be an object');
  const r = p as Record<string, unknown>;
  for (const k of ['id', 'version', 'manifest'])
    if (typeof r[k] !== 'string' || !r[k]) throw invalid(at(k), 'must be a non-empty string');
  for (const k of ['label', 'architecture', 'quantization'])
    if (r[k] !== undefined && typeof r[k] !== 'string') throw invalid(at(k), 'must be a string');
  if (!isPositiveInt(r['totalBytes']))
    throw invalid(at('totalBytes'), 'must be a positive integer');
  if (!isPositiveInt(r['chunks'])) throw invalid(at('chunks'), 'must be a positive integer');
  const modes = r['modes'];
  if (
    !Array.isArray(modes) ||
    modes.length === 0 ||
    modes.some((m) => m !== 'cpu' && m !== 'webgpu')
  )
    throw invalid(
      at('modes'),
      `must be a non-empty list of "cpu" / "webgpu", got ${JSON.stringify(modes)}`,
    );
  const res = r['resources'];
  if (res !== undefined) {
    if (!res || typeof res !== 'object') throw invalid(at('resources'), 'must be an object');
    for (const k of RESOURCE_FIELDS)
      if (!isCount((res as Record<string, unknown>)[k]))
        throw invalid(at(`resources.${k}`), 'must be a non-negative integer');
    for (const k of OPTIONAL_RESOURCE_FIELDS) {
      const v = (res as Record<string, unknown>)[k];
      if (v !== undefined && !isPositiveInt(v))
        throw invalid(at(`resources.${k}`), 'must be a positive integer when present');
    }
  }
  return {
    ...(r as unknown as ModelProfile),
    manifestUrl: new URL(r['manifest'] as string, base).href,
  };
}

/**
 * Validates a `models.json` (object or JSON text) and resolves each profile's manifest URL
 * against `url` (the index's own URL).
 * @throws {ModelLoaderError} `MODELS_INDEX_INVALID` naming the field and why.
 */
export function parseModelIndex(
  json: unknown,
  options: { url: string | URL; allowedOrigins?: string[] },
): ParsedModelIndex {
  const m = readVersionedJson(json, 'models.json', 'MODELS_INDEX_INVALID', 'modelsVersion');
  const profiles = m['profiles'];
  if (!Array.isArray(profiles) || profiles.length === 0)
    throw invalid('profiles', 'must be a non-empty list');
  const base = new URL(String(options.url)).href;
  const parsed = profiles.map((p, i) => checkProfile(p, i, base));
  // The manifests (and so the chunks) of a profile come from the index's origin unless allowed.
  const allowed = new Set([
    new URL(base).origin,
    ...(options.allowedOrigins ?? []).map((o) => new URL(o).origin),
  ]);
  parsed.forEach((p, i) => {
    const origin = new URL(p.manifestUrl).origin;
    if (!allowed.has(origin))
      throw new ModelLoaderError(
        'ORIGIN_NOT_ALLOWED',
        `profile "${p.id}" (profiles[${i}].manifest) is on ${origin}, not the origin of the models.json; pass it in allowedOrigins to allow it`,
        { url: p.manifestUrl, field: `profiles[${i}].manifest` },
      );
  });
  const ids = new Set<string>();
  parsed.forEach((p, i) => {
    if (ids.has(p.id)) throw invalid(`profiles[${i}].id`, `repeats "${p.id}"`);
    ids.add(p.id);
  });
  return { modelsVersion: 1, profiles: parsed, indexUrl: base };
}
