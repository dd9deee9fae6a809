import { describe, expect, it } from 'vitest';
import { ContextExceededError } from './errors.js';
import { estimateHeap, largestFittingContext, type ModelNeeds } from './fit-rule.js';
import { dropOldestTurn } from './generate.js';
import type { ChatMessage } from './types.js';

const m = (role: ChatMessage['role'], content: string): ChatMessage => ({ role, content });

describe('dropOldestTurn', () => {
  it('drops the oldest user turn with its answer, keeping the system message', () => {
    const chat = [m('system', 's'), m('user', 'u1'), m('assistant', 'a1'), m('user', 'u2')];
    expect(dropOldestTurn(chat)).toEqual([m('system', 's'), m('user', 'u2')]);
  });

  it('drops tool calls together with their results, so roles still alternate', () => {
    const chat: ChatMessage[] = [
      m('user', 'u1'),
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c', type: 'function', function: { name: 't', arguments: '{}' } }],
      },
      { role: 'tool', content: '1', tool_call_id: 'c' },
      m('assistant', 'a1'),
      m('user', 'u2'),
    ];
    expect(dropOldestTurn(chat)).toEqual([m('user', 'u2')]);
  });

  it('never drops the last user message', () => {
    expect(dropOldestTurn([m('system', 's'), m('user', 'u')])).toBeUndefined();
    expect(dropOldestTurn([m('user', 'u'), m('assistant', 'a')])).toBeUndefined();
    expect(dropOldestTurn([m('system', 's')])).toBeUndefined();
  });
});

describe('ContextExceededError', () => {
  it('names the numbers and every way out that works', () => {
    const e = new ContextExceededError('the chat', {
      promptTokens: 1900,
      maxTokens: 300,
      nCtx: 2048,
      nCtxMax: 32768,
    });
    expect(e).toMatchObject({ code: 'CONTEXT_EXCEEDED', promptTokens: 1900, nCtx: 2048 });
    expect(e.message).toBe(
      'the chat: the prompt is 1900 tokens and max_tokens is 300, 2200 in all, more than the context of 2048 tokens (nCtx). Nothing was generated. To fix it: load the model with nCtx: 2200 or more (this model allows up to 32768 here); or lower max_tokens to 148 or less; or shorten the prompt or drop old turns of the history.',
    );
  });

  it('does not suggest what cannot help', () => {
    const e = new ContextExceededError('the chat', {
      promptTokens: 5000,
      maxTokens: 100,
      nCtx: 2048,
      nCtxMax: 2048,
    });
    expect(e.message).not.toMatch(/nCtx:|lower max_tokens/);
    expect(e.message).toMatch(/shorten the prompt/);
  });
});

describe('largestFittingContext', () => {
  const needs: ModelNeeds = {
    weightsBytes: 3e9,
    cpuBytes: 1e9,
    kvBytesPer1kTokens: 16 * 2 ** 20,
    largestTensorBytes: 5e8,
    vocabSize: 262144,
    embeddingLength: 2048,
    feedForwardLength: 8192,
    headCount: 8,
  };

  it('is the largest nCtx whose estimate fits, by the fit rule itself', () => {
    const limit = 4 * 2 ** 30;
    const n = largestFittingContext(needs, 'cpu', limit);
    expect(estimateHeap(needs, 'cpu', { nCtx: n }).totalBytes).toBeLessThanOrEqual(limit);
    expect(estimateHeap(needs, 'cpu', { nCtx: n + 1 }).totalBytes).toBeGreaterThan(limit);
  });

  it('is 0 when nothing fits and unbounded when the KV cache leaves the heap', () => {
    expect(largestFittingContext(needs, 'cpu', 1e9)).toBe(0);
    expect(largestFittingContext(needs, 'webgpu', 4 * 2 ** 30)).toBe(Number.POSITIVE_INFINITY);
  });
});
