import { describe, expect, it } from 'vitest';
import { parseToolAnswer, toolAnswerSchema, toolMessages, toolSystemPrompt } from './tool-calls.js';
import type { ChatTool } from './types.js';

const tools: ChatTool[] = [
  {
    type: 'function',
    function: {
      name: 'calc',
      description: 'arithmetic',
      parameters: {
        type: 'object',
        properties: {
          a: { type: 'integer' },
          op: { enum: ['add', 'mul'] },
          note: { type: 'string' },
        },
        required: ['a', 'op'],
      },
    },
  },
  { type: 'function', function: { name: 'clock' } },
];

describe('generic tool calls', () => {
  it('describe tools compactly and constrain the answer to a call or a reply', () => {
    expect(toolSystemPrompt(tools, 'auto')).toBe(
      'Tools:\ncalc(a: integer, op: "add"|"mul", note?: string) - arithmetic\nclock()\nTo call one reply {"name":..,"arguments":{..}}, else {"response":".."}.',
    );
    const auto = toolAnswerSchema(tools, 'auto') as { anyOf: unknown[] };
    expect(auto.anyOf).toHaveLength(3);
    const forced = toolAnswerSchema(tools, { type: 'function', function: { name: 'clock' } });
    expect(forced).toMatchObject({ properties: { name: { const: 'clock' } } });
    expect((toolAnswerSchema(tools, 'required') as { anyOf: unknown[] }).anyOf).toHaveLength(2);
    expect(() => toolAnswerSchema(tools, { type: 'function', function: { name: 'x' } })).toThrow(
      /not in tools/,
    );
  });

  it('parse calls and replies', () => {
    const call = parseToolAnswer('{"name":"calc","arguments":{"a":1,"op":"add"}}');
    expect(call.toolCalls[0]).toMatchObject({
      type: 'function',
      function: { name: 'calc', arguments: '{"a":1,"op":"add"}' },
    });
    expect(parseToolAnswer('{"response":"hi"}')).toEqual({ content: 'hi', toolCalls: [] });
  });

  it('read an answer cut off by max_tokens as OpenAI does: reply text so far, or a cut call', () => {
    expect(parseToolAnswer('{"response":"The answer is 4')).toEqual({
      content: 'The answer is 4',
      toolCalls: [],
    });
    // Escapes decoded; a half escape at the cut dropped.
    expect(parseToolAnswer('{"response":"a\\nb\\"c\\u00e9d\\u00').content).toBe('a\nb"céd');
    expect(parseToolAnswer('{"response":"x\\').content).toBe('x');
    expect(parseToolAnswer('{"response"').content).toBe('');
    const cut = parseToolAnswer('{"name":"calc","arguments":{"a":6,"b');
    expect(cut.content).toBe('');
    expect(cut.toolCalls).toHaveLength(1);
    expect(cut.toolCalls[0]!.function).toEqual({ name: 'calc', arguments: '{"a":6,"b' });
    expect(parseToolAnswer('{"name":"ca').toolCalls[0]!.function).toEqual({
      name: 'ca',
      arguments: '',
    });
    expect(parseToolAnswer('{"').toolCalls).toHaveLength(1);
    expect(parseToolAnswer('')).toEqual({ content: '', toolCalls: [] });
  });

  it('replay a tool conversation for templates without tool roles', () => {
    const msgs = toolMessages(
      [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: '6*7?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'c1',
              type: 'function',
              function: { name: 'calc', arguments: '{"a":6,"op":"mul"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'c1', content: '42' },
      ],
      'TOOLS',
    );
    expect(msgs).toEqual([
      { role: 'system', content: 'Be brief.\n\nTOOLS' },
      { role: 'user', content: '6*7?' },
      { role: 'assistant', content: '{"name":"calc","arguments":{"a":6,"op":"mul"}}' },
      { role: 'user', content: 'Result of calc: 42' },
    ]);
  });
});
