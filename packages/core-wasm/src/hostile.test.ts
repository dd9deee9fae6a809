import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as glue from './wasm-glue.js';
import {
  CoreWasmError,
  ENGINE_ERROR_CODES,
  engineLimits,
  executeYaml,
  HOST_ERROR_CODES,
  init,
  llmCallAsync,
  registerAction,
  renderTemplate,
  setLlmHandler,
  unregisterAction,
  validateYaml,
  Workflow,
  type LlmRequest,
} from './index.js';
import { restartCount } from './instance.js';

// Each case here broke the engine before (issue 13): a trap that poisoned the instance, a page
// frozen past its abort, a prototype replaced, garbage accepted. Each must settle with a coded
// error, and the next normal workflow must run.

const echo =
  'name: echo\nnodes:\n  - name: copy\n    uses: return\n    with: { value: "{{ state.x }}" }\n    output: y\n';

async function stillWorks(): Promise<void> {
  await expect(executeYaml(echo, { x: 7 })).resolves.toEqual({ x: 7, y: 7 });
}

async function rejection(work: () => unknown): Promise<CoreWasmError> {
  try {
    await work();
  } catch (error) {
    expect(error).toBeInstanceOf(CoreWasmError);
    return error as CoreWasmError;
  }
  throw new Error('expected a rejection');
}

function nested(
  depth: number,
  leaf: unknown = 1,
  wrap: (v: unknown) => unknown = (v) => ({ k: v }),
): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = wrap(v);
  return v;
}

beforeAll(async () => {
  await init();
});
beforeEach(() => {
  setLlmHandler(() => ({ content: 'ok' }));
});

describe('no input traps the engine', () => {
  it('a circular initial state is INVALID_ARGUMENT naming the path', async () => {
    const state: Record<string, unknown> = { x: 1, inner: {} };
    (state['inner'] as Record<string, unknown>)['loop'] = state;
    const e = await rejection(() => executeYaml(echo, state));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('inner.loop');
    await stillWorks();
  });

  it('a circular value returned by an action is INVALID_ARGUMENT in its node', async () => {
    registerAction('circular', () => {
      const o: Record<string, unknown> = {};
      o['self'] = o;
      return o;
    });
    const yaml = 'name: c\nnodes:\n  - name: make\n    uses: circular\n';
    const e = await rejection(() => executeYaml(yaml, {}));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.node).toBe('make');
    unregisterAction('circular');
    await stillWorks();
  });

  it('a state or an LLM reply nested 10,000 levels is TOO_DEEP', async () => {
    expect((await rejection(() => executeYaml(echo, { x: nested(10_000) }))).code).toBe('TOO_DEEP');
    const yaml = 'name: l\nnodes:\n  - name: ask\n    uses: llm.call\n    with: { prompt: hi }\n';
    const deepReply = { content: 'x', extra: nested(10_000, 1, (v) => [v]) };
    const e = await rejection(() => executeYaml(yaml, {}, { llmHandler: () => deepReply }));
    expect(e.code).toBe('TOO_DEEP');
    expect(e.node).toBe('ask');
    await stillWorks();
    // Up to the limit is fine.
    const limit = engineLimits().maxDepth;
    await expect(executeYaml(echo, { x: nested(limit - 1) })).resolves.toBeDefined();
  });

  it('an output path of thousands of segments is refused at parse time with its line', async () => {
    const path = Array.from({ length: 2500 }, (_, i) => `k${i}`).join('.');
    const yaml = `name: d\nnodes:\n  - name: a\n    uses: return\n    with: { value: 1 }\n    output: ${path}\n`;
    expect(yaml.length).toBeGreaterThan(12_000);
    const e = await rejection(() => executeYaml(yaml, {}));
    expect(e.code).toBe('VALIDATION');
    expect(e.line).toBe(6);
    await stillWorks();
  });

  it('arguments of the wrong type are INVALID_ARGUMENT, not a trap', async () => {
    const bad: Array<() => unknown> = [
      () => executeYaml(42 as unknown as string),
      () => executeYaml(echo, { x: 1 }, 'fast' as never),
      () => executeYaml(echo, { x: () => 1 }),
      () => executeYaml(echo, { x: 10n }),
      () => executeYaml(echo, { x: new Map() }),
      () => executeYaml(echo, { x: Number.NaN }),
      () => executeYaml(echo, {}, { max_steps: -1 }),
      () => executeYaml(echo, {}, { signal: 'stop' as never }),
      () => registerAction(7 as unknown as string, () => 1),
      () => registerAction('x', 7 as never),
      () => Workflow.parse(null as unknown as string),
      () => validateYaml(undefined as unknown as string),
      () => renderTemplate({} as unknown as string),
      () => setLlmHandler('no' as never),
    ];
    for (const work of bad) expect((await rejection(work)).code).toBe('INVALID_ARGUMENT');
    await stillWorks();
  });

  it('Workflow.run after free() says so', async () => {
    const wf = Workflow.parse(echo);
    wf.free();
    const e = await rejection(() => wf.run({ x: 1 }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('freed');
    wf.free();
    await stillWorks();
  });

  it('YAML nested deeply in flow collections is TOO_DEEP at once, not a quadratic parse', async () => {
    const yaml = `name: x\nnodes: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`;
    const e = await rejection(() => Workflow.parse(yaml));
    expect(e.code).toBe('TOO_DEEP');
    expect(e.line).toBe(2);
    const laughs = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++)
      laughs.push(
        `${'abcdefghi'[i]}: &${'abcdefghi'[i]} [${Array(9)
          .fill(`*${'abcdefghi'[i - 1]}`)
          .join(', ')}]`,
      );
    expect((await rejection(() => Workflow.parse(laughs.join('\n')))).code).toBe('TOO_LARGE');
    await stillWorks();
  });

  it('heavy templates are stopped by the budget, not run for seconds', async () => {
    const loops = '{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}';
    expect((await rejection(() => renderTemplate(loops))).code).toBe('TEMPLATE_BUDGET');
    const exponential =
      '{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}';
    expect(['TEMPLATE', 'TEMPLATE_BUDGET']).toContain(
      (await rejection(() => renderTemplate(exponential))).code,
    );
    const chain = `{{ 1${' + 1'.repeat(20_000)} }}`;
    expect((await rejection(() => renderTemplate(chain))).code).toBe('TEMPLATE');
    expect((await rejection(() => renderTemplate("{{ 'x' * 100000000 }}"))).code).toBe('TOO_LARGE');
    await stillWorks();
  });
});

describe('a trap is contained', () => {
  // A value nested ~5,000 levels inside one template (namespace accumulation, which no limit
  // sees) still exhausts the stack: the trap must be reported and the instance replaced.
  const deepNamespace =
    '{% set ns = namespace(v=1) %}{% for i in range(20000) %}{% set ns.v = [ns.v] %}{% endfor %}done';

  it('rejects with WASM_TRAPPED naming the node, and the next call works in a fresh instance', async () => {
    const before = Workflow.parse(echo);
    const restarts = restartCount();
    const yaml = `name: t\nnodes:\n  - name: boom\n    uses: return\n    with: { value: "${deepNamespace}" }\n`;
    const e = await rejection(() => executeYaml(yaml, {}));
    expect(e.code).toBe('WASM_TRAPPED');
    expect(e.node).toBe('boom');
    await stillWorks();
    expect(restartCount()).toBe(restarts + 1);
    // A workflow parsed before the trap still runs (parsed again in the new instance).
    await expect(before.run({ x: 3 })).resolves.toEqual({ x: 3, y: 3 });
  });

  it('a template that asks for gigabytes fails at the heap limit and the engine recovers', async () => {
    // The size comes from the state. (`'ab' * n` is refused before it allocates: TOO_LARGE.)
    const grow =
      'name: big\nnodes:\n  - name: grow\n    uses: return\n    with: { value: "{{ \'ab\' | center(state.n) }}" }\n';
    const heap = await rejection(() => executeYaml(grow, { n: 600_000_000 }));
    expect(heap).toMatchObject({ code: 'WASM_TRAPPED', node: 'grow' });
    expect(heap.message).toMatch(/512 MiB heap/);
    await stillWorks();
    // 4 GB is past what a wasm32 allocation may ask for: Rust panics (capacity overflow).
    const pad =
      'name: big\nnodes:\n  - name: grow\n    uses: return\n    with: { value: "{{ \'%0*d\' % (state.n, 1) }}" }\n';
    const huge = await rejection(() => executeYaml(pad, { n: 4_294_967_000 }));
    expect(huge).toMatchObject({ code: 'WASM_TRAPPED', node: 'grow' });
    expect(huge.message).toMatch(/panicked: capacity overflow/);
    await stillWorks();
  });

  it('runs in flight when another call traps end with WASM_TRAPPED instead of hanging', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const slow = executeYaml(
      'name: s\nnodes:\n  - name: wait\n    uses: llm.call\n    with: { prompt: hi }\n',
      {},
      { llmHandler: async () => (await held, { content: 'late' }) },
    );
    await expect(Promise.resolve().then(() => renderTemplate(deepNamespace))).rejects.toMatchObject(
      {
        code: 'WASM_TRAPPED',
      },
    );
    release();
    await expect(slow).rejects.toMatchObject({ code: 'WASM_TRAPPED' });
    await stillWorks();
  });
});

describe('runs stay abortable and the page keeps its event loop', () => {
  const spin =
    'name: spin\nsettings: { max_steps: 1000000000 }\nstate_schema: { n: { type: int, default: 0 } }\nnodes:\n  - name: inc\n    uses: return\n    with: { value: "{{ state.n + 1 }}" }\n    output: n\n    goto: inc\n';

  it('a compute-only goto loop stops on abort, and timers keep firing meanwhile', async () => {
    const controller = new AbortController();
    // Not a timing assertion: a timer due before the abort must run while the engine computes
    // (an engine that never yields would run none, and the abort timer would never fire).
    let ticksBeforeAbort = 0;
    const timer = setInterval(() => void (controller.signal.aborted || ticksBeforeAbort++), 5);
    setTimeout(() => controller.abort(), 100);
    const events: string[] = [];
    const e = await rejection(() =>
      executeYaml(
        spin,
        {},
        {
          signal: controller.signal,
          onEvent: (ev) => void (ev.type === 'error' && events.push(ev.code)),
        },
      ),
    );
    clearInterval(timer);
    expect(e.code).toBe('ABORTED');
    expect(e.node).toBe('inc');
    expect(events).toEqual(['ABORTED']);
    expect(ticksBeforeAbort).toBeGreaterThan(0);
    await stillWorks();
  });

  it('max_steps still bounds a loop', async () => {
    const e = await rejection(() => executeYaml(spin, {}, { max_steps: 500 }));
    expect(e.code).toBe('MAX_STEPS');
  });
});

describe('objects stay plain', () => {
  it('__proto__, constructor and prototype are plain keys in results and in what actions receive', async () => {
    const seen: unknown[] = [];
    registerAction('look', (params, state) => {
      seen.push(params, state);
      return { ok: true };
    });
    const yaml = [
      'name: p',
      'nodes:',
      '  - name: inject',
      '    uses: return',
      '    with: { value: { isAdmin: true } }',
      '    output: __proto__',
      '  - name: more',
      '    uses: return',
      '    with: { value: { isAdmin: true } }',
      '    output: constructor.prototype',
      '  - name: look',
      '    uses: look',
      '    with: { __proto__: { isAdmin: true }, x: 1 }',
      '',
    ].join('\n');
    const initial = JSON.parse('{"__proto__": {"isAdmin": true}}') as Record<string, unknown>;
    const out = await executeYaml(yaml, initial);
    for (const o of [out, ...seen] as Array<Record<string, unknown>>) {
      expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
      expect(o['isAdmin']).toBeUndefined();
    }
    expect(Object.keys(out)).toContain('__proto__');
    expect(({} as Record<string, unknown>)['isAdmin']).toBeUndefined();
    unregisterAction('look');
  });
});

describe('the LLM boundary is strict', () => {
  const call =
    'name: l\nnodes:\n  - name: ask\n    uses: llm.call\n    with:\n      prompt: "{{ state.p }}"\n      max_tokens: "{{ state.m }}"\n';

  it('a reply without string content is LLM_INVALID_REPLY', async () => {
    for (const reply of [
      undefined,
      null,
      'text',
      42,
      {},
      { content: 5 },
      { content: 'x', usage: 'many' },
    ]) {
      const e = await rejection(() =>
        executeYaml(call, { p: 'hi', m: 5 }, { llmHandler: () => reply as never }),
      );
      expect(e.code).toBe('LLM_INVALID_REPLY');
      expect(e.node).toBe('ask');
    }
    const embed =
      'name: e\nnodes:\n  - name: vec\n    uses: llm.embed\n    with: { input: hi }\n    output: vec\n';
    // A typed array (what other libraries' embedders return) is a list of numbers.
    await expect(
      executeYaml(
        embed,
        {},
        { llmHandler: () => ({ embedding: new Float32Array([0.5, 0.25]) }) as never },
      ),
    ).resolves.toEqual({ vec: { embedding: [0.5, 0.25], dimensions: 2 } });
    const e = await rejection(() =>
      executeYaml(embed, {}, { llmHandler: () => ({ embedding: ['a'] }) as never }),
    );
    expect(e.code).toBe('LLM_INVALID_REPLY');
  });

  it('parameters are checked after templating, naming the node and the field', async () => {
    const number = await rejection(() => executeYaml(call, { p: 5, m: 5 }));
    expect(number).toMatchObject({ code: 'VALIDATION', node: 'ask' });
    expect(number.message).toContain("'prompt'");
    const text = await rejection(() => executeYaml(call, { p: 'hi', m: 'abc' }));
    expect(text.message).toContain("'max_tokens'");
    const direct = await rejection(() => llmCallAsync({ prompt: 'x', max_tokens: 'abc' as never }));
    expect(direct.code).toBe('VALIDATION');
  });

  it('built-in action names cannot be registered', async () => {
    for (const name of ['llm.call', 'llm.embed', 'llm.stream', 'return', 'passthrough'])
      expect((await rejection(() => registerAction(name, () => 1))).code).toBe('INVALID_ARGUMENT');
  });
});

describe('per-run LLM handlers', () => {
  const ask =
    'name: a\nnodes:\n  - name: ask\n    uses: llm.call\n    with: { prompt: "{{ state.q }}" }\n    output: ask\n';

  it('concurrent runs each use their own handler', async () => {
    const model = (name: string, ms: number) => async (r: LlmRequest) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return { content: `${name}:${r.kind === 'call' ? r.prompt : ''}`, model: name };
    };
    const [a, b, c] = await Promise.all([
      executeYaml(ask, { q: '1' }, { llmHandler: model('A', 30) }),
      executeYaml(ask, { q: '2' }, { llmHandler: model('B', 5) }),
      executeYaml(ask, { q: '3' }),
    ]);
    expect((a as unknown as { ask: { content: string } }).ask.content).toBe('A:1');
    expect((b as unknown as { ask: { content: string } }).ask.content).toBe('B:2');
    expect((c as unknown as { ask: { content: string } }).ask.content).toBe('ok');
  });

  it('a direct call with its own handler leaves a running workflow on the default one', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    setLlmHandler(async () => (await gate, { content: 'default' }));
    const running = executeYaml(ask, { q: 'x' });
    await expect(
      llmCallAsync({ prompt: 'y' }, { llmHandler: () => ({ content: 'other' }) }),
    ).resolves.toMatchObject({
      content: 'other',
    });
    release();
    await expect(running).resolves.toMatchObject({ ask: { content: 'default' } });
  });
});

describe('YAML details', () => {
  it('a UTF-8 byte order mark is ignored', async () => {
    await expect(executeYaml(`\ufeff${echo}`, { x: 1 })).resolves.toEqual({ x: 1, y: 1 });
  });

  it('a duplicate key is reported on its own line', async () => {
    const e = await rejection(() =>
      Workflow.parse('name: d\nnodes:\n  - name: a\n    uses: passthrough\n    uses: return\n'),
    );
    expect(e).toMatchObject({ code: 'YAML_PARSE', line: 5 });
  });

  it('validateYaml reports a broken template before any run, with its line', () => {
    const yaml =
      'name: t\nnodes:\n  - name: a\n    uses: return\n    with:\n      value: "{{ state.x + }}"\n';
    expect(validateYaml(yaml)).toEqual([
      expect.objectContaining({ severity: 'error', code: 'TEMPLATE', node: 'a', line: 6 }),
    ]);
  });

  it('a throwing onEvent does not break the run', async () => {
    await expect(
      executeYaml(
        echo,
        { x: 2 },
        {
          onEvent: () => {
            throw new Error('listener bug');
          },
        },
      ),
    ).resolves.toEqual({ x: 2, y: 2 });
  });
});

describe('error codes', () => {
  it('the Rust enum and the TypeScript union list the same codes', () => {
    const facts = JSON.parse(glue.engine_facts()) as { codes: string[] };
    expect([...facts.codes].sort()).toEqual([...ENGINE_ERROR_CODES].sort());
    for (const code of HOST_ERROR_CODES) expect(facts.codes).not.toContain(code);
  });
});

describe('fan-out, retries and resumes stay bounded', () => {
  it('a dynamic_parallel over too many items is TOO_LARGE, and the next run works', async () => {
    const yaml = `name: many
nodes:
  - name: fan
    type: dynamic_parallel
    items: "{{ state.items }}"
    fan_in: done
    action:
      uses: return
      with: { value: "{{ state.item }}" }
  - name: done
`;
    const items = Array.from({ length: engineLimits().maxParallelBranches + 1 }, (_, i) => i);
    await expect(executeYaml(yaml, { items })).rejects.toMatchObject({
      code: 'TOO_LARGE',
      node: 'fan',
    });
    const ok = await executeYaml(yaml, { items: [1, 2] });
    expect((ok['parallel_results'] as unknown[]).length).toBe(2);
  });

  it('max_retries past the limit is VALIDATION; a back-off is aborted at once', async () => {
    const ask = (retries: number) =>
      `name: r\nnodes:\n  - name: ask\n    uses: llm.call\n    with: { prompt: hi, max_retries: ${retries}, base_delay: 30 }\n`;
    const failing = () => Promise.reject(new Error('model offline'));
    await expect(executeYaml(ask(1000), {}, { llmHandler: failing })).rejects.toMatchObject({
      code: 'VALIDATION',
    });
    // The first back-off is 30 s: only an abort that reaches the sleep settles within the test's
    // 5 s timeout.
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(
      executeYaml(ask(3), {}, { llmHandler: failing, signal: controller.signal }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it("registering an action named like the engine's own requests is refused", () => {
    expect(() => registerAction('__sleep', () => 1)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});
