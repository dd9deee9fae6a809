import { test } from '@playwright/test';
import { persistentContext } from '../../../tools/chromium.js';
import { ensureReferenceModel, llamaBench } from './reference-fixtures.js';

// Speed for agent workloads, on the shape-faithful Gemma 3n Q4_K_M fixtures (real widths and
// 262,144-token vocabulary, random weights), CPU-only, headless Chromium:
// 1. prefill: time to first token and prompt tokens/s at ~64, 256 and 1,024 prompt tokens, through
//    the sdk and raw wllama on the same (CPU) build and cached Blobs (rounds alternate), and native
//    llama.cpp (`llama-bench -p N -n 0`, Debian's llama.cpp-tools) on the same file;
// 2. prefix reuse: a 3-node workflow sharing a ~300-token system prompt, prompt cache on vs off;
// 3. constrained (JSON Schema) vs free decoding at the reference vocabulary.
// Prints medians with (min-max); asserts nothing. The fixtures are written once (seconds) and
// kept in .large/ like the reference-model bench's.
// Env: AGENT_SECTIONS=prefill,reuse,constrained  AGENT_MODELS=gemma3n-e2b,gemma3n-e4b
// AGENT_THREADS=1,2  AGENT_SIZES=64,256,1024  AGENT_ROUNDS=3 (the 1,024-token prompt runs
// AGENT_LONG_ROUNDS=1)  AGENT_REUSE_MODEL=gemma3n-e2b  AGENT_REUSE_THREADS=2  AGENT_REUSE_ROUNDS=3
// AGENT_SYSTEM_TOKENS=300  AGENT_CONSTRAINED_MODEL=gemma3n-e4b  AGENT_CONSTRAINED_THREADS=2
// AGENT_CONSTRAINED_ROUNDS=5  AGENT_CONSTRAINED_TOKENS=32. At today's speed the defaults take
// about two hours on two cores; narrow them to what you are changing.
const env = (k: string, d: string) => process.env[k] ?? d;
const list = (k: string, d: string) => env(k, d).split(',').filter(Boolean);
const nums = (k: string, d: string) => list(k, d).map(Number);
const SECTIONS = list('AGENT_SECTIONS', 'prefill,reuse,constrained');
const MODELS = list('AGENT_MODELS', 'gemma3n-e2b,gemma3n-e4b');
const THREADS = nums('AGENT_THREADS', '1,2');
const SIZES = nums('AGENT_SIZES', '64,256,1024');
const ROUNDS = Number(env('AGENT_ROUNDS', '3'));
const LONG_ROUNDS = Number(env('AGENT_LONG_ROUNDS', '1'));
const REUSE_MODEL = env('AGENT_REUSE_MODEL', 'gemma3n-e2b');
const REUSE_THREADS = Number(env('AGENT_REUSE_THREADS', '2'));
const REUSE_ROUNDS = Number(env('AGENT_REUSE_ROUNDS', '3'));
const SYSTEM_TOKENS = Number(env('AGENT_SYSTEM_TOKENS', '300'));
const CONSTRAINED_MODEL = env('AGENT_CONSTRAINED_MODEL', 'gemma3n-e4b');
const CONSTRAINED_THREADS = Number(env('AGENT_CONSTRAINED_THREADS', '2'));
const CONSTRAINED_ROUNDS = Number(env('AGENT_CONSTRAINED_ROUNDS', '5'));
const CONSTRAINED_TOKENS = Number(env('AGENT_CONSTRAINED_TOKENS', '32'));

const VARIANTS = { 'gemma3n-e2b': 'E2B', 'gemma3n-e4b': 'E4B' } as const;
type ModelId = keyof typeof VARIANTS;
const manifestUrl = (id: string) => `/apps/demo/.large/reference-models/${id}/manifest.json`;

const needed = [
  ...new Set<string>([
    ...(SECTIONS.includes('prefill') ? MODELS : []),
    ...(SECTIONS.includes('reuse') ? [REUSE_MODEL] : []),
    ...(SECTIONS.includes('constrained') ? [CONSTRAINED_MODEL] : []),
  ]),
] as ModelId[];

test.beforeAll(async () => {
  test.setTimeout(1_800_000);
  for (const id of needed) {
    if (!(id in VARIANTS)) throw new Error(`unknown model ${id}: ${Object.keys(VARIANTS)}`);
    // Shared with the reference-model bench: the same files, written once.
    await ensureReferenceModel(id, VARIANTS[id]);
  }
});

type Stat = { median: number; min: number; max: number };
const f = (n: number, d = 2) => n.toFixed(d);
const spread = (s: Stat, scale = 1, d = 2) =>
  `${f(s.median * scale, d)} (${f(s.min * scale, d)}-${f(s.max * scale, d)})`;

/** Native prompt tokens/s of the same file (`llama-bench -p size -n 0`), or undefined. */
const nativePrefill = (id: string, size: number, threads: number, rounds: number) =>
  llamaBench(id, { prompt: size, generate: 0, threads, rounds });

async function benchPage(baseURL: string | undefined) {
  const { context, close } = await persistentContext(baseURL);
  const page = await context.newPage();
  await page.goto('/apps/demo/dist-bench/bench/index.html');
  await page.waitForFunction(() => (window as any).agentBench !== undefined);
  return { page, close };
}

test('prefill and time to first token: sdk vs raw wllama vs native llama.cpp', async ({
  baseURL,
}) => {
  test.skip(!SECTIONS.includes('prefill'));
  test.setTimeout(4 * 3_600_000);
  const { page, close } = await benchPage(baseURL);
  try {
    const rounds = SIZES.map((s) => (s >= 1024 ? LONG_ROUNDS : ROUNDS));
    for (const id of MODELS)
      for (const threads of THREADS) {
        const r = (await page.evaluate(
          ([u, t, sizes, rs]) => (window as any).agentBench.prefillRounds(u, t, sizes, rs),
          [manifestUrl(id), threads, SIZES, rounds] as const,
        )) as any;
        console.log(
          `[agent bench] ${id}, ${threads} thread(s) (multi-thread ${r.info.multiThread}): prefill, medians (min-max)`,
        );
        for (const [i, s] of (r.sizes as any[]).entries()) {
          const n = nativePrefill(id, s.promptTokens, threads, Math.max(2, rounds[i]!));
          console.log(
            `  ~${s.size} tokens (${s.promptTokens} sdk, ${s.rawPromptTokens} raw), ${rounds[i]} round(s): ` +
              `TTFT sdk ${spread(s.sdkTtft, 1 / 1000, 1)} s, raw ${spread(s.rawTtft, 1 / 1000, 1)} s; ` +
              `prefill sdk ${spread(s.sdkTps)} tok/s, raw ${spread(s.rawTps)} tok/s, sdk/raw ${spread(s.ratios, 1, 3)}` +
              (n
                ? `; native ${f(n.avg_ts)} ± ${f(n.stddev_ts)} tok/s (TTFT ${f(s.promptTokens / n.avg_ts, 1)} s): sdk/native ${f(s.sdkTps.median / n.avg_ts, 3)}`
                : '; native llama-bench not installed'),
          );
        }
      }
  } finally {
    await close();
  }
});

test('prefix reuse: a 3-node workflow sharing a system prompt, prompt cache on vs off', async ({
  baseURL,
}) => {
  test.skip(!SECTIONS.includes('reuse'));
  test.setTimeout(3 * 3_600_000);
  const { page, close } = await benchPage(baseURL);
  try {
    const r = (await page.evaluate(
      ([u, t, n, rounds]) => (window as any).agentBench.reuseRounds(u, t, n, rounds),
      [manifestUrl(REUSE_MODEL), REUSE_THREADS, SYSTEM_TOKENS, REUSE_ROUNDS] as const,
    )) as any;
    console.log(
      `[agent bench] ${REUSE_MODEL}, ${REUSE_THREADS} thread(s): 3 llm.call nodes, one ~${SYSTEM_TOKENS}-token system prompt (node prompt ${r.promptTokens} tokens), ${REUSE_ROUNDS} alternating rounds; TTFT in s, medians (min-max)`,
    );
    for (const arm of ['reuse', 'fresh'] as const) {
      const a = r[arm];
      console.log(
        `  prompt cache ${arm === 'reuse' ? 'on ' : 'off'}: node 1 ${spread(a.node1, 1 / 1000, 1)}, nodes 2-3 ${spread(a.nodes23, 1 / 1000, 1)}, nodes 2-3 / node 1 ${spread(a.later, 1, 3)}; cached tokens per node ${a.cached.join(' / ')}; whole workflow ${spread(a.total, 1 / 1000, 1)} s`,
      );
    }
    console.log(
      `  whole workflow, on/off: ${spread(r.totalRatio, 1, 3)}; outputs identical (temperature 0): ${r.sameOutputs}`,
    );
  } finally {
    await close();
  }
});

test('constrained vs free decoding at the reference vocabulary', async ({ baseURL }) => {
  test.skip(!SECTIONS.includes('constrained'));
  test.setTimeout(3 * 3_600_000);
  const { page, close } = await benchPage(baseURL);
  try {
    const r = (await page.evaluate(
      ([u, t, rounds, tokens]) =>
        (window as any).agentBench.constrainedRounds(u, t, rounds, tokens),
      [
        manifestUrl(CONSTRAINED_MODEL),
        CONSTRAINED_THREADS,
        CONSTRAINED_ROUNDS,
        CONSTRAINED_TOKENS,
      ] as const,
    )) as any;
    console.log(
      `[agent bench] ${CONSTRAINED_MODEL}, ${r.threads} thread(s), ${CONSTRAINED_TOKENS} tokens, ${CONSTRAINED_ROUNDS} alternating rounds: free ${spread(r.free)} tok/s, json_schema ${spread(r.json)} tok/s, constrained/free ${spread(r.ratios, 1, 3)}`,
    );
  } finally {
    await close();
  }
});
