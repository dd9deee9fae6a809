import { redactText, redactUrl } from './redact.js';

/** Codes of `RemoteModelError`. */
export type RemoteModelErrorCode =
  | 'REMOTE_UNREACHABLE'
  | 'REMOTE_UNAUTHORIZED'
  | 'REMOTE_RATE_LIMITED'
  | 'REMOTE_HTTP_ERROR'
  | 'REMOTE_BAD_RESPONSE'
  | 'REMOTE_STREAM_CUT'
  | 'REMOTE_NOT_ALLOWED'
  | 'REMOTE_NOT_CONFIGURED'
  | 'ABORTED';

/** A failure of the remote endpoint, naming it (never its key) and, for HTTP, the status. */
export class RemoteModelError extends Error {
  override readonly name: string = 'RemoteModelError';
  /** The endpoint, without its query string, fragment or userinfo. */
  readonly endpoint: string;
  constructor(
    readonly code: RemoteModelErrorCode,
    message: string,
    endpoint: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    // The same redaction as every model-loader message: an endpoint's query string, fragment
    // and userinfo (`?api-key=`, `?sig=`, `user:pass@`) and bearer-like values never show.
    super(redactText(message), options);
    this.endpoint = redactUrl(endpoint);
    if (code === 'ABORTED') this.name = 'AbortError';
  }
}

/** The `ABORTED` error of a call to `url` that its signal stopped. */
export function remoteAborted(url: string, cause: unknown): RemoteModelError {
  return new RemoteModelError('ABORTED', `the call to ${url} was aborted`, url, undefined, {
    cause,
  });
}
