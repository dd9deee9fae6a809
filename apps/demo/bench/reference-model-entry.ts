// Bench-page functions for the reference-model benchmark (reference-model.bench.ts): load time
// from the IndexedDB cache through the sdk and through raw wllama in both builds (stock 4 GiB and
// llm-bridge's 16 GiB), and decode speed of the sdk vs raw (16 GiB) wllama on the same Blobs.
import { Wllama as StockWllama } from '@wllama/wllama';
import stockWasm from '@wllama/wllama/esm/wasm/wllama.wasm?url';
import { createTea, type ModelManifest } from '@the-edge-agent/sdk';
import { rawCpuWllama } from './raw-wllama.js';
import { decodeClock, rawTick, summary } from './clock.js';

type Side = 'sdk' | 'raw16' | 'stock';

const now = () => performance.now();

/**
 * Raw wllama of either build, with its native log read for errors: wllama can resolve
 * `loadModel` although llama.cpp refused the model (the stock build on E4B logs
 * `insufficient memory` and resolves in about a second), so `refusal()` tells a real load.
 */
function rawWllama(side: 'raw16' | 'stock') {
  const errors: string[] = [];
  const none = () => undefined;
  const logger = {
    debug: none,
    log: none,
    warn: none,
    error: (...a: unknown[]) => void errors.push(a.join(' ')),
  };
  // Native log on, as the bridge has it (it reads llama.cpp's errors there): the same cost for both.
  const config = { suppressNativeLog: false, logger };
  const w =
    side === 'raw16' ? rawCpuWllama(config) : new StockWllama({ default: stockWasm }, config);
  const refusal = () =>
    errors.find((e) =>
      /insufficient memory|failed to load|error loading model|failed to allocate/i.test(e),
    );
  return Object.assign(w, { refusal });
}

const params = (threads: number) => ({
  n_ctx: 512,
  n_threads: threads,
  n_gpu_layers: 0,
  embeddings: true,
  pooling_type: 'mean' as const,
});

/** The sdk's load from the cache: the time of its `load` phase (acquisition excluded). */
async function sdkLoad(manifestUrl: string, threads: number) {
  let loadStart = 0;
  const tea = await createTea({
    manifestUrl,
    threads,
    nCtx: 512,
    webgpu: 'off',
    onProgress: (p) => void (p.phase === 'load' && !loadStart && (loadStart = now())),
  });
  const ms = now() - loadStart;
  return { tea, ms };
}

/**
 * Downloads the model into the sdk's cache (timed), then loads it `rounds` times from the cache
 * per side, alternating the order of the sides each round. A side that fails (the stock build on
 * a model over 4 GiB) is reported with its error and left out of later rounds.
 */
async function loadRounds(manifestUrl: string, threads: number, rounds: number, sides: Side[]) {
  const manifest = (await (await fetch(manifestUrl)).json()) as ModelManifest;
  const t = now();
  const first = await sdkLoad(manifestUrl, threads);
  const downloadAndLoadMs = now() - t;
  const blobs = await first.tea.cache!.getBlobs(manifest);
  await first.tea.dispose();
  const times: Record<Side, number[]> = { sdk: [], raw16: [], stock: [] };
  const errors: Partial<Record<Side, string>> = {};
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      if (errors[side]) continue;
      try {
        if (side === 'sdk') {
          const { tea, ms } = await sdkLoad(manifestUrl, threads);
          times.sdk.push(ms);
          await tea.dispose();
        } else {
          const w = rawWllama(side);
          const s = now();
          try {
            await w.loadModel(blobs, params(threads));
            const refused = w.refusal();
            if (refused) throw new Error(`llama.cpp refused the model: ${refused}`);
            times[side].push(now() - s);
          } finally {
            await w.exit().catch(() => undefined);
          }
        }
      } catch (error) {
        errors[side] = String((error as Error).message ?? error).slice(0, 200);
      }
    }
  }
  return {
    bytes: manifest.totalBytes,
    downloadAndLoadMs,
    firstLoadMs: first.ms,
    loads: Object.fromEntries(
      sides.filter((s) => times[s].length).map((s) => [s, summary(times[s])]),
    ),
    errors,
  };
}

/**
 * Decode speed of the sdk and of raw 16 GiB wllama on the same cached Blobs: each round loads one
 * side, decodes, frees it, then the other (the order alternates), so only one ~5 GB model is in
 * memory at a time.
 */
async function decodeRounds(manifestUrl: string, threads: number, rounds: number, tokens: number) {
  const manifest = (await (await fetch(manifestUrl)).json()) as ModelManifest;
  const sdk: number[] = [];
  const raw: number[] = [];
  let info: unknown;
  const runSdk = async () => {
    const { tea } = await sdkLoad(manifestUrl, threads);
    try {
      const c = decodeClock();
      await tea.complete('the cat', { max_tokens: tokens, temperature: 0, onToken: c.tick });
      sdk.push(c.rate());
      info = tea.info().model;
      return tea.cache!.getBlobs(manifest);
    } finally {
      await tea.dispose();
    }
  };
  let blobs = await runSdk();
  const runRaw = async () => {
    const w = rawWllama('raw16');
    try {
      await w.loadModel(blobs, params(threads));
      const c = decodeClock();
      await w.createCompletion({
        prompt: 'the cat',
        max_tokens: tokens,
        temperature: 0,
        stream: true,
        onData: rawTick(c),
      });
      raw.push(c.rate());
    } finally {
      await w.exit().catch(() => undefined);
    }
  };
  await runRaw();
  for (let i = 1; i < rounds; i++) {
    if (i % 2 === 1) {
      await runRaw();
      blobs = await runSdk();
    } else {
      blobs = await runSdk();
      await runRaw();
    }
  }
  return {
    sdk: summary(sdk),
    raw16: summary(raw),
    ratios: summary(sdk.map((s, i) => s / raw[i]!)),
    info,
  };
}

(window as unknown as { referenceBench: unknown }).referenceBench = { loadRounds, decodeRounds };
