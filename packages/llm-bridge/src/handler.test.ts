import { describe, expect, it } from 'vitest';
import type { LlmBridge } from './create-bridge.js';
import { bridgeHandler } from './handler.js';
import type { ChatRequest, CompleteRequest, CompletionResult } from './types.js';

// Records what the handler asks of the bridge; real inference is covered by e2e/bridge.spec.ts.
function recordingBridge(chatTemplate: boolean) {
  const calls: Array<['chat', ChatRequest] | ['complete', CompleteRequest] | ['embed', unknown]> =
    [];
  const result: CompletionResult = {
    content: 'ok',
    model: 'm',
    finish_reason: 'stop',
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  };
  const bridge = {
    hasChatTemplate: () => chatTemplate,
    chat: async (req: ChatRequest) => (calls.push(['chat', req]), result),
    complete: async (req: CompleteRequest) => (calls.push(['complete', req]), result),
    embed: async (input: string | string[]) => {
      calls.push(['embed', input]);
      return Array.isArray(input) ? input.map(() => [0.5]) : [0.5];
    },
  } as unknown as LlmBridge;
  return { bridge, calls, result };
}

describe('bridgeHandler', () => {
  it('sends prompt + system through the chat template with sampling passed on', async () => {
    const { bridge, calls, result } = recordingBridge(true);
    const reply = await bridgeHandler(bridge)({
      kind: 'call',
      prompt: 'Hi?',
      system: 'Be brief.',
      max_tokens: 5,
      top_k: 3,
      top_p: 0.5,
      stop: ['\n'],
      seed: 1,
    });
    expect(reply).toBe(result);
    expect(calls).toEqual([
      [
        'chat',
        {
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: 'Hi?' },
          ],
          max_tokens: 5,
          top_k: 3,
          top_p: 0.5,
          stop: ['\n'],
          seed: 1,
        },
      ],
    ]);
  });

  it('keeps given messages after the system message', async () => {
    const { bridge, calls } = recordingBridge(true);
    await bridgeHandler(bridge)({
      kind: 'call',
      system: 'S',
      messages: [{ role: 'user', content: 'U' }],
    });
    expect(calls[0]?.[1]).toEqual({
      messages: [
        { role: 'system', content: 'S' },
        { role: 'user', content: 'U' },
      ],
    });
  });

  it('falls back to a raw completion for a model without a chat template', async () => {
    const { bridge, calls } = recordingBridge(false);
    await bridgeHandler(bridge)({ kind: 'call', prompt: 'P', system: 'S', temperature: 0 });
    expect(calls).toEqual([['complete', { prompt: 'S\n\nP', temperature: 0 }]]);
  });

  it('answers embed requests with one vector or a list', async () => {
    const { bridge } = recordingBridge(true);
    const handler = bridgeHandler(bridge);
    expect(await handler({ kind: 'embed', input: 'x' })).toEqual({ embedding: [0.5] });
    expect(await handler({ kind: 'embed', input: ['x', 'y'] })).toEqual({
      embeddings: [[0.5], [0.5]],
    });
  });

  it('rejects a call with neither prompt nor messages', async () => {
    const { bridge } = recordingBridge(true);
    await expect(bridgeHandler(bridge)({ kind: 'call' })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
    });
  });
});
