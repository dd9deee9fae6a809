import { exampleWorkflows } from '@the-edge-agent/sdk';
import { describe, expect, it } from 'vitest';
import { workflowGraph } from './workflow-graph.js';

const yamlOf = (id: string) => exampleWorkflows.find((e) => e.id === id)!.yaml;
const arrows = (yaml: string) =>
  workflowGraph(yaml).edges.map((e) => `${e.from}>${e.to}${e.back ? ' (back)' : ''}`);
const rows = (yaml: string) =>
  Object.fromEntries(workflowGraph(yaml).nodes.map((n) => [n.id, n.layer]));

describe('workflowGraph', () => {
  it('reads explicit edges with their conditions', () => {
    const graph = workflowGraph(yamlOf('conditional-routing'));
    expect(graph.edges.find((e) => e.to === 'long_reply')?.label).toBe('state.length > 20');
    expect(rows(yamlOf('conditional-routing'))).toEqual({
      __start__: 0,
      measure: 1,
      short_reply: 2,
      long_reply: 2,
      __end__: 3,
    });
    expect(graph.columns).toBe(2);
  });

  it('chains nodes without edges in order and draws a goto back up as a loop', () => {
    expect(arrows(yamlOf('goto-loop')).sort()).toEqual([
      '__start__>draft',
      'count>__end__',
      'count>draft (back)',
      'draft>count',
    ]);
    expect(rows(yamlOf('goto-loop'))).toEqual({ __start__: 0, draft: 1, count: 2, __end__: 3 });
  });

  it('puts parallel branches side by side and the join below them', () => {
    const graph = workflowGraph(yamlOf('parallel-fan-out'));
    expect(rows(yamlOf('parallel-fan-out'))).toMatchObject({
      plan: 1,
      pros: 2,
      cons: 2,
      combine: 3,
    });
    expect(graph.nodes.find((n) => n.id === 'pros')?.action).toBe('llm.call');
    expect(graph.nodes.find((n) => n.id === 'plan')?.action).toBeUndefined();
  });

  it('draws every example, and throws on YAML that does not parse', () => {
    for (const example of exampleWorkflows)
      expect(workflowGraph(example.yaml).nodes.length).toBeGreaterThan(2);
    expect(() => workflowGraph('nodes: [')).toThrow();
  });
});
