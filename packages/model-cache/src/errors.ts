/** Stable codes of the errors this package throws; branch on `error.code`, never on the message. */
export type ModelCacheErrorCode =
  'STORAGE_UNAVAILABLE' | 'QUOTA_EXCEEDED' | 'INVALID_CHUNK' | 'NOT_FOUND' | 'BLOCKED' | 'DB_ERROR';

/** An error raised by `@the-edge-agent/model-cache`, with a stable `code`. */
export class ModelCacheError extends Error {
  override readonly name = 'ModelCacheError';
  /** Which failure this is. */
  readonly code: ModelCacheErrorCode;
  /** For `QUOTA_EXCEEDED`: bytes needed and bytes available. */
  readonly neededBytes?: number;
  readonly availableBytes?: number;
  /** For a `QUOTA_EXCEEDED` during a download: bytes of the model already stored. */
  readonly writtenBytes?: number;

  constructor(
    code: ModelCacheErrorCode,
    message: string,
    options?: {
      cause?: unknown;
      neededBytes?: number;
      availableBytes?: number;
      writtenBytes?: number;
    },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options?.neededBytes !== undefined) this.neededBytes = options.neededBytes;
    if (options?.availableBytes !== undefined) this.availableBytes = options.availableBytes;
    if (options?.writtenBytes !== undefined) this.writtenBytes = options.writtenBytes;
  }
}

/** Whether an IndexedDB/DOM error is the browser saying the quota is used up. */
export function isQuotaError(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name;
  return (
    name === 'QuotaExceededError' || /quota/i.test(String((error as Error | null)?.message ?? ''))
  );
}

export const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
