import conditionalRouting from '@the-edge-agent/core-wasm/examples/conditional-routing.yaml';
import embedding from '@the-edge-agent/core-wasm/examples/embedding.yaml';
import gotoLoop from '@the-edge-agent/core-wasm/examples/goto-loop.yaml';
import jsonExtraction from '@the-edge-agent/core-wasm/examples/json-extraction.yaml';
import parallelFanOut from '@the-edge-agent/core-wasm/examples/parallel-fan-out.yaml';
import simpleChat from '@the-edge-agent/core-wasm/examples/simple-chat.yaml';
import toolAgent from '@the-edge-agent/core-wasm/examples/tool-agent.yaml';
import type { ActionHandler } from '@the-edge-agent/core-wasm';

/** An example workflow with a state to start it from. */
export interface ExampleWorkflow {
  name: string;
  yaml: string;
  state: Record<string, unknown>;
}

/** The engine's example corpus (documented in core-wasm's `examples/`), ready to run. */
export const exampleWorkflows: ExampleWorkflow[] = [
  { name: 'simple chat', yaml: simpleChat, state: { question: 'What is a tea ceremony?' } },
  { name: 'conditional routing', yaml: conditionalRouting, state: { message: 'hi' } },
  { name: 'goto loop', yaml: gotoLoop, state: { topic: 'green tea' } },
  { name: 'parallel fan-out', yaml: parallelFanOut, state: { topic: 'WebAssembly' } },
  { name: 'embedding', yaml: embedding, state: { text: 'hello world' } },
  {
    name: 'JSON extraction',
    yaml: jsonExtraction,
    state: { text: 'Three days in Lisbon, by train from Porto' },
  },
  { name: 'tool agent', yaml: toolAgent, state: { question: 'What is 6 times 7?' } },
];

/**
 * The JavaScript tools `tool-agent.yaml` calls: register them (`registerAction(name, fn)`) after
 * the engine started (`initTeaLlm` / `createTea`) and before running it.
 */
export const exampleActions: Record<string, ActionHandler> = {
  'calc.evaluate': (params) => {
    const a = Number(params['a']);
    const b = Number(params['b']);
    const op = String(params['op']);
    const result = op === 'add' ? a + b : op === 'sub' ? a - b : op === 'mul' ? a * b : a / b;
    return { result };
  },
  'clock.now': () => ({ iso: new Date().toISOString() }),
};
