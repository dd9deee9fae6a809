import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { init, validateYaml, Workflow, type LlmRequest } from './index.js';

// Upstream TEA's own example workflows that use only browser-capable actions
// (fidelity/upstream-examples/, copied by its extract.mjs): each runs unchanged, with no
// validation error, and gives what upstream's own tests assert.

interface Example {
  source: string;
  initialState: Record<string, unknown>;
  asserts: { path: string[]; value: unknown }[];
}

const dir = new URL('../fidelity/upstream-examples/', import.meta.url);
const examples = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as Record<
  string,
  Example
>;

function scripted(request: LlmRequest) {
  if (request.kind === 'embed') return { embedding: [String(request.input).length, 1] };
  return { content: `echo:${request.prompt ?? request.messages?.at(-1)?.content ?? ''}` };
}

beforeAll(async () => {
  await init();
});

describe('upstream example workflows run unchanged', () => {
  for (const [name, example] of Object.entries(examples)) {
    it(`${name} (${example.source})`, async () => {
      const yaml = readFileSync(new URL(`${name}.yaml`, dir), 'utf8');
      const errors = validateYaml(yaml).filter((p) => p.severity === 'error');
      expect(errors).toEqual([]);
      const workflow = Workflow.parse(yaml);
      try {
        const result = await workflow.invoke(structuredClone(example.initialState), {
          llmHandler: scripted,
        });
        expect(result.status).toBe('completed');
        for (const a of example.asserts) {
          const got = a.path.reduce<unknown>(
            (v, k) => (v as Record<string, unknown> | undefined)?.[k],
            result.state,
          );
          expect(got, a.path.join('.')).toEqual(a.value);
        }
      } finally {
        workflow.free();
      }
    });
  }
});
