import { readFile, readdir } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  executeYaml,
  init,
  registerAction,
  setLlmHandler,
  validateYaml,
  type LlmRequest,
} from './index.js';

const dir = new URL('../examples/', import.meta.url);
const expected = JSON.parse(await readFile(new URL('expected.json', dir), 'utf8')) as Record<
  string,
  { input: Record<string, unknown>; output: Record<string, unknown> }
>;

/** The simplest value of a JSON Schema: what the scripted handler answers structured output with. */
function valueFor(schema: Record<string, unknown> | undefined): unknown {
  const s = schema ?? {};
  if (Array.isArray(s['enum'])) return s['enum'][0];
  if (s['type'] === 'object' || s['properties']) {
    const props = (s['properties'] ?? {}) as Record<string, Record<string, unknown>>;
    const required = (s['required'] ?? []) as string[];
    return Object.fromEntries(required.map((k) => [k, valueFor(props[k])]));
  }
  return { string: 'x', integer: 2, number: 2, boolean: true, array: [], null: null }[
    String(s['type'])
  ];
}

// The scripted handler the corpus's expected states were written for (see examples/README.md).
function scripted(req: LlmRequest) {
  if (req.kind === 'embed') return { embedding: [String(req.input).length, 0, 1] };
  const prompt = req.prompt ?? req.messages?.find((m) => m.role === 'user')?.content ?? '';
  const words = prompt.split(/\s+/).filter(Boolean).length;
  const usage = { prompt_tokens: words, completion_tokens: 1 };
  const format = req.response_format;
  if (format?.type === 'json_schema')
    return {
      content: JSON.stringify(valueFor(format.json_schema.schema as Record<string, unknown>)),
      model: 'scripted',
      usage,
    };
  const tool = req.tools?.[0];
  if (tool && req.messages?.at(-1)?.role !== 'tool')
    return {
      content: '',
      model: 'scripted',
      usage,
      tool_calls: [
        {
          id: 'call_1',
          type: 'function',
          function: {
            name: tool.function.name,
            arguments: JSON.stringify(
              valueFor(tool.function.parameters as Record<string, unknown>),
            ),
          },
        },
      ],
    };
  const last = req.messages?.at(-1);
  const content = last?.role === 'tool' ? `[answer from ${last.content}]` : `[${prompt}]`;
  return { content, model: 'scripted', usage };
}

beforeAll(async () => {
  await init();
  setLlmHandler(scripted);
  // The tools of tool-agent.yaml, as the demo registers them (a fixed clock here).
  registerAction('calc.evaluate', (p) => {
    const [a, b] = [Number(p['a']), Number(p['b'])];
    return { result: { add: a + b, sub: a - b, mul: a * b, div: a / b }[String(p['op'])] };
  });
  registerAction('clock.now', () => ({ iso: '2026-01-01T00:00:00.000Z' }));
});

describe('example corpus', async () => {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();

  it('has an expected state for every example', () => {
    expect(files.map((f) => f.replace(/\.yaml$/, '')).sort()).toEqual(Object.keys(expected).sort());
  });

  for (const file of files) {
    const name = file.replace(/\.yaml$/, '');
    it(`${name} validates cleanly and ends in its expected state`, async () => {
      const yaml = await readFile(new URL(file, dir), 'utf8');
      expect(validateYaml(yaml)).toEqual([]);
      const entry = expected[name]!;
      expect(await executeYaml(yaml, entry.input)).toEqual(entry.output);
    });
  }
});
