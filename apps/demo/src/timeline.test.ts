import { describe, expect, it } from 'vitest';
import { eventText } from './timeline.js';

describe('eventText', () => {
  it('says what happened in plain words', () => {
    expect(eventText({ type: 'node_start', node: 'chat', step: 1 })).toBe('chat started');
    expect(eventText({ type: 'node_end', node: 'chat', step: 1 }, 12)).toBe(
      'chat finished (12 streamed pieces of text)',
    );
    expect(eventText({ type: 'token', node: 'chat', text: 'x' })).toBeNull();
  });

  it('shows tool rounds: the call with its arguments, then the result', () => {
    expect(
      eventText({
        type: 'tool_call',
        node: 'agent',
        round: 1,
        id: 'c1',
        name: 'calc',
        arguments: { a: 6, b: 7, op: 'mul' },
      }),
    ).toBe('agent calls tool calc {"a":6,"b":7,"op":"mul"} (round 1)');
    expect(
      eventText({
        type: 'tool_result',
        node: 'agent',
        round: 1,
        id: 'c1',
        name: 'calc',
        result: '{"result":42}',
        ok: true,
      }),
    ).toBe('tool calc answers: {"result":42}');
  });

  it('shows how far the model has read a prompt, and how much came from the cache', () => {
    const progress = (processed: number, total: number, cached: number) =>
      eventText({ type: 'prompt_progress', node: 'agent', processed, total, cached });
    expect(progress(64, 300, 0)).toBe('agent reads its prompt: 64 of 300 tokens');
    expect(progress(300, 300, 280)).toBe('agent read its prompt: 300 tokens (280 from the cache)');
  });
});
