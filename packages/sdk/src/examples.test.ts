import { describe, expect, it } from 'vitest';
import { exampleActions, exampleWorkflows } from './examples.js';
import { initYamlEngine, registerAction, validateYaml } from './index.js';

describe('exampleWorkflows', () => {
  it('ships the engine corpus as text, each valid', async () => {
    await initYamlEngine();
    for (const [name, action] of Object.entries(exampleActions)) registerAction(name, action);
    expect(exampleWorkflows.map((e) => e.name)).toContain('simple chat');
    for (const example of exampleWorkflows) {
      expect(example.yaml).toMatch(/^name: /m);
      expect(validateYaml(example.yaml)).toEqual([]);
    }
  });
});

describe('exampleActions', () => {
  it('calculate and tell the time', async () => {
    const calc = exampleActions['calc.evaluate']!;
    expect(await calc({ a: 6, b: 7, op: 'mul' }, {})).toEqual({ result: 42 });
    expect(await calc({ a: 1, b: 4, op: 'div' }, {})).toEqual({ result: 0.25 });
    const now = (await exampleActions['clock.now']!({}, {})) as { iso: string };
    expect(Number.isNaN(Date.parse(now.iso))).toBe(false);
  });
});
