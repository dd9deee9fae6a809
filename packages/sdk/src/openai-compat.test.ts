import type { ChatRequest, CompletionResult, LlmBridge } from '@the-edge-agent/llm-bridge';
import { describe, expect, it } from 'vitest';
import { chatCompletions } from './openai-compat.js';

// OpenAI's chat completions shape over a bridge (a fake one here; the browser tests use a model).

function fakeBridge(reply: (req: ChatRequest) => Promise<CompletionResult>): LlmBridge {
  return { chat: reply } as unknown as LlmBridge;
}

const words = ['Hel', 'lo', ' there'];
const streaming = fakeBridge(async (req) => {
  for (const w of words) {
    if (req.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    req.onToken?.(w);
    await new Promise((r) => setTimeout(r, 5));
  }
  return {
    content: words.join(''),
    model: 'fake',
    finish_reason: 'stop',
    usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 },
  };
});

const live = () => undefined;

describe('chat.completions.create', () => {
  it('answers with a chat.completion object', async () => {
    const api = chatCompletions(streaming, () => 'fake', live);
    const c = await api.create({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 });
    expect(c).toMatchObject({
      object: 'chat.completion',
      model: 'fake',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello there' },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 },
    });
    expect(c.id).toMatch(/^chatcmpl-/);
  });

  it('streams chunks whose content deltas add up to the answer, usage on the last', async () => {
    const api = chatCompletions(streaming, () => 'fake', live);
    const chunks = [];
    for await (const c of await api.create({
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    }))
      chunks.push(c);
    expect(chunks[0]!.choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.map((c) => c.choices[0].delta.content ?? '').join('')).toBe('Hello there');
    expect(chunks.at(-1)).toMatchObject({
      choices: [{ finish_reason: 'stop' }],
      usage: { total_tokens: 5 },
    });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  });

  it('gives tool calls as a message and as a delta', async () => {
    const call = {
      id: 'c1',
      type: 'function' as const,
      function: { name: 'clock', arguments: '{}' },
    };
    const bridge = fakeBridge(async () => ({
      content: '',
      model: 'fake',
      finish_reason: 'tool_calls',
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      tool_calls: [call],
    }));
    const api = chatCompletions(bridge, () => 'fake', live);
    const tools = [{ type: 'function' as const, function: { name: 'clock' } }];
    const c = await api.create({ messages: [{ role: 'user', content: 'time?' }], tools });
    expect(c.choices[0].message).toEqual({ role: 'assistant', content: null, tool_calls: [call] });
    const chunks = [];
    for await (const x of await api.create({
      messages: [{ role: 'user', content: 'time?' }],
      tools,
      stream: true,
    }))
      chunks.push(x);
    expect(chunks.find((x) => x.choices[0].delta.tool_calls)?.choices[0].delta.tool_calls).toEqual([
      { ...call, index: 0 },
    ]);
    expect(chunks.at(-1)!.choices[0].finish_reason).toBe('tool_calls');
  });

  it('stops the generation when the consumer breaks, and refuses a request without messages', async () => {
    let aborted = false;
    const bridge = fakeBridge(async (req) => {
      req.onToken?.('a');
      await new Promise<void>((resolve) => req.signal?.addEventListener('abort', () => resolve()));
      aborted = true;
      throw new DOMException('aborted', 'AbortError');
    });
    const api = chatCompletions(bridge, () => 'fake', live);
    for await (const c of await api.create({
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    })) {
      if (c.choices[0].delta.content === 'a') break;
    }
    await new Promise((r) => setTimeout(r, 0));
    expect(aborted).toBe(true);
    await expect(api.create({ messages: [] })).rejects.toThrow(/non-empty `messages`/);
  });
});
