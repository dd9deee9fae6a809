import { isHubReference, parseHubReference } from '@the-edge-agent/model-loader';
import type { TeaLlmConfig } from './config.js';
import { TeaError } from './errors.js';

/** The config with `model` (and `modelUrl`) turned into the source fields the sdk loads from. */
export type ResolvedConfig = Omit<TeaLlmConfig, 'model' | 'modelUrl'> & {
  /**
   * GGUF files by URL, or `hf:` references (checked here, resolved by model-loader's
   * `acquireModel`), cached with their SHA-256 pinned on first use.
   */
  ggufUrls?: string[];
};

const SOURCES = ['manifestUrl', 'manifest', 'modelUrl', 'modelFiles'] as const;

/**
 * Reads `config.model`: a manifest URL, a models.json URL, a GGUF URL (or a list of shard URLs),
 * an `hf:` hub reference, or a profile id. `modelUrl` is a GGUF URL too.
 * @throws {TeaError} `INVALID_ARGUMENT` when `model` is combined with another source, or is empty.
 */
export function resolveModelOption(config: TeaLlmConfig): ResolvedConfig {
  const { model, modelUrl, ...rest } = config;
  if (model === undefined) return modelUrl ? { ...rest, ggufUrls: [String(modelUrl)] } : rest;
  const other = SOURCES.find((k) => config[k] !== undefined);
  if (other)
    throw new TeaError(
      'INVALID_ARGUMENT',
      `createTea got both \`model\` and \`${other}\``,
      'give the model one way: `model` alone (a URL, an hf: reference or a profile id)',
    );
  const list = Array.isArray(model) ? model.map(String) : [String(model)];
  if (list.length === 0 || list.some((m) => !m.trim()))
    throw new TeaError(
      'INVALID_ARGUMENT',
      '`model` is empty',
      'pass a manifest or models.json URL, a .gguf URL, hf:owner/repo/file.gguf@revision, or a profile id',
    );
  if (list.length > 1 || /\.gguf([?#]|$)/i.test(list[0]!) || isHubReference(list[0]!)) {
    // A malformed hub reference fails here, before anything loads.
    for (const m of list) if (isHubReference(m)) parseHubReference(m);
    return { ...rest, ggufUrls: list };
  }
  const one = list[0]!;
  if (/(^|\/)models\.json([?#]|$)/i.test(one)) return { ...rest, profiles: one };
  if (/\.json([?#]|$)/i.test(one) || /^(https?:|\/|\.\.?\/)/.test(one))
    return { ...rest, manifestUrl: one };
  // A profile id of the given (or bundled) models.json.
  return { ...rest, profile: one };
}
