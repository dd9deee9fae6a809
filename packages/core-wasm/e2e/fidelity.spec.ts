import { expect, test } from '@playwright/test';
import type * as EngineModule from '../src/index.js';

// A representative subset of the fidelity corpus (fidelity/) in Chromium: the same engine build
// must give upstream's results (or the documented `ours`) in a browser as in Node.

declare global {
  interface Window {
    engine: typeof EngineModule;
  }
}

const subset = [
  '05-goto-target-falls-through',
  '08-goto-condition-truthiness',
  '12-edges-without-start-edge',
  '16-condition-expression-object',
  '18-conditional-entry-from-start',
  '21-plain-edges-first-wins',
  '24-parallel-type-fan-in',
  '27-merge-deep',
  '30-while-loop-counter',
  '34-dynamic-parallel-action',
  '44-interrupt-before',
  '51-template-python-str-rendering',
  '52-template-json-filters',
  '55-template-runtime-error-literal',
  '63-llm-call-no-output-merges',
  '67-llm-stream',
];

test('a representative subset of the fidelity corpus gives upstream results in Chromium', async ({
  page,
}) => {
  await page.goto('/packages/core-wasm/e2e/hardening.html');
  await page.waitForFunction(() => window.engine !== undefined);
  const results = await page.evaluate(async (names) => {
    const base = '/packages/core-wasm/fidelity/';
    const cases = (await (await fetch(`${base}expected.json`)).json()) as Record<
      string,
      { initialState: object; expect: Record<string, unknown>; ours?: Record<string, unknown> }
    >;
    // Keys sorted and measured timings dropped, for comparison.
    const canon = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(canon);
      if (v && typeof v === 'object')
        return Object.fromEntries(
          Object.keys(v)
            .filter((k) => k !== 'timing_ms')
            .sort()
            .map((k) => [k, canon((v as Record<string, unknown>)[k])]),
        );
      return v;
    };
    const llmHandler = (r: EngineModule.LlmRequest) =>
      r.kind === 'embed'
        ? { embedding: [String(r.input).length, 1] }
        : { content: `echo:${r.prompt ?? r.messages?.at(-1)?.content ?? ''}` };
    const out: Record<string, string> = {};
    for (const name of names) {
      const c = cases[name]!;
      const want = c.ours ?? c.expect;
      const yaml = await (await fetch(`${base}cases/${name}.yaml`)).text();
      let got: Record<string, unknown>;
      try {
        const wf = window.engine.Workflow.parse(yaml);
        const r = await wf.invoke(structuredClone(c.initialState) as EngineModule.WorkflowState, {
          llmHandler,
        });
        wf.free();
        got =
          r.status === 'completed'
            ? { state: r.state }
            : { interrupted: { node: r.node, when: r.when, state: r.state } };
      } catch (e) {
        got = { error: (e as { code?: string }).code };
      }
      const ok =
        typeof want['error'] === 'string'
          ? got['error'] === want['error']
          : JSON.stringify(canon({ state: got['state'], interrupted: got['interrupted'] })) ===
            JSON.stringify(canon({ state: want['state'], interrupted: want['interrupted'] }));
      out[name] = ok ? 'ok' : JSON.stringify(got);
    }
    return out;
  }, subset);
  expect(results).toEqual(Object.fromEntries(subset.map((n) => [n, 'ok'])));
});
