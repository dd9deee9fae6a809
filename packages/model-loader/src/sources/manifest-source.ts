import type { ManifestSource, ProfileSource } from '../acquire-types.js';
import { ModelLoaderError } from '../errors.js';
import type { LoadModelOptions } from '../load-model.js';
import { parseManifest, type ParsedManifest } from '../manifest.js';
import { parseModelIndex, type ModelIndex, type ParsedModelIndex } from '../model-index.js';
import { fetchJsonDocument, networkPolicy } from '../network-policy.js';
import { absolute, pageUrl } from '../page-url.js';

type DocumentOptions = LoadModelOptions & { allowedOrigins?: string[] };

/** The network policy of a document at `url`: its own origin, and the allowed ones. */
function documentPolicy(url: string, options: DocumentOptions) {
  const { allowedOrigins, ...rest } = options;
  return networkPolicy({
    ...rest,
    allowedOrigins: new Set([
      new URL(url).origin,
      ...(allowedOrigins ?? []).map((o) => new URL(o).origin),
    ]),
  });
}

/**
 * Fetches and checks a model manifest, with the chunks' retry, timeout and origin rules.
 * @throws {ModelLoaderError} `MANIFEST_INVALID` (field, or an HTML page with its URL),
 *   `HTTP_ERROR`, `NETWORK_ERROR`, `ORIGIN_NOT_ALLOWED`, `ABORTED`.
 */
export async function fetchManifest(
  source: ManifestSource,
  options: DocumentOptions = {},
): Promise<ParsedManifest> {
  const allowed = options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {};
  if ('manifest' in source) {
    const base = source.baseUrl ?? pageUrl();
    return parseManifest(source.manifest, { ...(base ? { url: base } : {}), ...allowed });
  }
  const url = absolute(source.manifestUrl);
  return fetchJsonDocument(
    url,
    'manifest',
    'MANIFEST_INVALID',
    documentPolicy(url, options),
    options.signal,
    (text) => {
      try {
        return parseManifest(text, { url, ...allowed });
      } catch (error) {
        if (error instanceof ModelLoaderError && error.code === 'MANIFEST_INVALID')
          throw new ModelLoaderError(error.code, `${error.message} (in ${url})`, {
            url,
            ...(error.field ? { field: error.field } : {}),
          });
        throw error;
      }
    },
  );
}

/**
 * Fetches and checks a `models.json` (profiles), with the same network rules. Its manifests must
 * be on its own origin unless `allowedOrigins` lists theirs.
 * @throws {ModelLoaderError} `MODELS_INDEX_INVALID`, `HTTP_ERROR`, `NETWORK_ERROR`,
 *   `ORIGIN_NOT_ALLOWED`, `ABORTED`.
 */
export async function fetchModelIndex(
  source: string | URL | ModelIndex,
  options: DocumentOptions = {},
): Promise<ParsedModelIndex> {
  const allowed = options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {};
  if (typeof source === 'object' && !(source instanceof URL)) {
    const base = pageUrl();
    if (!base)
      throw new ModelLoaderError('INVALID_ARGUMENT', 'a models.json object needs a page URL');
    return parseModelIndex(source, { url: base, ...allowed });
  }
  const url = absolute(source);
  return fetchJsonDocument(
    url,
    'models.json',
    'MODELS_INDEX_INVALID',
    documentPolicy(url, options),
    options.signal,
    (text) => parseModelIndex(text, { url, ...allowed }),
  );
}

const isParsedIndex = (i: ProfileSource['modelIndex']): i is ParsedModelIndex =>
  typeof i === 'object' &&
  !(i instanceof URL) &&
  typeof (i as ParsedModelIndex).indexUrl === 'string';

/**
 * The manifest of one `models.json` profile (the index fetched unless it is given parsed).
 * @throws {ModelLoaderError} `fetchModelIndex`'s errors; `INVALID_ARGUMENT` for an id the index
 *   does not have (naming the ids it has).
 */
export async function profileManifest(
  source: ProfileSource,
  options: DocumentOptions = {},
): Promise<ManifestSource> {
  const index = isParsedIndex(source.modelIndex)
    ? source.modelIndex
    : await fetchModelIndex(source.modelIndex, options);
  const profile = index.profiles.find((p) => p.id === source.profile);
  if (!profile)
    throw new ModelLoaderError(
      'INVALID_ARGUMENT',
      `models.json at ${index.indexUrl} has no profile "${source.profile}" (it has ${index.profiles.map((p) => `"${p.id}"`).join(', ')})`,
      { url: index.indexUrl },
    );
  return { manifestUrl: profile.manifestUrl };
}
