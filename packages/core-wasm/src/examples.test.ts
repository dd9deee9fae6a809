import { readFile, readdir } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { executeYaml, init, setLlmHandler, validateYaml, type LlmRequest } from './index.js';

const dir = new URL('../examples/', import.meta.url);
const expected = JSON.parse(await readFile(new URL('expected.json', dir), 'utf8')) as Record<
  string,
  { input: Record<string, unknown>; output: Record<string, unknown> }
>;

// The scripted handler the corpus's expected states were written for (see examples/README.md).
function scripted(req: LlmRequest) {
  if (req.kind === 'embed') return { embedding: [String(req.input).length, 0, 1] };
  const prompt = req.prompt ?? '';
  const words = prompt.split(/\s+/).filter(Boolean).length;
  return {
    content: `[${prompt}]`,
    model: 'scripted',
    usage: { prompt_tokens: words, completion_tokens: 1 },
  };
}

beforeAll(async () => {
  await init();
  setLlmHandler(scripted);
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
