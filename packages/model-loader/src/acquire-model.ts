import type {
  AcquiredModel,
  AcquireModelOptions,
  ModelPlan,
  ModelSource,
} from './acquire-types.js';
import { ModelLoaderError } from './errors.js';
import { isHubReference } from './hub-ref.js';
import { loadModel } from './load-model.js';
import { parseManifest, type ParsedManifest } from './manifest.js';
import { shareAcrossTabs } from './share-across-tabs.js';
import { planGguf, storedPins } from './sources/gguf-source.js';
import { planHub } from './sources/hub-source.js';
import { fetchManifest, profileManifest } from './sources/manifest-source.js';

/**
 * `MODEL_INVALID`: the model verified (its bytes are the publisher's) but the runtime could not
 * load it; names the manifest URL and the runtime's reason, and how to retry.
 */
export function modelInvalidError(
  manifest: ParsedManifest,
  reason: string,
  cause?: unknown,
): ModelLoaderError {
  return new ModelLoaderError(
    'MODEL_INVALID',
    `model "${manifest.model.id}" version ${manifest.model.version} from ${manifest.manifestUrl} verified, but the runtime could not load it: ${reason}. Publish a fixed model under a new version, or remove this one from the cache (cache.delete("${manifest.model.id}") or evict()) to try again`,
    { url: manifest.manifestUrl, ...(cause !== undefined ? { cause } : {}) },
  );
}

/** The source adapters: each kind of reference resolved to the manifest to acquire. */
async function planOf(source: ModelSource, options: AcquireModelOptions): Promise<ModelPlan> {
  if ('ggufUrls' in source) {
    const entries = source.ggufUrls.map(String);
    return entries.length && entries.some(isHubReference)
      ? planHub(entries, source.id, options)
      : planGguf(source, options);
  }
  const manifest = 'modelIndex' in source ? await profileManifest(source, options) : source;
  return { manifest: await fetchManifest(manifest, options) };
}

/**
 * Gets a model's verified Blobs, for every kind of reference: the one owner of the
 * cache-or-download decision. The source's adapter resolves it to a manifest (a manifest URL or
 * object as it is; a `models.json` profile by its id; GGUF URLs from the store's pins of them or
 * from their headers, read with Range requests; `hf:` references through the Hub's pin, see
 * below); `preflight` runs on that manifest before any chunk is read or downloaded; then,
 * holding the store's per-model lock (two tabs share one download; a waiting tab honours its
 * signal), the model comes from the store when this exact version is complete there (no
 * network), or what is missing is downloaded into it. GGUF files seen for the first time are
 * hashed as they download and pinned with the stored model (not resumable across a reload: pack
 * a manifest with `tea-model pack` for that).
 *
 * `hf:owner/repo/file.gguf@revision` (every entry of `ggufUrls` one repository and revision): a
 * 40-hex commit is used as given. A branch or tag (none: `main`) is resolved to its commit with
 * one Hub API request before any model byte, the files come from `/resolve/<commit>/`, verified
 * against the Hub's LFS SHA-256 (resumable after a reload), and the commit is recorded with the
 * cached model (`manifest.hub`). A later load of the same reference loads that commit from the
 * store, offline too; if the branch has moved meanwhile, it still loads the pinned commit and
 * warns (`HUB_REVISION_MOVED`) with the new one. Each load of a branch or tag warns once
 * (`onWarning`).
 * @throws {ModelLoaderError} the manifest's and `loadModel`'s errors; `MODEL_INVALID` for a
 *   version that verified but was marked unloadable (with the manifest URL and the reason);
 *   for GGUF URLs `INVALID_ARGUMENT` (none given, a file of 2 GiB or more, a malformed `hf:`
 *   reference), `GGUF_INVALID` (not a GGUF, or an HTML page), `HTTP_ERROR` (for the Hub: 401/403
 *   private or gated, with how to pass `hubToken`; 404 repository, revision or file not there),
 *   `NETWORK_ERROR` (an unpinned `hf:` reference with nothing cached and the Hub unreachable),
 *   `CHUNK_HASH_MISMATCH` (a pinned file changed on the server).
 */
export async function acquireModel(
  source: ModelSource,
  options: AcquireModelOptions = {},
): Promise<AcquiredModel> {
  const plan = await planOf(source, options);
  const opts = plan.fetch ? { ...options, fetch: plan.fetch } : options;
  try {
    await opts.preflight?.(plan.manifest);
    const acquired = plan.manifest.chunks.every((c) => c.sha256)
      ? await fromStoreOrNetwork(plan.manifest, opts)
      : await downloadAndPin(plan.manifest, opts);
    await plan.settle?.();
    return acquired;
  } catch (error) {
    throw plan.mapError ? plan.mapError(error) : error;
  }
}

/** A manifest whose every hash is known: from the store when complete there, else downloaded. */
async function fromStoreOrNetwork(
  manifest: ParsedManifest,
  options: AcquireModelOptions,
): Promise<AcquiredModel> {
  const { store } = options;
  return shareAcrossTabs(manifest, options, async (onProgress) => {
    const rejected = await store?.unloadableReason(manifest);
    if (rejected) throw modelInvalidError(manifest, rejected);
    if (store && (await store.has(manifest))) {
      const blobs: Blob[] = [];
      for (let i = 0; i < manifest.chunks.length; i++) {
        const blob = await store.getChunk(manifest, i);
        if (!blob) break;
        blobs.push(blob);
      }
      if (blobs.length === manifest.chunks.length) {
        const parts = manifest.layout === 'byte-chunks' ? [new Blob(blobs)] : blobs;
        return { blobs: parts, manifest, fromCache: true };
      }
    }
    return {
      blobs: await loadModel(manifest, { ...options, onProgress }),
      manifest,
      fromCache: false,
    };
  });
}

/**
 * GGUF files whose hashes are unknown: downloaded (not into the store: nothing unverified is
 * stored), hashed as they stream, then stored with the pins. Two tabs share the download as
 * they share a manifest's: the one that waited finds the pins the other stored.
 */
async function downloadAndPin(
  manifest: ParsedManifest,
  options: AcquireModelOptions,
): Promise<AcquiredModel> {
  const { store } = options;
  const urls = manifest.chunks.map((c) => c.url!);
  const first = await shareAcrossTabs(manifest, options, async (onProgress) => {
    const meanwhile = await storedPins(manifest.model.id, urls, options);
    if (meanwhile) return { pinned: meanwhile };
    const hashes: string[] = [];
    const { store: _store, ...download } = options;
    const blobs = await loadModel(manifest, {
      ...download,
      onProgress,
      onChunkVerified: (i, sha256) => (hashes[i] = sha256),
    });
    const pins = parseManifest(
      { ...manifest, chunks: manifest.chunks.map((c, i) => ({ ...c, sha256: hashes[i]! })) },
      { url: urls[0]!, allowedOrigins: manifest.allowedOrigins },
    );
    if (store) {
      await store.open(pins);
      for (const [i, blob] of blobs.entries()) await store.putChunk(pins, i, blob);
      await store.complete(pins);
    }
    return { acquired: { blobs, manifest: pins, fromCache: false } };
  });
  return 'acquired' in first ? first.acquired : fromStoreOrNetwork(first.pinned, options);
}
