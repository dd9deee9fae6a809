import type { GraphNode, WorkflowGraph } from './workflow-graph.js';

/** How a node stands in the current run. */
export type NodeStatus = 'idle' | 'active' | 'done' | 'error';

const SVG = 'http://www.w3.org/2000/svg';
const W = 132;
const H = 38;
const GAP_X = 20;
const GAP_Y = 34;
const MARGIN = 14;
// Room on the right for loops drawn back up.
const LOOP = 34;

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

const short = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
const label = (id: string) => (id === '__start__' ? 'start' : id === '__end__' ? 'end' : id);

/** The drawn workflow, whose nodes a run lights up (`data-status` on each `g[data-node]`). */
export interface GraphView {
  set(node: string, status: NodeStatus): void;
  reset(): void;
}

type Point = { x: number; y: number };
type GraphEdge = WorkflowGraph['edges'][number];

/**
 * Draws the workflow as an SVG (text only, never markup from the YAML) into `container`: boxes
 * for nodes with their action, arrows with their conditions, loops drawn back up on the right.
 */
export function drawGraph(container: HTMLElement, graph: WorkflowGraph): GraphView {
  const width = MARGIN * 2 + graph.columns * W + (graph.columns - 1) * GAP_X + LOOP;
  const height = MARGIN * 2 + graph.layers * H + (graph.layers - 1) * GAP_Y;
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'aria-label': `Workflow graph: ${graph.nodes
      .filter((n) => !n.id.startsWith('__'))
      .map((n) => n.id)
      .join(', ')}`,
  });
  root.append(arrowHead());
  const at = positions(graph, width - LOOP);
  const edges = svg('g', { class: 'edges' });
  graph.edges.forEach((e, i) => {
    const a = at.get(e.from);
    const b = at.get(e.to);
    if (a && b) edges.append(drawEdge(e, i, a, b));
  });
  root.append(edges);
  const boxes = new Map<string, SVGGElement>();
  for (const n of graph.nodes) {
    const g = drawNode(n, at.get(n.id)!);
    boxes.set(n.id, g);
    root.append(g);
  }
  container.replaceChildren(root);
  return {
    set(node, status) {
      const g = boxes.get(node);
      if (!g) return;
      g.setAttribute('data-status', status);
      if (status === 'active')
        g.setAttribute('data-visits', String(Number(g.getAttribute('data-visits') ?? 0) + 1));
    },
    reset() {
      for (const g of boxes.values()) {
        g.setAttribute('data-status', 'idle');
        g.removeAttribute('data-visits');
      }
    },
  };
}

/** The arrow head every edge ends with (`url(#arrow)`). */
function arrowHead(): SVGDefsElement {
  const defs = svg('defs');
  const marker = svg('marker', {
    id: 'arrow',
    viewBox: '0 0 10 10',
    refX: 9,
    refY: 5,
    markerWidth: 7,
    markerHeight: 7,
    orient: 'auto-start-reverse',
  });
  marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow-head' }));
  defs.append(marker);
  return defs;
}

/** Each node's top-left corner: its layer's row, centred in `inner` (the width without loops). */
function positions(graph: WorkflowGraph, inner: number): Map<string, Point> {
  const rowWidth = new Map<number, number>();
  for (const n of graph.nodes) rowWidth.set(n.layer, (rowWidth.get(n.layer) ?? 0) + 1);
  const pos = (n: GraphNode) => {
    const count = rowWidth.get(n.layer)!;
    const row = count * W + (count - 1) * GAP_X;
    return {
      x: (inner - row) / 2 + n.column * (W + GAP_X),
      y: MARGIN + n.layer * (H + GAP_Y),
    };
  };
  return new Map(graph.nodes.map((n) => [n.id, pos(n)]));
}

/** One edge from `a` to `b`: down to a later layer, or a loop back up on the right. */
function drawEdge(e: GraphEdge, i: number, a: Point, b: Point): SVGGElement {
  let d: string;
  let lx: number;
  let ly: number;
  if (e.back) {
    // Out of the right side, up, and into the right side of the earlier node.
    const x = Math.max(a.x, b.x) + W + LOOP - 8 + (i % 2) * 4;
    d = `M${a.x + W},${a.y + H / 2} C${x},${a.y + H / 2} ${x},${b.y + H / 2} ${b.x + W + 2},${b.y + H / 2}`;
    lx = x - 4;
    ly = (a.y + b.y + H) / 2;
  } else {
    const x1 = a.x + W / 2;
    const y1 = a.y + H;
    const x2 = b.x + W / 2;
    const y2 = b.y - 2;
    const my = (y1 + y2) / 2;
    d = `M${x1},${y1} C${x1},${my} ${x2},${my} ${x2},${y2}`;
    lx = (x1 + x2) / 2;
    ly = my;
  }
  const g = svg('g', {
    class: e.back ? 'edge back' : 'edge',
    'data-from': e.from,
    'data-to': e.to,
  });
  g.append(svg('path', { d, 'marker-end': 'url(#arrow)' }));
  if (e.label) {
    const t = svg('text', {
      x: lx,
      y: ly + 4,
      'text-anchor': e.back ? 'end' : 'middle',
      class: 'edge-label',
    });
    t.textContent = short(e.label, 22);
    const title = svg('title');
    title.textContent = e.label;
    t.append(title);
    g.append(t);
  }
  return g;
}

/** One node's box at `at`: its name, its action, and both in full as a tooltip. */
function drawNode(n: GraphNode, at: Point): SVGGElement {
  const end = n.id.startsWith('__');
  const g = svg('g', {
    class: end ? 'node terminal' : 'node',
    'data-node': n.id,
    'data-status': 'idle',
    transform: `translate(${at.x},${at.y})`,
  });
  g.append(svg('rect', { width: W, height: H, rx: end ? H / 2 : 7 }));
  const name = svg('text', { x: W / 2, y: n.action ? 16 : H / 2 + 5, 'text-anchor': 'middle' });
  name.setAttribute('class', 'node-name');
  name.textContent = short(label(n.id), 18);
  g.append(name);
  if (n.action) {
    const act = svg('text', { x: W / 2, y: 30, 'text-anchor': 'middle', class: 'node-action' });
    act.textContent = short(n.action, 20);
    g.append(act);
  }
  const title = svg('title');
  title.textContent = n.action ? `${n.id} (${n.action})` : label(n.id);
  g.append(title);
  return g;
}
