/** Stable codes of the errors this package throws; branch on `error.code`, never on the message. */
export type ModelLoaderErrorCode =
  | 'INVALID_ARGUMENT'
  | 'MANIFEST_INVALID'
  | 'MODELS_INDEX_INVALID'
  | 'ORIGIN_NOT_ALLOWED'
  | 'HTTP_ERROR'
  | 'NETWORK_ERROR'
  | 'CHUNK_HASH_MISMATCH'
  | 'ABORTED'
  | 'MODEL_INVALID'
  | 'GGUF_INVALID'
  /** The chunk store lost a chunk right after storing it (its storage failed or was cleared). */
  | 'STORE_ERROR';

/** Where a loader error happened. */
export interface ModelLoaderErrorDetails {
  cause?: unknown;
  /** Index of the chunk in the manifest. */
  chunkIndex?: number;
  /** The chunk's URL (query strings removed: they may carry tokens). */
  url?: string;
  /** HTTP status of an `HTTP_ERROR`. */
  status?: number;
  /** The manifest field a `MANIFEST_INVALID` is about, e.g. `chunks[2].sha256`. */
  field?: string;
}

/** An error raised by `@the-edge-agent/model-loader`, with a stable `code`. */
export class ModelLoaderError extends Error {
  override readonly name: string = 'ModelLoaderError';
  /** Which failure this is. */
  readonly code: ModelLoaderErrorCode;
  readonly chunkIndex?: number;
  readonly url?: string;
  readonly status?: number;
  readonly field?: string;

  constructor(code: ModelLoaderErrorCode, message: string, details: ModelLoaderErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    if (details.chunkIndex !== undefined) this.chunkIndex = details.chunkIndex;
    if (details.url !== undefined) this.url = redactUrl(details.url);
    if (details.status !== undefined) this.status = details.status;
    if (details.field !== undefined) this.field = details.field;
    if (code === 'ABORTED') this.name = 'AbortError';
  }
}

/** A URL without its query string and fragment, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/[?#].*$/, '');
}
