import { rmSync } from 'node:fs';
import { test } from '@playwright/test';
import { persistentContext } from '../../../tools/chromium.js';
import {
  ensureReferenceModel,
  llamaBench,
  nativeDir,
  referenceModels,
} from './reference-fixtures.js';

// The reference model without a GPU. Shape-faithful Gemma 3n Q4_K_M fixtures (real widths and
// 262,144-token vocabulary, random weights): E4B cut to 13 layers (~2 GB), E2B (~3.3 GB) and
// E4B (~4.8 GB). For each: load seconds per GB from the IndexedDB cache, the first load right
// after the download and repeated loads, through the sdk and raw wllama in both builds (stock
// 4 GiB, llm-bridge's 16 GiB) where each can load, rounds alternating the order. For E4B: decode
// tokens/s of the sdk vs raw wllama on the same CPU build (same Blobs, same page, alternating rounds) and vs
// native llama.cpp (`llama-bench` from Debian's llama.cpp-tools in the setup's sid userland) on
// the same file. Prints; asserts nothing. REF_ROUNDS, REF_TOKENS, REF_ONLY=gemma3n-e4b to narrow,
// REF_THREADS=2 (decode thread counts, default 1,2), REF_DECODE_ONLY=1 to skip the load rounds.
const ROUNDS = Number(process.env['REF_ROUNDS'] ?? 3);
const TOKENS = Number(process.env['REF_TOKENS'] ?? 16);
const MODELS = [
  { id: 'gemma3n-e4b-13l', variant: 'E4B', layers: 13 },
  { id: 'gemma3n-e2b', variant: 'E2B', layers: undefined },
  { id: 'gemma3n-e4b', variant: 'E4B', layers: undefined },
] as const;
const only = process.env['REF_ONLY'];
const THREADS = (process.env['REF_THREADS'] ?? '1,2').split(',').filter(Boolean).map(Number);
const DECODE_ONLY = !!process.env['REF_DECODE_ONLY'];
const chosen = MODELS.filter((m) => !only || only.split(',').includes(m.id));
test.beforeAll(async () => {
  test.setTimeout(1_800_000);
  for (const m of chosen) {
    const r = await ensureReferenceModel(m.id, m.variant, m.layers);
    if (r)
      console.log(
        `[reference bench] wrote ${m.id}: ${(r.bytes / 1e9).toFixed(2)} GB in ${r.seconds.toFixed(0)} s`,
      );
  }
});

test.afterAll(() => {
  if (process.env['REF_KEEP']) return;
  rmSync(referenceModels, { recursive: true, force: true });
  rmSync(nativeDir, { recursive: true, force: true });
});

const f = (n: number, d = 2) => n.toFixed(d);
const spread = (s: { median: number; min: number; max: number }, scale = 1) =>
  `${f(s.median * scale)} (${f(s.min * scale)}-${f(s.max * scale)})`;
const ratio = (s: { median: number; min: number; max: number }) =>
  `${f(s.median, 3)} (${f(s.min, 3)}-${f(s.max, 3)})`;

/** Native decode tok/s of the same file (`llama-bench -p 0 -n TOKENS`), or undefined. */
function native(id: string, threads: number): number | undefined {
  return llamaBench(id, { prompt: 0, generate: TOKENS, threads, rounds: ROUNDS })?.avg_ts;
}

test('reference model (Gemma 3n Q4_K_M shapes): load s/GB at ~2, 3.3 and 4.8 GB; E4B decode sdk vs raw vs native', async ({
  baseURL,
}) => {
  test.setTimeout(3_600_000);
  const { context, close } = await persistentContext(baseURL);
  try {
    const page = await context.newPage();
    await page.goto('/apps/demo/dist-bench/bench/index.html');
    await page.waitForFunction(() => (window as any).referenceBench !== undefined);
    console.log(`[reference bench] ${ROUNDS} rounds; medians with (min-max)`);
    const loads = async (id: string, url: string) => {
      const r = (await page.evaluate(
        ([u, rounds]) =>
          (window as any).referenceBench.loadRounds(u, 1, rounds, ['sdk', 'raw16', 'stock']),
        [url, ROUNDS] as const,
      )) as any;
      const gb = r.bytes / 1e9;
      console.log(
        `  ${id} (${f(gb)} GB): download+first load ${f(r.downloadAndLoadMs / 1000, 1)} s; first load from cache ${f(r.firstLoadMs / 1000 / gb)} s/GB`,
      );
      for (const side of ['sdk', 'raw16', 'stock'])
        console.log(
          r.loads[side]
            ? `    ${side.padEnd(5)} repeated loads: ${spread(r.loads[side], 1 / 1000 / gb)} s/GB`
            : `    ${side.padEnd(5)} cannot load: ${r.errors[side]}`,
        );
    };
    for (const m of chosen) {
      const url = `/apps/demo/.large/reference-models/${m.id}/manifest.json`;
      if (!DECODE_ONLY) await loads(m.id, url);
      if (m.id !== 'gemma3n-e4b') continue;
      for (const threads of THREADS) {
        const d = (await page.evaluate(
          ([u, t, rounds, tokens]) =>
            (window as any).referenceBench.decodeRounds(u, t, rounds, tokens),
          [url, threads, ROUNDS, TOKENS] as const,
        )) as any;
        const n = native(m.id, threads);
        console.log(
          `    decode at ${threads} thread(s) (multi-thread ${d.info.multiThread}): sdk ${spread(d.sdk)} tok/s, raw wllama (same build) ${spread(d.raw16)}, sdk/raw ${ratio(d.ratios)}` +
            (n
              ? `; native llama-bench ${f(n)} tok/s: sdk/native ${f(d.sdk.median / n)}, raw/native ${f(d.raw16.median / n)}`
              : '; native llama-bench not installed'),
        );
      }
    }
  } finally {
    await close();
  }
});
