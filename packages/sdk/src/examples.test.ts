import { describe, expect, it } from 'vitest';
import { exampleWorkflows } from './examples.js';
import { initYamlEngine, validateYaml } from './index.js';

describe('exampleWorkflows', () => {
  it('ships the engine corpus as text, each valid', async () => {
    await initYamlEngine();
    expect(exampleWorkflows.map((e) => e.name)).toContain('simple chat');
    for (const example of exampleWorkflows) {
      expect(example.yaml).toMatch(/^name: /m);
      expect(validateYaml(example.yaml)).toEqual([]);
    }
  });
});
