import { describe, expect, it } from 'vitest';
import { LlmBridgeError } from './errors.js';
import { secretPartsOf, withoutSecretParts } from './source-secrets.js';

const signed = [
  'https://bucket.s3.amazonaws.com/m-00001-of-00002.gguf?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20261206&X-Amz-Signature=0123abcd',
  'https://storage.googleapis.com/b/m.gguf?GoogleAccessId=x&Expires=1&Signature=c2VjcmV0',
  'https://cdn.example/m.gguf?token=hunter2#frag',
  'https://user:pa55@host.example/m.gguf',
  'https://huggingface.co/o/r/resolve/main/m.gguf?download=true&expires=9&sig=s3cr3t',
];

describe('secrets of model URLs in bridge errors', () => {
  it('drops query strings, fragments and userinfo wherever the message repeats them', () => {
    for (const url of signed) {
      const error = withoutSecretParts(
        new LlmBridgeError('LOAD_FAILED', `could not fetch ${url} (then ${url} again)`, {
          cause: new TypeError(`Failed to fetch ${url}`),
        }),
        secretPartsOf([url]),
      );
      for (const secret of ['0123abcd', 'c2VjcmV0', 'hunter2', 'pa55', 's3cr3t', 'frag'])
        expect(
          `${error.message} ${String((error as { cause?: Error }).cause?.message)}`,
        ).not.toContain(secret);
      expect(error.message).toContain(new URL(url).pathname);
      expect(error.code).toBe('LOAD_FAILED');
      expect((error as { cause?: Error }).cause?.name).toBe('TypeError');
    }
  });

  it('leaves a message without secrets as it is', () => {
    const error = new LlmBridgeError('LOAD_FAILED', 'no such file');
    expect(withoutSecretParts(error, secretPartsOf(['https://a.example/m.gguf'])).message).toBe(
      'no such file',
    );
  });
});
