import { beforeAll, describe, expect, it } from 'vitest';
import {
  executeYaml,
  init,
  registerAction,
  validateYaml,
  type LlmRequest,
  type WorkflowEvent,
} from './index.js';

// llm.tools, as upstream documents it: tools map to registered actions; the loop runs until the
// model answers without a tool call or max_tool_rounds; only the workflow's tools run, with
// arguments that match their parameters.

const agent = (extra = '') => `
name: agent
nodes:
  - name: agent
    uses: llm.tools
    with:
      prompt: "{{ state.q }}"
      tools:
        - name: calc
          description: Multiply two numbers
          parameters:
            a: { type: integer, required: true }
            b: { type: integer, required: true }
          action: math.mul
        - name: clock
          description: The time
          action: time.now
${extra}    output: answer
`;

/** A scripted model: each reply in turn; records the requests. */
function model(replies: unknown[], seen: LlmRequest[] = []) {
  return (r: LlmRequest) => {
    const {
      signal: _signal,
      onPromptProgress: _progress,
      ...rest
    } = r as LlmRequest & { signal?: AbortSignal; onPromptProgress?: unknown };
    seen.push(structuredClone(rest) as LlmRequest);
    return replies.shift() as never;
  };
}

const call = (name: string, args: unknown, id = 'c1') => ({
  content: '',
  tool_calls: [{ id, type: 'function', function: { name, arguments: JSON.stringify(args) } }],
});

beforeAll(async () => {
  await init();
  registerAction('math.mul', (p) => Number(p['a']) * Number(p['b']));
  registerAction('time.now', () => ({ iso: '2026-11-29T10:00:00Z' }));
});

describe('llm.tools', () => {
  it('calls registered actions until the model answers, with events for each call and result', async () => {
    const seen: LlmRequest[] = [];
    const events: WorkflowEvent[] = [];
    const out = await executeYaml(
      agent(),
      { q: '6*7?' },
      {
        llmHandler: model([call('calc', { a: 6, b: 7 }), { content: 'It is 42.' }], seen),
        onEvent: (e) => void events.push(e),
      },
    );
    expect(out['answer']).toEqual({
      content: 'It is 42.',
      tool_calls: [{ id: 'c1', name: 'calc', arguments: { a: 6, b: 7 } }],
      tool_results: [{ tool_call_id: 'c1', name: 'calc', result: '42' }],
      rounds: 1,
      usage: {},
    });
    expect(seen[0]).toMatchObject({
      kind: 'call',
      messages: [{ role: 'user', content: '6*7?' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'calc',
            parameters: {
              type: 'object',
              properties: { a: { type: 'integer' }, b: { type: 'integer' } },
              required: ['a', 'b'],
            },
          },
        },
        { type: 'function', function: { name: 'clock' } },
      ],
    });
    expect(seen[1]?.kind === 'call' && seen[1].messages?.at(-1)).toEqual({
      role: 'tool',
      content: '42',
      tool_call_id: 'c1',
    });
    expect(events.filter((e) => e.type.startsWith('tool_')).map((e) => e.type)).toEqual([
      'tool_call',
      'tool_result',
    ]);
  });

  it('never runs what is not a tool or arguments that do not match: the model gets an error back', async () => {
    let runs = 0;
    registerAction('math.mul', (p) => {
      runs++;
      return Number(p['a']) * Number(p['b']);
    });
    const seen: LlmRequest[] = [];
    const out = await executeYaml(
      agent(),
      { q: 'x' },
      {
        llmHandler: model(
          [
            call('shell.exec', { cmd: 'rm -rf /' }, 'a'),
            call('calc', { a: 'six', b: 7 }, 'b'),
            call('calc', { a: 1 }, 'c'),
            { content: 'gave up' },
          ],
          seen,
        ),
      },
    );
    expect(runs).toBe(0);
    const results = (out['answer'] as { tool_results: { result: string }[] }).tool_results;
    expect(results.map((r) => JSON.parse(r.result) as { error: string })).toEqual([
      { error: expect.stringContaining("unknown tool 'shell.exec'") },
      { error: expect.stringContaining('#/a') },
      { error: expect.stringContaining('do not match') },
    ]);
    registerAction('math.mul', (p) => Number(p['a']) * Number(p['b']));
  });

  it('stops at max_tool_rounds with a warning, and a forced tool_choice reaches the handler', async () => {
    const seen: LlmRequest[] = [];
    const events: WorkflowEvent[] = [];
    const out = await executeYaml(
      agent('      tool_choice: calc\n      max_tool_rounds: 2\n'),
      { q: 'x' },
      {
        llmHandler: model([call('clock', {}), call('clock', {}), call('clock', {})], seen),
        onEvent: (e) => void events.push(e),
      },
    );
    expect(out['answer']).toMatchObject({ content: '', rounds: 2, warning: expect.any(String) });
    expect(seen[0]).toMatchObject({
      tool_choice: { type: 'function', function: { name: 'calc' } },
    });
    expect(seen[1]).toMatchObject({ tool_choice: 'auto' });
    expect(events.some((e) => e.type === 'warning' && e.message.includes('max_tool_rounds'))).toBe(
      true,
    );
  });

  it('a tool call cut off by max_tokens is LLM_OUTPUT_INVALID: half a call never runs', async () => {
    await expect(
      executeYaml(
        agent(),
        { q: 'x' },
        {
          llmHandler: model([
            {
              content: '',
              tool_calls: [
                { id: 'c1', type: 'function', function: { name: 'calc', arguments: '{"a":' } },
              ],
              finish_reason: 'length',
            },
          ]),
        },
      ),
    ).rejects.toMatchObject({
      code: 'LLM_OUTPUT_INVALID',
      message: expect.stringContaining('tool call was cut off at max_tokens'),
    });
  });

  it('a reply cut off by max_tokens is the text so far, finish_reason length and a warning', async () => {
    const events: WorkflowEvent[] = [];
    const state = await executeYaml(
      agent(),
      { q: 'x' },
      {
        llmHandler: model([{ content: 'The answer is', finish_reason: 'length' }]),
        onEvent: (e) => events.push(e),
      },
    );
    expect(state['answer']).toMatchObject({
      content: 'The answer is',
      finish_reason: 'length',
      rounds: 0,
    });
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'warning', message: expect.stringContaining('cut off') }),
    );
  });

  it('passes the handler a prompt-progress callback that becomes prompt_progress events', async () => {
    const events: WorkflowEvent[] = [];
    await executeYaml(
      agent(),
      { q: 'x' },
      {
        llmHandler: (r: LlmRequest) => {
          const report = (r as { onPromptProgress?: (p: unknown) => void }).onPromptProgress;
          report?.({ processed: 0, total: 40, cached: 32 });
          report?.({ processed: 'junk', total: -1 });
          return { content: 'ok' } as never;
        },
        onEvent: (e) => events.push(e),
      },
    );
    expect(events.filter((e) => e.type === 'prompt_progress')).toEqual([
      { type: 'prompt_progress', node: 'agent', processed: 0, total: 40, cached: 32 },
      { type: 'prompt_progress', node: 'agent', processed: 0, total: 0, cached: 0 },
    ]);
  });

  it('bad tools are errors when the workflow loads, before any generation', () => {
    const unregistered = agent().replace('action: time.now', 'action: time.nope');
    expect(validateYaml(unregistered)).toEqual([
      expect.objectContaining({
        code: 'UNKNOWN_ACTION',
        message: expect.stringContaining("'time.nope' is not registered"),
      }),
    ]);
    expect(validateYaml(agent('      tool_choice: calculator\n'))).toEqual([
      expect.objectContaining({
        code: 'VALIDATION',
        message: expect.stringContaining("did you mean 'calc'"),
      }),
    ]);
    expect(validateYaml(agent('      max_tool_rounds: 0\n'))[0]).toMatchObject({
      code: 'VALIDATION',
    });
    expect(
      validateYaml(agent().replace('      tools:', '      toolz: []\n      x_tools:'))[0],
    ).toMatchObject({
      code: 'VALIDATION',
    });
  });

  it('a tool may name a workflow node: its action runs with its `with:` under the arguments', async () => {
    const seen: unknown[] = [];
    registerAction('kb.search', (p) => {
      seen.push(p);
      return { hits: [`${String(p['index'])}:${String(p['query'])}`] };
    });
    const yaml = `
name: node-tools
nodes:
  - name: agent
    uses: llm.tools
    with:
      prompt: "find tea"
      tools:
        - name: search
          description: Search the knowledge base
          parameters: { query: { type: string, required: true } }
          node: lookup
    output: answer
    goto: __end__
  - name: lookup
    uses: kb.search
    with:
      index: "{{ state.index }}"
      query: "default"
    output: hits
`;
    expect(validateYaml(yaml)).toEqual([]);
    const out = await executeYaml(
      yaml,
      { index: 'teas' },
      { llmHandler: model([call('search', { query: 'sencha' }), { content: 'Found.' }]) },
    );
    expect(seen).toEqual([{ index: 'teas', query: 'sencha' }]);
    expect((out['answer'] as { tool_results: unknown[] }).tool_results).toEqual([
      { tool_call_id: 'c1', name: 'search', result: '{"hits":["teas:sencha"]}' },
    ]);
    // The node's own run did not happen (the agent went to __end__).
    expect(out['hits']).toBeUndefined();
  });

  it('a tool node must exist and use a registered action; action and node are exclusive', () => {
    const tool = (line: string) => `
name: t
nodes:
  - name: agent
    uses: llm.tools
    with:
      prompt: p
      tools:
        - name: x
          ${line}
  - name: talk
    uses: llm.call
    with: { prompt: p }
`;
    const problems = (y: string) => validateYaml(y).map((p) => `${p.code}: ${p.message}`);
    expect(problems(tool('node: lookp'))).toEqual([
      expect.stringMatching(/^UNKNOWN_NODE: tool node 'lookp' is not a node/),
    ]);
    expect(problems(tool('node: talk'))).toEqual([
      expect.stringContaining("tool node 'talk' uses 'llm.call'"),
    ]);
    expect(problems(tool('node: talk\n          action: math.mul'))).toEqual([
      expect.stringContaining('`action` or `node`, not both'),
    ]);
  });
});
