import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CoreWasmError,
  executeYaml,
  init,
  llmCallAsync,
  registerAction,
  renderTemplate,
  setLlmHandler,
  validateYaml,
  Workflow,
  type LlmHandler,
  type LlmRequest,
  type WorkflowEvent,
} from './index.js';

// A scripted LLM: answers deterministically from the request, records every request.
let requests: LlmRequest[] = [];
function scripted(request: LlmRequest) {
  requests.push(request);
  if (request.kind === 'embed') return { embedding: [String(request.input).length, 1] };
  if (request.stream && request.onToken) for (const t of ['al', 'pha']) request.onToken(t);
  return {
    content: `answer to ${request.prompt ?? request.messages?.at(-1)?.content}`,
    model: 'scripted',
  };
}

beforeAll(async () => {
  await init();
});
beforeEach(() => {
  requests = [];
  setLlmHandler(scripted);
});

const simpleChat = `
name: simple-chat
nodes:
  - name: chat
    uses: llm.call
    with:
      prompt: "{{ state.question }}"
      system: Be brief.
      max_tokens: 32
    output: chat
edges:
  - from: __start__
    to: chat
  - from: chat
    to: __end__
`;

describe('executeYaml', () => {
  it('runs the simple-chat workflow through the LLM handler', async () => {
    const out = await executeYaml(simpleChat, { question: 'Why?' });
    expect(out['chat']).toEqual({ content: 'answer to Why?', model: 'scripted', usage: {} });
    expect(requests).toEqual([
      { kind: 'call', prompt: 'Why?', system: 'Be brief.', max_tokens: 32 },
    ]);
  });

  it('accepts and returns JSON strings', async () => {
    const out = await executeYaml(simpleChat, '{"question":"a"}');
    expect(typeof out).toBe('string');
    expect(JSON.parse(out).chat.content).toBe('answer to a');
  });

  it('emits events in order, with streamed tokens', async () => {
    const events: WorkflowEvent[] = [];
    const yaml = simpleChat.replace('max_tokens: 32', 'stream: true');
    await executeYaml(yaml, { question: 'q' }, { onEvent: (e) => events.push(e) });
    expect(events).toEqual([
      { type: 'node_start', node: 'chat', step: 1 },
      { type: 'token', node: 'chat', text: 'al' },
      { type: 'token', node: 'chat', text: 'pha' },
      { type: 'node_end', node: 'chat', step: 1 },
    ]);
  });

  it('a run that listens gets token events without `stream: true`, and the plain result', async () => {
    const events: WorkflowEvent[] = [];
    // A handler that streams whenever it is given onToken (as the sdk's does).
    const llmHandler: LlmHandler = async (r) => {
      for (const t of ['al', 'pha']) (r as { onToken?: (t: string) => void }).onToken?.(t);
      return { content: 'alpha' };
    };
    const out = await executeYaml(
      simpleChat,
      { question: 'q' },
      { onEvent: (e) => events.push(e), llmHandler },
    );
    expect(
      events.filter((e) => e.type === 'token').map((e) => (e as { text: string }).text),
    ).toEqual(['al', 'pha']);
    const chat = (out as { chat: Record<string, unknown> }).chat;
    expect(chat['streamed']).toBeUndefined();
    expect(chat['chunk_count']).toBeUndefined();
  });

  it('routes with goto rules and loops, with typed template values and dotted outputs', async () => {
    const yaml = `
name: loop
state_schema:
  count: { type: int, default: 0 }
nodes:
  - name: inc
    uses: return
    with:
      value: "{{ state.count + 1 }}"
    output: count
    goto:
      - if: "state.count < 4"
        to: inc
      - to: summary
  - name: summary
    uses: return
    with:
      value:
        doubled: "{{ state.count * 2 }}"
        label: "count={{ state.count }}"
    output: report.final
`;
    const out = await executeYaml(yaml, {});
    expect(out).toEqual({ count: 4, report: { final: { doubled: 8, label: 'count=4' } } });
  });

  it('routes conditional edges like a switch, first match in written order', async () => {
    const yaml = `
name: route
nodes:
  - name: start
    uses: passthrough
  - name: high
    uses: return
    with: { value: high }
    output: band
  - name: low
    uses: return
    with: { value: low }
    output: band
edges:
  - from: __start__
    to: start
  - from: start
    to: high
    when: "state.score >= 50"
  - from: start
    to: low
    when: "state.score >= 0"
  - from: high
    to: __end__
  - from: low
    to: __end__
`;
    expect((await executeYaml(yaml, { score: 70 }))['band']).toBe('high');
    expect((await executeYaml(yaml, { score: 10 }))['band']).toBe('low');
    await expect(executeYaml(yaml, { score: -5 })).rejects.toMatchObject({
      code: 'NO_ROUTE',
      node: 'start',
    });
  });

  const parallel = (strategy: string) => `
name: fan
settings:
  parallel:
    merge_strategy: ${strategy}
nodes:
  - name: split
  - name: a
    uses: llm.call
    with: { prompt: A }
    output: shared
  - name: b
    uses: return
    with: { value: B }
    output: shared
  - name: join
    uses: return
    with:
      value: "{{ state.shared }}"
edges:
  - from: __start__
    to: split
  - from: split
    to: a
  - from: split
    to: b
  - from: a
    to: join
  - from: b
    to: join
  - from: join
    to: __end__
`;

  it('fans out and joins, merging in written branch order for each strategy', async () => {
    const deep = await executeYaml(parallel('merge_deep'), {});
    expect(deep['shared']).toBe('B');
    expect(deep['join']).toBe('B');
    expect((await executeYaml(parallel('last_write_wins'), {}))['shared']).toBe('B');
    const iso = await executeYaml(parallel('isolated'), { shared: 'base' });
    expect(iso['shared']).toBe('base');
    // Each branch's final state, as upstream's browser runtime.
    expect(iso['parallel_results']).toEqual([
      { shared: expect.objectContaining({ content: 'answer to A' }) },
      { shared: 'B' },
    ]);
    expect(deep['parallel_results']).toHaveLength(2);
    await expect(executeYaml(parallel('fail_on_conflict'), {})).rejects.toMatchObject({
      code: 'MERGE_CONFLICT',
    });
  });

  it('aborts mid-run at the next await point, with ABORTED', async () => {
    const controller = new AbortController();
    setLlmHandler(
      (req) =>
        new Promise((resolve) => {
          controller.abort();
          setTimeout(() => resolve({ content: String(req.kind) }), 50);
        }),
    );
    const err = await executeYaml(
      simpleChat,
      { question: 'q' },
      { signal: controller.signal },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(CoreWasmError);
    expect(err).toMatchObject({ code: 'ABORTED', name: 'AbortError' });
  });

  it('fails the node with the handler message when the handler rejects', async () => {
    setLlmHandler(() => Promise.reject(new Error('model exploded')));
    await expect(executeYaml(simpleChat, { question: 'q' })).rejects.toMatchObject({
      code: 'ACTION_FAILED',
      node: 'chat',
      message: expect.stringContaining('model exploded'),
    });
  });

  it('fails with LLM_HANDLER_MISSING when no handler is registered', async () => {
    setLlmHandler(null);
    await expect(executeYaml(simpleChat, { question: 'q' })).rejects.toMatchObject({
      code: 'LLM_HANDLER_MISSING',
      node: 'chat',
    });
  });

  it('runs registered custom actions with rendered params and the state', async () => {
    registerAction(
      'math.add',
      (params, state) => Number(params['a']) + Number(params['b']) + Number(state['base']),
    );
    const yaml = `
name: custom
nodes:
  - name: sum
    uses: math.add
    with: { a: "{{ state.x }}", b: 2 }
    output: sum
  - name: merged
    uses: math.pair
`;
    // Without output:, a mapping result merges into the state, as upstream's actions.
    registerAction('math.pair', () => ({ left: 1, right: 2 }));
    expect(await executeYaml(yaml, { x: 3, base: 10 })).toEqual({
      x: 3,
      base: 10,
      sum: 15,
      left: 1,
      right: 2,
    });
  });

  it('calls llm.embed', async () => {
    const yaml = `
name: embed
nodes:
  - name: vec
    uses: llm.embed
    with: { input: "{{ state.text }}" }
    output: vec
`;
    expect((await executeYaml(yaml, { text: 'abcd' }))['vec']).toEqual({
      embedding: [4, 1],
      dimensions: 2,
    });
  });

  it('applies runtime variables over the workflow ones', async () => {
    const yaml =
      'name: v\nvariables: { who: yaml }\nnodes:\n  - name: hi\n    uses: return\n    with: { value: "hi {{ variables.who }}" }\n';
    expect((await executeYaml(yaml, {}))['hi']).toBe('hi yaml');
    expect((await executeYaml(yaml, {}, { variables: { who: 'js' } }))['hi']).toBe('hi js');
  });
});

describe('errors', () => {
  it('are CoreWasmErrors with code, node, line and column', async () => {
    const err = await executeYaml('name: x\nnodes:\n  - name: a\n    uses: nope\n', {}).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(CoreWasmError);
    expect(err).toMatchObject({ code: 'UNKNOWN_ACTION', node: 'a', line: 4, column: 11 });
  });

  it('report YAML syntax errors with their position', () => {
    let err: unknown;
    try {
      Workflow.parse('name: x\nnodes: [a,\n');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'YAML_PARSE', line: expect.any(Number) });
  });

  it('name the expression and the node of a template error', async () => {
    const yaml =
      'name: t\nnodes:\n  - name: greet\n    uses: return\n    with: { value: "hi {{ state.who.name }}" }\n';
    await expect(executeYaml(yaml, {})).rejects.toMatchObject({
      code: 'TEMPLATE',
      node: 'greet',
      message: expect.stringContaining('state.who.name'),
    });
  });

  it('stop loops at max_steps, naming the cycle', async () => {
    const yaml =
      'name: f\nnodes:\n  - name: a\n    uses: passthrough\n    goto: b\n  - name: b\n    uses: passthrough\n    goto: a\n';
    await expect(executeYaml(yaml, {}, { max_steps: 7 })).rejects.toMatchObject({
      code: 'MAX_STEPS',
      message: expect.stringMatching(/a -> b -> a|b -> a -> b/),
    });
  });
});

describe('Workflow', () => {
  it('parses once and runs many times', async () => {
    const wf = Workflow.parse(simpleChat);
    expect(wf.name).toBe('simple-chat');
    expect(wf.nodeNames).toEqual(['chat']);
    const [a, b] = await Promise.all([wf.run({ question: '1' }), wf.run({ question: '2' })]);
    expect([a['chat'], b['chat']].map((c) => (c as { content: string }).content)).toEqual([
      'answer to 1',
      'answer to 2',
    ]);
  });

  it('keeps warnings for unknown keys', () => {
    const wf = Workflow.parse(
      'name: w\ndescriptoin: typo\nnodes:\n  - name: a\n    uses: passthrough\n',
    );
    expect(wf.warnings).toEqual([
      expect.objectContaining({
        severity: 'warning',
        line: 2,
        column: 1,
        message: expect.stringContaining("did you mean 'description'"),
      }),
    ]);
  });
});

describe('validateYaml', () => {
  it('returns every problem at once, in source order', () => {
    const problems = validateYaml(
      'name: v\nnodes:\n  - name: a\n    uses: passthrough\n    goto: zz\n  - name: a\n    uses: llm.calll\n',
    );
    expect(problems.map((p) => [p.code, p.line])).toEqual([
      ['UNKNOWN_NODE', 5],
      ['VALIDATION', 6],
      ['UNKNOWN_ACTION', 7],
    ]);
  });
});

describe('renderTemplate and llmCallAsync', () => {
  it('renders typed single expressions and text', () => {
    expect(renderTemplate('{{ state.n + 1 }}', { n: 1 })).toBe(2);
    expect(renderTemplate('{{ variables.v | upper }}!', {}, { v: 'x' })).toBe('X!');
  });

  it('calls the handler directly with defaults filled', async () => {
    const out = await llmCallAsync({ prompt: 'p' });
    expect(out).toEqual({ content: 'answer to p', model: 'scripted', usage: {} });
    expect(requests[0]).toMatchObject({ kind: 'call', prompt: 'p', max_tokens: 100 });
  });
});
