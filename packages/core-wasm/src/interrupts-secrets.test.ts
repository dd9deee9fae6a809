import { beforeAll, describe, expect, it } from 'vitest';
import { CoreWasmError, executeYaml, init, Workflow, type Checkpoint } from './index.js';

// Human-in-the-loop (interrupt_before / interrupt_after with a JSON checkpoint and resume) and
// run secrets, through the public API.

const review = `
name: review-flow
config:
  interrupt_before: [publish]
  interrupt_after: [draft]
nodes:
  - name: draft
    uses: return
    with: { value: "draft of {{ state.topic }}" }
    output: draft
  - name: publish
    uses: return
    with: { value: "{{ state.draft }} (approved: {{ state.approved }})" }
    output: published
`;

beforeAll(async () => {
  await init();
});

describe('interrupts', () => {
  it('stop with a checkpoint that survives JSON and resumes where it stopped', async () => {
    const wf = Workflow.parse(review);
    const events: string[] = [];
    const first = await wf.invoke(
      { topic: 'tea' },
      { onEvent: (e) => void events.push(`${e.type}:${e.node}`) },
    );
    expect(first).toMatchObject({ status: 'interrupted', node: 'draft', when: 'after' });
    expect(events).toEqual(['node_start:draft', 'node_end:draft', 'interrupt:draft']);
    if (first.status !== 'interrupted') throw new Error('expected an interrupt');
    const stored = JSON.parse(JSON.stringify(first.checkpoint)) as Checkpoint;

    const second = await wf.resume(stored);
    expect(second).toMatchObject({ status: 'interrupted', node: 'publish', when: 'before' });
    if (second.status !== 'interrupted') throw new Error('expected an interrupt');
    expect(second.state).toEqual({ topic: 'tea', draft: 'draft of tea' });

    const done = await wf.resume(JSON.parse(JSON.stringify(second.checkpoint)) as Checkpoint, {
      approved: true,
    });
    expect(done).toEqual({
      status: 'completed',
      state: {
        topic: 'tea',
        draft: 'draft of tea',
        approved: true,
        published: 'draft of tea (approved: True)',
      },
    });
    wf.free();
  });

  it('make run() and executeYaml reject with INTERRUPTED and the checkpoint', async () => {
    const err = (await executeYaml(review, { topic: 'x' }).catch(
      (e: unknown) => e,
    )) as CoreWasmError;
    expect(err).toBeInstanceOf(CoreWasmError);
    expect(err).toMatchObject({ code: 'INTERRUPTED', node: 'draft' });
    expect(err.checkpoint).toMatchObject({ version: 1, workflow: 'review-flow', node: 'draft' });
  });

  it('refuse a checkpoint of another workflow or node, and keep working', async () => {
    const wf = Workflow.parse(review);
    const bad = [
      null,
      { version: 2 },
      { version: 1, workflow: 'review-flow', node: 'nope', when: 'before', state: {} },
      { version: 1, workflow: 'other', node: 'draft', when: 'before', state: {} },
      { version: 1, workflow: 'review-flow', node: 'draft', when: 'later', state: {} },
    ];
    for (const c of bad)
      await expect(wf.resume(c as unknown as Checkpoint)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    await expect(wf.invoke({ topic: 'ok' })).resolves.toMatchObject({ status: 'interrupted' });
    wf.free();
  });
});

describe('secrets', () => {
  const yaml = `
name: s
nodes:
  - name: call
    uses: return
    with: { value: "key={{ secrets.API_KEY }} len={{ secrets.API_KEY | length }}" }
    output: echoed
  - name: fail
    uses: return
    with: { value: "{{ state.boom(secrets.API_KEY) }}" }
`;

  it('are readable in templates and never returned, in state, events or errors', async () => {
    const events: unknown[] = [];
    const err = (await executeYaml(
      yaml,
      {},
      { secrets: { API_KEY: 'sk-123456' }, onEvent: (e) => void events.push(e) },
    ).catch((e: unknown) => e)) as CoreWasmError;
    expect(err.code).toBe('TEMPLATE');
    expect(err.message).not.toContain('sk-123456');
    expect(JSON.stringify(events)).not.toContain('sk-123456');
    const ok = await executeYaml(
      yaml.split('  - name: fail')[0]!,
      {},
      {
        secrets: { API_KEY: 'sk-123456' },
      },
    );
    expect(ok).toEqual({ echoed: 'key=[secret] len=9' });
  });

  it('must be strings', async () => {
    await expect(
      executeYaml(yaml, {}, { secrets: { API_KEY: 5 as unknown as string } }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
