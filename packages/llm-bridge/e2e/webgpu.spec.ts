import { expect, test } from '@playwright/test';
import { chromiumLaunchOptions } from '../../../tools/chromium.js';
import { fixtureUrls, prepareFixtures } from './fixtures.js';
import { openHarness } from './harness.js';

// Chromium's software WebGPU (SwiftShader) gives an adapter here, without `shader-f16`;
// llama.cpp's WebGPU backend then keeps the weights on the CPU. This pins down the `auto` path
// with an adapter present: it must load, give the CPU's greedy output, and report what
// llama.cpp really did (from its buffer log), not what was asked for.
test.use({
  launchOptions: chromiumLaunchOptions([
    '--enable-unsafe-webgpu',
    '--enable-unsafe-swiftshader',
    '--use-webgpu-adapter=swiftshader',
  ]),
});

test.beforeAll(async () => {
  await prepareFixtures();
});

test('webgpu "auto" with a software adapter loads, matches the CPU output and reports the real placement', async ({
  page,
}) => {
  await openHarness(page);
  const r = await page.evaluate(async (url) => {
    const adapter = await navigator.gpu?.requestAdapter();
    const { bridgeModule } = window.harness;
    const blob = await (await fetch(url)).blob();
    const run = async (webgpu: 'auto' | 'off') => {
      const bridge = bridgeModule.createBridge({ threads: 1, nCtx: 256, webgpu });
      await bridge.load([blob]);
      const out = await bridge.complete({ prompt: 'the cat', max_tokens: 10, temperature: 0 });
      const info = bridge.info();
      await bridge.unload();
      return { content: out.content, webgpu: info.webgpu };
    };
    return {
      adapter: adapter ? { f16: adapter.features.has('shader-f16') } : null,
      auto: await run('auto'),
      off: await run('off'),
    };
  }, fixtureUrls.tiny);
  expect(r.adapter).not.toBeNull();
  expect(r.off.webgpu).toBe(false);
  expect(r.auto.content).toBe(r.off.content);
  // Without shader-f16 llama.cpp keeps the weights on the CPU, and the bridge says so.
  if (!r.adapter?.f16) expect(r.auto.webgpu).toBe(false);
});
