import { test } from '@playwright/test';
import { persistentContext } from '../../../tools/chromium.js';
import { ensureReferenceModel, llamaBench, llamaBenchBin } from './reference-fixtures.js';

// The wllama builds llm-bridge ships, CPU-only, on the shape-faithful Gemma 3n Q4_K_M fixtures:
// the CPU build from source (ggml's wasm kernels and the repacked Q4_K/Q6_K GEMM; relaxed SIMD
// and SIMD128 variants) vs wllama's npm build (generic kernels; the build shipped before), through
// the sdk on the same cached Blobs, rounds alternating; and native llama.cpp (`llama-bench`,
// Debian's llama.cpp-tools) on the same file. Prints prefill and decode tok/s, medians (min-max),
// and each build's ratio to the npm build of the same round; asserts nothing.
// Env: BUILDS_MODELS=gemma3n-e2b,gemma3n-e4b  BUILDS_THREADS=1,2  BUILDS_PROMPT=128
// BUILDS_DECODE=16  BUILDS_ROUNDS=3  BUILDS=cpu-relaxed-simd,cpu-simd128,npm
// TEA_LLAMA_BENCH=<llama-bench inside the sid userland> (default: Debian's)
const env = (k: string, d: string) => process.env[k] ?? d;
const list = (k: string, d: string) => env(k, d).split(',').filter(Boolean);
const MODELS = list('BUILDS_MODELS', 'gemma3n-e2b,gemma3n-e4b');
const THREADS = list('BUILDS_THREADS', '1,2').map(Number);
const PROMPT = Number(env('BUILDS_PROMPT', '128'));
const DECODE = Number(env('BUILDS_DECODE', '16'));
const ROUNDS = Number(env('BUILDS_ROUNDS', '3'));
const BUILDS = list('BUILDS', 'cpu-relaxed-simd,cpu-simd128,npm');

const VARIANTS = { 'gemma3n-e2b': 'E2B', 'gemma3n-e4b': 'E4B' } as const;
const manifestUrl = (id: string) => `/apps/demo/.large/reference-models/${id}/manifest.json`;

type Stat = { median: number; min: number; max: number };
const f = (n: number, d = 2) => n.toFixed(d);
const spread = (s: Stat | null, d = 2) =>
  s ? `${f(s.median, d)} (${f(s.min, d)}-${f(s.max, d)})` : '-';

test.beforeAll(async () => {
  test.setTimeout(1_800_000);
  for (const id of MODELS) {
    if (!(id in VARIANTS)) throw new Error(`unknown model ${id}: ${Object.keys(VARIANTS)}`);
    await ensureReferenceModel(id, VARIANTS[id as keyof typeof VARIANTS]);
  }
});

test('wllama builds: prefill and decode, CPU build (relaxed SIMD, SIMD128) vs npm build vs native', async ({
  baseURL,
}) => {
  test.setTimeout(6 * 3_600_000);
  const { context, close } = await persistentContext(baseURL);
  try {
    const page = await context.newPage();
    await page.goto('/apps/demo/dist-bench/bench/index.html');
    await page.waitForFunction(() => (window as any).buildsBench !== undefined);
    for (const id of MODELS)
      for (const threads of THREADS) {
        const r = (await page.evaluate(
          ([u, t, p, d, n, b]) => (window as any).buildsBench.buildRounds(u, t, p, d, n, b),
          [manifestUrl(id), threads, PROMPT, DECODE, ROUNDS, BUILDS] as const,
        )) as any;
        const pp = llamaBench(id, { prompt: r.promptTokens, generate: 0, threads, rounds: 2 });
        const tg = llamaBench(id, { prompt: 0, generate: DECODE, threads, rounds: 2 });
        console.log(
          `[builds bench] ${id}, ${threads} thread(s), prompt ${r.promptTokens} tokens, decode ${DECODE} tokens, ${ROUNDS} rounds; tok/s medians (min-max)`,
        );
        for (const b of r.builds)
          console.log(
            `  ${b.build.padEnd(16)} prefill ${spread(b.prefill)} (x npm ${spread(b.prefillVsNpm, 3)})` +
              (pp ? `, /native ${f(b.prefill.median / pp.avg_ts, 3)}` : '') +
              `; decode ${spread(b.decode)} (x npm ${spread(b.decodeVsNpm, 3)})` +
              (tg ? `, /native ${f(b.decode.median / tg.avg_ts, 3)}` : '') +
              `; greedy text = npm's: ${b.sameTextAsNpm}`,
          );
        console.log(
          pp && tg
            ? `  native ${llamaBenchBin}: pp${r.promptTokens} ${f(pp.avg_ts)} ± ${f(pp.stddev_ts)}, tg${DECODE} ${f(tg.avg_ts)} ± ${f(tg.stddev_ts)} tok/s`
            : '  native llama-bench not installed',
        );
      }
  } finally {
    await close();
  }
});
