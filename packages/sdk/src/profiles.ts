import { ModelTooLargeError } from '@the-edge-agent/llm-bridge';
import {
  fetchModelIndex,
  ModelLoaderError,
  type ModelIndex,
  type ParsedModelIndex,
} from '@the-edge-agent/model-loader';
import { checkFit, type FitResult } from './check-fit.js';
import { pageUrl, report, type TeaLlmConfig } from './config.js';
import type { BrowserEnvironment } from './environment.js';

/** A profile of a `models.json`, with its manifest URL resolved. */
export type Profile = ParsedModelIndex['profiles'][number];

/** A profile and the verdict of `checkFit` for it. */
export interface ProfileFit {
  profile: Profile;
  fit: FitResult;
}

/** Where the bundled models are: `models/models.json` beside the page (its base URL). */
export function bundledModelsUrl(): URL {
  const base = (globalThis as { document?: { baseURI?: string } }).document?.baseURI ?? pageUrl();
  if (!base)
    throw new ModelLoaderError(
      'INVALID_ARGUMENT',
      'the bundled models are found relative to the page: outside a browser pass `profiles` or `manifestUrl`',
    );
  return new URL('models/models.json', base);
}

/**
 * Fetches and validates a `models.json` (or validates an object, against the page URL), with
 * model-loader's network and origin rules: its manifests must be on its origin unless
 * `allowedOrigins` lists theirs.
 */
export function loadModelIndex(
  source: string | URL | ModelIndex,
  signal?: AbortSignal,
  allowedOrigins?: string[],
): Promise<ParsedModelIndex> {
  return fetchModelIndex(source, {
    ...(signal ? { signal } : {}),
    ...(allowedOrigins ? { allowedOrigins } : {}),
  });
}

/**
 * Every profile with its fit, in the index's order (best first). With `id`, only that profile:
 * if it does not fit, `MODEL_TOO_LARGE` names the sizes and the limit, before any download.
 */
export function rankProfiles(
  index: ParsedModelIndex,
  env: BrowserEnvironment,
  options: { id?: string; nCtx?: number } = {},
): ProfileFit[] {
  const all = index.profiles.map((profile) => ({
    profile,
    fit: checkFit(profile, env, options.nCtx ? { nCtx: options.nCtx } : {}),
  }));
  if (options.id === undefined) return all;
  const chosen = all.find((p) => p.profile.id === options.id);
  if (!chosen)
    throw new ModelLoaderError(
      'INVALID_ARGUMENT',
      `no profile "${options.id}" in ${index.indexUrl}; it lists ${index.profiles.map((p) => p.id).join(', ')}`,
    );
  if (!chosen.fit.fits) throw tooLarge(chosen);
  return [chosen];
}

/** The typed error for a profile that cannot run here. */
export function tooLarge({ profile, fit }: ProfileFit): ModelTooLargeError {
  return new ModelTooLargeError(
    fit.heapNeededBytes,
    fit.heapLimitBytes,
    `Profile ${profile.id} (${(profile.totalBytes / 1e9).toFixed(2)} GB) cannot run in this browser: ${fit.reasons.join('; ')}.`,
  );
}

/**
 * Loads the first of `fitting` (best first); when a load fails for lack of memory
 * (`MODEL_TOO_LARGE`, wllama's out-of-memory symptoms mapped by the bridge, which has freed its
 * worker) and `fallback` allows it, the next one. Any other error ends it. Each attempt is
 * reported as a `profile` progress event.
 */
export async function tryInOrder<T>(
  fitting: ProfileFit[],
  load: (candidate: ProfileFit) => Promise<T>,
  options: { fallback: boolean } & Pick<TeaLlmConfig, 'onProgress'>,
): Promise<T> {
  let previous: string | undefined;
  for (const [i, candidate] of fitting.entries()) {
    const { profile, fit } = candidate;
    report(options, {
      phase: 'profile',
      id: profile.id,
      mode: fit.mode,
      reasons: fit.reasons,
      ...(previous ? { fallbackFrom: previous } : {}),
    });
    try {
      return await load(candidate);
    } catch (error) {
      const outOfMemory = (error as { code?: string }).code === 'MODEL_TOO_LARGE';
      if (!outOfMemory || !options.fallback || i === fitting.length - 1) throw error;
      previous = profile.id;
    }
  }
  throw new ModelLoaderError('INVALID_ARGUMENT', 'no model profile to try');
}
