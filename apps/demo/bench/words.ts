// Prompt text for the benchmarks, in the page and in Node (native llama.cpp gets the same prompts).
const POOL = (
  'tea river stone cloud garden letter market bridge window silver forest lamp paper ocean ' +
  'candle field mirror wheel'
).split(' ');

/** `n` words, deterministic and different per seed, so no two prompts share more than a word. */
export function words(n: number, seed: number): string {
  let x = (seed * 2654435761) >>> 0;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out.push(POOL[(x >>> 8) % POOL.length]!);
  }
  return out.join(' ');
}
