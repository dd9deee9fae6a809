import { beforeAll, describe, expect, it } from 'vitest';
import { executeYaml, init, validateYaml, type LlmRequest } from './index.js';

// llm.call with response_format: the handler gets the format (constrained decoding is its job),
// and the reply is checked: JSON that matches the schema becomes `json`, anything else is a coded
// error naming the node and the place in the schema.

const schema = {
  type: 'object',
  properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 1 } },
  required: ['city', 'days'],
};

const workflow = (format: unknown, extra = '') => `
name: extract
nodes:
  - name: extract
    uses: llm.call
    with:
      prompt: "Plan: {{ state.text }}"
      max_tokens: 64
      response_format: ${JSON.stringify(format)}${extra}
    output: plan
`;

const jsonSchema = { type: 'json_schema', json_schema: { name: 'plan', schema } };

beforeAll(async () => {
  await init();
});

describe('structured output', () => {
  it('passes the format to the handler and stores the parsed value as json', async () => {
    const seen: LlmRequest[] = [];
    const out = await executeYaml(
      workflow(jsonSchema),
      { text: 'Lisbon, 3 days' },
      {
        llmHandler: (r) => {
          seen.push(r);
          return { content: '{"city":"Lisbon","days":3}', finish_reason: 'stop' };
        },
      },
    );
    expect(seen[0]).toMatchObject({ kind: 'call', response_format: jsonSchema });
    expect(out['plan']).toMatchObject({
      content: '{"city":"Lisbon","days":3}',
      json: { city: 'Lisbon', days: 3 },
    });
  });

  it('a reply cut off by max_tokens, or not matching the schema, is LLM_OUTPUT_INVALID', async () => {
    const cut = executeYaml(
      workflow(jsonSchema),
      { text: 'x' },
      { llmHandler: () => ({ content: '{"city":"Lis', finish_reason: 'length' }) },
    );
    await expect(cut).rejects.toMatchObject({
      code: 'LLM_OUTPUT_INVALID',
      node: 'extract',
      message: expect.stringMatching(/not complete JSON.*cut off at max_tokens \(64\)/),
    });
    const wrong = executeYaml(
      workflow(jsonSchema),
      { text: 'x' },
      { llmHandler: () => ({ content: '{"city":"Lisbon","days":0}' }) },
    );
    await expect(wrong).rejects.toMatchObject({
      code: 'LLM_OUTPUT_INVALID',
      message: expect.stringContaining('#/days'),
    });
    const notObject = executeYaml(
      workflow({ type: 'json_object' }),
      { text: 'x' },
      { llmHandler: () => ({ content: '[1]' }) },
    );
    await expect(notObject).rejects.toMatchObject({ code: 'LLM_OUTPUT_INVALID' });
  });

  it('a bad format is a VALIDATION error at load, and an unusable schema fails before the handler runs', async () => {
    const problems = validateYaml(workflow({ type: 'yaml' }));
    expect(problems).toEqual([
      expect.objectContaining({
        code: 'VALIDATION',
        message: expect.stringContaining("unknown type 'yaml'"),
      }),
    ]);
    expect(validateYaml(workflow({ type: 'json_schema' }))[0]).toMatchObject({
      code: 'VALIDATION',
    });
    expect(
      validateYaml(workflow({ type: 'json_object' }, '\n      grammar: "root ::= \\"a\\""'))[0],
    ).toMatchObject({ code: 'VALIDATION', message: expect.stringContaining('not both') });
    let called = false;
    const llmHandler = () => {
      called = true;
      return { content: '{}' };
    };
    for (const bad of [
      { type: 'object', properties: { a: { $ref: '#/nowhere' } } },
      { type: 'objekt' },
      { type: 'object', required: 'a' },
      { type: 'array', items: 5 },
      { anyOf: [] },
    ]) {
      const format = { type: 'json_schema', json_schema: { name: 'x', schema: bad } };
      await expect(
        executeYaml(workflow(format), { text: 'x' }, { llmHandler }),
      ).rejects.toMatchObject({
        code: 'VALIDATION',
        node: 'extract',
        message: expect.stringContaining('not a valid JSON Schema'),
      });
    }
    expect(called, 'no generation for a schema that cannot work').toBe(false);
  });
});
