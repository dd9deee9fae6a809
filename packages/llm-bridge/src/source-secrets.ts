import type { LlmBridgeError } from './errors.js';

/**
 * The parts of model URLs that may be secrets (query string, fragment, userinfo: signed URLs
 * carry `X-Amz-Signature`, `token=`, ...), so that a message about a load from them can drop
 * each one wherever wllama or llama.cpp repeated it. The sdk never hands URLs to the bridge
 * (model-loader fetches, with its own redaction); this covers direct `load(urls)` calls.
 */
export function secretPartsOf(sources: ReadonlyArray<string | URL>): string[] {
  const parts = new Set<string>();
  for (const source of sources) {
    let url: URL;
    try {
      url = new URL(String(source), 'http://x.invalid/');
    } catch {
      continue;
    }
    for (const part of [url.search, url.hash]) if (part.length > 1) parts.add(part);
    if (url.username || url.password)
      parts.add(`${url.username}${url.password ? `:${url.password}` : ''}@`);
    // The same parts as the caller wrote them (before URL's normalisation).
    const raw = String(source);
    const at = raw.search(/[?#]/);
    if (at >= 0) parts.add(raw.slice(at));
    const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^/?#@]*@)/i.exec(raw)?.[1];
    if (userinfo) parts.add(userinfo);
  }
  // The longest first, so that a fragment inside a query is not left half removed.
  return [...parts].sort((a, b) => b.length - a.length);
}

const scrub = (text: string, parts: string[]) =>
  parts.reduce((t, part) => t.split(part).join(''), text);

/**
 * `error` with every secret part removed from its message and from its cause's (in place;
 * returned for `throw`). A cause that said a secret is replaced by a copy that does not.
 */
export function withoutSecretParts<E extends LlmBridgeError>(error: E, parts: string[]): E {
  const message = scrub(error.message, parts);
  if (message !== error.message)
    Object.defineProperty(error, 'message', { value: message, writable: true, configurable: true });
  const cause = (error as { cause?: unknown }).cause;
  const said = cause instanceof Error ? cause.message : typeof cause === 'string' ? cause : '';
  if (said && scrub(said, parts) !== said) {
    const copy = new Error(scrub(said, parts));
    if (cause instanceof Error) copy.name = cause.name;
    Object.defineProperty(error, 'cause', { value: copy, writable: true, configurable: true });
  }
  return error;
}
