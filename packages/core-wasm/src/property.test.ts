import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CoreWasmError,
  ENGINE_ERROR_CODES,
  executeYaml,
  HOST_ERROR_CODES,
  init,
  registerAction,
  renderTemplate,
  validateYaml,
  Workflow,
} from './index.js';
import { restartCount } from './instance.js';

// Property tests: random and adversarial YAML, states, templates and handler replies. Whatever
// they are, the call settles, an error carries a known code, and a normal workflow runs next.

const CODES = new Set<string>([...ENGINE_ERROR_CODES, ...HOST_ERROR_CODES]);
const RUNS = Number(process.env['TEA_PROPERTY_RUNS'] ?? 300);

const echo =
  'name: echo\nnodes:\n  - name: copy\n    uses: return\n    with: { value: "{{ state.x }}" }\n    output: y\n';

/** Settles `work`; fails the property on a non-coded error. */
async function settles(work: () => unknown): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (!(error instanceof CoreWasmError) || !CODES.has(error.code))
      throw new Error(`an uncoded failure: ${String(error)}`, { cause: error });
  }
  await expect(executeYaml(echo, { x: 1 })).resolves.toEqual({ x: 1, y: 1 });
}

/** JSON-ish values with hostile shapes: deep chains, wide objects, odd keys, odd numbers. */
const hostileKey = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  '',
  'a.b',
  '\u0000',
  '💥',
);
const leaf = fc.oneof(
  fc.string(),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt(),
  fc.constant(Number.NaN),
  fc.constant(() => 1),
);
const value = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string(), hostileKey), tie('v'), { maxKeys: 4 }),
  ),
})).v;
const deepChain = fc
  .tuple(fc.integer({ min: 1, max: 20_000 }), fc.boolean())
  .map(([depth, asArray]) => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = asArray ? [v] : { k: v };
    return v;
  });
const circular = fc.constantFrom(0, 1, 2).map((where) => {
  const o: Record<string, unknown> = { a: { b: [1, 2] } };
  if (where === 0) o['self'] = o;
  if (where === 1) ((o['a'] as Record<string, unknown>)['b'] as unknown[]).push(o['a']);
  if (where === 2) o['a'] = [o];
  return o;
});
const anyState = fc.oneof(value, deepChain, circular, fc.string(), fc.integer());

/** YAML-ish text: fragments of real workflows, YAML syntax and template syntax, shuffled. */
const yamlPiece = fc.constantFrom(
  'name: w\n',
  'nodes:\n',
  '  - name: a\n',
  '    uses: return\n',
  '    uses: llm.call\n',
  '    with: { value: "{{ state.x }}" }\n',
  '    with:\n      prompt: "{{ state.q | default(\'hi\') }}"\n',
  '    output: a.b.c\n',
  '    goto: a\n',
  'edges:\n  - from: __start__\n    to: a\n',
  'settings: { max_steps: 5 }\n',
  '[[[[[[[[',
  ']]]]',
  '{a: {b: {c: ',
  '&x [1, 2]\n',
  '*x\n',
  '<<: *x\n',
  '- - - - - \n',
  '\t',
  '"unterminated\n',
  '|\n  block\n',
  '\ufeff',
  '%YAML 1.2\n---\n',
  '---\n',
  '!!binary aGk=\n',
  '{{ ',
  '{% for i in range(100000) %}',
  '{% endfor %}',
  '? complex key\n: v\n',
  // Issue 14's constructs, whole and in pieces.
  '    type: while_loop\n    condition: "state.x < 3"\n    max_iterations: 5\n    body:\n      - name: b\n        uses: return\n        with: { value: "{{ state.x + 1 }}" }\n        output: x\n',
  '    type: dynamic_parallel\n    items: "{{ state.items }}"\n    fan_in: a\n    action:\n      uses: return\n      with: { value: "{{ state.item }}" }\n',
  '    type: dynamic_parallel\n',
  '    type: while_loop\n',
  '    max_iterations: 100000\n',
  '    steps:\n      - uses: return\n',
  '    retry: { max_retries: 3, base_delay_ms: 0 }\n    fallback: a\n',
  '    goto:\n      - if: "result.x"\n        to: a\n',
  'edges:\n  - from: a\n    to: a\n    type: parallel\n    fan_in: a\n',
  'edges:\n  - from: __start__\n    to: a\n    condition: { type: expression, value: "!x" }\n    when: false\n',
  'config:\n  interrupt_before: [a]\n  interrupt_after: [a, zz]\n',
  'settings:\n  llm: { max_token: 5, model: m }\n  parallel: { merge_strategy: merge_deep }\n',
  'initial_state: { items: [1, 2, 3] }\n',
  '    output: { t: "{{ result.content }}" }\n',
);
const yamlText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.array(yamlPiece, { maxLength: 30 }).map((p) => p.join('')),
);

/** Template text from template syntax fragments. */
const templatePiece = fc.constantFrom(
  '{{ ',
  ' }}',
  '{% ',
  ' %}',
  'for i in range(1000) ',
  'endfor',
  'if state.x ',
  'endif',
  'macro f(n) ',
  'endmacro',
  'f(n - 1) ',
  "'ab' * 1000 ",
  '~ ',
  '| tojson ',
  '| fromjson ',
  '[[[',
  ']]]',
  'state.x',
  'namespace(v=1)',
  'set ns.v = [ns.v] ',
  'not ',
  '.a',
  'x',
);
const template = fc.oneof(
  fc.string({ maxLength: 100 }),
  fc.array(templatePiece, { maxLength: 40 }).map((p) => p.join('')),
);

beforeAll(async () => {
  await init();
});

describe('whatever comes in, the engine settles with a code and keeps working', () => {
  it('random and adversarial YAML (parse, validate, run)', async () => {
    await fc.assert(
      fc.asyncProperty(yamlText, async (yaml) => {
        await settles(() => validateYaml(yaml));
        await settles(() =>
          Workflow.parse(yaml).run({ x: 1, q: 'q' }, { llmHandler: () => ({ content: 'c' }) }),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('random, deep and circular states and variables', async () => {
    await fc.assert(
      fc.asyncProperty(anyState, value, async (state, variables) => {
        await settles(() => executeYaml(echo, state as Record<string, unknown>));
        await settles(() =>
          executeYaml(echo, { x: 1 }, { variables: variables as Record<string, unknown> }),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('random handler replies and action results', async () => {
    const ask =
      'name: a\nnodes:\n  - name: ask\n    uses: llm.call\n    with: { prompt: hi }\n  - name: act\n    uses: anything\n';
    await fc.assert(
      fc.asyncProperty(anyState, anyState, fc.boolean(), async (reply, result, reject) => {
        registerAction('anything', () => (reject ? Promise.reject(result) : result));
        await settles(() => executeYaml(ask, {}, { llmHandler: () => reply as never }));
        await settles(() =>
          executeYaml(ask, {}, { llmHandler: () => ({ content: 'x', extra: reply }) as never }),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('random checkpoints and state updates given to resume', async () => {
    const review =
      'name: review\nconfig:\n  interrupt_before: [publish]\nnodes:\n  - name: draft\n    uses: return\n    with: { value: d }\n  - name: publish\n    uses: return\n    with: { value: "{{ state.draft }}" }\n';
    const wf = Workflow.parse(review);
    const checkpoint = fc.record(
      {
        version: fc.oneof(fc.constant(1), value),
        workflow: fc.oneof(fc.constant('review'), fc.string()),
        node: fc.oneof(fc.constantFrom('draft', 'publish', '__end__', '__start__'), fc.string()),
        when: fc.oneof(fc.constantFrom('before', 'after'), fc.string()),
        state: anyState,
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(checkpoint, anyState), anyState, async (c, updates) => {
        await settles(() => wf.resume(c as never, updates as never));
      }),
      { numRuns: RUNS },
    );
    wf.free();
  });

  it('random templates', async () => {
    await fc.assert(
      fc.asyncProperty(template, value, async (t, x) => {
        await settles(() => renderTemplate(t, { x }));
      }),
      { numRuns: RUNS },
    );
  });
});

// Traps are contained (the tests above pass through them), but each one is a limit that missed;
// print how many there were so that a new one is noticed.
afterAll(() => {
  console.warn(`[property] engine instances replaced after a trap: ${restartCount()}`);
});
