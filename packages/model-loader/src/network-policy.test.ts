import { describe, expect, it } from 'vitest';
import { checkResponseOrigin, originAllowed } from './network-policy.js';

const hub = new Set(['https://huggingface.co']);

/** A response as `fetch` gives it after redirects (only `url` and `body` are read). */
const redirectedTo = (url: string) => ({ url, body: null }) as unknown as Response;

describe('origin rule', () => {
  it("allows the Hub's download hosts when the Hub is allowed, and nothing else", () => {
    for (const cdn of [
      'https://cdn-lfs.hf.co',
      'https://cdn-lfs-us-1.hf.co',
      'https://cas-bridge.xethub.hf.co',
      'https://cdn-lfs.huggingface.co',
    ])
      expect(originAllowed(cdn, hub), cdn).toBe(true);
    for (const other of [
      'http://cdn-lfs.hf.co', // not https
      'https://hf.co.evil.example',
      'https://evilhf.co',
      'https://cdn-lfs.hf.co:8443',
      'https://example.com',
    ])
      expect(originAllowed(other, hub), other).toBe(false);
    // Without the Hub allowed, its CDN is just another origin.
    expect(originAllowed('https://cdn-lfs.hf.co', new Set(['https://example.com']))).toBe(false);
    expect(originAllowed('https://cdn-lfs.hf.co', new Set(['https://hf.co']))).toBe(true);
  });

  it('a redirect from the Hub to its CDN is read; to another origin it is ORIGIN_NOT_ALLOWED without the signed URL', () => {
    const signed = '?X-Amz-Signature=cdnsecret123&X-Amz-Credential=abc';
    expect(() =>
      checkResponseOrigin(
        redirectedTo(`https://cas-bridge.xethub.hf.co/xet-bridge-us/abc/def${signed}`),
        { allowedOrigins: hub },
        'chunk 0',
        0,
      ),
    ).not.toThrow();
    let error: unknown;
    try {
      checkResponseOrigin(
        redirectedTo(`https://mirror.example/f.gguf${signed}`),
        { allowedOrigins: hub },
        'chunk 0',
        0,
      );
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'ORIGIN_NOT_ALLOWED', chunkIndex: 0 });
    expect((error as Error).message).toContain('https://mirror.example');
    expect(`${(error as Error).message} ${(error as { url?: string }).url}`).not.toContain(
      'cdnsecret123',
    );
  });
});
