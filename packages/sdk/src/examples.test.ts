import { describe, expect, it } from 'vitest';
import { exampleActions, exampleWorkflows } from './examples.js';
import { initYamlEngine, registerAction, validateYaml } from './index.js';

describe('exampleWorkflows', () => {
  it('ships the engine corpus as text, each valid', async () => {
    await initYamlEngine();
    for (const [name, action] of Object.entries(exampleActions)) registerAction(name, action);
    expect(exampleWorkflows.map((e) => e.id)).toContain('simple-chat');
    for (const example of exampleWorkflows) {
      expect(example.yaml).toMatch(/^name: /m);
      expect(validateYaml(example.yaml)).toEqual([]);
    }
  });

  it('names each example for what it does and opens its YAML with that description', () => {
    const names = exampleWorkflows.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(exampleWorkflows.map((e) => e.id)).size).toBe(names.length);
    for (const example of exampleWorkflows) {
      expect(example.description.length).toBeGreaterThan(20);
      expect(example.yaml.startsWith(`# ${example.description}\n`)).toBe(true);
      // The corpus' notes for engine developers are gone.
      expect(example.yaml).not.toMatch(/product spec|the demo registers/);
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
