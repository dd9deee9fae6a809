/** A seeded PRNG (mulberry32): the same seed gives the same model bytes on every machine. */
export function createRng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard-normal samples from a uniform PRNG (Box-Muller). */
export function createNormal(seed: number): () => number {
  const uniform = createRng(seed);
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    const u = Math.max(uniform(), 1e-12);
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** Fills 32-bit words with a seeded random stream; continues where the previous call stopped. */
export interface WordStream {
  fill(words: Uint32Array, start?: number, end?: number): void;
}

/**
 * A fast seeded stream of 32-bit words (xoshiro128+, about 2 GB/s in Node), for bulk payloads
 * such as quantized weight blocks. `stream` selects one of many independent streams of a seed
 * (e.g. one per tensor), so a tensor's bytes do not depend on the tensors written before it.
 */
export function createWordStream(seed: number, stream = 0): WordStream {
  // splitmix32 spreads (seed, stream) over the 128-bit state; never all zero.
  let x = (Math.imul(seed >>> 0, 0x9e3779b9) ^ Math.imul(stream >>> 0, 0x85ebca6b)) >>> 0;
  const next = () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) | 0;
  };
  let s0 = next() | 1;
  let s1 = next();
  let s2 = next();
  let s3 = next();
  return {
    fill(words, start = 0, end = words.length) {
      // The state lives in locals for the loop: closure variables would be several times slower.
      let a = s0;
      let b = s1;
      let c = s2;
      let d = s3;
      for (let i = start; i < end; i++) {
        words[i] = (a + d) | 0;
        const t = b << 9;
        c ^= a;
        d ^= b;
        b ^= c;
        a ^= d;
        c ^= t;
        d = (d << 11) | (d >>> 21);
      }
      s0 = a;
      s1 = b;
      s2 = c;
      s3 = d;
    },
  };
}
