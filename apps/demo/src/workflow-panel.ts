import { exampleWorkflows, executeLlmYaml, type WorkflowEvent } from '@the-edge-agent/sdk';
import { errorLine } from './format.js';
import { drawGraph, type GraphView } from './graph-view.js';
import { stateTree } from './state-tree.js';
import { Timeline } from './timeline.js';
import { workflowGraph } from './workflow-graph.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let graph: GraphView | undefined;
let controller: AbortController | undefined;

/** Draws the YAML in the editor as a graph; YAML that does not parse leaves a note instead. */
function redraw(): void {
  const box = $('graph');
  try {
    graph = drawGraph(box, workflowGraph($<HTMLTextAreaElement>('yaml').value));
    box.dataset['state'] = 'ready';
  } catch {
    graph = undefined;
    const note = document.createElement('p');
    note.className = 'hint';
    note.textContent = 'The graph appears when the YAML parses.';
    box.replaceChildren(note);
    box.dataset['state'] = 'invalid';
  }
}

function selectExample(index: number): void {
  const example = exampleWorkflows[index];
  if (!example) return;
  $<HTMLTextAreaElement>('yaml').value = example.yaml;
  $<HTMLTextAreaElement>('state').value = JSON.stringify(example.state);
  $('example-description').textContent = example.description;
  redraw();
}

/** Lights up the graph as the run's events arrive. */
function light(event: WorkflowEvent): void {
  if (event.type === 'node_start') graph?.set(event.node, 'active');
  else if (event.type === 'node_end') graph?.set(event.node, 'done');
  else if (event.type === 'error') graph?.set(event.node, 'error');
}

async function run(timeline: Timeline): Promise<void> {
  const errorBox = $('error');
  const tokens = $('tokens');
  const final = $('final');
  const tree = $('final-tree');
  errorBox.hidden = true;
  tokens.textContent = '';
  final.textContent = '';
  tree.replaceChildren();
  delete final.dataset['state'];
  let state: Record<string, unknown>;
  try {
    state = JSON.parse($<HTMLTextAreaElement>('state').value || '{}') as Record<string, unknown>;
  } catch (error) {
    errorBox.textContent = `The input is not valid JSON: ${(error as Error).message}`;
    errorBox.hidden = false;
    return;
  }
  redraw();
  graph?.set('__start__', 'done');
  timeline.clear();
  controller = new AbortController();
  $<HTMLButtonElement>('run').disabled = true;
  $<HTMLButtonElement>('stop').disabled = false;
  const onEvent = (event: WorkflowEvent) => {
    if (event.type === 'token') tokens.textContent += event.text;
    light(event);
    timeline.add(event);
  };
  try {
    const result = await executeLlmYaml($<HTMLTextAreaElement>('yaml').value, state, {
      onEvent,
      signal: controller.signal,
    });
    graph?.set('__end__', 'done');
    tree.replaceChildren(stateTree(result));
    final.textContent = JSON.stringify(result, null, 2);
    final.dataset['state'] = 'done';
  } catch (error) {
    errorBox.textContent = errorLine(error);
    errorBox.hidden = false;
    final.dataset['state'] = 'error';
  } finally {
    $<HTMLButtonElement>('run').disabled = false;
    $<HTMLButtonElement>('stop').disabled = true;
  }
}

/** The example picker, the YAML editor with its graph, Run/Stop, and the run's outputs. */
export function setupWorkflows(): void {
  const select = $<HTMLSelectElement>('example');
  exampleWorkflows.forEach((e, i) => select.append(new Option(e.name, String(i))));
  select.addEventListener('change', () => selectExample(Number(select.value)));
  selectExample(0);
  let pending: ReturnType<typeof setTimeout> | undefined;
  $('yaml').addEventListener('input', () => {
    clearTimeout(pending);
    pending = setTimeout(redraw, 250);
  });
  const timeline = new Timeline($<HTMLOListElement>('timeline'));
  $('run').addEventListener('click', () => void run(timeline));
  $('stop').addEventListener('click', () => controller?.abort());
}
