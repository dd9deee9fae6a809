import { describe, expect, it } from 'vitest';
import { ModelLoaderError, redactText, redactUrl } from './errors.js';

describe('redaction', () => {
  it('URLs lose query strings, fragments and userinfo; credential-like values are replaced', () => {
    expect(redactUrl('https://user:pw@cdn.example/m/a.gguf?X-Amz-Signature=abc#f')).toBe(
      'https://cdn.example/m/a.gguf',
    );
    expect(
      redactText(
        'chunk 0 (https://h/a.gguf?token=abc) failed; Authorization: Bearer xyz; api_key=k1 sig=s2',
      ),
    ).toBe(
      'chunk 0 (https://h/a.gguf) failed; Authorization: [redacted]; api_key=[redacted] sig=[redacted]',
    );
    expect(redactText('no URL here: expected sha256 abc, got def')).toBe(
      'no URL here: expected sha256 abc, got def',
    );
  });

  it('the punctuation after a redacted URL stays: the message still reads', () => {
    expect(redactText('HTTP 404 from https://h/a.gguf?X-Amz-Signature=s3cr3t: check the URL')).toBe(
      'HTTP 404 from https://h/a.gguf: check the URL',
    );
    expect(redactText('see https://h/a.gguf?token=s3cr3t, then https://h/b?sig=x.')).toBe(
      'see https://h/a.gguf, then https://h/b.',
    );
  });

  it('a ModelLoaderError carries no secret in its message or url', () => {
    const e = new ModelLoaderError('HTTP_ERROR', 'HTTP 403 from https://h/a.gguf?Signature=zzz', {
      url: 'https://u:p@h/a.gguf?Signature=zzz',
    });
    expect(`${e.message} ${e.url}`).not.toMatch(/zzz|u:p/);
  });
});
