import { createSHA256, type IHasher } from 'hash-wasm';

/**
 * An incremental SHA-256 (hash-wasm: WebAssembly, the same in browsers and Node). WebCrypto has
 * no streaming digest, and hashing a multi-GB model in one buffer is not an option.
 */
export type Sha256 = IHasher;

/** A fresh incremental SHA-256 hasher. */
export async function createSha256(): Promise<Sha256> {
  const hasher = await createSHA256();
  hasher.init();
  return hasher;
}

/** SHA-256 of a Blob, read as a stream (lowercase hex). */
export async function sha256OfBlob(blob: Blob): Promise<string> {
  const hasher = await createSha256();
  const reader = blob.stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    hasher.update(value);
  }
  return hasher.digest('hex');
}

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * SHA-256 of one block in memory (lowercase hex). WebCrypto where the page has it (native code,
 * off the main thread in browsers: several times faster than WebAssembly), hash-wasm elsewhere
 * (pages outside a secure context have no `crypto.subtle`).
 */
export async function sha256OfBytes(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  if (subtle) return hex(new Uint8Array(await subtle.digest('SHA-256', bytes)));
  const hasher = await createSha256();
  hasher.update(bytes);
  return hasher.digest('hex');
}
