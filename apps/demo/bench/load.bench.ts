import { test } from '@playwright/test';
import { ensureBenchModel } from './bench-model.js';

// Cold load (network: download + verify + store + load), warm load (IndexedDB), and wllama's own
// cache load of the same packed ~100 MiB model, plus time to first token of a workflow vs a
// direct wllama call. Prints; asserts nothing.
const REPS = 5;
test.beforeAll(ensureBenchModel);

test('load and first-token timings: sdk vs wllama', async ({ page }) => {
  await page.goto('/apps/demo/dist-bench/bench/index.html');
  await page.waitForFunction(() => (window as any).benchReady === true);
  const manifestUrl = '/apps/demo/dist-bench/bench-models/bench-model/manifest.json';
  const sdk = await page.evaluate(([url, reps]) => (window as any).bench.sdkLoads(url, reps), [
    manifestUrl,
    REPS,
  ] as const);
  const manifest = (await (await page.request.get(manifestUrl)).json()) as {
    chunks: Array<{ file: string }>;
  };
  const first = `/apps/demo/dist-bench/bench-models/bench-model/${manifest.chunks[0]!.file}`;
  const raw = await page.evaluate(([url, reps]) => (window as any).bench.wllamaLoads(url, reps), [
    first,
    REPS,
  ] as const);
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  console.log(
    `[demo bench] ~100 MiB model in ${manifest.chunks.length} shards, 1 thread, served on 127.0.0.1, median of ${REPS}`,
  );
  console.log(`  sdk cold load (download + verify + IndexedDB + wllama load): ${ms(sdk.cold)}`);
  console.log(
    `  sdk warm load (IndexedDB, no network):                       ${ms(sdk.warm)}  (manifest + cache lookup ${ms(sdk.warmAcquire)})`,
  );
  console.log(
    `  wllama's own cache load (loadModelFromUrl, useCache):         ${ms(raw.cached)}  (sdk warm / wllama cached = ${(sdk.warm / raw.cached).toFixed(2)})`,
  );
  console.log(
    `  time to first token: workflow ${ms(sdk.workflowTtft)}, direct wllama ${ms(raw.directTtft)}  (ratio ${(sdk.workflowTtft / raw.directTtft).toFixed(2)})`,
  );
});
