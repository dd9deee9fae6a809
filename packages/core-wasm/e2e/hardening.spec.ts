import { expect, test, type Page } from '@playwright/test';
import type * as EngineModule from '../src/index.js';

// The engine's hardening in a real browser: Chromium's main-thread stack and event loop are
// what the limits are sized for (issue 13).

type Engine = typeof EngineModule;
declare global {
  interface Window {
    engine: Engine;
  }
}

async function open(page: Page): Promise<void> {
  await page.goto('/packages/core-wasm/e2e/hardening.html');
  await page.waitForFunction(() => window.engine !== undefined);
}

const spin = `name: spin
settings: { max_steps: 1000000000 }
state_schema: { n: { type: int, default: 0 } }
nodes:
  - name: inc
    uses: return
    with: { value: "{{ state.n + 1 }}" }
    output: n
    goto: inc
`;

test('a compute-only run keeps the page painting and stops soon after abort', async ({ page }) => {
  await open(page);
  const r = await page.evaluate(async (yaml) => {
    const controller = new AbortController();
    let frames = 0;
    let painting = true;
    const frame = () => {
      frames++;
      if (painting) requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    let abortedAt = 0;
    setTimeout(() => {
      abortedAt = performance.now();
      controller.abort();
    }, 1000);
    const code = await window.engine.executeYaml(yaml, {}, { signal: controller.signal }).then(
      () => 'finished',
      (e: { code: string }) => e.code,
    );
    const latency = performance.now() - abortedAt;
    painting = false;
    const after = await window.engine.executeYaml(
      'name: e\nnodes:\n  - name: a\n    uses: return\n    with: { value: 1 }\n',
      {},
    );
    return { code, latency, frames, after };
  }, spin);
  expect(r.code).toBe('ABORTED');
  // Headless Chromium paints ~60 frames a second (fewer on a loaded machine); a page frozen by
  // the run would paint none or one. The abort latency itself is measured by `pnpm bench`;
  // here it only has to be far from "never".
  expect(r.frames).toBeGreaterThan(2);
  expect(r.latency).toBeLessThan(1000);
  expect(r.after).toEqual({ a: 1 });
});

test('limits hold on the browser stack, and a trap is contained', async ({ page }) => {
  await open(page);
  const r = await page.evaluate(async () => {
    const e = window.engine;
    const code = async (work: () => unknown) => {
      try {
        await work();
        return 'ok';
      } catch (error) {
        return (error as { code?: string }).code ?? String(error);
      }
    };
    const nest = (depth: number) => {
      let v: unknown = 1;
      for (let i = 0; i < depth; i++) v = { k: v };
      return v;
    };
    const limits = e.engineLimits();
    const echo =
      'name: x\nnodes:\n  - name: a\n    uses: return\n    with: { value: "{{ state.x | tojson | length }}" }\n';
    return {
      atDepthLimit: await code(() => e.executeYaml(echo, { x: nest(limits.maxDepth - 1) })),
      deepState: await code(() => e.executeYaml(echo, { x: nest(10_000) })),
      macroAtRecursionLimit: await code(() =>
        e.renderTemplate(
          '{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(1000) }}',
        ),
      ),
      operatorChain: await code(() =>
        e.renderTemplate(`{{ 1${' + 1'.repeat(limits.maxTemplateOperators - 10)} }}`),
      ),
      deepYaml: await code(() =>
        e.validateYaml(
          `a: ${'['.repeat(limits.maxYamlDepth - 2)}${']'.repeat(limits.maxYamlDepth - 2)}`,
        ),
      ),
      trap: await code(() =>
        e.renderTemplate(
          '{% set ns = namespace(v=1) %}{% for i in range(20000) %}{% set ns.v = [ns.v] %}{% endfor %}x',
        ),
      ),
      afterTrap: await code(() => e.executeYaml(echo, { x: 1 })),
    };
  });
  expect(r).toEqual({
    atDepthLimit: 'ok',
    deepState: 'TOO_DEEP',
    macroAtRecursionLimit: 'TEMPLATE',
    operatorChain: 'ok',
    deepYaml: 'ok',
    trap: 'WASM_TRAPPED',
    afterTrap: 'ok',
  });
});
