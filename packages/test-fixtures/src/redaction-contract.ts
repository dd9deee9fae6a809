import { describe, expect, it } from 'vitest';

/** model-loader's redaction, and llm-bridge's copy of it. */
export interface Redaction {
  redactUrl(url: string): string;
  redactText(text: string): string;
}

// Texts with every kind of secret the redaction knows, and what must be left of them.
const URLS: ReadonlyArray<readonly [string, string]> = [
  ['https://user:pw@cdn.example/m/a.gguf?X-Amz-Signature=abc#f', 'https://cdn.example/m/a.gguf'],
  ['http://admin:pa55word@127.0.0.1:9/v1', 'http://127.0.0.1:9/v1'],
  ['http://127.0.0.1:9/v1?sig=sEcReT&X-Amz-Signature=sEcReT', 'http://127.0.0.1:9/v1'],
  ['https://h.example/a.gguf#token=1', 'https://h.example/a.gguf'],
  ['https://h.example/a.gguf', 'https://h.example/a.gguf'],
  ['/relative/a.gguf?token=1', '/relative/a.gguf'],
  ['not a url', 'not a url'],
];

const TEXTS: ReadonlyArray<readonly [string, string]> = [
  [
    'chunk 0 (https://h/a.gguf?token=abc) failed; Authorization: Bearer xyz; api_key=k1 sig=s2',
    'chunk 0 (https://h/a.gguf) failed; Authorization: [redacted]; api_key=[redacted] sig=[redacted]',
  ],
  ['no URL here: expected sha256 abc, got def', 'no URL here: expected sha256 abc, got def'],
  [
    'cannot reach http://u:p@127.0.0.1:9/v1/chat/completions (fetch failed)',
    'cannot reach http://127.0.0.1:9/v1/chat/completions (fetch failed)',
  ],
  ['bad key Bearer sk-secret-123', 'bad key Bearer [redacted]'],
  // The punctuation after a signed URL is the text's: it stays.
  [
    'HTTP 404 Not Found from https://h/c1.bin?X-Amz-Signature=s3cr3t: the file is not at this path',
    'HTTP 404 Not Found from https://h/c1.bin: the file is not at this path',
  ],
  ['see https://h/a.gguf?token=s3cr3t.', 'see https://h/a.gguf.'],
  ['token: abc, access_token=def&x=1', 'token: [redacted], access_token=[redacted]&x=1'],
  ['X-Amz-Credential=AKIA/2026 X-Amz-Date=1', 'X-Amz-Credential=[redacted] X-Amz-Date=[redacted]'],
  [
    '"https://a.example/x?sig=1" and <ftp://u:p@b.example/y>',
    '"https://a.example/x" and <ftp://b.example/y>',
  ],
];

/**
 * Registers the cases model-loader's redaction and llm-bridge's copy of it must both pass, so the
 * two cannot drift apart: call it from a `*.test.ts` of each package with its implementation.
 */
export function redactionContract(name: string, r: Redaction): void {
  describe(`redaction contract: ${name}`, () => {
    it('drops query strings, fragments and userinfo from URLs', () => {
      for (const [url, shown] of URLS) expect(r.redactUrl(url), url).toBe(shown);
    });

    it('redacts every URL in a text and replaces credential-like values', () => {
      for (const [text, shown] of TEXTS) expect(r.redactText(text), text).toBe(shown);
    });
  });
}

/** model-loader's `retryAfterMs`, and llm-bridge's copy of it. */
export type RetryAfterMs = (headers: Headers, capMs: number, now?: number) => number | undefined;

/** Registers the cases both packages' `retryAfterMs` must pass. */
export function retryAfterContract(name: string, retryAfterMs: RetryAfterMs): void {
  describe(`Retry-After contract: ${name}`, () => {
    const h = (value?: string) => new Headers(value === undefined ? {} : { 'Retry-After': value });
    const now = Date.parse('2026-12-06T12:00:00Z');

    it('reads seconds and HTTP dates, capped, never negative', () => {
      expect(retryAfterMs(h('3'), 30_000, now)).toBe(3000);
      expect(retryAfterMs(h(' 0 '), 30_000, now)).toBe(0);
      expect(retryAfterMs(h('120'), 30_000, now)).toBe(30_000);
      expect(retryAfterMs(h('Sun, 06 Dec 2026 12:00:05 GMT'), 30_000, now)).toBe(5000);
      expect(retryAfterMs(h('Sun, 06 Dec 2026 11:00:00 GMT'), 30_000, now)).toBe(0);
    });

    it('is undefined without a usable header', () => {
      for (const value of [undefined, '', '  ', 'soon', 'in a minute'])
        expect(retryAfterMs(h(value), 30_000, now), String(value)).toBeUndefined();
    });
  });
}
