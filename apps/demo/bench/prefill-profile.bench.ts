import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Page, test } from '@playwright/test';
import { sidRoot } from '@the-edge-agent/test-fixtures';
import { persistentContext } from '../../../tools/chromium.js';
import { ensureReferenceModel, nativeFirstTokens, type TopToken } from './reference-fixtures.js';
import { words } from './words.js';
import { type ThreadProfile, WorkerProfiler } from './worker-profiler.js';

// Where wasm prefill's time goes, and whether the CPU builds compute what the npm build does, on
// the shape-faithful Gemma 3n Q4_K_M fixtures, raw wllama in Chromium, CPU-only:
// 1. Log-probabilities of the first token after new prompts, at several depths of the fixture:
//    each build and native llama.cpp (Debian's llama-server) against each other.
// 2. Chromium's sampling profiler in every worker (wllama's and llama.cpp's threads) during one
//    prefill per build: self time by ggml function, grouped by op and quant type, and per thread.
//    The CPU build's wasm has no name section; its functions are named from the build's symbol
//    map (`--emit-symbol-map`) when the wasm in the build folder is the one llm-bridge ships.
// Prints; asserts nothing.
// Env: PROFILE_MODEL=gemma3n-e2b  PROFILE_THREADS=2  PROFILE_PROMPT=128
// PROFILE_BUILDS=cpu-relaxed-simd,npm  LOGITS_BUILDS=cpu-relaxed-simd,cpu-simd128,npm
// LOGITS_PROMPTS=3  LOGITS_LAYERS=2,8,all  PROFILE_PARTS=logits,profile  PROFILE_SYMBOLS=<the relaxed build's wllama.js.symbols>
const env = (k: string, d: string) => process.env[k] ?? d;
const list = (k: string, d: string) => env(k, d).split(',').filter(Boolean);
const MODEL = env('PROFILE_MODEL', 'gemma3n-e2b');
const THREADS = Number(env('PROFILE_THREADS', '2'));
const PROMPT = Number(env('PROFILE_PROMPT', '128'));
const BUILDS = list('PROFILE_BUILDS', 'cpu-relaxed-simd,npm');
const LOGITS_BUILDS = list('LOGITS_BUILDS', 'cpu-relaxed-simd,cpu-simd128,npm');
const LOGITS_PROMPTS = Number(env('LOGITS_PROMPTS', '3'));
const LOGITS_LAYERS = list('LOGITS_LAYERS', '2,8,all');
const PARTS = list('PROFILE_PARTS', 'logits,profile');
const PORT = 9300 + (process.pid % 500);
const VARIANTS = { 'gemma3n-e2b': 'E2B', 'gemma3n-e4b': 'E4B' } as const;
const manifestUrl = `/apps/demo/.large/reference-models/${MODEL}/manifest.json`;

const shipped = fileURLToPath(
  new URL('../../../packages/llm-bridge/wasm/wllama-cpu-relaxed.wasm', import.meta.url),
);
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Function index → name for the shipped relaxed-SIMD wasm, when its build's symbol map is here. */
function relaxedSymbols(): Map<number, string> | undefined {
  const dir = join(sidRoot(), 'build', 'wllama-cpu', 'wllama', 'build');
  const path = process.env['PROFILE_SYMBOLS'] ?? join(dir, 'wllama.js.symbols');
  if (!existsSync(path)) return undefined;
  const wasm = join(dir, 'wllama.wasm');
  if (!process.env['PROFILE_SYMBOLS'] && (!existsSync(wasm) || sha(wasm) !== sha(shipped)))
    return undefined;
  return new Map(
    readFileSync(path, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const at = line.indexOf(':');
        return [Number(line.slice(0, at)), line.slice(at + 1)] as const;
      }),
  );
}

const WAIT = /barrier|sched_yield|futex|emscripten_thread|atomic|_wait|thread_sync|cond/i;
const IDLE = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/** A ggml function's group: the op and the quant type it works on. */
function group(fn: string): string {
  const n = fn.startsWith('(') ? fn : fn.replace(/\(.*$/, '');
  // ggml's repack template: forward_mul_mat runs the GEMM/GEMV inlined.
  let m = /^ggml::cpu::repack::tensor_traits<block_(\w+?), /.exec(n);
  if (m) return `mul_mat ${m[1]} repacked GEMM`;
  if (/^(\w+)_x8_unpack$/.test(n)) return `mul_mat ${n.replace(/_x8_unpack$/, '')} repacked GEMM`;
  if (n === 'ggml_graph_compute_thread') return 'threads: scheduling and spin-wait';
  if (/^(?:\$func|wasm-function\[)\d+/.test(n)) return 'unnamed wasm functions';
  m = /^ggml_(gemm|gemv)_(\w+?)_(\d+x\d+)_(q8_K|q8_0|f16|f32)$/.exec(n);
  if (m) return `mul_mat ${m[2]} repacked ${m[1]!.toUpperCase()}`;
  m = /^ggml_vec_dot_(\w+?)_(q8_K|q8_0|q8_1)(_generic)?$/.exec(n);
  if (m) return `mul_mat ${m[1]} vec_dot${m[3] ? ' (generic)' : ''}`;
  if (/^ggml_vec_dot_(f16|f32|bf16)/.test(n)) return `mul_mat ${n.slice(13, 16)} vec_dot`;
  if (/quantize|from_float/.test(n)) return 'quantize activations';
  m = /^ggml_compute_forward_(\w+)/.exec(n);
  if (m) return `op ${m[1]}`;
  if (/^ggml_vec_|^ggml_v_|expf|tanh|gelu|silu|softmax/i.test(n)) return 'vector math';
  if (WAIT.test(n)) return 'threads: waiting';
  if (IDLE.has(n)) return n;
  return 'other';
}

const named = (symbols: Map<number, string> | undefined) => (name: string) => {
  const m = /^(?:\$func|wasm-function\[)(\d+)\]?$/.exec(name);
  return m && symbols?.has(Number(m[1])) ? symbols.get(Number(m[1]))! : name;
};

function report(
  build: string,
  threads: ThreadProfile[],
  wallMs: number,
  name: (s: string) => string,
) {
  const byGroup = new Map<string, number>();
  const byFn = new Map<string, number>();
  for (const t of threads)
    for (const [fn, ms] of t.selfMs) {
      const n = name(fn);
      byFn.set(n, (byFn.get(n) ?? 0) + ms);
      byGroup.set(group(n), (byGroup.get(group(n)) ?? 0) + ms);
    }
  const busy = [...byGroup].filter(([g]) => !IDLE.has(g)).reduce((s, [, ms]) => s + ms, 0);
  const pct = (ms: number) => `${((100 * ms) / busy).toFixed(1)} %`;
  console.log(
    `  ${build}: prefill ${(wallMs / 1000).toFixed(1)} s; ${threads.length} workers sampled; busy (not idle) ${(busy / 1000).toFixed(1)} s`,
  );
  for (const [g, ms] of [...byGroup].sort((a, b) => b[1] - a[1]).filter(([g]) => !IDLE.has(g)))
    if (ms / busy >= 0.005)
      console.log(`    ${g.padEnd(40)} ${(ms / 1000).toFixed(2)} s  ${pct(ms)}`);
  const other = [...byFn].filter(([f]) => group(f) === 'other').sort((a, b) => b[1] - a[1]);
  console.log(
    `    "other" is ${other.length} functions; the largest: ${other
      .slice(0, 8)
      .map(([f, ms]) => `${f.slice(0, 40)} ${pct(ms)}`)
      .join(', ')}`,
  );
  console.log('    top functions:');
  for (const [fn, ms] of [...byFn]
    .sort((a, b) => b[1] - a[1])
    .filter(([f]) => !IDLE.has(f))
    .slice(0, 12))
    console.log(`      ${fn.slice(0, 70).padEnd(70)} ${pct(ms)}`);
  console.log('    per worker (busy s / prefill wall s):');
  for (const t of threads) {
    const own = [...t.selfMs].filter(([f]) => !IDLE.has(f));
    const ms = own.reduce((s, [, v]) => s + v, 0);
    const waiting = own
      .filter(([f]) => group(name(f)) === 'threads: waiting')
      .reduce((s, [, v]) => s + v, 0);
    if (ms > 50)
      console.log(
        `      ${t.url.split('/').pop()?.slice(0, 30).padEnd(30)} ${(ms / 1000).toFixed(2)} / ${(wallMs / 1000).toFixed(2)} (waiting ${(waiting / 1000).toFixed(2)})`,
      );
  }
}

test('prefill: first-token log-probabilities per build, and where the time goes', async ({
  baseURL,
}) => {
  test.setTimeout(3 * 3_600_000);
  if (!(MODEL in VARIANTS)) throw new Error(`unknown model ${MODEL}: ${Object.keys(VARIANTS)}`);
  await ensureReferenceModel(MODEL, VARIANTS[MODEL as keyof typeof VARIANTS]);
  const { context, close } = await persistentContext(baseURL, [`--remote-debugging-port=${PORT}`]);
  const profiler = await WorkerProfiler.connect(PORT);
  try {
    const page = await context.newPage();
    await page.goto(`/apps/demo/${env('BENCH_DIST', 'dist-bench')}/bench/index.html`);
    await page.waitForFunction(() => (window as any).kernelsBench !== undefined);

    if (PARTS.includes('logits')) await logits(page);
    if (PARTS.includes('profile')) await profile(page, profiler);
  } finally {
    profiler.close();
    await close();
  }
});

/** How two lists of top tokens agree: top token, tokens in both, largest |Δ log-probability|. */
function agreement(a: TopToken[][], b: TopToken[][]) {
  let sameTop = 0;
  let shared = 0;
  let maxAbs = 0;
  for (const [p, top] of a.entries()) {
    const ref = b[p]!;
    if (top[0]!.id === ref[0]!.id) sameTop++;
    for (const t of top) {
      const r = ref.find((x) => x.id === t.id);
      if (!r) continue;
      shared++;
      maxAbs = Math.max(maxAbs, Math.abs(r.logprob - t.logprob));
    }
  }
  const n = a.length;
  return `top token ${sameTop}/${n}, shared ${(shared / n).toFixed(1)}/${a[0]!.length}, max |Δ| ${maxAbs.toFixed(4)}`;
}

/**
 * At each depth (the fixture with its first N layers, and the whole model): every build's and
 * native llama.cpp's first-token top-20 log-probabilities after the same new prompts, compared
 * pairwise. Random weights make a deep stack chaotic, so the depths show where builds part.
 */
async function logits(page: Page) {
  const variant = VARIANTS[MODEL as keyof typeof VARIANTS];
  const prompts = Array.from({ length: LOGITS_PROMPTS }, (_, p) => words(20, 31_000 + p));
  for (const depth of LOGITS_LAYERS) {
    const id = depth === 'all' ? MODEL : `${MODEL}-${depth}l`;
    await ensureReferenceModel(id, variant, depth === 'all' ? undefined : Number(depth));
    const tops = (await page.evaluate(
      ([u, t, b, p]) => (window as any).kernelsBench.firstTokens(u, t, b, p, 20),
      [
        `/apps/demo/.large/reference-models/${id}/manifest.json`,
        THREADS,
        LOGITS_BUILDS,
        prompts,
      ] as const,
    )) as Record<string, TopToken[][]>;
    const native = await nativeFirstTokens(id, prompts, 20, THREADS);
    if (native) tops['native'] = native;
    console.log(
      `[logits] ${id} (${depth === 'all' ? 'all' : depth} layers), ${THREADS} thread(s), ${prompts.length} new prompts of 20 words, first-token top 20:`,
    );
    const names = Object.keys(tops);
    // Against the npm build (ggml's generic kernels), then the CPU builds against native.
    for (const ref of ['npm', 'native'].filter((r) => tops[r]))
      for (const name of names.filter((n) => n !== ref && !(ref === 'native' && n === 'npm')))
        console.log(
          `  ${name.padEnd(16)} vs ${ref.padEnd(6)} ${agreement(tops[name]!, tops[ref]!)}`,
        );
  }
}

async function profile(page: Page, profiler: WorkerProfiler) {
  {
    const symbols = relaxedSymbols();
    for (const build of BUILDS) {
      const prepared = (await page.evaluate(
        ([u, t, b]) => (window as any).kernelsBench.prepare(u, t, b),
        [manifestUrl, THREADS, build] as const,
      )) as { threads: number };
      await new Promise((r) => setTimeout(r, 1000));
      await profiler.start(1000);
      const r = (await page.evaluate(([p, s]) => (window as any).kernelsBench.prefill(p, s), [
        PROMPT,
        77_000,
      ] as const)) as { promptTokens: number; ms: number };
      const threads = await profiler.stop();
      console.log(
        `[prefill profile] ${MODEL}, ${build}, ${prepared.threads} thread(s), ${r.promptTokens} tokens, ${(r.promptTokens / (r.ms / 1000)).toFixed(2)} tok/s` +
          (build.startsWith('cpu-') && build !== 'cpu-relaxed-simd'
            ? ' (no symbol map for this build: functions by index)'
            : build === 'cpu-relaxed-simd' && !symbols
              ? ' (no symbol map found: functions by index)'
              : ''),
      );
      report(build, threads, r.ms, named(build === 'cpu-relaxed-simd' ? symbols : undefined));
      await page.evaluate(() => (window as any).kernelsBench.release());
    }
  }
}
