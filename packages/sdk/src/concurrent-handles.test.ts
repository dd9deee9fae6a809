import { init } from '@the-edge-agent/core-wasm';
import type { CompletionResult, LlmBridge } from '@the-edge-agent/llm-bridge';
import { beforeAll, describe, expect, it } from 'vitest';
import { Tea } from './create-tea.js';

// Two handles (two models) run workflows at the same time: each run carries its handle's LLM
// handler, so neither waits for the other and neither answers the other's nodes.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function fakeBridge(name: string, delayMs: number, log: string[]): LlmBridge {
  const reply = async (): Promise<CompletionResult> => {
    log.push(`${name} start`);
    await sleep(delayMs);
    log.push(`${name} end`);
    return {
      content: `from ${name}`,
      model: name,
      finish_reason: 'stop',
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    };
  };
  return {
    chat: reply,
    complete: reply,
    hasChatTemplate: () => true,
    unload: async () => undefined,
  } as unknown as LlmBridge;
}

const ask =
  'name: ask\nnodes:\n  - name: answer\n    uses: llm.call\n    with: { prompt: "{{ state.q }}" }\n    output: answer\n';

beforeAll(async () => {
  await init();
});

describe('handles run side by side', () => {
  it('each run uses its own handle, and a fast handle does not wait for a slow one', async () => {
    const log: string[] = [];
    const slow = new Tea(fakeBridge('slow', 80, log), undefined, { fromCache: false });
    const fast = new Tea(fakeBridge('fast', 5, log), undefined, { fromCache: false });
    const a = slow.run(ask, { q: 'one' });
    await sleep(10);
    const b = fast.run(ask, { q: 'two' });
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra['answer']).toMatchObject({ content: 'from slow', model: 'slow' });
    expect(rb['answer']).toMatchObject({ content: 'from fast', model: 'fast' });
    expect(log).toEqual(['slow start', 'fast start', 'fast end', 'slow end']);
  });
});

describe('human in the loop through a handle', () => {
  it('invoke stops at an interrupt, and resume continues with the same model', async () => {
    const tea = new Tea(fakeBridge('m', 1, []), undefined, { fromCache: false });
    const yaml = `${ask}  - name: publish\n    uses: return\n    with: { value: "{{ state.answer.content }} / {{ state.ok }}" }\n    output: published\nconfig:\n  interrupt_before: [publish]\n`;
    const first = await tea.invoke(yaml, { q: 'x' });
    expect(first).toMatchObject({ status: 'interrupted', node: 'publish', when: 'before' });
    if (first.status !== 'interrupted') throw new Error('expected an interrupt');
    const done = await tea.resume(yaml, JSON.parse(JSON.stringify(first.checkpoint)), {
      ok: 'approved',
    });
    expect(done).toMatchObject({
      status: 'completed',
      state: { published: 'from m / approved' },
    });
  });
});
