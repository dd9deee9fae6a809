/** Stable codes of the errors this package throws; branch on `error.code`, never on the message. */
export type ModelLoaderErrorCode =
  | 'INVALID_ARGUMENT'
  | 'MANIFEST_INVALID'
  | 'MODELS_INDEX_INVALID'
  | 'ORIGIN_NOT_ALLOWED'
  | 'HTTP_ERROR'
  | 'NETWORK_ERROR'
  | 'CHUNK_HASH_MISMATCH'
  /** The server holds a file of another size than the manifest declares for the chunk. */
  | 'CHUNK_SIZE_MISMATCH'
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
    // Every URL in the message loses what may be a secret (signed URLs, tokens, userinfo).
    super(redactText(message), details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    if (details.chunkIndex !== undefined) this.chunkIndex = details.chunkIndex;
    if (details.url !== undefined) this.url = redactUrl(details.url);
    if (details.status !== undefined) this.status = details.status;
    if (details.field !== undefined) this.field = details.field;
    if (code === 'ABORTED') this.name = 'AbortError';
  }
}

/**
 * A URL as messages may show it: without its query string and fragment (signed URLs carry
 * `X-Amz-Signature`, `token=`, ...) and without userinfo (`user:password@`).
 */
export function redactUrl(url: string): string {
  return url.replace(/[?#].*$/, '').replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

/** URLs anywhere in a text, each as `redactUrl` gives it. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>()]+/gi;
/** Credential-like values outside URLs: `Bearer x`, `token=x`, `X-Amz-Signature=x`, `sig=x`. */
const CREDENTIAL =
  /\b(bearer\s+|(?:access_?token|token|signature|sig|api_?key|x-amz-[a-z-]+|authorization)\s*[=:]\s*)(?:(?:bearer|basic|token)\s+)?[^\s&"',;)]+/gi;

/** Punctuation right after a URL (`from https://h/a?sig=x: …`), which is the text's, not the URL's. */
const TRAILING = /[.,:;!?]+$/;

/** A text with every URL redacted (`redactUrl`) and credential-like values replaced. */
export function redactText(text: string): string {
  return text
    .replace(URL_IN_TEXT, (u) => {
      const tail = TRAILING.exec(u)?.[0] ?? '';
      return redactUrl(u.slice(0, u.length - tail.length)) + tail;
    })
    .replace(CREDENTIAL, '$1[redacted]');
}
