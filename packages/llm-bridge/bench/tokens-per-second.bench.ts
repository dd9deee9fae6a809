import { test } from '@playwright/test';
import { fixtureUrls, prepareBenchFixture } from '../e2e/fixtures.js';
import { openHarness } from '../e2e/harness.js';

// Decode speed of the bridge vs raw wllama on the same model, in the same page and run. Each
// round runs both, alternating which goes first, so warm-up and drift hit both alike; decode
// speed is timed from the first streamed token to the last (prompt processing excluded). The
// medians are compared. This is a benchmark: it prints, it asserts nothing about speed.
const ROUNDS = 4;
const TOKENS = 64;

test.beforeAll(async () => {
  await prepareBenchFixture();
});

for (const threads of [1, 2]) {
  test(`decode tokens/s, bridge vs raw wllama, ${threads} thread(s)`, async ({ page }) => {
    await openHarness(page);
    const r = await page.evaluate(
      async ({ url, threads, rounds, tokens }) => {
        const { bridgeModule, Wllama } = window.harness;
        const blob = await (await fetch(url)).blob();
        const prompt = 'the cat';
        // Tokens per second between the first and the last streamed token.
        const clock = () => {
          let first = 0;
          let last = 0;
          let n = 0;
          return {
            tick: () => {
              last = performance.now();
              if (n++ === 0) first = last;
            },
            rate: () => (n - 1) / ((last - first) / 1000),
          };
        };
        const runRaw = async () => {
          const t0 = performance.now();
          const w = new Wllama(
            { default: '/packages/llm-bridge/wasm/wllama.wasm' },
            { suppressNativeLog: true },
          );
          await w.loadModel([blob], {
            n_ctx: 512,
            n_threads: threads,
            n_gpu_layers: 0,
            embeddings: true,
            pooling_type: 'mean',
          });
          const load = performance.now() - t0;
          const c = clock();
          await w.createCompletion({
            prompt,
            max_tokens: tokens,
            temperature: 0,
            stream: true,
            onData: c.tick,
          });
          await w.exit();
          return { load, tps: c.rate() };
        };
        const runBridge = async () => {
          const t0 = performance.now();
          const bridge = bridgeModule.createBridge({ threads, nCtx: 512, webgpu: 'off' });
          await bridge.load([blob]);
          const load = performance.now() - t0;
          const c = clock();
          await bridge.complete({ prompt, max_tokens: tokens, temperature: 0, onToken: c.tick });
          await bridge.unload();
          return { load, tps: c.rate() };
        };
        const raw = [];
        const viaBridge = [];
        for (let i = 0; i < rounds; i++) {
          if (i % 2 === 0) {
            raw.push(await runRaw());
            viaBridge.push(await runBridge());
          } else {
            viaBridge.push(await runBridge());
            raw.push(await runRaw());
          }
        }
        const median = (xs: number[]) =>
          [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
        return {
          modelBytes: blob.size,
          rawTps: median(raw.map((x) => x.tps)),
          bridgeTps: median(viaBridge.map((x) => x.tps)),
          rawLoadMs: median(raw.map((x) => x.load)),
          bridgeLoadMs: median(viaBridge.map((x) => x.load)),
        };
      },
      { url: fixtureUrls.bench, threads, rounds: ROUNDS, tokens: TOKENS },
    );
    console.log(
      `[llm-bridge bench] ${threads} thread(s), model ${(r.modelBytes / 2 ** 20).toFixed(1)} MiB, ` +
        `${TOKENS} tokens x ${ROUNDS} rounds: raw wllama ${r.rawTps.toFixed(1)} tok/s, ` +
        `bridge ${r.bridgeTps.toFixed(1)} tok/s, ratio ${(r.bridgeTps / r.rawTps).toFixed(3)}; ` +
        `load raw ${r.rawLoadMs.toFixed(0)} ms, bridge ${r.bridgeLoadMs.toFixed(0)} ms`,
    );
  });
}
