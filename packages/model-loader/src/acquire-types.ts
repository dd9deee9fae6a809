import type { ChunkStore } from './chunk-store.js';
import type { ModelLoaderWarning } from './hub-ref.js';
import type { LoadModelOptions } from './load-model.js';
import type { ModelManifest, ParsedManifest } from './manifest.js';
import type { ModelIndex, ParsedModelIndex } from './model-index.js';

/** Where a model's manifest is: a URL (relative to the page), or an object with its base URL. */
export type ManifestSource =
  { manifestUrl: string | URL } | { manifest: ModelManifest; baseUrl?: string | URL };

/**
 * A GGUF model by URL, without a manifest: one file, or gguf-split shards (a first shard's URL,
 * `name-00001-of-0000N.gguf`, stands for all of them).
 */
export interface GgufUrlSource {
  /** GGUF URLs, or `hf:owner/repo/file.gguf@revision` references (one repository and revision). */
  ggufUrls: Array<string | URL>;
  /**
   * Cache identity (default: `gguf:` + the first URL without its query; for an `hf:` reference,
   * its `/resolve/<revision as written>/` URL, so a branch keeps one identity as it moves).
   */
  id?: string;
}

/** One profile of a `models.json` (a URL relative to the page, the object, or a parsed one). */
export interface ProfileSource {
  modelIndex: string | URL | ModelIndex | ParsedModelIndex;
  /** The profile's `id`. */
  profile: string;
}

/** Every kind of model reference `acquireModel` takes. */
export type ModelSource = ManifestSource | GgufUrlSource | ProfileSource;

/** A store that can also serialize two tabs' work on one model (model-cache's `lock`). */
export interface LockingChunkStore extends ChunkStore {
  /** Runs `fn` holding this model's lock; rejects with the signal's reason if it aborts while waiting. */
  lock?<T>(
    manifest: ParsedManifest,
    fn: () => Promise<T>,
    options: { signal?: AbortSignal; onWait?: () => void },
  ): Promise<T>;
}

/** Options of `acquireModel`. */
export interface AcquireModelOptions extends LoadModelOptions {
  store?: LockingChunkStore;
  /** Other origins the model's files may come from (default: only the manifest's or files' own). */
  allowedOrigins?: string[];
  /**
   * Runs once on the model's manifest (for GGUF URLs: made from the files' headers, read with
   * Range requests) before any chunk is read or downloaded, e.g. the fit check.
   */
  preflight?: (manifest: ParsedManifest) => void | Promise<void>;
  /** Called when another tab holds this model's lock (its download is awaited). */
  onWaitForOtherTab?: () => void;
  /** Where `hf:` references resolve (default `https://huggingface.co`). */
  hubBaseUrl?: string | URL;
  /**
   * A Hugging Face access token for private and gated repositories: sent as `Authorization:
   * Bearer` to the hub's origin only (not to the CDN it redirects to), never part of an error or a
   * warning. A token in a public page is everyone's token.
   */
  hubToken?: string;
  /**
   * How long a load of an `hf:` reference to a branch or tag that is pinned in the store waits
   * for the Hub to say where the branch points now (one request beside the cache read; default
   * 5000 ms; 0: no check). Offline, or when the time runs out, the pinned model loads all the same.
   */
  hubCheckTimeoutMs?: number;
  /** Warnings (`HUB_REVISION_PINNED`, `HUB_REVISION_MOVED`); default: `console.warn` of the message. */
  onWarning?: (warning: ModelLoaderWarning) => void;
}

/** The model's Blobs (one per shard, or one reassembled Blob) and where they came from. */
export interface AcquiredModel {
  blobs: Blob[];
  manifest: ParsedManifest;
  fromCache: boolean;
}

/**
 * A source resolved by its adapter: the manifest `acquireModel` decides cache-or-download on.
 * Chunks whose SHA-256 is `''` (a GGUF URL seen for the first time) are hashed as they download
 * and pinned in the store under `manifest.model.id` afterwards.
 */
export interface ModelPlan {
  manifest: ParsedManifest;
  /** The fetch the files are downloaded with (the `hf:` adapter's, which adds the Hub token). */
  fetch?: typeof fetch;
  /** Runs after the model is acquired (the `hf:` adapter's warnings). */
  settle?: () => Promise<void>;
  /** What the acquisition's errors become (the `hf:` adapter's: gated, missing, offline). */
  mapError?: (error: unknown) => unknown;
}
