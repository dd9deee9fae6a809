// The redaction of model-loader's messages (`redactUrl`, `redactText` there), written again
// here because the layers do not import each other; packages/test-fixtures' redaction contract
// runs against both copies, so they cannot drift apart.

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
