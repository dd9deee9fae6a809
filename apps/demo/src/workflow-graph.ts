import { parse } from 'yaml';

/** A box of the drawn workflow: a node of the YAML, or the `__start__` / `__end__` ends. */
export interface GraphNode {
  id: string;
  /** The node's action (`llm.call`, `return`, …); absent for the ends and fork points. */
  action?: string;
  /** Row from the top (0: `__start__`) and column within the row. */
  layer: number;
  column: number;
}

/** An arrow: `back` when it returns to an earlier row (a loop), `label` its condition. */
export interface GraphEdge {
  from: string;
  to: string;
  label?: string;
  back: boolean;
}

export interface WorkflowGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** The widest row's node count. */
  columns: number;
  layers: number;
}

const START = '__start__';
const END = '__end__';

interface YamlNode {
  name?: unknown;
  uses?: unknown;
  action?: unknown;
  goto?: unknown;
}
interface YamlEdge {
  from?: unknown;
  to?: unknown;
  when?: unknown;
  condition?: unknown;
  targets?: unknown;
  fan_in?: unknown;
}

const text = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** The arrows the YAML declares: `edges`, each node's `goto`, and the implicit next-node chain. */
function declaredEdges(names: string[], nodes: YamlNode[], edges: YamlEdge[]) {
  const out: Array<{ from: string; to: string; label?: string }> = [];
  const add = (from: string | undefined, to: string | undefined, label?: unknown) => {
    if (!from || !to) return;
    if (out.some((e) => e.from === from && e.to === to)) return;
    const l = text(label);
    out.push(l ? { from, to, label: l } : { from, to });
  };
  for (const e of edges) {
    const from = text(e.from);
    const label = e.when ?? e.condition;
    for (const to of Array.isArray(e.to) ? e.to : [e.to]) add(from, text(to), label);
    if (e.targets && typeof e.targets === 'object')
      for (const [key, to] of Object.entries(e.targets)) add(from, text(to), key);
    const fanIn = text(e.fan_in);
    if (fanIn) for (const to of Array.isArray(e.to) ? e.to : [e.to]) add(text(to), fanIn);
  }
  nodes.forEach((node, i) => {
    const from = names[i]!;
    const goto = node.goto;
    if (typeof goto === 'string') add(from, goto);
    else if (Array.isArray(goto))
      for (const rule of goto as Array<{ if?: unknown; to?: unknown }>)
        add(from, text(rule?.to), rule?.if);
  });
  // Upstream's rule: a node with nowhere declared to go continues with the next one in the list.
  if (names.length && !out.some((e) => e.from === START)) add(START, names[0]);
  names.forEach((name, i) => {
    if (!out.some((e) => e.from === name)) add(name, names[i + 1] ?? END);
  });
  return out;
}

/**
 * Reads the nodes and arrows of a workflow's YAML and lays them out top to bottom: each node one
 * row below its deepest predecessor (loops aside), `__end__` last. Throws on YAML that does not parse.
 */
export function workflowGraph(yamlText: string): WorkflowGraph {
  const doc = (parse(yamlText) ?? {}) as { nodes?: unknown; edges?: unknown };
  const yamlNodes = (Array.isArray(doc.nodes) ? doc.nodes : []) as YamlNode[];
  const names = yamlNodes.map((n, i) => text(n?.name) ?? `node ${i + 1}`);
  const raw = declaredEdges(
    names,
    yamlNodes,
    (Array.isArray(doc.edges) ? doc.edges : []) as YamlEdge[],
  );
  const ids = [START, ...names, END];
  for (const e of raw)
    for (const id of [e.from, e.to]) if (!ids.includes(id)) ids.splice(-1, 0, id);

  // Depth-first from __start__: an arrow to a node still on the path is a loop (drawn back up).
  const back = new Set<string>();
  const state = new Map<string, 'open' | 'done'>();
  const visit = (id: string) => {
    state.set(id, 'open');
    for (const e of raw.filter((r) => r.from === id)) {
      const s = state.get(e.to);
      if (s === 'open') back.add(`${e.from}\u0000${e.to}`);
      else if (!s) visit(e.to);
    }
    state.set(id, 'done');
  };
  for (const id of ids) if (!state.has(id)) visit(id);
  const isBack = (e: { from: string; to: string }) => back.has(`${e.from}\u0000${e.to}`);

  // Longest path over the forward arrows (ids are few: a fixed point is enough).
  const layer = new Map(ids.map((id) => [id, 0]));
  for (let changed = true, rounds = 0; changed && rounds <= ids.length; rounds++) {
    changed = false;
    for (const e of raw) {
      if (isBack(e) || e.to === START) continue;
      const next = layer.get(e.from)! + 1;
      if (next > layer.get(e.to)!) {
        layer.set(e.to, next);
        changed = true;
      }
    }
  }
  for (const id of ids) if (id !== START && layer.get(id) === 0) layer.set(id, 1);
  const last = Math.max(...ids.filter((id) => id !== END).map((id) => layer.get(id)!));
  layer.set(END, last + 1);

  const perLayer = new Map<number, number>();
  const action = new Map(yamlNodes.map((n, i) => [names[i]!, text(n?.uses) ?? text(n?.action)]));
  const nodes = ids.map((id): GraphNode => {
    const l = layer.get(id)!;
    const column = perLayer.get(l) ?? 0;
    perLayer.set(l, column + 1);
    const a = action.get(id);
    return { id, layer: l, column, ...(a ? { action: a } : {}) };
  });
  return {
    nodes,
    edges: raw.map((e) => ({ ...e, back: isBack(e) })),
    columns: Math.max(...perLayer.values()),
    layers: last + 2,
  };
}
