import conditionalRouting from '@the-edge-agent/core-wasm/examples/conditional-routing.yaml';
import embedding from '@the-edge-agent/core-wasm/examples/embedding.yaml';
import gotoLoop from '@the-edge-agent/core-wasm/examples/goto-loop.yaml';
import parallelFanOut from '@the-edge-agent/core-wasm/examples/parallel-fan-out.yaml';
import simpleChat from '@the-edge-agent/core-wasm/examples/simple-chat.yaml';

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
];
