import { ModelLoaderError, type ModelLoaderErrorCode } from './errors.js';

/**
 * Reads a versioned JSON document (text or object): a JSON object whose `versionKey` is 1.
 * @throws {ModelLoaderError} `code` naming what is wrong: not JSON, not an object, or the version.
 */
export function readVersionedJson(
  json: unknown,
  what: string,
  code: Extract<ModelLoaderErrorCode, 'MANIFEST_INVALID' | 'MODELS_INDEX_INVALID'>,
  versionKey: string,
): Record<string, unknown> {
  let m: unknown;
  try {
    m = typeof json === 'string' ? JSON.parse(json) : json;
  } catch (cause) {
    throw new ModelLoaderError(code, `${what} is not valid JSON: ${(cause as Error).message}`, {
      cause,
    });
  }
  const field = (name: string, why: string) =>
    new ModelLoaderError(code, `${what} field \`${name}\` ${why}`, { field: name });
  if (!m || typeof m !== 'object' || Array.isArray(m))
    throw field('(root)', 'must be a JSON object');
  const version = (m as Record<string, unknown>)[versionKey];
  if (version !== 1)
    throw field(
      versionKey,
      `must be 1 (this loader reads ${what} v1), got ${JSON.stringify(version)}`,
    );
  return m as Record<string, unknown>;
}
