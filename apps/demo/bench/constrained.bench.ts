import { test } from '@playwright/test';
import { ensureBenchModel } from './bench-model.js';

// Constrained decoding (structured output through a JSON Schema grammar) vs free decoding, on the
// ~100 MiB bench model, 1 thread, alternating A/B rounds: tokens/s medians and the per-round ratio.
// Prints; asserts nothing.
const ROUNDS = Number(process.env['CONSTRAINED_ROUNDS'] ?? 7);
const TOKENS = Number(process.env['CONSTRAINED_TOKENS'] ?? 64);
test.beforeAll(ensureBenchModel);

test('constrained vs free decoding speed', async ({ page }) => {
  test.setTimeout(600_000);
  await page.goto('/apps/demo/dist-bench/bench/index.html');
  await page.waitForFunction(() => (window as any).benchReady === true);
  const r = await page.evaluate(
    ([url, rounds, tokens]) => (window as any).bench.constrainedDecode(url, rounds, tokens),
    ['/apps/demo/dist-bench/bench-models/bench-model/manifest.json', ROUNDS, TOKENS] as const,
  );
  const f = (s: { median: number; min: number; max: number }) =>
    `${s.median.toFixed(2)} (${s.min.toFixed(2)}-${s.max.toFixed(2)})`;
  console.log(
    `[constrained bench] ~100 MiB model, 1 thread, ${TOKENS} tokens, ${ROUNDS} alternating rounds: median (min-max)`,
  );
  console.log(`  free decoding:        ${f(r.plain)} tok/s`);
  console.log(`  json_schema decoding: ${f(r.json)} tok/s`);
  console.log(`  constrained / free:   ${f(r.ratios)}`);
});
